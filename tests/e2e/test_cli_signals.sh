# Operating-system events: SIGINT during a long fit, stdout closed early.
set -u
. "$(dirname "$0")/lib.sh"

# 300000 rows of noise: an 8-component fit with --tol 0 runs for minutes
# (60000 rows and 6 components reached an exact fixed point within a
# second once the E-step got fast).
awk 'BEGIN { srand(4); print "a,b,c";
             for (i = 0; i < 300000; i++) print rand(), rand(), rand() }' |
    tr ' ' , >"$TMP/long.csv"

"$EMFIT" --model gmm -k 8 --tol 0 --max-iter 100000000 --trace none \
    --result "$TMP/int.json" "$TMP/long.csv" >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
st=$?
check sigint-status '[ "$st" -eq 130 ]'
check sigint-message 'grep -q "interrupted at iteration [0-9]*: the result is partial" "$TMP/err"'
check sigint-result 'grep -q "\"converged\": false," "$TMP/int.json" && grep -q "\"interrupted\": true," "$TMP/int.json"'
check sigint-result-params 'grep -q "\"w1\": " "$TMP/int.json" && ! grep -qi "nan" "$TMP/int.json"'

# A normal fit says "interrupted": false.
expect not-interrupted 0 "" --model bvn --trace none --result - "$DATA/efron_hastie_bvn.csv"
check not-interrupted-flag 'grep -q "\"interrupted\": false," "$TMP/out"'

# A reader that stops early ends the fit quietly (SIGPIPE), not with an
# error message.
"$EMFIT" --model gmm -k 2 --trace csv --tol 0 --max-iter 3000 "$TMP/long.csv" 2>"$TMP/err" | head -1 >/dev/null
check head-quiet '[ ! -s "$TMP/err" ]'

finish
