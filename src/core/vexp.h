/* exp for vector loops (internal).
 *
 * libm's exp is a call the compiler cannot vectorise, and an E-step takes
 * one per row and component.  em_exp_nonpos is written so that a loop of
 * them vectorises: branch-free, in plain double and integer operations.
 * It is accurate to about 2 ulp and deterministic (the build forbids FMA
 * contraction: -ffp-contract=off), which is all responsibilities need.
 */
#ifndef EMFIT_VEXP_H
#define EMFIT_VEXP_H

#include <stdint.h>
#include <string.h>

/* exp(x) for x <= 0 (x = -inf gives 0).  Below -708 the result is 0: the
 * subnormal range, where a weight is negligible beside the largest one. */
static inline double em_exp_nonpos(double x)
{
    const double shift = 0x1.8p52; /* adding it rounds to an integer */
    const double log2e = 0x1.71547652b82fep0;
    const double ln2_hi = 0x1.62e42fee00000p-1; /* n * ln2_hi is exact */
    const double ln2_lo = 0x1.a39ef35793c76p-33;
    double xc = x < -708.0 ? -708.0 : x;
    double t = xc * log2e + shift; /* n + shift, n = round(x / ln 2) */
    double n = t - shift;
    double r = (xc - n * ln2_hi) - n * ln2_lo; /* |r| <= ln2 / 2 */
    /* Taylor to r^13: the remainder is below 5e-18 for |r| <= ln2 / 2. */
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* 2^n from the low bits of t, which hold n + 2^51: shifting them
     * into the exponent field drops the 2^51 and the high bits. */
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -708.0 ? 0.0 : p * scale;
}

#endif
