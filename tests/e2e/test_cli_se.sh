# --se (standard errors) and --accel squarem through the command line:
# the result's "se" object and "accel"/"esteps", the table on stderr, the
# esteps trace column, the cases without standard errors, and the usage
# errors.
set -u
. "$(dirname "$0")/lib.sh"
BVN=$DATA/efron_hastie_bvn.csv
COINS=$DATA/three_coin_multi.csv

# value KEY FILE: the number after "KEY": on its own line, first match.
value() {
    sed -n "s/^ *\"$1\": \([^,]*\),\{0,1\}$/\1/p" "$2" | head -1
}
# close A B REL: |A - B| <= REL * |B|.
close() {
    awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d;
        m = b < 0 ? -b : b; exit !(a != "" && b != "" && d <= r * m) }'
}

# bvn: the result gains "se" after "params"; mu1 is fully observed, so its
# standard error is s1 / sqrt(n) exactly, with n = 40.
expect bvn-se 0 "standard errors from the observed information" --model bvn --se --trace none --result "$TMP/r.json" "$BVN"
check bvn-se-table 'for p in mu1 mu2 s1 s2 rho; do grep -Eq "^  $p +[-0-9.e]+ +[0-9.e-]+$" "$TMP/err" || exit 1; done'
awk '/"se": \{/ { on = 1; next } on && /}/ { on = 0 } on' "$TMP/r.json" >"$TMP/se"
check bvn-se-keys '[ "$(sed "s/:.*//; s/[ \"]//g" "$TMP/se" | tr "\n" " ")" = "mu1 mu2 s1 s2 rho " ]'
check bvn-se-last 'tail -2 "$TMP/r.json" | head -1 | grep -q "^  }$" && grep -q "^  },$" "$TMP/r.json"'
s1=$(value s1 "$TMP/r.json")
se_mu1=$(value mu1 "$TMP/se")
check bvn-se-mu1 'close "$se_mu1" "$(awk -v s="$s1" "BEGIN { printf \"%.17g\", s / sqrt(40) }")" 1e-7'
check bvn-result-accel 'grep -q "^  \"accel\": \"none\",$" "$TMP/r.json" && grep -q "^  \"esteps\": 17,$" "$TMP/r.json"'
expect bvn-se-quiet 0 "" --model bvn --se --quiet --trace none "$BVN"
# A result with "se" seeds the next fit like any other.
expect se-init-params 0 "" --model bvn --init-params "$TMP/r.json" --max-iter 0 --trace none "$BVN"

# A held parameter has null; the others are numbers.
expect fixed-se 0 "" --model three-coin --fix pi --start pi=0.4 --se --quiet --trace none --result - "$COINS"
check fixed-se-null 'awk "/\"se\": \{/ { on = 1 } on" "$TMP/out" | grep -q "\"pi\": null,"'
check fixed-se-p 'awk "/\"se\": \{/ { on = 1 } on" "$TMP/out" | grep -Eq "\"p\": 0\.0[0-9]+,"'

# One toss a row: the fit lies on a ridge, the information is singular.
# The fit stands (status 0) with "se": null and a note.
expect ridge-se 0 "information matrix is" --model three-coin --columns t1 --se --trace none --result - "$COINS"
check ridge-se-null 'grep -q "^  \"se\": null$" "$TMP/out"'

# gmm: w2 = 1 - w1 gets its standard error through the delta method.
expect gmm-se 0 "" --model gmm -k 2 --se --quiet --trace none --result - "$DATA/faithful.csv"
awk '/"se": \{/ { on = 1; next } on' "$TMP/out" >"$TMP/se"
check gmm-se-w 'close "$(value w2 "$TMP/se")" "$(value w1 "$TMP/se")" 1e-8'

# --accel none is the default, byte for byte.
expect plain-trace 0 "" --model bvn --trace csv "$BVN"
cp "$TMP/out" "$TMP/plain.csv"
expect accel-none 0 "" --model bvn --accel none --trace csv "$BVN"
check accel-none-same 'cmp -s "$TMP/out" "$TMP/plain.csv"'

# --accel squarem: an esteps column after iter, the same maximum.
expect squarem 0 "" --model bvn --accel squarem --tol 1e-14 --trace csv --result "$TMP/a.json" "$BVN"
check squarem-header '[ "$(head -1 "$TMP/out")" = "iter,esteps,mu1,mu2,s1,s2,rho,loglik" ]'
check squarem-esteps-grow 'awk -F, "NR > 2 && \$2 <= prev { exit 1 } NR > 1 { prev = \$2 }" "$TMP/out"'
check squarem-result 'grep -q "^  \"accel\": \"squarem\",$" "$TMP/a.json" && [ "$(value esteps "$TMP/a.json")" = "$(tail -1 "$TMP/out" | cut -d, -f2)" ]'
expect plain-tight 0 "" --model bvn --tol 1e-14 --trace none --result "$TMP/p.json" "$BVN"
check squarem-same-loglik 'close "$(value loglik "$TMP/a.json")" "$(value loglik "$TMP/p.json")" 1e-12'
check squarem-fewer-esteps '[ "$(value esteps "$TMP/a.json")" -lt "$(value esteps "$TMP/p.json")" ]'
expect squarem-jsonl 0 "" --model bvn --accel squarem --trace jsonl "$BVN"
check squarem-jsonl-esteps 'head -1 "$TMP/out" | grep -q "^{\"iter\":0,\"esteps\":1,\"mu1\":"'
expect squarem-table 0 "" --model bvn --accel squarem "$BVN"
check squarem-table-header 'head -1 "$TMP/out" | grep -Eq "^ *iter +esteps +mu1 +mu2 +s1 +s2 +rho +loglik$"'
expect squarem-gmm-restarts 0 "" --model gmm -k 1-3 --restarts 2 --accel squarem --se --quiet --trace none "$DATA/faithful.csv"

# Usage errors.
expect accel-bad 2 "--accel must be none or squarem" --model bvn --accel fast "$BVN"
expect accel-mean 2 "needs a true EM fit" --model bvn --estep mean --accel squarem "$BVN"
expect se-mean 2 "standard errors need a maximum-likelihood fit" --model bvn --estep mean --se --trace none "$BVN"
# Refused before the fit, so no trace row is printed.
expect se-too-many 2 "at most 400" --model gmm -k 30 --se "$DATA/iris.csv"

# A batch writes "se" into each result.
expect batch-se 0 "" --model bvn --se --accel squarem --trace none --output-dir "$TMP/fits" "$BVN"
check batch-se-result 'grep -q "^  \"se\": {$" "$TMP/fits/efron_hastie_bvn.result.json"'

finish
