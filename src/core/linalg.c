#include "core/linalg.h"

#include <math.h>

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
