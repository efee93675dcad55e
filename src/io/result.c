#include <errno.h>
#include <math.h>
#include <string.h>

#include "emfit/emfit.h"

static void key(FILE *f, const char *k)
{
    fputs("  ", f);
    em_json_write_string(f, k);
    fputs(": ", f);
}

static void number_member(FILE *f, const char *k, double v)
{
    char buf[40];
    key(f, k);
    fprintf(f, "%s,\n", em_format_double(buf, sizeof buf, v));
}

static void string_array(FILE *f, const char *const *items, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        em_json_write_string(f, items[i]);
    }
    fputc(']', f);
}

static void write_settings(FILE *f, const em_result_meta *meta)
{
    key(f, "settings");
    fputc('{', f);
    for (size_t i = 0; i < meta->nsettings; i++) {
        fputs(i ? ", " : "", f);
        em_json_write_string(f, meta->setting_keys[i]);
        fprintf(f, ": %s", meta->setting_json[i]);
    }
    fputs("},\n", f);
}

/* "selection": the criterion, the chosen k and one row per k tried. */
static void write_selection(FILE *f, const em_result_meta *meta)
{
    char a[40], b[40], c[40];
    key(f, "selection");
    fprintf(f, "{\"criterion\": \"%s\", \"chosen_k\": %zu, \"table\": [\n",
            meta->criterion == EM_CRIT_AIC ? "aic" : "bic",
            meta->search[meta->search_best].k);
    for (size_t i = 0; i < meta->nsearch; i++) {
        const em_search_row *r = &meta->search[i];
        fprintf(f, "    {\"k\": %zu, ", r->k);
        if (r->status == EM_OK)
            fprintf(f,
                    "\"loglik\": %s, \"free_params\": %zu, \"aic\": %s, "
                    "\"bic\": %s, \"seed\": %llu}",
                    em_format_double(a, sizeof a, r->res.loglik),
                    r->res.nfree, em_format_double(b, sizeof b, r->res.aic),
                    em_format_double(c, sizeof c, r->res.bic), r->seed);
        else {
            fputs("\"error\": ", f);
            em_json_write_string(f, r->err.msg);
            fputc('}', f);
        }
        fputs(i + 1 < meta->nsearch ? ",\n" : "\n", f);
    }
    fputs("  ]},\n", f);
}

/* An object keyed by parameter name ("params", "se"); a NaN is null.
 * last: no comma after it. */
static void write_by_param(FILE *f, const char *name, const em_model *m,
                           const double *v, int last)
{
    char buf[40];
    key(f, name);
    fputs("{\n", f);
    for (size_t i = 0; i < m->info.nparams; i++) {
        fputs("    ", f);
        em_json_write_string(f, m->info.param_names[i]);
        fprintf(f, ": %s%s\n",
                isnan(v[i]) ? "null" : em_format_double(buf, sizeof buf, v[i]),
                i + 1 < m->info.nparams ? "," : "");
    }
    fputs(last ? "  }\n" : "  },\n", f);
}

em_status em_result_write(FILE *f, const em_model *m, const double *theta,
                          const em_fit_result *res, const em_result_meta *meta,
                          em_error *err)
{
    fputs("{\n", f);
    key(f, "emfit_version");
    em_json_write_string(f, em_version());
    fputs(",\n", f);
    key(f, "model");
    em_json_write_string(f, m->type->name);
    fputs(",\n", f);
    key(f, "input");
    em_json_write_string(f, meta->input);
    fputs(",\n", f);
    key(f, "columns");
    string_array(f, meta->columns, meta->ncolumns);
    fputs(",\n", f);
    write_settings(f, meta);
    key(f, "n");
    fprintf(f, "%zu,\n", res->nobs);
    key(f, "skipped_rows");
    fprintf(f, "%zu,\n", m->info.nskipped);
    key(f, "iterations");
    fprintf(f, "%zu,\n", res->iterations);
    key(f, "esteps");
    fprintf(f, "%zu,\n", res->esteps);
    key(f, "accel");
    em_json_write_string(f, em_accel_name(res->accel));
    fputs(",\n", f);
    key(f, "converged");
    fprintf(f, "%s,\n", res->converged ? "true" : "false");
    key(f, "interrupted");
    fprintf(f, "%s,\n", res->interrupted ? "true" : "false");
    number_member(f, "loglik", res->loglik);
    key(f, "free_params");
    fprintf(f, "%zu,\n", res->nfree);
    number_member(f, "aic", res->aic);
    number_member(f, "bic", res->bic);
    if (meta->nsearch)
        write_selection(f, meta);
    if (m->type->result_json)
        m->type->result_json(m->state, theta, f);
    write_by_param(f, "params", m, theta, !meta->se_requested);
    if (meta->se_requested && meta->se)
        write_by_param(f, "se", m, meta->se, 1);
    else if (meta->se_requested)
        fputs("  \"se\": null\n", f);
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f))
        return em_error_set(err, EM_ERR_IO, "cannot write the result: %s",
                            strerror(errno));
    return EM_OK;
}
