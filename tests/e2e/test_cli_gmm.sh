# The gmm model from the command line: fits, settings, determinism, errors.
set -u
. "$(dirname "$0")/lib.sh"
G=$TDATA/gmm_three.csv

expect gmm-fit 0 "" --model gmm -k 3 --trace none --result - "$G"
check gmm-converged 'grep -q "\"converged\": true" "$TMP/out"'
check gmm-settings 'grep -q "\"k\": 3, \"cov\": \"full\", \"reg\": 1e-06, \"init\": \"kmeans++\", \"seed\": 1" "$TMP/out"'
check gmm-free-params 'grep -q "\"free_params\": 17," "$TMP/out"'
cp "$TMP/out" "$TMP/first.json"
expect gmm-again 0 "" --model gmm -k 3 --trace none --result - "$G"
check gmm-deterministic 'cmp -s "$TMP/out" "$TMP/first.json"'
expect gmm-seed-1 0 "" --model gmm -k 3 --seed 1 --trace csv --max-iter 0 "$G"
cp "$TMP/out" "$TMP/seed1.csv"
expect gmm-seed-2 0 "" --model gmm -k 3 --seed 2 --trace csv --max-iter 0 "$G"
check gmm-seeds-differ '! cmp -s "$TMP/out" "$TMP/seed1.csv"'
expect gmm-trace-header 0 "" --model gmm -k 2 --cov diag --trace csv "$G"
check gmm-diag-names '[ "$(head -1 "$TMP/out")" = "iter,w1,w2,mean1_1,mean1_2,mean2_1,mean2_2,var1_1,var1_2,var2_1,var2_2,loglik" ]'
for c in spherical tied; do
    expect "gmm-$c" 0 "" --model gmm -k 3 --cov $c --trace none --result - "$G"
done
expect gmm-init-params 0 "" --model gmm -k 3 --trace csv --max-iter 0 --init-params "$TMP/first.json" "$G"
check gmm-init-params-loglik '[ "$(tail -1 "$TMP/out" | awk -F, "{print \$NF}")" = "$(sed -n "s/.*\"loglik\": \(.*\),$/\1/p" "$TMP/first.json")" ]'

expect gmm-bad-cov 2 "--cov must be full, diag, spherical or tied" --model gmm --cov round "$G"
expect gmm-bad-init 2 "--init must be kmeans++ or random" --model gmm --init best "$G"
expect gmm-k-zero 2 "-k must be at least 1" --model gmm -k 0 "$G"
expect gmm-bad-reg 2 "--reg must be >= 0" --model gmm --reg -1 "$G"
expect gmm-k-option-bvn 2 "--components does not apply to the bvn model" --model bvn -k 2 "$DATA/efron_hastie_bvn.csv"
expect gmm-weights 2 "--start: the weights sum to" --model gmm -k 2 --start w1=0.9 "$G"
printf 'a,b\n1,2\n1,2\n3,4\n' >"$TMP/two.csv"
expect gmm-too-few-distinct 5 "only 2 distinct row(s) for 3 components" --model gmm -k 3 "$TMP/two.csv"
printf 'a,b\n1,2\n1,3\n1,4\n1,6\n' >"$TMP/const.csv"
expect gmm-constant-reg0 5 "column \"a\" is constant" --model gmm --reg 0 "$TMP/const.csv"
expect gmm-constant-reg 0 "" --model gmm --trace none --result - "$TMP/const.csv"
check gmm-constant-var 'grep -q "\"cov1_1_1\": 1e-06" "$TMP/out"'

finish
