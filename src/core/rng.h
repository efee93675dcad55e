/* A small seeded random number generator (internal): xoshiro256** seeded
 * through splitmix64, so that a seed gives the same stream everywhere and
 * a run never depends on the clock. */
#ifndef EMFIT_RNG_H
#define EMFIT_RNG_H

#include <stdint.h>

typedef struct em_rng {
    uint64_t s[4];
} em_rng;

void em_rng_seed(em_rng *r, uint64_t seed);
uint64_t em_rng_next(em_rng *r);
/* Uniform on [0, 1) with 53 random bits. */
double em_rng_uniform(em_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t em_rng_below(em_rng *r, uint64_t n);

#endif
