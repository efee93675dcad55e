/* libFuzzer harness for a whole in-process fit, as the CLI runs it:
 * CSV -> model -> init -> em_fit.
 *
 * Byte 0 picks the model and its settings:
 *   bits 0-1  model: bvn, three-coin, mixed-normal, gmm
 *   bits 2-3  gmm: k - 1 (k = 1..4)
 *   bits 4-5  gmm: covariance full, diag, spherical, tied
 *   bit  6    gmm: reg 1e-6 (0) or 0 (1)
 *   bit  7    a variant: gmm --init random, bvn --estep mean,
 *             mixed-normal --free-sigma (three-coin has none)
 * byte 1 is the seed of init; the rest is CSV text (every column).
 * Inputs that cannot be read or modelled are skipped; a fit must end in
 * EM_OK with finite results inside the parameter space, or in one of the
 * errors data can legitimately cause.  EM_ERR_BUG (the log-likelihood
 * fell) and EM_ERR_NOMEM (on inputs this small) abort so that the fuzzer
 * reports them. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emfit/csv.h"
#include "emfit/driver.h"
#include "emfit/model.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[4] = {"bvn", "three-coin", "mixed-normal",
                                         "gmm"};
    static const char *const covs[4] = {"full", "diag", "spherical", "tied"};
    if (size < 2 || size > 4096)
        return 0;
    unsigned sel = data[0];
    const em_model_type *type = em_model_find(names[sel & 3]);
    CHECK(type != NULL);
    int variant = (sel >> 7) & 1;
    em_model_config cfg = {0};
    if (type == em_model_find("gmm")) {
        cfg.k = ((sel >> 2) & 3) + 1;
        cfg.cov = covs[(sel >> 4) & 3];
        cfg.has_reg = 1;
        cfg.reg = (sel >> 6) & 1 ? 0.0 : 1e-6;
        cfg.init = variant ? "random" : "kmeans++";
    } else if (type == em_model_find("bvn")) {
        cfg.estep = variant ? "mean" : "full";
    } else if (type == em_model_find("mixed-normal")) {
        cfg.free_sigma = variant;
    }

    em_table t = {0};
    em_model m = {0};
    em_error err;
    if (em_csv_read_buffer((const char *)data + 2, size - 2, "fuzz.csv", NULL,
                           &t, &err) != EM_OK)
        goto done;
    /* A fit costs O(k d^3) per iteration: wide tables are slow, not wrong,
     * and would only make the fuzzer report timeouts. */
    if (t.ncols > 16)
        goto done;
    if (em_model_create(type, &cfg, &t, &m, &err) != EM_OK)
        goto done;
    fuzz_fit_model(&m, data[1], 1);
done:
    em_model_free(&m);
    em_table_free(&t);
    return 0;
}
