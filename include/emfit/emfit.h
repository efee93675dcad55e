/* emfit: fitting statistical models by the EM algorithm.  One include for
 * the whole library. */
#ifndef EMFIT_EMFIT_H
#define EMFIT_EMFIT_H

#include "emfit/cache.h"
#include "emfit/csv.h"
#include "emfit/driver.h"
#include "emfit/error.h"
#include "emfit/json.h"
#include "emfit/model.h"
#include "emfit/output.h"
#include "emfit/params.h"
#include "emfit/plot.h"
#include "emfit/search.h"
#include "emfit/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, e.g. "0.1.0". */
const char *em_version(void);

#ifdef __cplusplus
}
#endif

#endif
