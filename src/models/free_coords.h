/* Maps between bounded parameters and unconstrained coordinates, for the
 * models' to_free and from_free hooks (internal).  Each pair is inverse up
 * to rounding; a value on the boundary maps to an infinite coordinate,
 * which callers treat as "no unconstrained form". */
#ifndef EMFIT_FREE_COORDS_H
#define EMFIT_FREE_COORDS_H

#include <math.h>
#include <stddef.h>

/* log(p / (1 - p)), for a probability p. */
static inline double em_logit(double p)
{
    return log(p) - log1p(-p);
}

/* 1 / (1 + exp(-u)): no overflow for any u (exp(800) is inf, and 1/inf
 * is 0). */
static inline double em_expit(double u)
{
    return u >= 0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u));
}

/* Cholesky factor with log diagonal of the d x d symmetric matrix whose
 * upper triangle is packed row by row in s (s[(i,j)], i <= j), written to
 * u as the lower triangle row by row (u[(i,j)], j <= i, i(i+1)/2 + j).
 * A matrix that is not positive definite gives NaN coordinates. */
static inline void em_cov_to_free(const double *s, size_t d, double *u)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            /* S_ij with j <= i is s at packed upper index (j, i) */
            double a = s[j * d - j * (j - 1) / 2 + (i - j)];
            for (size_t k = 0; k < j; k++)
                a -= u[i * (i + 1) / 2 + k] * u[j * (j + 1) / 2 + k];
            if (i == j)
                u[i * (i + 1) / 2 + i] = a > 0 ? sqrt(a) : NAN;
            else
                u[i * (i + 1) / 2 + j] = a / u[j * (j + 1) / 2 + j];
        }
    for (size_t i = 0; i < d; i++) /* logs after use as divisors */
        u[i * (i + 1) / 2 + i] = log(u[i * (i + 1) / 2 + i]);
}

/* The inverse of em_cov_to_free: S = L L^T into the packed upper triangle
 * s, with L_ii = exp(u_ii). */
static inline void em_cov_from_free(const double *u, size_t d, double *s)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            double a = 0; /* sum over k <= i of L_ik L_jk */
            for (size_t k = 0; k <= i; k++) {
                double lik = k == i ? exp(u[i * (i + 1) / 2 + i])
                                    : u[i * (i + 1) / 2 + k];
                double ljk = k == j ? exp(u[j * (j + 1) / 2 + j])
                                    : u[j * (j + 1) / 2 + k];
                a += lik * ljk;
            }
            s[i * d - i * (i - 1) / 2 + (j - i)] = a;
        }
}

#endif
