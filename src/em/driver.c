#include "emfit/driver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void em_fit_options_default(em_fit_options *opt)
{
    *opt = (em_fit_options){.max_iter = EM_DEFAULT_MAX_ITER,
                            .tol = EM_DEFAULT_TOL};
}

/* One pass over the data.  Each block is summed into its own zeroed buffer
 * and then added to the total in block order: the grouping of additions is
 * then a property of the data alone, which is what lets threads, streams and
 * ranks reproduce a single-process fit exactly. */
static em_status estep_blocks(em_model *m, const double *theta, double *total,
                              double *block, em_error *err)
{
    size_t len = EM_STAT_HEADER + m->info.nstats;
    em_status st = m->type->prepare(m->state, theta, err);
    if (st != EM_OK)
        return st;
    memset(total, 0, len * sizeof *total);
    for (size_t b = 0; b < m->info.nunits; b += EM_BLOCK_UNITS) {
        size_t e = m->info.nunits - b < EM_BLOCK_UNITS ? m->info.nunits
                                                       : b + EM_BLOCK_UNITS;
        memset(block, 0, len * sizeof *block);
        m->type->estep(m->state, b, e, block);
        for (size_t i = 0; i < len; i++)
            total[i] += block[i];
    }
    return EM_OK;
}

em_status em_estep_all(em_model *m, const double *theta, double *stats,
                       em_error *err)
{
    double *block = calloc(EM_STAT_HEADER + m->info.nstats, sizeof *block);
    if (!block)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = estep_blocks(m, theta, stats, block, err);
    free(block);
    return st;
}

static double scale_of(double loglik)
{
    return fmax(1.0, fabs(loglik));
}

/* Checks the log-likelihood of iteration t against the previous one;
 * loss is what the M-step between them was allowed to lose (>= 0). */
static em_status check_monotone(const em_model *m, size_t t, double prev,
                                double ll, double loss, em_error *err)
{
    if (!m->info.monotone || t == 0)
        return EM_OK;
    if (ll >= prev - loss - EM_MONOTONE_SLACK * scale_of(ll))
        return EM_OK;
    double cond = m->type->condition ? m->type->condition(m->state) : 0;
    if (cond > EM_ILL_CONDITIONED)
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the log-likelihood fell from %.17g to %.17g at "
                            "iteration %zu while a covariance is nearly "
                            "singular (condition number about %.2g), so "
                            "rounding decides the result: the fit is "
                            "numerically unreliable",
                            prev, ll, t, cond);
    return em_error_set(err, EM_ERR_BUG,
                        "the log-likelihood decreased from %.17g to %.17g at "
                        "iteration %zu; EM never decreases it, so this is a "
                        "bug in emfit's %s model: please report it",
                        prev, ll, t, m->type->name);
}

static size_t count_free(const em_model *m, const unsigned char *fixed)
{
    size_t k = m->info.nfree;
    for (size_t i = 0; fixed && i < m->info.nparams; i++)
        k -= fixed[i] && k > 0;
    return k;
}

static void fill_result(const em_model *m, const em_fit_options *opt,
                        size_t t, int converged, double ll, double nobs,
                        em_fit_result *res)
{
    size_t nfree = count_free(m, opt->fixed);
    double k = (double)nfree;
    res->iterations = t;
    res->converged = converged;
    res->loglik = ll;
    res->nobs = (size_t)nobs;
    res->nfree = nfree;
    res->aic = 2.0 * k - 2.0 * ll;
    res->bic = k * log(nobs) - 2.0 * ll;
}

/* The M-step into a scratch vector, accepted only when it lands inside the
 * parameter space: a half-updated or out-of-domain theta never escapes. */
static em_status mstep_checked(em_model *m, const double *stats,
                               const unsigned char *fixed, double *theta,
                               double *next, size_t t, double *loss,
                               em_error *err)
{
    size_t np = m->info.nparams, bad;
    memcpy(next, theta, np * sizeof *next);
    em_status st = m->type->mstep(m->state, stats, fixed, next, err);
    if (st != EM_OK)
        return st;
    for (size_t i = 0; fixed && i < np; i++)
        if (fixed[i] && memcmp(&next[i], &theta[i], sizeof next[i]) != 0)
            return em_error_set(err, EM_ERR_BUG,
                                "the %s model's M-step changed the fixed "
                                "parameter %s: please report this bug",
                                m->type->name, m->info.param_names[i]);
    if (m->type->check(m->state, next, &bad, err) != EM_OK)
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the M-step of iteration %zu left the parameter "
                            "space (%s = %g)",
                            t + 1, m->info.param_names[bad], next[bad]);
    double gain = m->type->q_gain
                      ? m->type->q_gain(m->state, stats, theta, next)
                      : 0.0;
    *loss = gain < 0 ? -gain : 0.0; /* NaN allows nothing */
    memcpy(theta, next, np * sizeof *theta);
    return EM_OK;
}

static em_status fit_loop(em_model *m, double *theta, const em_fit_options *opt,
                          double *stats, double *block, double *next,
                          em_fit_result *res, em_error *err)
{
    double prev = 0.0, loss = 0.0;
    for (size_t t = 0;; t++) {
        em_status st = estep_blocks(m, theta, stats, block, err);
        if (st != EM_OK)
            return st;
        double ll = stats[EM_STAT_LOGLIK];
        if (ll == -INFINITY)
            return em_error_set(err, EM_ERR_NUMERIC,
                                "the data have probability 0 under the "
                                "parameters of iteration %zu%s",
                                t, t ? "" : " (the start)");
        if (!isfinite(ll))
            return em_error_set(err, EM_ERR_NUMERIC,
                                "the log-likelihood is not finite at "
                                "iteration %zu",
                                t);
        if (opt->trace && (st = opt->trace(opt->trace_ctx, t, theta, ll,
                                           err)) != EM_OK)
            return st;
        if ((st = check_monotone(m, t, prev, ll, loss, err)) != EM_OK)
            return st;
        int converged = t > 0 && fabs(ll - prev) <= opt->tol * scale_of(ll);
        if (converged || t >= opt->max_iter) {
            fill_result(m, opt, t, converged, ll, stats[EM_STAT_NOBS], res);
            return m->type->check_fit
                       ? m->type->check_fit(m->state, theta, err)
                       : EM_OK;
        }
        if ((st = mstep_checked(m, stats, opt->fixed, theta, next, t, &loss,
                                err)) != EM_OK)
            return st;
        prev = ll;
    }
}

em_status em_fit(em_model *m, double *theta, const em_fit_options *opt,
                 em_fit_result *res, em_error *err)
{
    size_t bad;
    if (m->type->check(m->state, theta, &bad, err) != EM_OK)
        return EM_ERR_ARG;
    if (!(opt->tol >= 0))
        return em_error_set(err, EM_ERR_ARG, "the tolerance must be >= 0");
    if (opt->fixed && !m->type->fixable)
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model cannot hold parameters fixed",
                            m->type->name);
    size_t len = EM_STAT_HEADER + m->info.nstats;
    double *stats = calloc(len, sizeof *stats);
    double *block = calloc(len, sizeof *block);
    double *next = calloc(m->info.nparams, sizeof *next);
    em_status st;
    if (!stats || !block || !next)
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    else
        st = fit_loop(m, theta, opt, stats, block, next, res, err);
    free(stats);
    free(block);
    free(next);
    return st;
}
