/* Shared by the fuzz harnesses. */
#ifndef EMFIT_FUZZ_H
#define EMFIT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include "emfit/error.h"

/* A broken invariant aborts, which libFuzzer reports as a crash with the
 * input that caused it (abort is for harnesses only, never the library). */
#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                    \
            abort();                                                     \
        }                                                                \
    } while (0)

/* Errors well-formed but awkward data may cause in a fit; the rest are
 * bugs. */
static inline int fuzz_expected_error(em_status st)
{
    return st == EM_ERR_DATA || st == EM_ERR_NUMERIC || st == EM_ERR_ARG;
}

/* Checks that a failed step of a fit (what) failed in an expected way,
 * printing the error first when it did not. */
static inline void fuzz_check_error(const char *what, const em_error *err)
{
    if (!fuzz_expected_error(err->status)) {
        char buf[EM_ERROR_FILE_MAX + EM_ERROR_MSG_MAX + 64];
        em_error_format(err, buf, sizeof buf);
        fprintf(stderr, "%s: %s: %s\n", what, em_status_name(err->status),
                buf);
    }
    CHECK(fuzz_expected_error(err->status));
}

#endif
