/*
 * The 82093AA IOAPIC (version 0x11, 24 pins) at 0xfec00000: an index
 * register (IOREGSEL) and a data window (IOWIN) onto the ID, version,
 * arbitration ID and the 24 64-bit redirection entries.  A level-
 * triggered pin sets Remote IRR when delivered and is not delivered
 * again until a LAPIC EOI of its vector clears it.  Line polarity is
 * the caller's business: `level` means "asserted", as in KVM.
 */
#include "hypervisor/irqchip/irqchip-internal.h"

#define IOAPIC_VERSION  0x11
#define REG_ID          0x00
#define REG_VERSION     0x01
#define REG_ARB         0x02
#define REG_REDIR       0x10

#define RTE_DELIVS      (1ull << 12)
#define RTE_REMOTE_IRR  (1ull << 14)
#define RTE_LEVEL       (1ull << 15)
#define RTE_MASKED      (1ull << 16)
/* Guest-writable bits of the low dword: vector, delivery mode, dest
 * mode, polarity, trigger mode, mask. */
#define RTE_LOW_RW      0x1afffull
#define RTE_HIGH_RW     0xff000000ull

void ioapic_reset(struct irqchip *ic)
{
	struct ioapic *io = &ic->ioapic;

	io->regsel = 0;
	io->id = 0;
	/* Input levels are wires from devices and survive a reset. */
	for (int i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

static void ioapic_service(struct irqchip *ic, unsigned pin)
{
	struct ioapic *io = &ic->ioapic;
	uint64_t e = io->redir[pin];
	struct apic_msg m = {
		.vector = e & 0xff,
		.delivery = (e >> 8) & 7,
		.logical = (e >> 11) & 1,
		.level_trig = e & RTE_LEVEL,
		.assert = true,
		.dest = (uint8_t)(e >> 56),
		.src = -1,
	};
	bool eoi_kind = m.delivery == APIC_DM_FIXED ||
			m.delivery == APIC_DM_LOWEST;

	if (e & RTE_MASKED)
		return;
	if (m.level_trig && (e & RTE_REMOTE_IRR))
		return;
	if (!eoi_kind)
		m.level_trig = false;
	if (irqchip_deliver_locked(ic, &m) && m.level_trig)
		io->redir[pin] |= RTE_REMOTE_IRR;
}

void ioapic_set_pin(struct irqchip *ic, unsigned pin, int level)
{
	struct ioapic *io = &ic->ioapic;
	uint32_t bit;
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	bit = 1u << pin;
	was = io->lines & bit;
	if (level)
		io->lines |= bit;
	else
		io->lines &= ~bit;
	if (!level)
		return;
	/* A masked edge is lost, as the datasheet says; a level stays
	 * asserted and is delivered when unmasked. */
	if ((io->redir[pin] & RTE_LEVEL) || !was)
		ioapic_service(ic, pin);
}

int ioapic_pin_vector(struct irqchip *ic, unsigned pin)
{
	uint64_t e;
	unsigned dm;

	if (pin >= IOAPIC_PINS)
		return -1;
	e = ic->ioapic.redir[pin];
	dm = (e >> 8) & 7;
	if ((e & RTE_MASKED) || (dm != APIC_DM_FIXED && dm != APIC_DM_LOWEST))
		return -1;
	return (int)(e & 0xff);
}

void ioapic_eoi(struct irqchip *ic, uint8_t vector)
{
	struct ioapic *io = &ic->ioapic;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];

		if ((e & 0xff) != vector || !(e & RTE_LEVEL) ||
		    !(e & RTE_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~RTE_REMOTE_IRR;
		if (io->lines & (1u << pin))
			ioapic_service(ic, pin);
	}
}

static uint32_t ioapic_read_reg(struct ioapic *io)
{
	unsigned r = io->regsel, pin;

	switch (r) {
	case REG_ID:
	case REG_ARB:
		return (uint32_t)io->id << 24;
	case REG_VERSION:
		return (IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	}
	if (r < REG_REDIR || r >= REG_REDIR + 2 * IOAPIC_PINS)
		return 0;
	pin = (r - REG_REDIR) / 2;
	return (uint32_t)(io->redir[pin] >> (r & 1 ? 32 : 0));
}

static void ioapic_write_reg(struct irqchip *ic, uint32_t v)
{
	struct ioapic *io = &ic->ioapic;
	unsigned r = io->regsel, pin;
	uint64_t e;

	if (r == REG_ID) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < REG_REDIR || r >= REG_REDIR + 2 * IOAPIC_PINS)
		return;                 /* version, arbitration: read-only */
	pin = (r - REG_REDIR) / 2;
	e = io->redir[pin];
	if (r & 1) {
		e = (e & 0xffffffffull) | ((uint64_t)v & RTE_HIGH_RW) << 32;
	} else {
		e = (e & ~0xffffffffull) | (e & (RTE_REMOTE_IRR | RTE_DELIVS)) |
		    (v & RTE_LOW_RW);
		/* Remote IRR means nothing for an edge pin. */
		if (!(e & RTE_LEVEL))
			e &= ~RTE_REMOTE_IRR;
	}
	io->redir[pin] = e;
	if ((e & RTE_LEVEL) && (io->lines & (1u << pin)))
		ioapic_service(ic, pin);
}

void ioapic_mmio(struct irqchip *ic, uint64_t off, unsigned size,
		 bool is_write, uint64_t *val)
{
	struct ioapic *io = &ic->ioapic;
	uint32_t v = 0;

	if (size != 1 && size != 2 && size != 4 && size != 8) {
		if (!is_write)
			*val = 0;
		return;
	}
	if (!is_write) {
		if (off == 0x00)
			v = io->regsel;
		else if (off == 0x10)
			v = ioapic_read_reg(io);
		*val = size == 8 ? v : v & (0xffffffffu >> (32 - 8 * size));
		return;
	}
	v = (uint32_t)*val;
	if (size < 4)
		v &= (1u << (8 * size)) - 1;
	if (off == 0x00)
		io->regsel = (uint8_t)v;
	else if (off == 0x10 && size >= 4)
		ioapic_write_reg(ic, v);
}
