DM_OBJS += hw/net/ne2000.o
