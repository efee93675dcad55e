/* mvn: a multivariate normal in D columns with values missing anywhere.
 *
 * Parameters: mu1..muD, then the covariance as cov_i_j for i <= j, row by
 * row (cov_i_i is the variance of column i).
 *
 * E-step (see gauss.h): each row contributes the density of its observed
 * coordinates, and its missing ones enter the statistics through their
 * conditional mean and covariance given the observed.  Both need the
 * factor of S_oo and the regression W = L^-1 S_om, which depend only on
 * which coordinates are missing, so the rows of each block are sorted by
 * pattern and each pattern's regression is computed once per block (and
 * its conditional covariance added once, times the pattern's count).
 * Nothing is kept per row between calls.
 *
 * M-step: the complete-data maximum-likelihood estimate from the expected
 * statistics, taken about the current mean (see mvn.h).
 */
#include "models/mvn.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "core/numeric.h"
#include "core/scale.h"
#include "models/free_coords.h"
#include "models/gauss.h"
#include "models/models.h"

#define MAX_COLUMNS 1000
/* Rows a pair of columns must share for a correlation (as bvn asked). */
#define MIN_PAIR_ROWS 3
/* 1 - r^2 below this is a singular pair in double precision. */
#define SINGULAR_1MR2 1e-12

struct em_mvn {
    const em_table *data;
    size_t d, tri;
    em_mvn_settings set;
    /* prepared */
    double *mu;   /* d */
    double *sig;  /* d x d */
    double *chol; /* d x d */
    double logdet;
};

size_t em_mvn_nstats(size_t d)
{
    return d + d * (d + 1) / 2;
}

/* ---- checks ------------------------------------------------------------ */

/* Per column: observed values, the first of them, and 1 once another
 * differs from it. */
static void column_pass(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    size_t d = t->ncols;
    for (size_t r = 0; r < t->nrows; r++) {
        const double *x = t->values + r * d;
        for (size_t j = 0; j < d; j++) {
            double *c = acc + 3 * j;
            if (isnan(x[j]) || c[2])
                continue;
            if (c[0]++ == 0)
                c[1] = x[j];
            else if (x[j] != c[1])
                c[2] = 1;
        }
    }
}

static em_status check_columns(const em_table *t, em_error *err)
{
    size_t d = t->ncols;
    double *acc = calloc(3 * d, sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = em_table_fold(t, acc, 3 * d, column_pass, NULL, err);
    for (size_t j = 0; st == EM_OK && j < d; j++) {
        const double *c = acc + 3 * j;
        if (c[0] == 0)
            st = em_error_set(err, EM_ERR_DATA,
                              "column \"%s\" has no observed values",
                              t->names[j]);
        else if (!c[2])
            st = em_error_set(err, EM_ERR_DATA,
                              "column \"%s\" is constant (every observed "
                              "value is %g): its standard deviation would "
                              "be 0",
                              t->names[j], c[1]);
    }
    free(acc);
    return st;
}

/* Pairwise sums over the rows holding both columns of a pair, packed like
 * the covariance (the diagonal is unused): the first pass's counts and
 * sums, then, about the means they give, the second's centred moments. */
enum { P_N, P_SI, P_SJ, P_SII = 0, P_SJJ, P_SIJ, P_LEN };

typedef struct pair_sums {
    size_t tri;
    const double *first; /* P_LEN x tri: the first pass, for the second */
} pair_sums;

static void pair_pass(void *ctx, const em_table *t, double *acc)
{
    const pair_sums *p = ctx;
    size_t d = t->ncols, tri = p->tri;
    const double *f = p->first;
    for (size_t r = 0; r < t->nrows; r++) {
        const double *x = t->values + r * d;
        for (size_t i = 0; i < d; i++) {
            if (isnan(x[i]))
                continue;
            for (size_t j = i + 1; j < d; j++) {
                if (isnan(x[j]))
                    continue;
                size_t q = em_gauss_tri(d, i, j);
                if (!f) {
                    acc[P_N * tri + q] += 1;
                    acc[P_SI * tri + q] += x[i];
                    acc[P_SJ * tri + q] += x[j];
                    continue;
                }
                double n = f[P_N * tri + q];
                double a = x[i] - f[P_SI * tri + q] / n;
                double b = x[j] - f[P_SJ * tri + q] / n;
                acc[P_SII * tri + q] += a * a;
                acc[P_SJJ * tri + q] += b * b;
                acc[P_SIJ * tri + q] += a * b;
            }
        }
    }
}

static em_status pair_error(const em_table *t, const double *first,
                            const double *second, size_t i, size_t j,
                            em_error *err)
{
    size_t tri = t->ncols * (t->ncols + 1) / 2;
    size_t q = em_gauss_tri(t->ncols, i, j);
    const char *a = t->names[i], *b = t->names[j];
    double n = first[P_N * tri + q];
    if (n == 0)
        return em_error_set(err, EM_ERR_DATA,
                            "columns \"%s\" and \"%s\" are never observed in "
                            "the same row, so their covariance is not "
                            "identified",
                            a, b);
    if (n < MIN_PAIR_ROWS)
        return em_error_set(err, EM_ERR_DATA,
                            "only %zu row(s) have both \"%s\" and \"%s\"; the "
                            "correlation needs at least %d",
                            (size_t)n, a, b, MIN_PAIR_ROWS);
    double sii = second[P_SII * tri + q], sjj = second[P_SJJ * tri + q];
    /* not sii * sjj, which overflows for values near 1e140 */
    double r = sii > 0 && sjj > 0
                   ? second[P_SIJ * tri + q] / (sqrt(sii) * sqrt(sjj))
                   : 1;
    if (!(1 - r * r > SINGULAR_1MR2))
        return em_error_set(err, EM_ERR_DATA,
                            "the rows with both \"%s\" and \"%s\" lie on a "
                            "line, so the likelihood has no maximum (the "
                            "covariance would be singular)",
                            a, b);
    return EM_OK;
}

/* Every pair of columns must be seen together often enough, and not on a
 * line, for its covariance to have a maximum-likelihood estimate. */
static em_status check_pairs(const em_table *t, em_error *err)
{
    size_t d = t->ncols, tri = d * (d + 1) / 2;
    double *first = calloc(P_LEN * tri, sizeof *first);
    double *second = calloc(P_LEN * tri, sizeof *second);
    em_status st = EM_OK;
    if (!first || !second)
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    pair_sums p = {.tri = tri};
    if (st == EM_OK)
        st = em_table_fold(t, first, P_LEN * tri, pair_pass, &p, err);
    p.first = first;
    if (st == EM_OK)
        st = em_table_fold(t, second, P_LEN * tri, pair_pass, &p, err);
    for (size_t i = 0; st == EM_OK && i < d; i++)
        for (size_t j = i + 1; st == EM_OK && j < d; j++)
            st = pair_error(t, first, second, i, j, err);
    free(first), free(second);
    return st;
}

static void empty_rows(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    for (size_t r = 0; r < t->nrows; r++) {
        int any = 0;
        for (size_t j = 0; j < t->ncols; j++)
            any |= !isnan(em_table_at(t, r, j));
        acc[0] += !any;
    }
}

/* ---- core -------------------------------------------------------------- */

void em_mvn_free(em_mvn *m)
{
    if (!m)
        return;
    free(m->mu), free(m->sig), free(m->chol);
    free(m);
}

em_status em_mvn_create(const em_table *data, const em_mvn_settings *set,
                        em_mvn **out, size_t *nskipped, em_error *err)
{
    size_t d = data->ncols;
    if (d == 0 || d > MAX_COLUMNS)
        return em_error_set(err, EM_ERR_ARG,
                            "%zu columns: a normal model takes 1 to %d",
                            d, MAX_COLUMNS);
    double empty = 0;
    em_status st = em_check_scale(data, err);
    if (st == EM_OK)
        st = check_columns(data, err);
    if (st == EM_OK)
        st = check_pairs(data, err);
    if (st == EM_OK)
        st = em_table_fold(data, &empty, 1, empty_rows, NULL, err);
    if (st != EM_OK)
        return st;
    em_mvn *m = calloc(1, sizeof *m);
    if (m) {
        *m = (em_mvn){.data = data, .d = d, .tri = d * (d + 1) / 2,
                      .set = *set,
                      .mu = malloc(d * sizeof(double)),
                      .sig = malloc(d * d * sizeof(double)),
                      .chol = malloc(d * d * sizeof(double))};
    }
    if (!m || !m->mu || !m->sig || !m->chol) {
        em_mvn_free(m);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    *nskipped = (size_t)empty;
    *out = m;
    return EM_OK;
}

/* ---- start ------------------------------------------------------------- */

/* The value a start uses: the observed one, else fill when asked for. */
static double start_value(const em_mvn *m, double v)
{
    return !isnan(v) || !m->set.has_fill ? v : m->set.fill;
}

static int row_has_data(const double *x, size_t d)
{
    for (size_t j = 0; j < d; j++)
        if (!isnan(x[j]))
            return 1;
    return 0;
}

/* Per column, over the rows with data: the start values' count and sum
 * (first pass, mean NULL), then their squared deviations from the mean. */
typedef struct start_pass {
    const em_mvn *m;
    const double *count_sum; /* the first pass: count, sum per column */
} start_pass;

static void mean_pass(void *ctx, const em_table *t, double *acc)
{
    const start_pass *sp = ctx;
    size_t d = t->ncols;
    const double *cs = sp->count_sum;
    for (size_t r = 0; r < t->nrows; r++) {
        const double *x = t->values + r * d;
        if (!row_has_data(x, d))
            continue;
        for (size_t j = 0; j < d; j++) {
            double v = start_value(sp->m, x[j]);
            if (isnan(v))
                continue;
            if (!cs) {
                acc[2 * j] += 1, acc[2 * j + 1] += v;
                continue;
            }
            double mean = cs[2 * j + 1] / cs[2 * j];
            acc[j] += (v - mean) * (v - mean);
        }
    }
}

/* Per pair i < j over the rows holding both start values: the count, the
 * sums of the deviations a, b from the column means mu, and of a a, b b,
 * a b (deviations first, so the shift formula loses nothing). */
enum { C_N, C_I, C_J, C_II, C_JJ, C_IJ, C_LEN };

static void correlation_pass(void *ctx, const em_table *t, double *acc)
{
    const start_pass *sp = ctx;
    size_t d = t->ncols;
    const double *mu = sp->count_sum;
    for (size_t r = 0; r < t->nrows; r++) {
        const double *x = t->values + r * d;
        if (!row_has_data(x, d))
            continue;
        for (size_t i = 0; i < d; i++)
            for (size_t j = i + 1; j < d; j++) {
                double a = start_value(sp->m, x[i]) - mu[i];
                double b = start_value(sp->m, x[j]) - mu[j];
                if (isnan(a) || isnan(b))
                    continue;
                double *c = acc + C_LEN * em_gauss_tri(d, i, j);
                c[C_N] += 1, c[C_I] += a, c[C_J] += b;
                c[C_II] += a * a, c[C_JJ] += b * b, c[C_IJ] += a * b;
            }
    }
}

static double correlation_of(const double *c)
{
    double n = c[C_N], mi = c[C_I] / n, mj = c[C_J] / n;
    double cov = c[C_IJ] / n - mi * mj;
    double vi = c[C_II] / n - mi * mi, vj = c[C_JJ] / n - mj * mj;
    return cov / (sqrt(vi) * sqrt(vj));
}

/* Means, variances and pairwise correlations of the start values. */
static em_status start_moments(const em_mvn *m, double *mu, double *var,
                               double *corr, em_error *err)
{
    size_t d = m->d;
    start_pass sp = {.m = m};
    em_status st = em_table_fold(m->data, corr, 2 * d, mean_pass, &sp, err);
    for (size_t j = 0; st == EM_OK && j < d; j++)
        mu[j] = corr[2 * j + 1] / corr[2 * j];
    sp.count_sum = corr;
    if (st == EM_OK)
        st = em_table_fold(m->data, var, d, mean_pass, &sp, err);
    for (size_t j = 0; st == EM_OK && j < d; j++)
        var[j] /= corr[2 * j];
    if (st != EM_OK)
        return st;
    memset(corr, 0, C_LEN * m->tri * sizeof *corr);
    sp.count_sum = mu;
    return em_table_fold(m->data, corr, C_LEN * m->tri, correlation_pass,
                         &sp, err);
}

em_status em_mvn_start(const em_mvn *m, double *mu, double *cov,
                       em_error *err)
{
    size_t d = m->d;
    double *var = calloc(d, sizeof *var), *s = malloc(d * d * sizeof *s);
    double *corr = calloc(C_LEN * m->tri + 2 * d, sizeof *corr);
    em_status st = var && s && corr
                       ? start_moments(m, mu, var, corr, err)
                       : em_error_set(err, EM_ERR_NOMEM, "out of memory");
    if (st != EM_OK) {
        free(var), free(s), free(corr);
        return st;
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            cov[em_gauss_tri(d, i, j)] =
                i == j ? var[i]
                       : correlation_of(corr +
                                        C_LEN * em_gauss_tri(d, i, j)) *
                             (sqrt(var[i]) * sqrt(var[j]));
    /* Correlations from different rows need not fit together: shrink
     * them until they do (at worst to the diagonal). */
    for (int tries = 0; tries < 60; tries++) {
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                s[i * d + j] = s[j * d + i] = cov[em_gauss_tri(d, i, j)];
        if (em_cholesky(s, d) == 0)
            break;
        for (size_t i = 0; i < d; i++)
            for (size_t j = i + 1; j < d; j++)
                cov[em_gauss_tri(d, i, j)] *= tries < 59 ? 0.5 : 0.0;
    }
    free(var), free(s), free(corr);
    return EM_OK;
}

/* ---- E-step ------------------------------------------------------------ */

em_status em_mvn_prepare(em_mvn *m, const double *mu, const double *cov,
                         em_error *err)
{
    size_t d = m->d;
    memcpy(m->mu, mu, d * sizeof *mu);
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            m->sig[i * d + j] = m->sig[j * d + i] =
                cov[em_gauss_tri(d, i, j)];
    memcpy(m->chol, m->sig, d * d * sizeof *m->sig);
    if (em_cholesky(m->chol, d) != 0)
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the covariance is not positive definite");
    m->logdet = em_chol_logdet(m->chol, d);
    return EM_OK;
}

em_status em_mvn_conditioned(double cond, em_error *err)
{
    if (cond <= EM_MVN_MAX_CONDITION)
        return EM_OK;
    return em_error_set(err, EM_ERR_NUMERIC,
                        "the covariance is nearly singular (correlation "
                        "condition number about %.2g, above %g), so rounding "
                        "decides the result: the fit is numerically "
                        "unreliable",
                        cond, EM_MVN_MAX_CONDITION);
}

/* A row and its missing pattern as bits (1 = missing), nw words, for
 * sorting rows by pattern with integer compares. */
typedef struct row_ref {
    const double *x;
    const uint64_t *key;
    size_t nw, index;
} row_ref;

static void pattern_key(const double *x, size_t d, uint64_t *key)
{
    for (size_t w = 0; w < (d + 63) / 64; w++)
        key[w] = 0;
    for (size_t j = 0; j < d; j++)
        key[j / 64] |= (uint64_t)(isnan(x[j]) != 0) << (j % 64);
}

/* Orders by pattern, then by row: a total order, so the sums do not
 * depend on qsort.  Complete rows come first, in their own order, so data
 * whose incomplete rows follow its complete ones (a monotone pattern as
 * it is usually stored) are summed in file order. */
static int by_pattern(const void *pa, const void *pb)
{
    const row_ref *a = pa, *b = pb;
    for (size_t w = 0; w < a->nw; w++)
        if (a->key[w] != b->key[w])
            return a->key[w] < b->key[w] ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Adds rows[0..n) of one pattern, whose factor and regression w holds. */
static void add_pattern(const em_mvn *m, em_gauss_work *w,
                        const row_ref *rows, size_t n, double *dev,
                        double *st)
{
    size_t d = m->d;
    double *s1 = st + EM_STAT_HEADER, *s2 = s1 + d;
    for (size_t r = 0; r < n; r++) {
        st[EM_STAT_LOGLIK] += em_gauss_logpdf(w, rows[r].x, m->mu);
        em_gauss_cond_dev(w, rows[r].x, m->mu, dev);
        em_gauss_add_moments(d, dev, 1.0, 0, s1, s2);
    }
    if (!m->set.mean_only)
        em_gauss_add_cond_cov(w, (double)n, 0, s2);
    st[EM_STAT_NOBS] += (double)n;
}

static void estep_sorted(const em_mvn *m, em_gauss_work *w, row_ref *rows,
                         size_t n, double *dev, double *st)
{
    for (size_t a = 0, b; a < n; a = b) {
        em_gauss_split(w, rows[a].x);
        for (b = a + 1; b < n && em_gauss_same_pattern(w, rows[b].x); b++)
            ;
        if (w->no == 0)
            continue; /* rows without data: skipped, counted at create */
        if (em_gauss_factor(w, m->sig, m->chol, m->logdet) != 0) {
            st[EM_STAT_LOGLIK] = NAN; /* S_oo lost definiteness to rounding */
            continue;
        }
        if (w->nm > 0)
            em_gauss_regression(w, m->sig);
        add_pattern(m, w, rows + a, b - a, dev, st);
    }
}

void em_mvn_estep(const em_mvn *m, size_t begin, size_t end, double *st)
{
    size_t d = m->d, n = end - begin, nw = (d + 63) / 64;
    row_ref *rows = malloc((n ? n : 1) * sizeof *rows);
    uint64_t *keys = malloc((n ? n : 1) * nw * sizeof *keys);
    double *dev = malloc(d * sizeof *dev);
    em_gauss_work w;
    int ok = em_gauss_work_init(&w, d) && rows && keys && dev;
    if (!ok) {
        /* Without scratch the block cannot be summed: poison the
         * log-likelihood so the driver stops instead of fitting less. */
        st[EM_STAT_LOGLIK] = NAN;
    } else {
        for (size_t i = 0; i < n; i++) {
            const double *x = m->data->values + (begin + i) * d;
            pattern_key(x, d, keys + i * nw);
            rows[i] = (row_ref){x, keys + i * nw, nw, begin + i};
        }
        qsort(rows, n, sizeof *rows, by_pattern);
        estep_sorted(m, &w, rows, n, dev, st);
    }
    em_gauss_work_free(&w);
    free(rows), free(keys), free(dev);
}

void em_mvn_moments(const em_mvn *m, const double *stats, double *mu,
                    double *cov)
{
    size_t d = m->d;
    double n = stats[EM_STAT_NOBS];
    const double *s1 = stats + EM_STAT_HEADER, *s2 = s1 + d;
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            size_t q = em_gauss_tri(d, i, j);
            cov[q] = s2[q] / n - (s1[i] / n) * (s1[j] / n);
        }
    for (size_t i = 0; i < d; i++)
        mu[i] += s1[i] / n;
}

/* ---- per-row outputs and diagnostics ----------------------------------- */

static void impute_row(const em_mvn *m, em_gauss_work *w, const double *x,
                       double *dev, double *o)
{
    size_t d = m->d;
    if (em_gauss_split(w, x) == 0 ||
        em_gauss_factor(w, m->sig, m->chol, m->logdet) != 0) {
        for (size_t j = 0; j < d; j++)
            o[j] = NAN;
        return;
    }
    memcpy(o, x, d * sizeof *o);
    if (w->nm == 0)
        return;
    em_gauss_logpdf(w, x, m->mu); /* leaves the whitened residual */
    em_gauss_regression(w, m->sig);
    em_gauss_cond_dev(w, x, m->mu, dev);
    for (size_t b = 0; b < w->nm; b++)
        o[w->mis[b]] = m->mu[w->mis[b]] + dev[w->mis[b]];
}

void em_mvn_impute(const em_mvn *m, size_t begin, size_t end, double *out)
{
    size_t d = m->d;
    double *dev = malloc(d * sizeof *dev);
    em_gauss_work w;
    int ok = em_gauss_work_init(&w, d) && dev;
    for (size_t i = begin; i < end; i++) {
        double *o = out + (i - begin) * d;
        if (ok)
            impute_row(m, &w, m->data->values + i * d, dev, o);
        else
            for (size_t j = 0; j < d; j++)
                o[j] = NAN;
    }
    em_gauss_work_free(&w);
    free(dev);
}

double em_mvn_condition(const em_mvn *m)
{
    size_t d = m->d;
    double *l = malloc(d * d * sizeof *l), *work = malloc(2 * d * sizeof *l);
    double c = INFINITY;
    if (l && work) {
        /* The factor of D^-1/2 S D^-1/2 is D^-1/2 L: a scale-free
         * condition number, as the densities see the data. */
        for (size_t i = 0; i < d; i++) {
            double s = 1.0 / sqrt(m->sig[i * d + i]);
            for (size_t j = 0; j < d; j++)
                l[i * d + j] = m->chol[i * d + j] * s;
        }
        c = em_chol_condition(l, d, work);
    }
    free(l), free(work);
    return c;
}

double em_mvn_centring(const em_mvn *m)
{
    double worst = 0;
    for (size_t i = 0; i < m->d; i++)
        worst = fmax(worst, fabs(m->mu[i]) / sqrt(m->sig[i * m->d + i]));
    return worst;
}

/* ---- the mvn model ----------------------------------------------------- */

static const char *const mvn_options[] = {"estep", "fill", NULL};

typedef struct mvn_model {
    em_mvn *core;
    size_t d, nparams;
    char **names;
} mvn_model;

static void mvn_destroy(void *state)
{
    mvn_model *s = state;
    if (!s)
        return;
    for (size_t i = 0; s->names && i < s->nparams; i++)
        free(s->names[i]);
    free(s->names);
    em_mvn_free(s->core);
    free(s);
}

static char *name_of(const char *fmt, size_t a, size_t b)
{
    char buf[48];
    int n = snprintf(buf, sizeof buf, fmt, a, b);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        memcpy(s, buf, (size_t)n + 1);
    return s;
}

static int make_names(mvn_model *s)
{
    size_t d = s->d, p = 0;
    s->names = calloc(s->nparams, sizeof *s->names);
    if (!s->names)
        return 0;
    for (size_t i = 0; i < d; i++)
        s->names[p++] = name_of("mu%zu", i + 1, 0);
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            s->names[p++] = name_of("cov_%zu_%zu", i + 1, j + 1);
    for (size_t i = 0; i < p; i++)
        if (!s->names[i])
            return 0;
    return 1;
}

/* --estep and --fill, shared with bvn. */
em_status em_mvn_settings_from(const em_model_config *cfg,
                               em_mvn_settings *set, em_error *err)
{
    *set = (em_mvn_settings){.has_fill = cfg->has_fill, .fill = cfg->fill};
    if (cfg->estep && strcmp(cfg->estep, "mean") == 0)
        set->mean_only = 1;
    else if (cfg->estep && strcmp(cfg->estep, "full") != 0)
        return em_error_set(err, EM_ERR_ARG,
                            "--estep must be full or mean, not \"%s\"",
                            cfg->estep);
    if (cfg->has_fill && !isfinite(cfg->fill))
        return em_error_set(err, EM_ERR_ARG, "--fill must be a finite number");
    return EM_OK;
}

static em_status mvn_create(const em_model_config *cfg, const em_table *data,
                            void **state, em_model_info *info, em_error *err)
{
    em_mvn_settings set;
    em_status st = em_mvn_settings_from(cfg, &set, err);
    if (st != EM_OK)
        return st;
    mvn_model *s = calloc(1, sizeof *s);
    if (!s)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    size_t nskipped = 0, d = data->ncols;
    st = em_mvn_create(data, &set, &s->core, &nskipped, err);
    s->d = d;
    s->nparams = d + d * (d + 1) / 2; /* the means, then the covariance */
    if (st == EM_OK && !make_names(s))
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    if (st != EM_OK) {
        mvn_destroy(s);
        return st;
    }
    *state = s;
    *info = (em_model_info){.nparams = s->nparams,
                            .param_names = (const char *const *)s->names,
                            .nfree = s->nparams,
                            .nunits = data->nrows,
                            .nstats = em_mvn_nstats(d),
                            .nskipped = nskipped,
                            .monotone = !set.mean_only};
    return EM_OK;
}

static em_status mvn_check(const void *state, const double *th, size_t *bad,
                           em_error *err)
{
    const mvn_model *s = state;
    size_t d = s->d;
    for (size_t i = 0; i < s->nparams; i++)
        if (!isfinite(th[i])) {
            *bad = i;
            return em_error_set(err, EM_ERR_ARG, "%s = %g: must be finite",
                                s->names[i], th[i]);
        }
    double *a = malloc(d * d * sizeof *a);
    if (!a)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            a[i * d + j] = a[j * d + i] = th[d + em_gauss_tri(d, i, j)];
    size_t pivot = em_cholesky(a, d);
    free(a);
    if (pivot == 0)
        return EM_OK;
    *bad = d + em_gauss_tri(d, pivot - 1, pivot - 1);
    return em_error_set(err, EM_ERR_ARG,
                        "the covariance is not positive definite (it fails "
                        "at %s)",
                        s->names[*bad]);
}

static em_status mvn_init(void *state, unsigned long long seed, double *th,
                          em_error *err)
{
    (void)seed;
    mvn_model *s = state;
    size_t bad;
    em_status st = em_mvn_start(s->core, th, th + s->d, err);
    if (st != EM_OK)
        return st;
    if (mvn_check(s, th, &bad, NULL) != EM_OK)
        return em_error_set(err, EM_ERR_DATA,
                            "the default start is degenerate (%s = %g); give "
                            "one with --start",
                            s->names[bad], th[bad]);
    return EM_OK;
}

static em_status mvn_prepare(void *state, const double *th, em_error *err)
{
    mvn_model *s = state;
    em_status st = em_mvn_prepare(s->core, th, th + s->d, err);
    return st == EM_OK ? em_mvn_conditioned(em_mvn_condition(s->core), err)
                       : st;
}

static void mvn_estep(const void *state, size_t begin, size_t end, double *st)
{
    const mvn_model *s = state;
    em_mvn_estep(s->core, begin, end, st);
}

static em_status mvn_mstep(void *state, const double *stats,
                           const unsigned char *fixed, double *th,
                           em_error *err)
{
    (void)fixed;
    mvn_model *s = state;
    size_t d = s->d;
    double *mu = malloc(d * sizeof *mu), *a = malloc(d * d * sizeof *a);
    double *cov = malloc(s->nparams * sizeof *cov);
    em_status st = EM_OK;
    if (!mu || !a || !cov) {
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    } else {
        memcpy(mu, th, d * sizeof *mu);
        em_mvn_moments(s->core, stats, mu, cov);
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                a[i * d + j] = a[j * d + i] = cov[em_gauss_tri(d, i, j)];
        size_t pivot = em_cholesky(a, d);
        if (pivot != 0)
            st = em_error_set(err, EM_ERR_NUMERIC,
                              "the covariance became singular at column %zu: "
                              "the data lie on a hyperplane",
                              pivot);
    }
    if (st == EM_OK) {
        memcpy(th, mu, d * sizeof *mu);
        memcpy(th + d, cov, (s->nparams - d) * sizeof *cov);
    }
    free(mu), free(a), free(cov);
    return st;
}

static void mvn_impute(const void *state, size_t begin, size_t end,
                       double *out)
{
    const mvn_model *s = state;
    em_mvn_impute(s->core, begin, end, out);
}

static double mvn_condition(const void *state)
{
    const mvn_model *s = state;
    return fmax(em_mvn_condition(s->core), em_mvn_centring(s->core));
}

static size_t mvn_components2d(const void *state, const double *th,
                               size_t max, double *weight, double *mean,
                               double *cov)
{
    const mvn_model *s = state;
    if (s->d != 2 || max < 1)
        return 0;
    weight[0] = 1;
    mean[0] = th[0], mean[1] = th[1];
    cov[0] = th[2], cov[1] = cov[2] = th[3], cov[3] = th[4];
    return 1;
}

static double mvn_density1d(const void *state, const double *th, double x)
{
    const mvn_model *s = state;
    if (s->d != 1 || !(th[1] > 0))
        return NAN;
    double z = x - th[0];
    return exp(-0.5 * (EM_LOG_2PI + log(th[1]) + z * z / th[1]));
}

/* u = the means, then the covariance's factor with log diagonal. */
static size_t mvn_to_free(const void *state, const double *th,
                          const unsigned char *fixed, double *u)
{
    (void)fixed;
    const mvn_model *s = state;
    memcpy(u, th, s->d * sizeof *u);
    em_cov_to_free(th + s->d, s->d, u + s->d);
    return s->nparams;
}

static void mvn_from_free(const void *state, const double *u,
                          const unsigned char *fixed, double *th)
{
    (void)fixed;
    const mvn_model *s = state;
    memcpy(th, u, s->d * sizeof *th);
    em_cov_from_free(u + s->d, s->d, th + s->d);
}

const em_model_type em_model_mvn = {
    .name = "mvn",
    .summary = "multivariate normal in D columns, values missing in any "
               "pattern",
    .options = mvn_options,
    .create = mvn_create,
    .destroy = mvn_destroy,
    .init = mvn_init,
    .check = mvn_check,
    .prepare = mvn_prepare,
    .estep = mvn_estep,
    .mstep = mvn_mstep,
    .impute = mvn_impute,
    .condition = mvn_condition,
    .components2d = mvn_components2d,
    .density1d = mvn_density1d,
    .to_free = mvn_to_free,
    .from_free = mvn_from_free,
    .streamable = 1,
    .distributable = 1,
};
