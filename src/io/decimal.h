/* Fast, exact conversion of decimal text to double (internal).
 *
 * The CSV reader spends most of its time turning digits into doubles;
 * strtod is exact but slow.  em_decimal_scan converts the common forms
 * itself and gives up (returns 0) whenever it cannot prove its answer is
 * the correctly rounded one, so the caller falls back to strtod and every
 * value read is bit for bit what strtod returns.
 */
#ifndef EMFIT_DECIMAL_H
#define EMFIT_DECIMAL_H

#include <stddef.h>

/* Scans [+-]?(D+[.D*]|.D+)([eE][+-]?D+)? starting at s, reading no byte at
 * or past end.  Returns 1 with *out the correctly rounded double and *stop
 * just past the number; returns 0 when s does not start with that form or
 * when the value needs strtod (more than 19 significant digits, a result
 * outside the normal doubles, or too near a rounding tie to decide here).
 * *stop may be anything after a 0. */
int em_decimal_scan(const char *s, const char *end, double *out,
                    const char **stop);

#endif
