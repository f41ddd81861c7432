/*
 * The two cascaded 8259A PICs (master at 0x20, slave at 0xa0 on master
 * IRQ2) and the PIIX ELCR at 0x4d0/0x4d1 that makes an IRQ level-triggered.
 * Priorities rotate through priority_add: IRQ (priority_add + k) & 7 has
 * priority k, 0 being the highest.
 */
#include "hypervisor/irqchip/irqchip-internal.h"

/* IRQ0-2 and IRQ8/IRQ13 are always edge-triggered on a PC. */
#define ELCR0_MASK 0xf8
#define ELCR1_MASK 0xde

/* Priority (0 highest) of the best request in mask, or 8 for none. */
static int pic_priority(const struct pic *p, uint8_t mask)
{
	int prio = 0;

	if (!mask)
		return 8;
	while (!(mask & (1u << ((prio + p->priority_add) & 7))))
		prio++;
	return prio;
}

/* The IRQ this chip would raise INT for now, or -1. */
static int pic_best_irq(const struct pic *p, bool master)
{
	uint8_t in_service = p->isr;
	int req = pic_priority(p, p->irr & ~p->imr);

	if (req == 8)
		return -1;
	/* Special mask mode lets a masked in-service IRQ stop blocking
	 * lower ones; special fully nested mode lets the slave interrupt
	 * the master's in-service IRQ2. */
	if (p->special_mask)
		in_service &= ~p->imr;
	if (master && p->special_fully_nested)
		in_service &= ~(1u << 2);
	if (req < pic_priority(p, in_service))
		return (req + p->priority_add) & 7;
	return -1;
}

static void pic_raise(struct pic *p, unsigned irq, int level)
{
	uint8_t bit = 1u << irq;

	if (p->elcr & bit) {
		if (level)
			p->irr |= bit;
		else
			p->irr &= ~bit;
	} else if (level && !(p->lines & bit)) {
		p->irr |= bit;
	}
	if (level)
		p->lines |= bit;
	else
		p->lines &= ~bit;
}

/* Propagate the slave's INT to master IRQ2 and the master's INT to the
 * CPUs (and to IOAPIC pin 0, where the chipset wires it). */
static void pic_update(struct irqchip *ic)
{
	bool out;

	/* The cascade input follows the slave's INT as a level, so a slave
	 * request that goes away before INTA takes IRQ2 with it rather than
	 * leaving a spurious IRQ15 behind. */
	if (pic_best_irq(&ic->pic[1], false) >= 0) {
		pic_raise(&ic->pic[0], 2, 1);
	} else {
		ic->pic[0].irr &= ~(1u << 2);
		ic->pic[0].lines &= ~(1u << 2);
	}
	out = pic_best_irq(&ic->pic[0], true) >= 0;
	if (out != ic->pic_output)
		ioapic_set_pin(ic, 0, out);
	ic->pic_output = out;
	if (!out)
		return;
	for (unsigned i = 0; i < ic->nr_vcpus; i++)
		if (lapic_accepts_pic(&ic->lapic[i]) ||
		    ic->lapic[i].extint_pending)
			irqchip_kick_locked(ic, i);
}

void pic_set_irq(struct irqchip *ic, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	pic_raise(&ic->pic[irq >> 3], irq & 7, level);
	pic_update(ic);
}

static void pic_init_chip(struct pic *p)
{
	uint8_t elcr = p->elcr, elcr_mask = p->elcr_mask, lines = p->lines;

	*p = (struct pic){ 0 };
	p->elcr = elcr;
	p->elcr_mask = elcr_mask;
	p->lines = lines;
	/* A level-triggered line that is still high stays requested. */
	p->irr = lines & elcr;
}

void pic_reset(struct irqchip *ic)
{
	for (int i = 0; i < 2; i++) {
		ic->pic[i] = (struct pic){ 0 };
		ic->pic[i].elcr_mask = i ? ELCR1_MASK : ELCR0_MASK;
	}
	ic->pic_output = false;
}

/* Acknowledge irq on one chip: into service unless auto-EOI; an edge
 * request is consumed, a level one stays while the line is high. */
static void pic_ack_irq(struct pic *p, int irq)
{
	uint8_t bit = 1u << irq;

	if (p->auto_eoi) {
		if (p->rotate_on_auto_eoi)
			p->priority_add = (irq + 1) & 7;
	} else {
		p->isr |= bit;
	}
	if (!(p->elcr & bit))
		p->irr &= ~bit;
}

int pic_peek(struct irqchip *ic)
{
	int irq = pic_best_irq(&ic->pic[0], true), irq2;

	if (irq < 0)
		return ic->pic[0].irq_base + 7;
	if (irq != 2)
		return ic->pic[0].irq_base + irq;
	irq2 = pic_best_irq(&ic->pic[1], false);
	return ic->pic[1].irq_base + (irq2 < 0 ? 7 : irq2);
}

bool pic_irq_requested(struct irqchip *ic, unsigned irq)
{
	const struct pic *p = &ic->pic[(irq >> 3) & 1];
	uint8_t bit = 1u << (irq & 7);

	return p->irr & ~p->imr & bit;
}

/* The INTA cycle.  A request that went away between INT and INTA gives
 * the spurious IRQ7 (IRQ15 on the slave) without setting in-service. */
int pic_intack(struct irqchip *ic)
{
	struct pic *m = &ic->pic[0], *s = &ic->pic[1];
	int irq = pic_best_irq(m, true), irq2, vec;

	if (irq < 0) {
		vec = m->irq_base + 7;
	} else {
		pic_ack_irq(m, irq);
		if (irq == 2) {
			irq2 = pic_best_irq(s, false);
			if (irq2 >= 0)
				pic_ack_irq(s, irq2);
			else
				irq2 = 7;
			vec = s->irq_base + irq2;
		} else {
			vec = m->irq_base + irq;
		}
	}
	pic_update(ic);
	return vec;
}

/* Poll mode: the read acts as an INTA on this chip and returns
 * 0x80 | level, or 0 when nothing is requested. */
static uint8_t pic_poll_read(struct irqchip *ic, int chip)
{
	struct pic *p = &ic->pic[chip];
	int irq = pic_best_irq(p, chip == 0);

	if (irq < 0)
		return 0;
	pic_ack_irq(p, irq);
	if (chip == 1) {
		/* The master's cascade input was requested on our behalf. */
		ic->pic[0].irr &= ~(1u << 2);
		ic->pic[0].isr &= ~(1u << 2);
	}
	pic_update(ic);
	return 0x80 | irq;
}

static void pic_write_cmd(struct irqchip *ic, struct pic *p, uint8_t v)
{
	int prio, irq;

	if (v & 0x10) {                 /* ICW1 */
		pic_init_chip(p);
		p->init4 = v & 1;
		p->single_mode = v & 2;
		/* Bit 3 (level mode for all inputs) is not supported by the
		 * PIIX either; the ELCR decides. */
		p->init_state = 1;
	} else if (v & 0x08) {          /* OCW3 */
		if (v & 0x04)
			p->poll = true;
		if (v & 0x02)
			p->read_isr = v & 1;
		if (v & 0x40)
			p->special_mask = (v >> 5) & 1;
	} else {                        /* OCW2 */
		switch (v >> 5) {
		case 0: case 4:         /* rotate in auto-EOI mode clear/set */
			p->rotate_on_auto_eoi = v >> 7;
			break;
		case 1: case 5:         /* non-specific EOI (and rotate) */
			prio = pic_priority(p, p->isr);
			if (prio == 8)
				break;
			irq = (prio + p->priority_add) & 7;
			p->isr &= ~(1u << irq);
			if (v >> 5 == 5)
				p->priority_add = (irq + 1) & 7;
			break;
		case 3:                 /* specific EOI */
			p->isr &= ~(1u << (v & 7));
			break;
		case 6:                 /* set priority */
			p->priority_add = (v + 1) & 7;
			break;
		case 7:                 /* rotate on specific EOI */
			p->isr &= ~(1u << (v & 7));
			p->priority_add = (v + 1) & 7;
			break;
		default:                /* 2: no operation */
			break;
		}
	}
	pic_update(ic);
}

static void pic_write_data(struct irqchip *ic, struct pic *p, uint8_t v)
{
	switch (p->init_state) {
	case 0:                         /* OCW1 */
		p->imr = v;
		break;
	case 1:                         /* ICW2 */
		p->irq_base = v & 0xf8;
		p->init_state = p->single_mode ? (p->init4 ? 3 : 0) : 2;
		break;
	case 2:                         /* ICW3: the cascade is fixed */
		p->init_state = p->init4 ? 3 : 0;
		break;
	default:                        /* ICW4 */
		p->special_fully_nested = (v >> 4) & 1;
		p->auto_eoi = (v >> 1) & 1;
		p->init_state = 0;
		break;
	}
	pic_update(ic);
}

void pic_io(struct irqchip *ic, uint16_t port, bool is_write, uint8_t *val)
{
	int chip = (port == 0xa0 || port == 0xa1 || port == 0x4d1);
	struct pic *p = &ic->pic[chip];

	if (port == 0x4d0 || port == 0x4d1) {
		if (is_write) {
			p->elcr = *val & p->elcr_mask;
			/* Lines switched to level keep their current state. */
			p->irr = (p->irr & ~p->elcr) | (p->lines & p->elcr);
			pic_update(ic);
		} else {
			*val = p->elcr;
		}
		return;
	}
	if (is_write) {
		if (port & 1)
			pic_write_data(ic, p, *val);
		else
			pic_write_cmd(ic, p, *val);
		return;
	}
	if (p->poll) {
		p->poll = false;
		*val = pic_poll_read(ic, chip);
	} else if (port & 1) {
		*val = p->imr;
	} else {
		*val = p->read_isr ? p->isr : p->irr;
	}
}
