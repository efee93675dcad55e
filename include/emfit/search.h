/* Several fits of one model: restarts from seeded starts, and the choice
 * of the number of components by an information criterion. */
#ifndef EMFIT_SEARCH_H
#define EMFIT_SEARCH_H

#include <stddef.h>

#include "emfit/driver.h"
#include "emfit/error.h"
#include "emfit/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum em_criterion { EM_CRIT_BIC, EM_CRIT_AIC } em_criterion;

typedef struct em_search_row {
    size_t k;                /* components (cfg.k) of this row */
    em_status status;        /* EM_OK when some start fitted */
    unsigned long long seed; /* the best start's seed */
    em_fit_result res;       /* the best start's fit */
    em_error err;            /* why the row failed, when it did */
} em_search_row;

/* Called after every start, e.g. for --verbose. */
typedef void (*em_start_fn)(void *ctx, size_t k, size_t start,
                            unsigned long long seed, em_status st,
                            const em_fit_result *res, const em_error *err);

/* One start's outcome, for sharing the starts among processes. */
typedef struct em_search_start {
    em_status status; /* of the fit, or of creating the model for its k */
    int created;      /* 0: the model for this k could not be created */
    em_fit_result res;
    em_error err;
} em_search_start;

/* The starts shared among processes that each hold all of the data: start
 * j (numbered k by k, restart by restart) runs in process j % nparts, and
 * gather then gives every process every start's outcome. */
typedef struct em_search_share {
    size_t part, nparts;
    void *ctx;
    /* On entry starts[j] is filled for this process's j; on return for
     * every j, as the process that ran it left it. */
    em_status (*gather)(void *ctx, em_search_start *starts, size_t n,
                        em_error *err);
} em_search_share;

typedef struct em_search_options {
    size_t k_min, k_max;     /* components to try, k_min <= k_max */
    size_t restarts;         /* starts per k, at least 1 */
    unsigned long long seed; /* start r uses seed + r */
    em_criterion criterion;
    em_fit_options fit;      /* max_iter, tol; the trace is not used */
    em_start_fn on_start;    /* may be NULL; with share, called for every
                                start once all have run, in start order */
    void *ctx;
    const em_search_share *share; /* NULL: every start runs here */
} em_search_options;

/* Fits type to data for every k in [k_min, k_max] from `restarts` seeded
 * starts each, keeping per k the start with the highest log-likelihood (the
 * first of equals), and fills rows[k - k_min].  With opt->share the
 * processes split the starts and reach the same rows.  *best is the row index with the lowest criterion.
 * A k that cannot be fitted (too few rows, a numerical failure in every
 * start) gets its error in its row; only when no k fits is the first such
 * error returned.  Out of memory and internal errors stop the search. */
em_status em_search(const em_model_type *type, const em_model_config *cfg,
                    const em_table *data, const em_search_options *opt,
                    em_search_row *rows, size_t *best, em_error *err);

/* The criterion's value of a fit (lower is better). */
double em_criterion_value(em_criterion c, const em_fit_result *res);

#ifdef __cplusplus
}
#endif

#endif
