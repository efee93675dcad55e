/* vlfeat_fit: VLFeat's diagonal-covariance GMM (vl_gmm) from a start written
 * by emfit, for the speed benchmark (tests/bench/run.sh compiles it against
 * libvlfeat-dev and emfit's library, which reads the CSV and JSON files).
 *
 *   vlfeat_fit DATA.csv START.json ITERATIONS THREADS FLOOR
 *
 * START.json is an emfit --result of a --cov diag fit: w1.., mean1_1..,
 * var1_1.. in "params".  THREADS 0 keeps VLFeat's default (OpenMP's).
 * FLOOR is VLFeat's lower bound on every variance.  VLFeat has no additive
 * regularisation like emfit's --reg: it clamps variances from below, and
 * when no variance comes near FLOOR its M-step is exact EM, so its fit
 * matches emfit's --reg 0.
 *
 * A call of vl_gmm_em with at most M iterations runs M + 1 E-steps and M
 * M-steps (the last E-step gives the final log-likelihood), unless VLFeat's
 * own rule (relative change below 1e-5) stops it first.  That rule cannot
 * be switched off, so when it stops early vl_gmm_em is called again for the
 * iterations still missing: "calls" says how many calls it took.  Each call
 * runs one E-step more than it has M-steps, so seconds per iteration are
 * (wall time - calls x one E-step) / ITERATIONS, where the E-step is timed
 * alone at the start (vl_get_gmm_data_posteriors_d, best of 3; its
 * log-likelihood is printed as start_loglik).  Output is "key value" lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vl/generic.h>
#include <vl/gmm.h>

#include "emfit/csv.h"
#include "emfit/json.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* VLFeat reports each E-step through its printf hook; counting those lines
 * is the only way to learn how many iterations a call ran. */
static int estep_lines;

static int count_iterations(char const *format, ...)
{
    if (!strncmp(format, "gmm: em: iteration", 18))
        estep_lines++;
    return 0;
}

static int fail(const char *what, const em_error *err)
{
    char msg[1100];
    em_error_format(err, msg, sizeof msg);
    fprintf(stderr, "vlfeat_fit: %s: %s\n", what, msg);
    return 3;
}

/* params[name] as a number; name is built from fmt, a and b. */
static int param(const em_json *params, const char *fmt, size_t a, size_t b,
                 double *out)
{
    char name[64];
    snprintf(name, sizeof name, fmt, a, b);
    const em_json *v = em_json_get(params, name);
    if (!v || v->kind != EM_JSON_NUMBER) {
        fprintf(stderr, "vlfeat_fit: the start has no number \"%s\"\n", name);
        return -1;
    }
    *out = v->u.number;
    return 0;
}

/* The start's weights, means and variances in VLFeat's layout (component
 * by component, row-major). */
static int read_start(const em_json *params, size_t k, size_t d, double *w,
                      double *mean, double *var)
{
    for (size_t c = 0; c < k; c++) {
        if (param(params, "w%zu", c + 1, 0, &w[c]))
            return -1;
        for (size_t i = 0; i < d; i++)
            if (param(params, "mean%zu_%zu", c + 1, i + 1, &mean[c * d + i]) ||
                param(params, "var%zu_%zu", c + 1, i + 1, &var[c * d + i]))
                return -1;
    }
    return 0;
}

static size_t count_weights(const em_json *params)
{
    size_t k = 0;
    char name[32];
    for (;;) {
        snprintf(name, sizeof name, "w%zu", k + 1);
        if (!em_json_get(params, name))
            return k;
        k++;
    }
}

static int fit(const em_table *t, size_t k, double *w, double *mean,
               double *var, long iters, double floor_)
{
    size_t n = t->nrows, d = t->ncols;
    double *post = malloc(n * k * sizeof *post);
    if (!post)
        return 7;
    /* Best of 3, so that starting OpenMP's threads and first touching the
     * posteriors do not count. */
    double start_ll = 0, estep = 1e300, t0;
    for (int r = 0; r < 3; r++) {
        t0 = now();
        start_ll = vl_get_gmm_data_posteriors_d(post, k, n, w, mean, d, var,
                                                t->values);
        double dt = now() - t0;
        estep = dt < estep ? dt : estep;
    }
    free(post);

    VlGMM *g = vl_gmm_new(VL_TYPE_DOUBLE, d, k);
    if (!g)
        return 7;
    vl_gmm_set_initialization(g, VlGMMCustom);
    vl_gmm_set_means(g, mean);
    vl_gmm_set_covariances(g, var);
    vl_gmm_set_priors(g, w);
    vl_gmm_set_max_num_iterations(g, (vl_size)iters);
    vl_gmm_set_num_repetitions(g, 1);
    vl_gmm_set_covariance_lower_bound(g, floor_);
    vl_gmm_set_verbosity(g, 1);
    vl_set_printf_func(count_iterations);
    t0 = now();
    double ll = vl_gmm_cluster(g, t->values, n);
    long msteps = estep_lines - 1, calls = 1;
    while (msteps > 0 && msteps < iters) {
        estep_lines = 0;
        vl_gmm_set_max_num_iterations(g, (vl_size)(iters - msteps));
        ll = vl_gmm_em(g, t->values, n);
        calls++;
        if (estep_lines < 2)
            break; /* no M-step: cannot happen, but never loop forever */
        msteps += estep_lines - 1;
    }
    double total = now() - t0;
    vl_gmm_delete(g);

    printf("threads %zu\n", (size_t)vl_get_max_threads());
    printf("start_loglik %.17g\n", start_ll);
    printf("estep_s %.6f\nfit_s %.6f\n", estep, total);
    printf("iterations %ld\ncalls %ld\n", msteps, calls);
    if (msteps > 0)
        printf("s_per_iter %.6f\n", (total - (double)calls * estep) / (double)msteps);
    printf("loglik %.17g\n", ll);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fputs("usage: vlfeat_fit DATA.csv START.json ITERATIONS THREADS FLOOR\n",
              stderr);
        return 2;
    }
    long iters = atol(argv[3]), threads = atol(argv[4]);
    double floor_ = atof(argv[5]);
    if (iters < 1 || threads < 0 || !(floor_ > 0)) {
        fputs("vlfeat_fit: ITERATIONS >= 1, THREADS >= 0, FLOOR > 0\n", stderr);
        return 2;
    }
    if (threads > 0)
        vl_set_num_threads((vl_size)threads);

    em_error err;
    em_table t = {0};
    em_json *start = NULL;
    if (em_csv_read_file(argv[1], NULL, &t, &err) != EM_OK)
        return fail("data", &err);
    if (em_json_parse_file(argv[2], &start, &err) != EM_OK) {
        em_table_free(&t);
        return fail("start", &err);
    }
    const em_json *params = em_json_get(start, "params");
    size_t k = count_weights(params), d = t.ncols;
    double *w = malloc(k * sizeof *w), *mean = malloc(k * d * sizeof *mean),
           *var = malloc(k * d * sizeof *var);
    int rc = 3;
    if (!k)
        fputs("vlfeat_fit: the start has no weights w1..\n", stderr);
    else if (!w || !mean || !var)
        rc = 7;
    else if (!read_start(params, k, d, w, mean, var))
        rc = fit(&t, k, w, mean, var, iters, floor_);
    free(w);
    free(mean);
    free(var);
    em_json_free(start);
    em_table_free(&t);
    return rc;
}
