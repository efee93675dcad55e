/* One SQUAREM iteration for the driver (internal; the method is described
 * at em_accel in emfit/driver.h).
 *
 * The driver keeps the invariant "the model is prepared at theta and stats
 * holds the E-step at theta"; em_squarem_step moves theta to the next
 * accepted point and restores the invariant there, so the driver's next
 * iteration needs no E-step of its own. */
#ifndef EMFIT_SQUAREM_H
#define EMFIT_SQUAREM_H

#include <stddef.h>

#include "emfit/driver.h"

/* The driver's E-step and checked M-step, as SQUAREM uses them.  estep
 * prepares the model at theta and sums all units into stats (counting one
 * E-step); mstep writes the EM step from (theta, stats) into next, with
 * loss the fall in log-likelihood the step may cause (>= 0). */
typedef struct em_squarem_ops {
    void *ctx;
    em_status (*estep)(void *ctx, const double *theta, double *stats,
                       em_error *err);
    em_status (*mstep)(void *ctx, const double *stats, const double *theta,
                       double *next, double *loss, em_error *err);
} em_squarem_ops;

typedef struct em_squarem {
    em_model *m;
    const unsigned char *fixed;
    em_squarem_ops ops;
    size_t nparams, nstats; /* nstats: the whole statistics vector */
    double step_max;        /* a_max, the largest |step length| allowed */
    double *buf;            /* everything below, in one allocation */
    double *th1, *th2, *the, *ths; /* EM, EM, extrapolated, stabilised */
    double *st1, *st2, *ste, *sts;
    double *u0, *u1, *u2, *ue;
} em_squarem;

/* Allocates the workspace; EM_ERR_ARG when the model has no to_free. */
em_status em_squarem_init(em_squarem *sq, em_model *m,
                          const unsigned char *fixed, em_squarem_ops ops,
                          em_error *err);

void em_squarem_free(em_squarem *sq);

/* From theta with stats (its E-step), to the next accepted point: theta
 * and stats are overwritten, and *loss is what the monotone check may
 * allow (0 for an extrapolated point, which is accepted only when its
 * log-likelihood is not below theta's; the two EM steps' allowances when
 * it falls back to them). */
em_status em_squarem_step(em_squarem *sq, double *theta, double *stats,
                          double *loss, em_error *err);

#endif
