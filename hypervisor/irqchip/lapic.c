/*
 * One xAPIC-mode local APIC per vCPU, at the address in IA32_APIC_BASE.
 * The timer counts at a 1 GHz bus clock divided by TDCR (KVM's rate) in
 * one-shot, periodic or TSC-deadline mode; like the other timers it is
 * not ticked but compared against the clock in lapic_update().
 */
#include <string.h>

#include "hypervisor/irqchip/irqchip-internal.h"

#define APIC_ID         0x20
#define APIC_LVR        0x30
#define APIC_TPR        0x80
#define APIC_APR        0x90
#define APIC_PPR        0xa0
#define APIC_EOI        0xb0
#define APIC_LDR        0xd0
#define APIC_DFR        0xe0
#define APIC_SVR        0xf0
#define APIC_ISR        0x100
#define APIC_TMR        0x180
#define APIC_IRR        0x200
#define APIC_ESR        0x280
#define APIC_ICR        0x300
#define APIC_ICR2       0x310
#define APIC_LVTT       0x320
#define APIC_LVTTHMR    0x330
#define APIC_LVTPC      0x340
#define APIC_LVT0       0x350
#define APIC_LVT1       0x360
#define APIC_LVTERR     0x370
#define APIC_TMICT      0x380
#define APIC_TMCCT      0x390
#define APIC_TDCR       0x3e0

/* Version 0x14 with six LVT entries, as KVM reports without CMCI. */
#define APIC_VERSION    0x00050014u
#define APIC_SVR_ENABLE 0x100u
#define LVT_MASKED      0x10000u
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
enum { TIMER_ONESHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE };

#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u

#define MSR_IA32_TSC          0x10
#define MSR_IA32_APIC_BASE    0x1b
#define MSR_IA32_TSC_ADJUST   0x3b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define APIC_BASE_BSP    0x100ull
#define APIC_BASE_ENABLE 0x800ull
/* Bits 0-7, 9 and 10 (x2APIC, not offered) and above a 40-bit
 * physical address are reserved. */
#define APIC_BASE_RESERVED (0x6ffull | ~((1ull << 40) - 1))

/* Periodic timers faster than this are slowed to it, as KVM does, so a
 * guest cannot keep a vCPU busy with interrupts alone. */
#define APIC_MIN_PERIOD_NS 200000ull

#define REG(la, off) ((la)->regs[(off) >> 4])

static inline void vec_set(struct lapic *la, unsigned base, uint8_t v)
{
	REG(la, base + (v >> 5) * 0x10) |= 1u << (v & 31);
}

static inline void vec_clear(struct lapic *la, unsigned base, uint8_t v)
{
	REG(la, base + (v >> 5) * 0x10) &= ~(1u << (v & 31));
}

static inline bool vec_test(const struct lapic *la, unsigned base, uint8_t v)
{
	return REG(la, base + (v >> 5) * 0x10) & (1u << (v & 31));
}

static int vec_highest(const struct lapic *la, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = REG(la, base + i * 0x10);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

bool lapic_hw_enabled(const struct lapic *la)
{
	return la->base_msr & APIC_BASE_ENABLE;
}

static bool lapic_sw_enabled(const struct lapic *la)
{
	return REG(la, APIC_SVR) & APIC_SVR_ENABLE;
}

/* Virtual-wire mode: the PIC's INTR reaches this CPU through LINT0
 * programmed as ExtINT, or directly when the LAPIC is disabled. */
bool lapic_accepts_pic(const struct lapic *la)
{
	uint32_t lvt0 = REG(la, APIC_LVT0);

	if (!lapic_hw_enabled(la))
		return true;
	return !(lvt0 & LVT_MASKED) && ((lvt0 >> 8) & 7) == APIC_DM_EXTINT;
}

uint8_t lapic_id(const struct lapic *la)
{
	return REG(la, APIC_ID) >> 24;
}

bool lapic_match_dest(const struct lapic *la, uint8_t dest, bool logical)
{
	uint8_t ldr = REG(la, APIC_LDR) >> 24;

	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == lapic_id(la);
	switch (REG(la, APIC_DFR) >> 28) {
	case 0xf:       /* flat: one bit per CPU */
		return ldr & dest;
	case 0x0:       /* cluster: high nibble cluster, low nibble CPUs */
		return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);
	default:
		return false;
	}
}

uint8_t lapic_arb_priority(const struct lapic *la)
{
	return REG(la, APIC_TPR) & 0xff;
}

static uint32_t lapic_ppr(const struct lapic *la)
{
	uint32_t tpr = REG(la, APIC_TPR) & 0xff;
	int isr = vec_highest(la, APIC_ISR);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : (isrv & 0xf0);
}

static unsigned lapic_divisor(const struct lapic *la)
{
	uint32_t d = REG(la, APIC_TDCR);
	unsigned v = (d & 3) | ((d & 8) >> 1);

	return v == 7 ? 1 : 2u << v;
}

void lapic_reset(struct irqchip *ic, unsigned vcpu, bool init)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint32_t id = init ? REG(la, APIC_ID) : vcpu << 24;
	static const unsigned lvts[] = { APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC,
					 APIC_LVT0, APIC_LVT1, APIC_LVTERR };

	if (!init)
		la->base_msr = APIC_DEFAULT_BASE | APIC_BASE_ENABLE |
			       (vcpu == 0 ? APIC_BASE_BSP : 0);
	memset(la->regs, 0, sizeof(la->regs));
	REG(la, APIC_ID) = id;
	REG(la, APIC_LVR) = APIC_VERSION;
	REG(la, APIC_DFR) = 0xffffffffu;
	REG(la, APIC_SVR) = 0xff;
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		REG(la, lvts[i]) = LVT_MASKED;
	/* The BSP starts in virtual-wire mode so firmware sees the PIC
	 * (KVM's LINT0_REENABLED behaviour). */
	if (la->base_msr & APIC_BASE_BSP)
		REG(la, APIC_LVT0) = APIC_DM_EXTINT << 8;
	la->esr_pending = 0;
	la->timer_deadline = UINT64_MAX;
	la->timer_period = 0;
	la->timer_pending = 0;
	la->tsc_deadline = 0;
	la->extint_pending = false;
}

/* Raise an APIC error; the error LVT reports it if unmasked. */
static void lapic_error(struct irqchip *ic, unsigned vcpu, uint32_t bits)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint32_t lvt = REG(la, APIC_LVTERR);
	uint8_t v = lvt & 0xff;

	la->esr_pending |= bits;
	if (!(lvt & LVT_MASKED) && v >= 16 && lapic_sw_enabled(la)) {
		vec_set(la, APIC_IRR, v);
		vec_clear(la, APIC_TMR, v);
		irqchip_kick_locked(ic, vcpu);
	}
}

void lapic_accept(struct irqchip *ic, unsigned vcpu, const struct apic_msg *m)
{
	struct lapic *la = &ic->lapic[vcpu];

	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (!lapic_sw_enabled(la))
			return;
		if (m->vector < 16) {
			lapic_error(ic, vcpu, ESR_RECV_ILLEGAL);
			return;
		}
		vec_set(la, APIC_IRR, m->vector);
		if (m->level_trig)
			vec_set(la, APIC_TMR, m->vector);
		else
			vec_clear(la, APIC_TMR, m->vector);
		break;
	case APIC_DM_NMI:
		la->nmi_pending = true;
		break;
	case APIC_DM_INIT:
		/* INIT level de-assert only synchronises arbitration IDs. */
		if (m->level_trig && !m->assert)
			return;
		la->init_pending = true;
		la->sipi_pending = false;
		break;
	case APIC_DM_SIPI:
		/* Only a CPU waiting after INIT listens to a SIPI. */
		if (!la->wait_sipi && !la->init_pending)
			return;
		la->sipi_pending = true;
		la->sipi_vector = m->vector;
		break;
	case APIC_DM_EXTINT:
		la->extint_pending = true;
		break;
	default:                /* SMI and the reserved modes */
		return;
	}
	irqchip_kick_locked(ic, vcpu);
}

int lapic_pending(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];
	int irr;

	if (!lapic_hw_enabled(la))
		return -1;
	irr = vec_highest(la, APIC_IRR);
	if (irr < 0 || ((uint32_t)irr & 0xf0) <= (lapic_ppr(la) & 0xf0))
		return -1;
	return irr;
}

int lapic_ack(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];
	int v = lapic_pending(ic, vcpu);

	if (v < 0)
		return -1;
	vec_clear(la, APIC_IRR, (uint8_t)v);
	vec_set(la, APIC_ISR, (uint8_t)v);
	return v;
}

bool lapic_vector_requested(struct irqchip *ic, uint8_t vector)
{
	for (unsigned i = 0; i < ic->nr_vcpus; i++)
		if (vec_test(&ic->lapic[i], APIC_IRR, vector))
			return true;
	return false;
}

static void lapic_eoi(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];
	int v = vec_highest(la, APIC_ISR);

	if (v < 0)
		return;
	vec_clear(la, APIC_ISR, (uint8_t)v);
	/* Level-triggered: tell the IOAPIC so Remote IRR clears. */
	if (vec_test(la, APIC_TMR, (uint8_t)v))
		ioapic_eoi(ic, (uint8_t)v);
}

static void lapic_send_ipi(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint32_t icr = REG(la, APIC_ICR);
	struct apic_msg m = {
		.vector = icr & 0xff,
		.delivery = (icr >> 8) & 7,
		.logical = icr & 0x800,
		.assert = icr & 0x4000,
		.level_trig = icr & 0x8000,
		.shorthand = (icr >> 18) & 3,
		.dest = REG(la, APIC_ICR2) >> 24,
		.src = (int)vcpu,
	};

	switch (m.delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (m.vector < 16) {
			lapic_error(ic, vcpu, ESR_SEND_ILLEGAL);
			return;
		}
		/* IPIs are edge messages; only the IOAPIC sends level ones
		 * that need an EOI back. */
		m.level_trig = false;
		break;
	case APIC_DM_NMI:
	case APIC_DM_INIT:
	case APIC_DM_SIPI:
		if (m.shorthand == 1)   /* not allowed to self */
			return;
		break;
	default:
		return;
	}
	irqchip_deliver_locked(ic, &m);
}

/* ---- timer ---- */

static unsigned lapic_timer_mode(const struct lapic *la)
{
	return LVT_TIMER_MODE(REG(la, APIC_LVTT));
}

static uint64_t lapic_period(const struct lapic *la)
{
	uint64_t p = (uint64_t)REG(la, APIC_TMICT) * lapic_divisor(la);

	if (lapic_timer_mode(la) == TIMER_PERIODIC && p < APIC_MIN_PERIOD_NS)
		p = APIC_MIN_PERIOD_NS;
	return p;
}

static void lapic_timer_start(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];

	la->timer_period = lapic_period(la);
	la->timer_pending = 0;
	if (!REG(la, APIC_TMICT) || lapic_timer_mode(la) >= TIMER_TSC_DEADLINE) {
		la->timer_deadline = UINT64_MAX;
		return;
	}
	la->timer_deadline = irqchip_now(ic) + la->timer_period;
	irqchip_kick_locked(ic, vcpu);
}

static uint32_t lapic_current_count(struct irqchip *ic, struct lapic *la)
{
	uint64_t now = irqchip_now(ic), left;
	unsigned mode = lapic_timer_mode(la);

	if (la->timer_deadline == UINT64_MAX || mode >= TIMER_TSC_DEADLINE)
		return 0;
	if (now < la->timer_deadline)
		left = la->timer_deadline - now;
	else if (mode == TIMER_PERIODIC && la->timer_period)
		left = la->timer_period -
		       (now - la->timer_deadline) % la->timer_period;
	else
		return 0;
	left /= lapic_divisor(la);
	return left > REG(la, APIC_TMICT) ? REG(la, APIC_TMICT) : (uint32_t)left;
}

static void lapic_timer_fire(struct irqchip *ic, unsigned vcpu)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint32_t lvt = REG(la, APIC_LVTT);
	struct apic_msg m = { .vector = lvt & 0xff, .delivery = APIC_DM_FIXED };

	if (!(lvt & LVT_MASKED))
		lapic_accept(ic, vcpu, &m);
}

uint64_t lapic_update(struct irqchip *ic, unsigned vcpu, uint64_t now)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint64_t n, owed_max;

	if (lapic_timer_mode(la) == TIMER_TSC_DEADLINE) {
		uint64_t host_tsc;

		if (!la->tsc_deadline)
			return UINT64_MAX;
		host_tsc = la->tsc_deadline - (uint64_t)la->tsc_offset;
		if (irqchip_host_tsc(ic, now) + (uint64_t)la->tsc_offset >=
		    la->tsc_deadline) {
			la->tsc_deadline = 0;
			lapic_timer_fire(ic, vcpu);
			return UINT64_MAX;
		}
		return irqchip_tsc_to_ns(ic, host_tsc);
	}
	if (la->timer_deadline != UINT64_MAX && now >= la->timer_deadline) {
		if (lapic_timer_mode(la) != TIMER_PERIODIC || !la->timer_period) {
			la->timer_deadline = UINT64_MAX;
			lapic_timer_fire(ic, vcpu);
			return UINT64_MAX;
		}
		/* Periods that ended unseen are owed, up to a second's
		 * worth, and paid one at a time below. */
		la->timer_period = lapic_period(la);
		n = (now - la->timer_deadline) / la->timer_period + 1;
		la->timer_deadline += n * la->timer_period;
		owed_max = NSEC_PER_SEC / la->timer_period;
		if (owed_max < 1)
			owed_max = 1;
		if (n + la->timer_pending > owed_max)
			la->timer_pending = (uint32_t)owed_max;
		else
			la->timer_pending += (uint32_t)n;
	}
	/* The next tick goes in once the guest has taken the last one
	 * (its vector left IRR), as KVM re-injects the PIT's. */
	if (REG(la, APIC_LVTT) & LVT_MASKED)
		la->timer_pending = 0;
	if (la->timer_pending &&
	    !vec_test(la, APIC_IRR, REG(la, APIC_LVTT) & 0xff)) {
		la->timer_pending--;
		lapic_timer_fire(ic, vcpu);
	}
	return la->timer_deadline;
}

/* ---- registers ---- */

static uint32_t lapic_read_reg(struct irqchip *ic, struct lapic *la,
			       unsigned off)
{
	switch (off) {
	case APIC_PPR:
		return lapic_ppr(la);
	case APIC_TMCCT:
		return lapic_current_count(ic, la);
	case APIC_ID: case APIC_LVR: case APIC_TPR: case APIC_LDR:
	case APIC_DFR: case APIC_SVR: case APIC_ESR: case APIC_ICR:
	case APIC_ICR2: case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC:
	case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR: case APIC_TMICT:
	case APIC_TDCR:
		return REG(la, off);
	}
	if (off >= APIC_ISR && off < APIC_ESR)
		return REG(la, off);
	return 0;               /* APR, EOI, RRD and reserved offsets */
}

static void lapic_write_lvt(struct irqchip *ic, unsigned vcpu, unsigned off,
			    uint32_t v)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint32_t mask, old = REG(la, off);

	switch (off) {
	case APIC_LVTT:
		mask = 0xff | LVT_MASKED | (3u << 17);
		break;
	case APIC_LVT0:
	case APIC_LVT1:
		mask = 0xff | 0x700 | 0x2000 | 0x8000 | LVT_MASKED;
		break;
	case APIC_LVTERR:
		mask = 0xff | LVT_MASKED;
		break;
	default:                /* thermal, performance counters */
		mask = 0xff | 0x700 | LVT_MASKED;
		break;
	}
	v &= mask;
	if (!lapic_sw_enabled(la))
		v |= LVT_MASKED;
	REG(la, off) = v;
	if (off != APIC_LVTT)
		return;
	/* Entering or leaving TSC-deadline mode stops the timer. */
	if ((LVT_TIMER_MODE(old) == TIMER_TSC_DEADLINE) !=
	    (LVT_TIMER_MODE(v) == TIMER_TSC_DEADLINE)) {
		REG(la, APIC_TMICT) = 0;
		la->timer_deadline = UINT64_MAX;
		la->timer_pending = 0;
		la->tsc_deadline = 0;
	}
}

static void lapic_write_reg(struct irqchip *ic, unsigned vcpu, unsigned off,
			    uint32_t v)
{
	struct lapic *la = &ic->lapic[vcpu];

	switch (off) {
	case APIC_ID:
		REG(la, off) = v & 0xff000000u;
		break;
	case APIC_TPR:
		REG(la, off) = v & 0xff;
		break;
	case APIC_EOI:
		lapic_eoi(ic, vcpu);
		break;
	case APIC_LDR:
		REG(la, off) = v & 0xff000000u;
		break;
	case APIC_DFR:
		REG(la, off) = v | 0x0fffffffu;
		break;
	case APIC_SVR:
		REG(la, off) = v & 0x3ff;
		if (!(v & APIC_SVR_ENABLE))
			for (unsigned o = APIC_LVTT; o <= APIC_LVTERR; o += 0x10)
				REG(la, o) |= LVT_MASKED;
		break;
	case APIC_ESR:
		/* A write latches the errors seen since the last one. */
		REG(la, off) = la->esr_pending;
		la->esr_pending = 0;
		break;
	case APIC_ICR:
		REG(la, off) = v & ~0x1000u;    /* delivery is immediate */
		lapic_send_ipi(ic, vcpu);
		break;
	case APIC_ICR2:
		REG(la, off) = v & 0xff000000u;
		break;
	case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC:
	case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR:
		lapic_write_lvt(ic, vcpu, off, v);
		break;
	case APIC_TMICT:
		if (lapic_timer_mode(la) == TIMER_TSC_DEADLINE)
			break;
		REG(la, off) = v;
		lapic_timer_start(ic, vcpu);
		break;
	case APIC_TDCR:
		/* Takes effect from the next (re)start or period. */
		REG(la, off) = v & 0xb;
		break;
	default:                /* read-only and reserved registers */
		break;
	}
}

bool lapic_mmio(struct irqchip *ic, unsigned vcpu, uint64_t gpa,
		unsigned size, bool is_write, uint64_t *val)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint64_t base = la->base_msr & ~0xfffull & ((1ull << 40) - 1);
	unsigned off, shift;

	if (!lapic_hw_enabled(la) || gpa < base || gpa - base >= 0x1000)
		return false;
	off = (unsigned)(gpa - base);
	shift = off & 0xf;
	if (is_write) {
		/* Registers are written as whole aligned dwords only. */
		if (size == 4 && !shift)
			lapic_write_reg(ic, vcpu, off, (uint32_t)*val);
		return true;
	}
	if (size > 4 || shift + size > 4) {
		*val = 0;
		return true;
	}
	*val = lapic_read_reg(ic, la, off & ~0xfu) >> (8 * shift);
	if (size < 4)
		*val &= (1ull << (8 * size)) - 1;
	return true;
}

bool lapic_msr(struct irqchip *ic, unsigned vcpu, uint32_t msr,
	       bool is_write, uint64_t *val)
{
	struct lapic *la = &ic->lapic[vcpu];
	uint64_t now;

	switch (msr) {
	case MSR_IA32_APIC_BASE:
		if (!is_write) {
			*val = la->base_msr;
			return true;
		}
		if (*val & APIC_BASE_RESERVED)
			return false;
		if ((la->base_msr ^ *val) & APIC_BASE_ENABLE &&
		    !(*val & APIC_BASE_ENABLE)) {
			/* A disabled APIC loses its state, keeping its ID. */
			lapic_reset(ic, vcpu, true);
		}
		la->base_msr = *val;
		return true;
	case MSR_IA32_TSC_DEADLINE:
		if (!is_write) {
			*val = lapic_timer_mode(la) == TIMER_TSC_DEADLINE ?
			       la->tsc_deadline : 0;
			return true;
		}
		/* Outside TSC-deadline mode the write is ignored (as KVM). */
		if (lapic_timer_mode(la) == TIMER_TSC_DEADLINE) {
			la->tsc_deadline = *val;
			irqchip_kick_locked(ic, vcpu);
		}
		return true;
	case MSR_IA32_TSC:
		now = irqchip_host_tsc(ic, irqchip_now(ic));
		if (is_write) {
			/* TSC_ADJUST follows by the same step (SDM 17.17.3). */
			int64_t off = (int64_t)(*val - now);

			la->tsc_adjust += off - la->tsc_offset;
			la->tsc_offset = off;
		} else {
			*val = now + (uint64_t)la->tsc_offset;
		}
		return true;
	case MSR_IA32_TSC_ADJUST:
		if (is_write) {
			la->tsc_offset += (int64_t)(*val - (uint64_t)la->tsc_adjust);
			la->tsc_adjust = (int64_t)*val;
		} else {
			*val = (uint64_t)la->tsc_adjust;
		}
		return true;
	}
	return false;
}
