#include "emfit/search.h"

#include <math.h>
#include <stdint.h>
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

/* Runs this process's starts of one k into starts[0 .. restarts); an
 * error no other start can avoid stops the search. */
static em_status run_starts(em_model *m, const em_search_options *opt,
                            size_t first, double *theta, size_t k,
                            em_search_start *starts, em_error *err)
{
    const em_search_share *sh = opt->share;
    for (size_t r = 0; r < opt->restarts; r++) {
        size_t j = first + r;
        if (sh && j % sh->nparts != sh->part)
            continue;
        em_search_start *s = &starts[r];
        unsigned long long seed = opt->seed + r;
        s->created = 1;
        s->status = m->type->init(m->state, seed, theta, &s->err);
        if (s->status == EM_OK)
            s->status = em_fit(m, theta, &opt->fit, &s->res, &s->err);
        if (opt->on_start && !sh)
            opt->on_start(opt->ctx, k, r, seed, s->status, &s->res, &s->err);
        if (s->status != EM_OK && !recoverable(s->status)) {
            *err = s->err;
            return s->status;
        }
    }
    return EM_OK;
}

/* This process's starts of one k, or the reason none can run. */
static em_status search_k(const em_model_type *type, em_model_config cfg,
                          const em_table *data, const em_search_options *opt,
                          size_t first, em_search_start *starts,
                          em_error *err)
{
    const em_search_share *sh = opt->share;
    size_t mine = 0;
    for (size_t r = 0; r < opt->restarts; r++)
        mine += !sh || (first + r) % sh->nparts == sh->part;
    if (mine == 0)
        return EM_OK;
    em_model m;
    em_error e;
    em_status st = em_model_create(type, &cfg, data, &m, &e);
    if (st != EM_OK) {
        for (size_t r = 0; r < opt->restarts; r++)
            starts[r] = (em_search_start){.status = st, .err = e};
        *err = e;
        return recoverable(st) ? EM_OK : st;
    }
    double *theta = calloc(m.info.nparams, sizeof *theta);
    st = theta ? run_starts(&m, opt, first, theta, cfg.k, starts, err)
               : em_error_set(err, EM_ERR_NOMEM, "out of memory");
    free(theta);
    em_model_free(&m);
    return st;
}

/* The row of one k from its starts, in order: the first start with the
 * highest log-likelihood, or the first start's error. */
static void make_row(const em_search_options *opt, size_t k,
                     const em_search_start *starts, em_search_row *row)
{
    *row = (em_search_row){.k = k, .status = EM_ERR_DATA};
    for (size_t r = 0; r < opt->restarts; r++) {
        const em_search_start *s = &starts[r];
        if (!s->created) {
            row->status = s->status;
            row->err = s->err;
            return;
        }
        if (opt->on_start && opt->share)
            opt->on_start(opt->ctx, k, r, opt->seed + r, s->status, &s->res,
                          &s->err);
        if (s->status != EM_OK) {
            if (row->status != EM_OK && r == 0)
                row->err = s->err;
            continue;
        }
        if (row->status != EM_OK || s->res.loglik > row->res.loglik) {
            row->status = EM_OK;
            row->seed = opt->seed + r;
            row->res = s->res;
        }
    }
}

static em_status run_search(const em_model_type *type,
                            const em_model_config *cfg, const em_table *data,
                            const em_search_options *opt, size_t n,
                            em_search_start *starts, em_error *err)
{
    for (size_t i = 0; i < n; i++) {
        em_model_config c = *cfg;
        c.k = opt->k_min + i;
        size_t first = i * opt->restarts;
        em_status st = search_k(type, c, data, opt, first, starts + first,
                                err);
        if (st != EM_OK)
            return st;
    }
    const em_search_share *sh = opt->share;
    return sh ? sh->gather(sh->ctx, starts, n * opt->restarts, err) : EM_OK;
}

em_status em_search(const em_model_type *type, const em_model_config *cfg,
                    const em_table *data, const em_search_options *opt,
                    em_search_row *rows, size_t *best, em_error *err)
{
    if (opt->restarts < 1 || opt->k_min < 1 || opt->k_min > opt->k_max)
        return em_error_set(err, EM_ERR_ARG, "bad search range");
    size_t n = opt->k_max - opt->k_min + 1, found = n;
    if (opt->restarts > SIZE_MAX / sizeof(em_search_start) / n)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_search_start *starts = calloc(n * opt->restarts, sizeof *starts);
    if (!starts)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = run_search(type, cfg, data, opt, n, starts, err);
    for (size_t i = 0; i < n && st == EM_OK; i++) {
        make_row(opt, opt->k_min + i, starts + i * opt->restarts, &rows[i]);
        if (rows[i].status != EM_OK)
            continue;
        if (found == n ||
            em_criterion_value(opt->criterion, &rows[i].res) <
                em_criterion_value(opt->criterion, &rows[found].res))
            found = i;
    }
    free(starts);
    if (st != EM_OK)
        return st;
    if (found == n) {
        *err = rows[0].err;
        return rows[0].status;
    }
    *best = found;
    return EM_OK;
}
