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

/* How the driver moves from one accepted iterate to the next.
 *
 * EM_ACCEL_NONE: one EM step (one E-step per iteration).
 * EM_ACCEL_SQUAREM: Varadhan and Roland's SQUAREM (2008), step length S3,
 * in the unconstrained coordinates u of em_model_type.to_free.  From u0,
 * two EM steps give u1, u2; with r = u1 - u0 and v = u2 - 2 u1 + u0 the
 * extrapolated point is u0 - 2 a r + a^2 v, a = -|r| / |v|, clamped to
 * [-a_max, -1] (a_max starts at 1 and grows fourfold each time a reaches
 * it, as in the SQUAREM package), then mapped back through from_free and
 * followed by one stabilising EM step.  That point is accepted when its
 * log-likelihood is finite and not below l(u0); otherwise the iteration
 * falls back to u2 (and a_max shrinks back).  Each accepted point is one
 * iteration and costs two to four E-steps, so the log-likelihood of
 * accepted points never falls and the monotone check still applies. */
typedef enum em_accel { EM_ACCEL_NONE = 0, EM_ACCEL_SQUAREM = 1 } em_accel;

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
    /* EM_ACCEL_SQUAREM replaces each plain step by a SQUAREM cycle (see
     * em_accel); the model needs to_free and from_free, and a true EM
     * M-step (info.monotone). */
    em_accel accel;
    /* NULL, or a counter the driver sets to the E-steps run so far before
     * each trace call, for a trace column. */
    size_t *esteps;
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
    size_t esteps;     /* E-steps run (iterations + 1 without accel) */
    em_accel accel;    /* the acceleration used */
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

/* The observed-data log-likelihood at theta (prepare and one E-step over
 * all units, on up to threads threads; the same bits for any number). */
em_status em_loglik(em_model *m, const double *theta, size_t threads,
                    double *loglik, em_error *err);

/* Parses "none" or "squarem"; returns 0 when s is neither. */
int em_accel_parse(const char *s, em_accel *out);

/* The name of an acceleration, as em_accel_parse reads it. */
const char *em_accel_name(em_accel accel);

/* The asymptotic covariance of the maximum-likelihood estimate theta, from
 * the observed information: the Hessian of the observed-data
 * log-likelihood in the unconstrained coordinates of to_free (central
 * differences with Richardson extrapolation, symmetrised), factored by
 * Cholesky, then mapped back to theta by the delta method with the
 * Jacobian of from_free.  cov gets nparams x nparams values, row-major;
 * rows and columns of parameters flagged in fixed are NaN.  Parameters
 * derived from others (the last mixture weight) get theirs through the
 * Jacobian.
 *   EM_ERR_ARG      the model has no to_free, or is not a true EM fit
 *                   (info.monotone is 0)
 *   EM_ERR_NUMERIC  no standard errors exist here, err says why: a
 *                   parameter on the boundary of its space, or an
 *                   information matrix that is not positive definite or
 *                   is singular (parameters not identified)
 * threads is as in em_fit_options. */
em_status em_covariance(em_model *m, const double *theta,
                        const unsigned char *fixed, size_t threads,
                        double *cov, em_error *err);

/* Standard errors: the square roots of em_covariance's diagonal (NaN for
 * fixed parameters), into se (nparams values); same statuses. */
em_status em_standard_errors(em_model *m, const double *theta,
                             const unsigned char *fixed, size_t threads,
                             double *se, em_error *err);

/* EM_OK when em_covariance can run for m, before any fit: EM_ERR_ARG when
 * the model has no to_free, is not a true EM fit, or has more free
 * parameters than the numerical Hessian takes (EM_SE_MAX_FREE). */
em_status em_covariance_check(const em_model *m, em_error *err);

#define EM_SE_MAX_FREE 400
#ifdef __cplusplus
}
#endif

#endif
