/* The bvn model against the document's table, the closed-form maximum
 * likelihood estimate for a monotone pattern, and hand-computed values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

/* The 40 samples printed in document 000 (Efron and Hastie's example). */
static const double doc_x[40] = {
    2.68359748,  1.17791924,  1.86489988, 3.46263848,  3.28320055,
    2.2243539,   -0.81846598, 2.8875052,  2.8089101,   -0.43096351,
    1.59169105,  2.33259334,  1.23234749, 2.77710826,  2.30041259,
    1.46274197,  2.34134553,  1.41575413, 2.89978014,  1.94268688,
    1.8706036,   -0.95437589, 2.31569597, 2.22949385,  1.20585795,
    1.35490525,  0.65720096,  3.50395539, 2.87762334,  1.72990085,
    1.81482228,  2.90097921,  0.17064598, 3.54635827,  0.14184182,
    1.62707491,  0.98461819,  2.90010676, 1.40230423,  2.9772189};
static const double doc_y[20] = {
    1.48379834, 1.38894689, 0.64818678, 2.52003738, 2.09838814,
    0.68423906, 0.25206792, 1.21514733, 2.66763322, -0.40946548,
    0.83110871, 0.74321063, 0.10636416, 1.22676301, 1.26537629,
    0.86375528, 0.60329965, 0.12814199, 1.662521,   0.96135903};

/* The document's table: mu2, s2, rho for iterations 0..19 (mu1 = 1.867422
 * and s1 = 1.127957 throughout). */
static const double doc_table[20][3] = {
    {0.523522, 0.755136, 0.436802}, {0.769992, 0.656320, 0.734940},
    {0.886157, 0.667636, 0.827798}, {0.940980, 0.685415, 0.853448},
    {0.966894, 0.696062, 0.861611}, {0.979166, 0.701419, 0.864603},
    {0.984991, 0.703944, 0.865806}, {0.987763, 0.705095, 0.866312},
    {0.989086, 0.705607, 0.866529}, {0.989720, 0.705830, 0.866621},
    {0.990025, 0.705925, 0.866660}, {0.990173, 0.705963, 0.866676},
    {0.990244, 0.705978, 0.866682}, {0.990279, 0.705983, 0.866684},
    {0.990297, 0.705984, 0.866684}, {0.990305, 0.705984, 0.866684},
    {0.990309, 0.705984, 0.866684}, {0.990312, 0.705984, 0.866684},
    {0.990313, 0.705983, 0.866684}, {0.990313, 0.705983, 0.866684}};

static char *names2[] = {"x", "y"};

/* A table over caller-owned values (names and values are not freed). */
static em_table table_of(double *values, size_t nrows)
{
    return (em_table){.nrows = nrows, .ncols = 2, .names = names2,
                      .values = values};
}

static double *doc_values(void)
{
    double *v = malloc(80 * sizeof *v);
    for (size_t i = 0; i < 40; i++) {
        v[2 * i] = doc_x[i];
        v[2 * i + 1] = i < 20 ? doc_y[i] : NAN;
    }
    return v;
}

typedef struct rows {
    size_t n;
    double th[64][5];
    double ll[64];
} rows;

static em_status keep_rows(void *ctx, size_t iter, const double *th,
                           double ll, em_error *err)
{
    (void)err;
    rows *r = ctx;
    if (iter < 64) {
        memcpy(r->th[iter], th, sizeof r->th[iter]);
        r->ll[iter] = ll;
    }
    r->n = iter + 1;
    return EM_OK;
}

static em_status fit(const em_table *t, const em_model_config *cfg,
                     size_t max_iter, double tol, double *th, rows *r,
                     em_fit_result *res, em_model *m)
{
    em_status st = em_model_create(em_model_find("bvn"), cfg, t, m, NULL);
    if (st != EM_OK)
        return st;
    st = m->type->init(m->state, 0, th, NULL);
    if (st != EM_OK)
        return st;
    em_fit_options o = {.max_iter = max_iter, .tol = tol,
                        .trace = r ? keep_rows : NULL, .trace_ctx = r};
    return em_fit(m, th, &o, res, NULL);
}

static void mean_estep_reproduces_the_document_table(void **state)
{
    (void)state;
    double *v = doc_values();
    em_table t = table_of(v, 40);
    em_model_config cfg = {.estep = "mean", .has_fill = 1, .fill = 0};
    em_model m;
    em_fit_result res;
    rows r = {0};
    double th[5];
    assert_int_equal(fit(&t, &cfg, 19, 0, th, &r, &res, &m), EM_OK);
    assert_int_equal(r.n, 20);
    for (size_t i = 0; i < 20; i++) {
        /* printed to 6 decimals: equal after rounding means within 5e-7 */
        assert_true(fabs(r.th[i][0] - 1.867422) <= 5e-7);
        assert_true(fabs(r.th[i][2] - 1.127957) <= 5e-7);
        for (size_t k = 0; k < 3; k++) {
            double got = r.th[i][(size_t[]){1, 3, 4}[k]];
            if (!(fabs(got - doc_table[i][k]) <= 5e-7))
                fail_msg("iteration %zu column %zu: %.9f vs the document's "
                         "%.6f", i, k, got, doc_table[i][k]);
        }
    }
    assert_false(m.info.monotone);
    em_model_free(&m);
    free(v);
}

/* Closed-form ML for x always seen and y missing in some rows: x's moments
 * over all rows, the regression of y on x over the complete rows. */
static void closed_form(const double *x, size_t n, const double *y,
                        size_t ncc, double *want)
{
    double mx = 0, sxx = 0, mxc = 0, myc = 0, sxxc = 0, sxyc = 0, rss = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        sxx += (x[i] - mx) * (x[i] - mx) / (double)n;
    for (size_t i = 0; i < ncc; i++)
        mxc += x[i] / (double)ncc, myc += y[i] / (double)ncc;
    for (size_t i = 0; i < ncc; i++) {
        sxxc += (x[i] - mxc) * (x[i] - mxc);
        sxyc += (x[i] - mxc) * (y[i] - myc);
    }
    double beta = sxyc / sxxc, alpha = myc - beta * mxc;
    for (size_t i = 0; i < ncc; i++) {
        double e = y[i] - alpha - beta * x[i];
        rss += e * e;
    }
    double s2sq = rss / (double)ncc + beta * beta * sxx;
    want[0] = mx;
    want[1] = alpha + beta * mx;
    want[2] = sqrt(sxx);
    want[3] = sqrt(s2sq);
    want[4] = beta * sqrt(sxx) / sqrt(s2sq);
}

static void full_em_equals_the_closed_form(void **state)
{
    (void)state;
    double *v = doc_values();
    em_table t = table_of(v, 40);
    em_model_config cfg = {0};
    em_model m;
    em_fit_result res;
    rows r = {0};
    double th[5], want[5];
    assert_int_equal(fit(&t, &cfg, 5000, 1e-12, th, &r, &res, &m), EM_OK);
    assert_true(res.converged);
    closed_form(doc_x, 40, doc_y, 20, want);
    /* A log-likelihood stopping rule pins theta down only to about the
     * square root of the rounding of l ... */
    for (size_t k = 0; k < 5; k++)
        assert_close(th[k], want[k], 1e-6);
    /* ... while the EM map itself has the closed form as its fixed point:
     * iterate it well past convergence. */
    double stats[7];
    for (int it = 0; it < 500; it++) {
        assert_int_equal(em_estep_all(&m, th, stats, NULL), EM_OK);
        assert_int_equal(m.type->mstep(m.state, stats, NULL, th, NULL), EM_OK);
    }
    for (size_t k = 0; k < 5; k++)
        assert_close(th[k], want[k], 1e-12);
    /* the document's mean-imputation answer is not the MLE: s2 differs */
    assert_true(fabs(th[3] - 0.705983) > 0.05);
    /* log-likelihood never decreased along the way */
    for (size_t i = 1; i < r.n && i < 64; i++)
        assert_true(r.ll[i] >= r.ll[i - 1] - 1e-12);
    assert_true(m.info.monotone);
    assert_int_equal(res.nobs, 40);
    em_model_free(&m);
    free(v);
}

static void missing_x_mirrors_missing_y(void **state)
{
    (void)state;
    double *v = doc_values(), *w = malloc(80 * sizeof *w);
    for (size_t i = 0; i < 40; i++)
        w[2 * i] = v[2 * i + 1], w[2 * i + 1] = v[2 * i];
    em_table t = table_of(v, 40), u = table_of(w, 40);
    em_model_config cfg = {0};
    em_model m1, m2;
    em_fit_result r1, r2;
    double a[5], b[5];
    assert_int_equal(fit(&t, &cfg, 5000, 0, a, NULL, &r1, &m1), EM_OK);
    assert_int_equal(fit(&u, &cfg, 5000, 0, b, NULL, &r2, &m2), EM_OK);
    assert_close(a[0], b[1], 1e-10);
    assert_close(a[1], b[0], 1e-10);
    assert_close(a[2], b[3], 1e-10);
    assert_close(a[3], b[2], 1e-10);
    assert_close(a[4], b[4], 1e-10);
    assert_close(r1.loglik, r2.loglik, 1e-12);
    em_model_free(&m1);
    em_model_free(&m2);
    free(v);
    free(w);
}

static void complete_data_converge_to_sample_moments(void **state)
{
    (void)state;
    double v[8] = {0, 0, 1, 2, 2, 1, 3, 5};
    em_table t = table_of(v, 4);
    em_model_config cfg = {0};
    em_model m;
    em_fit_result res;
    double th[5];
    assert_int_equal(fit(&t, &cfg, 100, 1e-12, th, NULL, &res, &m), EM_OK);
    /* means 1.5, 2; variances 1.25, 3.5; covariance (0+0+... )/4 */
    double cov = ((-1.5) * (-2) + (-0.5) * 0 + 0.5 * (-1) + 1.5 * 3) / 4;
    assert_close(th[0], 1.5, 1e-14);
    assert_close(th[1], 2.0, 1e-14);
    assert_close(th[2], sqrt(1.25), 1e-14);
    assert_close(th[3], sqrt(3.5), 1e-14);
    assert_close(th[4], cov / sqrt(1.25 * 3.5), 1e-14);
    assert_true(res.converged);
    em_model_free(&m);
}

static void loglik_matches_a_hand_computation(void **state)
{
    (void)state;
    /* rows: complete (1, 2), x only 0.5, y only -1, and one row missing
     * both, which is skipped */
    double v[8] = {1, 2, 0.5, NAN, NAN, -1, NAN, NAN};
    double th[5] = {0.5, 1, 2, 1.5, 0.3};
    em_table t = table_of(v, 4);
    em_model m;
    em_model_config cfg = {0};
    /* too few complete rows for a fit, so create must refuse ... */
    em_error err;
    assert_int_equal(em_model_create(em_model_find("bvn"), &cfg, &t, &m, &err),
                     EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "at least 3"));
    /* ... but the density formula is checked through em_estep_all on a
     * model built from a table with enough rows and the same first rows */
    double w[14] = {1, 2, 0.5, NAN, NAN, -1, NAN, NAN, 0, 0, 1, 1, 2, 3};
    em_table u = table_of(w, 7);
    assert_int_equal(em_model_create(em_model_find("bvn"), &cfg, &u, &m, NULL),
                     EM_OK);
    assert_int_equal(m.info.nskipped, 1);
    double s[7];
    assert_int_equal(em_estep_all(&m, th, s, NULL), EM_OK);
    double want = 0;
    const double lp = log(2 * 3.14159265358979323846);
    double r = 0.3, omr = 1 - r * r;
    double pts[4][2] = {{1, 2}, {0, 0}, {1, 1}, {2, 3}};
    for (int i = 0; i < 4; i++) {
        double z1 = (pts[i][0] - 0.5) / 2, z2 = (pts[i][1] - 1) / 1.5;
        want += -lp - log(2) - log(1.5) - 0.5 * log(omr) -
                (z1 * z1 - 2 * r * z1 * z2 + z2 * z2) / (2 * omr);
    }
    want += -0.5 * lp - log(2) - 0.5 * pow((0.5 - 0.5) / 2, 2);
    want += -0.5 * lp - log(1.5) - 0.5 * pow((-1 - 1) / 1.5, 2);
    assert_close(s[EM_STAT_LOGLIK], want, 1e-14);
    assert_close(s[EM_STAT_NOBS], 6, 0);
    em_model_free(&m);
}

static void rows_missing_both_do_not_change_the_fit(void **state)
{
    (void)state;
    double *v = doc_values();
    double *w = malloc(86 * sizeof *w);
    memcpy(w, v, 80 * sizeof *w);
    for (size_t i = 80; i < 86; i++)
        w[i] = NAN;
    em_table t = table_of(v, 40), u = table_of(w, 43);
    em_model_config cfg = {0};
    em_model m1, m2;
    em_fit_result r1, r2;
    double a[5], b[5];
    assert_int_equal(fit(&t, &cfg, 100, 1e-12, a, NULL, &r1, &m1), EM_OK);
    assert_int_equal(fit(&u, &cfg, 100, 1e-12, b, NULL, &r2, &m2), EM_OK);
    assert_int_equal(m2.info.nskipped, 3);
    assert_int_equal(r2.nobs, 40);
    for (size_t k = 0; k < 5; k++)
        assert_close(a[k], b[k], 0);
    em_model_free(&m1);
    em_model_free(&m2);
    free(v);
    free(w);
}

static void far_from_zero_data_fit_like_centred_data(void **state)
{
    (void)state;
    double *v = doc_values(), *w = malloc(80 * sizeof *w);
    for (size_t i = 0; i < 80; i++)
        w[i] = v[i] + 1e7;
    em_table t = table_of(v, 40), u = table_of(w, 40);
    em_model_config cfg = {0};
    em_model m1, m2;
    em_fit_result r1, r2;
    double a[5], b[5];
    assert_int_equal(fit(&t, &cfg, 5000, 0, a, NULL, &r1, &m1), EM_OK);
    assert_int_equal(fit(&u, &cfg, 5000, 0, b, NULL, &r2, &m2), EM_OK);
    assert_close(b[0] - 1e7, a[0], 1e-7);
    assert_close(b[2], a[2], 1e-7);
    assert_close(b[3], a[3], 1e-7);
    assert_close(b[4], a[4], 1e-7);
    em_model_free(&m1);
    em_model_free(&m2);
    free(v);
    free(w);
}

static void degenerate_data_are_refused(void **state)
{
    (void)state;
    em_model m;
    em_model_config cfg = {0};
    em_error err;
    const em_model_type *bvn = em_model_find("bvn");
    double constant[8] = {1, 2, 1, 3, 1, 4, 1, 6};
    em_table t = table_of(constant, 4);
    assert_int_equal(em_model_create(bvn, &cfg, &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "\"x\" is constant"));
    double nothing[8] = {1, NAN, 2, NAN, 3, NAN, 4, NAN};
    t = table_of(nothing, 4);
    assert_int_equal(em_model_create(bvn, &cfg, &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "\"y\" has no observed values"));
    double three[3] = {1, 2, 3};
    t = (em_table){.nrows = 1, .ncols = 3, .names = names2, .values = three};
    assert_int_equal(em_model_create(bvn, &cfg, &t, &m, &err), EM_ERR_ARG);
    assert_non_null(strstr(err.msg, "exactly 2 columns"));
    /* complete rows on a line: the covariance would be singular */
    double line[8] = {0, 0, 1, 2, 2, 4, 3, 6};
    t = table_of(line, 4);
    assert_int_equal(em_model_create(bvn, &cfg, &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "lie on a line"));
    /* two distinct complete points, and an incomplete row (found by
     * fuzzing: EM drove rho to 1 - 1ulp and the loglik then fell) */
    double two[10] = {1, 1, 1, 1, 4, 9, 2, NAN, NAN, 3};
    t = table_of(two, 5);
    assert_int_equal(em_model_create(bvn, &cfg, &t, &m, &err), EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "lie on a line"));
}

static void check_rejects_out_of_domain_values(void **state)
{
    (void)state;
    size_t bad;
    em_error err;
    const em_model_type *bvn = em_model_find("bvn");
    double ok[5] = {0, 0, 1, 1, 0.5}, th[5];
    assert_int_equal(bvn->check(NULL, ok, &bad, &err), EM_OK);
    struct { size_t k; double v; } cases[] = {
        {2, 0}, {3, -1}, {4, 1}, {4, -1.5}, {0, NAN}, {1, INFINITY}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(th, ok, sizeof th);
        th[cases[i].k] = cases[i].v;
        assert_int_equal(bvn->check(NULL, th, &bad, &err), EM_ERR_ARG);
        assert_int_equal(bad, cases[i].k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mean_estep_reproduces_the_document_table),
        cmocka_unit_test(full_em_equals_the_closed_form),
        cmocka_unit_test(missing_x_mirrors_missing_y),
        cmocka_unit_test(complete_data_converge_to_sample_moments),
        cmocka_unit_test(loglik_matches_a_hand_computation),
        cmocka_unit_test(rows_missing_both_do_not_change_the_fit),
        cmocka_unit_test(far_from_zero_data_fit_like_centred_data),
        cmocka_unit_test(degenerate_data_are_refused),
        cmocka_unit_test(check_rejects_out_of_domain_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
