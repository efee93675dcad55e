#include "models/gauss_mstep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "core/numeric.h"
#include "models/free_coords.h"
#include "models/gauss.h"

#define DEFAULT_REG 1e-6

static const char *const cov_names[] = {"full", "diag", "spherical", "tied"};

em_status em_gauss_settings(const em_model_config *cfg, em_cov_kind *kind,
                            double *reg, em_error *err)
{
    int found = !cfg->cov;
    *kind = EM_COV_FULL;
    for (int c = 0; cfg->cov && c < 4; c++)
        if (strcmp(cfg->cov, cov_names[c]) == 0)
            *kind = (em_cov_kind)c, found = 1;
    if (!found)
        return em_error_set(err, EM_ERR_ARG,
                            "--cov must be full, diag, spherical or tied, "
                            "not \"%s\"",
                            cfg->cov);
    *reg = cfg->has_reg ? cfg->reg : DEFAULT_REG;
    if (!(*reg >= 0 && isfinite(*reg)))
        return em_error_set(err, EM_ERR_ARG, "--reg must be >= 0");
    return EM_OK;
}

const char *em_cov_name(em_cov_kind kind)
{
    return cov_names[kind];
}

int em_gauss_diag_stats(em_cov_kind kind)
{
    return kind == EM_COV_DIAG || kind == EM_COV_SPHERICAL;
}

size_t em_gauss_ncov(em_cov_kind kind, size_t d)
{
    return kind == EM_COV_DIAG        ? d
           : kind == EM_COV_SPHERICAL ? 1
                                      : d * (d + 1) / 2;
}

size_t em_gauss_nstat(em_cov_kind kind, size_t d)
{
    return 1 + d + (em_gauss_diag_stats(kind) ? d : d * (d + 1) / 2);
}

/* Where normal k's covariance block starts: tied has only one. */
static size_t cov_offset(const em_gauss_shape *sh, size_t k)
{
    return sh->kind == EM_COV_TIED ? 0 : k * em_gauss_ncov(sh->kind, sh->d);
}

void em_gauss_cov_expand(em_cov_kind kind, size_t d, const double *c,
                         double *s)
{
    memset(s, 0, d * d * sizeof *s);
    for (size_t i = 0; i < d; i++) {
        if (kind == EM_COV_DIAG)
            s[i * d + i] = c[i];
        else if (kind == EM_COV_SPHERICAL)
            s[i * d + i] = c[0];
        else
            for (size_t j = i; j < d; j++)
                s[i * d + j] = s[j * d + i] = c[em_gauss_tri(d, i, j)];
    }
}

void em_gauss_cov_to_free(em_cov_kind kind, size_t d, const double *c,
                          double *u)
{
    if (kind == EM_COV_FULL || kind == EM_COV_TIED) {
        em_cov_to_free(c, d, u);
        return;
    }
    for (size_t i = 0; i < em_gauss_ncov(kind, d); i++)
        u[i] = log(c[i]);
}

void em_gauss_cov_from_free(em_cov_kind kind, size_t d, const double *u,
                            double *c)
{
    if (kind == EM_COV_FULL || kind == EM_COV_TIED) {
        em_cov_from_free(u, d, c);
        return;
    }
    for (size_t i = 0; i < em_gauss_ncov(kind, d); i++)
        c[i] = exp(u[i]);
}

/* dm = S1 / N and M = S2 / N - dm dm^T, packed, for the block sk.  With
 * diagonal statistics M is 0 off the diagonal: no term of Q is there. */
static void centred_moments(const em_gauss_shape *sh, const double *sk,
                            double *dm, double *m)
{
    size_t d = sh->d;
    int diag = em_gauss_diag_stats(sh->kind);
    for (size_t i = 0; i < d; i++)
        dm[i] = sk[1 + i] / sk[0];
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            size_t q = em_gauss_tri(d, i, j);
            if (diag)
                m[q] = i == j ? sk[1 + d + i] / sk[0] - dm[i] * dm[i] : 0.0;
            else
                m[q] = sk[1 + d + q] / sk[0] - dm[i] * dm[j];
        }
}

/* Writes packed m, plus reg on the diagonal, as the structure's
 * covariance block c. */
static void store_cov(const em_gauss_shape *sh, const double *m, double *c)
{
    size_t d = sh->d;
    if (sh->kind == EM_COV_FULL || sh->kind == EM_COV_TIED) {
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                c[em_gauss_tri(d, i, j)] =
                    m[em_gauss_tri(d, i, j)] + (i == j ? sh->reg : 0.0);
    } else if (sh->kind == EM_COV_DIAG) {
        for (size_t i = 0; i < d; i++)
            c[i] = m[em_gauss_tri(d, i, i)] + sh->reg;
    } else {
        double t = 0;
        for (size_t i = 0; i < d; i++)
            t += m[em_gauss_tri(d, i, i)];
        c[0] = t / (double)d + sh->reg;
    }
}

em_status em_gauss_mstep(const em_gauss_shape *sh, const double *st,
                         double pool_n, double *mean, double *cov,
                         em_error *err)
{
    size_t d = sh->d, tri = d * (d + 1) / 2;
    size_t nstat = em_gauss_nstat(sh->kind, d);
    int tied = sh->kind == EM_COV_TIED;
    double *m = calloc(tri, sizeof *m), *pool = calloc(tri, sizeof *pool);
    double *dm = calloc(d, sizeof *dm);
    if (!m || !pool || !dm) {
        free(m), free(pool), free(dm);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < sh->k; k++) {
        const double *sk = st + k * nstat;
        if (!(sk[0] > 0))
            continue;
        centred_moments(sh, sk, dm, m);
        for (size_t i = 0; i < d; i++)
            mean[k * d + i] += dm[i];
        if (tied)
            for (size_t q = 0; q < tri; q++)
                pool[q] += sk[0] * m[q] / pool_n;
        else
            store_cov(sh, m, cov + cov_offset(sh, k));
    }
    if (tied && pool_n > 0)
        store_cov(sh, pool, cov);
    free(m), free(pool), free(dm);
    return EM_OK;
}

/* tr(S^-1 A) for S with Cholesky factor l and A full; x is d scratch. */
static double trace_solve(const double *l, const double *a, size_t d,
                          double *x)
{
    double t = 0;
    for (size_t j = 0; j < d; j++) {
        for (size_t i = 0; i < d; i++)
            x[i] = a[i * d + j];
        em_chol_forward(l, d, x);
        em_chol_back(l, d, x);
        t += x[j];
    }
    return t;
}

/* Scratch for the Q gain: M (packed), S and A (d x d), x, dm and the
 * weighted mean mbar (d each). */
typedef struct q_scratch {
    double *m, *s, *a, *x, *dm, *mbar;
} q_scratch;

/* Normal k's part of Q at p, up to constants:
 * N log w - N/2 [log|S| + tr(S^-1 (M + e e^T))], e = mbar - p's mean. */
static double q_part(const em_gauss_shape *sh, const em_gauss_point *p,
                     size_t k, double n, const q_scratch *q)
{
    size_t d = sh->d;
    const double *mu = p->mean + k * d;
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            q->a[i * d + j] = q->a[j * d + i] =
                q->m[em_gauss_tri(d, i, j)] +
                (q->mbar[i] - mu[i]) * (q->mbar[j] - mu[j]);
    em_gauss_cov_expand(sh->kind, d, p->cov + cov_offset(sh, k), q->s);
    if (em_cholesky(q->s, d) != 0)
        return NAN;
    double part =
        -0.5 * n * (em_chol_logdet(q->s, d) + trace_solve(q->s, q->a, d, q->x));
    return p->w ? em_xlogy(n, p->w[k]) + part : part;
}

double em_gauss_q_gain(const em_gauss_shape *sh, const double *st,
                       const em_gauss_point *cur,
                       const em_gauss_point *next)
{
    if (sh->reg == 0)
        return 0;
    size_t d = sh->d, nstat = em_gauss_nstat(sh->kind, d);
    q_scratch q = {.m = malloc(d * (d + 1) / 2 * sizeof(double)),
                   .s = malloc(d * d * sizeof(double)),
                   .a = malloc(d * d * sizeof(double)),
                   .x = malloc(d * sizeof(double)),
                   .dm = malloc(d * sizeof(double)),
                   .mbar = malloc(d * sizeof(double))};
    double gain = NAN;
    if (q.m && q.s && q.a && q.x && q.dm && q.mbar) {
        gain = 0;
        for (size_t k = 0; k < sh->k; k++) {
            const double *sk = st + k * nstat;
            if (!(sk[0] > 0))
                continue;
            centred_moments(sh, sk, q.dm, q.m);
            for (size_t i = 0; i < d; i++)
                q.mbar[i] = cur->mean[k * d + i] + q.dm[i];
            gain += q_part(sh, next, k, sk[0], &q) -
                    q_part(sh, cur, k, sk[0], &q);
        }
    }
    free(q.m), free(q.s), free(q.a), free(q.x), free(q.dm), free(q.mbar);
    return gain;
}
