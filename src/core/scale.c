#include "core/scale.h"

#include <math.h>
#include <stdlib.h>

/* The k-th smallest of v[0..n) (0-based), reordering v: quickselect with
 * a middle pivot, iterative. */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j], v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

static em_status check_column(const em_table *t, size_t j, double *v,
                              em_error *err)
{
    size_t n = 0, far = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        double x = em_table_at(t, i, j);
        if (isnan(x))
            continue;
        if (fabs(x) > EM_MAX_ABS_VALUE)
            return em_error_at(err, EM_ERR_DATA, t->source,
                               em_table_line(t, i), 0,
                               "column \"%s\": %g is too large to fit (its "
                               "square overflows a double)",
                               t->names[j], x);
        v[n++] = x;
    }
    if (n < 2)
        return EM_OK;
    double med = select_kth(v, n, n / 2);
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - med);
    double mad = select_kth(v, n, n / 2), worst = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        double d = fabs(em_table_at(t, i, j) - med);
        if (d > worst) /* NaN compares false */
            worst = d, far = i;
    }
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
        return em_error_at(err, EM_ERR_DATA, t->source,
                           em_table_line(t, far), 0,
                           "column \"%s\": %g lies %.1e times the column's "
                           "spread from its median, too far for double "
                           "precision to fit it with the rest: rescale or "
                           "remove it",
                           t->names[j], em_table_at(t, far, j), worst / mad);
    return EM_OK;
}

em_status em_check_scale(const em_table *t, em_error *err)
{
    double *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    if (!v)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = EM_OK;
    for (size_t j = 0; j < t->ncols && st == EM_OK; j++)
        st = check_column(t, j, v, err);
    free(v);
    return st;
}
