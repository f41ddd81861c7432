/*
 * The 8042 keyboard controller (ports 0x60 data, 0x64 status/command)
 * with a PS/2 keyboard on IRQ 1 and a PS/2 mouse on IRQ 12, and the
 * system-control port 0x92 (fast A20, fast reset).
 *
 * The controller moves one byte at a time from the keyboard's or the
 * mouse's queue into its output buffer; reading port 0x60 takes it and
 * lets the next one in.  Queues are bounded rings: a guest that never
 * reads cannot make us grow anything (CVE-2017-16845 was an unchecked
 * index here).  Its output port carries the A20 gate and the CPU reset
 * line: pulsing bit 0 low (command 0xfe) resets the machine.
 *
 * Input from a display (VNC/SDL) comes through i8042_key_event and
 * i8042_mouse_event with scan code set 1 bytes, which is what the guest
 * sees with translation on (the default every PC BIOS sets).
 */
#include <string.h>

#include "dm/dm.h"
#include "hw/input.h"

#define QSIZE 64

#define ST_OBF   0x01
#define ST_SYS   0x04
#define ST_CMD   0x08
#define ST_INH   0x10           /* 1: keyboard not inhibited */
#define ST_AUXB  0x20

#define CB_KBD_INT  0x01
#define CB_AUX_INT  0x02
#define CB_SYS      0x04
#define CB_KBD_OFF  0x10
#define CB_AUX_OFF  0x20
#define CB_XLATE    0x40

struct queue {
	uint8_t data[QSIZE];
	unsigned rd, count;
};

struct i8042 {
	uint8_t status, cmdbyte, outport, out;
	uint8_t pending_cmd;    /* controller command awaiting a data byte */
	/* Bytes the controller itself produces (command replies, 0xd2/0xd3
	 * loop-backs) reach the output buffer even while the interface is
	 * disabled: Linux reads the command byte with both ports off. */
	struct queue ctl_kbd, ctl_aux;
	struct queue kbd, aux;
	bool out_is_aux;
	/* keyboard */
	uint8_t kbd_pending;    /* device command awaiting its argument */
	bool kbd_scanning;
	uint8_t kbd_set;
	/* mouse */
	uint8_t aux_pending;
	bool aux_reporting, aux_remote, aux_wrap;
	uint8_t aux_rate, aux_res, aux_scaling, aux_id;
	uint8_t rate_hist[3];
	int dx, dy, dz;
	uint8_t buttons;
	bool irq1, irq12;
};

static struct i8042 kc;
static uint8_t port92;

static void q_put(struct queue *q, uint8_t b)
{
	if (q->count < QSIZE) {
		q->data[(q->rd + q->count) % QSIZE] = b;
		q->count++;
	}
}

static bool q_get(struct queue *q, uint8_t *b)
{
	if (!q->count)
		return false;
	*b = q->data[q->rd];
	q->rd = (q->rd + 1) % QSIZE;
	q->count--;
	return true;
}

static void kc_update_irq(void)
{
	bool full = kc.status & ST_OBF;
	bool i1 = full && !kc.out_is_aux && (kc.cmdbyte & CB_KBD_INT);
	bool i12 = full && kc.out_is_aux && (kc.cmdbyte & CB_AUX_INT);

	if (i1 != kc.irq1) {
		kc.irq1 = i1;
		irq_set(1, i1);
	}
	if (i12 != kc.irq12) {
		kc.irq12 = i12;
		irq_set(12, i12);
	}
}

/* Refill the output buffer from the queues when it is empty. */
static void kc_refill(void)
{
	uint8_t b;

	if (!(kc.status & ST_OBF)) {
		if (q_get(&kc.ctl_kbd, &b) ||
		    (!(kc.cmdbyte & CB_KBD_OFF) && q_get(&kc.kbd, &b))) {
			kc.out = b;
			kc.out_is_aux = false;
			kc.status = (uint8_t)((kc.status & ~ST_AUXB) | ST_OBF);
		} else if (q_get(&kc.ctl_aux, &b) ||
			   (!(kc.cmdbyte & CB_AUX_OFF) && q_get(&kc.aux, &b))) {
			kc.out = b;
			kc.out_is_aux = true;
			kc.status |= ST_OBF | ST_AUXB;
		}
	}
	kc_update_irq();
}

/* A byte from the controller itself (command replies). */
static void kc_reply(uint8_t b)
{
	q_put(&kc.ctl_kbd, b);
	kc_refill();
}

static void kbd_reply(uint8_t b)
{
	q_put(&kc.kbd, b);
}

static void aux_reply(uint8_t b)
{
	q_put(&kc.aux, b);
}

/* ---- the keyboard ---- */

static void kbd_reset_state(void)
{
	kc.kbd_scanning = true;
	kc.kbd_set = 2;
	kc.kbd_pending = 0;
}

static void kbd_write(uint8_t v)
{
	if (kc.kbd_pending) {
		uint8_t cmd = kc.kbd_pending;

		kc.kbd_pending = 0;
		kbd_reply(0xfa);
		if (cmd == 0xf0) {
			if (v == 0) {
				/* Report the set; translated when on. */
				static const uint8_t xl[4] = { 0, 0x43, 0x41, 0x3f };

				kbd_reply((kc.cmdbyte & CB_XLATE) ? xl[kc.kbd_set & 3]
								  : kc.kbd_set);
			} else if (v <= 3) {
				kc.kbd_set = v;
			}
		}
		return;
	}
	switch (v) {
	case 0xed:              /* LEDs */
	case 0xf3:              /* typematic rate */
	case 0xf0:              /* scan code set */
		kc.kbd_pending = v;
		kbd_reply(0xfa);
		break;
	case 0xee:              /* echo */
		kbd_reply(0xee);
		break;
	case 0xf2:              /* identify: MF2 keyboard */
		kbd_reply(0xfa);
		kbd_reply(0xab);
		kbd_reply((kc.cmdbyte & CB_XLATE) ? 0x41 : 0x83);
		break;
	case 0xf4:
		kc.kbd_scanning = true;
		kbd_reply(0xfa);
		break;
	case 0xf5:
	case 0xf6:
		kc.kbd_scanning = v == 0xf6;
		kbd_reply(0xfa);
		break;
	case 0xff:              /* reset and self-test */
		/* Keys typed before the reset would otherwise come ahead of
		 * the 0xfa 0xaa the guest waits for. */
		memset(&kc.kbd, 0, sizeof(kc.kbd));
		kbd_reset_state();
		kbd_reply(0xfa);
		kbd_reply(0xaa);
		break;
	default:
		kbd_reply(0xfe);        /* resend: unknown command */
		break;
	}
}

/* Set 1 make codes -> set 2, for a guest that turned the controller's
 * translation off and reads set 2 itself.  Keys with the 0xe0 prefix use
 * the same codes after their prefix (Pause's 0xe1 sequence too). */
static const uint8_t set1_to_set2[0x5e] = {
	0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36,
	0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d,
	0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43,
	0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14, 0x1c, 0x1b,
	0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c,
	0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a,
	0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c,
	0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0c, 0x03,
	0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c,
	0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69,
	0x72, 0x7a, 0x70, 0x71, 0x84, 0x00, 0x61, 0x78,
	0x07, 0x00, 0x00, 0x1f, 0x27, 0x2f,
};

void i8042_key_event(const uint8_t *scancodes, unsigned n)
{
	bool raw_set2 = !(kc.cmdbyte & CB_XLATE) && kc.kbd_set == 2;

	if (!kc.kbd_scanning)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint8_t b = scancodes[i], make = b & 0x7f;

		if (!raw_set2 || b == 0xe0 || b == 0xe1) {
			q_put(&kc.kbd, b);
			continue;
		}
		if (make >= sizeof(set1_to_set2) || !set1_to_set2[make])
			continue;       /* no such key in set 2 */
		if (b & 0x80)
			q_put(&kc.kbd, 0xf0);
		q_put(&kc.kbd, set1_to_set2[make]);
	}
	kc_refill();
}

/* ---- the mouse ---- */

static void aux_reset_state(void)
{
	kc.aux_reporting = false;
	kc.aux_remote = false;
	kc.aux_wrap = false;
	kc.aux_rate = 100;
	kc.aux_res = 2;
	kc.aux_scaling = 0;
	kc.aux_id = 0;
	kc.aux_pending = 0;
	kc.dx = kc.dy = kc.dz = 0;
	memset(kc.rate_hist, 0, sizeof(kc.rate_hist));
}

static void aux_packet(void)
{
	int dx = kc.dx, dy = kc.dy, dz = kc.dz;

	if (dx > 255) dx = 255;
	if (dx < -256) dx = -256;
	if (dy > 255) dy = 255;
	if (dy < -256) dy = -256;
	if (dz > 7) dz = 7;
	if (dz < -8) dz = -8;
	aux_reply((uint8_t)(0x08 | (kc.buttons & 7) | (dx < 0 ? 0x10 : 0) |
			    (dy < 0 ? 0x20 : 0)));
	aux_reply((uint8_t)dx);
	aux_reply((uint8_t)dy);
	if (kc.aux_id == 3)
		aux_reply((uint8_t)(dz & 0x0f));
	kc.dx = kc.dy = kc.dz = 0;
}

static void aux_write(uint8_t v)
{
	if (kc.aux_pending) {
		uint8_t cmd = kc.aux_pending;

		kc.aux_pending = 0;
		aux_reply(0xfa);
		if (cmd == 0xf3) {
			kc.aux_rate = v;
			/* 200, 100, 80: the IntelliMouse knock. */
			kc.rate_hist[0] = kc.rate_hist[1];
			kc.rate_hist[1] = kc.rate_hist[2];
			kc.rate_hist[2] = v;
			if (kc.rate_hist[0] == 200 && kc.rate_hist[1] == 100 &&
			    kc.rate_hist[2] == 80)
				kc.aux_id = 3;
		} else if (cmd == 0xe8) {
			kc.aux_res = v & 3;
		}
		return;
	}
	if (kc.aux_wrap && v != 0xec && v != 0xff) {
		aux_reply(v);
		return;
	}
	switch (v) {
	case 0xe6: case 0xe7:           /* scaling 1:1 / 2:1 */
		kc.aux_scaling = v == 0xe7;
		aux_reply(0xfa);
		break;
	case 0xe8: case 0xf3:           /* resolution, sample rate */
		kc.aux_pending = v;
		aux_reply(0xfa);
		break;
	case 0xe9:                      /* status request */
		aux_reply(0xfa);
		aux_reply((uint8_t)((kc.aux_remote ? 0x40 : 0) |
				    (kc.aux_reporting ? 0x20 : 0) |
				    (kc.aux_scaling ? 0x10 : 0) |
				    (kc.buttons & 7)));
		aux_reply(kc.aux_res);
		aux_reply(kc.aux_rate);
		break;
	case 0xea:                      /* stream mode */
		kc.aux_remote = false;
		aux_reply(0xfa);
		break;
	case 0xeb:                      /* read data */
		aux_reply(0xfa);
		aux_packet();
		break;
	case 0xec: case 0xee:           /* wrap mode off/on */
		kc.aux_wrap = v == 0xee;
		aux_reply(0xfa);
		break;
	case 0xf0:                      /* remote mode */
		kc.aux_remote = true;
		aux_reply(0xfa);
		break;
	case 0xf2:                      /* get ID */
		aux_reply(0xfa);
		aux_reply(kc.aux_id);
		break;
	case 0xf4: case 0xf5:
		kc.aux_reporting = v == 0xf4;
		aux_reply(0xfa);
		break;
	case 0xf6:                      /* defaults */
		aux_reset_state();
		aux_reply(0xfa);
		break;
	case 0xff:                      /* reset */
		memset(&kc.aux, 0, sizeof(kc.aux));
		aux_reset_state();
		aux_reply(0xfa);
		aux_reply(0xaa);
		aux_reply(0x00);
		break;
	default:
		aux_reply(0xfe);
		break;
	}
}

static int clamp_add(int acc, int d)
{
	long v = (long)acc + d;

	return v > 4096 ? 4096 : v < -4096 ? -4096 : (int)v;
}

void i8042_mouse_event(int dx, int dy, int dz, unsigned buttons)
{
	/* Motion piles up while reporting is off or in remote mode: keep
	 * it bounded (a packet carries at most 9 bits anyway). */
	kc.dx = clamp_add(kc.dx, dx);
	kc.dy = clamp_add(kc.dy, dy);
	kc.dz = clamp_add(kc.dz, dz);
	kc.buttons = (uint8_t)(buttons & 7);
	if (kc.aux_reporting && !kc.aux_remote && kc.aux.count + 4 <= QSIZE) {
		aux_packet();
		kc_refill();
	}
}

/* ---- the controller ---- */

static void kc_output_port(uint8_t v)
{
	kc.outport = v;
	if (!(v & 0x01))
		dm_request_reset();     /* the CPU reset line */
}

static void kc_command(uint8_t cmd)
{
	switch (cmd) {
	case 0x20:
		kc_reply(kc.cmdbyte);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		kc.pending_cmd = cmd;
		break;
	case 0xa7:
		kc.cmdbyte |= CB_AUX_OFF;
		break;
	case 0xa8:
		kc.cmdbyte &= (uint8_t)~CB_AUX_OFF;
		kc_refill();
		break;
	case 0xa9: case 0xab:           /* interface tests: no error */
		kc_reply(0x00);
		break;
	case 0xaa:                      /* self-test */
		kc.status |= ST_SYS;
		kc_reply(0x55);
		break;
	case 0xad:
		kc.cmdbyte |= CB_KBD_OFF;
		break;
	case 0xae:
		kc.cmdbyte &= (uint8_t)~CB_KBD_OFF;
		kc_refill();
		break;
	case 0xc0:                      /* input port */
		kc_reply(0xff);
		break;
	case 0xd0:
		kc_reply(kc.outport);
		break;
	case 0xdd: case 0xdf:           /* A20 off / on */
		kc.outport = (uint8_t)((kc.outport & ~0x02) |
				       (cmd == 0xdf ? 0x02 : 0));
		break;
	default:
		if (cmd >= 0xf0) {
			/* Pulse the output port bits clear in the low nibble. */
			if (!(cmd & 0x01))
				dm_request_reset();
		}
		break;
	}
}

/* The two ports are two regions; opaque tells them apart. */
static char kc_cmd_port;
#define IS_CMD_PORT(o) ((o) == &kc_cmd_port)

static uint64_t kc_read(void *opaque, uint64_t off, unsigned size)
{
	(void)off;
	(void)size;
	if (IS_CMD_PORT(opaque))
		return kc.status;
	/* Port 0x60: the output buffer (the last byte again when empty). */
	uint8_t v = kc.out;

	kc.status &= (uint8_t)~(ST_OBF | ST_AUXB);
	/* Drop the line before the next byte comes in: each byte is its own
	 * edge for the (edge-triggered) PIC. */
	kc_update_irq();
	kc_refill();
	return v;
}

static void kc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	uint8_t v = (uint8_t)val;

	(void)off;
	(void)size;
	if (IS_CMD_PORT(opaque)) {
		kc.status |= ST_CMD;
		kc_command(v);
		return;
	}
	kc.status &= (uint8_t)~ST_CMD;
	switch (kc.pending_cmd) {
	case 0x60:
		kc.cmdbyte = v;
		kc.status = (uint8_t)((kc.status & ~ST_SYS) | (v & CB_SYS));
		kc_refill();
		break;
	case 0xd1:
		kc_output_port(v);
		break;
	case 0xd2:
		q_put(&kc.ctl_kbd, v);
		kc_refill();
		break;
	case 0xd3:
		q_put(&kc.ctl_aux, v);
		kc_refill();
		break;
	case 0xd4:
		aux_write(v);
		kc_refill();
		break;
	default:
		/* Writing to the keyboard re-enables its interface. */
		kc.cmdbyte &= (uint8_t)~CB_KBD_OFF;
		kbd_write(v);
		kc_refill();
		break;
	}
	kc.pending_cmd = 0;
}

static const struct io_ops kc_ops = {
	.read = kc_read, .write = kc_write, .min_size = 1, .max_size = 1,
};

static uint64_t p92_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return port92;
}

static void p92_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	port92 = (uint8_t)(v & 0x02);   /* A20; bit 0 is a reset pulse */
	if (v & 0x01)
		dm_request_reset();
}

static const struct io_ops p92_ops = {
	.read = p92_read, .write = p92_write, .min_size = 1, .max_size = 1,
};

static void kc_reset(void *opaque)
{
	(void)opaque;
	memset(&kc.kbd, 0, sizeof(kc.kbd));
	memset(&kc.aux, 0, sizeof(kc.aux));
	memset(&kc.ctl_kbd, 0, sizeof(kc.ctl_kbd));
	memset(&kc.ctl_aux, 0, sizeof(kc.ctl_aux));
	kc.status = ST_INH;
	kc.cmdbyte = CB_KBD_INT | CB_AUX_INT | CB_XLATE;
	kc.outport = 0x03;              /* not in reset, A20 on */
	kc.out = 0;
	kc.pending_cmd = 0;
	kbd_reset_state();
	aux_reset_state();
	port92 = 0;
	kc_update_irq();
}

int i8042_init(void)
{
	if (!io_region_add(IO_SPACE_PIO, 0x60, 1, &kc_ops, NULL, "i8042-data", 0) ||
	    !io_region_add(IO_SPACE_PIO, 0x64, 1, &kc_ops, &kc_cmd_port,
			   "i8042-cmd", 0) ||
	    !io_region_add(IO_SPACE_PIO, 0x92, 1, &p92_ops, NULL, "port92", 0))
		return -1;
	kc_reset(NULL);
	dm_register_reset(kc_reset, NULL);
	return 0;
}
