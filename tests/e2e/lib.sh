# Helpers for the end-to-end tests: source this, then call `expect`.
# Usage of a test script: sh test_X.sh path/to/emfit path/to/source-dir

EMFIT=$1
SRC=$2
DATA=$SRC/data
TDATA=$SRC/tests/data
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

fail() {
    failed=$((failed + 1))
    printf 'FAIL: %s\n' "$1"
    [ -n "${2:-}" ] && printf '  %s\n' "$2"
    printf '  stdout: %s\n' "$(head -c 400 "$TMP/out")"
    printf '  stderr: %s\n' "$(head -c 400 "$TMP/err")"
}

# run ARGS...: runs emfit, leaving $TMP/out, $TMP/err and $status.
run() {
    status=0
    "$EMFIT" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
}

# expect NAME STATUS STDERR-FRAGMENT ARGS...: runs emfit and checks the exit
# status and that stderr contains the fragment ("" = stderr must be empty).
# A non-zero status also requires an empty stdout: no partial fit.
expect() {
    name=$1 want=$2 frag=$3
    shift 3
    run "$@"
    if [ "$status" -ne "$want" ]; then
        fail "$name" "exit status $status, want $want"
        return 1
    fi
    if [ -z "$frag" ] && [ -s "$TMP/err" ]; then
        fail "$name" "stderr should be empty"
        return 1
    fi
    if [ -n "$frag" ] && ! grep -qF -- "$frag" "$TMP/err"; then
        fail "$name" "stderr lacks: $frag"
        return 1
    fi
    if [ "$want" -ne 0 ] && [ -s "$TMP/out" ]; then
        fail "$name" "stdout should be empty after an error"
        return 1
    fi
    passed=$((passed + 1))
    return 0
}

# check NAME COMMAND...: passes when the shell command succeeds.
check() {
    name=$1
    shift
    if eval "$@"; then
        passed=$((passed + 1))
    else
        fail "$name" "check failed: $*"
    fi
}

finish() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" -eq 0 ]
}
