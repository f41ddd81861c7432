/*
 * The platform interrupt controllers and timer that Xen keeps inside its
 * hypervisor, for the software CPU backend: two 8259A PICs with the ELCR,
 * an 82093AA IOAPIC, one local APIC per vCPU (timer one-shot, periodic and
 * TSC-deadline; TPR, EOI, spurious vector, IPIs including INIT/SIPI), and
 * the 8254 PIT with port 0x61.  (The KVM backend uses KVM's in-kernel
 * models instead.)  Guest-visible behaviour follows those in-kernel models.
 *
 * Thread safety: every function may be called from any thread (vCPU
 * threads, hvmd's irq thread); the irqchip locks internally.  Time is
 * hv_now_ns() (host monotonic nanoseconds).
 */
#ifndef HV_IRQCHIP_H
#define HV_IRQCHIP_H

#include <stdbool.h>
#include <stdint.h>

struct irqchip;

/* Called (with no irqchip lock held) when vCPU `vcpu` may have a new
 * interrupt, NMI, INIT or SIPI to take, so a halted vCPU wakes up. */
typedef void (*irqchip_kick_fn)(void *opaque, unsigned vcpu);

struct irqchip *irqchip_create(unsigned nr_vcpus, irqchip_kick_fn kick,
			       void *opaque);
void irqchip_destroy(struct irqchip *ic);
/* Power-on state of every controller (system reset). */
void irqchip_reset(struct irqchip *ic);

/* The clock every register access reads (PIT counters, LAPIC current
 * count, the TSC).  Defaults to CLOCK_MONOTONIC in ns, the same clock as
 * hv_now_ns(); tests install a fake one.  Set it before the guest runs. */
typedef uint64_t (*irqchip_clock_fn)(void *opaque);
void irqchip_set_clock(struct irqchip *ic, irqchip_clock_fn clock,
		       void *opaque);

/* Drive GSI `gsi` (0-15 go to both the PIC and the IOAPIC; IRQ0 of the
 * PIC is IOAPIC pin 2 as on a PC; 16-23 the IOAPIC only). */
void irqchip_set_irq(struct irqchip *ic, unsigned gsi, int level);
/* Deliver an MSI (address/data as written by a device). */
void irqchip_msi(struct irqchip *ic, uint64_t addr, uint32_t data);

/* Port I/O the irqchip owns: PIC 0x20-0x21 and 0xa0-0xa1, ELCR 0x4d0-0x4d1,
 * PIT 0x40-0x43, port 0x61.  Returns true when claimed; *val in/out. */
bool irqchip_pio(struct irqchip *ic, unsigned vcpu, uint16_t port,
		 unsigned size, bool is_write, uint32_t *val);
/* MMIO: the IOAPIC at 0xfec00000 and each vCPU's LAPIC at its APIC base
 * (default 0xfee00000).  Returns true when claimed. */
bool irqchip_mmio(struct irqchip *ic, unsigned vcpu, uint64_t gpa,
		  unsigned size, bool is_write, uint64_t *val);
/* MSRs the LAPIC owns: IA32_APIC_BASE (0x1b), TSC_DEADLINE (0x6e0),
 * IA32_TSC (0x10) and IA32_TSC_ADJUST (0x3b: what TSC writes added; a
 * write moves the TSC by the difference).
 * Returns true when claimed; false -> the CPU raises #GP. */
bool irqchip_msr(struct irqchip *ic, unsigned vcpu, uint32_t msr,
		 bool is_write, uint64_t *val);

/* Interrupt acceptance, from the vCPU's own thread. */
/* Vector of the highest-priority external interrupt this vCPU could take
 * now if RFLAGS.IF allowed it (LAPIC IRR over PPR, or the PIC's output
 * through LINT0 in ExtINT mode), or -1. */
int  irqchip_pending(struct irqchip *ic, unsigned vcpu);
/* Take it (the INTA cycle): returns the vector and moves it to in-service;
 * -1 if nothing is pending any more (another vCPU took a PIC interrupt). */
int  irqchip_ack(struct irqchip *ic, unsigned vcpu);
bool irqchip_take_nmi(struct irqchip *ic, unsigned vcpu);
/* INIT and SIPI for this vCPU: returns 0 none, 1 INIT (reset the vCPU to
 * wait-for-SIPI; the LAPIC has already done its INIT reset), 2 SIPI with
 * *vector set (start at CS = vector << 8, IP 0).  A SIPI is only reported
 * to a vCPU that took an INIT before it (as in KVM). */
int  irqchip_take_init_sipi(struct irqchip *ic, unsigned vcpu, int *vector);

/* Timers: advance every timer to `now` (raising what expired) and return
 * the next absolute deadline in ns, or UINT64_MAX for none.  A vCPU calls
 * this regularly while running and before sleeping in HLT. */
uint64_t irqchip_update(struct irqchip *ic, uint64_t now);

/* The TSC: advertised rate and the guest TSC of vCPU `vcpu` at host time
 * `now` (RDTSC).  The TSC counts from 0 at creation and at reset; a write
 * of IA32_TSC (MSR 0x10, claimed by irqchip_msr) sets it per vCPU.  The
 * TSC-deadline timer compares against this value, so the CPU must take
 * its RDTSC from here and advertise CPUID.1:ECX.TSC_DEADLINE (bit 24). */
uint64_t irqchip_tsc_hz(struct irqchip *ic);
uint64_t irqchip_tsc(struct irqchip *ic, unsigned vcpu, uint64_t now);

#endif
