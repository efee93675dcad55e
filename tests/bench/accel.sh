#!/bin/sh
# The acceleration benchmark of issue 8: E-steps and wall time for plain EM
# and --accel squarem to reach the same log-likelihood, on slow fits.
#
#   sh tests/bench/accel.sh [--rows N] [--repeat R] [--keep]
#
# Not a test: timing never passes or fails anything.  Needs cmake, a C
# compiler and python3 (which generates the data, with random.Random, so
# the files are the same on every machine).  EMFIT_BENCH_BUILD overrides
# the build directory (default build-bench/ in the checkout).
#
# For each case:
#   1. both methods fit to --tol 1e-15; the target is the higher of the two
#      final log-likelihoods, l*;
#   2. in each method's trace, the first row with l* - l <= 1e-8 |l*| gives
#      the iterations and E-steps it needs (plain EM: iterations + 1; with
#      squarem: the esteps column);
#   3. the wall time is that of a run stopped there (--max-iter, --tol 0,
#      --trace none, --threads 1), the fastest of R runs; it includes
#      reading the file and starting the process, which a --max-iter 0 run
#      shows.
# When the two methods end at different maxima (more than 1e-8 apart),
# the row says so: SQUAREM takes other paths than EM and may, from the
# same start, climb to another local maximum.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${EMFIT_BENCH_BUILD:-$ROOT/build-bench}
ROWS=2000
REPEAT=3
KEEP=0
while [ $# -gt 0 ]; do
    case $1 in
    --rows) ROWS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: sh tests/bench/accel.sh [--rows N] [--repeat R] [--keep]" >&2
       exit 2 ;;
    esac
done

command -v python3 >/dev/null 2>&1 || { echo "accel.sh: needs python3" >&2; exit 1; }
TMP=$(mktemp -d)
if [ "$KEEP" -eq 1 ]; then
    echo "keeping the data and traces in $TMP"
else
    trap 'rm -rf "$TMP"' EXIT
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DEMFIT_BUILD_TESTS=OFF >/dev/null &&
    cmake --build "$BUILD" --target emfit_cli -j2 >/dev/null || exit 1
EMFIT=$BUILD/emfit

# The data: bvn with 60% of y missing (correlation 0.3, so x says little
# about the missing values); two 2-D normals one standard deviation apart;
# the symmetric mixture with mu = 0.5 and sigma estimated; three coins of
# heads rates 0.6 and 0.4, five tosses a row.
python3 - "$TMP" "$ROWS" <<'EOF'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(2026)
with open(d + "/bvn60.csv", "w") as f:
    f.write("x,y\n")
    for _ in range(n):
        x = r.gauss(0, 1)
        y = 1 + 0.3 * x + 0.95 * r.gauss(0, 1)
        f.write("%.10g,%s\n" % (x, "NA" if r.random() < 0.6 else "%.10g" % y))
with open(d + "/overlap.csv", "w") as f:
    f.write("a,b\n")
    for _ in range(n):
        m = 1.0 if r.random() < 0.4 else 0.0
        a, b = r.gauss(0, 1), r.gauss(0, 1)
        f.write("%.10g,%.10g\n" % (m + a, 0.5 * m + 0.6 * a + 0.8 * b))
with open(d + "/mixed.csv", "w") as f:
    f.write("y\n")
    for _ in range(n):
        f.write("%.10g\n" % ((-0.5 if r.random() < 0.3 else 0.5) + r.gauss(0, 1)))
with open(d + "/coins.csv", "w") as f:
    f.write("t1,t2,t3,t4,t5\n")
    for _ in range(n):
        h = 0.6 if r.random() < 0.5 else 0.4
        f.write(",".join(str(int(r.random() < h)) for _ in range(5)) + "\n")
EOF

now_ms() { date +%s%N | awk '{ printf "%.1f", $1 / 1e6 }'; }

# fastest R wall times, in ms, of emfit ARGS...
time_ms() {
    best=
    i=0
    while [ "$i" -lt "$REPEAT" ]; do
        t0=$(now_ms)
        "$EMFIT" "$@" --trace none --threads 1 >/dev/null 2>&1
        t1=$(now_ms)
        best=$(awk -v a="$best" -v b="$t0" -v c="$t1" 'BEGIN { d = c - b; if (a == "" || d < a) a = d; printf "%.1f", a }')
        i=$((i + 1))
    done
    echo "$best"
}

printf '%-34s %-8s %7s %7s %9s %9s %22s\n' case method iters esteps wall_ms start_ms loglik
# bench NAME FILE ARGS...: the two methods on one case.
bench() {
    name=$1 file=$2
    shift 2
    for m in none squarem; do
        "$EMFIT" "$@" --accel "$m" --tol 1e-15 --max-iter 1000000 --trace csv \
            "$file" >"$TMP/$name.$m.csv" 2>/dev/null || { echo "$name: $m failed" >&2; return; }
    done
    lp=$(tail -1 "$TMP/$name.none.csv" | awk -F, '{ print $NF }')
    ls=$(tail -1 "$TMP/$name.squarem.csv" | awk -F, '{ print $NF }')
    target=$(awk -v a="$lp" -v b="$ls" 'BEGIN { printf "%.17g", (a > b ? a : b) }')
    apart=$(awk -v a="$lp" -v b="$ls" -v t="$target" 'BEGIN { d = a - b; if (d < 0) d = -d; m = t < 0 ? -t : t; print (d > 1e-8 * m) }')
    start=$(time_ms "$@" --max-iter 0 "$file")
    for m in none squarem; do
        # iterations and E-steps at the first row within 1e-8 of the target
        row=$(awk -F, -v t="$target" -v m="$m" 'NR > 1 {
                a = t < 0 ? -t : t
                if (t - $NF <= 1e-8 * a) { print $1, (m == "none" ? $1 + 1 : $2), $NF; exit }
            }' "$TMP/$name.$m.csv")
        if [ -z "$row" ]; then
            printf '%-34s %-8s   (ends at %s, another maximum)\n' "$name" "$m" \
                "$(tail -1 "$TMP/$name.$m.csv" | awk -F, '{ print $NF }')"
            continue
        fi
        it=${row%% *}
        rest=${row#* }
        es=${rest%% *}
        ll=${rest#* }
        wall=$(time_ms "$@" --accel "$m" --tol 0 --max-iter "$it" "$file")
        printf '%-34s %-8s %7s %7s %9s %9s %22s\n' "$name" "$m" "$it" "$es" "$wall" "$start" "$ll"
    done
    [ "$apart" -eq 1 ] && printf '%-34s the two methods end %s apart\n' "$name" \
        "$(awk -v a="$lp" -v b="$ls" 'BEGIN { printf "%.3g", a - b }')"
}

bench "bvn, y 60% missing, n=$ROWS" "$TMP/bvn60.csv" --model bvn
bench "gmm k=2 full, overlap, n=$ROWS" "$TMP/overlap.csv" --model gmm -k 2
bench "mixed-normal free sigma, n=$ROWS" "$TMP/mixed.csv" --model mixed-normal --free-sigma
bench "three-coin 5 tosses, n=$ROWS" "$TMP/coins.csv" --model three-coin
