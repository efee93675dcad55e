/* bvn: a bivariate normal whose rows may miss either coordinate.
 *
 * Parameters, named as in Efron and Hastie's example (document 000):
 * mu1, mu2 (means), s1, s2 (standard deviations, maximum-likelihood divisor
 * n) and rho (correlation).
 *
 * E-step, for a row missing y (a row missing x is the mirror image):
 *   E[y | x]   = mu2 + rho s2 (x - mu1) / s1
 *   E[y^2 | x] = E[y | x]^2 + s2^2 (1 - rho^2)          (estep "full")
 *   E[y^2 | x] = E[y | x]^2                              (estep "mean")
 * "full" is true EM and converges to the maximum-likelihood estimate.
 * "mean" is the document's procedure (fill each missing value with its
 * conditional mean and refit); it drops the conditional variance, so its
 * fixed point understates s2 and overstates |rho|.  It is not EM, and the
 * driver does not hold it to a non-decreasing log-likelihood.
 *
 * The sums are taken about the current means (the shift c = mu of theta),
 * which keeps "sum of squares minus n mean^2" free of cancellation when the
 * data sit far from zero; c is part of theta, so every block of an
 * iteration uses the same shift and block sums still add.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/numeric.h"
#include "core/scale.h"
#include "models/models.h"

enum { MU1, MU2, S1, S2, RHO, NPARAMS };
/* Statistics, after the driver's header. */
enum { SX = EM_STAT_HEADER, SY, SXX, SYY, SXY, STATS_END };
#define NSTATS (STATS_END - EM_STAT_HEADER)

static const char *const param_names[NPARAMS] = {"mu1", "mu2", "s1", "s2",
                                                 "rho"};
static const char *const bvn_options[] = {"estep", "fill", NULL};

typedef struct bvn {
    const em_table *data;
    int mean_only;
    int has_fill;
    double fill;
    /* constants of the current theta, set by prepare */
    double th[NPARAMS];
    double one_m_r2;   /* 1 - rho^2 */
    double ll_both;    /* log-density constant of a complete row */
    double ll_x, ll_y; /* ... of a row with x only, y only */
} bvn;

static int observed(double v)
{
    return !isnan(v);
}

/* 1 - rho^2 below this is a singular covariance in double precision. */
#define SINGULAR_1MR2 1e-12

/* The complete rows are (numerically) collinear: their correlation, taken
 * about their own means, is +-1. */
static int complete_rows_on_a_line(const em_table *t)
{
    double n = 0, mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->nrows; i++) {
            double x = em_table_at(t, i, 0), y = em_table_at(t, i, 1);
            if (!observed(x) || !observed(y))
                continue;
            if (pass == 0) {
                n += 1, mx += x, my += y;
                continue;
            }
            double dx = x - mx / n, dy = y - my / n;
            sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
        }
    if (!(sxx > 0 && syy > 0))
        return 1; /* a constant complete column is a line too */
    /* not sxx * syy, which overflows for values near 1e140 */
    double r = sxy / (sqrt(sxx) * sqrt(syy));
    return !(1 - r * r > SINGULAR_1MR2);
}

/* Counts, per column, observed values and distinct-value evidence, and the
 * complete rows; reports the first degenerate condition a user can fix. */
static em_status check_data(const em_table *t, size_t *nskipped, em_error *err)
{
    size_t nobs[2] = {0, 0}, ncomplete = 0, skipped = 0;
    int varies[2] = {0, 0};
    double first[2] = {NAN, NAN};
    for (size_t i = 0; i < t->nrows; i++) {
        int any = 0;
        for (size_t j = 0; j < 2; j++) {
            double v = em_table_at(t, i, j);
            if (!observed(v))
                continue;
            any = 1;
            if (nobs[j]++ == 0)
                first[j] = v;
            else if (v != first[j])
                varies[j] = 1;
        }
        skipped += !any;
        ncomplete += observed(em_table_at(t, i, 0)) &&
                     observed(em_table_at(t, i, 1));
    }
    for (size_t j = 0; j < 2; j++) {
        if (nobs[j] == 0)
            return em_error_set(err, EM_ERR_DATA,
                                "column \"%s\" has no observed values",
                                t->names[j]);
        if (!varies[j])
            return em_error_set(err, EM_ERR_DATA,
                                "column \"%s\" is constant (every observed "
                                "value is %g): its standard deviation would "
                                "be 0",
                                t->names[j], first[j]);
    }
    if (ncomplete < 3)
        return em_error_set(err, EM_ERR_DATA,
                            "only %zu row(s) have both \"%s\" and \"%s\"; the "
                            "correlation needs at least 3",
                            ncomplete, t->names[0], t->names[1]);
    if (complete_rows_on_a_line(t))
        return em_error_set(err, EM_ERR_DATA,
                            "the rows with both \"%s\" and \"%s\" lie on a "
                            "line, so the likelihood has no maximum (the "
                            "covariance would be singular)",
                            t->names[0], t->names[1]);
    *nskipped = skipped;
    return EM_OK;
}

static em_status bvn_create(const em_model_config *cfg, const em_table *data,
                            void **state, em_model_info *info, em_error *err)
{
    if (data->ncols != 2)
        return em_error_set(err, EM_ERR_ARG,
                            "the bvn model needs exactly 2 columns, but %zu "
                            "are selected (choose two with --columns)",
                            data->ncols);
    int mean_only = 0;
    if (cfg->estep && strcmp(cfg->estep, "mean") == 0)
        mean_only = 1;
    else if (cfg->estep && strcmp(cfg->estep, "full") != 0)
        return em_error_set(err, EM_ERR_ARG,
                            "--estep must be full or mean, not \"%s\"",
                            cfg->estep);
    if (cfg->has_fill && !isfinite(cfg->fill))
        return em_error_set(err, EM_ERR_ARG, "--fill must be a finite number");
    size_t nskipped = 0;
    em_status st = em_check_scale(data, err);
    if (st == EM_OK)
        st = check_data(data, &nskipped, err);
    if (st != EM_OK)
        return st;
    bvn *b = calloc(1, sizeof *b);
    if (!b)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    b->data = data;
    b->mean_only = mean_only;
    b->has_fill = cfg->has_fill;
    b->fill = cfg->fill;
    *state = b;
    *info = (em_model_info){.nparams = NPARAMS,
                            .param_names = param_names,
                            .nfree = NPARAMS,
                            .nunits = data->nrows,
                            .nstats = NSTATS,
                            .nskipped = nskipped,
                            .monotone = !mean_only};
    return EM_OK;
}

static void bvn_destroy(void *state)
{
    free(state);
}

/* The value used for the start: the observed one, else the fill value when
 * the user asked for one, else NaN (left out). */
static double start_value(const bvn *b, double v)
{
    return observed(v) || !b->has_fill ? v : b->fill;
}

/* Two-pass moments of the start values of rows that carry data: each
 * column's mean and standard deviation over its own values, and the
 * correlation over the rows where both are present. */
static void start_moments(const bvn *b, double *th)
{
    const em_table *t = b->data;
    double sum[2] = {0, 0}, n[2] = {0, 0};
    for (size_t i = 0; i < t->nrows; i++) {
        double x = em_table_at(t, i, 0), y = em_table_at(t, i, 1);
        if (!observed(x) && !observed(y))
            continue;
        double v[2] = {start_value(b, x), start_value(b, y)};
        for (int j = 0; j < 2; j++)
            if (observed(v[j]))
                sum[j] += v[j], n[j] += 1;
    }
    double mu[2] = {sum[0] / n[0], sum[1] / n[1]};
    double ss[2] = {0, 0}, pp[2] = {0, 0}, sxy = 0, nxy = 0;
    double ccsum[2] = {0, 0};
    for (size_t i = 0; i < t->nrows; i++) {
        double x = em_table_at(t, i, 0), y = em_table_at(t, i, 1);
        if (!observed(x) && !observed(y))
            continue;
        double d[2] = {start_value(b, x) - mu[0], start_value(b, y) - mu[1]};
        for (int j = 0; j < 2; j++)
            if (observed(d[j]))
                ss[j] += d[j] * d[j];
        if (observed(d[0]) && observed(d[1])) {
            sxy += d[0] * d[1], nxy += 1;
            pp[0] += d[0] * d[0], pp[1] += d[1] * d[1];
            ccsum[0] += d[0], ccsum[1] += d[1];
        }
    }
    th[MU1] = mu[0];
    th[MU2] = mu[1];
    th[S1] = sqrt(ss[0] / n[0]);
    th[S2] = sqrt(ss[1] / n[1]);
    /* Correlation of the paired rows about their own means. */
    double mx = ccsum[0] / nxy, my = ccsum[1] / nxy;
    double cov = sxy / nxy - mx * my;
    double vx = pp[0] / nxy - mx * mx, vy = pp[1] / nxy - my * my;
    th[RHO] = cov / (sqrt(vx) * sqrt(vy));
}

static em_status bvn_check(const void *state, const double *th, size_t *bad,
                           em_error *err)
{
    (void)state;
    static const char *const why[NPARAMS] = {
        "must be finite", "must be finite", "must be a finite number > 0",
        "must be a finite number > 0", "must lie strictly between -1 and 1"};
    for (size_t i = 0; i < NPARAMS; i++) {
        int ok = isfinite(th[i]);
        if (i == S1 || i == S2)
            ok = ok && th[i] > 0;
        if (i == RHO)
            ok = ok && fabs(th[i]) < 1;
        if (!ok) {
            *bad = i;
            return em_error_set(err, EM_ERR_ARG, "%s = %g: %s", param_names[i],
                                th[i], why[i]);
        }
    }
    return EM_OK;
}

static em_status bvn_init(void *state, unsigned long long seed,
                           double *th, em_error *err)
{
    (void)seed;
    bvn *b = state;
    size_t bad;
    start_moments(b, th);
    if (bvn_check(b, th, &bad, NULL) != EM_OK)
        return em_error_set(err, EM_ERR_DATA,
                            "the default start is degenerate (%s = %g)%s; give "
                            "one with --start",
                            param_names[bad], th[bad],
                            b->has_fill ? " with this --fill value" : "");
    return EM_OK;
}

static em_status bvn_prepare(void *state, const double *th, em_error *err)
{
    (void)err;
    bvn *b = state;
    memcpy(b->th, th, sizeof b->th);
    b->one_m_r2 = 1.0 - th[RHO] * th[RHO];
    b->ll_both = -EM_LOG_2PI - log(th[S1]) - log(th[S2]) - 0.5 * log(b->one_m_r2);
    b->ll_x = -0.5 * EM_LOG_2PI - log(th[S1]);
    b->ll_y = -0.5 * EM_LOG_2PI - log(th[S2]);
    return EM_OK;
}

/* Adds a row with both values: its log-density and its centred moments. */
static void add_both(const bvn *b, double dx, double dy, double *s)
{
    double z1 = dx / b->th[S1], z2 = dy / b->th[S2];
    double q = z1 * z1 - 2.0 * b->th[RHO] * z1 * z2 + z2 * z2;
    s[EM_STAT_LOGLIK] += b->ll_both - 0.5 * q / b->one_m_r2;
    s[SX] += dx, s[SY] += dy;
    s[SXX] += dx * dx, s[SYY] += dy * dy, s[SXY] += dx * dy;
}

/* Adds a row where only u is seen (u is x or y, w the missing partner):
 * the marginal log-density of u and the conditional moments of w.  The
 * moments are about the current means, so E[w - mu_w | u] = rho s_w z_u. */
static void add_one(const bvn *b, double du, double su, double sw,
                    double ll_u, double *s, int u_is_x)
{
    double z = du / su;
    double m = b->th[RHO] * sw * z;
    double v = b->mean_only ? 0.0 : sw * sw * b->one_m_r2;
    s[EM_STAT_LOGLIK] += ll_u - 0.5 * z * z;
    double *su1 = &s[u_is_x ? SX : SY], *sw1 = &s[u_is_x ? SY : SX];
    double *suu = &s[u_is_x ? SXX : SYY], *sww = &s[u_is_x ? SYY : SXX];
    *su1 += du, *sw1 += m;
    *suu += du * du, *sww += m * m + v;
    s[SXY] += du * m;
}

static void bvn_estep(const void *state, size_t begin, size_t end, double *s)
{
    const bvn *b = state;
    const double *v = b->data->values;
    const double *th = b->th;
    for (size_t i = begin; i < end; i++) {
        double x = v[2 * i], y = v[2 * i + 1];
        int hx = observed(x), hy = observed(y);
        if (!hx && !hy)
            continue;
        s[EM_STAT_NOBS] += 1;
        if (hx && hy)
            add_both(b, x - th[MU1], y - th[MU2], s);
        else if (hx)
            add_one(b, x - th[MU1], th[S1], th[S2], b->ll_x, s, 1);
        else
            add_one(b, y - th[MU2], th[S2], th[S1], b->ll_y, s, 0);
    }
}

static em_status bvn_mstep(void *state, const double *stats,
                           const unsigned char *fixed, double *th,
                           em_error *err)
{
    (void)state, (void)fixed;
    double n = stats[EM_STAT_NOBS];
    const double *s = stats;
    double m1 = s[SX] / n, m2 = s[SY] / n;
    double v1 = s[SXX] / n - m1 * m1, v2 = s[SYY] / n - m2 * m2;
    double c12 = s[SXY] / n - m1 * m2;
    if (!(v1 > 0 && v2 > 0))
        return em_error_set(err, EM_ERR_NUMERIC,
                            "a variance reached 0 (s1^2 = %g, s2^2 = %g)", v1,
                            v2);
    double rho = c12 / (sqrt(v1) * sqrt(v2));
    if (!(1 - rho * rho > SINGULAR_1MR2))
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the covariance became singular (rho = %.17g): "
                            "the data lie on a line",
                            rho);
    th[MU1] += m1;
    th[MU2] += m2;
    th[S1] = sqrt(v1);
    th[S2] = sqrt(v2);
    th[RHO] = rho;
    return EM_OK;
}

/* In the standardised coordinates every bvn density is computed in, the
 * correlation matrix's condition number is (1 + |rho|) / (1 - |rho|). */
static double bvn_condition(const void *state)
{
    const bvn *b = state;
    double r = fabs(b->th[RHO]);
    return (1 + r) / (1 - r);
}

/* The one normal component, for plots. */
static size_t bvn_components2d(const void *state, const double *th,
                               size_t max, double *weight, double *mean,
                               double *cov)
{
    (void)state;
    if (max < 1)
        return 0;
    double c12 = th[RHO] * th[S1] * th[S2];
    weight[0] = 1;
    mean[0] = th[MU1], mean[1] = th[MU2];
    cov[0] = th[S1] * th[S1], cov[1] = c12;
    cov[2] = c12, cov[3] = th[S2] * th[S2];
    return 1;
}

const em_model_type em_model_bvn = {
    .name = "bvn",
    .summary = "bivariate normal with missing values in either column "
               "(Efron & Hastie)",
    .options = bvn_options,
    .create = bvn_create,
    .destroy = bvn_destroy,
    .init = bvn_init,
    .check = bvn_check,
    .prepare = bvn_prepare,
    .estep = bvn_estep,
    .mstep = bvn_mstep,
    .condition = bvn_condition,
    .components2d = bvn_components2d,
};
