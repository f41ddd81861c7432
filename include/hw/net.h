/*
 * The network cards (hw/net/), each made from a nic_conf that the
 * machine fills from -device MODEL,... or -net nic,model=MODEL.
 */
#ifndef HW_NET_H
#define HW_NET_H

#include "net/net.h"

int ne2k_pci_init(const struct nic_conf *conf);
int ne2k_isa_init(const struct nic_conf *conf);
int rtl8139_init(const struct nic_conf *conf);
int pcnet_init(const struct nic_conf *conf);

#endif
