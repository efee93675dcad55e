/* One input file, start to finish: read it, choose the start (or search
 * restarts and -k ranges), fit with the trace, then write the outputs.
 * A single run and every file of a batch go through here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mpi.h"

/* Checks that model-specific options given fit the chosen model. */
static em_status check_model_options(const cli_options *opt,
                                     const em_model_type *type, em_error *err)
{
    for (size_t i = 0; i < opt->nmodel_options; i++)
        if (!em_model_accepts(type, opt->model_options[i]))
            return em_error_set(err, EM_ERR_ARG,
                                "--%s does not apply to the %s model",
                                opt->model_options[i], type->name);
    return EM_OK;
}

em_status cli_find_model(const cli_options *opt, const em_model_type **type,
                         em_error *err)
{
    *type = em_model_find(opt->model);
    if (!*type) {
        char list[256] = "";
        for (const em_model_type *const *t = em_model_types(); *t; t++) {
            if (list[0])
                strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, (*t)->name, sizeof list - strlen(list) - 1);
        }
        return em_error_set(err, EM_ERR_ARG,
                            "unknown model \"%s\" (models: %s)", opt->model,
                            list);
    }
    return check_model_options(opt, *type, err);
}

/* The starting values: the model's default, then --init-params, then
 * --start, each overriding what it names. */
static em_status starting_values(const cli_options *opt, em_model *m,
                                 double *theta, em_error *err)
{
    em_status st = m->type->init(m->state, opt->seed, theta, err);
    if (st != EM_OK)
        return st;
    if (opt->init_params) {
        em_json *doc = NULL;
        st = em_json_parse_file(opt->init_params, &doc, err);
        if (st == EM_OK)
            st = em_params_from_json(m, doc, opt->init_params, theta, err);
        em_json_free(doc);
        if (st != EM_OK)
            return st;
    }
    if (opt->start) {
        size_t bad;
        em_error why;
        if ((st = em_params_assign(m, opt->start, theta, &why)) != EM_OK ||
            (st = m->type->check(m->state, theta, &bad, &why)) != EM_OK)
            return em_error_set(err, st, "--start: %s", why.msg);
    }
    return EM_OK;
}

/* The mask of --fix, for models that can hold parameters. */
static em_status fixed_params(const cli_options *opt, const em_model *m,
                              unsigned char *fixed, em_error *err)
{
    if (!opt->fix)
        return EM_OK;
    if (!m->type->fixable)
        return em_error_set(err, EM_ERR_ARG,
                            "--fix does not apply to the %s model",
                            m->type->name);
    em_error why;
    if (em_params_mask(m, opt->fix, fixed, &why) != EM_OK)
        return em_error_set(err, EM_ERR_ARG, "--fix: %s", why.msg);
    return EM_OK;
}

/* The parameters --trace-params names, or *cols NULL for all of them. */
static em_status traced_params(const cli_options *opt, const em_model *m,
                               size_t **cols, size_t *ncols, em_error *err)
{
    *cols = NULL;
    *ncols = m->info.nparams;
    if (!opt->trace_params)
        return EM_OK;
    *cols = malloc((m->info.nparams ? m->info.nparams : 1) * sizeof **cols);
    if (!*cols)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_error why;
    if (em_params_select(m, opt->trace_params, *cols, ncols, &why) != EM_OK)
        return em_error_set(err, why.status, "--trace-params: %s", why.msg);
    return EM_OK;
}

static void closing_notes(const cli_options *opt, const em_model *m,
                          const em_fit_result *res)
{
    if (res->interrupted) {
        cli_say(opt, "interrupted at iteration %zu: the result is partial "
                     "(\"interrupted\": true)",
                res->iterations);
        return;
    }
    if (m->info.nskipped)
        cli_note(opt, "%zu row(s) with no observed value were skipped",
                 m->info.nskipped);
    if (!res->converged && opt->max_iter > 0)
        cli_note(opt, "stopped at --max-iter %zu before converging "
                      "(log-likelihood %.10g)",
                 opt->max_iter, res->loglik);
}

/* What one fit needs beside the model: its start, held parameters, the
 * search behind it and the selection of traced parameters. */
typedef struct fit_inputs {
    const em_table *data;
    double *theta;
    const unsigned char *fixed;
    const search_result *sr;
    const size_t *cols;
    size_t ncols;
} fit_inputs;

static em_status fit_and_write(const cli_options *opt, em_model *m,
                               const fit_inputs *in, em_fit_result *res,
                               em_error *err)
{
    cli_recording rec;
    cli_tracer tracer;
    cli_tracer_init(&tracer, opt, m, opt->plot ? &rec : NULL);
    if (in->cols)
        em_trace_writer_select(&tracer.tw, in->cols, in->ncols);
    em_fit_options fo;
    em_fit_options_default(&fo);
    fo.max_iter = opt->max_iter;
    fo.tol = opt->tol;
    fo.trace = cli_tracer_step;
    fo.trace_ctx = &tracer;
    fo.fixed = opt->fix ? in->fixed : NULL;
    fo.threads = opt->threads;
    fo.stop = opt->stop;
    fo.accel = opt->accel;
    size_t esteps = 0;
    if (opt->accel != EM_ACCEL_NONE) {
        fo.esteps = &esteps;
        em_trace_writer_esteps(&tracer.tw, &esteps);
    }
    /* a fit whose standard errors cannot exist is refused before it runs */
    em_status st = opt->se ? em_covariance_check(m, err) : EM_OK;
    if (st == EM_OK)
        st = em_fit(m, in->theta, &fo, res, err);
    st = cli_tracer_close(&tracer, st, err);
    if (st == EM_OK)
        closing_notes(opt, m, res);
    double *se = NULL;
    int have_se = 0;
    if (st == EM_OK && opt->se && !res->interrupted &&
        !(se = malloc(m->info.nparams * sizeof *se + 1)))
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    if (se)
        st = cli_standard_errors(opt, m, in->theta, fo.fixed, se, &have_se,
                                 err);
    if (st == EM_OK && opt->result)
        st = cli_write_result(opt, m, in->data, in->theta, in->fixed, res,
                              in->sr, have_se ? se : NULL, err);
    free(se);
    if (st == EM_OK)
        st = cli_write_row_outputs(opt, m, in->data, in->theta, err);
    if (st == EM_OK && opt->plot)
        st = cli_write_plot(opt, m, in->data, in->theta, &rec, in->cols,
                            in->ncols, err);
    if (opt->plot)
        cli_recording_free(&rec);
    return st;
}

/* Builds the model for the data and its start, then fits. */
static em_status prepare_and_fit(const cli_options *opt,
                                 const em_model_type *type,
                                 const em_table *data, const search_result *sr,
                                 em_model *m, cli_outcome *out)
{
    em_error *err = &out->err;
    em_status st = em_model_create(type, &opt->config, data, m, err);
    if (st != EM_OK)
        return st;
    out->built = 1;
    out->n = em_model_total_units(m) - m->info.nskipped;
    out->k = m->info.nclasses;
    fit_inputs in = {.data = data, .sr = sr};
    double *theta = calloc(m->info.nparams ? m->info.nparams : 1,
                           sizeof *theta);
    unsigned char *fixed = calloc(m->info.nparams ? m->info.nparams : 1, 1);
    size_t *cols = NULL;
    if (!theta || !fixed)
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    if (st == EM_OK &&
        (st = cli_check_row_outputs(opt, m, err)) == EM_OK &&
        (st = fixed_params(opt, m, fixed, err)) == EM_OK &&
        (st = starting_values(opt, m, theta, err)) == EM_OK &&
        (st = traced_params(opt, m, &cols, &in.ncols, err)) == EM_OK) {
        in.theta = theta;
        in.fixed = fixed;
        in.cols = cols;
        st = fit_and_write(opt, m, &in, &out->res, err);
    }
    if (st == EM_OK)
        out->n = out->res.nobs;
    free(cols);
    free(theta);
    free(fixed);
    return st;
}

/* The search behind --restarts and -k ranges, with the progress line. */
static em_status search(const cli_options *given, const em_model_type *type,
                        const em_table *data, cli_options *chosen,
                        search_result *sr, em_error *err)
{
    cli_progress progress;
    cli_progress_start(&progress, given->label);
    em_status st = cli_choose_fit(given, type, data, chosen, sr, &progress,
                                  err);
    cli_progress_end(&progress);
    return st;
}

/* Which table column the sequence id became: the last when --columns
 * named the columns (it is added after them), else the header's own
 * column, by name first and then by number, as the reader resolved it. */
static size_t sequence_column(const cli_options *opt, const em_table *t)
{
    if (opt->columns)
        return t->ncols;
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->names[j], opt->sequence_id) == 0)
            return j + 1;
    return (size_t)strtoul(opt->sequence_id, NULL, 10);
}

/* Reads the input for --stream: mapped from its cache. */
static em_status map_data(const cli_options *opt, const em_model_type *type,
                          const em_csv_options *csv, em_table *data,
                          em_error *err)
{
    if (!type->streamable)
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model cannot stream (--stream, --cache): "
                            "%s",
                            type->name,
                            type->symbols
                                ? "its columns are symbols, which the cache "
                                  "does not hold"
                                : "it keeps per-row state for each whole "
                                  "sequence");
    int reused = 0;
    em_status st = em_cache_open(opt->input, csv, opt->cache, data, &reused,
                                 err);
    if (st == EM_OK && reused)
        cli_note(opt, "%s is up to date: %s was not parsed again",
                 opt->cache, opt->input);
    return st;
}

/* Reads the input.  The hmm reads its sequence id, and a categorical
 * emission's column, as symbols (any text), and learns where the
 * sequence id is; it needs -k. */
static em_status read_data(const cli_options *opt, const em_model_type *type,
                           em_table *data, em_model_config *cfg,
                           em_error *err)
{
    em_csv_options csv = {.delimiter = opt->delimiter,
                          .columns = opt->columns};
    if (type->symbols)
        csv.symbols = "*";
    if (opt->stream)
        return map_data(opt, type, &csv, data, err);
    if (cli_mpi_size() > 1 && !opt->spread_starts)
        return type->distributable
                   ? cli_mpi_read(opt->input, &csv, data, err)
                   : em_error_set(err, EM_ERR_ARG,
                                  "the %s model cannot be split across MPI "
                                  "processes: run it with -np 1",
                                  type->name);
    if (!em_model_accepts(type, "emission"))
        return em_csv_read_file(opt->input, &csv, data, err);
    if (!opt->k_min)
        return em_error_set(err, EM_ERR_ARG,
                            "the hmm model needs -k K, the number of "
                            "hidden states");
    const char *seq = opt->sequence_id;
    char *cols = NULL;
    if (seq && opt->columns) {
        size_t n = strlen(opt->columns) + strlen(seq) + 2;
        if (!(cols = malloc(n)))
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
        snprintf(cols, n, "%s,%s", opt->columns, seq);
        csv.columns = cols;
    }
    int categorical = cfg->emission && strcmp(cfg->emission, "categorical") == 0;
    csv.symbols = categorical ? "*" : seq;
    em_status st = em_csv_read_file(opt->input, &csv, data, err);
    free(cols);
    if (st == EM_OK && seq)
        cfg->sequence_col = sequence_column(opt, data);
    return st;
}

/* The exit status this file alone gives: a fit stopped by SIGINT is 130
 * whatever became of it. */
static int outcome_status(const cli_options *opt, const cli_outcome *out)
{
    int stopped = opt->stop && *opt->stop;
    if (out->st == EM_OK)
        return stopped || out->res.interrupted ? EXIT_INTERRUPTED : EXIT_OK;
    return stopped ? EXIT_INTERRUPTED : cli_exit_status(out->err.status);
}

void cli_fit_file(const cli_options *given, cli_outcome *out)
{
    *out = (cli_outcome){.st = EM_OK};
    em_error_clear(&out->err);
    const em_model_type *type;
    em_table data = {0};
    em_model m = {0};
    search_result sr = {0};
    cli_options base = *given, chosen;
    em_status st = cli_find_model(given, &type, &out->err);
    if (st == EM_OK)
        st = read_data(given, type, &data, &base.config, &out->err);
    chosen = base;
    if (st == EM_OK && (given->restarts > 1 || given->k_min < given->k_max))
        st = search(&base, type, &data, &chosen, &sr, &out->err);
    /* with the starts spread, rank 0 alone fits the chosen one again */
    int spread = given->spread_starts && cli_mpi_rank() != 0;
    if (st == EM_OK && !spread)
        st = prepare_and_fit(&chosen, type, &data, &sr, &m, out);
    free(sr.rows);
    em_model_free(&m);
    em_table_free(&data);
    out->st = st;
    out->status = outcome_status(given, out);
}
