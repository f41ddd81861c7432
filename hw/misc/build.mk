DM_OBJS += hw/misc/testdev.o
