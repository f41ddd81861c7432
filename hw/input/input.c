/*
 * Input events from front ends (QMP send-key / input-send-event, later
 * VNC and SDL) to the PS/2 devices.  Keys are named by QEMU's "qcode"
 * names or by "qnum" numbers: the scan code set 1 make code, with 0x80
 * added for keys that take the 0xe0 prefix.  That is the number QMP's
 * {"type": "number"} keys carry and what SDL/VNC keymaps usually produce.
 */
#include <string.h>

#include "dm/dm.h"
#include "hw/input.h"

struct qcode {
	const char *name;
	uint8_t qnum;
};

static const struct qcode qcodes[] = {
	{ "esc", 0x01 }, { "1", 0x02 }, { "2", 0x03 }, { "3", 0x04 },
	{ "4", 0x05 }, { "5", 0x06 }, { "6", 0x07 }, { "7", 0x08 },
	{ "8", 0x09 }, { "9", 0x0a }, { "0", 0x0b }, { "minus", 0x0c },
	{ "equal", 0x0d }, { "backspace", 0x0e }, { "tab", 0x0f },
	{ "q", 0x10 }, { "w", 0x11 }, { "e", 0x12 }, { "r", 0x13 },
	{ "t", 0x14 }, { "y", 0x15 }, { "u", 0x16 }, { "i", 0x17 },
	{ "o", 0x18 }, { "p", 0x19 }, { "bracket_left", 0x1a },
	{ "bracket_right", 0x1b }, { "ret", 0x1c }, { "ctrl", 0x1d },
	{ "a", 0x1e }, { "s", 0x1f }, { "d", 0x20 }, { "f", 0x21 },
	{ "g", 0x22 }, { "h", 0x23 }, { "j", 0x24 }, { "k", 0x25 },
	{ "l", 0x26 }, { "semicolon", 0x27 }, { "apostrophe", 0x28 },
	{ "grave_accent", 0x29 }, { "shift", 0x2a }, { "backslash", 0x2b },
	{ "z", 0x2c }, { "x", 0x2d }, { "c", 0x2e }, { "v", 0x2f },
	{ "b", 0x30 }, { "n", 0x31 }, { "m", 0x32 }, { "comma", 0x33 },
	{ "dot", 0x34 }, { "slash", 0x35 }, { "shift_r", 0x36 },
	{ "kp_multiply", 0x37 }, { "asterisk", 0x37 }, { "alt", 0x38 },
	{ "spc", 0x39 }, { "caps_lock", 0x3a }, { "f1", 0x3b },
	{ "f2", 0x3c }, { "f3", 0x3d }, { "f4", 0x3e }, { "f5", 0x3f },
	{ "f6", 0x40 }, { "f7", 0x41 }, { "f8", 0x42 }, { "f9", 0x43 },
	{ "f10", 0x44 }, { "num_lock", 0x45 }, { "scroll_lock", 0x46 },
	{ "kp_7", 0x47 }, { "kp_8", 0x48 }, { "kp_9", 0x49 },
	{ "kp_subtract", 0x4a }, { "kp_4", 0x4b }, { "kp_5", 0x4c },
	{ "kp_6", 0x4d }, { "kp_add", 0x4e }, { "kp_1", 0x4f },
	{ "kp_2", 0x50 }, { "kp_3", 0x51 }, { "kp_0", 0x52 },
	{ "kp_decimal", 0x53 }, { "sysrq", 0x54 }, { "less", 0x56 },
	{ "f11", 0x57 }, { "f12", 0x58 },
	{ "kp_enter", 0x9c }, { "ctrl_r", 0x9d }, { "kp_divide", 0xb5 },
	{ "print", 0xb7 }, { "alt_r", 0xb8 }, { "home", 0xc7 },
	{ "up", 0xc8 }, { "pgup", 0xc9 }, { "left", 0xcb },
	{ "right", 0xcd }, { "end", 0xcf }, { "down", 0xd0 },
	{ "pgdn", 0xd1 }, { "insert", 0xd2 }, { "delete", 0xd3 },
	{ "meta_l", 0xdb }, { "meta_r", 0xdc }, { "menu", 0xdd },
	{ "pause", 0xc6 },
};

int input_qcode_to_qnum(const char *name)
{
	for (size_t i = 0; i < sizeof(qcodes) / sizeof(qcodes[0]); i++)
		if (!strcmp(qcodes[i].name, name))
			return qcodes[i].qnum;
	return -1;
}

/* ---- Handlers before the PS/2 devices (USB HID) ---- */
static struct input_handler *handlers;  /* newest first */
static int abs_x, abs_y;
static bool abs_pending;

void input_handler_add(struct input_handler *h)
{
	h->next = handlers;
	handlers = h;
}

void input_handler_del(struct input_handler *h)
{
	for (struct input_handler **p = &handlers; *p; p = &(*p)->next) {
		if (*p == h) {
			*p = h->next;
			break;
		}
	}
}

static struct input_handler *handler_of(enum input_kind kind)
{
	for (struct input_handler *h = handlers; h; h = h->next)
		if (h->kind == kind)
			return h;
	return NULL;
}

bool input_pointer_absolute(void)
{
	return handler_of(INPUT_KIND_TABLET) != NULL;
}

static bool input_route_key(unsigned qnum, bool down)
{
	struct input_handler *h = handler_of(INPUT_KIND_KBD);

	if (!h)
		return false;
	h->key(h->opaque, qnum, down);
	return true;
}

void input_mouse_abs(int x, int y)
{
	if (x >= 0)
		abs_x = x > INPUT_ABS_MAX ? INPUT_ABS_MAX : x;
	if (y >= 0)
		abs_y = y > INPUT_ABS_MAX ? INPUT_ABS_MAX : y;
	abs_pending = true;
}

int input_key_qnum(unsigned qnum, bool down)
{
	uint8_t b[6];
	unsigned n = 0;

	if (!qnum || qnum > 0xff)
		return -1;
	if (input_route_key(qnum, down))
		return 0;
	if (qnum == 0xc6) {
		/* Pause: one make sequence, no break (it has none). */
		static const uint8_t pause[6] = {
			0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };

		if (down)
			i8042_key_event(pause, sizeof(pause));
		return 0;
	}
	if (qnum & 0x80)
		b[n++] = 0xe0;
	b[n++] = (uint8_t)((qnum & 0x7f) | (down ? 0 : 0x80));
	i8042_key_event(b, n);
	return 0;
}

/* Motion accumulates until a sync, as with evdev, so one packet carries a
 * diagonal move and the button state together. */
static int pend_dx, pend_dy, pend_dz;
static unsigned buttons;

void input_mouse_rel(int dx, int dy)
{
	/* Bounded: a front end cannot overflow the sums. */
	if (dx > -65536 && dx < 65536 && dy > -65536 && dy < 65536 &&
	    pend_dx > -(1 << 20) && pend_dx < (1 << 20) &&
	    pend_dy > -(1 << 20) && pend_dy < (1 << 20)) {
		pend_dx += dx;
		pend_dy += dy;
	}
}

void input_mouse_button(enum input_button b, bool down)
{
	switch (b) {
	case INPUT_BTN_LEFT:
	case INPUT_BTN_RIGHT:
	case INPUT_BTN_MIDDLE:
		if (down)
			buttons |= 1u << b;
		else
			buttons &= ~(1u << b);
		break;
	case INPUT_BTN_WHEEL_UP:
		if (down && pend_dz > -8)
			pend_dz--;
		break;
	case INPUT_BTN_WHEEL_DOWN:
		if (down && pend_dz < 8)
			pend_dz++;
		break;
	}
}

void input_mouse_sync(void)
{
	struct input_handler *tablet = handler_of(INPUT_KIND_TABLET);
	struct input_handler *mouse = handler_of(INPUT_KIND_MOUSE);
	bool moved = pend_dx || pend_dy;
	static unsigned last_buttons;

	if (!tablet && abs_pending && !moved && !pend_dz &&
	    buttons == last_buttons) {
		/* A position alone, and nobody takes positions. */
	} else if (tablet && (abs_pending || !moved))
		tablet->pointer(tablet->opaque, abs_x, abs_y, pend_dz, buttons);
	else if (mouse)
		mouse->pointer(mouse->opaque, pend_dx, pend_dy, pend_dz, buttons);
	else    /* Screen y grows downwards, PS/2's upwards. */
		i8042_mouse_event(pend_dx, -pend_dy, pend_dz, buttons);
	last_buttons = buttons;
	pend_dx = pend_dy = pend_dz = 0;
	abs_pending = false;
}

/* send-key: press the keys in order now, release them in reverse order
 * hold_ms later on the virtual clock (so qtest can step through it).  A
 * new chord first releases what the previous one still holds. */
#define CHORD_MAX 16
static uint8_t chord[CHORD_MAX];
static unsigned chord_len;
static struct dm_timer *chord_timer;

static void chord_release(void *opaque)
{
	(void)opaque;
	while (chord_len)
		input_key_qnum(chord[--chord_len], false);
}

int input_send_keys(const unsigned *qnums, unsigned n, unsigned hold_ms)
{
	if (n > CHORD_MAX)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (!qnums[i] || qnums[i] > 0xff)
			return -1;
	if (!chord_timer)
		chord_timer = dm_timer_new(chord_release, NULL);
	dm_timer_del(chord_timer);
	chord_release(NULL);
	for (unsigned i = 0; i < n; i++) {
		input_key_qnum(qnums[i], true);
		chord[chord_len++] = (uint8_t)qnums[i];
	}
	dm_timer_mod(chord_timer, dm_clock_ns() + hold_ms * 1000000ull);
	return 0;
}
