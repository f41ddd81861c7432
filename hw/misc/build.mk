DM_OBJS += hw/misc/testdev.o hw/misc/pci-testdev.o hw/misc/pc-testdev.o
