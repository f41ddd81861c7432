DM_OBJS += hw/input/i8042.o hw/input/input.o
