# The progress line: on a terminal only, for a fit running longer than a
# second, redrawn in place at most about 5 times a second, cleared at the
# end; never when stderr is a file, nor with --quiet.
#
# util-linux's script(1) runs emfit on a pseudo-terminal.  Each fit runs
# until timeout(1) sends SIGINT after WAIT seconds, so it is long enough on
# any machine, and the test does not depend on how fast this one is.  The
# sanitizer build gets longer: there parsing and the first iterations alone
# can take the second before the line may appear.
set -u
. "$(dirname "$0")/lib.sh"

if ! command -v script >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1 ||
    ! script -qec true /dev/null >/dev/null 2>&1; then
    echo "SKIPPED: needs util-linux script(1) and timeout(1) for a terminal"
    exit 0
fi

awk 'BEGIN { srand(4); print "a,b,c";
             for (i = 0; i < 300000; i++) print rand(), rand(), rand() }' |
    tr ' ' , >"$TMP/long.csv"
LONG="--model gmm -k 8 --tol 0 --max-iter 100000000 --threads 1"
WAIT=2
[ -n "${EMFIT_SANITIZED:-}" ] && WAIT=6

# on_terminal OUTPUT COMMAND: runs COMMAND on a terminal, stopped by SIGINT
# after WAIT seconds, and keeps what the terminal showed; $status is
# emfit's.
on_terminal() {
    out=$1
    shift
    script -qec "timeout --preserve-status -s INT $WAIT $*; echo \"exit \$?\"" \
        /dev/null </dev/null >"$TMP/$out" 2>&1
    status=$(tr -d '\r' <"$TMP/$out" | sed -n 's/^exit \([0-9]*\)$/\1/p')
}

ESC=$(printf '\033')
CR=$(printf '\r')
# draws FILE: how many times the line was drawn.
draws() { grep -o "$CR$ESC\[Kemfit: [^$CR]*it/s" "$TMP/$1" | wc -l; }

on_terminal tty "\"$EMFIT\" $LONG --trace none --result \"$TMP/r.json\" \"$TMP/long.csv\""
check progress-exit-130 '[ "$status" = 130 ]'
check progress-shown '[ "$(draws tty)" -ge 1 ]'
check progress-format 'grep -Eq "emfit: iteration [0-9]+, loglik -[0-9.]+, [0-9]+ it/s" "$TMP/tty"'
# About 5 redraws a second, and fewer under a slow build.
check progress-rate-limited '[ "$(draws tty)" -le $((5 * WAIT + 1)) ]'
# The line is cleared before the next message is written over it.
check progress-cleared 'grep -q "it/s$CR$ESC\[Kemfit: interrupted at iteration" "$TMP/tty"'
check progress-result-written 'grep -q "\"interrupted\": true," "$TMP/r.json"'

# stderr to a file: never a progress line, even on a terminal's stdout.
on_terminal tty2 "\"$EMFIT\" $LONG --trace none \"$TMP/long.csv\" 2>\"$TMP/err.txt\""
check file-stderr-status '[ "$status" = 130 ]'
check file-stderr-no-progress '! grep -q "it/s" "$TMP/err.txt" && ! grep -q "$CR" "$TMP/err.txt"'
check file-stderr-message 'grep -q "^emfit: interrupted at iteration" "$TMP/err.txt"'

# --quiet silences it.
on_terminal tty3 "\"$EMFIT\" $LONG --trace none --quiet \"$TMP/long.csv\""
check quiet-no-progress '[ "$status" = 130 ] && ! grep -q "it/s" "$TMP/tty3"'

# A trace on the terminal is progress enough; a trace sent to a file is not.
on_terminal tty4 "\"$EMFIT\" $LONG --trace csv \"$TMP/long.csv\""
check trace-on-terminal-no-progress '[ "$status" = 130 ] && ! grep -q "it/s" "$TMP/tty4"'
on_terminal tty5 "\"$EMFIT\" $LONG --trace csv \"$TMP/long.csv\" >\"$TMP/trace.csv\""
check trace-to-file-progress '[ "$(draws tty5)" -ge 1 ]'
check trace-to-file-clean '! grep -q "it/s" "$TMP/trace.csv" && head -1 "$TMP/trace.csv" | grep -q "^iter,w1,.*,loglik$"'

# In a batch the line names the file.
on_terminal tty6 "\"$EMFIT\" $LONG \"$TMP/long.csv\" \"$DATA/faithful.csv\""
check batch-progress-names-file 'grep -q "emfit: long.csv: iteration [0-9]*, loglik" "$TMP/tty6"'
check batch-progress-summary 'tr -d "\r" <"$TMP/tty6" | grep -q "^file,model,n,k,loglik"'

# A short fit never shows it.
on_terminal tty7 "\"$EMFIT\" --model bvn --trace none \"$DATA/efron_hastie_bvn.csv\""
check short-fit-no-progress '[ "$status" = 0 ] && ! grep -q "it/s" "$TMP/tty7"'

finish
