#include <errno.h>
#include <math.h>
#include <string.h>

#include "emfit/csv.h"
#include "emfit/json.h"
#include "emfit/output.h"

/* Width of a parameter column in the table format. */
#define TABLE_WIDTH 12

int em_trace_format_parse(const char *s, em_trace_format *out)
{
    static const struct {
        const char *name;
        em_trace_format format;
    } names[] = {{"none", EM_TRACE_NONE},
                 {"table", EM_TRACE_TABLE},
                 {"csv", EM_TRACE_CSV},
                 {"tsv", EM_TRACE_TSV},
                 {"jsonl", EM_TRACE_JSONL}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].format;
            return 1;
        }
    return 0;
}

void em_trace_writer_init(em_trace_writer *w, FILE *f, em_trace_format format,
                          const char *const *names, size_t nparams)
{
    *w = (em_trace_writer){.f = f,
                           .format = format,
                           .names = names,
                           .nparams = nparams,
                           .ncols = nparams,
                           .digits = EM_TABLE_DIGITS};
}

void em_trace_writer_digits(em_trace_writer *w, int digits)
{
    w->digits = digits < 1                     ? 1
                : digits > EM_TABLE_DIGITS_MAX ? EM_TABLE_DIGITS_MAX
                                               : digits;
}

void em_trace_writer_esteps(em_trace_writer *w, const size_t *count)
{
    w->esteps = count;
}

void em_trace_writer_select(em_trace_writer *w, const size_t *cols, size_t n)
{
    w->cols = cols;
    w->ncols = n;
}

/* The parameter index of trace column c. */
static size_t pick(const em_trace_writer *w, size_t c)
{
    return w->cols ? w->cols[c] : c;
}

/* Columns widen with the decimals beyond the default six, so that values
 * the default width holds stay aligned at any --digits. */
static int table_width(const em_trace_writer *w, const char *name)
{
    size_t n = strlen(name);
    int base = TABLE_WIDTH +
               (w->digits > EM_TABLE_DIGITS ? w->digits - EM_TABLE_DIGITS : 0);
    return n + 2 > (size_t)base ? (int)(n + 2) : base;
}

/* Fixed decimals like the documents' tables, switching to exponent form
 * where fixed notation would hide the value or run too wide. */
static void table_number(char *buf, size_t size, double v, int digits)
{
    double a = fabs(v);
    if (v == 0 || (a >= 1e-4 && a < 1e9))
        snprintf(buf, size, "%.*f", digits, v);
    else
        snprintf(buf, size, "%.*e", digits, v);
}

static void write_header(const em_trace_writer *w)
{
    FILE *f = w->f;
    char sep = w->format == EM_TRACE_TSV ? '\t' : ',';
    if (w->format == EM_TRACE_TABLE) {
        fprintf(f, "%5s", "iter");
        if (w->esteps)
            fprintf(f, " %7s", "esteps");
        for (size_t c = 0; c < w->ncols; c++) {
            const char *name = w->names[pick(w, c)];
            fprintf(f, " %*s", table_width(w, name), name);
        }
        fprintf(f, " %*s\n", table_width(w, "loglik") + 4, "loglik");
    } else if (w->format == EM_TRACE_CSV || w->format == EM_TRACE_TSV) {
        fputs("iter", f);
        if (w->esteps)
            fprintf(f, "%cesteps", sep);
        for (size_t c = 0; c < w->ncols; c++) {
            fputc(sep, f);
            if (w->format == EM_TRACE_CSV)
                em_csv_write_field(f, w->names[pick(w, c)]);
            else
                fputs(w->names[pick(w, c)], f);
        }
        fprintf(f, "%cloglik\n", sep);
    }
}

static void write_table_row(const em_trace_writer *w, size_t iter,
                            const double *theta, double loglik)
{
    char buf[64];
    fprintf(w->f, "%5zu", iter);
    if (w->esteps)
        fprintf(w->f, " %7zu", *w->esteps);
    for (size_t c = 0; c < w->ncols; c++) {
        size_t i = pick(w, c);
        table_number(buf, sizeof buf, theta[i], w->digits);
        fprintf(w->f, " %*s", table_width(w, w->names[i]), buf);
    }
    table_number(buf, sizeof buf, loglik, w->digits);
    fprintf(w->f, " %*s\n", table_width(w, "loglik") + 4, buf);
}

static void write_delimited_row(const em_trace_writer *w, size_t iter,
                                const double *theta, double loglik)
{
    char buf[40];
    char sep = w->format == EM_TRACE_TSV ? '\t' : ',';
    fprintf(w->f, "%zu", iter);
    if (w->esteps)
        fprintf(w->f, "%c%zu", sep, *w->esteps);
    for (size_t c = 0; c < w->ncols; c++)
        fprintf(w->f, "%c%s", sep,
                em_format_double(buf, sizeof buf, theta[pick(w, c)]));
    fprintf(w->f, "%c%s\n", sep, em_format_double(buf, sizeof buf, loglik));
}

static void write_jsonl_row(const em_trace_writer *w, size_t iter,
                            const double *theta, double loglik)
{
    char buf[40];
    fprintf(w->f, "{\"iter\":%zu", iter);
    if (w->esteps)
        fprintf(w->f, ",\"esteps\":%zu", *w->esteps);
    for (size_t c = 0; c < w->ncols; c++) {
        size_t i = pick(w, c);
        fputc(',', w->f);
        em_json_write_string(w->f, w->names[i]);
        fprintf(w->f, ":%s", em_format_double(buf, sizeof buf, theta[i]));
    }
    fprintf(w->f, ",\"loglik\":%s}\n", em_format_double(buf, sizeof buf, loglik));
}

em_status em_trace_write(void *ctx, size_t iter, const double *theta,
                         double loglik, em_error *err)
{
    em_trace_writer *w = ctx;
    if (w->format == EM_TRACE_NONE)
        return EM_OK;
    if (!w->header_done) {
        write_header(w);
        w->header_done = 1;
    }
    if (w->format == EM_TRACE_TABLE)
        write_table_row(w, iter, theta, loglik);
    else if (w->format == EM_TRACE_JSONL)
        write_jsonl_row(w, iter, theta, loglik);
    else
        write_delimited_row(w, iter, theta, loglik);
    if (fflush(w->f) != 0 || ferror(w->f))
        return em_error_set(err, EM_ERR_IO, "cannot write the trace: %s",
                            strerror(errno));
    return EM_OK;
}
