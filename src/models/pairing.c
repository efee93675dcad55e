/* pairing: which candidate each observation's key chose (document 003's
 * bosses and staff, "fractional counts").
 *
 * Each row is one observation: a key (a boss) and a set of candidates (the
 * staff seen with him), all text.  The key chose one of the candidates,
 * choosing candidate c with probability theta[key:c]; which one is not
 * seen, and the others came along.  So a row's probability is the sum of
 * theta[key:c] over its candidates, and
 *   E-step: candidate c of a row gets weight theta[key:c] / that sum
 *           (the row's fractional counts, which add to 1);
 *   M-step: theta[key:c] = the weights c got from key's rows / key's rows.
 * Parameters: theta[key:candidate] for every key and every candidate seen
 * anywhere, keys and candidates in the order first met.  The start gives
 * every candidate the same probability, as the document does.
 *
 * The table holds symbol codes: the key column is the one named "key", or
 * else the first; every other column holds candidates, empty for none.
 * Codes are per column, so each candidate column's codes are mapped to
 * one list of candidates once, at create.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numeric.h"
#include "models/free_coords.h"
#include "models/models.h"

typedef struct pairing {
    const em_table *data;
    size_t key_col;
    size_t nkeys, ncand;
    const char **cands; /* ncand texts, owned by the table */
    size_t **code_to_cand; /* per column: its codes' candidate indices */
    size_t *seen;       /* scratch for create: a row's candidates */
    char **names;
    double *theta; /* prepared: K x C */
} pairing;

static void pairing_destroy(void *state)
{
    pairing *p = state;
    if (!p)
        return;
    for (size_t i = 0; p->names && i < p->nkeys * p->ncand; i++)
        free(p->names[i]);
    free(p->names);
    for (size_t j = 0; p->code_to_cand && j < p->data->ncols; j++)
        free(p->code_to_cand[j]);
    free(p->code_to_cand);
    free(p->cands);
    free(p->seen);
    free(p->theta);
    free(p);
}

static size_t find_key_column(const em_table *t)
{
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->names[j], "key") == 0)
            return j;
    return 0;
}

/* The index of text among the candidates so far, adding it when new. */
static size_t candidate_index(pairing *p, const char *text)
{
    for (size_t c = 0; c < p->ncand; c++)
        if (strcmp(p->cands[c], text) == 0)
            return c;
    p->cands[p->ncand] = text;
    return p->ncand++;
}

/* Lists the candidates in the order the rows first show them and maps
 * every column's codes onto that list. */
static int map_candidates(pairing *p)
{
    const em_table *t = p->data;
    size_t total = 0;
    for (size_t j = 0; j < t->ncols; j++)
        total += j == p->key_col || !t->levels[j] ? 0 : t->nlevels[j];
    p->cands = malloc((total ? total : 1) * sizeof *p->cands);
    p->code_to_cand = calloc(t->ncols, sizeof *p->code_to_cand);
    if (!p->cands || !p->code_to_cand)
        return 0;
    for (size_t j = 0; j < t->ncols; j++) {
        if (j == p->key_col)
            continue;
        size_t nl = t->levels[j] ? t->nlevels[j] : 0;
        p->code_to_cand[j] = malloc((nl + 1) * sizeof(size_t));
        if (!p->code_to_cand[j])
            return 0;
        for (size_t s = 0; s < nl; s++)
            p->code_to_cand[j][s] = (size_t)-1;
    }
    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < t->ncols; j++) {
            double v = em_table_at(t, i, j);
            if (j == p->key_col || isnan(v))
                continue;
            size_t *slot = &p->code_to_cand[j][(size_t)v];
            if (*slot == (size_t)-1)
                *slot = candidate_index(p, t->levels[j][(size_t)v]);
        }
    return 1;
}

static int make_names(pairing *p)
{
    const em_table *t = p->data;
    size_t n = p->nkeys * p->ncand;
    p->names = calloc(n ? n : 1, sizeof *p->names);
    if (!p->names)
        return 0;
    for (size_t k = 0; k < p->nkeys; k++)
        for (size_t c = 0; c < p->ncand; c++) {
            const char *key = t->levels[p->key_col][k];
            size_t len = strlen(key) + strlen(p->cands[c]) + 10;
            char *s = malloc(len);
            if (!s)
                return 0;
            snprintf(s, len, "theta[%s:%s]", key, p->cands[c]);
            p->names[k * p->ncand + c] = s;
        }
    return 1;
}

/* The candidates of row i, each once, into p->seen; returns how many. */
static size_t row_candidates(const pairing *p, size_t i, size_t *out)
{
    const em_table *t = p->data;
    size_t n = 0;
    for (size_t j = 0; j < t->ncols; j++) {
        double v = em_table_at(t, i, j);
        if (j == p->key_col || isnan(v))
            continue;
        size_t c = p->code_to_cand[j][(size_t)v], dup = 0;
        for (size_t q = 0; q < n; q++)
            dup |= out[q] == c;
        if (!dup)
            out[n++] = c;
    }
    return n;
}

/* Whether column j holds any value (a column of symbols that are all
 * missing has no levels). */
static int has_values(const em_table *t, size_t j)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (!isnan(em_table_at(t, i, j)))
            return 1;
    return 0;
}

static em_status check_table(const em_table *t, em_error *err)
{
    if (t->ncols < 2)
        return em_error_set(err, EM_ERR_ARG,
                            "the pairing model needs a key column and at "
                            "least one candidate column, but %zu column(s) "
                            "are selected",
                            t->ncols);
    for (size_t j = 0; j < t->ncols; j++)
        if (!t->levels || (!t->levels[j] && has_values(t, j)))
            return em_error_set(err, EM_ERR_ARG,
                                "the pairing model reads its columns as "
                                "text, but column \"%s\" was read as numbers",
                                t->names[j]);
    return EM_OK;
}

/* Rows without a key or without a candidate carry no data. */
static size_t count_skipped(const pairing *p)
{
    size_t skipped = 0;
    for (size_t i = 0; i < p->data->nrows; i++)
        skipped += isnan(em_table_at(p->data, i, p->key_col)) ||
                   row_candidates(p, i, p->seen) == 0;
    return skipped;
}

static em_status pairing_create(const em_model_config *cfg,
                                const em_table *data, void **state,
                                em_model_info *info, em_error *err)
{
    (void)cfg;
    em_status st = check_table(data, err);
    if (st != EM_OK)
        return st;
    pairing *p = calloc(1, sizeof *p);
    if (!p)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    p->data = data;
    p->key_col = find_key_column(data);
    p->nkeys = data->levels[p->key_col] ? data->nlevels[p->key_col] : 0;
    p->seen = malloc(data->ncols * sizeof *p->seen);
    if (!p->seen || !map_candidates(p) || !make_names(p) ||
        !(p->theta = malloc((p->nkeys * p->ncand + 1) * sizeof *p->theta))) {
        pairing_destroy(p);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    size_t skipped = count_skipped(p);
    if (p->nkeys == 0 || p->ncand == 0 || skipped == data->nrows) {
        pairing_destroy(p);
        return em_error_set(err, EM_ERR_DATA,
                            "no row has both a key and a candidate");
    }
    *state = p;
    *info = (em_model_info){.nparams = p->nkeys * p->ncand,
                            .param_names = (const char *const *)p->names,
                            .nfree = p->nkeys * (p->ncand - 1),
                            .nunits = data->nrows,
                            .nstats = p->nkeys * p->ncand + p->nkeys,
                            .nskipped = skipped,
                            .monotone = 1};
    return EM_OK;
}

static em_status pairing_init(void *state, unsigned long long seed,
                              double *th, em_error *err)
{
    (void)seed, (void)err;
    const pairing *p = state;
    for (size_t i = 0; i < p->nkeys * p->ncand; i++)
        th[i] = 1.0 / (double)p->ncand;
    return EM_OK;
}

static em_status pairing_check(const void *state, const double *th,
                               size_t *bad, em_error *err)
{
    const pairing *p = state;
    for (size_t k = 0; k < p->nkeys; k++) {
        const double *t = th + k * p->ncand;
        double sum = 0;
        for (size_t c = 0; c < p->ncand; c++) {
            if (!(t[c] >= 0 && t[c] <= 1)) {
                *bad = k * p->ncand + c;
                return em_error_set(err, EM_ERR_ARG,
                                    "%s = %g: a probability must lie in "
                                    "[0, 1]",
                                    p->names[*bad], t[c]);
            }
            sum += t[c];
        }
        if (!(fabs(sum - 1) <= 1e-9 * (double)p->ncand)) {
            *bad = k * p->ncand;
            return em_error_set(err, EM_ERR_ARG,
                                "the probabilities of key \"%s\" sum to "
                                "%.17g, not 1",
                                p->data->levels[p->key_col][k], sum);
        }
    }
    return EM_OK;
}

static em_status pairing_prepare(void *state, const double *th,
                                 em_error *err)
{
    (void)err;
    pairing *p = state;
    memcpy(p->theta, th, p->nkeys * p->ncand * sizeof *th);
    return EM_OK;
}

/* Statistics: the fractional counts, K x C, then each key's rows. */
static void pairing_estep(const void *state, size_t begin, size_t end,
                          double *st)
{
    const pairing *p = state;
    size_t *cand = malloc(p->data->ncols * sizeof *cand);
    if (!cand) {
        st[EM_STAT_LOGLIK] = NAN; /* poisons the sum: the driver stops */
        return;
    }
    double *counts = st + EM_STAT_HEADER;
    double *rows = counts + p->nkeys * p->ncand;
    for (size_t i = begin; i < end; i++) {
        double kv = em_table_at(p->data, i, p->key_col);
        size_t n = isnan(kv) ? 0 : row_candidates(p, i, cand);
        if (n == 0)
            continue;
        size_t k = (size_t)kv;
        const double *t = p->theta + k * p->ncand;
        double sum = 0;
        for (size_t q = 0; q < n; q++)
            sum += t[cand[q]];
        st[EM_STAT_NOBS] += 1;
        rows[k] += 1;
        st[EM_STAT_LOGLIK] += log(sum); /* -inf: probability 0 */
        for (size_t q = 0; sum > 0 && q < n; q++)
            counts[k * p->ncand + cand[q]] += t[cand[q]] / sum;
    }
    free(cand);
}

static em_status pairing_mstep(void *state, const double *stats,
                               const unsigned char *fixed, double *th,
                               em_error *err)
{
    (void)fixed, (void)err;
    const pairing *p = state;
    const double *counts = stats + EM_STAT_HEADER;
    const double *rows = counts + p->nkeys * p->ncand;
    for (size_t k = 0; k < p->nkeys; k++) {
        if (!(rows[k] > 0))
            continue; /* a key without data keeps its probabilities */
        for (size_t c = 0; c < p->ncand; c++)
            th[k * p->ncand + c] = counts[k * p->ncand + c] / rows[k];
    }
    return EM_OK;
}

/* Per key, log(theta_c / theta_last) for c before the last candidate. */
static size_t pairing_to_free(const void *state, const double *th,
                              const unsigned char *fixed, double *u)
{
    (void)fixed;
    const pairing *p = state;
    size_t m = 0, nc = p->ncand;
    for (size_t k = 0; k < p->nkeys; k++)
        for (size_t c = 0; c + 1 < nc; c++)
            u[m++] = log(th[k * nc + c]) - log(th[k * nc + nc - 1]);
    return m;
}

static void pairing_from_free(const void *state, const double *u,
                              const unsigned char *fixed, double *th)
{
    (void)fixed;
    const pairing *p = state;
    size_t nc = p->ncand;
    for (size_t k = 0; k < p->nkeys; k++) {
        const double *uk = u + k * (nc - 1);
        double mx = 0, sum = 0;
        for (size_t c = 0; c + 1 < nc; c++)
            mx = fmax(mx, uk[c]);
        for (size_t c = 0; c < nc; c++)
            sum += exp((c + 1 < nc ? uk[c] : 0.0) - mx);
        for (size_t c = 0; c < nc; c++)
            th[k * nc + c] = exp((c + 1 < nc ? uk[c] : 0.0) - mx) / sum;
    }
}

const em_model_type em_model_pairing = {
    .name = "pairing",
    .summary = "which candidate each key chose, from sets seen together "
               "(document 003's bosses and staff)",
    .create = pairing_create,
    .destroy = pairing_destroy,
    .init = pairing_init,
    .check = pairing_check,
    .prepare = pairing_prepare,
    .estep = pairing_estep,
    .mstep = pairing_mstep,
    .to_free = pairing_to_free,
    .from_free = pairing_from_free,
    .symbols = 1,
};
