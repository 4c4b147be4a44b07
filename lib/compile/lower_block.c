#include "lower.h"
void ew__lower_block(ew__lower_t *L) { (void) L; }
