# The pairing model from the command line: document 003's bosses and
# staff, text columns, skipped rows and errors.
set -u
. "$(dirname "$0")/lib.sh"
P=$DATA/pairing_doc003.csv

expect pairing-doc 0 "stopped at --max-iter 2" --model pairing --trace csv --tol 0 --max-iter 2 "$P"
check pairing-header '[ "$(head -1 "$TMP/out")" = "iter,theta[A:Jia],theta[A:Yi],theta[A:Zhang],theta[Liu:Jia],theta[Liu:Yi],theta[Liu:Zhang],theta[C:Jia],theta[C:Yi],theta[C:Zhang],loglik" ]'
# the document's first iteration, then the normalised second one
check pairing-iter1 '[ "$(sed -n 3p "$TMP/out")" = "1,0.5,0.5,0,0.25,0.25,0.5,0,1,0,-0.5753641449035618" ]'
check pairing-iter2 'sed -n 4p "$TMP/out" | grep -q "^2,0.5,0.5,0,0.16666666666666666,0.16666666666666666,0.6666666666666666,0,1,0,"'
expect pairing-fit 0 "" --model pairing --quiet --trace none --result - "$P"
check pairing-converged 'grep -q "\"converged\": true" "$TMP/out"'
check pairing-free 'grep -q "\"free_params\": 6," "$TMP/out"'
check pairing-liu-zhang 'grep -q "\"theta\[Liu:Zhang\]\": 1" "$TMP/out" || grep -q "\"theta\[Liu:Zhang\]\": 0\.99999999" "$TMP/out"'

# Candidate columns may be chosen; the key is the column named key.
printf 'note,staff,key\nhello,x,A\n,y,B\nbye,,A\n7,x,\n' >"$TMP/cols.csv"
expect pairing-columns 0 "2 row(s) with no observed value were skipped" --model pairing --columns staff,key --trace csv --max-iter 0 "$TMP/cols.csv"
check pairing-columns-names '[ "$(head -1 "$TMP/out")" = "iter,theta[A:x],theta[A:y],theta[B:x],theta[B:y],loglik" ]'

printf 'key,c\nA,\nB,\n' >"$TMP/none.csv"
expect pairing-no-data 5 "no row has both a key and a candidate" --model pairing "$TMP/none.csv"
expect pairing-one-column 2 "at least one candidate column" --model pairing --columns key "$P"
expect pairing-bad-start 2 "sum to" --model pairing --start 'theta[A:Jia]=0.9' "$P"

finish
