/* emfit: the command-line front end.  It parses options, reads the input,
 * hands everything to the library, and alone prints errors and exits. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int quiet;
/* Set by SIGINT: the fit stops at the next iteration and writes what it
 * has, marked "interrupted"; a second SIGINT kills as usual. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void catch_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static void note(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("emfit: note: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Prints err, prefixed with the input name when the error concerns the data
 * but carries no file of its own, and returns the exit status. */
static int report(const em_error *err, const char *input)
{
    char buf[EM_ERROR_FILE_MAX + EM_ERROR_MSG_MAX + 64];
    em_error_format(err, buf, sizeof buf);
    int data_error = err->status == EM_ERR_DATA ||
                     err->status == EM_ERR_NUMERIC;
    if (input && data_error && !err->file[0])
        fprintf(stderr, "emfit: %s: %s\n",
                strcmp(input, "-") == 0 ? "<stdin>" : input, buf);
    else
        fprintf(stderr, "emfit: %s\n", buf);
    if (err->status == EM_ERR_ARG)
        fputs("Try 'emfit --help' for more information.\n", stderr);
    return cli_exit_status(err->status);
}

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

static em_status find_model(const cli_options *opt,
                            const em_model_type **type, em_error *err)
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

static void closing_notes(const cli_options *opt, const em_model *m,
                          const em_fit_result *res)
{
    if (m->info.nskipped)
        note("%zu row(s) with no observed value were skipped",
             m->info.nskipped);
    if (!res->converged && opt->max_iter > 0)
        note("stopped at --max-iter %zu before converging (log-likelihood "
             "%.10g)",
             opt->max_iter, res->loglik);
}

static em_status fit_and_write(const cli_options *opt, em_model *m,
                               const em_table *data, double *theta,
                               const unsigned char *fixed,
                               const search_result *sr, em_error *err)
{
    em_trace_writer tw;
    em_trace_writer_init(&tw, stdout, opt->trace, m->info.param_names,
                         m->info.nparams);
    size_t *cols = NULL, ncols;
    if (opt->trace_params) {
        em_error why;
        cols = malloc(m->info.nparams * sizeof *cols);
        if (!cols)
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
        if (em_params_select(m, opt->trace_params, cols, &ncols, &why) !=
            EM_OK) {
            free(cols);
            return em_error_set(err, why.status, "--trace-params: %s",
                                why.msg);
        }
        em_trace_writer_select(&tw, cols, ncols);
    }
    em_fit_options fo;
    em_fit_options_default(&fo);
    fo.max_iter = opt->max_iter;
    fo.tol = opt->tol;
    fo.trace = em_trace_write;
    fo.trace_ctx = &tw;
    fo.fixed = opt->fix ? fixed : NULL;
    fo.threads = opt->threads;
    em_fit_result res;
    fo.stop = opt->stop;
    em_status st = em_fit(m, theta, &fo, &res, err);
    free(cols);
    if (st != EM_OK)
        return st;
    if (res.interrupted)
        fprintf(stderr, "emfit: interrupted at iteration %zu: the result is "
                        "partial (\"interrupted\": true)\n",
                res.iterations);
    else
        closing_notes(opt, m, &res);
    if (opt->result)
        st = cli_write_result(opt, m, data, theta, fixed, &res, sr, err);
    if (st == EM_OK)
        st = cli_write_row_outputs(opt, m, data, theta, err);
    return st;
}

static int run(const cli_options *given)
{
    em_error err;
    em_error_clear(&err);
    const em_model_type *type;
    em_table data = {0};
    em_model m = {0};
    double *theta = NULL;
    unsigned char *fixed = NULL;
    search_result sr = {0};
    cli_options chosen = *given;
    const cli_options *opt = &chosen;
    em_status st = find_model(opt, &type, &err);
    if (st != EM_OK)
        goto done;
    em_csv_options csv = {.delimiter = opt->delimiter, .columns = opt->columns};
    if ((st = em_csv_read_file(opt->input, &csv, &data, &err)) != EM_OK)
        goto done;
    if ((given->restarts > 1 || given->k_min < given->k_max) &&
        (st = cli_choose_fit(given, type, &data, &chosen, &sr, &err)) != EM_OK)
        goto done;
    if ((st = em_model_create(type, &opt->config, &data, &m, &err)) != EM_OK)
        goto done;
    theta = calloc(m.info.nparams, sizeof *theta);
    fixed = calloc(m.info.nparams, 1);
    if (!theta || !fixed) {
        st = em_error_set(&err, EM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = cli_check_row_outputs(opt, &m, &err)) != EM_OK ||
        (st = fixed_params(opt, &m, fixed, &err)) != EM_OK ||
        (st = starting_values(opt, &m, theta, &err)) != EM_OK)
        goto done;
    st = fit_and_write(opt, &m, &data, theta, fixed, &sr, &err);
done:
    free(sr.rows);
    free(theta);
    free(fixed);
    em_model_free(&m);
    em_table_free(&data);
    if (st == EM_OK)
        return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
    if (interrupted) {
        fputs("emfit: interrupted before a fit to report\n", stderr);
        return EXIT_INTERRUPTED;
    }
    return report(&err, opt->input);
}

/* A full disk or closed pipe must not pass as success. */
static int close_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        if (status == EXIT_OK) {
            fprintf(stderr, "emfit: error writing standard output: %s\n",
                    strerror(errno));
            return EXIT_IO;
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    cli_options opt;
    em_error err;
    em_error_clear(&err);
    if (cli_parse(argc, argv, &opt, &err) != EM_OK)
        return report(&err, NULL);
    quiet = opt.quiet;
    if (opt.help) {
        cli_usage(stdout);
        return close_stdout(EXIT_OK);
    }
    if (opt.version) {
        printf("emfit %s\n", em_version());
        return close_stdout(EXIT_OK);
    }
    opt.stop = &interrupted;
    catch_sigint();
    return close_stdout(run(&opt));
}
