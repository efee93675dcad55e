/* One multivariate normal seen through a row with missing values
 * (internal): the pieces gmm, mvn and bvn (and an HMM's Gaussian
 * emissions) share.
 *
 * A row x of d coordinates splits into observed ones o and missing ones m
 * (NaN).  Under N(mu, S), with L the Cholesky factor of S_oo:
 *   log p(x_o)   = -(|o| log 2 pi + log det S_oo + |y|^2) / 2,
 *                  y = L^-1 (x_o - mu_o)
 *   E[x_m | x_o] = mu_m + W^T y,       W = L^-1 S_om
 *   Cov[x_m | x_o] = S_mm - W^T W
 * No inverse is formed.  With exactly two observed coordinates the
 * log-density takes the closed bivariate form instead, which is symmetric
 * in the two (so swapping two columns swaps a fit bit for bit).  The factor, W and the conditional covariance
 * depend only on the pattern (which coordinates are missing), so a caller
 * with many rows of one pattern computes them once (em_gauss_factor,
 * em_gauss_regression) and then runs the per-row functions on each row.
 *
 * Matrices are row-major d x d (stride d), whatever the pattern's size.
 * Second moments are packed upper triangles: (i, j), i <= j, at
 * em_gauss_tri(d, i, j).
 */
#ifndef EMFIT_GAUSS_H
#define EMFIT_GAUSS_H

#include <stddef.h>

/* The state of one pattern under one normal, and per-row scratch.  The
 * fields are read by callers; only the functions below write them. */
typedef struct em_gauss_work {
    size_t d;
    size_t no, nm;    /* observed and missing counts of the pattern */
    size_t *obs, *mis; /* their coordinates, ascending (d each) */
    const double *l;  /* factor of S_oo: chol itself when nothing is
                         missing, else own (stride no) */
    double logdet;    /* log det S_oo */
    const double *sig; /* S, as em_gauss_factor last saw it */
    double *own;      /* d x d: room for the factor of S_oo */
    double *w;        /* d x d: row b is W's column b, L^-1 S_o,mis[b] */
    double *c;        /* d x d: Cov[x_m | x_o], (b, c) at c[b * d + c] */
    double *y;        /* d: L^-1 (x_o - mu_o) of the last row */
    int borrows;      /* w and c belong to another work */
} em_gauss_work;

/* Index of (i, j), i <= j, in a packed upper triangle of side d. */
static inline size_t em_gauss_tri(size_t d, size_t i, size_t j)
{
    return i * d - i * (i - 1) / 2 + (j - i);
}

/* Allocates w's arrays for dimension d; 0 when memory ran out (w is then
 * still safe to free).  free of a zeroed or failed work is a no-op. */
int em_gauss_work_init(em_gauss_work *w, size_t d);
void em_gauss_work_free(em_gauss_work *w);

/* As em_gauss_work_init, but w uses lender's W and conditional covariance
 * (2 d^2 doubles fewer): for several normals (a mixture's components)
 * whose factors must coexist while only one regression is in use at a
 * time.  Free w before lender. */
int em_gauss_work_init_borrowing(em_gauss_work *w, size_t d,
                                 const em_gauss_work *lender);

/* Sets w's pattern from row x (NaN = missing); returns the observed
 * count. */
size_t em_gauss_split(em_gauss_work *w, const double *x);

/* 1 when row x has w's pattern. */
int em_gauss_same_pattern(const em_gauss_work *w, const double *x);

/* For w's pattern (with no > 0) under S = sig, whose full Cholesky factor
 * chol and log det logdet the caller has: the factor of S_oo and its log
 * det.  A complete row borrows chol.  Returns 0, or nonzero when S_oo is
 * not numerically positive definite (a principal block of a positive
 * definite S always is, up to rounding). */
int em_gauss_factor(em_gauss_work *w, const double *sig, const double *chol,
                    double logdet);

/* After em_gauss_factor, for a pattern with missing coordinates: W and
 * the conditional covariance of the missing block. */
void em_gauss_regression(em_gauss_work *w, const double *sig);

/* After em_gauss_factor: the log-density of row x's observed coordinates
 * under N(mu, sig), every constant included; leaves y in w. */
double em_gauss_logpdf(em_gauss_work *w, const double *x, const double *mu);

/* After em_gauss_logpdf on x (and em_gauss_regression when the pattern
 * has missing coordinates): dev = E[x | x_o] - mu, all d coordinates. */
void em_gauss_cond_dev(const em_gauss_work *w, const double *x,
                       const double *mu, double *dev);

/* Adds r dev to s1 (d) and r dev dev^T to s2: the packed upper triangle,
 * or with diag_only its d diagonal entries. */
void em_gauss_add_moments(size_t d, const double *dev, double r,
                          int diag_only, double *s1, double *s2);

/* Adds r Cov[x_m | x_o] into s2 (laid out as in em_gauss_add_moments),
 * which completes E[(x - mu)(x - mu)^T | x_o]. */
void em_gauss_add_cond_cov(const em_gauss_work *w, double r, int diag_only,
                           double *s2);

#endif
