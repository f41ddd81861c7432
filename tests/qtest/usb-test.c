/*
 * USB over qtest: the PIIX3 UHCI at 01.2 with a tablet, driven as a
 * guest driver would, from a frame list, queue heads and transfer
 * descriptors written into guest memory.  Enumeration (GET_DESCRIPTOR,
 * SET_ADDRESS, SET_CONFIGURATION, strings, the HID report descriptor),
 * interrupt IN reports after QMP input-send-event (absolute for the
 * tablet, relative for the mouse, keys for the keyboard), NAKs, short
 * packets, stalls, port reset and connect-change bits, hotplug through
 * device_add/device_del, a hub, the frame timer slowing down when idle,
 * and the error paths: a buffer outside RAM, a looped schedule, an
 * oversized MaxLen, and control transfers with lengths beyond the
 * device's buffer (CVE-2020-14364).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static struct qts *q;

#define DEVFN   ((1 << 3) | 2)
#define IOBASE  0xc000
#define IRQ     11

#define FL      0x100000u       /* frame list */
#define QH      0x101000u
#define QH2     0x101010u
#define TDS     0x102000u       /* TDs, 16 bytes apart */
#define BUF     0x104000u       /* buffers, 0x100 apart */

#define TD_ACTIVE  0x00800000u
#define TD_STALLED 0x00400000u
#define TD_DBUF    0x00200000u
#define TD_NAK     0x00080000u
#define TD_TIMEOUT 0x00040000u
#define TD_IOC     0x01000000u
#define TD_SPD     0x20000000u
#define TD_ERRS    0x18000000u  /* three retries */

#define PID_SETUP 0x2d
#define PID_IN    0x69
#define PID_OUT   0xe1

static uint16_t rd(unsigned r) { return qts_inw(q, IOBASE + r); }
static void wr(unsigned r, uint16_t v) { qts_outw(q, IOBASE + r, v); }

static void step_ms(unsigned ms)
{
	qts_clock_step(q, ms * 1000000ull);
}

static uint32_t token(uint8_t pid, uint8_t addr, uint8_t ep, bool toggle,
		      unsigned len)
{
	return (uint32_t)((len - 1) & 0x7ff) << 21 | (toggle ? 1u << 19 : 0) |
	       (uint32_t)ep << 15 | (uint32_t)addr << 8 | pid;
}

static void td_write(unsigned i, uint32_t link, uint32_t ctrl, uint32_t tok,
		     uint32_t buf)
{
	uint32_t a = TDS + 16 * i;

	qts_writel(q, a, link);
	qts_writel(q, a + 4, ctrl);
	qts_writel(q, a + 8, tok);
	qts_writel(q, a + 12, buf);
}

static uint32_t td_ctrl(unsigned i)
{
	return qts_readl(q, TDS + 16 * i + 4);
}

static unsigned actlen(uint32_t ctrl)
{
	return ((ctrl & 0x7ff) + 1) & 0x7ff;
}

/* Every frame points at the one QH. */
static void schedule_init(void)
{
	for (unsigned i = 0; i < 1024; i++)
		qts_writel(q, FL + 4 * i, QH | 2);
	qts_writel(q, QH, 1);           /* head: end */
	qts_writel(q, QH + 4, 1);       /* element: empty */
	qts_outl(q, IOBASE + 0x08, FL);
}

/* Queue TDs 0..n-1 (already written) and run frames until the last is
 * done or ms pass.  Returns the last TD's status. */
static uint32_t run(unsigned first, unsigned last, unsigned ms)
{
	qts_writel(q, QH + 4, TDS + 16 * first);
	for (unsigned i = 0; i < ms; i++) {
		step_ms(1);
		if (!(td_ctrl(last) & TD_ACTIVE))
			break;
	}
	return td_ctrl(last);
}

/*
 * A control transfer to addr: SETUP, IN or OUT data stages of up to 8
 * bytes, then the status stage.  data holds what an OUT stage sends and
 * receives what an IN stage brought.  Returns the bytes moved in the data
 * stage, or -1 when a TD ended with an error (its status in *err).
 */
static int control(uint8_t addr, uint8_t type, uint8_t req, uint16_t value,
		   uint16_t index, uint16_t length, uint8_t *data,
		   uint32_t *err)
{
	uint8_t setup[8] = { type, req, (uint8_t)value, (uint8_t)(value >> 8),
			     (uint8_t)index, (uint8_t)(index >> 8),
			     (uint8_t)length, (uint8_t)(length >> 8) };
	bool in = type & 0x80;
	unsigned n = 0, chunks = (length + 7) / 8, got = 0;
	uint32_t c;

	qts_memwrite(q, BUF, setup, 8);
	td_write(n, (TDS + 16 * (n + 1)) | 4, TD_ACTIVE | TD_ERRS,
		 token(PID_SETUP, addr, 0, false, 8), BUF);
	n++;
	for (unsigned i = 0; i < chunks; i++) {
		unsigned len = length - 8 * i < 8 ? length - 8 * i : 8;

		if (!in)
			qts_memwrite(q, BUF + 0x100 + 8 * i, data + 8 * i, len);
		td_write(n, (TDS + 16 * (n + 1)) | 4,
			 TD_ACTIVE | TD_ERRS | (in ? TD_SPD : 0),
			 token(in ? PID_IN : PID_OUT, addr, 0, !(i & 1),
			       in ? 8 : len),
			 BUF + 0x100 + 8 * i);
		n++;
	}
	td_write(n, 1, TD_ACTIVE | TD_ERRS | TD_IOC,
		 token(in ? PID_OUT : PID_IN, addr, 0, true, 0), 0);
	c = run(0, n, 50);
	for (unsigned i = 0; i <= n; i++) {
		uint32_t s = td_ctrl(i);

		if (s & (TD_STALLED | TD_TIMEOUT | TD_DBUF)) {
			*err = s;
			return -1;
		}
		if (s & TD_ACTIVE) {
			/* A short IN stage stops the queue there (SPD): the
			 * driver finishes with the status stage itself. */
			if (i > 1 && i <= n && in && actlen(td_ctrl(i - 1)) < 8) {
				qts_writel(q, QH + 4, TDS + 16 * n);
				c = run(n, n, 50);
				break;
			}
			*err = s;
			return -1;
		}
		if (i > 0 && i < n)
			got += actlen(s);
	}
	if (c & (TD_ACTIVE | TD_STALLED | TD_TIMEOUT)) {
		*err = c;
		return -1;
	}
	if (in)
		qts_memread(q, BUF + 0x100, data, got);
	return (int)got;
}

static const char *qmp_ok(const char *r)
{
	return r && strstr(r, "\"return\"") ? NULL : (r ? r : "no reply");
}

static void input(const char *events)
{
	qts_qmp(q, "{\"execute\": \"input-send-event\", \"arguments\": "
		"{\"events\": [%s]}}", events);
}

/* Reset a root port and enable it. */
static void port_reset(unsigned port)
{
	unsigned r = 0x10 + 2 * port;

	wr(r, 0x0200);
	step_ms(10);
	wr(r, 0x0000);
	wr(r, 0x0004 | 0x000a);         /* enable, clear the change bits */
}

/* One interrupt IN TD (index 20) on addr/ep 1; returns its status. */
static uint32_t poll_in(uint8_t addr, unsigned len, uint8_t *data,
			unsigned ms)
{
	uint32_t c;

	td_write(20, 1, TD_ACTIVE | TD_ERRS | TD_SPD | TD_IOC,
		 token(PID_IN, addr, 1, false, len), BUF + 0x800);
	c = run(20, 20, ms);
	if (!(c & TD_ACTIVE) && data)
		qts_memread(q, BUF + 0x800, data, actlen(c));
	return c;
}

static void enumerate_tablet(void)
{
	uint8_t d[256];
	uint32_t err = 0;
	int n;

	n = control(0, 0x80, 6, 0x0100, 0, 18, d, &err);
	test_check("usb/get-device-descriptor",
		   n == 18 && d[0] == 18 && d[1] == 1 && d[8] == 0x27 &&
		   d[9] == 0x06 && d[10] == 0x01 && d[11] == 0x00,
		   "n=%d err=%#x vendor %02x%02x product %02x%02x", n, err,
		   d[9], d[8], d[11], d[10]);
	n = control(0, 0x00, 5, 5, 0, 0, NULL, &err);
	test_check("usb/set-address", n == 0, "err=%#x", err);
	n = control(0, 0x80, 6, 0x0100, 0, 8, d, &err);
	test_check("usb/old-address-gone", n < 0 && (err & TD_TIMEOUT) &&
		   (rd(0x02) & 0x02), "n=%d err=%#x sts=%#x", n, err, rd(0x02));
	wr(0x02, 0x02);
	n = control(5, 0x80, 6, 0x0200, 0, 255, d, &err);
	test_check("usb/get-config-descriptor",
		   n == 34 && d[2] == 34 && d[9 + 5] == 3 && d[18 + 1] == 0x21 &&
		   d[27 + 2] == 0x81 && d[27 + 3] == 3,
		   "n=%d err=%#x", n, err);
	n = control(5, 0x80, 6, 0x0302, 0x0409, 255, d, &err);
	test_check("usb/get-string", n == 2 + 2 * 15 &&
		   d[2] == 'Q' && d[2 + 2 * 5] == 'U' && d[2 + 2 * 9] == 'T',
		   "n=%d err=%#x", n, err);
	n = control(5, 0x81, 6, 0x2200, 0, 255, d, &err);
	test_check("usb/hid-report-descriptor",
		   n > 40 && d[0] == 0x05 && d[1] == 0x01 && d[2] == 0x09 &&
		   d[3] == 0x02 && d[n - 1] == 0xc0,
		   "n=%d err=%#x", n, err);
	n = control(5, 0x00, 9, 1, 0, 0, NULL, &err);
	test_check("usb/set-configuration", n == 0, "err=%#x", err);
	n = control(5, 0x80, 8, 0, 0, 1, d, &err);
	test_check("usb/get-configuration", n == 1 && d[0] == 1,
		   "n=%d d=%u", n, d[0]);
	n = control(5, 0x80, 6, 0x0f00, 0, 64, d, &err);
	test_check("usb/unknown-descriptor-stalls",
		   n < 0 && (err & TD_STALLED) && (rd(0x02) & 0x02),
		   "n=%d err=%#x", n, err);
	wr(0x02, 0x02);
}

static void tablet_reports(void)
{
	uint8_t r[8] = { 0 };
	uint32_t c;

	c = poll_in(5, 8, r, 5);
	test_check("usb/interrupt-in-naks", (c & TD_ACTIVE) && (c & TD_NAK),
		   "status %#x", c);
	qts_irq_intercept(q);
	wr(0x04, 0x0c);                 /* IOC and short packet */
	wr(0x02, 0x3f);
	input("{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": 16384}},"
	      "{\"type\": \"abs\", \"data\": {\"axis\": \"y\", \"value\": 8192}},"
	      "{\"type\": \"btn\", \"data\": {\"down\": true, \"button\": \"left\"}}");
	c = run(20, 20, 5);
	qts_memread(q, BUF + 0x800, r, 6);
	test_check("usb/tablet-absolute-report",
		   !(c & TD_ACTIVE) && actlen(c) == 6 && r[0] == 1 &&
		   r[1] == 0x00 && r[2] == 0x40 && r[3] == 0x00 && r[4] == 0x20,
		   "status %#x report %02x %02x%02x %02x%02x", c, r[0], r[2],
		   r[1], r[4], r[3]);
	test_check("usb/short-packet-interrupt",
		   (rd(0x02) & 0x01) && qts_get_irq(q, IRQ) &&
		   qts_readl(q, QH + 4) == TDS + 16 * 20,
		   "sts %#x irq %d element %#x", rd(0x02), qts_get_irq(q, IRQ),
		   qts_readl(q, QH + 4));
	wr(0x02, 0x01);
	test_check("usb/interrupt-cleared", !qts_get_irq(q, IRQ) &&
		   !(rd(0x02) & 0x01), "sts %#x", rd(0x02));
	input("{\"type\": \"btn\", \"data\": {\"down\": false, \"button\": \"left\"}},"
	      "{\"type\": \"btn\", \"data\": {\"down\": true, \"button\": \"wheel-up\"}}");
	c = poll_in(5, 8, r, 5);
	test_check("usb/tablet-button-up-wheel",
		   !(c & TD_ACTIVE) && r[0] == 0 && r[2] == 0x40 && r[5] == 1,
		   "status %#x report %02x .. %02x", c, r[0], r[5]);
	wr(0x02, 0x3f);
}

static void idle_timer(void)
{
	uint8_t r[8];
	uint64_t t0, t1;
	uint32_t c;

	/* A NAKing poll, long enough for the controller to call it idle. */
	c = poll_in(5, 8, r, 100);
	t0 = qts_clock_step(q, 0);      /* to the next deadline */
	t1 = qts_clock_step(q, 0);
	test_check("usb/idle-frame-timer-slows",
		   (c & TD_ACTIVE) && t1 - t0 >= 10000000ull,
		   "status %#x, next frame after %llu ns", c,
		   (unsigned long long)(t1 - t0));
	input("{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": 100}}");
	step_ms(1);
	c = td_ctrl(20);
	qts_memread(q, BUF + 0x800, r, 6);
	test_check("usb/input-wakes-frame-timer",
		   !(c & TD_ACTIVE) && r[1] == 100 && r[2] == 0,
		   "status %#x x=%u", c, r[1] | r[2] << 8);
	{
		uint16_t f0 = rd(0x06), f1;

		step_ms(200);
		f1 = rd(0x06);
		test_check("usb/frnum-counts-while-idle",
			   ((f1 - f0) & 0x7ff) >= 195 && ((f1 - f0) & 0x7ff) <= 205,
			   "frnum %u -> %u", f0, f1);
	}
}

/* SET_IDLE: a non-zero rate repeats the last report without input. */
static void idle_rate(void)
{
	uint8_t r[8];
	uint32_t c, err;
	int n;

	n = control(5, 0x21, 0x0a, 25 << 8, 0, 0, NULL, &err);  /* 100 ms */
	c = poll_in(5, 8, r, 50);
	test_check("usb/idle-rate-not-before", n == 0 && (c & TD_ACTIVE),
		   "n=%d status %#x", n, c);
	c = run(20, 20, 100);
	qts_memread(q, BUF + 0x800, r, 6);
	test_check("usb/idle-rate-repeats-report",
		   !(c & TD_ACTIVE) && actlen(c) == 6 && r[1] == 100,
		   "status %#x x=%u", c, r[1] | r[2] << 8);
	n = control(5, 0x21, 0x0a, 0, 0, 0, NULL, &err);
	c = poll_in(5, 8, r, 150);
	test_check("usb/idle-rate-0-only-on-change", n == 0 && (c & TD_ACTIVE),
		   "n=%d status %#x", n, c);
}

/* A suspended port whose device may wake the host: input sets resume
 * detect on the port and in USBSTS, with an interrupt. */
static void suspend_resume(void)
{
	uint8_t d[2], r[8];
	uint32_t c, err;
	int n;

	n = control(5, 0x00, 3, 1, 0, 0, NULL, &err);   /* REMOTE_WAKEUP */
	test_check("usb/set-remote-wakeup", n == 0 &&
		   control(5, 0x80, 0, 0, 0, 2, d, &err) == 2 && (d[0] & 2),
		   "n=%d status %#x", n, d[0]);
	wr(0x02, 0x3f);
	wr(0x04, 0x02);                 /* resume interrupt */
	wr(0x10, 0x1004);               /* enabled, suspended */
	test_check("usb/port-suspended", (rd(0x10) & 0x1004) == 0x1004 &&
		   !qts_get_irq(q, IRQ), "portsc1 %#x", rd(0x10));
	input("{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": 200}}");
	test_check("usb/remote-wakeup-resume-detect",
		   (rd(0x10) & 0x0040) && (rd(0x02) & 0x04) && qts_get_irq(q, IRQ),
		   "portsc1 %#x sts %#x", rd(0x10), rd(0x02));
	wr(0x10, 0x0004);               /* resume */
	wr(0x02, 0x04);
	wr(0x04, 0x00);
	c = poll_in(5, 8, r, 5);
	test_check("usb/report-after-resume", !(c & TD_ACTIVE) && r[1] == 200 &&
		   !qts_get_irq(q, IRQ), "status %#x x=%u", c, r[1]);
	control(5, 0x00, 1, 1, 0, 0, NULL, &err);
}

/* CVE-2020-14364: a SETUP's wLength beyond the device's buffer, then data
 * stages that would run past it. */
static void control_lengths(void)
{
	uint8_t setup[8] = { 0x80, 6, 0, 2, 0, 0, 0xff, 0xff };
	uint8_t d[64];
	uint32_t c, err = 0;
	int n;

	qts_memwrite(q, BUF, setup, 8);
	td_write(0, (TDS + 16) | 4, TD_ACTIVE | TD_ERRS,
		 token(PID_SETUP, 5, 0, false, 8), BUF);
	for (unsigned i = 1; i < 5; i++)
		td_write(i, (TDS + 16 * (i + 1)) | 4, TD_ACTIVE | TD_ERRS,
			 token(PID_IN, 5, 0, i & 1, 1280), BUF + 0x1000 * i);
	td_write(5, 1, TD_ACTIVE | TD_ERRS, token(PID_OUT, 5, 0, true, 0), 0);
	c = run(0, 0, 50);
	test_check("usb/cve-2020-14364-in-setup-stalls",
		   (c & TD_STALLED) && !(c & TD_ACTIVE), "status %#x", c);
	qts_writel(q, QH + 4, TDS + 16);
	c = run(1, 1, 50);
	test_check("usb/cve-2020-14364-in-data-stalls",
		   (c & TD_STALLED) && actlen(c) == 0, "status %#x", c);
	/* OUT: wLength 0x2000, then 1280-byte data stages. */
	setup[0] = 0x21;
	setup[1] = 0x09;
	setup[6] = 0x00;
	setup[7] = 0x20;
	qts_memwrite(q, BUF, setup, 8);
	td_write(0, (TDS + 16) | 4, TD_ACTIVE | TD_ERRS,
		 token(PID_SETUP, 5, 0, false, 8), BUF);
	for (unsigned i = 1; i < 5; i++)
		td_write(i, (TDS + 16 * (i + 1)) | 4, TD_ACTIVE | TD_ERRS,
			 token(PID_OUT, 5, 0, i & 1, 1280), BUF + 0x1000 * i);
	c = run(0, 0, 50);
	test_check("usb/cve-2020-14364-out-setup-stalls",
		   (c & TD_STALLED), "status %#x", c);
	qts_writel(q, QH + 4, TDS + 16);
	c = run(1, 1, 50);
	test_check("usb/cve-2020-14364-out-data-stalls",
		   (c & TD_STALLED), "status %#x", c);
	/* A 16-byte SETUP. */
	td_write(0, 1, TD_ACTIVE | TD_ERRS, token(PID_SETUP, 5, 0, false, 16),
		 BUF);
	c = run(0, 0, 50);
	test_check("usb/setup-of-16-bytes-stalls", (c & TD_STALLED),
		   "status %#x", c);
	/* An OUT data stage longer than its wLength. */
	setup[6] = 1;
	setup[7] = 0;
	setup[2] = 0;
	setup[3] = 2;
	qts_memwrite(q, BUF, setup, 8);
	td_write(0, (TDS + 16) | 4, TD_ACTIVE | TD_ERRS,
		 token(PID_SETUP, 5, 0, false, 8), BUF);
	td_write(1, 1, TD_ACTIVE | TD_ERRS, token(PID_OUT, 5, 0, true, 64),
		 BUF + 0x1000);
	c = run(0, 1, 50);
	test_check("usb/out-beyond-wlength-stalls",
		   !(td_ctrl(0) & TD_STALLED) && (c & TD_STALLED),
		   "status %#x %#x", td_ctrl(0), c);
	wr(0x02, 0x3f);
	n = control(5, 0x80, 6, 0x0100, 0, 18, d, &err);
	test_check("usb/device-fine-after-bad-lengths", n == 18 && d[0] == 18,
		   "n=%d err=%#x", n, err);
}

static void restart(void)
{
	wr(0x00, 0x0002);               /* HCRESET: ports too */
	wr(0x02, 0x3f);
	schedule_init();
	port_reset(0);
	wr(0x00, 0x0001);
}

static void schedule_errors(void)
{
	uint16_t f0, f1;
	uint32_t c;
	const char *r;

	/* A buffer outside guest RAM: host system error, halted. */
	td_write(0, 1, TD_ACTIVE | TD_ERRS, token(PID_IN, 5, 0, false, 8),
		 0xfffff000u);
	qts_memwrite(q, BUF, (uint8_t[]){ 0x80, 6, 0, 1, 0, 0, 18, 0 }, 8);
	td_write(1, TDS | 4, TD_ACTIVE | TD_ERRS,
		 token(PID_SETUP, 5, 0, false, 8), BUF);
	c = run(1, 0, 10);
	test_check("usb/td-buffer-outside-ram",
		   (rd(0x02) & 0x28) == 0x28 && !(rd(0x00) & 1) &&
		   qts_get_irq(q, IRQ),
		   "sts %#x cmd %#x status %#x", rd(0x02), rd(0x00), c);
	restart();
	/* A TD link outside RAM. */
	qts_writel(q, QH + 4, 0xffffff00u);
	step_ms(3);
	test_check("usb/td-link-outside-ram", (rd(0x02) & 0x28) == 0x28,
		   "sts %#x", rd(0x02));
	restart();
	/* The frame list outside RAM. */
	qts_outl(q, IOBASE + 0x08, 0xfffff000u);
	step_ms(3);
	test_check("usb/frame-list-outside-ram", (rd(0x02) & 0x28) == 0x28,
		   "sts %#x", rd(0x02));
	restart();
	/* Two QHs linked to each other, the first holding a ring of
	 * retired TDs: each frame ends, time goes on. */
	qts_writel(q, QH, QH2 | 2);
	qts_writel(q, QH2, QH | 2);
	qts_writel(q, QH2 + 4, 1);
	for (unsigned i = 0; i < 4; i++)
		td_write(i, (TDS + 16 * ((i + 1) % 4)) | 4, 0,
			 token(PID_IN, 77, 1, false, 8), BUF);
	qts_writel(q, QH + 4, TDS);
	f0 = rd(0x06);
	step_ms(20);
	f1 = rd(0x06);
	r = qmp_ok(qts_qmp(q, "{\"execute\": \"query-status\"}"));
	test_check("usb/looped-schedule-ends",
		   ((f1 - f0) & 0x7ff) >= 19 && !r && (rd(0x00) & 1),
		   "frnum %u -> %u, %s", f0, f1, r ? r : "ok");
	/* A frame list entry leading to a ring of inactive TDs. */
	for (unsigned i = 0; i < 1024; i++)
		qts_writel(q, FL + 4 * i, TDS);
	f0 = rd(0x06);
	step_ms(20);
	f1 = rd(0x06);
	test_check("usb/td-ring-ends", ((f1 - f0) & 0x7ff) >= 19 &&
		   (rd(0x00) & 1), "frnum %u -> %u", f0, f1);
	restart();
	/* MaxLen 0x500 is beyond what the specification allows. */
	td_write(0, 1, TD_ACTIVE | TD_ERRS, token(PID_IN, 5, 1, false, 0x501),
		 BUF);
	run(0, 0, 3);
	test_check("usb/maxlen-beyond-1280-process-error",
		   (rd(0x02) & 0x30) == 0x30 && (td_ctrl(0) & TD_ACTIVE),
		   "sts %#x", rd(0x02));
	restart();
	/* A TD for nobody times out. */
	td_write(0, 1, TD_ACTIVE | TD_ERRS, token(PID_IN, 99, 1, false, 8),
		 BUF);
	c = run(0, 0, 5);
	test_check("usb/no-device-timeout", (c & TD_TIMEOUT) &&
		   !(c & TD_ACTIVE), "status %#x", c);
	/* IOC on a TD that is already inactive still interrupts. */
	wr(0x02, 0x3f);
	wr(0x04, 0x04);
	td_write(0, 1, TD_IOC, token(PID_IN, 5, 1, false, 8), BUF);
	qts_writel(q, QH + 4, TDS);
	step_ms(2);
	test_check("usb/ioc-on-inactive-td", (rd(0x02) & 0x01) &&
		   qts_get_irq(q, IRQ) && td_ctrl(0) == TD_IOC,
		   "sts %#x irq %d", rd(0x02), qts_get_irq(q, IRQ));
	wr(0x04, 0x00);
	wr(0x02, 0x3f);
}

static void ports(void)
{
	const char *r;

	test_check("usb/port1-connected",
		   (rd(0x10) & 0x0003) == 0x0003 && (rd(0x10) & 0x0080),
		   "portsc1 %#x", rd(0x10));
	test_check("usb/port2-empty", (rd(0x12) & ~0x0080) == 0,
		   "portsc2 %#x", rd(0x12));
	wr(0x10, 0x0002);
	test_check("usb/csc-write-one-clears", (rd(0x10) & 0x0003) == 0x0001,
		   "portsc1 %#x", rd(0x10));
	wr(0x10, 0x0200);
	test_check("usb/port-reset-bit", rd(0x10) & 0x0200,
		   "portsc1 %#x", rd(0x10));
	port_reset(0);
	test_check("usb/port-enabled", (rd(0x10) & 0x020f) == 0x0005,
		   "portsc1 %#x", rd(0x10));
	wr(0x12, 0x0004);
	test_check("usb/empty-port-cannot-enable", !(rd(0x12) & 0x0004),
		   "portsc2 %#x", rd(0x12));
	r = qmp_ok(qts_qmp(q, "{\"execute\": \"device_add\", \"arguments\": "
			   "{\"driver\": \"usb-tablet\", \"id\": \"t2\", "
			   "\"port\": \"1\"}}"));
	test_check("usb/port-taken-refused", r != NULL, "accepted");
}

/* Enumerate a device on a fresh port at addr with configuration 1. */
static bool bring_up(unsigned port, uint8_t addr, uint8_t *dev_desc)
{
	uint32_t err;

	port_reset(port);
	return control(0, 0x80, 6, 0x0100, 0, 18, dev_desc, &err) == 18 &&
	       control(0, 0x00, 5, addr, 0, 0, NULL, &err) == 0 &&
	       control(addr, 0x00, 9, 1, 0, 0, NULL, &err) == 0;
}

static void hotplug_kbd_mouse(void)
{
	uint8_t d[64], r[8];
	uint32_t c, err;
	const char *s;
	int n;

	wr(0x10, 0x0000);               /* the tablet's port off: address 0 */
	s = qmp_ok(qts_qmp(q, "{\"execute\": \"device_add\", \"arguments\": "
			   "{\"driver\": \"usb-kbd\", \"id\": \"kbd\", "
			   "\"bus\": \"usb.0\", \"port\": \"2\"}}"));
	test_check("usb/device-add-kbd", !s && (rd(0x12) & 0x0003) == 0x0003,
		   "%s portsc2 %#x", s ? s : "ok", rd(0x12));
	test_check("usb/kbd-enumerates", bring_up(1, 6, d) && d[10] == 1,
		   "product %02x", d[10]);
	n = control(6, 0xa1, 0x03, 0, 0, 1, d, &err);
	test_check("usb/kbd-get-protocol-report", n == 1 && d[0] == 1,
		   "n=%d p=%u", n, d[0]);
	n = control(6, 0x21, 0x0b, 0, 0, 0, NULL, &err);
	test_check("usb/kbd-set-protocol-boot", n == 0 &&
		   control(6, 0xa1, 0x03, 0, 0, 1, d, &err) == 1 && d[0] == 0,
		   "n=%d p=%u", n, d[0]);
	n = control(6, 0x21, 0x0a, 0, 0, 0, NULL, &err);
	test_check("usb/kbd-set-idle-0", n == 0 &&
		   control(6, 0xa1, 0x02, 0, 0, 1, d, &err) == 1 && d[0] == 0,
		   "n=%d idle=%u", n, d[0]);
	d[0] = 0x02;                    /* caps lock LED */
	n = control(6, 0x21, 0x09, 0x0200, 0, 1, d, &err);
	test_check("usb/kbd-set-report-leds", n == 1, "n=%d err=%#x", n, err);
	/* Keys now go to the USB keyboard, not the i8042. */
	while (qts_inb(q, 0x64) & 1)
		qts_inb(q, 0x60);
	input("{\"type\": \"key\", \"data\": {\"down\": true, \"key\": "
	      "{\"type\": \"qcode\", \"data\": \"shift\"}}},"
	      "{\"type\": \"key\", \"data\": {\"down\": true, \"key\": "
	      "{\"type\": \"qcode\", \"data\": \"a\"}}}");
	c = poll_in(6, 8, r, 5);
	test_check("usb/kbd-report-shift", !(c & TD_ACTIVE) && actlen(c) == 8 &&
		   r[0] == 0x02 && r[2] == 0, "status %#x %02x %02x", c,
		   r[0], r[2]);
	c = poll_in(6, 8, r, 5);
	test_check("usb/kbd-report-shift-a", !(c & TD_ACTIVE) &&
		   r[0] == 0x02 && r[2] == 0x04, "status %#x %02x %02x", c,
		   r[0], r[2]);
	test_check("usb/keys-not-to-ps2", !(qts_inb(q, 0x64) & 1),
		   "i8042 has output");
	s = qts_qmp(q, "{\"execute\": \"device_del\", \"arguments\": "
		    "{\"id\": \"kbd\"}}");
	test_check("usb/device-del-kbd",
		   !qmp_ok(s) && qts_qmp_event(q, "DEVICE_DELETED", 1000) &&
		   (rd(0x12) & 0x0007) == 0x0002 && (rd(0x12) & 0x0008),
		   "portsc2 %#x", rd(0x12));
	wr(0x12, 0x000a);
	input("{\"type\": \"key\", \"data\": {\"down\": false, \"key\": "
	      "{\"type\": \"qcode\", \"data\": \"a\"}}}");
	test_check("usb/keys-back-to-ps2", qts_inb(q, 0x64) & 1,
		   "i8042 has no output");
	while (qts_inb(q, 0x64) & 1)
		qts_inb(q, 0x60);

	/* A mouse: relative motion goes to it, not to the tablet. */
	s = qmp_ok(qts_qmp(q, "{\"execute\": \"device_add\", \"arguments\": "
			   "{\"driver\": \"usb-mouse\", \"id\": \"mouse\", "
			   "\"port\": 2}}"));
	test_check("usb/mouse-enumerates", !s && bring_up(1, 7, d),
		   "%s", s ? s : "control failed");
	input("{\"type\": \"rel\", \"data\": {\"axis\": \"x\", \"value\": 300}},"
	      "{\"type\": \"rel\", \"data\": {\"axis\": \"y\", \"value\": -5}}");
	c = poll_in(7, 8, r, 5);
	test_check("usb/mouse-relative-report", !(c & TD_ACTIVE) &&
		   actlen(c) == 4 && r[1] == 127 && r[2] == (uint8_t)-5,
		   "status %#x dx %d dy %d", c, (int8_t)r[1], (int8_t)r[2]);
	c = poll_in(7, 8, r, 5);
	test_check("usb/mouse-large-move-split", !(c & TD_ACTIVE) &&
		   r[1] == 127 && r[2] == 0, "status %#x dx %d", c, (int8_t)r[1]);
	c = poll_in(7, 8, r, 5);
	test_check("usb/mouse-rest-of-move", !(c & TD_ACTIVE) && r[1] == 46,
		   "status %#x dx %d", c, (int8_t)r[1]);
	qts_qmp(q, "{\"execute\": \"device_del\", \"arguments\": "
		"{\"id\": \"mouse\"}}");
	qts_qmp_event(q, "DEVICE_DELETED", 1000);
	wr(0x12, 0x000a);
}

static void hub(void)
{
	uint8_t d[64], r[8];
	uint32_t c, err;
	const char *s;
	int n;

	s = qmp_ok(qts_qmp(q, "{\"execute\": \"device_add\", \"arguments\": "
			   "{\"driver\": \"usb-hub\", \"id\": \"hub\", "
			   "\"port\": \"2\"}}"));
	test_check("usb/hub-enumerates", !s && bring_up(1, 8, d) && d[4] == 9,
		   "%s class %u", s ? s : "ok", d[4]);
	n = control(8, 0xa0, 6, 0x2900, 0, 64, d, &err);
	test_check("usb/hub-descriptor", n >= 9 && d[1] == 0x29 && d[2] == 8,
		   "n=%d ports %u", n, d[2]);
	c = poll_in(8, 2, r, 3);
	test_check("usb/hub-status-naks", (c & TD_ACTIVE) && (c & TD_NAK),
		   "status %#x", c);
	s = qmp_ok(qts_qmp(q, "{\"execute\": \"device_add\", \"arguments\": "
			   "{\"driver\": \"usb-kbd\", \"id\": \"k2\", "
			   "\"port\": \"2.3\"}}"));
	c = run(20, 20, 5);
	qts_memread(q, BUF + 0x800, r, 1);
	test_check("usb/hub-port-change", !s && !(c & TD_ACTIVE) &&
		   r[0] == 1 << 3, "%s status %#x map %#x", s ? s : "ok", c,
		   r[0]);
	n = control(8, 0xa3, 0, 0, 3, 4, d, &err);
	test_check("usb/hub-port-status", n == 4 && (d[0] & 1) && (d[2] & 1),
		   "n=%d %02x %02x", n, d[0], d[2]);
	control(8, 0x23, 3, 4, 3, 0, NULL, &err);        /* PORT_RESET */
	n = control(0, 0x80, 6, 0x0100, 0, 18, d, &err);
	test_check("usb/device-behind-hub", n == 18 && d[1] == 1,
		   "n=%d err=%#x", n, err);
	s = qts_qmp(q, "{\"execute\": \"device_del\", \"arguments\": "
		    "{\"id\": \"hub\"}}");
	test_check("usb/hub-unplugged", !qmp_ok(s) &&
		   qts_qmp_event(q, "DEVICE_DELETED", 1000) &&
		   !(rd(0x12) & 1) && qmp_ok(qts_qmp(q, "{\"execute\": "
			"\"device_del\", \"arguments\": {\"id\": \"hub\"}}")),
		   "portsc2 %#x", rd(0x12));
}

/* Random schedules: links into the schedule area (or anywhere), random
 * tokens, lengths and status bits, random register writes in between;
 * qemu-dm must keep answering. */
static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void fuzz(void)
{
	static const uint8_t pids[] = { PID_SETUP, PID_IN, PID_OUT, 0x00 };
	uint32_t words[0x2000 / 4];
	const char *r = NULL;

	for (unsigned round = 0; round < 40 && !r; round++) {
		for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			uint32_t v = rnd();

			switch (v % 8) {
			case 0: case 1: case 2:         /* a link in the area */
				v = (FL + (rnd() % 0x2000 & ~0xfu)) | (v >> 8 & 7);
				break;
			case 3:                         /* a token */
				v = (v & 0xffe7ff00) | pids[v >> 8 & 3] |
				    (rnd() % 3) << 8;
				break;
			case 4:                         /* an active status */
				v |= TD_ACTIVE;
				break;
			}
			words[i] = v;
		}
		qts_memwrite(q, FL, words, sizeof(words));
		if (round % 4 == 0) {
			restart();
			qts_memwrite(q, FL, words, sizeof(words));
		}
		if (round % 5 == 1)
			wr(rnd() % 0x14 & ~1u, (uint16_t)rnd());
		step_ms(20);
		r = qmp_ok(qts_qmp(q, "{\"execute\": \"query-status\"}"));
	}
	test_check("usb/random-schedules-survived", !r, "%s", r ? r : "");
}

/* Run qemu-dm with args; its exit status and its stderr in err. */
static int run_dm(const char *args, char *err, size_t errlen)
{
	char cmd[512];
	FILE *p;
	size_t n = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "bin/qemu-dm -accel qtest -qtest stdio "
		 "-display none %s 2>&1 >/dev/null </dev/null", args);
	p = popen(cmd, "r");
	err[0] = '\0';
	if (!p)
		return -1;
	n = fread(err, 1, errlen - 1, p);
	err[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Command lines: QEMU's own test's, and mistakes with their messages. */
static void command_line(void)
{
	static const struct {
		const char *name, *args, *want;
		int status;
	} cases[] = {
		{ "usb/cmdline-qemu-uhci-test",
		  "-device piix3-usb-uhci,id=uhci,addr=1d.0 -drive id=drive0,"
		  "if=none,file=null-co://,file.read-zeroes=on,format=raw "
		  "-device usb-tablet,bus=uhci.0,port=1", "", 0 },
		{ "usb/cmdline-all-devices",
		  "-usb -usbdevice mouse -device usb-hub,"
		  "id=h -device usb-tablet,port=2.1 -device usb-kbd,bus=usb.0",
		  "", 0 },
		{ "usb/cmdline-bad-usbdevice", "-usbdevice joystick",
		  "use tablet, mouse or keyboard", 1 },
		{ "usb/cmdline-no-controller", "-device usb-tablet",
		  "add -usb", 1 },
		{ "usb/cmdline-no-such-bus", "-usb -device usb-kbd,bus=uhci.0",
		  "no USB bus 'uhci.0'", 1 },
		{ "usb/cmdline-bad-port", "-usb -device usb-kbd,port=3",
		  "no port '3'", 1 },
		{ "usb/cmdline-port-taken",
		  "-usb -device usb-kbd,port=1 -device usb-mouse,port=1",
		  "port '1' is taken", 1 },
		{ "usb/cmdline-ports-full",
		  "-usb -device usb-kbd -device usb-mouse -device usb-tablet",
		  "add -device usb-hub", 1 },
	};
	char err[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = run_dm(cases[i].args, err, sizeof(err));

		test_check(cases[i].name, st == cases[i].status &&
			   (!cases[i].want[0] ? !strstr(err, "error") :
			    strstr(err, cases[i].want) != NULL),
			   "status %d: %s", st, err);
	}
}

int main(void)
{
	uint32_t id;

	q = qts_start("-usb -device usb-tablet,id=tab");
	if (!q)
		return 1;
	id = qts_pci_read(q, DEVFN, 0, 4);
	test_check("usb/uhci-ids", id == 0x70208086 &&
		   qts_pci_read(q, DEVFN, 0x08, 4) >> 8 == 0x0c0300 &&
		   qts_pci_read(q, DEVFN, 0x3d, 1) == 4,
		   "id %#x class %#x pin %u", id,
		   qts_pci_read(q, DEVFN, 0x08, 4) >> 8,
		   qts_pci_read(q, DEVFN, 0x3d, 1));
	qts_pci_write(q, DEVFN, 0x20, IOBASE | 1, 4);
	qts_pci_write(q, DEVFN, 0x04, 0x0005, 2);
	qts_pci_write(q, (1 << 3), 0x60, IRQ, 1);       /* PIRQA -> 11 */
	test_check("usb/registers-after-reset",
		   rd(0x00) == 0 && rd(0x02) == 0x20 && qts_inb(q, IOBASE + 0x0c) == 64,
		   "cmd %#x sts %#x sof %u", rd(0x00), rd(0x02),
		   qts_inb(q, IOBASE + 0x0c));
	ports();
	schedule_init();
	wr(0x00, 0x0081);               /* run, 64-byte packets */
	test_check("usb/running", !(rd(0x02) & 0x20), "sts %#x", rd(0x02));
	enumerate_tablet();
	tablet_reports();
	idle_timer();
	idle_rate();
	suspend_resume();
	control_lengths();
	schedule_errors();
	wr(0x04, 0x00);
	hotplug_kbd_mouse();
	hub();
	fuzz();
	command_line();
	test_check("usb/still-running",
		   !qmp_ok(qts_qmp(q, "{\"execute\": \"query-status\"}")),
		   "qemu-dm stopped answering");
	qts_quit(q);
	return test_exit();
}
