/* Properties every fit must have, checked over thousands of seeded random
 * problems for every model (bvn, three-coin, mixed-normal, gmm with each
 * covariance structure), each fitted in-process from a random start:
 *
 * - a fit ends EM_OK, or EM_ERR_DATA / EM_ERR_NUMERIC on a degenerate
 *   problem (a small minority), never EM_ERR_BUG or anything else;
 * - the log-likelihood the trace reports never falls by more than rounding
 *   (for gmm, whose regularised M-step is not exact, by more than the
 *   step lost in Q, which the test recomputes);
 * - every traced parameter vector is finite and in the model's domain:
 *   probabilities in [0, 1], weights summing to 1, standard deviations and
 *   variances > 0, covariance matrices positive definite (em_cholesky);
 * - the same seed gives bit-identical parameters (every REPEAT_EVERY-th
 *   problem is drawn and fitted again), and so do 1, 2 and 3 threads.  Threads split the E-step by blocks of EM_BLOCK_UNITS rows, so
 *   a small problem never uses more than one: every BIG_EVERY-th problem
 *   spans two to four blocks, and the thread counts are compared there.
 *
 * Then the numerical edge cases: N = 1, near-duplicate components, values
 * near 1e300 and 1e-300, a column of variance 1e-12, values far from 0
 * with a small spread, and N = 10^7.
 * PROPERTIES_VERBOSE=1 prints each model's tally. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "core/linalg.h"
#include "emfit/emfit.h"

enum {
    PROBLEMS = 1000,  /* random problems per model */
    BIG_EVERY = 250,  /* one problem in this many has several blocks */
    REPEAT_EVERY = 4, /* and one in this many is fitted twice */
    MAX_ITER = 200,
    BIG_MAX_ITER = 10, /* enough to compare threads, which is their use */
    DMAX = 3,
    KMAX = 3
};

static char *col_names[DMAX] = {"x1", "x2", "x3"};

/* One random problem: the data, the model settings and the random start,
 * all drawn from one seed. */
typedef struct problem {
    const char *model;
    em_model_config cfg;
    size_t n, d;
    double *v;          /* n x d, row-major, NaN = missing */
    uint64_t start;     /* generator state for the random start */
    int big;
} problem;

typedef struct model_kind {
    const char *name; /* for messages */
    const char *model;
    const char *cov;  /* gmm only */
    void (*gen)(uint64_t *g, problem *p);
    /* Moves the model's default start in theta to a random one. */
    void (*perturb)(uint64_t *g, const problem *p, double *th);
} model_kind;

/* ---- data generators ------------------------------------------------ */

static size_t draw_n(uint64_t *g, int big)
{
    if (big) /* two or three E-step blocks */
        return EM_BLOCK_UNITS + 1 + below(g, 2 * EM_BLOCK_UNITS);
    return 5 + below(g, 40);
}

static double *alloc_values(problem *p)
{
    p->v = malloc(p->n * p->d * sizeof *p->v);
    assert_non_null(p->v);
    return p->v;
}

/* Blanks each value with probability rate. */
static void blank(uint64_t *g, problem *p, double rate)
{
    for (size_t i = 0; i < p->n * p->d; i++)
        if (unif(g) < rate)
            p->v[i] = NAN;
}

static void gen_bvn(uint64_t *g, problem *p)
{
    p->d = 2;
    double *v = alloc_values(p);
    double m1 = 3 * gauss(g), m2 = 3 * gauss(g);
    double s1 = exp(gauss(g)), s2 = exp(gauss(g)), r = 1.9 * unif(g) - 0.95;
    for (size_t i = 0; i < p->n; i++) {
        double z1 = gauss(g), z2 = gauss(g);
        v[2 * i] = m1 + s1 * z1;
        v[2 * i + 1] = m2 + s2 * (r * z1 + sqrt(1 - r * r) * z2);
    }
    blank(g, p, 0.3 * unif(g));
}

static void gen_three_coin(uint64_t *g, problem *p)
{
    p->d = 1 + below(g, DMAX);
    double *v = alloc_values(p);
    double pi = unif(g), pb = unif(g), pc = unif(g);
    for (size_t i = 0; i < p->n; i++) {
        double h = unif(g) < pi ? pb : pc;
        for (size_t j = 0; j < p->d; j++)
            v[i * p->d + j] = unif(g) < h;
    }
    blank(g, p, 0.3 * unif(g));
}

static void gen_mixed_normal(uint64_t *g, problem *p)
{
    p->d = 1;
    double *v = alloc_values(p);
    double mu = 0.5 + 2.5 * unif(g), w = 0.05 + 0.9 * unif(g);
    double s = exp(0.5 * gauss(g));
    if (below(g, 2))
        p->cfg.free_sigma = 1;
    else
        p->cfg.has_sigma = 1, p->cfg.sigma = s;
    for (size_t i = 0; i < p->n; i++)
        v[i] = (unif(g) < w ? -mu : mu) + s * gauss(g);
    blank(g, p, 0.2 * unif(g));
}

static void gen_gmm(uint64_t *g, problem *p)
{
    size_t d = p->d = 1 + below(g, DMAX), K = 1 + below(g, KMAX);
    double *v = alloc_values(p), mean[KMAX][DMAX], a[KMAX][DMAX * DMAX];
    double w[KMAX], wsum = 0;
    for (size_t k = 0; k < K; k++) {
        w[k] = 0.2 + unif(g);
        wsum += w[k];
        double sc = exp(0.5 * gauss(g));
        for (size_t i = 0; i < d; i++) {
            mean[k][i] = 4 * gauss(g);
            for (size_t j = 0; j < d; j++) /* x = mean + A z */
                a[k][i * d + j] = sc * ((i == j) + 0.7 * gauss(g));
        }
    }
    for (size_t r = 0; r < p->n; r++) {
        double u = unif(g) * wsum, z[DMAX];
        size_t k = 0;
        while (k + 1 < K && (u -= w[k]) > 0)
            k++;
        for (size_t j = 0; j < d; j++)
            z[j] = gauss(g);
        for (size_t i = 0; i < d; i++) {
            double x = mean[k][i];
            for (size_t j = 0; j < d; j++)
                x += a[k][i * d + j] * z[j];
            v[r * d + i] = x;
        }
    }
    blank(g, p, 0.25 * unif(g));
    p->cfg.k = K;
    p->cfg.init = below(g, 2) ? "random" : "kmeans++";
    if (below(g, 5) == 0)
        p->cfg.has_reg = 1, p->cfg.reg = 1e-3;
}

/* ---- random starts --------------------------------------------------- */

static void perturb_bvn(uint64_t *g, const problem *p, double *th)
{
    (void)p;
    if (below(g, 4) == 0)
        return; /* the default start, too */
    th[0] += th[2] * gauss(g);
    th[1] += th[3] * gauss(g);
    th[2] *= exp(0.5 * gauss(g));
    th[3] *= exp(0.5 * gauss(g));
    th[4] = 1.8 * unif(g) - 0.9;
}

static void perturb_three_coin(uint64_t *g, const problem *p, double *th)
{
    (void)p;
    for (size_t i = 0; i < 3; i++)
        th[i] = 0.02 + 0.96 * unif(g);
}

static void perturb_mixed_normal(uint64_t *g, const problem *p, double *th)
{
    th[0] *= 0.3 + 1.4 * unif(g);
    th[1] = 0.05 + 0.9 * unif(g);
    if (p->cfg.free_sigma)
        th[2] *= exp(0.3 * gauss(g));
}

/* gmm draws its own random start from the seed (kmeans++ or random). */

/* ---- checks ----------------------------------------------------------- */

/* Where component k's covariance entry (i, j) lives in theta, or -1 when
 * the structure makes it 0; and the weights. */
typedef struct layout {
    size_t K, d;
    long w[KMAX];
    long cov[KMAX][DMAX][DMAX];
} layout;

static long find(const em_model *m, const char *name)
{
    size_t i = em_model_param_index(m, name);
    return i == (size_t)-1 ? -1 : (long)i;
}

static void gmm_layout(const em_model *m, const problem *p, layout *lo)
{
    char nm[96]; /* room for three 20-digit numbers */
    lo->K = p->cfg.k, lo->d = p->d;
    for (size_t k = 0; k < lo->K; k++) {
        snprintf(nm, sizeof nm, "w%zu", k + 1);
        lo->w[k] = find(m, nm);
        assert_true(lo->w[k] >= 0);
        for (size_t i = 0; i < lo->d; i++)
            for (size_t j = 0; j < lo->d; j++) {
                size_t a = i < j ? i : j, b = i < j ? j : i;
                const char *cov = p->cfg.cov;
                if (!strcmp(cov, "full"))
                    snprintf(nm, sizeof nm, "cov%zu_%zu_%zu", k + 1, a + 1,
                             b + 1);
                else if (!strcmp(cov, "tied"))
                    snprintf(nm, sizeof nm, "cov_%zu_%zu", a + 1, b + 1);
                else if (a != b)
                    nm[0] = 0;
                else if (!strcmp(cov, "diag"))
                    snprintf(nm, sizeof nm, "var%zu_%zu", k + 1, a + 1);
                else
                    snprintf(nm, sizeof nm, "var%zu", k + 1);
                lo->cov[k][i][j] = nm[0] ? find(m, nm) : -1;
                assert_true(lo->cov[k][i][j] >= 0 || !nm[0]);
            }
    }
}

/* 1 when the symmetric d x d matrix s is positive definite. */
static int pos_def(const double *s, size_t d)
{
    double c[DMAX * DMAX];
    memcpy(c, s, d * d * sizeof *c);
    return em_cholesky(c, d) == 0;
}

static int prob(double x)
{
    return x >= 0 && x <= 1;
}

/* NULL when theta lies in the model's domain, else what is wrong. */
static const char *out_of_domain(const problem *p, const layout *lo,
                                 const double *th, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (!isfinite(th[i]))
            return "a parameter is not finite";
    const char *m = p->model;
    if (!strcmp(m, "bvn")) {
        double s[4] = {th[2] * th[2], th[4] * th[2] * th[3], 0, th[3] * th[3]};
        s[2] = s[1];
        if (!(th[2] > 0 && th[3] > 0 && fabs(th[4]) < 1) || !pos_def(s, 2))
            return "the covariance is not positive definite";
    } else if (!strcmp(m, "three-coin")) {
        if (!prob(th[0]) || !prob(th[1]) || !prob(th[2]))
            return "a probability outside [0, 1]";
    } else if (!strcmp(m, "mixed-normal")) {
        if (!prob(th[1]))
            return "p outside [0, 1]";
        if (p->cfg.free_sigma && !(th[2] > 0))
            return "sigma <= 0";
    } else {
        double sum = 0, s[DMAX * DMAX];
        for (size_t k = 0; k < lo->K; k++) {
            double w = th[lo->w[k]];
            if (!prob(w))
                return "a weight outside [0, 1]";
            sum += w;
            for (size_t i = 0; i < lo->d; i++)
                for (size_t j = 0; j < lo->d; j++) {
                    long q = lo->cov[k][i][j];
                    s[i * lo->d + j] = q < 0 ? 0 : th[q];
                }
            if (!pos_def(s, lo->d))
                return "a covariance is not positive definite";
        }
        if (!(fabs(sum - 1) <= 1e-12))
            return "the weights do not sum to 1";
    }
    return NULL;
}

/* ---- fitting ---------------------------------------------------------- */

typedef struct trace {
    size_t np, n;
    double th[(MAX_ITER + 1) * 64];
    double ll[MAX_ITER + 1];
} trace;

static em_status keep(void *ctx, size_t iter, const double *th, double ll,
                      em_error *err)
{
    trace *t = ctx;
    if (iter > MAX_ITER || t->np > 64)
        return em_error_set(err, EM_ERR_BUG, "trace buffer too small");
    memcpy(t->th + iter * t->np, th, t->np * sizeof *th);
    t->ll[iter] = ll;
    t->n = iter + 1;
    return EM_OK;
}

typedef struct outcome {
    em_status create, fit;
    em_fit_result res;
    size_t np;
    double theta[64];
    char msg[EM_ERROR_MSG_MAX];
} outcome;

typedef struct tally {
    size_t fits, ok, data, numeric, big, repeated, steps, falls;
    double worst_fall; /* relative, beyond the allowance for the step */
} tally;

static void draw_problem(const model_kind *mk, uint64_t seed, int big,
                         problem *p)
{
    uint64_t g = seed * 0x9E3779B97F4A7C15ULL + 1;
    *p = (problem){.model = mk->model, .big = big};
    p->cfg.cov = mk->cov;
    p->n = draw_n(&g, big);
    mk->gen(&g, p);
    p->start = g;
}

/* Checks every traced row of a fit: finite, in the domain, and a
 * log-likelihood that did not fall by more than rounding, or for a model
 * with an inexact M-step by more than its step lost in Q. */
static void check_trace(const model_kind *mk, const problem *p, em_model *m,
                        const trace *tr, uint64_t seed, tally *tl)
{
    layout lo = {0};
    if (!strcmp(p->model, "gmm"))
        gmm_layout(m, p, &lo);
    size_t np = tr->np;
    double *stats = calloc(EM_STAT_HEADER + m->info.nstats, sizeof *stats);
    assert_non_null(stats);
    for (size_t t = 0; t < tr->n; t++) {
        const double *th = tr->th + t * np;
        const char *why = out_of_domain(p, &lo, th, np);
        if (why || !isfinite(tr->ll[t]))
            fail_msg("%s problem %llu (n %zu d %zu) iteration %zu: %s "
                     "(loglik %g)",
                     mk->name, (unsigned long long)seed, p->n, p->d, t,
                     why ? why : "loglik not finite", tr->ll[t]);
        if (t == 0)
            continue;
        double l = tr->ll[t], prev = tr->ll[t - 1], allow = 0;
        if (l < prev && m->type->q_gain) { /* only then is it needed */
            em_error err;
            assert_int_equal(em_estep_all(m, th - np, stats, &err), EM_OK);
            allow = fmax(0, -m->type->q_gain(m->state, stats, th - np, th));
        }
        double fall = (prev - allow - l) / fmax(1, fabs(l));
        tl->steps++;
        if (fall > 0)
            tl->falls++, tl->worst_fall = fmax(tl->worst_fall, fall);
        if (fall > 1e-9)
            fail_msg("%s problem %llu (n %zu d %zu) iteration %zu: loglik "
                     "%.17g fell from %.17g (allowed %g)",
                     mk->name, (unsigned long long)seed, p->n, p->d, t, l,
                     prev, allow);
    }
    free(stats);
}

/* Fits problem p from its random start on the given threads; with tl,
 * checks the trace and counts the outcome. */
static void fit_problem(const model_kind *mk, const problem *p,
                        size_t threads, uint64_t seed, outcome *out,
                        tally *tl)
{
    em_table t = {.nrows = p->n, .ncols = p->d, .names = col_names,
                  .values = p->v};
    em_model m = {0};
    em_error err;
    static trace tr;
    *out = (outcome){0};
    out->create = em_model_create(em_model_find(p->model), &p->cfg, &t, &m,
                                  &err);
    if (out->create == EM_OK) {
        size_t np = out->np = tr.np = m.info.nparams;
        assert_true(np <= 64);
        tr.n = 0;
        uint64_t g = p->start;
        out->fit = m.type->init(m.state, seed, out->theta, &err);
        if (out->fit == EM_OK && mk->perturb)
            mk->perturb(&g, p, out->theta);
        em_fit_options o = {.max_iter = p->big ? BIG_MAX_ITER : MAX_ITER,
                            .tol = 1e-10,
                            .trace = keep, .trace_ctx = &tr,
                            .threads = threads};
        if (out->fit == EM_OK)
            out->fit = em_fit(&m, out->theta, &o, &out->res, &err);
        if (tl)
            check_trace(mk, p, &m, &tr, seed, tl);
        (void)np;
    }
    em_status st = out->create != EM_OK ? out->create : out->fit;
    if (st != EM_OK)
        snprintf(out->msg, sizeof out->msg, "%s", err.msg);
    if (tl) {
        tl->fits++;
        tl->big += (size_t)p->big;
        if (st == EM_OK)
            tl->ok++;
        else if (st == EM_ERR_DATA)
            tl->data++;
        else if (st == EM_ERR_NUMERIC)
            tl->numeric++;
        else
            fail_msg("%s problem %llu (n %zu d %zu): status %d: %s", mk->name,
                     (unsigned long long)seed, p->n, p->d, (int)st, err.msg);
        if (st == EM_OK && !isfinite(out->res.loglik))
            fail_msg("%s problem %llu: final loglik %g", mk->name,
                     (unsigned long long)seed, out->res.loglik);
    }
    em_model_free(&m);
}

static void assert_same(const model_kind *mk, uint64_t seed, const char *what,
                        const outcome *a, const outcome *b)
{
    if (a->create != b->create || a->fit != b->fit || a->np != b->np ||
        a->res.iterations != b->res.iterations ||
        memcmp(a->theta, b->theta, a->np * sizeof *a->theta) != 0 ||
        memcmp(&a->res.loglik, &b->res.loglik, sizeof a->res.loglik) != 0)
        fail_msg("%s problem %llu: %s differs (status %d/%d, %zu/%zu "
                 "iterations, loglik %.17g/%.17g)",
                 mk->name, (unsigned long long)seed, what, (int)a->fit,
                 (int)b->fit, a->res.iterations, b->res.iterations,
                 a->res.loglik, b->res.loglik);
}

static void run_model(const model_kind *mk)
{
    tally tl = {0};
    for (uint64_t s = 1; s <= PROBLEMS; s++) {
        int big = s % BIG_EVERY == 0;
        problem p;
        outcome ref, rep, t2, t3;
        draw_problem(mk, s, big, &p);
        fit_problem(mk, &p, 1, s, &ref, &tl);
        if (s % REPEAT_EVERY == 0 || big) {
            problem again;
            draw_problem(mk, s, big, &again);
            fit_problem(mk, &again, 1, s, &rep, NULL);
            assert_same(mk, s, "a second fit from the same seed", &ref,
                        &rep);
            free(again.v);
            tl.repeated++;
        }
        if (big) {
            fit_problem(mk, &p, 2, s, &t2, NULL);
            assert_same(mk, s, "the fit on 2 threads", &ref, &t2);
            fit_problem(mk, &p, 3, s, &t3, NULL);
            assert_same(mk, s, "the fit on 3 threads", &ref, &t3);
        }
        free(p.v);
    }
    size_t failed = tl.data + tl.numeric;
    if (getenv("PROPERTIES_VERBOSE"))
        print_message("%-14s %zu fits (%zu refitted, %zu with several "
                      "blocks): %zu ok, %zu data errors, %zu numerical "
                      "failures; %zu steps, %zu small falls, worst %.2g "
                      "relative\n",
                      mk->name, tl.fits, tl.repeated, tl.big, tl.ok, tl.data,
                      tl.numeric, tl.steps, tl.falls, tl.worst_fall);
    assert_int_equal(tl.fits, PROBLEMS);
    assert_true(tl.big >= PROBLEMS / BIG_EVERY);
    /* degenerate draws happen (e.g. a mixed-normal fit that ends at mu =
     * 0), but they must stay rare */
    if (failed * 20 > tl.fits)
        fail_msg("%s: %zu of %zu fits failed", mk->name, failed, tl.fits);
}

/* ---- numerical edge cases --------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

/* Creates a model for n x d values, starts it at its default start (or at
 * start, when not NULL) and fits it to tol, or with tol 0 for exactly
 * FIXED_ITER iterations; theta receives the result. */
enum { FIXED_ITER = 60 };

static em_status fit_values(const char *model, const em_model_config *cfg,
                            double *v, size_t n, size_t d, const double *start,
                            double tol, double *theta, em_fit_result *res,
                            em_error *err)
{
    em_table t = {.nrows = n, .ncols = d, .names = col_names, .values = v};
    em_model m = {0};
    em_status st = em_model_create(em_model_find(model), cfg, &t, &m, err);
    if (st == EM_OK && start)
        memcpy(theta, start, m.info.nparams * sizeof *theta);
    else if (st == EM_OK)
        st = m.type->init(m.state, 1, theta, err);
    em_fit_options o = {.max_iter = tol > 0 ? 10000 : FIXED_ITER, .tol = tol,
                        .threads = 2};
    if (st == EM_OK)
        st = em_fit(&m, theta, &o, res, err);
    em_model_free(&m);
    return st;
}

static double param(const char *model, const em_model_config *cfg,
                    const double *v, size_t n, size_t d, const double *theta,
                    const char *name)
{
    em_table t = {.nrows = n, .ncols = d, .names = col_names,
                  .values = (double *)v};
    em_model m = {0};
    assert_int_equal(em_model_create(em_model_find(model), cfg, &t, &m, NULL),
                     EM_OK);
    size_t i = em_model_param_index(&m, name);
    em_model_free(&m);
    if (i == (size_t)-1)
        fail_msg("%s has no parameter %s", model, name);
    return theta[i];
}

/* n rows of a correlated pair around (m, m) with spread sd. */
static double *pairs(size_t n, double m, double sd, uint64_t seed)
{
    double *v = malloc(2 * n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        double z1 = gauss(&seed), z2 = gauss(&seed);
        v[2 * i] = m + sd * z1;
        v[2 * i + 1] = m + sd * (0.6 * z1 + 0.8 * z2);
    }
    return v;
}

static void assert_refused(const char *model, const em_model_config *cfg,
                           double *v, size_t n, size_t d, const char *frag)
{
    double th[64];
    em_fit_result res;
    em_error err;
    em_status st = fit_values(model, cfg, v, n, d, NULL, 1e-10, th, &res,
                              &err);
    if (st != EM_ERR_DATA || !strstr(err.msg, frag))
        fail_msg("%s: status %d, \"%s\"; want a data error with \"%s\"",
                 model, (int)st, err.msg, frag);
}

/* Values near 1e300 would overflow every square, and a spread near 1e-300
 * underflows it: both are refused with a message.  Just inside those
 * bounds a fit is the fit at scale 1, scaled. */
static void extreme_magnitudes(void **state)
{
    (void)state;
    enum { N = 40 };
    em_model_config none = {0}, g2 = {.k = 2, .cov = "diag", .has_reg = 1};
    const struct {
        double scale;
        const char *frag;
    } cases[] = {{1e300, "too large to fit"}, {-3e299, "too large to fit"},
                 {1e-300, "rescale it"}, {1e-170, "rescale it"}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double *v = pairs(N, 0, 1, 7);
        for (size_t i = 0; i < 2 * N; i++)
            v[i] *= cases[c].scale;
        assert_refused("bvn", &none, v, N, 2, cases[c].frag);
        assert_refused("gmm", &g2, v, N, 2, cases[c].frag);
        assert_refused("mixed-normal", &none, v, N, 1, cases[c].frag);
        free(v);
    }
    double *v = pairs(N, 0, 1, 7), *tc = pairs(N, 0, 1, 7);
    for (size_t i = 0; i < 2 * N; i++)
        tc[i] = 1e300 * (v[i] > 0);
    assert_refused("three-coin", &none, tc, N, 2, "not a toss result");
    const double scales[] = {1e140, 1e-140};
    for (size_t c = 0; c < 2; c++) {
        double sc = scales[c], *w = pairs(N, 0, 1, 7), a[64], b[64];
        for (size_t i = 0; i < 2 * N; i++)
            w[i] *= sc;
        em_fit_result ra, rb;
        em_error err;
        const char *models[] = {"bvn", "gmm"};
        for (size_t mi = 0; mi < 2; mi++) {
            const em_model_config *cfg = mi ? &g2 : &none;
            /* the same iterations: a stopping rule relative to the
             * log-likelihood would stop them at different points */
            assert_int_equal(fit_values(models[mi], cfg, v, N, 2, NULL, 0, a,
                                        &ra, &err), EM_OK);
            em_status st = fit_values(models[mi], cfg, w, N, 2, NULL, 0, b,
                                      &rb, &err);
            if (st != EM_OK)
                fail_msg("%s at scale %g: %s", models[mi], sc, err.msg);
            const char *loc[] = {"mu1", "mean1_1"}, *spr[] = {"s1", "var1_1"};
            assert_close(param(models[mi], cfg, w, N, 2, b, loc[mi]),
                         sc * param(models[mi], cfg, v, N, 2, a, loc[mi]),
                         1e-9);
            assert_close(param(models[mi], cfg, w, N, 2, b, spr[mi]),
                         (mi ? sc * sc : sc) *
                             param(models[mi], cfg, v, N, 2, a, spr[mi]),
                         1e-9);
        }
        free(w);
    }
    free(v);
    free(tc);
}

/* A column whose variance is 1e-12: alone or next to one whose variance
 * is 1, the fit is the sample moments to the last digits.  With gmm's
 * default reg its variance is 1e-12 + 1e-6, as documented; with --reg 0
 * beside the other column its covariance has condition number 1e12, which
 * is the documented numerical failure. */
static void tiny_variance_column(void **state)
{
    (void)state;
    enum { N = 200 };
    double *v = pairs(N, 5, 1, 11), x[N], mx = 0, vx = 0;
    for (size_t i = 0; i < N; i++) {
        x[i] = v[2 * i] = 5 + 1e-6 * (v[2 * i] - 5);
        mx += x[i] / N;
    }
    for (size_t i = 0; i < N; i++)
        vx += (x[i] - mx) * (x[i] - mx) / N;
    assert_true(vx > 0.5e-12 && vx < 2e-12);
    em_model_config none = {0}, reg0 = {.k = 1, .has_reg = 1, .reg = 0};
    em_model_config reg = {.k = 1};
    double th[64];
    em_fit_result res;
    em_error err;
    assert_int_equal(fit_values("bvn", &none, v, N, 2, NULL, 1e-13, th, &res,
                                &err), EM_OK);
    assert_close(param("bvn", &none, v, N, 2, th, "mu1"), mx, 1e-12);
    assert_close(param("bvn", &none, v, N, 2, th, "s1"), sqrt(vx), 1e-9);
    assert_int_equal(fit_values("gmm", &reg0, x, N, 1, NULL, 1e-13, th, &res,
                                &err), EM_OK);
    assert_close(param("gmm", &reg0, x, N, 1, th, "cov1_1_1"), vx, 1e-9);
    assert_int_equal(fit_values("gmm", &reg, v, N, 2, NULL, 1e-13, th, &res,
                                &err), EM_OK);
    assert_close(param("gmm", &reg, v, N, 2, th, "cov1_1_1"), vx + 1e-6,
                 1e-9);
    assert_int_equal(fit_values("gmm", &reg0, v, N, 2, NULL, 1e-13, th, &res,
                                &err), EM_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "use --reg > 0"));
    free(v);
}

/* Values near 1.8e16 that differ by thousands: every fit keeps the
 * spread, which sums of y^2 would lose to cancellation (mixed-normal did,
 * and reported a bug, on the first case; found by fuzzing). */
static void far_from_zero(void **state)
{
    (void)state;
    double two[2] = {18068078410942415.0, 18068078410940415.0}, th[64];
    em_model_config free_sigma = {.free_sigma = 1}, g = {.k = 1};
    em_fit_result res;
    em_error err;
    em_status st = fit_values("mixed-normal", &free_sigma, two, 2, 1, NULL,
                              1e-13, th, &res, &err);
    if (st != EM_OK)
        fail_msg("mixed-normal: %s", err.msg);
    assert_close(th[2], 1000, 1e-9);
    enum { N = 100 };
    double *v = pairs(N, 1.8e16, 1e4, 23), *x = malloc(N * sizeof *x);
    double mx = 0, vx = 0;
    assert_non_null(x);
    for (size_t i = 0; i < N; i++) /* about x[0], or the mean is off */
        x[i] = v[2 * i], mx += (x[i] - v[0]) / N;
    mx += v[0];
    for (size_t i = 0; i < N; i++)
        vx += (x[i] - mx) * (x[i] - mx) / N;
    st = fit_values("mixed-normal", &free_sigma, x, N, 1, NULL, 1e-13, th,
                    &res, &err);
    if (st != EM_OK)
        fail_msg("mixed-normal: %s", err.msg);
    assert_close(th[2], sqrt(vx), 1e-9);
    assert_int_equal(fit_values("bvn", &free_sigma, v, N, 2, NULL, 1e-13, th,
                                &res, &err), EM_OK);
    assert_close(th[2], sqrt(vx), 1e-9);
    assert_int_equal(fit_values("gmm", &g, x, N, 1, NULL, 1e-13, th, &res,
                                &err), EM_OK);
    assert_close(th[2], vx + 1e-6, 1e-8); /* gmm keeps 1.2e-9 here */
    free(v);
    free(x);
}

/* Two components that start as one: EM cannot tell them apart, so they
 * stay equal and the fit is the one-component fit, with half the weight
 * each.  Started 1e-9 apart they stay finite and never do worse. */
static void near_duplicate_components(void **state)
{
    (void)state;
    enum { N = 300 };
    double *v = pairs(N, 1, 2, 13), one[64], two[64];
    em_model_config k1 = {.k = 1, .has_reg = 1, .reg = 0};
    em_model_config k2 = {.k = 2, .has_reg = 1, .reg = 0};
    em_fit_result r1, r2;
    em_error err;
    assert_int_equal(fit_values("gmm", &k1, v, N, 2, NULL, 1e-13, one, &r1,
                                &err), EM_OK);
    for (int apart = 0; apart < 2; apart++) {
        /* w1 w2, mean1_1 mean1_2 mean2_1 mean2_2, then two covariances */
        double start[64] = {0.5, 0.5, one[1], one[2], one[1], one[2],
                            one[3], one[4], one[5], one[3], one[4], one[5]};
        start[4] += apart * 1e-9;
        assert_int_equal(fit_values("gmm", &k2, v, N, 2, start, 1e-13, two,
                                    &r2, &err), EM_OK);
        for (size_t i = 0; i < 12; i++)
            assert_true(isfinite(two[i]));
        assert_true(r2.loglik >= r1.loglik - 1e-10 * fabs(r1.loglik));
        if (apart)
            continue;
        assert_close(r2.loglik, r1.loglik, 1e-12);
        assert_close(two[0], 0.5, 1e-12);
        for (size_t i = 0; i < 2; i++)
            assert_close(two[2 + i], two[4 + i], 1e-12);
    }
    free(v);
}

/* One row: a model that can fit it gives the maximum-likelihood answer,
 * the others say why not. */
static void one_row(void **state)
{
    (void)state;
    double row[2] = {1.5, -2}, toss[1] = {1}, th[64];
    em_model_config none = {0}, g = {.k = 1}, g0 = {.k = 1, .has_reg = 1};
    em_model_config free_sigma = {.free_sigma = 1};
    em_fit_result res;
    em_error err;
    assert_int_equal(fit_values("bvn", &none, row, 1, 2, NULL, 1e-10, th,
                                &res, &err), EM_ERR_DATA);
    assert_int_equal(fit_values("gmm", &g0, row, 1, 2, NULL, 1e-10, th, &res,
                                &err), EM_ERR_DATA);
    assert_int_equal(fit_values("mixed-normal", &free_sigma, row, 1, 1, NULL,
                                1e-10, th, &res, &err), EM_ERR_DATA);
    /* gmm: a point mass widened by reg (1e-6) in each direction */
    assert_int_equal(fit_values("gmm", &g, row, 1, 2, NULL, 1e-10, th, &res,
                                &err), EM_OK);
    assert_close(res.loglik, -log(2 * 3.14159265358979323846 * 1e-6), 1e-12);
    assert_close(th[1], 1.5, 1e-15);
    /* mixed-normal, sigma 1: all weight on N(|y|, 1) */
    assert_int_equal(fit_values("mixed-normal", &none, row, 1, 1, NULL, 1e-12,
                                th, &res, &err), EM_OK);
    assert_close(res.loglik, -0.5 * log(2 * 3.14159265358979323846), 1e-9);
    assert_close(th[0], 1.5, 1e-6);
    /* three-coin: a head is certain, whichever coin */
    assert_int_equal(fit_values("three-coin", &none, toss, 1, 1, NULL, 1e-10,
                                th, &res, &err), EM_OK);
    assert_close(res.loglik, 0, 1e-12);
}

/* 10^7 rows, a fifth of y missing: the bvn fit is the closed form
 * (regression of y on x over the complete rows). */
static void ten_million_rows(void **state)
{
    (void)state;
#ifdef SANITIZED
    print_message("SKIP: 10^7 rows: too slow under the sanitizers\n");
    skip();
#endif
    enum { N = 10000000 };
    double *v = pairs(N, 3, 2, 17);
    uint64_t g = 19;
    double n = 0, sx = 0, sxx = 0, nc = 0, cx = 0, cy = 0;
    for (size_t i = 0; i < N; i++) {
        double x = v[2 * i];
        n++, sx += x;
        if (unif(&g) < 0.2)
            v[2 * i + 1] = NAN;
        else
            nc++, cx += x, cy += v[2 * i + 1];
    }
    double mx = sx / n, mcx = cx / nc, mcy = cy / nc, cxx = 0, cxy = 0;
    double cyy = 0;
    for (size_t i = 0; i < N; i++) {
        double dx = v[2 * i] - mx;
        sxx += dx * dx;
        if (isnan(v[2 * i + 1]))
            continue;
        double ex = v[2 * i] - mcx, ey = v[2 * i + 1] - mcy;
        cxx += ex * ex, cxy += ex * ey, cyy += ey * ey;
    }
    double s1 = sqrt(sxx / n), beta = cxy / cxx;
    double resid = (cyy - beta * cxy) / nc;
    double mu2 = mcy + beta * (mx - mcx);
    double s2 = sqrt(resid + beta * beta * s1 * s1);
    em_model_config none = {0};
    double th[64];
    em_fit_result res;
    em_error err;
    /* a fixed number of iterations: at this N the stopping rule, relative
     * to a log-likelihood of 3e7, would leave 1e-7 in mu2 */
    em_status st = fit_values("bvn", &none, v, N, 2, NULL, 0, th, &res, &err);
    if (st != EM_OK)
        fail_msg("bvn on 10^7 rows: %s", err.msg);
    assert_int_equal(res.nobs, N);
    assert_close(th[0], mx, 1e-12);
    assert_close(th[1], mu2, 1e-9);
    assert_close(th[2], s1, 1e-12);
    assert_close(th[3], s2, 1e-9);
    assert_close(th[4], beta * s1 / s2, 1e-9);
    free(v);
}

static const model_kind kinds[] = {
    {"bvn", "bvn", NULL, gen_bvn, perturb_bvn},
    {"three-coin", "three-coin", NULL, gen_three_coin, perturb_three_coin},
    {"mixed-normal", "mixed-normal", NULL, gen_mixed_normal,
     perturb_mixed_normal},
    {"gmm full", "gmm", "full", gen_gmm, NULL},
    {"gmm diag", "gmm", "diag", gen_gmm, NULL},
    {"gmm spherical", "gmm", "spherical", gen_gmm, NULL},
    {"gmm tied", "gmm", "tied", gen_gmm, NULL},
};

static void bvn_properties(void **state) { (void)state; run_model(&kinds[0]); }
static void three_coin_properties(void **state) { (void)state; run_model(&kinds[1]); }
static void mixed_normal_properties(void **state) { (void)state; run_model(&kinds[2]); }
static void gmm_full_properties(void **state) { (void)state; run_model(&kinds[3]); }
static void gmm_diag_properties(void **state) { (void)state; run_model(&kinds[4]); }
static void gmm_spherical_properties(void **state) { (void)state; run_model(&kinds[5]); }
static void gmm_tied_properties(void **state) { (void)state; run_model(&kinds[6]); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bvn_properties),
        cmocka_unit_test(three_coin_properties),
        cmocka_unit_test(mixed_normal_properties),
        cmocka_unit_test(gmm_full_properties),
        cmocka_unit_test(gmm_diag_properties),
        cmocka_unit_test(gmm_spherical_properties),
        cmocka_unit_test(gmm_tied_properties),
        cmocka_unit_test(extreme_magnitudes),
        cmocka_unit_test(tiny_variance_column),
        cmocka_unit_test(far_from_zero),
        cmocka_unit_test(near_duplicate_components),
        cmocka_unit_test(one_row),
        cmocka_unit_test(ten_million_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
