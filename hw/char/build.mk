DM_OBJS += hw/char/serial.o
