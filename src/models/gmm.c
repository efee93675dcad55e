/* gmm: a mixture of K Gaussians in D dimensions, with missing values.
 *
 * Parameters (theta), in this order:
 *   w1..wK                weights
 *   mean{k}_{i}           K x D means
 *   covariances, by structure:
 *     full       cov{k}_{i}_{j}, i <= j   (K x D(D+1)/2)
 *     diag       var{k}_{i}               (K x D)
 *     spherical  var{k}                   (K)
 *     tied       cov_{i}_{j}, i <= j      (D(D+1)/2, shared)
 *
 * E-step, in log space: for each row and component, the log-density of the
 * row's observed coordinates o under N(mu_o, S_oo) via the Cholesky factor
 * of S_oo (never an inverse), log-sum-exp over components for the row's
 * log-likelihood and responsibilities r.  Missing coordinates m enter the
 * statistics through their conditional moments given o:
 *   E[x_m] = mu_m + S_mo S_oo^-1 (x_o - mu_o) = mu_m + W^T y,
 *   Cov[x_m] = S_mm - W^T W,    with y = L^-1 (x_o - mu_o), W = L^-1 S_om,
 * so a row with nothing missing is exactly the ordinary E-step.
 *
 * Statistics per component, about its current mean mu (the shift keeps
 * second moments free of cancellation): N_k = sum r, S1 = sum r d,
 * S2 = sum r (d d^T + conditional covariance), d = E[x] - mu.
 *
 * M-step: w = N_k / N, mu += S1 / N_k, and with M = S2 / N_k - (S1/N_k)^2
 * the covariance is M (full), diag(M) (diag), trace(M) / D (spherical) or
 * sum_k N_k M_k / N (tied), plus reg on the diagonal.  reg (default 1e-6,
 * as scikit-learn's reg_covar) keeps a component that collapses onto few
 * points from a singular covariance.  A component whose responsibilities
 * all underflow to 0 keeps its mean and covariance with weight 0.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "core/numeric.h"
#include "core/rng.h"
#include "core/scale.h"
#include "core/scratch.h"
#include "core/text.h"
#include "emfit/json.h"
#include "models/gauss.h"
#include "models/gauss_mstep.h"
#include "models/gmm_block.h"
#include "models/models.h"

static const char *const gmm_options[] = {
    "components", "cov", "reg", "init", "restarts", "criterion", NULL};


typedef struct gmm {
    const em_table *data;
    size_t n, d, k;
    em_cov_kind cov;
    double reg;
    int init_random;
    size_t nparams, ncov; /* ncov: covariance parameters per component
                             (all of them for tied) */
    size_t tri;           /* D(D+1)/2 */
    size_t nstat_k;       /* statistics per component */
    int diag_stats;       /* diag, spherical: second moments of the
                             diagonal only */
    char **names;
    /* prepared per iteration */
    double *logw; /* K */
    double *mu;   /* K x D */
    double *sig;  /* K x D x D, full matrices */
    double *chol; /* K x D x D, Cholesky factors of sig */
    double *logdet;
    double *inv;  /* K x D: 1 / L_ii, or 1 / variance (diag, spherical) */
    double *cst;  /* K: log w - (D log 2 pi + log det) / 2 */
    gmm_block_params bp; /* the above, for the block E-step */
    double *colmean, *colvar; /* of the observed values, per column */
    size_t nused; /* rows with data, in the whole table */
} gmm;

/* ---- layout -------------------------------------------------------- */

static size_t off_mean(const gmm *g, size_t k)
{
    return g->k + k * g->d;
}

static size_t off_cov(const gmm *g, size_t k)
{
    return g->k + g->k * g->d + (g->cov == EM_COV_TIED ? 0 : k * g->ncov);
}

/* Expands component k's covariance parameters into a full matrix. */
static void expand_cov(const gmm *g, const double *th, size_t k, double *s)
{
    em_gauss_cov_expand(g->cov, g->d, th + off_cov(g, k), s);
}

/* ---- names ------------------------------------------------------------ */

static char *format_name(const char *fmt, size_t a, size_t b, size_t c)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, a, b, c);
    return em_strdup(buf);
}

static int make_names(gmm *g)
{
    size_t d = g->d, p = 0;
    char **nm = g->names;
    for (size_t k = 0; k < g->k; k++)
        nm[p++] = format_name("w%zu", k + 1, 0, 0);
    for (size_t k = 0; k < g->k; k++)
        for (size_t i = 0; i < d; i++)
            nm[p++] = format_name("mean%zu_%zu", k + 1, i + 1, 0);
    size_t ncomp = g->cov == EM_COV_TIED ? 1 : g->k;
    for (size_t k = 0; k < ncomp; k++) {
        if (g->cov == EM_COV_SPHERICAL)
            nm[p++] = format_name("var%zu", k + 1, 0, 0);
        for (size_t i = 0; g->cov == EM_COV_DIAG && i < d; i++)
            nm[p++] = format_name("var%zu_%zu", k + 1, i + 1, 0);
        for (size_t i = 0;
             (g->cov == EM_COV_FULL || g->cov == EM_COV_TIED) && i < d; i++)
            for (size_t j = i; j < d; j++)
                nm[p++] = g->cov == EM_COV_TIED
                              ? format_name("cov_%zu_%zu", i + 1, j + 1, 0)
                              : format_name("cov%zu_%zu_%zu", k + 1, i + 1,
                                            j + 1);
    }
    for (size_t i = 0; i < p; i++)
        if (!nm[i])
            return 0;
    return 1;
}

/* ---- create ----------------------------------------------------------- */

static void gmm_destroy(void *state)
{
    gmm *g = state;
    if (!g)
        return;
    for (size_t i = 0; g->names && i < g->nparams; i++)
        free(g->names[i]);
    free(g->names);
    free(g->logw);
    free(g->mu);
    free(g->sig);
    free(g->chol);
    free(g->logdet);
    free(g->inv);
    free(g->cst);
    free(g->colmean);
    free(g->colvar);
    free(g);
}

static em_status parse_settings(const em_model_config *cfg, gmm *g,
                                em_error *err)
{
    g->k = cfg->k ? cfg->k : 1;
    em_status st = em_gauss_settings(cfg, &g->cov, &g->reg, err);
    if (st != EM_OK)
        return st;
    g->init_random = cfg->init && strcmp(cfg->init, "random") == 0;
    if (cfg->init && !g->init_random && strcmp(cfg->init, "kmeans++") != 0)
        return em_error_set(err, EM_ERR_ARG,
                            "--init must be kmeans++ or random, not \"%s\"",
                            cfg->init);
    return EM_OK;
}

/* Rows x and y hold the same values (NaN equal to NaN). */
static int same_values(const double *x, const double *y, size_t d)
{
    for (size_t j = 0; j < d; j++)
        if (!(x[j] == y[j] || (isnan(x[j]) && isnan(y[j]))))
            return 0;
    return 1;
}

/* The distinct rows with data, up to a limit: acc holds their number
 * then their values, so the cost is O(rows x limit). */
static void distinct_rows(void *ctx, const em_table *t, double *acc)
{
    size_t limit = *(const size_t *)ctx, d = t->ncols;
    double *seen = acc + 1;
    for (size_t i = 0; i < t->nrows && acc[0] < (double)limit; i++) {
        const double *x = t->values + i * d;
        int any = 0, dup = 0;
        for (size_t j = 0; j < d; j++)
            any |= !isnan(x[j]);
        for (size_t s = 0; any && !dup && s < (size_t)acc[0]; s++)
            dup = same_values(seen + s * d, x, d);
        if (any && !dup)
            memcpy(seen + (size_t)(acc[0]++) * d, x, d * sizeof *x);
    }
}

static em_status count_distinct(const em_table *t, size_t limit,
                                size_t *count, em_error *err)
{
    size_t n = 1 + limit * t->ncols;
    double *acc = calloc(n, sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = em_table_fold(t, acc, n, distinct_rows, &limit, err);
    *count = (size_t)acc[0];
    free(acc);
    return st;
}

/* acc: rows with data, then per column 0 (unseen), 1 (seen) or 2 (seen
 * and varies) and its first value. */
static void column_states(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    size_t d = t->ncols;
    for (size_t i = 0; i < t->nrows; i++) {
        const double *x = t->values + i * d;
        int any = 0;
        for (size_t j = 0; j < d; j++) {
            double *c = acc + 1 + 2 * j;
            if (isnan(x[j]))
                continue;
            any = 1;
            if (!c[0])
                c[1] = x[j], c[0] = 1;
            else if (x[j] != c[1])
                c[0] = 2;
        }
        acc[0] += any;
    }
}

/* Refuses data no mixture of K components can be fitted to. */
static em_status check_data(const em_table *t, const gmm *g, size_t *skipped,
                            em_error *err)
{
    size_t d = t->ncols;
    double *acc = calloc(1 + 2 * d, sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = em_table_fold(t, acc, 1 + 2 * d, column_states, NULL, err);
    size_t bad = d, used = (size_t)acc[0];
    for (size_t j = 0; st == EM_OK && j < d && bad == d; j++)
        if (acc[1 + 2 * j] == 0 || (acc[1 + 2 * j] == 1 && g->reg == 0))
            bad = j;
    int unseen = bad < d && acc[1 + 2 * bad] == 0;
    free(acc);
    if (st != EM_OK)
        return st;
    if (bad < d && unseen)
        return em_error_set(err, EM_ERR_DATA,
                            "column \"%s\" has no observed values",
                            t->names[bad]);
    if (bad < d)
        return em_error_set(err, EM_ERR_DATA,
                            "column \"%s\" is constant, so its variance "
                            "is 0: use --reg > 0 or leave it out",
                            t->names[bad]);
    *skipped = em_table_total(t) - used;
    size_t distinct = 0;
    if ((st = count_distinct(t, g->k, &distinct, err)) != EM_OK)
        return st;
    if (distinct < g->k)
        return em_error_set(err, EM_ERR_DATA,
                            "only %zu distinct row(s) for %zu components: a "
                            "mixture needs at least one distinct row per "
                            "component",
                            distinct, g->k);
    return EM_OK;
}

static int alloc_state(gmm *g)
{
    size_t k = g->k, d = g->d;
    g->names = calloc(g->nparams, sizeof *g->names);
    g->logw = calloc(k, sizeof *g->logw);
    g->mu = calloc(k * d, sizeof *g->mu);
    g->sig = calloc(k * d * d, sizeof *g->sig);
    g->chol = calloc(k * d * d, sizeof *g->chol);
    g->logdet = calloc(k, sizeof *g->logdet);
    g->inv = calloc(k * d, sizeof *g->inv);
    g->cst = calloc(k, sizeof *g->cst);
    g->colmean = calloc(d, sizeof *g->colmean);
    g->colvar = calloc(d, sizeof *g->colvar);
    g->bp = (gmm_block_params){.d = d,
                               .k = k,
                               .factor = !g->diag_stats,
                               .diag_stats = g->diag_stats,
                               .mu = g->mu,
                               .chol = g->chol,
                               .inv = g->inv,
                               .cst = g->cst};
    return g->names && g->logw && g->mu && g->sig && g->chol && g->logdet &&
           g->inv && g->cst && g->colmean && g->colvar && make_names(g);
}

/* Per column, over the observed values: their count and sum (mean
 * NULL), then their squared deviations from mean. */
static void column_pass(void *ctx, const em_table *t, double *acc)
{
    const double *mean = ctx;
    size_t d = t->ncols;
    for (size_t i = 0; i < t->nrows; i++) {
        const double *x = t->values + i * d;
        for (size_t j = 0; j < d; j++) {
            if (isnan(x[j]))
                continue;
            if (!mean)
                acc[2 * j] += 1, acc[2 * j + 1] += x[j];
            else
                acc[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
        }
    }
}

/* Column means and variances of the observed values. */
static em_status column_moments(const gmm *g, double *mean, double *var,
                                em_error *err)
{
    size_t d = g->d;
    double *acc = calloc(2 * d, sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = em_table_fold(g->data, acc, 2 * d, column_pass, NULL, err);
    for (size_t j = 0; j < d; j++)
        mean[j] = acc[2 * j + 1] / acc[2 * j], var[j] = 0;
    if (st == EM_OK)
        st = em_table_fold(g->data, var, d, column_pass, mean, err);
    for (size_t j = 0; j < d; j++)
        var[j] = var[j] / acc[2 * j] > 0 ? var[j] / acc[2 * j] : 1.0;
    free(acc);
    return st;
}

static em_status gmm_create(const em_model_config *cfg, const em_table *data,
                            void **state, em_model_info *info, em_error *err)
{
    gmm *g = calloc(1, sizeof *g);
    if (!g)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = parse_settings(cfg, g, err);
    size_t skipped = 0, d = data->ncols, k = g->k;
    /* Each K x D x D array (covariances, factors) is then at most 800 MB:
     * past that, overcommitted memory would meet the OOM killer later
     * rather than a clear error now. */
    if (st == EM_OK && (d > 1000 || k > 100000 || (double)k * d * d > 1e8))
        st = em_error_set(err, EM_ERR_ARG,
                          "%zu component%s in %zu dimension%s is more than "
                          "emfit handles (K x D x D at most 1e8)",
                          k, k == 1 ? "" : "s", d, d == 1 ? "" : "s");
    if (st == EM_OK)
        st = em_check_scale(data, err);
    if (st == EM_OK)
        st = check_data(data, g, &skipped, err);
    if (st != EM_OK) {
        gmm_destroy(g);
        return st;
    }
    g->data = data;
    g->n = data->nrows;
    g->d = d;
    g->tri = d * (d + 1) / 2;
    g->ncov = em_gauss_ncov(g->cov, d);
    g->nparams = k + k * d + (g->cov == EM_COV_TIED ? g->tri : k * g->ncov);
    g->diag_stats = em_gauss_diag_stats(g->cov);
    g->nstat_k = em_gauss_nstat(g->cov, d);
    if (!alloc_state(g)) {
        gmm_destroy(g);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    g->nused = em_table_total(data) - skipped;
    if ((st = column_moments(g, g->colmean, g->colvar, err)) != EM_OK) {
        gmm_destroy(g);
        return st;
    }
    *state = g;
    size_t nfree = g->nparams - 1; /* the weights sum to 1 */
    *info = (em_model_info){.nparams = g->nparams,
                            .param_names = (const char *const *)g->names,
                            .nfree = nfree,
                            .nunits = g->n,
                            .nstats = k * g->nstat_k,
                            .nskipped = skipped,
                            .nclasses = k,
                            .monotone = 1};
    return EM_OK;
}

/* ---- parameters -------------------------------------------------------- */

static em_status gmm_check(const void *state, const double *th, size_t *bad,
                           em_error *err)
{
    const gmm *g = state;
    double sum = 0;
    for (size_t k = 0; k < g->k; k++) {
        if (!(th[k] >= 0 && th[k] <= 1)) {
            *bad = k;
            return em_error_set(err, EM_ERR_ARG,
                                "%s = %g: a weight must lie in [0, 1]",
                                g->names[k], th[k]);
        }
        sum += th[k];
    }
    if (!(fabs(sum - 1) <= 1e-9 * (double)g->k)) {
        *bad = 0;
        return em_error_set(err, EM_ERR_ARG,
                            "the weights sum to %.17g, not 1", sum);
    }
    for (size_t i = g->k; i < g->nparams; i++)
        if (!isfinite(th[i])) {
            *bad = i;
            return em_error_set(err, EM_ERR_ARG, "%s = %g: must be finite",
                                g->names[i], th[i]);
        }
    double *s = malloc(g->d * g->d * sizeof *s);
    if (!s)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    size_t ncomp = g->cov == EM_COV_TIED ? 1 : g->k;
    for (size_t k = 0; k < ncomp; k++) {
        expand_cov(g, th, k, s);
        if (em_cholesky(s, g->d) != 0) {
            free(s);
            *bad = off_cov(g, k);
            return em_error_set(err, EM_ERR_ARG,
                                "the covariance of component %zu is not "
                                "positive definite",
                                k + 1);
        }
    }
    free(s);
    return EM_OK;
}

/* The largest condition number among the prepared covariances. */
static double gmm_condition(const void *state)
{
    const gmm *g = state;
    return em_chol_worst_condition(g->chol, g->cov == EM_COV_TIED ? 1 : g->k,
                                   g->d);
}

/* Without reg nothing bounds a collapsing covariance away from singular,
 * and its densities lose their digits before the factorisation fails. */
#define REG0_MAX_CONDITION 1e12
/* ... nor a variance this small a fraction of its column's. */
#define REG0_MIN_VARIANCE 1e-12

/* Without reg a component can shrink onto a point, where the likelihood
 * grows without bound; the condition number cannot see it in one
 * dimension, so compare each variance with its column's. */
static em_status check_collapse(const gmm *g, const double *th,
                                em_error *err)
{
    size_t d = g->d, ncomp = g->cov == EM_COV_TIED ? 1 : g->k;
    double *s = malloc(d * d * sizeof *s);
    if (!s)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = EM_OK;
    for (size_t k = 0; k < ncomp && st == EM_OK; k++) {
        expand_cov(g, th, k, s);
        for (size_t i = 0; i < d && st == EM_OK; i++)
            if (!(s[i * d + i] >= REG0_MIN_VARIANCE * g->colvar[i]))
                st = em_error_set(err, EM_ERR_NUMERIC,
                                  "the variance of column %zu (component "
                                  "%zu%s) collapsed towards 0, where the "
                                  "likelihood has no maximum: use --reg > 0",
                                  i + 1, k + 1,
                                  g->cov == EM_COV_TIED ? ", tied" : "");
    }
    free(s);
    return st;
}

static em_status gmm_prepare(void *state, const double *th, em_error *err)
{
    gmm *g = state;
    size_t d = g->d;
    for (size_t k = 0; k < g->k; k++) {
        g->logw[k] = th[k] > 0 ? log(th[k]) : -INFINITY;
        memcpy(g->mu + k * d, th + off_mean(g, k), d * sizeof *g->mu);
        double *s = g->sig + k * d * d, *l = g->chol + k * d * d;
        expand_cov(g, th, k, s);
        memcpy(l, s, d * d * sizeof *l);
        if (em_cholesky(l, d) != 0)
            return em_error_set(err, EM_ERR_NUMERIC,
                                "the covariance of component %zu is singular: "
                                "use --reg > 0",
                                k + 1);
        g->logdet[k] = em_chol_logdet(l, d);
        g->cst[k] = g->logw[k] - 0.5 * ((double)d * EM_LOG_2PI + g->logdet[k]);
        for (size_t i = 0; i < d; i++)
            g->inv[k * d + i] = g->diag_stats ? 1.0 / s[i * d + i]
                                              : 1.0 / l[i * d + i];
    }
    if (g->reg == 0 && gmm_condition(g) > REG0_MAX_CONDITION)
        return em_error_set(err, EM_ERR_NUMERIC,
                            "a covariance is nearly singular (condition "
                            "number above %g): use --reg > 0",
                            REG0_MAX_CONDITION);
    return g->reg == 0 ? check_collapse(g, th, err) : EM_OK;
}

/* ---- E-step ----------------------------------------------------------- */

/* Per-call scratch for one row: per component the row's pattern under
 * that component (em_gauss_work), log-densities lp, and the conditional
 * deviation x = E[x | x_o] - mu. */
typedef struct scratch {
    size_t k;
    em_gauss_work *gw;
    double *lp, *x;
    double *gather, *work; /* for the block kernel */
} scratch;

static void scratch_free(scratch *s)
{
    for (size_t k = s->k; s->gw && k-- > 0;) /* the lender, 0, last */
        em_gauss_work_free(&s->gw[k]);
    free(s->gw), free(s->lp), free(s->x);
    free(s->gather), free(s->work);
}

static int scratch_alloc(const gmm *g, scratch *s)
{
    size_t d = g->d, k = g->k;
    *s = (scratch){.k = k,
                   .gw = calloc(k, sizeof(em_gauss_work)),
                   .lp = malloc(k * sizeof(double)),
                   .x = malloc(d * sizeof(double)),
                   .gather = malloc(GMM_BLOCK_ROWS * d * sizeof(double)),
                   .work = calloc(gmm_block_work(d, k, g->diag_stats),
                                  sizeof(double))};
    int ok = s->gw && s->lp && s->x && s->gather && s->work;
    /* Every component keeps its factor between the densities and the
     * statistics; one regression at a time is enough. */
    for (size_t c = 0; ok && c < k; c++)
        ok = c == 0 ? em_gauss_work_init(&s->gw[0], d)
                    : em_gauss_work_init_borrowing(&s->gw[c], d, &s->gw[0]);
    return ok;
}

/* The log-density (log weight included) of row x's observed coordinates
 * under component k; leaves the pattern's factor and y in s->gw[k]. */
static double log_density(const gmm *g, const double *x, size_t k,
                          scratch *s)
{
    size_t d = g->d;
    em_gauss_work *w = &s->gw[k];
    /* a principal block of a PD matrix is PD: the factor cannot fail */
    em_gauss_factor(w, g->sig + k * d * d, g->chol + k * d * d,
                    g->logdet[k]);
    return g->logw[k] + em_gauss_logpdf(w, x, g->mu + k * d);
}

/* Fills s->x with E[x | x_o] - mu under component k (after log_density). */
static void conditional(const gmm *g, const double *x, size_t k, scratch *s)
{
    size_t d = g->d;
    em_gauss_work *w = &s->gw[k];
    if (w->nm > 0)
        em_gauss_regression(w, g->sig + k * d * d);
    em_gauss_cond_dev(w, x, g->mu + k * d, s->x);
}

/* Adds one row's expected statistics for component k with weight r. */
static void accumulate(const gmm *g, const double *x, size_t k, double r,
                       scratch *s, double *st)
{
    size_t d = g->d;
    double *sk = st + EM_STAT_HEADER + k * g->nstat_k;
    conditional(g, x, k, s);
    sk[0] += r;
    em_gauss_add_moments(d, s->x, r, g->diag_stats, sk + 1, sk + 1 + d);
    em_gauss_add_cond_cov(&s->gw[k], r, g->diag_stats, sk + 1 + d);
}

/* Sets every component's work to row x's pattern; returns the observed
 * count. */
static size_t split_observed(const gmm *g, const double *x, scratch *s)
{
    size_t no = 0;
    for (size_t k = 0; k < g->k; k++)
        no = em_gauss_split(&s->gw[k], x);
    return no;
}

static void estep_row(const gmm *g, const double *x, scratch *s, double *st)
{
    if (split_observed(g, x, s) == 0)
        return;
    double lse = -INFINITY;
    for (size_t k = 0; k < g->k; k++) {
        s->lp[k] = log_density(g, x, k, s);
        lse = em_logaddexp(lse, s->lp[k]);
    }
    st[EM_STAT_LOGLIK] += lse;
    st[EM_STAT_NOBS] += 1;
    for (size_t k = 0; k < g->k; k++) {
        double r = exp(s->lp[k] - lse);
        if (r > 0)
            accumulate(g, x, k, r, s, st);
    }
}

/* Fills s->lp with row x's responsibilities; returns the number of
 * observed values (0: no data, lp untouched). */
static size_t responsibilities(const gmm *g, const double *x, scratch *s)
{
    size_t no = split_observed(g, x, s);
    if (no == 0)
        return 0;
    double lse = -INFINITY;
    for (size_t k = 0; k < g->k; k++) {
        s->lp[k] = log_density(g, x, k, s);
        lse = em_logaddexp(lse, s->lp[k]);
    }
    for (size_t k = 0; k < g->k; k++)
        s->lp[k] = exp(s->lp[k] - lse);
    return no;
}

/* Runs fn over rows [begin, end) with a scratch; without memory the
 * outputs are NaN. */
static void each_row(const gmm *g, size_t begin, size_t end, double *out,
                     size_t width,
                     void (*fn)(const gmm *, const double *, scratch *,
                                double *))
{
    scratch s;
    int ok = scratch_alloc(g, &s);
    for (size_t i = begin; i < end; i++) {
        double *o = out + (i - begin) * width;
        for (size_t j = 0; j < width; j++)
            o[j] = NAN;
        if (ok)
            fn(g, g->data->values + i * g->d, &s, o);
    }
    scratch_free(&s);
}

static void posterior_row(const gmm *g, const double *x, scratch *s,
                          double *o)
{
    if (responsibilities(g, x, s))
        memcpy(o, s->lp, g->k * sizeof *o);
}

/* E[x | x_o] = sum_k r_k E[x | x_o, component k]. */
static void impute_row(const gmm *g, const double *x, scratch *s, double *o)
{
    size_t no = responsibilities(g, x, s), d = g->d;
    if (no == 0)
        return;
    for (size_t i = 0; i < d; i++)
        o[i] = isnan(x[i]) ? 0.0 : x[i];
    for (size_t k = 0; no < d && k < g->k; k++) {
        conditional(g, x, k, s);
        for (size_t b = 0; b < d - no; b++) {
            size_t i = s->gw[k].mis[b];
            o[i] += s->lp[k] * (g->mu[k * d + i] + s->x[i]);
        }
    }
}

static void gmm_posterior(const void *state, size_t begin, size_t end,
                          double *out)
{
    const gmm *g = state;
    each_row(g, begin, end, out, g->k, posterior_row);
}

static void gmm_impute(const void *state, size_t begin, size_t end,
                       double *out)
{
    const gmm *g = state;
    each_row(g, begin, end, out, g->d, impute_row);
}

static int complete(const double *x, size_t d)
{
    for (size_t i = 0; i < d; i++)
        if (isnan(x[i]))
            return 0;
    return 1;
}

/* Complete rows go to the block kernel in runs (straight from the table,
 * or gathered when rows with missing values interrupt them); the others
 * one by one through the conditional moments.  A whole block of complete
 * rows, the usual case, is recognised in one pass. */
static void estep_rows(const gmm *g, size_t begin, size_t end, scratch *s,
                       double *st)
{
    size_t d = g->d, nb = 0;
    const double *run = NULL, *values = g->data->values;
    for (size_t i = begin; i < end; i++) {
        const double *x = values + i * d;
        if (nb == 0 && end - i >= GMM_BLOCK_ROWS &&
            gmm_block_estep_complete(&g->bp, x, GMM_BLOCK_ROWS, st,
                                     s->work)) {
            i += GMM_BLOCK_ROWS - 1;
            continue;
        }
        if (!complete(x, d)) {
            estep_row(g, x, s, st);
            continue;
        }
        if (nb > 0 && run != s->gather && x != run + nb * d) {
            memcpy(s->gather, run, nb * d * sizeof *x); /* a gap */
            run = s->gather;
        }
        if (run == s->gather)
            memcpy(s->gather + nb * d, x, d * sizeof *x);
        else if (nb == 0)
            run = x;
        if (++nb == GMM_BLOCK_ROWS) {
            gmm_block_estep(&g->bp, run, nb, st, s->work);
            nb = 0;
            run = NULL;
        }
    }
    if (nb > 0)
        gmm_block_estep(&g->bp, run, nb, st, s->work);
    gmm_block_flush(&g->bp, s->work, st);
}

static void gmm_estep(const void *state, size_t begin, size_t end, double *st)
{
    const gmm *g = state;
    scratch s;
    if (!scratch_alloc(g, &s)) {
        /* Without scratch the block cannot be summed: poison the
         * log-likelihood so the driver stops instead of fitting less. */
        st[EM_STAT_LOGLIK] = NAN;
        scratch_free(&s);
        return;
    }
    estep_rows(g, begin, end, &s, st);
    scratch_free(&s);
}

/* ---- M-step ----------------------------------------------------------- */

static em_gauss_shape shape_of(const gmm *g)
{
    return (em_gauss_shape){g->cov, g->d, g->k, g->reg};
}

/* The weights here; the means and covariances in em_gauss_mstep, whose
 * tied pool divides by the row count as the weights do. */
static em_status gmm_mstep(void *state, const double *stats,
                           const unsigned char *fixed, double *th,
                           em_error *err)
{
    (void)fixed;
    gmm *g = state;
    double n = stats[EM_STAT_NOBS];
    em_gauss_shape sh = shape_of(g);
    for (size_t k = 0; k < g->k; k++)
        th[k] = stats[EM_STAT_HEADER + k * g->nstat_k] / n;
    return em_gauss_mstep(&sh, stats + EM_STAT_HEADER, n, th + off_mean(g, 0),
                          th + off_cov(g, 0), err);
}

/* The M-step the driver runs: without reg, a variance that reaches 0 is
 * the collapse the E-step would meet next, and said as such. */
static em_status gmm_mstep_checked(void *state, const double *stats,
                                   const unsigned char *fixed, double *th,
                                   em_error *err)
{
    const gmm *g = state;
    em_status st = gmm_mstep(state, stats, fixed, th, err);
    return st == EM_OK && g->reg == 0 ? check_collapse(g, th, err) : st;
}

/* The gain in Q of the M-step (see em_model_type.q_gain): reg makes the
 * step inexact, and this is what lets the driver still check it. */
static double gmm_q_gain(const void *state, const double *stats,
                         const double *cur, const double *next)
{
    const gmm *g = state;
    em_gauss_shape sh = shape_of(g);
    em_gauss_point c = {cur, cur + off_mean(g, 0), cur + off_cov(g, 0)};
    em_gauss_point x = {next, next + off_mean(g, 0), next + off_cov(g, 0)};
    return em_gauss_q_gain(&sh, stats + EM_STAT_HEADER, &c, &x);
}

/* ---- starts ----------------------------------------------------------- */

/* Squared distance over the coordinates both points have; missing values
 * in x count as the column mean (held in fill). */
static double dist2(const double *x, const double *c, const double *fill,
                    size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++) {
        double v = isnan(x[i]) ? fill[i] : x[i];
        s += (v - c[i]) * (v - c[i]);
    }
    return s;
}

static void fill_row(const double *x, const double *fill, size_t d, double *c)
{
    for (size_t i = 0; i < d; i++)
        c[i] = isnan(x[i]) ? fill[i] : x[i];
}

/* The starts read rows through folds, so that they work on a table split
 * across processes: rows are named by their index among the rows with
 * data of the whole table ("used" rows), and each part knows its own
 * (rows, nr) and where they begin among the whole's. */
typedef struct start_ctx {
    const gmm *g;
    const double *fill;  /* column means, for missing values */
    const size_t *rows;  /* this part's rows with data */
    size_t nr;
    size_t nused;        /* rows with data in the whole table */
    const double *best;  /* k-means++: per entry of rows */
    const size_t *want;  /* fetch: used-row indices, ascending ... */
    const size_t *slot;  /* ... and the centre each fills */
    size_t nwant;
    double u;            /* k-means++: the draw on the cumulative sum */
    const double *cen;   /* start_from_centres: the centres */
} start_ctx;

/* acc: used rows so far, then K x D centres; fills the wanted ones. */
static void fetch_rows(void *ctx, const em_table *t, double *acc)
{
    const start_ctx *c = ctx;
    size_t d = c->g->d, base = (size_t)acc[0];
    for (size_t i = 0; i < c->nr; i++) {
        size_t lo = 0, hi = c->nwant, u = base + i;
        while (lo < hi) { /* the first wanted index >= u */
            size_t mid = lo + (hi - lo) / 2;
            if (c->want[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < c->nwant && c->want[lo] == u; lo++)
            fill_row(t->values + c->rows[i] * d, c->fill, d,
                     acc + 1 + c->slot[lo] * d);
    }
    acc[0] = (double)(base + c->nr);
}

/* Copies the used rows want[0..n) into the centres slot[0..n). */
static em_status fetch(start_ctx *c, size_t *want, size_t *slot, size_t n,
                       double *cen, em_error *err)
{
    /* ascending want, for the search in fetch_rows (n is at most K) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && want[j - 1] > want[j]; j--) {
            size_t w = want[j], s = slot[j];
            want[j] = want[j - 1], slot[j] = slot[j - 1];
            want[j - 1] = w, slot[j - 1] = s;
        }
    size_t len = 1 + c->g->k * c->g->d;
    double *acc = calloc(len, sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    c->want = want, c->slot = slot, c->nwant = n;
    em_status st = em_table_fold(c->g->data, acc, len, fetch_rows, c, err);
    for (size_t i = 0; st == EM_OK && i < n; i++)
        memcpy(cen + slot[i] * c->g->d, acc + 1 + slot[i] * c->g->d,
               c->g->d * sizeof *cen);
    free(acc);
    return st;
}

static em_status fetch_one(start_ctx *c, size_t used, size_t k, double *cen,
                           em_error *err)
{
    return fetch(c, &used, &k, 1, cen, err);
}

/* K distinct rows, uniformly: a partial Fisher-Yates shuffle of the used
 * rows' indices, of which only the (at most 2K) moved ones are stored. */
static em_status pick_random(start_ctx *c, em_rng *rng, double *cen,
                             em_error *err)
{
    size_t k = c->g->k, nmoved = 0;
    size_t *pos = malloc(2 * k * sizeof *pos), *val = malloc(2 * k * sizeof *val);
    size_t *want = malloc(k * sizeof *want), *slot = malloc(k * sizeof *slot);
    em_status st = EM_OK;
    if (!pos || !val || !want || !slot)
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == EM_OK && i < k; i++) {
        size_t j = i + (size_t)em_rng_below(rng, c->nused - i);
        size_t pi = nmoved, pj = nmoved; /* where i and j are stored */
        for (size_t m = 0; m < nmoved; m++) {
            pi = pos[m] == i ? m : pi;
            pj = pos[m] == j ? m : pj;
        }
        size_t vi = pi < nmoved ? val[pi] : i, vj = pj < nmoved ? val[pj] : j;
        if (pi == nmoved)
            pos[nmoved] = i, pi = nmoved++;
        if (pj == nmoved && j != i)
            pos[nmoved] = j, pj = nmoved++;
        val[pj] = vi; /* j gets i's value, then i gets j's */
        val[pi] = vj;
        want[i] = vj, slot[i] = i;
    }
    if (st == EM_OK)
        st = fetch(c, want, slot, k, cen, err);
    free(pos), free(val), free(want), free(slot);
    return st;
}

/* acc: the sum of best over the used rows. */
static void sum_best(void *ctx, const em_table *t, double *acc)
{
    (void)t;
    const start_ctx *c = ctx;
    for (size_t i = 0; i < c->nr; i++)
        acc[0] += c->best[i];
}

/* acc: used rows so far, the cumulative sum of best, 1 once a row is
 * drawn, and its values: the first row whose cumulative sum passes u, or
 * the last used row. */
static void draw_row(void *ctx, const em_table *t, double *acc)
{
    const start_ctx *c = ctx;
    size_t d = c->g->d, base = (size_t)acc[0];
    for (size_t i = 0; i < c->nr && !acc[2]; i++) {
        if (base + i + 1 < c->nused && !((acc[1] += c->best[i]) > c->u))
            continue;
        fill_row(t->values + c->rows[i] * d, c->fill, d, acc + 3);
        acc[2] = 1;
    }
    acc[0] = (double)(base + c->nr);
}

/* The squared distance of each used row of this part to its nearest
 * centre, once the centre cen joins (first: the first centre). */
static void update_best(const start_ctx *c, double *best, const double *cen,
                        int first)
{
    const double *v = c->g->data->values;
    size_t d = c->g->d;
    for (size_t i = 0; i < c->nr; i++) {
        double dd = dist2(v + c->rows[i] * d, cen, c->fill, d);
        best[i] = first ? dd : fmin(best[i], dd);
    }
}

/* k-means++: the first centre a uniform row, each next one drawn with
 * probability proportional to the squared distance to the nearest centre
 * so far (uniformly when every row sits on a centre). */
static em_status pick_kmeanspp(start_ctx *c, em_rng *rng, double *best,
                               double *cen, em_error *err)
{
    size_t d = c->g->d;
    double *acc = malloc((3 + d) * sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = fetch_one(c, (size_t)em_rng_below(rng, c->nused), 0, cen,
                             err);
    update_best(c, best, cen, 1);
    c->best = best;
    for (size_t k = 1; st == EM_OK && k < c->g->k; k++) {
        double total = 0;
        if ((st = em_table_fold(c->g->data, &total, 1, sum_best, c, err)) !=
            EM_OK)
            break;
        if (!(total > 0)) {
            st = fetch_one(c, (size_t)em_rng_below(rng, c->nused), k, cen,
                           err);
        } else {
            c->u = em_rng_uniform(rng) * total;
            memset(acc, 0, (3 + d) * sizeof *acc);
            st = em_table_fold(c->g->data, acc, 3 + d, draw_row, c, err);
            memcpy(cen + k * d, acc + 3, d * sizeof *cen);
        }
        update_best(c, best, cen + k * d, 0);
    }
    free(acc);
    return st;
}

/* acc: the statistics of a hard assignment of every used row to its
 * nearest centre, about that centre. */
static void assign_rows(void *ctx, const em_table *t, double *acc)
{
    const start_ctx *c = ctx;
    const gmm *g = c->g;
    size_t d = g->d;
    for (size_t i = 0; i < c->nr; i++) {
        const double *x = t->values + c->rows[i] * d, *cen = c->cen;
        size_t kb = 0;
        double bd = INFINITY;
        for (size_t k = 0; k < g->k; k++) {
            double dd = dist2(x, cen + k * d, c->fill, d);
            if (dd < bd)
                bd = dd, kb = k;
        }
        double *sk = acc + EM_STAT_HEADER + kb * g->nstat_k;
        sk[0] += 1;
        for (size_t a = 0; a < d; a++) {
            double da = (isnan(x[a]) ? c->fill[a] : x[a]) - cen[kb * d + a];
            sk[1 + a] += da;
            if (g->diag_stats) {
                sk[1 + d + a] += da * da;
                continue;
            }
            for (size_t b = a; b < d; b++) {
                double db =
                    (isnan(x[b]) ? c->fill[b] : x[b]) - cen[kb * d + b];
                sk[1 + d + em_gauss_tri(d, a, b)] += da * db;
            }
        }
    }
}

/* Starting parameters from a hard assignment of every used row to its
 * nearest centre: one M-step on 0/1 responsibilities. */
static em_status start_from_centres(gmm *g, start_ctx *c, const double *cen,
                                    double *th, em_error *err)
{
    size_t len = EM_STAT_HEADER + g->k * g->nstat_k;
    double *st = calloc(len, sizeof *st);
    if (!st)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    /* Covariances start at 0 so that a centre no row chose gets the
     * repaired default, whatever theta held on entry. */
    memset(th + off_cov(g, 0), 0,
           (g->nparams - off_cov(g, 0)) * sizeof *th);
    /* Moments about each centre, the shift the M-step adds back. */
    for (size_t k = 0; k < g->k; k++) {
        th[k] = 1.0 / (double)g->k;
        memcpy(th + off_mean(g, k), cen + k * g->d, g->d * sizeof *th);
    }
    c->cen = cen;
    em_status s = em_table_fold(g->data, st, len, assign_rows, c, err);
    st[EM_STAT_NOBS] = (double)c->nused;
    if (s == EM_OK)
        s = gmm_mstep(g, st, NULL, th, err);
    /* Weights (count + 1) / (rows + K): a centre no row chose still
     * starts alive. */
    for (size_t k = 0; k < g->k; k++)
        th[k] = (st[EM_STAT_HEADER + k * g->nstat_k] + 1) /
                ((double)c->nused + (double)g->k);
    free(st);
    return s;
}

/* Replaces a start covariance that is not positive definite (a centre
 * with too few rows) by the diagonal of the data's variances. */
static void repair_start(gmm *g, const double *var, double *th)
{
    double *s = malloc(g->d * g->d * sizeof *s);
    size_t ncomp = g->cov == EM_COV_TIED ? 1 : g->k;
    for (size_t k = 0; s && k < ncomp; k++) {
        expand_cov(g, th, k, s);
        if (em_cholesky(s, g->d) == 0)
            continue;
        double *c = th + off_cov(g, k);
        for (size_t i = 0; i < g->ncov; i++)
            c[i] = 0;
        for (size_t i = 0; i < g->d; i++) {
            double v = var[i] + g->reg;
            if (g->cov == EM_COV_DIAG)
                c[i] = v;
            else if (g->cov == EM_COV_SPHERICAL)
                c[0] += v / (double)g->d;
            else
                c[em_gauss_tri(g->d, i, i)] = v;
        }
    }
    free(s);
}

static em_status gmm_init(void *state, unsigned long long seed, double *th,
                          em_error *err)
{
    gmm *g = state;
    size_t d = g->d;
    size_t *rows = em_row_scratch(g->data, g->n, sizeof *rows);
    double *best = em_row_scratch(g->data, g->n, sizeof *best);
    double *cen = malloc(g->k * d * sizeof *cen);
    em_status st = EM_OK;
    if (!rows || !best || !cen) {
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    } else {
        start_ctx c = {.g = g, .fill = g->colmean, .rows = rows,
                       .nused = g->nused};
        for (size_t i = 0; i < g->n; i++) {
            size_t obs = 0;
            for (size_t j = 0; j < d; j++)
                obs += !isnan(g->data->values[i * d + j]);
            if (obs)
                rows[c.nr++] = i;
        }
        em_rng rng;
        em_rng_seed(&rng, seed);
        st = g->init_random ? pick_random(&c, &rng, cen, err)
                            : pick_kmeanspp(&c, &rng, best, cen, err);
        if (st == EM_OK)
            st = start_from_centres(g, &c, cen, th, err);
        if (st == EM_OK)
            repair_start(g, g->colvar, th);
    }
    em_row_scratch_free(rows), em_row_scratch_free(best);
    free(cen);
    return st;
}

/* "mixture": weights, means and full covariance matrices per component
 * (a tied covariance is repeated), for readers that want arrays. */
static void gmm_result_json(const void *state, const double *th, FILE *f)
{
    const gmm *g = state;
    size_t d = g->d;
    double *s = malloc(d * d * sizeof *s);
    if (!s)
        return;
    fputs("  \"mixture\": {\n    \"weights\": ", f);
    em_json_write_numbers(f, th, g->k);
    fputs(",\n    \"means\": [", f);
    for (size_t k = 0; k < g->k; k++) {
        fputs(k ? ", " : "", f);
        em_json_write_numbers(f, th + off_mean(g, k), d);
    }
    fputs("],\n    \"covariances\": [", f);
    for (size_t k = 0; k < g->k; k++) {
        expand_cov(g, th, k, s);
        fputs(k ? ", " : "", f);
        fputc('[', f);
        for (size_t i = 0; i < d; i++) {
            fputs(i ? ", " : "", f);
            em_json_write_numbers(f, s + i * d, d);
        }
        fputc(']', f);
    }
    fputs("]\n  },\n", f);
    free(s);
}

/* The components as full 2x2 matrices, for plots of two columns. */
static size_t gmm_components2d(const void *state, const double *th,
                               size_t max, double *weight, double *mean,
                               double *cov)
{
    const gmm *g = state;
    if (g->d != 2)
        return 0;
    size_t n = g->k < max ? g->k : max;
    for (size_t k = 0; k < n; k++) {
        weight[k] = th[k];
        memcpy(mean + 2 * k, th + off_mean(g, k), 2 * sizeof *mean);
        expand_cov(g, th, k, cov + 4 * k);
    }
    return n;
}

/* sum_k w_k N(x; mu_k, var_k) for one column, summed in log space as the
 * E-step sums it; a weight of 0 or a broken variance drops its term. */
static double gmm_density1d(const void *state, const double *th, double x)
{
    const gmm *g = state;
    if (g->d != 1)
        return NAN;
    double ll = -INFINITY;
    for (size_t k = 0; k < g->k; k++) {
        double v, z;
        expand_cov(g, th, k, &v);
        if (!(th[k] > 0 && v > 0))
            continue;
        z = x - th[off_mean(g, k)];
        ll = em_logaddexp(ll, log(th[k]) - 0.5 * (EM_LOG_2PI + log(v)) -
                                  0.5 * z * z / v);
    }
    return exp(ll);
}

/* ---- unconstrained coordinates (--se, --accel squarem) ----------------
 * u: log(w_k / w_K) for k < K, the means as they are, then per covariance
 * (one when tied) log variances (diag, spherical) or the Cholesky factor
 * with log diagonal (full, tied).  gmm holds nothing fixed. */

static size_t gmm_to_free(const void *state, const double *th,
                          const unsigned char *fixed, double *u)
{
    (void)fixed;
    const gmm *g = state;
    size_t m = 0, ncomp = g->cov == EM_COV_TIED ? 1 : g->k;
    for (size_t k = 0; k + 1 < g->k; k++)
        u[m++] = log(th[k]) - log(th[g->k - 1]);
    for (size_t i = 0; i < g->k * g->d; i++)
        u[m++] = th[off_mean(g, 0) + i];
    for (size_t k = 0; k < ncomp; k++, m += g->ncov)
        em_gauss_cov_to_free(g->cov, g->d, th + off_cov(g, k), u + m);
    return m;
}

/* The weights are a softmax with w_K's coordinate 0, shifted by the
 * largest coordinate so that no exp overflows. */
static void gmm_from_free(const void *state, const double *u,
                          const unsigned char *fixed, double *th)
{
    (void)fixed;
    const gmm *g = state;
    size_t m = 0, ncomp = g->cov == EM_COV_TIED ? 1 : g->k;
    double top = 0, sum = 0;
    for (size_t k = 0; k + 1 < g->k; k++)
        top = fmax(top, u[k]);
    for (size_t k = 0; k < g->k; k++)
        sum += th[k] = exp((k + 1 < g->k ? u[k] : 0.0) - top);
    for (size_t k = 0; k < g->k; k++)
        th[k] /= sum;
    m = g->k - 1;
    for (size_t i = 0; i < g->k * g->d; i++)
        th[off_mean(g, 0) + i] = u[m++];
    for (size_t k = 0; k < ncomp; k++, m += g->ncov)
        em_gauss_cov_from_free(g->cov, g->d, u + m, th + off_cov(g, k));
}

const em_model_type em_model_gmm = {
    .name = "gmm",
    .summary = "Gaussian mixture, K components, full/diag/spherical/tied "
               "covariances, missing values",
    .options = gmm_options,
    .create = gmm_create,
    .destroy = gmm_destroy,
    .init = gmm_init,
    .check = gmm_check,
    .prepare = gmm_prepare,
    .estep = gmm_estep,
    .mstep = gmm_mstep_checked,
    .q_gain = gmm_q_gain,
    .posterior = gmm_posterior,
    .impute = gmm_impute,
    .result_json = gmm_result_json,
    .condition = gmm_condition,
    .components2d = gmm_components2d,
    .density1d = gmm_density1d,
    .to_free = gmm_to_free,
    .from_free = gmm_from_free,
    .streamable = 1,
    .distributable = 1,
};
