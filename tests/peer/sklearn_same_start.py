"""Fits a Gaussian mixture with scikit-learn from a start written by emfit.

Usage: python3 sklearn_same_start.py DATA.csv START.json COV
Prints the final total log-likelihood and the iterations taken.  Used by
tests/e2e/test_peer_sklearn.sh; needs numpy and scikit-learn (Debian's
python3-sklearn).
"""
import json
import sys

import numpy as np
from sklearn.mixture import GaussianMixture


def matrix(params, k, d, cov):
    """The start's covariance parameters as scikit-learn's shapes."""
    if cov == "spherical":
        return np.array([params["var%d" % (c + 1)] for c in range(k)])
    if cov == "diag":
        return np.array([[params["var%d_%d" % (c + 1, i + 1)]
                          for i in range(d)] for c in range(k)])

    def full(name):
        m = np.zeros((d, d))
        for i in range(d):
            for j in range(i, d):
                m[i, j] = m[j, i] = params[name(i + 1, j + 1)]
        return m
    if cov == "tied":
        return full(lambda i, j: "cov_%d_%d" % (i, j))
    return np.array([full(lambda i, j, c=c: "cov%d_%d_%d" % (c + 1, i, j))
                     for c in range(k)])


def precisions(covs, cov):
    if cov in ("spherical", "diag"):
        return 1.0 / covs
    if cov == "tied":
        return np.linalg.inv(covs)
    return np.array([np.linalg.inv(c) for c in covs])


def main():
    data, start, cov = sys.argv[1], sys.argv[2], sys.argv[3]
    x = np.loadtxt(data, delimiter=",", skiprows=1, ndmin=2)
    params = json.load(open(start))["params"]
    k = sum(1 for name in params if name.startswith("w"))
    d = x.shape[1]
    weights = np.array([params["w%d" % (c + 1)] for c in range(k)])
    means = np.array([[params["mean%d_%d" % (c + 1, i + 1)]
                       for i in range(d)] for c in range(k)])
    gm = GaussianMixture(n_components=k, covariance_type=cov, tol=1e-13,
                         max_iter=5000, reg_covar=1e-6,
                         weights_init=weights, means_init=means,
                         precisions_init=precisions(matrix(params, k, d, cov),
                                                    cov))
    gm.fit(x)
    print("%.17g %d" % (gm.score(x) * x.shape[0], gm.n_iter_))


if __name__ == "__main__":
    main()
