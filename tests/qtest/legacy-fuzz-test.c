/*
 * The legacy devices must survive any guest: a seeded random stream of
 * port reads and writes to the RTC, the i8042 and port 0x92, both UARTs,
 * the debug console and 0xcf9, with clock steps between them (timers
 * fire) and input events arriving through QMP.  Resets the stream causes
 * are fine; afterwards qemu-dm must still answer, and each device must
 * still work (RTC time readable, i8042 self-test, UART scratch register).
 * Run it under --enable-sanitizers to catch what does not crash outright.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define OPS 20000

static const uint16_t ports[] = {
	0x60, 0x64, 0x64, 0x70, 0x71, 0x71, 0x92, 0x402, 0xcf9,
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
	0x2f8, 0x2f9, 0x2fa, 0x2fb, 0x2fc,
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Bias values towards what matters to these devices. */
static uint8_t value(uint16_t port)
{
	static const uint8_t kbc[] = { 0x20, 0x60, 0xaa, 0xab, 0xa9, 0xad,
				       0xae, 0xa7, 0xa8, 0xd0, 0xd1, 0xd2,
				       0xd3, 0xd4, 0xdd, 0xdf, 0xfe, 0xff };

	if (port == 0x64 && next() % 2)
		return kbc[next() % sizeof(kbc)];
	if (port == 0x70)
		return (uint8_t)(next() % 2 ? next() % 0x0e : next());
	if (port == 0x92 || port == 0xcf9)
		return (uint8_t)(next() % 8 ? next() & 0x02 : next());
	return (uint8_t)next();
}

int main(int argc, char **argv)
{
	struct qts *q;
	unsigned resets = 0;

	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	q = qts_start("-serial null -serial null");
	if (!q) {
		test_fail("legacy-fuzz/start", "qemu-dm did not start");
		return 1;
	}
	qts_irq_intercept(q);
	for (unsigned i = 0; i < OPS; i++) {
		uint16_t port = ports[next() % (sizeof(ports) / sizeof(ports[0]))];
		unsigned op = next() % 100;

		if (op < 45) {
			qts_inb(q, port);
		} else if (op < 90) {
			uint8_t v = value(port);

			if ((port == 0x64 && v == 0xfe) ||
			    (port == 0x92 && (v & 1)) ||
			    (port == 0xcf9 && (v & 4)))
				resets++;
			qts_outb(q, port, v);
		} else if (op < 97) {
			qts_clock_step(q, next() % 20000000);
		} else if (op < 99) {
			qts_qmp(q, "{\"execute\": \"input-send-event\", "
				"\"arguments\": {\"events\": ["
				"{\"type\": \"rel\", \"data\": {\"axis\": \"x\", "
				"\"value\": %d}}, {\"type\": \"key\", \"data\": "
				"{\"down\": %s, \"key\": {\"type\": \"number\", "
				"\"data\": %u}}}]}}",
				(int)(next() % 2001) - 1000,
				next() % 2 ? "true" : "false", next() % 255 + 1);
		} else {
			qts_qmp(q, "{\"execute\": \"send-key\", \"arguments\": "
				"{\"keys\": [{\"type\": \"number\", \"data\": %u}],"
				" \"hold-time\": %u}}", next() % 255 + 1,
				next() % 200);
		}
	}
	const char *r = qts_qmp(q, "{\"execute\": \"query-status\"}");
	test_check("legacy-fuzz/survives", r && strstr(r, "\"return\""),
		   "qemu-dm stopped answering after %u operations", OPS);

	/* Still working devices.  Drain the i8042 first (queued bytes from
	 * the stream), with the interfaces off so nothing new arrives. */
	qts_outb(q, 0x64, 0x60);
	qts_outb(q, 0x60, 0x30);
	for (int i = 0; i < 300 && (qts_inb(q, 0x64) & 1); i++)
		qts_inb(q, 0x60);
	qts_outb(q, 0x64, 0xaa);
	test_check("legacy-fuzz/i8042-self-test-after",
		   (qts_inb(q, 0x64) & 1) && qts_inb(q, 0x60) == 0x55,
		   "no 0x55");
	qts_outb(q, 0x3ff, 0x5a);
	test_check("legacy-fuzz/uart-after", qts_inb(q, 0x3ff) == 0x5a,
		   "scratch register lost");
	qts_outb(q, 0x70, 0x0b);
	qts_outb(q, 0x71, 0x02);                /* BCD, 24 h, no SET */
	qts_outb(q, 0x70, 0x0a);
	qts_outb(q, 0x71, 0x26);                /* divider running */
	qts_outb(q, 0x70, 0x00);
	uint8_t s0 = qts_inb(q, 0x71);
	qts_clock_step(q, 1000000000ull);
	qts_outb(q, 0x70, 0x00);
	uint8_t s1 = qts_inb(q, 0x71);
	test_check("legacy-fuzz/rtc-ticks-after", s0 != s1,
		   "seconds stuck at %#x", s0);
	fprintf(stderr, "legacy-fuzz: %u operations, %u reset requests\n", OPS,
		resets);
	qts_quit(q);
	return test_exit();
}
