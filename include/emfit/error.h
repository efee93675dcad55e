/* Error values returned by every emfit library function.
 *
 * Library code never prints and never exits: it returns an em_status and,
 * when the caller passed a non-NULL em_error, fills it with a message and,
 * where the problem is in a file, the file name, line and column.  Only the
 * command-line front end turns these into text on stderr and exit statuses.
 */
#ifndef EMFIT_ERROR_H
#define EMFIT_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum em_status {
    EM_OK = 0,
    EM_ERR_ARG,     /* a bad argument or option value from the caller */
    EM_ERR_PARSE,   /* malformed input: CSV data or a JSON parameter file */
    EM_ERR_IO,      /* a file could not be opened, read or written */
    EM_ERR_DATA,    /* well-formed data the model cannot fit (degenerate) */
    EM_ERR_NUMERIC, /* the fit broke down numerically (singular covariance) */
    EM_ERR_NOMEM,   /* an allocation failed or its size would overflow */
    EM_ERR_BUG      /* an invariant failed, e.g. the log-likelihood decreased */
} em_status;

#define EM_ERROR_FILE_MAX 512
#define EM_ERROR_MSG_MAX 512

typedef struct em_error {
    em_status status;
    char file[EM_ERROR_FILE_MAX]; /* "" when the error has no file */
    long line;                    /* 1-based; 0 when unknown */
    long col;                     /* 1-based byte column; 0 when unknown */
    char msg[EM_ERROR_MSG_MAX];
} em_error;

/* Records an error without a location and returns st, so that a caller can
 * write `return em_error_set(err, EM_ERR_ARG, "...", ...);`.  err may be
 * NULL.  The message is truncated to fit. */
em_status em_error_set(em_error *err, em_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* As em_error_set, with a file position; line or col may be 0. */
em_status em_error_at(em_error *err, em_status st, const char *file, long line,
                      long col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Resets err to EM_OK with empty fields. */
void em_error_clear(em_error *err);

/* Writes "FILE:LINE:COL: message" (the parts that are known) into buf. */
void em_error_format(const em_error *err, char *buf, size_t size);

/* A short name for a status, e.g. "parse error". */
const char *em_status_name(em_status st);

#ifdef __cplusplus
}
#endif

#endif
