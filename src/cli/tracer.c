/* The per-iteration callback of a fit: it writes the trace row, keeps the
 * row for --plot and moves the progress line on. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void cli_tracer_init(cli_tracer *t, const cli_options *opt, const em_model *m,
                     cli_recording *rec)
{
    int to_file = opt->trace_path && opt->trace != EM_TRACE_NONE;
    em_trace_writer_init(&t->tw, to_file ? NULL : stdout, opt->trace,
                         m->info.param_names, m->info.nparams);
    em_trace_writer_digits(&t->tw, opt->digits);
    t->path = to_file ? opt->trace_path : NULL;
    t->rec = rec;
    if (rec)
        *rec = (cli_recording){.nparams = m->info.nparams};
    cli_progress_start(&t->progress, opt->label);
}

/* Makes room for one more row; the space doubles, so recording n rows
 * costs O(n) copies. */
static em_status record_grow(cli_recording *r, em_error *err)
{
    if (r->nrows < r->cap)
        return EM_OK;
    size_t cap = r->cap ? 2 * r->cap : 64;
    size_t width = r->nparams ? r->nparams : 1;
    if (cap > SIZE_MAX / sizeof(double) / width)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    double *ll = realloc(r->loglik, cap * sizeof *ll);
    if (ll)
        r->loglik = ll;
    double *pp = realloc(r->params, cap * width * sizeof *pp);
    if (pp)
        r->params = pp;
    if (!ll || !pp)
        return em_error_set(err, EM_ERR_NOMEM,
                            "out of memory recording the trace for --plot");
    r->cap = cap;
    return EM_OK;
}

static em_status record(cli_recording *r, const double *theta, double loglik,
                        em_error *err)
{
    em_status st = record_grow(r, err);
    if (st != EM_OK)
        return st;
    r->loglik[r->nrows] = loglik;
    if (r->nparams)
        memcpy(r->params + r->nrows * r->nparams, theta,
               r->nparams * sizeof *theta);
    r->nrows++;
    return EM_OK;
}

/* The trace file of a batch appears with its first row, so an input that
 * fails before fitting leaves none behind. */
static em_status open_trace(cli_tracer *t, em_error *err)
{
    t->tw.f = fopen(t->path, "w");
    if (!t->tw.f)
        return em_error_at(err, EM_ERR_IO, t->path, 0, 0,
                           "cannot open for writing: %s", strerror(errno));
    return EM_OK;
}

em_status cli_tracer_step(void *ctx, size_t iter, const double *theta,
                          double loglik, em_error *err)
{
    cli_tracer *t = ctx;
    em_status st = EM_OK;
    cli_progress_step(&t->progress, iter, loglik);
    if (t->rec && (st = record(t->rec, theta, loglik, err)) != EM_OK)
        return st;
    if (t->path && !t->tw.f && (st = open_trace(t, err)) != EM_OK)
        return st;
    if (t->tw.f && (st = em_trace_write(&t->tw, iter, theta, loglik, err)) !=
                       EM_OK && t->path)
        em_error_at(err, st, t->path, 0, 0, "cannot write the trace: %s",
                    strerror(errno));
    return st;
}

em_status cli_tracer_close(cli_tracer *t, em_status st, em_error *err)
{
    cli_progress_end(&t->progress);
    if (!t->path || !t->tw.f)
        return st;
    if (fclose(t->tw.f) != 0 && st == EM_OK)
        st = em_error_at(err, EM_ERR_IO, t->path, 0, 0,
                         "cannot write the trace: %s", strerror(errno));
    t->tw.f = NULL;
    return st;
}

em_status cli_progress_only(void *ctx, size_t iter, const double *theta,
                            double loglik, em_error *err)
{
    (void)theta;
    (void)err;
    cli_progress_step(ctx, iter, loglik);
    return EM_OK;
}

void cli_recording_free(cli_recording *r)
{
    free(r->loglik);
    free(r->params);
    *r = (cli_recording){0};
}
