/* A data table: the columns a model fits, row-major, NaN = missing; a
 * column of symbols holds their codes. */
#ifndef EMFIT_TABLE_H
#define EMFIT_TABLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

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
} em_table;

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
