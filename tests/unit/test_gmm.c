/* The gmm model against hand and brute-force computations: the K = 1
 * closed form, the log-likelihood with missing values, the missing-value
 * E-step against numerical integration, an independent implementation of
 * the ordinary E- and M-steps, the log-likelihood on random problems
 * (monotone with reg 0; with reg, within the EM bound by the step's gain
 * in Q, which the test computes itself and compares with q_gain),
 * recovery of simulated clusters, determinism, degenerate data, check(),
 * the parameter names, and that a start depends on the seed alone.
 * GMM_TEST_VERBOSE=1 prints how often the log-likelihood fell. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"
#include "models/gmm_block.h"

#define PI_CONST 3.14159265358979323846
#define LOG_2PI_CONST 1.8378770664093454836

enum { DMAX = 4, KMAX = 4, TRI_MAX = DMAX * (DMAX + 1) / 2 };

static const char *const cov_types[4] = {"full", "diag", "spherical", "tied"};
enum { FULL, DIAG, SPHERICAL, TIED };

static char *col_names[DMAX] = {"x1", "x2", "x3", "x4"};

/* A table over caller-owned values (names and values are not freed). */
static em_table table_of(double *values, size_t nrows, size_t ncols)
{
    return (em_table){.nrows = nrows, .ncols = ncols, .names = col_names,
                      .values = values};
}

/* ---- helpers --------------------------------------------------------- */

/* |got - want| <= rel * max(|want|, scale): relative, with a floor for
 * values that may lie near 0 (off-diagonal covariances). */
#define assert_close_s(got, want, rel, scale) \
    assert_close_s_impl((got), (want), (rel), (scale), #got, __FILE__, \
                        __LINE__)

static void assert_close_s_impl(double got, double want, double rel,
                                double scale, const char *expr,
                                const char *file, int line)
{
    double s = fmax(fabs(want), scale);
    if (!(fabs(got - want) <= rel * s)) {
        print_error("%s = %.17g, want %.17g (tolerance %g x %g)\n", expr, got,
                    want, rel, s);
        _fail(file, line);
    }
}

/* The index of a named parameter; fails the test when there is none. */
static size_t idx(const em_model *m, const char *name)
{
    size_t i = em_model_param_index(m, name);
    if (i == (size_t)-1)
        fail_msg("no parameter named %s", name);
    return i;
}

static size_t idx_fmt(const em_model *m, const char *fmt, size_t a, size_t b,
                      size_t c)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, a, b, c);
    return idx(m, buf);
}

static size_t w_idx(const em_model *m, size_t k)
{
    return idx_fmt(m, "w%zu", k + 1, 0, 0);
}

static size_t mean_idx(const em_model *m, size_t k, size_t i)
{
    return idx_fmt(m, "mean%zu_%zu", k + 1, i + 1, 0);
}

/* The index of component k's covariance entry (i, j) as a parameter, or
 * (size_t)-1 when the structure fixes it at 0 (off-diagonals of diag and
 * spherical). */
static size_t cov_idx(const em_model *m, int cov, size_t k, size_t i,
                      size_t j)
{
    size_t a = i < j ? i : j, b = i < j ? j : i;
    switch (cov) {
    case FULL:
        return idx_fmt(m, "cov%zu_%zu_%zu", k + 1, a + 1, b + 1);
    case TIED:
        return idx_fmt(m, "cov_%zu_%zu", a + 1, b + 1, 0);
    case DIAG:
        return a == b ? idx_fmt(m, "var%zu_%zu", k + 1, a + 1, 0)
                      : (size_t)-1;
    default:
        return a == b ? idx_fmt(m, "var%zu", k + 1, 0, 0) : (size_t)-1;
    }
}

static double cov_get(const em_model *m, int cov, const double *th, size_t k,
                      size_t i, size_t j)
{
    size_t p = cov_idx(m, cov, k, i, j);
    return p == (size_t)-1 ? 0.0 : th[p];
}

/* Writes full matrices s (K x D x D) into theta as the structure allows:
 * diag keeps the diagonal, spherical the mean of the diagonal, tied
 * component 0's matrix. */
static void pack_theta(const em_model *m, int cov, size_t K, size_t d,
                       const double *w, const double *mu, const double *s,
                       double *th)
{
    for (size_t k = 0; k < K; k++) {
        th[w_idx(m, k)] = w[k];
        for (size_t i = 0; i < d; i++)
            th[mean_idx(m, k, i)] = mu[k * d + i];
        const double *sk = s + k * d * d;
        if (cov == SPHERICAL) {
            double t = 0;
            for (size_t i = 0; i < d; i++)
                t += sk[i * d + i];
            th[cov_idx(m, cov, k, 0, 0)] = t / (double)d;
            continue;
        }
        if (cov == TIED && k > 0)
            continue;
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++) {
                size_t p = cov_idx(m, cov, k, i, j);
                if (p != (size_t)-1)
                    th[p] = sk[i * d + j];
            }
    }
}

/* The full covariance matrix of component k that theta describes. */
static void unpack_cov(const em_model *m, int cov, const double *th, size_t k,
                       size_t d, double *s)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            s[i * d + j] = cov_get(m, cov, th, k, i, j);
}

/* The test's own Cholesky (lower, row-major); 0 on success. */
static int ref_cholesky(const double *a, size_t d, double *l)
{
    memset(l, 0, d * d * sizeof *l);
    for (size_t j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (size_t k = 0; k < j; k++)
            s -= l[j * d + k] * l[j * d + k];
        if (!(s > 0))
            return 1;
        l[j * d + j] = sqrt(s);
        for (size_t i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (size_t k = 0; k < j; k++)
                t -= l[i * d + k] * l[j * d + k];
            l[i * d + j] = t / l[j * d + j];
        }
    }
    return 0;
}

/* log N(x; mu, s) in d dimensions, computed by the test. */
static double ref_logpdf(const double *x, const double *mu, const double *s,
                         size_t d)
{
    double l[DMAX * DMAX], y[DMAX], logdet = 0, maha = 0;
    assert_int_equal(ref_cholesky(s, d, l), 0);
    for (size_t i = 0; i < d; i++) {
        double t = x[i] - mu[i];
        for (size_t k = 0; k < i; k++)
            t -= l[i * d + k] * y[k];
        y[i] = t / l[i * d + i];
        maha += y[i] * y[i];
        logdet += 2.0 * log(l[i * d + i]);
    }
    return -0.5 * ((double)d * LOG_2PI_CONST + logdet + maha);
}

/* The bivariate normal density written out: det and inverse of a 2 x 2. */
static double pdf2(double x1, double x2, const double *mu, const double *s)
{
    double det = s[0] * s[3] - s[1] * s[2];
    double d1 = x1 - mu[0], d2 = x2 - mu[1];
    double q = (s[3] * d1 * d1 - 2.0 * s[1] * d1 * d2 + s[0] * d2 * d2) / det;
    return exp(-0.5 * q) / (2.0 * PI_CONST * sqrt(det));
}

static double pdf1(double x, double mu, double var)
{
    return exp(-0.5 * (x - mu) * (x - mu) / var) / sqrt(2.0 * PI_CONST * var);
}

static em_status make(const em_table *t, size_t k, const char *cov,
                      int has_reg, double reg, em_model *m, em_error *err)
{
    em_model_config cfg = {.k = k, .cov = cov, .has_reg = has_reg,
                           .reg = reg};
    return em_model_create(em_model_find("gmm"), &cfg, t, m, err);
}

static double *stats_alloc(const em_model *m)
{
    double *s = calloc(EM_STAT_HEADER + m->info.nstats, sizeof *s);
    assert_non_null(s);
    return s;
}

/* One E-step at th and one M-step from it, into next. */
static void one_step(em_model *m, const double *th, double *next)
{
    double *st = stats_alloc(m);
    em_error err;
    assert_int_equal(em_estep_all(m, th, st, &err), EM_OK);
    memcpy(next, th, m->info.nparams * sizeof *next);
    em_status s = m->type->mstep(m->state, st, NULL, next, &err);
    if (s != EM_OK)
        fail_msg("mstep: %s", err.msg);
    free(st);
}

/* ---- 1. K = 1: the sample moments ----------------------------------- */

static void one_component_is_the_sample_moments(void **state)
{
    (void)state;
    enum { N = 40, D = 3 };
    double v[N * D];
    uint64_t s = 101;
    for (size_t i = 0; i < N; i++) {
        double z1 = gauss(&s), z2 = gauss(&s), z3 = gauss(&s);
        v[i * D + 0] = 5 + 1.5 * z1;
        v[i * D + 1] = -2 + 0.8 * z1 + 0.6 * z2;
        v[i * D + 2] = 10 + 0.3 * z2 + 2.0 * z3;
    }
    double mean[D] = {0}, c[D * D] = {0};
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < D; a++)
            mean[a] += v[i * D + a] / N;
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < D; a++)
            for (size_t b = 0; b < D; b++)
                c[a * D + b] += (v[i * D + a] - mean[a]) *
                                (v[i * D + b] - mean[b]) / N;
    em_table t = table_of(v, N, D);
    const double regs[2] = {0, 1e-3};
    for (int cv = 0; cv < 4; cv++)
        for (int r = 0; r < 2; r++) {
            em_model m;
            em_error err;
            em_fit_result res;
            double reg = regs[r];
            assert_int_equal(make(&t, 1, cov_types[cv], 1, reg, &m, &err),
                             EM_OK);
            double *th = calloc(m.info.nparams, sizeof *th);
            assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
            em_fit_options o = {.max_iter = 100, .tol = 1e-10};
            em_status st = em_fit(&m, th, &o, &res, &err);
            if (st != EM_OK)
                fail_msg("%s reg %g: %s", cov_types[cv], reg, err.msg);
            assert_true(res.converged);
            assert_true(res.iterations <= 2);
            assert_close(th[w_idx(&m, 0)], 1.0, 1e-15);
            for (size_t a = 0; a < D; a++)
                assert_close_s(th[mean_idx(&m, 0, a)], mean[a], 1e-10, 1.0);
            double tr = (c[0] + c[4] + c[8]) / D;
            for (size_t a = 0; a < D; a++)
                for (size_t b = a; b < D; b++) {
                    size_t p = cov_idx(&m, cv, 0, a, b);
                    if (p == (size_t)-1)
                        continue;
                    double want = cv == SPHERICAL ? tr : c[a * D + b];
                    if (a == b)
                        want += reg;
                    assert_close_s(th[p], want, 1e-10, 1.0);
                }
            free(th);
            em_model_free(&m);
        }
}

/* ---- 2. the log-likelihood by hand ---------------------------------- */

static void loglik_matches_a_hand_computation(void **state)
{
    (void)state;
    double v[] = {0.3, -0.7, 2.2, 1.1,  1.0, 0.4, -0.5, -2.0, 3.1, 2.4,
                  1.7, NAN,  NAN, 0.2,  NAN, NAN};
    em_table t = table_of(v, 8, 2);
    em_model m;
    em_error err;
    assert_int_equal(make(&t, 2, "full", 0, 0, &m, &err), EM_OK);
    assert_int_equal(m.info.nskipped, 1);
    assert_int_equal(m.info.nunits, 8);
    const double w[2] = {0.35, 0.65};
    const double mu[4] = {0.5, -1, 2, 1.5};
    const double s[8] = {1.5, 0.4, 0.4, 0.8, 0.6, -0.25, -0.25, 1.2};
    double th[12], *st = stats_alloc(&m);
    pack_theta(&m, FULL, 2, 2, w, mu, s, th);
    size_t bad;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_OK);
    assert_int_equal(em_estep_all(&m, th, st, &err), EM_OK);
    double want = 0;
    for (size_t i = 0; i < 5; i++)
        want += log(w[0] * pdf2(v[2 * i], v[2 * i + 1], mu, s) +
                    w[1] * pdf2(v[2 * i], v[2 * i + 1], mu + 2, s + 4));
    /* x2 missing: the marginal of x1; x1 missing: the marginal of x2 */
    want += log(w[0] * pdf1(1.7, mu[0], s[0]) + w[1] * pdf1(1.7, mu[2], s[4]));
    want += log(w[0] * pdf1(0.2, mu[1], s[3]) + w[1] * pdf1(0.2, mu[3], s[7]));
    assert_close(st[EM_STAT_LOGLIK], want, 1e-13);
    assert_close(st[EM_STAT_NOBS], 7, 0);
    free(st);
    em_model_free(&m);
}

/* ---- 3. the missing-value E-step against numerical integration ------- */

/* The M-step on statistics completed by integrating each row's missing
 * coordinate out numerically (trapezoid rule over the conditional mean
 * +- 10 sd, which for a Gaussian integrand is exact to rounding).  Rows
 * have 2 coordinates, at most one missing.  Returns the log-likelihood. */
static double brute_force_step(const double *v, size_t n, size_t K,
                               const double *w, const double *mu,
                               const double *s, double reg, double *w_out,
                               double *mu_out, double *s_out)
{
    double nk[KMAX] = {0}, s1[KMAX][2] = {{0}}, s2[KMAX][3] = {{0}};
    double ll = 0, nobs = 0;
    enum { G = 4000 };
    for (size_t i = 0; i < n; i++) {
        const double *x = v + 2 * i;
        int miss = isnan(x[0]) ? 0 : isnan(x[1]) ? 1 : -1;
        if (isnan(x[0]) && isnan(x[1]))
            continue;
        nobs += 1;
        double i0[KMAX], e1[KMAX], e2[KMAX], total = 0;
        for (size_t k = 0; k < K; k++) {
            const double *mk = mu + 2 * k, *sk = s + 4 * k;
            if (miss < 0) {
                i0[k] = w[k] * pdf2(x[0], x[1], mk, sk);
                e1[k] = e2[k] = 0;
            } else {
                int o = 1 - miss;
                double so = sk[o * 2 + o], smo = sk[o * 2 + miss];
                double cm = mk[miss] + smo / so * (x[o] - mk[o]);
                double sd = sqrt(sk[miss * 2 + miss] - smo * smo / so);
                double h = 20.0 * sd / G, a0 = 0, a1 = 0, a2 = 0;
                for (size_t j = 0; j <= G; j++) {
                    double tj = cm - 10.0 * sd + h * (double)j, y[2];
                    y[o] = x[o];
                    y[miss] = tj;
                    double f = w[k] * pdf2(y[0], y[1], mk, sk) * h;
                    if (j == 0 || j == G)
                        f *= 0.5;
                    a0 += f, a1 += f * tj, a2 += f * tj * tj;
                }
                i0[k] = a0;
                e1[k] = a1 / a0;
                e2[k] = a2 / a0;
            }
            total += i0[k];
        }
        ll += log(total);
        for (size_t k = 0; k < K; k++) {
            double r = i0[k] / total, c[2], cc[3];
            if (miss < 0) {
                c[0] = x[0], c[1] = x[1];
                cc[0] = x[0] * x[0], cc[1] = x[0] * x[1], cc[2] = x[1] * x[1];
            } else {
                int o = 1 - miss;
                c[o] = x[o], c[miss] = e1[k];
                cc[o == 0 ? 0 : 2] = x[o] * x[o];
                cc[1] = x[o] * e1[k];
                cc[miss == 0 ? 0 : 2] = e2[k];
            }
            nk[k] += r;
            s1[k][0] += r * c[0], s1[k][1] += r * c[1];
            for (size_t q = 0; q < 3; q++)
                s2[k][q] += r * cc[q];
        }
    }
    for (size_t k = 0; k < K; k++) {
        w_out[k] = nk[k] / nobs;
        double m0 = s1[k][0] / nk[k], m1 = s1[k][1] / nk[k];
        mu_out[2 * k] = m0, mu_out[2 * k + 1] = m1;
        double *so = s_out + 4 * k;
        so[0] = s2[k][0] / nk[k] - m0 * m0 + reg;
        so[1] = so[2] = s2[k][1] / nk[k] - m0 * m1;
        so[3] = s2[k][2] / nk[k] - m1 * m1 + reg;
    }
    return ll;
}

static void check_missing_step(double *v, size_t n, size_t K,
                               const double *w, const double *mu,
                               const double *s, double reg)
{
    em_table t = table_of(v, n, 2);
    em_model m;
    em_error err;
    assert_int_equal(make(&t, K, "full", 1, reg, &m, &err), EM_OK);
    double th[12], next[12], *st = stats_alloc(&m);
    pack_theta(&m, FULL, K, 2, w, mu, s, th);
    assert_int_equal(em_estep_all(&m, th, st, &err), EM_OK);
    double wo[KMAX], mo[2 * KMAX], so[4 * KMAX];
    double ll = brute_force_step(v, n, K, w, mu, s, reg, wo, mo, so);
    assert_close(st[EM_STAT_LOGLIK], ll, 1e-10);
    one_step(&m, th, next);
    for (size_t k = 0; k < K; k++) {
        assert_close(next[w_idx(&m, k)], wo[k], 1e-8);
        for (size_t i = 0; i < 2; i++) {
            assert_close_s(next[mean_idx(&m, k, i)], mo[2 * k + i], 1e-8,
                           1.0);
            for (size_t j = i; j < 2; j++)
                assert_close_s(next[cov_idx(&m, FULL, k, i, j)],
                               so[4 * k + 2 * i + j], 1e-8, 1.0);
        }
    }
    free(st);
    em_model_free(&m);
}

static void missing_estep_matches_numerical_integration(void **state)
{
    (void)state;
    /* K = 1: four complete rows, x2 missing, x1 missing */
    double v1[] = {0.2, 1.1, 1.5, 2.0, -0.7, 0.3, 0.9,
                   1.8, 1.2, NAN, NAN, 0.5};
    const double w1[1] = {1};
    const double mu1[2] = {0.5, 1.0};
    const double s1[4] = {1.0, 0.6, 0.6, 0.9};
    check_missing_step(v1, 6, 1, w1, mu1, s1, 0);
    /* the row with x2 missing alone, beside the complete rows */
    double v1b[] = {0.2, 1.1, 1.5, 2.0, -0.7, 0.3, 0.9, 1.8, 2.6, NAN};
    check_missing_step(v1b, 5, 1, w1, mu1, s1, 0);
    /* K = 2: the responsibilities of an incomplete row come from the
     * observed coordinate's marginal */
    double v2[] = {0.2, 1.1,  1.5, 2.0, -0.7, 0.3, 3.9, -1.8, 4.5, -0.9,
                   3.2, -2.5, 1.2, NAN, 3.0,  NAN, NAN, 0.5,  NAN, -1.0};
    const double w2[2] = {0.4, 0.6};
    const double mu2[4] = {0.5, 1.0, 3.5, -1.5};
    const double s2[8] = {1.0, 0.6, 0.6, 0.9, 0.7, -0.3, -0.3, 1.1};
    check_missing_step(v2, 10, 2, w2, mu2, s2, 1e-3);
}

/* ---- 4. without NaNs: the ordinary E- and M-steps ------------------- */

/* The ordinary EM step for a full-data mixture, written independently:
 * responsibilities by log-sum-exp, weighted means, weighted covariances
 * about the new means (two passes), structure and reg applied last. */
static void ref_step(const double *x, size_t n, size_t d, size_t K, int cov,
                     double reg, const double *w, const double *mu,
                     const double *s, double *w_out, double *mu_out,
                     double *s_out)
{
    double *r = malloc(n * K * sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        double lp[KMAX], mx = -INFINITY, sum = 0;
        for (size_t k = 0; k < K; k++) {
            lp[k] = log(w[k]) +
                    ref_logpdf(x + i * d, mu + k * d, s + k * d * d, d);
            mx = fmax(mx, lp[k]);
        }
        for (size_t k = 0; k < K; k++)
            sum += exp(lp[k] - mx);
        double lse = mx + log(sum);
        for (size_t k = 0; k < K; k++)
            r[i * K + k] = exp(lp[k] - lse);
    }
    double pooled[DMAX * DMAX] = {0};
    for (size_t k = 0; k < K; k++) {
        double nk = 0, *m = mu_out + k * d, *c = s_out + k * d * d;
        for (size_t i = 0; i < n; i++)
            nk += r[i * K + k];
        w_out[k] = nk / (double)n;
        for (size_t a = 0; a < d; a++) {
            m[a] = 0;
            for (size_t i = 0; i < n; i++)
                m[a] += r[i * K + k] * x[i * d + a];
            m[a] /= nk;
        }
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) {
                double t = 0;
                for (size_t i = 0; i < n; i++)
                    t += r[i * K + k] * (x[i * d + a] - m[a]) *
                         (x[i * d + b] - m[b]);
                c[a * d + b] = t / nk;
                pooled[a * d + b] += t / (double)n;
            }
    }
    for (size_t k = 0; k < K; k++) {
        double *c = s_out + k * d * d, tr = 0;
        for (size_t a = 0; a < d; a++)
            tr += c[a * d + a];
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) {
                double v = c[a * d + b];
                if (cov == TIED)
                    v = pooled[a * d + b];
                else if (cov == DIAG && a != b)
                    v = 0;
                else if (cov == SPHERICAL)
                    v = a == b ? tr / (double)d : 0;
                c[a * d + b] = v + (a == b ? reg : 0.0);
            }
    }
    free(r);
}

static void complete_rows_give_the_ordinary_em_step(void **state)
{
    (void)state;
    enum { N = 90, D = 3, K = 3 };
    double v[N * D], w[K] = {0.25, 0.35, 0.4}, mu[K * D], s[K * D * D];
    uint64_t g = 2024;
    for (size_t k = 0; k < K; k++) {
        double a[D * D];
        for (size_t i = 0; i < D * D; i++)
            a[i] = gauss(&g);
        for (size_t i = 0; i < D; i++) {
            mu[k * D + i] = 2.0 * gauss(&g);
            for (size_t j = 0; j < D; j++) {
                double t = i == j ? 0.3 : 0.0;
                for (size_t q = 0; q < D; q++)
                    t += a[i * D + q] * a[j * D + q];
                s[k * D * D + i * D + j] = t;
            }
        }
    }
    for (size_t i = 0; i < N; i++) {
        size_t k = i % K;
        for (size_t a = 0; a < D; a++)
            v[i * D + a] = mu[k * D + a] + 1.3 * gauss(&g);
    }
    em_table t = table_of(v, N, D);
    for (int cv = 0; cv < 4; cv++) {
        em_model m;
        em_error err;
        const double reg = 1e-4;
        assert_int_equal(make(&t, K, cov_types[cv], 1, reg, &m, &err), EM_OK);
        double *th = calloc(m.info.nparams, sizeof *th);
        double *next = calloc(m.info.nparams, sizeof *next);
        pack_theta(&m, cv, K, D, w, mu, s, th);
        size_t bad;
        assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_OK);
        /* the reference reads the structured covariances back */
        double sref[K * D * D], wo[K], mo[K * D], so[K * D * D];
        for (size_t k = 0; k < K; k++)
            unpack_cov(&m, cv, th, k, D, sref + k * D * D);
        ref_step(v, N, D, K, cv, reg, w, mu, sref, wo, mo, so);
        one_step(&m, th, next);
        double sum = 0;
        for (size_t k = 0; k < K; k++) {
            sum += wo[k];
            assert_close(next[w_idx(&m, k)], wo[k], 1e-10);
            for (size_t a = 0; a < D; a++) {
                assert_close_s(next[mean_idx(&m, k, a)], mo[k * D + a], 1e-10,
                               1.0);
                for (size_t b = a; b < D; b++) {
                    size_t p = cov_idx(&m, cv, k, a, b);
                    double got = p == (size_t)-1 ? 0.0 : next[p];
                    assert_close_s(got, so[k * D * D + a * D + b], 1e-10,
                                   1.0);
                }
            }
        }
        assert_close(sum, 1.0, 1e-14);
        /* not a fixed point: the step did move the parameters */
        assert_true(fabs(next[mean_idx(&m, 0, 0)] - mu[0]) > 1e-3);
        free(th);
        free(next);
        em_model_free(&m);
    }
}

/* ---- 5. monotone log-likelihood on random problems ------------------ */

/* Solves (L L^T) z = b in place with the test's own factor. */
static void ref_solve(const double *l, size_t d, double *b)
{
    for (size_t i = 0; i < d; i++) {
        for (size_t k = 0; k < i; k++)
            b[i] -= l[i * d + k] * b[k];
        b[i] /= l[i * d + i];
    }
    for (size_t i = d; i-- > 0;) {
        for (size_t k = i + 1; k < d; k++)
            b[i] -= l[k * d + i] * b[k];
        b[i] /= l[i * d + i];
    }
}

/* Row x (NaN = missing) under N(mu, s): the completed row xhat (observed
 * values, conditional means for the missing ones) and the conditional
 * covariance c (d x d, zero outside the missing block); returns the
 * log-density of the observed coordinates. */
static double ref_complete(const double *x, const double *mu, const double *s,
                           size_t d, double *xhat, double *c)
{
    size_t o[DMAX], mi[DMAX], no = 0, nm = 0;
    for (size_t i = 0; i < d; i++) {
        if (isnan(x[i]))
            mi[nm++] = i;
        else
            o[no++] = i;
    }
    double soo[DMAX * DMAX], l[DMAX * DMAX], e[DMAX], y[DMAX];
    for (size_t a = 0; a < no; a++)
        for (size_t b = 0; b < no; b++)
            soo[a * no + b] = s[o[a] * d + o[b]];
    assert_int_equal(ref_cholesky(soo, no, l), 0);
    double logdet = 0, maha = 0;
    for (size_t a = 0; a < no; a++) {
        e[a] = y[a] = x[o[a]] - mu[o[a]];
        logdet += 2.0 * log(l[a * no + a]);
    }
    ref_solve(l, no, y);
    for (size_t a = 0; a < no; a++)
        maha += e[a] * y[a], xhat[o[a]] = x[o[a]];
    memset(c, 0, d * d * sizeof *c);
    for (size_t b = 0; b < nm; b++) {
        double t = mu[mi[b]], z[DMAX];
        for (size_t a = 0; a < no; a++)
            t += s[mi[b] * d + o[a]] * y[a];
        xhat[mi[b]] = t;
        for (size_t a = 0; a < no; a++)
            z[a] = s[o[a] * d + mi[b]];
        ref_solve(l, no, z);
        for (size_t q = 0; q < nm; q++) {
            double v = s[mi[q] * d + mi[b]];
            for (size_t a = 0; a < no; a++)
                v -= s[mi[q] * d + o[a]] * z[a];
            c[mi[q] * d + mi[b]] = v;
        }
    }
    return -0.5 * ((double)no * LOG_2PI_CONST + logdet + maha);
}

/* E[log w N(x; mu, s)] for x with mean xhat and covariance c. */
static double ref_expected_log(double w, const double *mu, const double *s,
                               size_t d, const double *xhat, const double *c)
{
    double l[DMAX * DMAX], e[DMAX], y[DMAX], logdet = 0, q = 0;
    assert_int_equal(ref_cholesky(s, d, l), 0);
    for (size_t i = 0; i < d; i++) {
        e[i] = y[i] = xhat[i] - mu[i];
        logdet += 2.0 * log(l[i * d + i]);
    }
    ref_solve(l, d, y);
    for (size_t i = 0; i < d; i++)
        q += e[i] * y[i];
    for (size_t j = 0; j < d; j++) { /* tr(s^-1 c) */
        double z[DMAX];
        for (size_t i = 0; i < d; i++)
            z[i] = c[i * d + j];
        ref_solve(l, d, z);
        q += z[j];
    }
    return log(w) - 0.5 * ((double)d * LOG_2PI_CONST + logdet + q);
}

/* A mixture's parameters as full matrices, read from theta by name. */
typedef struct mix {
    double w[KMAX], mu[KMAX * DMAX], s[KMAX * DMAX * DMAX];
} mix;

static void mix_of(const em_model *m, int cov, const double *th, size_t K,
                   size_t d, mix *x)
{
    for (size_t k = 0; k < K; k++) {
        x->w[k] = th[w_idx(m, k)];
        for (size_t i = 0; i < d; i++)
            x->mu[k * d + i] = th[mean_idx(m, k, i)];
        unpack_cov(m, cov, th, k, d, x->s + k * d * d);
    }
}

/* Q(nx | cu) - Q(cu | cu), the gain of a step in the expected
 * complete-data log-likelihood, computed by the test; *scale gets
 * |Q(cu | cu)| for a tolerance. */
static double ref_q_gain(const double *v, size_t n, size_t d, size_t K,
                         const mix *cu, const mix *nx, double *scale)
{
    double gain = 0, qs = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = v + i * d;
        size_t no = 0;
        for (size_t j = 0; j < d; j++)
            no += !isnan(x[j]);
        if (!no)
            continue;
        double lp[KMAX], xh[KMAX][DMAX], c[KMAX][DMAX * DMAX];
        double mx = -INFINITY, sum = 0;
        for (size_t k = 0; k < K; k++) {
            double ld = ref_complete(x, cu->mu + k * d, cu->s + k * d * d, d,
                                     xh[k], c[k]);
            lp[k] = cu->w[k] > 0 ? log(cu->w[k]) + ld : -INFINITY;
            mx = fmax(mx, lp[k]);
        }
        for (size_t k = 0; k < K; k++)
            sum += exp(lp[k] - mx);
        for (size_t k = 0; k < K; k++) {
            double r = exp(lp[k] - mx - log(sum));
            if (!(r > 0))
                continue;
            double qn = ref_expected_log(nx->w[k], nx->mu + k * d,
                                         nx->s + k * d * d, d, xh[k], c[k]);
            double qc = ref_expected_log(cu->w[k], cu->mu + k * d,
                                         cu->s + k * d * d, d, xh[k], c[k]);
            gain += r * (qn - qc);
            qs += r * fabs(qc);
        }
    }
    *scale = qs;
    return gain;
}

/* Every trace row, for checks after the fit. */
typedef struct trace {
    size_t np, cap, n;
    double *th, *ll;
} trace;

static em_status keep_rows(void *ctx, size_t iter, const double *th,
                           double ll, em_error *err)
{
    trace *r = ctx;
    if (iter >= r->cap)
        return em_error_set(err, EM_ERR_BUG, "trace buffer full");
    memcpy(r->th + iter * r->np, th, r->np * sizeof *th);
    r->ll[iter] = ll;
    r->n = iter + 1;
    return EM_OK;
}

typedef struct problem {
    size_t n, d, K;
    double spread;
    double *v;
} problem;

static problem random_problem(uint64_t *g)
{
    problem p;
    p.n = 20 + below(g, 181), p.d = 1 + below(g, 4), p.K = 1 + below(g, 4);
    size_t n = p.n, d = p.d, ktrue = 1 + below(g, 4);
    p.spread = below(g, 2) ? 10.0 : 1.0;
    double mu[KMAX * DMAX], a[KMAX * DMAX * DMAX];
    for (size_t k = 0; k < ktrue; k++)
        for (size_t i = 0; i < d; i++) {
            mu[k * d + i] = p.spread * gauss(g);
            for (size_t j = 0; j < d; j++)
                a[(k * d + i) * d + j] =
                    j < i ? 0.5 * gauss(g) : j == i ? 0.3 + unif(g) : 0.0;
        }
    p.v = malloc(n * d * sizeof *p.v);
    assert_non_null(p.v);
    for (size_t i = 0; i < n; i++) {
        size_t k = below(g, ktrue);
        double z[DMAX];
        for (size_t j = 0; j < d; j++)
            z[j] = gauss(g);
        for (size_t j = 0; j < d; j++) {
            double x = mu[k * d + j];
            for (size_t q = 0; q <= j; q++)
                x += a[(k * d + j) * d + q] * z[q];
            p.v[i * d + j] = unif(g) < 0.15 ? NAN : x;
        }
    }
    for (size_t j = 0; j < d; j++) { /* every column observed somewhere */
        int seen = 0;
        for (size_t i = 0; i < n; i++)
            seen |= !isnan(p.v[i * d + j]);
        if (!seen)
            p.v[j] = gauss(g);
    }
    return p;
}

typedef struct tally {
    size_t fits, steps, falls, numeric, illcond;
    double worst_fall;
} tally;

/* The smallest ratio of squared Cholesky pivots over the components: a
 * cheap measure of how close a covariance is to singular. */
static double pivot_ratio(const mix *x, size_t K, size_t d)
{
    double worst = 1;
    for (size_t k = 0; k < K; k++) {
        double l[DMAX * DMAX], lo = INFINITY, hi = 0;
        if (ref_cholesky(x->s + k * d * d, d, l))
            return 0;
        for (size_t i = 0; i < d; i++) {
            lo = fmin(lo, l[i * d + i] * l[i * d + i]);
            hi = fmax(hi, l[i * d + i] * l[i * d + i]);
        }
        worst = fmin(worst, lo / hi);
    }
    return worst;
}

enum { RANDOM_MAX_ITER = 150 };

/* Fits one problem from the seeded start and checks every trace row.
 * With reg 0 every step is an exact EM step: the log-likelihood must not
 * fall by more than rounding, and a fit may only stop early because a
 * covariance became singular (EM_ERR_NUMERIC), or because the driver saw a
 * fall (EM_ERR_BUG) from a step out of a covariance so near singular
 * (pivot ratio < 1e-8) that the M-step has no precision left.  With reg > 0 the step is inexact, and the
 * bound EM gives for any step, l(next) - l(cur) >= Q(next | cur) -
 * Q(cur | cur), is checked with Q computed by the test; the model's q_gain
 * (what the driver allows the fall to be) must agree with it. */
static void fit_random_problem(const problem *p, int cv, int id, int reg0,
                               tally *tl)
{
    size_t n = p->n, d = p->d, K = p->K;
    em_table t = table_of(p->v, n, d);
    em_model m;
    em_error err;
    em_status st = make(&t, K, cov_types[cv], reg0, 0, &m, &err);
    if (st != EM_OK)
        fail_msg("%s problem %d (n %zu d %zu k %zu): create: %s",
                 cov_types[cv], id, n, d, K, err.msg);
    size_t np = m.info.nparams;
    trace r = {.np = np, .cap = RANDOM_MAX_ITER + 1};
    r.th = malloc(r.cap * np * sizeof *r.th);
    r.ll = malloc(r.cap * sizeof *r.ll);
    double *th = calloc(np, sizeof *th), *stats = stats_alloc(&m);
    assert_true(r.th && r.ll && th);
    st = m.type->init(m.state, (unsigned long long)id + 1, th, &err);
    if (st != EM_OK)
        fail_msg("%s problem %d: init: %s", cov_types[cv], id, err.msg);
    em_fit_options o = {.max_iter = RANDOM_MAX_ITER, .tol = 1e-10,
                        .trace = keep_rows, .trace_ctx = &r};
    em_fit_result res;
    st = em_fit(&m, th, &o, &res, &err);
    tl->fits++;
    int illcond = 0;
    if (st == EM_ERR_BUG && reg0 && r.n >= 2) {
        mix x;
        mix_of(&m, cv, r.th + (r.n - 2) * np, K, d, &x);
        illcond = pivot_ratio(&x, K, d) < 1e-8;
    }
    if (st == EM_ERR_NUMERIC && reg0)
        tl->numeric++; /* a covariance went singular: what reg is for */
    else if (illcond)
        tl->illcond++;
    else if (st != EM_OK)
        fail_msg("%s%s problem %d (n %zu d %zu k %zu spread %g): fit "
                 "status %d: %s",
                 cov_types[cv], reg0 ? " reg 0" : "", id, n, d, K,
                 p->spread, (int)st, err.msg);
    /* with reg 0 a start may already be nearly singular: no row at all */
    assert_true(r.n >= 1 || (reg0 && st == EM_ERR_NUMERIC));
    for (size_t it = 0; it < r.n; it++) {
        const double *ti = r.th + it * np;
        double l = r.ll[it], sum = 0;
        assert_true(isfinite(l));
        for (size_t k = 0; k < K; k++) {
            if (!(ti[k] >= 0 && ti[k] <= 1))
                fail_msg("%s problem %d iteration %zu: w%zu = %g",
                         cov_types[cv], id, it, k + 1, ti[k]);
            sum += ti[k];
        }
        if (!(fabs(sum - 1) <= 1e-12))
            fail_msg("%s problem %d iteration %zu: weights sum to %.17g",
                     cov_types[cv], id, it, sum);
        for (size_t q = 0; q < np; q++)
            if (!isfinite(ti[q]))
                fail_msg("%s problem %d iteration %zu: %s = %g",
                         cov_types[cv], id, it, m.info.param_names[q],
                         ti[q]);
        if (it == 0)
            continue;
        double prev = r.ll[it - 1], tol = 1e-9 * fmax(1.0, fabs(l));
        tl->steps++;
        if (l < prev - tol) {
            tl->falls++;
            tl->worst_fall = fmax(tl->worst_fall, (prev - l) / fabs(l));
        }
        if (reg0) {
            if (illcond && it + 1 == r.n)
                continue; /* the step the driver stopped on, see above */
            if (!(l >= prev - tol))
                fail_msg("%s reg 0 problem %d (n %zu d %zu k %zu): "
                         "iteration %zu: loglik %.17g < previous %.17g",
                         cov_types[cv], id, n, d, K, it, l, prev);
            continue;
        }
        mix cu, nx;
        mix_of(&m, cv, ti - np, K, d, &cu);
        mix_of(&m, cv, ti, K, d, &nx);
        double scale, gain = ref_q_gain(p->v, n, d, K, &cu, &nx, &scale);
        if (!(l - prev >= gain - tol))
            fail_msg("%s problem %d (n %zu d %zu k %zu spread %g): "
                     "iteration %zu: loglik %.17g -> %.17g, a change below "
                     "the step's gain in Q %.17g",
                     cov_types[cv], id, n, d, K, p->spread, it, prev, l,
                     gain);
        assert_non_null(m.type->q_gain);
        assert_int_equal(em_estep_all(&m, ti - np, stats, &err), EM_OK);
        double mg = m.type->q_gain(m.state, stats, ti - np, ti);
        if (!(fabs(mg - gain) <= 1e-9 * fmax(1.0, scale)))
            fail_msg("%s problem %d iteration %zu: q_gain %.17g, the test's "
                     "Q difference %.17g",
                     cov_types[cv], id, it, mg, gain);
    }
    free(th);
    free(stats);
    free(r.th);
    free(r.ll);
    em_model_free(&m);
}

static void loglik_never_decreases_on_random_problems(void **state)
{
    (void)state;
    for (int cv = 0; cv < 4; cv++) {
        uint64_t g = 0x9E3779B97F4A7C15ULL + (uint64_t)cv;
        tally with_reg = {0}, no_reg = {0};
        for (int id = 0; id < 50; id++) {
            problem p = random_problem(&g);
            fit_random_problem(&p, cv, id, 0, &with_reg);
            fit_random_problem(&p, cv, id, 1, &no_reg); /* reg 0 */
            free(p.v);
        }
        if (getenv("GMM_TEST_VERBOSE"))
            fprintf(stderr,
                    "%s: default reg: %zu steps, %zu falls > 1e-9 "
                    "(worst %.3g relative); reg 0: %zu steps, %zu of %zu "
                    "fits stopped on a singular covariance, %zu on a fall "
                    "from an ill-conditioned one\n",
                    cov_types[cv], with_reg.steps, with_reg.falls,
                    with_reg.worst_fall, no_reg.steps, no_reg.numeric,
                    no_reg.fits, no_reg.illcond);
        /* reg 0: the breakdowns stay a minority, so the check has teeth */
        assert_true((no_reg.numeric + no_reg.illcond) * 4 <= no_reg.fits);
    }
}

/* ---- 6. recovery of simulated clusters ------------------------------ */

static const double rec_w[3] = {0.5, 0.3, 0.2};
static const double rec_mu[6] = {0, 0, 6, 0, 0, 6};
static const double rec_s[12] = {1.0, 0.3, 0.3, 0.5, 0.5, -0.2, -0.2, 1.0,
                                 0.8, 0.0, 0.0, 0.8};

static double *simulate_clusters(size_t n, uint64_t seed)
{
    double *v = malloc(2 * n * sizeof *v);
    assert_non_null(v);
    uint64_t g = seed;
    for (size_t i = 0; i < n; i++) {
        double u = unif(&g);
        size_t k = u < rec_w[0] ? 0 : u < rec_w[0] + rec_w[1] ? 1 : 2;
        const double *s = rec_s + 4 * k;
        double l11 = sqrt(s[0]), l21 = s[1] / l11;
        double l22 = sqrt(s[3] - l21 * l21);
        double z1 = gauss(&g), z2 = gauss(&g);
        v[2 * i] = rec_mu[2 * k] + l11 * z1;
        v[2 * i + 1] = rec_mu[2 * k + 1] + l21 * z1 + l22 * z2;
    }
    return v;
}

static void recovers_three_separated_clusters(void **state)
{
    (void)state;
    const size_t n = 3000;
    double *v = simulate_clusters(n, 777);
    em_table t = table_of(v, n, 2);
    em_model m;
    em_error err;
    em_fit_result res;
    assert_int_equal(make(&t, 3, "full", 0, 0, &m, &err), EM_OK);
    double th[18];
    assert_int_equal(m.info.nparams, 18);
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    em_fit_options o = {.max_iter = 1000, .tol = 1e-10};
    assert_int_equal(em_fit(&m, th, &o, &res, &err), EM_OK);
    assert_true(res.converged);
    int used[3] = {0};
    for (size_t k = 0; k < 3; k++) {
        /* the fitted component nearest to true component k */
        size_t best = 0;
        double bd = INFINITY;
        for (size_t j = 0; j < 3; j++) {
            double dx = th[mean_idx(&m, j, 0)] - rec_mu[2 * k];
            double dy = th[mean_idx(&m, j, 1)] - rec_mu[2 * k + 1];
            if (dx * dx + dy * dy < bd)
                bd = dx * dx + dy * dy, best = j;
        }
        used[best]++;
        if (!(fabs(th[w_idx(&m, best)] - rec_w[k]) <= 0.02))
            fail_msg("component %zu: weight %g, want %g", k + 1,
                     th[w_idx(&m, best)], rec_w[k]);
        for (size_t i = 0; i < 2; i++)
            if (!(fabs(th[mean_idx(&m, best, i)] - rec_mu[2 * k + i]) <= 0.1))
                fail_msg("component %zu: mean %zu = %g, want %g", k + 1,
                         i + 1, th[mean_idx(&m, best, i)], rec_mu[2 * k + i]);
        for (size_t i = 0; i < 2; i++)
            for (size_t j = i; j < 2; j++)
                if (!(fabs(th[cov_idx(&m, FULL, best, i, j)] -
                           rec_s[4 * k + 2 * i + j]) <= 0.15))
                    fail_msg("component %zu: cov (%zu,%zu) = %g, want %g",
                             k + 1, i + 1, j + 1,
                             th[cov_idx(&m, FULL, best, i, j)],
                             rec_s[4 * k + 2 * i + j]);
    }
    assert_true(used[0] == 1 && used[1] == 1 && used[2] == 1);
    assert_int_equal(res.nobs, n);
    em_model_free(&m);
    free(v);
}

/* ---- 7. determinism ------------------------------------------------- */

static void same_seed_same_fit(void **state)
{
    (void)state;
    const size_t n = 400;
    double *v = simulate_clusters(n, 99);
    for (size_t i = 0; i < n; i += 7) /* some missing values too */
        v[2 * i + (i / 7) % 2] = NAN;
    em_table t = table_of(v, n, 2);
    em_model m;
    em_error err;
    em_fit_result r1, r2;
    assert_int_equal(make(&t, 3, "full", 0, 0, &m, &err), EM_OK);
    double a[18], b[18], c[18];
    memset(a, 0, sizeof a);
    for (size_t i = 0; i < 18; i++) /* a different incoming buffer */
        b[i] = 0.25;
    assert_int_equal(m.type->init(m.state, 1, a, &err), EM_OK);
    assert_int_equal(m.type->init(m.state, 1, b, &err), EM_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(m.type->init(m.state, 2, c, &err), EM_OK);
    assert_memory_not_equal(a, c, sizeof a);
    em_fit_options o = {.max_iter = 300, .tol = 1e-10};
    assert_int_equal(em_fit(&m, a, &o, &r1, &err), EM_OK);
    assert_int_equal(em_fit(&m, b, &o, &r2, &err), EM_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_true(r1.loglik == r2.loglik);
    assert_int_equal(r1.iterations, r2.iterations);
    em_model_free(&m);
    free(v);
}

/* ---- 8. degenerate data --------------------------------------------- */

static void degenerate_data(void **state)
{
    (void)state;
    em_model m;
    em_error err;
    em_fit_result res;
    /* 5 rows, 2 distinct, 3 components */
    double few[10] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2};
    em_table t = table_of(few, 5, 2);
    assert_int_equal(make(&t, 3, "full", 0, 0, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "distinct"));
    assert_null(m.state);
    assert_int_equal(make(&t, 2, "full", 0, 0, &m, &err), EM_OK);
    em_model_free(&m);

    /* a column with no observed value */
    double nothing[8] = {1, NAN, 2, NAN, 3, NAN, 4, NAN};
    t = table_of(nothing, 4, 2);
    assert_int_equal(make(&t, 1, "full", 0, 0, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "no observed values"));
    assert_non_null(strstr(err.msg, "x2"));

    /* a constant column: refused with reg 0, fitted with the default */
    double cons[12] = {1, 5, 2, 5, 4, 5, 7, 5, NAN, 5, 11, 5};
    t = table_of(cons, 6, 2);
    assert_int_equal(make(&t, 2, "full", 1, 0, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "constant"));
    static const int cons_types[3] = {FULL, DIAG, TIED};
    for (size_t c = 0; c < 3; c++) { /* not spherical: it pools columns */
        int cv = cons_types[c];
        assert_int_equal(make(&t, 2, cov_types[cv], 0, 0, &m, &err), EM_OK);
        double th[12];
        assert_true(m.info.nparams <= 12);
        assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
        em_fit_options o = {.max_iter = 200, .tol = 1e-10};
        em_status st = em_fit(&m, th, &o, &res, &err);
        if (st != EM_OK)
            fail_msg("%s: %s", cov_types[cv], err.msg);
        for (size_t i = 0; i < m.info.nparams; i++)
            assert_true(isfinite(th[i]));
        size_t ncomp = cv == TIED ? 1 : 2;
        for (size_t k = 0; k < ncomp; k++) {
            assert_close(th[cov_idx(&m, cv, k, 1, 1)], 1e-6, 1e-6);
            if (cv != DIAG)
                assert_close_s(th[cov_idx(&m, cv, k, 0, 1)], 0, 1e-12, 1.0);
            assert_close(th[mean_idx(&m, k, 1)], 5.0, 1e-14);
        }
        em_model_free(&m);
    }

    /* a component collapsing onto a single far point */
    enum { N = 61 };
    double v[2 * N];
    uint64_t g = 31337;
    for (size_t i = 0; i + 1 < N; i++)
        v[2 * i] = gauss(&g), v[2 * i + 1] = gauss(&g);
    v[2 * (N - 1)] = 50, v[2 * (N - 1) + 1] = 50;
    t = table_of(v, N, 2);
    assert_int_equal(make(&t, 2, "full", 1, 1e-6, &m, &err), EM_OK);
    double th[12];
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    em_fit_options o = {.max_iter = 500, .tol = 1e-10};
    em_status st = em_fit(&m, th, &o, &res, &err);
    if (st != EM_OK)
        fail_msg("collapse: %s", err.msg);
    for (size_t i = 0; i < 12; i++)
        assert_true(isfinite(th[i]));
    assert_true(isfinite(res.loglik));
    size_t far = th[mean_idx(&m, 0, 0)] > 25 ? 0 : 1;
    assert_close(th[w_idx(&m, far)], 1.0 / N, 1e-9);
    assert_close(th[mean_idx(&m, far, 0)], 50, 1e-12);
    assert_close(th[cov_idx(&m, FULL, far, 0, 0)], 1e-6, 1e-6);
    assert_close(th[cov_idx(&m, FULL, far, 1, 1)], 1e-6, 1e-6);
    em_model_free(&m);
}

/* ---- 9. check() ----------------------------------------------------- */

static void check_rejects_bad_parameters(void **state)
{
    (void)state;
    double v[12] = {0, 0, 1, 2, 2, 1, 3, 5, -1, 4, 6, -2};
    em_table t = table_of(v, 6, 2);
    em_model m;
    em_error err;
    size_t bad;
    assert_int_equal(make(&t, 2, "full", 0, 0, &m, &err), EM_OK);
    const double w[2] = {0.3, 0.7}, mu[4] = {0, 0, 1, 1};
    const double s[8] = {1, 0.5, 0.5, 1, 2, -0.3, -0.3, 1};
    double ok[12], th[12];
    pack_theta(&m, FULL, 2, 2, w, mu, s, ok);
    assert_int_equal(m.type->check(m.state, ok, &bad, &err), EM_OK);
    /* weights summing to 1.1 */
    memcpy(th, ok, sizeof th);
    th[w_idx(&m, 1)] = 0.8;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    /* a negative weight, the sum still 1 */
    memcpy(th, ok, sizeof th);
    th[w_idx(&m, 0)] = -0.1, th[w_idx(&m, 1)] = 1.1;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    assert_int_equal(bad, w_idx(&m, 0));
    /* component 2's covariance indefinite: |c12| > sqrt(c11 c22) */
    memcpy(th, ok, sizeof th);
    th[cov_idx(&m, FULL, 1, 0, 1)] = 1.5;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    assert_true(bad >= cov_idx(&m, FULL, 1, 0, 0) &&
                bad <= cov_idx(&m, FULL, 1, 1, 1));
    /* a zero variance */
    memcpy(th, ok, sizeof th);
    th[cov_idx(&m, FULL, 0, 1, 1)] = 0;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    /* a NaN mean */
    memcpy(th, ok, sizeof th);
    th[mean_idx(&m, 1, 0)] = NAN;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    assert_int_equal(bad, mean_idx(&m, 1, 0));
    em_model_free(&m);
    /* diag: a negative variance */
    assert_int_equal(make(&t, 2, "diag", 0, 0, &m, &err), EM_OK);
    pack_theta(&m, DIAG, 2, 2, w, mu, s, ok);
    assert_int_equal(m.type->check(m.state, ok, &bad, &err), EM_OK);
    ok[cov_idx(&m, DIAG, 1, 1, 1)] = -1;
    assert_int_equal(m.type->check(m.state, ok, &bad, &err), EM_ERR_ARG);
    em_model_free(&m);
}

/* ---- 10. parameter names -------------------------------------------- */

static void check_names(const em_table *t, const char *cov,
                        const char *const *want, size_t n)
{
    em_model m;
    em_error err;
    assert_int_equal(make(t, 2, cov, 0, 0, &m, &err), EM_OK);
    assert_int_equal(m.info.nparams, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(m.info.param_names[i], want[i]);
    assert_int_equal(m.info.nfree, n - 1);
    /* weight, sums, and second moments: all 3 of D = 2, or the diagonal */
    int diagonal =
        cov && (strcmp(cov, "diag") == 0 || strcmp(cov, "spherical") == 0);
    assert_int_equal(m.info.nstats, 2 * (1 + 2 + (diagonal ? 2 : 3)));
    assert_true(m.info.monotone);
    em_model_free(&m);
}

static void parameter_names(void **state)
{
    (void)state;
    double v[8] = {0, 0, 1, 2, 2, 1, 3, 5};
    em_table t = table_of(v, 4, 2);
    static const char *const full[] = {
        "w1",       "w2",       "mean1_1",  "mean1_2",
        "mean2_1",  "mean2_2",  "cov1_1_1", "cov1_1_2",
        "cov1_2_2", "cov2_1_1", "cov2_1_2", "cov2_2_2"};
    static const char *const tied[] = {"w1",      "w2",      "mean1_1",
                                       "mean1_2", "mean2_1", "mean2_2",
                                       "cov_1_1", "cov_1_2", "cov_2_2"};
    static const char *const diag[] = {"w1",      "w2",      "mean1_1",
                                       "mean1_2", "mean2_1", "mean2_2",
                                       "var1_1",  "var1_2",  "var2_1",
                                       "var2_2"};
    static const char *const sph[] = {"w1",      "w2",      "mean1_1",
                                      "mean1_2", "mean2_1", "mean2_2",
                                      "var1",    "var2"};
    check_names(&t, "full", full, 12);
    check_names(&t, NULL, full, 12);
    check_names(&t, "tied", tied, 9);
    check_names(&t, "diag", diag, 10);
    check_names(&t, "spherical", sph, 8);
    em_model m;
    em_error err;
    assert_int_equal(make(&t, 2, "banana", 0, 0, &m, &err), EM_ERR_ARG);
}

/* ---- 11. the start depends on the seed alone ------------------------ */

/* A regression test: init once read the caller's theta.  When a picked
 * centre attracts no row (two centres with the same filled values), the
 * M-step on the hard assignment skips that component, and its covariance
 * was whatever theta held on entry.  Cases:
 *  - k-means++ (the default): rows (0,0), (2,2), (1,NaN), (1,1), k = 4;
 *    (1,NaN) fills to (1,1), so once three centres are picked every
 *    distance is 0 and the fourth centre repeats one.
 *  - --init random: 6 distinct rows, k = 4, seeds 1..50.
 * em_search's --restarts reuses one theta, so without this the reported
 * best seed would not reproduce on its own. */
static void init_depends_on_the_seed_alone(void **state)
{
    (void)state;
    double fill[8] = {0, 0, 2, 2, 1, NAN, 1, 1};
    double rows[12] = {0, 0, 1, 3, 2, 1, 5, 5, -1, 2, 3, -2};
    struct {
        double *v;
        size_t n;
        const char *init;
    } cases[2] = {{fill, 4, NULL}, {rows, 6, "random"}};
    int differ[2] = {0};
    unsigned long long first[2] = {0};
    for (size_t c = 0; c < 2; c++) {
        em_table t = table_of(cases[c].v, cases[c].n, 2);
        em_model_config cfg = {.k = 4, .init = cases[c].init};
        em_model m;
        em_error err;
        assert_int_equal(
            em_model_create(em_model_find("gmm"), &cfg, &t, &m, &err), EM_OK);
        size_t np = m.info.nparams, bad;
        double a[24], b[24];
        assert_int_equal(np, 24);
        for (unsigned long long seed = 1; seed <= 50; seed++) {
            for (size_t k = 0; k < 4; k++) /* zeros, and a PD start */
                for (size_t i = 0; i < 2; i++)
                    for (size_t j = i; j < 2; j++) {
                        size_t p = cov_idx(&m, FULL, k, i, j);
                        a[p] = 0;
                        b[p] = i == j ? 7 : 0;
                    }
            assert_int_equal(m.type->init(m.state, seed, a, &err), EM_OK);
            assert_int_equal(m.type->init(m.state, seed, b, &err), EM_OK);
            assert_int_equal(m.type->check(m.state, a, &bad, &err), EM_OK);
            if (memcmp(a, b, sizeof a) != 0 && !differ[c]++)
                first[c] = seed;
        }
        em_model_free(&m);
    }
    if (differ[0] || differ[1])
        fail_msg("the start depends on the incoming theta for %d of 50 "
                 "seeds (first %llu) with kmeans++ and %d of 50 (first %llu) "
                 "with random",
                 differ[0], first[0], differ[1], first[1]);
}

/* ---- 12. the block kernel gives the same bits on every instruction set */

static void kernel_check_isas(size_t d, size_t k, int diag, size_t n)
{
    uint64_t rs = 11 + d * 7 + k + (size_t)diag + n;
    size_t nq = 1 + d + (diag ? d : d * (d + 1) / 2);
    double *mu = malloc(k * d * sizeof *mu), *chol = calloc(k * d * d, 8);
    double *inv = malloc(k * d * sizeof *inv), *cst = malloc(k * 8);
    double *x = malloc(GMM_BLOCK_ROWS * d * sizeof *x);
    size_t nst = EM_STAT_HEADER + k * nq, nw = gmm_block_work(d, k, diag);
    double *st[3], *work = calloc(nw, sizeof *work);
    for (size_t i = 0; i < k * d; i++)
        mu[i] = 3 * gauss(&rs), inv[i] = 0.5 + unif(&rs);
    for (size_t c = 0; c < k; c++) {
        cst[c] = -2 * unif(&rs);
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j <= i; j++)
                chol[c * d * d + i * d + j] = i == j ? 1 / inv[c * d + i]
                                                     : 0.3 * gauss(&rs);
    }
    for (size_t i = 0; i < GMM_BLOCK_ROWS * d; i++)
        x[i] = 3 * gauss(&rs);
    gmm_block_params bp = {.d = d, .k = k, .factor = !diag,
                           .diag_stats = diag, .mu = mu, .chol = chol,
                           .inv = inv, .cst = cst};
    int ran = 0;
    for (int isa = GMM_ISA_BASE; isa <= GMM_ISA_AVX512; isa++) {
        st[isa] = calloc(nst, sizeof **st);
        /* twice: the partial sums carry over between blocks */
        if (gmm_block_estep_on(isa, &bp, x, n, st[isa], work)) {
            gmm_block_estep_on(isa, &bp, x, GMM_BLOCK_ROWS, st[isa], work);
            gmm_block_flush(&bp, work, st[isa]);
            ran++;
            assert_true(isfinite(st[isa][EM_STAT_LOGLIK]));
            assert_close(st[isa][EM_STAT_NOBS], (double)(n + GMM_BLOCK_ROWS),
                         0);
            assert_memory_equal(st[isa], st[GMM_ISA_BASE],
                                nst * sizeof **st);
        }
    }
    assert_true(ran >= 1);
    for (int isa = GMM_ISA_BASE; isa <= GMM_ISA_AVX512; isa++)
        free(st[isa]);
    free(mu), free(chol), free(inv), free(cst), free(x), free(work);
}

static void kernel_same_bits_on_every_isa(void **state)
{
    (void)state;
    for (int diag = 0; diag <= 1; diag++) {
        kernel_check_isas(1, 1, diag, 5);
        kernel_check_isas(3, 2, diag, GMM_BLOCK_ROWS);
        kernel_check_isas(8, 8, diag, 37);
        kernel_check_isas(13, 5, diag, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_component_is_the_sample_moments),
        cmocka_unit_test(loglik_matches_a_hand_computation),
        cmocka_unit_test(missing_estep_matches_numerical_integration),
        cmocka_unit_test(complete_rows_give_the_ordinary_em_step),
        cmocka_unit_test(loglik_never_decreases_on_random_problems),
        cmocka_unit_test(recovers_three_separated_clusters),
        cmocka_unit_test(same_seed_same_fit),
        cmocka_unit_test(degenerate_data),
        cmocka_unit_test(check_rejects_bad_parameters),
        cmocka_unit_test(parameter_names),
        cmocka_unit_test(init_depends_on_the_seed_alone),
        cmocka_unit_test(kernel_same_bits_on_every_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
