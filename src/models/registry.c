#include "emfit/driver.h"
#include "emfit/model.h"

#include <string.h>

#include "models/models.h"

static const em_model_type *const registry[] = {
    &em_model_bvn,
    &em_model_mvn,
    &em_model_gmm,
    &em_model_three_coin,
    &em_model_mixed_normal,
    &em_model_pairing,
    &em_model_hmm,
    NULL,
};

const em_model_type *const *em_model_types(void)
{
    return registry;
}

const em_model_type *em_model_find(const char *name)
{
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int em_model_accepts(const em_model_type *type, const char *option)
{
    for (size_t i = 0; type->options && type->options[i]; i++)
        if (strcmp(type->options[i], option) == 0)
            return 1;
    return 0;
}

em_status em_model_create(const em_model_type *type, const em_model_config *cfg,
                          const em_table *data, em_model *m, em_error *err)
{
    *m = (em_model){.type = type, .parts = data->parts};
    if (data->parts && !type->distributable)
        return em_error_set(err, EM_ERR_ARG,
                            "the %s model cannot fit data split across "
                            "processes",
                            type->name);
    if (data->parts && data->parts->row0 % EM_BLOCK_UNITS != 0)
        return em_error_set(err, EM_ERR_BUG,
                            "a part of the data starts at row %zu, inside "
                            "an E-step block",
                            data->parts->row0);
    em_status st = type->create(cfg, data, &m->state, &m->info, err);
    if (st != EM_OK)
        *m = (em_model){0};
    return st;
}

void em_model_free(em_model *m)
{
    if (m && m->type && m->state)
        m->type->destroy(m->state);
    if (m)
        *m = (em_model){0};
}

size_t em_model_total_units(const em_model *m)
{
    return m->parts ? m->parts->total : m->info.nunits;
}

size_t em_model_param_index(const em_model *m, const char *name)
{
    for (size_t i = 0; i < m->info.nparams; i++)
        if (strcmp(m->info.param_names[i], name) == 0)
            return i;
    return (size_t)-1;
}
