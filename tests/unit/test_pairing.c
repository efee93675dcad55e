/* The pairing model against document 003's bosses and staff: its first
 * iteration exactly, the correct second iteration (which the document
 * does not normalise), the likelihood, and rows without data. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

static const char doc[] = "key,staff1,staff2\n"
                          "A,Jia,Yi\n"
                          "Liu,Jia,Zhang\n"
                          "Liu,Zhang,Yi\n"
                          "C,Yi,\n";

static void read_text(const char *csv, em_table *t)
{
    em_csv_options o = {.delimiter = ',', .symbols = "*"};
    assert_int_equal(em_csv_read_buffer(csv, strlen(csv), "test", &o, t, NULL),
                     EM_OK);
}

static void step(em_model *m, double *th, double *ll)
{
    double *st = calloc(EM_STAT_HEADER + m->info.nstats, sizeof *st);
    assert_int_equal(em_estep_all(m, th, st, NULL), EM_OK);
    if (ll)
        *ll = st[EM_STAT_LOGLIK];
    assert_int_equal(m->type->mstep(m->state, st, NULL, th, NULL), EM_OK);
    free(st);
}

/* theta in the model's order: keys A, Liu, C; candidates Jia, Yi, Zhang
 * (the order the rows first show them). */
static void assert_theta(const double *th, const double want[9], double tol)
{
    for (size_t i = 0; i < 9; i++)
        assert_close(th[i], want[i], tol);
}

static void reproduces_the_document(void **state)
{
    (void)state;
    em_table t;
    read_text(doc, &t);
    em_model m;
    em_model_config cfg = {0};
    assert_int_equal(em_model_create(em_model_find("pairing"), &cfg, &t, &m,
                                     NULL),
                     EM_OK);
    assert_int_equal(m.info.nparams, 9);
    assert_int_equal(m.info.nfree, 6);
    assert_string_equal(m.info.param_names[0], "theta[A:Jia]");
    assert_string_equal(m.info.param_names[5], "theta[Liu:Zhang]");
    assert_string_equal(m.info.param_names[7], "theta[C:Yi]");
    double th[9], ll;
    assert_int_equal(m.type->init(m.state, 0, th, NULL), EM_OK);
    for (size_t i = 0; i < 9; i++)
        assert_close(th[i], 1.0 / 3, 1e-15); /* "all 1/3" */
    step(&m, th, &ll);
    /* a row's probability is the sum over its candidates */
    assert_close(ll, 3 * log(2.0 / 3) + log(1.0 / 3), 1e-15);
    /* the document's first M-step: A 1/2, 1/2; Liu 1/4 with Jia and Yi,
     * 1/2 with Zhang; C 1 with Yi */
    const double first[9] = {0.5, 0.5, 0, 0.25, 0.25, 0.5, 0, 1, 0};
    assert_theta(th, first, 1e-15);
    step(&m, th, &ll);
    assert_close(ll, 2 * log(0.75), 1e-15); /* Liu's rows: 1/4 + 1/2 */
    /* The document's second round (1/8, 1/8, 3/4 for Liu) adds
     * unnormalised counts theta / 2; the posterior weights of a row add
     * to 1, which gives Liu 1/6, 1/6, 2/3. */
    const double second[9] = {0.5, 0.5, 0, 1.0 / 6, 1.0 / 6, 2.0 / 3,
                              0, 1, 0};
    assert_theta(th, second, 1e-15);
    /* EM climbs to the maximum: Liu with Zhang, likelihood 1 */
    em_fit_options o = {.max_iter = 200, .tol = 1e-14};
    em_fit_result res;
    assert_int_equal(em_fit(&m, th, &o, &res, NULL), EM_OK);
    assert_true(th[5] > 1 - 1e-9);
    assert_true(fabs(res.loglik) < 1e-9);
    em_model_free(&m);
    em_table_free(&t);
}

static void rows_without_data_are_skipped(void **state)
{
    (void)state;
    /* a row without key, one without candidates, a candidate twice */
    em_table t;
    read_text("boss,a,b\nA,x,y\n,x,\nB,,\nB,y,y\nA,x,\n", &t);
    em_model m;
    em_model_config cfg = {0};
    assert_int_equal(em_model_create(em_model_find("pairing"), &cfg, &t, &m,
                                     NULL),
                     EM_OK);
    assert_int_equal(m.info.nskipped, 2);
    /* without a column named key, the first column is the key */
    assert_string_equal(m.info.param_names[0], "theta[A:x]");
    double th[4], st[2 + 6];
    assert_int_equal(m.type->init(m.state, 0, th, NULL), EM_OK);
    assert_int_equal(em_estep_all(&m, th, st, NULL), EM_OK);
    assert_close(st[EM_STAT_NOBS], 3, 0);
    /* B's row lists y twice: one candidate, probability 1/2 */
    assert_close(st[EM_STAT_LOGLIK], log(1.0) + log(0.5) + log(0.5), 1e-15);
    assert_int_equal(m.type->mstep(m.state, st, NULL, th, NULL), EM_OK);
    assert_close(th[0], 0.75, 1e-15); /* A: x 1/2 + 1, y 1/2, over 2 rows */
    assert_close(th[3], 1, 1e-15);    /* B: y */
    size_t bad;
    em_error err;
    th[0] = 0.9;
    assert_int_equal(m.type->check(m.state, th, &bad, &err), EM_ERR_ARG);
    assert_non_null(strstr(err.msg, "key \"A\" sum to"));
    em_model_free(&m);
    em_table_free(&t);
}

static void needs_text_and_two_columns(void **state)
{
    (void)state;
    em_table t;
    em_error err;
    em_model m;
    em_model_config cfg = {0};
    read_text("key,c\nA,x\nB,y\n", &t);
    em_table one = t;
    one.ncols = 1; /* the key column alone */
    assert_int_equal(em_model_create(em_model_find("pairing"), &cfg, &one,
                                     &m, &err),
                     EM_ERR_ARG);
    assert_non_null(strstr(err.msg, "at least one candidate column"));
    em_table_free(&t);
    read_text("key,c\nA,\nB,\n", &t);
    assert_int_equal(em_model_create(em_model_find("pairing"), &cfg, &t, &m,
                                     &err),
                     EM_ERR_DATA);
    assert_non_null(strstr(err.msg, "no row has both"));
    em_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reproduces_the_document),
        cmocka_unit_test(rows_without_data_are_skipped),
        cmocka_unit_test(needs_text_and_two_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
