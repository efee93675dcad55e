/* The parts of the command line shared between its files (internal). */
#ifndef EMFIT_CLI_H
#define EMFIT_CLI_H

#include "cli/options.h"

/* The outcome of --restarts or a range for -k. */
typedef struct search_result {
    em_search_row *rows;
    size_t nrows, best;
} search_result;

/* Runs the restarts and the -k range; *chosen gets the k and seed of the
 * best fit, which the traced fit then repeats exactly.  sr->rows is the
 * caller's to free. */
em_status cli_choose_fit(const cli_options *opt, const em_model_type *type,
                         const em_table *data, cli_options *chosen,
                         search_result *sr, em_error *err);

/* Writes --result for the fit (sr may hold no rows). */
em_status cli_write_result(const cli_options *opt, const em_model *m,
                           const em_table *data, const double *theta,
                           const unsigned char *fixed,
                           const em_fit_result *res, const search_result *sr,
                           em_error *err);

/* Refuses, before any fit, per-row outputs the model cannot give. */
em_status cli_check_row_outputs(const cli_options *opt, const em_model *m,
                                em_error *err);

/* Writes --labels, --responsibilities and --impute after a fit. */
em_status cli_write_row_outputs(const cli_options *opt, em_model *m,
                                const em_table *data, const double *theta,
                                em_error *err);

#endif
