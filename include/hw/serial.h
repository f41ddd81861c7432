#ifndef HW_SERIAL_H
#define HW_SERIAL_H

#include <stdint.h>

struct chardev;

/* A 16550A at base with its interrupt on gsi, talking to chr (may be
 * NULL: nothing attached). */
int serial_init(uint16_t base, unsigned gsi, struct chardev *chr);
/* The debug console at port 0x402 (-debugcon). */
int debugcon_init(struct chardev *chr);

#endif
