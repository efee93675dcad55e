/* --restarts and -k A-B: the search, its table and --verbose lines. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/mpi.h"

static void report_start(void *ctx, size_t k, size_t start,
                         unsigned long long seed, em_status st,
                         const em_fit_result *res, const em_error *err)
{
    const cli_options *opt = ctx;
    if (st == EM_OK)
        cli_say(opt, "k %zu start %zu (seed %llu): loglik %.10g after %zu "
                     "iterations%s",
                k, start + 1, seed, res->loglik, res->iterations,
                res->converged ? "" : " (not converged)");
    else
        cli_say(opt, "k %zu start %zu (seed %llu): failed: %s", k, start + 1,
                seed, err->msg);
}

/* The table goes out in one piece, so that fits running at once do not
 * interleave their rows; in a batch each line names the file. */
static void print_selection(const cli_options *opt, const search_result *sr)
{
    const char *file = opt->label ? opt->label : "";
    const char *colon = opt->label ? ": " : "";
    cli_terminal_hold();
    fprintf(stderr, "emfit: %s%s%5s %18s %11s %18s %18s\n", file, colon, "k",
            "loglik", "free_params", "aic", "bic");
    for (size_t i = 0; i < sr->nrows; i++) {
        const em_search_row *r = &sr->rows[i];
        if (r->status != EM_OK) {
            /* a run of failures (e.g. every k above the distinct rows)
             * takes one line, with the first one's reason */
            size_t last = i;
            while (last + 1 < sr->nrows && sr->rows[last + 1].status != EM_OK)
                last++;
            if (last == i)
                fprintf(stderr, "emfit: %s%s%5zu  failed: %s\n", file, colon,
                        r->k, r->err.msg);
            else
                fprintf(stderr, "emfit: %s%sk %zu to %zu failed, k %zu: %s\n",
                        file, colon, r->k, sr->rows[last].k, r->k,
                        r->err.msg);
            i = last;
            continue;
        }
        fprintf(stderr, "emfit: %s%s%5zu %18.6f %11zu %18.6f %18.6f%s\n",
                file, colon, r->k, r->res.loglik, r->res.nfree, r->res.aic,
                r->res.bic,
                i == sr->best ? (opt->criterion == EM_CRIT_AIC
                                     ? "  <- lowest aic"
                                     : "  <- lowest bic")
                              : "");
    }
    cli_terminal_release();
}

em_status cli_choose_fit(const cli_options *opt, const em_model_type *type,
                         const em_table *data, cli_options *chosen,
                         search_result *sr, cli_progress *progress,
                         em_error *err)
{
    size_t kmin = opt->k_min ? opt->k_min : 1, kmax = opt->k_max ? opt->k_max
                                                                  : 1;
    sr->nrows = kmax - kmin + 1;
    sr->rows = calloc(sr->nrows, sizeof *sr->rows);
    if (!sr->rows)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_search_options so = {.k_min = kmin,
                            .k_max = kmax,
                            .restarts = opt->restarts,
                            .seed = opt->seed,
                            .criterion = opt->criterion,
                            .on_start = opt->verbose ? report_start : NULL,
                            .ctx = (void *)opt,
                            .share = opt->spread_starts ? cli_mpi_share()
                                                        : NULL};
    em_fit_options_default(&so.fit);
    so.fit.trace = cli_progress_only;
    so.fit.trace_ctx = progress;
    so.fit.max_iter = opt->max_iter;
    so.fit.tol = opt->tol;
    so.fit.threads = opt->threads;
    so.fit.stop = opt->stop;
    so.fit.accel = opt->accel;
    em_status st = em_search(type, &opt->config, data, &so, sr->rows,
                             &sr->best, err);
    if (st != EM_OK)
        return st;
    if (opt->stop && *opt->stop)
        return em_error_set(err, EM_ERR_ARG, "interrupted");
    if (sr->nrows > 1 && !opt->quiet)
        print_selection(opt, sr);
    chosen->config.k = sr->rows[sr->best].k;
    chosen->seed = sr->rows[sr->best].seed;
    return EM_OK;
}
