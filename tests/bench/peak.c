/* peak: the double-precision FMA throughput of this machine, the yardstick
 * for the GFLOP/s column of tests/bench/run.sh.
 *
 *   peak [SECONDS]
 *
 * Each thread runs NACC independent chains acc = acc * m + a, one fused
 * multiply-add per chain per step, on the widest vectors the compiler was
 * told about (build with -O2 -march=native: AVX-512 gives 8 doubles, AVX2
 * 4).  The chains are independent so that FMA latency (4 cycles) times the
 * FMA units (up to 2) is covered: 16 zmm accumulators keep 8 FMAs in flight
 * with room to spare.  Each FMA counts as 2 flops.  It runs on 1 thread and
 * then on every online core, best of 3 runs of about SECONDS each (default
 * 0.3), and prints "key value" lines.  m and a keep every value finite.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define SIMD "avx512"
#define LANES 8
#define NACC 16
#define FOR_ACC(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                   X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
typedef __m512d vec;
#define vset1 _mm512_set1_pd
#define vfma _mm512_fmadd_pd
#define vadd _mm512_add_pd
static double vfirst(vec v) { return _mm512_reduce_add_pd(v); }
#elif defined(__FMA__) && defined(__AVX__)
#include <immintrin.h>
#define SIMD "avx2-fma"
#define LANES 4
#define NACC 12
#define FOR_ACC(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                   X(8) X(9) X(10) X(11)
typedef __m256d vec;
#define vset1 _mm256_set1_pd
#define vfma _mm256_fmadd_pd
#define vadd _mm256_add_pd
static double vfirst(vec v) { return _mm256_cvtsd_f64(v); }
#else
#include <math.h>
#define SIMD "scalar"
#define LANES 1
#define NACC 8
#define FOR_ACC(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
typedef double vec;
static vec vset1(double x) { return x; }
static vec vfma(vec x, vec m, vec a) { return fma(x, m, a); }
static vec vadd(vec x, vec y) { return x + y; }
static double vfirst(vec v) { return v; }
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct job {
    long steps;
    double result; /* read back so the chains are not dead code */
} job;

/* The accumulators are named variables, not an array: GCC keeps an array
 * in memory, and a load and a store per FMA would measure the cache. */
#define DECLARE(j) vec acc##j = vset1(1.0 + j);
#define STEP(j) acc##j = vfma(acc##j, m, a);
#define ADD(j) total = vadd(total, acc##j);

static void *run_chains(void *arg)
{
    job *jb = arg;
    vec m = vset1(0.999999999), a = vset1(1e-9);
    FOR_ACC(DECLARE)
    for (long s = 0; s < jb->steps; s++) {
        FOR_ACC(STEP)
    }
    vec total = vset1(0.0);
    FOR_ACC(ADD)
    jb->result = vfirst(total);
    return NULL;
}

/* Wall time of steps on each of nthreads threads; < 0 when a thread
 * cannot be started. */
static double timed(int nthreads, long steps)
{
    pthread_t tid[64];
    job jobs[64];
    double t0 = now();
    int started = 0;
    for (; started < nthreads; started++) {
        jobs[started] = (job){.steps = steps};
        if (pthread_create(&tid[started], NULL, run_chains, &jobs[started]))
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    double dt = now() - t0;
    for (int i = 0; i < started; i++)
        if (jobs[i].result != jobs[i].result)
            fputs("peak: NaN in the chains\n", stderr);
    return started == nthreads ? dt : -1;
}

static double gflops(int nthreads, double seconds)
{
    long steps = 1000000;
    double dt = timed(1, steps);
    if (dt <= 0)
        return -1;
    steps = (long)((double)steps * seconds / dt) + 1;
    double best = 1e300;
    for (int r = 0; r < 3; r++) {
        dt = timed(nthreads, steps);
        if (dt < 0)
            return -1;
        best = dt < best ? dt : best;
    }
    return 2.0 * LANES * NACC * (double)steps * nthreads / best / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.3;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!(seconds > 0) || seconds > 60) {
        fputs("usage: peak [SECONDS]  (0 < SECONDS <= 60)\n", stderr);
        return 2;
    }
    if (cores < 1)
        cores = 1;
    if (cores > 64)
        cores = 64;
    printf("simd %s\nlanes %d\naccumulators %d\ncores %ld\n", SIMD, LANES,
           NACC, cores);
    printf("peak_gflops_1 %.1f\n", gflops(1, seconds));
    printf("peak_gflops_all %.1f\n", gflops((int)cores, seconds));
    return 0;
}
