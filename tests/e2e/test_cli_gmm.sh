# The gmm model from the command line: fits, settings, determinism, errors.
set -u
. "$(dirname "$0")/lib.sh"
G=$TDATA/gmm_three.csv

expect gmm-fit 0 "" --model gmm -k 3 --trace none --result - "$G"
check gmm-converged 'grep -q "\"converged\": true" "$TMP/out"'
check gmm-settings 'grep -q "\"k\": 3, \"cov\": \"full\", \"reg\": 1e-06, \"init\": \"kmeans++\", \"seed\": 1, \"restarts\": 1" "$TMP/out"'
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

# Model choice: -k 1-5 picks K = 3 by BIC for three clusters; the traced fit
# repeats the chosen start exactly.
expect gmm-range 0 "lowest bic" --model gmm -k 1-5 --restarts 2 --trace none --result "$TMP/range.json" "$G"
check gmm-range-table 'grep -c "^emfit: *[1-5] " "$TMP/err" | grep -qx 5'
check gmm-range-chosen 'grep -q "\"chosen_k\": 3," "$TMP/range.json" && grep -q "\"k\": 3," "$TMP/range.json"'
ll=$(sed -n 's/^  "loglik": \(.*\),$/\1/p' "$TMP/range.json")
check gmm-range-same-fit 'grep -q "{\"k\": 3, \"loglik\": $ll," "$TMP/range.json"'
seed=$(sed -n 's/.*"seed": \([0-9]*\), "restarts".*/\1/p' "$TMP/range.json")
expect gmm-range-reproduce 0 "" --model gmm -k 3 --seed "$seed" --trace none --result - "$G"
check gmm-range-reproduce-ll 'grep -q "^  \"loglik\": $ll,$" "$TMP/out"'
expect gmm-aic 0 "lowest aic" --model gmm -k 1-4 --criterion aic --trace none "$G"
expect gmm-verbose 0 "k 2 start 3 (seed 3): loglik" --model gmm -k 2 --restarts 3 --verbose --trace none "$G"
expect gmm-range-quiet 0 "" --model gmm -k 1-2 --quiet --trace none "$G"
expect gmm-range-start 2 "draw their own starts" --model gmm -k 1-3 --start w1=1 "$G"
expect gmm-bad-range 2 "-k must be a number of components" --model gmm -k 3-2 "$G"
expect gmm-bad-criterion 2 "--criterion must be bic or aic" --model gmm --criterion hqc "$G"
expect gmm-restarts-zero 2 "--restarts must be at least 1" --model gmm --restarts 0 "$G"

# Per-row outputs, in input row order, with NA for rows without data.
printf 'a,b\n0,0\n0.2,-0.1\n5,5\n5.1,4.8\nNA,NA\nNA,5.2\n-0.1,0.1\n4.9,5.3\n' >"$TMP/rows.csv"
expect gmm-rows 0 "1 row(s) with no observed value were skipped" --model gmm -k 2 --trace none --labels "$TMP/labels.csv" --responsibilities "$TMP/resp.csv" --impute "$TMP/imp.csv" "$TMP/rows.csv"
check gmm-labels-lines '[ "$(wc -l <"$TMP/labels.csv")" -eq 9 ] && [ "$(head -1 "$TMP/labels.csv")" = label ]'
check gmm-labels-na '[ "$(sed -n 6p "$TMP/labels.csv")" = NA ]'
check gmm-labels-groups '[ "$(sed -n 2p "$TMP/labels.csv")" = "$(sed -n 3p "$TMP/labels.csv")" ] && [ "$(sed -n 2p "$TMP/labels.csv")" != "$(sed -n 4p "$TMP/labels.csv")" ] && [ "$(sed -n 4p "$TMP/labels.csv")" = "$(sed -n 7p "$TMP/labels.csv")" ]'
check gmm-resp-header '[ "$(head -1 "$TMP/resp.csv")" = r1,r2 ] && [ "$(sed -n 6p "$TMP/resp.csv")" = NA,NA ]'
check gmm-resp-sum 'tail -n +2 "$TMP/resp.csv" | grep -v NA | awk -F, "{ s = \$1 + \$2; if (s < 0.999999999 || s > 1.000000001) exit 1 }"'
check gmm-impute-observed '[ "$(sed -n 2p "$TMP/imp.csv")" = 0,0 ] && [ "$(sed -n 6p "$TMP/imp.csv")" = NA,NA ]'
# the row (NA, 5.2) lies with the cluster near (5, 5): its a is imputed near 5
check gmm-impute-missing 'sed -n 7p "$TMP/imp.csv" | awk -F, "{ exit !(\$1 > 4.5 && \$1 < 5.5 && \$2 == 5.2) }"'
expect gmm-labels-stdout 0 "" --model gmm -k 2 --trace none --labels - "$TMP/rows.csv" --quiet
check gmm-labels-stdout-lines '[ "$(wc -l <"$TMP/out")" -eq 9 ]'
expect gmm-two-on-stdout 2 "--impute - writes to standard output, where --labels goes too" --model gmm --trace none --labels - --impute - "$G"
expect gmm-labels-trace 2 "add --trace none" --model gmm --labels - "$G"
expect labels-bvn 2 "--labels does not apply to the bvn model" --model bvn --labels "$TMP/l.csv" "$DATA/efron_hastie_bvn.csv"

# Limiting the trace, starting from a file, the structured mixture.
expect gmm-trace-params 0 "" --model gmm -k 2 --trace csv --trace-params 'w*,mean1_*' "$DATA/faithful.csv"
check gmm-trace-params-header '[ "$(head -1 "$TMP/out")" = "iter,w1,w2,mean1_1,mean1_2,loglik" ]'
expect gmm-trace-params-none 2 "--trace-params: no parameter of the gmm model matches \"x*\"" --model gmm -k 2 --trace-params 'x*' "$DATA/faithful.csv"
expect gmm-init-params-method 0 "" --model gmm -k 3 --init params --init-params "$TMP/first.json" --trace csv --max-iter 0 "$G"
check gmm-init-params-method-same '[ "$(tail -1 "$TMP/out" | awk -F, "{print \$NF}")" = "$(sed -n "s/.*\"loglik\": \(.*\),$/\1/p" "$TMP/first.json")" ]'
expect gmm-init-params-missing 2 "--init params needs --init-params FILE" --model gmm --init params "$G"
expect gmm-mixture 0 "" --model gmm -k 2 --trace none --result - "$DATA/faithful.csv"
check gmm-mixture-arrays 'grep -q "\"weights\": \[0.64412" "$TMP/out" && grep -q "\"covariances\": \[\[\[0.16996" "$TMP/out"'

# Tiny data that drive a covariance to near-singular (found by fuzzing):
# a numerical failure (5), never a false "bug" (6).
expect gmm-collapse 5 "numerically unreliable" --model gmm -k 2 --seed 111 --max-iter 30 --tol 1e-8 --trace none "$TDATA/gmm_collapse.csv"
expect gmm-illconditioned 5 "numerically unreliable" --model gmm -k 1 --cov tied --seed 54 --max-iter 30 --tol 1e-8 --trace none "$TDATA/gmm_illconditioned.csv"
# a covariance with entries near 1e195: the condition estimate must not
# overflow into "no problem" (found by fuzzing)
expect gmm-cond-overflow 5 "numerically unreliable" --model gmm --cov tied --seed 54 --max-iter 30 --tol 1e-8 --trace none "$TDATA/gmm_cond_overflow.csv"
# with --reg 0 a tied 1-D variance shrinks onto points (found by fuzzing)
expect gmm-collapse-reg0 5 "collapsed towards 0" --model gmm -k 4 --cov tied --reg 0 --init random --seed 47 --trace none "$TDATA/gmm_collapse_reg0.csv"
# condition number 6e7: a fall of 2e-7 relative is rounding, not a bug
expect gmm-cond6e7 0 "" --model gmm --trace none "$TDATA/gmm_cond6e7.csv"
expect gmm-singular-reg0 5 "nearly singular (condition number above 1e+12): use --reg > 0" --model gmm -k 1 --cov tied --reg 0 --trace none "$TDATA/gmm_singular.csv"

# Threads change nothing in the output, to the last bit (12000 rows: three
# blocks of 4096 and a part).
{ cat "$DATA/gmm_missing30.csv"; for i in 1 2 3; do tail -n +2 "$DATA/gmm_missing30.csv"; done; } >"$TMP/big.csv"
expect gmm-threads-1 0 "" --model gmm -k 3 --threads 1 --trace csv --result "$TMP/t1.json" "$TMP/big.csv" --quiet
cp "$TMP/out" "$TMP/t1.csv"
expect gmm-threads-3 0 "" --model gmm -k 3 --threads 3 --trace csv --result "$TMP/t3.json" "$TMP/big.csv" --quiet
check gmm-threads-same-trace 'cmp -s "$TMP/out" "$TMP/t1.csv"'
check gmm-threads-same-result 'cmp -s "$TMP/t1.json" "$TMP/t3.json"'
expect gmm-threads-zero 2 "--threads must be from 1 to 256" --model gmm --threads 0 "$G"

expect gmm-bad-cov 2 "--cov must be full, diag, spherical or tied" --model gmm --cov round "$G"
expect gmm-bad-init 2 "--init must be kmeans++ or random" --model gmm --init best "$G"
expect gmm-k-zero 2 "-k must be a number of components" --model gmm -k 0 "$G"
expect gmm-bad-reg 2 "--reg must be >= 0" --model gmm --reg -1 "$G"
expect gmm-k-option-bvn 2 "--components does not apply to the bvn model" --model bvn -k 2 "$DATA/efron_hastie_bvn.csv"
expect gmm-weights 2 "--start: the weights sum to" --model gmm -k 2 --start w1=0.9 "$G"
printf 'a,b\n1,2\n1,2\n3,4\n' >"$TMP/two.csv"
expect gmm-too-few-distinct 5 "only 2 distinct row(s) for 3 components" --model gmm -k 3 "$TMP/two.csv"
printf 'a,b\n1,2\n1,3\n1,4\n1,6\n' >"$TMP/const.csv"
expect gmm-constant-reg0 5 "column \"a\" is constant" --model gmm --reg 0 "$TMP/const.csv"
expect gmm-constant-reg 0 "" --model gmm --trace none --result - "$TMP/const.csv"
check gmm-constant-var 'grep -q "\"cov1_1_1\": 1e-06" "$TMP/out"'
# Every k past the distinct rows fails: one line for the run, not 99996.
expect gmm-range-past-rows 0 "k 5 to 100000 failed, k 5: only 4 distinct" --model gmm -k 1-100000 --trace none "$TMP/const.csv"
check gmm-range-past-rows-short '[ "$(wc -l <"$TMP/err")" -eq 6 ]'

finish
