/* Standard errors (em_covariance, em_standard_errors): closed forms for a
 * complete-data normal, a binomial proportion and a single normal; a plain
 * finite-difference Hessian computed here, in the parameters themselves,
 * for three-coin and a two-component gmm; and the cases without standard
 * errors (held parameters, a ridge, a boundary, models that cannot). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "core/linalg.h"
#include "emfit/emfit.h"

enum { NMAX = 2000, PMAX = 8 };

static char *names[5] = {"c1", "c2", "c3", "c4", "c5"};
static double values[NMAX * 5];

static em_table table(size_t n, size_t d)
{
    return (em_table){.nrows = n, .ncols = d, .names = names,
                      .values = values};
}

static void make(const char *model, const em_model_config *cfg,
                 const em_table *t, em_model *m)
{
    em_error err;
    if (em_model_create(em_model_find(model), cfg, t, m, &err) != EM_OK) {
        print_error("%s: %s\n", model, err.msg);
        fail();
    }
}

/* Fits m from its default start to the maximum: SQUAREM with tol 0 runs
 * until the log-likelihood stops changing at all. */
static void fit_to_max(em_model *m, const unsigned char *fixed, double *th)
{
    em_fit_options o;
    em_fit_options_default(&o);
    o.max_iter = 20000;
    o.tol = 0;
    o.accel = EM_ACCEL_SQUAREM;
    o.fixed = fixed;
    em_fit_result res;
    em_error err;
    if (!fixed)
        assert_int_equal(m->type->init(m->state, 1, th, &err), EM_OK);
    assert_int_equal(em_fit(m, th, &o, &res, &err), EM_OK);
}

/* Complete bivariate normal rows, all observed: the maximum-likelihood
 * estimates are the sample moments (divisor n), and at them the observed
 * information is n times the Fisher information, whose inverse gives
 *   se(mu_i) = s_i / sqrt(n),   se(s_i) = s_i / sqrt(2n),
 *   se(rho) = (1 - rho^2) / sqrt(n),   cov(s1, s2) = rho^2 s1 s2 / (2n),
 *   cov(s1, rho) = rho (1 - rho^2) s1 / (2n). */
static void bvn_complete_closed_form(void **state)
{
    (void)state;
    const size_t n = 250;
    uint64_t g = 17;
    double sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = gauss(&g), b = gauss(&g);
        values[2 * i] = 3 + 2 * a;
        values[2 * i + 1] = -1 + 0.5 * (0.6 * a + 0.8 * b);
        sx += values[2 * i], sy += values[2 * i + 1];
    }
    double th[5] = {sx / n, sy / n, 0, 0, 0}, cxx = 0, cyy = 0, cxy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = values[2 * i] - th[0], dy = values[2 * i + 1] - th[1];
        cxx += dx * dx, cyy += dy * dy, cxy += dx * dy;
    }
    th[2] = sqrt(cxx / n), th[3] = sqrt(cyy / n);
    th[4] = cxy / sqrt(cxx * cyy);
    em_table t = table(n, 2);
    em_model m;
    em_model_config cfg = {0};
    make("bvn", &cfg, &t, &m);
    double cov[25], se[5], rn = sqrt((double)n), r = th[4];
    em_error err;
    assert_int_equal(em_covariance(&m, th, NULL, 1, cov, &err), EM_OK);
    assert_int_equal(em_standard_errors(&m, th, NULL, 2, se, &err), EM_OK);
    assert_close(se[0], th[2] / rn, 1e-7);
    assert_close(se[1], th[3] / rn, 1e-7);
    assert_close(se[2], th[2] / sqrt(2.0 * n), 1e-7);
    assert_close(se[3], th[3] / sqrt(2.0 * n), 1e-7);
    assert_close(se[4], (1 - r * r) / rn, 1e-7);
    assert_close(cov[2 * 5 + 3], r * r * th[2] * th[3] / (2.0 * n), 1e-6);
    assert_close(cov[2 * 5 + 4], r * (1 - r * r) * th[2] / (2.0 * n), 1e-6);
    assert_close(cov[4 * 5 + 2], cov[2 * 5 + 4], 1e-12);
    assert_true(fabs(cov[0 * 5 + 2]) < 1e-8 * cov[0]); /* means apart */
    for (size_t i = 0; i < 5; i++)
        assert_close(sqrt(cov[i * 5 + i]), se[i], 1e-14);
    em_model_free(&m);
}

/* A binomial proportion: three-coin with pi held at 1 never picks coin C,
 * so every toss is Bernoulli(p) and l = h log p + (T - h) log(1 - p), with
 * maximum p = h / T and information T / (p (1 - p)) there: se(p) =
 * sqrt(p (1 - p) / T).  The held pi and q (whose value the data cannot
 * see) have none. */
static void binomial_proportion(void **state)
{
    (void)state;
    const size_t n = 150, d = 3;
    uint64_t g = 5;
    double heads = 0, tosses = 0;
    for (size_t i = 0; i < n * d; i++) {
        values[i] = unif(&g) < 0.1 ? NAN : unif(&g) < 0.7;
        if (!isnan(values[i]))
            heads += values[i], tosses += 1;
    }
    em_table t = table(n, d);
    em_model m;
    em_model_config cfg = {0};
    make("three-coin", &cfg, &t, &m);
    unsigned char fixed[3] = {1, 0, 1};
    double p = heads / tosses, th[3] = {1, 0.5, 0.5}, se[3];
    fit_to_max(&m, fixed, th);
    assert_close(th[1], p, 1e-12);
    em_error err;
    assert_int_equal(em_standard_errors(&m, th, fixed, 1, se, &err), EM_OK);
    assert_close(se[1], sqrt(p * (1 - p) / tosses), 1e-7);
    assert_true(isnan(se[0]) && isnan(se[2]));
    em_model_free(&m);
}

/* A single normal: mixed-normal with p held at 0 is N(mu, sigma^2), whose
 * maximum is the mean and the standard deviation (divisor n), with se(mu)
 * = sigma / sqrt(n) and se(sigma) = sigma / sqrt(2n). */
static void single_normal(void **state)
{
    (void)state;
    const size_t n = 300;
    uint64_t g = 23;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += values[i] = 4 + 1.5 * gauss(&g);
    for (size_t i = 0; i < n; i++)
        ss += (values[i] - s / n) * (values[i] - s / n);
    em_table t = table(n, 1);
    em_model m;
    em_model_config cfg = {.free_sigma = 1};
    make("mixed-normal", &cfg, &t, &m);
    unsigned char fixed[3] = {0, 1, 0};
    double th[3] = {3, 0, 1}, se[3], sigma = sqrt(ss / n);
    fit_to_max(&m, fixed, th);
    assert_close(th[0], s / n, 1e-10);
    assert_close(th[2], sigma, 1e-10);
    em_error err;
    assert_int_equal(em_standard_errors(&m, th, fixed, 1, se, &err), EM_OK);
    assert_close(se[0], sigma / sqrt((double)n), 1e-7);
    assert_close(se[2], sigma / sqrt(2.0 * n), 1e-7);
    assert_true(isnan(se[1]));
    em_model_free(&m);
}

/* The covariance of free[0..nf) (indices into theta; the others are given
 * by complete(), e.g. the last weight) as the inverse of minus a plain
 * central-difference Hessian of l in those parameters themselves, with
 * steps h_i = 1e-4 max(|theta_i|, 1): nothing shared with the code
 * under test but em_loglik. */
typedef void (*complete_fn)(double *th);

static double ll_at(em_model *m, const double *th)
{
    double l;
    em_error err;
    assert_int_equal(em_loglik(m, th, 1, &l, &err), EM_OK);
    return l;
}

static void plain_covariance(em_model *m, const double *theta,
                             const size_t *free, size_t nf,
                             complete_fn complete, double *cov)
{
    size_t np = m->info.nparams;
    double h[PMAX], neg[PMAX * PMAX], th[16];
    for (size_t i = 0; i < nf; i++)
        h[i] = 1e-4 * fmax(fabs(theta[free[i]]), 1);
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j <= i; j++) {
            double f[4];
            for (int k = 0; k < 4; k++) {
                memcpy(th, theta, np * sizeof *th);
                th[free[i]] += (k & 1 ? -1 : 1) * h[i];
                th[free[j]] += (k & 2 ? -1 : 1) * h[j];
                complete(th);
                f[k] = ll_at(m, th);
            }
            double d = (f[0] - f[1] - f[2] + f[3]) / (4 * h[i] * h[j]);
            neg[i * nf + j] = neg[j * nf + i] = -d;
        }
    assert_int_equal(em_cholesky(neg, nf), 0);
    for (size_t c = 0; c < nf; c++) {
        double e[PMAX] = {0};
        e[c] = 1;
        em_chol_forward(neg, nf, e);
        em_chol_back(neg, nf, e);
        for (size_t r = 0; r < nf; r++)
            cov[r * nf + c] = e[r];
    }
}

static void nothing_derived(double *th)
{
    (void)th;
}

static void last_weight(double *th)
{
    th[1] = 1 - th[0];
}

/* three-coin on 5 tosses a row, all three free. */
static void three_coin_against_plain_hessian(void **state)
{
    (void)state;
    const size_t n = 400, d = 5;
    uint64_t g = 31;
    for (size_t i = 0; i < n; i++) {
        double h = unif(&g) < 0.4 ? 0.8 : 0.3;
        for (size_t j = 0; j < d; j++)
            values[i * d + j] = unif(&g) < h;
    }
    em_table t = table(n, d);
    em_model m;
    em_model_config cfg = {0};
    make("three-coin", &cfg, &t, &m);
    double th[3], se[3], cov[9];
    fit_to_max(&m, NULL, th);
    em_error err;
    assert_int_equal(em_standard_errors(&m, th, NULL, 1, se, &err), EM_OK);
    const size_t all[3] = {0, 1, 2};
    plain_covariance(&m, th, all, 3, nothing_derived, cov);
    for (size_t i = 0; i < 3; i++)
        assert_close(se[i], sqrt(cov[i * 3 + i]), 1e-4);
    em_model_free(&m);
}

/* gmm, one column, K = 2, reg 0 (so the fit is the exact maximum): the
 * free parameters are w1, the means and the variances; w2 = 1 - w1 gets
 * its standard error through the delta method, equal to w1's. */
static void gmm_against_plain_hessian(void **state)
{
    (void)state;
    const size_t n = 500;
    uint64_t g = 41;
    for (size_t i = 0; i < n; i++)
        values[i] = unif(&g) < 0.35 ? 3 + 0.7 * gauss(&g) : gauss(&g);
    em_table t = table(n, 1);
    em_model m;
    em_model_config cfg = {.k = 2, .has_reg = 1, .reg = 0};
    make("gmm", &cfg, &t, &m);
    assert_int_equal(m.info.nparams, 6); /* w1 w2 mean1 mean2 var1 var2 */
    double th[6], se[6], cov[25];
    fit_to_max(&m, NULL, th);
    em_error err;
    assert_int_equal(em_standard_errors(&m, th, NULL, 1, se, &err), EM_OK);
    const size_t free[5] = {0, 2, 3, 4, 5};
    plain_covariance(&m, th, free, 5, last_weight, cov);
    for (size_t i = 0; i < 5; i++)
        assert_close(se[free[i]], sqrt(cov[i * 5 + i]), 1e-4);
    assert_close(se[1], se[0], 1e-8);
    em_model_free(&m);
}

/* One toss a row: only pi p + (1 - pi) q is identified, so the fit lies on
 * a ridge and the information is singular.  p = 1 is on the boundary. */
static void no_standard_errors(void **state)
{
    (void)state;
    const size_t n = 60;
    uint64_t g = 3;
    for (size_t i = 0; i < n; i++)
        values[i] = unif(&g) < 0.6;
    em_table t = table(n, 1);
    em_model m;
    em_model_config cfg = {0};
    make("three-coin", &cfg, &t, &m);
    double th[3], se[3];
    fit_to_max(&m, NULL, th);
    em_error err;
    assert_int_equal(em_standard_errors(&m, th, NULL, 1, se, &err),
                     EM_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "information matrix is"));
    assert_non_null(strstr(err.msg, "no standard errors"));
    assert_true(isnan(se[0]) && isnan(se[1]) && isnan(se[2]));
    double edge[3] = {0.5, 1, 0.3};
    assert_int_equal(em_standard_errors(&m, edge, NULL, 1, se, &err),
                     EM_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "boundary"));
    em_model_free(&m);
}

/* A model without to_free, and bvn's --estep mean (not a maximum of the
 * likelihood), are usage errors. */
static void refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < 40; i++) {
        values[2 * i] = (double)i;
        values[2 * i + 1] = i % 3 ? sin((double)i) : NAN;
    }
    em_table t = table(40, 2);
    em_model_type bare = *em_model_find("bvn");
    bare.to_free = NULL;
    bare.from_free = NULL;
    em_model m;
    em_error err;
    em_model_config cfg = {0};
    double th[5], se[5];
    assert_int_equal(em_model_create(&bare, &cfg, &t, &m, &err), EM_OK);
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    assert_int_equal(em_standard_errors(&m, th, NULL, 1, se, &err),
                     EM_ERR_ARG);
    em_model_free(&m);
    cfg.estep = "mean";
    make("bvn", &cfg, &t, &m);
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    assert_int_equal(em_standard_errors(&m, th, NULL, 1, se, &err),
                     EM_ERR_ARG);
    em_model_free(&m);
}

/* Each model's coordinates: from_free(to_free(theta)) == theta, and the
 * count leaves out held and derived parameters. */
static void coordinates_round_trip(void **state)
{
    (void)state;
    uint64_t g = 8;
    for (size_t i = 0; i < 200 * 3; i++)
        values[i] = gauss(&g) + (i % 2 ? 4 : 0);
    em_table t = table(200, 3);
    const char *covs[] = {"full", "diag", "spherical", "tied"};
    for (size_t c = 0; c < 4; c++) {
        em_model m;
        em_model_config cfg = {.k = 3, .cov = covs[c]};
        make("gmm", &cfg, &t, &m);
        double th[64], back[64], u[64];
        em_error err;
        assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
        size_t nu = m.type->to_free(m.state, th, NULL, u);
        assert_int_equal(nu, m.info.nfree);
        memset(back, 0, sizeof back);
        m.type->from_free(m.state, u, NULL, back);
        for (size_t i = 0; i < m.info.nparams; i++)
            assert_close(back[i], th[i], 1e-12);
        em_model_free(&m);
    }
    em_model m;
    em_model_config cfg = {.free_sigma = 1};
    em_table one = table(200, 1);
    make("mixed-normal", &cfg, &one, &m);
    unsigned char fixed[3] = {0, 1, 0};
    double th[3] = {1.5, 0.25, 0.8}, back[3] = {0, 0.75, 0}, u[3];
    assert_int_equal(m.type->to_free(m.state, th, fixed, u), 2);
    m.type->from_free(m.state, u, fixed, back);
    assert_close(back[0], 1.5, 1e-15);
    assert_true(back[1] == 0.75); /* held: left as it was */
    assert_close(back[2], 0.8, 1e-15);
    em_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bvn_complete_closed_form),
        cmocka_unit_test(binomial_proportion),
        cmocka_unit_test(single_normal),
        cmocka_unit_test(three_coin_against_plain_hessian),
        cmocka_unit_test(gmm_against_plain_hessian),
        cmocka_unit_test(no_standard_errors),
        cmocka_unit_test(refusals),
        cmocka_unit_test(coordinates_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
