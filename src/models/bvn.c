/* bvn: a bivariate normal whose rows may miss either coordinate, the D = 2
 * case of the mvn model under the names of Efron and Hastie's example
 * (document 000).
 *
 * Parameters: mu1, mu2 (means), s1, s2 (standard deviations, maximum-
 * likelihood divisor n) and rho (correlation).  Every computation on the
 * data is mvn's (mvn.h): this file maps (mu1, mu2, s1, s2, rho) to the
 * mean and the covariance [s1^2, rho s1 s2; rho s1 s2, s2^2] and back, and
 * keeps bvn's own checks and messages.
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
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/free_coords.h"
#include "models/models.h"
#include "models/mvn.h"

enum { MU1, MU2, S1, S2, RHO, NPARAMS };
/* The covariance packed as mvn keeps it: (1,1), (1,2), (2,2). */
enum { C11, C12, C22, NCOV };

static const char *const param_names[NPARAMS] = {"mu1", "mu2", "s1", "s2",
                                                 "rho"};
static const char *const bvn_options[] = {"estep", "fill", NULL};

typedef struct bvn {
    em_mvn *core;
    int has_fill;
    double rho; /* of the prepared theta */
} bvn;

/* 1 - rho^2 below this is a singular covariance in double precision. */
#define SINGULAR_1MR2 1e-12

static void to_cov(const double *th, double *cov)
{
    cov[C11] = th[S1] * th[S1];
    cov[C12] = th[RHO] * (th[S1] * th[S2]); /* symmetric in 1 and 2 */
    cov[C22] = th[S2] * th[S2];
}

static em_status bvn_create(const em_model_config *cfg, const em_table *data,
                            void **state, em_model_info *info, em_error *err)
{
    if (data->ncols != 2)
        return em_error_set(err, EM_ERR_ARG,
                            "the bvn model needs exactly 2 columns, but %zu "
                            "are selected (choose two with --columns)",
                            data->ncols);
    em_mvn_settings set;
    em_status st = em_mvn_settings_from(cfg, &set, err);
    if (st != EM_OK)
        return st;
    bvn *b = calloc(1, sizeof *b);
    if (!b)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    size_t nskipped = 0;
    st = em_mvn_create(data, &set, &b->core, &nskipped, err);
    if (st != EM_OK) {
        free(b);
        return st;
    }
    b->has_fill = set.has_fill;
    *state = b;
    *info = (em_model_info){.nparams = NPARAMS,
                            .param_names = param_names,
                            .nfree = NPARAMS,
                            .nunits = data->nrows,
                            .nstats = em_mvn_nstats(2),
                            .nskipped = nskipped,
                            .monotone = !set.mean_only};
    return EM_OK;
}

static void bvn_destroy(void *state)
{
    bvn *b = state;
    if (b)
        em_mvn_free(b->core);
    free(b);
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

/* Each column's mean and standard deviation over its own values and the
 * correlation over the rows holding both (see em_mvn_start). */
static em_status bvn_init(void *state, unsigned long long seed,
                           double *th, em_error *err)
{
    (void)seed;
    bvn *b = state;
    double cov[NCOV];
    size_t bad;
    em_status st = em_mvn_start(b->core, th, cov, err);
    if (st != EM_OK)
        return st;
    th[S1] = sqrt(cov[C11]);
    th[S2] = sqrt(cov[C22]);
    th[RHO] = cov[C12] / (th[S1] * th[S2]);
    if (bvn_check(b, th, &bad, NULL) != EM_OK)
        return em_error_set(err, EM_ERR_DATA,
                            "the default start is degenerate (%s = %g)%s; give "
                            "one with --start",
                            param_names[bad], th[bad],
                            b->has_fill ? " with this --fill value" : "");
    return EM_OK;
}

/* In the standardised coordinates, the correlation matrix's condition
 * number is (1 + |rho|) / (1 - |rho|), exactly. */
static double correlation_condition(const bvn *b)
{
    double r = fabs(b->rho);
    return (1 + r) / (1 - r);
}

/* How much rounding to expect: centring far from 0 amplifies it too. */
static double bvn_condition(const void *state)
{
    const bvn *b = state;
    return fmax(correlation_condition(b), em_mvn_centring(b->core));
}

static em_status bvn_prepare(void *state, const double *th, em_error *err)
{
    bvn *b = state;
    double cov[NCOV];
    to_cov(th, cov);
    b->rho = th[RHO];
    em_status st = em_mvn_prepare(b->core, th, cov, err);
    return st == EM_OK ? em_mvn_conditioned(correlation_condition(b), err)
                       : st;
}

static void bvn_estep(const void *state, size_t begin, size_t end, double *s)
{
    const bvn *b = state;
    em_mvn_estep(b->core, begin, end, s);
}

static em_status bvn_mstep(void *state, const double *stats,
                           const unsigned char *fixed, double *th,
                           em_error *err)
{
    (void)fixed;
    bvn *b = state;
    double mu[2] = {th[MU1], th[MU2]}, cov[NCOV];
    em_mvn_moments(b->core, stats, mu, cov);
    double v1 = cov[C11], v2 = cov[C22];
    if (!(v1 > 0 && v2 > 0))
        return em_error_set(err, EM_ERR_NUMERIC,
                            "a variance reached 0 (s1^2 = %g, s2^2 = %g)", v1,
                            v2);
    double rho = cov[C12] / (sqrt(v1) * sqrt(v2));
    if (!(1 - rho * rho > SINGULAR_1MR2))
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the covariance became singular (rho = %.17g): "
                            "the data lie on a line",
                            rho);
    th[MU1] = mu[0];
    th[MU2] = mu[1];
    th[S1] = sqrt(v1);
    th[S2] = sqrt(v2);
    th[RHO] = rho;
    return EM_OK;
}

static void bvn_impute(const void *state, size_t begin, size_t end,
                       double *out)
{
    const bvn *b = state;
    em_mvn_impute(b->core, begin, end, out);
}

/* The one normal component, for plots. */
static size_t bvn_components2d(const void *state, const double *th,
                               size_t max, double *weight, double *mean,
                               double *cov)
{
    (void)state;
    if (max < 1)
        return 0;
    double c[NCOV];
    to_cov(th, c);
    weight[0] = 1;
    mean[0] = th[MU1], mean[1] = th[MU2];
    cov[0] = c[C11], cov[1] = cov[2] = c[C12], cov[3] = c[C22];
    return 1;
}

/* ---- unconstrained coordinates (--se, --accel squarem) ----------------
 * mu1, mu2 as they are, log s1, log s2 and atanh rho (Fisher's z).  The
 * model holds nothing fixed, so the mask is always NULL. */

static size_t bvn_to_free(const void *state, const double *th,
                          const unsigned char *fixed, double *u)
{
    (void)state, (void)fixed;
    u[0] = th[MU1], u[1] = th[MU2];
    u[2] = log(th[S1]), u[3] = log(th[S2]);
    u[4] = atanh(th[RHO]);
    return NPARAMS;
}

static void bvn_from_free(const void *state, const double *u,
                          const unsigned char *fixed, double *th)
{
    (void)state, (void)fixed;
    th[MU1] = u[0], th[MU2] = u[1];
    th[S1] = exp(u[2]), th[S2] = exp(u[3]);
    th[RHO] = tanh(u[4]);
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
    .impute = bvn_impute,
    .condition = bvn_condition,
    .components2d = bvn_components2d,
    .to_free = bvn_to_free,
    .from_free = bvn_from_free,
    .streamable = 1,
    .distributable = 1,
};
