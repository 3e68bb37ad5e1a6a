#include "CEarshotNet.h"
int earshot_net_placeholder(void) { return 0; }
