#include "core/scale.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/select.h"

/* Per column, carried over the rows: the observed values, and the first
 * value too large to square (1 once found, its line, the value). */
enum { S_COUNT, S_FOUND, S_LINE, S_VALUE, S_LEN };

static void count_and_find_large(void *ctx, const em_table *t, double *acc)
{
    (void)ctx;
    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < t->ncols; j++) {
            double x = em_table_at(t, i, j), *a = acc + S_LEN * j;
            if (isnan(x))
                continue;
            a[S_COUNT]++;
            if (fabs(x) > EM_MAX_ABS_VALUE && !a[S_FOUND])
                a[S_FOUND] = 1, a[S_LINE] = (double)em_table_line(t, i),
                a[S_VALUE] = x;
        }
}

static em_status too_large(const em_table *t, size_t j, const double *a,
                           em_error *err)
{
    return em_error_at(err, EM_ERR_DATA, t->source, (long)a[S_LINE], 0,
                       "column \"%s\": %g is too large to fit (its square "
                       "overflows a double)",
                       t->names[j], a[S_VALUE]);
}

/* The checks on one column's spread, given the median absolute deviation
 * in mad and the largest deviation from the median in dev->worst. */
static em_status check_spread(const em_table *t, const em_select_col *dev,
                              double mad, em_error *err)
{
    size_t j = dev->col;
    double worst = dev->worst;
    /* Below this every squared deviation underflows, so the column would
     * look constant or its variance would round to 0 in some sums and not
     * in others. */
    if (worst > 0 && worst < EM_MIN_SPREAD)
        return em_error_at(err, EM_ERR_DATA, t->source, 0, 0,
                           "column \"%s\": its values differ from their "
                           "median by at most %g, so little that their "
                           "squares underflow a double: rescale it",
                           t->names[j], worst);
    if (mad > 0 && worst > EM_MAX_SPREADS * mad)
        return em_error_at(err, EM_ERR_DATA, t->source, dev->far_line, 0,
                           "column \"%s\": %g lies %.1e times the column's "
                           "spread from its median, too far for double "
                           "precision to fit it with the rest: rescale or "
                           "remove it",
                           t->names[j], dev->far_value, worst / mad);
    return EM_OK;
}

/* Checks columns [j0, j1), none holding a too-large value, in order: the
 * median (k = n/2 of n observed values), then the median absolute
 * deviation with the largest deviation alongside.  Columns with fewer than
 * two values pass. */
static em_status check_group(const em_table *t, size_t j0, size_t j1,
                             const double *acc, em_select_col *c,
                             em_error *err)
{
    size_t n = 0;
    for (size_t j = j0; j < j1; j++) {
        size_t count = (size_t)acc[S_LEN * j + S_COUNT];
        if (count >= 2)
            c[n++] = (em_select_col){.col = j, .count = count,
                                     .k = count / 2};
    }
    em_status st = em_select_values(t, c, n, err);
    if (st != EM_OK)
        return st;
    /* A zero median comes out as +0.0 where the column may hold -0.0; the
     * distances |x - 0| are the same either way. */
    for (size_t i = 0; i < n; i++)
        c[i].center = c[i].value;
    st = em_select_distances(t, c, n, err);
    for (size_t i = 0; i < n && st == EM_OK; i++)
        st = check_spread(t, &c[i], c[i].value /* now the MAD */, err);
    return st;
}

em_status em_check_scale(const em_table *t, em_error *err)
{
    size_t ncols = t->ncols ? t->ncols : 1;
    double *acc = calloc(S_LEN * ncols, sizeof *acc);
    em_select_col *c = malloc(EM_SELECT_GROUP * sizeof *c);
    em_status st = acc && c ? em_table_fold(t, acc, S_LEN * ncols,
                                            count_and_find_large, NULL, err)
                            : em_error_set(err, EM_ERR_NOMEM, "out of memory");
    /* A column's too-large value is its first error, but every column
     * before it is checked in full first, as the columns are checked in
     * order. */
    size_t jl = 0;
    while (st == EM_OK && jl < t->ncols && !acc[S_LEN * jl + S_FOUND])
        jl++;
    for (size_t j = 0; j < jl && st == EM_OK; j += EM_SELECT_GROUP) {
        size_t end = jl - j < EM_SELECT_GROUP ? jl : j + EM_SELECT_GROUP;
        st = check_group(t, j, end, acc, c, err);
    }
    if (st == EM_OK && jl < t->ncols)
        st = too_large(t, jl, acc + S_LEN * jl, err);
    free(acc);
    free(c);
    return st;
}
