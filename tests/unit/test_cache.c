/* Unit tests of the binary cache behind --stream (src/io/cache.c): the
 * mapped table equals the parsed one; a cache is reused only when whole
 * and matching; any damaged header byte or column name makes it rebuilt,
 * never trusted; a file that is not a cache is never overwritten. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emfit/cache.h"
#include "test_util.h"

/* Bytes of the cache's fixed header: magic and 13 eight-byte fields. */
#define HEADER_BYTES 112

static char dir[] = "/tmp/emfit-test-cache-XXXXXX";
static char csv_path[256], cache_path[256];

static void write_text(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static size_t read_all(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(csv_path, sizeof csv_path, "%s/data.csv", dir);
    snprintf(cache_path, sizeof cache_path, "%s/data.cache", dir);
    /* a blank line makes rows skip a line, so the cache holds lines */
    const char *csv = "a,\"b c\"\n1,2\n3,NA\n\n-0.5,1e-300\n7,8\n";
    write_text(csv_path, csv, strlen(csv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(csv_path);
    unlink(cache_path);
    return rmdir(dir);
}

/* t is the parsed reference, bit for bit, lines and names included. */
static void assert_same_table(const em_table *t, const em_table *ref)
{
    assert_int_equal(t->nrows, ref->nrows);
    assert_int_equal(t->ncols, ref->ncols);
    assert_memory_equal(t->values, ref->values,
                        ref->nrows * ref->ncols * sizeof(double));
    for (size_t i = 0; i < ref->nrows; i++)
        assert_int_equal(em_table_line(t, i), em_table_line(ref, i));
    for (size_t j = 0; j < ref->ncols; j++)
        assert_string_equal(t->names[j], ref->names[j]);
    assert_string_equal(t->source, ref->source);
    assert_non_null(t->map);
}

static void open_and_compare(const em_table *ref, int want_reused)
{
    em_table t;
    em_error e;
    int reused = -1;
    assert_int_equal(em_cache_open(csv_path, NULL, cache_path, &t, &reused,
                                   &e),
                     EM_OK);
    assert_int_equal(reused, want_reused);
    assert_same_table(&t, ref);
    em_table_free(&t);
}

static void test_build_then_reuse(void **state)
{
    (void)state;
    em_table ref;
    em_error e;
    assert_int_equal(em_csv_read_file(csv_path, NULL, &ref, &e), EM_OK);
    assert_int_equal(em_table_line(&ref, 2), 5);
    unlink(cache_path);
    open_and_compare(&ref, 0);
    open_and_compare(&ref, 1);
    /* a temporary cache: mapped, nothing to reuse */
    em_table t;
    int reused = -1;
    assert_int_equal(em_cache_open(csv_path, NULL, NULL, &t, &reused, &e),
                     EM_OK);
    assert_int_equal(reused, 0);
    assert_same_table(&t, &ref);
    em_table_free(&t);
    /* another column selection is another cache */
    em_csv_options o = {.columns = "b c"};
    assert_int_equal(em_cache_open(csv_path, &o, cache_path, &t, &reused,
                                   &e),
                     EM_OK);
    assert_int_equal(reused, 0);
    assert_int_equal(t.ncols, 1);
    assert_string_equal(t.names[0], "b c");
    em_table_free(&t);
    em_table_free(&ref);
}

/* Every header byte after the magic, and every byte of the texts, damaged
 * in turn: the cache is rebuilt (reused 0) and the table is right. */
static void test_damage_rebuilds(void **state)
{
    (void)state;
    em_table ref;
    em_error e;
    assert_int_equal(em_csv_read_file(csv_path, NULL, &ref, &e), EM_OK);
    unlink(cache_path);
    open_and_compare(&ref, 0);
    static char good[1 << 16], bad[1 << 16];
    size_t n = read_all(cache_path, good, sizeof good);
    assert_true(n > HEADER_BYTES && n < sizeof good);
    /* the texts: delimiter, columns (""), then "a" and "b c" */
    size_t texts = 1 + 1 + 2 + 4;
    for (size_t off = 8; off < HEADER_BYTES + texts; off++) {
        memcpy(bad, good, n);
        bad[off] ^= 0x55;
        write_text(cache_path, bad, n);
        open_and_compare(&ref, 0);
        open_and_compare(&ref, 1); /* and it was repaired */
    }
    /* cut short anywhere after the magic: rebuilt */
    for (size_t len = 8; len < n; len += len < HEADER_BYTES ? 7 : 997) {
        write_text(cache_path, good, len);
        open_and_compare(&ref, 0);
    }
    /* shorter than the magic, it could be anyone's file: left alone */
    write_text(cache_path, good, 5);
    em_table t;
    assert_int_equal(em_cache_open(csv_path, NULL, cache_path, &t, NULL, &e),
                     EM_ERR_ARG);
    /* an empty file at the path is taken as no cache */
    write_text(cache_path, "", 0);
    open_and_compare(&ref, 0);
    em_table_free(&ref);
}

static void test_refusals(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    int reused;
    /* not a cache: refused, and left as it was */
    const char *mine = "my notes, not a cache\n";
    write_text(cache_path, mine, strlen(mine));
    assert_int_equal(em_cache_open(csv_path, NULL, cache_path, &t, &reused,
                                   &e),
                     EM_ERR_ARG);
    assert_non_null(strstr(e.msg, "not an emfit cache"));
    char back[64];
    size_t n = read_all(cache_path, back, sizeof back);
    assert_int_equal(n, strlen(mine));
    assert_memory_equal(back, mine, n);
    /* the input itself */
    assert_int_equal(em_cache_open(csv_path, NULL, csv_path, &t, &reused,
                                   &e),
                     EM_ERR_ARG);
    assert_non_null(strstr(e.msg, "is the input itself"));
    /* symbols are not cached */
    em_csv_options o = {.symbols = "a"};
    assert_int_equal(em_cache_open(csv_path, &o, NULL, &t, &reused, &e),
                     EM_ERR_ARG);
    /* a bad row: the parse error, and no cache left at the path */
    unlink(cache_path);
    char bad_csv[256];
    snprintf(bad_csv, sizeof bad_csv, "%s/bad.csv", dir);
    write_text(bad_csv, "a,b\n1,2\n3,x\n", 12);
    assert_int_equal(em_cache_open(bad_csv, NULL, cache_path, &t, &reused,
                                   &e),
                     EM_ERR_PARSE);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 3);
    struct stat sb;
    assert_int_not_equal(stat(cache_path, &sb), 0);
    unlink(bad_csv);
    assert_null(t.values);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_then_reuse),
        cmocka_unit_test(test_damage_rebuilds),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
