/* Small string helpers (internal). */
#ifndef EMFIT_TEXT_H
#define EMFIT_TEXT_H

#include <stdlib.h>
#include <string.h>

/* A malloc'd copy of s, or NULL without memory (strdup is POSIX, not C11). */
static inline char *em_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

#endif
