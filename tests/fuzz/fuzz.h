/* Shared by the fuzz harnesses. */
#ifndef EMFIT_FUZZ_H
#define EMFIT_FUZZ_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "emfit/driver.h"
#include "emfit/error.h"
#include "emfit/model.h"

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

/* Starts m from seed and fits it for at most 30 iterations: the fit must
 * end in an expected error, or with finite results inside the parameter
 * space (and, with check_nobs, one observation per unit with data). */
static inline void fuzz_fit_model(em_model *m, unsigned seed, int check_nobs)
{
    em_error err;
    double *theta = calloc(m->info.nparams ? m->info.nparams : 1,
                           sizeof *theta);
    CHECK(theta != NULL);
    if (m->type->init(m->state, seed, theta, &err) != EM_OK) {
        fuzz_check_error("init", &err);
        free(theta);
        return;
    }
    em_fit_options opt;
    em_fit_options_default(&opt);
    opt.max_iter = 30;
    opt.tol = 1e-8;
    em_fit_result res;
    if (em_fit(m, theta, &opt, &res, &err) != EM_OK) {
        fuzz_check_error("em_fit", &err);
        free(theta);
        return;
    }
    CHECK(isfinite(res.loglik) && isfinite(res.aic) && isfinite(res.bic));
    CHECK(res.iterations <= opt.max_iter);
    CHECK(!check_nobs || res.nobs == m->info.nunits - m->info.nskipped);
    for (size_t i = 0; i < m->info.nparams; i++)
        CHECK(isfinite(theta[i]));
    size_t bad;
    CHECK(m->type->check(m->state, theta, &bad, &err) == EM_OK);
    free(theta);
}

#endif
