/* The interface every model implements, and the model instance.
 *
 * A model sees its parameters as one flat vector theta of doubles with a
 * name per element; the driver owns theta, the loop, the trace and the
 * stopping rule.  One EM iteration, as the driver runs it:
 *
 *   prepare(state, theta)              per-iteration constants (Cholesky
 *                                      factors, log weights), computed once
 *   for each block [b, e) of units:    units are the independent pieces of
 *       zero(block stats)              the data: rows for most models, whole
 *       estep(state, b, e, block)      sequences for an HMM
 *       total += block                 fixed block order, so the sums do not
 *                                      depend on threads, streams or ranks
 *   mstep(state, total, theta_next)
 *
 * The statistics vector starts with a header the driver reads:
 *   stats[EM_STAT_LOGLIK]  observed-data log-likelihood at theta, every
 *                          constant included (so AIC and BIC are right)
 *   stats[EM_STAT_NOBS]    number of units that carried data
 * followed by info.nstats model-specific expected sufficient statistics.
 * Everything in the vector is a sum over units, so blocks computed anywhere
 * can be added.
 */
#ifndef EMFIT_MODEL_H
#define EMFIT_MODEL_H

#include <stddef.h>
#include <stdio.h>

#include "emfit/error.h"
#include "emfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { EM_STAT_LOGLIK = 0, EM_STAT_NOBS = 1, EM_STAT_HEADER = 2 };

/* Model settings from the command line.  Each model reads the fields it
 * declares in em_model_type.options and ignores the rest. */
typedef struct em_model_config {
    const char *estep; /* "full" or "mean" (bvn); NULL = the model's default */
    int has_fill;      /* bvn: start from the fit to data with missing = fill */
    double fill;
    int has_sigma;     /* mixed-normal: known common standard deviation */
    double sigma;
    int free_sigma;    /* mixed-normal: estimate sigma too */
    size_t k;          /* gmm: components (0 = the model's default) */
    const char *cov;   /* gmm: full, diag, spherical or tied; NULL = full */
    int has_reg;       /* gmm: added to every covariance diagonal */
    double reg;
    const char *init;  /* gmm, hmm: kmeans++ or random; NULL = kmeans++ */
    const char *emission; /* hmm: gaussian or categorical; NULL = gaussian */
    size_t sequence_col;  /* hmm: 1 + the table column whose changes of
                             value split the rows into sequences; 0: the
                             rows are one sequence */
} em_model_config;

/* What a model instance tells the driver, fixed once created. */
typedef struct em_model_info {
    size_t nparams;                 /* length of theta */
    const char *const *param_names; /* nparams names, owned by the state */
    size_t nfree;                   /* free parameters, for AIC and BIC */
    size_t nunits;                  /* units the E-step ranges over */
    size_t nstats;                  /* statistics after the header */
    size_t nskipped;                /* units left out (no observed value) */
    size_t nclasses;                /* latent classes per unit, for
                                       posterior; 0 when it has none */
    int monotone; /* 1: each iteration is a true EM step, so the
                     log-likelihood must not decrease */
} em_model_info;

typedef struct em_model_type {
    const char *name;
    const char *summary; /* one line for --help */
    /* Model-specific options this model accepts, as their long option names
     * without "--", NULL-terminated; the CLI rejects the others. */
    const char *const *options;

    /* Builds the state for data (which must outlive it) and fills *info.
     * Degenerate data is EM_ERR_DATA with a message a user can act on. */
    em_status (*create)(const em_model_config *cfg, const em_table *data,
                        void **state, em_model_info *info, em_error *err);
    void (*destroy)(void *state);

    /* The default starting point, computed from the data; a model with
     * random starts draws them from seed alone, so a seed gives one start
     * on every machine. */
    em_status (*init)(void *state, unsigned long long seed, double *theta,
                      em_error *err);

    /* EM_OK when theta lies in the parameter space; otherwise EM_ERR_ARG
     * naming the first bad parameter (and *bad set to its index). */
    em_status (*check)(const void *state, const double *theta, size_t *bad,
                       em_error *err);

    /* Computes per-iteration constants from theta into the state. */
    em_status (*prepare)(void *state, const double *theta, em_error *err);

    /* Adds units [begin, end) into stats (EM_STAT_HEADER + nstats
     * doubles).  Reads the state only, so blocks may run concurrently. */
    void (*estep)(const void *state, size_t begin, size_t end, double *stats);

    /* The maximisation: new parameters from the summed statistics.
     * theta holds the current parameters on entry.  fixed is NULL or a
     * mask of nparams flags: a flagged parameter keeps its value and the
     * others maximise with it held (only models with `fixable` get one).
     * A breakdown (e.g. a singular covariance) is EM_ERR_NUMERIC. */
    em_status (*mstep)(void *state, const double *stats,
                       const unsigned char *fixed, double *theta,
                       em_error *err);

    /* Optional: called on the final parameters; EM_ERR_DATA when they are
     * not a fit to report (e.g. a stationary point where a parameter is
     * not identified). */
    em_status (*check_fit)(const void *state, const double *theta,
                           em_error *err);

    /* Optional, for an M-step that is not an exact maximisation (e.g. a
     * regularised one): Q(next | cur) - Q(cur | cur), the gain in the
     * expected complete-data log-likelihood, from the statistics the
     * E-step at cur produced.  Since l(next) - l(cur) >= that gain always,
     * the driver still holds such a model to l(next) >= l(cur) + min(gain,
     * 0).  Without it the M-step counts as exact (gain >= 0). */
    double (*q_gain)(const void *state, const double *stats,
                     const double *cur, const double *next);

    /* Optional, after prepare: the posterior probabilities of the
     * info.nclasses latent classes for units [begin, end), row-major into
     * out, one row per data row of those units (see unit_rows); a row
     * without data gets NaNs. */
    void (*posterior)(const void *state, size_t begin, size_t end,
                      double *out);

    /* Optional, for a model whose units are runs of rows (an HMM's
     * sequences): unit u covers rows [*first, *first + *count), and the
     * units cover the rows in order.  Without it, unit i is row i.  Per-row
     * outputs need it to hand whole units to posterior and decode. */
    void (*unit_rows)(const void *state, size_t unit, size_t *first,
                      size_t *count);

    /* Optional, for a fixable model whose parameters are tied by
     * constraints (probabilities summing to 1): the free parameters left
     * when those flagged in fixed are held, for AIC and BIC.  Without it
     * each held parameter counts one fewer. */
    size_t (*nfree_held)(const void *state, const unsigned char *fixed);

    /* Optional, after prepare: the jointly most likely latent classes of
     * the rows of units [begin, end) (for an HMM, the Viterbi path), one
     * 0-based class per row into out; NaN for a row without data. */
    void (*decode)(const void *state, size_t begin, size_t end, double *out);

    /* Optional, after prepare: rows [begin, end) with every missing value
     * replaced by its conditional expectation given the observed ones,
     * row-major into out (the table's ncols per row); a row without data
     * gets NaNs. */
    void (*impute)(const void *state, size_t begin, size_t end, double *out);

    /* Optional, for plots of two-dimensional data: the normal components
     * of the fit at theta, at most max of them: weight[i], mean[2i..2i+1]
     * and cov[4i..4i+3] (row-major 2x2).  Returns how many it wrote; 0
     * when the model's data are not two-dimensional.  Needs no prepare. */
    size_t (*components2d)(const void *state, const double *theta,
                           size_t max, double *weight, double *mean,
                           double *cov);

    /* Optional, for plots of one-dimensional data: the fitted density at
     * x for theta; NaN when the model's data are not one-dimensional.
     * Needs no prepare. */
    double (*density1d)(const void *state, const double *theta, double x);

    /* Optional, after prepare: the largest condition number among the
     * model's covariance matrices.  When the log-likelihood falls while it
     * is above EM_ILL_CONDITIONED, the driver reports a numerical failure
     * (the fit is unreliable) rather than a bug. */
    double (*condition)(const void *state);

    /* Optional: writes extra members of the result object (each line
     * "  \"key\": value,\n"), a structured view of theta for readers. */
    void (*result_json)(const void *state, const double *theta, FILE *f);

    /* Optional (both or neither), for --se and --accel squarem: an
     * unconstrained parameterisation, u in R^m, of the free parameters.
     *
     * to_free writes u (room for info.nparams doubles) and returns m.  Each
     * coordinate ranges over the whole real line: identity for means, log
     * for standard deviations and variances, logit for probabilities,
     * atanh for a correlation, log(w_k / w_K) (k < K) for K weights summing
     * to 1, and for a covariance matrix S = L L^T the factor L row by row
     * (lower triangle, j <= i) with log L_ii in place of L_ii.  Parameters
     * flagged in fixed (NULL: none; non-NULL only for a fixable model) and
     * parameters that are functions of others (w_K = 1 - the other weights)
     * are left out, so m is the number of free parameters.  A theta on the
     * boundary of its space (a probability or weight of 0 or 1) gives an
     * infinite coordinate; callers must treat a non-finite u as "no
     * unconstrained form here" (no standard errors, no extrapolation).
     *
     * from_free is the inverse: it writes every parameter to_free maps,
     * derived ones included; a parameter flagged in fixed keeps the value
     * theta holds on entry.  from_free(to_free(theta)) == theta up to
     * rounding.  An extreme u may overflow (e.g. exp(800)), so callers run
     * check on the result.
     *
     * Both read only the state's settings (K, D, structure, known sigma),
     * need no prepare, and may run concurrently with anything. */
    size_t (*to_free)(const void *state, const double *theta,
                      const unsigned char *fixed, double *u);
    void (*from_free)(const void *state, const double *u,
                      const unsigned char *fixed, double *theta);

    /* 1 when the M-step honours a fixed mask (--fix). */
    int fixable;

    /* 1 when every selected column is read as text symbols (the CSV
     * reader's em_csv_options.symbols), not as numbers. */
    int symbols;

    /* 1 when the model's memory does not grow with the rows: it keeps
     * nothing per row and reads the table only as it walks it, so a table
     * mapped from a cache (emfit/cache.h) lets it fit data larger than
     * memory (--stream). */
    int streamable;

    /* 1 when create and init make every pass over the rows through
     * em_table_fold and read no row by index across the whole table, so
     * that the table may be one part of rows split across processes
     * (em_parts, MPI); the E-step then runs on each part's rows and the
     * driver adds the parts' statistics in block order. */
    int distributable;
} em_model_type;

/* A model instance: its type, its state and what it told the driver. */
typedef struct em_model {
    const em_model_type *type;
    void *state;
    em_model_info info; /* for a part (parts set): nunits counts its own
                           units, nskipped those of the whole */
    const em_parts *parts; /* the data's parts, or NULL */
} em_model;

/* The registered models, NULL-terminated, in the order --help lists them. */
const em_model_type *const *em_model_types(void);

/* The model type with this name, or NULL. */
const em_model_type *em_model_find(const char *name);

/* 1 when the type lists this option name in its options. */
int em_model_accepts(const em_model_type *type, const char *option);

/* Creates an instance of type for data. */
em_status em_model_create(const em_model_type *type, const em_model_config *cfg,
                          const em_table *data, em_model *m, em_error *err);

/* Frees the instance's state; a zeroed model is fine. */
void em_model_free(em_model *m);

/* Units of the whole data: info.nunits, or for a part (parts set) the
 * rows of all parts (a model that splits has a unit per row). */
size_t em_model_total_units(const em_model *m);

/* The index of the parameter with this name, or (size_t)-1. */
size_t em_model_param_index(const em_model *m, const char *name);

#ifdef __cplusplus
}
#endif

#endif
