#ifndef HW_TESTDEV_H
#define HW_TESTDEV_H

#define TESTDEV_MMIO_BASE 0xfeb00000ull

/* Register hvm-testdev's ports and MMIO page (see hw/misc/testdev.c). */
int testdev_init(void);
/* QEMU's pc-testdev (see hw/misc/pc-testdev.c). */
int pc_testdev_init(void);
/* hvm-pci-testdev at bus 0, slot (see hw/misc/pci-testdev.c). */
int pci_testdev_init(unsigned slot);

#endif
