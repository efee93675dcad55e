/* The hidden Markov model's emissions (internal): what hmm.c needs from
 * hmm_emission.c.
 *
 * The chain (hmm.c) sees an emission only through the log-density of one
 * step under each state and the statistics that step adds for its
 * smoothed state probabilities, so the forward-backward pass is the same
 * for every emission type.
 *
 * A step is d doubles of the model's copy of the data: the emission
 * columns for gaussian (NaN = missing), one symbol code for categorical.
 */
#ifndef EMFIT_HMM_H
#define EMFIT_HMM_H

#include <stddef.h>
#include <stdio.h>

#include "core/rng.h"
#include "emfit/error.h"
#include "emfit/model.h"
#include "models/gauss.h"

typedef enum { HMM_GAUSSIAN, HMM_CATEGORICAL } hmm_kind;

/* Steps whose emission densities are computed together. */
#define HMM_BLOCK 64
typedef enum { HMM_FULL, HMM_DIAG, HMM_SPHERICAL, HMM_TIED } hmm_cov;

typedef struct hmm_emission {
    hmm_kind kind;
    size_t k, d;          /* states; values per step */
    size_t nparams;       /* emission parameters */
    size_t nstats;        /* emission statistics, after the chain's */
    size_t nfree;
    /* categorical */
    size_t nsym;
    char *const *symbols; /* the table's levels of the column */
    double *logp;         /* prepared: k x nsym log probabilities */
    /* gaussian, laid out as gmm lays them out */
    hmm_cov cov;
    double reg;
    int init_random;
    size_t ncov, tri, nstat_k;
    int diag_stats;
    double *mu, *sig, *chol, *logdet; /* prepared, per state */
    double *invdiag, *cst;            /* prepared: 1 / L_ii per state, and
                                         -(d log 2 pi + log det) / 2 */
    double *colmean, *colvar;         /* of the observed values */
} hmm_emission;

/* Reads the emission settings (--emission, --cov, --reg, --init) and
 * sizes e for k states over the n x d steps x; symbols is the emission
 * column's levels (categorical). */
em_status hmm_emit_setup(hmm_emission *e, const em_model_config *cfg,
                         size_t k, size_t d, size_t nsym,
                         char *const *symbols, em_error *err);
em_status hmm_emit_alloc(hmm_emission *e, const double *x, size_t n);
void hmm_emit_free(hmm_emission *e);

/* Writes the e->nparams emission names into names (each malloc'd); 0 when
 * memory ran out. */
int hmm_emit_names(const hmm_emission *e, char **names);

em_status hmm_emit_check(const hmm_emission *e, const double *th,
                         char *const *names, size_t *bad, em_error *err);
em_status hmm_emit_prepare(hmm_emission *e, const double *th, em_error *err);

/* Log-densities of step x under each state into lb; returns 0 when x has
 * no observed value (the step then has density 1 under every state). */
int hmm_emit_logdens(const hmm_emission *e, const double *x,
                     em_gauss_work *w, double *lb);

/* The same for the n <= HMM_BLOCK steps at x: log-densities into lb
 * (n x k) and the return values into any (n flags).  Complete Gaussian
 * steps are solved together, state by state, in loops over the steps that
 * vectorise; work needs hmm_emit_block_work(e) doubles. */
void hmm_emit_block(const hmm_emission *e, const double *x, size_t n,
                    em_gauss_work *w, double *work, double *lb,
                    unsigned char *any);
size_t hmm_emit_block_work(const hmm_emission *e);

/* Adds step x's statistics, weighted by the state probabilities gamma,
 * into st (e->nstats doubles); dev is d doubles of scratch. */
void hmm_emit_add(const hmm_emission *e, const double *x, const double *gamma,
                  em_gauss_work *w, double *dev, double *st);

/* The same for the n <= HMM_BLOCK steps at x with their state
 * probabilities gamma (n x k); complete Gaussian steps are summed
 * together.  work as for hmm_emit_block. */
void hmm_emit_add_block(const hmm_emission *e, const double *x, size_t n,
                        const double *gamma, em_gauss_work *w, double *work,
                        double *dev, double *st);

/* The emission M-step from st into th (the emission part of theta). */
em_status hmm_emit_mstep(const hmm_emission *e, const double *st,
                         const unsigned char *fixed, char *const *names,
                         double *th, em_error *err);

/* What the emission M-step lost in Q (reg makes it inexact); 0 when
 * exact, NaN when it cannot tell. */
double hmm_emit_q_gain(const hmm_emission *e, const double *st,
                       const double *cur, const double *next);

/* The default start of the emission part from the n steps x
 * (hmm_start.c). */
em_status hmm_emit_init(const hmm_emission *e, em_rng *rng, const double *x,
                        size_t n, double *th, em_error *err);

/* State i's covariance as a full d x d matrix, and where its parameters
 * start in the emission part of theta (gaussian). */
void hmm_emit_cov(const hmm_emission *e, const double *th, size_t i,
                  double *s);
size_t hmm_emit_off_cov(const hmm_emission *e, size_t i);

/* The Gaussian M-step from the statistics st (hmm_emit_mstep without
 * held parameters). */
em_status hmm_gaussian_mstep(const hmm_emission *e, const double *st,
                             double *th, em_error *err);

/* The largest condition number of the prepared covariances (gaussian). */
double hmm_emit_condition(const hmm_emission *e);

/* JSON members describing the emission part, for the result. */
void hmm_emit_json(const hmm_emission *e, const double *th, FILE *f);

/* The stationary distribution pi of the k x k transition matrix a into
 * pi; 0 when it is not unique (a reducible chain). */
int hmm_stationary(const double *a, size_t k, double *pi);

/* Sets a probability vector p[0..n) to counts c proportionally, holding
 * the entries flagged in fixed (NULL: none) and giving the others the
 * rest of the mass; keeps p when the free entries have no counts. */
void hmm_prob_mstep(double *p, const double *c, size_t n,
                    const unsigned char *fixed);

/* 1 when p[0..n) is a probability vector (to 1e-9 per entry). */
int hmm_is_prob(const double *p, size_t n);

/* Unconstrained coordinates of a probability vector (see to_free in
 * emfit/model.h): log(p_j / p_r) for each unheld entry j but the last
 * unheld one, r.  Writes and returns their count. */
size_t hmm_prob_to_free(const double *p, size_t n,
                        const unsigned char *fixed, double *u);

/* The inverse: the unheld entries share what the held ones leave, as a
 * softmax of u with r's coordinate 0.  Returns the coordinates read. */
size_t hmm_prob_from_free(const double *u, size_t n,
                          const unsigned char *fixed, double *p);

/* The same for the emission part of theta. */
size_t hmm_emit_to_free(const hmm_emission *e, const double *th,
                        const unsigned char *fixed, double *u);
void hmm_emit_from_free(const hmm_emission *e, const double *u,
                        const unsigned char *fixed, double *th);

/* The model (hmm.c), as the forward-backward pass (hmm_fb.c) reads it. */
typedef struct hmm {
    size_t k, d, n;     /* states; values per step; steps (rows) */
    double *x;          /* n x d: the emission values of every row */
    size_t nseq;
    size_t *seq;        /* nseq + 1 row offsets */
    size_t nobs;        /* steps with an observed value */
    size_t nparams, off_emit;
    char **names;
    hmm_emission em;
    /* prepared */
    const double *start, *trans; /* into a copy of theta */
    double *theta;
    double *logstart, *logtrans; /* for Viterbi */
} hmm;

/* The model's estep, posterior and decode hooks (hmm_fb.c). */
void hmm_estep(const void *state, size_t begin, size_t end, double *stats);
void hmm_posterior(const void *state, size_t begin, size_t end, double *out);
void hmm_decode(const void *state, size_t begin, size_t end, double *out);

#endif
