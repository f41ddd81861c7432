/*
 * MC146818 real-time clock and CMOS RAM at ports 0x70 (index; bit 7 is
 * the NMI mask, ignored for indexing) and 0x71 (data), interrupt on IRQ 8.
 *
 * The time is kept as "guest seconds at clock instant base_ns" and read
 * out on demand, so it advances with dm_clock_ns() (virtual in qtest mode,
 * which makes every timing test deterministic).  Register A's update-in-
 * progress bit is set for the last 244 us of each second.  The periodic,
 * update-ended and alarm flags in register C are computed from the clock
 * when C is read; a timer is armed only while one of them is enabled as an
 * interrupt.  A divider reset in register A freezes the time.  The NVRAM
 * holds what SeaBIOS and guests read: memory sizes, CPU count, boot
 * order, century, with the standard checksum.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm/dm.h"
#include "hw/rtc.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d

#define A_UIP  0x80
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM   0x04             /* binary, not BCD */
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10

#define NS 1000000000ull
#define UIP_NS (8 * NS / 32768)    /* 8 cycles of the 32.768 kHz base */

struct rtc {
	uint8_t cmos[128];
	uint8_t index;
	int64_t base_sec;       /* guest time (s since the epoch) at base_ns */
	uint64_t base_ns;       /* may be ahead of the clock (see rtc_write_a) */
	uint64_t epoch_ns;      /* updates before this do not count (a set) */
	uint64_t last_c_ns;     /* when C was last read (flags since then) */
	uint64_t per_anchor_ns; /* a periodic tick; the others follow it */
	bool localtime;
	struct dm_timer *timer;
	bool irq;
};

static struct rtc rtc;

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	if (r->cmos[REG_B] & B_DM)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_DM)
		return v;
	return (v >> 4) * 10 + (v & 0xf);
}

static uint64_t now_ns(void)
{
	return dm_clock_ns();
}

/* Divider bits 010 (32.768 kHz) run the clock; 11x hold the divider
 * chain in reset and the time stands still (000 and 001, other crystals,
 * run too, as other PC models do). */
static bool rtc_running(const struct rtc *r)
{
	return (r->cmos[REG_A] & 0x70) <= 0x20;
}

static int64_t guest_sec(const struct rtc *r, uint64_t ns)
{
	int64_t d = (int64_t)(ns - r->base_ns);

	if (!rtc_running(r))
		return r->base_sec;
	return r->base_sec + (d >= 0 ? d / (int64_t)NS :
			      -((-d + (int64_t)NS - 1) / (int64_t)NS));
}

/* How far into the current guest second the clock is. */
static uint64_t sec_phase(const struct rtc *r, uint64_t ns)
{
	int64_t d = (int64_t)(ns - r->base_ns) % (int64_t)NS;

	return (uint64_t)(d < 0 ? d + (int64_t)NS : d);
}

/* Fill registers 0-9 from the current time. */
static void rtc_latch_time(struct rtc *r)
{
	time_t t = (time_t)guest_sec(r, now_ns());
	struct tm tm;
	unsigned hour;

	gmtime_r(&t, &tm);
	r->cmos[0] = to_reg(r, (unsigned)tm.tm_sec);
	r->cmos[2] = to_reg(r, (unsigned)tm.tm_min);
	hour = (unsigned)tm.tm_hour;
	if (r->cmos[REG_B] & B_24H) {
		r->cmos[4] = to_reg(r, hour);
	} else {
		unsigned h12 = hour % 12 ? hour % 12 : 12;

		r->cmos[4] = (uint8_t)(to_reg(r, h12) | (hour >= 12 ? 0x80 : 0));
	}
	r->cmos[6] = to_reg(r, (unsigned)tm.tm_wday + 1);
	r->cmos[7] = to_reg(r, (unsigned)tm.tm_mday);
	r->cmos[8] = to_reg(r, (unsigned)tm.tm_mon + 1);
	r->cmos[9] = to_reg(r, (unsigned)tm.tm_year % 100);
	r->cmos[RTC_CENTURY] = to_reg(r, (unsigned)(tm.tm_year + 1900) / 100);
}

/* The guest set the clock (SET cleared): registers become the time. */
static void rtc_take_time(struct rtc *r)
{
	struct tm tm;
	unsigned hour = from_reg(r, r->cmos[4] & 0x7f);
	unsigned century = from_reg(r, r->cmos[RTC_CENTURY]);

	memset(&tm, 0, sizeof(tm));
	if (!(r->cmos[REG_B] & B_24H)) {
		hour %= 12;
		if (r->cmos[4] & 0x80)
			hour += 12;
	}
	tm.tm_sec = (int)from_reg(r, r->cmos[0]) % 60;
	tm.tm_min = (int)from_reg(r, r->cmos[2]) % 60;
	tm.tm_hour = (int)hour % 24;
	tm.tm_mday = (int)from_reg(r, r->cmos[7]);
	tm.tm_mon = (int)from_reg(r, r->cmos[8]) - 1;
	if (century < 19 || century > 30)
		century = 20;
	tm.tm_year = (int)(century * 100 + from_reg(r, r->cmos[9])) - 1900;
	if (tm.tm_mday < 1 || tm.tm_mday > 31)
		tm.tm_mday = 1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11)
		tm.tm_mon = 0;
	r->base_sec = (int64_t)timegm(&tm);
	r->base_ns = now_ns();
	r->epoch_ns = r->base_ns;
}

/* Periodic rate from register A: 0 disables. */
static uint64_t periodic_ns(const struct rtc *r)
{
	unsigned rs = r->cmos[REG_A] & 0x0f;

	if (!rs)
		return 0;
	if (rs < 3)
		rs += 7;        /* 256 and 128 Hz on a 32.768 kHz time base */
	return (NS << (rs - 1)) / 32768;
}

static bool alarm_matches(struct rtc *r, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	uint8_t h;

	gmtime_r(&t, &tm);
	h = r->cmos[REG_B] & B_24H ? to_reg(r, (unsigned)tm.tm_hour) :
		(uint8_t)(to_reg(r, tm.tm_hour % 12 ? (unsigned)tm.tm_hour % 12 : 12) |
			  (tm.tm_hour >= 12 ? 0x80 : 0));
	/* An alarm byte of 0xc0-0xff matches any value. */
	return (r->cmos[1] >= 0xc0 || r->cmos[1] == to_reg(r, (unsigned)tm.tm_sec)) &&
	       (r->cmos[3] >= 0xc0 || r->cmos[3] == to_reg(r, (unsigned)tm.tm_min)) &&
	       (r->cmos[5] >= 0xc0 || r->cmos[5] == h);
}

/* Flags that became true in (r->last_c_ns, now]. */
static void rtc_collect_flags(struct rtc *r, uint64_t now)
{
	uint64_t p = periodic_ns(r);
	uint64_t last = r->last_c_ns;

	if (p && (now - r->per_anchor_ns) / p > (last - r->per_anchor_ns) / p)
		r->cmos[REG_C] |= C_PF;
	if (!(r->cmos[REG_B] & B_SET) && (r->cmos[REG_A] & 0x70) == 0x20) {
		int64_t s0 = guest_sec(r, last > r->epoch_ns ? last : r->epoch_ns);
		int64_t s1 = guest_sec(r, now);

		if (s1 > s0) {
			r->cmos[REG_C] |= C_UF;
			for (int64_t s = s1; s > s0 && s1 - s < 5; s--)
				if (alarm_matches(r, s))
					r->cmos[REG_C] |= C_AF;
		}
	}
	r->last_c_ns = now;
	if (r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
		r->cmos[REG_C] |= C_IRQF;
}

static void rtc_update_irq(struct rtc *r)
{
	bool level = r->cmos[REG_C] & C_IRQF;

	if (level != r->irq) {
		r->irq = level;
		irq_set(8, level);
	}
}

/* Next instant an enabled interrupt condition can arise. */
static void rtc_arm(struct rtc *r)
{
	uint64_t now = now_ns(), next = UINT64_MAX;
	uint64_t p = periodic_ns(r);

	if ((r->cmos[REG_B] & B_PIE) && p)
		next = r->per_anchor_ns +
		       ((now - r->per_anchor_ns) / p + 1) * p;
	if (r->cmos[REG_B] & (B_UIE | B_AIE)) {
		uint64_t into = sec_phase(r, now);
		uint64_t sec_edge = now - into + NS;

		if (sec_edge < next)
			next = sec_edge;
	}
	if (next == UINT64_MAX)
		dm_timer_del(r->timer);
	else
		dm_timer_mod(r->timer, next);
}

static void rtc_tick(void *opaque)
{
	struct rtc *r = opaque;

	rtc_collect_flags(r, now_ns());
	rtc_update_irq(r);
	rtc_arm(r);
}

/*
 * Register A.  Stopping the divider freezes the time where it is; starting
 * it again makes the first update come half a second later, which is when
 * guests that set the clock under a divider reset expect it.
 */
/*
 * A new periodic rate counts from the last tick at the old rate (what
 * QEMU does, and what its rtc-test measures): the next tick comes one new
 * period after it, or at once if that is already past.
 */
static void rtc_periodic_rebase(struct rtc *r, uint64_t now, uint64_t p_old,
				uint64_t p_new)
{
	uint64_t last = now;

	if (p_old)
		last = r->per_anchor_ns +
		       (now - r->per_anchor_ns) / p_old * p_old;
	if (p_new && last + p_new <= now)
		last = now - p_new + 1;
	r->per_anchor_ns = last;
}

static void rtc_write_a(struct rtc *r, uint8_t v)
{
	uint64_t now = now_ns();
	bool was = rtc_running(r);
	uint64_t p_old = periodic_ns(r);

	rtc_collect_flags(r, now);
	if (was && (v & 0x70) > 0x20) {
		r->base_sec = guest_sec(r, now);
		r->base_ns = now;
	}
	r->cmos[REG_A] = v & 0x7f;
	if (periodic_ns(r) != p_old)
		rtc_periodic_rebase(r, now, p_old, periodic_ns(r));
	if (!was && rtc_running(r)) {
		r->base_sec += 1;
		r->base_ns = now + NS / 2;
		r->epoch_ns = now;
	}
	rtc_update_irq(r);
	rtc_arm(r);
}

static uint64_t rtc_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct rtc *r = opaque;
	uint64_t now = now_ns();
	uint8_t v;

	(void)size;
	if (off == 0)
		return 0xff;            /* the index port is write-only */
	switch (r->index) {
	case 0: case 2: case 4: case 6: case 7: case 8: case 9:
	case RTC_CENTURY:
		if (!(r->cmos[REG_B] & B_SET))
			rtc_latch_time(r);
		return r->cmos[r->index];
	case REG_A:
		v = r->cmos[REG_A] & 0x7f;
		if (!(r->cmos[REG_B] & B_SET) && rtc_running(r) &&
		    sec_phase(r, now) >= NS - UIP_NS)
			v |= A_UIP;
		return v;
	case REG_C:
		rtc_collect_flags(r, now);
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		rtc_update_irq(r);
		rtc_arm(r);
		return v;
	case REG_D:
		return 0x80;            /* valid RAM and time */
	}
	return r->cmos[r->index];
}

static void rtc_io_write(void *opaque, uint64_t off, uint64_t val,
			 unsigned size)
{
	struct rtc *r = opaque;
	uint8_t v = (uint8_t)val;

	(void)size;
	if (off == 0) {
		r->index = v & 0x7f;
		return;
	}
	switch (r->index) {
	case 0: case 2: case 4: case 6: case 7: case 8: case 9:
	case RTC_CENTURY:
		if (!(r->cmos[REG_B] & B_SET))
			rtc_latch_time(r);
		r->cmos[r->index] = v;
		if (!(r->cmos[REG_B] & B_SET))
			rtc_take_time(r);
		return;
	case REG_A:
		rtc_write_a(r, v);
		return;
	case REG_B:
		if ((v & B_SET) && !(r->cmos[REG_B] & B_SET))
			rtc_latch_time(r);      /* freeze what is shown */
		if (!(v & B_SET) && (r->cmos[REG_B] & B_SET)) {
			r->cmos[REG_B] = v;
			rtc_take_time(r);
		}
		/* Changing the format re-reads the time in the new one. */
		r->cmos[REG_B] = v;
		rtc_collect_flags(r, now_ns());
		rtc_update_irq(r);
		rtc_arm(r);
		return;
	case REG_C:
	case REG_D:
		return;                 /* read-only */
	}
	r->cmos[r->index] = v;
}

static const struct io_ops rtc_ops = {
	.read = rtc_io_read, .write = rtc_io_write,
	.min_size = 1, .max_size = 1,
};

void rtc_set_time(int64_t epoch_sec)
{
	rtc.base_sec = epoch_sec;
	rtc.base_ns = now_ns();
	rtc.epoch_ns = rtc.base_ns;
	rtc_latch_time(&rtc);
}

void rtc_set_cmos(uint8_t index, uint8_t value)
{
	if (index < 128)
		rtc.cmos[index] = value;
}

/* The checksum over 0x10-0x2d that SeaBIOS and old BIOSes verify. */
void rtc_update_checksum(void)
{
	unsigned sum = 0;

	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rtc.cmos[i];
	rtc.cmos[0x2e] = (uint8_t)(sum >> 8);
	rtc.cmos[0x2f] = (uint8_t)sum;
}

static void rtc_reset(void *opaque)
{
	struct rtc *r = opaque;

	r->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | 0x08);
	r->cmos[REG_C] = 0;
	r->irq = true;          /* force the line low */
	rtc_update_irq(r);
	dm_timer_del(r->timer);
}

int rtc_init(bool localtime)
{
	time_t now = time(NULL);
	struct tm tm;

	rtc.localtime = localtime;
	if (localtime) {
		localtime_r(&now, &tm);
		rtc.base_sec = (int64_t)timegm(&tm);
	} else {
		rtc.base_sec = (int64_t)now;
	}
	rtc.base_ns = now_ns();
	rtc.epoch_ns = rtc.base_ns;
	rtc.last_c_ns = rtc.base_ns;
	rtc.per_anchor_ns = rtc.base_ns;
	rtc.cmos[REG_A] = 0x26;         /* 32.768 kHz, 1024 Hz periodic */
	rtc.cmos[REG_B] = B_24H;
	rtc.cmos[REG_D] = 0x80;
	rtc.timer = dm_timer_new(rtc_tick, &rtc);
	if (!io_region_add(IO_SPACE_PIO, 0x70, 2, &rtc_ops, &rtc, "rtc", 0))
		return -1;
	rtc_latch_time(&rtc);
	dm_register_reset(rtc_reset, &rtc);
	return 0;
}
