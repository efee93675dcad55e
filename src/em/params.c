#include "emfit/params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lists the model's parameter names into buf, for messages. */
static const char *name_list(const em_model *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->info.nparams && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         m->info.param_names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

static int parse_finite(const char *s, size_t len, double *out)
{
    char tmp[128];
    if (len == 0 || len >= sizeof tmp)
        return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Finds the parameter named by the nlen bytes at name, marking it in seen;
 * an unknown or repeated name is EM_ERR_ARG. */
static em_status find_once(const em_model *m, const char *name, size_t nlen,
                           unsigned char *seen, size_t *index, em_error *err)
{
    char names[512];
    size_t i;
    for (i = 0; i < m->info.nparams; i++)
        if (strlen(m->info.param_names[i]) == nlen &&
            memcmp(m->info.param_names[i], name, nlen) == 0)
            break;
    if (i == m->info.nparams)
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model has no parameter \"%.*s\" (its "
                            "parameters: %s)",
                            m->type->name, (int)nlen, name,
                            name_list(m, names, sizeof names));
    if (seen[i])
        return em_error_set(err, EM_ERR_ARG, "%s is given twice",
                            m->info.param_names[i]);
    seen[i] = 1;
    *index = i;
    return EM_OK;
}

/* Applies one "name=value" item of length len. */
static em_status assign_one(const em_model *m, const char *item, size_t len,
                            double *theta, unsigned char *seen, em_error *err)
{
    const char *eq = memchr(item, '=', len);
    if (!eq)
        return em_error_set(err, EM_ERR_ARG,
                            "\"%.*s\" is not of the form name=value",
                            (int)len, item);
    size_t nlen = (size_t)(eq - item), i;
    if (find_once(m, item, nlen, seen, &i, err) != EM_OK)
        return EM_ERR_ARG;
    if (!parse_finite(eq + 1, len - nlen - 1, &theta[i]))
        return em_error_set(err, EM_ERR_ARG, "%s: \"%.*s\" is not a finite number",
                            m->info.param_names[i], (int)(len - nlen - 1),
                            eq + 1);
    return EM_OK;
}

em_status em_params_assign(const em_model *m, const char *spec, double *theta,
                           em_error *err)
{
    unsigned char *seen = calloc(m->info.nparams + 1, 1);
    if (!seen)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    em_status st = EM_OK;
    const char *p = spec;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if ((st = assign_one(m, p, len, theta, seen, err)) != EM_OK || !comma)
            break;
        p = comma + 1;
    }
    free(seen);
    return st;
}

/* Marks the parameters of a group: "start" names start_1, start_2, ...
 * (every name that continues the len bytes at g with '_'), and "NAME*"
 * every name with that prefix.  Returns how many it marked. */
static size_t mark_group(const em_model *m, const char *g, size_t len,
                         unsigned char *mask)
{
    int star = len > 0 && g[len - 1] == '*';
    size_t hits = 0, plen = star ? len - 1 : len;
    for (size_t i = 0; i < m->info.nparams; i++) {
        const char *name = m->info.param_names[i];
        if (strncmp(name, g, plen) == 0 && (star || name[plen] == '_'))
            mask[i] = 1, hits++;
    }
    return hits;
}

em_status em_params_mask(const em_model *m, const char *spec,
                         unsigned char *mask, em_error *err)
{
    memset(mask, 0, m->info.nparams);
    for (const char *p = spec;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p), i;
        int exact = 0;
        for (i = 0; i < m->info.nparams && !exact; i++)
            exact = strlen(m->info.param_names[i]) == len &&
                    memcmp(m->info.param_names[i], p, len) == 0;
        if (!exact && len > 0 && mark_group(m, p, len, mask) > 0) {
            /* a group, e.g. start or trans_1 or emit_* */
        } else if (find_once(m, p, len, mask, &i, err) != EM_OK) {
            return EM_ERR_ARG;
        }
        if (!comma)
            return EM_OK;
        p = comma + 1;
    }
}

/* 1 when name matches the len-byte pattern (a trailing '*' matches any
 * rest). */
static int matches(const char *name, const char *pat, size_t len)
{
    if (len > 0 && pat[len - 1] == '*')
        return strncmp(name, pat, len - 1) == 0;
    return strlen(name) == len && memcmp(name, pat, len) == 0;
}

em_status em_params_select(const em_model *m, const char *spec, size_t *cols,
                           size_t *n, em_error *err)
{
    char names[512];
    unsigned char *taken = calloc(m->info.nparams + 1, 1);
    if (!taken)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    *n = 0;
    em_status st = EM_OK;
    for (const char *p = spec; st == EM_OK;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p), hits = 0;
        for (size_t i = 0; i < m->info.nparams; i++) {
            if (!matches(m->info.param_names[i], p, len))
                continue;
            hits++;
            if (!taken[i])
                taken[i] = 1, cols[(*n)++] = i;
        }
        if (!hits)
            st = em_error_set(err, EM_ERR_ARG,
                              "no parameter of the %s model matches \"%.*s\" "
                              "(its parameters: %s)",
                              m->type->name, (int)len, p,
                              name_list(m, names, sizeof names));
        if (!comma)
            break;
        p = comma + 1;
    }
    free(taken);
    return st;
}

em_status em_params_from_json(const em_model *m, const em_json *doc,
                              const char *name, double *theta, em_error *err)
{
    char names[512];
    const em_json *obj = em_json_get(doc, "params");
    if (!obj)
        obj = doc;
    if (obj->kind != EM_JSON_OBJECT)
        return em_error_at(err, EM_ERR_PARSE, name, obj->line, obj->col,
                           "expected an object of parameters");
    for (size_t k = 0; k < obj->u.object.n; k++) {
        const char *key = obj->u.object.keys[k];
        const em_json *v = obj->u.object.values[k];
        size_t i = em_model_param_index(m, key);
        if (i == (size_t)-1)
            return em_error_at(err, EM_ERR_PARSE, name, v->line, v->col,
                               "the %s model has no parameter \"%s\" (its "
                               "parameters: %s)",
                               m->type->name, key,
                               name_list(m, names, sizeof names));
        if (v->kind != EM_JSON_NUMBER)
            return em_error_at(err, EM_ERR_PARSE, name, v->line, v->col,
                               "%s: expected a number", key);
        theta[i] = v->u.number;
    }
    size_t bad;
    em_error why;
    if (m->type->check(m->state, theta, &bad, &why) == EM_OK)
        return EM_OK;
    const em_json *v = em_json_get(obj, m->info.param_names[bad]);
    return em_error_at(err, EM_ERR_PARSE, name, v ? v->line : 0,
                       v ? v->col : 0, "%s", why.msg);
}
