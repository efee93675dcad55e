# The bad-input corpus: every row of tests/bad/expected.tsv, and a check
# that every file in tests/bad/ has at least one row.
set -u
. "$(dirname "$0")/lib.sh"
BAD=$SRC/tests/bad
TABLE=$BAD/expected.tsv
TAB=$(printf '\t')

# A field of 1.1 MiB (1153434 bytes), built by doubling so that awk stays
# linear.
big_field() {
    awk -v c="$1" 'BEGIN { s = c; while (length(s) < 1153434) s = s s
                           print substr(s, 1, 1153434) }'
}

# gen NAME: writes the generated input NAME into $TMP (once) and prints its
# path.  These files are too big, or too dull, to commit.
gen() {
    f=$TMP/$1
    [ -e "$f" ] && { printf '%s\n' "$f"; return; }
    case $1 in
    long_number.csv)
        { echo x,y; echo 1,2; printf '3,'; big_field 7; echo 4,5; } >"$f" ;;
    long_text.csv)
        { echo x,y,note; printf '1,2,'; big_field a; echo 2,3,b;
          echo 4,4,c; } >"$f" ;;
    long_header.csv)
        { printf 'x,'; big_field y; echo 1,2; echo 2,3; echo 4,4; } >"$f" ;;
    bad_last_row.csv)
        # 10^6 data rows, the last one bad: its line is 1000001.
        awk 'BEGIN { print "x,y"
                     for (i = 1; i < 1000000; i++) print i % 7 "," i % 11
                     print "3,oops" }' >"$f" ;;
    ten_rows.csv)
        awk 'BEGIN { print "a,b"; for (i = 0; i < 10; i++) print i "," i * i % 7 }' >"$f" ;;
    wide_1000.csv | wide_1001.csv)
        d=${1#wide_}
        d=${d%.csv}
        awk -v d="$d" 'BEGIN {
            for (r = 0; r <= 3; r++) {
                line = r ? r : "c1"
                for (j = 2; j <= d; j++) line = line "," (r ? (r * j) % 13 : "c" j)
                print line
            } }' >"$f" ;;
    *)
        echo "unknown generated file $1" >&2
        return 1 ;;
    esac
    printf '%s\n' "$f"
}

# case_row FILE ARGS STATUS STDERR [STDOUT]: one row of the table.
case_row() {
    c_file=$1 c_args=$2 c_status=$3 c_err=$4 c_out=${5:-}
    case $c_file in
    gen:*) c_path=$(gen "${c_file#gen:}") ||
               { fail "$c_file" "cannot generate"; return; } ;;
    *) c_path=$BAD/$c_file ;;
    esac
    [ "$c_err" = - ] && c_err=
    case $c_err in
    *FILE*) c_err=${c_err%%FILE*}$c_path${c_err#*FILE} ;;
    esac
    set -f
    # shellcheck disable=SC2086 # c_args is a list of words on purpose
    set -- $c_args
    set +f
    expect "$c_file $c_args" "$c_status" "$c_err" "$@" "$c_path" || return
    if [ "$c_status" -eq 0 ]; then
        check "$c_file $c_args: no nan or inf" '! grep -qiE "nan|inf" "$TMP/out"'
        [ -n "$c_out" ] && check "$c_file $c_args: stdout has $c_out" \
            'grep -qF -- "$c_out" "$TMP/out"'
    fi
}

rows=0
while IFS=$TAB read -r file args want frag outfrag; do
    case $file in '#'* | '') continue ;; esac
    rows=$((rows + 1))
    case_row "$file" "$args" "$want" "$frag" "$outfrag"
done <"$TABLE"
check table-not-empty '[ "$rows" -ge 40 ]'

# Every committed bad file is tried.
for f in "$BAD"/*; do
    base=${f##*/}
    [ "$base" = expected.tsv ] && continue
    check "$base has a row" \
        'awk -F "$TAB" -v f="$base" "\$1 == f { n++ } END { exit !n }" "$TABLE"'
done

finish
