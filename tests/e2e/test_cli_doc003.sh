# The models of document 003 from the command line: three-coin and
# mixed-normal, their options, and their errors.
set -u
. "$(dirname "$0")/lib.sh"
LI=$DATA/three_coin_li.csv
MULTI=$DATA/three_coin_multi.csv
MN=$DATA/mixed_normal.csv

# Li Hang's example 9.1: start (0.4, 0.6, 0.7) ends at (0.4064, 0.5368, 0.6432).
expect li-book 0 "" --model three-coin --start pi=0.4,p=0.6,q=0.7 "$LI"
check li-book-values 'tail -1 "$TMP/out" | grep -Eq "^ +[0-9]+ +0\.40641[0-9] +0\.53684[0-9] +0\.64324[0-9] "'
# A symmetric start is a fixed point: (0.5, 0.6, 0.6) after one step.
expect li-symmetric 0 "" --model three-coin --trace csv --start pi=0.5,p=0.5,q=0.5 "$LI"
check li-symmetric-values '[ "$(sed -n 3p "$TMP/out" | cut -d, -f1-4)" = "1,0.5,0.6,0.6" ]'
# --fix holds pi at its start in every row.
expect fix-pi 0 "" --model three-coin --trace csv --fix pi --start pi=0.5 "$MULTI"
check fix-pi-rows 'tail -n +2 "$TMP/out" | cut -d, -f2 | sort -u | grep -qx 0.5'
expect fix-pi-result 0 "" --model three-coin --trace none --result - --fix pi --start pi=0.5 "$MULTI"
check fix-pi-free-params 'grep -q "\"free_params\": 2," "$TMP/out" && grep -q "\"fixed\": \[\"pi\"\]" "$TMP/out"'
# Several tosses per row: different starts reach the same fit.
expect multi-a 0 "" --model three-coin --trace csv --tol 1e-14 --start pi=0.5,p=0.5,q=0.4 "$MULTI"
a=$(tail -1 "$TMP/out" | cut -d, -f2-4 | awk -F, '{printf "%.4f %.4f %.4f", $1, $2, $3}')
expect multi-b 0 "" --model three-coin --trace csv --tol 1e-14 --start pi=0.3,p=0.9,q=0.2 "$MULTI"
b=$(tail -1 "$TMP/out" | cut -d, -f2-4 | awk -F, '{printf "%.4f %.4f %.4f", $1, $2, $3}')
check multi-same-fit '[ "$a" = "$b" ] && [ "$a" = "0.3790 0.8254 0.3046" ]'

expect start-out-of-range 2 "--start: p = 1.5: a probability must lie in [0, 1]" --model three-coin --start p=1.5 "$LI"
expect fix-unknown 2 "--fix: the three-coin model has no parameter \"r\"" --model three-coin --fix r "$LI"
expect fix-bvn 2 "--fix does not apply to the bvn model" --model bvn --fix mu1 "$DATA/efron_hastie_bvn.csv"
expect toss-two 5 "toss_two.csv:4: column \"y\": 2 is not a toss result (0 or 1)" --model three-coin "$SRC/tests/bad/toss_two.csv"
expect probability-zero 5 "probability 0" --model three-coin --start p=1,q=1 "$LI"

# mixed-normal: mu >= 0 is reported, whatever the start's sign.
expect mn-fit 0 "" --model mixed-normal --trace none --result - "$MN"
cp "$TMP/out" "$TMP/mn.json"
expect mn-negative-start 0 "" --model mixed-normal --trace none --result - --start mu=-1,p=0.5 "$MN"
check mn-sign 'grep -Eq "\"mu\": 1\.4" "$TMP/out" && grep -Eq "\"mu\": 1\.4" "$TMP/mn.json"'
check mn-p 'grep -Eq "\"p\": 0\.25" "$TMP/out"'
expect mn-free-sigma 0 "" --model mixed-normal --trace csv --free-sigma "$MN"
check mn-free-sigma-column '[ "$(head -1 "$TMP/out")" = "iter,mu,p,sigma,loglik" ]'
expect mn-known-sigma 0 "" --model mixed-normal --trace none --result - --sigma 2 "$MN"
check mn-known-sigma-setting 'grep -q "\"sigma\": 2," "$TMP/out"'
# mu = 0 with p = 1/2 is a stationary point, not a fit: no result file.
expect mn-stationary 5 "stationary point" --model mixed-normal --trace none --result "$TMP/never.json" --start mu=0,p=0.5 "$MN"
check mn-stationary-no-result '[ ! -e "$TMP/never.json" ]'
expect mn-sigma-and-free 2 "exclude each other" --model mixed-normal --sigma 2 --free-sigma "$MN"
expect mn-bad-sigma 2 "--sigma must be > 0" --model mixed-normal --sigma 0 "$MN"
expect mn-sigma-bvn 2 "--sigma does not apply to the bvn model" --model bvn --sigma 2 "$DATA/efron_hastie_bvn.csv"
expect mn-two-columns 2 "exactly 1 column" --model mixed-normal "$DATA/efron_hastie_bvn.csv"
printf 'y\n2\n2\n2\n' >"$TMP/same.csv"
expect mn-all-equal-free 5 "every |y| is the same" --model mixed-normal --free-sigma "$TMP/same.csv"
expect mn-all-equal-known 0 "" --model mixed-normal --trace none --result - "$TMP/same.csv"
check mn-all-equal-mu 'grep -Eq "\"mu\": (2|1\.99)" "$TMP/out"'
printf 'y\n1.3\n' >"$TMP/one.csv"
expect mn-one-row 0 "" --model mixed-normal --trace none --result - "$TMP/one.csv"
check mn-one-row-finite '! grep -Eqi "nan|inf|null" "$TMP/out"'

finish
