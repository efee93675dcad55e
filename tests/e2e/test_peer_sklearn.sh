# Peer check: from the same start, emfit's gmm and scikit-learn's
# GaussianMixture (reg_covar 1e-6, as emfit's default --reg) must end at the
# same log-likelihood.  Skipped, visibly, when no python3 with scikit-learn
# is installed (tests/run.sh installs Debian's python3-sklearn).
set -u
. "$(dirname "$0")/lib.sh"

PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c "import sklearn" 2>/dev/null; then
        PY=$p
        break
    fi
done
if [ -z "$PY" ]; then
    echo "SKIPPED: no python3 with scikit-learn (apt-get install python3-sklearn)"
    printf '0 passed, 0 failed, 1 skipped\n'
    exit 0
fi

# same_start DATA K COV: both fits from emfit's start, log-likelihoods
# equal to 1e-8 relative (they stop at slightly different points).
same_start() {
    data=$1 k=$2 cov=$3 name="peer-$(basename "$1" .csv)-k$2-$3"
    "$EMFIT" --model gmm -k "$k" --cov "$cov" --max-iter 0 --trace none \
        --result "$TMP/start.json" "$data" 2>/dev/null
    theirs=$("$PY" "$SRC/tests/peer/sklearn_same_start.py" "$data" "$TMP/start.json" "$cov" | cut -d' ' -f1)
    ours=$("$EMFIT" --model gmm -k "$k" --cov "$cov" --tol 1e-15 \
        --init-params "$TMP/start.json" --trace none --result - "$data" |
        sed -n 's/^  "loglik": \(.*\),$/\1/p')
    check "$name ($ours vs scikit-learn $theirs)" \
        'awk -v a="$ours" -v b="$theirs" "BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; exit !(a != \"\" && b != \"\" && d <= 1e-8 * s) }"'
}

for cov in full diag spherical tied; do
    same_start "$DATA/faithful.csv" 3 "$cov"
    same_start "$DATA/iris.csv" 3 "$cov"
done

finish
