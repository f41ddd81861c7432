/*
 * MC146818 RTC over qtest: the time matches the host's, BCD and binary,
 * 12- and 24-hour formats, setting the clock with SET, update-in-progress
 * just before a second ends, and the periodic, update-ended and alarm
 * interrupts on IRQ 8 timed with the virtual clock, and the divider
 * reset in register A stopping the time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static struct qts *q;

static uint8_t cmos(uint8_t i)
{
	qts_outb(q, 0x70, i);
	return qts_inb(q, 0x71);
}

static void cmos_set(uint8_t i, uint8_t v)
{
	qts_outb(q, 0x70, i);
	qts_outb(q, 0x71, v);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

int main(void)
{
	time_t host;
	struct tm tm;
	unsigned n;

	q = qts_start("");
	if (!q) {
		test_fail("rtc/start", "qemu-dm did not start");
		return 1;
	}
	qts_irq_intercept(q);
	host = time(NULL);
	gmtime_r(&host, &tm);
	unsigned s = bcd(cmos(0)), m = bcd(cmos(2)), h = bcd(cmos(4));
	long diff = (long)(h * 3600 + m * 60 + s) -
		    (long)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	if (diff < -43200)
		diff += 86400;
	test_check("rtc/time-matches-host-utc", labs(diff) <= 2, "off by %ld s",
		   diff);
	test_check("rtc/date-matches-host",
		   bcd(cmos(7)) == (unsigned)tm.tm_mday &&
		   bcd(cmos(8)) == (unsigned)tm.tm_mon + 1 &&
		   bcd(cmos(9)) == (unsigned)tm.tm_year % 100 &&
		   cmos(0x32) == 0x20, "date differs");
	test_check("rtc/register-d-valid", cmos(0x0d) == 0x80, "D %#x",
		   cmos(0x0d));

	/* Set 2024-02-29 23:59:58 in binary, 24 h. */
	cmos_set(0x0b, 0x80 | 0x04 | 0x02);
	cmos_set(0, 58); cmos_set(2, 59); cmos_set(4, 23);
	cmos_set(7, 29); cmos_set(8, 2); cmos_set(9, 24);
	cmos_set(0x0b, 0x04 | 0x02);
	qts_clock_step(q, 3000000000ull);               /* 3 s */
	test_check("rtc/set-and-run-binary",
		   cmos(0) == 1 && cmos(2) == 0 && cmos(4) == 0 &&
		   cmos(7) == 1 && cmos(8) == 3 && cmos(9) == 24,
		   "now %u:%u:%u %u/%u/%u", cmos(4), cmos(2), cmos(0), cmos(7),
		   cmos(8), cmos(9));
	cmos_set(0x0b, 0x02);                           /* BCD */
	test_check("rtc/bcd-format", cmos(8) == 0x03 && cmos(9) == 0x24,
		   "month %#x", cmos(8));
	cmos_set(0x0b, 0x00);                           /* 12 h, BCD */
	test_check("rtc/12-hour-format", cmos(4) == 0x12,
		   "midnight shows as %#x", cmos(4));

	/* UIP: set only in the last 244 us of a second. */
	cmos_set(0x0b, 0x02);
	uint64_t now = qts_clock_step(q, 1);
	uint64_t into = 0;
	bool seen = false, early = false;
	for (unsigned k = 0; k < 20; k++) {
		into = qts_clock_step(q, 50000000) - now;      /* 50 ms */
		if (cmos(0x0a) & 0x80)
			early = true;
	}
	(void)into;
	/* Walk up to the next second edge in 20 us steps. */
	for (unsigned k = 0; k < 60000 && !seen; k++) {
		qts_clock_step(q, 20000);
		seen = cmos(0x0a) & 0x80;
	}
	test_check("rtc/uip-before-update", seen && !early,
		   "UIP seen=%d early=%d", seen, early);

	/* Periodic interrupt at 64 Hz (rate 0xa) for a quarter second. */
	cmos(0x0c);
	cmos_set(0x0a, 0x2a);
	cmos_set(0x0b, 0x02 | 0x40);                    /* PIE */
	n = 0;
	for (unsigned k = 0; k < 250; k++) {
		qts_clock_step(q, 1000000);             /* 1 ms */
		if (qts_get_irq(q, 8)) {
			n++;
			cmos(0x0c);                     /* ack */
		}
	}
	test_check("rtc/periodic-64hz", n >= 15 && n <= 17,
		   "%u interrupts in 250 ms", n);
	cmos_set(0x0b, 0x02);
	cmos(0x0c);

	/* Update-ended interrupt once per second. */
	cmos_set(0x0b, 0x02 | 0x10);                    /* UIE */
	qts_clock_step(q, 1000000000ull);
	test_check("rtc/update-ended-irq", qts_get_irq(q, 8) &&
		   (cmos(0x0c) & 0x90) == 0x90 && !qts_get_irq(q, 8),
		   "no UF interrupt");
	cmos_set(0x0b, 0x02);

	/* Alarm two seconds ahead. */
	unsigned sec = bcd(cmos(0)), min = bcd(cmos(2));
	unsigned asec = (sec + 2) % 60;
	cmos_set(1, (uint8_t)((asec / 10) << 4 | asec % 10));
	cmos_set(3, 0xc0);                              /* any minute */
	cmos_set(5, 0xc0);                              /* any hour */
	cmos(0x0c);
	cmos_set(0x0b, 0x02 | 0x20);                    /* AIE */
	qts_clock_step(q, 500000000ull);
	bool before = qts_get_irq(q, 8);
	qts_clock_step(q, 2500000000ull);
	test_check("rtc/alarm-irq", !before && qts_get_irq(q, 8) &&
		   (cmos(0x0c) & 0xa0) == 0xa0, "alarm at %u:%u+2 s missing",
		   min, sec);

	/* Divider reset (register A 0x70) stops the time; restarting it makes
	 * the first update come half a second later. */
	cmos_set(0x0b, 0x02 | 0x04);                    /* binary, 24 h */
	cmos_set(0x0a, 0x70);
	unsigned s0 = cmos(0);
	bool uip = false;
	for (unsigned k = 0; k < 30; k++) {
		qts_clock_step(q, 100000000ull);        /* 3 s in 100 ms steps */
		uip |= cmos(0x0a) & 0x80;
	}
	test_check("rtc/divider-reset-stops-time", cmos(0) == s0 && !uip,
		   "seconds %u -> %u, UIP %d", s0, cmos(0), uip);
	cmos_set(0x0a, 0x26);
	qts_clock_step(q, 400000000ull);
	unsigned s_early = cmos(0);
	qts_clock_step(q, 200000000ull);
	unsigned s_half = cmos(0);
	qts_clock_step(q, 1000000000ull);
	test_check("rtc/divider-restart-half-second",
		   s_early == s0 && s_half == (s0 + 1) % 60 &&
		   cmos(0) == (s0 + 2) % 60,
		   "%u then %u, %u, %u", s0, s_early, s_half, cmos(0));
	qts_quit(q);
	return test_exit();
}
