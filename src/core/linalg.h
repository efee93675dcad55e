/* Small dense linear algebra for covariance matrices (internal).
 * Matrices are row-major n x n; only the lower triangle of a Cholesky
 * factor is used.  No explicit inverse is ever formed. */
#ifndef EMFIT_LINALG_H
#define EMFIT_LINALG_H

#include <stddef.h>

/* Overwrites the lower triangle of a (n x n, symmetric positive definite)
 * with L such that a = L L^T, zeroing the strict upper triangle.  Returns 0
 * on success, or 1 + the index of the first non-positive pivot. */
size_t em_cholesky(double *a, size_t n);

/* log det(a) from its Cholesky factor: 2 sum log L_ii. */
double em_chol_logdet(const double *l, size_t n);

/* Solves L y = b in place (forward substitution). */
void em_chol_forward(const double *l, size_t n, double *b);

/* Solves L^T x = y in place (back substitution). */
void em_chol_back(const double *l, size_t n, double *y);

#endif
