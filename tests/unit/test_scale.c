/* The scale guard and the radix selection under it: medians and median
 * absolute deviations against a sorted copy and against the quickselect
 * the guard used before (which copied each column), the guard's verdicts
 * against that old guard's on random tables, and its three errors on
 * tables made by hand. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "core/scale.h"
#include "core/select.h"

#define SOURCE "t.csv"
#define FIRST_LINE 2

/* A table of nrows x ncols values, columns named c0, c1, ...; values NaN. */
static em_table make_table(size_t nrows, size_t ncols)
{
    em_table t = {.nrows = nrows, .ncols = ncols, .first_line = FIRST_LINE};
    t.names = calloc(ncols ? ncols : 1, sizeof *t.names);
    t.values = malloc((nrows * ncols + 1) * sizeof *t.values);
    t.source = malloc(sizeof SOURCE);
    assert_non_null(t.names);
    assert_non_null(t.values);
    assert_non_null(t.source);
    memcpy(t.source, SOURCE, sizeof SOURCE);
    for (size_t j = 0; j < ncols; j++) {
        t.names[j] = malloc(24);
        assert_non_null(t.names[j]);
        snprintf(t.names[j], 24, "c%zu", j);
    }
    for (size_t i = 0; i < nrows * ncols; i++)
        t.values[i] = NAN;
    return t;
}

static void set(em_table *t, size_t i, size_t j, double x)
{
    t->values[i * t->ncols + j] = x;
}

/* ---- the references ---- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Column j's observed values (or their distances from center) in v;
 * returns how many. */
static size_t gather(const em_table *t, size_t j, int distances,
                     double center, double *v)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        double x = em_table_at(t, i, j);
        if (!isnan(x))
            v[n++] = distances ? fabs(x - center) : x;
    }
    return n;
}

/* The k-th smallest by sorting a copy. */
static double sorted_kth(double *v, size_t n, size_t k)
{
    qsort(v, n, sizeof *v, by_value);
    return v[k];
}

/* The quickselect of the old guard, kept to show that the new selection
 * gives its bits. */
static double old_select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j], v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* The old guard's column check, verbatim but for names. */
static em_status old_check_column(const em_table *t, size_t j, double *v,
                                  em_error *err)
{
    size_t n = 0, far = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        double x = em_table_at(t, i, j);
        if (isnan(x))
            continue;
        if (fabs(x) > EM_MAX_ABS_VALUE)
            return em_error_at(err, EM_ERR_DATA, t->source,
                               em_table_line(t, i), 0,
                               "column \"%s\": %g is too large to fit (its "
                               "square overflows a double)",
                               t->names[j], x);
        v[n++] = x;
    }
    if (n < 2)
        return EM_OK;
    double med = old_select_kth(v, n, n / 2);
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - med);
    double mad = old_select_kth(v, n, n / 2), worst = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        double d = fabs(em_table_at(t, i, j) - med);
        if (d > worst)
            worst = d, far = i;
    }
    if (worst > 0 && worst < EM_MIN_SPREAD)
        return em_error_at(err, EM_ERR_DATA, t->source, 0, 0,
                           "column \"%s\": its values differ from their "
                           "median by at most %g, so little that their "
                           "squares underflow a double: rescale it",
                           t->names[j], worst);
    if (mad > 0 && worst > EM_MAX_SPREADS * mad)
        return em_error_at(err, EM_ERR_DATA, t->source,
                           em_table_line(t, far), 0,
                           "column \"%s\": %g lies %.1e times the column's "
                           "spread from its median, too far for double "
                           "precision to fit it with the rest: rescale or "
                           "remove it",
                           t->names[j], em_table_at(t, far, j), worst / mad);
    return EM_OK;
}

static em_status old_check_scale(const em_table *t, em_error *err)
{
    double *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    assert_non_null(v);
    em_status st = EM_OK;
    for (size_t j = 0; j < t->ncols && st == EM_OK; j++)
        st = old_check_column(t, j, v, err);
    free(v);
    return st;
}

/* ---- random columns ---- */

/* Ways to fill a column, each aimed at a hazard of the key or the passes. */
enum kind {
    NORMAL,     /* spread, most keys distinct */
    TIES,       /* a handful of values, -0.0 and +0.0 among them */
    ZEROS,      /* only -0.0 and +0.0: one key */
    CONSTANT,   /* one value */
    NEAR,       /* values a few ulps apart: keys share their top digits */
    OUTLIER,    /* tight values and a rare one far away */
    TINY,       /* values about 1e-160 apart */
    MAGNITUDES, /* from subnormal to 4e307, either sign */
    KINDS
};

static double draw(uint64_t *s, enum kind kind)
{
    static const double ties[] = {-0.0, 0.0, 1.0, -1.0, 2.5, 0.0, -0.0};
    switch (kind) {
    case NORMAL:
        return 100 * gauss(s) - 20;
    case TIES:
        return ties[below(s, sizeof ties / sizeof ties[0])];
    case ZEROS:
        return below(s, 2) ? 0.0 : -0.0;
    case CONSTANT:
        return 7.25;
    case MAGNITUDES: {
        double x = ldexp(unif(s), (int)below(s, 2097) - 1074);
        return below(s, 2) ? -x : x;
    }
    case TINY:
        return 1e-160 * (double)(1 + below(s, 5));
    case NEAR: {
        double x = 1.5;
        for (size_t i = below(s, 8); i > 0; i--)
            x = nextafter(x, 2.0);
        return x;
    }
    case OUTLIER:
        return below(s, 8) ? 1 + 1e-3 * gauss(s) : 1e14;
    default:
        return NAN;
    }
}

/* Fills column j with values of one kind, a share of them NaN. */
static void fill_column(em_table *t, size_t j, uint64_t *s, enum kind kind,
                        double missing)
{
    for (size_t i = 0; i < t->nrows; i++)
        set(t, i, j, unif(s) < missing ? NAN : draw(s, kind));
}

/* 1 when got is want, bit for bit, or both are zeros and got is +0.0. */
static int same(double got, double want)
{
    if (want == 0)
        return got == 0 && !signbit(got);
    return memcmp(&got, &want, sizeof got) == 0;
}

/* Checks the medians and median absolute deviations of every column of t
 * against both references, and the guard's verdict against the old one. */
static void check_table(const em_table *t)
{
    double *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    em_select_col *c = calloc(t->ncols ? t->ncols : 1, sizeof *c);
    assert_non_null(v);
    assert_non_null(c);
    for (size_t j = 0; j < t->ncols; j++) {
        size_t n = gather(t, j, 0, 0, v);
        c[j] = (em_select_col){.col = j, .count = n, .k = n / 2};
    }
    assert_int_equal(em_select_values(t, c, t->ncols, NULL), EM_OK);
    for (size_t j = 0; j < t->ncols; j++) {
        size_t n = c[j].count;
        if (n == 0)
            continue;
        double want = sorted_kth(v, gather(t, j, 0, 0, v), n / 2);
        gather(t, j, 0, 0, v);
        double old = old_select_kth(v, n, n / 2);
        if (!same(c[j].value, want) || !same(c[j].value, old)) {
            print_error("column %zu (n %zu): median %a, sorted %a, old %a\n",
                        j, n, c[j].value, want, old);
            fail();
        }
        c[j].center = old; /* a -0.0 here must change nothing */
    }
    assert_int_equal(em_select_distances(t, c, t->ncols, NULL), EM_OK);
    for (size_t j = 0; j < t->ncols; j++) {
        size_t n = c[j].count;
        double worst = 0;
        size_t far = 0;
        for (size_t i = 0; i < t->nrows; i++) {
            double d = fabs(em_table_at(t, i, j) - c[j].center);
            if (d > worst)
                worst = d, far = i;
        }
        assert_true(same(c[j].worst, worst));
        assert_int_equal(c[j].far_line, worst > 0 ? em_table_line(t, far) : 0);
        if (worst > 0) {
            double at = em_table_at(t, far, j);
            assert_memory_equal(&c[j].far_value, &at, sizeof at);
        }
        if (n == 0)
            continue;
        double want = sorted_kth(v, gather(t, j, 1, c[j].center, v), n / 2);
        gather(t, j, 1, c[j].center, v);
        double old = old_select_kth(v, n, n / 2);
        if (!same(c[j].value, want) || !same(c[j].value, old)) {
            print_error("column %zu (n %zu): MAD %a, sorted %a, old %a\n", j,
                        n, c[j].value, want, old);
            fail();
        }
    }
    em_error got, want;
    em_error_clear(&got);
    em_error_clear(&want);
    em_status st = em_check_scale(t, &got);
    assert_int_equal(st, old_check_scale(t, &want));
    assert_int_equal(got.status, want.status);
    assert_int_equal(got.line, want.line);
    assert_int_equal(got.col, want.col);
    assert_string_equal(got.file, want.file);
    assert_string_equal(got.msg, want.msg);
    free(v);
    free(c);
}

static void free_table(em_table *t)
{
    em_table_free(t);
}

/* ---- tests ---- */

static void test_keys_order(void **state)
{
    (void)state;
    static const double x[] = {-INFINITY, -1e300, -2.5, -1.0,
                               -4.9406564584124654e-324, -0.0, 0.0,
                               4.9406564584124654e-324,
                               2.2250738585072014e-308, 1.0, 1.5, 1e300,
                               INFINITY};
    size_t n = sizeof x / sizeof x[0];
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            uint64_t ka = em_select_key(x[a]), kb = em_select_key(x[b]);
            assert_int_equal(ka < kb, x[a] < x[b]);
            assert_int_equal(ka == kb, x[a] == x[b]);
        }
    uint64_t s = 11;
    for (int i = 0; i < 100000; i++) {
        double y = draw(&s, (enum kind)below(&s, KINDS));
        assert_true(same(em_select_unkey(em_select_key(y)), y));
    }
}

/* n = 0, 1, 2, 3 and a few more, every kind, with and without NaNs; the
 * guard sees columns of random kinds in random order, so that each of its
 * verdicts comes up. */
static void test_small_columns(void **state)
{
    (void)state;
    uint64_t s = 3;
    for (size_t rows = 0; rows <= 9; rows++)
        for (int rep = 0; rep < 300; rep++) {
            size_t cols = rep < KINDS ? KINDS : 1 + below(&s, 4);
            em_table t = make_table(rows, cols);
            for (size_t j = 0; j < cols; j++)
                fill_column(&t, j, &s,
                            (enum kind)(rep < KINDS ? j : below(&s, KINDS)),
                            rep % 3 ? 0.3 : 0);
            check_table(&t);
            free_table(&t);
        }
}

/* Mixed kinds in one column and many columns, so that a group of columns
 * holds columns of every kind. */
static void test_mixed_columns(void **state)
{
    (void)state;
    uint64_t s = 5;
    for (int rep = 0; rep < 40; rep++) {
        size_t rows = 1 + below(&s, 3000), cols = 1 + below(&s, 80);
        em_table t = make_table(rows, cols);
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                set(&t, i, j, unif(&s) < 0.1
                                  ? NAN
                                  : draw(&s, (enum kind)((i * 7 + j) % KINDS)));
        check_table(&t);
        free_table(&t);
    }
}

/* Columns longer than a bucket count, so the selection needs the counting
 * passes before it can collect, including columns of one key where every
 * digit must be fixed by counting. */
static void test_long_columns(void **state)
{
    (void)state;
    uint64_t s = 7;
    size_t rows = 3 * EM_SELECT_BUCKETS + 18;
    em_table t = make_table(rows, 2 * KINDS + 3);
    for (size_t j = 0; j < KINDS; j++) {
        fill_column(&t, j, &s, (enum kind)j, 0);
        fill_column(&t, KINDS + j, &s, (enum kind)j, 0.5);
    }
    /* more missing than present: the count, not the rows, picks the mode */
    fill_column(&t, 2 * KINDS, &s, NORMAL, 0.8);
    for (size_t i = 0; i < rows; i++) {
        /* exactly k values below the median's bucket */
        set(&t, i, 2 * KINDS + 1, i % 2 ? 2.0 : -1.0);
        /* 0 .. rows - 1, shuffled (65537 is a prime not dividing rows) */
        set(&t, (i * 65537) % rows, 2 * KINDS + 2, (double)(rows - 1 - i));
    }
    check_table(&t);
    free_table(&t);
}

/* The first column holding a value too large to square is reported at the
 * first such row, after every column before it passed. */
static void test_too_large(void **state)
{
    (void)state;
    em_table t = make_table(6, 3);
    for (size_t i = 0; i < 6; i++) {
        set(&t, i, 0, (double)i);
        set(&t, i, 1, (double)i);
        set(&t, i, 2, (double)i);
    }
    set(&t, 4, 1, 2e150);
    set(&t, 5, 1, -3e160);
    set(&t, 1, 2, 1e200); /* an earlier row, but a later column */
    em_error err;
    assert_int_equal(em_check_scale(&t, &err), EM_ERR_DATA);
    assert_int_equal(err.line, FIRST_LINE + 4);
    assert_int_equal(err.col, 0);
    assert_string_equal(err.file, SOURCE);
    assert_string_equal(err.msg, "column \"c1\": 2e+150 is too large to fit "
                                 "(its square overflows a double)");
    set(&t, 4, 1, INFINITY);
    assert_int_equal(em_check_scale(&t, &err), EM_ERR_DATA);
    assert_string_equal(err.msg, "column \"c1\": inf is too large to fit "
                                 "(its square overflows a double)");
    /* an earlier column's spread error wins */
    set(&t, 0, 0, 1e-160), set(&t, 1, 0, 2e-160), set(&t, 2, 0, 3e-160);
    for (size_t i = 3; i < 6; i++)
        set(&t, i, 0, NAN);
    assert_int_equal(em_check_scale(&t, &err), EM_ERR_DATA);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "column \"c0\": its values differ"));
    free_table(&t);
}

/* Values all within 1e-150 of their median. */
static void test_spread_too_small(void **state)
{
    (void)state;
    em_table t = make_table(4, 2);
    static const double col0[] = {1, -1, 3, 2};
    static const double col1[] = {1e-160, NAN, 3e-160, 2e-160};
    for (size_t i = 0; i < 4; i++)
        set(&t, i, 0, col0[i]), set(&t, i, 1, col1[i]);
    em_error err;
    assert_int_equal(em_check_scale(&t, &err), EM_ERR_DATA);
    assert_int_equal(err.line, 0);
    assert_int_equal(err.col, 0);
    assert_string_equal(err.msg,
                        "column \"c1\": its values differ from their median "
                        "by at most 1e-160, so little that their squares "
                        "underflow a double: rescale it");
    /* a constant column passes: no deviation at all */
    set(&t, 0, 1, 2e-160), set(&t, 2, 1, 2e-160);
    assert_int_equal(em_check_scale(&t, &err), EM_OK);
    free_table(&t);
}

/* One value 5e12 spreads away: sorted 0 1 2 3 4 1e13 have median 3 and
 * distances 0 1 1 2 3 (1e13 - 3), whose median is 2. */
static void test_value_too_far(void **state)
{
    (void)state;
    em_table t = make_table(7, 1);
    static const double col[] = {2, 0, NAN, 4, 1, 1e13, 3};
    for (size_t i = 0; i < 7; i++)
        set(&t, i, 0, col[i]);
    em_error err;
    assert_int_equal(em_check_scale(&t, &err), EM_ERR_DATA);
    assert_int_equal(err.line, FIRST_LINE + 5);
    assert_int_equal(err.col, 0);
    assert_string_equal(err.msg,
                        "column \"c0\": 1e+13 lies 5.0e+12 times the "
                        "column's spread from its median, too far for "
                        "double precision to fit it with the rest: rescale "
                        "or remove it");
    /* 1e12 spreads is allowed */
    set(&t, 5, 0, 2e12 + 3);
    assert_int_equal(em_check_scale(&t, &err), EM_OK);
    free_table(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_order),
        cmocka_unit_test(test_small_columns),
        cmocka_unit_test(test_mixed_columns),
        cmocka_unit_test(test_long_columns),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_spread_too_small),
        cmocka_unit_test(test_value_too_far),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
