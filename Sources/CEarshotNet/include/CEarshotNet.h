#ifndef CEARSHOTNET_H
#define CEARSHOTNET_H
int earshot_net_placeholder(void);
#endif
