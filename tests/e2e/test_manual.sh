# The manual page (src/cli/emfit.1) against `emfit --help`: the same long
# options both ways, every model, every exit status and the version; and it
# renders without warnings (man, else groff; skipped visibly without both).
set -u
. "$(dirname "$0")/lib.sh"
PAGE=$SRC/src/cli/emfit.1

"$EMFIT" --help >"$TMP/help"
# The page as plain text: no comment lines, "\-" as "-", no font changes.
sed -e '/^\.\\"/d' -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PAGE" >"$TMP/page"

long_options() { # long_options FILE: each --option once, sorted
    grep -o -- '--[a-z][a-z0-9-]*' "$1" | LC_ALL=C sort -u
}
long_options "$TMP/help" >"$TMP/help-opts"
long_options "$TMP/page" >"$TMP/page-opts"
# missing A B: the lines of sorted file A that sorted file B lacks, on one line
missing() { LC_ALL=C comm -23 "$1" "$2" | tr '\n' ' ' | sed 's/ *$//'; }
# none NAME LIST WHAT: passes when LIST is empty, else names what is missing.
none() {
    if [ -z "$2" ]; then
        passed=$((passed + 1))
    else
        : >"$TMP/out"
        : >"$TMP/err"
        fail "$1" "$3: $2"
    fi
}

if [ "$(wc -l <"$TMP/help-opts")" -lt 20 ]; then
    fail help-lists-options "found only $(wc -l <"$TMP/help-opts") long options in --help"
else
    passed=$((passed + 1))
fi
none help-options-in-manual "$(missing "$TMP/help-opts" "$TMP/page-opts")" \
    "in --help but not in emfit.1"
none manual-options-in-help "$(missing "$TMP/page-opts" "$TMP/help-opts")" \
    "in emfit.1 but not in --help"

# Models: the first word of each line under "Models:" in --help, each a
# tagged entry (".B NAME") in the page.
sed -n '/^Models:/,/^$/s/^  *\([a-z0-9][a-z0-9-]*\).*/\1/p' "$TMP/help" >"$TMP/models"
check help-lists-models '[ "$(wc -l <"$TMP/models")" -ge 4 ]'
absent=""
while read -r model; do
    grep -qx "\.B $model" "$TMP/page" || absent="${absent:+$absent }$model"
done <"$TMP/models"
none models-in-manual "$absent" "models of --help not in emfit.1"

# Exit statuses: each number --help lists is a tagged entry in the page.
sed -n '/^Exit status:/,/^$/s/^  *\([0-9][0-9]*\) .*/\1/p' "$TMP/help" >"$TMP/statuses"
check help-lists-statuses '[ "$(wc -l <"$TMP/statuses")" -ge 7 ]'
absent=""
while read -r st; do
    grep -qx "\.B $st" "$TMP/page" || absent="${absent:+$absent }$st"
done <"$TMP/statuses"
none statuses-in-manual "$absent" "exit statuses of --help not in emfit.1"

version=$("$EMFIT" --version | sed 's/^emfit //')
check manual-version 'grep -q "^\.TH EMFIT 1 .*\"emfit $version\"" "$PAGE"'

# Rendering: warnings go to stderr, which must stay empty.
if command -v man >/dev/null 2>&1; then
    renderer="man --warnings -l"
    LC_ALL=C MANWIDTH=80 man --warnings -l "$PAGE" >"$TMP/out" 2>"$TMP/err"
    rstatus=$?
elif command -v groff >/dev/null 2>&1; then
    renderer="groff -man -ww"
    groff -man -Tutf8 -ww "$PAGE" >"$TMP/out" 2>"$TMP/err"
    rstatus=$?
else
    renderer=""
    echo "SKIPPED: rendering the manual (neither man nor groff is installed)"
fi
if [ -n "$renderer" ]; then
    check "renders ($renderer)" '[ "$rstatus" -eq 0 ] && [ ! -s "$TMP/err" ]'
    check renders-text 'grep -q "EXIT STATUS" "$TMP/out" && [ "$(wc -l <"$TMP/out")" -gt 200 ]'
fi

finish
