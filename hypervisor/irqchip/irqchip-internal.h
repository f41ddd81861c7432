/*
 * State shared by the pieces of the irqchip (pic.c, pit.c, ioapic.c,
 * lapic.c, irqchip.c).  Everything here runs with irqchip.lock held;
 * the functions named *_locked say so explicitly where it matters.
 */
#ifndef HV_IRQCHIP_INTERNAL_H
#define HV_IRQCHIP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/irqchip/irqchip.h"

#define NSEC_PER_SEC 1000000000ull
/* xAPIC IDs are 8 bits and 0xff is the broadcast ID. */
#define IRQCHIP_MAX_VCPUS 255
#define IOAPIC_PINS 24

/* ---- 8259A ---- */
struct pic {
	uint8_t irr, imr, isr;
	uint8_t elcr, elcr_mask;
	uint8_t lines;          /* input levels, for edge detection */
	uint8_t priority_add;   /* the lowest-priority IRQ is priority_add-1 */
	uint8_t irq_base;
	uint8_t init_state;     /* 0 ready, 1-3 expecting ICW2-ICW4 */
	bool init4, single_mode, auto_eoi, rotate_on_auto_eoi;
	bool special_fully_nested, special_mask, poll, read_isr;
};

/* ---- 8254 ---- */
struct pit_channel {
	uint32_t count;         /* reload value, 1..0x10000 */
	uint64_t load_ns;       /* when counting started */
	uint16_t latched_count;
	uint8_t count_latched;  /* 0, or the RW state the latch is read in */
	uint8_t status;
	bool status_latched;
	uint8_t rw_mode, read_state, write_state, write_latch;
	uint8_t mode;
	bool bcd, gate, loaded;
	/* Channel 0's interrupt: the next pulse, and how many periods
	 * ended since load_ns (the n-th at load_ns + n periods, without
	 * drift); `pending` of them still to deliver (see pit_update). */
	uint64_t next_irq_ns;
	uint64_t irqs_done;
	uint32_t pending;
};

struct pit {
	struct pit_channel ch[3];
	bool speaker_on;
};

/* ---- 82093AA ---- */
struct ioapic {
	uint8_t regsel;
	uint8_t id;
	uint32_t lines;         /* input levels */
	uint64_t redir[IOAPIC_PINS];
};

/* ---- local APIC ---- */
struct lapic {
	uint64_t base_msr;
	uint32_t regs[64];      /* by offset >> 4 */
	uint32_t esr_pending;   /* errors not yet latched into ESR */
	/* Timer: one-shot/periodic deadline in host ns, or UINT64_MAX. */
	uint64_t timer_deadline;
	uint64_t timer_period;  /* ns; periodic mode */
	uint32_t timer_pending; /* periodic ticks owed (see lapic_update) */
	uint64_t tsc_deadline;  /* guest TSC, 0 = disarmed */
	int64_t  tsc_offset;    /* guest TSC = host TSC + offset */
	int64_t  tsc_adjust;    /* IA32_TSC_ADJUST: what writes added */
	bool nmi_pending, init_pending, sipi_pending, wait_sipi;
	bool extint_pending;    /* an ExtINT message from the IOAPIC */
	uint8_t sipi_vector;
};

struct irqchip {
	pthread_mutex_t lock;
	unsigned nr_vcpus;
	irqchip_kick_fn kick;
	void *opaque;
	irqchip_clock_fn clock;
	void *clock_opaque;
	uint64_t tsc_hz;
	uint64_t kick_bits[(IRQCHIP_MAX_VCPUS + 63) / 64];
	struct pic pic[2];
	bool pic_output;
	struct pit pit;
	struct ioapic ioapic;
	struct lapic *lapic;
};

/* irqchip.c */
uint64_t irqchip_now(struct irqchip *ic);
void irqchip_kick_locked(struct irqchip *ic, unsigned vcpu);
void irqchip_set_irq_locked(struct irqchip *ic, unsigned gsi, int level);
uint64_t irqchip_host_tsc(struct irqchip *ic, uint64_t now);
uint64_t irqchip_tsc_to_ns(struct irqchip *ic, uint64_t tsc);
/* Deliver an interrupt message (from the IOAPIC, an MSI or an IPI).
 * Returns the number of vCPUs that accepted it. */
struct apic_msg {
	uint8_t vector;
	uint8_t delivery;       /* APIC_DM_* */
	bool logical;
	bool level_trig;
	bool assert;            /* INIT level de-assert has this false */
	uint8_t dest;
	uint8_t shorthand;      /* 0 none, 1 self, 2 all, 3 all but self */
	int src;                /* sending vCPU for shorthands, or -1 */
};
unsigned irqchip_deliver_locked(struct irqchip *ic, const struct apic_msg *m);

/* pic.c */
void pic_reset(struct irqchip *ic);
void pic_set_irq(struct irqchip *ic, unsigned irq, int level);
void pic_io(struct irqchip *ic, uint16_t port, bool is_write, uint8_t *val);
int  pic_intack(struct irqchip *ic);
int  pic_peek(struct irqchip *ic);
/* Is IRQ `irq` requested and unmasked, not yet acknowledged? */
bool pic_irq_requested(struct irqchip *ic, unsigned irq);

/* pit.c */
void pit_reset(struct irqchip *ic);
void pit_io(struct irqchip *ic, uint16_t port, bool is_write, uint8_t *val);
uint64_t pit_update(struct irqchip *ic, uint64_t now);

/* ioapic.c */
#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_SIZE 0x100
void ioapic_reset(struct irqchip *ic);
void ioapic_set_pin(struct irqchip *ic, unsigned pin, int level);
void ioapic_mmio(struct irqchip *ic, uint64_t off, unsigned size,
		 bool is_write, uint64_t *val);
void ioapic_eoi(struct irqchip *ic, uint8_t vector);
/* The vector pin `pin` sends, or -1 while it is masked. */
int ioapic_pin_vector(struct irqchip *ic, unsigned pin);

/* lapic.c */
#define APIC_DM_FIXED   0
#define APIC_DM_LOWEST  1
#define APIC_DM_SMI     2
#define APIC_DM_NMI     4
#define APIC_DM_INIT    5
#define APIC_DM_SIPI    6
#define APIC_DM_EXTINT  7
#define APIC_DEFAULT_BASE 0xfee00000ull
void lapic_reset(struct irqchip *ic, unsigned vcpu, bool init);
bool lapic_hw_enabled(const struct lapic *la);
bool lapic_accepts_pic(const struct lapic *la);
uint8_t lapic_id(const struct lapic *la);
bool lapic_match_dest(const struct lapic *la, uint8_t dest, bool logical);
uint8_t lapic_arb_priority(const struct lapic *la);
void lapic_accept(struct irqchip *ic, unsigned vcpu, const struct apic_msg *m);
bool lapic_mmio(struct irqchip *ic, unsigned vcpu, uint64_t gpa,
		unsigned size, bool is_write, uint64_t *val);
bool lapic_msr(struct irqchip *ic, unsigned vcpu, uint32_t msr,
	       bool is_write, uint64_t *val);
int  lapic_pending(struct irqchip *ic, unsigned vcpu);
int  lapic_ack(struct irqchip *ic, unsigned vcpu);
/* Is `vector` requested (in IRR, not yet taken) on any vCPU? */
bool lapic_vector_requested(struct irqchip *ic, uint8_t vector);
uint64_t lapic_update(struct irqchip *ic, unsigned vcpu, uint64_t now);

#endif
