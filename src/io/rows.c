#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emfit/csv.h"
#include "emfit/json.h"
#include "emfit/output.h"

#define ROW_BLOCK 1024

int em_rows_supported(const em_model *m, em_rows_kind kind)
{
    int classes = m->type->posterior != NULL && m->info.nclasses > 0;
    switch (kind) {
    case EM_ROWS_IMPUTED: return m->type->impute != NULL;
    case EM_ROWS_DECODE: return m->type->decode != NULL;
    case EM_ROWS_POSTERIORS: return classes;
    case EM_ROWS_LABELS:
    case EM_ROWS_RESPONSIBILITIES: /* of independent rows only */
        return classes && m->type->unit_rows == NULL;
    }
    return 0;
}

static void header(FILE *f, const em_table *data, em_rows_kind kind,
                   size_t width)
{
    if (kind == EM_ROWS_LABELS || kind == EM_ROWS_DECODE) {
        fputs(kind == EM_ROWS_LABELS ? "label\n" : "state\n", f);
        return;
    }
    for (size_t j = 0; j < width; j++) {
        if (j)
            fputc(',', f);
        if (kind == EM_ROWS_RESPONSIBILITIES || kind == EM_ROWS_POSTERIORS)
            fprintf(f, kind == EM_ROWS_POSTERIORS ? "p%zu" : "r%zu", j + 1);
        else
            em_csv_write_field(f, data->names[j]);
    }
    fputc('\n', f);
}

static void write_row(FILE *f, const double *v, size_t width,
                      em_rows_kind kind)
{
    char buf[40];
    if (isnan(v[0])) {
        fputs("NA", f);
        for (size_t j = 1; kind != EM_ROWS_LABELS && j < width; j++)
            fputs(",NA", f);
        fputc('\n', f);
        return;
    }
    if (kind == EM_ROWS_LABELS) {
        size_t best = 0;
        for (size_t j = 1; j < width; j++)
            if (v[j] > v[best])
                best = j;
        fprintf(f, "%zu\n", best + 1);
        return;
    }
    if (kind == EM_ROWS_DECODE) {
        fprintf(f, "%zu\n", (size_t)v[0] + 1);
        return;
    }
    for (size_t j = 0; j < width; j++)
        fprintf(f, "%s%s", j ? "," : "", em_format_double(buf, sizeof buf, v[j]));
    fputc('\n', f);
}

/* Room for the rows of the units being written. */
typedef struct row_buffer {
    double *v;
    size_t cap; /* doubles */
} row_buffer;

static int reserve(row_buffer *b, size_t rows, size_t width)
{
    if (rows > SIZE_MAX / sizeof(double) / (width ? width : 1))
        return 0;
    size_t need = rows * width;
    if (need <= b->cap)
        return 1;
    double *v = realloc(b->v, (need ? need : 1) * sizeof *v);
    if (!v)
        return 0;
    b->v = v, b->cap = need;
    return 1;
}

/* Writes the rows unit by unit (a sequence must be computed whole), or
 * ROW_BLOCK rows at a time when units are rows. */
static em_status write_units(FILE *f, em_model *m, em_rows_kind kind,
                             size_t width, row_buffer *rb, em_error *err)
{
    size_t n = m->info.nunits;
    for (size_t u = 0; u < n;) {
        size_t first, count, next;
        if (m->type->unit_rows) {
            m->type->unit_rows(m->state, u, &first, &count);
            next = u + 1;
        } else {
            next = n - u < ROW_BLOCK ? n : u + ROW_BLOCK;
            count = next - u;
        }
        if (!reserve(rb, count, width))
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
        if (kind == EM_ROWS_IMPUTED)
            m->type->impute(m->state, u, next, rb->v);
        else if (kind == EM_ROWS_DECODE)
            m->type->decode(m->state, u, next, rb->v);
        else
            m->type->posterior(m->state, u, next, rb->v);
        for (size_t i = 0; i < count; i++)
            write_row(f, rb->v + i * width, width, kind);
        u = next;
    }
    return EM_OK;
}

em_status em_rows_write(FILE *f, em_model *m, const em_table *data,
                        const double *theta, em_rows_kind kind,
                        em_error *err)
{
    if (!em_rows_supported(m, kind))
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model has no such per-row output",
                            m->type->name);
    size_t width = kind == EM_ROWS_IMPUTED ? data->ncols
                   : kind == EM_ROWS_DECODE ? 1
                                            : m->info.nclasses;
    row_buffer rb = {0};
    em_status st = m->type->prepare(m->state, theta, err);
    if (st == EM_OK) {
        header(f, data, kind, width);
        st = write_units(f, m, kind, width, &rb, err);
    }
    if (st == EM_OK) {
        if (fflush(f) != 0 || ferror(f))
            st = em_error_set(err, EM_ERR_IO, "cannot write: %s",
                              strerror(errno));
    }
    free(rb.v);
    return st;
}
