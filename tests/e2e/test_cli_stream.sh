# --stream and --cache: the same fit as in memory, byte for byte, for
# every model that streams; the cache reused only while it matches; clear
# errors for what cannot stream and for bad cache paths; nothing left
# behind.
set -u
. "$(dirname "$0")/lib.sh"

mkdir "$TMP/tmpdir"
export TMPDIR=$TMP/tmpdir

# same NAME ARGS...: the result, trace and any --impute/--labels output of
# ARGS are the same with --stream as without.
same() {
    name=$1
    shift
    expect "$name-memory" 0 "" --quiet --trace csv --result "$TMP/m.json" "$@"
    mv "$TMP/out" "$TMP/m.trace"
    expect "$name-stream" 0 "" --quiet --stream --trace csv --result "$TMP/s.json" "$@"
    check "$name-same-result" 'cmp -s "$TMP/m.json" "$TMP/s.json"'
    check "$name-same-trace" 'cmp -s "$TMP/m.trace" "$TMP/out"'
}

same bvn --model bvn "$DATA/efron_hastie_bvn.csv"
same bvn-mean --model bvn --estep mean --fill 0 "$DATA/efron_hastie_bvn.csv"
same mvn --model mvn "$DATA/gmm_missing30.csv"
same gmm-full --model gmm -k 2 "$DATA/faithful.csv"
same gmm-diag-missing --model gmm -k 3 --cov diag --threads 2 "$DATA/gmm_missing30.csv"
same gmm-random --model gmm -k 3 --init random --seed 7 "$DATA/gmm_missing30.csv"
same gmm-squarem --model gmm -k 2 --accel squarem --se "$DATA/faithful.csv"
same three-coin --model three-coin "$DATA/three_coin_multi.csv"
same mixed-normal --model mixed-normal --free-sigma "$DATA/mixed_normal.csv"
check result-has-params 'grep -q "\"params\"" "$TMP/s.json"'

# Per-row outputs read the mapped rows too.
expect impute-memory 0 "" --model mvn --quiet --trace none --impute "$TMP/i1.csv" "$DATA/gmm_missing30.csv"
expect impute-stream 0 "" --model mvn --quiet --stream --trace none --impute "$TMP/i2.csv" "$DATA/gmm_missing30.csv"
check impute-same 'cmp -s "$TMP/i1.csv" "$TMP/i2.csv"'
expect labels-stream 0 "" --model gmm -k 2 --quiet --stream --trace none --labels "$TMP/l2.csv" "$DATA/faithful.csv"
check labels-rows '[ "$(wc -l <"$TMP/l2.csv")" -eq 273 ]'

# Standard input streams through a temporary cache.
expect stdin-memory 0 "" --model gmm -k 2 --quiet --trace none --result "$TMP/m.json" "$DATA/faithful.csv"
status=0
"$EMFIT" --model gmm -k 2 --quiet --stream --trace none --result "$TMP/s.json" - \
    <"$DATA/faithful.csv" >"$TMP/out" 2>"$TMP/err" || status=$?
check stdin-stream '[ "$status" -eq 0 ] && [ ! -s "$TMP/err" ]'
check stdin-same 'sed "/\"input\"/d" "$TMP/m.json" >"$TMP/m2"; sed "/\"input\"/d" "$TMP/s.json" >"$TMP/s2"; cmp -s "$TMP/m2" "$TMP/s2"'
check temporary-caches-gone '[ -z "$(ls -A "$TMP/tmpdir")" ]'

# --cache: built once, reused while the input and the reading match.
cp "$DATA/faithful.csv" "$TMP/f.csv"
C=$TMP/f.cache
expect cache-build 0 "" --model gmm -k 2 --cache "$C" --trace none --result "$TMP/c1.json" "$TMP/f.csv"
check cache-exists '[ -s "$C" ] && [ -z "$(ls "$TMP" | grep "\.tmp$")" ]'
expect cache-reuse 0 "f.cache is up to date: $TMP/f.csv was not parsed again" --model gmm -k 2 --cache "$C" --trace none --result "$TMP/c2.json" "$TMP/f.csv"
check cache-reuse-same 'cmp -s "$TMP/c1.json" "$TMP/c2.json"'
expect cache-reuse-quiet 0 "" --model gmm -k 2 --quiet --cache "$C" --trace none "$TMP/f.csv"
expect cache-other-columns 0 "" --model gmm -k 1 --columns waiting --cache "$C" --trace none --result "$TMP/c3.json" "$TMP/f.csv"
check cache-other-columns-fit 'grep -q "\"columns\": \[\"waiting\"\]" "$TMP/c3.json"'
expect cache-columns-rebuilt-again 0 "" --model gmm -k 2 --cache "$C" --trace none --result "$TMP/c4.json" "$TMP/f.csv"
check cache-columns-same 'cmp -s "$TMP/c1.json" "$TMP/c4.json"'
# an edited input is parsed again: the old cache must not be used
sed '2s/^3.6,79$/3.6,99/' "$DATA/faithful.csv" >"$TMP/f.csv"
expect cache-stale 0 "" --model gmm -k 2 --cache "$C" --trace none --result "$TMP/c5.json" "$TMP/f.csv"
expect cache-stale-memory 0 "" --model gmm -k 2 --trace none --result "$TMP/c6.json" "$TMP/f.csv"
check cache-stale-refit 'cmp -s "$TMP/c5.json" "$TMP/c6.json" && ! cmp -s "$TMP/c1.json" "$TMP/c5.json"'
# a truncated cache is rebuilt, not read
head -c 5000 "$C" >"$TMP/cut" && cat "$TMP/cut" >"$C"
expect cache-truncated 0 "" --model gmm -k 2 --cache "$C" --trace none --result "$TMP/c7.json" "$TMP/f.csv"
check cache-truncated-refit 'cmp -s "$TMP/c5.json" "$TMP/c7.json"'

# Errors: the same messages as in memory, no half cache left.
printf 'x,y\n1,2\n\n3,4\n5,1e200\n2,2\n' >"$TMP/far.csv"
expect far-memory 5 "far.csv:5: column \"y\": 1e+200 is too large" --model gmm "$TMP/far.csv"
expect far-stream 5 "far.csv:5: column \"y\": 1e+200 is too large" --model gmm --cache "$TMP/far.cache" "$TMP/far.csv"
awk 'BEGIN { print "x,y"; for (i = 0; i < 300000; i++) print i % 7 "," i % 11; print "1,oops" }' >"$TMP/bad.csv"
expect bad-last-row 3 "bad.csv:300002:3:" --model gmm --cache "$TMP/bad.cache" "$TMP/bad.csv"
check bad-no-cache '[ ! -e "$TMP/bad.cache" ] && [ -z "$(ls "$TMP" | grep "\.tmp$")" ]'
echo "precious" >"$TMP/mine.txt"
expect foreign-cache 2 "mine.txt: exists and is not an emfit cache: not overwriting it" --model gmm --cache "$TMP/mine.txt" "$DATA/faithful.csv"
check foreign-untouched '[ "$(cat "$TMP/mine.txt")" = precious ]'
expect cache-is-input 2 "is the input itself" --model gmm --cache "$TMP/f.csv" "$TMP/f.csv"
expect cache-no-dir 4 "cannot create the cache" --model gmm --cache "$TMP/no/such/dir/x.cache" "$DATA/faithful.csv"
TMPDIR=$TMP/no/such/dir
expect temp-no-dir 4 "no/such/dir: cannot create a temporary cache here" --model gmm --stream "$DATA/faithful.csv"
TMPDIR=$TMP/tmpdir
expect hmm-no-stream 2 "the hmm model cannot stream" --model hmm -k 2 --stream "$DATA/regime_returns.csv"
expect pairing-no-stream 2 "the pairing model cannot stream" --model pairing --stream "$DATA/pairing_doc003.csv"
expect missing-input 4 "cannot open" --model gmm --stream "$TMP/none.csv"

# Batches stream each file through its own temporary cache.
expect batch-memory 0 "" --model gmm -k 2 --quiet "$DATA/faithful.csv" "$DATA/gmm_missing30.csv"
mv "$TMP/out" "$TMP/b1"
expect batch-stream 0 "" --model gmm -k 2 --quiet --stream "$DATA/faithful.csv" "$DATA/gmm_missing30.csv"
check batch-same 'cmp -s "$TMP/b1" "$TMP/out"'
expect batch-cache 2 "--cache names one file" --model gmm --cache "$TMP/x.cache" "$DATA/faithful.csv" "$DATA/gmm_missing30.csv"
check batch-caches-gone '[ -z "$(ls -A "$TMP/tmpdir")" ]'

finish
