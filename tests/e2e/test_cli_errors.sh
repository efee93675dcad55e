# Bad input, bad usage and I/O failures: the message, the exit status, and
# nothing on stdout.
set -u
. "$(dirname "$0")/lib.sh"
B=$TDATA/bad

# Malformed data: exit 3 with FILE:LINE:COL.
expect text 3 "$B/text.csv:3:3: field 2 (\"y\")" --model bvn "$B/text.csv"
expect inf 3 "$B/inf.csv:3:3:" --model bvn "$B/inf.csv"
expect overflow 3 "$B/overflow.csv:3:3:" --model bvn "$B/overflow.csv"
expect nul 3 "$B/nul.csv:3:4: NUL byte" --model bvn "$B/nul.csv"
expect ragged 3 "$B/ragged.csv:3:" --model bvn "$B/ragged.csv"
expect short-row 3 "$B/short_row.csv:3:" --model bvn "$B/short_row.csv"
expect unterminated-quote 3 "$B/unterminated_quote.csv:3:1:" --model bvn "$B/unterminated_quote.csv"
expect empty 3 "$B/empty.csv:1:1:" --model bvn "$B/empty.csv"
expect header-only 3 "$B/header_only.csv:2:1:" --model bvn "$B/header_only.csv"
expect hex 3 "$B/hex.csv:2:3:" --model bvn "$B/hex.csv"
printf 'x,y\n1,2\nfoo,3\n' | "$EMFIT" --model bvn - >"$TMP/out" 2>"$TMP/err"
st=$?
check stdin-error-names-stdin '[ "$st" -eq 3 ] && grep -qF "emfit: <stdin>:3:1:" "$TMP/err"'

# Data the model cannot fit: exit 5, naming the file.
expect constant 5 "$B/constant_column.csv: column \"x\" is constant" --model bvn "$B/constant_column.csv"
expect all-missing 5 "column \"y\" has no observed values" --model bvn "$B/all_missing_column.csv"
expect collinear 5 "$B/collinear.csv:" --model bvn "$B/collinear.csv"
# values double precision cannot fit (found by fuzzing)
expect huge-value 5 "huge_value.csv:4: column \"y\": 1e+204 is too large to fit" --model mixed-normal "$B/huge_value.csv"
expect huge-value-gmm 5 "huge_value.csv:4:" --model gmm "$B/huge_value.csv"
expect far-outlier 5 "far_outlier.csv:5: column \"z\": 3e+33 lies" --model gmm -k 4 --cov tied "$B/far_outlier.csv"
# nearly collinear (an outlier far along a line; found by fuzzing)
expect near-collinear 5 "numerically unreliable" --model bvn --trace none "$TDATA/bvn_near_collinear.csv"

# Usage errors: exit 2 and a pointer to --help.
expect unknown-option 2 "unknown option --frobnicate" --model bvn --frobnicate "$DATA/efron_hastie_bvn.csv"
expect missing-value 2 "needs a value" "$DATA/efron_hastie_bvn.csv" --model
expect no-model 2 "no model" "$DATA/efron_hastie_bvn.csv"
expect unknown-model 2 "unknown model \"nope\" (models: bvn" --model nope "$DATA/efron_hastie_bvn.csv"
expect no-input 2 "no input file" --model bvn
expect two-inputs 2 "one input file at a time" --model bvn "$DATA/efron_hastie_bvn.csv" "$DATA/efron_hastie_bvn.csv"
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
expect result-dev-full 4 "cannot write the result" --model bvn --trace none --result /dev/full "$DATA/efron_hastie_bvn.csv"
expect result-no-dir 4 "$TMP/no/such/dir.json: cannot open for writing" --model bvn --trace none --result "$TMP/no/such/dir.json" "$DATA/efron_hastie_bvn.csv"
"$EMFIT" --model bvn "$DATA/efron_hastie_bvn.csv" >/dev/full 2>"$TMP/err"
st=$?
check stdout-dev-full '[ "$st" -eq 4 ] && grep -q "cannot write" "$TMP/err"'

finish
