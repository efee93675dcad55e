#include "core/linalg.h"

#include <math.h>
#include <stdlib.h>

size_t em_cholesky(double *a, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0))
            return j + 1;
        double ljj = sqrt(d);
        a[j * n + j] = ljj;
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / ljj;
        }
        for (size_t i = 0; i < j; i++)
            a[i * n + j] = 0.0;
    }
    return 0;
}

double em_chol_logdet(const double *l, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += log(l[i * n + i]);
    return 2.0 * s;
}

void em_chol_forward(const double *l, size_t n, double *b)
{
    for (size_t i = 0; i < n; i++) {
        double s = b[i];
        for (size_t k = 0; k < i; k++)
            s -= l[i * n + k] * b[k];
        b[i] = s / l[i * n + i];
    }
}

void em_chol_back(const double *l, size_t n, double *y)
{
    for (size_t i = n; i-- > 0;) {
        double s = y[i];
        for (size_t k = i + 1; k < n; k++)
            s -= l[k * n + i] * y[k];
        y[i] = s / l[i * n + i];
    }
}

/* Normalises x in place and returns its former 2-norm, scaling by the
 * largest entry first so that squares of entries near 1e200 do not
 * overflow. */
static double normalise(double *x, size_t n)
{
    double big = 0, s = 0;
    for (size_t i = 0; i < n; i++)
        big = fmax(big, fabs(x[i]));
    if (!(big > 0) || !isfinite(big))
        return big;
    for (size_t i = 0; i < n; i++) {
        x[i] /= big;
        s += x[i] * x[i];
    }
    s = sqrt(s);
    for (size_t i = 0; i < n; i++)
        x[i] /= s;
    return big * s;
}

/* A fixed start with a component along every axis, so a run is repeatable
 * and unlikely to be orthogonal to the wanted eigenvector. */
static void start_vector(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 1.0 + (double)i / (double)(n + 1);
    normalise(x, n);
}

double em_chol_condition(const double *l, size_t n, double *work)
{
    enum { STEPS = 40 };
    double *x = work, *y = work + n, big = 0, inv = 0;
    start_vector(x, n);
    for (int it = 0; it < STEPS; it++) { /* x <- L L^T x */
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t k = i; k < n; k++)
                s += l[k * n + i] * x[k];
            y[i] = s;
        }
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t k = 0; k <= i; k++)
                s += l[i * n + k] * y[k];
            x[i] = s;
        }
        big = normalise(x, n);
    }
    start_vector(x, n);
    for (int it = 0; it < STEPS; it++) { /* x <- (L L^T)^-1 x */
        em_chol_forward(l, n, x);
        em_chol_back(l, n, x);
        inv = normalise(x, n);
    }
    double c = big * inv;
    return isfinite(c) ? c : INFINITY; /* NaN when a solve overflowed */
}

double em_chol_worst_condition(const double *l, size_t count, size_t n)
{
    double *work = malloc(2 * n * sizeof *work), worst = 0;
    if (!work)
        return INFINITY;
    for (size_t i = 0; i < count; i++)
        worst = fmax(worst, em_chol_condition(l + i * n * n, n, work));
    free(work);
    return worst;
}
