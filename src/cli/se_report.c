/* --se: the standard errors of a fit, and their table on stderr. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* name, estimate, se; one piece, so that fits running at once do not
 * interleave their lines. */
static void print_table(const em_model *m, const double *theta,
                        const double *se)
{
    int w = 9; /* "parameter" */
    for (size_t i = 0; i < m->info.nparams; i++) {
        size_t n = strlen(m->info.param_names[i]);
        if (n > (size_t)w)
            w = n > 60 ? 60 : (int)n;
    }
    cli_terminal_hold();
    fprintf(stderr, "emfit: standard errors from the observed information:\n");
    fprintf(stderr, "  %-*s %15s %15s\n", w, "parameter", "estimate", "se");
    for (size_t i = 0; i < m->info.nparams; i++) {
        fprintf(stderr, "  %-*s %15.8g ", w, m->info.param_names[i],
                theta[i]);
        if (isnan(se[i]))
            fprintf(stderr, "%15s\n", "(fixed)");
        else
            fprintf(stderr, "%15.6g\n", se[i]);
    }
    cli_terminal_release();
}

em_status cli_standard_errors(const cli_options *opt, em_model *m,
                              const double *theta, const unsigned char *fixed,
                              double *se, int *have, em_error *err)
{
    em_error why;
    em_status st = em_standard_errors(m, theta, fixed, opt->threads, se, &why);
    *have = st == EM_OK;
    if (st == EM_ERR_NUMERIC) { /* the fit stands; only its se do not */
        cli_note(opt, "%s", why.msg);
        return EM_OK;
    }
    if (st != EM_OK) {
        *err = why;
        return st;
    }
    if (!opt->quiet && !opt->batch)
        print_table(m, theta, se);
    return EM_OK;
}
