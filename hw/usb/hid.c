/*
 * USB HID devices: a tablet (absolute pointer, so a VNC viewer's cursor
 * and the guest's stay together), a mouse with a wheel, and a keyboard.
 * Each has one interrupt IN endpoint (0x81) that answers a poll with the
 * next queued report, or NAKs (and tells the controller when a report
 * arrives, so an idle schedule needs no polling).  The report
 * descriptors use only the Generic Desktop, Button and Keyboard pages,
 * which the HID drivers built into Linux and Windows take as they are.
 * Class requests: GET/SET_REPORT, GET/SET_IDLE (a non-zero idle rate
 * repeats the current state), GET/SET_PROTOCOL (boot protocol for the
 * mouse and keyboard).
 */
#include <stdlib.h>
#include <string.h>

#include "hw/input.h"
#include "hw/usb.h"

#define HID_GET_REPORT   0x01
#define HID_GET_IDLE     0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT   0x09
#define HID_SET_IDLE     0x0a
#define HID_SET_PROTOCOL 0x0b

#define HID_DT_HID    0x21
#define HID_DT_REPORT 0x22

#define QUEUE_LEN 16
#define REPORT_MAX 8

struct hid {
	struct usb_device dev;          /* first: the core's view */
	enum usb_hid_kind kind;
	struct input_handler input;
	uint8_t protocol;               /* 0 boot, 1 report */
	uint8_t idle;                   /* 4 ms units, 0: only on change */
	uint64_t last_report_ns;
	struct dm_timer *idle_timer;
	uint8_t queue[QUEUE_LEN][REPORT_MAX];
	unsigned head, count;
	uint8_t state[REPORT_MAX];      /* the latest report */
	/* keyboard */
	uint8_t keys[6], nkeys, modifiers, leds;
	bool rollover;
};

/* ---- descriptors ---- */

static const uint8_t tablet_report[] = {
	0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,     /* desktop, mouse, app */
	0x09, 0x01, 0xa1, 0x00,                 /* pointer, physical */
	0x05, 0x09, 0x19, 0x01, 0x29, 0x03,     /* buttons 1-3 */
	0x15, 0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x05, 0x81, 0x01,     /* padding */
	0x05, 0x01, 0x09, 0x30, 0x09, 0x31,     /* X, Y absolute */
	0x15, 0x00, 0x26, 0xff, 0x7f, 0x35, 0x00, 0x46, 0xff, 0x7f,
	0x75, 0x10, 0x95, 0x02, 0x81, 0x02,
	0x09, 0x38, 0x15, 0x81, 0x25, 0x7f,     /* wheel, relative */
	0x35, 0x00, 0x45, 0x00, 0x75, 0x08, 0x95, 0x01, 0x81, 0x06,
	0xc0, 0xc0,
};

static const uint8_t mouse_report[] = {
	0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,
	0x09, 0x01, 0xa1, 0x00,
	0x05, 0x09, 0x19, 0x01, 0x29, 0x03,
	0x15, 0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x05, 0x81, 0x01,
	0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x38, /* X, Y, wheel */
	0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06,
	0xc0, 0xc0,
};

/* The boot keyboard's layout: modifiers, a reserved byte, six keys;
 * five LEDs out. */
static const uint8_t kbd_report[] = {
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01,
	0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7,     /* modifiers */
	0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x08, 0x81, 0x01,     /* reserved */
	0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05,
	0x91, 0x02,                             /* LEDs */
	0x95, 0x01, 0x75, 0x03, 0x91, 0x01,
	0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x26, 0xff, 0x00,
	0x05, 0x07, 0x19, 0x00, 0x29, 0xff, 0x81, 0x00,
	0xc0,
};

#define DEV_DESC(pid)                                                    \
	{ 18, USB_DT_DEVICE, 0x10, 0x01, 0, 0, 0, 8,                     \
	  0x27, 0x06, (pid) & 0xff, (pid) >> 8, 0x00, 0x01, 1, 2, 3, 1 }

/* QEMU's vendor and product numbers: guests that met QEMU's HID devices
 * treat ours the same way. */
static const uint8_t hid_dev_desc[18] = DEV_DESC(0x0001);

#define CONFIG_DESC(subclass, proto, rlen)                               \
	{ 9, USB_DT_CONFIG, 34, 0, 1, 1, 0, 0xa0, 50,                    \
	  9, 0x04, 0, 0, 1, 0x03, (subclass), (proto), 0,                \
	  9, HID_DT_HID, 0x11, 0x01, 0, 1, HID_DT_REPORT,                \
	  (rlen) & 0xff, (rlen) >> 8,                                    \
	  7, 0x05, 0x81, 0x03, 8, 0, 10 }

static const uint8_t tablet_config[34] =
	CONFIG_DESC(0, 0, sizeof(tablet_report));
static const uint8_t mouse_config[34] =
	CONFIG_DESC(1, 2, sizeof(mouse_report));
static const uint8_t kbd_config[34] =
	CONFIG_DESC(1, 1, sizeof(kbd_report));

static const char *const tablet_strings[] = {
	"QEMU", "QEMU USB Tablet", "1" };
static const char *const mouse_strings[] = {
	"QEMU", "QEMU USB Mouse", "1" };
static const char *const kbd_strings[] = {
	"QEMU", "QEMU USB Keyboard", "1" };

static unsigned report_len(const struct hid *h)
{
	switch (h->kind) {
	case USB_HID_TABLET:
		return 6;
	case USB_HID_MOUSE:
		return h->protocol ? 4 : 3;
	case USB_HID_KEYBOARD:
		break;
	}
	return 8;
}

/* ---- reports ---- */

static void push(struct hid *h, const uint8_t *r)
{
	unsigned slot;

	memcpy(h->state, r, REPORT_MAX);
	if (h->count == QUEUE_LEN) {
		/* Full (nobody polls): the newest state replaces the last. */
		slot = (h->head + QUEUE_LEN - 1) % QUEUE_LEN;
	} else {
		slot = (h->head + h->count) % QUEUE_LEN;
		h->count++;
	}
	memcpy(h->queue[slot], r, REPORT_MAX);
	usb_wakeup(&h->dev);
}

static int clamp8(int v)
{
	return v < -127 ? -127 : v > 127 ? 127 : v;
}

static void hid_pointer(void *opaque, int x, int y, int dz, unsigned buttons)
{
	struct hid *h = opaque;
	uint8_t r[REPORT_MAX] = { 0 };

	r[0] = (uint8_t)(buttons & 7);
	if (h->kind == USB_HID_TABLET) {
		r[1] = (uint8_t)x;
		r[2] = (uint8_t)(x >> 8);
		r[3] = (uint8_t)y;
		r[4] = (uint8_t)(y >> 8);
		r[5] = (uint8_t)clamp8(-dz);    /* HID: positive is away */
		push(h, r);
		return;
	}
	/* Relative: split moves beyond a report's +-127, a few at most. */
	for (unsigned i = 0; i < 4; i++) {
		int cx = clamp8(x), cy = clamp8(y), cz = clamp8(-dz);

		r[1] = (uint8_t)cx;
		r[2] = (uint8_t)cy;
		r[3] = (uint8_t)cz;
		push(h, r);
		x -= cx;
		y -= cy;
		dz += cz;
		if (!x && !y && !dz)
			break;
	}
	memset(h->state + 1, 0, 3);     /* the state repeats no motion */
}

/* Set 1 make codes (qnums) to the Keyboard page's usages. */
static const uint8_t qnum_usage[256] = {
	[0x01] = 0x29, [0x02] = 0x1e, [0x03] = 0x1f, [0x04] = 0x20,
	[0x05] = 0x21, [0x06] = 0x22, [0x07] = 0x23, [0x08] = 0x24,
	[0x09] = 0x25, [0x0a] = 0x26, [0x0b] = 0x27, [0x0c] = 0x2d,
	[0x0d] = 0x2e, [0x0e] = 0x2a, [0x0f] = 0x2b, [0x10] = 0x14,
	[0x11] = 0x1a, [0x12] = 0x08, [0x13] = 0x15, [0x14] = 0x17,
	[0x15] = 0x1c, [0x16] = 0x18, [0x17] = 0x0c, [0x18] = 0x12,
	[0x19] = 0x13, [0x1a] = 0x2f, [0x1b] = 0x30, [0x1c] = 0x28,
	[0x1d] = 0xe0, [0x1e] = 0x04, [0x1f] = 0x16, [0x20] = 0x07,
	[0x21] = 0x09, [0x22] = 0x0a, [0x23] = 0x0b, [0x24] = 0x0d,
	[0x25] = 0x0e, [0x26] = 0x0f, [0x27] = 0x33, [0x28] = 0x34,
	[0x29] = 0x35, [0x2a] = 0xe1, [0x2b] = 0x31, [0x2c] = 0x1d,
	[0x2d] = 0x1b, [0x2e] = 0x06, [0x2f] = 0x19, [0x30] = 0x05,
	[0x31] = 0x11, [0x32] = 0x10, [0x33] = 0x36, [0x34] = 0x37,
	[0x35] = 0x38, [0x36] = 0xe5, [0x37] = 0x55, [0x38] = 0xe2,
	[0x39] = 0x2c, [0x3a] = 0x39, [0x3b] = 0x3a, [0x3c] = 0x3b,
	[0x3d] = 0x3c, [0x3e] = 0x3d, [0x3f] = 0x3e, [0x40] = 0x3f,
	[0x41] = 0x40, [0x42] = 0x41, [0x43] = 0x42, [0x44] = 0x43,
	[0x45] = 0x53, [0x46] = 0x47, [0x47] = 0x5f, [0x48] = 0x60,
	[0x49] = 0x61, [0x4a] = 0x56, [0x4b] = 0x5c, [0x4c] = 0x5d,
	[0x4d] = 0x5e, [0x4e] = 0x57, [0x4f] = 0x59, [0x50] = 0x5a,
	[0x51] = 0x5b, [0x52] = 0x62, [0x53] = 0x63, [0x54] = 0x46,
	[0x56] = 0x64, [0x57] = 0x44, [0x58] = 0x45,
	[0x9c] = 0x58, [0x9d] = 0xe4, [0xb5] = 0x54, [0xb7] = 0x46,
	[0xb8] = 0xe6, [0xc6] = 0x48, [0xc7] = 0x4a, [0xc8] = 0x52,
	[0xc9] = 0x4b, [0xcb] = 0x50, [0xcd] = 0x4f, [0xcf] = 0x4d,
	[0xd0] = 0x51, [0xd1] = 0x4e, [0xd2] = 0x49, [0xd3] = 0x4c,
	[0xdb] = 0xe3, [0xdc] = 0xe7, [0xdd] = 0x65,
};

static void hid_key(void *opaque, unsigned qnum, bool down)
{
	struct hid *h = opaque;
	uint8_t usage = qnum < 256 ? qnum_usage[qnum] : 0;
	uint8_t r[REPORT_MAX] = { 0 };
	unsigned i;

	if (!usage)
		return;
	if (usage >= 0xe0) {
		uint8_t bit = (uint8_t)(1u << (usage - 0xe0));

		if (down)
			h->modifiers |= bit;
		else
			h->modifiers &= (uint8_t)~bit;
	} else {
		for (i = 0; i < h->nkeys && h->keys[i] != usage; i++)
			;
		if (down && i == h->nkeys) {
			if (h->nkeys < 6)
				h->keys[h->nkeys++] = usage;
			else
				h->rollover = true;
		} else if (!down && i < h->nkeys) {
			memmove(h->keys + i, h->keys + i + 1, h->nkeys - i - 1);
			h->nkeys--;
			h->rollover = false;
		} else if (!down) {
			h->rollover = false;
		} else {
			return;                 /* a repeat: no change */
		}
	}
	r[0] = h->modifiers;
	if (h->rollover)
		memset(r + 2, 0x01, 6);         /* ErrorRollOver */
	else
		memcpy(r + 2, h->keys, h->nkeys);
	push(h, r);
}

/* ---- USB side ---- */

static uint64_t idle_ns(const struct hid *h)
{
	return h->idle * 4000000ull;
}

static void hid_idle_expired(void *opaque)
{
	struct hid *h = opaque;

	usb_wakeup(&h->dev);
}

static int hid_data(struct usb_device *d, struct usb_packet *p)
{
	struct hid *h = (struct hid *)d;
	unsigned n = report_len(h);
	uint64_t now = dm_clock_ns();

	if (p->pid != USB_PID_IN || p->ep != 1)
		return USB_RET_STALL;
	if (h->count) {
		if (n > p->len)
			n = p->len;
		memcpy(p->data, h->queue[h->head], n);
		h->head = (h->head + 1) % QUEUE_LEN;
		h->count--;
	} else if (h->idle && now - h->last_report_ns >= idle_ns(h)) {
		if (n > p->len)
			n = p->len;
		memcpy(p->data, h->state, n);
	} else {
		/* Nothing new: a report or the idle period wakes us. */
		if (h->idle)
			dm_timer_mod(h->idle_timer,
				     h->last_report_ns + idle_ns(h));
		return USB_RET_NAK;
	}
	h->last_report_ns = now;
	return (int)n;
}

static int hid_control(struct usb_device *d, const struct usb_setup *s,
		       uint8_t *data)
{
	struct hid *h = (struct hid *)d;
	const uint8_t *rd = h->kind == USB_HID_TABLET ? tablet_report :
			    h->kind == USB_HID_MOUSE ? mouse_report : kbd_report;
	size_t rlen = h->kind == USB_HID_TABLET ? sizeof(tablet_report) :
		      h->kind == USB_HID_MOUSE ? sizeof(mouse_report) :
		      sizeof(kbd_report);

	switch (s->type << 8 | s->request) {
	case 0x8106:                    /* GET_DESCRIPTOR, interface */
		if (s->value >> 8 == HID_DT_REPORT) {
			memcpy(data, rd, rlen);
			return (int)rlen;
		}
		if (s->value >> 8 == HID_DT_HID) {
			memcpy(data, d->cls->config_desc + 18, 9);
			return 9;
		}
		return USB_RET_STALL;
	case 0xa100 | HID_GET_REPORT:
		memcpy(data, h->state, report_len(h));
		return (int)report_len(h);
	case 0xa100 | HID_GET_IDLE:
		data[0] = h->idle;
		return 1;
	case 0xa100 | HID_GET_PROTOCOL:
		data[0] = h->protocol;
		return 1;
	case 0x2100 | HID_SET_REPORT:
		/* The keyboard's output report: LEDs. */
		if (h->kind == USB_HID_KEYBOARD && s->length >= 1)
			h->leds = data[0] & 0x1f;
		return 0;
	case 0x2100 | HID_SET_IDLE:
		h->idle = (uint8_t)(s->value >> 8);
		h->last_report_ns = dm_clock_ns();
		if (!h->idle)
			dm_timer_del(h->idle_timer);
		usb_wakeup(d);
		return 0;
	case 0x2100 | HID_SET_PROTOCOL:
		if (h->kind == USB_HID_TABLET || s->value > 1)
			return USB_RET_STALL;
		h->protocol = (uint8_t)s->value;
		return 0;
	}
	return USB_RET_STALL;
}

static void hid_reset(struct usb_device *d)
{
	struct hid *h = (struct hid *)d;

	h->protocol = 1;
	h->idle = h->kind == USB_HID_KEYBOARD ? 125 : 0;   /* 500 ms */
	h->head = h->count = 0;
	dm_timer_del(h->idle_timer);
}

static void hid_free(struct usb_device *d)
{
	struct hid *h = (struct hid *)d;

	input_handler_del(&h->input);
	dm_timer_free(h->idle_timer);
	free(h);
}

static const struct usb_device_class hid_classes[] = {
	[USB_HID_TABLET] = {
		.name = "usb-tablet", .dev_desc = hid_dev_desc,
		.config_desc = tablet_config, .config_len = sizeof(tablet_config),
		.strings = tablet_strings, .nstrings = 3,
		.control = hid_control, .data = hid_data,
		.reset = hid_reset, .free = hid_free,
	},
	[USB_HID_MOUSE] = {
		.name = "usb-mouse", .dev_desc = hid_dev_desc,
		.config_desc = mouse_config, .config_len = sizeof(mouse_config),
		.strings = mouse_strings, .nstrings = 3,
		.control = hid_control, .data = hid_data,
		.reset = hid_reset, .free = hid_free,
	},
	[USB_HID_KEYBOARD] = {
		.name = "usb-kbd", .dev_desc = hid_dev_desc,
		.config_desc = kbd_config, .config_len = sizeof(kbd_config),
		.strings = kbd_strings, .nstrings = 3,
		.control = hid_control, .data = hid_data,
		.reset = hid_reset, .free = hid_free,
	},
};

struct usb_device *usb_hid_new(enum usb_hid_kind kind)
{
	struct hid *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	usb_device_init(&h->dev, &hid_classes[kind]);
	h->kind = kind;
	h->idle_timer = dm_timer_new(hid_idle_expired, h);
	h->input.kind = kind == USB_HID_TABLET ? INPUT_KIND_TABLET :
			kind == USB_HID_MOUSE ? INPUT_KIND_MOUSE :
			INPUT_KIND_KBD;
	h->input.key = hid_key;
	h->input.pointer = hid_pointer;
	h->input.opaque = h;
	hid_reset(&h->dev);
	input_handler_add(&h->input);
	return &h->dev;
}
