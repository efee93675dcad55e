# mpirun -np 2 and -np 3 (more ranks than this machine's cores, hence
# --oversubscribe): every model that splits gives the same trace and
# result, byte for byte, as one process; errors are the one process's
# messages and statuses; what cannot be split says so.
# Usage: sh mpi_fit.sh path/to/emfit source-dir path/to/mpirun
# (registered only in a build configured with -DEMFIT_MPI=ON).
set -u
. "$(dirname "$0")/lib.sh"
MPIRUN=$3
# root in a container or CI: Open MPI refuses root unless told
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none

# 30000 rows of three clusters in three columns, 5% of values missing
# (4096-row E-step blocks: three ranks get whole blocks of their own).
awk 'BEGIN {
    s = 271828; print "x,y,z"
    for (i = 0; i < 30000; i++) {
        s = (s * 1103515245 + 12345) % 2147483648; c = s % 3
        line = ""
        for (j = 0; j < 3; j++) {
            s = (s * 1103515245 + 12345) % 2147483648; u = (s + 0.5) / 2147483648
            s = (s * 1103515245 + 12345) % 2147483648; v = (s + 0.5) / 2147483648
            z = sqrt(-2 * log(u)) * cos(6.283185307 * v)
            m = (c == 0 ? -2 + j : (c == 1 ? 3 - 2 * j : 1.5 * j))
            s = (s * 1103515245 + 12345) % 2147483648
            line = line (j ? "," : "") (s % 20 == 0 ? "" : sprintf("%.6f", m + z))
        }
        print line
    }
}' >"$TMP/big.csv"
# 20000 rows of four coin tosses; 20000 values of a symmetric mixture
awk 'BEGIN { s = 3; print "t1,t2,t3,t4"
    for (i = 0; i < 20000; i++) {
        s = (s * 1103515245 + 12345) % 2147483648; p = (s % 10 < 4) ? 0.8 : 0.3
        line = ""
        for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648
            line = line (j ? "," : "") ((s + 0.5) / 2147483648 < p ? 1 : 0) }
        print line } }' >"$TMP/coins.csv"
awk 'BEGIN { s = 5; print "y"
    for (i = 0; i < 20000; i++) {
        s = (s * 1103515245 + 12345) % 2147483648; u = (s + 0.5) / 2147483648
        s = (s * 1103515245 + 12345) % 2147483648; v = (s + 0.5) / 2147483648
        s = (s * 1103515245 + 12345) % 2147483648
        printf "%.6f\n", (s % 10 < 3 ? 1.5 : -1.5) + sqrt(-2 * log(u)) * cos(6.283185307 * v) } }' >"$TMP/mixed.csv"

# mpi NP ARGS...: runs emfit under mpirun, leaving out, err and status.
mpi() {
    np=$1
    shift
    status=0
    "$MPIRUN" --oversubscribe -np "$np" "$EMFIT" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
}

# same NAME NP ARGS...: trace and result as one process's, byte for byte.
same() {
    name=$1 np=$2
    shift 2
    expect "$name-one" 0 "" --quiet --trace csv --result "$TMP/one.json" "$@" || return
    mv "$TMP/out" "$TMP/one.trace"
    mpi "$np" --quiet --trace csv --result "$TMP/mpi.json" "$@"
    check "$name-np$np-status" '[ "$status" -eq 0 ]'
    check "$name-np$np-trace" 'cmp -s "$TMP/one.trace" "$TMP/out"'
    check "$name-np$np-result" 'cmp -s "$TMP/one.json" "$TMP/mpi.json"'
}

check mpi-build '"$EMFIT" --version | grep -q "(MPI)"'
same gmm-full 3 --model gmm -k 3 "$TMP/big.csv"
same gmm-full 2 --model gmm -k 3 "$TMP/big.csv"
same gmm-diag-random 3 --model gmm -k 3 --cov diag --init random --seed 4 "$TMP/big.csv"
same gmm-krange 3 --model gmm -k 1-3 --restarts 2 --cov spherical "$TMP/big.csv"
same gmm-se-squarem 2 --model gmm -k 2 --se --accel squarem --columns x,y "$TMP/big.csv"
same mvn 3 --model mvn "$TMP/big.csv"
same bvn 2 --model bvn --columns y,z "$TMP/big.csv"
same three-coin 3 --model three-coin "$TMP/coins.csv"
same mixed-normal 3 --model mixed-normal --free-sigma "$TMP/mixed.csv"
# fewer rows than ranks' blocks: the last rank holds them all
same small 3 --model gmm -k 2 "$DATA/faithful.csv"
check result-nobs 'grep -q "\"n\": 272," "$TMP/mpi.json"'

# --spread-starts: every rank reads all rows and fits its share of the
# starts; the search table, --verbose lines, result and per-row outputs are
# the one process's.
run --verbose --trace csv --result "$TMP/one.json" --labels "$TMP/one.labels" --model gmm -k 1-4 --restarts 3 --columns x,y "$TMP/big.csv"
check spread-one-status '[ "$status" -eq 0 ]'
mv "$TMP/out" "$TMP/one.trace"
mv "$TMP/err" "$TMP/one.err"
mpi 3 --verbose --spread-starts --trace csv --result "$TMP/mpi.json" --labels "$TMP/mpi.labels" --model gmm -k 1-4 --restarts 3 --columns x,y "$TMP/big.csv"
check spread-status '[ "$status" -eq 0 ]'
check spread-trace 'cmp -s "$TMP/one.trace" "$TMP/out"'
check spread-result 'cmp -s "$TMP/one.json" "$TMP/mpi.json"'
check spread-labels 'cmp -s "$TMP/one.labels" "$TMP/mpi.labels"'
check spread-verbose 'grep -q "k 4 start 3 (seed 3)" "$TMP/err" && cmp -s "$TMP/one.err" "$TMP/err"'
mpi 2 --spread-starts --trace none --result "$TMP/mpi.json" --model hmm -k 2 --restarts 3 "$DATA/regime_returns.csv"
expect spread-hmm-one 0 "" --quiet --trace none --result "$TMP/one.json" --model hmm -k 2 --restarts 3 "$DATA/regime_returns.csv"
check spread-hmm 'cmp -s "$TMP/one.json" "$TMP/mpi.json"'

# Errors: the one process's message and status, stdout empty.
# mpi_expect NAME STATUS FRAGMENT ARGS...
mpi_expect() {
    name=$1 want=$2 frag=$3
    shift 3
    mpi 3 "$@"
    check "$name-status" '[ "$status" -eq "$want" ]'
    check "$name-message" 'grep -qF -- "$frag" "$TMP/err"'
    check "$name-no-stdout" '[ ! -s "$TMP/out" ]'
}
cp "$TMP/big.csv" "$TMP/bad_end.csv" && echo "1,x,2" >>"$TMP/bad_end.csv"
mpi_expect bad-last-row 3 "bad_end.csv:30002:3: field 2 (\"y\"): \"x\" is not a number" --model gmm "$TMP/bad_end.csv"
{ head -15000 "$TMP/big.csv"; echo "1,2"; tail -n +15001 "$TMP/big.csv"; } >"$TMP/bad_mid.csv"
mpi_expect bad-middle-row 3 "bad_mid.csv:15001:1: row has 2 fields, the header has 3" --model gmm "$TMP/bad_mid.csv"
awk -F, 'NR == 1 { print; next } { print $1 ",5," $3 }' "$TMP/big.csv" >"$TMP/const.csv"
mpi_expect constant-column 5 "column \"y\" is constant" --model gmm --reg 0 "$TMP/const.csv"
awk -F, 'NR == 20000 { print $1 ",1e200," $3; next } { print }' "$TMP/big.csv" >"$TMP/large.csv"
mpi_expect too-large 5 "large.csv:20000: column \"y\": 1e+200 is too large" --model gmm "$TMP/large.csv"
awk -F, 'NR == 25000 { print $1 ",1e13," $3; next } { print }' "$TMP/big.csv" >"$TMP/far.csv"
mpi_expect too-far 5 "far.csv:25000: column \"y\": 1e+13 lies" --model mvn "$TMP/far.csv"
printf 'x,y\n' >"$TMP/header.csv"
mpi_expect header-only 3 "header.csv:2:1: no data rows after the header" --model gmm "$TMP/header.csv"
mpi_expect hmm-refused 2 "the hmm model cannot be split across MPI processes" --model hmm -k 2 "$TMP/big.csv"
mpi_expect labels-refused 2 "--labels needs every row in one process" --model gmm --labels "$TMP/l.csv" "$TMP/big.csv"
mpi_expect stdin-refused 2 "not standard input" --model gmm -
check labels-not-written '[ ! -e "$TMP/l.csv" ]'
# only rank 0 speaks, even before the options are read
mpi 3 --bogus "$TMP/big.csv"
check usage-once '[ "$status" -eq 2 ] && [ "$(grep -c "unknown option --bogus" "$TMP/err")" -eq 1 ]'
mpi 3 --version
check version-once '[ "$(grep -c "(MPI)" "$TMP/out")" -eq 1 ]'

finish
