/* Default starts of the hidden Markov model's emissions (internal):
 * seeded Dirichlet rows for symbols; for Gaussian emissions k-means++ (or
 * random) centres over the steps, then one M-step on the assignment of
 * every step to its nearest centre, as gmm starts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "models/hmm.h"

/* Each state's symbol probabilities: a Dirichlet(1, ..., 1) draw. */
static void dirichlet_rows(const hmm_emission *e, em_rng *rng, double *th)
{
    for (size_t i = 0; i < e->k; i++) {
        double *p = th + i * e->nsym, sum = 0;
        for (size_t s = 0; s < e->nsym; s++) {
            p[s] = fmax(-log1p(-em_rng_uniform(rng)), 1e-12);
            sum += p[s];
        }
        for (size_t s = 0; s < e->nsym; s++)
            p[s] /= sum;
    }
}

/* Squared distance, a missing value counting as its column's mean. */
static double dist2(const hmm_emission *e, const double *x, const double *c)
{
    double s = 0;
    for (size_t a = 0; a < e->d; a++) {
        double v = isnan(x[a]) ? e->colmean[a] : x[a];
        s += (v - c[a]) * (v - c[a]);
    }
    return s;
}

static void fill_centre(const hmm_emission *e, const double *x, double *c)
{
    for (size_t a = 0; a < e->d; a++)
        c[a] = isnan(x[a]) ? e->colmean[a] : x[a];
}

/* k-means++ (or, with --init random, K distinct steps) over the steps
 * rows[0..nr) into the centres cen. */
static void pick_centres(const hmm_emission *e, em_rng *rng, const double *x,
                         size_t *rows, size_t nr, double *cen, double *best)
{
    size_t d = e->d;
    if (e->init_random) {
        for (size_t i = 0; i < e->k; i++) {
            size_t j = i + (size_t)em_rng_below(rng, nr - i), t = rows[i];
            rows[i] = rows[j], rows[j] = t;
            fill_centre(e, x + rows[i] * d, cen + i * d);
        }
        return;
    }
    fill_centre(e, x + rows[em_rng_below(rng, nr)] * d, cen);
    for (size_t r = 0; r < nr; r++)
        best[r] = dist2(e, x + rows[r] * d, cen);
    for (size_t i = 1; i < e->k; i++) {
        double total = 0, acc = 0;
        for (size_t r = 0; r < nr; r++)
            total += best[r];
        size_t pick = 0;
        if (!(total > 0)) {
            pick = em_rng_below(rng, nr);
        } else {
            double u = em_rng_uniform(rng) * total;
            for (pick = 0; pick + 1 < nr; pick++)
                if ((acc += best[pick]) > u)
                    break;
        }
        fill_centre(e, x + rows[pick] * d, cen + i * d);
        for (size_t r = 0; r < nr; r++)
            best[r] = fmin(best[r], dist2(e, x + rows[r] * d, cen + i * d));
    }
}

/* The data's variances (plus reg) as state i's covariance. */
static void default_cov(const hmm_emission *e, size_t i, double *th)
{
    double *c = th + hmm_emit_off_cov(e, i);
    memset(c, 0, e->ncov * sizeof *c);
    for (size_t a = 0; a < e->d; a++) {
        double v = e->colvar[a] + e->reg;
        if (e->cov == HMM_DIAG)
            c[a] = v;
        else if (e->cov == HMM_SPHERICAL)
            c[0] += v / (double)e->d;
        else
            c[em_gauss_tri(e->d, a, a)] = v;
    }
}

/* Means at the centres, then one M-step on the nearest-centre assignment
 * of every step; a covariance that comes out singular (a centre with too
 * few steps) is replaced by the data's variances. */
static em_status start_from_centres(const hmm_emission *e, const double *x,
                                    const size_t *rows, size_t nr,
                                    const double *cen, double *th,
                                    em_error *err)
{
    size_t d = e->d;
    double *st = calloc(e->nstats, sizeof *st);
    double *s = malloc(d * d * sizeof *s), *dev = malloc(d * sizeof *dev);
    em_status status = EM_OK;
    if (!st || !s || !dev) {
        status = em_error_set(err, EM_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(th, cen, e->k * d * sizeof *th);
    for (size_t i = 0; i < (e->cov == HMM_TIED ? 1 : e->k); i++)
        default_cov(e, i, th);
    for (size_t r = 0; r < nr; r++) {
        const double *xr = x + rows[r] * d;
        size_t near = 0;
        for (size_t i = 1; i < e->k; i++)
            if (dist2(e, xr, cen + i * d) < dist2(e, xr, cen + near * d))
                near = i;
        for (size_t a = 0; a < d; a++)
            dev[a] = (isnan(xr[a]) ? e->colmean[a] : xr[a]) - cen[near * d + a];
        double *sk = st + near * e->nstat_k;
        sk[0] += 1;
        em_gauss_add_moments(d, dev, 1.0, e->diag_stats, sk + 1, sk + 1 + d);
    }
    if ((status = hmm_gaussian_mstep(e, st, th, err)) != EM_OK)
        goto done;
    for (size_t i = 0; i < (e->cov == HMM_TIED ? 1 : e->k); i++) {
        hmm_emit_cov(e, th, i, s);
        if (em_cholesky(s, d) != 0)
            default_cov(e, i, th);
    }
done:
    free(st), free(s), free(dev);
    return status;
}

static em_status gaussian_init(const hmm_emission *e, em_rng *rng,
                               const double *x, size_t n, double *th,
                               em_error *err)
{
    size_t d = e->d, nr = 0;
    size_t *rows = calloc(n ? n : 1, sizeof *rows);
    double *best = malloc(n * sizeof *best);
    double *cen = malloc(e->k * d * sizeof *cen);
    em_status st = EM_OK;
    if (!rows || !best || !cen) {
        st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
    } else {
        for (size_t t = 0; t < n; t++) {
            int any = 0;
            for (size_t a = 0; a < d; a++)
                any |= !isnan(x[t * d + a]);
            if (any)
                rows[nr++] = t;
        }
        if (nr < e->k)
            st = em_error_set(err, EM_ERR_DATA,
                              "only %zu row(s) with data for %zu states",
                              nr, e->k);
        else {
            pick_centres(e, rng, x, rows, nr, cen, best);
            st = start_from_centres(e, x, rows, nr, cen, th, err);
        }
    }
    free(rows), free(best), free(cen);
    return st;
}

em_status hmm_emit_init(const hmm_emission *e, em_rng *rng, const double *x,
                        size_t n, double *th, em_error *err)
{
    if (e->kind == HMM_CATEGORICAL) {
        dirichlet_rows(e, rng, th);
        return EM_OK;
    }
    return gaussian_init(e, rng, x, n, th, err);
}

