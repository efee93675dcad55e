#include "emfit/table.h"

#include <stdlib.h>
#include <sys/mman.h>

void em_table_free(em_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; t->names && j < t->ncols; j++)
        free(t->names[j]);
    free(t->names);
    for (size_t j = 0; t->levels && j < t->ncols; j++) {
        for (size_t s = 0; t->levels[j] && s < t->nlevels[j]; s++)
            free(t->levels[j][s]);
        free(t->levels[j]);
    }
    free(t->levels);
    free(t->nlevels);
    if (t->map) {
        munmap(t->map, t->map_len);
    } else {
        free(t->values);
        free(t->lines);
    }
    free(t->source);
    *t = (em_table){0};
}

em_status em_parts_fold(const em_parts *p, double *acc, size_t n,
                        void (*fn)(void *ctx, double *acc), void *ctx,
                        em_error *err)
{
    if (!p || p->nparts <= 1) {
        fn(ctx, acc);
        return EM_OK;
    }
    em_status st = p->relay(p->ctx, 1, acc, n, err);
    if (st != EM_OK)
        return st;
    fn(ctx, acc);
    return p->relay(p->ctx, 0, acc, n, err);
}

typedef struct table_fold {
    const em_table *t;
    em_fold_fn fold;
    void *ctx;
} table_fold;

static void fold_rows(void *ctx, double *acc)
{
    table_fold *f = ctx;
    f->fold(f->ctx, f->t, acc);
}

em_status em_table_fold(const em_table *t, double *acc, size_t n,
                        em_fold_fn fold, void *ctx, em_error *err)
{
    table_fold f = {.t = t, .fold = fold, .ctx = ctx};
    return em_parts_fold(t->parts, acc, n, fold_rows, &f, err);
}
