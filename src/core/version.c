#include "emfit/emfit.h"

const char *em_version(void)
{
    return EMFIT_VERSION;
}
