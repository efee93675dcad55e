/* mixed-normal: the symmetric two-component mixture of document 003,
 *   P(y) = (1 - p) phi((y - mu) / s) / s + p phi((y + mu) / s) / s,
 * with s = 1 unless --sigma gives another known value, or --free-sigma
 * estimates it (then it is the third parameter, "sigma").
 *
 * emfit follows the document's likelihood formula: p weights the N(-mu)
 * component.  (The document's prose, z ~ B(p) with y = z x1 + (1 - z) x2,
 * would weight N(+mu) by p instead.)  (mu, p) and (-mu, 1 - p) are the same
 * fit; every M-step reports the form with mu >= 0 unless p is held fixed.
 *
 * E-step: w_i = (1 - p) phi(y_i - mu) / P(y_i), the document's h, in log
 * space.  M-step, maximising
 *   Q = sum w_i log[(1 - p) phi(y_i - mu)] + (1 - w_i) log[p phi(y_i + mu)]
 * in closed form:
 *   dQ/dp = 0:  p = sum (1 - w_i) / n
 *   dQ/dmu = 0: sum w_i (y_i - mu) - (1 - w_i)(y_i + mu) = 0
 *               => mu = sum (2 w_i - 1) y_i / n
 *   dQ/ds = 0:  s^2 = sum [w_i (y_i - mu)^2 + (1 - w_i)(y_i + mu)^2] / n
 * (Q is concave in p and in mu, and the p and mu parts separate, so these
 * are the joint maximiser; with mu held fixed the s^2 formula still holds.)
 * The statistics are n, sum w, sum (2w - 1) y, and for s^2 the sums
 *   r2 = sum w (y - m)^2 + (1 - w)(y + m)^2,  r1 = sum w (y - m) - (1 - w)(y + m)
 * about the current mu = m, so that data far from 0 keep their spread
 * (sum y^2 would cancel it away): mu_new = m + r1 / n, and with
 * d = m - mu_new, s^2 = (r2 + 2 d r1 + n d^2) / n.
 *
 * mu = 0 makes the two components one, and p is then not identified; EM
 * started at mu = 0, p = 1/2 never leaves it.  A fit ending with mu = 0 is
 * refused rather than reported.
 */
#include <math.h>
#include <stdlib.h>

#include "core/numeric.h"
#include "core/scale.h"
#include "models/free_coords.h"
#include "models/models.h"

enum { MU, P, SIGMA };
enum { SW = EM_STAT_HEADER, SWY, SR2, SR1, STATS_END };

static const char *const param_names[] = {"mu", "p", "sigma"};
static const char *const mn_options[] = {"sigma", "free-sigma", NULL};

typedef struct mixed_normal {
    const em_table *data;
    int free_sigma;
    double known_sigma;
    /* constants of the current theta */
    double mu, sigma, la, lb; /* la, lb: log weight - log sigma - log(2pi)/2 */
} mixed_normal;

/* acc: missing values, the first |y| seen (NaN until then), and 1 once
 * some |y| differs from it. */
static void scan_rows(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    for (size_t i = 0; i < t->nrows; i++) {
        double a = fabs(em_table_at(t, i, 0));
        if (isnan(a))
            acc[0] += 1;
        else if (isnan(acc[1]))
            acc[1] = a;
        else if (a != acc[1])
            acc[2] = 1;
    }
}

static em_status mn_create(const em_model_config *cfg, const em_table *data,
                           void **state, em_model_info *info, em_error *err)
{
    if (data->ncols != 1)
        return em_error_set(err, EM_ERR_ARG,
                            "the mixed-normal model needs exactly 1 column, "
                            "but %zu are selected (choose one with --columns)",
                            data->ncols);
    if (cfg->has_sigma && cfg->free_sigma)
        return em_error_set(err, EM_ERR_ARG,
                            "--sigma and --free-sigma exclude each other "
                            "(start sigma with --start sigma=X)");
    if (cfg->has_sigma && !(cfg->sigma > 0 && isfinite(cfg->sigma)))
        return em_error_set(err, EM_ERR_ARG, "--sigma must be > 0");
    em_status st = em_check_scale(data, err);
    double acc[3] = {0, NAN, 0};
    if (st == EM_OK)
        st = em_table_fold(data, acc, 3, scan_rows, NULL, err);
    if (st != EM_OK)
        return st;
    size_t nskipped = (size_t)acc[0];
    if (nskipped == em_table_total(data))
        return em_error_set(err, EM_ERR_DATA, "column \"%s\" has no values",
                            data->names[0]);
    /* two different |y|: else a free sigma could shrink to 0 and the
     * likelihood grow without bound */
    if (cfg->free_sigma && !acc[2])
        return em_error_set(err, EM_ERR_DATA,
                            "every |y| is the same, so sigma would shrink to "
                            "0: fit with a known --sigma instead");
    mixed_normal *m = calloc(1, sizeof *m);
    if (!m)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    m->data = data;
    m->free_sigma = cfg->free_sigma;
    m->known_sigma = cfg->has_sigma ? cfg->sigma : 1.0;
    *state = m;
    *info = (em_model_info){.nparams = cfg->free_sigma ? 3 : 2,
                            .param_names = param_names,
                            .nfree = cfg->free_sigma ? 3 : 2,
                            .nunits = data->nrows,
                            .nstats = STATS_END - EM_STAT_HEADER,
                            .nskipped = nskipped,
                            .monotone = 1};
    return EM_OK;
}

static void mn_destroy(void *state)
{
    free(state);
}

static double sigma_of(const mixed_normal *m, const double *th)
{
    return m->free_sigma ? th[SIGMA] : m->known_sigma;
}

/* acc: observed values, their sum and sum of squares. */
static void moments(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    for (size_t i = 0; i < t->nrows; i++) {
        double y = em_table_at(t, i, 0);
        if (!isnan(y))
            acc[0] += 1, acc[1] += y, acc[2] += y * y;
    }
}

/* The default start, by moments: E[y^2] = mu^2 + s^2 gives mu (with s
 * started at half the standard deviation when it is free), and
 * E[y] = (1 - 2p) mu gives p, kept inside [0.1, 0.9]. */
static em_status mn_init(void *state, unsigned long long seed,
                          double *th, em_error *err)
{
    (void)seed;
    const mixed_normal *m = state;
    double acc[3] = {0, 0, 0};
    em_status st = em_table_fold(m->data, acc, 3, moments, NULL, err);
    if (st != EM_OK)
        return st;
    double n = acc[0], sy = acc[1], syy = acc[2];
    double mean = sy / n, var = fmax(syy / n - mean * mean, 0);
    double s = m->free_sigma ? fmax(0.5 * sqrt(var), 1e-3) : m->known_sigma;
    double mu = sqrt(fmax(syy / n - s * s, 0));
    if (mu < 0.1 * s)
        mu = s; /* mu = 0 would be the unidentified stationary point */
    th[MU] = mu;
    th[P] = fmin(fmax(0.5 * (1 - mean / mu), 0.1), 0.9);
    if (m->free_sigma)
        th[SIGMA] = s;
    return EM_OK;
}

static em_status mn_check(const void *state, const double *th, size_t *bad,
                          em_error *err)
{
    const mixed_normal *m = state;
    if (!isfinite(th[MU])) {
        *bad = MU;
        return em_error_set(err, EM_ERR_ARG, "mu = %g: must be finite",
                            th[MU]);
    }
    if (!(th[P] >= 0 && th[P] <= 1)) {
        *bad = P;
        return em_error_set(err, EM_ERR_ARG,
                            "p = %g: a probability must lie in [0, 1]", th[P]);
    }
    if (m->free_sigma && !(th[SIGMA] > 0 && isfinite(th[SIGMA]))) {
        *bad = SIGMA;
        return em_error_set(err, EM_ERR_ARG,
                            "sigma = %g: must be a finite number > 0",
                            th[SIGMA]);
    }
    return EM_OK;
}

static em_status mn_prepare(void *state, const double *th, em_error *err)
{
    (void)err;
    mixed_normal *m = state;
    m->mu = th[MU];
    m->sigma = sigma_of(m, th);
    double c = -log(m->sigma) - 0.5 * EM_LOG_2PI;
    m->la = log1p(-th[P]) + c;
    m->lb = log(th[P]) + c;
    return EM_OK;
}

static void mn_estep(const void *state, size_t begin, size_t end, double *s)
{
    const mixed_normal *m = state;
    const double *y = m->data->values;
    for (size_t i = begin; i < end; i++) {
        if (isnan(y[i]))
            continue;
        double za = (y[i] - m->mu) / m->sigma, zb = (y[i] + m->mu) / m->sigma;
        double a = m->la - 0.5 * za * za, b = m->lb - 0.5 * zb * zb;
        double ll = em_logaddexp(a, b);
        double w = exp(a - ll);
        s[EM_STAT_LOGLIK] += ll;
        s[EM_STAT_NOBS] += 1;
        s[SW] += w;
        s[SWY] += (2 * w - 1) * y[i];
        s[SR2] += w * (y[i] - m->mu) * (y[i] - m->mu) +
                  (1 - w) * (y[i] + m->mu) * (y[i] + m->mu);
        s[SR1] += w * (y[i] - m->mu) - (1 - w) * (y[i] + m->mu);
    }
}

static em_status mn_mstep(void *state, const double *s,
                          const unsigned char *fixed, double *th,
                          em_error *err)
{
    mixed_normal *m = state;
    double n = s[EM_STAT_NOBS];
    int hold_mu = fixed && fixed[MU], hold_p = fixed && fixed[P];
    if (!hold_p)
        th[P] = (n - s[SW]) / n;
    if (!hold_mu) /* s[SWY] / n, less the cancellation far from 0 */
        th[MU] = m->mu + s[SR1] / n;
    if (m->free_sigma && !(fixed && fixed[SIGMA])) {
        double d = m->mu - th[MU];
        double v = (s[SR2] + 2 * d * s[SR1] + n * d * d) / n;
        if (!(v > 0))
            return em_error_set(err, EM_ERR_NUMERIC,
                                "sigma shrank to 0 (sigma^2 = %g)", v);
        th[SIGMA] = sqrt(v);
    }
    /* Report the form with mu >= 0; only possible when both move. */
    if (th[MU] < 0 && !hold_mu && !hold_p) {
        th[MU] = -th[MU];
        th[P] = 1 - th[P];
    }
    return EM_OK;
}

static em_status mn_check_fit(const void *state, const double *th,
                              em_error *err)
{
    const mixed_normal *m = state;
    if (fabs(th[MU]) > 1e-6 * sigma_of(m, th))
        return EM_OK;
    return em_error_set(err, EM_ERR_DATA,
                        "the fit ended at mu = %g, the stationary point where "
                        "both components are one normal and p is not "
                        "identified: this is not a fit (start elsewhere with "
                        "--start mu=X)",
                        th[MU]);
}

/* (1 - p) N(x; mu, s^2) + p N(x; -mu, s^2), summed in log space as the
 * E-step sums it; p = 0 or 1 drops a term instead of taking log(0). */
static double mn_density1d(const void *state, const double *th, double x)
{
    const mixed_normal *m = state;
    double s = sigma_of(m, th);
    double za = (x - th[MU]) / s, zb = (x + th[MU]) / s;
    double c = -log(s) - 0.5 * EM_LOG_2PI;
    double la = th[P] < 1 ? log1p(-th[P]) : -INFINITY;
    double lb = th[P] > 0 ? log(th[P]) : -INFINITY;
    return exp(em_logaddexp(la + c - 0.5 * za * za, lb + c - 0.5 * zb * zb));
}

/* ---- unconstrained coordinates (--se, --accel squarem) ---------------- */

/* mu as it is, logit p, log sigma; held parameters left out. */
static size_t mn_to_free(const void *state, const double *th,
                         const unsigned char *fixed, double *u)
{
    const mixed_normal *m = state;
    size_t k = 0;
    if (!(fixed && fixed[MU]))
        u[k++] = th[MU];
    if (!(fixed && fixed[P]))
        u[k++] = em_logit(th[P]);
    if (m->free_sigma && !(fixed && fixed[SIGMA]))
        u[k++] = log(th[SIGMA]);
    return k;
}

static void mn_from_free(const void *state, const double *u,
                         const unsigned char *fixed, double *th)
{
    const mixed_normal *m = state;
    size_t k = 0;
    if (!(fixed && fixed[MU]))
        th[MU] = u[k++];
    if (!(fixed && fixed[P]))
        th[P] = em_expit(u[k++]);
    if (m->free_sigma && !(fixed && fixed[SIGMA]))
        th[SIGMA] = exp(u[k++]);
}

const em_model_type em_model_mixed_normal = {
    .name = "mixed-normal",
    .summary = "(1-p) N(mu, s^2) + p N(-mu, s^2), s known or free "
               "(document 003)",
    .options = mn_options,
    .create = mn_create,
    .destroy = mn_destroy,
    .init = mn_init,
    .check = mn_check,
    .prepare = mn_prepare,
    .estep = mn_estep,
    .mstep = mn_mstep,
    .check_fit = mn_check_fit,
    .density1d = mn_density1d,
    .to_free = mn_to_free,
    .from_free = mn_from_free,
    .fixable = 1,
    .streamable = 1,
    .distributable = 1,
};
