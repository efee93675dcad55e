/* The hidden Markov model's emissions: categorical symbols, or Gaussian
 * with gmm's covariance structures (see hmm.h and hmm.c).
 *
 * Emission parameters, after the chain's:
 *   categorical  emit_{i}_{SYMBOL}: state i's probability of each symbol,
 *                in the order the symbols were first met; emit_{i}_{j}
 *                (j = the symbol's number) when some symbol's text is not
 *                a plain name
 *   gaussian     mean{i}_{c}, then cov{i}_{a}_{b} (full), var{i}_{c}
 *                (diag), var{i} (spherical) or cov_{a}_{b} (tied)
 *
 * Gaussian statistics per state are gmm's: the weight sum, the sums of
 * x - mu and the second moments of x - mu about the current mean, with a
 * missing coordinate entering through its conditional moments
 * (models/gauss.h), so the M-step is gmm's with the state probabilities
 * in place of responsibilities: both call models/gauss_mstep.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "core/numeric.h"
#include "core/text.h"
#include "emfit/json.h"
#include "models/gauss_mstep.h"
#include "models/hmm.h"

#define MAX_NAME 96

/* Without reg a covariance may drift to singular; refuse past this. */
#define REG0_MAX_CONDITION 1e12


/* hmm_cov and em_cov_kind both follow --cov's order, so one casts to the
 * other. */
_Static_assert((int)HMM_FULL == (int)EM_COV_FULL &&
                   (int)HMM_DIAG == (int)EM_COV_DIAG &&
                   (int)HMM_SPHERICAL == (int)EM_COV_SPHERICAL &&
                   (int)HMM_TIED == (int)EM_COV_TIED,
               "hmm_cov in em_cov_kind's order");

/* ---- setup ------------------------------------------------------------ */

static em_status gaussian_settings(hmm_emission *e,
                                   const em_model_config *cfg, em_error *err)
{
    em_cov_kind kind;
    em_status st = em_gauss_settings(cfg, &kind, &e->reg, err);
    if (st != EM_OK)
        return st;
    e->cov = (hmm_cov)kind;
    size_t d = e->d, k = e->k;
    /* as gmm: each K x D x D array at most 800 MB */
    if (d > 1000 || (double)k * d * d > 1e8)
        return em_error_set(err, EM_ERR_ARG,
                            "%zu states in %zu dimensions is more than emfit "
                            "handles (K x D x D at most 1e8)",
                            k, d);
    e->tri = d * (d + 1) / 2;
    e->ncov = em_gauss_ncov((em_cov_kind)e->cov, d);
    e->diag_stats = em_gauss_diag_stats((em_cov_kind)e->cov);
    e->nstat_k = em_gauss_nstat((em_cov_kind)e->cov, d);
    e->nparams = k * d + (e->cov == HMM_TIED ? e->tri : k * e->ncov);
    e->nfree = e->nparams;
    e->nstats = k * e->nstat_k;
    return EM_OK;
}

em_status hmm_emit_setup(hmm_emission *e, const em_model_config *cfg,
                         size_t k, size_t d, size_t nsym,
                         char *const *symbols, em_error *err)
{
    *e = (hmm_emission){.k = k, .d = d};
    const char *kind = cfg->emission ? cfg->emission : "gaussian";
    e->init_random = cfg->init && strcmp(cfg->init, "random") == 0;
    if (cfg->init && !e->init_random && strcmp(cfg->init, "kmeans++") != 0)
        return em_error_set(err, EM_ERR_ARG,
                            "--init must be kmeans++ or random, not \"%s\"",
                            cfg->init);
    if (strcmp(kind, "gaussian") == 0)
        return gaussian_settings(e, cfg, err);
    if (strcmp(kind, "categorical") != 0)
        return em_error_set(err, EM_ERR_ARG,
                            "--emission must be gaussian or categorical, not "
                            "\"%s\"",
                            kind);
    if (cfg->cov || cfg->has_reg)
        return em_error_set(err, EM_ERR_ARG,
                            "--%s applies to gaussian emissions only",
                            cfg->cov ? "cov" : "reg");
    if ((double)k * (double)nsym > 1e8)
        return em_error_set(err, EM_ERR_ARG,
                            "%zu states over %zu symbols is more than emfit "
                            "handles",
                            k, nsym);
    e->kind = HMM_CATEGORICAL;
    e->nsym = nsym;
    e->symbols = symbols;
    e->nparams = e->nstats = k * nsym;
    e->nfree = k * (nsym - 1);
    return EM_OK;
}

/* Column means and variances of the observed values (1 for a column that
 * does not vary, so a start never divides by 0). */
static void column_moments(hmm_emission *e, const double *x, size_t n)
{
    size_t d = e->d;
    for (size_t j = 0; j < d; j++) {
        double cnt = 0, s = 0, ss = 0;
        for (size_t t = 0; t < n; t++)
            if (!isnan(x[t * d + j]))
                cnt += 1, s += x[t * d + j];
        double m = cnt > 0 ? s / cnt : 0;
        for (size_t t = 0; t < n; t++)
            if (!isnan(x[t * d + j]))
                ss += (x[t * d + j] - m) * (x[t * d + j] - m);
        e->colmean[j] = m;
        e->colvar[j] = cnt > 0 && ss / cnt > 0 ? ss / cnt : 1.0;
    }
}

em_status hmm_emit_alloc(hmm_emission *e, const double *x, size_t n)
{
    size_t k = e->k, d = e->d;
    if (e->kind == HMM_CATEGORICAL) {
        e->logp = malloc(k * e->nsym * sizeof *e->logp);
        return e->logp ? EM_OK : EM_ERR_NOMEM;
    }
    e->mu = malloc(k * d * sizeof *e->mu);
    e->sig = malloc(k * d * d * sizeof *e->sig);
    e->chol = malloc(k * d * d * sizeof *e->chol);
    e->logdet = malloc(k * sizeof *e->logdet);
    e->invdiag = malloc(k * d * sizeof *e->invdiag);
    e->cst = malloc(k * sizeof *e->cst);
    e->colmean = malloc(d * sizeof *e->colmean);
    e->colvar = malloc(d * sizeof *e->colvar);
    if (!e->mu || !e->sig || !e->chol || !e->logdet || !e->colmean ||
        !e->colvar || !e->invdiag || !e->cst)
        return EM_ERR_NOMEM;
    column_moments(e, x, n);
    return EM_OK;
}

void hmm_emit_free(hmm_emission *e)
{
    free(e->logp);
    free(e->mu), free(e->sig), free(e->chol), free(e->logdet);
    free(e->invdiag), free(e->cst);
    free(e->colmean), free(e->colvar);
}

/* ---- names ------------------------------------------------------------ */

/* A symbol's text can name a parameter when --start, --fix and
 * --trace-params can spell it: letters, digits, '.', '-', '+', '_'. */
static int plain_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(".-+_", *s)))
            return 0;
    return 1;
}

static size_t categorical_names(const hmm_emission *e, char **names)
{
    int plain = 1;
    for (size_t s = 0; s < e->nsym; s++)
        plain &= plain_name(e->symbols[s]);
    size_t p = 0;
    char buf[MAX_NAME];
    for (size_t i = 0; i < e->k; i++)
        for (size_t s = 0; s < e->nsym; s++) {
            if (plain)
                snprintf(buf, sizeof buf, "emit_%zu_%s", i + 1,
                         e->symbols[s]);
            else
                snprintf(buf, sizeof buf, "emit_%zu_%zu", i + 1, s + 1);
            names[p++] = em_strdup(buf);
        }
    return p;
}

static size_t gaussian_names(const hmm_emission *e, char **names)
{
    size_t p = 0, d = e->d;
    char buf[MAX_NAME];
    for (size_t i = 0; i < e->k; i++)
        for (size_t c = 0; c < d; c++) {
            snprintf(buf, sizeof buf, "mean%zu_%zu", i + 1, c + 1);
            names[p++] = em_strdup(buf);
        }
    size_t nblocks = e->cov == HMM_TIED ? 1 : e->k;
    for (size_t i = 0; i < nblocks; i++) {
        if (e->cov == HMM_SPHERICAL) {
            snprintf(buf, sizeof buf, "var%zu", i + 1);
            names[p++] = em_strdup(buf);
        }
        for (size_t c = 0; e->cov == HMM_DIAG && c < d; c++) {
            snprintf(buf, sizeof buf, "var%zu_%zu", i + 1, c + 1);
            names[p++] = em_strdup(buf);
        }
        for (size_t a = 0; (e->cov == HMM_FULL || e->cov == HMM_TIED) && a < d;
             a++)
            for (size_t b = a; b < d; b++) {
                if (e->cov == HMM_TIED)
                    snprintf(buf, sizeof buf, "cov_%zu_%zu", a + 1, b + 1);
                else
                    snprintf(buf, sizeof buf, "cov%zu_%zu_%zu", i + 1, a + 1,
                             b + 1);
                names[p++] = em_strdup(buf);
            }
    }
    return p;
}

int hmm_emit_names(const hmm_emission *e, char **names)
{
    size_t p = e->kind == HMM_CATEGORICAL ? categorical_names(e, names)
                                          : gaussian_names(e, names);
    for (size_t i = 0; i < p; i++)
        if (!names[i])
            return 0;
    return 1;
}

/* ---- covariances ---------------------------------------------------- */

size_t hmm_emit_off_cov(const hmm_emission *e, size_t i)
{
    return e->k * e->d + (e->cov == HMM_TIED ? 0 : i * e->ncov);
}

/* State i's covariance as a full d x d matrix. */
void hmm_emit_cov(const hmm_emission *e, const double *th, size_t i,
                  double *s)
{
    em_gauss_cov_expand((em_cov_kind)e->cov, e->d,
                        th + hmm_emit_off_cov(e, i), s);
}

/* ---- check and prepare ------------------------------------------------ */

static em_status check_categorical(const hmm_emission *e, const double *th,
                                   char *const *names, size_t *bad,
                                   em_error *err)
{
    for (size_t i = 0; i < e->k; i++)
        if (!hmm_is_prob(th + i * e->nsym, e->nsym)) {
            *bad = i * e->nsym;
            return em_error_set(err, EM_ERR_ARG,
                                "%s..: the emission probabilities of state "
                                "%zu must lie in [0, 1] and sum to 1",
                                names[*bad], i + 1);
        }
    return EM_OK;
}

static em_status check_gaussian(const hmm_emission *e, const double *th,
                                char *const *names, size_t *bad,
                                em_error *err)
{
    for (size_t p = 0; p < e->nparams; p++)
        if (!isfinite(th[p])) {
            *bad = p;
            return em_error_set(err, EM_ERR_ARG, "%s = %g: must be finite",
                                names[p], th[p]);
        }
    double *s = malloc(e->d * e->d * sizeof *s);
    if (!s)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    size_t nblocks = e->cov == HMM_TIED ? 1 : e->k;
    em_status st = EM_OK;
    for (size_t i = 0; i < nblocks && st == EM_OK; i++) {
        hmm_emit_cov(e, th, i, s);
        if (em_cholesky(s, e->d) != 0) {
            *bad = hmm_emit_off_cov(e, i);
            st = em_error_set(err, EM_ERR_ARG,
                              "the covariance of state %zu is not positive "
                              "definite",
                              i + 1);
        }
    }
    free(s);
    return st;
}

em_status hmm_emit_check(const hmm_emission *e, const double *th,
                         char *const *names, size_t *bad, em_error *err)
{
    return e->kind == HMM_CATEGORICAL
               ? check_categorical(e, th, names, bad, err)
               : check_gaussian(e, th, names, bad, err);
}

double hmm_emit_condition(const hmm_emission *e)
{
    if (e->kind == HMM_CATEGORICAL)
        return 0;
    return em_chol_worst_condition(e->chol, e->cov == HMM_TIED ? 1 : e->k,
                                   e->d);
}

em_status hmm_emit_prepare(hmm_emission *e, const double *th, em_error *err)
{
    if (e->kind == HMM_CATEGORICAL) {
        for (size_t p = 0; p < e->nparams; p++)
            e->logp[p] = th[p] > 0 ? log(th[p]) : -INFINITY;
        return EM_OK;
    }
    size_t d = e->d;
    for (size_t i = 0; i < e->k; i++) {
        double *s = e->sig + i * d * d, *l = e->chol + i * d * d;
        memcpy(e->mu + i * d, th + i * d, d * sizeof *e->mu);
        hmm_emit_cov(e, th, i, s);
        memcpy(l, s, d * d * sizeof *l);
        if (em_cholesky(l, d) != 0)
            return em_error_set(err, EM_ERR_NUMERIC,
                                "the covariance of state %zu is singular: "
                                "use --reg > 0",
                                i + 1);
        e->logdet[i] = em_chol_logdet(l, d);
        e->cst[i] = -0.5 * ((double)d * EM_LOG_2PI + e->logdet[i]);
        for (size_t a = 0; a < d; a++)
            e->invdiag[i * d + a] = 1.0 / l[a * d + a];
    }
    if (e->reg == 0 && hmm_emit_condition(e) > REG0_MAX_CONDITION)
        return em_error_set(err, EM_ERR_NUMERIC,
                            "a covariance is nearly singular (condition "
                            "number above %g): use --reg > 0",
                            REG0_MAX_CONDITION);
    return EM_OK;
}

static int held(const unsigned char *fixed, size_t j)
{
    return fixed && fixed[j];
}

/* A covariance block with any parameter held keeps its values (the
 * M-step refuses such a fit anyway). */
static int block_held(const unsigned char *fixed, size_t off, size_t n)
{
    for (size_t q = 0; fixed && q < n; q++)
        if (fixed[off + q])
            return 1;
    return 0;
}

size_t hmm_emit_to_free(const hmm_emission *e, const double *th,
                        const unsigned char *fixed, double *u)
{
    size_t m = 0;
    if (e->kind == HMM_CATEGORICAL) {
        for (size_t i = 0; i < e->k; i++)
            m += hmm_prob_to_free(th + i * e->nsym, e->nsym,
                                  fixed ? fixed + i * e->nsym : NULL, u + m);
        return m;
    }
    for (size_t q = 0; q < e->k * e->d; q++)
        if (!held(fixed, q))
            u[m++] = th[q];
    for (size_t i = 0; i < (e->cov == HMM_TIED ? 1 : e->k); i++) {
        size_t off = hmm_emit_off_cov(e, i);
        if (block_held(fixed, off, e->ncov))
            continue;
        em_gauss_cov_to_free((em_cov_kind)e->cov, e->d, th + off, u + m);
        m += e->ncov;
    }
    return m;
}

void hmm_emit_from_free(const hmm_emission *e, const double *u,
                        const unsigned char *fixed, double *th)
{
    size_t m = 0;
    if (e->kind == HMM_CATEGORICAL) {
        for (size_t i = 0; i < e->k; i++)
            m += hmm_prob_from_free(u + m, e->nsym,
                                    fixed ? fixed + i * e->nsym : NULL,
                                    th + i * e->nsym);
        return;
    }
    for (size_t q = 0; q < e->k * e->d; q++)
        if (!held(fixed, q))
            th[q] = u[m++];
    for (size_t i = 0; i < (e->cov == HMM_TIED ? 1 : e->k); i++) {
        size_t off = hmm_emit_off_cov(e, i);
        if (block_held(fixed, off, e->ncov))
            continue;
        em_gauss_cov_from_free((em_cov_kind)e->cov, e->d, u + m, th + off);
        m += e->ncov;
    }
}

/* ---- E-step pieces ------------------------------------------------------ */

int hmm_emit_logdens(const hmm_emission *e, const double *x,
                     em_gauss_work *w, double *lb)
{
    if (e->kind == HMM_CATEGORICAL) {
        if (isnan(x[0]))
            return 0;
        size_t c = (size_t)x[0];
        for (size_t i = 0; i < e->k; i++)
            lb[i] = e->logp[i * e->nsym + c];
        return 1;
    }
    if (em_gauss_split(w, x) == 0)
        return 0;
    size_t d = e->d;
    for (size_t i = 0; i < e->k; i++)
        lb[i] = em_gauss_factor(w, e->sig + i * d * d, e->chol + i * d * d,
                                e->logdet[i]) != 0
                    ? -INFINITY
                    : em_gauss_logpdf(w, x, e->mu + i * d);
    return 1;
}

size_t hmm_emit_block_work(const hmm_emission *e)
{
    return (3 * e->d + 1) * HMM_BLOCK;
}

/* The complete steps xt (d x HMM_BLOCK, column c a step) under state i:
 * L y = x - mu solved for all nc steps at once, then the densities. */
static void block_state(const hmm_emission *e, size_t i, const double *xt,
                        size_t nc, double *y, double *maha)
{
    size_t d = e->d;
    const double *l = e->chol + i * d * d, *mu = e->mu + i * d;
    const double *inv = e->invdiag + i * d;
    for (size_t c = 0; c < nc; c++)
        maha[c] = 0;
    for (size_t a = 0; a < d; a++) {
        double *ya = y + a * HMM_BLOCK;
        const double *xa = xt + a * HMM_BLOCK;
        for (size_t c = 0; c < nc; c++)
            ya[c] = xa[c] - mu[a];
        for (size_t b = 0; b < a; b++) {
            const double lab = l[a * d + b], *yb = y + b * HMM_BLOCK;
            for (size_t c = 0; c < nc; c++)
                ya[c] -= lab * yb[c];
        }
        for (size_t c = 0; c < nc; c++) {
            ya[c] *= inv[a];
            maha[c] += ya[c] * ya[c];
        }
    }
}

void hmm_emit_block(const hmm_emission *e, const double *x, size_t n,
                    em_gauss_work *w, double *work, double *lb,
                    unsigned char *any)
{
    size_t d = e->d, k = e->k, nc = 0, idx[HMM_BLOCK];
    double *xt = work, *y = work + d * HMM_BLOCK, *maha = y + d * HMM_BLOCK;
    for (size_t t = 0; t < n; t++) {
        const double *xs = x + t * d;
        int complete = e->kind == HMM_GAUSSIAN;
        for (size_t a = 0; complete && a < d; a++)
            complete = !isnan(xs[a]);
        if (!complete) {
            any[t] = (unsigned char)hmm_emit_logdens(e, xs, w, lb + t * k);
            continue;
        }
        any[t] = 1;
        for (size_t a = 0; a < d; a++)
            xt[a * HMM_BLOCK + nc] = xs[a];
        idx[nc++] = t;
    }
    for (size_t i = 0; nc && i < k; i++) {
        block_state(e, i, xt, nc, y, maha);
        for (size_t c = 0; c < nc; c++)
            lb[idx[c] * k + i] = e->cst[i] - 0.5 * maha[c];
    }
}

void hmm_emit_add(const hmm_emission *e, const double *x, const double *gamma,
                  em_gauss_work *w, double *dev, double *st)
{
    if (e->kind == HMM_CATEGORICAL) {
        if (isnan(x[0]))
            return;
        size_t c = (size_t)x[0];
        for (size_t i = 0; i < e->k; i++)
            st[i * e->nsym + c] += gamma[i];
        return;
    }
    if (em_gauss_split(w, x) == 0)
        return;
    size_t d = e->d;
    for (size_t i = 0; i < e->k; i++) {
        double r = gamma[i], *sk = st + i * e->nstat_k;
        const double *mu = e->mu + i * d, *sig = e->sig + i * d * d;
        if (!(r > 0))
            continue;
        if (w->nm == 0) {
            for (size_t a = 0; a < d; a++)
                dev[a] = x[a] - mu[a];
        } else {
            if (em_gauss_factor(w, sig, e->chol + i * d * d, e->logdet[i]))
                continue; /* its density was 0, so r was too */
            em_gauss_regression(w, sig);
            em_gauss_logpdf(w, x, mu);
            em_gauss_cond_dev(w, x, mu, dev);
        }
        sk[0] += r;
        em_gauss_add_moments(d, dev, r, e->diag_stats, sk + 1, sk + 1 + d);
        if (w->nm)
            em_gauss_add_cond_cov(w, r, e->diag_stats, sk + 1 + d);
    }
}

/* Adds state i's weighted moments of the nc complete steps xt (d x
 * HMM_BLOCK, column c a step, weight r[c]) into sk; dev and rd are d x
 * HMM_BLOCK of scratch. */
static void add_block_state(const hmm_emission *e, size_t i, const double *xt,
                            const double *r, size_t nc, double *dev,
                            double *rd, double *sk)
{
    size_t d = e->d;
    const double *mu = e->mu + i * d;
    double n = 0;
    for (size_t c = 0; c < nc; c++)
        n += r[c];
    sk[0] += n;
    for (size_t a = 0; a < d; a++) {
        double *da = dev + a * HMM_BLOCK, *ra = rd + a * HMM_BLOCK, s1 = 0;
        for (size_t c = 0; c < nc; c++) {
            da[c] = xt[a * HMM_BLOCK + c] - mu[a];
            ra[c] = r[c] * da[c];
            s1 += ra[c];
        }
        sk[1 + a] += s1;
    }
    for (size_t a = 0; a < d; a++)
        for (size_t b = a; b < (e->diag_stats ? a + 1 : d); b++) {
            const double *ra = rd + a * HMM_BLOCK, *db = dev + b * HMM_BLOCK;
            double s2 = 0;
            for (size_t c = 0; c < nc; c++)
                s2 += ra[c] * db[c];
            sk[1 + d + (e->diag_stats ? a : em_gauss_tri(d, a, b))] += s2;
        }
}

void hmm_emit_add_block(const hmm_emission *e, const double *x, size_t n,
                        const double *gamma, em_gauss_work *w, double *work,
                        double *dev, double *st)
{
    size_t d = e->d, k = e->k, nc = 0, idx[HMM_BLOCK];
    double *xt = work, *dv = work + d * HMM_BLOCK, *rd = dv + d * HMM_BLOCK;
    double *r = rd + d * HMM_BLOCK;
    for (size_t t = 0; t < n; t++) {
        const double *xs = x + t * d;
        int complete = e->kind == HMM_GAUSSIAN;
        for (size_t a = 0; complete && a < d; a++)
            complete = !isnan(xs[a]);
        if (!complete) {
            hmm_emit_add(e, xs, gamma + t * k, w, dev, st);
            continue;
        }
        for (size_t a = 0; a < d; a++)
            xt[a * HMM_BLOCK + nc] = xs[a];
        idx[nc++] = t;
    }
    for (size_t i = 0; nc && i < k; i++) {
        for (size_t c = 0; c < nc; c++)
            r[c] = gamma[idx[c] * k + i];
        add_block_state(e, i, xt, r, nc, dv, rd, st + i * e->nstat_k);
    }
}

/* ---- M-step ------------------------------------------------------------- */

static em_gauss_shape shape_of(const hmm_emission *e)
{
    return (em_gauss_shape){(em_cov_kind)e->cov, e->d, e->k, e->reg};
}

/* A tied covariance pools the states by their share of the summed
 * state probabilities. */
em_status hmm_gaussian_mstep(const hmm_emission *e, const double *st,
                             double *th, em_error *err)
{
    em_gauss_shape sh = shape_of(e);
    double total = 0;
    for (size_t i = 0; i < e->k; i++)
        total += st[i * e->nstat_k];
    return em_gauss_mstep(&sh, st, total, th, th + hmm_emit_off_cov(e, 0),
                          err);
}

em_status hmm_emit_mstep(const hmm_emission *e, const double *st,
                         const unsigned char *fixed, char *const *names,
                         double *th, em_error *err)
{
    if (e->kind == HMM_CATEGORICAL) {
        for (size_t i = 0; i < e->k; i++)
            hmm_prob_mstep(th + i * e->nsym, st + i * e->nsym, e->nsym,
                           fixed ? fixed + i * e->nsym : NULL);
        return EM_OK;
    }
    for (size_t p = 0; fixed && p < e->nparams; p++)
        if (fixed[p])
            return em_error_set(err, EM_ERR_ARG,
                                "--fix: the hmm model holds start_*, trans_* "
                                "and emit_* parameters, not the Gaussian %s",
                                names[p]);
    return hmm_gaussian_mstep(e, st, th, err);
}

double hmm_emit_q_gain(const hmm_emission *e, const double *st,
                       const double *cur, const double *next)
{
    if (e->kind == HMM_CATEGORICAL)
        return 0;
    em_gauss_shape sh = shape_of(e);
    em_gauss_point c = {NULL, cur, cur + hmm_emit_off_cov(e, 0)};
    em_gauss_point x = {NULL, next, next + hmm_emit_off_cov(e, 0)};
    return em_gauss_q_gain(&sh, st, &c, &x);
}

/* ---- result ------------------------------------------------------------- */

void hmm_emit_json(const hmm_emission *e, const double *th, FILE *f)
{
    if (e->kind == HMM_CATEGORICAL) {
        fputs("    \"symbols\": [", f);
        for (size_t s = 0; s < e->nsym; s++) {
            fputs(s ? ", " : "", f);
            em_json_write_string(f, e->symbols[s]);
        }
        fputs("],\n    \"emit\": [", f);
        for (size_t i = 0; i < e->k; i++) {
            fputs(i ? ", " : "", f);
            em_json_write_numbers(f, th + i * e->nsym, e->nsym);
        }
        fputs("]\n", f);
        return;
    }
    size_t d = e->d;
    double *s = malloc(d * d * sizeof *s);
    fprintf(f, "    \"cov\": \"%s\",\n    \"means\": [",
            em_cov_name((em_cov_kind)e->cov));
    for (size_t i = 0; i < e->k; i++) {
        fputs(i ? ", " : "", f);
        em_json_write_numbers(f, th + i * d, d);
    }
    fputs("],\n    \"covariances\": [", f);
    for (size_t i = 0; s && i < e->k; i++) {
        hmm_emit_cov(e, th, i, s);
        fputs(i ? ", [" : "[", f);
        for (size_t a = 0; a < d; a++) {
            fputs(a ? ", " : "", f);
            em_json_write_numbers(f, s + a * d, d);
        }
        fputc(']', f);
    }
    fputs("]\n", f);
    free(s);
}
