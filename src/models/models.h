/* The model types built into the library (internal). */
#ifndef EMFIT_MODELS_H
#define EMFIT_MODELS_H

#include "emfit/model.h"

extern const em_model_type em_model_bvn;
extern const em_model_type em_model_three_coin;
extern const em_model_type em_model_mixed_normal;
extern const em_model_type em_model_gmm;
extern const em_model_type em_model_hmm;
extern const em_model_type em_model_mvn;
extern const em_model_type em_model_pairing;

#endif
