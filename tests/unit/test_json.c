/* Unit tests of the JSON reader and writer helpers (src/io/json.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emfit/json.h"
#include "test_util.h"

/* ---------------------------------------------------------------- helpers */

/* Parses len bytes copied into a buffer of exactly that size, so that the
 * sanitizers and valgrind catch any read past the end. */
static em_status parse_exact(const char *text, size_t len, em_json **out,
                             em_error *err)
{
    char *copy = malloc(len ? len : 1);
    em_status st;
    assert_non_null(copy);
    if (len)
        memcpy(copy, text, len);
    st = em_json_parse(copy, len, "t.json", out, err);
    free(copy);
    return st;
}

static em_json *parse_ok(const char *text)
{
    em_json *v = (em_json *)1;
    em_error err;
    em_error_clear(&err);
    if (parse_exact(text, strlen(text), &v, &err) != EM_OK) {
        print_error("parse of <%s> failed: %ld:%ld: %s\n", text, err.line,
                    err.col, err.msg);
        fail();
    }
    assert_non_null(v);
    return v;
}

/* Checks that text (len bytes) fails with EM_ERR_PARSE at line:col with a
 * message containing frag; failures point at the caller's line. */
static void check_error(const char *text, size_t len, long line, long col,
                        const char *frag, const char *file, int at)
{
    em_json *v = (em_json *)1;
    em_error err;
    em_status st = parse_exact(text, len, &v, &err);
    if (st != EM_ERR_PARSE || v != NULL || err.line != line ||
        err.col != col || strstr(err.msg, frag) == NULL ||
        strcmp(err.file, "t.json") != 0) {
        print_error("status %d, got %ld:%ld \"%s\", want %ld:%ld \"%s\"\n",
                    (int)st, err.line, err.col, err.msg, line, col, frag);
        _fail(file, at);
    }
}

#define expect_error(text, line, col, frag) \
    check_error((text), strlen(text), (line), (col), (frag), __FILE__, __LINE__)
#define expect_error_n(text, len, line, col, frag) \
    check_error((text), (len), (line), (col), (frag), __FILE__, __LINE__)

static double number_of(const char *text)
{
    em_json *v = parse_ok(text);
    double x;
    assert_int_equal(v->kind, EM_JSON_NUMBER);
    x = v->u.number;
    em_json_free(v);
    return x;
}

static void assert_pos(const em_json *v, long line, long col)
{
    assert_non_null(v);
    assert_int_equal(v->line, line);
    assert_int_equal(v->col, col);
}

static const char result_doc[] =
    "{\n"
    "  \"model\": \"bvn\",\n"
    "  \"converged\": true,\n"
    "  \"params\": {\"mu1\": 1.5, \"s1\": 2e-3, \"rho\": -0.25},\n"
    "  \"x\": null,\n"
    "  \"arr\": [1, [2, 3], {}]\n"
    "}\n";

/* -------------------------------------------------------- valid documents */

static void test_result_object(void **state)
{
    em_json *root = parse_ok(result_doc);
    const em_json *v, *params, *arr;
    (void)state;
    assert_int_equal(root->kind, EM_JSON_OBJECT);
    assert_pos(root, 1, 1);
    assert_int_equal(root->u.object.n, 5);
    assert_string_equal(root->u.object.keys[0], "model");
    assert_string_equal(root->u.object.keys[4], "arr");

    v = em_json_get(root, "model");
    assert_int_equal(v->kind, EM_JSON_STRING);
    assert_string_equal(v->u.string.s, "bvn");
    assert_int_equal(v->u.string.len, 3);
    assert_pos(v, 2, 12);

    v = em_json_get(root, "converged");
    assert_int_equal(v->kind, EM_JSON_BOOL);
    assert_int_equal(v->u.boolean, 1);
    assert_pos(v, 3, 16);

    params = em_json_get(root, "params");
    assert_int_equal(params->kind, EM_JSON_OBJECT);
    assert_int_equal(params->u.object.n, 3);
    assert_pos(params, 4, 13);
    assert_close(em_json_get(params, "mu1")->u.number, 1.5, 0.0);
    assert_pos(em_json_get(params, "mu1"), 4, 21);
    assert_close(em_json_get(params, "s1")->u.number, 2e-3, 0.0);
    assert_pos(em_json_get(params, "s1"), 4, 32);
    assert_close(em_json_get(params, "rho")->u.number, -0.25, 0.0);
    assert_pos(em_json_get(params, "rho"), 4, 45);

    v = em_json_get(root, "x");
    assert_int_equal(v->kind, EM_JSON_NULL);
    assert_pos(v, 5, 8);

    arr = em_json_get(root, "arr");
    assert_int_equal(arr->kind, EM_JSON_ARRAY);
    assert_int_equal(arr->u.array.n, 3);
    assert_pos(arr, 6, 10);
    assert_close(arr->u.array.items[0]->u.number, 1.0, 0.0);
    assert_pos(arr->u.array.items[0], 6, 11);
    v = arr->u.array.items[1];
    assert_int_equal(v->kind, EM_JSON_ARRAY);
    assert_int_equal(v->u.array.n, 2);
    assert_pos(v, 6, 14);
    assert_close(v->u.array.items[1]->u.number, 3.0, 0.0);
    assert_pos(v->u.array.items[1], 6, 18);
    v = arr->u.array.items[2];
    assert_int_equal(v->kind, EM_JSON_OBJECT);
    assert_int_equal(v->u.object.n, 0);
    assert_pos(v, 6, 22);
    em_json_free(root);
}

static void test_compact_object(void **state)
{
    em_json *root = parse_ok(
        "{\"model\":\"bvn\",\"converged\":true,\"params\":{\"mu1\":1.5,"
        "\"s1\":2e-3,\"rho\":-0.25},\"x\":null,\"arr\":[1,[2,3],{}]}");
    const em_json *params = em_json_get(root, "params");
    (void)state;
    assert_pos(em_json_get(root, "model"), 1, 10);
    assert_pos(em_json_get(root, "converged"), 1, 28);
    assert_pos(params, 1, 42);
    assert_pos(em_json_get(params, "rho"), 1, 69);
    assert_pos(em_json_get(root, "x"), 1, 80);
    assert_pos(em_json_get(root, "arr")->u.array.items[2], 1, 100);
    assert_int_equal(em_json_get(root, "converged")->u.boolean, 1);
    em_json_free(root);
}

static void test_get(void **state)
{
    em_json *root = parse_ok("{\"a\": 1, \"b\": false, \"\": 3}");
    em_json *arr = parse_ok("[1, 2]");
    const em_json *b = em_json_get(root, "b");
    (void)state;
    assert_non_null(b);
    assert_int_equal(b->kind, EM_JSON_BOOL);
    assert_int_equal(b->u.boolean, 0);
    assert_close(em_json_get(root, "")->u.number, 3.0, 0.0);
    assert_null(em_json_get(root, "c"));
    assert_null(em_json_get(root, "B"));
    assert_null(em_json_get(arr, "a"));
    assert_null(em_json_get(NULL, "a"));
    em_json_free(root);
    em_json_free(arr);
}

static void test_scalars_and_whitespace(void **state)
{
    em_json *v = parse_ok(" \t\r\n null \r\n\t");
    (void)state;
    assert_int_equal(v->kind, EM_JSON_NULL);
    assert_pos(v, 2, 2); /* CR LF is one line end */
    em_json_free(v);
    v = parse_ok("false");
    assert_int_equal(v->kind, EM_JSON_BOOL);
    assert_int_equal(v->u.boolean, 0);
    em_json_free(v);
    v = parse_ok("\"\"");
    assert_int_equal(v->kind, EM_JSON_STRING);
    assert_int_equal(v->u.string.len, 0);
    assert_string_equal(v->u.string.s, "");
    em_json_free(v);
    v = parse_ok("[ ]");
    assert_int_equal(v->u.array.n, 0);
    em_json_free(v);
}

static void test_bom(void **state)
{
    em_json *v = parse_ok("\xEF\xBB\xBF{\"a\": 1}");
    (void)state;
    assert_pos(v, 1, 1);
    assert_close(em_json_get(v, "a")->u.number, 1.0, 0.0);
    em_json_free(v);
    expect_error("\xEF\xBB\xBF@", 1, 1, "unexpected character '@'");
    expect_error("\xEF\xBB", 1, 1, "unexpected byte 0xEF");
}

static void test_large_array(void **state)
{
    size_t n = 10000, i, used = 0;
    char *text = malloc(n * 8 + 2);
    em_json *v;
    (void)state;
    assert_non_null(text);
    text[used++] = '[';
    for (i = 0; i < n; i++)
        used += (size_t)sprintf(text + used, "%s%zu", i ? "," : "", i);
    text[used++] = ']';
    text[used] = '\0';
    v = parse_ok(text);
    assert_int_equal(v->u.array.n, n);
    assert_close(v->u.array.items[n - 1]->u.number, (double)(n - 1), 0.0);
    em_json_free(v);
    free(text);
}

/* --------------------------------------------------------------- strings */

static void test_escapes(void **state)
{
    static const char want[] = "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xC3\xA9"
                               "\xF0\x9F\x98\x80z";
    em_json *v =
        parse_ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u00E9"
                 "\\ud83d\\ude00z\"");
    (void)state;
    assert_int_equal(v->kind, EM_JSON_STRING);
    assert_int_equal(v->u.string.len, sizeof want - 1);
    assert_memory_equal(v->u.string.s, want, sizeof want);
    em_json_free(v);

    /* \u0000 is kept, and the length counts it. */
    v = parse_ok("\"a\\u0000b\"");
    assert_int_equal(v->u.string.len, 3);
    assert_memory_equal(v->u.string.s, "a\0b", 4);
    em_json_free(v);

    /* Raw UTF-8 passes through: U+00E9, U+20AC, U+1F600, U+10FFFF. */
    v = parse_ok("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"");
    assert_int_equal(v->u.string.len, 13);
    assert_memory_equal(v->u.string.s,
                        "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF",
                        14);
    em_json_free(v);

    /* Keys that differ only after \u0000 are distinct. */
    v = parse_ok("{\"a\\u0000b\": 1, \"a\\u0000c\": 2}");
    assert_int_equal(v->u.object.n, 2);
    em_json_free(v);
}

static void test_string_errors(void **state)
{
    (void)state;
    expect_error("[\"abc", 1, 2, "unterminated string");
    expect_error("\"ab\\", 1, 1, "unterminated string");
    expect_error("[\"a\\q\"]", 1, 4, "invalid escape \\q");
    expect_error("\"\\x41\"", 1, 2, "invalid escape \\x");
    expect_error("[\"a\tb\"]", 1, 4, "control character in string");
    expect_error("\"a\nb\"", 1, 3, "control character in string");
    expect_error("\"\\u12g4\"", 1, 2, "invalid \\u escape");
    expect_error("\"\\u12", 1, 2, "invalid \\u escape");
    /* Lone surrogates: a high half alone or followed by a non-low half,
     * and a low half alone. */
    expect_error("[\"\\ud83d\"]", 1, 3, "lone surrogate");
    expect_error("\"x\\ud83d\\u0041\"", 1, 3, "lone surrogate");
    expect_error("\"\\ude00\"", 1, 2, "lone surrogate");
    expect_error("\"\\ud83d\\ud83d\"", 1, 2, "lone surrogate");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_error("[\"a\xFF\"]", 1, 4, "invalid UTF-8");
    expect_error("\"\xC0\x80\"", 1, 2, "invalid UTF-8");         /* overlong */
    expect_error("\"\xE0\x80\xAF\"", 1, 2, "invalid UTF-8");     /* overlong */
    expect_error("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8");     /* surrogate */
    expect_error("\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8"); /* >10FFFF */
    expect_error("\"ab\xE2\x82\"", 1, 4, "invalid UTF-8");       /* cut off */
    expect_error("\"\x80\"", 1, 2, "invalid UTF-8");             /* lone cont */
    expect_error("\"\xE2\x82", 1, 2, "invalid UTF-8");           /* at end */
    /* Outside a string a non-ASCII byte is just unexpected. */
    expect_error("\xC3\xA9", 1, 1, "unexpected byte 0xC3");
}

static void test_nul_byte(void **state)
{
    (void)state;
    expect_error_n("[1,\0]", 5, 1, 4, "NUL byte in input");
    expect_error_n("\"a\0\"", 4, 1, 3, "NUL byte in input");
    expect_error_n("{}\0", 3, 1, 3, "NUL byte in input");
    expect_error_n("\0", 1, 1, 1, "NUL byte in input");
}

/* ---------------------------------------------------------- syntax errors */

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}' in object");
    expect_error("[1 2]", 1, 4, "expected ',' or ']' in array");
    expect_error("{\"a\" 1}", 1, 6, "expected ':'");
    expect_error("{1: 2}", 1, 2, "expected a string key");
    expect_error("{\"a\": 1,}", 1, 9, "expected a string key");
    expect_error("[1,]", 1, 4, "unexpected character ']'");
    expect_error("[,1]", 1, 2, "unexpected character ','");
    expect_error("@", 1, 1, "unexpected character '@'");
    expect_error("'a'", 1, 1, "unexpected character '''");
    expect_error("tru", 1, 4, "unexpected end of input");
    expect_error("[trux]", 1, 5, "unexpected character 'x'");
    expect_error("nul1", 1, 4, "unexpected character '1'");
    expect_error("[NaN]", 1, 2, "NaN/Infinity are not JSON");
    expect_error("Infinity", 1, 1, "NaN/Infinity are not JSON");
    expect_error("[1, -Infinity]", 1, 5, "NaN/Infinity are not JSON");
}

static void test_end_of_input(void **state)
{
    (void)state;
    expect_error("", 1, 1, "unexpected end of input");
    expect_error("  \n ", 2, 2, "unexpected end of input");
    expect_error("{\"a\": ", 1, 7, "unexpected end of input");
    expect_error("[1,2", 1, 5, "unexpected end of input");
    expect_error("{\"a\": 1", 1, 8, "unexpected end of input");
    expect_error("{", 1, 2, "unexpected end of input");
    expect_error("-", 1, 2, "unexpected end of input");
}

static void test_trailing_text(void **state)
{
    (void)state;
    expect_error("{} x", 1, 4, "unexpected text after the JSON value");
    expect_error("1 2", 1, 3, "unexpected text after the JSON value");
    expect_error("[1]\n]", 2, 1, "unexpected text after the JSON value");
    expect_error("truex", 1, 5, "unexpected text after the JSON value");
}

static void test_line_ends(void **state)
{
    (void)state;
    /* CRLF line ends: the error is on line 3. */
    expect_error("{\r\n  \"a\": 1,\r\n  \"b\" 2\r\n}", 3, 7,
                 "expected ':' after key in object");
    /* LF, CR, CRLF, then LF followed by CR (two line ends). */
    expect_error("[1,\r2,\n3,\r\n4,\n\rx]", 6, 1, "unexpected character 'x'");
    expect_error("{\n\"a\": 1\n\"b\": 2}", 3, 1, "expected ',' or '}'");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    expect_error("{\"mu1\": 1, \"mu1\": 2}", 1, 12, "duplicate key \"mu1\"");
    expect_error("{\"a\": {\"b\": 1,\n \"b\": {}}}", 2, 2,
                 "duplicate key \"b\"");
    expect_error("{\"\\u0061\": 1, \"a\": 2}", 1, 15, "duplicate key \"a\"");
}

static void test_depth(void **state)
{
    char text[2 * 65 + 1];
    em_json *root;
    const em_json *v;
    int i;
    (void)state;
    for (i = 0; i < 64; i++) {
        text[i] = '[';
        text[64 + i] = ']';
    }
    text[128] = '\0';
    root = parse_ok(text);
    for (v = root, i = 1; i < 64; i++) {
        assert_int_equal(v->kind, EM_JSON_ARRAY);
        assert_int_equal(v->u.array.n, 1);
        v = v->u.array.items[0];
    }
    assert_int_equal(v->kind, EM_JSON_ARRAY);
    assert_int_equal(v->u.array.n, 0);
    assert_pos(v, 1, 64);
    em_json_free(root);

    for (i = 0; i < 65; i++) {
        text[i] = '[';
        text[65 + i] = ']';
    }
    text[130] = '\0';
    expect_error(text, 1, 65, "nesting deeper than 64 levels");

    /* Objects count too: 64 arrays around an object. */
    memset(text, '[', 64);
    strcpy(text + 64, "{\"a\":1}");
    expect_error(text, 1, 65, "nesting deeper than 64 levels");
}

/* --------------------------------------------------------------- numbers */

static void test_numbers(void **state)
{
    double x;
    (void)state;
    x = number_of("0");
    assert_close(x, 0.0, 0.0);
    assert_false(signbit(x));
    x = number_of("-0");
    assert_close(x, 0.0, 0.0);
    assert_true(signbit(x));
    x = number_of("1e-400"); /* underflow is fine: 0 */
    assert_close(x, 0.0, 0.0);
    assert_close(number_of("0.1"), 0.1, 0.0);
    assert_close(number_of("-12.5e+2"), -1250.0, 0.0);
    assert_close(number_of("1E2"), 100.0, 0.0);
    assert_close(number_of("4.9e-324"), 5e-324, 0.0);
    assert_close(number_of("1.7976931348623157e308"), DBL_MAX, 0.0);
    assert_close(number_of("123456789012345678901234567890"),
                 123456789012345678901234567890.0, 0.0);
    /* Longer than the on-stack copy buffer. */
    assert_close(number_of("0.100000000000000000000000000000000000000000000"
                           "000000000000000000000000000000000000000000000001"),
                 0.1, 0.0);
}

static void test_number_errors(void **state)
{
    (void)state;
    expect_error("01", 1, 1, "leading zero");
    expect_error("[-01]", 1, 3, "leading zero");
    expect_error("1.", 1, 3, "expected a digit after '.'");
    expect_error("[1.e5]", 1, 4, "expected a digit after '.'");
    expect_error(".5", 1, 1, "unexpected character '.'");
    expect_error("+1", 1, 1, "unexpected character '+'");
    expect_error("-a", 1, 2, "expected a digit after '-'");
    expect_error("1e", 1, 3, "expected a digit in exponent");
    expect_error("1e+", 1, 4, "expected a digit in exponent");
    expect_error("0x10", 1, 2, "unexpected text after the JSON value");
    expect_error("[1e999]", 1, 2, "number out of range");
    expect_error("\n  -1e999", 2, 3, "number out of range");
    expect_error("1.7976931348623159e308", 1, 1, "number out of range");
}

/* ---------------------------------------------------------------- writing */

static void check_format(double x, const char *want)
{
    char buf[32];
    em_json *v;
    assert_ptr_equal(em_format_double(buf, sizeof buf, x), buf);
    assert_string_equal(buf, want);
    if (!isfinite(x))
        return;
    assert_close(strtod(buf, NULL), x, 0.0);
    v = parse_ok(buf); /* valid JSON, same value */
    assert_close(v->u.number, x, 0.0);
    em_json_free(v);
}

static void test_format_double(void **state)
{
    char buf[32];
    (void)state;
    check_format(0.1, "0.1");
    check_format(1 / 3.0, "0.3333333333333333");
    check_format(1e-300, "1e-300");
    check_format(5e-324, "5e-324");
    check_format(1.7976931348623157e308, "1.7976931348623157e+308");
    check_format(-2.5, "-2.5");
    check_format(123456789012345678.0, "1.2345678901234568e+17");
    check_format(0.1 + 0.2, "0.30000000000000004");
    check_format(100.0, "100");
    check_format(1e20, "1e+20");
    check_format(0.0, "0");
    check_format(-0.0, "-0");
    check_format(NAN, "null");
    check_format(INFINITY, "null");
    check_format(-INFINITY, "null");
    assert_true(signbit(strtod(em_format_double(buf, sizeof buf, -0.0), NULL)));
}

/* Writes s with em_json_write_string and returns what was written. */
static char *written(const char *s)
{
    FILE *f = tmpfile();
    static char out[256];
    size_t n;
    assert_non_null(f);
    em_json_write_string(f, s);
    rewind(f);
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void test_write_string(void **state)
{
    (void)state;
    assert_string_equal(written("say \"hi\" \\ now\n\x01"),
                        "\"say \\\"hi\\\" \\\\ now\\n\\u0001\"");
    assert_string_equal(written("\t\r\b\f\x1f/\xC3\xA9"),
                        "\"\\t\\r\\b\\f\\u001f/\xC3\xA9\"");
    assert_string_equal(written(""), "\"\"");
}

static void test_write_read_round_trip(void **state)
{
    const char *s = "q\"b\\n\nt\tc\x01\x1f\xF0\x9F\x98\x80";
    em_json *v;
    (void)state;
    v = parse_ok(written(s));
    assert_int_equal(v->kind, EM_JSON_STRING);
    assert_string_equal(v->u.string.s, s);
    em_json_free(v);
}

/* ------------------------------------------------------------------ files */

/* Writes len bytes to a new temporary file; its name goes into path. */
static void make_temp(char *path, const char *text, size_t len)
{
    int fd;
    FILE *f;
    strcpy(path, "/tmp/test_json_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_parse_file(void **state)
{
    char path[64];
    em_json *v = NULL;
    em_error err;
    (void)state;
    make_temp(path, result_doc, strlen(result_doc));
    assert_int_equal(em_json_parse_file(path, &v, &err), EM_OK);
    assert_non_null(v);
    assert_string_equal(em_json_get(v, "model")->u.string.s, "bvn");
    assert_pos(em_json_get(em_json_get(v, "params"), "rho"), 4, 45);
    em_json_free(v);
    remove(path);

    make_temp(path, "{\n  \"a\": 1,,\n}", 14);
    v = (em_json *)1;
    assert_int_equal(em_json_parse_file(path, &v, &err), EM_ERR_PARSE);
    assert_null(v);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 10);
    remove(path);
}

/* Bigger than the first read buffer, so the read loop must grow it. */
static void test_parse_big_file(void **state)
{
    size_t n = 50000, i, used = 0;
    char *text = malloc(n * 8 + 2), path[64];
    em_json *v = NULL;
    em_error err;
    (void)state;
    assert_non_null(text);
    text[used++] = '[';
    for (i = 0; i < n; i++)
        used += (size_t)sprintf(text + used, "%s%zu", i ? "," : "", i);
    text[used++] = ']';
    assert_true(used > 3 * 65536);
    make_temp(path, text, used);
    free(text);
    assert_int_equal(em_json_parse_file(path, &v, &err), EM_OK);
    assert_int_equal(v->u.array.n, n);
    assert_close(v->u.array.items[n - 1]->u.number, (double)(n - 1), 0.0);
    em_json_free(v);
    remove(path);
}

static void test_parse_file_io_errors(void **state)
{
    const char *missing = "/nonexistent-dir/params.json";
    em_json *v = (em_json *)1;
    em_error err;
    (void)state;
    assert_int_equal(em_json_parse_file(missing, &v, &err), EM_ERR_IO);
    assert_null(v);
    assert_string_equal(err.file, missing);
    assert_non_null(strstr(err.msg, strerror(ENOENT)));

    v = (em_json *)1;
    assert_int_equal(em_json_parse_file("/tmp", &v, &err), EM_ERR_IO);
    assert_null(v);
    assert_string_equal(err.file, "/tmp");
    assert_non_null(strstr(err.msg, "is a directory"));
}

static void test_parse_stdin(void **state)
{
    char path[64];
    em_json *v = NULL;
    em_error err;
    (void)state;
    make_temp(path, "[1, 2.5]", 8);
    assert_non_null(freopen(path, "rb", stdin));
    assert_int_equal(em_json_parse_file("-", &v, &err), EM_OK);
    assert_int_equal(v->u.array.n, 2);
    assert_close(v->u.array.items[1]->u.number, 2.5, 0.0);
    em_json_free(v);
    remove(path);

    make_temp(path, "[1,\n x]", 7);
    assert_non_null(freopen(path, "rb", stdin));
    assert_int_equal(em_json_parse_file("-", &v, &err), EM_ERR_PARSE);
    assert_string_equal(err.file, "<stdin>");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 2);
    remove(path);
}

static void test_bad_arguments(void **state)
{
    em_json *v = (em_json *)1;
    em_error err;
    (void)state;
    assert_int_equal(em_json_parse(NULL, 3, "t", &v, &err), EM_ERR_ARG);
    assert_int_equal(em_json_parse(NULL, 0, "t", &v, &err), EM_ERR_PARSE);
    assert_null(v);
    /* A NULL err is allowed. */
    assert_int_equal(em_json_parse("[", 1, "t", &v, NULL), EM_ERR_PARSE);
    em_json_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_object),
        cmocka_unit_test(test_compact_object),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_scalars_and_whitespace),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_large_array),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_end_of_input),
        cmocka_unit_test(test_trailing_text),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_write_string),
        cmocka_unit_test(test_write_read_round_trip),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_parse_big_file),
        cmocka_unit_test(test_parse_file_io_errors),
        cmocka_unit_test(test_parse_stdin),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
