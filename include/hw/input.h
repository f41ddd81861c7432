/*
 * Keyboard and mouse input for the PS/2 devices behind the i8042, for
 * the display front ends (VNC, SDL) to call.
 */
#ifndef HW_INPUT_H
#define HW_INPUT_H

#include <stdint.h>

int i8042_init(void);
/* Scan code set 1 bytes (make or break, with 0xe0 prefixes). */
void i8042_key_event(const uint8_t *scancodes, unsigned n);
/* Relative motion (dy positive is up, as PS/2), wheel, buttons bits
 * 0 left 1 right 2 middle. */
void i8042_mouse_event(int dx, int dy, int dz, unsigned buttons);

#endif
