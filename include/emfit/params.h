/* Setting a model's parameters by name: from "name=value" lists given on
 * the command line, and from the "params" object of a JSON result file. */
#ifndef EMFIT_PARAMS_H
#define EMFIT_PARAMS_H

#include "emfit/error.h"
#include "emfit/json.h"
#include "emfit/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets theta entries from spec, "name=value[,name=value...]".  Names not
 * mentioned keep their value.  An unknown name, a name given twice, or a
 * value that is not a finite number is EM_ERR_ARG. */
em_status em_params_assign(const em_model *m, const char *spec, double *theta,
                           em_error *err);

/* Sets mask[i] = 1 for each parameter named in spec, "name[,name...]",
 * and 0 for the others.  A name that is no parameter's names a group:
 * "start" every parameter start_..., "trans_1" every trans_1_..., and
 * "NAME*" every parameter with that prefix.  An unknown name or a
 * parameter named twice (not by groups) is EM_ERR_ARG. */
em_status em_params_mask(const em_model *m, const char *spec,
                         unsigned char *mask, em_error *err);

/* Fills cols with the indices of the parameters spec names, in its order:
 * "name[,name...]", where a name ending in '*' matches every parameter
 * with that prefix (e.g. "w*,mean1_*").  *n gets the count; cols needs
 * room for nparams.  A parameter matched twice appears once; a name that
 * matches nothing is EM_ERR_ARG. */
em_status em_params_select(const em_model *m, const char *spec, size_t *cols,
                           size_t *n, em_error *err);

/* Sets theta entries from doc: its "params" member when it has one (a result
 * written by --result), else doc itself; either must be an object of
 * numbers keyed by parameter name.  Names not mentioned keep their value.
 * Unknown names, non-numbers and values outside the parameter space are
 * EM_ERR_PARSE at the offending value, file name from name. */
em_status em_params_from_json(const em_model *m, const em_json *doc,
                              const char *name, double *theta, em_error *err);

#ifdef __cplusplus
}
#endif

#endif
