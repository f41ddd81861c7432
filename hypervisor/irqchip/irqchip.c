/*
 * The irqchip as a whole: one lock, the routing of GSIs to the PICs and
 * the IOAPIC, the APIC bus (message delivery to local APICs), the
 * dispatch of port/MMIO/MSR accesses, and the wake-ups ("kicks") that are
 * collected under the lock and sent after it is dropped, so the kick
 * callback may itself call back into the irqchip.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hypervisor/irqchip/irqchip-internal.h"

/* The TSC rate we advertise.  1 GHz makes guest TSC and host ns the same
 * scale, which keeps the TSC-deadline conversion exact. */
#define IRQCHIP_TSC_HZ 1000000000ull
/* The LAPIC timer counts host ns (lapic.c); the soft CPU's CPUID leaf
 * 0x15 reports the TSC rate as that timer's crystal. */
_Static_assert(IRQCHIP_TSC_HZ == NSEC_PER_SEC, "TSC and APIC clock differ");

static uint64_t irqchip_monotonic(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t irqchip_now(struct irqchip *ic)
{
	return ic->clock(ic->clock_opaque);
}

static void irqchip_lock(struct irqchip *ic)
{
	pthread_mutex_lock(&ic->lock);
}

/* Drop the lock, then wake every vCPU something was delivered to. */
static void irqchip_unlock(struct irqchip *ic)
{
	uint64_t bits[sizeof(ic->kick_bits) / sizeof(ic->kick_bits[0])];

	memcpy(bits, ic->kick_bits, sizeof(bits));
	memset(ic->kick_bits, 0, sizeof(ic->kick_bits));
	pthread_mutex_unlock(&ic->lock);
	if (!ic->kick)
		return;
	for (unsigned i = 0; i < ic->nr_vcpus; i++)
		if (bits[i / 64] & (1ull << (i % 64)))
			ic->kick(ic->opaque, i);
}

void irqchip_kick_locked(struct irqchip *ic, unsigned vcpu)
{
	if (vcpu < ic->nr_vcpus)
		ic->kick_bits[vcpu / 64] |= 1ull << (vcpu % 64);
}

uint64_t irqchip_host_tsc(struct irqchip *ic, uint64_t now)
{
	return (uint64_t)((unsigned __int128)now * ic->tsc_hz / NSEC_PER_SEC);
}

/* Host ns at which the host TSC reaches tsc (rounded up). */
uint64_t irqchip_tsc_to_ns(struct irqchip *ic, uint64_t tsc)
{
	unsigned __int128 ns = ((unsigned __int128)tsc * NSEC_PER_SEC +
				ic->tsc_hz - 1) / ic->tsc_hz;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

struct irqchip *irqchip_create(unsigned nr_vcpus, irqchip_kick_fn kick,
			       void *opaque)
{
	struct irqchip *ic;

	if (nr_vcpus == 0 || nr_vcpus > IRQCHIP_MAX_VCPUS)
		return NULL;
	ic = calloc(1, sizeof(*ic));
	if (!ic)
		return NULL;
	ic->lapic = calloc(nr_vcpus, sizeof(*ic->lapic));
	if (!ic->lapic) {
		free(ic);
		return NULL;
	}
	pthread_mutex_init(&ic->lock, NULL);
	ic->nr_vcpus = nr_vcpus;
	ic->kick = kick;
	ic->opaque = opaque;
	ic->clock = irqchip_monotonic;
	ic->tsc_hz = IRQCHIP_TSC_HZ;
	irqchip_reset(ic);
	return ic;
}

void irqchip_destroy(struct irqchip *ic)
{
	if (!ic)
		return;
	pthread_mutex_destroy(&ic->lock);
	free(ic->lapic);
	free(ic);
}

void irqchip_set_clock(struct irqchip *ic, irqchip_clock_fn clock,
		       void *opaque)
{
	irqchip_lock(ic);
	ic->clock = clock ? clock : irqchip_monotonic;
	ic->clock_opaque = opaque;
	irqchip_unlock(ic);
	irqchip_reset(ic);
}

void irqchip_reset(struct irqchip *ic)
{
	uint64_t now;

	irqchip_lock(ic);
	now = irqchip_now(ic);
	pic_reset(ic);
	pit_reset(ic);
	ioapic_reset(ic);
	for (unsigned i = 0; i < ic->nr_vcpus; i++) {
		memset(&ic->lapic[i], 0, sizeof(ic->lapic[i]));
		lapic_reset(ic, i, false);
		ic->lapic[i].tsc_offset = -(int64_t)irqchip_host_tsc(ic, now);
	}
	irqchip_unlock(ic);
}

/* ISA IRQs 0-15 reach both the PIC and the IOAPIC; IRQ0 (the PIT) is
 * IOAPIC pin 2, as the MADT's interrupt source override says.  IRQ2 is
 * the cascade inside the PIC pair, so nothing drives it from outside. */
void irqchip_set_irq_locked(struct irqchip *ic, unsigned gsi, int level)
{
	if (gsi < 16) {
		if (gsi != 2)
			pic_set_irq(ic, gsi, level);
		ioapic_set_pin(ic, gsi == 0 ? 2 : gsi, level);
	} else if (gsi < IOAPIC_PINS) {
		ioapic_set_pin(ic, gsi, level);
	}
}

void irqchip_set_irq(struct irqchip *ic, unsigned gsi, int level)
{
	irqchip_lock(ic);
	irqchip_set_irq_locked(ic, gsi, level);
	irqchip_unlock(ic);
}

unsigned irqchip_deliver_locked(struct irqchip *ic, const struct apic_msg *m)
{
	unsigned n = 0;
	int best = -1;

	for (unsigned i = 0; i < ic->nr_vcpus; i++) {
		struct lapic *la = &ic->lapic[i];
		bool hit;

		switch (m->shorthand) {
		case 1:  hit = (int)i == m->src; break;
		case 2:  hit = true; break;
		case 3:  hit = (int)i != m->src; break;
		default: hit = lapic_match_dest(la, m->dest, m->logical);
		}
		if (!hit || !lapic_hw_enabled(la))
			continue;
		if (m->delivery == APIC_DM_LOWEST && m->shorthand == 0) {
			/* Arbitration: the lowest task priority wins; ties go
			 * to the lowest vCPU, as no guest depends on more. */
			if (best < 0 || lapic_arb_priority(la) <
			    lapic_arb_priority(&ic->lapic[best]))
				best = (int)i;
			continue;
		}
		lapic_accept(ic, i, m);
		n++;
	}
	if (best >= 0) {
		lapic_accept(ic, (unsigned)best, m);
		n++;
	}
	return n;
}

/* MSI: address 0xfeeXXXXX with the destination in bits 19:12 and the
 * logical flag in bit 2; the data word is an APIC message. */
void irqchip_msi(struct irqchip *ic, uint64_t addr, uint32_t data)
{
	struct apic_msg m = {
		.vector = data & 0xff,
		.delivery = (data >> 8) & 7,
		.logical = addr & 4,
		.level_trig = data & 0x8000,
		.assert = true,
		.dest = (addr >> 12) & 0xff,
		.src = -1,
	};

	if ((addr >> 20) != 0xfee)
		return;
	/* Edge MSIs are the only kind; a level MSI has no EOI path here. */
	m.level_trig = false;
	irqchip_lock(ic);
	irqchip_deliver_locked(ic, &m);
	irqchip_unlock(ic);
}

static bool irqchip_pio_byte(struct irqchip *ic, uint16_t port,
			     bool is_write, uint8_t *v)
{
	switch (port) {
	case 0x20: case 0x21: case 0xa0: case 0xa1:
	case 0x4d0: case 0x4d1:
		pic_io(ic, port, is_write, v);
		return true;
	case 0x40: case 0x41: case 0x42: case 0x43: case 0x61:
		pit_io(ic, port, is_write, v);
		return true;
	}
	return false;
}

bool irqchip_pio(struct irqchip *ic, unsigned vcpu, uint16_t port,
		 unsigned size, bool is_write, uint32_t *val)
{
	uint8_t tmp;
	uint32_t out = 0;
	bool claimed;

	(void)vcpu;
	switch (port) {
	case 0x20: case 0x21: case 0xa0: case 0xa1: case 0x4d0: case 0x4d1:
	case 0x40: case 0x41: case 0x42: case 0x43: case 0x61:
		break;
	default:
		return false;
	}
	if (size != 1 && size != 2 && size != 4) {
		if (!is_write)
			*val = ~0u;
		return true;
	}
	/* Wider accesses are a byte access per port (outw 0x4d0 sets both
	 * ELCRs); bytes landing on ports we do not own read as 0xff. */
	irqchip_lock(ic);
	for (unsigned i = 0; i < size; i++) {
		tmp = is_write ? (uint8_t)(*val >> (8 * i)) : 0xff;
		claimed = irqchip_pio_byte(ic, (uint16_t)(port + i), is_write,
					   &tmp);
		if (!claimed)
			tmp = 0xff;
		out |= (uint32_t)tmp << (8 * i);
	}
	irqchip_unlock(ic);
	if (!is_write)
		*val = out;
	return true;
}

bool irqchip_mmio(struct irqchip *ic, unsigned vcpu, uint64_t gpa,
		  unsigned size, bool is_write, uint64_t *val)
{
	bool claimed = false;

	if (vcpu >= ic->nr_vcpus)
		return false;
	irqchip_lock(ic);
	if (lapic_mmio(ic, vcpu, gpa, size, is_write, val)) {
		claimed = true;
	} else if (gpa >= IOAPIC_BASE && gpa - IOAPIC_BASE < IOAPIC_SIZE) {
		ioapic_mmio(ic, gpa - IOAPIC_BASE, size, is_write, val);
		claimed = true;
	}
	irqchip_unlock(ic);
	return claimed;
}

bool irqchip_msr(struct irqchip *ic, unsigned vcpu, uint32_t msr,
		 bool is_write, uint64_t *val)
{
	bool ok;

	if (vcpu >= ic->nr_vcpus)
		return false;
	irqchip_lock(ic);
	ok = lapic_msr(ic, vcpu, msr, is_write, val);
	irqchip_unlock(ic);
	return ok;
}

/* The PIC reaches a vCPU through LINT0 in ExtINT mode (or directly when
 * its LAPIC is hardware-disabled), or through an ExtINT message. */
static bool irqchip_pic_pending(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];

	return ic->pic_output && (lapic_accepts_pic(la) || la->extint_pending);
}

int irqchip_pending(struct irqchip *ic, unsigned vcpu)
{
	int v = -1;

	if (vcpu >= ic->nr_vcpus)
		return -1;
	irqchip_lock(ic);
	if (irqchip_pic_pending(ic, vcpu))
		v = pic_peek(ic);
	else
		v = lapic_pending(ic, vcpu);
	irqchip_unlock(ic);
	return v;
}

int irqchip_ack(struct irqchip *ic, unsigned vcpu)
{
	int v;

	if (vcpu >= ic->nr_vcpus)
		return -1;
	irqchip_lock(ic);
	if (irqchip_pic_pending(ic, vcpu)) {
		ic->lapic[vcpu].extint_pending = false;
		v = pic_intack(ic);
	} else {
		v = lapic_ack(ic, vcpu);
		/* The PIC request vanished after the CPU saw INTR: the INTA
		 * cycle still happens and returns the spurious IRQ7. */
		if (v < 0 && lapic_accepts_pic(&ic->lapic[vcpu]))
			v = pic_intack(ic);
	}
	irqchip_unlock(ic);
	return v;
}

bool irqchip_take_nmi(struct irqchip *ic, unsigned vcpu)
{
	bool r;

	if (vcpu >= ic->nr_vcpus)
		return false;
	irqchip_lock(ic);
	r = ic->lapic[vcpu].nmi_pending;
	ic->lapic[vcpu].nmi_pending = false;
	irqchip_unlock(ic);
	return r;
}

int irqchip_take_init_sipi(struct irqchip *ic, unsigned vcpu, int *vector)
{
	struct lapic *la;
	int r = 0;

	if (vcpu >= ic->nr_vcpus)
		return 0;
	irqchip_lock(ic);
	la = &ic->lapic[vcpu];
	if (la->init_pending) {
		/* A SIPI that came after this INIT stays queued. */
		la->init_pending = false;
		lapic_reset(ic, vcpu, true);
		la->wait_sipi = true;
		r = 1;
	} else if (la->sipi_pending) {
		la->sipi_pending = false;
		la->wait_sipi = false;
		if (vector)
			*vector = la->sipi_vector;
		r = 2;
	}
	irqchip_unlock(ic);
	return r;
}

uint64_t irqchip_update(struct irqchip *ic, uint64_t now)
{
	uint64_t next, t;

	irqchip_lock(ic);
	next = pit_update(ic, now);
	for (unsigned i = 0; i < ic->nr_vcpus; i++) {
		t = lapic_update(ic, i, now);
		if (t < next)
			next = t;
	}
	irqchip_unlock(ic);
	return next;
}

uint64_t irqchip_tsc_hz(struct irqchip *ic)
{
	return ic->tsc_hz;
}

uint64_t irqchip_tsc(struct irqchip *ic, unsigned vcpu, uint64_t now)
{
	uint64_t tsc;

	if (vcpu >= ic->nr_vcpus)
		return 0;
	irqchip_lock(ic);
	tsc = irqchip_host_tsc(ic, now) + (uint64_t)ic->lapic[vcpu].tsc_offset;
	irqchip_unlock(ic);
	return tsc;
}
