/* bench_csv: how fast emfit's CSV reader turns a numeric file into doubles.
 *
 *   bench_csv FILE [REPEATS]
 *
 * Reads FILE REPEATS times (default 5) with em_csv_read_file and keeps the
 * best time, so a cold page cache or a busy neighbour costs one repeat, not
 * the figure.  As a reference it then runs strtod over the same fields, held
 * in memory (no I/O, no table to fill): what a reader built on strtod could
 * at best reach.  It also checks that every value the reader produced has
 * the same bits as strtod's, the correctness half of the parsing target.
 *
 * Output is one "key value" pair per line for tests/bench/run.sh; MB means
 * 10^6 bytes of the file.  Exit status 1 when some value differs from
 * strtod, 3 when the file cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "emfit/csv.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The whole file in memory, NUL-terminated so strtod cannot run off it. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    if (buf && fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[sb.st_size] = '\0';
        *len = (size_t)sb.st_size;
    }
    return buf;
}

/* Parses every field after the header line with strtod.  When want is not
 * NULL, counts the values whose bits differ from want (row-major, as the
 * table holds them); returns the count of fields parsed, or 0 when the text
 * is not a plain numeric CSV.  (strtod sets errno, so no call can be
 * optimised away.) */
static size_t strtod_pass(const char *buf, const double *want,
                          size_t *mismatches)
{
    const char *p = strchr(buf, '\n');
    size_t n = 0;
    if (!p)
        return 0;
    p++;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p)
            return 0;
        if (want && memcmp(&x, &want[n], sizeof x) != 0)
            ++*mismatches;
        n++;
        p = end;
        if (*p == '\r')
            p++;
        if (*p == ',' || *p == '\n')
            p++;
    }
    return n;
}

static void report(const char *name, double best, size_t bytes)
{
    printf("%s_best_s %.6f\n", name, best);
    printf("%s_mbps %.1f\n", name, (double)bytes / best / 1e6);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fputs("usage: bench_csv FILE [REPEATS]\n", stderr);
        return 2;
    }
    const char *path = argv[1];
    int repeats = argc == 3 ? atoi(argv[2]) : 5;
    if (repeats < 1) {
        fputs("bench_csv: REPEATS must be a positive integer\n", stderr);
        return 2;
    }
    size_t bytes = 0;
    char *text = slurp(path, &bytes);
    if (!text) {
        fprintf(stderr, "bench_csv: %s: %s\n", path, strerror(errno));
        return 3;
    }
    em_table t = {0};
    double best = 1e300;
    for (int r = 0; r < repeats; r++) {
        em_error err;
        em_table_free(&t);
        double t0 = now();
        if (em_csv_read_file(path, NULL, &t, &err) != EM_OK) {
            char msg[1024];
            em_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "bench_csv: %s\n", msg);
            free(text);
            return 3;
        }
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    printf("bytes %zu\nrows %zu\ncols %zu\n", bytes, t.nrows, t.ncols);
    report("emfit_csv", best, bytes);

    size_t mismatches = 0;
    size_t n = strtod_pass(text, t.values, &mismatches);
    int rc = 0;
    if (n != t.nrows * t.ncols) {
        fprintf(stderr, "bench_csv: strtod read %zu fields, the reader %zu\n",
                n, t.nrows * t.ncols);
        rc = 1;
    } else {
        best = 1e300;
        for (int r = 0; r < repeats; r++) {
            double t0 = now();
            strtod_pass(text, NULL, &mismatches);
            double dt = now() - t0;
            best = dt < best ? dt : best;
        }
        report("strtod", best, bytes);
        printf("bit_mismatches %zu\n", mismatches);
        rc = mismatches != 0;
    }
    em_table_free(&t);
    free(text);
    return rc;
}
