/* Decimal to double: Clinger's exact fast path, then a product with a
 * 128-bit approximation of the power of five whose error is bounded, so
 * the result is accepted only when both ends of the error interval round
 * to the same double (the idea of Eisel and Lemire's algorithm, with a
 * simpler acceptance test).  Anything undecided goes back to strtod. */
#include "io/decimal.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define MAX_DIGITS 19  /* significant digits that fit a uint64_t */
#define POW5_MIN (-342) /* 10^-342 * (2^64 - 1) underflows to 0 */
#define POW5_MAX 308    /* 10^309 overflows */
#define NPOW5 (POW5_MAX - POW5_MIN + 1)

/* 5^q lies in [hi:lo, hi:lo + 1) * 2^e, with hi's top bit set. */
static uint64_t pow5_hi[NPOW5], pow5_lo[NPOW5];
static int pow5_exp[NPOW5];
static pthread_once_t pow5_once = PTHREAD_ONCE_INIT;

/* ---- the table, from exact big-integer arithmetic ---------------------- */

#define BIG_LIMBS 40 /* 32-bit limbs: room for 2^1100 and 5^308 */
#define RECIP_BITS 1100 /* 2^1100 / 5^342 still has 305 bits */

typedef struct big {
    uint32_t l[BIG_LIMBS]; /* little-endian */
} big;

static void big_mul5(big *b)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < BIG_LIMBS; i++) {
        uint64_t v = (uint64_t)b->l[i] * 5 + carry;
        b->l[i] = (uint32_t)v;
        carry = v >> 32;
    }
}

static void big_div5(big *b)
{
    uint64_t rem = 0;
    for (size_t i = BIG_LIMBS; i-- > 0;) {
        uint64_t v = (rem << 32) | b->l[i];
        b->l[i] = (uint32_t)(v / 5);
        rem = v % 5;
    }
}

static int big_bits(const big *b)
{
    for (int i = BIG_LIMBS; i-- > 0;)
        if (b->l[i])
            for (int k = 31; k >= 0; k--)
                if (b->l[i] >> k & 1)
                    return 32 * i + k + 1;
    return 0;
}

static int big_bit(const big *b, int i)
{
    return i >= 0 && (b->l[i / 32] >> (i % 32) & 1);
}

/* floor(b * 2^(128 - bits(b))) as hi:lo. */
static void big_top128(const big *b, uint64_t *hi, uint64_t *lo)
{
    int top = big_bits(b) - 1;
    *hi = *lo = 0;
    for (int k = 0; k < 64; k++) {
        *hi = *hi << 1 | (uint64_t)big_bit(b, top - k);
        *lo = *lo << 1 | (uint64_t)big_bit(b, top - 64 - k);
    }
}

static void pow5_build(void)
{
    big b;
    memset(&b, 0, sizeof b);
    b.l[0] = 1;
    for (int q = 0; q <= POW5_MAX; q++, big_mul5(&b)) {
        size_t i = (size_t)(q - POW5_MIN);
        big_top128(&b, &pow5_hi[i], &pow5_lo[i]);
        pow5_exp[i] = big_bits(&b) - 128;
    }
    /* floor(floor(2^K / 5^(n-1)) / 5) = floor(2^K / 5^n), exactly. */
    memset(&b, 0, sizeof b);
    b.l[RECIP_BITS / 32] = 1u << (RECIP_BITS % 32);
    for (int n = 1; n <= -POW5_MIN; n++) {
        big_div5(&b);
        size_t i = (size_t)(-n - POW5_MIN);
        big_top128(&b, &pow5_hi[i], &pow5_lo[i]);
        pow5_exp[i] = big_bits(&b) - 128 - RECIP_BITS;
    }
}

/* ---- 64 x 64 -> 128 -------------------------------------------------- */

static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t al = a & 0xFFFFFFFFu, ah = a >> 32;
    uint64_t bl = b & 0xFFFFFFFFu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
    *lo = (mid << 32) | (ll & 0xFFFFFFFFu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

static int clz64(uint64_t x) /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(x);
#else
    int n = 0;
    while (!(x >> 63))
        x <<= 1, n++;
    return n;
#endif
}

/* Rounds the 192-bit x2:x1:x0 (x2 >= 2^62) to 53 bits, nearest-even:
 * the significand into *m and the weight of x's top bit, as a power of two
 * relative to bit 0, into *top. */
static void round192(uint64_t x2, uint64_t x1, uint64_t x0, uint64_t *m,
                     int *top)
{
    int shift = (x2 >> 63) ? 10 : 9; /* keep 53 bits and a round bit */
    uint64_t keep = x2 >> shift;
    int sticky = (x2 & ((UINT64_C(1) << (shift - 1)) - 1)) || x1 || x0;
    uint64_t mant = keep >> 1;
    if ((keep & 1) && (sticky || (mant & 1)))
        mant++;
    *top = (x2 >> 63) ? 191 : 190;
    if (mant >> 53) {
        mant >>= 1;
        ++*top;
    }
    *m = mant;
}

/* w * 10^q for w != 0, or 0 when undecided here. */
static int convert(uint64_t w, int q, int neg, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                 1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                 1e18, 1e19, 1e20, 1e21, 1e22};
    /* Clinger: w and 10^|q| are exact doubles, so one rounding. */
    if (w <= (UINT64_C(1) << 53) && q >= -22 && q <= 22) {
        double v = (double)w;
        v = q < 0 ? v / p10[-q] : v * p10[q];
        *out = neg ? -v : v;
        return 1;
    }
    if (q < POW5_MIN || q > POW5_MAX)
        return 0;
    pthread_once(&pow5_once, pow5_build);
    size_t i = (size_t)(q - POW5_MIN);
    int lz = clz64(w);
    w <<= lz;
    /* P = w * T exactly; the true w * 5^q * 2^-e lies in [P, P + w). */
    uint64_t a1, a0, b1, b0;
    mul64(w, pow5_lo[i], &a1, &a0);
    mul64(w, pow5_hi[i], &b1, &b0);
    uint64_t p0 = a0, p1 = b0 + a1, p2 = b1 + (p1 < a1);
    uint64_t u0 = p0 + w, u1 = p1 + (u0 < w), u2 = p2 + (u1 < p1);
    uint64_t mlo, mhi;
    int tlo, thi;
    round192(p2, p1, p0, &mlo, &tlo);
    round192(u2, u1, u0, &mhi, &thi);
    if (mlo != mhi || tlo != thi)
        return 0; /* too near a tie or a boundary to decide */
    /* value = mant * 2^(top - 52 + e + q - lz), top counted from bit 0 */
    long e2 = (long)tlo + pow5_exp[i] + q - lz;
    long biased = e2 + 1023;
    if (biased < 1 || biased > 2046)
        return 0; /* subnormal or infinite: strtod's business */
    uint64_t bits = ((uint64_t)biased << 52) | (mlo & ((UINT64_C(1) << 52) - 1));
    if (neg)
        bits |= UINT64_C(1) << 63;
    memcpy(out, &bits, sizeof *out);
    return 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight digits at once: the chain of w * 10 + d is the parser's critical
 * path, and this shortens it eightfold. */
static int eight_digits(const char *s, const char *end, uint32_t *v)
{
    uint64_t x;
    if (end - s < 8)
        return 0;
    memcpy(&x, s, 8);
    /* every byte in '0'..'9': no byte below 0x30 or above 0x39 */
    if (((x + UINT64_C(0x4646464646464646)) |
         (x - UINT64_C(0x3030303030303030))) &
        UINT64_C(0x8080808080808080))
        return 0;
    x -= UINT64_C(0x3030303030303030);
    x = x * 10 + (x >> 8); /* pairs: d0*10 + d1 in every other byte */
    x = (((x & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
         (((x >> 16) & UINT64_C(0x000000FF000000FF)) *
          UINT64_C(0x0000271000000001))) >>
        32;
    *v = (uint32_t)x;
    return 1;
}
#else
static int eight_digits(const char *s, const char *end, uint32_t *v)
{
    (void)s, (void)end, (void)v;
    return 0;
}
#endif

/* Accumulates the digits at s into *w; returns the end of the run.  *w
 * wraps after 19 digits; the caller counts digits and discards it then. */
static const char *digits(const char *s, const char *end, uint64_t *w)
{
    uint32_t v;
    while (eight_digits(s, end, &v)) {
        *w = *w * 100000000 + v;
        s += 8;
    }
    for (; s < end && is_digit(*s); s++)
        *w = *w * 10 + (uint64_t)(*s - '0');
    return s;
}

/* The exponent after 'e': saturates far beyond any double's range. */
static const char *scan_exponent(const char *s, const char *end, long *e)
{
    int neg = 0;
    if (s < end && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    if (s == end || !is_digit(*s))
        return NULL;
    long v = 0;
    for (; s < end && is_digit(*s); s++)
        if (v < 100000)
            v = v * 10 + (*s - '0');
    *e = neg ? -v : v;
    return s;
}

int em_decimal_scan(const char *s, const char *end, double *out,
                    const char **stop)
{
    int neg = 0;
    if (s < end && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    const char *first = s;
    while (s < end && *s == '0')
        s++;
    uint64_t w = 0;
    const char *sig = s; /* the first significant digit, when there is one */
    s = digits(s, end, &w);
    long nsig = s - sig, dexp = 0;
    int seen = s > first;
    if (s < end && *s == '.') {
        const char *frac = ++s;
        if (nsig == 0) /* 0.000ddd: the zeros only scale */
            while (s < end && *s == '0')
                s++;
        const char *fsig = s;
        s = digits(s, end, &w);
        nsig += s - fsig;
        dexp = -(long)(s - frac);
        seen |= s > frac;
    }
    if (!seen)
        return 0;
    long e = 0;
    if (s < end && (*s == 'e' || *s == 'E'))
        if (!(s = scan_exponent(s + 1, end, &e)))
            return 0;
    *stop = s;
    if (nsig > MAX_DIGITS)
        return 0;
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    long q = dexp + e;
    if (q < INT_MIN / 2 || q > INT_MAX / 2)
        return 0;
    return convert(w, (int)q, neg, out);
}
