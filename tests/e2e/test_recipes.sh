# The plotting recipes of examples/: each one-liner of the README, run on a
# trace from the binary under test, writes a PNG.  A recipe whose tool is
# missing (gnuplot 5.2+, python3 with pandas and matplotlib, R) is skipped
# with a SKIPPED line.
set -u
. "$(dirname "$0")/lib.sh"
EX=$SRC/examples
BVN=$DATA/efron_hastie_bvn.csv
skipped=0

skip() {
    echo "SKIPPED: $1"
    skipped=$((skipped + 1))
}

# is_png NAME FILE: FILE starts with the PNG signature and is not tiny.
is_png() {
    png=$2
    check "$1" '[ "$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ] &&
        [ "$(wc -c <"$png")" -gt 2000 ]'
}
: >"$TMP/out"

"$EMFIT" --model bvn --trace csv "$BVN" >"$TMP/bvn.csv"
"$EMFIT" --model gmm -k 2 --trace csv "$DATA/faithful.csv" >"$TMP/gmm.csv" 2>/dev/null
check traces '[ "$(wc -l <"$TMP/bvn.csv")" -gt 5 ] && [ "$(wc -l <"$TMP/gmm.csv")" -gt 3 ]'

gnuplot_version=$(gnuplot --version 2>/dev/null | sed -n 's/^gnuplot \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ -z "$gnuplot_version" ]; then
    skip "gnuplot recipe (no gnuplot; Debian: apt-get install gnuplot-nox)"
elif [ "$(echo "$gnuplot_version" | awk '{ print ($1 > 5 || ($1 == 5 && $2 >= 2)) }')" -ne 1 ]; then
    skip "gnuplot recipe (needs gnuplot 5.2 or later)"
else
    "$EMFIT" --model bvn --trace csv "$BVN" |
        gnuplot -e "out='$TMP/gnuplot.png'" "$EX/plot_trace.gnuplot" 2>"$TMP/err"
    is_png gnuplot-bvn "$TMP/gnuplot.png"
    check gnuplot-quiet '[ ! -s "$TMP/err" ]'
    gnuplot -e "out='$TMP/gnuplot-gmm.png'" "$EX/plot_trace.gnuplot" <"$TMP/gmm.csv" 2>"$TMP/err"
    is_png gnuplot-gmm "$TMP/gnuplot-gmm.png"
    check gnuplot-refuses-table '! "$EMFIT" --model bvn "$BVN" | gnuplot -e "out=\"$TMP/bad.png\"" "$EX/plot_trace.gnuplot" 2>/dev/null'
fi

PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c "import matplotlib, pandas" 2>/dev/null; then
        PY=$p
        break
    fi
done
if [ -z "$PY" ]; then
    skip "python recipe (no python3 with pandas and matplotlib; Debian: apt-get install python3-matplotlib python3-pandas)"
else
    # matplotlib caches fonts under $HOME, which may not be writable.
    export MPLCONFIGDIR="$TMP/mpl"
    # pandas and matplotlib take a second or two to load: one run each.
    "$EMFIT" --model gmm -k 2 --trace csv "$DATA/faithful.csv" 2>/dev/null |
        "$PY" "$EX/plot_trace.py" "$TMP/python.png" 2>"$TMP/err"
    is_png python-gmm "$TMP/python.png"
    check python-refuses-table '! "$EMFIT" --model bvn "$BVN" | "$PY" "$EX/plot_trace.py" "$TMP/bad.png" 2>/dev/null'
fi

if ! command -v Rscript >/dev/null 2>&1; then
    skip "R recipe (no Rscript; Debian: apt-get install r-base-core)"
elif ! Rscript -e 'quit(status = !capabilities("png"))' >/dev/null 2>&1; then
    skip "R recipe (this R cannot write PNG files)"
else
    "$EMFIT" --model gmm -k 2 --trace csv "$DATA/faithful.csv" 2>/dev/null |
        Rscript "$EX/plot_trace.R" "$TMP/r.png" 2>"$TMP/err"
    is_png r-gmm "$TMP/r.png"
    check r-refuses-table '! "$EMFIT" --model bvn "$BVN" | Rscript "$EX/plot_trace.R" "$TMP/bad.png" 2>/dev/null'
fi

[ "$skipped" -eq 0 ] || printf '%d recipe(s) skipped\n' "$skipped"
finish
