/*
 * Unit test of the software CPU's irqchip: the PICs, PIT, IOAPIC and
 * LAPICs are driven through their ports, MMIO and MSRs as a guest would,
 * against a fake clock that only moves when the test says so.  Two vCPUs;
 * the kick callback counts wake-ups and calls back into the irqchip to
 * prove it runs without the lock held.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hypervisor/irqchip/irqchip.h"
#include "tests/testlib.h"

static struct irqchip *ic;
static uint64_t fake_now = 1000000000ull;
static unsigned kicks[2];

static uint64_t fake_clock(void *opaque)
{
	(void)opaque;
	return fake_now;
}

static void fake_kick(void *opaque, unsigned vcpu)
{
	(void)opaque;
	if (vcpu < 2)
		kicks[vcpu]++;
	(void)irqchip_pending(ic, vcpu);        /* would deadlock if locked */
}

static void outb(uint16_t port, uint8_t v)
{
	uint32_t x = v;

	irqchip_pio(ic, 0, port, 1, true, &x);
}

static uint8_t inb(uint16_t port)
{
	uint32_t x = 0;

	irqchip_pio(ic, 0, port, 1, false, &x);
	return (uint8_t)x;
}

static void apic_write(unsigned cpu, unsigned off, uint32_t v)
{
	uint64_t x = v;

	irqchip_mmio(ic, cpu, 0xfee00000ull + off, 4, true, &x);
}

static uint32_t apic_read(unsigned cpu, unsigned off)
{
	uint64_t x = 0;

	irqchip_mmio(ic, cpu, 0xfee00000ull + off, 4, false, &x);
	return (uint32_t)x;
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	uint64_t sel = reg, x = v;

	irqchip_mmio(ic, 0, 0xfec00000ull, 4, true, &sel);
	irqchip_mmio(ic, 0, 0xfec00010ull, 4, true, &x);
}

static uint32_t ioapic_read(unsigned reg)
{
	uint64_t sel = reg, x = 0;

	irqchip_mmio(ic, 0, 0xfec00000ull, 4, true, &sel);
	irqchip_mmio(ic, 0, 0xfec00010ull, 4, false, &x);
	return (uint32_t)x;
}

static void ioapic_route(unsigned pin, uint32_t low, uint8_t dest)
{
	ioapic_write(0x11 + 2 * pin, (uint32_t)dest << 24);
	ioapic_write(0x10 + 2 * pin, low);
}

static void advance(uint64_t ns)
{
	fake_now += ns;
	irqchip_update(ic, fake_now);
}

static void pic_init(uint8_t mask0, uint8_t mask1)
{
	outb(0x20, 0x11); outb(0x21, 0x08); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x70); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, mask0);
	outb(0xa1, mask1);
}

static void pic_eoi(int vec)
{
	if (vec >= 0x70)
		outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

static void fresh(void)
{
	irqchip_reset(ic);
	memset(kicks, 0, sizeof(kicks));
}

/* ---------------- PIC ---------------- */

static void test_pic(void)
{
	int v;

	fresh();
	pic_init(0xff, 0xff);
	test_check("pic_imr_readback", inb(0x21) == 0xff && inb(0xa1) == 0xff,
		   "imr %#x/%#x", inb(0x21), inb(0xa1));
	irqchip_set_irq(ic, 1, 1);
	test_check("pic_masked_irq_not_pending", irqchip_pending(ic, 0) < 0,
		   "pending %d", irqchip_pending(ic, 0));
	outb(0x21, 0xf5);               /* unmask IRQ1 and IRQ3 */
	irqchip_set_irq(ic, 3, 1);
	outb(0x20, 0x0a);
	test_check("pic_read_irr", inb(0x20) == 0x0a, "irr %#x", inb(0x20));
	test_check("pic_pending_vector", irqchip_pending(ic, 0) == 0x09,
		   "pending %#x", irqchip_pending(ic, 0));
	test_check("pic_kicked_bsp", kicks[0] > 0, "no kick");
	v = irqchip_ack(ic, 0);
	test_check("pic_priority_irq1_first", v == 0x09, "ack %#x", v);
	outb(0x20, 0x0b);
	test_check("pic_read_isr", inb(0x20) == 0x02, "isr %#x", inb(0x20));
	test_check("pic_lower_blocked_by_isr", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	outb(0x20, 0x20);               /* non-specific EOI */
	v = irqchip_ack(ic, 0);
	test_check("pic_eoi_unblocks", v == 0x0b, "ack %#x", v);
	outb(0x20, 0x63);               /* specific EOI IRQ3 */
	test_check("pic_specific_eoi", inb(0x20) == 0, "isr %#x", inb(0x20));
	irqchip_set_irq(ic, 1, 0);
	irqchip_set_irq(ic, 3, 0);

	/* Edge: a line held high requests once. */
	irqchip_set_irq(ic, 3, 1);
	irqchip_set_irq(ic, 3, 1);
	v = irqchip_ack(ic, 0);
	pic_eoi(v);
	test_check("pic_edge_once", v == 0x0b && irqchip_pending(ic, 0) < 0,
		   "ack %#x then pending %d", v, irqchip_pending(ic, 0));
	irqchip_set_irq(ic, 3, 0);

	/* Level via ELCR on the slave (IRQ10). */
	outb(0x4d1, 0x04);
	test_check("pic_elcr_readback", inb(0x4d1) == 0x04, "elcr1 %#x",
		   inb(0x4d1));
	outb(0x4d0, 0xff);
	test_check("pic_elcr_reserved_bits", inb(0x4d0) == 0xf8, "elcr0 %#x",
		   inb(0x4d0));
	outb(0x4d0, 0x00);
	outb(0x21, 0xfb);
	outb(0xa1, 0xfb);
	irqchip_set_irq(ic, 10, 1);
	v = irqchip_ack(ic, 0);
	pic_eoi(v);
	test_check("pic_level_slave_vector", v == 0x72, "ack %#x", v);
	test_check("pic_level_rerequests", irqchip_pending(ic, 0) == 0x72,
		   "pending %#x", irqchip_pending(ic, 0));
	irqchip_set_irq(ic, 10, 0);
	test_check("pic_level_drop_clears", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));

	/* Spurious: the level request goes away before INTA. */
	irqchip_set_irq(ic, 10, 1);
	irqchip_set_irq(ic, 10, 0);
	test_check("pic_slave_vanished", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	v = irqchip_ack(ic, 0);
	outb(0xa0, 0x0b);
	test_check("pic_spurious_after_vanish", v == 0x0f && inb(0xa0) == 0,
		   "ack %#x slave isr %#x", v, inb(0xa0));
	outb(0x4d0, 0x20);              /* IRQ5 level */
	outb(0x21, 0xdf);
	irqchip_set_irq(ic, 5, 1);
	irqchip_set_irq(ic, 5, 0);
	v = irqchip_ack(ic, 0);
	outb(0x20, 0x0b);
	test_check("pic_spurious_irq7", v == 0x0f && inb(0x20) == 0,
		   "ack %#x isr %#x", v, inb(0x20));
	outb(0x4d0, 0);
	outb(0x4d1, 0);

	/* Poll mode: a read of the command port acknowledges. */
	outb(0x21, 0xf7);
	irqchip_set_irq(ic, 3, 1);
	outb(0x20, 0x0c);
	v = inb(0x20);
	outb(0x20, 0x0b);
	test_check("pic_poll", v == 0x83 && inb(0x20) == 0x08,
		   "poll %#x isr %#x", v, inb(0x20));
	outb(0x20, 0x20);
	irqchip_set_irq(ic, 3, 0);

	/* Special mask mode lets a lower IRQ in while IRQ1 is in service. */
	outb(0x21, 0xf5);
	irqchip_set_irq(ic, 1, 1);
	v = irqchip_ack(ic, 0);
	irqchip_set_irq(ic, 3, 1);
	outb(0x21, 0xf7);               /* mask IRQ1 (in service) */
	outb(0x20, 0x68);               /* set special mask */
	test_check("pic_special_mask", v == 0x09 &&
		   irqchip_pending(ic, 0) == 0x0b, "pending %#x",
		   irqchip_pending(ic, 0));
	outb(0x20, 0x48);               /* clear special mask */
	test_check("pic_special_mask_off", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	irqchip_set_irq(ic, 1, 0);
	irqchip_set_irq(ic, 3, 0);

	/* Auto-EOI: nothing stays in service. */
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x03);
	outb(0x21, 0xf7);
	irqchip_set_irq(ic, 3, 1);
	v = irqchip_ack(ic, 0);
	outb(0x20, 0x0b);
	test_check("pic_auto_eoi", v == 0x23 && inb(0x20) == 0,
		   "ack %#x isr %#x", v, inb(0x20));
	irqchip_set_irq(ic, 3, 0);

	/* Rotation: after a rotating EOI of IRQ3, IRQ4 has top priority. */
	pic_init(0xe7, 0xff);           /* IRQ3, IRQ4 */
	irqchip_set_irq(ic, 3, 1);
	v = irqchip_ack(ic, 0);
	outb(0x20, 0xa0);               /* rotate on non-specific EOI */
	irqchip_set_irq(ic, 3, 0);
	irqchip_set_irq(ic, 4, 1);
	irqchip_set_irq(ic, 3, 1);
	test_check("pic_rotate", v == 0x0b && irqchip_ack(ic, 0) == 0x0c,
		   "first %#x", v);
	irqchip_set_irq(ic, 3, 0);
	irqchip_set_irq(ic, 4, 0);

	/* Virtual wire off: LINT0 masked, the BSP no longer sees the PIC. */
	fresh();
	pic_init(0xf7, 0xff);
	irqchip_set_irq(ic, 3, 1);
	apic_write(0, 0x350, 0x10700);
	test_check("pic_lint0_masked", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	apic_write(0, 0xf0, 0x1ff);
	apic_write(0, 0x350, 0x700);
	test_check("pic_lint0_extint", irqchip_pending(ic, 0) == 0x0b,
		   "pending %#x", irqchip_pending(ic, 0));
	test_check("pic_ap_not_wired", irqchip_pending(ic, 1) < 0,
		   "ap pending %#x", irqchip_pending(ic, 1));
	irqchip_set_irq(ic, 3, 0);
}

/* ---------------- PIT ---------------- */

/* Run `secs_ns` of fake time in `step` slices, acknowledging and EOIing
 * every PIC interrupt; returns how many had vector `vec`. */
static unsigned run_pic_acks(uint64_t span, uint64_t step, int vec)
{
	unsigned n = 0;
	int v;

	for (uint64_t t = 0; t < span; t += step) {
		advance(step);
		while (irqchip_pending(ic, 0) >= 0) {
			v = irqchip_ack(ic, 0);
			if (v == vec)
				n++;
			pic_eoi(v);
		}
	}
	return n;
}

static uint16_t pit_read16(uint16_t port)
{
	uint8_t lo = inb(port);

	return (uint16_t)(lo | inb(port) << 8);
}

static void test_pit(void)
{
	unsigned n;
	uint16_t c, c2;
	uint8_t st, a, b;
	uint64_t next;

	fresh();
	pic_init(0xfe, 0xff);
	outb(0x43, 0x34);               /* ch0, word, mode 2 */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	next = irqchip_update(ic, fake_now);
	test_check("pit_next_deadline", next > fake_now &&
		   next - fake_now >= 999000 && next - fake_now <= 1001000,
		   "next in %llu ns", (unsigned long long)(next - fake_now));
	n = run_pic_acks(1000000000ull, 100000, 0x08);
	test_check("pit_mode2_1000hz", n == 1000, "%u interrupts in 1 s", n);

	outb(0x43, 0x36);               /* mode 3 */
	outb(0x40, 11931 & 0xff);
	outb(0x40, 11931 >> 8);
	n = run_pic_acks(1000000000ull, 250000, 0x08);
	test_check("pit_mode3_100hz", n == 100, "%u interrupts in 1 s", n);

	outb(0x43, 0x30);               /* mode 0: a single interrupt */
	outb(0x40, 0x00);
	outb(0x40, 0x10);               /* 4096 ticks, ~3.4 ms */
	n = run_pic_acks(100000000ull, 100000, 0x08);
	test_check("pit_mode0_oneshot", n == 1, "%u interrupts", n);

	/* Counter latch: the value freezes until read. */
	outb(0x43, 0x74);               /* ch1, word, mode 2 */
	outb(0x41, 1000 & 0xff);
	outb(0x41, 1000 >> 8);
	fake_now += 100 * 1000000000ull / 1193182 + 1;  /* 100 ticks */
	outb(0x43, 0x40);               /* latch ch1 */
	fake_now += 200000;
	c = pit_read16(0x41);
	test_check("pit_latch", c == 900, "latched %u", c);
	c2 = pit_read16(0x41);
	test_check("pit_count_runs", c2 != c, "count stuck at %u", c2);

	/* Read-back of status and count of channel 1. */
	outb(0x43, 0xc4);               /* read-back ch1, count + status */
	st = inb(0x41);
	c = pit_read16(0x41);
	test_check("pit_readback_status", (st & 0x3f) == 0x34,
		   "status %#x", st);
	test_check("pit_readback_count", c >= 1 && c <= 1000, "count %u", c);

	/* Low byte only and BCD accepted. */
	outb(0x43, 0x51);               /* ch1, lobyte, mode 0, BCD */
	outb(0x41, 0x99);
	outb(0x43, 0xe4);               /* status only */
	st = inb(0x41);
	a = inb(0x41);
	test_check("pit_lobyte_bcd", (st & 0x3f) == 0x11 && a <= 0x99 &&
		   a > 0x80, "status %#x lsb %#x", st, a);
	outb(0x43, 0x60);               /* ch1, hibyte, mode 0 */
	outb(0x41, 0x12);
	a = inb(0x41);
	test_check("pit_hibyte", a == 0x12, "msb %#x", a);

	/* Channel 2 through port 0x61, as a TSC calibration loop does. */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);               /* ch2, word, mode 0 */
	outb(0x42, 0xe8);
	outb(0x42, 0x03);               /* 1000 ticks */
	a = inb(0x61);
	fake_now += 1001 * 1000000000ull / 1193182 + 1;
	b = inb(0x61);
	test_check("pit_ch2_out_port61", !(a & 0x20) && (b & 0x20) &&
		   (b & 1), "before %#x after %#x", a, b);
	a = inb(0x61);
	fake_now += 16384;
	b = inb(0x61);
	test_check("pit_port61_refresh_toggles", (a ^ b) & 0x10,
		   "%#x then %#x", a, b);
}

/* ---------------- IOAPIC ---------------- */

static void test_ioapic(void)
{
	int v;
	uint32_t lo;
	uint64_t x;

	fresh();
	pic_init(0xff, 0xff);
	apic_write(0, 0xf0, 0x1ff);
	apic_write(1, 0xf0, 0x1ff);
	test_check("ioapic_version", ioapic_read(1) == 0x00170011,
		   "version %#x", ioapic_read(1));
	ioapic_write(0, 0x0f000000);
	test_check("ioapic_id", ioapic_read(0) == 0x0f000000, "id %#x",
		   ioapic_read(0));
	test_check("ioapic_reset_masked", ioapic_read(0x10 + 2 * 7) & 0x10000,
		   "entry %#x", ioapic_read(0x10 + 2 * 7));
	x = 0;
	test_check("ioapic_mmio_claimed", irqchip_mmio(ic, 0, 0xfec00010ull, 4,
						       false, &x), "not claimed");

	/* Edge pin 4 to vCPU 0. */
	ioapic_route(4, 0x40, 0);
	irqchip_set_irq(ic, 4, 1);
	v = irqchip_ack(ic, 0);
	apic_write(0, 0xb0, 0);
	test_check("ioapic_edge_fixed", v == 0x40, "ack %#x", v);
	irqchip_set_irq(ic, 4, 0);

	/* Masked edges are lost. */
	ioapic_route(4, 0x10040, 0);
	irqchip_set_irq(ic, 4, 1);
	irqchip_set_irq(ic, 4, 0);
	ioapic_route(4, 0x40, 0);
	test_check("ioapic_masked_edge_lost", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));

	/* GSI 0 (the PIT) arrives on pin 2. */
	ioapic_route(2, 0x42, 0);
	irqchip_set_irq(ic, 0, 1);
	irqchip_set_irq(ic, 0, 0);
	v = irqchip_ack(ic, 0);
	apic_write(0, 0xb0, 0);
	test_check("ioapic_gsi0_is_pin2", v == 0x42, "ack %#x", v);

	/* Level pin 9: Remote IRR until EOI, redelivery while high. */
	ioapic_route(9, 0x8051, 0);
	irqchip_set_irq(ic, 9, 1);
	lo = ioapic_read(0x10 + 2 * 9);
	test_check("ioapic_level_remote_irr", (lo & 0x4000) &&
		   irqchip_pending(ic, 0) == 0x51, "entry %#x pending %#x", lo,
		   irqchip_pending(ic, 0));
	v = irqchip_ack(ic, 0);
	test_check("ioapic_level_tmr", apic_read(0, 0x180 + 0x20) & 0x20000,
		   "tmr %#x", apic_read(0, 0x1a0));
	apic_write(0, 0xb0, 0);
	test_check("ioapic_level_redeliver", irqchip_pending(ic, 0) == 0x51 &&
		   (ioapic_read(0x10 + 2 * 9) & 0x4000), "pending %#x",
		   irqchip_pending(ic, 0));
	irqchip_set_irq(ic, 9, 0);
	v = irqchip_ack(ic, 0);
	apic_write(0, 0xb0, 0);
	lo = ioapic_read(0x10 + 2 * 9);
	test_check("ioapic_level_eoi_clears", v == 0x51 && !(lo & 0x4000) &&
		   irqchip_pending(ic, 0) < 0, "entry %#x", lo);

	/* A masked level stays asserted and arrives on unmask. */
	ioapic_route(9, 0x18051, 0);
	irqchip_set_irq(ic, 9, 1);
	test_check("ioapic_masked_level_held", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	ioapic_route(9, 0x8051, 0);
	v = irqchip_ack(ic, 0);
	irqchip_set_irq(ic, 9, 0);
	apic_write(0, 0xb0, 0);
	test_check("ioapic_unmask_delivers", v == 0x51, "ack %#x", v);

	/* Physical destination 1 reaches vCPU 1 only. */
	memset(kicks, 0, sizeof(kicks));
	ioapic_route(10, 0x60, 1);
	irqchip_set_irq(ic, 10, 1);
	irqchip_set_irq(ic, 10, 0);
	test_check("ioapic_phys_dest", irqchip_pending(ic, 1) == 0x60 &&
		   irqchip_pending(ic, 0) < 0 && kicks[1] == 1,
		   "pending %d/%d kicks %u", irqchip_pending(ic, 0),
		   irqchip_pending(ic, 1), kicks[1]);
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);

	/* Logical flat destination. */
	apic_write(0, 0xd0, 0x01000000);
	apic_write(1, 0xd0, 0x02000000);
	ioapic_route(11, 0x861, 0x02);
	irqchip_set_irq(ic, 11, 1);
	irqchip_set_irq(ic, 11, 0);
	test_check("ioapic_logical_flat", irqchip_pending(ic, 1) == 0x61 &&
		   irqchip_pending(ic, 0) < 0, "pending %d/%d",
		   irqchip_pending(ic, 0), irqchip_pending(ic, 1));
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);

	/* Logical cluster destination: cluster 1, CPU bit 2. */
	apic_write(0, 0xe0, 0x0fffffff);
	apic_write(1, 0xe0, 0x0fffffff);
	apic_write(0, 0xd0, 0x11000000);
	apic_write(1, 0xd0, 0x12000000);
	ioapic_route(11, 0x862, 0x12);
	irqchip_set_irq(ic, 11, 1);
	irqchip_set_irq(ic, 11, 0);
	test_check("ioapic_logical_cluster", irqchip_pending(ic, 1) == 0x62 &&
		   irqchip_pending(ic, 0) < 0, "pending %d/%d",
		   irqchip_pending(ic, 0), irqchip_pending(ic, 1));
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);

	/* Lowest priority goes to the vCPU with the lower TPR. */
	apic_write(0, 0x80, 0x20);
	apic_write(1, 0x80, 0x10);
	ioapic_route(12, 0x963, 0x13);
	irqchip_set_irq(ic, 12, 1);
	irqchip_set_irq(ic, 12, 0);
	test_check("ioapic_lowest_priority", irqchip_pending(ic, 1) == 0x63 &&
		   irqchip_pending(ic, 0) < 0, "pending %d/%d",
		   irqchip_pending(ic, 0), irqchip_pending(ic, 1));
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);

	/* NMI and INIT delivery modes. */
	ioapic_route(13, 0x400, 1);
	irqchip_set_irq(ic, 13, 1);
	irqchip_set_irq(ic, 13, 0);
	test_check("ioapic_nmi", irqchip_take_nmi(ic, 1) &&
		   !irqchip_take_nmi(ic, 1), "no NMI");

	/* ExtINT: vCPU 1 takes the PIC's vector through pin 0. */
	outb(0x21, 0xf7);
	apic_write(0, 0x350, 0x10700);          /* BSP out of virtual wire */
	ioapic_route(0, 0x700, 1);
	irqchip_set_irq(ic, 3, 1);
	v = irqchip_ack(ic, 1);
	pic_eoi(v);
	irqchip_set_irq(ic, 3, 0);
	test_check("ioapic_extint", v == 0x0b, "ack %#x", v);

	/* MSI to vCPU 1. */
	irqchip_msi(ic, 0xfee01000ull, 0x4071);
	test_check("msi_fixed", irqchip_pending(ic, 1) == 0x71, "pending %#x",
		   irqchip_pending(ic, 1));
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);
	irqchip_msi(ic, 0xfed01000ull, 0x4072);
	test_check("msi_bad_address_dropped", irqchip_pending(ic, 1) < 0,
		   "pending %#x", irqchip_pending(ic, 1));

	/* Out-of-range register indexes are harmless. */
	ioapic_write(0x10 + 2 * 24, 0x40);
	ioapic_write(0xff, 0x40);
	test_check("ioapic_bad_index", ioapic_read(0xff) == 0 &&
		   ioapic_read(0x40) == 0, "read %#x", ioapic_read(0xff));
	irqchip_set_irq(ic, 200, 1);
	test_pass("ioapic_bad_gsi");
}

/* ---------------- LAPIC ---------------- */

static unsigned run_apic_acks(unsigned cpu, uint64_t span, uint64_t step,
			      int vec)
{
	unsigned n = 0;
	int v;

	for (uint64_t t = 0; t < span; t += step) {
		advance(step);
		/* As a CPU does: an INTA cycle only while INTR is up. */
		while (irqchip_pending(ic, cpu) >= 0 &&
		       (v = irqchip_ack(ic, cpu)) >= 0) {
			if (v == vec)
				n++;
			apic_write(cpu, 0xb0, 0);
		}
	}
	return n;
}

static void test_lapic(void)
{
	uint32_t r;
	uint64_t msr, x, next;
	unsigned n;
	int v, vec;

	fresh();
	pic_init(0xff, 0xff);
	test_check("lapic_id", apic_read(1, 0x20) == 0x01000000,
		   "id %#x", apic_read(1, 0x20));
	test_check("lapic_version", apic_read(0, 0x30) == 0x00050014,
		   "version %#x", apic_read(0, 0x30));
	irqchip_msr(ic, 0, 0x1b, false, &msr);
	test_check("lapic_base_msr_bsp", msr == 0xfee00900ull, "%#llx",
		   (unsigned long long)msr);
	irqchip_msr(ic, 1, 0x1b, false, &msr);
	test_check("lapic_base_msr_ap", msr == 0xfee00800ull, "%#llx",
		   (unsigned long long)msr);

	/* Software-disabled APIC drops fixed interrupts. */
	irqchip_msi(ic, 0xfee00000ull, 0x40);
	test_check("lapic_sw_disabled_drops", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	apic_write(0, 0xf0, 0x1ff);
	apic_write(1, 0xf0, 0x1ff);
	test_check("lapic_svr", apic_read(0, 0xf0) == 0x1ff, "svr %#x",
		   apic_read(0, 0xf0));

	/* One-shot timer, divide by 1: 1 ms. */
	apic_write(0, 0x3e0, 0xb);
	apic_write(0, 0x320, 0x30);
	apic_write(0, 0x380, 1000000);
	advance(500000);
	r = apic_read(0, 0x390);
	test_check("lapic_timer_current_count", r == 500000, "tmcct %u", r);
	test_check("lapic_oneshot_not_early", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	n = run_apic_acks(0, 20000000, 100000, 0x30);
	test_check("lapic_oneshot_fires_once", n == 1, "%u interrupts", n);
	test_check("lapic_oneshot_count_zero", apic_read(0, 0x390) == 0,
		   "tmcct %u", apic_read(0, 0x390));

	/* Periodic, divide by 16, 62500 counts: 1000 Hz. */
	apic_write(0, 0x3e0, 0x3);
	apic_write(0, 0x320, 0x20031);
	apic_write(0, 0x380, 62500);
	next = irqchip_update(ic, fake_now);
	test_check("lapic_periodic_deadline", next == fake_now + 1000000,
		   "next in %lld ns", (long long)(next - fake_now));
	n = run_apic_acks(0, 1000000000ull, 100000, 0x31);
	test_check("lapic_periodic_1000hz", n == 1000, "%u interrupts", n);
	r = apic_read(0, 0x390);
	test_check("lapic_periodic_count_in_range", r > 0 && r <= 62500,
		   "tmcct %u", r);
	apic_write(0, 0x380, 0);
	n = run_apic_acks(0, 10000000, 100000, 0x31);
	test_check("lapic_timer_stop", n == 0, "%u interrupts", n);

	/* Periodic clamped to 200 us. */
	apic_write(0, 0x3e0, 0xb);
	apic_write(0, 0x380, 10);
	n = run_apic_acks(0, 10000000, 10000, 0x31);
	test_check("lapic_periodic_min_period", n == 50, "%u in 10 ms", n);
	apic_write(0, 0x380, 0);

	/* TSC deadline. */
	apic_write(0, 0x320, 0x40032);
	msr = irqchip_tsc(ic, 0, fake_now) + 5000000ull * irqchip_tsc_hz(ic) /
	      1000000000ull;
	irqchip_msr(ic, 0, 0x6e0, true, &msr);
	advance(4000000);
	test_check("lapic_tsc_deadline_not_early", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	advance(1000001);
	x = 1;
	irqchip_msr(ic, 0, 0x6e0, false, &x);
	test_check("lapic_tsc_deadline_fires", irqchip_pending(ic, 0) == 0x32 &&
		   x == 0, "pending %#x msr %#llx", irqchip_pending(ic, 0),
		   (unsigned long long)x);
	irqchip_ack(ic, 0);
	apic_write(0, 0xb0, 0);
	apic_write(0, 0x380, 1000);
	test_check("lapic_tmict_ignored_in_deadline_mode",
		   apic_read(0, 0x380) == 0, "tmict %u", apic_read(0, 0x380));
	apic_write(0, 0x320, 0x10000);
	msr = 12345;
	irqchip_msr(ic, 0, 0x6e0, true, &msr);
	irqchip_msr(ic, 0, 0x6e0, false, &x);
	test_check("lapic_tsc_deadline_needs_mode", x == 0, "msr %#llx",
		   (unsigned long long)x);

	/* TSC writes are per vCPU. */
	msr = 1ull << 40;
	irqchip_msr(ic, 1, 0x10, true, &msr);
	x = irqchip_tsc(ic, 1, fake_now + 1000);
	test_check("tsc_write", x == (1ull << 40) + 1000 *
		   irqchip_tsc_hz(ic) / 1000000000ull, "tsc %#llx",
		   (unsigned long long)x);

	/* TPR blocks a class and PPR follows ISR. */
	apic_write(0, 0x80, 0x50);
	apic_write(0, 0x300, 0x40045);          /* self IPI, vector 0x45 */
	test_check("lapic_tpr_blocks", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	apic_write(0, 0x80, 0x40);
	test_check("lapic_tpr_same_class_blocks", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	apic_write(0, 0x80, 0x30);
	test_check("lapic_tpr_lower_allows", irqchip_pending(ic, 0) == 0x45,
		   "pending %#x", irqchip_pending(ic, 0));
	apic_write(0, 0x80, 0);
	v = irqchip_ack(ic, 0);
	test_check("lapic_ppr_from_isr", v == 0x45 &&
		   apic_read(0, 0xa0) == 0x40 &&
		   (apic_read(0, 0x120) & 0x20), "ack %#x ppr %#x", v,
		   apic_read(0, 0xa0));
	apic_write(0, 0x300, 0x40046);
	test_check("lapic_isr_blocks_class", irqchip_pending(ic, 0) < 0,
		   "pending %#x", irqchip_pending(ic, 0));
	apic_write(0, 0x300, 0x40055);
	test_check("lapic_higher_class_nests", irqchip_pending(ic, 0) == 0x55,
		   "pending %#x", irqchip_pending(ic, 0));
	v = irqchip_ack(ic, 0);
	apic_write(0, 0xb0, 0);                 /* EOIs 0x55 */
	apic_write(0, 0xb0, 0);                 /* EOIs 0x45 */
	vec = irqchip_ack(ic, 0);
	apic_write(0, 0xb0, 0);
	test_check("lapic_eoi_order", v == 0x55 && vec == 0x46 &&
		   apic_read(0, 0xa0) == 0, "got %#x then %#x", v, vec);

	/* Fixed IPI to vCPU 1 wakes it. */
	memset(kicks, 0, sizeof(kicks));
	apic_write(0, 0x310, 1u << 24);
	apic_write(0, 0x300, 0x4050);
	test_check("lapic_ipi_fixed", irqchip_pending(ic, 1) == 0x50 &&
		   kicks[1] == 1 && irqchip_pending(ic, 0) < 0,
		   "pending %#x kicks %u", irqchip_pending(ic, 1), kicks[1]);
	test_check("lapic_icr_readback", apic_read(0, 0x300) == 0x4050 &&
		   apic_read(0, 0x310) == 0x01000000, "icr %#x",
		   apic_read(0, 0x300));
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);

	/* Broadcast excluding self. */
	apic_write(0, 0x300, 0xc4066);
	test_check("lapic_ipi_all_but_self", irqchip_pending(ic, 1) == 0x66 &&
		   irqchip_pending(ic, 0) < 0, "pending %d/%d",
		   irqchip_pending(ic, 0), irqchip_pending(ic, 1));
	irqchip_ack(ic, 1);
	apic_write(1, 0xb0, 0);

	/* Illegal vectors set ESR. */
	apic_write(0, 0x300, 0x40005);
	apic_write(0, 0x280, 0);
	r = apic_read(0, 0x280);
	test_check("lapic_esr_send_illegal", r & 0x20, "esr %#x", r);
	irqchip_msi(ic, 0xfee00000ull, 0x4007);
	apic_write(0, 0x280, 0);
	r = apic_read(0, 0x280);
	test_check("lapic_esr_recv_illegal", (r & 0x40) &&
		   irqchip_pending(ic, 0) < 0, "esr %#x", r);
	apic_write(0, 0x280, 0);
	test_check("lapic_esr_clears", apic_read(0, 0x280) == 0, "esr %#x",
		   apic_read(0, 0x280));

	/* NMI IPI. */
	apic_write(0, 0x300, 0x4400);
	test_check("lapic_ipi_nmi", irqchip_take_nmi(ic, 1), "no NMI");

	/* INIT, then SIPI. */
	test_check("lapic_sipi_ignored_unless_init", (apic_write(0, 0x300,
		   0x4608), irqchip_take_init_sipi(ic, 1, &vec) == 0),
		   "SIPI taken without INIT");
	apic_write(1, 0x80, 0x20);
	apic_write(0, 0x300, 0x4500);
	r = irqchip_take_init_sipi(ic, 1, &vec);
	test_check("lapic_init", r == 1 && apic_read(1, 0x80) == 0 &&
		   apic_read(1, 0x20) == 0x01000000 &&
		   apic_read(1, 0xf0) == 0xff, "take %u tpr %#x", r,
		   apic_read(1, 0x80));
	apic_write(0, 0x300, 0x8500);           /* INIT de-assert */
	test_check("lapic_init_deassert_ignored",
		   irqchip_take_init_sipi(ic, 1, &vec) == 0, "taken");
	vec = -1;
	apic_write(0, 0x300, 0x4608);
	r = irqchip_take_init_sipi(ic, 1, &vec);
	test_check("lapic_sipi", r == 2 && vec == 8, "take %u vector %d", r,
		   vec);
	apic_write(0, 0x300, 0x4609);
	test_check("lapic_second_sipi_ignored",
		   irqchip_take_init_sipi(ic, 1, &vec) == 0, "taken");
	/* INIT and SIPI both sent before the target looks. */
	apic_write(0, 0x300, 0xc4500);
	apic_write(0, 0x300, 0xc4610);
	r = irqchip_take_init_sipi(ic, 1, &vec);
	n = irqchip_take_init_sipi(ic, 1, &vec);
	test_check("lapic_init_sipi_queued", r == 1 && n == 2 && vec == 0x10,
		   "take %u then %u vector %#x", r, n, vec);

	/* Relocating and disabling the APIC. */
	msr = 0xfed00900ull;
	irqchip_msr(ic, 0, 0x1b, true, &msr);
	x = 0;
	test_check("lapic_relocate", !irqchip_mmio(ic, 0, 0xfee00020ull, 4,
						   false, &x) &&
		   irqchip_mmio(ic, 0, 0xfed00030ull, 4, false, &x) &&
		   x == 0x00050014, "version %#llx", (unsigned long long)x);
	msr = 0xfee00400ull;
	test_check("lapic_base_reserved_gp",
		   !irqchip_msr(ic, 0, 0x1b, true, &msr), "accepted");
	msr = 0xfee00100ull;
	irqchip_msr(ic, 0, 0x1b, true, &msr);
	test_check("lapic_hw_disabled", !irqchip_mmio(ic, 0, 0xfee00030ull, 4,
						      false, &x), "claimed");
	msr = 0xfee00900ull;
	irqchip_msr(ic, 0, 0x1b, true, &msr);
	test_check("lapic_reenabled", apic_read(0, 0x30) == 0x00050014,
		   "version %#x", apic_read(0, 0x30));
	test_check("lapic_unknown_msr", !irqchip_msr(ic, 0, 0x1234, false, &x),
		   "claimed");

	/* Odd accesses are harmless. */
	x = 0x12345678;
	irqchip_mmio(ic, 0, 0xfee00081ull, 2, true, &x);
	irqchip_mmio(ic, 0, 0xfee0008eull, 4, false, &x);
	irqchip_mmio(ic, 0, 0xfee00ff0ull, 8, false, &x);
	test_check("lapic_odd_access", apic_read(0, 0x80) == 0 &&
		   !irqchip_mmio(ic, 5, 0xfee00000ull, 4, false, &x),
		   "tpr %#x", apic_read(0, 0x80));
}

/* ---------------- lost ticks ---------------- */

/* Take every interrupt the irqchip has for `cpu` without time moving,
 * as a guest catching up would: ack, EOI, look again. */
static unsigned drain(unsigned cpu, bool via_pic, int vec)
{
	unsigned n = 0;
	int v;

	for (unsigned k = 0; k < 100000; k++) {
		irqchip_update(ic, fake_now);
		if (irqchip_pending(ic, cpu) < 0 ||
		    (v = irqchip_ack(ic, cpu)) < 0)
			break;
		if (v == vec)
			n++;
		if (via_pic)
			pic_eoi(v);
		else
			apic_write(cpu, 0xb0, 0);
	}
	return n;
}

static void pit_1000hz(void)
{
	outb(0x43, 0x34);               /* ch0, word, mode 2 */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
}

/* A vCPU that does not look for a while (its thread starved, or the guest
 * with interrupts off) is owed the ticks it missed, up to a second's
 * worth; ticks while the timer's interrupt is masked are not owed. */
static void test_lost_ticks(void)
{
	unsigned n;

	/* PIT through the PIC: 50 ms unseen is 50 ticks. */
	fresh();
	pic_init(0xfe, 0xff);
	pit_1000hz();
	advance(50000000);
	n = drain(0, true, 0x08);
	test_check("pit_lost_ticks_reinjected", n == 50, "%u of 50", n);
	advance(3000000000ull);
	n = drain(0, true, 0x08);
	test_check("pit_lost_ticks_bounded", n == 1000, "%u after 3 s", n);
	n = run_pic_acks(100000000ull, 100000, 0x08);
	test_check("pit_rate_after_catching_up", n >= 100 && n <= 101,
		   "%u in 100 ms", n);

	/* Masked: nothing is owed, the one latched request stays. */
	outb(0x21, 0xff);
	advance(20000000);
	outb(0x21, 0xfe);
	n = drain(0, true, 0x08);
	test_check("pit_masked_ticks_not_owed", n == 1, "%u after unmask", n);

	/* PIT through IOAPIC pin 2 to a LAPIC, the PIC masked. */
	fresh();
	pic_init(0xff, 0xff);
	apic_write(0, 0xf0, 0x1ff);
	ioapic_route(2, 0x40, 0);
	pit_1000hz();
	advance(20000000);
	n = drain(0, false, 0x40);
	test_check("pit_ioapic_lost_ticks_reinjected", n == 20, "%u of 20", n);

	/* LAPIC periodic timer, 1 ms. */
	fresh();
	pic_init(0xff, 0xff);
	apic_write(0, 0xf0, 0x1ff);
	apic_write(0, 0x3e0, 0xb);
	apic_write(0, 0x320, 0x20031);
	apic_write(0, 0x380, 1000000);
	advance(30000000);
	n = drain(0, false, 0x31);
	test_check("lapic_lost_ticks_reinjected", n == 30, "%u of 30", n);
	advance(5000000000ull);
	n = drain(0, false, 0x31);
	test_check("lapic_lost_ticks_bounded", n == 1000, "%u after 5 s", n);
	apic_write(0, 0x320, 0x30031);          /* masked */
	advance(10000000);
	apic_write(0, 0x320, 0x20031);
	n = drain(0, false, 0x31);
	test_check("lapic_masked_ticks_not_owed", n == 0, "%u after unmask", n);
	n = run_apic_acks(0, 10000000, 100000, 0x31);
	test_check("lapic_rate_after_unmask", n == 10, "%u in 10 ms", n);
}

/* IA32_TSC_ADJUST: what TSC writes added; writing it moves the TSC. */
static void test_tsc_adjust(void)
{
	uint64_t adj = 1, t, before;

	fresh();
	irqchip_msr(ic, 0, 0x3b, false, &adj);
	test_check("tsc_adjust_starts_zero", adj == 0, "%#llx",
		   (unsigned long long)adj);
	before = irqchip_tsc(ic, 0, fake_now);
	t = before + 5000000;
	irqchip_msr(ic, 0, 0x10, true, &t);
	irqchip_msr(ic, 0, 0x3b, false, &adj);
	test_check("tsc_write_shows_in_adjust", adj == 5000000, "%lld",
		   (long long)adj);
	adj -= 2000000;
	irqchip_msr(ic, 0, 0x3b, true, &adj);
	t = irqchip_tsc(ic, 0, fake_now);
	test_check("tsc_adjust_write_moves_tsc", t == before + 3000000,
		   "tsc moved by %lld", (long long)(t - before));
	irqchip_msr(ic, 1, 0x3b, false, &adj);
	test_check("tsc_adjust_per_vcpu", adj == 0, "%lld", (long long)adj);
}

int main(void)
{
	ic = irqchip_create(2, fake_kick, NULL);
	if (!ic) {
		test_fail("irqchip_create", "returned NULL");
		return test_exit();
	}
	irqchip_set_clock(ic, fake_clock, NULL);
	test_check("create_limits", irqchip_create(0, NULL, NULL) == NULL &&
		   irqchip_create(1000, NULL, NULL) == NULL, "accepted");
	test_pic();
	test_pit();
	test_ioapic();
	test_lapic();
	test_lost_ticks();
	test_tsc_adjust();
	irqchip_destroy(ic);
	return test_exit();
}
