#!/bin/sh
# The speed benchmark of issue 5: emfit's gmm against scikit-learn and VLFeat
# on generated data, from the same start, with one table at the end.
#
#   sh tests/bench/run.sh [--small] [--rows N] [--iters N] [--repeat R]
#                         [--no-install] [--keep]
#
# --small is N = 100000 rows instead of 1000000; --iters changes the 20
# iterations; --repeat R runs every timed fit R times and keeps the fastest
# (default 1); --no-install never calls apt-get; --keep leaves the data and
# every tool's output in the temporary directory (its path is printed).
# EMFIT_BENCH_BUILD overrides the build directory (default build-bench/ in
# the checkout, which .gitignore covers).  See tests/bench/README.md.
#
# GFLOP/s counts the useful floating-point work of one iteration (E-step
# plus M-step, a multiply-add counted as 2 flops; exp and log not counted),
# the same count for every tool:
#   full:      N K (2 D^2 + 8 D)   E: x - mu, a triangular solve through the
#              Cholesky factor (D^2 + D), its squared norm; M: r x and the
#              upper triangle of r x x^T (D^2 + D), and r itself
#   diag:      N K 8 D             E: (x - mu)^2 / var as two multiply-adds
#              per coordinate; M: r x and r x^2
#   spherical: N K 4 D             E: x . mu (|x|^2 once per row, not per
#              component); M: r x
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/tests/bench
BUILD=${EMFIT_BENCH_BUILD:-$ROOT/build-bench}
PY=/usr/bin/python3
ROWS=1000000
ITERS=20
REPEAT=1
REG=1e-6
INSTALL=1
KEEP=0

while [ $# -gt 0 ]; do
    case $1 in
    --small) ROWS=100000 ;;
    --rows) ROWS=$2; shift ;;
    --iters) ITERS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case $ROWS$ITERS$REPEAT in
*[!0-9]*) echo "run.sh: --rows, --iters and --repeat take positive integers" >&2; exit 2 ;;
esac
if [ "$ITERS" -lt 2 ] || [ "$REPEAT" -lt 1 ] || [ "$ROWS" -lt 100 ]; then
    echo "run.sh: --iters must be at least 2, --repeat 1 and --rows 100" >&2
    exit 2
fi

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/emfit-bench.XXXXXX") || die "no temporary directory"
if [ "$KEEP" = 1 ]; then
    say "run.sh: keeping everything in $TMP"
else
    trap 'rm -rf "$TMP"' EXIT
fi
trap 'exit 130' INT TERM

# ---- peers and tools -------------------------------------------------------

can_apt() { [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
    can_apt || return 1
    say "run.sh: installing $*"
    if [ ! -e "$TMP/apt-updated" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$TMP/apt.log" 2>&1
        : >"$TMP/apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$TMP/apt.log" 2>&1
}

MULTIARCH=$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIBDIR=/usr/lib/$MULTIARCH
REF_BLAS=$LIBDIR/blas:$LIBDIR/lapack
OPENBLAS=$LIBDIR/openblas-pthread

have_cc() { command -v cmake >/dev/null && command -v cc >/dev/null; }
have_sklearn() { "$PY" -c 'import sklearn' 2>/dev/null; }
have_openblas() { [ -e "$OPENBLAS/libblas.so.3" ]; }
have_refblas() { [ -e "$LIBDIR/blas/libblas.so.3" ]; }
have_vlfeat() { [ -e /usr/include/vl/gmm.h ]; }
have_time() { [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; }

have_cc || apt_install cmake gcc || true
have_cc || die "needs cmake and a C compiler (apt-get install -y cmake gcc)"

missing=""
have_sklearn || missing="$missing python3-sklearn"
have_openblas || missing="$missing libopenblas0-pthread"
have_vlfeat || missing="$missing libvlfeat-dev"
have_time || missing="$missing time"
# One at a time, so that a package this system lacks does not stop the others.
for pkg in $missing; do
    apt_install "$pkg" || say "run.sh: could not install $pkg"
done

PEERS=""
if have_sklearn; then
    have_refblas && PEERS="$PEERS sklearn-ref"
    have_openblas && PEERS="$PEERS sklearn-openblas"
    have_refblas || say "run.sh: the reference BLAS ($LIBDIR/blas) is missing: no scikit-learn row with it"
    have_openblas || say "run.sh: OpenBLAS is unavailable (apt-get install libopenblas0-pthread): no scikit-learn row with it"
else
    say "run.sh: scikit-learn is unavailable (apt-get install python3-sklearn): no scikit-learn rows"
fi
have_vlfeat || say "run.sh: VLFeat is unavailable (apt-get install libvlfeat-dev): no VLFeat row"
if have_time; then GNU_TIME=/usr/bin/time; else
    GNU_TIME=""
    say "run.sh: GNU time is unavailable (apt-get install time): no peak memory"
fi

# ---- build -----------------------------------------------------------------

say "run.sh: building emfit (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DEMFIT_BUILD_TESTS=OFF \
    >"$TMP/cmake.log" 2>&1 &&
    cmake --build "$BUILD" -j2 >>"$TMP/cmake.log" 2>&1 ||
    { cat "$TMP/cmake.log" >&2; die "the emfit build failed"; }
EMFIT=$BUILD/emfit
TOOLS=$BUILD/bench
mkdir -p "$TOOLS"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -pedantic"
LIB="$BUILD/libemfit.a -lm -lpthread"
# shellcheck disable=SC2086
{
    cc $CFLAGS -I"$ROOT/src" -o "$TOOLS/gen" "$BENCH/gen.c" \
        "$ROOT/src/core/rng.c" -lm &&
        cc $CFLAGS -I"$ROOT/include" -o "$TOOLS/bench_csv" "$BENCH/bench_csv.c" $LIB &&
        cc $CFLAGS -march=native -o "$TOOLS/peak" "$BENCH/peak.c" -lpthread -lm
} || die "the benchmark tools do not compile"
VLFEAT=""
if have_vlfeat; then
    # shellcheck disable=SC2086
    if cc $CFLAGS -I"$ROOT/include" -o "$TOOLS/vlfeat_fit" "$BENCH/vlfeat_fit.c" \
        $BUILD/libemfit.a -lvl -lm -lpthread; then
        VLFEAT=$TOOLS/vlfeat_fit
    else
        say "run.sh: vlfeat_fit does not compile: no VLFeat row"
    fi
fi

# ---- helpers ---------------------------------------------------------------

CORES=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)

# run NAME CMD...: runs CMD with stdout in $TMP/NAME.out and stderr in
# $TMP/NAME.err; sets WALL (seconds) and RSS (MB of 10^6 bytes, or "-").
run() {
    name=$1
    shift
    t0=$(date +%s%N)
    if [ -n "$GNU_TIME" ]; then
        "$GNU_TIME" -f %M -o "$TMP/$name.rss" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    else
        "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    fi
    status=$?
    t1=$(date +%s%N)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
    RSS=-
    if [ -n "$GNU_TIME" ]; then
        RSS=$(awk '/^[0-9]+$/ { printf "%.0f", $1 * 1024 / 1e6 }' "$TMP/$name.rss")
    fi
    if [ "$status" != 0 ]; then
        say "run.sh: $name failed (status $status):"
        tail -n 5 "$TMP/$name.err" >&2
    fi
    return "$status"
}

# fastest NAME CMD...: run() REPEAT times, keeping the fastest run's WALL,
# RSS and output files.
fastest() {
    fname=$1
    shift
    try=0 best=""
    while [ "$try" -lt "$REPEAT" ]; do
        try=$((try + 1))
        run "$fname.try" "$@" || return 1
        if [ -z "$best" ] || awk -v a="$WALL" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$WALL bestrss=$RSS
            for ext in out err rss; do
                [ ! -e "$TMP/$fname.try.$ext" ] || mv "$TMP/$fname.try.$ext" "$TMP/$fname.$ext"
            done
        fi
    done
    rm -f "$TMP/$fname.try.out" "$TMP/$fname.try.err" "$TMP/$fname.try.rss"
    WALL=$best RSS=$bestrss
}

# key FILE KEY: the value of a "key value" line.
key() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# flops COV D K: floating-point operations of one iteration (see the top).
flops() {
    awk -v n="$ROWS" -v cov="$1" -v d="$2" -v k="$3" 'BEGIN {
        if (cov == "full") f = 2 * d * d + 8 * d
        else if (cov == "diag") f = 8 * d
        else f = 4 * d
        printf "%.0f", n * k * f }'
}

ROWSFILE=$TMP/rows.tsv
: >"$ROWSFILE"
# row CASE TOOL THREADS S_PER_ITER FLOPS PARSE_MBPS RSS LOGLIK
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWSFILE"; }

result_loglik() { sed -n 's/^  "loglik": \(.*\),$/\1/p' "$1"; }

# ---- the machine -----------------------------------------------------------

say "run.sh: measuring peak FMA throughput"
"$TOOLS/peak" >"$TMP/peak.out" || die "peak failed"
PEAK1=$(key "$TMP/peak.out" peak_gflops_1)
PEAKALL=$(key "$TMP/peak.out" peak_gflops_all)
SIMD=$(key "$TMP/peak.out" simd)

# ---- data ------------------------------------------------------------------

say "run.sh: generating $ROWS rows (D=8 K=8, and D=32 K=16) in $TMP"
"$TOOLS/gen" --rows "$ROWS" --dims 8 --components 8 --seed 1 --output "$TMP/d8.csv" &&
    "$TOOLS/gen" --rows "$ROWS" --dims 32 --components 16 --seed 2 --output "$TMP/d32.csv" ||
    die "gen failed"
for f in d8 d32; do
    run "csv-$f" "$TOOLS/bench_csv" "$TMP/$f.csv" 3 || die "bench_csv failed on $f.csv"
    if [ "$(key "$TMP/csv-$f.out" bit_mismatches)" != 0 ]; then
        say "run.sh: emfit's CSV reader and strtod disagree on $f.csv"
    fi
    case " $PEERS " in
    *" sklearn-"*) "$PY" "$BENCH/sklearn_fit.py" --convert "$TMP/$f.csv" ||
        die "numpy cannot read $f.csv" ;;
    esac
done

# ---- the cases -------------------------------------------------------------

# bench_case ID NAME COV FILE D K: ID names the case's files, NAME its rows.
bench_case() {
    id=$1 cname=$2 cov=$3 file=$4 d=$5 k=$6
    f=$(flops "$cov" "$d" "$k")
    parse=$(key "$TMP/csv-$(basename "$file" .csv).out" emfit_csv_mbps)
    say "run.sh: case $cname: emfit start"
    start=$TMP/$id-start.json
    run "$id-start" "$EMFIT" --model gmm -k "$k" --cov "$cov" --reg "$REG" \
        --max-iter 0 --trace none --result "$start" "$file" || return 0
    for th in 1 "$CORES"; do
        say "run.sh: case $cname: emfit, $th thread(s)"
        common="--model gmm -k $k --cov $cov --reg $REG --init params --init-params $start --tol 0 --trace none --threads $th"
        # shellcheck disable=SC2086
        fastest "$id-emfit$th-0" "$EMFIT" $common --max-iter 0 \
            --result "$TMP/$id-emfit$th-0.json" "$file" || continue
        w0=$WALL
        # shellcheck disable=SC2086
        fastest "$id-emfit$th" "$EMFIT" $common --max-iter "$ITERS" \
            --result "$TMP/$id-emfit$th.json" "$file" || continue
        s=$(awk -v a="$WALL" -v b="$w0" -v n="$ITERS" 'BEGIN { printf "%.6f", (a - b) / n }')
        row "$cname" emfit "$th" "$s" "$f" "$parse" "$RSS" \
            "$(result_loglik "$TMP/$id-emfit$th.json")"
        [ "$CORES" = 1 ] && break
    done
    for peer in $PEERS; do
        case $peer in
        sklearn-ref) lib=$REF_BLAS label="sklearn (ref BLAS)" ;;
        *) lib=$OPENBLAS label="sklearn (OpenBLAS)" ;;
        esac
        say "run.sh: case $cname: $label"
        fastest "$id-$peer" env LD_LIBRARY_PATH="$lib" "$PY" "$BENCH/sklearn_fit.py" \
            "$file" "$start" "$cov" "$ITERS" "$REG" || continue
        o=$TMP/$id-$peer.out
        [ "$(key "$o" iterations)" = "$ITERS" ] ||
            say "run.sh: $label ran $(key "$o" iterations) iterations, not $ITERS"
        row "$cname" "$label" "$(key "$o" threads)" "$(key "$o" s_per_iter)" "$f" - \
            "$RSS" "$(key "$o" loglik)"
    done
    if [ "$cov" = diag ] && [ -n "$VLFEAT" ]; then
        for th in 1 0; do
            say "run.sh: case $cname: VLFeat, $th thread(s) (0: its default)"
            fastest "$id-vlfeat$th" "$VLFEAT" "$file" "$start" "$ITERS" "$th" "$REG" || continue
            o=$TMP/$id-vlfeat$th.out
            [ "$(key "$o" iterations)" = "$ITERS" ] ||
                say "run.sh: VLFeat stopped after $(key "$o" iterations) iterations (its own rule)"
            row "$cname" VLFeat "$(key "$o" threads)" "$(key "$o" s_per_iter)" "$f" - \
                "$RSS" "$(key "$o" loglik)"
        done
    fi
}

bench_case full "full D=8 K=8" full "$TMP/d8.csv" 8 8
bench_case diag "diag D=32 K=16" diag "$TMP/d32.csv" 32 16
bench_case spherical "spherical D=32 K=16" spherical "$TMP/d32.csv" 32 16

# ---- the table -------------------------------------------------------------

echo
echo "N = $ROWS rows, $ITERS iterations from emfit's start, reg $REG; $CORES cores; fastest of $REPEAT"
echo "peak ($SIMD FMA loop): $PEAK1 GFLOP/s on 1 core, $PEAKALL GFLOP/s on $CORES"
echo "CSV parsing, best of 3: $(key "$TMP/csv-d8.out" emfit_csv_mbps) MB/s for the D=8 file" \
    "(strtod alone: $(key "$TMP/csv-d8.out" strtod_mbps) MB/s;" \
    "$(key "$TMP/csv-d8.out" bit_mismatches) values differ from strtod; target 400 MB/s)"
echo
awk -F '\t' -v rows="$ROWS" '
    function abs(x) { return x < 0 ? -x : x }
    {
        n++
        c[n] = $1; t[n] = $2; th[n] = $3; s[n] = $4; f[n] = $5
        p[n] = $6; m[n] = $7; l[n] = $8
        if ($2 == "emfit") ref[$1] = $8
    }
    END {
        fmt = "%-20s %-19s %7s %9s %8s %8s %9s %22s %9s\n"
        printf fmt, "case", "tool", "threads", "s/iter", "GFLOP/s", "parse",
               "peak RSS", "final loglik", "rel diff"
        printf fmt, "", "", "", "", "", "MB/s", "MB", "", "to emfit"
        for (i = 1; i <= n; i++) {
            gf = s[i] > 0 ? sprintf("%.2f", f[i] / s[i] / 1e9) : "-"
            rd = "-"
            if (c[i] in ref && l[i] != "")
                rd = sprintf("%.1e", abs(l[i] - ref[c[i]]) / abs(ref[c[i]]))
            printf fmt, c[i], t[i], th[i], sprintf("%.4f", s[i]), gf, p[i],
                   m[i], sprintf("%.10f", l[i]), rd
        }
    }' "$ROWSFILE"

echo
awk -F '\t' -v cores="$CORES" '
    $2 == "emfit" && $3 == cores { e[$1] = $4; order[++n] = $1 }
    $2 ~ /^sklearn/ { if (!($1 in sk) || $4 < sk[$1]) { sk[$1] = $4; skt[$1] = $2 } }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            if (k in sk && e[k] > 0)
                printf "%s: emfit (%d threads) is %.1fx faster per iteration than the faster %s (target: 10x)\n",
                       k, cores, sk[k] / e[k], skt[k]
        }
    }' "$ROWSFILE"
awk -F '\t' -v rows="$ROWS" '
    $2 == "emfit" && $7 != "-" {
        d = ($1 ~ /D=8 /) ? 8 : 32
        data = rows * d * 8 / 1e6
        if (!($1 in seen)) printf "%s: emfit peak RSS %s MB = %.2f x the data (%.0f MB of doubles; target about 1.3x)\n", $1, $7, $7 / data, data
        seen[$1] = 1
    }' "$ROWSFILE"
