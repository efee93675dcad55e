#include "emfit/search.h"

#include <math.h>
#include <stdlib.h>

double em_criterion_value(em_criterion c, const em_fit_result *res)
{
    return c == EM_CRIT_AIC ? res->aic : res->bic;
}

/* Errors a later start or another k may well avoid. */
static int recoverable(em_status st)
{
    return st == EM_ERR_DATA || st == EM_ERR_NUMERIC || st == EM_ERR_ARG;
}

/* Every start for one k; row->status stays an error when none fitted. */
static em_status fit_starts(em_model *m, const em_search_options *opt,
                            double *theta, em_search_row *row)
{
    for (size_t r = 0; r < opt->restarts; r++) {
        unsigned long long seed = opt->seed + r;
        em_error e;
        em_fit_result res;
        em_status st = m->type->init(m->state, seed, theta, &e);
        if (st == EM_OK)
            st = em_fit(m, theta, &opt->fit, &res, &e);
        if (opt->on_start)
            opt->on_start(opt->ctx, row->k, r, seed, st, &res, &e);
        if (st != EM_OK && !recoverable(st)) {
            row->status = st;
            row->err = e;
            return st;
        }
        if (st != EM_OK) {
            if (row->status != EM_OK && r == 0)
                row->err = e;
            continue;
        }
        if (row->status != EM_OK || res.loglik > row->res.loglik) {
            row->status = EM_OK;
            row->seed = seed;
            row->res = res;
        }
    }
    return EM_OK;
}

static em_status search_k(const em_model_type *type, em_model_config cfg,
                          const em_table *data, const em_search_options *opt,
                          em_search_row *row)
{
    em_model m;
    *row = (em_search_row){.k = cfg.k, .status = EM_ERR_DATA};
    em_status st = em_model_create(type, &cfg, data, &m, &row->err);
    if (st != EM_OK) {
        row->status = st;
        return recoverable(st) ? EM_OK : st;
    }
    double *theta = calloc(m.info.nparams, sizeof *theta);
    if (!theta)
        st = em_error_set(&row->err, row->status = EM_ERR_NOMEM,
                          "out of memory");
    else
        st = fit_starts(&m, opt, theta, row);
    free(theta);
    em_model_free(&m);
    return st;
}

em_status em_search(const em_model_type *type, const em_model_config *cfg,
                    const em_table *data, const em_search_options *opt,
                    em_search_row *rows, size_t *best, em_error *err)
{
    if (opt->restarts < 1 || opt->k_min < 1 || opt->k_min > opt->k_max)
        return em_error_set(err, EM_ERR_ARG, "bad search range");
    size_t n = opt->k_max - opt->k_min + 1, found = n;
    for (size_t i = 0; i < n; i++) {
        em_model_config c = *cfg;
        c.k = opt->k_min + i;
        em_status st = search_k(type, c, data, opt, &rows[i]);
        if (st != EM_OK) {
            *err = rows[i].err;
            return st;
        }
        if (rows[i].status != EM_OK)
            continue;
        if (found == n ||
            em_criterion_value(opt->criterion, &rows[i].res) <
                em_criterion_value(opt->criterion, &rows[found].res))
            found = i;
    }
    if (found == n) {
        *err = rows[0].err;
        return rows[0].status;
    }
    *best = found;
    return EM_OK;
}
