#include "lower.h"
void ew__lower_destructure(ew__lower_t *L) { (void) L; }
void ew__destructure(ew__lower_t *L, ew__node_t *pattern, ew__node_t *value, bool decl, ew__nodes_t *out, uint32_t *cap) {(void)L;(void)pattern;(void)value;(void)decl;(void)out;(void)cap;}
