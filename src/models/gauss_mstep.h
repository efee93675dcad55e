/* The M-step, and what it gains in Q, for K normals under one of the
 * covariance structures --cov names (internal): gmm's components and an
 * HMM's Gaussian emissions share it, since they differ only in what
 * weights the statistics (responsibilities, state probabilities).
 *
 * Parameters: the means, K x D row by row, and apart from them the
 * covariance blocks, one per normal (one in all for tied):
 *   full, tied  the packed upper triangle (em_gauss_tri), D(D+1)/2
 *   diag        D variances
 *   spherical   one variance
 * Statistics, em_gauss_nstat doubles per normal k, about its current mean
 * mu_k: N = sum r, S1 = sum r dev (D), then S2 = sum r (dev dev^T + the
 * conditional covariance of the missing block): packed, or only its D
 * diagonal entries for diag and spherical (em_gauss_diag_stats), as
 * em_gauss_add_moments and em_gauss_add_cond_cov lay them out.
 *
 * With M = S2 / N - (S1 / N)(S1 / N)^T the M-step is mu += S1 / N and the
 * covariance M (full), diag(M), trace(M) / D (spherical) or
 * sum_k N_k M_k / N (tied), plus reg on the diagonal.
 */
#ifndef EMFIT_GAUSS_MSTEP_H
#define EMFIT_GAUSS_MSTEP_H

#include <stddef.h>

#include "emfit/error.h"
#include "emfit/model.h"

/* In --cov's order: "full", "diag", "spherical", "tied". */
typedef enum {
    EM_COV_FULL,
    EM_COV_DIAG,
    EM_COV_SPHERICAL,
    EM_COV_TIED
} em_cov_kind;

/* K normals in D dimensions; reg is added to the diagonal of every
 * covariance the M-step makes. */
typedef struct em_gauss_shape {
    em_cov_kind kind;
    size_t d, k;
    double reg;
} em_gauss_shape;

/* One parameter point: K weights or NULL (no mixing weights, as for HMM
 * emissions), K x D means and the covariance blocks. */
typedef struct em_gauss_point {
    const double *w, *mean, *cov;
} em_gauss_point;

/* The structure and reg that --cov and --reg ask for: full and 1e-6 when
 * not given; EM_ERR_ARG for another name or a negative reg. */
em_status em_gauss_settings(const em_model_config *cfg, em_cov_kind *kind,
                            double *reg, em_error *err);

/* The name --cov gives kind. */
const char *em_cov_name(em_cov_kind kind);

/* 1 when the structure needs only the diagonal of S2 (diag, spherical). */
int em_gauss_diag_stats(em_cov_kind kind);

/* Parameters in one covariance block of the structure, D dimensions. */
size_t em_gauss_ncov(em_cov_kind kind, size_t d);

/* Statistics per normal: 1 + D + D or D(D+1)/2. */
size_t em_gauss_nstat(em_cov_kind kind, size_t d);

/* The ncov parameters of one covariance block c in unconstrained
 * coordinates u (for to_free): the Cholesky factor with log diagonal
 * (full, tied) or the log variances (diag, spherical); and back. */
void em_gauss_cov_to_free(em_cov_kind kind, size_t d, const double *c,
                          double *u);
void em_gauss_cov_from_free(em_cov_kind kind, size_t d, const double *u,
                            double *c);

/* Writes the covariance block c as a full d x d matrix s (row-major). */
void em_gauss_cov_expand(em_cov_kind kind, size_t d, const double *c,
                         double *s);

/* The M-step from the statistics st (sh->k blocks of em_gauss_nstat):
 * adds S1 / N to each mean in mean and writes each covariance block in
 * cov.  A normal with N = 0 (or NaN) keeps its mean and covariance.  Tied
 * pools sum_k N_k M_k / pool_n, written only when pool_n > 0 (gmm passes
 * the row count, an HMM the sum of the N_k).  Weights are the caller's.
 * Returns EM_OK, or EM_ERR_NOMEM with err filled. */
em_status em_gauss_mstep(const em_gauss_shape *sh, const double *st,
                         double pool_n, double *mean, double *cov,
                         em_error *err);

/* Q(next | cur) - Q(cur | cur) over the normals' parts of Q, up to
 * constants, for the statistics st gathered at cur:
 *   sum_k N_k log w_k - N_k / 2 [log |S_k| + tr(S_k^-1 (M_k + e e^T))],
 * e the distance from the weighted mean to the point's mean (the weight
 * term only when the points have weights).  0 when reg is 0, where the
 * M-step is exact; NaN when memory ran out or a covariance is not
 * positive definite. */
double em_gauss_q_gain(const em_gauss_shape *sh, const double *st,
                       const em_gauss_point *cur,
                       const em_gauss_point *next);

#endif
