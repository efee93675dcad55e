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

/* An estimate of the 2-norm condition number of a = L L^T from its factor:
 * power iteration for the largest eigenvalue and, through two triangular
 * solves per step, for the largest of a^-1.  work needs 2n doubles.  It can
 * only underestimate, and is meant to tell 1e4 from 1e14, not to be exact. */
double em_chol_condition(const double *l, size_t n, double *work);

/* The largest em_chol_condition among count factors stored one after
 * another (n x n each); infinity when scratch memory cannot be had. */
double em_chol_worst_condition(const double *l, size_t count, size_t n);

#endif
