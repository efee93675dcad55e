/* CSV reader: see include/emfit/csv.h for the accepted format.
 *
 * A file is read in pieces of about CHUNK bytes, and each piece is cut
 * after its last complete record, so memory holds the parsed table and one
 * piece, not the text of the whole file.  A small hand-written lexer scans
 * the records once, tracking the physical line and the offset at which
 * that line starts (so a column is pos - line_start + 1).  The buffer is
 * not NUL-terminated: every access is guarded by pos < len.  Numbers are
 * converted as they are scanned (io/decimal.h), with strtod behind it.  A
 * UTF-8 byte order mark is not counted in the columns of the first line.
 *
 * One part of a file (em_csv_read_part) is the same parse with the input
 * cut to a byte range: the header is read from the start, then the reader
 * seeks to the part's first line start and treats its last one as the end
 * of the input.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64 /* fseeko past 2 GiB on 32-bit systems */
#endif
#include "emfit/csv.h"
#include "core/text.h"
#include "io/decimal.h"
#include "io/readall.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define MAX_NUMBER_LEN 400          /* longest field parsed as a number */
#define QUOTE_MAX 40                /* bytes of input text quoted in messages */
#define QUOTE_BUF (QUOTE_MAX * 4 + 8) /* room for QUOTE_MAX \xHH escapes */
#define LIST_BUF 256                /* "columns: a, b, ..." in messages */
#define CHUNK ((size_t)1 << 20)     /* bytes read at a time */

/* One field as the lexer saw it.  data/n is its content without the
 * surrounding quotes and with "" unescaped (when it was kept). */
typedef struct field {
    const char *data;
    size_t n;
    int quoted;
    long line, col;     /* where the field starts */
    size_t line_start;  /* offset of the start of that line */
    size_t raw_start;   /* offset of the first byte, quote included */
    size_t raw_end;     /* offset just past the last byte, quote included */
} field;

typedef struct parser {
    const char *buf;
    size_t len, pos;        /* len: the end of the complete records */
    FILE *in;               /* NULL: buf holds the whole input */
    char *own;              /* the read buffer when reading from in */
    size_t filled, cap;     /* bytes in it, and its size */
    int eof;                /* no more input after buf[0, filled) */
    long line;
    size_t line_start;
    char delim;
    const char *name;
    em_error *err;
    char *scratch;          /* unescaped content of quoted fields */
    size_t scratch_cap;
    char *hnames;           /* header names, each NUL-terminated */
    size_t hnames_len, hnames_cap;
    size_t *hoff;           /* offset of each header name in hnames */
    size_t nhead, hoff_cap;
    long header_end_line;
    size_t *sel;            /* header index of each selected column */
    size_t nsel;
    size_t *map;            /* per header column: output column + 1, or 0 */
    em_table *t;
    size_t row_cap;         /* rows allocated in t->values */
    size_t line_cap;        /* ... and in t->lines, once rows skip lines */
    size_t row_bytes;       /* bytes of one row of t->values */
    unsigned char *is_sym;  /* per output column: read as symbols */
    struct sym_index *idx;  /* per output column: its symbols, hashed */
    em_csv_batch_fn batch;  /* NULL: keep every row in t */
    void *batch_ctx;
    size_t batch_bytes;     /* values handed to batch at a time ... */
    size_t batch_rows;      /* ... as rows, once the row size is known */
    size_t done_rows;       /* rows already handed over */
    int limited;            /* the input ends after left more bytes ... */
    unsigned long long left; /* ... (one part of a file: em_csv_read_part) */
    int part;               /* a part: having no rows is not an error */
} parser;

/* The symbols of one column met so far: an open-addressing hash table of
 * level index + 1 (0 marks a free slot), and the capacity of the table's
 * levels array. */
typedef struct sym_index {
    size_t *slot;
    size_t nslots; /* a power of two, at least twice the levels */
    size_t level_cap;
} sym_index;

/* ---- memory ---------------------------------------------------------- */

/* Returns ptr grown to hold at least need elements of size el (capacity
 * doubling, stored in *cap), or NULL on overflow or allocation failure, in
 * which case ptr is untouched.  need must be > 0. */
static void *grow(void *ptr, size_t *cap, size_t need, size_t el)
{
    if (need <= *cap)
        return ptr;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return NULL;
        c *= 2;
    }
    if (c > SIZE_MAX / el)
        return NULL;
    void *q = realloc(ptr, c * el);
    if (q)
        *cap = c;
    return q;
}

static em_status nomem(parser *p)
{
    return em_error_at(p->err, EM_ERR_NOMEM, p->name, 0, 0, "out of memory");
}

/* ---- message helpers ----------------------------------------------- */

/* Escapes one byte for a message into e (at least 5 bytes).  Bytes >= 0x80
 * pass through when utf8 is set (the text is known to be valid UTF-8). */
static void escape_byte(unsigned char c, int utf8, char *e)
{
    static const char hex[] = "0123456789ABCDEF";
    if (c == '"' || c == '\\') {
        e[0] = '\\', e[1] = (char)c, e[2] = '\0';
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
        e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
        e[4] = '\0';
    } else {
        e[0] = (char)c, e[1] = '\0';
    }
}

/* Writes at most QUOTE_MAX bytes of s[0..n) into dst as printable text,
 * with "..." when cut short.  size must be at least 4. */
static void quote_text(char *dst, size_t size, const char *s, size_t n,
                       int utf8)
{
    size_t m = n > QUOTE_MAX ? QUOTE_MAX : n;
    /* Do not cut a UTF-8 sequence in two. */
    while (utf8 && m > 0 && m < n && ((unsigned char)s[m] & 0xC0) == 0x80)
        m--;
    size_t o = 0, i = 0;
    for (; i < m; i++) {
        char e[5];
        escape_byte((unsigned char)s[i], utf8, e);
        size_t el = strlen(e);
        if (o + el + 4 > size)
            break;
        memcpy(dst + o, e, el);
        o += el;
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static const char *hname(const parser *p, size_t k)
{
    return p->hnames + p->hoff[k];
}

/* Writes the header names as "a, b, c" (cut short with "...") into dst.
 * Each name is added only while room stays for a later ", ...\0" (6
 * bytes), so the cut never runs past size (size >= 6). */
static void column_list(const parser *p, char *dst, size_t size)
{
    size_t o = 0;
    dst[0] = '\0';
    for (size_t k = 0; k < p->nhead; k++) {
        char q[QUOTE_BUF];
        quote_text(q, sizeof q, hname(p, k), strlen(hname(p, k)), 1);
        size_t sep = k ? 2 : 0, ql = strlen(q);
        if (o + sep + ql + 6 > size) {
            memcpy(dst + o, sep ? ", ..." : "...", sep + 3);
            dst[o + sep + 3] = '\0';
            return;
        }
        memcpy(dst + o, ", ", sep);
        memcpy(dst + o + sep, q, ql + 1);
        o += sep + ql;
    }
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* ---- lexer ----------------------------------------------------------- */

static long col_of(const parser *p, size_t off)
{
    size_t c = off - p->line_start + 1;
    return c > LONG_MAX ? LONG_MAX : (long)c;
}

static int is_eol(const parser *p)
{
    return p->pos < p->len
           && (p->buf[p->pos] == '\n' || p->buf[p->pos] == '\r');
}

static int at_row_end(const parser *p)
{
    return p->pos >= p->len || is_eol(p);
}

/* Consumes the line end at pos: LF, CRLF or a lone CR. */
static void newline(parser *p)
{
    if (p->buf[p->pos] == '\r' && p->pos + 1 < p->len
        && p->buf[p->pos + 1] == '\n')
        p->pos++;
    p->pos++;
    p->line++;
    p->line_start = p->pos;
}

static void skip_blank_lines(parser *p)
{
    while (is_eol(p))
        newline(p);
}

static em_status nul_error(parser *p)
{
    return em_error_at(p->err, EM_ERR_PARSE, p->name, p->line,
                       col_of(p, p->pos), "NUL byte in input");
}

/* Appends buf[from..to) to the scratch buffer, which holds *used bytes. */
static em_status append(parser *p, size_t *used, size_t from, size_t to)
{
    size_t n = to - from;
    if (!n)
        return EM_OK;
    char *s = grow(p->scratch, &p->scratch_cap, *used + n, 1);
    if (!s)
        return nomem(p);
    p->scratch = s;
    memcpy(s + *used, p->buf + from, n);
    *used += n;
    return EM_OK;
}

/* After a closing quote only a delimiter, a line end or the end may come. */
static em_status after_quote(parser *p)
{
    if (p->pos >= p->len || is_eol(p) || p->buf[p->pos] == p->delim)
        return EM_OK;
    if (p->buf[p->pos] == '\0')
        return nul_error(p);
    return em_error_at(p->err, EM_ERR_PARSE, p->name, p->line,
                       col_of(p, p->pos),
                       "unexpected text after the closing quote of a field");
}

/* Scans a quoted field; pos is at the opening quote.  Content is copied
 * (unescaped) only when keep is set and the field contains "". */
static em_status read_quoted(parser *p, int keep, field *f)
{
    size_t open = p->pos++, seg = p->pos, used = 0;
    int escaped = 0;
    em_status st;
    for (;;) {
        if (p->pos >= p->len)
            return em_error_at(p->err, EM_ERR_PARSE, p->name, f->line,
                               f->col, "unterminated quoted field "
                               "(the quote opened here is never closed)");
        char c = p->buf[p->pos];
        if (c == '"' && p->pos + 1 < p->len && p->buf[p->pos + 1] == '"') {
            if (keep && (st = append(p, &used, seg, p->pos + 1)) != EM_OK)
                return st;
            escaped = 1;
            p->pos += 2;
            seg = p->pos;
        } else if (c == '"') {
            break;
        } else if (c == '\0') {
            return nul_error(p);
        } else if (c == '\n' || c == '\r') {
            newline(p);
        } else {
            p->pos++;
        }
    }
    if (!escaped) {
        f->data = p->buf + open + 1;
        f->n = p->pos - open - 1;
    } else if (keep) {
        if ((st = append(p, &used, seg, p->pos)) != EM_OK)
            return st;
        f->data = p->scratch;
        f->n = used;
    }
    p->pos++;
    f->raw_end = p->pos;
    return after_quote(p);
}

static em_status read_unquoted(parser *p, field *f)
{
    size_t start = p->pos;
    while (p->pos < p->len) {
        char c = p->buf[p->pos];
        if (c == p->delim || c == '\n' || c == '\r')
            break;
        if (c == '\0')
            return nul_error(p);
        p->pos++;
    }
    f->data = p->buf + start;
    f->n = p->pos - start;
    f->raw_end = p->pos;
    return EM_OK;
}

/* Reads one field; on return pos is at the delimiter, a line end or the
 * end of the input. */
static em_status read_field(parser *p, int keep, field *f)
{
    f->data = NULL;
    f->n = 0;
    f->line = p->line;
    f->col = col_of(p, p->pos);
    f->line_start = p->line_start;
    f->raw_start = p->pos;
    f->quoted = p->pos < p->len && p->buf[p->pos] == '"';
    return f->quoted ? read_quoted(p, keep, f) : read_unquoted(p, f);
}

/* ---- reading in pieces ---------------------------------------------- */

/* The end of the last complete record in b[0, n): just past a line end
 * that the lexer would not read as inside a quoted field (a quote opens
 * one only at the start of a field); 0 when there is none yet.  A '\r' in
 * the last byte is not a cut, since a '\n' may follow it in the next
 * read. */
static size_t record_cut(const char *b, size_t n, char delim)
{
    if (!memchr(b, '"', n)) {
        /* going backwards, a '\r' met here is never followed by '\n' */
        for (size_t i = n; i-- > 0;)
            if (b[i] == '\n' || (b[i] == '\r' && i + 1 < n))
                return i + 1;
        return 0;
    }
    size_t cut = 0;
    int start = 1, quoted = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (quoted) {
            if (c == '"' && i + 1 < n && b[i + 1] == '"')
                i++;
            else if (c == '"')
                quoted = 0;
        } else if (c == '"' && start) {
            quoted = 1;
            start = 0;
        } else {
            start = c == delim || c == '\n' || c == '\r';
            if (c == '\n' || (c == '\r' && i + 1 < n))
                cut = i + 1; /* a '\n' after the '\r' moves it on */
        }
    }
    return cut;
}

/* Moves the unparsed rest (pos is at a record's start) to the front and
 * reads until the buffer ends in a complete record or the input ends. */
static em_status refill(parser *p)
{
    size_t keep = p->filled - p->pos;
    memmove(p->own, p->own + p->pos, keep);
    p->filled = keep;
    p->line_start = p->line_start >= p->pos ? p->line_start - p->pos : 0;
    p->pos = 0;
    for (;;) {
        if (p->filled == p->cap) {
            size_t cap = p->cap;
            char *b = grow(p->own, &cap, p->cap + 1, 1);
            if (!b)
                return nomem(p);
            p->own = b, p->cap = cap;
        }
        size_t got, want = p->cap - p->filled;
        if (p->limited && want > p->left)
            want = (size_t)p->left;
        em_status st = em_read_some(p->in, p->name, p->own + p->filled, want,
                                    &got, &p->eof, p->err);
        if (st != EM_OK)
            return st;
        p->filled += got;
        if (p->limited) {
            p->left -= got;
            p->eof |= p->left == 0;
        }
        p->buf = p->own;
        p->len = p->eof ? p->filled : record_cut(p->own, p->filled, p->delim);
        if (p->eof || p->len)
            return EM_OK;
    }
}

/* Skips blank lines, reading more when the buffer runs out; *end is set
 * at the end of the input. */
static em_status next_record(parser *p, int *end)
{
    for (;;) {
        skip_blank_lines(p);
        *end = p->pos >= p->len && p->eof;
        if (p->pos < p->len || p->eof)
            return EM_OK;
        em_status st = refill(p);
        if (st != EM_OK)
            return st;
    }
}

/* ---- header ---------------------------------------------------------- */

/* Returns the offset of the first byte of the first invalid UTF-8 sequence
 * in s[0..n) (overlong forms, surrogates and values past U+10FFFF are
 * invalid), or n. */
static size_t utf8_invalid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return i;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += len;
    }
    return n;
}

/* Checks the raw bytes of a header field.  Quotes are ASCII, so the raw
 * bytes are valid UTF-8 exactly when the unescaped name is, and checking
 * them gives the position of the bad byte in the input directly. */
static em_status check_utf8(parser *p, const field *f)
{
    const unsigned char *raw = (const unsigned char *)p->buf + f->raw_start;
    size_t bad = f->raw_start + utf8_invalid(raw, f->raw_end - f->raw_start);
    if (bad == f->raw_end)
        return EM_OK;
    /* A quoted name may span lines: find the line of the bad byte. */
    long line = f->line;
    size_t ls = f->line_start;
    for (size_t i = f->raw_start; i < bad; i++) {
        char c = p->buf[i];
        if (c == '\n' || (c == '\r' && p->buf[i + 1] != '\n')) {
            line++;
            ls = i + 1;
        }
    }
    return em_error_at(p->err, EM_ERR_PARSE, p->name, line,
                       (long)(bad - ls + 1),
                       "column name is not valid UTF-8 (byte 0x%02X)",
                       (unsigned)p->buf[bad] & 0xFFu);
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static em_status add_name(parser *p, const char *s, size_t n)
{
    char *b = grow(p->hnames, &p->hnames_cap, p->hnames_len + n + 1, 1);
    if (!b)
        return nomem(p);
    p->hnames = b;
    size_t *o = grow(p->hoff, &p->hoff_cap, p->nhead + 1, sizeof *o);
    if (!o)
        return nomem(p);
    p->hoff = o;
    memcpy(b + p->hnames_len, s, n);
    b[p->hnames_len + n] = '\0';
    o[p->nhead++] = p->hnames_len;
    p->hnames_len += n + 1;
    return EM_OK;
}

/* Reads the header row; unquoted names are trimmed of spaces and tabs. */
static em_status read_header(parser *p)
{
    for (;;) {
        field f;
        em_status st = read_field(p, 1, &f);
        if (st == EM_OK)
            st = check_utf8(p, &f);
        if (st != EM_OK)
            return st;
        if (!f.quoted)
            trim(&f.data, &f.n);
        if ((st = add_name(p, f.data, f.n)) != EM_OK)
            return st;
        if (at_row_end(p))
            break;
        p->pos++;
    }
    p->header_end_line = p->line;
    if (p->pos < p->len)
        newline(p);
    return EM_OK;
}

/* ---- column selection ------------------------------------------------ */

static em_status select_all(parser *p)
{
    p->sel = calloc(p->nhead, sizeof *p->sel);
    p->map = calloc(p->nhead, sizeof *p->map);
    if (!p->sel || !p->map)
        return nomem(p);
    for (size_t k = 0; k < p->nhead; k++) {
        p->sel[k] = k;
        p->map[k] = k + 1;
    }
    p->nsel = p->nhead;
    return EM_OK;
}

static em_status no_such_name(parser *p, const char *tok, size_t n)
{
    char q[QUOTE_BUF], list[LIST_BUF];
    quote_text(q, sizeof q, tok, n, 0);
    column_list(p, list, sizeof list);
    return em_error_at(p->err, EM_ERR_ARG, p->name, 0, 0,
                       "no column named \"%s\" (columns: %s)", q, list);
}

/* Resolves a token of digits to a header index, or reports it. */
static em_status resolve_index(parser *p, const char *tok, size_t n,
                               size_t *k)
{
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = (size_t)(tok[i] - '0');
        v = v > (SIZE_MAX - d) / 10 ? SIZE_MAX : v * 10 + d;
    }
    if (v >= 1 && v <= p->nhead) {
        *k = v - 1;
        return EM_OK;
    }
    char q[QUOTE_BUF];
    quote_text(q, sizeof q, tok, n, 0);
    return em_error_at(p->err, EM_ERR_ARG, p->name, 0, 0,
                       "column index %s is out of range (the file has %zu "
                       "column%s)", q, p->nhead, plural(p->nhead));
}

/* Resolves one selection token (trimmed) to a header index. */
static em_status resolve(parser *p, const char *tok, size_t n, size_t *k)
{
    size_t hits = 0, first = 0, second = 0, digits = 0;
    trim(&tok, &n);
    if (n == 0)
        return em_error_at(p->err, EM_ERR_ARG, p->name, 0, 0,
                           "empty entry in the column selection");
    for (size_t j = 0; j < p->nhead; j++) {
        const char *h = hname(p, j);
        if (strlen(h) == n && memcmp(h, tok, n) == 0) {
            if (hits++ == 0)
                first = j;
            else if (hits == 2)
                second = j;
        }
    }
    if (hits > 1) {
        char q[QUOTE_BUF];
        quote_text(q, sizeof q, tok, n, 1);
        return em_error_at(p->err, EM_ERR_ARG, p->name, 0, 0,
                           "column name \"%s\" is ambiguous: columns %zu and "
                           "%zu share it", q, first + 1, second + 1);
    }
    if (hits == 1) {
        *k = first;
        return EM_OK;
    }
    while (digits < n && tok[digits] >= '0' && tok[digits] <= '9')
        digits++;
    if (digits == n)
        return resolve_index(p, tok, n, k);
    return no_such_name(p, tok, n);
}

static em_status select_columns(parser *p, const char *spec)
{
    if (!spec || !*spec)
        return select_all(p);
    size_t n = 1;
    for (const char *s = spec; *s; s++)
        n += *s == ',';
    p->sel = calloc(n, sizeof *p->sel);
    p->map = calloc(p->nhead, sizeof *p->map);
    if (!p->sel || !p->map)
        return nomem(p);
    const char *tok = spec;
    for (size_t j = 0; j < n; j++) {
        const char *end = strchr(tok, ',');
        if (!end)
            end = tok + strlen(tok);
        size_t k = 0;
        em_status st = resolve(p, tok, (size_t)(end - tok), &k);
        if (st != EM_OK)
            return st;
        if (p->map[k]) {
            char q[QUOTE_BUF];
            quote_text(q, sizeof q, hname(p, k), strlen(hname(p, k)), 1);
            return em_error_at(p->err, EM_ERR_ARG, p->name, 0, 0,
                               "column \"%s\" is selected twice", q);
        }
        p->map[k] = j + 1;
        p->sel[j] = k;
        tok = *end ? end + 1 : end;
    }
    p->nsel = n;
    return EM_OK;
}

/* ---- numbers --------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [+-]?(digits[.digits*]|.digits)([eE][+-]?digits)? -- checked here rather
 * than left to strtod, which also takes hex, inf, nan and locale forms. */
static int is_decimal(const char *s, size_t n)
{
    size_t i = 0, mant = 0, exp = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && is_digit(s[i]); i++)
        mant++;
    if (i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++)
            mant++;
    if (mant == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && is_digit(s[i]); i++)
            exp++;
        if (exp == 0)
            return 0;
    }
    return i == n;
}

static int is_missing(const char *s, size_t n)
{
    if (n == 0 || (n == 2 && s[0] == 'N' && s[1] == 'A'))
        return 1;
    return n == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'a'
           && (s[2] | 0x20) == 'n';
}

/* Reports a bad numeric field: 'field K ("name"): what' at its start. */
static em_status field_error(parser *p, const field *f, size_t k,
                             const char *what)
{
    char q[QUOTE_BUF];
    quote_text(q, sizeof q, hname(p, k), strlen(hname(p, k)), 1);
    return em_error_at(p->err, EM_ERR_PARSE, p->name, f->line, f->col,
                       "field %zu (\"%s\"): %s", k + 1, q, what);
}

static em_status bad_number(parser *p, const field *f, size_t k,
                            const char *s, size_t n, const char *why)
{
    char q[QUOTE_BUF], what[QUOTE_BUF + 64];
    quote_text(q, sizeof q, s, n, 0);
    snprintf(what, sizeof what, "\"%s\" %s", q, why);
    return field_error(p, f, k, what);
}

/* Parses field f of header column k into *out (NaN when missing). */
static em_status parse_number(parser *p, const field *f, size_t k,
                              double *out)
{
    const char *s = f->data;
    size_t n = f->n;
    if (!f->quoted)
        trim(&s, &n);
    if (is_missing(s, n)) {
        *out = NAN;
        return EM_OK;
    }
    if (n > MAX_NUMBER_LEN) {
        char what[96];
        snprintf(what, sizeof what, "field too long to be a number "
                 "(%zu bytes, at most %d)", n, MAX_NUMBER_LEN);
        return field_error(p, f, k, what);
    }
    if (!is_decimal(s, n))
        return bad_number(p, f, k, s, n, "is not a number");
    const char *stop;
    if (em_decimal_scan(s, s + n, out, &stop) && stop == s + n)
        return EM_OK;
    char tmp[MAX_NUMBER_LEN + 1], *end;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double v = strtod(tmp, &end);
    if (end != tmp + n) /* only if a locale changed the decimal point */
        return bad_number(p, f, k, s, n, "is not a number");
    if (isinf(v))
        return bad_number(p, f, k, s, n, "is out of the range of a double");
    *out = v; /* underflow to a subnormal or zero is fine */
    return EM_OK;
}

/* The common case, a plain number ending at a delimiter or the line's
 * end, converted without looking at the field twice; 0 leaves everything
 * else (quotes, spaces, NA, errors) to read_field and parse_number. */
static int fast_number(parser *p, double *out)
{
    const char *s = p->buf + p->pos, *end = p->buf + p->len, *stop;
    if (!em_decimal_scan(s, end, out, &stop) || stop - s > MAX_NUMBER_LEN)
        return 0;
    if (stop < end && *stop != p->delim && *stop != '\n' && *stop != '\r')
        return 0;
    p->pos = (size_t)(stop - p->buf);
    return 1;
}

/* ---- symbols --------------------------------------------------------- */

static uint64_t hash_text(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The slot where s[0..n) is, or the free slot where it would go. */
static size_t find_slot(const sym_index *x, char *const *levels,
                        const char *s, size_t n)
{
    size_t mask = x->nslots - 1, i = (size_t)hash_text(s, n) & mask;
    while (x->slot[i]) {
        const char *l = levels[x->slot[i] - 1];
        if (strlen(l) == n && memcmp(l, s, n) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

/* Doubles the hash table of column j and places its levels again. */
static int rehash(parser *p, size_t j)
{
    sym_index *x = &p->idx[j];
    size_t n = x->nslots ? 2 * x->nslots : 64;
    size_t *slot = n > SIZE_MAX / sizeof *slot ? NULL
                                               : calloc(n, sizeof *slot);
    if (!slot)
        return 0;
    free(x->slot);
    x->slot = slot;
    x->nslots = n;
    char **levels = p->t->levels[j];
    for (size_t c = 0; c < p->t->nlevels[j]; c++)
        slot[find_slot(x, levels, levels[c], strlen(levels[c]))] = c + 1;
    return 1;
}

/* Adds s[0..n) as column j's next level, at free slot i of its table. */
static em_status add_level(parser *p, size_t j, size_t i, const char *s,
                           size_t n, double *out)
{
    em_table *t = p->t;
    sym_index *x = &p->idx[j];
    char **l = grow(t->levels[j], &x->level_cap, t->nlevels[j] + 1, sizeof *l);
    char *text = malloc(n + 1);
    if (l)
        t->levels[j] = l;
    if (!l || !text) {
        free(text);
        return nomem(p);
    }
    memcpy(text, s, n);
    text[n] = '\0';
    size_t code = t->nlevels[j]++;
    l[code] = text;
    x->slot[i] = code + 1;
    if (2 * t->nlevels[j] > x->nslots && !rehash(p, j))
        return nomem(p);
    *out = (double)code;
    return EM_OK;
}

/* Codes field f of header column k (output column map[k] - 1) as one of
 * its column's symbols, adding it when new; NaN when missing. */
static em_status symbol_code(parser *p, const field *f, size_t k,
                             double *out)
{
    const char *s = f->data;
    size_t n = f->n, j = p->map[k] - 1;
    if (!f->quoted)
        trim(&s, &n);
    if (is_missing(s, n)) {
        *out = NAN;
        return EM_OK;
    }
    if (utf8_invalid((const unsigned char *)s, n) != n)
        return field_error(p, f, k, "the symbol is not valid UTF-8");
    if (!p->idx[j].nslots && !rehash(p, j))
        return nomem(p);
    size_t i = find_slot(&p->idx[j], p->t->levels[j], s, n);
    if (p->idx[j].slot[i]) {
        *out = (double)(p->idx[j].slot[i] - 1);
        return EM_OK;
    }
    return add_level(p, j, i, s, n, out);
}

/* Marks header column k, which must be selected, as symbols. */
static em_status mark_symbols(parser *p, size_t k)
{
    if (!p->map[k]) {
        char q[QUOTE_BUF];
        quote_text(q, sizeof q, hname(p, k), strlen(hname(p, k)), 1);
        return em_error_at(p->err, EM_ERR_ARG, p->name, 0, 0,
                           "column \"%s\" is to be read as symbols but is "
                           "not selected", q);
    }
    p->is_sym[p->map[k] - 1] = 1;
    return EM_OK;
}

/* Resolves the symbols list (as the column selection) once the table's
 * columns are set. */
static em_status select_symbols(parser *p, const char *spec)
{
    if (!spec || !*spec)
        return EM_OK;
    em_table *t = p->t;
    p->is_sym = calloc(p->nsel ? p->nsel : 1, 1);
    p->idx = calloc(p->nsel ? p->nsel : 1, sizeof *p->idx);
    t->levels = calloc(p->nsel ? p->nsel : 1, sizeof *t->levels);
    t->nlevels = calloc(p->nsel ? p->nsel : 1, sizeof *t->nlevels);
    if (!p->is_sym || !p->idx || !t->levels || !t->nlevels)
        return nomem(p);
    if (strcmp(spec, "*") == 0) {
        memset(p->is_sym, 1, p->nsel);
        return EM_OK;
    }
    for (const char *tok = spec;;) {
        const char *end = strchr(tok, ',');
        if (!end)
            end = tok + strlen(tok);
        size_t k = 0;
        em_status st = resolve(p, tok, (size_t)(end - tok), &k);
        if (st == EM_OK)
            st = mark_symbols(p, k);
        if (st != EM_OK || !*end)
            return st;
        tok = end + 1;
    }
}

static void free_symbols(parser *p)
{
    for (size_t j = 0; p->idx && j < p->nsel; j++)
        free(p->idx[j].slot);
    free(p->idx);
    free(p->is_sym);
}

/* ---- rows ------------------------------------------------------------ */

static em_status reserve_row(parser *p)
{
    em_table *t = p->t;
    double *v = grow(t->values, &p->row_cap, t->nrows + 1, p->row_bytes);
    if (!v)
        return nomem(p);
    t->values = v;
    return EM_OK;
}

/* Notes the line of the row being added.  Rows on consecutive lines (the
 * usual file) need no array; the first gap (a blank line, a quoted line
 * break) brings one in. */
static em_status note_line(parser *p, long line)
{
    em_table *t = p->t;
    if (t->nrows == 0)
        t->first_line = line;
    if (!t->lines && line == t->first_line + (long)t->nrows)
        return EM_OK;
    long *l = grow(t->lines, &p->line_cap, t->nrows + 1, sizeof *l);
    if (!l)
        return nomem(p);
    if (!t->lines)
        for (size_t i = 0; i < t->nrows; i++)
            l[i] = t->first_line + (long)i;
    t->lines = l;
    t->lines[t->nrows] = line;
    return EM_OK;
}

/* Gives the rows gathered so far to the batch callback and starts the
 * table afresh, keeping its capacity (and its line array, if any, which
 * note_line refills row by row). */
static em_status hand_over(parser *p)
{
    em_table *t = p->t;
    if (t->nrows == 0)
        return EM_OK;
    em_status st = p->batch(p->batch_ctx, t, p->err);
    p->done_rows += t->nrows;
    t->nrows = 0;
    return st;
}

/* Called at the start of a field past the header's count: counts the rest
 * of the row for the message and reports it at that field. */
static em_status too_many(parser *p)
{
    long line = p->line, col = col_of(p, p->pos);
    size_t n = p->nhead;
    for (;;) {
        field f;
        em_status st = read_field(p, 0, &f);
        if (st != EM_OK)
            return st;
        n++;
        if (at_row_end(p))
            break;
        p->pos++;
    }
    return em_error_at(p->err, EM_ERR_PARSE, p->name, line, col,
                       "row has %zu fields, the header has %zu", n,
                       p->nhead);
}

static em_status read_row(parser *p)
{
    long line = p->line, col = col_of(p, p->pos);
    em_status st = reserve_row(p);
    if (st != EM_OK)
        return st;
    double *vals = p->t->values + p->t->nrows * p->t->ncols;
    size_t k = 0;
    for (;;) {
        if (k == p->nhead)
            return too_many(p);
        field f;
        size_t j = p->map[k];
        int sym = j && p->is_sym && p->is_sym[j - 1];
        if (j && !sym && fast_number(p, &vals[j - 1])) {
            /* converted in place */
        } else if ((st = read_field(p, j != 0, &f)) != EM_OK ||
                   (j && (st = sym ? symbol_code(p, &f, k, &vals[j - 1])
                                   : parse_number(p, &f, k, &vals[j - 1])) !=
                             EM_OK)) {
            return st;
        }
        k++;
        if (at_row_end(p))
            break;
        p->pos++;
    }
    if (k < p->nhead)
        return em_error_at(p->err, EM_ERR_PARSE, p->name, line, col,
                           "row has %zu field%s, the header has %zu", k,
                           plural(k), p->nhead);
    if ((st = note_line(p, line)) != EM_OK)
        return st;
    p->t->nrows++;
    if (p->pos < p->len)
        newline(p);
    return p->batch && p->t->nrows == p->batch_rows ? hand_over(p) : EM_OK;
}

static em_status read_rows(parser *p)
{
    for (;;) {
        int end;
        em_status st = next_record(p, &end);
        if (st == EM_OK && !end)
            st = read_row(p);
        if (st != EM_OK)
            return st;
        if (end)
            break;
    }
    if (p->t->nrows == 0 && p->done_rows == 0 && !p->part)
        return em_error_at(p->err, EM_ERR_PARSE, p->name,
                           p->header_end_line + 1, 1,
                           "no data rows after the header");
    return p->batch ? hand_over(p) : EM_OK;
}

/* ---- driver ---------------------------------------------------------- */

/* Sets up the output table's names and source once columns are chosen. */
static em_status make_table(parser *p)
{
    em_table *t = p->t;
    t->source = em_strdup(p->name);
    t->names = calloc(p->nsel, sizeof *t->names);
    if (!t->source || !t->names)
        return nomem(p);
    t->ncols = p->nsel;
    for (size_t j = 0; j < p->nsel; j++)
        if (!(t->names[j] = em_strdup(hname(p, p->sel[j]))))
            return nomem(p);
    if (p->nsel > SIZE_MAX / sizeof(double))
        return nomem(p);
    p->row_bytes = p->nsel * sizeof(double);
    p->batch_rows = p->row_bytes && p->batch_bytes / p->row_bytes > 1
                        ? p->batch_bytes / p->row_bytes
                        : 1;
    return EM_OK;
}

/* Gives back the rows allocated beyond the last (capacity doubles). */
static void shrink_table(em_table *t)
{
    size_t n = t->nrows ? t->nrows : 1;
    double *v = realloc(t->values, n * t->ncols * sizeof *v);
    long *l = t->lines ? realloc(t->lines, n * sizeof *l) : NULL;
    if (v)
        t->values = v;
    if (l)
        t->lines = l;
}

/* Reads the header and sets up the table's columns; pos is then at the
 * start of the line after the header. */
static em_status read_head(parser *p, const char *columns,
                           const char *symbols)
{
    static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
    int end;
    em_status st = p->in ? refill(p) : EM_OK;
    if (st != EM_OK)
        return st;
    if (p->len >= 3 && memcmp(p->buf, bom, 3) == 0)
        p->pos = p->line_start = 3;
    if ((st = next_record(p, &end)) != EM_OK)
        return st;
    if (end)
        return em_error_at(p->err, EM_ERR_PARSE, p->name, 1, 1,
                           "empty input: no header row");
    st = read_header(p);
    if (st == EM_OK)
        st = select_columns(p, columns);
    if (st == EM_OK)
        st = make_table(p);
    if (st == EM_OK)
        st = select_symbols(p, symbols);
    return st;
}

static em_status get_delim(const em_csv_options *opt, char *delim,
                           em_error *err)
{
    char d = opt ? opt->delimiter : 0;
    if (d == 0)
        d = ',';
    if (d == '"' || d == '\r' || d == '\n') {
        char q[QUOTE_BUF];
        quote_text(q, sizeof q, &d, 1, 0);
        return em_error_set(err, EM_ERR_ARG,
                            "the delimiter cannot be \"%s\" (a quote or a "
                            "line break)", q);
    }
    *delim = d;
    return EM_OK;
}

/* How rows leave the reader: all kept in the table (batch NULL), or
 * handed to batch in runs of batch_rows. */
typedef struct row_sink {
    em_csv_batch_fn batch;
    void *ctx;
    size_t bytes;
} row_sink;

/* Sets up p to parse buf[0, len) or, when in is set, in (read into a
 * buffer of bufsize bytes to begin with), into out. */
static em_status start(parser *p, const char *buf, size_t len, FILE *in,
                       size_t bufsize, const char *name,
                       const em_csv_options *opt, const row_sink *sink,
                       em_table *out, em_error *err)
{
    *out = (em_table){0};
    *p = (parser){0};
    if (sink) {
        p->batch = sink->batch;
        p->batch_ctx = sink->ctx;
        p->batch_bytes = sink->bytes;
    }
    p->buf = buf;
    p->len = p->filled = len;
    p->in = in;
    p->eof = in == NULL;
    p->line = 1;
    p->name = name ? name : "<input>";
    p->err = err;
    p->t = out;
    em_status st = get_delim(opt, &p->delim, err);
    if (st == EM_OK && in && !(p->own = malloc(bufsize)))
        st = nomem(p);
    p->cap = p->own ? bufsize : 0;
    return st;
}

/* Frees p's own memory and settles out after a parse that ended with st. */
static em_status finish(parser *p, em_status st, em_table *out)
{
    free(p->own);
    free(p->scratch);
    free(p->hnames);
    free(p->hoff);
    free(p->sel);
    free(p->map);
    free_symbols(p);
    if (st != EM_OK) {
        em_table_free(out);
    } else if (p->batch) {
        /* the rows are gone: what remains describes them all */
        free(out->values);
        free(out->lines);
        out->values = NULL;
        out->lines = NULL;
        out->nrows = p->done_rows;
        out->first_line = 0;
    } else {
        shrink_table(out);
    }
    return st;
}

/* Parses from buf[0, len) or, when in is set, from in; fills out. */
static em_status run(const char *buf, size_t len, FILE *in, const char *name,
                     const em_csv_options *opt, const row_sink *sink,
                     em_table *out, em_error *err)
{
    parser p;
    em_status st = start(&p, buf, len, in, CHUNK, name, opt, sink, out, err);
    if (st == EM_OK)
        st = read_head(&p, opt ? opt->columns : NULL,
                       opt ? opt->symbols : NULL);
    if (st == EM_OK)
        st = read_rows(&p);
    return finish(&p, st, out);
}

em_status em_csv_read_buffer(const char *buf, size_t len, const char *name,
                             const em_csv_options *opt, em_table *out,
                             em_error *err)
{
    em_error_clear(err);
    if (!out)
        return em_error_set(err, EM_ERR_ARG, "no output table given");
    *out = (em_table){0};
    if (!buf && len)
        return em_error_set(err, EM_ERR_ARG, "no input buffer given");
    return run(buf, len, NULL, name, opt, NULL, out, err);
}

em_status em_csv_read_stream(FILE *f, const char *name,
                             const em_csv_options *opt, em_table *out,
                             em_error *err)
{
    em_error_clear(err);
    if (out)
        *out = (em_table){0};
    if (!f || !out)
        return em_error_set(err, EM_ERR_ARG, "no stream or output given");
    return run(NULL, 0, f, name, opt, NULL, out, err);
}

em_status em_csv_read_file(const char *path, const em_csv_options *opt,
                           em_table *out, em_error *err)
{
    em_error_clear(err);
    if (out)
        *out = (em_table){0};
    if (!path || !out)
        return em_error_set(err, EM_ERR_ARG, "no file name or output given");
    const char *name;
    FILE *f;
    em_status st = em_open_input(path, &f, &name, err);
    if (st != EM_OK)
        return st;
    st = run(NULL, 0, f, name, opt, NULL, out, err);
    em_close_input(f);
    return st;
}

em_status em_csv_read_batches(const char *path, const em_csv_options *opt,
                              size_t run_bytes, em_csv_batch_fn batch,
                              void *ctx, em_table *head, em_error *err)
{
    em_error_clear(err);
    if (head)
        *head = (em_table){0};
    if (!path || !head || !batch)
        return em_error_set(err, EM_ERR_ARG,
                            "no file name, output, callback or batch size");
    const char *name;
    FILE *f;
    em_status st = em_open_input(path, &f, &name, err);
    if (st != EM_OK)
        return st;
    row_sink sink = {.batch = batch, .ctx = ctx, .bytes = run_bytes};
    st = run(NULL, 0, f, name, opt, &sink, head, err);
    em_close_input(f);
    return st;
}

/* ---- one part of a file --------------------------------------------- */

static em_status io_error(parser *p, const char *what)
{
    int e = errno;
    return em_error_at(p->err, EM_ERR_IO, p->name, 0, 0, "cannot %s: %s",
                       what, e ? strerror(e) : "unknown error");
}

static em_status seek_to(parser *p, unsigned long long off)
{
    errno = 0;
    if (fseeko(p->in, (off_t)off, SEEK_SET) != 0)
        return io_error(p, "seek");
    return EM_OK;
}

/* Sets *at to the first line start at or after b in the file of size
 * bytes: b when b is 0, b >= size or byte b-1 ends a line, otherwise just
 * past the next line end (or size).  A '\r' ends a line unless a '\n'
 * follows it, so scanning from byte b-1 covers every case. */
static em_status line_start_at(parser *p, unsigned long long b,
                               unsigned long long size,
                               unsigned long long *at)
{
    *at = b < size ? b : size;
    if (b == 0 || b >= size)
        return EM_OK;
    em_status st = seek_to(p, b - 1);
    if (st != EM_OK)
        return st;
    errno = 0;
    unsigned long long i = b - 1;
    int c;
    while ((c = getc(p->in)) != EOF && c != '\n' && c != '\r')
        i++;
    if (c == '\r' && (c = getc(p->in)) == '\n')
        i++;
    if (ferror(p->in))
        return io_error(p, "read");
    *at = i + 1 < size ? i + 1 : size;
    return EM_OK;
}

/* The byte range of a part's text: its rows start in [from, to).  Its
 * lines are counted from from, or, in the part that begins at 0, from the
 * start of the file, header included. */
typedef struct part_span {
    unsigned long long from, to;
    int from_file_start;
} part_span;

/* Finds the part's span once the header has been read (pos is just past
 * it): a line start inside the header counts as the header's end. */
static em_status find_span(parser *p, unsigned long long begin,
                           unsigned long long end, unsigned long long size,
                           part_span *s)
{
    errno = 0;
    off_t at = ftello(p->in);
    if (at < 0)
        return io_error(p, "read");
    unsigned long long head = (unsigned long long)at - (p->filled - p->pos);
    em_status st = line_start_at(p, begin, size, &s->from);
    if (st == EM_OK)
        st = line_start_at(p, end, size, &s->to);
    if (st != EM_OK)
        return st;
    s->from = s->from > head ? s->from : head;
    s->to = s->to > head ? s->to : head;
    s->from_file_start = begin == 0;
    return EM_OK;
}

/* Reads the rows of span s as the whole input, after the header. */
static em_status read_span(parser *p, const part_span *s, long *nlines)
{
    em_status st = seek_to(p, s->from);
    if (st != EM_OK)
        return st;
    if (!s->from_file_start)
        p->line = 1;
    p->buf = p->own;
    p->pos = p->len = p->filled = p->line_start = 0;
    p->limited = p->part = 1;
    p->left = s->to - s->from;
    p->eof = p->left == 0;
    if ((st = read_rows(p)) == EM_OK)
        *nlines = p->line - 1;
    return st;
}

static em_status part_args(const char *path, const em_csv_options *opt,
                           unsigned long long begin, unsigned long long end,
                           em_error *err)
{
    if (strcmp(path, "-") == 0)
        return em_error_set(err, EM_ERR_ARG, "standard input cannot be read "
                            "in parts: give a file");
    if (begin > end)
        return em_error_set(err, EM_ERR_ARG, "a part's range cannot begin "
                            "(byte %llu) after it ends (byte %llu)", begin,
                            end);
    if (opt && opt->symbols && *opt->symbols)
        return em_error_set(err, EM_ERR_ARG, "symbols cannot be read in "
                            "parts: their codes follow the order first met, "
                            "which differs from part to part");
    return EM_OK;
}

/* The size of the open file f, which must be a regular file. */
static em_status file_size(FILE *f, const char *name,
                           unsigned long long *size, em_error *err)
{
    struct stat sb;
    errno = 0;
    if (fstat(fileno(f), &sb) != 0)
        return em_error_at(err, EM_ERR_IO, name, 0, 0, "cannot read: %s",
                           strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return em_error_at(err, EM_ERR_IO, name, 0, 0,
                           "cannot read: is a directory");
    if (!S_ISREG(sb.st_mode))
        return em_error_at(err, EM_ERR_IO, name, 0, 0,
                           "cannot read in parts: not a regular file");
    *size = (unsigned long long)sb.st_size;
    return EM_OK;
}

static em_status parse_part(parser *p, const em_csv_options *opt,
                            unsigned long long begin, unsigned long long end,
                            unsigned long long size, long *nlines)
{
    part_span s = {0};
    em_status st = read_head(p, opt ? opt->columns : NULL, NULL);
    if (st != EM_OK || end == 0)
        return st; /* [0, 0): the next part, from 0 too, has every line */
    st = find_span(p, begin, end, size, &s);
    return st == EM_OK ? read_span(p, &s, nlines) : st;
}

em_status em_csv_read_part(const char *path, const em_csv_options *opt,
                           unsigned long long begin, unsigned long long end,
                           em_table *out, long *nlines, em_error *err)
{
    em_error_clear(err);
    if (out)
        *out = (em_table){0};
    if (nlines)
        *nlines = 0;
    if (!path || !out || !nlines)
        return em_error_set(err, EM_ERR_ARG,
                            "no file name, output or line count given");
    em_status st = part_args(path, opt, begin, end, err);
    const char *name;
    FILE *f;
    if (st == EM_OK)
        st = em_open_input(path, &f, &name, err);
    if (st != EM_OK)
        return st;
    unsigned long long size = 0;
    if ((st = file_size(f, name, &size, err)) != EM_OK) {
        em_close_input(f);
        return st;
    }
    /* a small file, in many parts, need not take CHUNK bytes in each */
    size_t bufsize = size < CHUNK ? (size_t)size + 1 : CHUNK;
    parser p;
    st = start(&p, NULL, 0, f, bufsize, name, opt, NULL, out, err);
    if (st == EM_OK)
        st = parse_part(&p, opt, begin, end, size, nlines);
    st = finish(&p, st, out);
    em_close_input(f);
    if (st != EM_OK)
        *nlines = 0;
    return st;
}

void em_csv_write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
