DM_OBJS += hw/net/ne2000.o hw/net/rtl8139.o hw/net/pcnet.o
