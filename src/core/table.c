#include "emfit/table.h"

#include <stdlib.h>

void em_table_free(em_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; t->names && j < t->ncols; j++)
        free(t->names[j]);
    free(t->names);
    free(t->values);
    free(t->lines);
    free(t->source);
    *t = (em_table){0};
}
