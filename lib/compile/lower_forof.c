#include "lower.h"
void ew__lower_forof(ew__lower_t *L) { (void) L; }
