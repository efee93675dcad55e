# Bash completion (src/cli/emfit.bash-completion): sources it in bash and
# calls its function as bash would on <TAB>, with COMP_WORDS and COMP_CWORD
# set.  Skipped, visibly, when bash is absent.
set -u
. "$(dirname "$0")/lib.sh"
COMPLETION=$SRC/src/cli/emfit.bash-completion

if ! command -v bash >/dev/null 2>&1; then
    echo "SKIPPED: no bash"
    printf '0 passed, 0 failed, 1 skipped\n'
    exit 0
fi

# complete WORD...: the candidates, space-separated and sorted, for the
# command line "WORD..." with the cursor at the end of the last word.
complete_line() {
    bash -c '
        . "$1" || exit 1
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        _emfit
        printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
    ' complete-test "$COMPLETION" "$@" 2>"$TMP/err" | sed 's/ *$//'
}

# expect_completion NAME WANT WORD...: the candidates are exactly WANT.
expect_completion() {
    name=$1 want=$2
    shift 2
    got=$(complete_line "$@")
    if [ "$got" = "$want" ] && [ ! -s "$TMP/err" ]; then
        passed=$((passed + 1))
    else
        : >"$TMP/out"
        fail "$name" "completing '$*': got '$got', want '$want'"
    fi
}

expect_completion long-option --model "$EMFIT" --mo
expect_completion long-options-prefix "--trace --trace-params" "$EMFIT" --tra
expect_completion flag-option --free-sigma "$EMFIT" --model mixed-normal --free
expect_completion model gmm "$EMFIT" --model g
expect_completion model-short three-coin "$EMFIT" -m th
expect_completion model-after-equals mixed-normal "$EMFIT" --model = mi
expect_completion all-models "bvn gmm hmm mixed-normal mvn pairing three-coin" "$EMFIT" --model ""
expect_completion trace jsonl "$EMFIT" --trace j
expect_completion trace-all "csv jsonl none table tsv" "$EMFIT" -t ""
expect_completion cov tied "$EMFIT" --cov ti
expect_completion init kmeans++ "$EMFIT" --init k
expect_completion accel "none squarem" "$EMFIT" --accel ""
expect_completion criterion aic "$EMFIT" --criterion a
expect_completion estep "full mean" "$EMFIT" --estep ""
expect_completion number-option "" "$EMFIT" --max-iter ""

mkdir "$TMP/runs"
: >"$TMP/data.csv"
expect_completion input-file "$TMP/data.csv" "$EMFIT" --model bvn "$TMP/da"
expect_completion result-path "$TMP/data.csv" "$EMFIT" --result "$TMP/da"
expect_completion output-dir "$TMP/runs" "$EMFIT" --output-dir "$TMP/"

# Options come from the binary's --help: every long option it lists is
# offered, and nothing else.
help_opts=$("$EMFIT" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ' | sed 's/ *$//')
expect_completion every-help-option "$help_opts" "$EMFIT" --

# An emfit that cannot run completes nothing, quietly.
expect_completion no-binary "" "$TMP/no-such-emfit" --mo

finish
