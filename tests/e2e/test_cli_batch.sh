# Batch runs: several input files, --output-dir, --jobs, the summary rows
# and their formats, failing files, and the usage errors of a batch.
set -u
. "$(dirname "$0")/lib.sh"

# Inputs: two good files, one malformed, one missing; names chosen so that
# each gets its own outputs.
cp "$DATA/faithful.csv" "$TMP/faithful.csv"
cp "$DATA/iris.csv" "$TMP/iris.csv"
printf 'a,b\n1,2\nx,3\n' >"$TMP/bad.csv"
F=$TMP/faithful.csv I=$TMP/iris.csv B=$TMP/bad.csv M=$TMP/missing.csv
GMM="--model gmm -k 2"

# field ROW COL FILE: one field of the summary (row 1 is the header).
field() { sed -n "${1}p" "$3" | cut -d, -f"$2"; }

# A failing file does not stop the others, and the status says one failed.
run $GMM "$F" "$I" "$B" "$M"
cp "$TMP/out" "$TMP/summary.csv"
check batch-exit-8 '[ "$status" -eq 8 ]'
check batch-header '[ "$(head -1 "$TMP/summary.csv")" = "file,model,n,k,loglik,iterations,converged,bic,status" ]'
check batch-rows '[ "$(wc -l <"$TMP/summary.csv")" -eq 5 ]'
check batch-order '[ "$(cut -d, -f1 "$TMP/summary.csv" | tail -n +2 | tr "\n" " ")" = "$F $I $B $M " ]'
check batch-statuses '[ "$(cut -d, -f9 "$TMP/summary.csv" | tail -n +2 | tr "\n" " ")" = "0 0 3 4 " ]'
check batch-good-row 'grep -Eq "^$F,gmm,272,2,-[0-9.]+,[0-9]+,true,[0-9.]+,0$" "$TMP/summary.csv"'
check batch-bad-row-empty '[ "$(sed -n 4p "$TMP/summary.csv")" = "$B,gmm,,,,,,,3" ]'
check batch-missing-row-empty '[ "$(sed -n 5p "$TMP/summary.csv")" = "$M,gmm,,,,,,,4" ]'
check batch-bad-error 'grep -qF "emfit: $B:3:1: " "$TMP/err"'
check batch-missing-error 'grep -qF "emfit: $M: cannot open" "$TMP/err"'

# Each row is what the file alone gives: the same numbers, digit for digit.
expect single-faithful 0 "" $GMM --trace none --result - "$F"
json() { sed -n "s/^  \"$1\": \([^,]*\),\{0,1\}$/\1/p" "$TMP/out"; }
check row-n-is-single '[ "$(field 2 3 "$TMP/summary.csv")" = "$(json n)" ]'
check row-loglik-is-single '[ "$(field 2 5 "$TMP/summary.csv")" = "$(json loglik)" ]'
check row-iterations-is-single '[ "$(field 2 6 "$TMP/summary.csv")" = "$(json iterations)" ]'
check row-bic-is-single '[ "$(field 2 8 "$TMP/summary.csv")" = "$(json bic)" ]'
expect single-bad-status 3 "is not a number" $GMM "$B"
run $GMM "$F" "$I"
check all-good-exit-0 '[ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 3 ]'

# A model without latent classes leaves k empty; -k ranges choose per file.
run --model bvn --quiet "$DATA/efron_hastie_bvn.csv" "$TDATA/efron_hastie_complete.csv"
check bvn-k-empty '[ "$status" -eq 0 ] && sed -n 2p "$TMP/out" | grep -Eq "^[^,]*,bvn,40,,-"'
run --model gmm -k 1-3 --quiet "$F" "$I"
check k-range-chosen '[ "$(cut -d, -f4 "$TMP/out" | tail -n +2 | tr "\n" " ")" = "2 2 " ]'

# Notes and per-file messages name the file.
printf 'x,y\n1,2\nNA,NA\n2,3\n3,5\n4,4\n' >"$TMP/gap.csv"
run --model bvn "$TMP/gap.csv" "$DATA/efron_hastie_bvn.csv"
check note-names-file 'grep -qF "emfit: $TMP/gap.csv: note: 1 row(s) with no observed value" "$TMP/err"'

# The summary follows --trace: tsv, jsonl (numbers as numbers, null for
# what a failed file lacks); table and csv give CSV.
run $GMM --trace csv "$F" "$B"
cp "$TMP/out" "$TMP/fb.csv"
run $GMM --trace tsv "$F" "$B"
check tsv-summary '[ "$status" -eq 8 ] && [ "$(tr "\t" , <"$TMP/out")" = "$(cat "$TMP/fb.csv")" ]'
check tsv-has-tabs '[ "$(head -1 "$TMP/out" | tr "\t" "|")" = "file|model|n|k|loglik|iterations|converged|bic|status" ]'
run $GMM --trace jsonl "$F" "$B"
check jsonl-rows '[ "$(wc -l <"$TMP/out")" -eq 2 ]'
check jsonl-good 'head -1 "$TMP/out" | grep -Eq "^\{\"file\":\"[^\"]*faithful.csv\",\"model\":\"gmm\",\"n\":272,\"k\":2,\"loglik\":-[0-9.]+,\"iterations\":[0-9]+,\"converged\":true,\"bic\":[0-9.]+,\"status\":0\}$"'
check jsonl-loglik-same '[ "$(head -1 "$TMP/out" | sed "s/.*\"loglik\":\([^,]*\),.*/\1/")" = "$(field 2 5 "$TMP/summary.csv")" ]'
check jsonl-failed 'tail -1 "$TMP/out" | grep -q "\"n\":null,\"k\":null,\"loglik\":null,\"iterations\":null,\"converged\":null,\"bic\":null,\"status\":3}$"'
run $GMM --trace table "$F" "$B"
check table-gives-csv '[ "$(cat "$TMP/out")" = "$(cat "$TMP/fb.csv")" ]'

# --output-dir: each file's trace, result and plot, named after it and
# equal to what a single run writes.
run $GMM --trace csv --output-dir "$TMP/o1/sub" "$F" "$I" "$B"
check outdir-exit-8 '[ "$status" -eq 8 ]'
check outdir-stdout-summary '[ "$(wc -l <"$TMP/out")" -eq 4 ]'
check outdir-files '[ "$(cd "$TMP/o1/sub" && ls | tr "\n" " ")" = "faithful.result.json faithful.svg faithful.trace.csv iris.result.json iris.svg iris.trace.csv " ]'
"$EMFIT" $GMM --trace csv --result "$TMP/r.json" --plot "$TMP/p.svg" "$I" >"$TMP/t.csv" 2>/dev/null
check outdir-trace-is-single 'cmp -s "$TMP/t.csv" "$TMP/o1/sub/iris.trace.csv"'
check outdir-result-is-single 'cmp -s "$TMP/r.json" "$TMP/o1/sub/iris.result.json"'
check outdir-plot-is-single 'cmp -s "$TMP/p.svg" "$TMP/o1/sub/iris.svg"'
check outdir-plot-svg 'grep -q "<svg" "$TMP/o1/sub/iris.svg"'
# The trace extension follows --trace; none writes no trace file.
run $GMM --output-dir "$TMP/o2" "$F"
check outdir-table-txt '[ "$status" -eq 0 ] && grep -Eq "^ *iter +w1 " "$TMP/o2/faithful.trace.txt"'
run $GMM --trace jsonl --output-dir "$TMP/o3" "$F"
check outdir-jsonl '[ -s "$TMP/o3/faithful.trace.jsonl" ] && grep -q "^{\"file\"" "$TMP/out"'
run $GMM --trace none --output-dir "$TMP/o4" "$F"
check outdir-none '[ "$(ls "$TMP/o4" | tr "\n" " ")" = "faithful.result.json faithful.svg " ]'
check outdir-alone-is-batch '[ "$(wc -l <"$TMP/out")" -eq 2 ]'
# The extension is stripped whatever it is.
cp "$F" "$TMP/geyser.data.txt"
run $GMM --trace none --output-dir "$TMP/o5" "$TMP/geyser.data.txt"
check outdir-any-extension '[ -s "$TMP/o5/geyser.data.result.json" ]'

# --jobs 2 gives the same stdout and the same files as --jobs 1.
run --model gmm -k 1-3 --restarts 2 --trace csv --jobs 1 --output-dir "$TMP/j1" "$F" "$I" "$B"
cp "$TMP/out" "$TMP/j1.csv"
run --model gmm -k 1-3 --restarts 2 --trace csv --jobs 2 --output-dir "$TMP/j2" "$F" "$I" "$B"
check jobs2-same-summary 'cmp -s "$TMP/out" "$TMP/j1.csv"'
check jobs2-same-files 'diff -r "$TMP/j1" "$TMP/j2" >/dev/null'
check jobs2-exit-8 '[ "$status" -eq 8 ]'

# Usage errors of a batch: status 2 before any fit, nothing on stdout.
cp "$I" "$TMP/o1/iris.txt"
expect duplicate-name 2 "would both write iris.*" $GMM --output-dir "$TMP/dup" "$I" "$TMP/o1/iris.txt"
check duplicate-name-no-dir '[ ! -e "$TMP/dup" ]'
expect stdin-in-batch 2 "standard input (-) cannot be part of a batch" $GMM "$F" -
expect stdin-with-outdir 2 "standard input (-) cannot be part of a batch" $GMM --output-dir "$TMP/o6" -
for o in --result --labels --responsibilities --impute --plot; do
    expect "batch$o" 2 "$o names one file, but this is a batch run" $GMM $o "$TMP/x" "$F" "$I"
done
expect batch-bad-model 2 'unknown model "nope"' --model nope "$F" "$I"
expect batch-bad-model-option 2 "--cov does not apply to the bvn model" --model bvn --cov diag "$F" "$I"
expect jobs-zero 2 "--jobs must be from 1 to" $GMM --jobs 0 "$F" "$I"
expect outdir-is-file 4 "is not a directory" $GMM --output-dir "$F" "$I"

# SIGINT ends the current fit at its next iteration, starts no new file,
# and leaves the rows so far.  The first fit runs for minutes.
awk 'BEGIN { srand(4); print "a,b,c";
             for (i = 0; i < 300000; i++) print rand(), rand(), rand() }' |
    tr ' ' , >"$TMP/long.csv"
"$EMFIT" --model gmm -k 8 --tol 0 --max-iter 100000000 --output-dir "$TMP/oi" \
    "$TMP/long.csv" "$F" >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
st=$?
check sigint-batch-status '[ "$st" -eq 130 ]'
check sigint-batch-rows '[ "$(wc -l <"$TMP/out")" -eq 2 ] && grep -Eq "^$TMP/long.csv,gmm,300000,8,-[0-9.]+,[0-9]+,false,[0-9.]+,130$" "$TMP/out"'
check sigint-batch-partial 'grep -q "\"interrupted\": true," "$TMP/oi/long.result.json"'
check sigint-batch-no-new-file '[ ! -e "$TMP/oi/faithful.result.json" ]'

finish
