/* libFuzzer harness for whole fits of the models that read their input
 * differently from fuzz_fit's: mvn, hmm (rows in sequence, text symbols)
 * and pairing (text symbols).
 *
 * Byte 0 picks the model and its settings:
 *   bits 0-1  model: mvn, hmm gaussian, hmm categorical, pairing
 *   bits 2-3  hmm: k - 1 (k = 1..4)
 *   bits 4-5  hmm gaussian: covariance full, diag, spherical, tied
 *   bit  6    hmm: the first column is a sequence id
 *   bit  7    a variant: mvn --estep mean, hmm --init random
 * byte 1 is the seed of init; the rest is CSV text.
 * As in fuzz_fit, a fit must end in EM_OK with finite results inside the
 * parameter space, or in an error data can legitimately cause. */
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

/* The model, its settings and how the CSV is read, from byte 0. */
static const em_model_type *choose(unsigned sel, em_model_config *cfg,
                                   em_csv_options *csv)
{
    static const char *const covs[4] = {"full", "diag", "spherical", "tied"};
    int variant = (sel >> 7) & 1;
    *cfg = (em_model_config){0};
    *csv = (em_csv_options){.delimiter = ','};
    switch (sel & 3) {
    case 0:
        cfg->estep = variant ? "mean" : "full";
        return em_model_find("mvn");
    case 3:
        csv->symbols = "*";
        return em_model_find("pairing");
    }
    cfg->k = ((sel >> 2) & 3) + 1;
    cfg->init = variant ? "random" : "kmeans++";
    cfg->has_reg = 1;
    cfg->reg = 1e-6;
    if ((sel & 3) == 1) {
        cfg->emission = "gaussian";
        cfg->cov = covs[(sel >> 4) & 3];
        csv->symbols = (sel >> 6) & 1 ? "1" : NULL;
    } else {
        cfg->emission = "categorical";
        csv->symbols = "*";
    }
    cfg->sequence_col = (sel >> 6) & 1;
    return em_model_find("hmm");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    em_model_config cfg;
    em_csv_options csv;
    const em_model_type *type = choose(data[0], &cfg, &csv);
    CHECK(type != NULL);
    em_table t = {0};
    em_model m = {0};
    em_error err;
    if (em_csv_read_buffer((const char *)data + 2, size - 2, "fuzz.csv", &csv,
                           &t, &err) != EM_OK)
        goto done;
    /* wide tables are slow, not wrong: the fuzzer would report timeouts */
    if (t.ncols > 16 || (cfg.sequence_col && t.ncols < 2))
        goto done;
    em_status st = em_model_create(type, &cfg, &t, &m, &err);
    if (st != EM_OK) {
        fuzz_check_error("create", &err);
        goto done;
    }
    fuzz_fit_model(&m, data[1], 0);
done:
    em_model_free(&m);
    em_table_free(&t);
    return 0;
}
