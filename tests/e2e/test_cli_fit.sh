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

# Help and version go to stdout with status 0; help lists every option.
expect help 0 "" --help
for opt in --model --columns --delimiter --trace --result --init-params --start --fix --max-iter --tol --estep --fill --sigma --free-sigma --components --cov --reg --init --seed --restarts --criterion --threads --verbose --labels --responsibilities --impute --trace-params --quiet --help --version; do
    check "help-lists$opt" 'grep -q -- "$opt" "$TMP/out"'
done
check help-exit-statuses 'grep -q "Exit status" "$TMP/out"'
expect version 0 "" --version
check version-text 'grep -Eq "^emfit [0-9]+\.[0-9]+\.[0-9]+$" "$TMP/out"'

finish
