/* The data panels of em_plot_svg (internal): a scatter plot with the
 * fitted normal components for two columns, a histogram with the fitted
 * density for one. */
#ifndef EMFIT_IO_PLOT_DATA_H
#define EMFIT_IO_PLOT_DATA_H

#include <stdio.h>

#include "emfit/error.h"
#include "emfit/model.h"
#include "emfit/table.h"

typedef enum em_plot_data_kind {
    EM_PLOT_DATA_NONE,
    EM_PLOT_DATA_SCATTER,
    EM_PLOT_DATA_HISTOGRAM
} em_plot_data_kind;

/* Which data panel the model and the data allow. */
em_plot_data_kind em_plot_data_kind_of(const em_model *m,
                                       const em_table *data);

/* Draws the panel of that kind into the cell (x, y, w, h).  m must be
 * prepared at theta. */
em_status em_plot_data_panel(FILE *f, em_plot_data_kind kind,
                             const em_model *m, const em_table *data,
                             const double *theta, double x, double y,
                             double w, double h, em_error *err);

/* The conditional mean of the one missing coordinate of xy (NaN there)
 * under the mixture of n two-dimensional normals (weight, mean, cov laid
 * out as components2d writes them), written into out with the observed
 * coordinate copied; NaNs when no component can explain the observed
 * value.  The scatter plot uses it for models without an impute hook. */
void em_plot_impute2(const double *weight, const double *mean,
                     const double *cov, size_t n, const double *xy,
                     double *out);

#endif
