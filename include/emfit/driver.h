/* The EM driver: the one loop that fits every model.
 *
 * Iteration t evaluates theta_t (the E-step also yields the log-likelihood
 * l_t at theta_t), reports (t, theta_t, l_t) to the trace callback, checks
 * that l_t did not fall below l_{t-1}, tests for convergence, and only then
 * runs the M-step that gives theta_{t+1}.  So trace row t always pairs
 * parameters with their own log-likelihood, row 0 is the start, and
 * max_iter M-steps give max_iter + 1 rows.
 *
 * Convergence: |l_t - l_{t-1}| <= tol * max(1, |l_t|).
 * Monotonicity: for a model whose info.monotone is set, a decrease larger
 * than EM_MONOTONE_SLACK * max(1, |l_t|) stops the fit with EM_ERR_BUG,
 * because true EM cannot decrease the log-likelihood: it means a bug.  A
 * model whose M-step is inexact (q_gain) may lose at most what its step
 * lost in Q, plus that slack.  A model with covariances (condition) gets a
 * slack of 100 * condition number * DBL_EPSILON when that is larger, and a
 * fall while the condition number exceeds EM_ILL_CONDITIONED is reported as
 * a numerical failure (EM_ERR_NUMERIC), not a bug.
 */
#ifndef EMFIT_DRIVER_H
#define EMFIT_DRIVER_H

#include <signal.h>
#include <stddef.h>

#include "emfit/error.h"
#include "emfit/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Relative decrease of the log-likelihood still taken as rounding. */
#define EM_MONOTONE_SLACK 1e-10

/* A covariance condition number above which rounding alone can make the
 * log-likelihood fall (see em_model_type.condition). */
#define EM_ILL_CONDITIONED 1e8

/* Units per E-step block; fixed so that sums do not depend on how blocks
 * are later spread over threads or processes. */
#define EM_BLOCK_UNITS 4096

/* Called once per iteration with the parameters and their log-likelihood;
 * a non-EM_OK return (e.g. a write error) stops the fit with that status. */
typedef em_status (*em_trace_fn)(void *ctx, size_t iter, const double *theta,
                                 double loglik, em_error *err);

typedef struct em_fit_options {
    size_t max_iter;   /* M-steps at most; 0 evaluates the start only */
    double tol;        /* relative change of the log-likelihood */
    em_trace_fn trace; /* may be NULL */
    void *trace_ctx;
    /* NULL, or nparams flags: parameters held at their starting values.
     * Only for a model whose type is fixable; they do not count as free
     * parameters in AIC and BIC. */
    const unsigned char *fixed;
    /* Threads for the E-step (0 or 1: the calling thread only).  The
     * result is bit-identical for any number. */
    size_t threads;
    /* NULL, or a flag (e.g. set by a SIGINT handler) checked once per
     * iteration: when set, the fit ends at the current parameters with
     * res->interrupted set and converged false. */
    volatile sig_atomic_t *stop;
} em_fit_options;

#define EM_MAX_THREADS 256

#define EM_DEFAULT_MAX_ITER 1000
#define EM_DEFAULT_TOL 1e-10

typedef struct em_fit_result {
    size_t iterations; /* M-steps taken */
    int converged;
    double loglik;     /* at the returned theta */
    size_t nobs;       /* units that carried data */
    size_t nfree;
    double aic, bic;
    int interrupted;   /* stopped early because *opt->stop was set */
} em_fit_result;

/* Fills opt with the defaults above. */
void em_fit_options_default(em_fit_options *opt);

/* Fits m from the start in theta (info.nparams values, checked with the
 * model's check), leaving the final parameters in theta. */
em_status em_fit(em_model *m, double *theta, const em_fit_options *opt,
                 em_fit_result *res, em_error *err);

/* Runs one E-step over all units at theta into stats (EM_STAT_HEADER +
 * info.nstats doubles), block by block in a fixed order. */
em_status em_estep_all(em_model *m, const double *theta, double *stats,
                       em_error *err);

#ifdef __cplusplus
}
#endif

#endif
