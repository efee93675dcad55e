/* Standard errors from the observed information (see em_covariance in
 * emfit/driver.h).
 *
 * The Hessian of l(u) = log-likelihood(from_free(u)) is taken by central
 * differences at three step sizes h, h/2, h/4 and Richardson-extrapolated
 * twice, which removes the h^2 and h^4 error terms.  Off the diagonal it
 * uses
 *   H_ij ~ [l(u + a_i + a_j) + l(u - a_i - a_j) - l(u + a_i) - l(u - a_i)
 *           - l(u + a_j) - l(u - a_j) + 2 l(u)] / (2 h_i h_j),
 * (a_i = h_i e_i), which reuses the diagonal's evaluations, so a level
 * costs nu^2 + nu + 1 log-likelihoods instead of 2 nu^2.
 *
 * Step sizes: a step relative to max(|u_i|, 1) alone fails for a mean far
 * from 0 (u = 1e4 with a spread of 1 would step 100 spreads), so a pilot
 * second difference first measures the scale on which l curves,
 * s_i = sqrt(n / -H_ii) (a spread for a mean, O(1) for a log standard
 * deviation), and h_i = STEP * min(s_i, max(|u_i|, 1)).  With STEP = 0.05
 * the truncation left after extrapolation is about STEP^6 relative and the
 * rounding about 1e-11 relative.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "emfit/driver.h"

#define STEP 0.05
#define PILOT_STEP 1e-4
#define LEVELS 3
/* A step of the Jacobian of from_free, relative to max(|u|, 1). */
#define JAC_STEP 1e-3
/* Beyond this condition number of the information scaled to unit
 * diagonal, its smallest eigenvalues are differencing noise. */
#define MAX_CONDITION 1e9

typedef struct hess {
    em_model *m;
    const unsigned char *fixed;
    size_t threads, nu, np;
    const double *theta; /* the fit */
    double *th;          /* np: scratch parameters */
    double *u0, *u;      /* nu: the fit's coordinates, scratch */
    double *h;           /* nu: the level's steps */
    double *fp, *fm;     /* nu: l(u0 + h_i e_i), l(u0 - h_i e_i) */
    double f0;
} hess;

/* l at u (already holding the perturbed coordinates). */
static em_status eval(hess *e, const double *u, double *f, em_error *err)
{
    size_t bad;
    memcpy(e->th, e->theta, e->np * sizeof *e->th);
    e->m->type->from_free(e->m->state, u, e->fixed, e->th);
    if (e->m->type->check(e->m->state, e->th, &bad, NULL) != EM_OK)
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the fit lies too close to the edge of the "
                            "parameter space (%s) for a numerical Hessian: "
                            "no standard errors",
                            e->m->info.param_names[bad]);
    em_status st = em_loglik(e->m, e->th, e->threads, f, err);
    if (st == EM_OK && !isfinite(*f))
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the log-likelihood is not finite next to the "
                            "fit: no standard errors");
    return st;
}

/* l(u0 + s_i h_i e_i + s_j h_j e_j); j = nu for none. */
static em_status eval_at(hess *e, size_t i, double si, size_t j, double sj,
                         double *f, em_error *err)
{
    memcpy(e->u, e->u0, e->nu * sizeof *e->u);
    e->u[i] += si * e->h[i];
    if (j < e->nu)
        e->u[j] += sj * e->h[j];
    return eval(e, e->u, f, err);
}

/* The diagonal differences at the current steps into fp, fm. */
static em_status axis_evals(hess *e, em_error *err)
{
    em_status st = EM_OK;
    for (size_t i = 0; st == EM_OK && i < e->nu; i++) {
        st = eval_at(e, i, 1, e->nu, 0, &e->fp[i], err);
        if (st == EM_OK)
            st = eval_at(e, i, -1, e->nu, 0, &e->fm[i], err);
    }
    return st;
}

static double second_diff(const hess *e, size_t i)
{
    return (e->fp[i] - 2.0 * e->f0 + e->fm[i]) / (e->h[i] * e->h[i]);
}

/* The base steps, from a pilot second difference per coordinate. */
static em_status choose_steps(hess *e, double nobs, double *base,
                              em_error *err)
{
    for (size_t i = 0; i < e->nu; i++)
        e->h[i] = PILOT_STEP * fmax(fabs(e->u0[i]), 1.0);
    em_status st = axis_evals(e, err);
    for (size_t i = 0; st == EM_OK && i < e->nu; i++) {
        double d = second_diff(e, i), scale = fmax(fabs(e->u0[i]), 1.0);
        if (d < 0 && isfinite(d))
            scale = fmin(scale, sqrt(nobs / -d));
        base[i] = STEP * scale;
    }
    return st;
}

/* The Hessian at one level of steps into hl (nu x nu). */
static em_status level_hessian(hess *e, double *hl, em_error *err)
{
    size_t nu = e->nu;
    em_status st = axis_evals(e, err);
    for (size_t i = 0; st == EM_OK && i < nu; i++) {
        hl[i * nu + i] = second_diff(e, i);
        for (size_t j = 0; st == EM_OK && j < i; j++) {
            double pp = 0, mm = 0;
            st = eval_at(e, i, 1, j, 1, &pp, err);
            if (st == EM_OK)
                st = eval_at(e, i, -1, j, -1, &mm, err);
            double num = pp + mm - e->fp[i] - e->fm[i] - e->fp[j] - e->fm[j] +
                         2.0 * e->f0;
            hl[i * nu + j] = hl[j * nu + i] = num / (2.0 * e->h[i] * e->h[j]);
        }
    }
    return st;
}

/* Richardson: the levels' errors go as h^2, h^4, ...; each pass of
 * (4^k D(h/2) - D(h)) / (4^k - 1) removes one. */
static void richardson(double *lv, size_t len)
{
    for (size_t k = 1; k < LEVELS; k++) {
        double f = pow(4.0, (double)k);
        for (size_t l = 0; l + k < LEVELS; l++)
            for (size_t q = 0; q < len; q++)
                lv[l * len + q] = (f * lv[(l + 1) * len + q] -
                                   lv[l * len + q]) / (f - 1.0);
    }
}

/* The observed information -H in u, extrapolated, into info (nu x nu). */
static em_status information(hess *e, double *info, double *lv,
                             em_error *err)
{
    size_t nu = e->nu;
    double nobs = (double)(em_model_total_units(e->m) - e->m->info.nskipped);
    double *base = e->h + nu; /* h has room for 2 nu */
    em_status st = eval(e, e->u0, &e->f0, err);
    if (st == EM_OK)
        st = choose_steps(e, nobs > 0 ? nobs : 1.0, base, err);
    for (size_t l = 0; st == EM_OK && l < LEVELS; l++) {
        for (size_t i = 0; i < nu; i++)
            e->h[i] = ldexp(base[i], -(int)l);
        st = level_hessian(e, lv + l * nu * nu, err);
    }
    if (st != EM_OK)
        return st;
    richardson(lv, nu * nu);
    for (size_t i = 0; i < nu; i++)
        for (size_t j = 0; j < nu; j++)
            info[i * nu + j] = -0.5 * (lv[i * nu + j] + lv[j * nu + i]);
    return EM_OK;
}

/* from_free(u0 + s h e_j) into out (np). */
static void mapped(hess *e, size_t j, double sh, double *out)
{
    memcpy(e->u, e->u0, e->nu * sizeof *e->u);
    e->u[j] += sh;
    memcpy(out, e->theta, e->np * sizeof *out);
    e->m->type->from_free(e->m->state, e->u, e->fixed, out);
}

/* d theta / d u at u0 (np x nu) by central differences extrapolated once;
 * the maps are closed-form, so this is good to about 1e-12.  work needs
 * 2 np doubles. */
static void jacobian(hess *e, double *jac, double *work)
{
    size_t np = e->np, nu = e->nu;
    double *tp = work, *tm = work + np;
    for (size_t j = 0; j < nu; j++) {
        double h = JAC_STEP * fmax(fabs(e->u0[j]), 1.0);
        for (int l = 0; l < 2; l++) {
            double hl = ldexp(h, -l);
            mapped(e, j, hl, tp);
            mapped(e, j, -hl, tm);
            for (size_t i = 0; i < np; i++) {
                double d = (tp[i] - tm[i]) / (2.0 * hl);
                /* level 0 first, then (4 D(h/2) - D(h)) / 3 */
                jac[i * nu + j] = l == 0 ? d : (4.0 * d - jac[i * nu + j]) / 3.0;
            }
        }
    }
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Factors the information scaled to unit diagonal, info = D C D with
 * D = diag(sqrt(info_ii)), C = L L^T: L overwrites info and D goes to
 * dsc.  The scaling makes the singularity test independent of the units
 * of the coordinates. */
static em_status factor_information(double *info, size_t nu, double *dsc,
                                    double *work, em_error *err)
{
    static const char not_pd[] =
        "the information matrix is not positive definite (the fit is not a "
        "maximum, or parameters are not identified): no standard errors";
    for (size_t i = 0; i < nu; i++) {
        if (!(info[i * nu + i] > 0 && isfinite(info[i * nu + i])))
            return em_error_set(err, EM_ERR_NUMERIC, "%s", not_pd);
        dsc[i] = sqrt(info[i * nu + i]);
    }
    for (size_t i = 0; i < nu; i++)
        for (size_t j = 0; j < nu; j++)
            info[i * nu + j] /= dsc[i] * dsc[j];
    if (em_cholesky(info, nu) != 0)
        return em_error_set(err, EM_ERR_NUMERIC, "%s", not_pd);
    if (!(em_chol_condition(info, nu, work) <= MAX_CONDITION))
        return em_error_set(err, EM_ERR_NUMERIC,
                            "the information matrix is singular (parameters "
                            "not identified): no standard errors");
    return EM_OK;
}

/* cov = J info^-1 J^T = W^T W with W = L^-1 D^-1 J^T, by forward
 * substitution: no inverse is formed.  Writes cov (np x np) and se (its
 * diagonal's roots) when they are not NULL; w needs nu doubles per
 * parameter. */
static void delta_method(const hess *e, const double *l, const double *dsc,
                         const double *jac, double *w, double *cov,
                         double *se)
{
    size_t np = e->np, nu = e->nu;
    for (size_t p = 0; p < np; p++) {
        double *col = w + p * nu;
        for (size_t i = 0; i < nu; i++)
            col[i] = jac[p * nu + i] / dsc[i];
        em_chol_forward(l, nu, col);
    }
    for (size_t p = 0; p < np; p++)
        for (size_t q = cov ? 0 : p; q < (cov ? np : p + 1); q++) {
            double s = 0;
            for (size_t i = 0; i < nu; i++)
                s += w[p * nu + i] * w[q * nu + i];
            int held = e->fixed && (e->fixed[p] || e->fixed[q]);
            if (cov)
                cov[p * np + q] = held ? NAN : s;
            if (se && p == q)
                se[p] = held ? NAN : sqrt(s);
        }
}

/* The Hessian costs about 3 nu^2 E-steps. */
static em_status too_many(size_t nu, em_error *err)
{
    return em_error_set(err, EM_ERR_ARG,
                        "standard errors for %zu free parameters would take "
                        "about %zu E-steps; emfit computes them for at most "
                        "%d",
                        nu, 3 * nu * nu, EM_SE_MAX_FREE);
}

em_status em_covariance_check(const em_model *m, em_error *err)
{
    if (!m->type->to_free || !m->type->from_free)
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model does not provide standard errors",
                            m->type->name);
    if (!m->info.monotone)
        return em_error_set(err, EM_ERR_ARG,
                            "standard errors need a maximum-likelihood fit, "
                            "and this %s fit is not one",
                            m->type->name);
    if (m->info.nfree > EM_SE_MAX_FREE)
        return too_many(m->info.nfree, err);
    return EM_OK;
}

/* Everything after the coordinates are known to be finite. */
static em_status covariance_in(hess *e, double *cov, double *se, double *buf,
                               em_error *err)
{
    size_t np = e->np, nu = e->nu;
    double *info = buf, *lv = info + nu * nu, *jac = lv + LEVELS * nu * nu;
    double *w = jac + np * nu, *dsc = w + np * nu, *work = dsc + nu;
    em_status st = information(e, info, lv, err);
    if (st == EM_OK)
        st = factor_information(info, nu, dsc, work, err);
    if (st != EM_OK)
        return st;
    jacobian(e, jac, work);
    delta_method(e, info, dsc, jac, w, cov, se);
    return EM_OK;
}

/* em_covariance and em_standard_errors: either output may be NULL. */
static em_status covariance(em_model *m, const double *theta,
                            const unsigned char *fixed, size_t threads,
                            double *cov, double *se, em_error *err)
{
    size_t np = m->info.nparams, n1 = np ? np : 1;
    for (size_t i = 0; cov && i < np * np; i++)
        cov[i] = NAN;
    for (size_t i = 0; se && i < np; i++)
        se[i] = NAN;
    em_status st = em_covariance_check(m, err);
    if (st != EM_OK)
        return st;
    hess e = {.m = m, .fixed = fixed, .threads = threads, .np = np,
              .theta = theta};
    double *vec = malloc(8 * n1 * sizeof *vec), *buf = NULL;
    if (!vec)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    e.th = vec, e.u0 = vec + n1, e.u = vec + 2 * n1, e.h = vec + 3 * n1;
    e.fp = vec + 5 * n1, e.fm = vec + 6 * n1;
    e.nu = m->type->to_free(m->state, theta, fixed, e.u0);
    size_t nu = e.nu;
    if (nu > EM_SE_MAX_FREE)
        st = too_many(nu, err);
    else if (!all_finite(e.u0, nu))
        st = em_error_set(err, EM_ERR_NUMERIC,
                          "a parameter lies on the boundary of its space (a "
                          "probability or weight of 0 or 1), where the "
                          "information is not defined: no standard errors");
    else if (nu > 0) {
        size_t len = (LEVELS + 1) * nu * nu + 2 * np * nu + nu + 2 * n1;
        if (!(buf = malloc(len * sizeof *buf)))
            st = em_error_set(err, EM_ERR_NOMEM, "out of memory");
        else
            st = covariance_in(&e, cov, se, buf, err);
    }
    /* the evaluations left the model prepared next to the fit */
    int moved = nu > 0 && nu <= EM_SE_MAX_FREE;
    em_status pst = moved ? m->type->prepare(m->state, theta, NULL) : EM_OK;
    if (st == EM_OK && pst != EM_OK)
        st = em_error_set(err, pst, "cannot prepare the fitted parameters");
    if (st != EM_OK)
        for (size_t i = 0; se && i < np; i++)
            se[i] = NAN;
    free(buf);
    free(vec);
    return st;
}

em_status em_covariance(em_model *m, const double *theta,
                        const unsigned char *fixed, size_t threads,
                        double *cov, em_error *err)
{
    return covariance(m, theta, fixed, threads, cov, NULL, err);
}

em_status em_standard_errors(em_model *m, const double *theta,
                             const unsigned char *fixed, size_t threads,
                             double *se, em_error *err)
{
    return covariance(m, theta, fixed, threads, NULL, se, err);
}
