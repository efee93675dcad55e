/* The mvn model: the closed form for a monotone pattern, a direct
 * maximisation of the observed-data likelihood for a random pattern,
 * skipped rows, imputation by hand, the same EM map as gmm with one
 * component, bvn as its two-column case, and the errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

static char *names3[] = {"a", "b", "c"};

static em_table table_of(double *v, size_t n, size_t d)
{
    return (em_table){.nrows = n, .ncols = d, .names = names3, .values = v};
}

static em_status create(const char *model, const em_table *t, em_model *m,
                        em_error *err)
{
    em_model_config cfg = {0};
    return em_model_create(em_model_find(model), &cfg, t, m, err);
}

/* Runs the EM map n times from theta (past any stopping rule). */
static void iterate(em_model *m, double *th, int n)
{
    double *st = calloc(EM_STAT_HEADER + m->info.nstats, sizeof *st);
    for (int i = 0; i < n; i++) {
        assert_int_equal(em_estep_all(m, th, st, NULL), EM_OK);
        assert_int_equal(m->type->mstep(m->state, st, NULL, th, NULL), EM_OK);
    }
    free(st);
}

static double loglik_at(em_model *m, const double *th)
{
    double *st = calloc(EM_STAT_HEADER + m->info.nstats, sizeof *st);
    assert_int_equal(em_estep_all(m, th, st, NULL), EM_OK);
    double ll = st[EM_STAT_LOGLIK];
    free(st);
    return ll;
}

/* Packed upper index, as the parameters are laid out. */
static size_t tri(size_t d, size_t i, size_t j)
{
    if (i > j) {
        size_t t = i;
        i = j, j = t;
    }
    return i * d - i * (i - 1) / 2 + (j - i);
}

/* n rows of a correlated normal in 3 columns. */
static double *draw(size_t n, uint64_t seed)
{
    uint64_t s = seed;
    double *v = malloc(n * 3 * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        double z1 = gauss(&s), z2 = gauss(&s), z3 = gauss(&s);
        v[3 * i] = 1 + 2 * z1;
        v[3 * i + 1] = -1 + 0.8 * z1 + z2;
        v[3 * i + 2] = 3 + 0.5 * z1 - 0.7 * z2 + 0.6 * z3;
    }
    return v;
}

/* ---- monotone pattern against the factored likelihood ---------------- */

/* Solves the k x k system a x = b (k <= 3) by Gaussian elimination with
 * partial pivoting; a and b are overwritten. */
static void solve(double *a, double *b, size_t k)
{
    for (size_t c = 0; c < k; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < k; r++)
            if (fabs(a[r * k + c]) > fabs(a[p * k + c]))
                p = r;
        for (size_t j = 0; j < k; j++) {
            double t = a[c * k + j];
            a[c * k + j] = a[p * k + j], a[p * k + j] = t;
        }
        double t = b[c];
        b[c] = b[p], b[p] = t;
        for (size_t r = c + 1; r < k; r++) {
            double f = a[r * k + c] / a[c * k + c];
            for (size_t j = c; j < k; j++)
                a[r * k + j] -= f * a[c * k + j];
            b[r] -= f * b[c];
        }
    }
    for (size_t c = k; c-- > 0;) {
        for (size_t j = c + 1; j < k; j++)
            b[c] -= a[c * k + j] * b[j];
        b[c] /= a[c * k + c];
    }
}

/* Least squares of column y on columns 0..p-1 (with intercept) over rows
 * 0..n-1: coefficients beta[0..p] (intercept first) and the residual
 * variance with divisor n. */
static void regress(const double *v, size_t n, size_t p, size_t y,
                    double *beta, double *s2)
{
    double a[16] = {0}, b[4] = {0};
    size_t k = p + 1;
    for (size_t i = 0; i < n; i++) {
        double x[4] = {1, v[3 * i], v[3 * i + 1], v[3 * i + 2]};
        for (size_t r = 0; r < k; r++) {
            b[r] += x[r] * v[3 * i + y];
            for (size_t c = 0; c < k; c++)
                a[r * k + c] += x[r] * x[c];
        }
    }
    solve(a, b, k);
    double rss = 0;
    for (size_t i = 0; i < n; i++) {
        double e = v[3 * i + y] - b[0];
        for (size_t r = 1; r < k; r++)
            e -= b[r] * v[3 * i + r - 1];
        rss += e * e;
    }
    memcpy(beta, b, k * sizeof *b);
    *s2 = rss / (double)n;
}

/* Anderson's factored likelihood for a monotone pattern: a seen in all n
 * rows, b in the first n2, c in the first n3 <= n2.  The mean and
 * variance of a, then b on a, then c on (a, b), put back together. */
static void monotone_mle(const double *v, size_t n, size_t n2, size_t n3,
                         double *mu, double *s)
{
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        m += v[3 * i] / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (v[3 * i] - m) * (v[3 * i] - m) / (double)n;
    mu[0] = m;
    s[0] = ss; /* s is the full 3 x 3 matrix */
    double b2[2], e2, b3[3], e3;
    regress(v, n2, 1, 1, b2, &e2);
    mu[1] = b2[0] + b2[1] * mu[0];
    s[1] = s[3] = b2[1] * s[0];
    s[4] = e2 + b2[1] * b2[1] * s[0];
    regress(v, n3, 2, 2, b3, &e3);
    mu[2] = b3[0] + b3[1] * mu[0] + b3[2] * mu[1];
    /* Cov(c, (a, b)) = B^T S_{ab}; Var c = e3 + B^T S_{ab} B */
    s[2] = s[6] = b3[1] * s[0] + b3[2] * s[1];
    s[5] = s[7] = b3[1] * s[3] + b3[2] * s[4];
    s[8] = e3 + b3[1] * s[2] + b3[2] * s[5];
}

static void monotone_pattern_gives_the_closed_form(void **state)
{
    (void)state;
    size_t n = 60, n2 = 45, n3 = 25;
    double *v = draw(n, 11);
    for (size_t i = n3; i < n; i++)
        v[3 * i + 2] = NAN;
    for (size_t i = n2; i < n; i++)
        v[3 * i + 1] = NAN;
    em_table t = table_of(v, n, 3);
    em_model m;
    assert_int_equal(create("mvn", &t, &m, NULL), EM_OK);
    assert_int_equal(m.info.nparams, 9);
    assert_string_equal(m.info.param_names[0], "mu1");
    assert_string_equal(m.info.param_names[4], "cov_1_2");
    assert_string_equal(m.info.param_names[8], "cov_3_3");
    double th[9], mu[3], s[9];
    assert_int_equal(m.type->init(m.state, 0, th, NULL), EM_OK);
    iterate(&m, th, 3000);
    monotone_mle(v, n, n2, n3, mu, s);
    for (size_t i = 0; i < 3; i++)
        assert_close(th[i], mu[i], 1e-10);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = i; j < 3; j++)
            assert_close(th[3 + tri(3, i, j)], s[i * 3 + j], 1e-10);
    em_model_free(&m);
    free(v);
}

/* ---- random pattern against a direct maximisation --------------------- */

/* log N(x_o; mu_o, S_oo) by elimination on the observed block: an
 * evaluation that shares no code with the model's. */
static double direct_logpdf(const double *x, const double *mu,
                            const double *s)
{
    size_t o[3], k = 0;
    for (size_t i = 0; i < 3; i++)
        if (!isnan(x[i]))
            o[k++] = i;
    if (k == 0)
        return 0;
    double a[9], r[3], b[3];
    for (size_t p = 0; p < k; p++) {
        r[p] = b[p] = x[o[p]] - mu[o[p]];
        for (size_t q = 0; q < k; q++)
            a[p * k + q] = s[o[p] * 3 + o[q]];
    }
    /* det by elimination without pivoting (S_oo is positive definite) */
    double det = 1, c[9];
    memcpy(c, a, sizeof c);
    for (size_t p = 0; p < k; p++) {
        det *= c[p * k + p];
        for (size_t q = p + 1; q < k; q++) {
            double f = c[q * k + p] / c[p * k + p];
            for (size_t j = p; j < k; j++)
                c[q * k + j] -= f * c[p * k + j];
        }
    }
    solve(a, b, k);
    double maha = 0;
    for (size_t p = 0; p < k; p++)
        maha += r[p] * b[p];
    return -0.5 * ((double)k * log(2 * 3.14159265358979323846) + log(det) +
                   maha);
}

typedef struct problem {
    const double *v;
    size_t n;
} problem;

/* u: mu (3), then L's lower triangle row by row with log diagonal. */
static void unpack(const double *u, double *mu, double *s)
{
    double l[9] = {0};
    memcpy(mu, u, 3 * sizeof *mu);
    l[0] = exp(u[3]);
    l[3] = u[4], l[4] = exp(u[5]);
    l[6] = u[6], l[7] = u[7], l[8] = exp(u[8]);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            s[i * 3 + j] = 0;
            for (size_t k = 0; k < 3; k++)
                s[i * 3 + j] += l[i * 3 + k] * l[j * 3 + k];
        }
}

static double neg_loglik(const problem *p, const double *u)
{
    double mu[3], s[9], ll = 0;
    unpack(u, mu, s);
    for (size_t i = 0; i < p->n; i++)
        ll += direct_logpdf(p->v + 3 * i, mu, s);
    return -ll;
}

/* Nelder-Mead in 9 dimensions, restarted from its best point until a
 * restart no longer improves: standard coefficients (1, 2, 1/2, 1/2). */
static double nelder_mead(const problem *p, double *u, double step)
{
    enum { N = 9 };
    double x[N + 1][N], f[N + 1], best = neg_loglik(p, u);
    for (int restart = 0; restart < 50; restart++) {
        for (size_t i = 0; i <= N; i++) {
            memcpy(x[i], u, sizeof x[i]);
            if (i > 0)
                x[i][i - 1] += step;
            f[i] = neg_loglik(p, x[i]);
        }
        for (int it = 0; it < 20000; it++) {
            size_t hi = 0, lo = 0, nh = 0;
            for (size_t i = 1; i <= N; i++) {
                if (f[i] > f[hi])
                    hi = i;
                if (f[i] < f[lo])
                    lo = i;
            }
            nh = hi == 0 ? 1 : 0;
            for (size_t i = 0; i <= N; i++)
                if (i != hi && f[i] > f[nh])
                    nh = i;
            if (f[hi] - f[lo] < 1e-15 * (1 + fabs(f[lo])))
                break;
            double c[N] = {0}, xr[N], xe[N];
            for (size_t i = 0; i <= N; i++)
                for (size_t j = 0; i != hi && j < N; j++)
                    c[j] += x[i][j] / N;
            for (size_t j = 0; j < N; j++)
                xr[j] = c[j] + (c[j] - x[hi][j]);
            double fr = neg_loglik(p, xr);
            if (fr < f[lo]) {
                for (size_t j = 0; j < N; j++)
                    xe[j] = c[j] + 2 * (c[j] - x[hi][j]);
                double fe = neg_loglik(p, xe);
                memcpy(x[hi], fe < fr ? xe : xr, sizeof xr);
                f[hi] = fe < fr ? fe : fr;
            } else if (fr < f[nh]) {
                memcpy(x[hi], xr, sizeof xr), f[hi] = fr;
            } else {
                for (size_t j = 0; j < N; j++)
                    xe[j] = c[j] + 0.5 * (x[hi][j] - c[j]);
                double fc = neg_loglik(p, xe);
                if (fc < f[hi]) {
                    memcpy(x[hi], xe, sizeof xe), f[hi] = fc;
                } else {
                    for (size_t i = 0; i <= N; i++) {
                        if (i == lo)
                            continue;
                        for (size_t j = 0; j < N; j++)
                            x[i][j] = x[lo][j] + 0.5 * (x[i][j] - x[lo][j]);
                        f[i] = neg_loglik(p, x[i]);
                    }
                }
            }
        }
        size_t lo = 0;
        for (size_t i = 1; i <= N; i++)
            if (f[i] < f[lo])
                lo = i;
        int improved = f[lo] < best - 1e-13;
        memcpy(u, x[lo], sizeof x[lo]);
        best = f[lo];
        step *= 0.5;
        if (!improved && restart > 3)
            break;
    }
    return -best;
}

static void random_pattern_maximises_the_likelihood(void **state)
{
    (void)state;
    size_t n = 24;
    double *v = draw(n, 5);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++) {
        /* about 30% missing, some rows with one value left */
        for (size_t j = 0; j < 3; j++)
            if (unif(&s) < 0.3)
                v[3 * i + j] = NAN;
    }
    v[3 * 0 + 0] = v[3 * 0 + 1] = v[3 * 0 + 2] = NAN; /* one empty row */
    em_table t = table_of(v, n, 3);
    em_model m;
    assert_int_equal(create("mvn", &t, &m, NULL), EM_OK);
    double th[9];
    assert_int_equal(m.type->init(m.state, 0, th, NULL), EM_OK);
    iterate(&m, th, 5000);
    double em_ll = loglik_at(&m, th);
    problem p = {v, n};
    /* the model's log-likelihood is the direct one, constants and all */
    double mu[3], sig[9];
    memcpy(mu, th, sizeof mu);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            sig[i * 3 + j] = th[3 + tri(3, i, j)];
    double direct = 0;
    for (size_t i = 0; i < n; i++)
        direct += direct_logpdf(v + 3 * i, mu, sig);
    assert_close(em_ll, direct, 1e-12);
    /* a maximiser that knows nothing of EM, from the identity and 0 */
    double u[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    double nm_ll = nelder_mead(&p, u, 0.5);
    assert_close(nm_ll, em_ll, 1e-8);
    assert_true(em_ll >= nm_ll - 1e-9); /* EM's is the maximum */
    double nmu[3], ns[9];
    unpack(u, nmu, ns);
    for (size_t i = 0; i < 3; i++)
        assert_true(fabs(nmu[i] - th[i]) < 1e-4);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = i; j < 3; j++)
            assert_true(fabs(ns[i * 3 + j] - th[3 + tri(3, i, j)]) < 1e-4);
    em_model_free(&m);
    free(v);
}

/* ---- rows without data ------------------------------------------------- */

static void rows_missing_everything_are_skipped_and_counted(void **state)
{
    (void)state;
    size_t n = 40;
    double *v = draw(n + 3, 7);
    uint64_t s = 3;
    for (size_t i = 0; i < n; i++)
        if (unif(&s) < 0.4)
            v[3 * i + below(&s, 3)] = NAN;
    for (size_t i = n; i < n + 3; i++)
        v[3 * i] = v[3 * i + 1] = v[3 * i + 2] = NAN;
    em_table t = table_of(v, n, 3), u = table_of(v, n + 3, 3);
    em_model m1, m2;
    assert_int_equal(create("mvn", &t, &m1, NULL), EM_OK);
    assert_int_equal(create("mvn", &u, &m2, NULL), EM_OK);
    assert_int_equal(m1.info.nskipped, 0);
    assert_int_equal(m2.info.nskipped, 3);
    double a[9], b[9];
    em_fit_result r1, r2;
    em_fit_options o = {.max_iter = 2000, .tol = 1e-13};
    assert_int_equal(m1.type->init(m1.state, 0, a, NULL), EM_OK);
    assert_int_equal(m2.type->init(m2.state, 0, b, NULL), EM_OK);
    assert_int_equal(em_fit(&m1, a, &o, &r1, NULL), EM_OK);
    assert_int_equal(em_fit(&m2, b, &o, &r2, NULL), EM_OK);
    assert_int_equal(r2.nobs, 40);
    for (size_t k = 0; k < 9; k++)
        assert_close(b[k], a[k], 0);
    assert_close(r2.loglik, r1.loglik, 0);
    em_model_free(&m1);
    em_model_free(&m2);
    free(v);
}

/* ---- imputation -------------------------------------------------------- */

static void impute_gives_conditional_means_by_hand(void **state)
{
    (void)state;
    /* the data only need to be fittable; theta is set by hand */
    double v[] = {1, 2, 3, 0, NAN, NAN, NAN, 1, NAN, NAN, NAN, NAN,
                  2, 1, 0, 3, 5, 2, 0, 0, 1, 4, 2, 7};
    em_table t = table_of(v, 8, 3);
    em_model m;
    assert_int_equal(create("mvn", &t, &m, NULL), EM_OK);
    /* mu = (1, 2, 3); S = [4 2 1; 2 9 3; 1 3 16] */
    double th[9] = {1, 2, 3, 4, 2, 1, 9, 3, 16};
    assert_int_equal(m.type->prepare(m.state, th, NULL), EM_OK);
    double out[12];
    m.type->impute(m.state, 0, 4, out);
    /* complete row: unchanged */
    assert_close(out[0], 1, 0), assert_close(out[1], 2, 0);
    assert_close(out[2], 3, 0);
    /* a = 0 seen: E[b] = 2 + (2/4)(0 - 1) = 1.5, E[c] = 3 + (1/4)(-1) */
    assert_close(out[3], 0, 0);
    assert_close(out[4], 1.5, 1e-15);
    assert_close(out[5], 2.75, 1e-15);
    /* b = 1 seen: E[a] = 1 + (2/9)(1 - 2), E[c] = 3 + (3/9)(-1) */
    assert_close(out[6], 1 - 2.0 / 9, 1e-15);
    assert_close(out[7], 1, 0);
    assert_close(out[8], 3 - 1.0 / 3, 1e-15);
    /* nothing seen: NaN */
    for (size_t j = 9; j < 12; j++)
        assert_true(isnan(out[j]));
    /* two seen, one missing: E[c | a = 2, b = 1] = 3 + S_co S_oo^-1 d with
     * S_oo = [4 2; 2 9] (det 32), S_co = (1, 3), d = (1, -1):
     * S_oo^-1 d = (9 + 2, -2 - 4) / 32 = (11, -6) / 32 */
    double w[] = {2, 1, NAN, 0, 0, 0, 1, 2, 3, 5, 0, 1, 3, 3, 2};
    em_table t2 = table_of(w, 5, 3);
    em_model m2;
    assert_int_equal(create("mvn", &t2, &m2, NULL), EM_OK);
    assert_int_equal(m2.type->prepare(m2.state, th, NULL), EM_OK);
    m2.type->impute(m2.state, 0, 1, out);
    assert_close(out[2], 3 + (1 * 11 - 3 * 6) / 32.0, 1e-15);
    em_model_free(&m);
    em_model_free(&m2);
}

/* ---- the same EM map as gmm with one component ------------------------- */

static void grouped_estep_equals_gmm_row_by_row(void **state)
{
    (void)state;
    size_t n = 5000; /* two E-step blocks */
    double *v = draw(n, 21);
    uint64_t s = 8;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 3; j++)
            if (unif(&s) < 0.25)
                v[3 * i + j] = NAN;
    em_table t = table_of(v, n, 3);
    em_model mv, gm;
    em_model_config gcfg = {.k = 1, .cov = "full", .has_reg = 1, .reg = 0};
    assert_int_equal(create("mvn", &t, &mv, NULL), EM_OK);
    assert_int_equal(em_model_create(em_model_find("gmm"), &gcfg, &t, &gm,
                                     NULL),
                     EM_OK);
    assert_int_equal(gm.info.nparams, 10);
    double a[9] = {0.5, -0.5, 2.5, 3, 1, 0.2, 2, -0.3, 1.5}, b[10];
    for (int it = 0; it < 5; it++) {
        b[0] = 1;
        memcpy(b + 1, a, sizeof a);
        double la = loglik_at(&mv, a), lb = loglik_at(&gm, b);
        assert_close(la, lb, 1e-12);
        iterate(&mv, a, 1);
        iterate(&gm, b, 1);
        for (size_t k = 0; k < 9; k++)
            assert_close(a[k], b[k + 1], 1e-11);
    }
    em_model_free(&mv);
    em_model_free(&gm);
    free(v);
}

/* ---- bvn is mvn in two columns ------------------------------------------ */

static void bvn_is_mvn_in_two_columns(void **state)
{
    (void)state;
    size_t n = 50;
    double *v3 = draw(n, 4), *v = malloc(2 * n * sizeof *v);
    uint64_t s = 17;
    for (size_t i = 0; i < n; i++) {
        v[2 * i] = v3[3 * i], v[2 * i + 1] = v3[3 * i + 1];
        if (unif(&s) < 0.3)
            v[2 * i + below(&s, 2)] = NAN;
    }
    em_table t = table_of(v, n, 2);
    em_model mv, bv;
    assert_int_equal(create("mvn", &t, &mv, NULL), EM_OK);
    assert_int_equal(create("bvn", &t, &bv, NULL), EM_OK);
    double a[5], b[5];
    assert_int_equal(mv.type->init(mv.state, 0, a, NULL), EM_OK);
    assert_int_equal(bv.type->init(bv.state, 0, b, NULL), EM_OK);
    iterate(&mv, a, 2000);
    iterate(&bv, b, 2000);
    assert_close(b[0], a[0], 1e-12);
    assert_close(b[1], a[1], 1e-12);
    assert_close(b[2] * b[2], a[2], 1e-12);
    assert_close(b[4] * b[2] * b[3], a[3], 1e-12);
    assert_close(b[3] * b[3], a[4], 1e-12);
    assert_close(loglik_at(&bv, b), loglik_at(&mv, a), 1e-13);
    /* bvn imputes too */
    assert_non_null(bv.type->impute);
    em_model_free(&mv);
    em_model_free(&bv);
    free(v), free(v3);
}

/* ---- errors -------------------------------------------------------------- */

static void degenerate_data_are_refused(void **state)
{
    (void)state;
    em_model m;
    em_error err;
    double empty_col[] = {1, NAN, 2, 2, NAN, 3, 3, NAN, 1, 4, NAN, 0};
    em_table t = table_of(empty_col, 4, 3);
    assert_int_equal(create("mvn", &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "\"b\" has no observed values"));
    double constant[] = {1, 5, 2, 2, 5, 3, 3, 5, 1, 4, 5, 0};
    t = table_of(constant, 4, 3);
    assert_int_equal(create("mvn", &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "\"b\" is constant"));
    /* a and c never share a row */
    double apart[] = {1, 2, NAN, 2, 3, NAN, 3, 1, NAN,
                      NAN, 2, 5, NAN, 4, 6, NAN, 1, 9};
    t = table_of(apart, 6, 3);
    assert_int_equal(create("mvn", &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "\"a\" and \"c\" are never observed in "
                                    "the same row"));
    double two[] = {1, 2, 3, 2, 3, 1, 3, 1, NAN, 4, 0, NAN, NAN, 2, 2};
    t = table_of(two, 5, 3);
    assert_int_equal(create("mvn", &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "only 2 row(s) have both \"a\" and "
                                    "\"c\""));
    double line[] = {0, 1, 0, 1, 5, 2, 2, 2, 4, 3, 0, 6};
    t = table_of(line, 4, 3);
    assert_int_equal(create("mvn", &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "\"a\" and \"c\" lie on a line"));
}

static void check_wants_a_positive_definite_covariance(void **state)
{
    (void)state;
    double *v = draw(10, 2);
    em_table t = table_of(v, 10, 3);
    em_model m;
    assert_int_equal(create("mvn", &t, &m, NULL), EM_OK);
    double ok[9] = {0, 0, 0, 1, 0.5, 0, 1, 0, 1}, th[9];
    size_t bad;
    em_error err;
    assert_int_equal(m.type->check(m.state, ok, &bad, &err), EM_OK);
    memcpy(th, ok, sizeof th);
    th[4] = 2; /* cov_1_2 = 2 with unit variances */
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    assert_int_equal(bad, 6); /* fails at cov_2_2 */
    assert_non_null(strstr(err.msg, "not positive definite"));
    memcpy(th, ok, sizeof th);
    th[1] = NAN;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    assert_int_equal(bad, 1);
    em_model_free(&m);
    free(v);
}

/* Two values 1.8e17 from 0 that differ by one or two units in the last
 * place: the mean cannot be stored closer than their spread, so rounding
 * moves the log-likelihood either way.  A fall is a numerical failure,
 * not a bug (found by fuzzing). */
static void far_from_zero_rounding_is_not_a_bug(void **state)
{
    (void)state;
    double v[2] = {184467450011790970.0, 184467450011790955.0}, th[2];
    em_table t = table_of(v, 2, 1);
    em_model m;
    assert_int_equal(create("mvn", &t, &m, NULL), EM_OK);
    assert_int_equal(m.type->init(m.state, 0, th, NULL), EM_OK);
    em_fit_options o = {.max_iter = 30, .tol = 1e-8};
    em_fit_result res;
    em_error err;
    em_status st = em_fit(&m, th, &o, &res, &err);
    assert_true(st == EM_OK || st == EM_ERR_NUMERIC);
    if (st == EM_ERR_NUMERIC)
        assert_non_null(strstr(err.msg, "numerically unreliable"));
    em_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(monotone_pattern_gives_the_closed_form),
        cmocka_unit_test(random_pattern_maximises_the_likelihood),
        cmocka_unit_test(rows_missing_everything_are_skipped_and_counted),
        cmocka_unit_test(impute_gives_conditional_means_by_hand),
        cmocka_unit_test(grouped_estep_equals_gmm_row_by_row),
        cmocka_unit_test(bvn_is_mvn_in_two_columns),
        cmocka_unit_test(degenerate_data_are_refused),
        cmocka_unit_test(check_wants_a_positive_definite_covariance),
        cmocka_unit_test(far_from_zero_rounding_is_not_a_bug),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
