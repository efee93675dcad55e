/* The Gaussian mixture's E-step over blocks of complete rows (internal).
 *
 * The rows of a block are transposed so that every loop over them is a
 * loop over contiguous doubles: the Mahalanobis terms of all components,
 * the log-sum-exp and the weighted sums then vectorise, and the block stays
 * in cache from the densities to the sufficient statistics.  Sums over
 * rows go through eight fixed partial sums, reduced once per call of the
 * model's E-step, so the result does not depend on the vector width the
 * compiler picked.
 */
#ifndef EMFIT_GMM_BLOCK_H
#define EMFIT_GMM_BLOCK_H

#include <stddef.h>

/* Rows per block: a multiple of the eight partial sums. */
#define GMM_BLOCK_ROWS 64

/* What one iteration's components look like to the kernel. */
typedef struct gmm_block_params {
    size_t d, k;
    int factor;          /* 1: full Cholesky factors; 0: diagonal ones */
    int diag_stats;      /* 1: second moments of the diagonal only */
    const double *mu;    /* k x d means */
    const double *chol;  /* k x d x d lower factors (when factor) */
    const double *inv;   /* k x d: 1 / L_ii (factor) or 1 / variance */
    const double *cst;   /* k: log w - (d log 2 pi + log det) / 2 */
} gmm_block_params;

/* Doubles of work space gmm_block_estep needs (diag_stats as in
 * gmm_block_params); it must start zeroed. */
size_t gmm_block_work(size_t d, size_t k, int diag_stats);

/* Takes the n <= GMM_BLOCK_ROWS complete rows at x (row-major, d per row):
 * adds their log-likelihood and count into st[0] and st[1], and their
 * weighted sums into partial sums kept in work, which gmm_block_flush then
 * adds into st in the gmm layout: per component its weight sum, the d sums
 * of (x - mu), and the second moments of (x - mu), a packed upper triangle
 * or, with diag_stats, the d diagonal ones. */
void gmm_block_estep(const gmm_block_params *bp, const double *x, size_t n,
                     double *st, double *work);

/* gmm_block_estep when none of the rows has a missing value, returning 1;
 * otherwise 0, having added nothing.  The check costs little beside the
 * kernel, and far less than testing row by row. */
int gmm_block_estep_complete(const gmm_block_params *bp, const double *x,
                             size_t n, double *st, double *work);

/* The instruction sets the kernel is compiled for. */
enum { GMM_ISA_BASE, GMM_ISA_AVX2, GMM_ISA_AVX512 };

/* gmm_block_estep on the given instruction set, for tests that check each
 * gives the same bits; returns 0 (doing nothing) when this build or CPU
 * lacks it. */
int gmm_block_estep_on(int isa, const gmm_block_params *bp, const double *x,
                       size_t n, double *st, double *work);

/* Adds the partial sums in work into st and zeroes them. */
void gmm_block_flush(const gmm_block_params *bp, double *work, double *st);

#endif
