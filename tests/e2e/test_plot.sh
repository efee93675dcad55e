# --plot on the bundled data: one SVG of each kind (scatter with ellipses,
# histogram with density, traces only), checked for well-formed XML (with
# xmllint or python3, whichever is installed), the expected elements and
# no "nan" or "inf".  tests/unit/test_plot.c checks the library in depth
# and renders a plot in chromium when it is installed.
set -u
. "$(dirname "$0")/lib.sh"

if command -v xmllint >/dev/null 2>&1; then
    wellformed() { xmllint --noout "$1" 2>/dev/null; }
elif command -v python3 >/dev/null 2>&1; then
    wellformed() { python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$1" 2>/dev/null; }
else
    echo "SKIPPED: XML well-formedness (neither xmllint nor python3)"
    wellformed() { true; }
fi

# count FILE TEXT: how many times TEXT occurs in FILE.
count() { grep -o -F -- "$2" "$1" | wc -l | tr -d ' '; }

# plot NAME ARGS...: runs emfit --trace none --plot $TMP/NAME.svg ARGS and
# checks what every plot must satisfy.
plot() {
    name=$1
    shift
    svg=$TMP/$name.svg
    expect "$name" 0 "" --trace none --quiet --plot "$svg" "$@" || return
    check "$name-xml" 'wellformed "$svg"'
    check "$name-namespace" 'grep -q "<svg xmlns=\"http://www.w3.org/2000/svg\"" "$svg"'
    check "$name-self-contained" '! grep -q -e "<script" -e "href" "$svg"'
    check "$name-finite" '! grep -qi -e nan -e inf "$svg"'
    check "$name-loglik-panel" '[ "$(count "$svg" "class=\"panel loglik\"")" -eq 1 ]'
}

# bvn: one component (an ellipse at 1 and at 2 SD), 20 imputed rows.
plot bvn --model bvn "$DATA/efron_hastie_bvn.csv"
check bvn-ellipses '[ "$(count "$svg" "<ellipse class=\"sd1\"")" -eq 1 ] && [ "$(count "$svg" "<ellipse class=\"sd2\"")" -eq 1 ]'
check bvn-imputed 'grep -q "imputed: one value missing (20)" "$svg"'
check bvn-panels '[ "$(count "$svg" "class=\"panel trace\"")" -eq 5 ]'
check bvn-title 'grep -q "emfit: bvn fit of .*efron_hastie_bvn.csv" "$svg"'

# gmm on two columns: an ellipse pair per component.
plot faithful --model gmm -k 2 "$DATA/faithful.csv"
check faithful-ellipses '[ "$(count "$svg" "<ellipse class=\"sd1\"")" -eq 2 ] && [ "$(count "$svg" "<ellipse class=\"sd2\"")" -eq 2 ]'
check faithful-panels '[ "$(count "$svg" "class=\"panel trace\"")" -eq 12 ]'
check faithful-no-histogram '! grep -q "panel histogram" "$svg"'

# --trace-params chooses the panels.
plot faithful-w --model gmm -k 2 --trace-params 'w*' "$DATA/faithful.csv"
check faithful-w-panels '[ "$(count "$svg" "class=\"panel trace\"")" -eq 2 ]'
check faithful-w-names 'grep -q ">w2</text>" "$svg" && ! grep -q ">mean1_1</text>" "$svg"'

# One column: a histogram and the fitted density.
plot mixed --model mixed-normal "$DATA/mixed_normal.csv"
check mixed-histogram '[ "$(count "$svg" "<rect class=\"bar\"")" -ge 8 ]'
check mixed-density 'grep -q "<path class=\"dens\" d=\"M" "$svg"'
check mixed-no-ellipse '! grep -q "<ellipse" "$svg"'
plot iris1 --model gmm -k 3 --columns Petal.Length "$DATA/iris.csv"
check iris1-histogram '[ "$(count "$svg" "<rect class=\"bar\"")" -ge 8 ]'

# More than 24 parameters: 24 panels and a line saying what is left out;
# four columns have no data panel.
plot iris4 --model gmm -k 3 --max-iter 50 "$DATA/iris.csv"
check iris4-capped '[ "$(count "$svg" "class=\"panel trace\"")" -eq 24 ]'
check iris4-left-out 'grep -q "21 more parameters are not shown.*--trace-params" "$svg"'
check iris4-no-data-panel '! grep -q -e "panel scatter" -e "panel histogram" "$svg"'

# three-coin: the traces only.
plot coin --model three-coin --start pi=0.4,p=0.6,q=0.7 "$DATA/three_coin_li.csv"
check coin-panels '[ "$(count "$svg" "class=\"panel trace\"")" -eq 3 ]'
check coin-no-data-panel '! grep -q -e "panel scatter" -e "panel histogram" "$svg"'

finish
