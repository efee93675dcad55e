# The hidden Markov model from the command line: both emissions on the
# shipped examples, the textbook check, per-row outputs, evaluation of given
# parameters, --fix, sequences and errors.
set -u
. "$(dirname "$0")/lib.sh"
R=$DATA/regime_returns.csv
D=$DATA/dice_rolls.csv

# loglik FILE: the "loglik" member of a result.
loglik() { sed -n 's/^  "loglik": \(.*\),$/\1/p' "$1"; }

# The two commands of the issue.
expect hmm-gaussian 0 "" --model hmm -k 2 --emission gaussian --columns ret \
    --trace none --result "$TMP/ret.json" "$R"
check hmm-gaussian-converged 'grep -q "\"converged\": true" "$TMP/ret.json"'
check hmm-gaussian-n 'grep -q "\"n\": 1979," "$TMP/ret.json"' # 21 NA rows
check hmm-gaussian-stationary 'grep -q "\"stationary\": \[0\.6" "$TMP/ret.json"'
expect hmm-categorical 0 "" --model hmm -k 3 --emission categorical \
    --columns roll --sequence-id player "$D" --decode "$TMP/states.csv" \
    --posteriors "$TMP/post.csv" --trace none --result "$TMP/dice.json"
check hmm-sequences 'grep -q "\"sequences\": 3," "$TMP/dice.json"'
check hmm-symbols 'grep -q "\"symbols\": \[\"5\", \"6\", \"2\", \"4\", \"1\", \"3\"\]" "$TMP/dice.json"'
check hmm-settings 'grep -q "\"emission\": \"categorical\", \"sequence_id\": \"player\"" "$TMP/dice.json"'
check hmm-decode-rows '[ "$(wc -l <"$TMP/states.csv")" -eq 901 ] && [ "$(head -1 "$TMP/states.csv")" = state ]'
check hmm-decode-values '[ "$(tail -n +2 "$TMP/states.csv" | sort -u | tr "\n" " ")" = "1 2 3 " ]'
check hmm-posteriors-header '[ "$(head -1 "$TMP/post.csv")" = p1,p2,p3 ] && [ "$(wc -l <"$TMP/post.csv")" -eq 901 ]'
check hmm-posteriors-sum-1 'tail -n +2 "$TMP/post.csv" | awk -F, "{ s = \$1 + \$2 + \$3; if (s < 1 - 1e-12 || s > 1 + 1e-12) bad++ } END { exit bad > 0 }"'

# Li Hang's example 10.2 and 10.3: P(red, white, red) = 0.130218 and the
# Viterbi path 3, 3, 3, from the book's parameters.
B=$DATA/li_hang_balls.csv
P=$DATA/li_hang_hmm.json
expect hmm-li-hang 0 "" --model hmm -k 3 --emission categorical \
    --max-iter 0 --init-params "$P" --trace csv --decode "$TMP/li.csv" "$B"
ll=$(tail -1 "$TMP/out" | awk -F, '{print $NF}')
check hmm-li-hang-forward 'awk -v l="$ll" "BEGIN { p = exp(l); exit !(p > 0.1302175 && p < 0.1302185) }"'
check hmm-li-hang-viterbi '[ "$(tr "\n" " " <"$TMP/li.csv")" = "state 3 3 3 " ]'
check hmm-li-hang-names '[ "$(head -1 "$TMP/out" | cut -d, -f14,19)" = "emit_1_red,emit_3_white" ]'
expect hmm-decode-stdout 0 "" --model hmm -k 3 --emission categorical \
    --max-iter 0 --init-params "$P" --trace none --decode - "$B"
check hmm-decode-stdout-rows '[ "$(tr "\n" " " <"$TMP/out")" = "state 3 3 3 " ]'

# Evaluating a fitted model gives back its log-likelihood.
expect hmm-evaluate 0 "" --model hmm -k 2 --columns ret --max-iter 0 \
    --init-params "$TMP/ret.json" --trace none --result - "$R"
check hmm-evaluate-loglik '[ "$(loglik "$TMP/out")" = "$(loglik "$TMP/ret.json")" ]'

# The same seed gives the same bytes, and so do 1 and 2 threads.
expect hmm-again 0 "" --model hmm -k 3 --emission categorical --columns roll \
    --sequence-id player --threads 2 --trace none --result - "$D"
check hmm-deterministic 'cmp -s "$TMP/out" "$TMP/dice.json"'

# SQUAREM reaches the same fit in fewer E-steps; --se works once the
# start, which one sequence puts on the boundary, is held.
expect hmm-squarem 0 "" --model hmm -k 2 --columns ret --accel squarem \
    --trace none --result "$TMP/sq.json" "$R"
check hmm-squarem-same 'awk -v a="$(loglik "$TMP/sq.json")" -v b="$(loglik "$TMP/ret.json")" "BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }"'
expect hmm-se 0 "standard errors" --model hmm -k 2 --columns ret --se \
    --fix start --start start_1=1,start_2=0 --trace none "$R"
check hmm-se-trans 'grep -q "trans_1_1 .*0\.0043" "$TMP/err"'

# --fix start,trans holds those; they are no longer free.
expect hmm-fix 0 "" --model hmm -k 2 --columns ret --fix start,trans \
    --start start_1=0.5,start_2=0.5,trans_1_1=0.9,trans_1_2=0.1,trans_2_1=0.1,trans_2_2=0.9 \
    --trace none --result - "$R"
check hmm-fix-held 'grep -q "\"trans\": \[\[0.9, 0.1\], \[0.1, 0.9\]\]" "$TMP/out" && grep -q "\"start\": \[0.5, 0.5\]" "$TMP/out"'
check hmm-fix-free 'grep -q "\"free_params\": 4," "$TMP/out"'
expect hmm-fix-gaussian 2 "not the Gaussian mean1_1" --model hmm -k 2 \
    --columns ret --fix mean1_1 --trace none "$R"

# Text symbols and text sequence ids; missing symbols.
printf 'coin,side\nc1,heads\nc1,tails\nc1,NA\nc2,heads\nc2,heads\nc2,tails\n' >"$TMP/coins.csv"
expect hmm-text 0 "stopped at --max-iter 3" --model hmm -k 2 --emission categorical \
    --sequence-id coin --trace csv --max-iter 3 "$TMP/coins.csv"
check hmm-text-names 'head -1 "$TMP/out" | grep -q ",emit_1_heads,emit_1_tails,emit_2_heads,emit_2_tails,loglik$"'
printf 'w\n"a b"\nc\n"a b"\n' >"$TMP/odd.csv"
expect hmm-odd-names 0 "" --model hmm -k 2 --emission categorical \
    --trace csv --max-iter 0 "$TMP/odd.csv"
check hmm-odd-numbered 'head -1 "$TMP/out" | grep -q ",emit_1_1,emit_1_2,emit_2_1,emit_2_2,loglik$"'

# Several K by BIC.
expect hmm-range 0 "lowest bic" --model hmm -k 1-3 --columns ret \
    --trace none "$R"

# Errors.
expect hmm-no-k 2 "needs -k" --model hmm --columns ret "$R"
expect hmm-labels 2 "--labels does not apply to the hmm model" \
    --model hmm -k 2 --columns ret --labels "$TMP/l.csv" "$R"
expect hmm-decode-gmm 2 "--decode does not apply to the gmm model" \
    --model gmm -k 2 --columns ret --decode "$TMP/l.csv" "$R"
expect hmm-bad-emission 2 "--emission must be gaussian or categorical" \
    --model hmm -k 2 --emission poisson "$R"
expect hmm-two-symbol-columns 2 "one column of symbols, not 2" \
    --model hmm -k 2 --emission categorical "$D"
expect hmm-text-gaussian 3 "is not a number" --model hmm -k 2 "$D"
printf 'id,x\na,1\n,2\nb,3\n' >"$TMP/noid.csv"
expect hmm-missing-id 5 "noid.csv:3: column \"id\": the sequence id is missing" \
    --model hmm -k 2 --sequence-id id "$TMP/noid.csv"
expect hmm-decode-batch 2 "--decode names one file" --model hmm -k 2 \
    --columns ret --decode "$TMP/l.csv" "$R" "$R"

finish
