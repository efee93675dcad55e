# Properties of the command line over random problems, and the numerical
# edge cases.
#
# For a few dozen random data sets per model (written by awk, some of them
# spanning several E-step blocks so that threads split the work): the same
# command gives byte-identical trace and result files, and so does
# --threads 2 against --threads 1; a fit ends with status 0, or 5 on a
# degenerate draw, and its output holds no nan or inf.
set -u
. "$(dirname "$0")/lib.sh"

PER_MODEL=24

# problem MODEL SEED FILE: writes a random data set for MODEL and prints
# the model's extra arguments.  One draw in eight has 4100 to 9000 rows.
problem() {
    awk -v model="$1" -v seed="$2" -v out="$3" '
    function gauss() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand()) }
    function cell(x) { return rand() < miss ? "NA" : x }
    BEGIN {
        srand(seed)
        n = seed % 8 == 0 ? 4100 + int(4900 * rand()) : 5 + int(60 * rand())
        miss = 0.25 * rand()
        if (model == "bvn") {
            m1 = 3 * gauss(); m2 = 3 * gauss(); s1 = exp(gauss()); s2 = exp(gauss())
            r = 1.8 * rand() - 0.9
            print "x,y" > out
            for (i = 0; i < n; i++) {
                z1 = gauss(); z2 = gauss()
                print cell(m1 + s1 * z1) "," cell(m2 + s2 * (r * z1 + sqrt(1 - r * r) * z2)) > out
            }
        } else if (model == "three-coin") {
            d = 1 + int(4 * rand()); pi = rand(); p = rand(); q = rand()
            head = "t1"
            for (j = 2; j <= d; j++) head = head ",t" j
            print head > out
            for (i = 0; i < n; i++) {
                h = rand() < pi ? p : q
                line = cell(rand() < h ? 1 : 0)
                for (j = 2; j <= d; j++) line = line "," cell(rand() < h ? 1 : 0)
                print line > out
            }
            printf "--start pi=%.3f,p=%.3f,q=%.3f\n", 0.05 + 0.9 * rand(),
                0.05 + 0.9 * rand(), 0.05 + 0.9 * rand()
        } else if (model == "mixed-normal") {
            mu = 0.5 + 2.5 * rand(); w = 0.05 + 0.9 * rand(); s = exp(0.5 * gauss())
            print "y" > out
            for (i = 0; i < n; i++)
                print cell((rand() < w ? -mu : mu) + s * gauss()) > out
            print rand() < 0.5 ? "--free-sigma" : "--sigma " s
        } else {
            d = 1 + int(3 * rand()); k = 1 + int(3 * rand())
            split("full diag spherical tied", covs, " ")
            head = "x1"
            for (j = 2; j <= d; j++) head = head ",x" j
            print head > out
            for (c = 1; c <= k; c++)
                for (j = 1; j <= d; j++) mean[c, j] = 4 * gauss()
            for (i = 0; i < n; i++) {
                c = 1 + int(k * rand())
                line = cell(mean[c, 1] + gauss())
                for (j = 2; j <= d; j++) line = line "," cell(mean[c, j] + gauss())
                print line > out
            }
            printf "-k %d --cov %s --init %s --seed %d\n", k,
                covs[1 + int(4 * rand())], rand() < 0.5 ? "random" : "kmeans++",
                1 + int(1000 * rand())
        }
    }'
}

# fit N ARGS...: runs emfit with the trace and the result into $TMP/tN.csv
# and $TMP/rN.json, leaving the status in $fit_status.
fit() {
    n=$1
    shift
    fit_status=0
    "$EMFIT" "$@" --trace csv --result "$TMP/r$n.json" >"$TMP/t$n.csv" \
        2>"$TMP/e$n" </dev/null || fit_status=$?
}

for model in bvn three-coin mixed-normal gmm; do
    ok=0 degenerate=0 seed=1
    while [ "$seed" -le "$PER_MODEL" ]; do
        data=$TMP/p.csv
        extra=$(problem "$model" "$seed" "$data")
        set -f
        # shellcheck disable=SC2086 # extra is a list of words on purpose
        set -- --model "$model" $extra
        set +f
        fit 1 "$@" --threads 1 "$data"
        s1=$fit_status
        fit 2 "$@" --threads 1 "$data"
        s2=$fit_status
        fit 3 "$@" --threads 2 "$data"
        s3=$fit_status
        what="$model problem $seed ($*)"
        if [ "$s1" -eq 0 ]; then
            ok=$((ok + 1))
            check "$what: same trace" 'cmp -s "$TMP/t1.csv" "$TMP/t2.csv"'
            check "$what: same result" 'cmp -s "$TMP/r1.json" "$TMP/r2.json"'
            check "$what: threads, same trace" 'cmp -s "$TMP/t1.csv" "$TMP/t3.csv"'
            check "$what: threads, same result" 'cmp -s "$TMP/r1.json" "$TMP/r3.json"'
            check "$what: no nan or inf" '! grep -qiE "nan|inf" "$TMP/t1.csv" "$TMP/r1.json"'
        elif [ "$s1" -eq 5 ]; then
            degenerate=$((degenerate + 1))
            check "$what: same failure" '[ "$s2" -eq 5 ] && [ "$s3" -eq 5 ] && cmp -s "$TMP/e1" "$TMP/e3"'
        else
            check "$what: status $s1 ($(head -c 200 "$TMP/e1"))" false
        fi
        seed=$((seed + 1))
    done
    printf '%s: %d random problems, %d fitted, %d degenerate (status 5)\n' \
        "$model" "$PER_MODEL" "$ok" "$degenerate"
    check "$model: at most a few degenerate draws ($degenerate)" \
        '[ "$degenerate" -le $((PER_MODEL / 8)) ] && [ "$ok" -ge 1 ]'
done

# Numerical edge cases: each fits or fails with status 5 and a message;
# never nan or inf on stdout.
pairs() { # SCALE SHIFT N: N correlated pairs around SHIFT, spread SCALE
    awk -v sc="$1" -v sh="$2" -v n="$3" 'BEGIN { srand(9); print "x,y"
        for (i = 0; i < n; i++) { a = rand() - 0.5; b = rand() - 0.5
            printf "%.17g,%.17g\n", sh + sc * a, sh + sc * (a + b) } }'
}
pairs 1e300 0 50 >"$TMP/e300.csv"
pairs 1e-300 0 50 >"$TMP/em300.csv"
pairs 1e140 0 50 >"$TMP/e140.csv"
awk 'BEGIN { srand(9); print "x,y"
    for (i = 0; i < 100; i++) printf "%.17g,%.17g\n", 5 + 3.4e-6 * (rand() - 0.5), rand() }' >"$TMP/var1e-12.csv"
printf 'x,y\n1.5,-2\n' >"$TMP/one.csv"
printf 'y\n1\n' >"$TMP/one_toss.csv"
# one normal, fitted with two components: they come out nearly the same
awk 'BEGIN { srand(9); print "x,y"
    for (i = 0; i < 300; i++) printf "%.17g,%.17g\n", rand() + rand(), rand() + rand() }' >"$TMP/one_normal.csv"

no_nan() { check "$1: no nan or inf" '! grep -qiE "nan|inf" "$TMP/out"'; }
# num KEY: the number after "KEY": in $TMP/out
num() { sed -n "s/^ *\"$1\": \([^,]*\),*\$/\1/p" "$TMP/out" | head -1; }
# near A B REL: |A - B| <= REL |B|
near() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d
    m = b < 0 ? -b : b; exit !(a != "" && d <= r * m) }'; }

for m in bvn gmm; do
    expect "$m 1e300" 5 "e300.csv:2: column \"x\":" --model $m "$TMP/e300.csv"
    expect "$m 1e-300" 5 "so little that their squares underflow a double: rescale it" --model $m "$TMP/em300.csv"
done
expect "mixed-normal 1e300" 5 "is too large to fit" --model mixed-normal --columns y "$TMP/e300.csv"
expect "mixed-normal 1e-300" 5 "rescale it" --model mixed-normal --columns y "$TMP/em300.csv"
# Just inside the bounds, a fit is the fit at scale 1, scaled.
pairs 1 0 50 >"$TMP/e0.csv"
expect "bvn scale 1" 0 "" --model bvn --trace none --result - "$TMP/e0.csv"
s1=$(num s1) rho=$(num rho)
expect "bvn 1e140" 0 "" --model bvn --trace none --result - "$TMP/e140.csv"
no_nan "bvn 1e140"
check "bvn 1e140: s1 and rho scale" 'near "$(num s1)" "${s1}e140" 1e-9 && near "$(num rho)" "$rho" 1e-9'
expect "gmm 1e140" 0 "" --model gmm -k 2 --cov diag --trace none --result - "$TMP/e140.csv"
no_nan "gmm 1e140"
# A column of variance 1e-12 beside one of variance 0.08: bvn gives its
# standard deviation, gmm --reg 0 the same variance (condition number
# 7e10, still below the 1e12 where gmm gives up), and the default reg adds
# 1e-6 to it.
expect "bvn variance 1e-12" 0 "" --model bvn --trace none --result - "$TMP/var1e-12.csv"
no_nan "bvn variance 1e-12"
s1=$(num s1)
sd=$(awk -F, 'NR > 1 { x[++n] = $1; s += $1 }
    END { m = s / n; for (i = 1; i <= n; i++) ss += (x[i] - m) ^ 2
          printf "%.17g", sqrt(ss / n) }' "$TMP/var1e-12.csv")
check "bvn variance 1e-12: s1 is the standard deviation" 'near "$s1" "$sd" 1e-9'
expect "gmm variance 1e-12, --reg 0" 0 "" --model gmm --reg 0 --trace none --result - "$TMP/var1e-12.csv"
no_nan "gmm variance 1e-12, --reg 0"
check "gmm variance 1e-12, --reg 0: the variance" 'near "$(num cov1_1_1)" "$(awk -v s="$s1" "BEGIN { printf \"%.17g\", s * s }")" 1e-9'
expect "gmm variance 1e-12" 0 "" --model gmm --trace none --result - "$TMP/var1e-12.csv"
no_nan "gmm variance 1e-12"
check "gmm variance 1e-12: the variance plus reg" 'near "$(num cov1_1_1)" "$(awk -v s="$s1" "BEGIN { printf \"%.17g\", s * s + 1e-6 }")" 1e-9'
expect "mixed-normal variance 1e-12" 0 "" --model mixed-normal --free-sigma --columns x --trace none --result - "$TMP/var1e-12.csv"
no_nan "mixed-normal variance 1e-12"
# Far from 0 with a small spread: sums of y^2 would cancel the spread away
# (mixed-normal did, and reported a bug; found by fuzzing).
printf 'y\n18068078410942415\n18068078410940415\n' >"$TMP/far.csv"
expect "mixed-normal far from 0" 0 "" --model mixed-normal --free-sigma --trace none --result - "$TMP/far.csv"
check "mixed-normal far from 0: sigma" 'near "$(num sigma)" 1000 1e-9'
expect "gmm near-duplicate components" 0 "" --model gmm -k 2 --trace csv "$TMP/one_normal.csv"
no_nan "gmm near-duplicate components"
expect "gmm near-duplicate, --reg 0" 0 "" --model gmm -k 3 --reg 0 --cov tied --trace csv "$TMP/one_normal.csv"
no_nan "gmm near-duplicate, --reg 0"
expect "bvn N = 1" 5 "one.csv: column \"x\" is constant" --model bvn "$TMP/one.csv"
expect "gmm N = 1" 0 "" --model gmm --trace none --result - "$TMP/one.csv"
no_nan "gmm N = 1"
check "gmm N = 1: a point mass widened by reg" 'grep -q "\"cov1_1_1\": 1e-06," "$TMP/out"'
expect "gmm N = 1, --reg 0" 5 "use --reg > 0" --model gmm --reg 0 "$TMP/one.csv"
expect "gmm N = 1, -k 2" 5 "only 1 distinct row(s) for 2 components" --model gmm -k 2 "$TMP/one.csv"
expect "mixed-normal N = 1" 0 "" --model mixed-normal --columns x --trace none --result - "$TMP/one.csv"
no_nan "mixed-normal N = 1"
expect "mixed-normal N = 1, --free-sigma" 5 "sigma would shrink to 0" --model mixed-normal --free-sigma --columns x "$TMP/one.csv"
expect "three-coin N = 1" 0 "" --model three-coin --trace none --result - "$TMP/one_toss.csv"
no_nan "three-coin N = 1"

finish
