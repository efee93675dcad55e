/* emfit: the command-line front end.  It parses options, reads the input,
 * hands everything to the library, and alone prints errors and exits. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"

static int quiet;

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

/* The outcome of --restarts or a range for -k. */
typedef struct search_result {
    em_search_row *rows;
    size_t nrows, best;
} search_result;

static void report_start(void *ctx, size_t k, size_t start,
                         unsigned long long seed, em_status st,
                         const em_fit_result *res, const em_error *err)
{
    (void)ctx;
    if (st == EM_OK)
        fprintf(stderr,
                "emfit: k %zu start %zu (seed %llu): loglik %.10g after %zu "
                "iterations%s\n",
                k, start + 1, seed, res->loglik, res->iterations,
                res->converged ? "" : " (not converged)");
    else
        fprintf(stderr, "emfit: k %zu start %zu (seed %llu): failed: %s\n", k,
                start + 1, seed, err->msg);
}

static void print_selection(const cli_options *opt, const search_result *sr)
{
    fprintf(stderr, "emfit: %5s %18s %11s %18s %18s\n", "k", "loglik",
            "free_params", "aic", "bic");
    for (size_t i = 0; i < sr->nrows; i++) {
        const em_search_row *r = &sr->rows[i];
        if (r->status != EM_OK) {
            fprintf(stderr, "emfit: %5zu  failed: %s\n", r->k, r->err.msg);
            continue;
        }
        fprintf(stderr, "emfit: %5zu %18.6f %11zu %18.6f %18.6f%s\n", r->k,
                r->res.loglik, r->res.nfree, r->res.aic, r->res.bic,
                i == sr->best ? (opt->criterion == EM_CRIT_AIC
                                     ? "  <- lowest aic"
                                     : "  <- lowest bic")
                              : "");
    }
}

/* Runs the restarts and the -k range; *chosen gets the k and seed of the
 * best fit, which the traced fit then repeats exactly. */
static em_status choose_fit(const cli_options *opt, const em_model_type *type,
                            const em_table *data, cli_options *chosen,
                            search_result *sr, em_error *err)
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
                            .on_start = opt->verbose ? report_start : NULL};
    em_fit_options_default(&so.fit);
    so.fit.max_iter = opt->max_iter;
    so.fit.tol = opt->tol;
    em_status st = em_search(type, &opt->config, data, &so, sr->rows,
                             &sr->best, err);
    if (st != EM_OK)
        return st;
    if (sr->nrows > 1 && !quiet)
        print_selection(opt, sr);
    chosen->config.k = sr->rows[sr->best].k;
    chosen->seed = sr->rows[sr->best].seed;
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

/* The settings recorded in the result, as JSON literals. */
typedef struct settings {
    const char *keys[16];
    const char *json[16];
    char store[16][256];
    size_t n;
} settings;

static void add_setting(settings *s, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->store[s->n], sizeof s->store[s->n], fmt, ap);
    va_end(ap);
    s->keys[s->n] = key;
    s->json[s->n] = s->store[s->n];
    s->n++;
}

/* "fixed": the held parameters as a JSON array of names. */
static void add_fixed(settings *s, const em_model *m,
                      const unsigned char *fixed)
{
    char *out = s->store[s->n];
    size_t size = sizeof s->store[s->n], used = 1;
    strcpy(out, "[");
    for (size_t i = 0; i < m->info.nparams; i++) {
        if (!fixed[i])
            continue;
        int n = snprintf(out + used, size - used, "%s\"%s\"",
                         used > 1 ? ", " : "", m->info.param_names[i]);
        if (n < 0 || (size_t)n >= size - used - 1)
            break;
        used += (size_t)n;
    }
    strcpy(out + used, "]");
    s->keys[s->n] = "fixed";
    s->json[s->n] = out;
    s->n++;
}

static void collect_settings(const cli_options *opt, const em_model *m,
                             const unsigned char *fixed, settings *s)
{
    char num[40];
    s->n = 0;
    add_setting(s, "max_iter", "%zu", opt->max_iter);
    add_setting(s, "tol", "%s", em_format_double(num, sizeof num, opt->tol));
    if (em_model_accepts(m->type, "estep"))
        add_setting(s, "estep", "\"%s\"",
                    opt->config.estep ? opt->config.estep : "full");
    if (opt->config.has_fill)
        add_setting(s, "fill", "%s",
                    em_format_double(num, sizeof num, opt->config.fill));
    if (em_model_accepts(m->type, "sigma") && !opt->config.free_sigma)
        add_setting(s, "sigma", "%s",
                    em_format_double(num, sizeof num,
                                     opt->config.has_sigma ? opt->config.sigma
                                                           : 1.0));
    if (em_model_accepts(m->type, "free-sigma"))
        add_setting(s, "free_sigma", "%s",
                    opt->config.free_sigma ? "true" : "false");
    if (em_model_accepts(m->type, "components")) {
        add_setting(s, "k", "%zu", opt->config.k ? opt->config.k : 1);
        add_setting(s, "cov", "\"%s\"", opt->config.cov ? opt->config.cov
                                                         : "full");
        add_setting(s, "reg", "%s",
                    em_format_double(num, sizeof num,
                                     opt->config.has_reg ? opt->config.reg
                                                         : 1e-6));
        add_setting(s, "init", "\"%s\"",
                    opt->config.init ? opt->config.init : "kmeans++");
        add_setting(s, "seed", "%llu", opt->seed);
        add_setting(s, "restarts", "%zu", opt->restarts);
    }
    if (opt->fix)
        add_fixed(s, m, fixed);
}

static em_status write_result(const cli_options *opt, const em_model *m,
                              const em_table *data, const double *theta,
                              const unsigned char *fixed,
                              const em_fit_result *res,
                              const search_result *sr, em_error *err)
{
    settings s;
    collect_settings(opt, m, fixed, &s);
    em_result_meta meta = {.input = opt->input,
                           .columns = (const char *const *)data->names,
                           .ncolumns = data->ncols,
                           .setting_keys = s.keys,
                           .setting_json = s.json,
                           .nsettings = s.n,
                           .search = sr->rows,
                           .nsearch = sr->nrows,
                           .search_best = sr->best,
                           .criterion = opt->criterion};
    int to_stdout = strcmp(opt->result, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(opt->result, "w");
    if (!f)
        return em_error_at(err, EM_ERR_IO, opt->result, 0, 0,
                           "cannot open for writing: %s", strerror(errno));
    em_status st = em_result_write(f, m, theta, res, &meta, err);
    if (!to_stdout && fclose(f) != 0 && st == EM_OK)
        st = em_error_set(err, EM_ERR_IO, "cannot write the result: %s",
                          strerror(errno));
    if (st != EM_OK && !err->file[0]) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        em_error_at(err, st, opt->result, 0, 0, "%s", msg);
    }
    return st;
}

/* Opens path for writing ("-" is stdout), runs the writer, closes. */
static em_status write_rows(const char *path, em_model *m,
                            const em_table *data, const double *theta,
                            em_rows_kind kind, em_error *err)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f)
        return em_error_at(err, EM_ERR_IO, path, 0, 0,
                           "cannot open for writing: %s", strerror(errno));
    em_status st = em_rows_write(f, m, data, theta, kind, err);
    if (!to_stdout && fclose(f) != 0 && st == EM_OK)
        st = em_error_set(err, EM_ERR_IO, "cannot write: %s",
                          strerror(errno));
    if (st == EM_ERR_IO && !err->file[0]) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        em_error_at(err, st, path, 0, 0, "%s", msg);
    }
    return st;
}

/* Refuses, before any fit, per-row outputs the model cannot give. */
static em_status check_row_outputs(const cli_options *opt, const em_model *m,
                                   em_error *err)
{
    const char *paths[] = {opt->labels, opt->responsibilities, opt->impute};
    const char *names[] = {"--labels", "--responsibilities", "--impute"};
    const em_rows_kind kinds[] = {EM_ROWS_LABELS, EM_ROWS_RESPONSIBILITIES,
                                  EM_ROWS_IMPUTED};
    for (size_t i = 0; i < 3; i++)
        if (paths[i] && !em_rows_supported(m, kinds[i]))
            return em_error_set(err, EM_ERR_ARG,
                                "%s does not apply to the %s model", names[i],
                                m->type->name);
    return EM_OK;
}

/* --labels, --responsibilities and --impute, after a successful fit. */
static em_status write_row_outputs(const cli_options *opt, em_model *m,
                                   const em_table *data, const double *theta,
                                   em_error *err)
{
    em_status st = EM_OK;
    if (opt->labels)
        st = write_rows(opt->labels, m, data, theta, EM_ROWS_LABELS, err);
    if (st == EM_OK && opt->responsibilities)
        st = write_rows(opt->responsibilities, m, data, theta,
                        EM_ROWS_RESPONSIBILITIES, err);
    if (st == EM_OK && opt->impute)
        st = write_rows(opt->impute, m, data, theta, EM_ROWS_IMPUTED, err);
    return st;
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
    em_fit_result res;
    em_status st = em_fit(m, theta, &fo, &res, err);
    free(cols);
    if (st != EM_OK)
        return st;
    closing_notes(opt, m, &res);
    if (opt->result)
        st = write_result(opt, m, data, theta, fixed, &res, sr, err);
    if (st == EM_OK)
        st = write_row_outputs(opt, m, data, theta, err);
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
        (st = choose_fit(given, type, &data, &chosen, &sr, &err)) != EM_OK)
        goto done;
    if ((st = em_model_create(type, &opt->config, &data, &m, &err)) != EM_OK)
        goto done;
    theta = calloc(m.info.nparams, sizeof *theta);
    fixed = calloc(m.info.nparams, 1);
    if (!theta || !fixed) {
        st = em_error_set(&err, EM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = check_row_outputs(opt, &m, &err)) != EM_OK ||
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
    return st == EM_OK ? EXIT_OK : report(&err, opt->input);
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
    return close_stdout(run(&opt));
}
