#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emfit/csv.h"
#include "emfit/json.h"
#include "emfit/output.h"

#define ROW_BLOCK 1024

int em_rows_supported(const em_model *m, em_rows_kind kind)
{
    return kind == EM_ROWS_IMPUTED ? m->type->impute != NULL
                                   : m->type->posterior != NULL &&
                                         m->info.nclasses > 0;
}

static void header(FILE *f, const em_table *data, em_rows_kind kind,
                   size_t width)
{
    if (kind == EM_ROWS_LABELS) {
        fputs("label\n", f);
        return;
    }
    for (size_t j = 0; j < width; j++) {
        if (j)
            fputc(',', f);
        if (kind == EM_ROWS_RESPONSIBILITIES)
            fprintf(f, "r%zu", j + 1);
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
    for (size_t j = 0; j < width; j++)
        fprintf(f, "%s%s", j ? "," : "", em_format_double(buf, sizeof buf, v[j]));
    fputc('\n', f);
}

em_status em_rows_write(FILE *f, em_model *m, const em_table *data,
                        const double *theta, em_rows_kind kind,
                        em_error *err)
{
    if (!em_rows_supported(m, kind))
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model has no such per-row output",
                            m->type->name);
    size_t width = kind == EM_ROWS_IMPUTED ? data->ncols : m->info.nclasses;
    double *buf = malloc(ROW_BLOCK * width * sizeof *buf);
    if (!buf)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = m->type->prepare(m->state, theta, err);
    if (st == EM_OK) {
        header(f, data, kind, width);
        for (size_t b = 0; b < data->nrows; b += ROW_BLOCK) {
            size_t e = data->nrows - b < ROW_BLOCK ? data->nrows : b + ROW_BLOCK;
            if (kind == EM_ROWS_IMPUTED)
                m->type->impute(m->state, b, e, buf);
            else
                m->type->posterior(m->state, b, e, buf);
            for (size_t i = b; i < e; i++)
                write_row(f, buf + (i - b) * width, width, kind);
        }
        if (fflush(f) != 0 || ferror(f))
            st = em_error_set(err, EM_ERR_IO, "cannot write: %s",
                              strerror(errno));
    }
    free(buf);
    return st;
}
