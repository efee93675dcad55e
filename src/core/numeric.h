/* Small numerical helpers shared by the models (internal). */
#ifndef EMFIT_NUMERIC_H
#define EMFIT_NUMERIC_H

#include <math.h>

/* log(2 pi) */
#define EM_LOG_2PI 1.8378770664093454836

/* log(exp(a) + exp(b)) without overflow or underflow; -inf when both are
 * -inf. */
static inline double em_logaddexp(double a, double b)
{
    double m = a > b ? a : b;
    if (m == -INFINITY)
        return -INFINITY;
    return m + log(exp(a - m) + exp(b - m));
}

/* x log(y), taken as 0 when x is 0 (so a probability of 0 for an event seen
 * 0 times contributes nothing rather than 0 * -inf = NaN). */
static inline double em_xlogy(double x, double y)
{
    return x == 0 ? 0.0 : x * log(y);
}

#endif
