#!/bin/sh
# The streaming benchmark: a gmm fit of a file whose binary cache is several
# times the memory the process may use, in a memory-limited cgroup, against
# the same fit held in memory.  See tests/bench/README.md, "Streaming".
#
#   sh tests/bench/stream.sh [--small] [--limit MiB] [--rows N] [--iters N]
#                            [--no-install] [--keep]
#
# --limit is the cgroup's memory limit (default 256 MiB); --rows the sample
# size (default: enough rows for a cache 5 times the limit, 20971520 at
# 256 MiB); --iters the timed iterations (default 20); --small is --limit 32
# with its default rows, 1/8 of the full run; --no-install never calls
# apt-get (GNU time gives peak RSS, faults and disk reads); --keep leaves
# the data, the cache and every run's output in the temporary directory
# (its path is printed).  EMFIT_BENCH_BUILD overrides the build directory
# (default build-bench/ in the checkout).
#
# Needs root and a memory cgroup it can create groups in: cgroup v1's memory
# controller, else cgroup v2 with the memory controller.  Without one it
# prints a SKIP line and exits 0.  It exits non-zero when a streamed run
# fails or its result differs from the in-memory fit's, or when the
# benchmark itself cannot run; the in-memory fit under the limit is
# expected to fail and is only reported.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/tests/bench
BUILD=${EMFIT_BENCH_BUILD:-$ROOT/build-bench}
LIMIT=256
ROWS=""
ITERS=20
INSTALL=1
KEEP=0
D=8
K=4
DIGITS=17

while [ $# -gt 0 ]; do
    case $1 in
    --small) LIMIT=32 ;;
    --limit) LIMIT=${2-}; shift ;;
    --rows) ROWS=${2-}; shift ;;
    --iters) ITERS=${2-}; shift ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "stream.sh: unknown option $1" >&2; exit 2 ;;
    esac
    [ $# -gt 0 ] && shift
done
# Five times the limit, in rows of D doubles.
[ -n "$ROWS" ] || ROWS=$((5 * ${LIMIT:-0} * 1048576 / (8 * D)))
case "$LIMIT.$ROWS.$ITERS" in
*[!0-9.]* | .* | *..* | *.) echo "stream.sh: --limit, --rows and --iters take positive integers" >&2; exit 2 ;;
esac
if [ "$LIMIT" -lt 8 ] || [ "$ROWS" -lt 1000 ] || [ "$ITERS" -lt 1 ]; then
    echo "stream.sh: --limit must be at least 8 (MiB), --rows 1000 and --iters 1" >&2
    exit 2
fi
LIMIT_BYTES=$((LIMIT * 1048576))

say() { printf '%s\n' "$*" >&2; }
die() { say "stream.sh: $*"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/emfit-stream.XXXXXX") || die "no temporary directory"
GROUPS_MADE=""
POLLER=""

cleanup() {
    [ -z "$POLLER" ] || { kill "$POLLER" 2>/dev/null; wait "$POLLER" 2>/dev/null; }
    for g in $GROUPS_MADE; do
        cg_remove "$g"
    done
    if [ "$KEEP" = 1 ]; then
        say "stream.sh: kept the data, the cache and every run's output in $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the memory cgroup -----------------------------------------------------
#
# A fresh group per run, so that its peak is that run's and the file pages
# it charged leave with it.  v1 names: memory.limit_in_bytes,
# memory.max_usage_in_bytes, memory.oom_control; v2: memory.max,
# memory.peak, memory.events.

CG_KIND=""
CG_PARENT=""

# cg_find_v1: the memory hierarchy's directory of this shell's own group
# (or its root when that is not visible), if it can hold a child group.
cg_find_v1() {
    mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
    [ -n "$mnt" ] && [ -w "$mnt" ] || return 1
    own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3; exit }' /proc/self/cgroup)
    if [ -n "$own" ] && [ -d "$mnt$own" ] && [ -w "$mnt$own" ]; then
        CG_PARENT=$mnt$own
    else
        CG_PARENT=$mnt
    fi
    CG_KIND=v1
}

# cg_find_v2: the root of the unified hierarchy, with the memory controller
# enabled for its children.  The root is the one group that may hold
# processes and still hand controllers down; below it, the no-internal-
# processes rule would have us leave our own group first.
cg_find_v2() {
    for mnt in $(awk '$3 == "cgroup2" { print $2 }' /proc/mounts); do
        [ -w "$mnt" ] && grep -qw memory "$mnt/cgroup.controllers" 2>/dev/null || continue
        grep -qw memory "$mnt/cgroup.subtree_control" ||
            echo +memory >"$mnt/cgroup.subtree_control" 2>/dev/null || continue
        CG_PARENT=$mnt CG_KIND=v2
        return 0
    done
    return 1
}

# cg_make NAME LIMIT_BYTES|max: creates a group, its directory in CG_DIR.
cg_make() {
    CG_DIR=$CG_PARENT/emfit-stream-$$-$1
    dir=$CG_DIR
    mkdir "$dir" 2>/dev/null || return 1
    GROUPS_MADE="$GROUPS_MADE $dir"
    [ "$2" = max ] && return 0
    if [ "$CG_KIND" = v1 ]; then
        echo "$2" >"$dir/memory.limit_in_bytes" || return 1
        # With swap, anonymous memory could leave through it: limit both.
        [ ! -e "$dir/memory.memsw.limit_in_bytes" ] ||
            echo "$2" >"$dir/memory.memsw.limit_in_bytes" 2>/dev/null || true
    else
        echo "$2" >"$dir/memory.max" || return 1
        [ ! -e "$dir/memory.swap.max" ] || echo 0 >"$dir/memory.swap.max" 2>/dev/null || true
    fi
}

# cg_forget DIR: removes a group and drops it from GROUPS_MADE.
cg_forget() {
    cg_remove "$1"
    GROUPS_MADE=$(printf '%s\n' $GROUPS_MADE | grep -vxF "$1")
}

# cg_remove DIR: removes a group, first ending any process of ours still in
# it (after an interrupt); the kernel may take a moment to let go of it.
cg_remove() {
    [ -d "$1" ] || return 0
    for p in $(cat "$1/cgroup.procs" 2>/dev/null); do
        kill -9 "$p" 2>/dev/null
    done
    tries=0
    while ! rmdir "$1" 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -lt 20 ] || { say "stream.sh: could not remove the cgroup $1"; return 1; }
        sleep 0.1
    done
}

# cg_peak DIR: the group's peak charge in bytes (anonymous memory plus the
# page cache charged to it), or "-".
cg_peak() {
    f=$1/memory.max_usage_in_bytes
    [ "$CG_KIND" = v1 ] || f=$1/memory.peak
    cat "$f" 2>/dev/null || echo -
}

# cg_oom_kills DIR: how many processes the OOM killer ended in the group.
cg_oom_kills() {
    f=$1/memory.oom_control
    [ "$CG_KIND" = v1 ] || f=$1/memory.events
    awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print "?" }' "$f" 2>/dev/null
}

cg_find_v1 || cg_find_v2 || {
    echo "SKIP: stream.sh needs a writable memory cgroup (v1 memory controller, or v2 with memory), as root"
    exit 0
}
cg_make probe "$LIMIT_BYTES" && sh -c 'echo $$ >"$1/cgroup.procs"' sh "$CG_DIR" 2>/dev/null || {
    echo "SKIP: stream.sh cannot create a memory-limited cgroup under $CG_PARENT ($CG_KIND)"
    exit 0
}
cg_forget "$CG_DIR"
say "stream.sh: memory cgroup $CG_KIND under $CG_PARENT"

# ---- tools -----------------------------------------------------------------

can_apt() { [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
have_time() { [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; }
have_cc() { command -v cmake >/dev/null && command -v cc >/dev/null; }

apt_install() {
    can_apt || return 1
    say "stream.sh: installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$TMP/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$TMP/apt.log" 2>&1
}

have_cc || apt_install cmake gcc || true
have_cc || die "needs cmake and a C compiler (apt-get install -y cmake gcc)"
have_time || apt_install time || true
if have_time; then GNU_TIME=/usr/bin/time; else
    GNU_TIME=""
    say "stream.sh: GNU time is unavailable (apt-get install time): no peak RSS, faults or disk reads"
fi

say "stream.sh: building emfit (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DEMFIT_BUILD_TESTS=OFF \
    >"$TMP/cmake.log" 2>&1 &&
    cmake --build "$BUILD" --target emfit_cli -j2 >>"$TMP/cmake.log" 2>&1 ||
    { cat "$TMP/cmake.log" >&2; die "the emfit build failed"; }
EMFIT=$BUILD/emfit
mkdir -p "$BUILD/bench"
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -pedantic \
    -I"$ROOT/src" -o "$BUILD/bench/gen" "$BENCH/gen.c" "$ROOT/src/core/rng.c" \
    -lm || die "gen does not compile"

# ---- data ------------------------------------------------------------------

CSV=$TMP/gmm.csv
CACHE=$TMP/gmm.cache
say "stream.sh: generating $ROWS rows (D=$D K=$K, $DIGITS digits) in $TMP"
"$BUILD/bench/gen" --rows "$ROWS" --dims "$D" --components "$K" --seed 1 \
    --digits "$DIGITS" --output "$CSV" || die "gen failed"

# ---- one run ---------------------------------------------------------------

# evict FILE...: drops the files' pages from the page cache (after writing
# back any dirty ones), so that every run starts cold and reads what it
# needs from the disk, charged to its own group.  Without this the pages
# would stay charged to whichever group first read them, and a later run
# would find them resident whatever its limit.
evict() {
    for f in "$@"; do
        [ -e "$f" ] || continue
        sync "$f" 2>/dev/null
        dd if="$f" iflag=nocache count=0 2>/dev/null ||
            say "stream.sh: could not drop $f from the page cache: the next run may not start cold"
    done
}

# poll PIDFILE OUT: once PIDFILE names the process, samples its RssAnon and
# RssFile (kB) every 0.1 s while it lives and keeps the peaks in OUT as
# "anon file".  The shell's read builtin costs no process per sample.
poll() {
    p=""
    while [ -z "$p" ]; do
        sleep 0.02
        [ ! -s "$1" ] || read -r p <"$1"
    done
    amax=0 fmax=0
    echo "$amax $fmax" >"$2"
    while [ -r "/proc/$p/status" ]; do
        a=0 f=0
        while read -r key val _; do
            case $key in
            RssAnon:) a=$val ;;
            RssFile:) f=$val ;;
            esac
        done <"/proc/$p/status" 2>/dev/null
        if [ "$a" -gt "$amax" ] || [ "$f" -gt "$fmax" ]; then
            [ "$a" -gt "$amax" ] && amax=$a
            [ "$f" -gt "$fmax" ] && fmax=$f
            echo "$amax $fmax" >"$2"
        fi
        sleep 0.1
    done
}

# measure NAME LIMIT_BYTES|max ITERS [EMFIT OPTION...]: one fit of $CSV in
# a fresh group, from a cold page cache.  Writes $TMP/NAME.rec:
#   status wall_s rss_kB majflt read_blocks write_blocks anon_kB file_kB
#   cgroup_peak_B oom_kills
# (GNU time's blocks are 512 bytes; "-" where a figure is unavailable).
measure() {
    name=$1 limit=$2 iters=$3
    shift 3
    evict "$CSV" "$CACHE"
    cg_make "$name" "$limit" || die "cannot create the cgroup for $name"
    grp=$CG_DIR
    pidf=$TMP/$name.pid
    rm -f "$pidf" "$TMP/$name.mem" "$TMP/$name.time"
    poll "$pidf" "$TMP/$name.mem" &
    POLLER=$!
    set -- "$EMFIT" --model gmm -k "$K" --cov full --seed 1 --threads 2 --trace none \
        --max-iter "$iters" --tol 0 --result "$TMP/$name.json" "$@" "$CSV"
    # The inner shell joins the group, names itself and becomes emfit, so
    # the group holds emfit alone and PIDFILE is emfit's pid.
    join='echo $$ >"$1/cgroup.procs" || exit 125; echo $$ >"$2"; shift 2; exec "$@"'
    t0=$(date +%s%N)
    if [ -n "$GNU_TIME" ]; then
        "$GNU_TIME" -f '%M %F %I %O' -o "$TMP/$name.time" \
            sh -c "$join" sh "$grp" "$pidf" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    else
        sh -c "$join" sh "$grp" "$pidf" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    fi
    status=$?
    t1=$(date +%s%N)
    kill "$POLLER" 2>/dev/null
    wait "$POLLER" 2>/dev/null
    POLLER=""
    [ -s "$TMP/$name.mem" ] || echo "- -" >"$TMP/$name.mem"
    timed="- - - -"
    [ ! -s "$TMP/$name.time" ] || timed=$(tail -n 1 "$TMP/$name.time")
    echo "$status $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" \
        "$timed $(cat "$TMP/$name.mem") $(cg_peak "$grp") $(cg_oom_kills "$grp")" >"$TMP/$name.rec"
    cg_forget "$grp"
    say "stream.sh: $name: $(cat "$TMP/$name.rec")"
    return "$status"
}

# ---- the runs --------------------------------------------------------------

FAILED=0
stream_ok() {
    measure "$@" && return 0
    say "stream.sh: FAIL: the streamed run $1 failed (status $status):"
    tail -n 5 "$TMP/$1.err" >&2
    FAILED=1
    return 1
}

say "stream.sh: (a) --cache, building it: --max-iter 0, then $ITERS"
rm -f "$CACHE"
stream_ok a0 "$LIMIT_BYTES" 0 --cache "$CACHE"
rm -f "$CACHE"
stream_ok aN "$LIMIT_BYTES" "$ITERS" --cache "$CACHE"
say "stream.sh: (b) --cache, reusing it"
stream_ok b0 "$LIMIT_BYTES" 0 --cache "$CACHE"
stream_ok bN "$LIMIT_BYTES" "$ITERS" --cache "$CACHE"
for r in b0 bN; do
    grep -q "up to date" "$TMP/$r.err" 2>/dev/null ||
        say "stream.sh: $r did not say it reused the cache"
done
say "stream.sh: (c) in memory, no limit"
measure c0 max 0 || die "the in-memory fit failed: $(tail -n 1 "$TMP/c0.err")"
measure cN max "$ITERS" || die "the in-memory fit failed: $(tail -n 1 "$TMP/cN.err")"
say "stream.sh: (d) in memory, under the limit (expected to fail)"
measure dN "$LIMIT_BYTES" "$ITERS"

CSV_BYTES=$(wc -c <"$CSV" | tr -d ' ')
CACHE_BYTES=-
[ ! -e "$CACHE" ] || CACHE_BYTES=$(wc -c <"$CACHE" | tr -d ' ')

# ---- the table -------------------------------------------------------------

echo
echo "gmm, D = $D, K = $K, --cov full, $ITERS iterations (--tol 0), --threads 2;" \
    "values printed with $DIGITS digits"
awk -v rows="$ROWS" -v csv="$CSV_BYTES" -v cache="$CACHE_BYTES" -v lim="$LIMIT" \
    -v kind="$CG_KIND" 'BEGIN {
    printf "rows %s, CSV %s bytes, cache %s bytes", rows, csv, cache
    if (cache != "-") printf " (%.2f x the limit)", cache / (lim * 1048576)
    printf ", limit %d MiB (cgroup %s)\n", lim, kind
}'
echo
for r in a b c; do
    printf '%s ' "$r" "$(cat "$TMP/${r}0.rec")" "$(cat "$TMP/${r}N.rec")"
    echo
done >"$TMP/table.in"
printf 'd - - - - - - - - - - %s\n' "$(cat "$TMP/dN.rec")" >>"$TMP/table.in"
awk -v iters="$ITERS" '
    function mib(x, scale) {
        if (x == "-") return "-"
        x = x * scale / 1048576
        return sprintf("%.0f", x > -0.5 && x < 0.5 ? 0 : x)
    }
    BEGIN {
        name["a"] = "(a) streamed, building the cache"
        name["b"] = "(b) streamed, reusing the cache"
        name["c"] = "(c) in memory, no limit"
        name["d"] = "(d) in memory, under the limit"
        fmt = "%-34s %7s %7s %7s %8s %8s %9s %9s %9s %9s %8s\n"
        printf fmt, "", "setup", "setup", "setup", "time per", "peak RSS", "peak anon",
               "peak file", "cgroup", "disk read", "major"
        printf fmt, "run", "s", "read", "write", "iter s", "MiB", "MiB", "MiB",
               "peak MiB", "MiB/iter", "faults"
        printf fmt, "", "", "MiB", "MiB", "", "", "", "", "", "", ""
    }
    {
        # Fields: tag, then the --max-iter 0 record (2-11), then the
        # --max-iter ITERS record (12-21); see measure().
        ok0 = $2 == 0; okn = $12 == 0
        setup = ok0 ? sprintf("%.2f", $3) : "-"
        per = ok0 && okn ? sprintf("%.3f", ($13 - $3) / iters) : "-"
        rd = ok0 && okn && $16 != "-" ? mib(($16 - $6) / iters, 512) : "-"
        printf fmt, name[$1], setup, ok0 ? mib($6, 512) : "-", ok0 ? mib($7, 512) : "-",
               per, mib($14, 1024), mib($18, 1024), mib($19, 1024), mib($20, 1), rd, $15
        if (!okn) {
            how = $12 > 128 ? "killed by signal " ($12 - 128) : "failed"
            printf "    %s: exit status %d, %s; OOM kills in its cgroup: %s\n",
                   substr(name[$1], 1, 3), $12, how, $21
        }
    }' "$TMP/table.in"
echo
echo "setup: the --max-iter 0 run (parse or map, start, first E-step), its wall time and"
echo "its disk reads and writes (GNU time's block counts); time per iter and disk read per"
echo "iter: (the --max-iter $ITERS run - setup) / $ITERS; the other columns are the --max-iter"
echo "$ITERS run's; peak anon/file: the largest RssAnon/RssFile sampled every 0.1 s"
echo

# ---- same answer -----------------------------------------------------------

for r in aN bN; do
    [ -e "$TMP/$r.json" ] || continue
    if cmp -s "$TMP/$r.json" "$TMP/cN.json"; then
        echo "result of $r (streamed) and cN (in memory): identical"
    else
        echo "FAIL: the result of $r (streamed) differs from cN (in memory)"
        FAILED=1
    fi
done
[ -e "$TMP/aN.json" ] && [ -e "$TMP/bN.json" ] || FAILED=1
exit "$FAILED"
