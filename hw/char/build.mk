DM_OBJS += hw/char/serial.o hw/char/debugcon.o
