/*
 * Keyboard and mouse input through QMP (send-key, input-send-event) to
 * the PS/2 devices, read back at the i8042 over qtest: set 1 codes with
 * the controller's translation on, set 2 with it off, the hold time on
 * the virtual clock, a keyboard reset dropping queued keys, mouse stream
 * packets with buttons and the IntelliMouse wheel, and bad arguments
 * refused with qemu-dm still running.
 */
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static struct qts *q;

static bool full(void)
{
	return qts_inb(q, 0x64) & 0x01;
}

/* Read the next n output bytes; false when fewer were there. */
static bool read_bytes(uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!full())
			return false;
		b[i] = qts_inb(q, 0x60);
	}
	return true;
}

static bool expect(const uint8_t *want, unsigned n)
{
	uint8_t got[16];

	return n <= sizeof(got) && read_bytes(got, n) &&
	       !memcmp(got, want, n) && !full();
}

static void ctl(uint8_t c)
{
	qts_outb(q, 0x64, c);
}

static void aux(uint8_t v)
{
	ctl(0xd4);
	qts_outb(q, 0x60, v);
}

static bool ok(const char *r)
{
	return r && strstr(r, "\"return\"");
}

static bool refused(const char *r)
{
	return r && strstr(r, "GenericError");
}

static void key(const char *qcode, bool down)
{
	qts_qmp(q, "{\"execute\": \"input-send-event\", \"arguments\": "
		"{\"events\": [{\"type\": \"key\", \"data\": {\"down\": %s, "
		"\"key\": {\"type\": \"qcode\", \"data\": \"%s\"}}}]}}",
		down ? "true" : "false", qcode);
}

static void keyboard(void)
{
	const char *r;

	qts_irq_intercept(q);
	r = qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\": {\"keys\": "
		    "[{\"type\": \"qcode\", \"data\": \"ctrl\"}, "
		    "{\"type\": \"qcode\", \"data\": \"a\"}], \"hold-time\": 50}}");
	bool rok = ok(r);       /* r is valid until the next call only */
	bool irq1 = qts_get_irq(q, 1);
	test_check("input/send-key-press", rok && irq1 &&
		   expect((const uint8_t[]){ 0x1d, 0x1e }, 2),
		   "reply ok %d, IRQ 1 %d", rok, irq1);
	qts_clock_step(q, 49000000);
	bool early = full();
	qts_clock_step(q, 2000000);
	test_check("input/send-key-release-after-hold", !early &&
		   expect((const uint8_t[]){ 0x9e, 0x9d }, 2),
		   "released early %d", early);

	r = qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\": {\"keys\": "
		    "[{\"type\": \"number\", \"data\": 156}], \"hold-time\": 0}}");
	rok = ok(r);
	qts_clock_step(q, 1000000);
	test_check("input/send-key-number-extended", rok &&
		   expect((const uint8_t[]){ 0xe0, 0x1c, 0xe0, 0x9c }, 4),
		   "keypad enter");

	/* Translation off: the guest reads set 2 itself. */
	ctl(0x60);
	qts_outb(q, 0x60, 0x03);
	key("a", true);
	key("a", false);
	key("right", true);
	key("right", false);
	test_check("input/set2-untranslated",
		   expect((const uint8_t[]){ 0x1c, 0xf0, 0x1c, 0xe0, 0x74,
					      0xe0, 0xf0, 0x74 }, 8),
		   "wrong set 2 bytes");
	qts_outb(q, 0x60, 0xf0);
	bool acked = expect((const uint8_t[]){ 0xfa }, 1);
	qts_outb(q, 0x60, 0x00);
	test_check("input/get-scancode-set-untranslated",
		   acked && expect((const uint8_t[]){ 0xfa, 0x02 }, 2),
		   "set not reported as 2");
	ctl(0x60);
	qts_outb(q, 0x60, 0x43);

	/* Keys queued at a keyboard reset are dropped; only the byte
	 * already in the controller's output buffer (b's make) stays. */
	key("b", true);
	key("b", false);
	qts_outb(q, 0x60, 0xff);
	test_check("input/kbd-reset-drops-queued-keys",
		   expect((const uint8_t[]){ 0x30, 0xfa, 0xaa }, 3),
		   "stale keys before 0xfa 0xaa");
}

static void mouse(void)
{
	const char *r;

	aux(0xf4);                                      /* reporting on */
	test_check("input/mouse-enable", expect((const uint8_t[]){ 0xfa }, 1),
		   "no ack");
	r = qts_qmp(q, "{\"execute\": \"input-send-event\", \"arguments\": "
		    "{\"events\": ["
		    "{\"type\": \"rel\", \"data\": {\"axis\": \"x\", \"value\": 10}},"
		    "{\"type\": \"rel\", \"data\": {\"axis\": \"y\", \"value\": 5}},"
		    "{\"type\": \"btn\", \"data\": {\"down\": true, "
		    "\"button\": \"left\"}}]}}");
	bool rok = ok(r);
	bool irq12 = qts_get_irq(q, 12);
	bool auxb = qts_inb(q, 0x64) & 0x20;
	/* Screen-down y is negative on PS/2: sign bit 5 and 0xfb. */
	test_check("input/mouse-packet", rok && irq12 && auxb &&
		   expect((const uint8_t[]){ 0x29, 10, 0xfb }, 3),
		   "reply ok %d IRQ 12 %d", rok, irq12);

	static const uint8_t knock[] = { 200, 100, 80 };
	for (int i = 0; i < 3; i++) {
		aux(0xf3);
		aux(knock[i]);
	}
	aux(0xf2);
	test_check("input/mouse-wheel-id",
		   expect((const uint8_t[]){ 0xfa, 0xfa, 0xfa, 0xfa, 0xfa,
					      0xfa, 0xfa, 0x03 }, 8),
		   "no IntelliMouse ID");
	r = qts_qmp(q, "{\"execute\": \"input-send-event\", \"arguments\": "
		    "{\"events\": [{\"type\": \"btn\", \"data\": {\"down\": true,"
		    " \"button\": \"wheel-down\"}}, {\"type\": \"btn\", \"data\":"
		    " {\"down\": false, \"button\": \"left\"}}]}}");
	rok = ok(r);
	test_check("input/mouse-wheel-packet", rok &&
		   expect((const uint8_t[]){ 0x08, 0, 0, 0x01 }, 4),
		   "wheel packet");
}

static void bad_arguments(void)
{
	test_check("input/unknown-qcode-refused",
		   refused(qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\":"
				   " {\"keys\": [{\"type\": \"qcode\", "
				   "\"data\": \"no-such-key\"}]}}")), "accepted");
	test_check("input/keys-not-array-refused",
		   refused(qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\":"
				   " {\"keys\": 5}}")), "accepted");
	test_check("input/no-arguments-refused",
		   refused(qts_qmp(q, "{\"execute\": \"send-key\"}")),
		   "accepted");
	test_check("input/bad-hold-time-refused",
		   refused(qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\":"
				   " {\"keys\": [{\"type\": \"number\", \"data\": 30}],"
				   " \"hold-time\": \"long\"}}")), "accepted");
	test_check("input/number-out-of-range-refused",
		   refused(qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\":"
				   " {\"keys\": [{\"type\": \"number\", "
				   "\"data\": 4096}]}}")), "accepted");
	test_check("input/abs-out-of-range-refused",
		   refused(qts_qmp(q, "{\"execute\": \"input-send-event\", "
				   "\"arguments\": {\"events\": [{\"type\": \"abs\","
				   " \"data\": {\"axis\": \"x\", \"value\": 40000}}]}}")),
		   "accepted");
	test_check("input/wrong-member-types-refused",
		   refused(qts_qmp(q, "{\"execute\": \"input-send-event\", "
				   "\"arguments\": {\"events\": [{\"type\": 7, "
				   "\"data\": {\"axis\": [], \"value\": \"x\"}}]}}")),
		   "accepted");
	test_check("input/still-running",
		   ok(qts_qmp(q, "{\"execute\": \"query-status\"}")),
		   "qemu-dm stopped answering");
}

int main(void)
{
	q = qts_start("");
	if (!q) {
		test_fail("input/start", "qemu-dm did not start");
		return 1;
	}
	keyboard();
	mouse();
	bad_arguments();
	qts_quit(q);
	return test_exit();
}
