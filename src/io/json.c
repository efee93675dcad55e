/* A strict RFC 8259 JSON reader and small writing helpers (emfit/json.h).
 *
 * The reader works on a byte buffer that is not NUL-terminated, so every
 * look at the input is bounds-checked against the end pointer.  It keeps a
 * pointer to the start of the current line; a column is then simply the
 * byte offset from it.  Only white space between tokens can hold line ends
 * (a raw line end inside a string is an error), so the line counter is
 * advanced in exactly one place, skip_ws().
 */
#include "emfit/json.h"
#include "io/readall.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct parser {
    const unsigned char *p;          /* next byte to read */
    const unsigned char *end;        /* one past the last byte */
    const unsigned char *line_start; /* first byte of the current line */
    long line;
    const char *name;
    em_error *err;
} parser;

/* A growing byte buffer for decoded strings. */
typedef struct sbuf {
    char *b;
    size_t n, cap;
} sbuf;

static em_status parse_value(parser *ps, int depth, em_json **out);

/* ---------------------------------------------------------------- memory */

/* The next capacity of a growing array (geometric growth keeps appends
 * amortised O(1)); 0 when doubling would overflow. */
static size_t next_cap(size_t cap)
{
    if (cap == 0)
        return 8;
    return cap > SIZE_MAX / 2 ? 0 : cap * 2;
}

/* realloc to n elements of elem bytes, or NULL (ptr untouched) when n is 0,
 * the byte size overflows, or memory runs out. */
static void *grow_to(void *ptr, size_t n, size_t elem)
{
    if (n == 0 || n > SIZE_MAX / elem)
        return NULL;
    return realloc(ptr, n * elem);
}

/* Appends k bytes, always keeping room for a terminating NUL. */
static int sbuf_put(sbuf *sb, const void *src, size_t k)
{
    while (sb->cap - sb->n <= k) {
        size_t c = next_cap(sb->cap);
        char *t = grow_to(sb->b, c, 1);
        if (!t)
            return -1;
        sb->b = t;
        sb->cap = c;
    }
    if (k)
        memcpy(sb->b + sb->n, src, k);
    sb->n += k;
    return 0;
}

/* ---------------------------------------------------------------- errors */

static long col_of(const parser *ps, const unsigned char *at)
{
    return (long)(at - ps->line_start) + 1;
}

/* A parse error at byte `at`, which must lie on the current line. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static em_status fail(parser *ps, const unsigned char *at, const char *fmt, ...)
{
    char msg[EM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return em_error_at(ps->err, EM_ERR_PARSE, ps->name, ps->line,
                       col_of(ps, at), "%s", msg);
}

static em_status nomem(parser *ps)
{
    return em_error_set(ps->err, EM_ERR_NOMEM, "out of memory reading JSON");
}

/* An error at the current byte, which is not what the grammar wants there.
 * End of input and NUL bytes get their own messages; otherwise `expected`
 * (or, when NULL, a description of the byte) is the message. */
static em_status bad_char(parser *ps, const char *expected)
{
    const unsigned char *at = ps->p;
    if (at == ps->end)
        return fail(ps, at, "unexpected end of input");
    if (*at == 0)
        return fail(ps, at, "NUL byte in input");
    if (expected)
        return fail(ps, at, "%s", expected);
    if (*at > 0x20 && *at < 0x7f)
        return fail(ps, at, "unexpected character '%c'", *at);
    return fail(ps, at, "unexpected byte 0x%02X", (unsigned)*at);
}

/* ------------------------------------------------------------ white space */

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end) {
        unsigned char c = *ps->p;
        if (c == ' ' || c == '\t') {
            ps->p++;
            continue;
        }
        if (c != '\n' && c != '\r')
            return;
        ps->p++;
        /* CR LF is one line end; a lone CR or LF is one too. */
        if (c == '\r' && ps->p < ps->end && *ps->p == '\n')
            ps->p++;
        ps->line++;
        ps->line_start = ps->p;
    }
}

static int at_byte(const parser *ps, unsigned char c)
{
    return ps->p < ps->end && *ps->p == c;
}

/* --------------------------------------------------------------- strings */

/* Length of the well-formed UTF-8 sequence at s (Unicode Table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t n, i;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static size_t utf8_encode(unsigned long cp, unsigned char *u)
{
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits at s into *cp; -1 if they are not there. */
static int hex4(const unsigned char *s, const unsigned char *end,
                unsigned long *cp)
{
    unsigned long v = 0;
    int i;
    if (end - s < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + (unsigned long)d;
    }
    *cp = v;
    return 0;
}

/* A \uXXXX escape at ps->p, with the low half when it is a surrogate
 * pair; errors point at the backslash. */
static em_status parse_u_escape(parser *ps, sbuf *sb)
{
    const unsigned char *bs = ps->p, *q;
    unsigned long cp, lo;
    unsigned char u[4];
    if (hex4(bs + 2, ps->end, &cp))
        return fail(ps, bs, "invalid \\u escape (need 4 hex digits)");
    q = bs + 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(ps, bs, "lone surrogate \\u%04lX in string", cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
            hex4(q + 2, ps->end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return fail(ps, bs, "lone surrogate \\u%04lX in string", cp);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        q += 6;
    }
    if (sbuf_put(sb, u, utf8_encode(cp, u)))
        return nomem(ps);
    ps->p = q;
    return EM_OK;
}

/* The escape at ps->p (a backslash); open is the string's opening quote. */
static em_status parse_escape(parser *ps, const unsigned char *open, sbuf *sb)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const unsigned char *bs = ps->p;
    const char *hit;
    if (ps->end - bs < 2)
        return fail(ps, open, "unterminated string");
    if (bs[1] == 'u')
        return parse_u_escape(ps, sb);
    hit = bs[1] ? strchr(from, bs[1]) : NULL;
    if (hit) {
        if (sbuf_put(sb, &to[hit - from], 1))
            return nomem(ps);
        ps->p += 2;
        return EM_OK;
    }
    if (bs[1] > 0x20 && bs[1] < 0x7f)
        return fail(ps, bs, "invalid escape \\%c", bs[1]);
    return fail(ps, bs, "invalid escape: byte 0x%02X after '\\'",
                (unsigned)bs[1]);
}

/* One unescaped character (a whole UTF-8 sequence) at ps->p. */
static em_status copy_raw(parser *ps, sbuf *sb)
{
    const unsigned char *at = ps->p;
    size_t k;
    if (*at == 0)
        return fail(ps, at, "NUL byte in input");
    if (*at < 0x20)
        return fail(ps, at, "control character in string");
    k = *at < 0x80 ? 1 : utf8_seq_len(at, (size_t)(ps->end - at));
    if (k == 0)
        return fail(ps, at, "invalid UTF-8");
    if (sbuf_put(sb, at, k))
        return nomem(ps);
    ps->p += k;
    return EM_OK;
}

/* The string starting at the quote at ps->p, decoded into a new
 * NUL-terminated buffer (*len excludes the NUL; \u0000 may occur inside). */
static em_status parse_string(parser *ps, char **out, size_t *len)
{
    const unsigned char *open = ps->p++;
    sbuf sb = {NULL, 0, 0};
    em_status st = EM_OK;
    for (;;) {
        if (ps->p == ps->end) {
            st = fail(ps, open, "unterminated string");
            break;
        }
        if (*ps->p == '"') {
            ps->p++;
            break;
        }
        st = *ps->p == '\\' ? parse_escape(ps, open, &sb) : copy_raw(ps, &sb);
        if (st)
            break;
    }
    if (st == EM_OK && sbuf_put(&sb, "", 0)) /* allocates for "" */
        st = nomem(ps);
    if (st) {
        free(sb.b);
        return st;
    }
    sb.b[sb.n] = '\0';
    *out = sb.b;
    *len = sb.n;
    return EM_OK;
}

/* --------------------------------------------------- numbers and literals */

static int digit_at(const unsigned char *s, const unsigned char *end)
{
    return s < end && *s >= '0' && *s <= '9';
}

static const unsigned char *skip_digits(const unsigned char *s,
                                        const unsigned char *end)
{
    while (digit_at(s, end))
        s++;
    return s;
}

/* Checks the RFC 8259 number grammar, which is stricter than strtod's
 * (no "+1", ".5", "1.", "01", hex, "inf"), and sets *stop past it. */
static em_status scan_number(parser *ps, const unsigned char **stop)
{
    const unsigned char *s = ps->p, *end = ps->end;
    if (*s == '-')
        s++;
    if (!digit_at(s, end))
        return s == end ? fail(ps, s, "unexpected end of input")
                        : fail(ps, s, "expected a digit after '-'");
    if (*s == '0' && digit_at(s + 1, end))
        return fail(ps, s, "leading zero in number");
    s = skip_digits(s, end);
    if (s < end && *s == '.') {
        if (!digit_at(++s, end))
            return fail(ps, s, "expected a digit after '.' in number");
        s = skip_digits(s, end);
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (!digit_at(s, end))
            return fail(ps, s, "expected a digit in exponent");
        s = skip_digits(s, end);
    }
    *stop = s;
    return EM_OK;
}

static em_status parse_number(parser *ps, em_json *v)
{
    const unsigned char *start = ps->p, *stop = start;
    char small[64], *buf = small;
    size_t n;
    double x;
    em_status st;
    if (ps->end - start >= 2 && start[0] == '-' && start[1] == 'I')
        return fail(ps, start, "NaN/Infinity are not JSON");
    st = scan_number(ps, &stop);
    if (st)
        return st;
    /* strtod needs a NUL-terminated copy: the input is not terminated. */
    n = (size_t)(stop - start);
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return nomem(ps);
    memcpy(buf, start, n);
    buf[n] = '\0';
    x = strtod(buf, NULL); /* correctly rounded; underflow gives 0 or a
                              subnormal, which is fine */
    if (buf != small)
        free(buf);
    if (isinf(x))
        return fail(ps, start, "number out of range");
    v->u.number = x;
    ps->p = stop;
    return EM_OK;
}

static em_status parse_literal(parser *ps, const char *word)
{
    size_t avail = (size_t)(ps->end - ps->p), i;
    for (i = 0; word[i]; i++) {
        if (i == avail || ps->p[i] != (unsigned char)word[i]) {
            ps->p += i;
            return bad_char(ps, NULL);
        }
    }
    ps->p += i;
    return EM_OK;
}

/* ---------------------------------------------------- arrays and objects */

static int push_item(em_json *v, size_t *cap, em_json *item)
{
    if (v->u.array.n == *cap) {
        size_t c = next_cap(*cap);
        em_json **t = grow_to(v->u.array.items, c, sizeof *t);
        if (!t)
            return -1;
        v->u.array.items = t;
        *cap = c;
    }
    v->u.array.items[v->u.array.n++] = item;
    return 0;
}

/* ps->p is at '['; depth counts the containers around this one. */
static em_status parse_array(parser *ps, int depth, em_json *v)
{
    size_t cap = 0;
    if (depth >= MAX_DEPTH)
        return fail(ps, ps->p, "nesting deeper than %d levels", MAX_DEPTH);
    ps->p++;
    skip_ws(ps);
    if (at_byte(ps, ']')) {
        ps->p++;
        return EM_OK;
    }
    for (;;) {
        em_json *item;
        em_status st = parse_value(ps, depth + 1, &item);
        if (st)
            return st;
        if (push_item(v, &cap, item)) {
            em_json_free(item);
            return nomem(ps);
        }
        skip_ws(ps);
        if (!at_byte(ps, ',') && !at_byte(ps, ']'))
            return bad_char(ps, "expected ',' or ']' in array");
        if (*ps->p++ == ']')
            return EM_OK;
    }
}

/* Key lengths, kept while an object is parsed so that duplicate keys are
 * compared exactly even when they hold \u0000. */
typedef struct keylens {
    size_t *len;
    size_t cap;
} keylens;

static int has_key(const em_json *v, const keylens *kl, const char *key,
                   size_t len)
{
    size_t i;
    for (i = 0; i < v->u.object.n; i++)
        if (kl->len[i] == len && memcmp(v->u.object.keys[i], key, len) == 0)
            return 1;
    return 0;
}

static int push_member(em_json *v, keylens *kl, char *key, size_t len,
                       em_json *val)
{
    size_t n = v->u.object.n;
    if (n == kl->cap) {
        /* The three arrays may end up with different sizes if one realloc
         * fails; harmless, as only the first n entries are ever used. */
        size_t c = next_cap(kl->cap);
        char **k = grow_to(v->u.object.keys, c, sizeof *k);
        em_json **vals;
        size_t *l;
        if (!k)
            return -1;
        v->u.object.keys = k;
        if (!(vals = grow_to(v->u.object.values, c, sizeof *vals)))
            return -1;
        v->u.object.values = vals;
        if (!(l = grow_to(kl->len, c, sizeof *l)))
            return -1;
        kl->len = l;
        kl->cap = c;
    }
    v->u.object.keys[n] = key;
    v->u.object.values[n] = val;
    kl->len[n] = len;
    v->u.object.n = n + 1;
    return 0;
}

/* The ':' and the value after an object key. */
static em_status parse_colon_value(parser *ps, int depth, em_json **val)
{
    skip_ws(ps);
    if (!at_byte(ps, ':'))
        return bad_char(ps, "expected ':' after key in object");
    ps->p++;
    return parse_value(ps, depth, val);
}

/* One "key": value pair of the object v. */
static em_status parse_member(parser *ps, int depth, em_json *v, keylens *kl)
{
    const unsigned char *at;
    char *key;
    size_t len = 0;
    em_json *val;
    em_status st;
    skip_ws(ps);
    at = ps->p;
    if (!at_byte(ps, '"'))
        return bad_char(ps, "expected a string key in object");
    if ((st = parse_string(ps, &key, &len)))
        return st;
    if (has_key(v, kl, key, len))
        st = fail(ps, at, "duplicate key \"%s\"", key);
    else
        st = parse_colon_value(ps, depth + 1, &val);
    if (!st && push_member(v, kl, key, len, val)) {
        em_json_free(val);
        st = nomem(ps);
    }
    if (st)
        free(key);
    return st;
}

/* ps->p is at '{'; depth counts the containers around this one. */
static em_status parse_object(parser *ps, int depth, em_json *v)
{
    keylens kl = {NULL, 0};
    em_status st;
    if (depth >= MAX_DEPTH)
        return fail(ps, ps->p, "nesting deeper than %d levels", MAX_DEPTH);
    ps->p++;
    skip_ws(ps);
    if (at_byte(ps, '}')) {
        ps->p++;
        return EM_OK;
    }
    for (;;) {
        if ((st = parse_member(ps, depth, v, &kl)))
            break;
        skip_ws(ps);
        if (!at_byte(ps, ',') && !at_byte(ps, '}')) {
            st = bad_char(ps, "expected ',' or '}' in object");
            break;
        }
        if (*ps->p++ == '}')
            break;
    }
    free(kl.len);
    return st;
}

/* ---------------------------------------------------------------- values */

/* Fills v from the value at ps->p.  v is zeroed; on failure it holds only
 * what em_json_free can release. */
static em_status parse_body(parser *ps, int depth, em_json *v)
{
    unsigned char c;
    if (ps->p == ps->end)
        return bad_char(ps, NULL);
    c = *ps->p;
    if (c == '-' || (c >= '0' && c <= '9')) {
        v->kind = EM_JSON_NUMBER;
        return parse_number(ps, v);
    }
    switch (c) {
    case '{':
        v->kind = EM_JSON_OBJECT;
        return parse_object(ps, depth, v);
    case '[':
        v->kind = EM_JSON_ARRAY;
        return parse_array(ps, depth, v);
    case '"':
        v->kind = EM_JSON_STRING;
        return parse_string(ps, &v->u.string.s, &v->u.string.len);
    case 't':
        v->kind = EM_JSON_BOOL;
        v->u.boolean = 1;
        return parse_literal(ps, "true");
    case 'f':
        v->kind = EM_JSON_BOOL;
        return parse_literal(ps, "false");
    case 'n':
        return parse_literal(ps, "null"); /* kind is already EM_JSON_NULL */
    case 'N':
    case 'I':
        return fail(ps, ps->p, "NaN/Infinity are not JSON");
    default:
        return bad_char(ps, NULL);
    }
}

static em_status parse_value(parser *ps, int depth, em_json **out)
{
    em_json *v;
    em_status st;
    skip_ws(ps);
    if (!(v = calloc(1, sizeof *v)))
        return nomem(ps);
    v->kind = EM_JSON_NULL;
    v->line = ps->line;
    v->col = col_of(ps, ps->p);
    if ((st = parse_body(ps, depth, v))) {
        em_json_free(v);
        return st;
    }
    *out = v;
    return EM_OK;
}

em_status em_json_parse(const char *text, size_t len, const char *name,
                        em_json **out, em_error *err)
{
    parser ps;
    em_json *v;
    em_status st;
    if (!out || (!text && len))
        return em_error_set(err, EM_ERR_ARG, "em_json_parse: bad arguments");
    *out = NULL;
    ps.p = (const unsigned char *)(text ? text : ""); /* no NULL + 0 */
    ps.end = ps.p + len;
    /* A byte order mark is not part of the text: columns start after it. */
    if (len >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    ps.line_start = ps.p;
    ps.line = 1;
    ps.name = name;
    ps.err = err;
    if ((st = parse_value(&ps, 0, &v)))
        return st;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        em_json_free(v);
        return *ps.p ? fail(&ps, ps.p, "unexpected text after the JSON value")
                     : fail(&ps, ps.p, "NUL byte in input");
    }
    *out = v;
    return EM_OK;
}

/* ------------------------------------------------------------------ files */

em_status em_json_parse_file(const char *path, em_json **out, em_error *err)
{
    if (!path || !out)
        return em_error_set(err, EM_ERR_ARG,
                            "em_json_parse_file: bad arguments");
    *out = NULL;
    const char *name;
    char *buf = NULL;
    size_t len = 0;
    em_status st = em_read_path(path, &name, &buf, &len, err);
    if (st != EM_OK)
        return st;
    st = em_json_parse(buf, len, name, out, err);
    free(buf);
    return st;
}

/* ------------------------------------------------------- trees and output */

void em_json_free(em_json *v)
{
    size_t i;
    if (!v)
        return;
    switch (v->kind) {
    case EM_JSON_STRING:
        free(v->u.string.s);
        break;
    case EM_JSON_ARRAY:
        for (i = 0; i < v->u.array.n; i++)
            em_json_free(v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case EM_JSON_OBJECT:
        for (i = 0; i < v->u.object.n; i++) {
            free(v->u.object.keys[i]);
            em_json_free(v->u.object.values[i]);
        }
        free(v->u.object.keys);
        free(v->u.object.values);
        break;
    default:
        break;
    }
    free(v);
}

const em_json *em_json_get(const em_json *v, const char *key)
{
    size_t i;
    if (!v || !key || v->kind != EM_JSON_OBJECT)
        return NULL;
    for (i = 0; i < v->u.object.n; i++)
        if (strcmp(v->u.object.keys[i], key) == 0)
            return v->u.object.values[i];
    return NULL;
}

static void write_escaped(FILE *f, unsigned char c)
{
    switch (c) {
    case '"': fputs("\\\"", f); return;
    case '\\': fputs("\\\\", f); return;
    case '\n': fputs("\\n", f); return;
    case '\t': fputs("\\t", f); return;
    case '\r': fputs("\\r", f); return;
    case '\b': fputs("\\b", f); return;
    case '\f': fputs("\\f", f); return;
    default: break;
    }
    if (c < 0x20)
        fprintf(f, "\\u%04x", (unsigned)c);
    else
        fputc(c, f);
}

void em_json_write_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    for (; *p; p++)
        write_escaped(f, *p);
    fputc('"', f);
}

static int round_trips(char *buf, size_t size, double x, int digits)
{
    snprintf(buf, size, "%.*g", digits, x);
    return strtod(buf, NULL) == x;
}

char *em_format_double(char *buf, size_t size, double x)
{
    int digits;
    if (!buf || size == 0)
        return buf;
    if (!isfinite(x)) {
        snprintf(buf, size, "null");
        return buf;
    }
    /* A normal double carries more than 15 significant digits, so when the
     * 15-digit form reads back, no shorter one does that %.15g would not
     * already print (%g drops trailing zeros).  Subnormals carry fewer
     * digits, so for them search from 1 (5e-324, not 4.94065645841247e-324). */
    digits = fabs(x) < DBL_MIN ? 1 : 15;
    for (; digits < 17; digits++)
        if (round_trips(buf, size, x, digits))
            return buf;
    snprintf(buf, size, "%.17g", x); /* 17 digits always read back */
    return buf;
}

void em_json_write_numbers(FILE *f, const double *v, size_t n)
{
    char buf[40];
    fputc('[', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? ", " : "",
                em_format_double(buf, sizeof buf, v[i]));
    fputc(']', f);
}
