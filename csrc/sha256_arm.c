/* placeholder, replaced below */
#include "hashcore.h"
const hc_ops *hc_ops_arm_get(void) { return NULL; }
