DM_OBJS += hw/pci/pci.o hw/pci/i440fx.o hw/pci/piix3.o
