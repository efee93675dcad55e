/* A numeric data table: the columns a model fits, row-major, NaN = missing. */
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
    long *lines;   /* nrows source line numbers (1-based), for diagnostics */
    char *source;  /* name of the source for messages ("<stdin>" for "-") */
} em_table;

/* The value at row i, column j. */
static inline double em_table_at(const em_table *t, size_t i, size_t j)
{
    return t->values[i * t->ncols + j];
}

/* Frees everything the table owns and zeroes it; NULL and a zeroed table
 * are fine. */
void em_table_free(em_table *t);

#ifdef __cplusplus
}
#endif

#endif
