/* Fitting through the library instead of the command line: a bivariate
 * normal on 8 rows held in memory, the last 3 missing y.
 *
 *   cc -std=c11 fit_bvn.c $(pkg-config --cflags --libs emfit) -o fit_bvn
 *
 * For this pattern (only y missing) the maximum-likelihood mu2 has a
 * closed form: the mean of y over the complete rows plus their regression
 * slope times the shift in the mean of x, 3.12 + 1.01 * (4.5 - 3) = 4.635.
 * tests/e2e/test_install.sh builds this file against an installed emfit.
 */
#include <math.h>
#include <stdio.h>

#include <emfit/emfit.h>

int main(void)
{
    static char *names[] = {"x", "y"};
    /* Row-major, NAN for a missing value, as the CSV reader would give. */
    double values[16] = {1, 1.2, 2, 1.9, 3, 3.4, 4, 3.8,
                         5, 5.3, 6, NAN, 7, NAN, 8, NAN};
    em_table data = {.nrows = 8, .ncols = 2, .names = names, .values = values};
    em_model_config cfg = {0}; /* every model option at its default */
    em_model m = {0};
    em_fit_options opt;
    em_fit_result res;
    em_error err;
    double theta[5]; /* mu1, mu2, s1, s2, rho */

    em_status st = em_model_create(em_model_find("bvn"), &cfg, &data, &m, &err);
    if (st == EM_OK)
        st = m.type->init(m.state, 1, theta, &err);
    if (st == EM_OK) {
        em_fit_options_default(&opt);
        opt.tol = 1e-15; /* enough digits for the closed form */
        st = em_fit(&m, theta, &opt, &res, &err);
    }
    em_model_free(&m);
    if (st != EM_OK) {
        char msg[EM_ERROR_FILE_MAX + EM_ERROR_MSG_MAX + 64];
        em_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "fit_bvn: %s: %s\n", em_status_name(st), msg);
        return 1;
    }
    printf("emfit %s bvn n=%zu mu2=%.6f loglik=%.6f converged=%d\n",
           em_version(), res.nobs, theta[1], res.loglik, res.converged);
    return 0;
}
