#include "emfit/table.h"

#include <stdlib.h>
#include <sys/mman.h>

void em_table_free(em_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; t->names && j < t->ncols; j++)
        free(t->names[j]);
    free(t->names);
    for (size_t j = 0; t->levels && j < t->ncols; j++) {
        for (size_t s = 0; t->levels[j] && s < t->nlevels[j]; s++)
            free(t->levels[j][s]);
        free(t->levels[j]);
    }
    free(t->levels);
    free(t->nlevels);
    if (t->map) {
        munmap(t->map, t->map_len);
    } else {
        free(t->values);
        free(t->lines);
    }
    free(t->source);
    *t = (em_table){0};
}
