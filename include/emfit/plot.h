/* Pictures of a fit as one self-contained SVG file: no scripts, fonts or
 * links, so it opens in any browser and can be mailed or checked in.
 *
 * The picture holds, as far as the model and the data allow:
 *   - the log-likelihood against the iteration;
 *   - each traced parameter against the iteration, as small multiples
 *     (at most EM_PLOT_MAX_PANELS; a line says how many were left out);
 *   - for two-dimensional data and a model with components2d (bvn, gmm
 *     with two columns), the rows as a scatter plot with the ellipses at 1
 *     and 2 standard deviations of each normal component; a row missing
 *     one coordinate is drawn at its imputed position with its own marker,
 *     a row missing both is left out, and more than EM_PLOT_MAX_POINTS
 *     rows are thinned to every k-th row;
 *   - for one-dimensional data and a model with density1d (mixed-normal,
 *     gmm with one column), a histogram of the observed values with the
 *     fitted density over it, on the density scale.
 */
#ifndef EMFIT_PLOT_H
#define EMFIT_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "emfit/error.h"
#include "emfit/model.h"
#include "emfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parameter panels drawn at most; --trace-params chooses which. */
#define EM_PLOT_MAX_PANELS 24

/* Rows drawn at most in a scatter plot. */
#define EM_PLOT_MAX_POINTS 3000

/* Normal components drawn at most in a scatter plot. */
#define EM_PLOT_MAX_COMPONENTS 64

typedef struct em_plot_trace {
    size_t nrows;          /* rows recorded: the start, then each iteration */
    const double *loglik;  /* nrows values */
    const double *params;  /* nrows x nparams, row-major */
    const size_t *cols;    /* parameters to draw (NULL = all) */
    size_t ncols;
} em_plot_trace;

/* Writes a self-contained SVG of the fit of m to data at theta.  data must
 * be the table m was created for.  Calls m's prepare at theta itself (for
 * the imputed positions), so m's state is left prepared at theta.  trace
 * may be NULL or empty: then the picture has only the data panel.  A
 * failed write is EM_ERR_IO, a prepare failure its own status, and a bad
 * argument (a column index out of range) EM_ERR_ARG. */
em_status em_plot_svg(FILE *f, const em_model *m, const em_table *data,
                      const double *theta, const em_plot_trace *trace,
                      em_error *err);

#ifdef __cplusplus
}
#endif

#endif
