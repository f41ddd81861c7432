/*
 * The CMOS NVRAM bytes SeaBIOS and guests read, over qtest: memory sizes
 * from -m, the CPU count from -smp, the boot order from -boot, century,
 * equipment byte and the 0x2e/0x2f checksum; and the time base: UTC by
 * default, the host's local time with -localtime or -rtc base=localtime
 * (the test picks the time zone through TZ so the two must differ), or a
 * fixed date with -rtc base=YYYY-MM-DDTHH:MM:SS.
 */
#include <stdlib.h>
#include <time.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static struct qts *q;

static uint8_t cmos(uint8_t i)
{
	qts_outb(q, 0x70, i);
	return qts_inb(q, 0x71);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Seconds between the RTC's time of day and the host's UTC one plus
 * offset hours, folded into (-12 h, 12 h]. */
static long rtc_skew(long offset_h)
{
	time_t host = time(NULL) + offset_h * 3600;
	struct tm tm;
	long d;

	gmtime_r(&host, &tm);
	d = (long)(bcd(cmos(4)) * 3600 + bcd(cmos(2)) * 60 + bcd(cmos(0))) -
	    (long)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	if (d <= -43200)
		d += 86400;
	if (d > 43200)
		d -= 86400;
	return d;
}

static void check_nvram(void)
{
	unsigned sum = 0;

	q = qts_start("-m 256 -smp 2 -boot order=dnc");
	if (!q) {
		test_fail("cmos/start", "qemu-dm did not start");
		return;
	}
	test_check("cmos/base-memory-640k", cmos(0x15) == 0x80 &&
		   cmos(0x16) == 0x02, "%#x %#x", cmos(0x15), cmos(0x16));
	/* 255 MiB above 1 MiB does not fit in 16 bits of KiB: capped. */
	test_check("cmos/extended-memory", cmos(0x17) == 0xff &&
		   cmos(0x18) == 0xff && cmos(0x30) == 0xff &&
		   cmos(0x31) == 0xff, "%#x%02x", cmos(0x18), cmos(0x17));
	/* 240 MiB above 16 MiB in 64 KiB units. */
	test_check("cmos/memory-above-16m",
		   (cmos(0x35) << 8 | cmos(0x34)) == 240 * 16, "%#x",
		   cmos(0x35) << 8 | cmos(0x34));
	test_check("cmos/memory-above-4g-none", !cmos(0x5b) && !cmos(0x5c) &&
		   !cmos(0x5d), "not zero");
	test_check("cmos/cpus-minus-one", cmos(0x5f) == 1, "%u", cmos(0x5f));
	/* d = CD-ROM (3), n = network (4), c = disk (2) */
	test_check("cmos/boot-order", cmos(0x3d) == 0x43 &&
		   (cmos(0x38) & 0xf0) == 0x20, "%#x %#x", cmos(0x3d),
		   cmos(0x38));
	test_check("cmos/equipment-fpu", cmos(0x14) & 0x02, "%#x",
		   cmos(0x14));
	test_check("cmos/century", cmos(0x32) == 0x20, "%#x", cmos(0x32));
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += cmos((uint8_t)i);
	test_check("cmos/checksum", (cmos(0x2e) << 8 | cmos(0x2f)) == sum,
		   "stored %#x computed %#x", cmos(0x2e) << 8 | cmos(0x2f), sum);
	test_check("cmos/register-a-default", cmos(0x0a) == 0x26 ||
		   cmos(0x0a) == 0xa6, "%#x", cmos(0x0a));
	/* The index port's bit 7 masks NMIs; it must not change the index. */
	qts_outb(q, 0x70, 0x80 | 0x5f);
	test_check("cmos/nmi-bit-ignored", qts_inb(q, 0x71) == 1,
		   "index 0xdf read wrong");
	qts_quit(q);
}

static void check_time_base(const char *args, long offset_h,
			    const char *name)
{
	long d;

	q = qts_start(args);
	if (!q) {
		test_fail(name, "qemu-dm did not start");
		return;
	}
	d = rtc_skew(offset_h);
	test_check(name, labs(d) <= 2, "off by %ld s", d);
	qts_quit(q);
}

/* -rtc base=DATE: the RTC starts there; the virtual clock has not moved
 * in qtest mode, so the registers show exactly that time. */
static void check_fixed_base(void)
{
	q = qts_start("-rtc base=2006-06-17T16:01:21,clock=vm");
	if (!q) {
		test_fail("cmos/rtc-base-date", "qemu-dm did not start");
		return;
	}
	test_check("cmos/rtc-base-date",
		   cmos(9) == 0x06 && cmos(8) == 0x06 && cmos(7) == 0x17 &&
		   cmos(4) == 0x16 && cmos(2) == 0x01 && cmos(0) == 0x21 &&
		   cmos(0x32) == 0x20, "20%02x-%02x-%02x %02x:%02x:%02x",
		   cmos(9), cmos(8), cmos(7), cmos(4), cmos(2), cmos(0));
	test_check("cmos/rtc-base-weekday", cmos(6) == 7, "Saturday is %u",
		   cmos(6));
	qts_clock_step(q, 39000000000ull);              /* 39 s */
	test_check("cmos/rtc-base-runs", cmos(2) == 0x02 && cmos(0) == 0x00,
		   "%02x:%02x", cmos(2), cmos(0));
	qts_quit(q);
	q = qts_start("-rtc base=2006-13-40");
	test_check("cmos/rtc-base-bad-date-refused", q == NULL,
		   "qemu-dm started");
	if (q)
		qts_quit(q);
}

int main(void)
{
	check_nvram();
	check_fixed_base();
	/* POSIX TZ: "XYZ-5" is five hours ahead of UTC. */
	setenv("TZ", "XYZ-5", 1);
	tzset();
	check_time_base("", 0, "cmos/utc-by-default");
	check_time_base("-localtime", 5, "cmos/localtime");
	check_time_base("-rtc base=localtime", 5, "cmos/rtc-base-localtime");
	check_time_base("-rtc base=utc", 0, "cmos/rtc-base-utc");
	return test_exit();
}
