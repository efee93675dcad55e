/* Shared by the fuzz harnesses. */
#ifndef EMFIT_FUZZ_H
#define EMFIT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

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

#endif
