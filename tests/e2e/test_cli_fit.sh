# Fits that work: the document's table, the formats, stdin, results that
# seed the next fit, column selection, notes on stderr.
set -u
. "$(dirname "$0")/lib.sh"
BVN=$DATA/efron_hastie_bvn.csv

# The document's procedure reproduces its table to 6 decimals.
# --tol 0 runs all 19 iterations, as the document does.
expect doc-table 0 "" --model bvn --estep mean --fill 0 --tol 0 --max-iter 19 --quiet "$BVN"
check doc-table-rows '[ "$(wc -l <"$TMP/out")" -eq 21 ]'
check doc-table-header 'head -1 "$TMP/out" | grep -Eq "^ *iter +mu1 +mu2 +s1 +s2 +rho +loglik$"'
tail -n +2 "$TMP/out" | awk '{print $1, $2, $3, $4, $5, $6}' >"$TMP/ours"
check doc-table-values 'diff "$TMP/ours" "$TDATA/doc000_table.txt"'
expect doc-table-note 0 "stopped at --max-iter 19" --model bvn --estep mean --fill 0 --tol 0 --max-iter 19 "$BVN"

# True EM (the default) converges to the maximum-likelihood estimate.
expect default-fit 0 "" --model bvn --trace none --result - "$BVN"
cp "$TMP/out" "$TMP/result.json"
check result-converged 'grep -q "\"converged\": true" "$TMP/result.json"'
check result-keys 'for k in model input n iterations converged loglik free_params aic bic params; do grep -q "\"$k\":" "$TMP/result.json" || exit 1; done'
check result-n 'grep -q "\"n\": 40," "$TMP/result.json"'
check result-free-params 'grep -q "\"free_params\": 5," "$TMP/result.json"'
# The closed form for this monotone pattern (tests/unit/test_bvn.c):
# mu2 = 0.99031389, s2 = 0.78895254, rho = 0.77553916.  The stopping rule
# on the log-likelihood (default --tol 1e-10) pins them to about 1e-5.
near() { # near KEY WANT: the result's KEY within 2e-5 relative of WANT
    v=$(sed -n "s/^ *\"$1\": \([^,]*\),\{0,1\}$/\1/p" "$TMP/result.json")
    awk -v v="$v" -v w="$2" 'BEGIN { d = v - w; if (d < 0) d = -d; exit !(v != "" && d <= 2e-5 * w) }'
}
check result-mu2 'near mu2 0.99031389'
check result-s2 'near s2 0.78895254'
check result-rho 'near rho 0.77553916'

# A result seeds the next fit: evaluating it gives the same log-likelihood.
ll=$(sed -n 's/.*"loglik": \(.*\),$/\1/p' "$TMP/result.json")
expect init-params 0 "" --model bvn --trace csv --max-iter 0 --init-params "$TMP/result.json" "$BVN"
check init-params-loglik '[ "$(tail -1 "$TMP/out" | awk -F, "{print \$NF}")" = "$ll" ]'
expect init-params-converges-at-once 0 "" --model bvn --trace csv --init-params "$TMP/result.json" "$BVN"
check init-params-few-rows '[ "$(wc -l <"$TMP/out")" -le 3 ]'

# Trace formats.
expect csv 0 "" --model bvn --trace csv "$BVN"
check csv-header '[ "$(head -1 "$TMP/out")" = "iter,mu1,mu2,s1,s2,rho,loglik" ]'
check csv-fields 'awk -F, "NF != 7 { exit 1 }" "$TMP/out"'
cp "$TMP/out" "$TMP/trace.csv"
expect tsv 0 "" --model bvn --trace tsv "$BVN"
check tsv-same-as-csv '[ "$(tr "\t" , <"$TMP/out")" = "$(cat "$TMP/trace.csv")" ]'
expect jsonl 0 "" --model bvn --trace jsonl "$BVN"
check jsonl-rows 'grep -c "^{\"iter\":[0-9]*,\"mu1\":.*,\"loglik\":.*}$" "$TMP/out" | grep -qx "$(($(wc -l <"$TMP/trace.csv") - 1))"'
expect none 0 "" --model bvn --trace none "$BVN"
check none-empty '[ ! -s "$TMP/out" ]'

# Standard input gives the same fit as the file.
"$EMFIT" --model bvn --trace csv - <"$BVN" >"$TMP/stdin.csv" 2>"$TMP/err"
check stdin-same '[ "$?" -eq 0 ] && cmp -s "$TMP/stdin.csv" "$TMP/trace.csv"'

# The result file and --start.
expect result-file 0 "" --model bvn --result "$TMP/r.json" "$BVN"
check result-file-written 'grep -q "\"model\": \"bvn\"" "$TMP/r.json"'
expect start 0 "" --model bvn --trace csv --max-iter 0 --start mu1=0.5,rho=-0.25 "$BVN"
check start-values 'tail -1 "$TMP/out" | grep -q "^0,0.5,[^,]*,[^,]*,[^,]*,-0.25,"'
expect start-overrides-init-params 0 "" --model bvn --trace csv --max-iter 0 --init-params "$TMP/result.json" --start rho=0.1 "$BVN"
check start-overrides-values 'tail -1 "$TMP/out" | grep -q ",0.1,[^,]*$"'

# Column selection, delimiters, skipped rows.
expect columns-by-name 0 "1 row(s) with no observed value were skipped" --model bvn --trace csv --columns x,y "$TDATA/four_columns.csv"
cp "$TMP/out" "$TMP/byname.csv"
expect columns-by-index 0 "" --model bvn --trace csv --quiet --columns 2,4 "$TDATA/four_columns.csv"
check columns-same 'cmp -s "$TMP/out" "$TMP/byname.csv"'
tr , ';' <"$BVN" >"$TMP/semi.csv"
expect semicolon 0 "" --model bvn --trace csv --delimiter ';' "$TMP/semi.csv"
check semicolon-same 'cmp -s "$TMP/out" "$TMP/trace.csv"'
tr , '\t' <"$BVN" >"$TMP/tab.tsv"
expect tab 0 "" --model bvn --trace csv --delimiter tab "$TMP/tab.tsv"
check tab-same 'cmp -s "$TMP/out" "$TMP/trace.csv"'

# --digits sets the decimals of the table, and only of the table.
expect digits-10 0 "" --model bvn --digits 10 --max-iter 0 "$BVN"
check digits-10-values '[ "$(tail -1 "$TMP/out" | awk "{print \$2, \$NF}")" = "1.8674222135 -76.1548698702" ]'
check digits-10-aligned '[ "$(head -1 "$TMP/out" | wc -c)" -eq "$(tail -1 "$TMP/out" | wc -c)" ]'
expect digits-1 0 "" --model bvn --digits 1 --max-iter 0 "$BVN"
check digits-1-values '[ "$(tail -1 "$TMP/out" | awk "{print \$2, \$NF}")" = "1.9 -76.2" ]'
expect digits-default 0 "" --model bvn --max-iter 0 "$BVN"
check digits-default-6 '[ "$(tail -1 "$TMP/out" | awk "{print \$2}")" = "1.867422" ]'
expect digits-csv-unchanged 0 "" --model bvn --trace csv --digits 2 "$BVN"
check digits-csv-same 'cmp -s "$TMP/out" "$TMP/trace.csv"'
for d in 0 18 x; do
    expect "digits-bad-$d" 2 "--digits must be from 1 to 17, not \"$d\"" --model bvn --digits $d "$BVN"
done

# Machine formats read back to the same double.  The last trace row holds
# the final parameters, which the result holds too: the same bits.
bits_equal() { # bits_equal TRACE.csv RESULT.json
    python3 - "$1" "$2" <<'PY'
import csv, json, struct, sys
rows = list(csv.reader(open(sys.argv[1])))
last = dict(zip(rows[0], rows[-1]))
res = json.load(open(sys.argv[2]))
bits = lambda x: struct.pack("<d", float(x))
want = dict(res["params"], loglik=res["loglik"])
bad = [k for k in want if bits(last[k]) != bits(want[k])]
sys.exit(1 if bad or len(want) != len(rows[0]) - 1 else 0)
PY
}
for m in "bvn" "gmm -k 3 --cov full" "three-coin" "mixed-normal --free-sigma"; do
    case $m in
    bvn) f=$BVN ;;
    gmm*) f=$DATA/faithful.csv ;;
    three*) f=$DATA/three_coin_multi.csv ;;
    *) f=$DATA/mixed_normal.csv ;;
    esac
    name=roundtrip-${m%% *}
    expect "$name" 0 "" --model $m --quiet --trace csv --result "$TMP/rt.json" "$f"
    cp "$TMP/out" "$TMP/rt.csv"
    cp "$TMP/out" "$TMP/rt-${m%% *}.csv"
    if command -v python3 >/dev/null 2>&1; then
        check "$name-bits" 'bits_equal "$TMP/rt.csv" "$TMP/rt.json"'
    else
        echo "SKIPPED: $name-bits (no python3)"
    fi
    # emfit reads its own numbers back: started from the result, row 0 is
    # the last row again, digit for digit (the shortest round-trip form
    # differs for different doubles).
    init=""
    case $m in gmm*) init="--init params" ;; esac
    expect "$name-reread" 0 "" --model $m $init --quiet --trace csv --max-iter 0 --init-params "$TMP/rt.json" "$f"
    check "$name-reread-same" '[ "$(tail -1 "$TMP/out" | cut -d, -f2-)" = "$(tail -1 "$TMP/rt.csv" | cut -d, -f2-)" ]'
done
expect roundtrip-jsonl 0 "" --model gmm -k 3 --quiet --trace jsonl "$DATA/faithful.csv"
check roundtrip-jsonl-same '[ "$(tail -1 "$TMP/out" | sed "s/^{\"iter\":[0-9]*,//; s/\"[^\"]*\"://g; s/}$//")" = "$(tail -1 "$TMP/rt-gmm.csv" | cut -d, -f2-)" ]'

# --plot writes the SVG after the fit; "-" is stdout, with --trace none.
expect plot 0 "" --model bvn --trace csv --plot "$TMP/fit.svg" "$BVN"
check plot-trace-unchanged 'cmp -s "$TMP/out" "$TMP/trace.csv"'
check plot-svg 'head -2 "$TMP/fit.svg" | grep -q "<svg" && tail -1 "$TMP/fit.svg" | grep -q "</svg>"'
expect plot-stdout 0 "" --model bvn --trace none --plot - "$BVN"
check plot-stdout-same 'cmp -s "$TMP/out" "$TMP/fit.svg"'
expect plot-stdout-needs-none 2 "--plot - writes to standard output" --model bvn --plot - "$BVN"
expect plot-unwritable 4 "$TMP/no/dir/x.svg: cannot open for writing" --model bvn --trace none --plot "$TMP/no/dir/x.svg" "$BVN"
expect plot-not-after-error 5 "numerically unreliable" --model bvn --trace none --plot "$TMP/none.svg" "$TDATA/bvn_near_collinear.csv"
check plot-not-after-error-file '[ ! -e "$TMP/none.svg" ]'

# Help and version go to stdout with status 0; help lists every option.
expect help 0 "" --help
for opt in --model --columns --delimiter --trace --result --init-params --start --fix --max-iter --tol --estep --fill --sigma --free-sigma --components --cov --reg --init --seed --restarts --criterion --threads --verbose --labels --responsibilities --impute --trace-params --quiet --help --version --output-dir --jobs --digits --plot; do
    check "help-lists$opt" 'grep -q -- "$opt" "$TMP/out"'
done
check help-exit-statuses 'grep -q "Exit status" "$TMP/out" && grep -q "^  8  batch run" "$TMP/out"'
expect version 0 "" --version
check version-text 'grep -Eq "^emfit [0-9]+\.[0-9]+\.[0-9]+$" "$TMP/out"'

finish
