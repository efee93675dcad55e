/* Writers for the per-iteration trace and the final result.
 *
 * Trace formats (columns: iter, the parameter names, loglik):
 *   table  aligned columns for the eye, 6 decimals (like the documents)
 *          unless em_trace_writer_digits says otherwise
 *   csv    one header line, then comma-separated rows (RFC 4180 quoting)
 *   tsv    one header line, then tab-separated rows
 *   jsonl  one JSON object per iteration
 * csv, tsv and jsonl write each number with the fewest digits that read
 * back to the same double.  Every row is flushed, so a pipe sees it at once.
 */
#ifndef EMFIT_OUTPUT_H
#define EMFIT_OUTPUT_H

#include <stdio.h>

#include "emfit/driver.h"
#include "emfit/error.h"
#include "emfit/model.h"
#include "emfit/search.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum em_trace_format {
    EM_TRACE_NONE,
    EM_TRACE_TABLE,
    EM_TRACE_CSV,
    EM_TRACE_TSV,
    EM_TRACE_JSONL
} em_trace_format;

/* Parses a format name; returns 0 when it is not one. */
int em_trace_format_parse(const char *s, em_trace_format *out);

typedef struct em_trace_writer {
    FILE *f;
    em_trace_format format;
    const char *const *names;
    size_t nparams;
    const size_t *cols; /* parameter indices to trace; NULL = all */
    size_t ncols;
    int digits;         /* decimals of the table format */
    int header_done;
    const size_t *esteps; /* NULL, or the E-step count for an esteps
                             column after iter (em_fit_options.esteps) */
} em_trace_writer;

#define EM_TABLE_DIGITS 6
#define EM_TABLE_DIGITS_MAX 17

void em_trace_writer_init(em_trace_writer *w, FILE *f, em_trace_format format,
                          const char *const *names, size_t nparams);

/* Traces only the parameters cols[0..n) (indices into names), in that
 * order; cols must outlive the writer. */
void em_trace_writer_select(em_trace_writer *w, const size_t *cols, size_t n);

/* Sets the decimals of the table format, 1 to EM_TABLE_DIGITS_MAX (others
 * are clamped); the machine formats always write round-trip numbers. */
void em_trace_writer_digits(em_trace_writer *w, int digits);

/* Adds the column esteps, right after iter, read from *count at each
 * row; count must outlive the writer. */
void em_trace_writer_esteps(em_trace_writer *w, const size_t *count);

/* An em_trace_fn: ctx is an em_trace_writer.  A failed write is EM_ERR_IO. */
em_status em_trace_write(void *ctx, size_t iter, const double *theta,
                         double loglik, em_error *err);

/* What the result records besides the fit itself. */
typedef struct em_result_meta {
    const char *input;               /* input name as given ("-" is stdin) */
    const char *const *columns;      /* the fitted columns */
    size_t ncolumns;
    const char *const *setting_keys; /* settings worth keeping, e.g. "estep" */
    const char *const *setting_json; /* their values as JSON literals */
    size_t nsettings;
    const em_search_row *search;     /* the -k range table, or NULL */
    size_t nsearch;
    size_t search_best;
    em_criterion criterion;
    /* --se: when se_requested, a "se" object keyed like "params" follows
     * them, with se[i] (null where NaN: a held parameter), or "se": null
     * when se is NULL (no standard errors exist at this fit). */
    int se_requested;
    const double *se;
} em_result_meta;

/* Writes the final fit as one JSON object (keys documented in README).
 * A failed write is EM_ERR_IO. */
em_status em_result_write(FILE *f, const em_model *m, const double *theta,
                          const em_fit_result *res, const em_result_meta *meta,
                          em_error *err);

/* Per-row outputs of a fitted model, as CSV in input row order, one line
 * per data row; a row without data is written as NA. */
typedef enum em_rows_kind {
    EM_ROWS_LABELS,           /* "label": the most likely class, from 1 */
    EM_ROWS_RESPONSIBILITIES, /* "r1".."rK": the class probabilities */
    EM_ROWS_IMPUTED,          /* the data's columns, missing values replaced
                                 by their conditional expectations */
    EM_ROWS_POSTERIORS,       /* "p1".."pK": the class probabilities of each
                                 row of a model whose units are sequences */
    EM_ROWS_DECODE            /* "state": the class of each row on the
                                 jointly most likely path, from 1 */
} em_rows_kind;

/* 1 when the model can give this kind of output. */
int em_rows_supported(const em_model *m, em_rows_kind kind);

/* Writes kind for the fitted theta.  A failed write is EM_ERR_IO; a model
 * without the output is EM_ERR_ARG. */
em_status em_rows_write(FILE *f, em_model *m, const em_table *data,
                        const double *theta, em_rows_kind kind,
                        em_error *err);

#ifdef __cplusplus
}
#endif

#endif
