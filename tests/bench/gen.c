/* gen: writes a deterministic CSV sample from a random Gaussian mixture, the
 * input of the speed benchmark (tests/bench/run.sh).
 *
 *   gen --rows N --dims D --components K [--seed S] [--separation X]
 *       [--digits P] [--output FILE]
 *
 * The mixture itself is drawn from the seed too, so one seed fixes both the
 * model and the sample:
 *   - weights proportional to uniform(1, 3) draws, so no component is tiny;
 *   - mean coordinates N(0, s^2) with s = X / sqrt(2 D), so two means lie
 *     about X component standard deviations apart whatever D is (default
 *     X = 3.5: the clusters are distinct but overlap, and EM from a k-means++
 *     start is still moving after 20 iterations);
 *   - covariance L L^T with L lower triangular, diagonal uniform(0.5, 1.5)
 *     and entries below it N(0, 0.25 / D), so every component is correlated.
 * Values are printed with P significant digits (default 17, which reads back
 * to the same double).  The generator is emfit's own (src/core/rng.c,
 * built in): xoshiro256** seeded by splitmix64,
 * and normal draws use Marsaglia's polar method, which needs only log and
 * sqrt: the output depends on nothing but the arguments (and libm's log).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

typedef em_rng rng;

/* Standard normal by the polar method; the second draw of each pair is
 * thrown away, which keeps the state a plain generator. */
static double rng_normal(rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * em_rng_uniform(r) - 1.0;
        v = 2.0 * em_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

typedef struct settings {
    unsigned long rows, dims, comps, digits;
    unsigned long long seed;
    double separation;
    const char *output;
} settings;

typedef struct mixture {
    size_t d, k;
    double *cum;  /* k cumulative weights, the last exactly 1 */
    double *mean; /* k x d */
    double *chol; /* k x d x d, lower triangle used */
} mixture;

static void usage(FILE *f)
{
    fputs("usage: gen --rows N --dims D --components K [--seed S]\n"
          "           [--separation X] [--digits P] [--output FILE]\n"
          "Writes N rows of a D-column CSV sample from a random K-component\n"
          "Gaussian mixture (defaults: seed 1, separation 3.5, digits 17,\n"
          "output stdout).\n",
          f);
}

static int parse_ulong(const char *name, const char *s, unsigned long lo,
                       unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "gen: %s must be an integer from %lu to %lu, not \"%s\"\n",
                name, lo, hi, s);
        return -1;
    }
    *out = (unsigned long)v;
    return 0;
}

static int parse_args(int argc, char **argv, settings *st)
{
    *st = (settings){.seed = 1, .separation = 3.5, .digits = 17};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "gen: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        unsigned long u;
        int rc = 0;
        if (!strcmp(a, "--rows"))
            rc = parse_ulong(a, v, 1, 1000000000UL, &st->rows);
        else if (!strcmp(a, "--dims"))
            rc = parse_ulong(a, v, 1, 10000, &st->dims);
        else if (!strcmp(a, "--components"))
            rc = parse_ulong(a, v, 1, 10000, &st->comps);
        else if (!strcmp(a, "--digits"))
            rc = parse_ulong(a, v, 1, 17, &st->digits);
        else if (!strcmp(a, "--seed")) {
            rc = parse_ulong(a, v, 0, ULONG_MAX, &u);
            st->seed = u;
        } else if (!strcmp(a, "--separation")) {
            char *end;
            st->separation = strtod(v, &end);
            if (end == v || *end || !(st->separation > 0) ||
                !isfinite(st->separation)) {
                fprintf(stderr, "gen: --separation must be a positive number\n");
                rc = -1;
            }
        } else if (!strcmp(a, "--output"))
            st->output = v;
        else {
            fprintf(stderr, "gen: unknown option %s\n", a);
            rc = -1;
        }
        if (rc)
            return -1;
    }
    if (!st->rows || !st->dims || !st->comps) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static void mixture_free(mixture *m)
{
    free(m->cum);
    free(m->mean);
    free(m->chol);
}

static int mixture_draw(mixture *m, const settings *st, rng *r)
{
    size_t d = st->dims, k = st->comps;
    *m = (mixture){.d = d, .k = k};
    m->cum = malloc(k * sizeof *m->cum);
    m->mean = malloc(k * d * sizeof *m->mean);
    m->chol = calloc(k * d * d, sizeof *m->chol);
    if (!m->cum || !m->mean || !m->chol)
        return -1;
    double total = 0;
    for (size_t c = 0; c < k; c++) {
        total += 1.0 + 2.0 * em_rng_uniform(r);
        m->cum[c] = total;
    }
    for (size_t c = 0; c < k; c++)
        m->cum[c] /= total;
    m->cum[k - 1] = 1.0;
    double spread = st->separation / sqrt(2.0 * (double)d);
    for (size_t i = 0; i < k * d; i++)
        m->mean[i] = spread * rng_normal(r);
    double off = 0.5 / sqrt((double)d);
    for (size_t c = 0; c < k; c++) {
        double *l = m->chol + c * d * d;
        for (size_t i = 0; i < d; i++) {
            for (size_t j = 0; j < i; j++)
                l[i * d + j] = off * rng_normal(r);
            l[i * d + i] = 0.5 + em_rng_uniform(r);
        }
    }
    return 0;
}

/* The component of a uniform draw u: the first whose cumulative weight
 * exceeds u. */
static size_t pick(const mixture *m, double u)
{
    size_t c = 0;
    while (c + 1 < m->k && u >= m->cum[c])
        c++;
    return c;
}

static int write_sample(FILE *out, const mixture *m, const settings *st, rng *r)
{
    size_t d = m->d;
    double *z = malloc(d * sizeof *z);
    if (!z)
        return -1;
    for (size_t i = 0; i < d; i++)
        fprintf(out, "%sx%zu", i ? "," : "", i + 1);
    fputc('\n', out);
    int prec = (int)st->digits;
    for (unsigned long n = 0; n < st->rows; n++) {
        size_t c = pick(m, em_rng_uniform(r));
        const double *l = m->chol + c * d * d, *mu = m->mean + c * d;
        for (size_t i = 0; i < d; i++)
            z[i] = rng_normal(r);
        for (size_t i = 0; i < d; i++) {
            double x = mu[i];
            for (size_t j = 0; j <= i; j++)
                x += l[i * d + j] * z[j];
            fprintf(out, i + 1 < d ? "%.*g," : "%.*g\n", prec, x);
        }
    }
    free(z);
    return 0;
}

int main(int argc, char **argv)
{
    settings st;
    if (parse_args(argc, argv, &st))
        return 2;
    FILE *out = stdout;
    if (st.output && !(out = fopen(st.output, "w"))) {
        fprintf(stderr, "gen: %s: %s\n", st.output, strerror(errno));
        return 4;
    }
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof buf);
    rng r;
    em_rng_seed(&r, st.seed);
    mixture m;
    int rc = mixture_draw(&m, &st, &r) || write_sample(out, &m, &st, &r);
    mixture_free(&m);
    if (rc) {
        fputs("gen: out of memory\n", stderr);
        return 7;
    }
    if (ferror(out) | (fclose(out) != 0)) {
        fprintf(stderr, "gen: %s: write failed\n", st.output ? st.output : "<stdout>");
        return 4;
    }
    return 0;
}
