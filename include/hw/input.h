/*
 * Keyboard and mouse input for the PS/2 devices behind the i8042, for
 * the display front ends (VNC, SDL) to call.
 */
#ifndef HW_INPUT_H
#define HW_INPUT_H

#include <stdbool.h>
#include <stdint.h>

int i8042_init(void);
/* Scan code set 1 bytes (make or break, with 0xe0 prefixes). */
void i8042_key_event(const uint8_t *scancodes, unsigned n);
/* Relative motion (dy positive is up, as PS/2), wheel, buttons bits
 * 0 left 1 right 2 middle. */
void i8042_mouse_event(int dx, int dy, int dz, unsigned buttons);

/* ---- Front-end API (hw/input/input.c) ----
 * A key by QEMU's qcode name ("a", "ctrl_r", "f12"...) or by qnum: the
 * set 1 make code, plus 0x80 for keys with the 0xe0 prefix. */
int input_qcode_to_qnum(const char *name);      /* -1: unknown name */
int input_key_qnum(unsigned qnum, bool down);   /* -1: bad number */

enum input_button {
	INPUT_BTN_LEFT, INPUT_BTN_RIGHT, INPUT_BTN_MIDDLE,
	INPUT_BTN_WHEEL_UP, INPUT_BTN_WHEEL_DOWN,
};
/* Relative motion in screen directions (y grows downwards) and buttons
 * accumulate; input_mouse_sync sends them as one mouse report. */
void input_mouse_rel(int dx, int dy);
void input_mouse_button(enum input_button b, bool down);
void input_mouse_sync(void);
/* QMP send-key: press the qnums in order, release them in reverse order
 * hold_ms later.  -1: more than 16 keys or a bad number. */
int input_send_keys(const unsigned *qnums, unsigned n, unsigned hold_ms);

/* An absolute pointer position, 0..INPUT_ABS_MAX on each axis (-1 leaves
 * an axis as it was); sent with the buttons at input_mouse_sync. */
#define INPUT_ABS_MAX 0x7fff
void input_mouse_abs(int x, int y);
/* True while an absolute pointer (a USB tablet) takes pointer events:
 * front ends then send positions rather than motion. */
bool input_pointer_absolute(void);

/* ---- Devices that take input before the PS/2 ones (USB HID) ----
 * The most recently added handler of a kind gets that kind's events:
 * keys go to a keyboard handler, else to PS/2; a sync with an absolute
 * position, or buttons without motion, goes to a tablet when there is
 * one; relative motion to a mouse handler, else to the PS/2 mouse. */
enum input_kind { INPUT_KIND_KBD, INPUT_KIND_MOUSE, INPUT_KIND_TABLET };
struct input_handler {
	enum input_kind kind;
	void (*key)(void *opaque, unsigned qnum, bool down);
	/* Mouse: motion in screen directions (y down), wheel dz (positive
	 * is towards the user); tablet: x, y in 0..INPUT_ABS_MAX.  Buttons
	 * as i8042_mouse_event. */
	void (*pointer)(void *opaque, int x, int y, int dz, unsigned buttons);
	void *opaque;
	struct input_handler *next;     /* the input layer's */
};
void input_handler_add(struct input_handler *h);
void input_handler_del(struct input_handler *h);

#endif
