/* A guard against data double precision cannot fit (internal). */
#ifndef EMFIT_SCALE_H
#define EMFIT_SCALE_H

#include "emfit/error.h"
#include "emfit/table.h"

/* Values beyond this have squares that overflow a double. */
#define EM_MAX_ABS_VALUE 1e150
/* A column whose values all lie this close to their median has squared
 * deviations that underflow a double. */
#define EM_MIN_SPREAD 1e-150
/* A value this many spreads (median absolute deviations) from its column's
 * median cannot share sums with the others without losing them. */
#define EM_MAX_SPREADS 1e12

/* EM_ERR_DATA, naming the column and line, when a column holds a value
 * whose square overflows, or one so far from the rest that sums of both
 * lose the rest to rounding; naming the column, when its values vary so
 * little that their squared deviations underflow; EM_ERR_NOMEM if scratch
 * cannot be had. */
em_status em_check_scale(const em_table *t, em_error *err);

#endif
