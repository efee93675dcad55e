/* The hidden Markov model's E-step, posteriors and decoding: scaled
 * forward-backward and Viterbi over whole sequences (see hmm.c for the
 * model and the scaling).
 *
 * Each call allocates scratch for the longest sequence it is given:
 * alpha (then gamma, in place) and the scaled emission densities, T x K
 * each, and the scale factors; beta is kept for one step only, since xi
 * and gamma at step t need beta at t + 1 and t alone.  Emission densities
 * and statistics go HMM_BLOCK steps at a time (hmm_emit_block,
 * hmm_emit_add_block).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/hmm.h"

/* ---- forward-backward --------------------------------------------------- */

/* Scratch for the sequences of one call: alpha and the scaled emission
 * densities per step, scale factors, and per-step vectors. */
typedef struct fb {
    double *alpha, *b, *c; /* cap x K, cap x K, cap */
    double *beta, *w, *dev;
    double *lbb, *work;    /* a block's log-densities, and its scratch */
    double *xs;            /* K x K: sum over t of alpha_t(i) w_t+1(j) */
    unsigned char *any;    /* a block's steps with data */
    unsigned *psi;         /* cap x K back pointers (Viterbi only) */
    em_gauss_work gw;
} fb;

static void fb_free(fb *s)
{
    free(s->alpha), free(s->b), free(s->c), free(s->beta), free(s->w);
    free(s->dev), free(s->psi);
    free(s->lbb), free(s->work), free(s->any), free(s->xs);
    em_gauss_work_free(&s->gw);
}

/* Allocates scratch for the longest of sequences [begin, end); 0 when
 * memory ran out (s is still safe to free). */
static int fb_alloc(const hmm *h, size_t begin, size_t end, int viterbi,
                    fb *s)
{
    size_t cap = 1, k = h->k;
    for (size_t u = begin; u < end; u++)
        if (h->seq[u + 1] - h->seq[u] > cap)
            cap = h->seq[u + 1] - h->seq[u];
    *s = (fb){0};
    int gauss_ok = em_gauss_work_init(&s->gw, h->d);
    if (cap > SIZE_MAX / sizeof(double) / k)
        return 0;
    s->alpha = viterbi ? NULL : malloc(cap * k * sizeof *s->alpha);
    s->b = viterbi ? NULL : malloc(cap * k * sizeof *s->b);
    s->c = viterbi ? NULL : malloc(cap * sizeof *s->c);
    s->psi = viterbi ? malloc(cap * k * sizeof *s->psi) : NULL;
    s->beta = malloc(k * sizeof *s->beta);
    s->w = malloc(k * sizeof *s->w);
    s->dev = malloc(h->d * sizeof *s->dev);
    s->lbb = malloc(HMM_BLOCK * k * sizeof *s->lbb);
    s->work = malloc(hmm_emit_block_work(&h->em) * sizeof *s->work);
    s->any = malloc(HMM_BLOCK);
    s->xs = malloc(k * k * sizeof *s->xs);
    return gauss_ok && (viterbi ? s->psi != NULL
                                : s->alpha && s->b && s->c) &&
           s->beta && s->w && s->dev && s->lbb &&
           s->work && s->any && s->xs;
}

/* The log-densities of step t of the T at x, from the block that holds
 * it (computed when t starts a block); NULL for a step without data. */
static const double *block_logdens(const hmm *h, const double *x, size_t t,
                                   size_t T, fb *s)
{
    size_t r = t % HMM_BLOCK;
    if (r == 0)
        hmm_emit_block(&h->em, x + t * h->d,
                       T - t < HMM_BLOCK ? T - t : HMM_BLOCK, &s->gw, s->work,
                       s->lbb, s->any);
    return s->any[r] ? s->lbb + r * h->k : NULL;
}

/* Fills b with a step's emission densities (log-densities lb) under each
 * state, divided by the largest; returns the log of that divisor (0 for a
 * step without data, lb NULL, whose densities are all 1). */
static double step_density(size_t k, const double *lb, double *b)
{
    if (!lb) {
        for (size_t j = 0; j < k; j++)
            b[j] = 1;
        return 0;
    }
    double m = -INFINITY;
    for (size_t j = 0; j < k; j++)
        m = fmax(m, lb[j]);
    for (size_t j = 0; j < k; j++)
        b[j] = m == -INFINITY ? 0.0 : exp(lb[j] - m);
    return m == -INFINITY ? 0.0 : m;
}

/* The scaled forward pass over the T steps at x; returns the sequence's
 * log-likelihood (-inf when it has probability 0). */
static double forward(const hmm *h, const double *x, size_t T, fb *s)
{
    size_t k = h->k;
    double ll = 0;
    for (size_t t = 0; t < T; t++) {
        double *a = s->alpha + t * k, *b = s->b + t * k, sum = 0;
        ll += step_density(k, block_logdens(h, x, t, T, s), b);
        if (t == 0) {
            for (size_t j = 0; j < k; j++)
                a[j] = h->start[j];
        } else {
            const double *prev = a - k;
            memset(a, 0, k * sizeof *a);
            for (size_t i = 0; i < k; i++) {
                const double *row = h->trans + i * k;
                double ai = prev[i];
                if (ai == 0)
                    continue;
                for (size_t j = 0; j < k; j++)
                    a[j] += ai * row[j];
            }
        }
        for (size_t j = 0; j < k; j++)
            sum += a[j] *= b[j];
        if (!(sum > 0))
            return -INFINITY;
        for (size_t j = 0; j < k; j++)
            a[j] /= sum;
        s->c[t] = sum;
        ll += log(sum);
    }
    return ll;
}

/* gamma_t = alpha_t beta_t, renormalised against rounding, in place of
 * alpha_t. */
static void smooth(size_t k, double *a, const double *beta)
{
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += a[i] *= beta[i];
    for (size_t i = 0; i < k; i++)
        a[i] /= sum;
}

/* The scaled backward pass after forward, from the last step down.  gamma
 * overwrites alpha step by step (alpha_t is not needed once gamma_t is
 * known).  With xi, the expected transitions are added:
 * xi_ij = A_ij sum_t alpha_t(i) w_t+1(j), w_t+1(j) = b_t+1(j)
 * beta_t+1(j) / c_t+1, the sum kept in s->xs and multiplied by A once. */
static void backward(const hmm *h, size_t T, fb *s, double *xi)
{
    size_t k = h->k;
    for (size_t i = 0; i < k; i++)
        s->beta[i] = 1;
    if (xi)
        memset(s->xs, 0, k * k * sizeof *s->xs);
    smooth(k, s->alpha + (T - 1) * k, s->beta);
    for (size_t t = T - 1; t-- > 0;) {
        double *a = s->alpha + t * k;
        const double *bn = s->b + (t + 1) * k;
        for (size_t j = 0; j < k; j++)
            s->w[j] = bn[j] * s->beta[j] / s->c[t + 1];
        for (size_t i = 0; xi && i < k; i++) {
            double ai = a[i], *xr = s->xs + i * k;
            if (ai == 0)
                continue;
            for (size_t j = 0; j < k; j++)
                xr[j] += ai * s->w[j];
        }
        for (size_t i = 0; i < k; i++) {
            const double *row = h->trans + i * k;
            double sum = 0;
            for (size_t j = 0; j < k; j++)
                sum += row[j] * s->w[j];
            s->beta[i] = sum;
        }
        smooth(k, a, s->beta);
    }
    for (size_t q = 0; xi && q < k * k; q++)
        xi[q] += h->trans[q] * s->xs[q];
}

/* Adds a sequence's statistics once gamma (in s->alpha) is known: the
 * start counts, and the emission's block by block. */
static void add_statistics(const hmm *h, const double *x, size_t T, fb *s,
                           double *st)
{
    size_t k = h->k, d = h->d;
    for (size_t i = 0; i < k; i++)
        st[EM_STAT_HEADER + i] += s->alpha[i];
    for (size_t t = 0; t < T; t += HMM_BLOCK)
        hmm_emit_add_block(&h->em, x + t * d,
                           T - t < HMM_BLOCK ? T - t : HMM_BLOCK,
                           s->alpha + t * k, &s->gw, s->work, s->dev,
                           st + EM_STAT_HEADER + k + k * k);
}

void hmm_estep(const void *state, size_t begin, size_t end, double *st)
{
    const hmm *h = state;
    fb s;
    if (!fb_alloc(h, begin, end, 0, &s)) {
        st[EM_STAT_LOGLIK] = NAN; /* no memory: the driver stops */
        fb_free(&s);
        return;
    }
    for (size_t u = begin; u < end; u++) {
        size_t first = h->seq[u], T = h->seq[u + 1] - first;
        const double *x = h->x + first * h->d;
        double ll = forward(h, x, T, &s);
        st[EM_STAT_LOGLIK] += ll;
        if (ll == -INFINITY)
            break;
        for (size_t t = 0; t < T; t++) {
            int any = 0;
            for (size_t a = 0; a < h->d; a++)
                any |= !isnan(x[t * h->d + a]);
            st[EM_STAT_NOBS] += any;
        }
        backward(h, T, &s, st + EM_STAT_HEADER + h->k);
        add_statistics(h, x, T, &s, st);
    }
    fb_free(&s);
}

void hmm_posterior(const void *state, size_t begin, size_t end, double *out)
{
    const hmm *h = state;
    fb s;
    int ok = fb_alloc(h, begin, end, 0, &s);
    double *o = out;
    for (size_t u = begin; u < end; u++) {
        size_t first = h->seq[u], T = h->seq[u + 1] - first;
        const double *x = h->x + first * h->d;
        if (ok && forward(h, x, T, &s) > -INFINITY) {
            backward(h, T, &s, NULL);
            memcpy(o, s.alpha, T * h->k * sizeof *o);
        } else {
            for (size_t q = 0; q < T * h->k; q++)
                o[q] = NAN;
        }
        o += T * h->k;
    }
    fb_free(&s);
}

/* ---- Viterbi ------------------------------------------------------------ */

/* The most likely path through the T steps at x, 0-based, into path. */
static void viterbi(const hmm *h, const double *x, size_t T, fb *s,
                    double *path)
{
    size_t k = h->k;
    double *delta = s->beta, *next = s->w;
    for (size_t t = 0; t < T; t++) {
        const double *lb = block_logdens(h, x, t, T, s);
        double top = -INFINITY;
        for (size_t j = 0; j < k; j++) {
            double best = t == 0 ? h->logstart[j] : -INFINITY;
            unsigned arg = 0;
            for (size_t i = 0; t > 0 && i < k; i++) {
                double v = delta[i] + h->logtrans[i * k + j];
                if (v > best)
                    best = v, arg = (unsigned)i;
            }
            if (t > 0)
                s->psi[t * k + j] = arg;
            next[j] = best + (lb ? lb[j] : 0.0);
            top = fmax(top, next[j]);
        }
        /* keep the scores near 0: only their differences matter */
        for (size_t j = 0; j < k; j++)
            delta[j] = top > -INFINITY ? next[j] - top : next[j];
    }
    size_t last = 0;
    for (size_t j = 1; j < k; j++)
        if (delta[j] > delta[last])
            last = j;
    path[T - 1] = (double)last;
    for (size_t t = T - 1; t > 0; t--) {
        last = s->psi[t * k + last];
        path[t - 1] = (double)last;
    }
}

void hmm_decode(const void *state, size_t begin, size_t end, double *out)
{
    const hmm *h = state;
    fb s;
    int ok = fb_alloc(h, begin, end, 1, &s);
    double *o = out;
    for (size_t u = begin; u < end; u++) {
        size_t first = h->seq[u], T = h->seq[u + 1] - first;
        if (ok)
            viterbi(h, h->x + first * h->d, T, &s, o);
        else
            for (size_t t = 0; t < T; t++)
                o[t] = NAN;
        o += T;
    }
    fb_free(&s);
}

