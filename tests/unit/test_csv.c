/* Unit tests of the CSV reader (src/io/csv.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emfit/csv.h"
#include "test_util.h"

#define NAME "t.csv"

/* Parses a NUL-terminated string with the given selection and delimiter. */
static em_status parse_opt(const char *s, const char *cols, char delim,
                           em_table *t, em_error *e)
{
    em_csv_options o = {.delimiter = delim, .columns = cols};
    return em_csv_read_buffer(s, strlen(s), NAME, &o, t, e);
}

static em_status parse(const char *s, em_table *t, em_error *e)
{
    return em_csv_read_buffer(s, strlen(s), NAME, NULL, t, e);
}

static void assert_zeroed(const em_table *t)
{
    assert_int_equal(t->nrows, 0);
    assert_int_equal(t->ncols, 0);
    assert_null(t->names);
    assert_null(t->values);
    assert_null(t->lines);
    assert_null(t->source);
}

static void assert_msg(const em_error *e, const char *frag)
{
    if (!strstr(e->msg, frag)) {
        print_error("message \"%s\" lacks \"%s\"\n", e->msg, frag);
        fail();
    }
}

/* Parses buf[0..len) and expects an error st at line:col with frag in the
 * message and the table left zeroed. */
static void expect_err_n(const char *buf, size_t len, const char *cols,
                         char delim, em_status st, long line, long col,
                         const char *frag)
{
    em_csv_options o = {.delimiter = delim, .columns = cols};
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_buffer(buf, len, NAME, &o, &t, &e), st);
    assert_int_equal(e.status, st);
    assert_string_equal(e.file, NAME);
    assert_int_equal(e.line, line);
    assert_int_equal(e.col, col);
    assert_msg(&e, frag);
    assert_zeroed(&t);
}

static void expect_err(const char *s, em_status st, long line, long col,
                       const char *frag)
{
    expect_err_n(s, strlen(s), NULL, 0, st, line, col, frag);
}

static void expect_arg(const char *s, const char *cols, const char *frag)
{
    expect_err_n(s, strlen(s), cols, 0, EM_ERR_ARG, 0, 0, frag);
}

/* Expects the single value of a one-column file "v\n<field>\n". */
static void expect_number(const char *field, double want)
{
    char buf[600];
    snprintf(buf, sizeof buf, "v\n%s\n", field);
    em_table t;
    em_error e;
    assert_int_equal(parse(buf, &t, &e), EM_OK);
    assert_int_equal(t.nrows, 1);
    assert_close(em_table_at(&t, 0, 0), want, 0.0);
    em_table_free(&t);
}

static void expect_nan(const char *s, size_t nvalues)
{
    em_table t;
    em_error e;
    assert_int_equal(parse(s, &t, &e), EM_OK);
    assert_int_equal(t.nrows * t.ncols, nvalues);
    for (size_t i = 0; i < nvalues; i++)
        assert_true(isnan(t.values[i]));
    em_table_free(&t);
}

/* Expects the 2-column file s to hold x = {1, 3}, y = {2, 4} on lines l0, l1. */
static void expect_1234(const char *s, char delim, long l0, long l1)
{
    em_table t;
    em_error e;
    assert_int_equal(parse_opt(s, NULL, delim, &t, &e), EM_OK);
    assert_int_equal(t.nrows, 2);
    assert_int_equal(t.ncols, 2);
    assert_string_equal(t.names[0], "x");
    assert_string_equal(t.names[1], "y");
    assert_close(em_table_at(&t, 0, 0), 1.0, 0.0);
    assert_close(em_table_at(&t, 0, 1), 2.0, 0.0);
    assert_close(em_table_at(&t, 1, 0), 3.0, 0.0);
    assert_close(em_table_at(&t, 1, 1), 4.0, 0.0);
    assert_int_equal(em_table_line(&t, 0), l0);
    assert_int_equal(em_table_line(&t, 1), l1);
    em_table_free(&t);
}

/* ---- basic shapes ---------------------------------------------------- */

static void test_simple(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    assert_int_equal(parse("x,y\n1,2\n3.5,-4e2\n", &t, &e), EM_OK);
    assert_int_equal(e.status, EM_OK);
    assert_int_equal(t.nrows, 2);
    assert_int_equal(t.ncols, 2);
    assert_string_equal(t.names[0], "x");
    assert_string_equal(t.names[1], "y");
    assert_string_equal(t.source, NAME);
    assert_close(em_table_at(&t, 0, 0), 1.0, 0.0);
    assert_close(em_table_at(&t, 0, 1), 2.0, 0.0);
    assert_close(em_table_at(&t, 1, 0), 3.5, 0.0);
    assert_close(em_table_at(&t, 1, 1), -400.0, 0.0);
    assert_int_equal(em_table_line(&t, 0), 2);
    assert_int_equal(em_table_line(&t, 1), 3);
    em_table_free(&t);
    assert_zeroed(&t);
}

static void test_line_ends(void **state)
{
    (void)state;
    expect_1234("x,y\r\n1,2\r\n3,4\r\n", 0, 2, 3);
    expect_1234("x,y\r1,2\r3,4\r", 0, 2, 3);
    expect_1234("x,y\n1,2\r\n3,4\r", 0, 2, 3);
    expect_1234("x,y\n1,2\n3,4", 0, 2, 3); /* no line end after the last row */
}

static void test_bom(void **state)
{
    (void)state;
    expect_1234("\xEF\xBB\xBFx,y\n1,2\n3,4\n", 0, 2, 3);
    /* A BOM is not counted in the columns of the first line. */
    expect_err("\xEF\xBB\xBFx,\xFF\n1,2\n", EM_ERR_PARSE, 1, 3, "UTF-8");
}

static void test_blank_lines(void **state)
{
    (void)state;
    expect_1234("\nx,y\n\n1,2\n\r\n\r3,4\n\n", 0, 4, 7);
    /* An error after blank lines is on its physical line. */
    expect_err("x,y\n\n\r\n1,q\n", EM_ERR_PARSE, 4, 3, "\"q\" is not a number");
}

static void test_trim(void **state)
{
    (void)state;
    expect_1234("x , y\n 1 ,\t2\t\n  3\t\t, 4 \n", 0, 2, 3);
    /* Quoted fields are not trimmed. */
    expect_err("x,y\n1,\" 2\"\n", EM_ERR_PARSE, 2, 3, "is not a number");
}

static void test_delimiters(void **state)
{
    (void)state;
    expect_1234("x\ty\n1\t2\n 3 \t 4 \n", '\t', 2, 3);
    expect_1234("x;y\n1;2\n3;\"4\"\n", ';', 2, 3);
    expect_1234("x y\n1 2\n3 4\n", ' ', 2, 3);
    /* A space delimiter is never trimmed: two spaces make an empty field. */
    expect_err_n("x y\n1  2\n", 9, NULL, ' ', EM_ERR_PARSE, 2, 4,
                 "row has 3 fields, the header has 2");
    expect_err_n("x;y\n1,5;2\n", 10, NULL, ';', EM_ERR_PARSE, 2, 1,
                 "\"1,5\" is not a number");
}

static void test_bad_delimiter(void **state)
{
    (void)state;
    const char bad[] = {'"', '\r', '\n'};
    for (size_t i = 0; i < sizeof bad; i++) {
        em_table t;
        em_error e;
        assert_int_equal(parse_opt("x\n1\n", NULL, bad[i], &t, &e),
                         EM_ERR_ARG);
        assert_msg(&e, "delimiter");
        assert_zeroed(&t);
    }
}

/* ---- quoting --------------------------------------------------------- */

static void test_quoted(void **state)
{
    (void)state;
    const char *s = "\"x\",\"na\"\"me\",label\n"
                    "1,2,\"a, b\"\n"
                    "3,\"4\",\"multi\nline \"\"q\"\"\r\nend\"\n"
                    "\"5\",6,\"\"\n";
    em_table t;
    em_error e;
    assert_int_equal(parse_opt(s, "x,na\"me", 0, &t, &e), EM_OK);
    assert_int_equal(t.nrows, 3);
    assert_int_equal(t.ncols, 2);
    assert_string_equal(t.names[0], "x");
    assert_string_equal(t.names[1], "na\"me");
    assert_close(em_table_at(&t, 1, 1), 4.0, 0.0);
    assert_close(em_table_at(&t, 2, 0), 5.0, 0.0);
    assert_close(em_table_at(&t, 2, 1), 6.0, 0.0);
    assert_int_equal(em_table_line(&t, 0), 2);
    assert_int_equal(em_table_line(&t, 1), 3);
    assert_int_equal(em_table_line(&t, 2), 6); /* the quoted field spans lines 3-5 */
    em_table_free(&t);
}

static void test_quoted_header_multiline(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    assert_int_equal(parse("\"a\nb\",y\n1,2\n", &t, &e), EM_OK);
    assert_string_equal(t.names[0], "a\nb");
    assert_int_equal(em_table_line(&t, 0), 3);
    em_table_free(&t);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    expect_err("x,y\n1,\"2\n3,4\n", EM_ERR_PARSE, 2, 3, "unterminated");
    expect_err("x,y\n1,2\n3,\"", EM_ERR_PARSE, 3, 3, "unterminated");
    expect_err("\"x,y\n", EM_ERR_PARSE, 1, 1, "unterminated");
}

static void test_text_after_quote(void **state)
{
    (void)state;
    expect_err("x,y\n\"1\"b,2\n", EM_ERR_PARSE, 2, 4, "after the closing quote");
    expect_err("\"x\" ,y\n1,2\n", EM_ERR_PARSE, 1, 4, "after the closing quote");
    /* Also in a column that is not selected. */
    expect_err_n("x,y\n1,\"a\"\"\"b\n", 13, "x", 0, EM_ERR_PARSE, 2, 8,
                 "after the closing quote");
}

/* ---- missing values and numbers ------------------------------------ */

static void test_missing(void **state)
{
    (void)state;
    expect_nan("x,y\n,NA\nNaN,nan\n\"\",nAN\n\"NA\", \n", 8);
    expect_nan("x\nNA\n\"\"\n NaN \n", 3);
    /* Only "NA" in that exact case. */
    expect_err("x\nna\n", EM_ERR_PARSE, 2, 1, "\"na\" is not a number");
}

static void test_numbers_exact(void **state)
{
    (void)state;
    expect_number("0.1", 0.1);
    expect_number("1e-400", 0.0);
    expect_number("4.9e-324", 4.9406564584124654e-324);
    expect_number("2.2250738585072014e-308", DBL_MIN);
    expect_number("1.7976931348623157e308", DBL_MAX);
    expect_number("0.30000000000000004", 0.30000000000000004);
    expect_number("9007199254740993", 9007199254740992.0); /* ties to even */
    expect_number("12345678901234567", 12345678901234568.0);
    expect_number("1.2345678901234567e-5", 1.2345678901234567e-5);
    expect_number("+.5", 0.5);
    expect_number("5.", 5.0);
    expect_number("-0.25E+2", -25.0);
    expect_number("\"1.5\"", 1.5);
    em_table t;
    em_error e;
    assert_int_equal(parse("v\n-0\n", &t, &e), EM_OK);
    assert_true(signbit(em_table_at(&t, 0, 0)));
    em_table_free(&t);
}

static void test_not_numbers(void **state)
{
    (void)state;
    static const char *bad[] = {
        "abc", "inf", "-inf", "Infinity", "nan(1)", "0x1p3", "0x10",
        "\"1,5\"", "1e", "1e+", ".", "+", "-", "1.2.3", "1 2", "e5",
        "1d5", "--1", "1_000", "NAN1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "x,y\n1,%s\n", bad[i]);
        expect_err(buf, EM_ERR_PARSE, 2, 3, "is not a number");
    }
    expect_err("x,y\n1,abc\n", EM_ERR_PARSE, 2, 3,
               "field 2 (\"y\"): \"abc\" is not a number");
}

static void test_out_of_range(void **state)
{
    (void)state;
    expect_err("x,y\n1,1e999\n", EM_ERR_PARSE, 2, 3,
               "field 2 (\"y\"): \"1e999\" is out of the range of a double");
    expect_err("x\n-1.7976931348623159e308\n", EM_ERR_PARSE, 2, 1,
               "out of the range of a double");
}

static void test_long_field(void **state)
{
    (void)state;
    char num[402];
    char buf[600];
    memset(num, '0', sizeof num);
    num[0] = '1';
    num[1] = '.';
    num[400] = '\0'; /* "1.000...0", 400 bytes: still a number */
    snprintf(buf, sizeof buf, "   %s   ", num);
    expect_number(buf, 1.0);
    num[400] = '0';
    num[401] = '\0'; /* 401 bytes */
    snprintf(buf, sizeof buf, "x,y\n1,%s\n", num);
    expect_err(buf, EM_ERR_PARSE, 2, 3, "field too long to be a number");
}

static void test_message_escaping(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    char buf[200];
    assert_int_equal(parse("x\n\x01\"b\xC3\n", &t, &e), EM_ERR_PARSE);
    assert_msg(&e, "\"\\x01\\\"b\\xC3\" is not a number");
    memset(buf, 0, sizeof buf);
    memcpy(buf, "x\n", 2);
    memset(buf + 2, 'a', 100);
    buf[102] = '\n';
    assert_int_equal(parse(buf, &t, &e), EM_ERR_PARSE);
    assert_msg(&e, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not");
    assert_null(strstr(e.msg, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* ---- structure errors ---------------------------------------------- */

static void test_ragged(void **state)
{
    (void)state;
    expect_err("x,y\n1,2\n3\n", EM_ERR_PARSE, 3, 1,
               "row has 1 field, the header has 2");
    expect_err("x,y\n1,2\n3,4,5\n", EM_ERR_PARSE, 3, 5,
               "row has 3 fields, the header has 2");
    expect_err("x,y\n1,2,\n", EM_ERR_PARSE, 2, 5,
               "row has 3 fields, the header has 2");
    expect_err("x,y,z\n1,2,3\n10,20,30,\"a\nb\",50\n", EM_ERR_PARSE, 3, 10,
               "row has 5 fields, the header has 3");
    /* A line holding only a space is a row, not a blank line. */
    expect_err("x,y\n1,2\n \n", EM_ERR_PARSE, 3, 1, "row has 1 field");
}

static void test_nul_byte(void **state)
{
    (void)state;
    static const char a[] = "x,y\n1,2\n3,4\0\n";
    expect_err_n(a, sizeof a - 1, NULL, 0, EM_ERR_PARSE, 3, 4,
                 "NUL byte in input");
    static const char b[] = "x,y\n1,\"a\nb\0\"\n";
    expect_err_n(b, sizeof b - 1, "x", 0, EM_ERR_PARSE, 3, 2,
                 "NUL byte in input");
    static const char c[] = "x,\0y\n1,2\n";
    expect_err_n(c, sizeof c - 1, NULL, 0, EM_ERR_PARSE, 1, 3,
                 "NUL byte in input");
    static const char d[] = "x,y\n\"1\"\0,2\n";
    expect_err_n(d, sizeof d - 1, NULL, 0, EM_ERR_PARSE, 2, 4,
                 "NUL byte in input");
}

static void test_empty_input(void **state)
{
    (void)state;
    expect_err("", EM_ERR_PARSE, 1, 1, "empty input: no header row");
    expect_err("\xEF\xBB\xBF", EM_ERR_PARSE, 1, 1, "empty input");
    expect_err("\n\r\n\r\n", EM_ERR_PARSE, 1, 1, "empty input");
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_buffer(NULL, 0, NAME, NULL, &t, &e),
                     EM_ERR_PARSE);
    assert_zeroed(&t);
}

static void test_header_only(void **state)
{
    (void)state;
    expect_err("x,y\n", EM_ERR_PARSE, 2, 1, "no data rows after the header");
    expect_err("x,y", EM_ERR_PARSE, 2, 1, "no data rows");
    expect_err("\n\nx,y\r\n\r\n\n", EM_ERR_PARSE, 4, 1, "no data rows");
    expect_err("\"x\ny\",z\n", EM_ERR_PARSE, 3, 1, "no data rows");
}

static void test_header_utf8(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    assert_int_equal(parse("temp\xC3\xA9rature,\xE2\x82\xAC\n1,2\n", &t, &e),
                     EM_OK);
    assert_string_equal(t.names[0], "temp\xC3\xA9rature");
    em_table_free(&t);
    expect_err("x,\xC3(\n1,2\n", EM_ERR_PARSE, 1, 3, "not valid UTF-8");
    expect_err("x,ab\xC0\x80\n1,2\n", EM_ERR_PARSE, 1, 5, "UTF-8");
    expect_err("x,\xED\xA0\x80\n1,2\n", EM_ERR_PARSE, 1, 3, "UTF-8");
    expect_err("x,\xF4\x90\x80\x80\n1,2\n", EM_ERR_PARSE, 1, 3, "UTF-8");
    expect_err("x,\xE2\x82\n1,2\n", EM_ERR_PARSE, 1, 3, "UTF-8");
    expect_err("\"a\nb\xFF\",y\n1,2\n", EM_ERR_PARSE, 2, 2, "UTF-8");
    /* Data in unselected columns is not checked. */
    assert_int_equal(parse_opt("x,t\n1,\xFF\n", "x", 0, &t, &e), EM_OK);
    em_table_free(&t);
}

/* ---- column selection ---------------------------------------------- */

static void expect_selection(const char *cols, const char *n0, double v0,
                             const char *n1, double v1)
{
    em_table t;
    em_error e;
    assert_int_equal(parse_opt("x,y,z\n1,2,3\n", cols, 0, &t, &e), EM_OK);
    assert_int_equal(t.ncols, n1 ? 2 : 1);
    assert_string_equal(t.names[0], n0);
    assert_close(em_table_at(&t, 0, 0), v0, 0.0);
    if (n1) {
        assert_string_equal(t.names[1], n1);
        assert_close(em_table_at(&t, 0, 1), v1, 0.0);
    }
    em_table_free(&t);
}

static void test_select(void **state)
{
    (void)state;
    expect_selection("y", "y", 2.0, NULL, 0);
    expect_selection("3", "z", 3.0, NULL, 0);
    expect_selection("z,1", "z", 3.0, "x", 1.0);
    expect_selection("y,x", "y", 2.0, "x", 1.0);
    expect_selection(" y , 3 ", "y", 2.0, "z", 3.0);
    /* Unselected columns may hold anything well quoted. */
    em_table t;
    em_error e;
    assert_int_equal(parse_opt("x,y,z\n1,2,3\n", "", 0, &t, &e), EM_OK);
    assert_int_equal(t.ncols, 3); /* "" keeps every column */
    em_table_free(&t);
    assert_int_equal(parse_opt("x,y\n1,hello\n", "x", 0, &t, &e), EM_OK);
    assert_int_equal(t.ncols, 1);
    em_table_free(&t);
}

static void test_select_name_before_index(void **state)
{
    (void)state;
    /* A token equal to a header name is a name, even when all digits. */
    em_table t;
    em_error e;
    assert_int_equal(parse_opt("a,1,b\n10,20,30\n", "1", 0, &t, &e), EM_OK);
    assert_string_equal(t.names[0], "1");
    assert_close(em_table_at(&t, 0, 0), 20.0, 0.0);
    em_table_free(&t);
}

static void test_select_errors(void **state)
{
    (void)state;
    const char *s = "x,y\n1,2\n";
    expect_arg(s, "z", "no column named \"z\" (columns: x, y)");
    expect_arg(s, "5", "column index 5 is out of range (the file has 2 columns)");
    expect_arg(s, "0", "column index 0 is out of range");
    expect_arg(s, "99999999999999999999999", "is out of range");
    expect_arg(s, "x,1", "column \"x\" is selected twice");
    expect_arg(s, "y,y", "column \"y\" is selected twice");
    expect_arg(s, "x,", "empty");
    expect_arg("x,y,x\n1,2,3\n", "x",
               "column name \"x\" is ambiguous: columns 1 and 3 share it");
    /* Duplicate names are fine when not selected by name. */
    em_table t;
    em_error e;
    assert_int_equal(parse_opt("x,y,x\n1,2,3\n", "3,2", 0, &t, &e), EM_OK);
    assert_string_equal(t.names[0], "x");
    assert_close(em_table_at(&t, 0, 0), 3.0, 0.0);
    em_table_free(&t);
    assert_int_equal(parse("x,y,x\n1,2,3\n", &t, &e), EM_OK);
    assert_int_equal(t.ncols, 3);
    em_table_free(&t);
}

/* ---- misc ------------------------------------------------------------ */

static void test_null_error(void **state)
{
    (void)state;
    em_table t;
    assert_int_equal(em_csv_read_buffer("x\nq\n", 4, NAME, NULL, &t, NULL),
                     EM_ERR_PARSE);
    assert_zeroed(&t);
    assert_int_equal(em_csv_read_buffer("x\n1\n", 4, NULL, NULL, &t, NULL),
                     EM_OK);
    assert_non_null(t.source);
    em_table_free(&t);
}

/* Writes s to a new temporary file and returns its path in path. */
static void temp_file(char *path, size_t size, const char *s)
{
    snprintf(path, size, "/tmp/test_csv_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(s);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path, "a,b\n1,2\n3,x\n");
    em_csv_options o = {.columns = "a"};
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_file(path, &o, &t, &e), EM_OK);
    assert_int_equal(t.nrows, 2);
    assert_string_equal(t.source, path);
    assert_close(em_table_at(&t, 1, 0), 3.0, 0.0);
    em_table_free(&t);
    assert_int_equal(em_csv_read_file(path, NULL, &t, &e), EM_ERR_PARSE);
    assert_string_equal(e.file, path);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 3);
    assert_zeroed(&t);
    unlink(path);
}

static void test_read_stdin(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path, "x,y\n1,2\n3,4\n");
    assert_non_null(freopen(path, "r", stdin));
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_file("-", NULL, &t, &e), EM_OK);
    assert_string_equal(t.source, "<stdin>");
    assert_int_equal(t.nrows, 2);
    assert_close(em_table_at(&t, 1, 1), 4.0, 0.0);
    em_table_free(&t);
    unlink(path);
}

static void test_missing_file(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    const char *path = "/nonexistent/dir/data.csv";
    assert_int_equal(em_csv_read_file(path, NULL, &t, &e), EM_ERR_IO);
    assert_string_equal(e.file, path);
    assert_msg(&e, "cannot open: No such file or directory");
    assert_zeroed(&t);
}

static void test_directory(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_file("/tmp", NULL, &t, &e), EM_ERR_IO);
    assert_string_equal(e.file, "/tmp");
    assert_msg(&e, "is a directory");
    assert_zeroed(&t);
}

static void test_read_stream_fmemopen(void **state)
{
    (void)state;
    char data[] = "x,y\n1,2\n3,4\n";
    FILE *f = fmemopen(data, strlen(data), "r");
    assert_non_null(f);
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_stream(f, "mem", NULL, &t, &e), EM_OK);
    fclose(f);
    assert_string_equal(t.source, "mem");
    assert_int_equal(t.nrows, 2);
    assert_close(em_table_at(&t, 1, 0), 3.0, 0.0);
    em_table_free(&t);
}

/* More than one read chunk and many rows: exercises buffer growth. */
static void test_read_stream_large(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    const int n = 30000;
    fputs("i,half\n", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%d,%d.5\n", i, i);
    rewind(f);
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_stream(f, "big", NULL, &t, &e), EM_OK);
    fclose(f);
    assert_int_equal(t.nrows, (size_t)n);
    for (int i = 0; i < n; i += 997) {
        assert_close(em_table_at(&t, (size_t)i, 0), (double)i, 0.0);
        assert_close(em_table_at(&t, (size_t)i, 1), i + 0.5, 0.0);
        assert_int_equal(em_table_line(&t, i), i + 2);
    }
    em_table_free(&t);
}

#define ROWS 100000

/* Text of several read pieces whose records straddle the cuts: quoted
 * fields with line breaks and doubled quotes, CRLF, blank lines, and long
 * numbers that need strtod.  row_bad >= 0 puts a bad number in that row. */
static char *mixed_text(int rows, int row_bad, size_t *len)
{
    size_t cap = (size_t)rows * 80 + 64, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    uint64_t rs = 7;
    n += (size_t)sprintf(b + n, "x,note,y\r\n");
    for (int i = 0; i < rows; i++) {
        double x = (unif(&rs) - 0.5) * 1e4;
        const char *note = i % 7 == 0 ? "\"two\nlines\"" :
                           i % 5 == 0 ? "\"say \"\"hi\"\", \r\n ok\"" : "plain";
        const char *end = i % 3 == 0 ? "\r\n" : "\n";
        if (i == row_bad)
            n += (size_t)sprintf(b + n, "%.17g,%s,1x%s", x, note, end);
        else if (i % 11 == 0)
            n += (size_t)sprintf(b + n, "\"%.17g\",%s,0.1234567890123456789012%d%s",
                                 x, note, i % 10, end);
        else
            n += (size_t)sprintf(b + n, "%.17g,%s,%d.25%s", x, note, i, end);
        if (i % 13 == 0)
            n += (size_t)sprintf(b + n, "\n");
    }
    *len = n;
    return b;
}

/* Read in pieces from a stream, the table (and any error) is exactly what
 * parsing the whole text at once gives. */
static void check_pieces_match_whole(int row_bad)
{
    size_t len;
    char *text = mixed_text(ROWS, row_bad, &len);
    assert_true(len > (2u << 20)); /* several pieces */
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    rewind(f);
    em_table whole, piece;
    em_error ew, ep;
    em_csv_options o = {.delimiter = ',', .columns = "x,y"};
    em_status sw = em_csv_read_buffer(text, len, "m", &o, &whole, &ew);
    em_status sp = em_csv_read_stream(f, "m", &o, &piece, &ep);
    fclose(f);
    free(text);
    assert_int_equal(sw, row_bad >= 0 ? EM_ERR_PARSE : EM_OK);
    assert_int_equal(sp, sw);
    if (sw != EM_OK) {
        assert_int_equal(ep.line, ew.line);
        assert_int_equal(ep.col, ew.col);
        assert_string_equal(ep.msg, ew.msg);
        return;
    }
    assert_int_equal(piece.nrows, whole.nrows);
    assert_int_equal(piece.nrows, ROWS);
    assert_memory_equal(piece.values, whole.values,
                        whole.nrows * whole.ncols * sizeof(double));
    for (size_t i = 0; i < whole.nrows; i++)
        assert_int_equal(em_table_line(&piece, i), em_table_line(&whole, i));
    em_table_free(&whole);
    em_table_free(&piece);
}

static void test_pieces_match_whole(void **state)
{
    (void)state;
    check_pieces_match_whole(-1);
}

static void test_pieces_error_at_the_end(void **state)
{
    (void)state;
    check_pieces_match_whole(ROWS - 2);
}

/* The list of columns in a selection error is cut short with "..." and
 * stays inside its buffer, however many (empty) names the header has
 * (found by fuzzing: a cut could write two bytes past the end). */
static void test_long_column_list_in_message(void **state)
{
    (void)state;
    char text[512];
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        text[n++] = ',';
    memcpy(text + n, "\n1\n", 4);
    text[n + 4] = '\0';
    for (size_t cut = 1; cut <= 300; cut++) {
        char *t = text + 300 - cut; /* headers of 1..301 empty names */
        em_table tab;
        em_error e;
        assert_int_equal(parse_opt(t, "zz", 0, &tab, &e), EM_ERR_ARG);
        assert_msg(&e, "no column named \"zz\"");
        assert_zeroed(&tab);
    }
}

/* ---- symbols ----------------------------------------------------------- */

static em_status parse_sym(const char *s, const char *cols, const char *sym,
                           em_table *t, em_error *e)
{
    em_csv_options o = {.columns = cols, .symbols = sym};
    return em_csv_read_buffer(s, strlen(s), NAME, &o, t, e);
}

/* Text and integers alike become codes in first-seen order; missing is NaN;
 * the numeric column beside them is read as numbers. */
static void test_symbols_codes(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    const char *csv = "who,roll,x\n"
                      "ann,6,1.5\n"
                      "bob, 2 ,2\n"
                      "ann,NA,3\n"
                      "\"c,d\",6,4\n"
                      "bob,,5\n";
    assert_int_equal(parse_sym(csv, NULL, "who,roll", &t, &e), EM_OK);
    assert_int_equal(t.nrows, 5);
    assert_non_null(t.levels);
    assert_int_equal(t.nlevels[0], 3);
    assert_string_equal(t.levels[0][0], "ann");
    assert_string_equal(t.levels[0][1], "bob");
    assert_string_equal(t.levels[0][2], "c,d");
    assert_int_equal(t.nlevels[1], 2);
    assert_string_equal(t.levels[1][0], "6");
    assert_string_equal(t.levels[1][1], "2"); /* trimmed */
    assert_null(t.levels[2]);
    const double who[] = {0, 1, 0, 2, 1}, roll[] = {0, 1, NAN, 0, NAN};
    for (size_t i = 0; i < 5; i++) {
        assert_true(em_table_at(&t, i, 0) == who[i]);
        if (isnan(roll[i]))
            assert_true(isnan(em_table_at(&t, i, 1)));
        else
            assert_true(em_table_at(&t, i, 1) == roll[i]);
        assert_true(em_table_at(&t, i, 2) == (double)(i + 1) ||
                    (i == 0 && em_table_at(&t, i, 2) == 1.5));
    }
    em_table_free(&t);
}

/* "*" reads every selected column as symbols; codes follow the selection
 * order of the columns. */
static void test_symbols_all_selected(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    assert_int_equal(parse_sym("a,b\nx,y\ny,x\n", "b,a", "*", &t, &e),
                     EM_OK);
    assert_string_equal(t.names[0], "b");
    assert_string_equal(t.levels[0][0], "y");
    assert_string_equal(t.levels[1][0], "x");
    assert_true(em_table_at(&t, 1, 0) == 1 && em_table_at(&t, 1, 1) == 1);
    em_table_free(&t);
}

/* Many distinct symbols: the hash table grows and every code survives. */
static void test_symbols_many(void **state)
{
    (void)state;
    size_t n = 5000, len = 0;
    char *buf = malloc(n * 16 + 8);
    assert_non_null(buf);
    len += (size_t)sprintf(buf, "s\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(buf + len, "w%zu\n", (i * 7919) % 2500);
    em_csv_options o = {.symbols = "s"};
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_buffer(buf, len, NAME, &o, &t, &e), EM_OK);
    assert_int_equal(t.nlevels[0], 2500);
    for (size_t i = 0; i < n; i++) {
        char want[16];
        sprintf(want, "w%zu", (i * 7919) % 2500);
        size_t c = (size_t)em_table_at(&t, i, 0);
        assert_true(c < 2500);
        assert_string_equal(t.levels[0][c], want);
        if (i < 2500)
            assert_int_equal(c, i); /* 7919 is prime to 2500: all new */
    }
    em_table_free(&t);
    free(buf);
}

static void test_symbols_errors(void **state)
{
    (void)state;
    em_table t;
    em_error e;
    assert_int_equal(parse_sym("a,b\n1,2\n", "a", "b", &t, &e), EM_ERR_ARG);
    assert_msg(&e, "\"b\" is to be read as symbols but is not selected");
    assert_zeroed(&t);
    assert_int_equal(parse_sym("a,b\n1,2\n", NULL, "c", &t, &e), EM_ERR_ARG);
    assert_msg(&e, "no column named \"c\"");
    assert_int_equal(parse_sym("a\nok\n\xff\n", NULL, "a", &t, &e),
                     EM_ERR_PARSE);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 1);
    assert_msg(&e, "not valid UTF-8");
    assert_null(t.levels);
    /* without symbols the same text is not a number */
    assert_int_equal(parse_sym("a\nok\n", NULL, NULL, &t, &e), EM_ERR_PARSE);
    assert_msg(&e, "\"ok\" is not a number");
}

/* What the batch callback saw: every row's values and line, and the runs. */
typedef struct gathered {
    double v[64];
    long line[32];
    size_t rows, runs, max_run;
    size_t stop_after; /* runs after which to fail; 0: never */
} gathered;

static em_status gather(void *ctx, const em_table *b, em_error *err)
{
    gathered *g = ctx;
    assert_int_equal(b->ncols, 2);
    assert_string_equal(b->names[1], "y");
    for (size_t i = 0; i < b->nrows; i++) {
        g->v[2 * g->rows] = em_table_at(b, i, 0);
        g->v[2 * g->rows + 1] = em_table_at(b, i, 1);
        g->line[g->rows++] = em_table_line(b, i);
    }
    g->runs++;
    if (b->nrows > g->max_run)
        g->max_run = b->nrows;
    if (g->stop_after && g->runs == g->stop_after)
        return em_error_set(err, EM_ERR_IO, "sink full");
    return EM_OK;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Runs of rows carry the same values and lines as the whole table, for
 * every run size, across blank lines. */
static void test_batches_match_whole(void **state)
{
    (void)state;
    char path[] = "/tmp/emfit-test-batches-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "x,y\n1,2\n3,NA\n\n5,6\n\"7\",8\n\n\n9,10\n11,12\n13,14\n");
    em_table whole, head;
    em_error e;
    assert_int_equal(em_csv_read_file(path, NULL, &whole, &e), EM_OK);
    assert_int_equal(whole.nrows, 7);
    for (size_t bytes = 1; bytes <= 200; bytes += 7) {
        gathered g = {0};
        assert_int_equal(em_csv_read_batches(path, NULL, bytes, gather, &g,
                                             &head, &e),
                         EM_OK);
        size_t run = bytes / 16 > 1 ? bytes / 16 : 1;
        assert_int_equal(head.nrows, 7);
        assert_null(head.values);
        assert_null(head.lines);
        assert_string_equal(head.names[0], "x");
        assert_int_equal(g.rows, 7);
        assert_int_equal(g.runs, (7 + run - 1) / run);
        assert_true(g.max_run <= run);
        for (size_t i = 0; i < 7; i++) {
            assert_int_equal(g.line[i], em_table_line(&whole, i));
            for (size_t j = 0; j < 2; j++) {
                double a = em_table_at(&whole, i, j), b = g.v[2 * i + j];
                assert_true(a == b || (isnan(a) && isnan(b)));
            }
        }
        em_table_free(&head);
    }
    assert_int_equal(em_table_line(&whole, 2), 5);
    assert_int_equal(em_table_line(&whole, 4), 9);
    em_table_free(&whole);

    /* a bad row after some runs: the parse error, nothing kept */
    write_file(path, "x,y\n1,2\n3,4\n5,6\n7,x\n");
    gathered g = {0};
    assert_int_equal(em_csv_read_batches(path, NULL, 16, gather, &g, &head,
                                         &e),
                     EM_ERR_PARSE);
    assert_int_equal(e.line, 5);
    assert_int_equal(e.col, 3);
    assert_int_equal(g.runs, 3);
    assert_zeroed(&head);
    /* the callback's error stops the reading */
    gathered h = {.stop_after = 2};
    assert_int_equal(em_csv_read_batches(path, NULL, 16, gather, &h, &head,
                                         &e),
                     EM_ERR_IO);
    assert_msg(&e, "sink full");
    assert_int_equal(h.runs, 2);
    assert_zeroed(&head);
    unlink(path);
}

/* ---- one part of a file (em_csv_read_part) ------------------------------ */

/* Line ends in s[0..n): each '\n', and each '\r' without a '\n' after it. */
static long count_line_ends(const char *s, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n' || (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'));
    return k;
}

/* Writes n bytes of s to a new temporary file named in path (64 bytes). */
static void temp_file_n(char *path, const char *s, size_t n)
{
    snprintf(path, 64, "/tmp/test_csv_part_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

/* Reads the parts [cut[r], cut[r+1]) for r < np and checks that together
 * they are whole: its rows in order, each on its line once the nlines of
 * the earlier parts are added, and nlines summing to the file's lines. */
static void check_parts(const char *path, const em_csv_options *o,
                        const unsigned long long *cut, size_t np,
                        const em_table *whole, long lines)
{
    size_t row = 0;
    long offset = 0;
    for (size_t r = 0; r < np; r++) {
        em_table t;
        em_error e;
        long nl = -1;
        em_status st = em_csv_read_part(path, o, cut[r], cut[r + 1], &t, &nl,
                                        &e);
        if (st != EM_OK)
            print_error("part [%llu, %llu): %s\n", cut[r], cut[r + 1], e.msg);
        assert_int_equal(st, EM_OK);
        assert_int_equal(t.ncols, whole->ncols);
        for (size_t j = 0; j < t.ncols; j++)
            assert_string_equal(t.names[j], whole->names[j]);
        assert_true(row + t.nrows <= whole->nrows);
        for (size_t i = 0; i < t.nrows; i++, row++) {
            assert_memory_equal(t.values + i * t.ncols,
                                whole->values + row * t.ncols,
                                t.ncols * sizeof(double));
            assert_int_equal(em_table_line(&t, i) + offset,
                             em_table_line(whole, row));
        }
        assert_true(nl >= 0);
        offset += nl;
        em_table_free(&t);
    }
    assert_int_equal(row, whole->nrows);
    assert_int_equal(offset, lines);
}

/* Checks every way to cut text (as a file) into 1 to 3 parts, the even
 * splits (those of MPI ranks) into 1 to 5 parts, and 300 random cuts into
 * 4 or 5, against reading it whole; a range past the end is cut short. */
static void check_all_splits(const char *text, size_t n, const char *cols)
{
    char path[64];
    temp_file_n(path, text, n);
    em_csv_options o = {.columns = cols};
    em_table whole;
    em_error e;
    assert_int_equal(em_csv_read_file(path, &o, &whole, &e), EM_OK);
    long lines = count_line_ends(text, n);
    unsigned long long cut[6];
    for (size_t np = 1; np <= 5; np++) {
        for (size_t r = 0; r <= np; r++)
            cut[r] = (unsigned long long)(n * r / np);
        check_parts(path, &o, cut, np, &whole, lines);
    }
    cut[0] = 0, cut[1] = n + 100;
    check_parts(path, &o, cut, 1, &whole, lines);
    for (cut[1] = 0; cut[1] <= n; cut[1]++)
        for (cut[2] = cut[1]; cut[2] <= n; cut[2]++) {
            cut[3] = n;
            check_parts(path, &o, cut, 3, &whole, lines);
            if (cut[1] == cut[2]) { /* then each 2-way split once */
                cut[2] = n;
                check_parts(path, &o, cut, 2, &whole, lines);
                cut[2] = cut[1];
            }
        }
    uint64_t rs = 99 + n;
    for (int k = 0; k < 300; k++) {
        size_t np = 4 + (size_t)k % 2;
        for (size_t r = 1; r < np; r++) {
            unsigned long long v = below(&rs, n + 1);
            size_t q = r;
            for (; q > 1 && cut[q - 1] > v; q--) /* insertion sort */
                cut[q] = cut[q - 1];
            cut[q] = v;
        }
        cut[np] = n;
        check_parts(path, &o, cut, np, &whole, lines);
    }
    em_table_free(&whole);
    unlink(path);
}

static void check_all_splits_s(const char *text, const char *cols)
{
    check_all_splits(text, strlen(text), cols);
}

static const char *line_end(uint64_t *rs, int style)
{
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    return ends[style < 3 ? style : (int)below(rs, 3)];
}

/* A small random file: style 0 LF, 1 CRLF, 2 lone CR, 3 all three mixed;
 * blank lines (also first and last), quoted fields, NA and empty fields,
 * and a final row with or without its line end.  Column b holds text
 * (with a quoted delimiter) when text is set, else numbers. */
static size_t random_text(uint64_t seed, int style, int text, char *b)
{
    uint64_t rs = seed;
    size_t n = 0;
    if (below(&rs, 3) == 0)
        n += (size_t)sprintf(b + n, "%s", line_end(&rs, style));
    n += (size_t)sprintf(b + n, "a,\"b,c\",d%s", line_end(&rs, style));
    int rows = 3 + (int)below(&rs, 6);
    for (int i = 0; i < rows; i++) {
        if (below(&rs, 4) == 0)
            n += (size_t)sprintf(b + n, "%s", line_end(&rs, style));
        int v = (int)below(&rs, 200) - 100;
        switch (below(&rs, 5)) {
        case 0:
            n += (size_t)sprintf(b + n, "\"%d\",%s,%d.5", v,
                                 text ? "x" : "1e3", i);
            break;
        case 1:
            n += (size_t)sprintf(b + n, "NA,%s,%d",
                                 text ? "\"y, \"\"z\"\"\"" : "\"-2\"", v);
            break;
        case 2:
            n += (size_t)sprintf(b + n, "%d,,", v);
            break;
        default:
            n += (size_t)sprintf(b + n, "%d,%s,%de-1", i, text ? "w" : "",
                                 v);
            break;
        }
        if (i + 1 < rows || below(&rs, 2))
            n += (size_t)sprintf(b + n, "%s", line_end(&rs, style));
    }
    if (below(&rs, 3) == 0)
        n += (size_t)sprintf(b + n, "%s%s", line_end(&rs, style),
                             line_end(&rs, style));
    return n;
}

static void test_part_random_files(void **state)
{
    (void)state;
    char text[512];
    for (uint64_t seed = 1; seed <= 16; seed++) {
        int sel = seed % 3 == 0;
        size_t n = random_text(seed, (int)(seed % 4), sel, text);
        check_all_splits(text, n, sel ? "d,a" : NULL);
    }
}

static void test_part_fixed_files(void **state)
{
    (void)state;
    check_all_splits_s("x,y\n1,2\n3,NA\n\n5,6\n\"7\",8\n\n\n9,10\n", NULL);
    check_all_splits_s("x,y\r\n\r\n1,2\r\n3,4\r\n\r\n", "y");
    check_all_splits_s("x,y\r1,2\r\r3,4\r5,6", NULL); /* no final line end */
    check_all_splits_s("\xEF\xBB\xBFx,y\n1,2\n3,4\n", NULL);
    /* a header with quoted line breaks of each kind */
    check_all_splits_s("\"x\nfirst\",\"y\r\n\rsecond\"\r\n1,2\r\n\n3,4\r\n",
                       NULL);
}

/* A quoted line break within one part is read; a cut inside the field
 * splits it, and the part that opens it ends in an unclosed quote. */
static void test_part_quoted_line_break(void **state)
{
    (void)state;
    const char *text = "x,note,y\n1,a,2\n3,\"two\nlines\",4\n\n5,b,6\n";
    size_t n = strlen(text), row = 15, brk = 21; /* "3,..." and its break */
    assert_true(text[row] == '3' && text[brk] == '\n');
    char path[64];
    temp_file_n(path, text, n);
    em_csv_options o = {.columns = "x,y"};
    em_table whole;
    em_error e;
    assert_int_equal(em_csv_read_file(path, &o, &whole, &e), EM_OK);
    assert_int_equal(whole.nrows, 3);
    unsigned long long cut[4] = {0};
    /* cuts at row + 1 .. brk + 1 start a part inside the field */
    for (cut[1] = 0; cut[1] <= n; cut[1]++)
        for (cut[2] = cut[1]; cut[2] <= n; cut[2]++) {
            int in1 = cut[1] > row && cut[1] <= brk + 1;
            int in2 = cut[2] > row && cut[2] <= brk + 1;
            cut[3] = n;
            if (!in1 && !in2)
                check_parts(path, &o, cut, 3, &whole, 6);
        }
    em_table t;
    long nl = 7;
    assert_int_equal(em_csv_read_part(path, &o, 0, brk, &t, &nl, &e),
                     EM_ERR_PARSE);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 3);
    assert_msg(&e, "unterminated quoted field");
    assert_int_equal(nl, 0);
    assert_zeroed(&t);
    em_table_free(&whole);
    unlink(path);
}

/* A bad row is reported by the one part that holds it, at its line in the
 * part (the line in the file once the earlier parts' nlines are added)
 * and its column; every other part reads. */
static void check_error_splits(const char *text, long line, long col,
                               const char *frag)
{
    char path[64];
    size_t n = strlen(text);
    temp_file_n(path, text, n);
    unsigned long long cut[4] = {0};
    for (cut[1] = 0; cut[1] <= n; cut[1]++)
        for (cut[2] = cut[1]; cut[2] <= n; cut[2]++) {
            cut[3] = n;
            long offset = 0;
            int failed = 0;
            for (size_t r = 0; r < 3; r++) {
                em_table t;
                em_error e;
                long nl = -1;
                em_status st = em_csv_read_part(path, NULL, cut[r],
                                                cut[r + 1], &t, &nl, &e);
                if (st == EM_OK) {
                    offset += nl;
                    em_table_free(&t);
                    continue;
                }
                failed++;
                assert_int_equal(st, EM_ERR_PARSE);
                assert_string_equal(e.file, path);
                assert_int_equal(e.line + offset, line);
                assert_int_equal(e.col, col);
                assert_true(e.line >= 1 && e.line <= line);
                assert_msg(&e, frag);
                assert_int_equal(nl, 0);
                assert_zeroed(&t);
                offset = -1000000; /* later offsets are unknown */
            }
            assert_int_equal(failed, 1);
        }
    unlink(path);
}

static void test_part_errors(void **state)
{
    (void)state;
    check_error_splits("x,y\n1,2\n3,4\n5,oops\n7,8\n", 4, 3,
                       "\"oops\" is not a number");
    check_error_splits("x,y\r\n1,2\r\n\r\n\r3\r\n4,5", 5, 1,
                       "row has 1 field, the header has 2");
    check_error_splits("x,y\n\"1\"z,2\n", 2, 4, "after the closing quote");
}

/* A tiny file in four parts, as four ranks would read it: the parts
 * without rows are no error and still have the columns. */
static void test_part_empty(void **state)
{
    (void)state;
    char path[64];
    temp_file_n(path, "a\n1\n", 4);
    static const long want_rows[4] = {0, 0, 1, 0}, want_lines[4] = {1, 0, 1, 0};
    for (unsigned long long r = 0; r < 4; r++) {
        em_table t;
        em_error e;
        long nl = -1;
        assert_int_equal(em_csv_read_part(path, NULL, r, r + 1, &t, &nl, &e),
                         EM_OK);
        assert_int_equal(e.status, EM_OK);
        assert_int_equal(t.nrows, want_rows[r]);
        assert_int_equal(nl, want_lines[r]);
        assert_int_equal(t.ncols, 1);
        assert_string_equal(t.names[0], "a");
        assert_string_equal(t.source, path);
        if (t.nrows) {
            assert_close(em_table_at(&t, 0, 0), 1.0, 0.0);
            assert_int_equal(em_table_line(&t, 0), 1);
        }
        em_table_free(&t);
    }
    /* the empty range at 0 has no line at all; past the end, nothing */
    em_table t;
    em_error e;
    long nl = -1;
    assert_int_equal(em_csv_read_part(path, NULL, 0, 0, &t, &nl, &e), EM_OK);
    assert_int_equal(t.nrows, 0);
    assert_int_equal(nl, 0);
    em_table_free(&t);
    assert_int_equal(em_csv_read_part(path, NULL, 9, 20, &t, &nl, &e), EM_OK);
    assert_int_equal(t.nrows, 0);
    assert_int_equal(nl, 0);
    em_table_free(&t);
    unlink(path);

    /* a header (over two lines) and no rows: every part is empty, and
     * only the whole file's lack of rows is an error */
    const char *head = "\"h\nx\",y\r\n\n";
    temp_file_n(path, head, strlen(head));
    assert_int_equal(em_csv_read_file(path, NULL, &t, &e), EM_ERR_PARSE);
    assert_msg(&e, "no data rows");
    for (size_t np = 1; np <= 4; np++) {
        long sum = 0;
        for (size_t r = 0; r < np; r++) {
            assert_int_equal(em_csv_read_part(path, NULL, 10 * r / np,
                                              10 * (r + 1) / np, &t, &nl, &e),
                             EM_OK);
            assert_int_equal(t.nrows, 0);
            assert_string_equal(t.names[0], "h\nx");
            sum += nl;
            em_table_free(&t);
        }
        assert_int_equal(sum, 3);
    }
    unlink(path);
}

static void test_part_bad_arguments(void **state)
{
    (void)state;
    char path[64];
    temp_file_n(path, "a,b\n1,2\n", 8);
    em_table t;
    em_error e;
    long nl = 5;
    assert_int_equal(em_csv_read_part(path, NULL, 3, 2, &t, &nl, &e),
                     EM_ERR_ARG);
    assert_msg(&e, "cannot begin (byte 3) after it ends (byte 2)");
    assert_int_equal(nl, 0);
    assert_zeroed(&t);
    assert_int_equal(em_csv_read_part("-", NULL, 0, 8, &t, &nl, &e),
                     EM_ERR_ARG);
    assert_msg(&e, "standard input");
    em_csv_options o = {.symbols = "a"};
    assert_int_equal(em_csv_read_part(path, &o, 0, 8, &t, &nl, &e),
                     EM_ERR_ARG);
    assert_msg(&e, "symbols cannot be read in parts");
    em_csv_options bad = {.columns = "c"};
    assert_int_equal(em_csv_read_part(path, &bad, 0, 8, &t, &nl, &e),
                     EM_ERR_ARG);
    assert_msg(&e, "no column named \"c\"");
    assert_int_equal(em_csv_read_part(path, NULL, 0, 8, &t, NULL, &e),
                     EM_ERR_ARG);
    assert_int_equal(em_csv_read_part("/nonexistent/x.csv", NULL, 0, 8, &t,
                                      &nl, &e),
                     EM_ERR_IO);
    assert_msg(&e, "cannot open");
    assert_int_equal(em_csv_read_part("/tmp", NULL, 0, 8, &t, &nl, &e),
                     EM_ERR_IO);
    assert_msg(&e, "is a directory");
    assert_int_equal(em_csv_read_part("/dev/null", NULL, 0, 8, &t, &nl, &e),
                     EM_ERR_IO);
    assert_msg(&e, "not a regular file");
    unlink(path);
    temp_file_n(path, "", 0);
    assert_int_equal(em_csv_read_part(path, NULL, 0, 0, &t, &nl, &e),
                     EM_ERR_PARSE);
    assert_msg(&e, "no header row");
    unlink(path);
}

/* Several read pieces per part, with each kind of line end: the parts of
 * a file of about 3 MiB (mixed_text, with its quoted line breaks, cut
 * where none falls) match the whole; and lone-CR text read in pieces
 * matches the same text read at once. */
static void test_part_large(void **state)
{
    (void)state;
    size_t len;
    char *text = mixed_text(40000, -1, &len);
    char path[64];
    temp_file_n(path, text, len);
    em_csv_options o = {.columns = "x,y"};
    em_table whole;
    em_error e;
    assert_int_equal(em_csv_read_file(path, &o, &whole, &e), EM_OK);
    /* Each cut moves back to a line that starts a row: one that opens with
     * x, a number (the lines inside its quoted notes open with letters or
     * spaces). */
    unsigned long long cut[4] = {0, len / 3, 2 * len / 3, len};
    for (size_t r = 1; r < 3; r++) {
        size_t c = (size_t)cut[r];
        while (text[c - 1] != '\n' || strchr("-0123456789", text[c]) == NULL)
            c--;
        cut[r] = c;
    }
    check_parts(path, &o, cut, 3, &whole, count_line_ends(text, len));
    em_table_free(&whole);
    unlink(path);
    free(text);

    size_t rows = 300000, n = 0;
    char *cr = malloc(rows * 12 + 8);
    assert_non_null(cr);
    n += (size_t)sprintf(cr, "i,j\r");
    for (size_t i = 0; i < rows; i++)
        n += (size_t)sprintf(cr + n, "%zu,%zu\r%s", i, i % 7,
                             i % 5 ? "" : "\r");
    assert_true(n > (2u << 20));
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(cr, 1, n, f), n);
    rewind(f);
    em_table a, b;
    assert_int_equal(em_csv_read_stream(f, "cr", NULL, &a, &e), EM_OK);
    assert_int_equal(em_csv_read_buffer(cr, n, "cr", NULL, &b, &e), EM_OK);
    fclose(f);
    assert_int_equal(a.nrows, rows);
    assert_int_equal(b.nrows, rows);
    assert_memory_equal(a.values, b.values, rows * 2 * sizeof(double));
    for (size_t i = 0; i < rows; i += 1009)
        assert_int_equal(em_table_line(&a, i), em_table_line(&b, i));
    em_table_free(&a);
    em_table_free(&b);
    free(cr);
}

/* A CRLF whose '\r' ends the first read piece (1 MiB) is one line end:
 * the piece is not cut between the two bytes. */
static void test_pieces_cut_at_cr(void **state)
{
    (void)state;
    const size_t chunk = (size_t)1 << 20, rows = 700000;
    char *b = malloc(rows * 3 + 16);
    assert_non_null(b);
    /* rows "7\r\n" after "v\r\n" and a first row padded with spaces,
     * so that some row's '\r' falls at chunk - 1 */
    size_t pad = (chunk - 1 - 7) % 3, n = 0;
    n += (size_t)sprintf(b, "v\r\n7%*s\r\n", (int)pad, "");
    for (size_t i = 1; i < rows; i++)
        n += (size_t)sprintf(b + n, "7\r\n");
    assert_true(b[chunk - 1] == '\r' && b[chunk] == '\n');
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    rewind(f);
    em_table t;
    em_error e;
    assert_int_equal(em_csv_read_stream(f, "crlf", NULL, &t, &e), EM_OK);
    fclose(f);
    assert_int_equal(t.nrows, rows);
    assert_null(t.lines); /* no blank line crept in */
    assert_int_equal(em_table_line(&t, rows - 1), (long)rows + 1);
    em_table_free(&t);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_bad_delimiter),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_quoted_header_multiline),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_text_after_quote),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_numbers_exact),
        cmocka_unit_test(test_not_numbers),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_long_field),
        cmocka_unit_test(test_message_escaping),
        cmocka_unit_test(test_ragged),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_header_utf8),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_select_name_before_index),
        cmocka_unit_test(test_select_errors),
        cmocka_unit_test(test_null_error),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_read_stdin),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_read_stream_fmemopen),
        cmocka_unit_test(test_read_stream_large),
        cmocka_unit_test(test_pieces_match_whole),
        cmocka_unit_test(test_pieces_error_at_the_end),
        cmocka_unit_test(test_long_column_list_in_message),
        cmocka_unit_test(test_symbols_codes),
        cmocka_unit_test(test_symbols_all_selected),
        cmocka_unit_test(test_symbols_many),
        cmocka_unit_test(test_symbols_errors),
        cmocka_unit_test(test_batches_match_whole),
        cmocka_unit_test(test_part_random_files),
        cmocka_unit_test(test_part_fixed_files),
        cmocka_unit_test(test_part_quoted_line_break),
        cmocka_unit_test(test_part_errors),
        cmocka_unit_test(test_part_empty),
        cmocka_unit_test(test_part_bad_arguments),
        cmocka_unit_test(test_part_large),
        cmocka_unit_test(test_pieces_cut_at_cr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
