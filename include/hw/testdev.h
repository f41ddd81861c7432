#ifndef HW_TESTDEV_H
#define HW_TESTDEV_H

#define TESTDEV_MMIO_BASE 0xfeb00000ull

/* Register hvm-testdev's ports and MMIO page (see hw/misc/testdev.c). */
int testdev_init(void);

#endif
