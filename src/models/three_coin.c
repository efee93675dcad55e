/* three-coin: coin A (heads probability pi) picks coin B (heads p) on
 * heads or coin C (heads q) on tails; the picked coin is tossed and only
 * its results are seen (document 003, Li Hang's example 9.1).
 *
 * A row holds one or more 0/1 columns: tosses all made with the coin picked
 * for that row (several tosses per row are what make pi, p and q
 * identifiable; with one toss per row only pi p + (1 - pi) q is).  A
 * missing toss is not counted; a row with no toss is skipped.
 *
 * For a row with h heads in n tosses, in log space:
 *   a = log pi     + h log p + (n - h) log(1 - p)
 *   b = log(1 - pi) + h log q + (n - h) log(1 - q)
 *   loglik_i = logaddexp(a, b),  mu_i = exp(a - loglik_i)   (E-step)
 * and the M-step is
 *   pi = sum mu_i / N,  p = sum mu_i h_i / sum mu_i n_i,
 *   q = sum (1 - mu_i) h_i / sum (1 - mu_i) n_i.
 * When a coin gets no weight at all (sum mu_i n_i = 0) its heads
 * probability does not enter the likelihood and keeps its value.
 */
#include <math.h>
#include <stdlib.h>

#include "core/numeric.h"
#include "models/free_coords.h"
#include "models/models.h"

enum { PI, P, Q, NPARAMS };
/* Statistics after the driver's header: sum mu, sum mu h, sum mu n,
 * sum (1 - mu) h, sum (1 - mu) n. */
enum { SMU = EM_STAT_HEADER, SMUH, SMUN, SNUH, SNUN, STATS_END };

static const char *const param_names[NPARAMS] = {"pi", "p", "q"};

typedef struct three_coin {
    const em_table *data; /* read row by row, never copied (--stream) */
    double th[NPARAMS];
} three_coin;

/* The heads *h and tosses *n of row i (n = 0: the row is skipped). */
static void row_counts(const em_table *t, size_t i, double *h, double *n)
{
    const double *x = t->values + i * t->ncols;
    *h = 0, *n = 0;
    for (size_t j = 0; j < t->ncols; j++)
        if (!isnan(x[j]))
            *h += x[j], *n += 1;
}

/* acc: rows without a toss, and the first bad value (anything but 0, 1
 * or missing): 1 once found, its row's line, its column and itself. */
enum { A_SKIPPED, A_BAD, A_LINE, A_COL, A_VALUE, A_LEN };

static void check_tosses(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    for (size_t i = 0; i < t->nrows && !acc[A_BAD]; i++) {
        int any = 0;
        for (size_t j = 0; j < t->ncols && !acc[A_BAD]; j++) {
            double v = em_table_at(t, i, j);
            if (isnan(v))
                continue;
            if (v != 0 && v != 1) {
                acc[A_BAD] = 1, acc[A_LINE] = (double)em_table_line(t, i);
                acc[A_COL] = (double)j, acc[A_VALUE] = v;
            }
            any = 1;
        }
        acc[A_SKIPPED] += !any;
    }
}

static em_status count_tosses(const em_table *t, size_t *nskipped,
                              em_error *err)
{
    double acc[A_LEN] = {0};
    em_status st = em_table_fold(t, acc, A_LEN, check_tosses, NULL, err);
    if (st != EM_OK)
        return st;
    if (acc[A_BAD])
        return em_error_at(err, EM_ERR_DATA, t->source, (long)acc[A_LINE], 0,
                           "column \"%s\": %g is not a toss result "
                           "(0 or 1)",
                           t->names[(size_t)acc[A_COL]], acc[A_VALUE]);
    *nskipped = (size_t)acc[A_SKIPPED];
    if (*nskipped == em_table_total(t))
        return em_error_set(err, EM_ERR_DATA, "no row has a toss result");
    return EM_OK;
}

static void tc_destroy(void *state)
{
    free(state);
}

static em_status tc_create(const em_model_config *cfg, const em_table *data,
                           void **state, em_model_info *info, em_error *err)
{
    (void)cfg;
    if (data->ncols < 1)
        return em_error_set(err, EM_ERR_ARG, "three-coin needs a column");
    three_coin *c = calloc(1, sizeof *c);
    if (!c)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    c->data = data;
    size_t nskipped = 0;
    em_status st = count_tosses(data, &nskipped, err);
    if (st != EM_OK) {
        tc_destroy(c);
        return st;
    }
    *state = c;
    *info = (em_model_info){.nparams = NPARAMS,
                            .param_names = param_names,
                            .nfree = NPARAMS,
                            .nunits = data->nrows,
                            .nstats = STATS_END - EM_STAT_HEADER,
                            .nskipped = nskipped,
                            .monotone = 1};
    return EM_OK;
}

/* acc: heads and tosses of every row. */
static void total_counts(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    for (size_t i = 0; i < t->nrows; i++) {
        double h, n;
        row_counts(t, i, &h, &n);
        acc[0] += h, acc[1] += n;
    }
}

/* The default start: pi = 1/2 and p, q on either side of the overall
 * heads rate m, so that pi p + (1 - pi) q = m.  p = q would be a fixed
 * point EM never leaves. */
static em_status tc_init(void *state, unsigned long long seed,
                          double *th, em_error *err)
{
    (void)seed;
    const three_coin *c = state;
    double acc[2] = {0, 0};
    em_status st = em_table_fold(c->data, acc, 2, total_counts, NULL, err);
    if (st != EM_OK)
        return st;
    double h = acc[0], n = acc[1];
    double m = h / n, d = 0.5 * fmin(m, 1 - m);
    th[PI] = 0.5;
    th[P] = m + d;
    th[Q] = m - d;
    return EM_OK;
}

static em_status tc_check(const void *state, const double *th, size_t *bad,
                          em_error *err)
{
    (void)state;
    for (size_t i = 0; i < NPARAMS; i++)
        if (!(th[i] >= 0 && th[i] <= 1)) {
            *bad = i;
            return em_error_set(err, EM_ERR_ARG,
                                "%s = %g: a probability must lie in [0, 1]",
                                param_names[i], th[i]);
        }
    return EM_OK;
}

static em_status tc_prepare(void *state, const double *th, em_error *err)
{
    (void)err;
    three_coin *c = state;
    for (size_t i = 0; i < NPARAMS; i++)
        c->th[i] = th[i];
    return EM_OK;
}

static void tc_estep(const void *state, size_t begin, size_t end, double *s)
{
    const three_coin *c = state;
    double lpi = log(c->th[PI]), l1pi = log1p(-c->th[PI]);
    for (size_t i = begin; i < end; i++) {
        double h, n;
        row_counts(c->data, i, &h, &n);
        if (n == 0)
            continue;
        double a = lpi + em_xlogy(h, c->th[P]) + em_xlogy(n - h, 1 - c->th[P]);
        double b = l1pi + em_xlogy(h, c->th[Q]) + em_xlogy(n - h, 1 - c->th[Q]);
        double ll = em_logaddexp(a, b);
        double mu = exp(a - ll);
        s[EM_STAT_LOGLIK] += ll;
        s[EM_STAT_NOBS] += 1;
        s[SMU] += mu;
        s[SMUH] += mu * h, s[SMUN] += mu * n;
        s[SNUH] += (1 - mu) * h, s[SNUN] += (1 - mu) * n;
    }
}

static int held(const unsigned char *fixed, size_t i)
{
    return fixed && fixed[i];
}

static em_status tc_mstep(void *state, const double *s,
                          const unsigned char *fixed, double *th,
                          em_error *err)
{
    (void)state, (void)err;
    if (!held(fixed, PI))
        th[PI] = s[SMU] / s[EM_STAT_NOBS];
    if (!held(fixed, P) && s[SMUN] > 0)
        th[P] = s[SMUH] / s[SMUN];
    if (!held(fixed, Q) && s[SNUN] > 0)
        th[Q] = s[SNUH] / s[SNUN];
    return EM_OK;
}

/* ---- unconstrained coordinates (--se, --accel squarem) ---------------- */

/* logit of each probability that is not held. */
static size_t tc_to_free(const void *state, const double *th,
                         const unsigned char *fixed, double *u)
{
    (void)state;
    size_t m = 0;
    for (size_t i = 0; i < NPARAMS; i++)
        if (!held(fixed, i))
            u[m++] = em_logit(th[i]);
    return m;
}

static void tc_from_free(const void *state, const double *u,
                         const unsigned char *fixed, double *th)
{
    (void)state;
    size_t m = 0;
    for (size_t i = 0; i < NPARAMS; i++)
        if (!held(fixed, i))
            th[i] = em_expit(u[m++]);
}

const em_model_type em_model_three_coin = {
    .name = "three-coin",
    .summary = "coin A picks coin B or C, which is tossed (0/1 columns)",
    .create = tc_create,
    .destroy = tc_destroy,
    .init = tc_init,
    .check = tc_check,
    .prepare = tc_prepare,
    .estep = tc_estep,
    .mstep = tc_mstep,
    .to_free = tc_to_free,
    .from_free = tc_from_free,
    .fixable = 1,
    .streamable = 1,
    .distributable = 1,
};
