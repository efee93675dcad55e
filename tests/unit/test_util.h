/* Helpers shared by the cmocka unit tests. */
#ifndef EMFIT_TEST_UTIL_H
#define EMFIT_TEST_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
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

#endif
