/* The three-coin model against hand formulas, Li Hang's example 9.1, its
 * fixed points, random problems (monotone log-likelihood) and recovery of
 * known parameters from simulated data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

enum { PI, P, Q };
enum { TRACE_MAX = 1024, STATS_MAX = 16 };

/* The data of document 003 (Li Hang, example 9.1). */
static const double doc_y[10] = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1};

static char *toss_names[10] = {"t1", "t2", "t3", "t4", "t5",
                               "t6", "t7", "t8", "t9", "t10"};

/* A table over caller-owned values. */
static em_table tosses(double *values, size_t nrows, size_t ncols)
{
    return (em_table){.nrows = nrows, .ncols = ncols, .names = toss_names,
                      .values = values};
}

typedef struct trace {
    size_t n;
    double th[TRACE_MAX][3];
    double ll[TRACE_MAX];
} trace;

static em_status keep_rows(void *ctx, size_t iter, const double *th,
                           double ll, em_error *err)
{
    trace *r = ctx;
    if (iter >= TRACE_MAX)
        return em_error_set(err, EM_ERR_BUG, "trace buffer full");
    memcpy(r->th[iter], th, sizeof r->th[iter]);
    r->ll[iter] = ll;
    r->n = iter + 1;
    return EM_OK;
}

static em_status make(const em_table *t, em_model *m, em_error *err)
{
    em_model_config cfg = {0};
    return em_model_create(em_model_find("three-coin"), &cfg, t, m, err);
}

static em_status run(em_model *m, double *th, size_t max_iter, double tol,
                     const unsigned char *fixed, trace *r,
                     em_fit_result *res, em_error *err)
{
    em_fit_options o = {.max_iter = max_iter, .tol = tol,
                        .trace = r ? keep_rows : NULL, .trace_ctx = r,
                        .fixed = fixed};
    return em_fit(m, th, &o, res, err);
}

/* Rows of ncols tosses from the three-coin process; a toss is missing with
 * probability miss. */
static void simulate(uint64_t *s, const double *th, size_t nrows,
                     size_t ncols, double miss, double *v)
{
    for (size_t i = 0; i < nrows; i++) {
        double h = unif(s) < th[PI] ? th[P] : th[Q];
        for (size_t j = 0; j < ncols; j++)
            v[i * ncols + j] = unif(s) < miss ? NAN : (unif(s) < h ? 1 : 0);
    }
}

/* The binomial mixture density of a row with h heads in n tosses. */
static double row_density(const double *th, double h, double n)
{
    return th[PI] * pow(th[P], h) * pow(1 - th[P], n - h) +
           (1 - th[PI]) * pow(th[Q], h) * pow(1 - th[Q], n - h);
}

static void doc_first_step_and_textbook_fit(void **state)
{
    (void)state;
    double v[10];
    memcpy(v, doc_y, sizeof v);
    em_table t = tosses(v, 10, 1);
    em_model m;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    assert_true(EM_STAT_HEADER + m.info.nstats <= STATS_MAX);
    const double th0[3] = {0.4, 0.6, 0.7};
    double ll = 0, smu = 0, smuy = 0, snu = 0, snuy = 0;
    for (size_t j = 0; j < 10; j++) {
        double y = doc_y[j];
        double a = th0[PI] * pow(th0[P], y) * pow(1 - th0[P], 1 - y);
        double b = (1 - th0[PI]) * pow(th0[Q], y) * pow(1 - th0[Q], 1 - y);
        double mu = a / (a + b);
        ll += log(a + b);
        smu += mu, smuy += mu * y, snu += 1 - mu, snuy += (1 - mu) * y;
    }
    double want[3] = {smu / 10, smuy / smu, snuy / snu};
    double stats[STATS_MAX], th[3];
    assert_int_equal(em_estep_all(&m, th0, stats, NULL), EM_OK);
    assert_close(stats[EM_STAT_LOGLIK], ll, 1e-14);
    assert_close(stats[EM_STAT_NOBS], 10, 0);
    memcpy(th, th0, sizeof th);
    assert_int_equal(m.type->mstep(m.state, stats, NULL, th, NULL), EM_OK);
    for (size_t k = 0; k < 3; k++)
        assert_close(th[k], want[k], 1e-14);
    /* the fit: row 0 is the start, row 1 the first M-step */
    trace r = {0};
    em_fit_result res;
    memcpy(th, th0, sizeof th);
    assert_int_equal(run(&m, th, 1000, 1e-10, NULL, &r, &res, NULL), EM_OK);
    assert_true(res.converged);
    assert_true(r.n >= 2);
    assert_close(r.ll[0], ll, 1e-14);
    for (size_t k = 0; k < 3; k++)
        assert_close(r.th[1][k], want[k], 1e-14);
    assert_true(fabs(th[PI] - 0.4064) <= 5e-5);
    assert_true(fabs(th[P] - 0.5368) <= 5e-5);
    assert_true(fabs(th[Q] - 0.6432) <= 5e-5);
    em_model_free(&m);
}

static void symmetric_start_is_a_fixed_point(void **state)
{
    (void)state;
    double v[10];
    memcpy(v, doc_y, sizeof v);
    em_table t = tosses(v, 10, 1);
    em_model m;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    double th[3] = {0.5, 0.5, 0.5};
    trace r = {0};
    em_fit_result res;
    assert_int_equal(run(&m, th, 5, 0, NULL, &r, &res, NULL), EM_OK);
    assert_true(r.n >= 2);
    for (size_t i = 1; i < r.n; i++) {
        assert_close(r.th[i][PI], 0.5, 1e-15);
        assert_close(r.th[i][P], 0.6, 1e-15);
        assert_close(r.th[i][Q], 0.6, 1e-15);
    }
    assert_close(th[P], 0.6, 1e-15);
    em_model_free(&m);
}

/* One random problem: every trace row finite, in [0, 1]^3 and not below
 * the previous row's log-likelihood. */
static void check_random_problem(uint64_t *s)
{
    double v[60 * 6], truth[3], th[3];
    size_t n = 1 + below(s, 60), c = 1 + below(s, 6);
    for (size_t k = 0; k < 3; k++)
        truth[k] = unif(s);
    simulate(s, truth, n, c, 0.1, v);
    size_t seen = 0;
    for (size_t i = 0; i < n * c; i++)
        seen += !isnan(v[i]);
    if (!seen)
        v[0] = 1;
    for (size_t k = 0; k < 3; k++)
        th[k] = 0.05 + 0.9 * unif(s);
    em_table t = tosses(v, n, c);
    em_model m;
    em_error err;
    trace *r = calloc(1, sizeof *r);
    em_fit_result res;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    em_status st = run(&m, th, 200, 0, NULL, r, &res, &err);
    if (st != EM_OK)
        fail_msg("status %d: %s", (int)st, err.msg);
    for (size_t i = 0; i < r->n; i++) {
        double l = r->ll[i];
        assert_true(isfinite(l));
        if (i > 0 && !(l >= r->ll[i - 1] - 1e-12 * fmax(1, fabs(l))))
            fail_msg("row %zu: loglik %.17g < %.17g", i, l, r->ll[i - 1]);
        for (size_t k = 0; k < 3; k++)
            assert_true(r->th[i][k] >= 0 && r->th[i][k] <= 1);
    }
    free(r);
    em_model_free(&m);
}

static void loglik_never_decreases_on_random_problems(void **state)
{
    (void)state;
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (int k = 0; k < 200; k++)
        check_random_problem(&s);
}

static void recovers_simulated_parameters(void **state)
{
    (void)state;
    const size_t n = 20000, c = 10;
    const double truth[3] = {0.3, 0.8, 0.35};
    double *v = malloc(n * c * sizeof *v), th[3];
    uint64_t s = 12345;
    simulate(&s, truth, n, c, 0, v);
    em_table t = tosses(v, n, c);
    em_model m;
    em_fit_result res;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    assert_int_equal(m.type->init(m.state, 0, th, NULL), EM_OK);
    assert_int_equal(run(&m, th, 1000, 1e-10, NULL, NULL, &res, NULL), EM_OK);
    assert_true(res.converged);
    int same = fabs(th[PI] - 0.3) <= 0.02 && fabs(th[P] - 0.8) <= 0.02 &&
               fabs(th[Q] - 0.35) <= 0.02;
    int swapped = fabs(th[PI] - 0.7) <= 0.02 && fabs(th[Q] - 0.8) <= 0.02 &&
                  fabs(th[P] - 0.35) <= 0.02;
    if (!same && !swapped)
        fail_msg("fit (%g, %g, %g) is not (0.3, 0.8, 0.35) in either "
                 "labelling", th[PI], th[P], th[Q]);
    assert_int_equal(res.nobs, n);
    em_model_free(&m);
    free(v);
}

static void fixed_pi_stays_and_is_not_counted(void **state)
{
    (void)state;
    double v[200 * 5];
    const double truth[3] = {0.4, 0.75, 0.3};
    uint64_t s = 777;
    simulate(&s, truth, 200, 5, 0, v);
    em_table t = tosses(v, 200, 5);
    em_model m;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    const unsigned char fixed[3] = {1, 0, 0};
    double th[3] = {0.5, 0.6, 0.45};
    trace r = {0};
    em_fit_result res;
    assert_int_equal(run(&m, th, 500, 1e-12, fixed, &r, &res, NULL), EM_OK);
    assert_true(r.n >= 3);
    for (size_t i = 0; i < r.n; i++)
        assert_true(r.th[i][PI] == 0.5);
    assert_true(th[PI] == 0.5);
    assert_true(th[P] != 0.6 && th[Q] != 0.45); /* the others did move */
    assert_int_equal(res.nfree, 2);
    assert_close(res.loglik, r.ll[r.n - 1], 0);
    assert_close(res.aic, 2.0 * 2 - 2 * res.loglik, 1e-15);
    em_model_free(&m);
}

static void bad_values_and_empty_rows(void **state)
{
    (void)state;
    em_model m;
    em_error err;
    double two[4] = {1, 0, 2, 1};
    em_table t = tosses(two, 4, 1);
    assert_int_equal(make(&t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "not a toss result"));

    /* 30 rows of 2 tosses, and the same with an all-missing row in the
     * middle */
    double v[60], w[62];
    const double truth[3] = {0.6, 0.9, 0.2};
    uint64_t s = 4242;
    simulate(&s, truth, 30, 2, 0.2, v);
    memcpy(w, v, 30 * sizeof *w);
    w[30] = w[31] = NAN;
    memcpy(w + 32, v + 30, 30 * sizeof *w);
    em_table a = tosses(v, 30, 2), b = tosses(w, 31, 2);
    em_model ma, mb;
    em_fit_result ra, rb;
    double tha[3], thb[3];
    assert_int_equal(make(&a, &ma, NULL), EM_OK);
    assert_int_equal(make(&b, &mb, NULL), EM_OK);
    assert_int_equal(mb.info.nskipped, ma.info.nskipped + 1);
    assert_int_equal(ma.type->init(ma.state, 0, tha, NULL), EM_OK);
    assert_int_equal(mb.type->init(mb.state, 0, thb, NULL), EM_OK);
    assert_int_equal(run(&ma, tha, 300, 0, NULL, NULL, &ra, NULL), EM_OK);
    assert_int_equal(run(&mb, thb, 300, 0, NULL, NULL, &rb, NULL), EM_OK);
    for (size_t k = 0; k < 3; k++)
        assert_true(tha[k] == thb[k]);
    assert_true(ra.loglik == rb.loglik);
    assert_int_equal(ra.iterations, rb.iterations);
    assert_int_equal(ra.nobs, rb.nobs);
    em_model_free(&ma);
    em_model_free(&mb);

    double none[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    em_table u = tosses(none, 3, 2);
    assert_int_equal(make(&u, &m, &err), EM_ERR_DATA);
}

static void a_start_of_probability_zero_is_numeric(void **state)
{
    (void)state;
    double v[10];
    memcpy(v, doc_y, sizeof v);
    em_table t = tosses(v, 10, 1);
    em_model m;
    em_error err;
    em_fit_result res;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    double th[3] = {0.5, 1, 1};
    assert_int_equal(run(&m, th, 10, 0, NULL, NULL, &res, &err),
                     EM_ERR_NUMERIC);
    em_model_free(&m);
}

static void loglik_matches_a_hand_computation(void **state)
{
    (void)state;
    double v[6] = {1, 0, NAN, 1, 0, 0};
    em_table t = tosses(v, 3, 2);
    em_model m;
    assert_int_equal(make(&t, &m, NULL), EM_OK);
    assert_int_equal(m.info.nskipped, 0);
    const double th[3] = {0.35, 0.72, 0.25};
    double stats[STATS_MAX];
    assert_int_equal(em_estep_all(&m, th, stats, NULL), EM_OK);
    double want = log(row_density(th, 1, 2)) + log(row_density(th, 1, 1)) +
                  log(row_density(th, 0, 2));
    assert_close(stats[EM_STAT_LOGLIK], want, 1e-14);
    assert_close(stats[EM_STAT_NOBS], 3, 0);
    em_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doc_first_step_and_textbook_fit),
        cmocka_unit_test(symmetric_start_is_a_fixed_point),
        cmocka_unit_test(loglik_never_decreases_on_random_problems),
        cmocka_unit_test(recovers_simulated_parameters),
        cmocka_unit_test(fixed_pi_stays_and_is_not_counted),
        cmocka_unit_test(bad_values_and_empty_rows),
        cmocka_unit_test(a_start_of_probability_zero_is_numeric),
        cmocka_unit_test(loglik_matches_a_hand_computation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
