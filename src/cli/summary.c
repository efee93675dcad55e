/* The summary of a batch run on stdout: a header, then one row per input
 * file, as CSV, TSV or JSON Lines.  A value that does not exist (no fit,
 * no latent classes) is an empty field, or null in JSON. */
#include <stdio.h>

#include "cli/cli.h"

static const char *const columns[] = {"file",       "model",     "n",
                                      "k",          "loglik",    "iterations",
                                      "converged",  "bic",       "status"};
enum { NCOLUMNS = sizeof columns / sizeof columns[0] };

/* One row's fields as text; NULL where there is no value.  Numbers are
 * valid JSON too, so every format shares them. */
typedef struct row_text {
    const char *field[NCOLUMNS];
    char n[32], k[32], loglik[40], iterations[32], bic[40], status[16];
} row_text;

static void row_fields(const char *file, const char *model,
                       const cli_outcome *o, row_text *t)
{
    int fitted = o->st == EM_OK;
    snprintf(t->n, sizeof t->n, "%zu", o->n);
    snprintf(t->k, sizeof t->k, "%zu", o->k);
    snprintf(t->iterations, sizeof t->iterations, "%zu", o->res.iterations);
    snprintf(t->status, sizeof t->status, "%d", o->status);
    em_format_double(t->loglik, sizeof t->loglik, o->res.loglik);
    em_format_double(t->bic, sizeof t->bic, o->res.bic);
    const char *f[NCOLUMNS] = {
        file,
        model,
        o->built ? t->n : NULL,
        o->built && o->k ? t->k : NULL,
        fitted ? t->loglik : NULL,
        fitted ? t->iterations : NULL,
        fitted ? (o->res.converged ? "true" : "false") : NULL,
        fitted ? t->bic : NULL,
        t->status};
    for (size_t i = 0; i < NCOLUMNS; i++)
        t->field[i] = f[i];
}

/* TSV cannot quote, so a tab or line break in a name becomes a space. */
static void write_tsv_text(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

void cli_summary_header(FILE *f, em_trace_format format)
{
    if (format == EM_TRACE_JSONL)
        return;
    for (size_t i = 0; i < NCOLUMNS; i++)
        fprintf(f, "%s%s", i ? (format == EM_TRACE_TSV ? "\t" : ",") : "",
                columns[i]);
    fputc('\n', f);
}

static void write_jsonl_row(FILE *f, const row_text *t)
{
    fputc('{', f);
    for (size_t i = 0; i < NCOLUMNS; i++) {
        fprintf(f, "%s\"%s\":", i ? "," : "", columns[i]);
        if (!t->field[i])
            fputs("null", f);
        else if (i < 2) /* file and model are the strings */
            em_json_write_string(f, t->field[i]);
        else
            fputs(t->field[i], f);
    }
    fputs("}\n", f);
}

void cli_summary_row(FILE *f, em_trace_format format, const char *file,
                     const char *model, const cli_outcome *o)
{
    row_text t;
    row_fields(file, model, o, &t);
    if (format == EM_TRACE_JSONL) {
        write_jsonl_row(f, &t);
        return;
    }
    for (size_t i = 0; i < NCOLUMNS; i++) {
        if (i)
            fputc(format == EM_TRACE_TSV ? '\t' : ',', f);
        if (!t.field[i])
            continue;
        if (format == EM_TRACE_TSV)
            write_tsv_text(f, t.field[i]);
        else
            em_csv_write_field(f, t.field[i]);
    }
    fputc('\n', f);
}
