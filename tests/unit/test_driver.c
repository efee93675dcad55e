/* The driver, tested with a fake model whose behaviour each test sets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

/* The fake: one parameter a; each unit u contributes loglik -(a - 1)^2 and
 * the statistic u, so the sums show whether every unit was visited once.
 * The M-step moves a halfway to 1 (or away, when `wrong` is set). */
typedef struct fake {
    size_t nunits;
    int wrong;       /* M-step moves away from the optimum */
    int escape;      /* M-step leaves the domain a < 10 */
    double stat_sum; /* last E-step's statistic */
} fake;

static const char *const fake_names[] = {"a"};

static em_status fake_create(const em_model_config *cfg, const em_table *data,
                             void **state, em_model_info *info, em_error *err)
{
    (void)cfg, (void)data, (void)err, (void)state, (void)info;
    return EM_OK;
}
static void fake_destroy(void *s) { (void)s; }
static em_status fake_init(void *s, unsigned long long seed, double *th,
                           em_error *err)
{
    (void)s, (void)err, (void)seed;
    th[0] = 0;
    return EM_OK;
}
static em_status fake_check(const void *s, const double *th, size_t *bad,
                            em_error *err)
{
    (void)s;
    if (isfinite(th[0]) && th[0] < 10)
        return EM_OK;
    *bad = 0;
    return em_error_set(err, EM_ERR_ARG, "a = %g: must be < 10", th[0]);
}
static double fake_a;
static em_status fake_prepare(void *s, const double *th, em_error *err)
{
    (void)s, (void)err;
    fake_a = th[0];
    return EM_OK;
}
static void fake_estep(const void *s, size_t b, size_t e, double *st)
{
    (void)s;
    for (size_t u = b; u < e; u++) {
        st[EM_STAT_LOGLIK] -= (fake_a - 1) * (fake_a - 1);
        st[EM_STAT_NOBS] += 1;
        st[EM_STAT_HEADER] += (double)u;
    }
}
static em_status fake_mstep(void *s, const double *st,
                            const unsigned char *fixed, double *th,
                            em_error *err)
{
    (void)err, (void)fixed;
    fake *f = s;
    f->stat_sum = st[EM_STAT_HEADER];
    if (f->escape)
        th[0] = 20;
    else if (f->wrong && th[0] > 0.5)
        th[0] = th[0] - 0.5;
    else
        th[0] = th[0] + 0.5 * (1 - th[0]);
    return EM_OK;
}

static const em_model_type fake_type = {
    .name = "fake", .summary = "test", .create = fake_create,
    .destroy = fake_destroy, .init = fake_init, .check = fake_check,
    .prepare = fake_prepare, .estep = fake_estep, .mstep = fake_mstep};

static em_model make(fake *f, size_t nunits, int monotone)
{
    *f = (fake){.nunits = nunits};
    return (em_model){.type = &fake_type,
                      .state = f,
                      .info = {.nparams = 1,
                               .param_names = fake_names,
                               .nfree = 1,
                               .nunits = nunits,
                               .nstats = 1,
                               .monotone = monotone}};
}

/* Records the trace. */
typedef struct rec {
    size_t n;
    size_t iters[64];
    double a[64], ll[64];
    int fail_at; /* iteration whose write fails, -1 never */
} rec;

static em_status record(void *ctx, size_t iter, const double *th, double ll,
                        em_error *err)
{
    rec *r = ctx;
    if ((int)iter == r->fail_at)
        return em_error_set(err, EM_ERR_IO, "disk full");
    if (r->n < 64) {
        r->iters[r->n] = iter;
        r->a[r->n] = th[0];
        r->ll[r->n] = ll;
    }
    r->n++;
    return EM_OK;
}

static em_fit_options opts(rec *r, size_t max_iter, double tol)
{
    *r = (rec){.fail_at = -1};
    return (em_fit_options){
        .max_iter = max_iter, .tol = tol, .trace = record, .trace_ctx = r};
}

static void stops_at_max_iter_with_rows_0_to_n(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 2, 1);
    rec r;
    em_fit_options o = opts(&r, 3, 0);
    em_fit_result res;
    double th = 0;
    assert_int_equal(em_fit(&m, &th, &o, &res, NULL), EM_OK);
    assert_int_equal(res.iterations, 3);
    assert_false(res.converged);
    assert_int_equal(r.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(r.iters[i], i);
    /* row t pairs theta_t with its own log-likelihood: a_t = 1 - 0.5^t */
    assert_close(r.a[0], 0.0, 0);
    assert_close(r.a[3], 0.875, 1e-15);
    assert_close(r.ll[3], -2 * 0.125 * 0.125, 1e-15);
    assert_close(th, 0.875, 1e-15);
    assert_close(res.loglik, -2 * 0.125 * 0.125, 1e-15);
}

static void converges_on_relative_change(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 1, 1);
    rec r;
    /* |l_t - l_{t-1}| = 3 * 0.25^t (for a_t = 1 - 0.5^t), below 1e-6 from
     * t = 11 on (3 * 0.25^10 = 2.9e-6, 3 * 0.25^11 = 7.2e-7) */
    em_fit_options o = opts(&r, 100, 1e-6);
    em_fit_result res;
    double th = 0;
    assert_int_equal(em_fit(&m, &th, &o, &res, NULL), EM_OK);
    assert_true(res.converged);
    assert_int_equal(res.iterations, 11);
    assert_int_equal(r.n, 12);
}

static void max_iter_zero_evaluates_the_start(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 5, 1);
    rec r;
    em_fit_options o = opts(&r, 0, 1e-8);
    em_fit_result res;
    double th = 0.5;
    assert_int_equal(em_fit(&m, &th, &o, &res, NULL), EM_OK);
    assert_int_equal(res.iterations, 0);
    assert_false(res.converged);
    assert_close(th, 0.5, 0);
    assert_close(res.loglik, -5 * 0.25, 1e-15);
    assert_int_equal(res.nobs, 5);
    assert_close(res.aic, 2 + 2 * 1.25, 1e-15);
    assert_close(res.bic, log(5.0) + 2 * 1.25, 1e-15);
}

static void a_decrease_is_reported_as_a_bug(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 1, 1);
    f.wrong = 1;
    rec r;
    em_fit_options o = opts(&r, 10, 0);
    em_fit_result res;
    em_error err;
    double th = 0.9;
    /* 0.9 -> 0.4: loglik -0.01 -> -0.36 */
    assert_int_equal(em_fit(&m, &th, &o, &res, &err), EM_ERR_BUG);
    assert_non_null(strstr(err.msg, "decreased"));
    assert_int_equal(r.n, 2);
}

static void a_decrease_is_allowed_when_not_monotone(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 1, 0);
    f.wrong = 1;
    rec r;
    em_fit_options o = opts(&r, 3, 0);
    em_fit_result res;
    double th = 0.9;
    assert_int_equal(em_fit(&m, &th, &o, &res, NULL), EM_OK);
    assert_int_equal(res.iterations, 3);
}

static void blocks_visit_every_unit_once(void **state)
{
    (void)state;
    fake f;
    size_t n = 3 * EM_BLOCK_UNITS + 17;
    em_model m = make(&f, n, 1);
    double stats[EM_STAT_HEADER + 1];
    double th = 0;
    assert_int_equal(em_estep_all(&m, &th, stats, NULL), EM_OK);
    assert_close(stats[EM_STAT_NOBS], (double)n, 0);
    assert_close(stats[EM_STAT_HEADER], (double)n * (double)(n - 1) / 2, 0);
    assert_close(stats[EM_STAT_LOGLIK], -(double)n, 0);
}

static void a_trace_error_stops_the_fit(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 1, 1);
    rec r;
    em_fit_options o = opts(&r, 10, 0);
    r.fail_at = 2;
    em_fit_result res;
    em_error err;
    double th = 0;
    assert_int_equal(em_fit(&m, &th, &o, &res, &err), EM_ERR_IO);
    assert_string_equal(err.msg, "disk full");
    assert_int_equal(r.n, 2);
}

static void an_mstep_leaving_the_domain_is_numeric_error(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 1, 1);
    f.escape = 1;
    rec r;
    em_fit_options o = opts(&r, 10, 0);
    em_fit_result res;
    em_error err;
    double th = 0;
    assert_int_equal(em_fit(&m, &th, &o, &res, &err), EM_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "a = 20"));
    /* the caller's theta keeps the last good parameters */
    assert_close(th, 0, 0);
}

static void a_bad_start_is_rejected(void **state)
{
    (void)state;
    fake f;
    em_model m = make(&f, 1, 1);
    rec r;
    em_fit_options o = opts(&r, 10, 0);
    em_fit_result res;
    em_error err;
    double th = 11;
    assert_int_equal(em_fit(&m, &th, &o, &res, &err), EM_ERR_ARG);
    assert_non_null(strstr(err.msg, "must be < 10"));
    assert_int_equal(r.n, 0);
}

/* Any number of threads gives the same bits: the fake's statistic sums
 * u over units, and each unit adds a different-sized value, so a change in
 * the grouping of additions would show in the last bits of the log-
 * likelihood-like sums below. */
static void threads_give_identical_sums(void **state)
{
    (void)state;
    size_t n = 9 * EM_BLOCK_UNITS + 123;
    double ref[EM_STAT_HEADER + 1], got[EM_STAT_HEADER + 1];
    for (size_t t = 1; t <= 7; t++) {
        fake f;
        em_model m = make(&f, n, 1);
        rec r;
        em_fit_options o = opts(&r, 2, 0);
        o.threads = t;
        em_fit_result res;
        double th = 0.3;
        assert_int_equal(em_fit(&m, &th, &o, &res, NULL), EM_OK);
        got[0] = res.loglik, got[1] = th, got[2] = f.stat_sum;
        if (t == 1)
            memcpy(ref, got, sizeof ref);
        assert_memory_equal(ref, got, sizeof ref);
        assert_close(f.stat_sum, (double)n * (double)(n - 1) / 2, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stops_at_max_iter_with_rows_0_to_n),
        cmocka_unit_test(converges_on_relative_change),
        cmocka_unit_test(max_iter_zero_evaluates_the_start),
        cmocka_unit_test(a_decrease_is_reported_as_a_bug),
        cmocka_unit_test(a_decrease_is_allowed_when_not_monotone),
        cmocka_unit_test(blocks_visit_every_unit_once),
        cmocka_unit_test(a_trace_error_stops_the_fit),
        cmocka_unit_test(an_mstep_leaving_the_domain_is_numeric_error),
        cmocka_unit_test(a_bad_start_is_rejected),
        cmocka_unit_test(threads_give_identical_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
