/* A data table: the columns a model fits, row-major, NaN = missing; a
 * column of symbols holds their codes. */
#ifndef EMFIT_TABLE_H
#define EMFIT_TABLE_H

#include <stddef.h>

#include "emfit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct em_parts;

typedef struct em_table {
    size_t nrows;
    size_t ncols;
    char **names;  /* ncols column names (UTF-8, NUL-terminated) */
    double *values; /* nrows * ncols, row-major; NaN marks a missing value */
    long *lines;   /* nrows source line numbers (1-based), for diagnostics;
                      NULL when row i is on line first_line + i */
    long first_line; /* 0 when the lines are not known */
    char *source;  /* name of the source for messages ("<stdin>" for "-") */
    /* Columns read as symbols (em_csv_options.symbols): levels[j] holds
     * the nlevels[j] texts of column j's codes 0, 1, ...; levels[j] is NULL
     * for a numeric column, and levels itself NULL when no column has
     * symbols. */
    char ***levels;
    size_t *nlevels;
    /* Non-NULL when values and lines point into a read-only mapping of a
     * binary cache (emfit/cache.h) of map_len bytes, which em_table_free
     * unmaps instead of freeing them. */
    void *map;
    size_t map_len;
    /* NULL, or how this table is one part of a larger one whose rows are
     * split across processes (MPI): see em_parts. */
    const struct em_parts *parts;
} em_table;

/* A table split across processes: part p of nparts holds rows [row0, row0
 * + nrows) of the whole, which has total rows, and the parts follow each
 * other in row order.  relay carries an accumulator from part to part so
 * that a pass over the whole table's rows in order (em_table_fold) runs
 * exactly as it would in one process. */
typedef struct em_parts {
    size_t part, nparts;
    size_t row0, total;
    void *ctx;
    /* before: 1: acc (n doubles) gets the value the previous part left
     * (part 0 keeps its own); 0: this part's value goes to the next part,
     * and then every part's acc gets the last part's value.  Any failure
     * is EM_ERR_IO. */
    em_status (*relay)(void *ctx, int before, double *acc, size_t n,
                       em_error *err);
} em_parts;

/* Runs fn(ctx, acc) on every part in turn, in part order, each starting
 * from the acc the previous part left; every part ends with the last
 * part's acc.  p NULL or of one part: fn(ctx, acc). */
em_status em_parts_fold(const em_parts *p, double *acc, size_t n,
                        void (*fn)(void *ctx, double *acc), void *ctx,
                        em_error *err);

/* One pass's work on the rows of t, in order, carrying acc. */
typedef void (*em_fold_fn)(void *ctx, const em_table *t, double *acc);

/* Runs fold over the rows of the whole table in row order, with acc (n
 * doubles, initialised by the caller) carried from row to row: for a
 * table in one piece that is fold(ctx, t, acc); for a part (t->parts) the
 * parts run one after another, each starting from the acc the previous
 * left, and every part ends with the final acc.  Because each part does
 * the same additions in the same order as one process would, the result
 * is the same to the last bit. */
em_status em_table_fold(const em_table *t, double *acc, size_t n,
                        em_fold_fn fold, void *ctx, em_error *err);

/* Rows of the whole table (t->nrows for a table in one piece). */
static inline size_t em_table_total(const em_table *t)
{
    return t->parts ? t->parts->total : t->nrows;
}

/* The value at row i, column j. */
static inline double em_table_at(const em_table *t, size_t i, size_t j)
{
    return t->values[i * t->ncols + j];
}

/* The source line of row i, or 0 when not known. */
static inline long em_table_line(const em_table *t, size_t i)
{
    return t->lines ? t->lines[i] : t->first_line ? t->first_line + (long)i : 0;
}

/* Frees everything the table owns and zeroes it; NULL and a zeroed table
 * are fine. */
void em_table_free(em_table *t);

#ifdef __cplusplus
}
#endif

#endif
