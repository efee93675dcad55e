/* The multivariate normal with any pattern of missing values, as a core
 * that both the mvn model and bvn (its D = 2 case under other names) are
 * built on (internal).
 *
 * Parameters in the core's own form: the mean mu (d) and the covariance
 * as a packed upper triangle cov (d(d+1)/2, (i, j) at em_gauss_tri).
 *
 * Statistics after the driver's header, about the prepared mean:
 *   S1 = sum E[x - mu | x_o]                                 (d)
 *   S2 = sum E[(x - mu)(x - mu)^T | x_o], packed upper        (d(d+1)/2)
 * With mean_only (the document-000 procedure, not EM) S2 leaves out the
 * conditional covariance of the missing block.
 */
#ifndef EMFIT_MVN_H
#define EMFIT_MVN_H

#include <stddef.h>

#include "emfit/error.h"
#include "emfit/model.h"
#include "emfit/table.h"

typedef struct em_mvn em_mvn;

/* Settings of the core, from the model's options. */
typedef struct em_mvn_settings {
    int mean_only; /* drop the conditional covariance (--estep mean) */
    int has_fill;  /* start from the data with every missing value = fill */
    double fill;
} em_mvn_settings;

/* Reads --estep (full or mean) and --fill from cfg; EM_ERR_ARG for a bad
 * value. */
em_status em_mvn_settings_from(const em_model_config *cfg,
                               em_mvn_settings *set, em_error *err);

/* Checks data (which must outlive the core) and builds the core:
 *   EM_ERR_ARG   more than 1000 columns
 *   EM_ERR_DATA  a column with no observed value or a constant one; a
 *                pair of columns seen together in fewer than 3 rows, or
 *                whose rows seen together lie on a line; values too
 *                large or too spread for doubles
 * *nskipped gets the number of rows with no observed value. */
em_status em_mvn_create(const em_table *data, const em_mvn_settings *set,
                        em_mvn **out, size_t *nskipped, em_error *err);
void em_mvn_free(em_mvn *m);

/* The number of statistics after the header, for dimension d. */
size_t em_mvn_nstats(size_t d);

/* The default start: each column's mean and variance over its own values
 * and each pair's correlation over the rows that hold both (every missing
 * value set to fill when set->has_fill).  Off-diagonal terms are shrunk
 * until the matrix is positive definite. */
em_status em_mvn_start(const em_mvn *m, double *mu, double *cov,
                       em_error *err);

/* Factors cov for the E-step; EM_ERR_NUMERIC when it is not positive
 * definite. */
em_status em_mvn_prepare(em_mvn *m, const double *mu, const double *cov,
                         em_error *err);

/* The model E-step over rows [begin, end), grouped by missing pattern so
 * each pattern's regression is computed once per call. */
void em_mvn_estep(const em_mvn *m, size_t begin, size_t end, double *stats);

/* The M-step's moments: mu += S1 / n and cov = S2 / n - (S1 / n)^2, with
 * n the rows that carried data.  No check of cov. */
void em_mvn_moments(const em_mvn *m, const double *stats, double *mu,
                    double *cov);

/* The impute hook, after prepare: rows [begin, end) with missing values
 * replaced by E[x_m | x_o]; rows without data get NaNs. */
void em_mvn_impute(const em_mvn *m, size_t begin, size_t end, double *out);

/* Past this condition number of the correlation matrix, rounding in the
 * densities decides the digits of the log-likelihood that EM compares. */
#define EM_MVN_MAX_CONDITION 1e12

/* EM_ERR_NUMERIC, "numerically unreliable", when cond (of the correlation
 * matrix) exceeds EM_MVN_MAX_CONDITION; EM_OK otherwise. */
em_status em_mvn_conditioned(double cond, em_error *err);

/* After prepare: the condition number of the correlation matrix (the
 * prepared covariance scaled to unit variances), estimated. */
double em_mvn_condition(const em_mvn *m);

/* After prepare: the largest |mu_i| / sd_i.  Centring a value on its mean
 * loses that factor of relative precision (data 1e17 from 0 with a spread
 * of 10 keep no digit of their deviations), so the models' condition
 * hooks, which tell the driver how much rounding to expect, include it. */
double em_mvn_centring(const em_mvn *m);

#endif
