/*
 * The 8254 PIT: three counters at 1.193182 MHz behind ports 0x40-0x43,
 * plus port 0x61 (channel 2's gate, the speaker enable, the refresh
 * toggle and channel 2's output).  Counters are not ticked: their value
 * and output are computed from the time since the count was loaded.
 * Channel 0 pulses GSI 0 at its period (modes 2 and 3) or once at
 * terminal count (the one-shot modes).  Periods that end while the
 * previous tick is still waiting to be taken (the vCPU thread starved,
 * or the guest running with interrupts off) are owed and re-injected one
 * at a time as the guest takes them, as KVM's in-kernel PIT does, so a
 * guest that counts ticks keeps time; at most a second's worth is owed.
 */
#include "hypervisor/irqchip/irqchip-internal.h"

#define PIT_HZ 1193182ull

enum { RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4 };

static uint64_t pit_ticks(const struct pit_channel *c, uint64_t now)
{
	if (now <= c->load_ns)
		return 0;
	return (uint64_t)((unsigned __int128)(now - c->load_ns) * PIT_HZ /
			  NSEC_PER_SEC);
}

/* Host time of the moment `ticks` counts after load (rounded up). */
static uint64_t pit_ticks_to_ns(const struct pit_channel *c, uint64_t ticks)
{
	return c->load_ns + (uint64_t)(((unsigned __int128)ticks *
					NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ);
}

static uint16_t pit_count(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = pit_ticks(c, now);

	if (!c->loaded)
		return (uint16_t)c->count;
	switch (c->mode) {
	case 2:
		return (uint16_t)(c->count - d % c->count);
	case 3:
		return (uint16_t)(c->count - (2 * d) % c->count);
	default:
		return (uint16_t)(c->count - d);
	}
}

static int pit_out(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = pit_ticks(c, now);

	if (!c->loaded)
		return c->mode == 0 ? 0 : 1;
	switch (c->mode) {
	case 0:                 /* low until terminal count */
	case 1:
		return d >= c->count;
	case 2:                 /* low for the clock before each reload */
		return d % c->count != c->count - 1;
	case 3:                 /* square wave, high half first */
		return d % c->count < (c->count + 1) / 2;
	default:                /* 4, 5: one low clock at terminal count */
		return d != c->count;
	}
}

static bool pit_periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* Start channel 0's interrupts; every vCPU is kicked so one sleeping in
 * HLT recomputes its wake-up time from irqchip_update(). */
static void pit_arm(struct irqchip *ic, struct pit_channel *c)
{
	c->irqs_done = 0;
	c->pending = 0;
	c->next_irq_ns = pit_ticks_to_ns(c, c->count);
	for (unsigned i = 0; i < ic->nr_vcpus; i++)
		irqchip_kick_locked(ic, i);
}

static void pit_load(struct irqchip *ic, int ch, uint32_t val)
{
	struct pit_channel *c = &ic->pit.ch[ch];

	c->count = val ? val : 0x10000;
	c->load_ns = irqchip_now(ic);
	c->loaded = true;
	if (ch == 0)
		pit_arm(ic, c);
}

void pit_reset(struct irqchip *ic)
{
	uint64_t now = irqchip_now(ic);

	for (int i = 0; i < 3; i++) {
		struct pit_channel *c = &ic->pit.ch[i];

		*c = (struct pit_channel){ 0 };
		c->mode = 3;
		c->rw_mode = c->read_state = c->write_state = RW_WORD0;
		c->gate = i != 2;
		c->count = 0x10000;
		c->load_ns = now;
		c->loaded = i != 0;
		/* Channel 0 stays quiet until the firmware programs it. */
		c->next_irq_ns = UINT64_MAX;
	}
	ic->pit.speaker_on = false;
}

/* Does IRQ0 reach a CPU through the PIC (unmasked there, and some vCPU
 * listens to the PIC)? */
static bool pit_pic_route(struct irqchip *ic)
{
	if (ic->pic[0].imr & 1)
		return false;
	for (unsigned i = 0; i < ic->nr_vcpus; i++)
		if (lapic_accepts_pic(&ic->lapic[i]))
			return true;
	return false;
}

/* Is the last tick still waiting to be taken, at the PIC or at a LAPIC
 * through IOAPIC pin 2?  Then the next one would merge with it. */
static bool pit_tick_waiting(struct irqchip *ic)
{
	int vec = ioapic_pin_vector(ic, 2);

	if (vec >= 0 && lapic_vector_requested(ic, (uint8_t)vec))
		return true;
	return pic_irq_requested(ic, 0) && pit_pic_route(ic);
}

uint64_t pit_update(struct irqchip *ic, uint64_t now)
{
	struct pit_channel *c = &ic->pit.ch[0];
	uint64_t n, owed_max;

	if (c->next_irq_ns != UINT64_MAX && now >= c->next_irq_ns) {
		if (!pit_periodic(c)) {
			c->pending = 1;
			c->next_irq_ns = UINT64_MAX;
		} else {
			n = pit_ticks(c, now) / c->count;
			if (n <= c->irqs_done)
				n = c->irqs_done + 1;
			owed_max = PIT_HZ / c->count;
			if (owed_max < 1)
				owed_max = 1;
			if (n - c->irqs_done + c->pending > owed_max)
				c->pending = (uint32_t)owed_max;
			else
				c->pending += (uint32_t)(n - c->irqs_done);
			c->irqs_done = n;
			c->next_irq_ns = pit_ticks_to_ns(c, (n + 1) * c->count);
		}
	}
	if (c->pending && !pit_tick_waiting(ic)) {
		c->pending--;
		irqchip_set_irq_locked(ic, 0, 1);
		irqchip_set_irq_locked(ic, 0, 0);
	}
	/* Ticks while IRQ0 is masked everywhere are lost, not owed (KVM
	 * drops them through its mask notifier); the pulse above still
	 * latches in the PIC's IRR as on hardware. */
	if (c->pending && !pit_pic_route(ic) && ioapic_pin_vector(ic, 2) < 0)
		c->pending = 0;
	return c->next_irq_ns;
}

/* A rising gate restarts the count in the modes the gate triggers. */
static void pit_set_gate(struct irqchip *ic, int ch, bool gate)
{
	struct pit_channel *c = &ic->pit.ch[ch];

	if (gate && !c->gate && c->loaded && c->mode != 0 && c->mode != 4) {
		c->load_ns = irqchip_now(ic);
		if (ch == 0)
			pit_arm(ic, c);
	}
	c->gate = gate;
}

static void pit_latch_count(struct irqchip *ic, int ch)
{
	struct pit_channel *c = &ic->pit.ch[ch];

	if (c->count_latched)
		return;
	c->latched_count = pit_count(c, irqchip_now(ic));
	c->count_latched = c->rw_mode;
}

static void pit_latch_status(struct irqchip *ic, int ch)
{
	struct pit_channel *c = &ic->pit.ch[ch];

	if (c->status_latched)
		return;
	c->status = (uint8_t)(pit_out(c, irqchip_now(ic)) << 7 |
			      (!c->loaded) << 6 | c->rw_mode << 4 |
			      c->mode << 1 | c->bcd);
	c->status_latched = true;
}

static void pit_write_control(struct irqchip *ic, uint8_t v)
{
	int ch = v >> 6;
	struct pit_channel *c;
	unsigned access;

	if (ch == 3) {                  /* read-back */
		for (ch = 0; ch < 3; ch++) {
			if (!(v & (2 << ch)))
				continue;
			if (!(v & 0x20))
				pit_latch_count(ic, ch);
			if (!(v & 0x10))
				pit_latch_status(ic, ch);
		}
		return;
	}
	c = &ic->pit.ch[ch];
	access = (v >> 4) & 3;
	if (access == 0) {              /* counter latch */
		pit_latch_count(ic, ch);
		return;
	}
	c->rw_mode = c->read_state = c->write_state = access;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)                /* 6 and 7 are modes 2 and 3 */
		c->mode -= 4;
	/* BCD counting is accepted and reported; counts stay binary, as
	 * in KVM. */
	c->bcd = v & 1;
	c->count_latched = 0;
	c->status_latched = false;
}

static uint8_t pit_read_counter(struct irqchip *ic, int ch)
{
	struct pit_channel *c = &ic->pit.ch[ch];
	uint16_t count;
	uint8_t r;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		switch (c->count_latched) {
		case RW_MSB:
			r = c->latched_count >> 8;
			c->count_latched = 0;
			break;
		case RW_WORD0:
			r = c->latched_count & 0xff;
			c->count_latched = RW_MSB;
			break;
		default:
			r = c->latched_count & 0xff;
			c->count_latched = 0;
			break;
		}
		return r;
	}
	count = pit_count(c, irqchip_now(ic));
	switch (c->read_state) {
	case RW_MSB:
		return count >> 8;
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return count & 0xff;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return count >> 8;
	default:
		return count & 0xff;
	}
}

static void pit_write_counter(struct irqchip *ic, int ch, uint8_t v)
{
	struct pit_channel *c = &ic->pit.ch[ch];

	switch (c->write_state) {
	case RW_MSB:
		pit_load(ic, ch, (uint32_t)v << 8);
		break;
	case RW_WORD0:
		c->write_latch = v;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		pit_load(ic, ch, c->write_latch | (uint32_t)v << 8);
		c->write_state = RW_WORD0;
		break;
	default:
		pit_load(ic, ch, v);
		break;
	}
}

void pit_io(struct irqchip *ic, uint16_t port, bool is_write, uint8_t *val)
{
	uint64_t now;

	if (port == 0x61) {
		if (is_write) {
			ic->pit.speaker_on = (*val >> 1) & 1;
			pit_set_gate(ic, 2, *val & 1);
			return;
		}
		/* Bit 4 is the DRAM refresh toggle guests busy-wait on; it
		 * flips every 2^14 ns (about the real 15 us). */
		now = irqchip_now(ic);
		*val = (uint8_t)(ic->pit.ch[2].gate |
				 ic->pit.speaker_on << 1 |
				 ((now >> 14) & 1) << 4 |
				 pit_out(&ic->pit.ch[2], now) << 5);
		return;
	}
	if (port == 0x43) {
		if (is_write)
			pit_write_control(ic, *val);
		else
			*val = 0xff;    /* the control port is write-only */
		return;
	}
	if (is_write)
		pit_write_counter(ic, port - 0x40, *val);
	else
		*val = pit_read_counter(ic, port - 0x40);
}
