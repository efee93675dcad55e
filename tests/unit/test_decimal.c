/* The decimal fast path must give strtod's bits or decline: checked on
 * hand-picked hard cases and on millions of random decimal strings. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "io/decimal.h"

#define RANDOM_STRINGS 3000000

/* 1 when the scan accepted s (wholly); then its bits must equal strtod's. */
static int same_as_strtod(const char *s)
{
    double got, want = strtod(s, NULL);
    const char *stop;
    size_t n = strlen(s);
    if (!em_decimal_scan(s, s + n, &got, &stop))
        return 0;
    if (stop != s + n || memcmp(&got, &want, sizeof got) != 0) {
        print_error("\"%s\": scan %.17g (stop at %td), strtod %.17g\n", s,
                    got, stop - s, want);
        fail();
    }
    return 1;
}

static void test_hard_cases(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0", "-0", "0.0", "00012", "1", "-1.5", ".5", "5.", "1e0", "1E+2",
        "9007199254740992", "9007199254740993", /* 2^53 + 1: a tie */
        "9007199254740995", "18446744073709551615", "1844674407370955161",
        "0.1", "0.3", "2.2250738585072014e-308", /* smallest normal */
        "2.2250738585072011e-308", "1.7976931348623157e308",
        "1.7976931348623158e308", "4.9406564584124654e-324",
        "123456789012345678", "1234567890123456789", "9.999999999999999e22",
        "1e23", "8.98846567431158e307", "3.14159265358979323",
        "7.2057594037927933e16", "1.00000000000000011102230246251565",
        "0.000000000000000000000000000000000000001", "1e-342", "1e308",
        "-123.456e-7", "2.5e-1", "6.02214076e23", "1.602176634e-19",
    };
    size_t accepted = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        accepted += (size_t)same_as_strtod(cases[i]);
    /* most of them are ordinary enough for the fast path */
    assert_true(accepted >= 25);
}

static void test_rejects_non_numbers(void **state)
{
    (void)state;
    static const char *const cases[] = {"", "-", "+", ".", "e5", "-.e1",
                                        "1e", "1e+", "abc", " 1"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v;
        const char *stop;
        assert_int_equal(em_decimal_scan(cases[i], cases[i] + strlen(cases[i]),
                                         &v, &stop),
                         0);
    }
}

/* A random decimal: up to 25 digits, a point anywhere, and an exponent
 * near zero, anywhere in the double range, or absent; or a random double
 * printed with 1 to 17 digits. */
static void random_decimal(uint64_t *rs, char *buf)
{
    char *p = buf;
    if (rng_next(rs) % 2)
        *p++ = '-';
    if (rng_next(rs) % 4 == 0) {
        double v;
        uint64_t bits = rng_next(rs);
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            v = 1.0 / 3.0;
        sprintf(p, "%.*g", (int)(1 + rng_next(rs) % 17), fabs(v));
        return;
    }
    int nd = 1 + (int)(rng_next(rs) % 25), dot = (int)(rng_next(rs) % 27);
    for (int k = 0; k < nd; k++) {
        if (k == dot)
            *p++ = '.';
        *p++ = (char)('0' + rng_next(rs) % 10);
    }
    switch (rng_next(rs) % 3) {
    case 0: sprintf(p, "e%d", (int)(rng_next(rs) % 41) - 20); break;
    case 1: sprintf(p, "e%d", (int)(rng_next(rs) % 700) - 350); break;
    default: *p = '\0';
    }
}

static void test_random_strings(void **state)
{
    (void)state;
    uint64_t rs = 0x9E3779B97F4A7C15u;
    char buf[96];
    size_t accepted = 0;
    for (size_t i = 0; i < RANDOM_STRINGS; i++) {
        random_decimal(&rs, buf);
        accepted += (size_t)same_as_strtod(buf);
    }
    /* The fast path must carry most of the work, or it is not one. */
    assert_true(accepted > RANDOM_STRINGS / 2);
}

/* Every 17-digit rendering of random doubles (what %.17g writes) is
 * decided without strtod, and exactly. */
static void test_round_trip_17_digits(void **state)
{
    (void)state;
    uint64_t rs = 42;
    char buf[64];
    size_t accepted = 0, n = 200000;
    for (size_t i = 0; i < n; i++) {
        double v = (unif(&rs) - 0.5) * pow(10, (double)below(&rs, 40) - 20);
        snprintf(buf, sizeof buf, "%.17g", v);
        accepted += (size_t)same_as_strtod(buf);
    }
    assert_true(accepted > n * 99 / 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hard_cases),
        cmocka_unit_test(test_rejects_non_numbers),
        cmocka_unit_test(test_random_strings),
        cmocka_unit_test(test_round_trip_17_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
