/* hmm: a hidden Markov model with K states, fitted by Baum-Welch.
 *
 * Parameters (theta), in this order:
 *   start_{i}        the initial state distribution (K)
 *   trans_{i}_{j}    P(state j next | state i now) (K x K, rows sum to 1)
 *   the emission's parameters (hmm_emission.c)
 *
 * The rows of the table, in order, form one sequence, or with a sequence
 * column (em_model_config.sequence_col) a new sequence begins at each
 * change of its value.  A sequence is the driver's unit, so the E-step of
 * a block runs forward-backward over whole sequences and adds their
 * statistics: expected start counts (gamma at step 1), expected
 * transition counts (sum of xi) and the emission's statistics weighted by
 * gamma.  A step with no observed value has emission density 1 under
 * every state: it still advances the chain.
 *
 * Forward-backward is scaled per step (Rabiner 1989, section V.A): alpha_t
 * is normalised to sum 1 by c_t, beta_t is divided by the same c_{t+1},
 * and log L = sum log c_t, so no sequence is too long for doubles.  The
 * Gaussian densities are further shifted by their largest log-density per
 * step (added back to log L), so a step far in every state's tail does
 * not underflow either.  Memory is O(T K) for a sequence of T steps
 * (alpha and the emission densities; beta is kept for one step only).
 * Viterbi works in log space.
 *
 * The M-step is closed form: start and each row of trans are their
 * expected counts normalised, holding parameters flagged by --fix and
 * giving the rest of the row's mass to the others in proportion to their
 * counts, which maximises Q over the row with those held.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scale.h"
#include "core/text.h"
#include "emfit/json.h"
#include "models/hmm.h"
#include "models/models.h"

static const char *const hmm_options[] = {
    "components", "cov", "reg", "init", "restarts", "criterion",
    "emission", "sequence-id", "decode", "posteriors", NULL};


/* ---- create ----------------------------------------------------------- */

static void hmm_destroy(void *state)
{
    hmm *h = state;
    if (!h)
        return;
    for (size_t i = 0; h->names && i < h->nparams; i++)
        free(h->names[i]);
    free(h->names);
    free(h->x), free(h->seq), free(h->theta);
    free(h->logstart), free(h->logtrans);
    hmm_emit_free(&h->em);
    free(h);
}

/* Splits the rows into sequences at each change of column col's value. */
static em_status split_sequences(hmm *h, const em_table *t, size_t col,
                                 em_error *err)
{
    size_t n = t->nrows, count = 1;
    for (size_t i = 0; i < n; i++) {
        double v = em_table_at(t, i, col);
        if (isnan(v))
            return em_error_at(err, EM_ERR_DATA, t->source,
                               em_table_line(t, i), 0,
                               "column \"%s\": the sequence id is missing",
                               t->names[col]);
        count += i > 0 && v != em_table_at(t, i - 1, col);
    }
    h->seq = malloc((count + 1) * sizeof *h->seq);
    if (!h->seq)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    h->nseq = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || em_table_at(t, i, col) != em_table_at(t, i - 1, col))
            h->seq[h->nseq++] = i;
    h->seq[h->nseq] = n;
    return EM_OK;
}

/* Copies the emission columns (every column but the sequence column) into
 * h->x and counts the steps with data. */
static em_status copy_emissions(hmm *h, const em_table *t, size_t seqcol,
                                em_error *err)
{
    size_t d = h->d, n = t->nrows;
    h->x = malloc(n * d * sizeof *h->x);
    if (!h->x)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    unsigned char *seen = calloc(d, 1), *varies = calloc(d, 1);
    size_t *first = calloc(d, sizeof *first);
    if (!seen || !varies || !first) {
        free(seen), free(varies), free(first);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    h->nobs = 0;
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (size_t j = 0, a = 0; j < t->ncols; j++) {
            if (j + 1 == seqcol)
                continue;
            double v = em_table_at(t, i, j);
            h->x[i * d + a] = v;
            any |= !isnan(v);
            varies[a] |= seen[a] && !isnan(v) && v != h->x[first[a] * d + a];
            if (!seen[a] && !isnan(v))
                seen[a] = 1, first[a] = i;
            a++;
        }
        h->nobs += (size_t)any;
    }
    size_t unseen = d, constant = d;
    for (size_t a = d; a-- > 0;) {
        if (!seen[a])
            unseen = a;
        if (!varies[a] && h->em.kind == HMM_GAUSSIAN && h->em.reg == 0)
            constant = a;
    }
    free(seen), free(varies), free(first);
    if (unseen < d)
        return em_error_set(err, EM_ERR_DATA,
                            "an emission column has no observed values");
    if (constant < d)
        return em_error_set(err, EM_ERR_DATA,
                            "emission column %zu is constant, so its "
                            "variance is 0: use --reg > 0 or leave it out",
                            constant + 1);
    return EM_OK;
}

/* The emission column of a categorical model, or EM_ERR_ARG. */
static em_status symbol_column(const em_table *t, size_t seqcol, size_t *col,
                               em_error *err)
{
    if (t->ncols - (seqcol ? 1 : 0) != 1)
        return em_error_set(err, EM_ERR_ARG,
                            "--emission categorical takes one column of "
                            "symbols, not %zu columns",
                            t->ncols - (seqcol ? 1 : 0));
    *col = seqcol == 1 ? 1 : 0;
    if (!t->levels || !t->levels[*col])
        return em_error_set(err, EM_ERR_ARG,
                            "column \"%s\" was not read as symbols",
                            t->names[*col]);
    return EM_OK;
}

/* Numeric emission columns for a Gaussian model. */
static em_status numeric_columns(const em_table *t, size_t seqcol,
                                 em_error *err)
{
    for (size_t j = 0; t->levels && j < t->ncols; j++)
        if (j + 1 != seqcol && t->levels[j])
            return em_error_set(err, EM_ERR_ARG,
                                "column \"%s\" holds symbols: Gaussian "
                                "emissions need numbers (or use --emission "
                                "categorical)",
                                t->names[j]);
    if (t->ncols - (seqcol ? 1 : 0) == 0)
        return em_error_set(err, EM_ERR_ARG,
                            "no emission column: the sequence id column is "
                            "the only one");
    return em_check_scale(t, err);
}

static em_status setup_emission(hmm *h, const em_model_config *cfg,
                                const em_table *t, em_error *err)
{
    size_t seqcol = cfg->sequence_col, col = 0;
    int categorical = cfg->emission && strcmp(cfg->emission, "categorical") == 0;
    if (seqcol > t->ncols)
        return em_error_set(err, EM_ERR_ARG,
                            "the sequence column %zu is not in the table",
                            seqcol);
    em_status st = categorical ? symbol_column(t, seqcol, &col, err)
                               : numeric_columns(t, seqcol, err);
    if (st != EM_OK)
        return st;
    h->d = t->ncols - (seqcol ? 1 : 0);
    st = hmm_emit_setup(&h->em, cfg, h->k, h->d,
                        categorical ? t->nlevels[col] : 0,
                        categorical ? t->levels[col] : NULL, err);
    if (st == EM_OK && categorical && t->nlevels[col] == 0)
        st = em_error_set(err, EM_ERR_DATA,
                          "column \"%s\" has no observed symbol",
                          t->names[col]);
    return st;
}

static int make_names(hmm *h)
{
    size_t k = h->k, p = 0;
    char buf[64];
    for (size_t i = 0; i < k; i++) {
        snprintf(buf, sizeof buf, "start_%zu", i + 1);
        h->names[p++] = em_strdup(buf);
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            snprintf(buf, sizeof buf, "trans_%zu_%zu", i + 1, j + 1);
            h->names[p++] = em_strdup(buf);
        }
    for (size_t i = 0; i < p; i++)
        if (!h->names[i])
            return 0;
    return hmm_emit_names(&h->em, h->names + p);
}

static em_status alloc_state(hmm *h, em_error *err)
{
    size_t k = h->k;
    h->off_emit = k + k * k;
    h->nparams = h->off_emit + h->em.nparams;
    h->names = calloc(h->nparams, sizeof *h->names);
    h->theta = malloc(h->nparams * sizeof *h->theta);
    h->logstart = malloc(k * sizeof *h->logstart);
    h->logtrans = malloc(k * k * sizeof *h->logtrans);
    if (!h->names || !h->theta || !h->logstart || !h->logtrans ||
        hmm_emit_alloc(&h->em, h->x, h->n) != EM_OK || !make_names(h))
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    h->start = h->theta;
    h->trans = h->theta + k;
    return EM_OK;
}

static em_status hmm_create(const em_model_config *cfg, const em_table *data,
                            void **state, em_model_info *info, em_error *err)
{
    hmm *h = calloc(1, sizeof *h);
    if (!h)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    h->k = cfg->k;
    h->n = data->nrows;
    em_status st = EM_OK;
    if (h->k == 0)
        st = em_error_set(err, EM_ERR_ARG,
                          "the hmm model needs -k K, the number of states");
    else if (h->k > 10000 || (double)h->k * (double)h->k > 1e7)
        st = em_error_set(err, EM_ERR_ARG,
                          "%zu states is more than emfit handles", h->k);
    if (st == EM_OK)
        st = setup_emission(h, cfg, data, err);
    if (st == EM_OK)
        st = copy_emissions(h, data, cfg->sequence_col, err);
    if (st == EM_OK && h->nobs == 0)
        st = em_error_set(err, EM_ERR_DATA, "no row has an observed value");
    if (st == EM_OK && cfg->sequence_col)
        st = split_sequences(h, data, cfg->sequence_col - 1, err);
    else if (st == EM_OK && !(h->seq = malloc(2 * sizeof *h->seq)))
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    else if (st == EM_OK)
        h->nseq = 1, h->seq[0] = 0, h->seq[1] = h->n;
    if (st == EM_OK)
        st = alloc_state(h, err);
    if (st != EM_OK) {
        hmm_destroy(h);
        return st;
    }
    *state = h;
    *info = (em_model_info){.nparams = h->nparams,
                            .param_names = (const char *const *)h->names,
                            .nfree = (h->k - 1) * (1 + h->k) + h->em.nfree,
                            .nunits = h->nseq,
                            .nstats = h->k + h->k * h->k + h->em.nstats,
                            .nskipped = 0,
                            .nclasses = h->k,
                            .monotone = 1};
    return EM_OK;
}

/* ---- parameters -------------------------------------------------------- */

static em_status hmm_check(const void *state, const double *th, size_t *bad,
                           em_error *err)
{
    const hmm *h = state;
    size_t k = h->k;
    if (!hmm_is_prob(th, k)) {
        *bad = 0;
        return em_error_set(err, EM_ERR_ARG,
                            "start_1..start_%zu must lie in [0, 1] and sum "
                            "to 1",
                            k);
    }
    for (size_t i = 0; i < k; i++)
        if (!hmm_is_prob(th + k + i * k, k)) {
            *bad = k + i * k;
            return em_error_set(err, EM_ERR_ARG,
                                "trans_%zu_1..trans_%zu_%zu must lie in "
                                "[0, 1] and sum to 1",
                                i + 1, i + 1, k);
        }
    em_status st = hmm_emit_check(&h->em, th + h->off_emit,
                                  h->names + h->off_emit, bad, err);
    if (st != EM_OK && st != EM_ERR_NOMEM)
        *bad += h->off_emit;
    return st;
}

static em_status hmm_prepare(void *state, const double *th, em_error *err)
{
    hmm *h = state;
    size_t k = h->k;
    memcpy(h->theta, th, h->nparams * sizeof *th);
    for (size_t i = 0; i < k; i++)
        h->logstart[i] = th[i] > 0 ? log(th[i]) : -INFINITY;
    for (size_t q = 0; q < k * k; q++)
        h->logtrans[q] = th[k + q] > 0 ? log(th[k + q]) : -INFINITY;
    return hmm_emit_prepare(&h->em, th + h->off_emit, err);
}

static void hmm_unit_rows(const void *state, size_t unit, size_t *first,
                          size_t *count)
{
    const hmm *h = state;
    *first = h->seq[unit];
    *count = h->seq[unit + 1] - h->seq[unit];
}

/* ---- M-step -------------------------------------------------------------- */

static em_status hmm_mstep(void *state, const double *stats,
                           const unsigned char *fixed, double *th,
                           em_error *err)
{
    hmm *h = state;
    size_t k = h->k;
    const double *st = stats + EM_STAT_HEADER;
    hmm_prob_mstep(th, st, k, fixed);
    for (size_t i = 0; i < k; i++)
        hmm_prob_mstep(th + k + i * k, st + k + i * k, k,
                       fixed ? fixed + k + i * k : NULL);
    return hmm_emit_mstep(&h->em, st + k + k * k,
                          fixed ? fixed + h->off_emit : NULL,
                          h->names + h->off_emit, th + h->off_emit, err);
}

static double hmm_q_gain(const void *state, const double *stats,
                         const double *cur, const double *next)
{
    const hmm *h = state;
    size_t off = h->off_emit;
    return hmm_emit_q_gain(&h->em, stats + EM_STAT_HEADER + h->k + h->k * h->k,
                           cur + off, next + off);
}

static double hmm_condition(const void *state)
{
    return hmm_emit_condition(&((const hmm *)state)->em);
}

/* Free parameters of a probability vector of n entries, some held: the
 * unheld ones share what the held ones leave, so they have one fewer
 * than their number (none when all are held). */
static size_t free_in_vector(const unsigned char *fixed, size_t n)
{
    size_t open = 0;
    for (size_t j = 0; j < n; j++)
        open += !fixed[j];
    return open ? open - 1 : 0;
}

static size_t hmm_nfree_held(const void *state, const unsigned char *fixed)
{
    const hmm *h = state;
    size_t k = h->k, n = free_in_vector(fixed, k);
    for (size_t i = 0; i < k; i++)
        n += free_in_vector(fixed + k + i * k, k);
    const hmm_emission *e = &h->em;
    const unsigned char *fe = fixed + h->off_emit;
    if (e->kind == HMM_CATEGORICAL)
        for (size_t i = 0; i < k; i++)
            n += free_in_vector(fe + i * e->nsym, e->nsym);
    else
        for (size_t p = 0; p < e->nparams; p++)
            n += !fe[p];
    return n;
}

/* Unconstrained coordinates (see emfit/model.h): each probability vector
 * by hmm_prob_to_free, then the emission's. */
static size_t hmm_to_free(const void *state, const double *th,
                          const unsigned char *fixed, double *u)
{
    const hmm *h = state;
    size_t k = h->k, m = hmm_prob_to_free(th, k, fixed, u);
    for (size_t i = 0; i < k; i++)
        m += hmm_prob_to_free(th + k + i * k, k,
                              fixed ? fixed + k + i * k : NULL, u + m);
    return m + hmm_emit_to_free(&h->em, th + h->off_emit,
                                fixed ? fixed + h->off_emit : NULL, u + m);
}

static void hmm_from_free(const void *state, const double *u,
                          const unsigned char *fixed, double *th)
{
    const hmm *h = state;
    size_t k = h->k, m = hmm_prob_from_free(u, k, fixed, th);
    for (size_t i = 0; i < k; i++)
        m += hmm_prob_from_free(u + m, k, fixed ? fixed + k + i * k : NULL,
                                th + k + i * k);
    hmm_emit_from_free(&h->em, u + m, fixed ? fixed + h->off_emit : NULL,
                       th + h->off_emit);
}

/* ---- start --------------------------------------------------------------- */

/* A probability vector near uniform, jittered so states start apart. */
static void jittered(em_rng *rng, double *p, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i] = 1 + 0.2 * em_rng_uniform(rng);
    for (size_t i = 0; i < n; i++)
        p[i] /= sum;
}

/* Row i of a start for trans: the chain stays with probability about
 * 0.9 (a state that lasts, as regimes and segments do; from a uniform
 * row EM tends to a chain that forgets its state at once, a mixture),
 * and the rest is spread with jitter. */
static void sticky_row(em_rng *rng, double *row, size_t k, size_t i)
{
    if (k == 1) {
        row[0] = 1;
        return;
    }
    jittered(rng, row, k);
    double off = 0;
    for (size_t j = 0; j < k; j++)
        off += j == i ? 0 : row[j];
    for (size_t j = 0; j < k; j++)
        row[j] = j == i ? 0.9 : 0.1 * row[j] / off;
}

static em_status hmm_init(void *state, unsigned long long seed, double *th,
                          em_error *err)
{
    hmm *h = state;
    em_rng rng;
    em_rng_seed(&rng, seed);
    jittered(&rng, th, h->k);
    for (size_t i = 0; i < h->k; i++)
        sticky_row(&rng, th + h->k + i * h->k, h->k, i);
    return hmm_emit_init(&h->em, &rng, h->x, h->n, th + h->off_emit, err);
}

/* ---- result -------------------------------------------------------------- */

/* "hmm": start, trans as a matrix, the stationary distribution (null when
 * the chain has none unique) and the emission, for readers that want
 * arrays. */
static void hmm_result_json(const void *state, const double *th, FILE *f)
{
    const hmm *h = state;
    size_t k = h->k;
    double *pi = malloc(k * sizeof *pi);
    fprintf(f, "  \"hmm\": {\n    \"emission\": \"%s\",\n"
               "    \"states\": %zu,\n    \"sequences\": %zu,\n"
               "    \"start\": ",
            h->em.kind == HMM_CATEGORICAL ? "categorical" : "gaussian", k,
            h->nseq);
    em_json_write_numbers(f, th, k);
    fputs(",\n    \"trans\": [", f);
    for (size_t i = 0; i < k; i++) {
        fputs(i ? ", " : "", f);
        em_json_write_numbers(f, th + k + i * k, k);
    }
    fputs("],\n    \"stationary\": ", f);
    if (pi && hmm_stationary(th + k, k, pi))
        em_json_write_numbers(f, pi, k);
    else
        fputs("null", f);
    fputs(",\n", f);
    hmm_emit_json(&h->em, th + h->off_emit, f);
    fputs("  },\n", f);
    free(pi);
}

const em_model_type em_model_hmm = {
    .name = "hmm",
    .summary = "hidden Markov model, K states, Gaussian or categorical "
               "emissions, one or many sequences",
    .options = hmm_options,
    .create = hmm_create,
    .destroy = hmm_destroy,
    .init = hmm_init,
    .check = hmm_check,
    .prepare = hmm_prepare,
    .estep = hmm_estep,
    .mstep = hmm_mstep,
    .q_gain = hmm_q_gain,
    .posterior = hmm_posterior,
    .unit_rows = hmm_unit_rows,
    .decode = hmm_decode,
    .condition = hmm_condition,
    .result_json = hmm_result_json,
    .nfree_held = hmm_nfree_held,
    .to_free = hmm_to_free,
    .from_free = hmm_from_free,
    .fixable = 1,
};
