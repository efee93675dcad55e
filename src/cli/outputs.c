/* The CLI's output files: the result JSON, the per-row CSV files and the
 * plot. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

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
    if (em_model_accepts(m->type, "emission")) {
        add_setting(s, "emission", "\"%s\"",
                    opt->config.emission ? opt->config.emission : "gaussian");
        if (opt->sequence_id)
            add_setting(s, "sequence_id", "\"%s\"", opt->sequence_id);
    }
    if (opt->fix)
        add_fixed(s, m, fixed);
}

/* Opens path for writing; "-" is stdout. */
static em_status open_output(const char *path, FILE **f, em_error *err)
{
    *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!*f)
        return em_error_at(err, EM_ERR_IO, path, 0, 0,
                           "cannot open for writing: %s", strerror(errno));
    return EM_OK;
}

/* Closes f (not stdout, which main closes and checks), turning a failed
 * close into st's error, and names path in an I/O error that has no file:
 * the writers report "cannot write" without knowing where to. */
static em_status close_output(const char *path, FILE *f, em_status st,
                              const char *what, em_error *err)
{
    if (f != stdout && fclose(f) != 0 && st == EM_OK)
        st = em_error_set(err, EM_ERR_IO, "%s: %s", what, strerror(errno));
    if (st == EM_ERR_IO && !err->file[0]) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        em_error_at(err, st, path, 0, 0, "%s", msg);
    }
    return st;
}

em_status cli_write_result(const cli_options *opt, const em_model *m,
                           const em_table *data, const double *theta,
                           const unsigned char *fixed,
                           const em_fit_result *res, const search_result *sr,
                           const double *se, em_error *err)
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
                           .criterion = opt->criterion,
                           .se_requested = opt->se,
                           .se = se};
    FILE *f;
    em_status st = open_output(opt->result, &f, err);
    if (st != EM_OK)
        return st;
    st = em_result_write(f, m, theta, res, &meta, err);
    return close_output(opt->result, f, st, "cannot write the result", err);
}

static em_status write_rows(const char *path, em_model *m,
                            const em_table *data, const double *theta,
                            em_rows_kind kind, em_error *err)
{
    FILE *f;
    em_status st = open_output(path, &f, err);
    if (st != EM_OK)
        return st;
    st = em_rows_write(f, m, data, theta, kind, err);
    return close_output(path, f, st, "cannot write", err);
}

em_status cli_check_row_outputs(const cli_options *opt, const em_model *m,
                                em_error *err)
{
    const char *paths[] = {opt->labels, opt->responsibilities, opt->impute,
                           opt->decode, opt->posteriors};
    const char *names[] = {"--labels", "--responsibilities", "--impute",
                           "--decode", "--posteriors"};
    const em_rows_kind kinds[] = {EM_ROWS_LABELS, EM_ROWS_RESPONSIBILITIES,
                                  EM_ROWS_IMPUTED, EM_ROWS_DECODE,
                                  EM_ROWS_POSTERIORS};
    for (size_t i = 0; i < 5; i++)
        if (paths[i] && !em_rows_supported(m, kinds[i]))
            return em_error_set(err, EM_ERR_ARG,
                                "%s does not apply to the %s model", names[i],
                                m->type->name);
    return EM_OK;
}

em_status cli_write_row_outputs(const cli_options *opt, em_model *m,
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
    if (st == EM_OK && opt->decode)
        st = write_rows(opt->decode, m, data, theta, EM_ROWS_DECODE, err);
    if (st == EM_OK && opt->posteriors)
        st = write_rows(opt->posteriors, m, data, theta, EM_ROWS_POSTERIORS,
                        err);
    return st;
}

em_status cli_write_plot(const cli_options *opt, em_model *m,
                         const em_table *data, const double *theta,
                         const cli_recording *rec, const size_t *cols,
                         size_t ncols, em_error *err)
{
    em_plot_trace trace = {.nrows = rec->nrows,
                           .loglik = rec->loglik,
                           .params = rec->params,
                           .cols = cols,
                           .ncols = cols ? ncols : 0};
    FILE *f;
    em_status st = open_output(opt->plot, &f, err);
    if (st != EM_OK)
        return st;
    st = em_plot_svg(f, m, data, theta, &trace, err);
    return close_output(opt->plot, f, st, "cannot write the plot", err);
}
