/* SQUAREM (Varadhan and Roland, 2008), step length S3, in the model's
 * unconstrained coordinates; see em_accel in emfit/driver.h. */
#include "em/squarem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The step-length bound starts at 1 (a plain double EM step) and moves by
 * this factor, as in the SQUAREM package's defaults. */
#define STEP_FACTOR 4.0

em_status em_squarem_init(em_squarem *sq, em_model *m,
                          const unsigned char *fixed, em_squarem_ops ops,
                          em_error *err)
{
    *sq = (em_squarem){.m = m, .fixed = fixed, .ops = ops, .step_max = 1.0};
    if (!m->type->to_free || !m->type->from_free)
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model has no unconstrained "
                            "parameterisation, so it cannot be accelerated",
                            m->type->name);
    if (!m->info.monotone)
        return em_error_set(err, EM_ERR_ARG,
                            "--accel squarem needs a true EM fit, and this "
                            "%s fit is not one",
                            m->type->name);
    size_t np = m->info.nparams ? m->info.nparams : 1;
    size_t ns = EM_STAT_HEADER + m->info.nstats;
    sq->nparams = m->info.nparams;
    sq->nstats = ns;
    size_t lim = SIZE_MAX / sizeof(double) / 16;
    if (np > lim || ns > lim ||
        !(sq->buf = malloc((8 * np + 4 * ns) * sizeof *sq->buf)))
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    double *p = sq->buf;
    double **vec[] = {&sq->th1, &sq->th2, &sq->the, &sq->ths,
                      &sq->u0,  &sq->u1,  &sq->u2,  &sq->ue};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++, p += np)
        *vec[i] = p;
    double **st[] = {&sq->st1, &sq->st2, &sq->ste, &sq->sts};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++, p += ns)
        *st[i] = p;
    return EM_OK;
}

void em_squarem_free(em_squarem *sq)
{
    free(sq->buf);
    sq->buf = NULL;
}

/* Statuses that end the fit even inside an extrapolation attempt; the
 * others (a point outside the space, a singular covariance) only reject
 * the attempt. */
static int fatal(em_status st)
{
    return st == EM_ERR_NOMEM || st == EM_ERR_BUG || st == EM_ERR_IO;
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* One EM step from (theta, stats) to (next, next_stats). */
static em_status em_step(em_squarem *sq, const double *theta,
                         const double *stats, double *next, double *next_stats,
                         double *loss, em_error *err)
{
    em_status st = sq->ops.mstep(sq->ops.ctx, stats, theta, next, loss, err);
    if (st == EM_OK)
        st = sq->ops.estep(sq->ops.ctx, next, next_stats, err);
    return st;
}

/* The S3 step length -|r| / |v|, clamped to [-step_max, -1]; 0 when there
 * is nothing to extrapolate (v = 0, or coordinates not finite). */
static double step_length(const em_squarem *sq, size_t nu)
{
    double rr = 0, vv = 0;
    for (size_t i = 0; i < nu; i++) {
        double r = sq->u1[i] - sq->u0[i];
        double v = sq->u2[i] - 2.0 * sq->u1[i] + sq->u0[i];
        rr += r * r, vv += v * v;
    }
    if (!(vv > 0) || !isfinite(rr) || !isfinite(vv))
        return 0;
    double a = -sqrt(rr) / sqrt(vv);
    return a > -1.0 ? -1.0 : a < -sq->step_max ? -sq->step_max : a;
}

/* Extrapolates to u0 - 2 a r + a^2 v, maps it back, stabilises it with an
 * EM step and evaluates it into ths / sts.  1 when that point is inside
 * the space and its log-likelihood is finite and not below l0. */
static int try_extrapolation(em_squarem *sq, const double *theta, double l0,
                             size_t nu, double a, em_status *fatal_st,
                             em_error *err)
{
    em_error scratch;
    em_status st;
    size_t bad;
    double loss;
    for (size_t i = 0; i < nu; i++) {
        double r = sq->u1[i] - sq->u0[i];
        double v = sq->u2[i] - 2.0 * sq->u1[i] + sq->u0[i];
        sq->ue[i] = sq->u0[i] - 2.0 * a * r + a * a * v;
    }
    memcpy(sq->the, theta, sq->nparams * sizeof *theta);
    sq->m->type->from_free(sq->m->state, sq->ue, sq->fixed, sq->the);
    if (sq->m->type->check(sq->m->state, sq->the, &bad, &scratch) != EM_OK)
        return 0;
    st = sq->ops.estep(sq->ops.ctx, sq->the, sq->ste, &scratch);
    if (st == EM_OK && !isfinite(sq->ste[EM_STAT_LOGLIK]))
        return 0;
    if (st == EM_OK)
        st = em_step(sq, sq->the, sq->ste, sq->ths, sq->sts, &loss, &scratch);
    if (st != EM_OK) {
        if (fatal(st)) {
            *err = scratch;
            *fatal_st = st;
        }
        return 0;
    }
    return sq->sts[EM_STAT_LOGLIK] >= l0; /* false for NaN too */
}

em_status em_squarem_step(em_squarem *sq, double *theta, double *stats,
                          double *loss, em_error *err)
{
    const em_model_type *t = sq->m->type;
    double l0 = stats[EM_STAT_LOGLIK], loss1, loss2;
    size_t np = sq->nparams, ns = sq->nstats * sizeof *stats;
    em_status st = em_step(sq, theta, stats, sq->th1, sq->st1, &loss1, err);
    if (st == EM_OK && isfinite(sq->st1[EM_STAT_LOGLIK]))
        st = em_step(sq, sq->th1, sq->st1, sq->th2, sq->st2, &loss2, err);
    else if (st == EM_OK) { /* the driver reports the broken point */
        memcpy(theta, sq->th1, np * sizeof *theta);
        memcpy(stats, sq->st1, ns);
        *loss = loss1;
        return EM_OK;
    }
    if (st != EM_OK)
        return st;
    size_t nu = t->to_free(sq->m->state, theta, sq->fixed, sq->u0);
    t->to_free(sq->m->state, sq->th1, sq->fixed, sq->u1);
    t->to_free(sq->m->state, sq->th2, sq->fixed, sq->u2);
    int finite = isfinite(sq->st2[EM_STAT_LOGLIK]) &&
                 all_finite(sq->u0, nu) && all_finite(sq->u1, nu) &&
                 all_finite(sq->u2, nu);
    double a = finite ? step_length(sq, nu) : 0;
    int at_max = a != 0 && a == -sq->step_max;
    em_status fatal_st = EM_OK;
    /* a = -1 lands on u2 itself: nothing to try */
    if (a < -1.0 &&
        try_extrapolation(sq, theta, l0, nu, a, &fatal_st, err)) {
        memcpy(theta, sq->ths, np * sizeof *theta);
        memcpy(stats, sq->sts, ns);
        *loss = 0;
        if (at_max)
            sq->step_max *= STEP_FACTOR;
        return EM_OK;
    }
    if (fatal_st != EM_OK)
        return fatal_st;
    if (a < -1.0 && at_max)
        sq->step_max = fmax(1.0, sq->step_max / STEP_FACTOR);
    else if (at_max) /* a = -1 = -step_max: room to grow */
        sq->step_max *= STEP_FACTOR;
    memcpy(theta, sq->th2, np * sizeof *theta);
    memcpy(stats, sq->st2, ns);
    *loss = loss1 + loss2;
    /* the model is prepared at the last point tried; the next M-step
     * reads what prepare left, so prepare it at u2 again */
    return a < -1.0 ? t->prepare(sq->m->state, theta, err) : EM_OK;
}
