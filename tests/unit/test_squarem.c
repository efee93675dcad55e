/* --accel squarem against plain EM: the same fixed point for every model,
 * a log-likelihood that never falls over accepted steps on many seeded
 * fits, fewer E-steps on a slow fit, the E-step count, identical bits for
 * any number of threads, and the refusals. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

enum { NMAX = 12000, DMAX = 5, TRACE_MAX = 4096 };

static char *names[DMAX] = {"c1", "c2", "c3", "c4", "c5"};

/* A problem: data and model settings. */
typedef struct problem {
    const char *model;
    em_model_config cfg;
    size_t n, d;
    double v[NMAX * 4];
} problem;

static em_table table_of(problem *p)
{
    return (em_table){.nrows = p->n, .ncols = p->d, .names = names,
                      .values = p->v};
}

/* bvn: corr rho, y missing with probability miss. */
static void gen_bvn(uint64_t *g, problem *p, size_t n, double rho,
                    double miss)
{
    *p = (problem){.model = "bvn", .n = n, .d = 2};
    for (size_t i = 0; i < n; i++) {
        double x = gauss(g), y = 1 + rho * x + sqrt(1 - rho * rho) * gauss(g);
        p->v[2 * i] = x;
        p->v[2 * i + 1] = unif(g) < miss ? NAN : 2 * y;
    }
}

/* mixed-normal: (1 - w) N(mu, 1) + w N(-mu, 1), sigma estimated. */
static void gen_mixed(uint64_t *g, problem *p, size_t n, double mu, double w)
{
    *p = (problem){.model = "mixed-normal", .n = n, .d = 1,
                   .cfg = {.free_sigma = 1}};
    for (size_t i = 0; i < n; i++)
        p->v[i] = (unif(g) < w ? -mu : mu) + gauss(g);
}

/* three-coin: rows of 4 tosses. */
static void gen_coins(uint64_t *g, problem *p, size_t n)
{
    *p = (problem){.model = "three-coin", .n = n, .d = 4};
    for (size_t i = 0; i < n; i++) {
        double h = unif(g) < 0.4 ? 0.85 : 0.25;
        for (size_t j = 0; j < 4; j++)
            p->v[4 * i + j] = unif(g) < h ? 1 : 0;
    }
}

/* gmm: two 2-D components, centres sep apart, 10% of values missing. */
static void gen_gmm(uint64_t *g, problem *p, size_t n, double sep,
                    const char *cov)
{
    *p = (problem){.model = "gmm", .n = n, .d = 2,
                   .cfg = {.k = 2, .cov = cov}};
    for (size_t i = 0; i < n; i++) {
        int c = unif(g) < 0.35;
        double a = gauss(g), b = gauss(g);
        p->v[2 * i] = (c ? sep : 0) + a;
        p->v[2 * i + 1] = (c ? 0.5 * sep : 0) + 0.6 * a + 0.8 * b;
        if (unif(g) < 0.1)
            p->v[2 * i + (unif(g) < 0.5)] = NAN;
    }
}

typedef struct trace {
    size_t n;
    double ll[TRACE_MAX];
    size_t esteps[TRACE_MAX];
    const size_t *count;
} trace;

static em_status keep(void *ctx, size_t iter, const double *th, double ll,
                      em_error *err)
{
    (void)th;
    trace *t = ctx;
    if (iter >= TRACE_MAX)
        return em_error_set(err, EM_ERR_BUG, "trace buffer full");
    t->ll[iter] = ll;
    t->esteps[iter] = t->count ? *t->count : 0;
    t->n = iter + 1;
    return EM_OK;
}

/* Fits p from the model's default start; theta gets the fit. */
static em_status fit(problem *p, em_accel accel, double tol, size_t threads,
                     double *theta, em_fit_result *res, trace *tr)
{
    em_table t = table_of(p);
    em_model m;
    em_error err;
    em_status st = em_model_create(em_model_find(p->model), &p->cfg, &t, &m,
                                   &err);
    if (st != EM_OK)
        return st;
    size_t count = 0;
    em_fit_options o;
    em_fit_options_default(&o);
    o.max_iter = 200000;
    o.tol = tol;
    o.accel = accel;
    o.threads = threads;
    o.esteps = &count;
    if (tr) {
        tr->count = &count;
        o.trace = keep;
        o.trace_ctx = tr;
    }
    st = m.type->init(m.state, 1, theta, &err);
    if (st == EM_OK)
        st = em_fit(&m, theta, &o, res, &err);
    if (st != EM_OK)
        print_error("%s: %s\n", p->model, err.msg);
    em_model_free(&m);
    return st;
}

/* Plain EM and SQUAREM reach the same maximum: log-likelihoods within
 * 1e-8 relative, parameters within 1e-6 (relative to max(1, |x|)). */
static void same_fixed_point(problem *p)
{
    double a[64], b[64];
    em_fit_result ra, rb;
    assert_int_equal(fit(p, EM_ACCEL_NONE, 1e-15, 1, a, &ra, NULL), EM_OK);
    assert_int_equal(fit(p, EM_ACCEL_SQUAREM, 1e-15, 1, b, &rb, NULL), EM_OK);
    assert_true(ra.converged && rb.converged);
    assert_close(rb.loglik, ra.loglik, 1e-8);
    assert_true(rb.loglik >= ra.loglik - 1e-12 * fabs(ra.loglik));
    em_table t = table_of(p);
    em_model m;
    assert_int_equal(em_model_create(em_model_find(p->model), &p->cfg, &t,
                                     &m, NULL),
                     EM_OK);
    for (size_t i = 0; i < m.info.nparams; i++)
        if (!(fabs(a[i] - b[i]) <= 1e-6 * fmax(1, fabs(a[i])))) {
            print_error("%s %s: plain %.17g, squarem %.17g\n", p->model,
                        m.info.param_names[i], a[i], b[i]);
            fail();
        }
    em_model_free(&m);
    assert_int_equal(ra.esteps, ra.iterations + 1);
    assert_int_equal(rb.accel, EM_ACCEL_SQUAREM);
}

static problem pb; /* large: kept off the stack */

static void every_model_same_fixed_point(void **state)
{
    (void)state;
    uint64_t g = 11;
    gen_bvn(&g, &pb, 400, 0.5, 0.6);
    same_fixed_point(&pb);
    gen_mixed(&g, &pb, 400, 1.2, 0.3);
    same_fixed_point(&pb);
    gen_coins(&g, &pb, 400);
    same_fixed_point(&pb);
    const char *covs[] = {"full", "diag", "spherical", "tied"};
    for (size_t c = 0; c < 4; c++) {
        gen_gmm(&g, &pb, 400, 3.0, covs[c]);
        same_fixed_point(&pb);
    }
}

/* Accepted steps never lower the log-likelihood beyond rounding, on 60
 * seeded problems per model of 20 to 200 rows (gmm with --reg 0, whose
 * M-step is exact). */
static void loglik_never_falls(void **state)
{
    (void)state;
    static trace tr;
    size_t fits = 0, bad = 0;
    for (uint64_t seed = 1; seed <= 60; seed++)
        for (int kind = 0; kind < 4; kind++) {
            uint64_t g = seed * 7919 + (uint64_t)kind;
            size_t n = 20 + below(&g, 181);
            if (kind == 0)
                gen_bvn(&g, &pb, n, 2 * unif(&g) - 1, unif(&g) * 0.7);
            else if (kind == 1)
                gen_mixed(&g, &pb, n, 3 * unif(&g), unif(&g));
            else if (kind == 2)
                gen_coins(&g, &pb, n);
            else { /* reg 0: every step exact, so no allowance */
                gen_gmm(&g, &pb, n, 4 * unif(&g), "full");
                pb.cfg.has_reg = 1;
            }
            double th[64];
            em_fit_result res;
            tr.n = 0;
            em_status st = fit(&pb, EM_ACCEL_SQUAREM, 1e-13, 1, th, &res,
                               &tr);
            /* degenerate draws may be data errors, never anything else */
            assert_true(st == EM_OK || st == EM_ERR_DATA ||
                        st == EM_ERR_NUMERIC);
            bad += st != EM_OK;
            fits++;
            for (size_t t = 1; t < tr.n; t++) {
                double slack = 1e-12 * fmax(1, fabs(tr.ll[t]));
                if (!(tr.ll[t] >= tr.ll[t - 1] - slack)) {
                    print_error("%s seed %llu: loglik %.17g -> %.17g at "
                                "%zu\n",
                                pb.model, (unsigned long long)seed,
                                tr.ll[t - 1], tr.ll[t], t);
                    fail();
                }
                assert_true(tr.esteps[t] > tr.esteps[t - 1]);
                assert_true(tr.esteps[t] - tr.esteps[t - 1] <= 4);
            }
        }
    assert_true(bad * 20 <= fits); /* at most 5% degenerate */
}

/* An overlapping mixture, where plain EM crawls: the same log-likelihood
 * with at least 3x fewer E-steps (measured: 303 against 51). */
static void fewer_esteps_on_a_slow_fit(void **state)
{
    (void)state;
    uint64_t g = 5;
    gen_mixed(&g, &pb, 1000, 0.5, 0.3);
    double a[3], b[3];
    em_fit_result ra, rb;
    assert_int_equal(fit(&pb, EM_ACCEL_NONE, 1e-14, 1, a, &ra, NULL), EM_OK);
    assert_int_equal(fit(&pb, EM_ACCEL_SQUAREM, 1e-14, 1, b, &rb, NULL),
                     EM_OK);
    print_message("slow fit: %zu E-steps plain, %zu squarem\n", ra.esteps,
                  rb.esteps);
    assert_close(rb.loglik, ra.loglik, 1e-8);
    assert_true(3 * rb.esteps <= ra.esteps);
}

/* The count the trace sees: 1 at the start, 3 after the first iteration
 * (whose step length is clamped to -1: two plain EM steps), then 2 to 4
 * more per accepted step; the result holds the last. */
static void esteps_are_counted(void **state)
{
    (void)state;
    static trace tr;
    uint64_t g = 3;
    gen_bvn(&g, &pb, 300, 0.3, 0.6);
    double th[5];
    em_fit_result res;
    tr.n = 0;
    assert_int_equal(fit(&pb, EM_ACCEL_SQUAREM, 1e-13, 1, th, &res, &tr),
                     EM_OK);
    assert_true(tr.n >= 3);
    assert_int_equal(tr.esteps[0], 1);
    assert_int_equal(tr.esteps[1], 3);
    assert_int_equal(res.esteps, tr.esteps[tr.n - 1]);
    assert_int_equal(res.iterations, tr.n - 1);
}

/* Several E-step blocks on 1 and 3 threads: the same bits. */
static void threads_give_the_same_bits(void **state)
{
    (void)state;
    uint64_t g = 9;
    gen_gmm(&g, &pb, 11000, 2.0, "full");
    double a[16], b[16];
    em_fit_result ra, rb;
    assert_int_equal(fit(&pb, EM_ACCEL_SQUAREM, 1e-8, 1, a, &ra, NULL),
                     EM_OK);
    assert_int_equal(fit(&pb, EM_ACCEL_SQUAREM, 1e-8, 3, b, &rb, NULL),
                     EM_OK);
    assert_true(ra.iterations > 5);
    assert_int_equal(ra.esteps, rb.esteps);
    assert_memory_equal(a, b, 11 * sizeof a[0]);
    assert_memory_equal(&ra.loglik, &rb.loglik, sizeof ra.loglik);
}

/* A model without to_free, and bvn's --estep mean, are refused. */
static void refusals(void **state)
{
    (void)state;
    uint64_t g = 2;
    gen_bvn(&g, &pb, 50, 0.5, 0.3);
    em_table t = table_of(&pb);
    em_model_type bare = *em_model_find("bvn");
    bare.to_free = NULL;
    bare.from_free = NULL;
    em_model m;
    em_error err;
    double th[5];
    em_fit_result res;
    em_fit_options o;
    em_fit_options_default(&o);
    o.accel = EM_ACCEL_SQUAREM;
    assert_int_equal(em_model_create(&bare, &pb.cfg, &t, &m, &err), EM_OK);
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    assert_int_equal(em_fit(&m, th, &o, &res, &err), EM_ERR_ARG);
    assert_non_null(strstr(err.msg, "cannot be accelerated"));
    em_model_free(&m);
    em_model_config mean = {.estep = "mean"};
    assert_int_equal(em_model_create(em_model_find("bvn"), &mean, &t, &m,
                                     &err),
                     EM_OK);
    assert_int_equal(m.type->init(m.state, 1, th, &err), EM_OK);
    assert_int_equal(em_fit(&m, th, &o, &res, &err), EM_ERR_ARG);
    assert_non_null(strstr(err.msg, "not one"));
    em_model_free(&m);
    em_accel a;
    assert_true(em_accel_parse("squarem", &a) && a == EM_ACCEL_SQUAREM);
    assert_true(em_accel_parse("none", &a) && a == EM_ACCEL_NONE);
    assert_false(em_accel_parse("SQUAREM", &a));
    assert_string_equal(em_accel_name(EM_ACCEL_SQUAREM), "squarem");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_model_same_fixed_point),
        cmocka_unit_test(loglik_never_falls),
        cmocka_unit_test(fewer_esteps_on_a_slow_fit),
        cmocka_unit_test(esteps_are_counted),
        cmocka_unit_test(threads_give_the_same_bits),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
