/* A small JSON reader (RFC 8259) for parameter files, and writing helpers.
 *
 * The reader builds a tree of em_json values; each value remembers the line
 * and column where it starts, so that a caller can point at a bad value.
 */
#ifndef EMFIT_JSON_H
#define EMFIT_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "emfit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum em_json_kind {
    EM_JSON_NULL,
    EM_JSON_BOOL,
    EM_JSON_NUMBER,
    EM_JSON_STRING,
    EM_JSON_ARRAY,
    EM_JSON_OBJECT
} em_json_kind;

typedef struct em_json em_json;

struct em_json {
    em_json_kind kind;
    long line, col; /* 1-based position of the value's first character */
    union {
        int boolean;
        double number; /* always finite */
        struct {
            char *s; /* UTF-8, NUL-terminated; may contain NUL via \u0000 */
            size_t len;
        } string;
        struct {
            em_json **items;
            size_t n;
        } array;
        struct {
            char **keys;      /* NUL-terminated UTF-8 */
            em_json **values; /* in document order */
            size_t n;
        } object;
    } u;
};

/* Parses len bytes of JSON text holding exactly one value (surrounding
 * white space allowed).  name is used in messages.  On success *out owns the
 * tree (em_json_free).  Errors are EM_ERR_PARSE with line and column:
 * bad syntax, a number that overflows a double, invalid UTF-8, a bad escape,
 * a duplicate key in an object, nesting deeper than 64 levels, trailing
 * text.  Out of memory is EM_ERR_NOMEM. */
em_status em_json_parse(const char *text, size_t len, const char *name,
                        em_json **out, em_error *err);

/* Reads and parses a whole file ("-" is standard input).  A file that
 * cannot be opened or read is EM_ERR_IO. */
em_status em_json_parse_file(const char *path, em_json **out, em_error *err);

/* Frees a tree; NULL is fine. */
void em_json_free(em_json *v);

/* The member of an object with this key, or NULL (also when v is not an
 * object). */
const em_json *em_json_get(const em_json *v, const char *key);

/* Writes s as a JSON string literal with quotes and escapes. */
void em_json_write_string(FILE *f, const char *s);

/* Writes v[0..n) as a JSON array, "[a, b, ...]", each number as
 * em_format_double formats it. */
void em_json_write_numbers(FILE *f, const double *v, size_t n);

/* Formats a finite double with the fewest significant digits (up to 17)
 * that read back to the same value, e.g. "0.1", "1e-300", "-2.5".  NaN and
 * infinities are written as "null" (JSON has no such numbers).  buf needs
 * at least 32 bytes; returns buf. */
char *em_format_double(char *buf, size_t size, double x);

#ifdef __cplusplus
}
#endif

#endif
