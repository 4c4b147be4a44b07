#include "lower.h"
void ew__lower_params(ew__lower_t *L) { (void) L; }
