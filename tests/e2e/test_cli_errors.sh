# Bad input, bad usage and I/O failures: the message, the exit status, and
# nothing on stdout.
set -u
. "$(dirname "$0")/lib.sh"

# Malformed data (tests/bad/, one file per kind) is tried by
# test_cli_bad.sh; here only what needs more than a file.
printf 'x,y\n1,2\nfoo,3\n' | "$EMFIT" --model bvn - >"$TMP/out" 2>"$TMP/err"
st=$?
check stdin-error-names-stdin '[ "$st" -eq 3 ] && grep -qF "emfit: <stdin>:3:1:" "$TMP/err"'

# Data the model cannot fit: nearly collinear rows (an outlier far along a
# line; found by fuzzing).
expect near-collinear 5 "numerically unreliable" --model bvn --trace none "$TDATA/bvn_near_collinear.csv"

# Usage errors: exit 2 and a pointer to --help.
expect unknown-option 2 "unknown option --frobnicate" --model bvn --frobnicate "$DATA/efron_hastie_bvn.csv"
expect missing-value 2 "needs a value" "$DATA/efron_hastie_bvn.csv" --model
expect no-model 2 "no model" "$DATA/efron_hastie_bvn.csv"
expect unknown-model 2 "unknown model \"nope\" (models: bvn" --model nope "$DATA/efron_hastie_bvn.csv"
expect no-input 2 "no input file" --model bvn
# Several inputs make a batch run (test_cli_batch.sh); stdin cannot join one.
expect stdin-in-batch 2 "standard input (-) cannot be part of a batch" --model bvn "$DATA/efron_hastie_bvn.csv" -
expect bad-trace 2 "--trace must be" --model bvn --trace xml "$DATA/efron_hastie_bvn.csv"
expect bad-estep 2 "--estep must be full or mean" --model bvn --estep half "$DATA/efron_hastie_bvn.csv"
expect bad-max-iter 2 "--max-iter needs a whole number" --model bvn --max-iter -1 "$DATA/efron_hastie_bvn.csv"
expect bad-tol 2 "--tol needs a finite number" --model bvn --tol abc "$DATA/efron_hastie_bvn.csv"
expect negative-tol 2 "--tol must be >= 0" --model bvn --tol -1 "$DATA/efron_hastie_bvn.csv"
expect bad-fill 2 "--fill needs a finite number" --model bvn --fill nan "$DATA/efron_hastie_bvn.csv"
expect bad-delimiter 2 "--delimiter needs one character" --model bvn --delimiter ab "$DATA/efron_hastie_bvn.csv"
expect result-and-trace-on-stdout 2 "add --trace none" --model bvn --result - "$DATA/efron_hastie_bvn.csv"
expect unknown-column 2 "no column named \"z\"" --model bvn --columns x,z "$DATA/efron_hastie_bvn.csv"
expect column-out-of-range 2 "out of range" --model bvn --columns 1,7 "$DATA/efron_hastie_bvn.csv"
expect three-columns 2 "exactly 2 columns" --model bvn --columns 1,2,3 "$TDATA/three_numeric.csv"
expect too-many-columns 2 "choose two with --columns" --model bvn "$TDATA/three_numeric.csv"
expect text-column-selected 3 "four_columns.csv:2:1: field 1 (\"a\")" --model bvn --columns a,x "$TDATA/four_columns.csv"
expect bad-start-name 2 "--start: the bvn model has no parameter \"sigma\"" --model bvn --start sigma=1 "$DATA/efron_hastie_bvn.csv"
expect bad-start-domain 2 "--start: rho = 1.5: must lie strictly between -1 and 1" --model bvn --start rho=1.5 "$DATA/efron_hastie_bvn.csv"
expect bad-start-number 2 "--start: s1: \"x\" is not a finite number" --model bvn --start s1=x "$DATA/efron_hastie_bvn.csv"

# Parameter files: malformed is exit 3 with a position, missing is exit 4.
expect init-params-domain 3 "bad_params_domain.json:3:10: rho = 2" --model bvn --init-params "$TDATA/bad_params_domain.json" "$DATA/efron_hastie_bvn.csv"
expect init-params-syntax 3 "bad_params_syntax.json:1:22: expected a string key" --model bvn --init-params "$TDATA/bad_params_syntax.json" "$DATA/efron_hastie_bvn.csv"
expect init-params-missing 4 "$TMP/none.json:" --model bvn --init-params "$TMP/none.json" "$DATA/efron_hastie_bvn.csv"

# Files that cannot be read or written: exit 4.
expect missing-file 4 "$TMP/missing.csv: cannot open" --model bvn "$TMP/missing.csv"
expect directory 4 "$TMP: " --model bvn "$TMP"
cp "$DATA/efron_hastie_bvn.csv" "$TMP/locked.csv"
chmod 000 "$TMP/locked.csv"
if [ "$(id -u)" -eq 0 ]; then
    echo "SKIP: unreadable file: running as root, which reads any file"
else
    expect unreadable 4 "$TMP/locked.csv: cannot open" --model bvn "$TMP/locked.csv"
fi
expect result-dev-full 4 "cannot write the result" --model bvn --trace none --result /dev/full "$DATA/efron_hastie_bvn.csv"
expect result-no-dir 4 "$TMP/no/such/dir.json: cannot open for writing" --model bvn --trace none --result "$TMP/no/such/dir.json" "$DATA/efron_hastie_bvn.csv"
"$EMFIT" --model bvn "$DATA/efron_hastie_bvn.csv" >/dev/full 2>"$TMP/err"
st=$?
check stdout-dev-full '[ "$st" -eq 4 ] && grep -q "cannot write" "$TMP/err"'

# Memory: sizes are checked before allocating, so an absurd K or D is a
# usage error (tests/bad/expected.tsv), and one that is merely too big for
# the memory at hand is status 7, not the OOM killer.  100 components of
# 1000 x 1000 covariances need about 2.4 GB; the limit here is 500 MB.
# AddressSanitizer reserves terabytes of address space, so a limit on it
# would stop the sanitized binary before main.
if [ -n "${EMFIT_SANITIZED:-}" ]; then
    echo "SKIP: memory limit: the sanitizer build cannot run under ulimit -v"
elif ! (ulimit -v 500000) 2>/dev/null; then
    echo "SKIP: memory limit: this shell has no ulimit -v"
else
    awk 'BEGIN { srand(3); line = "c1"
                 for (j = 2; j <= 1000; j++) line = line ",c" j
                 print line
                 for (i = 0; i < 100; i++) {
                     line = rand()
                     for (j = 2; j <= 1000; j++) line = line "," rand()
                     print line } }' >"$TMP/wide.csv"
    st=0
    (ulimit -v 500000 && exec "$EMFIT" --model gmm -k 100 --trace none \
        "$TMP/wide.csv") >"$TMP/out" 2>"$TMP/err" || st=$?
    check memory-limit '[ "$st" -eq 7 ] && grep -qF "out of memory" "$TMP/err" && [ ! -s "$TMP/out" ]'
fi

finish
