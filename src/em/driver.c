#include "emfit/driver.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "em/squarem.h"

void em_fit_options_default(em_fit_options *opt)
{
    *opt = (em_fit_options){.max_iter = EM_DEFAULT_MAX_ITER,
                            .tol = EM_DEFAULT_TOL};
}

/* The E-step workspace: one statistics buffer per block of a wave, or,
 * for a part of data split across processes, per block of the part: its
 * sums can only be added once the earlier parts' total has arrived. */
typedef struct workspace {
    size_t len;      /* doubles per statistics vector */
    size_t threads;  /* at least 1 */
    size_t wave;     /* blocks computed before their sums are added */
    double *buf;     /* wave * len, or every block's when split */
    int split;       /* the model's data is one part of several */
} workspace;

static size_t block_count(const em_model *m)
{
    return (m->info.nunits + EM_BLOCK_UNITS - 1) / EM_BLOCK_UNITS;
}

static em_status workspace_init(workspace *w, const em_model *m,
                                size_t threads, em_error *err)
{
    w->len = EM_STAT_HEADER + m->info.nstats;
    w->threads = threads ? threads : 1;
    /* a few blocks per thread keep the threads busy between waves */
    w->wave = w->threads == 1 ? 1 : 4 * w->threads;
    w->split = m->parts && m->parts->nparts > 1;
    size_t nbuf = w->split ? block_count(m) : w->wave;
    w->buf = NULL;
    if (nbuf == 0)
        nbuf = 1;
    if (w->len > SIZE_MAX / sizeof(double) / nbuf ||
        !(w->buf = malloc(nbuf * w->len * sizeof *w->buf)))
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    return EM_OK;
}

typedef struct wave_job {
    const em_model *m;
    const workspace *w;
    size_t first, count, tid; /* blocks first .. first+count-1 */
    double *out;              /* their statistics, one vector each */
} wave_job;

static void run_block(const em_model *m, const workspace *w, size_t block,
                      double *out)
{
    size_t b = block * EM_BLOCK_UNITS, n = m->info.nunits;
    size_t e = n - b < EM_BLOCK_UNITS ? n : b + EM_BLOCK_UNITS;
    memset(out, 0, w->len * sizeof *out);
    m->type->estep(m->state, b, e, out);
}

/* Thread tid runs blocks tid, tid + threads, ... of the wave. */
static void *wave_thread(void *arg)
{
    const wave_job *j = arg;
    for (size_t i = j->tid; i < j->count; i += j->w->threads)
        run_block(j->m, j->w, j->first + i, j->out + i * j->w->len);
    return NULL;
}

/* Runs count blocks from first, on threads when there are several; if a
 * thread cannot start, the calling thread does its share. */
static void run_wave(const em_model *m, const workspace *w, size_t first,
                     size_t count, double *out)
{
    pthread_t tids[EM_MAX_THREADS];
    wave_job jobs[EM_MAX_THREADS];
    int started[EM_MAX_THREADS] = {0};
    size_t nt = w->threads < count ? w->threads : count;
    for (size_t t = 0; t < nt; t++) {
        jobs[t] = (wave_job){.m = m, .w = w, .first = first, .count = count,
                             .tid = t, .out = out};
        started[t] = t > 0 && pthread_create(&tids[t], NULL, wave_thread,
                                             &jobs[t]) == 0;
    }
    for (size_t t = 0; t < nt; t++)
        if (!started[t])
            wave_thread(&jobs[t]);
    for (size_t t = 1; t < nt; t++)
        if (started[t])
            pthread_join(tids[t], NULL);
}

/* One pass over the data.  Each block is summed into its own zeroed buffer
 * and the buffers are added to the total in block order, whatever thread
 * computed them: the grouping of additions is a property of the data
 * alone, so any number of threads (or streams, or ranks) reproduces the
 * single-threaded fit bit for bit. */
static void add_blocks(double *total, const double *buf, size_t count,
                       size_t len)
{
    for (size_t i = 0; i < count; i++)
        for (size_t q = 0; q < len; q++)
            total[q] += buf[i * len + q];
}

typedef struct part_sums {
    const workspace *w;
    size_t nblocks;
} part_sums;

static void add_part(void *ctx, double *total)
{
    const part_sums *ps = ctx;
    add_blocks(total, ps->w->buf, ps->nblocks, ps->w->len);
}

static em_status estep_blocks(em_model *m, const double *theta, double *total,
                              const workspace *w, em_error *err)
{
    em_status st = m->type->prepare(m->state, theta, err);
    if (st != EM_OK)
        return st;
    memset(total, 0, w->len * sizeof *total);
    size_t nblocks = block_count(m);
    for (size_t first = 0; first < nblocks; first += w->wave) {
        size_t count = nblocks - first < w->wave ? nblocks - first : w->wave;
        double *out = w->buf + (w->split ? first * w->len : 0);
        run_wave(m, w, first, count, out);
        if (!w->split)
            add_blocks(total, out, count, w->len);
    }
    if (!w->split)
        return EM_OK;
    /* The parts' blocks follow each other, so adding them part after part
     * repeats the single process's additions exactly. */
    part_sums ps = {.w = w, .nblocks = nblocks};
    return em_parts_fold(m->parts, total, w->len, add_part, &ps, err);
}

em_status em_estep_all(em_model *m, const double *theta, double *stats,
                       em_error *err)
{
    workspace w;
    em_status st = workspace_init(&w, m, 1, err);
    if (st == EM_OK)
        st = estep_blocks(m, theta, stats, &w, err);
    free(w.buf);
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
    /* Rounding in densities grows with the covariances' condition number:
     * past EM_ILL_CONDITIONED any fall is numerical failure, below it a
     * fall within 100 * cond * DBL_EPSILON (at most 2.2e-6) is rounding. */
    double cond = m->type->condition ? m->type->condition(m->state) : 0;
    int ill = !(cond <= EM_ILL_CONDITIONED); /* an overflowed estimate too */
    double slack = fmax(EM_MONOTONE_SLACK, 100.0 * cond * DBL_EPSILON);
    if (!ill && ll >= prev - loss - slack * scale_of(ll))
        return EM_OK;
    if (ill)
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
    if (fixed && m->type->nfree_held)
        return m->type->nfree_held(m->state, fixed);
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
    res->interrupted = 0;
    res->aic = 2.0 * k - 2.0 * ll;
    res->bic = k * log(nobs) - 2.0 * ll;
}

/* The M-step from theta into next, accepted only when it lands inside the
 * parameter space: a half-updated or out-of-domain theta never escapes.
 * t numbers the iteration the step starts from, for messages. */
static em_status mstep_checked(em_model *m, const double *stats,
                               const unsigned char *fixed, const double *theta,
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
    return EM_OK;
}

/* What one fit shares between its loop and the SQUAREM cycle. */
typedef struct fit_state {
    em_model *m;
    const em_fit_options *opt;
    const workspace *w;
    size_t iter;   /* the accepted iteration being stepped from */
    size_t esteps; /* E-steps so far */
} fit_state;

static em_status fit_estep(void *ctx, const double *theta, double *stats,
                           em_error *err)
{
    fit_state *fs = ctx;
    em_status st = estep_blocks(fs->m, theta, stats, fs->w, err);
    fs->esteps += st == EM_OK;
    return st;
}

static em_status fit_mstep(void *ctx, const double *stats,
                           const double *theta, double *next, double *loss,
                           em_error *err)
{
    fit_state *fs = ctx;
    return mstep_checked(fs->m, stats, fs->opt->fixed, theta, next, fs->iter,
                         loss, err);
}

/* The plain step, or a SQUAREM cycle when sq is set.  On return stats
 * holds the E-step at the new theta when *have_stats is set. */
static em_status advance(fit_state *fs, em_squarem *sq, double *theta,
                         double *stats, double *next, double *loss,
                         int *have_stats, em_error *err)
{
    if (sq) {
        *have_stats = 1;
        return em_squarem_step(sq, theta, stats, loss, err);
    }
    *have_stats = 0;
    em_status st = fit_mstep(fs, stats, theta, next, loss, err);
    if (st == EM_OK)
        memcpy(theta, next, fs->m->info.nparams * sizeof *theta);
    return st;
}

/* The one EM loop.  Each pass evaluates theta (unless the step that led
 * here already did), traces it, checks it, and steps. */
static em_status fit_loop(fit_state *fs, em_squarem *sq, double *theta,
                          double *stats, double *next, em_fit_result *res,
                          em_error *err)
{
    em_model *m = fs->m;
    const em_fit_options *opt = fs->opt;
    double prev = 0.0, loss = 0.0;
    int have_stats = 0;
    for (size_t t = 0;; t++) {
        em_status st = have_stats ? EM_OK : fit_estep(fs, theta, stats, err);
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
        if (opt->esteps)
            *opt->esteps = fs->esteps;
        if (opt->trace && (st = opt->trace(opt->trace_ctx, t, theta, ll,
                                           err)) != EM_OK)
            return st;
        if ((st = check_monotone(m, t, prev, ll, loss, err)) != EM_OK)
            return st;
        int converged = t > 0 && fabs(ll - prev) <= opt->tol * scale_of(ll);
        int stop = !converged && opt->stop && *opt->stop;
        if (converged || stop || t >= opt->max_iter) {
            fill_result(m, opt, t, converged, ll, stats[EM_STAT_NOBS], res);
            res->interrupted = stop;
            res->esteps = fs->esteps;
            res->accel = opt->accel;
            if (stop)
                return EM_OK; /* a partial fit: not judged as a final one */
            return m->type->check_fit
                       ? m->type->check_fit(m->state, theta, err)
                       : EM_OK;
        }
        fs->iter = t;
        if ((st = advance(fs, sq, theta, stats, next, &loss, &have_stats,
                          err)) != EM_OK)
            return st;
        prev = ll;
    }
}

static em_status check_options(const em_model *m, const double *theta,
                               const em_fit_options *opt, em_error *err)
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
    if (opt->threads > EM_MAX_THREADS)
        return em_error_set(err, EM_ERR_ARG, "at most %d threads",
                            EM_MAX_THREADS);
    if (opt->accel != EM_ACCEL_NONE && opt->accel != EM_ACCEL_SQUAREM)
        return em_error_set(err, EM_ERR_ARG, "unknown acceleration %d",
                            (int)opt->accel);
    return EM_OK;
}

em_status em_fit(em_model *m, double *theta, const em_fit_options *opt,
                 em_fit_result *res, em_error *err)
{
    em_status st = check_options(m, theta, opt, err);
    if (st != EM_OK)
        return st;
    workspace w;
    fit_state fs = {.m = m, .opt = opt, .w = &w};
    em_squarem sq = {0};
    int accel = opt->accel == EM_ACCEL_SQUAREM;
    st = workspace_init(&w, m, opt->threads, err);
    double *stats = calloc(w.len, sizeof *stats);
    double *next = calloc(m->info.nparams ? m->info.nparams : 1, sizeof *next);
    if (st == EM_OK && (!stats || !next))
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    if (st == EM_OK && accel)
        st = em_squarem_init(&sq, m, opt->fixed,
                             (em_squarem_ops){.ctx = &fs,
                                              .estep = fit_estep,
                                              .mstep = fit_mstep},
                             err);
    if (st == EM_OK)
        st = fit_loop(&fs, accel ? &sq : NULL, theta, stats, next, res, err);
    em_squarem_free(&sq);
    free(stats);
    free(w.buf);
    free(next);
    return st;
}

em_status em_loglik(em_model *m, const double *theta, size_t threads,
                    double *loglik, em_error *err)
{
    if (threads > EM_MAX_THREADS)
        return em_error_set(err, EM_ERR_ARG, "at most %d threads",
                            EM_MAX_THREADS);
    workspace w;
    em_status st = workspace_init(&w, m, threads, err);
    double *stats = st == EM_OK ? malloc(w.len * sizeof *stats) : NULL;
    if (st == EM_OK && !stats)
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    if (st == EM_OK)
        st = estep_blocks(m, theta, stats, &w, err);
    if (st == EM_OK)
        *loglik = stats[EM_STAT_LOGLIK];
    free(stats);
    free(w.buf);
    return st;
}

int em_accel_parse(const char *s, em_accel *out)
{
    if (strcmp(s, "none") == 0)
        *out = EM_ACCEL_NONE;
    else if (strcmp(s, "squarem") == 0)
        *out = EM_ACCEL_SQUAREM;
    else
        return 0;
    return 1;
}

const char *em_accel_name(em_accel accel)
{
    return accel == EM_ACCEL_SQUAREM ? "squarem" : "none";
}
