"""scikit-learn's GaussianMixture from a start written by emfit, timed.

Usage:
    python3 sklearn_fit.py --convert DATA.csv
        reads the CSV once and saves DATA.csv.npy beside it, so that the
        timed runs (and their peak memory) do not include numpy's CSV parser;
    python3 sklearn_fit.py DATA.csv START.json COV ITERATIONS REG
        fits from START (an emfit --result with "params": w1.., mean1_1..,
        and cov1_1_1.. / var1_1.. / var1..) and prints "key value" lines.

The start goes in through weights_init, means_init and precisions_init (the
inverses of the start's covariances, in the shapes scikit-learn wants), with
init_params="random_from_data": the *_init values replace whatever that
initialisation computes, and it is the cheapest one (the default, k-means,
would run a whole k-means first).  tol=0 makes every iteration run.
reg_covar=REG is added to each covariance diagonal after every M-step,
exactly as emfit's --reg (for spherical, to the mean of the variances).

Seconds per iteration: the same fit is run with max_iter=1 and with
max_iter=ITERATIONS; the difference divided by ITERATIONS - 1 is the cost of
one E-step plus one M-step, as for emfit (initialisation and the final
E-step that fit() always does cancel out).  max_iter=0 would be the natural
baseline, but scikit-learn 1.2 fails on it when precisions_init is given.  loglik is score(X) * N after the second fit, the
total log-likelihood at the final parameters.
"""
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture


def load(path):
    cache = path + ".npy"
    if os.path.exists(cache):
        return np.load(cache)
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def start_covariances(params, k, d, cov):
    """The start's covariance parameters in scikit-learn's shapes."""
    if cov == "spherical":
        return np.array([params["var%d" % (c + 1)] for c in range(k)])
    if cov == "diag":
        return np.array([[params["var%d_%d" % (c + 1, i + 1)]
                          for i in range(d)] for c in range(k)])
    if cov != "full":
        raise SystemExit("sklearn_fit.py: COV must be full, diag or spherical")
    out = np.zeros((k, d, d))
    for c in range(k):
        for i in range(d):
            for j in range(i, d):
                v = params["cov%d_%d_%d" % (c + 1, i + 1, j + 1)]
                out[c, i, j] = out[c, j, i] = v
    return out


def precisions(covs, cov):
    if cov == "full":
        return np.array([np.linalg.inv(c) for c in covs])
    return 1.0 / covs


def timed_fit(x, start, max_iter, reg):
    weights, means, prec, cov = start
    gm = GaussianMixture(n_components=len(weights), covariance_type=cov,
                         tol=0.0, max_iter=max_iter, n_init=1,
                         reg_covar=reg, init_params="random_from_data",
                         random_state=0, weights_init=weights,
                         means_init=means, precisions_init=prec)
    t0 = time.perf_counter()
    gm.fit(x)
    return gm, time.perf_counter() - t0


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown", 1
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return lib.get("internal_api", "blas"), lib.get("num_threads", 1)
    return "reference", 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--convert":
        np.save(sys.argv[2] + ".npy", load(sys.argv[2]))
        return
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    data, start_path, cov = sys.argv[1], sys.argv[2], sys.argv[3]
    iters, reg = int(sys.argv[4]), float(sys.argv[5])
    if iters < 2:
        raise SystemExit("sklearn_fit.py: ITERATIONS must be at least 2")
    x = load(data)
    with open(start_path) as f:
        params = json.load(f)["params"]
    k = sum(1 for name in params if name[0] == "w" and name[1:].isdigit())
    d = x.shape[1]
    weights = np.array([params["w%d" % (c + 1)] for c in range(k)])
    means = np.array([[params["mean%d_%d" % (c + 1, i + 1)]
                       for i in range(d)] for c in range(k)])
    start = (weights, means,
             precisions(start_covariances(params, k, d, cov), cov), cov)
    warnings.simplefilter("ignore", ConvergenceWarning)
    _, t1 = timed_fit(x, start, 1, reg)
    gm, tn = timed_fit(x, start, iters, reg)
    blas, threads = blas_info()
    print("blas %s" % blas)
    print("threads %d" % threads)
    print("iterations %d" % gm.n_iter_)
    print("fit1_s %.6f" % t1)
    print("fit_s %.6f" % tn)
    print("s_per_iter %.6f" % ((tn - t1) / (iters - 1)))
    print("loglik %.17g" % (gm.score(x) * x.shape[0]))


if __name__ == "__main__":
    main()
