/* Helpers shared by the cmocka unit tests. */
#ifndef EMFIT_TEST_UTIL_H
#define EMFIT_TEST_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

/* Fails unless got is within rel relative error of want (absolute error
 * rel when want is 0).  cmocka 1.1.5 has no assert_double_equal. */
#define assert_close(got, want, rel) \
    assert_close_impl((got), (want), (rel), #got, __FILE__, __LINE__)

static inline void assert_close_impl(double got, double want, double rel,
                                     const char *expr, const char *file,
                                     int line)
{
    double scale = fabs(want) > 0 ? fabs(want) : 1.0;
    if (!(fabs(got - want) <= rel * scale)) {
        print_error("%s = %.17g, want %.17g (relative tolerance %g)\n", expr,
                    got, want, rel);
        _fail(file, line);
    }
}

/* Deterministic random numbers for tests: xorshift64* with a caller-held
 * state, so every test draws the same values on every machine. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Uniform in (0, 1). */
static inline double unif(uint64_t *s)
{
    return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* Uniform in [0, n) (the modulo bias is negligible for test sizes). */
static inline size_t below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

/* Standard normal by Box-Muller (one of the pair). */
static inline double gauss(uint64_t *s)
{
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586477 * v);
}

#endif
