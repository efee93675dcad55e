/* Trace and result writers: exact text of each format, and round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

static const char *const names[] = {"mu1", "a,b"};

/* Writes two trace rows in format into a string the caller frees. */
static char *trace_text(em_trace_format format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    em_trace_writer w;
    em_trace_writer_init(&w, f, format, names, 2);
    double th0[2] = {1.8674222131186482, 0.1};
    double th1[2] = {-2.5, 1e-7};
    assert_int_equal(em_trace_write(&w, 0, th0, -85.25, NULL), EM_OK);
    assert_int_equal(em_trace_write(&w, 1, th1, -80.0, NULL), EM_OK);
    fclose(f);
    return buf;
}

static void table_is_aligned_with_six_decimals(void **state)
{
    (void)state;
    char *s = trace_text(EM_TRACE_TABLE);
    assert_string_equal(s,
        " iter          mu1          a,b           loglik\n"
        "    0     1.867422     0.100000       -85.250000\n"
        "    1    -2.500000 1.000000e-07       -80.000000\n");
    free(s);
}

static void csv_has_one_header_and_round_trip_numbers(void **state)
{
    (void)state;
    char *s = trace_text(EM_TRACE_CSV);
    assert_string_equal(s, "iter,mu1,\"a,b\",loglik\n"
                           "0,1.8674222131186482,0.1,-85.25\n"
                           "1,-2.5,1e-07,-80\n");
    free(s);
}

static void tsv_uses_tabs(void **state)
{
    (void)state;
    char *s = trace_text(EM_TRACE_TSV);
    assert_string_equal(s, "iter\tmu1\ta,b\tloglik\n"
                           "0\t1.8674222131186482\t0.1\t-85.25\n"
                           "1\t-2.5\t1e-07\t-80\n");
    free(s);
}

static void jsonl_rows_parse_back(void **state)
{
    (void)state;
    char *s = trace_text(EM_TRACE_JSONL);
    char *nl = strchr(s, '\n');
    assert_non_null(nl);
    em_json *row = NULL;
    assert_int_equal(em_json_parse(s, (size_t)(nl - s), "t", &row, NULL), EM_OK);
    assert_close(em_json_get(row, "iter")->u.number, 0, 0);
    assert_close(em_json_get(row, "mu1")->u.number, 1.8674222131186482, 0);
    assert_close(em_json_get(row, "a,b")->u.number, 0.1, 0);
    assert_close(em_json_get(row, "loglik")->u.number, -85.25, 0);
    em_json_free(row);
    free(s);
}

static void none_writes_nothing(void **state)
{
    (void)state;
    char *s = trace_text(EM_TRACE_NONE);
    assert_string_equal(s, "");
    free(s);
}

static void a_failed_write_is_an_io_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    em_trace_writer w;
    em_trace_writer_init(&w, f, EM_TRACE_CSV, names, 2);
    double th[2] = {1, 2};
    em_error err;
    assert_int_equal(em_trace_write(&w, 0, th, -1, &err), EM_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot write the trace"));
    fclose(f);
}

static void result_is_one_json_object_with_the_fit(void **state)
{
    (void)state;
    static char *cols[] = {"x", "y"};
    double v[10] = {0, 0, 1, 2, 2, 1, 3, 5, 4, 4};
    em_table t = {.nrows = 5, .ncols = 2, .names = cols, .values = v};
    em_model m;
    em_model_config cfg = {0};
    assert_int_equal(em_model_create(em_model_find("bvn"), &cfg, &t, &m, NULL),
                     EM_OK);
    double th[5] = {1, 2, 3, 4, 0.5};
    em_fit_result res = {.iterations = 7, .converged = 1, .loglik = -10.5,
                         .nobs = 5, .nfree = 5, .aic = 31, .bic = 29.0471};
    const char *keys[] = {"estep"}, *vals[] = {"\"full\""};
    em_result_meta meta = {.input = "d.csv", .columns = (const char **)cols,
                           .ncolumns = 2, .setting_keys = keys,
                           .setting_json = vals, .nsettings = 1};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(em_result_write(f, &m, th, &res, &meta, NULL), EM_OK);
    fclose(f);
    em_json *doc = NULL;
    assert_int_equal(em_json_parse(buf, len, "r", &doc, NULL), EM_OK);
    assert_string_equal(em_json_get(doc, "model")->u.string.s, "bvn");
    assert_string_equal(em_json_get(doc, "input")->u.string.s, "d.csv");
    assert_int_equal(em_json_get(doc, "converged")->u.boolean, 1);
    assert_close(em_json_get(doc, "n")->u.number, 5, 0);
    assert_close(em_json_get(doc, "iterations")->u.number, 7, 0);
    assert_close(em_json_get(doc, "loglik")->u.number, -10.5, 0);
    assert_close(em_json_get(doc, "free_params")->u.number, 5, 0);
    assert_close(em_json_get(doc, "aic")->u.number, 31, 0);
    assert_close(em_json_get(doc, "bic")->u.number, 29.0471, 0);
    const em_json *settings = em_json_get(doc, "settings");
    assert_string_equal(em_json_get(settings, "estep")->u.string.s, "full");
    const em_json *p = em_json_get(doc, "params");
    assert_int_equal(p->u.object.n, 5);
    assert_close(em_json_get(p, "rho")->u.number, 0.5, 0);
    /* the result seeds the next fit */
    double back[5] = {0};
    assert_int_equal(em_params_from_json(&m, doc, "r", back, NULL), EM_OK);
    for (int i = 0; i < 5; i++)
        assert_close(back[i], th[i], 0);
    em_json_free(doc);
    free(buf);
    em_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_aligned_with_six_decimals),
        cmocka_unit_test(csv_has_one_header_and_round_trip_numbers),
        cmocka_unit_test(tsv_uses_tabs),
        cmocka_unit_test(jsonl_rows_parse_back),
        cmocka_unit_test(none_writes_nothing),
        cmocka_unit_test(a_failed_write_is_an_io_error),
        cmocka_unit_test(result_is_one_json_object_with_the_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
