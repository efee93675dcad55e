#!/bin/sh
# Best log-likelihood found by emfit (--restarts 10), scikit-learn
# (n_init=10, reg_covar=1e-6) and mclust (its hierarchical start) on the
# shipped real data, for K = 2, 3 and each covariance structure.  Prints a
# table; not a pass/fail test.  Needs python3-sklearn, r-base-core and
# r-cran-mclust.  Usage: sh tests/peer/compare_best.sh build/emfit
set -eu
EMFIT=${1:-build/emfit}
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
mclust_name() {
    case $1 in full) echo VVV ;; diag) echo VVI ;; spherical) echo VII ;; tied) echo EEE ;; esac
}
printf '%-10s %2s %-10s %16s %16s %16s\n' data k cov emfit scikit-learn mclust
for data in faithful iris; do
    for k in 2 3; do
        for cov in full diag spherical tied; do
            ours=$("$EMFIT" --model gmm -k $k --cov $cov --restarts 10 --quiet \
                --trace none --result - data/$data.csv |
                sed -n 's/^  "loglik": \(.*\),$/\1/p')
            sk=$("$PY" -c "
import numpy as np
from sklearn.mixture import GaussianMixture
x = np.loadtxt('data/$data.csv', delimiter=',', skiprows=1)
g = GaussianMixture($k, covariance_type='$cov', n_init=10, tol=1e-10,
                    max_iter=5000, reg_covar=1e-6, random_state=0).fit(x)
print('%.6f' % (g.score(x) * len(x)))")
            mc=$(Rscript -e "suppressMessages(library(mclust));
x <- read.csv('data/$data.csv');
m <- Mclust(x, G = $k, modelNames = '$(mclust_name $cov)', verbose = FALSE);
cat(if (is.null(m)) 'NA' else sprintf('%.6f', m\$loglik))" 2>/dev/null || echo NA)
            printf '%-10s %2s %-10s %16.6f %16s %16s\n' $data $k $cov "$ours" "$sk" "$mc"
        done
    done
done
