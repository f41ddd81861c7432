DM_OBJS += hw/ide/core.o hw/ide/atapi.o hw/ide/piix.o
