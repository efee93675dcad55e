# The mvn model from the command line: names, the fit gmm -k 1 also finds,
# skipped rows, --impute (mvn and bvn), bvn as mvn's two-column case, and
# the data errors.
set -u
. "$(dirname "$0")/lib.sh"
BVN=$DATA/efron_hastie_bvn.csv

# 80 rows of a correlated normal in three columns, about a quarter of the
# values missing (every row keeps one), and two rows with nothing (a fixed generator, so the file
# is the same on every machine).
awk 'BEGIN {
    s = 12345; print "a,b,c"
    for (i = 0; i < 82; i++) {
        for (j = 0; j < 6; j++) { s = (s * 1103515245 + 12345) % 2147483648; u[j] = (s + 0.5) / 2147483648 }
        z1 = sqrt(-2 * log(u[0])) * cos(6.283185307 * u[1])
        z2 = sqrt(-2 * log(u[2])) * cos(6.283185307 * u[3])
        z3 = sqrt(-2 * log(u[4])) * cos(6.283185307 * u[5])
        x[0] = 1 + 2 * z1; x[1] = -1 + 0.8 * z1 + z2; x[2] = 3 + 0.5 * z1 - 0.7 * z2 + 0.6 * z3
        line = ""; seen = 0
        for (j = 0; j < 3; j++) {
            s = (s * 1103515245 + 12345) % 2147483648
            keep = i < 80 && (s / 2147483648 >= 0.25 || (j == 2 && !seen))
            seen += keep
            line = line (j ? "," : "") (keep ? sprintf("%.6f", x[j]) : "")
        }
        print line
    }
}' >"$TMP/three.csv"
M=$TMP/three.csv

expect mvn-fit 0 "2 row(s) with no observed value were skipped" --model mvn --trace csv "$M"
check mvn-names '[ "$(head -1 "$TMP/out")" = "iter,mu1,mu2,mu3,cov_1_1,cov_1_2,cov_1_3,cov_2_2,cov_2_3,cov_3_3,loglik" ]'
expect mvn-result 0 "" --model mvn --quiet --tol 1e-14 --trace none --result "$TMP/mvn.json" "$M"
check mvn-converged 'grep -q "\"converged\": true" "$TMP/mvn.json"'
check mvn-nobs 'grep -q "\"n\": 80," "$TMP/mvn.json"'
check mvn-free-params 'grep -q "\"free_params\": 9," "$TMP/mvn.json"'

# gmm with one full component and no reg is the same model: the same
# maximum, reached from a different start.
expect mvn-gmm1 0 "" --model gmm -k 1 --cov full --reg 0 --quiet --tol 1e-14 --trace none --result "$TMP/gmm.json" "$M"
ll() { sed -n 's/^  "loglik": \(.*\),$/\1/p' "$1"; }
check mvn-equals-gmm1 'awk -v a="$(ll "$TMP/mvn.json")" -v b="$(ll "$TMP/gmm.json")" "BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9 && a < 0) }"'

expect mvn-trace-params 0 "" --model mvn --quiet --trace csv --trace-params 'mu*' "$M"
check mvn-trace-params-header '[ "$(head -1 "$TMP/out")" = "iter,mu1,mu2,mu3,loglik" ]'

# --impute: observed values unchanged, missing ones filled, empty rows NA.
expect mvn-impute 0 "" --model mvn --quiet --trace none --impute "$TMP/imp.csv" "$M"
check mvn-impute-rows '[ "$(wc -l <"$TMP/imp.csv")" -eq 83 ]'
check mvn-impute-header '[ "$(head -1 "$TMP/imp.csv")" = "a,b,c" ]'
check mvn-impute-empty-rows '[ "$(tail -2 "$TMP/imp.csv" | tr "\n" " ")" = "NA,NA,NA NA,NA,NA " ]'
check mvn-impute-filled '[ "$(sed -n 2,81p "$TMP/imp.csv" | grep -c "NA\|,,\|,$\|^,")" -eq 0 ]'
check mvn-impute-keeps-observed 'paste -d, "$M" "$TMP/imp.csv" | sed -n 2,81p | awk -F, "{ for (j = 1; j <= 3; j++) if (\$j != \"\" && \$j + 0 != \$(j + 3) + 0) exit 1 }"'

# bvn: the two-column case of mvn, under its own names, and it imputes.
expect bvn-as-mvn 0 "" --model mvn --quiet --tol 1e-14 --trace none --result "$TMP/m2.json" "$BVN"
expect bvn-own 0 "" --model bvn --quiet --tol 1e-14 --trace none --result "$TMP/b2.json" "$BVN"
check bvn-equals-mvn 'awk -v a="$(ll "$TMP/m2.json")" -v b="$(ll "$TMP/b2.json")" "BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }"'
expect bvn-impute 0 "" --model bvn --quiet --trace none --impute "$TMP/bimp.csv" "$BVN"
check bvn-impute-rows '[ "$(wc -l <"$TMP/bimp.csv")" -eq 41 ]'
check bvn-impute-complete '[ "$(sed -n 2,41p "$TMP/bimp.csv" | grep -c "NA")" -eq 0 ]'
# the first imputed y is E[y | x] = mu2 + rho s2 (x - mu1) / s1 at the fit
check bvn-impute-value 'awk -F, -v x="$(sed -n 22p "$BVN" | cut -d, -f1)" -v got="$(sed -n 22p "$TMP/bimp.csv" | cut -d, -f2)" \
    -v mu1="$(sed -n "s/.*\"mu1\": \([^,]*\),.*/\1/p" "$TMP/b2.json" | head -1)" \
    -v mu2="$(sed -n "s/.*\"mu2\": \([^,]*\),.*/\1/p" "$TMP/b2.json" | head -1)" \
    "BEGIN { want = mu2 + 0.775537 * 0.788952 * (x - mu1) / 1.127957; d = got - want; exit !(mu1 != \"\" && d < 1e-5 && d > -1e-5) }"'
expect mvn-estep-mean 0 "stopped at --max-iter 19" --model mvn --estep mean --fill 0 --tol 0 --max-iter 19 --trace csv "$BVN"
check mvn-estep-mean-doc 'tail -1 "$TMP/out" | cut -d, -f3 | grep -q "^0\.99031"'

# Data errors are status 5, usage errors 2.
printf 'a,b,c\n1,2,\n2,3,\n3,1,\n,2,5\n,4,6\n,1,9\n' >"$TMP/apart.csv"
expect mvn-never-together 5 "columns \"a\" and \"c\" are never observed in the same row" --model mvn "$TMP/apart.csv"
printf 'a,b\n1,\n2,\n3,\n' >"$TMP/empty.csv"
expect mvn-empty-column 5 "column \"b\" has no observed values" --model mvn "$TMP/empty.csv"
printf 'a,b\n1,4\n2,4\n3,4\n' >"$TMP/const.csv"
expect mvn-constant-column 5 "column \"b\" is constant" --model mvn "$TMP/const.csv"
expect mvn-no-cov-option 2 "--cov does not apply to the mvn model" --model mvn --cov diag "$M"
expect mvn-bad-start 2 "not positive definite" --model mvn --start cov_1_2=100 "$M"

finish
