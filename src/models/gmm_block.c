#include "models/gmm_block.h"

#include <math.h>
#include <string.h>

#include "core/vexp.h"
#include "emfit/model.h"

#define B GMM_BLOCK_ROWS
#define LANES 8

/* The kernel is compiled for AVX-512, AVX2 and the baseline, and the best
 * the CPU has runs; the helpers are inlined into each version.  The
 * results are the same in each: no FMA contraction (-ffp-contract=off in
 * CMakeLists.txt) and the same order of every sum; a unit test checks. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define DISPATCH 1
#endif
#if defined(__GNUC__) || defined(__clang__)
#define VECTORS 1 /* GNU vector types: LANES doubles held in registers */
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

/* Work layout: blocks of B doubles, then the partial sums. */
typedef struct block_work {
    double *xt;    /* d x B: the rows, transposed */
    double *xc;    /* d x B: x - mu of one component */
    double *lp;    /* k x B: log densities, then responsibilities */
    double *tmp;   /* B: Mahalanobis terms, then row maxima */
    double *sum;   /* B */
    double *lanes; /* k x stats_per_component x LANES partial sums */
} block_work;

static size_t stats_per_component(size_t d, int diag_stats)
{
    return 1 + d + (diag_stats ? d : d * (d + 1) / 2);
}

size_t gmm_block_work(size_t d, size_t k, int diag_stats)
{
    return (2 * d + k + 2) * B + k * stats_per_component(d, diag_stats) * LANES;
}

static block_work split_work(const gmm_block_params *bp, double *w)
{
    size_t d = bp->d;
    return (block_work){.xt = w,
                        .xc = w + d * B,
                        .lp = w + 2 * d * B,
                        .tmp = w + (2 * d + bp->k) * B,
                        .sum = w + (2 * d + bp->k + 1) * B,
                        .lanes = w + (2 * d + bp->k + 2) * B};
}

/* lanes[l] += the sum of a[r] over r = l mod LANES: eight partial sums in
 * a fixed order, which vectorise at any width. */
INLINE void add_lanes(double *lanes, const double *a)
{
    double t[LANES];
    memcpy(t, lanes, sizeof t);
    for (size_t r = 0; r < B; r += LANES)
        for (size_t l = 0; l < LANES; l++)
            t[l] += a[r + l];
    memcpy(lanes, t, sizeof t);
}

/* The same for the products a[r] b[r]. */
INLINE void add_lanes_dot(double *lanes, const double *a, const double *b)
{
    double t[LANES];
    memcpy(t, lanes, sizeof t);
    for (size_t r = 0; r < B; r += LANES)
        for (size_t l = 0; l < LANES; l++)
            t[l] += a[r + l] * b[r + l];
    memcpy(lanes, t, sizeof t);
}

/* Rows past n are zeros: finite, and given no weight later. */
INLINE void transpose_in(const double *x, size_t n, size_t d, double *xt)
{
    memset(xt, 0, d * B * sizeof *xt);
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++)
            xt[i * B + r] = x[r * d + i];
}

INLINE void centre(const block_work *w, const double *mu, size_t d)
{
    for (size_t i = 0; i < d; i++) {
        const double *xi = w->xt + i * B;
        double *ci = w->xc + i * B, m = mu[i];
        for (size_t r = 0; r < B; r++)
            ci[r] = xi[r] - m;
    }
}

/* tmp = |L^-1 (x - mu)|^2 by forward substitution, all rows at once;
 * xc is overwritten with L^-1 (x - mu).  LANES rows at a time, so that
 * the row being solved stays in a register while the solved ones stream
 * past it. */
INLINE void mahalanobis_full(const block_work *w, const double *l,
                             const double *inv, size_t d)
{
    for (size_t r0 = 0; r0 < B; r0 += LANES) {
        double m[LANES] = {0};
        for (size_t i = 0; i < d; i++) {
            double t[LANES];
            double *yi = w->xc + i * B + r0;
            memcpy(t, yi, sizeof t);
            for (size_t j = 0; j < i; j++) {
                const double *yj = w->xc + j * B + r0;
                double lij = l[i * d + j];
                for (size_t q = 0; q < LANES; q++)
                    t[q] -= lij * yj[q];
            }
            for (size_t q = 0; q < LANES; q++) {
                t[q] *= inv[i];
                m[q] += t[q] * t[q];
            }
            memcpy(yi, t, sizeof t);
        }
        memcpy(w->tmp + r0, m, sizeof m);
    }
}

#ifdef VECTORS
/* Passing these by value would differ between the baseline and AVX-512
 * calling conventions; they are always inlined, so nothing is passed. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef double lanes_t __attribute__((vector_size(LANES * sizeof(double))));

INLINE lanes_t load_lanes(const double *p)
{
    lanes_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void store_lanes(double *p, lanes_t v)
{
    memcpy(p, &v, sizeof v);
}

/* The same for diagonal covariances, straight from the rows: with no
 * solve to share, x - mu is not worth storing. */
INLINE void mahalanobis_diag(const block_work *w, const double *mu,
                             const double *inv, size_t d)
{
    for (size_t r0 = 0; r0 < B; r0 += LANES) {
        lanes_t m = {0};
        for (size_t i = 0; i < d; i++) {
            lanes_t c = load_lanes(w->xt + i * B + r0) - mu[i];
            m += c * c * inv[i];
        }
        store_lanes(w->tmp + r0, m);
    }
}

/* The diagonal moments in one pass over the rows: the sums of r (x - mu)
 * and of r (x - mu)^2, into the same partial sums as the general path. */
INLINE void accumulate_diag(const block_work *w, const double *mu,
                            const double *resp, size_t d, double *s1,
                            double *s2)
{
    for (size_t i = 0; i < d; i++) {
        const double *xi = w->xt + i * B;
        lanes_t t1 = load_lanes(s1 + i * LANES);
        lanes_t t2 = load_lanes(s2 + i * LANES);
        for (size_t r = 0; r < B; r += LANES) {
            lanes_t c = load_lanes(xi + r) - mu[i];
            lanes_t z = load_lanes(resp + r) * c;
            t1 += z;
            t2 += z * c;
        }
        store_lanes(s1 + i * LANES, t1);
        store_lanes(s2 + i * LANES, t2);
    }
}
#else
INLINE void mahalanobis_diag(const block_work *w, const double *mu,
                             const double *inv, size_t d)
{
    double *m = w->tmp;
    memset(m, 0, B * sizeof *m);
    for (size_t i = 0; i < d; i++) {
        const double *xi = w->xt + i * B;
        for (size_t r = 0; r < B; r++) {
            double c = xi[r] - mu[i];
            m[r] += c * c * inv[i];
        }
    }
}

INLINE void accumulate_diag(const block_work *w, const double *mu,
                            const double *resp, size_t d, double *s1,
                            double *s2)
{
    double z[B], c[B];
    for (size_t i = 0; i < d; i++) {
        for (size_t r = 0; r < B; r++) {
            c[r] = w->xt[i * B + r] - mu[i];
            z[r] = resp[r] * c[r];
        }
        add_lanes(s1 + i * LANES, z);
        add_lanes_dot(s2 + i * LANES, z, c);
    }
}
#endif

INLINE void log_densities(const gmm_block_params *bp, const block_work *w)
{
    size_t d = bp->d;
    for (size_t k = 0; k < bp->k; k++) {
        if (bp->factor) {
            centre(w, bp->mu + k * d, d);
            mahalanobis_full(w, bp->chol + k * d * d, bp->inv + k * d, d);
        } else {
            mahalanobis_diag(w, bp->mu + k * d, bp->inv + k * d, d);
        }
        double *lp = w->lp + k * B, c = bp->cst[k];
        for (size_t r = 0; r < B; r++)
            lp[r] = c - 0.5 * w->tmp[r];
    }
}

/* Turns lp into responsibilities, row by row over the components, and
 * adds the rows' log-likelihoods into st.  A row no component can explain
 * (every log density -inf) adds -inf and no weight. */
INLINE void normalise(const gmm_block_params *bp, const block_work *w,
                      size_t n, double *st)
{
    double *mx = w->tmp, *s = w->sum;
    for (size_t r = 0; r < B; r++)
        mx[r] = -INFINITY;
    for (size_t k = 0; k < bp->k; k++) {
        const double *lp = w->lp + k * B;
        for (size_t r = 0; r < B; r++)
            mx[r] = lp[r] > mx[r] ? lp[r] : mx[r];
    }
    memset(s, 0, B * sizeof *s);
    for (size_t k = 0; k < bp->k; k++) {
        double *lp = w->lp + k * B;
        for (size_t r = 0; r < B; r++) {
            double a = lp[r] - mx[r]; /* NaN only where both are -inf */
            lp[r] = em_exp_nonpos(a == a ? a : -INFINITY);
            s[r] += lp[r];
        }
    }
    for (size_t r = 0; r < n; r++) {
        if (mx[r] == -INFINITY) {
            st[EM_STAT_LOGLIK] = -INFINITY;
            s[r] = 0; /* no weight */
        } else {
            st[EM_STAT_LOGLIK] += mx[r] + log(s[r]);
            s[r] = 1.0 / s[r];
        }
    }
    for (size_t r = n; r < B; r++)
        s[r] = 0; /* padding rows weigh nothing */
    for (size_t k = 0; k < bp->k; k++) {
        double *lp = w->lp + k * B;
        for (size_t r = 0; r < B; r++)
            lp[r] *= s[r];
    }
}

/* Component k's weighted sums of (x - mu) and its second moments, into
 * its partial sums (laid out as its statistics are, LANES wide). */
INLINE void accumulate(const gmm_block_params *bp, const block_work *w,
                       size_t k, double *sk)
{
    size_t d = bp->d;
    const double *resp = w->lp + k * B;
    add_lanes(sk, resp);
    double *s1 = sk + LANES, *s2 = sk + (1 + d) * LANES, *z = w->tmp;
    if (bp->diag_stats) {
        accumulate_diag(w, bp->mu + k * d, resp, d, s1, s2);
        return;
    }
    centre(w, bp->mu + k * d, d);
    for (size_t i = 0; i < d; i++) {
        const double *ci = w->xc + i * B;
        for (size_t r = 0; r < B; r++)
            z[r] = resp[r] * ci[r];
        add_lanes(s1 + i * LANES, z);
        for (size_t j = i; j < d; j++, s2 += LANES) /* packed (i, i..d-1) */
            add_lanes_dot(s2, z, w->xc + j * B);
    }
}

/* Whether any row gives this component weight: far from the rows, every
 * responsibility is exactly 0, and adding zeros would change nothing. */
INLINE int any_weight(const double *resp)
{
    int any = 0;
    for (size_t r = 0; r < B; r++)
        any |= resp[r] > 0;
    return any;
}

INLINE void estep(const gmm_block_params *bp, const double *x, size_t n,
                  double *st, double *work)
{
    block_work w = split_work(bp, work);
    transpose_in(x, n, bp->d, w.xt);
    log_densities(bp, &w);
    normalise(bp, &w, n, st);
    st[EM_STAT_NOBS] += (double)n;
    size_t nk = stats_per_component(bp->d, bp->diag_stats) * LANES;
    for (size_t k = 0; k < bp->k; k++)
        if (any_weight(w.lp + k * B))
            accumulate(bp, &w, k, w.lanes + k * nk);
}

/* 1 when none of the n values at x is NaN (or infinite): x * 0 is 0 for
 * every finite x, and the sum of zeros is 0. */
INLINE int all_finite(const double *x, size_t n)
{
    size_t i = 0;
    double t = 0;
#ifdef VECTORS
    lanes_t acc = {0};
    for (; i + LANES <= n; i += LANES)
        acc += load_lanes(x + i) * 0.0;
    for (size_t l = 0; l < LANES; l++)
        t += acc[l];
#endif
    for (; i < n; i++)
        t += x[i] * 0.0;
    return t == 0;
}

/* The kernel, after checking the rows are complete when check is set:
 * 0 (and nothing added) when they are not. */
INLINE int estep_checked(const gmm_block_params *bp, const double *x,
                         size_t n, double *st, double *work, int check)
{
    if (check && !all_finite(x, n * bp->d))
        return 0;
    estep(bp, x, n, st, work);
    return 1;
}

static int estep_base(const gmm_block_params *bp, const double *x, size_t n,
                      double *st, double *work, int check)
{
    return estep_checked(bp, x, n, st, work, check);
}

#ifdef DISPATCH
__attribute__((target("avx2"))) static int
estep_avx2(const gmm_block_params *bp, const double *x, size_t n, double *st,
           double *work, int check)
{
    return estep_checked(bp, x, n, st, work, check);
}

__attribute__((target("avx512f"))) static int
estep_avx512(const gmm_block_params *bp, const double *x, size_t n,
             double *st, double *work, int check)
{
    return estep_checked(bp, x, n, st, work, check);
}
#endif

/* -1 when this build or CPU lacks isa; else as estep_checked. */
static int run_on(int isa, const gmm_block_params *bp, const double *x,
                  size_t n, double *st, double *work, int check)
{
    switch (isa) {
    case GMM_ISA_BASE:
        return estep_base(bp, x, n, st, work, check);
#ifdef DISPATCH
    case GMM_ISA_AVX2:
        return __builtin_cpu_supports("avx2")
                   ? estep_avx2(bp, x, n, st, work, check)
                   : -1;
    case GMM_ISA_AVX512:
        return __builtin_cpu_supports("avx512f")
                   ? estep_avx512(bp, x, n, st, work, check)
                   : -1;
#endif
    }
    return -1;
}

/* The best instruction set this CPU runs. */
static int run_best(const gmm_block_params *bp, const double *x, size_t n,
                    double *st, double *work, int check)
{
    int r = run_on(GMM_ISA_AVX512, bp, x, n, st, work, check);
    if (r < 0)
        r = run_on(GMM_ISA_AVX2, bp, x, n, st, work, check);
    return r < 0 ? estep_base(bp, x, n, st, work, check) : r;
}

int gmm_block_estep_on(int isa, const gmm_block_params *bp, const double *x,
                       size_t n, double *st, double *work)
{
    return run_on(isa, bp, x, n, st, work, 0) > 0;
}

void gmm_block_estep(const gmm_block_params *bp, const double *x, size_t n,
                     double *st, double *work)
{
    run_best(bp, x, n, st, work, 0);
}

int gmm_block_estep_complete(const gmm_block_params *bp, const double *x,
                             size_t n, double *st, double *work)
{
    return run_best(bp, x, n, st, work, 1);
}

void gmm_block_flush(const gmm_block_params *bp, double *work, double *st)
{
    block_work w = split_work(bp, work);
    size_t n = bp->k * stats_per_component(bp->d, bp->diag_stats);
    for (size_t q = 0; q < n; q++) {
        const double *a = w.lanes + q * LANES;
        st[EM_STAT_HEADER + q] += ((a[0] + a[1]) + (a[2] + a[3])) +
                                  ((a[4] + a[5]) + (a[6] + a[7]));
    }
    memset(w.lanes, 0, n * LANES * sizeof *w.lanes);
}
