/* Exact order statistics of a table's columns, found in passes over its
 * rows with scratch memory that does not grow with the number of rows, so
 * that a table whose values are mapped from a file costs no copy of a
 * column (internal). */
#ifndef EMFIT_SELECT_H
#define EMFIT_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "emfit/error.h"
#include "emfit/table.h"

/* Columns served by one pass over the rows.  Each costs at most
 * EM_SELECT_BUCKETS counters of 8 bytes (512 KiB), so a group holds at
 * most 32 MiB of scratch. */
#define EM_SELECT_GROUP 64
#define EM_SELECT_DIGIT_BITS 16
#define EM_SELECT_BUCKETS ((size_t)1 << EM_SELECT_DIGIT_BITS)

/* One column's request and answer. */
typedef struct em_select_col {
    size_t col;    /* in: the table column */
    size_t count;  /* in: how many of its values are observed (not NaN) */
    size_t k;      /* in: the rank sought, 0-based, below count */
    double center; /* in, for distances only */
    double value;  /* out: the k-th smallest; a zero comes out as +0.0 */
    double worst;  /* out, for distances only: the largest distance, 0 when
                      none is positive */
    long far_line; /* out, for distances only: the source line of the
                      first row holding worst (0 when worst is 0 or the
                      line is not known) ... */
    double far_value; /* ... and that row's value */
} em_select_col;

/* A key for each non-NaN double whose unsigned order is the order of <,
 * with -0.0 and +0.0 given the same key (+0.0's). */
static inline uint64_t em_select_key(double x)
{
    union { double d; uint64_t u; } b;
    b.d = x == 0 ? 0.0 : x;
    return b.u >> 63 ? ~b.u : b.u | (uint64_t)1 << 63;
}

/* The double whose key is key. */
static inline double em_select_unkey(uint64_t key)
{
    union { double d; uint64_t u; } b;
    b.u = key >> 63 ? key ^ (uint64_t)1 << 63 : ~key;
    return b.d;
}

/* For each of the n requests, the k-th smallest of the observed values of
 * its column.  NaN marks a missing value and is skipped.  For a table
 * split across processes (t->parts) the counts of every pass are carried
 * from part to part (em_table_fold) and count is over all parts; the
 * answers are the same.  EM_ERR_NOMEM if scratch cannot be had. */
em_status em_select_values(const em_table *t, em_select_col *c, size_t n,
                           em_error *err);

/* As em_select_values, of the distances |x - center| of the observed
 * values from their column's center, which must be finite, as must the
 * values (so that no distance is NaN); also fills worst and far. */
em_status em_select_distances(const em_table *t, em_select_col *c, size_t n,
                              em_error *err);

#endif
