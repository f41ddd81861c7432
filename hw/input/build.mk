DM_OBJS += hw/input/i8042.o
