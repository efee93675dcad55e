/* Setting parameters by name: --start lists and --init-params files. */
#include <stdint.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

static char *names2[] = {"x", "y"};
static double values[10] = {0, 0, 1, 2, 2, 1, 3, 5, 4, 4};

typedef struct fixture {
    em_table t;
    em_model m;
    double th[5];
} fixture;

static int setup(void **state)
{
    static fixture f;
    f.t = (em_table){.nrows = 5, .ncols = 2, .names = names2,
                     .values = values};
    em_model_config cfg = {0};
    if (em_model_create(em_model_find("bvn"), &cfg, &f.t, &f.m, NULL))
        return -1;
    for (int i = 0; i < 5; i++)
        f.th[i] = 0.5;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    em_model_free(&f->m);
    return 0;
}

static void assign_sets_named_values_only(void **state)
{
    fixture *f = *state;
    assert_int_equal(em_params_assign(&f->m, "mu2=-1.5,rho=0.25", f->th, NULL),
                     EM_OK);
    assert_close(f->th[0], 0.5, 0);
    assert_close(f->th[1], -1.5, 0);
    assert_close(f->th[4], 0.25, 0);
}

static void assign_rejects_bad_items(void **state)
{
    fixture *f = *state;
    em_error err;
    struct {
        const char *spec, *fragment;
    } cases[] = {
        {"sigma=1", "no parameter \"sigma\" (its parameters: mu1, mu2, s1"},
        {"mu1", "not of the form name=value"},
        {"mu1=abc", "mu1: \"abc\" is not a finite number"},
        {"mu1=", "is not a finite number"},
        {"mu1=inf", "is not a finite number"},
        {"mu1=1e999", "is not a finite number"},
        {"mu1=1,mu1=2", "mu1 is given twice"},
        {"mu1=1,", "not of the form"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(em_params_assign(&f->m, cases[i].spec, f->th, &err),
                         EM_ERR_ARG);
        if (!strstr(err.msg, cases[i].fragment))
            fail_msg("%s: got \"%s\"", cases[i].spec, err.msg);
    }
}

static em_json *parse(const char *text)
{
    em_json *doc = NULL;
    assert_int_equal(em_json_parse(text, strlen(text), "p.json", &doc, NULL),
                     EM_OK);
    return doc;
}

static void json_reads_the_params_of_a_result(void **state)
{
    fixture *f = *state;
    em_json *doc = parse("{\"model\": \"bvn\", \"params\": {\"mu1\": 2, "
                         "\"s2\": 3.5, \"rho\": -0.5}}");
    assert_int_equal(em_params_from_json(&f->m, doc, "p.json", f->th, NULL),
                     EM_OK);
    assert_close(f->th[0], 2, 0);
    assert_close(f->th[1], 0.5, 0);
    assert_close(f->th[3], 3.5, 0);
    assert_close(f->th[4], -0.5, 0);
    em_json_free(doc);
}

static void json_reads_a_bare_params_object(void **state)
{
    fixture *f = *state;
    em_json *doc = parse("{\"s1\": 4}");
    assert_int_equal(em_params_from_json(&f->m, doc, "p.json", f->th, NULL),
                     EM_OK);
    assert_close(f->th[2], 4, 0);
    em_json_free(doc);
}

static void json_errors_point_at_the_value(void **state)
{
    fixture *f = *state;
    em_error err;
    struct {
        const char *text, *fragment;
        long line, col;
    } cases[] = {
        {"{\"params\": {\n  \"mu9\": 1}}", "no parameter \"mu9\"", 2, 10},
        {"{\"params\": {\n  \"mu1\": \"a\"}}", "mu1: expected a number", 2, 10},
        {"{\"params\": {\n\"s1\": -2}}", "s1 = -2", 2, 7},
        {"{\"params\": {\"rho\": 1}}", "rho = 1", 1, 20},
        {"[1, 2]", "expected an object", 1, 1},
        {"{\"params\": 3}", "expected an object", 1, 12},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int k = 0; k < 5; k++)
            f->th[k] = 0.5;
        em_json *doc = parse(cases[i].text);
        assert_int_equal(
            em_params_from_json(&f->m, doc, "p.json", f->th, &err),
            EM_ERR_PARSE);
        if (!strstr(err.msg, cases[i].fragment))
            fail_msg("case %zu: got \"%s\"", i, err.msg);
        assert_string_equal(err.file, "p.json");
        assert_int_equal(err.line, cases[i].line);
        assert_int_equal(err.col, cases[i].col);
        em_json_free(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(assign_sets_named_values_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(assign_rejects_bad_items, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(json_reads_the_params_of_a_result,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(json_reads_a_bare_params_object,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(json_errors_point_at_the_value, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
