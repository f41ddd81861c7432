/*
 * The vCPU backend interface: what hvmd's core needs from a CPU backend
 * (KVM, or the software x86 CPU), and what the core offers back.
 *
 * The core owns domains, guest memory, the ioreq server and the vCPU
 * threads.  A backend turns "run this vCPU" into guest execution and calls
 * back into the core for every port or MMIO access (hv_vcpu_io) and for
 * shutdown events.  Only hypervisor/ includes this file.
 */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hvm/control.h"

struct domain;
struct vcpu;

/* A piece of guest-physical address space backed by host memory. */
struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;           /* host mapping of the whole region */
	uint32_t flags;         /* HVCTL_MEM_F_* */
	int      slot;          /* backend slot number, unique per domain */
	bool     in_use;
};

/* Guest RAM is three regions (below the VGA hole at 0xa0000, from 0xc0000
 * to the PCI hole, above 4 GiB), then one per device-model slot. */
#define HV_RAM_REGIONS 3
#define HV_MAX_REGIONS (HV_RAM_REGIONS + HVCTL_MEM_SLOTS)

/* Architectural register state, the same layout as the control message. */
typedef struct hvctl_vcpu_regs vcpu_regs_t;

/* Why vcpu_run returned to the core. */
enum vcpu_exit_reason {
	VCPU_EXIT_KICKED = 1,   /* vcpu_kick() was called: check for pause/stop */
	VCPU_EXIT_HALT,         /* HLT with no interrupt coming (backends with
	                         * their own irqchip normally sleep themselves) */
	VCPU_EXIT_SHUTDOWN,     /* triple fault: the domain must reset */
	VCPU_EXIT_INTERNAL,     /* an instruction the backend cannot run */
	VCPU_EXIT_ERROR,        /* host-side failure; errno-like code in .error */
};

struct vcpu_exit {
	enum vcpu_exit_reason reason;
	int      error;
	uint64_t rip;           /* INTERNAL: linear address of the instruction */
	uint8_t  insn[15];      /* INTERNAL: its bytes, when known */
	uint8_t  insn_len;
};

/*
 * One guest I/O access handed to the core.  For count == 1 and no pointer,
 * data holds the value (in and out).  For string I/O either the backend
 * supplies a buffer of count*size bytes in port order (buf != NULL, KVM's
 * way) or it gives the guest-physical address of the first element in
 * data with data_is_ptr set and df saying which way the elements go (the
 * software CPU's way); the core never lets a string access cross a page.
 */
struct hv_io {
	uint8_t  type;          /* IOREQ_TYPE_PIO or IOREQ_TYPE_COPY */
	bool     dir_read;      /* true for in / MMIO load */
	bool     data_is_ptr;
	bool     df;
	uint32_t size;          /* 1, 2, 4 or 8 */
	uint32_t count;         /* >= 1 */
	uint64_t addr;          /* port or guest-physical address */
	uint64_t data;
	void    *buf;
};

struct cpu_backend {
	const char *name;

	/* Domain-wide set-up once guest RAM exists (KVM: VM fd, irqchip). */
	int  (*domain_init)(struct domain *d);
	void (*domain_fini)(struct domain *d);
	/* System reset of domain-wide state (interrupt controllers, timers);
	 * the vCPUs are reset one by one with vcpu_reset.  May be NULL. */
	int  (*domain_reset)(struct domain *d);
	int  (*map_region)(struct domain *d, struct mem_region *r);
	void (*unmap_region)(struct domain *d, struct mem_region *r);
	/* Fill bitmap (one bit per page) and clear the log. */
	int  (*get_dirty_log)(struct domain *d, struct mem_region *r,
			      uint64_t *bitmap);
	/* Drive an interrupt line (GSI) of the platform's PIC/IOAPIC. */
	int  (*set_irq)(struct domain *d, unsigned gsi, int level);

	int  (*vcpu_init)(struct vcpu *v);
	void (*vcpu_fini)(struct vcpu *v);
	/* Put the vCPU in its power-on state (BSP at the reset vector,
	 * APs waiting for INIT/SIPI). */
	int  (*vcpu_reset)(struct vcpu *v);
	/* Run guest code on the calling thread until something in enum
	 * vcpu_exit_reason happens. */
	int  (*vcpu_run)(struct vcpu *v, struct vcpu_exit *exit);
	/* From any thread: make vcpu_run return VCPU_EXIT_KICKED soon. */
	void (*vcpu_kick)(struct vcpu *v);
	int  (*vcpu_get_regs)(struct vcpu *v, vcpu_regs_t *regs);
	int  (*vcpu_set_regs)(struct vcpu *v, const vcpu_regs_t *regs);
};

extern const struct cpu_backend kvm_backend;
/* 1 when this host runs guest kernel code natively, 0 when its KVM
 * emulates it (nested "PVM" KVM), negative errno when KVM is unusable. */
int kvm_probe_native(void);
extern const struct cpu_backend soft_backend;

/* ---- What the core offers backends ---- */

/* Per-domain and per-vCPU data a backend may keep. */
void *hv_domain_backend(struct domain *d);
/* A counter bumped whenever a guest memory region is mapped, unmapped or
 * changes flags (before the old mapping goes away): backends that cache
 * host addresses of guest memory (the soft CPU's TLB) compare it. */
const volatile uint64_t *hv_memmap_gen(struct domain *d);
void  hv_domain_set_backend(struct domain *d, void *priv);
void *hv_vcpu_backend(struct vcpu *v);
void  hv_vcpu_set_backend(struct vcpu *v, void *priv);

struct domain *hv_vcpu_domain(struct vcpu *v);
unsigned hv_vcpu_id(struct vcpu *v);
unsigned hv_domain_nr_vcpus(struct domain *d);
struct vcpu *hv_domain_vcpu(struct domain *d, unsigned id);
uint32_t hv_domain_id(struct domain *d);

/* Guest memory.  Returns the host address of gpa and, in *avail, how many
 * bytes from there are contiguous in the same region; NULL when gpa is not
 * backed by memory (an MMIO access).  Writes through read-only regions are
 * the caller's business: *flags gets the region's HVCTL_MEM_F_*. */
uint8_t *hv_gpa_to_hva(struct domain *d, uint64_t gpa, uint64_t *avail,
		       uint32_t *flags);
/* Regions currently mapped, for backends that register them all
 * (KVM memslots).  Returns the count copied into out[]. */
unsigned hv_domain_regions(struct domain *d, struct mem_region *out,
			   unsigned max);

/* Perform one I/O access through the ioreq server (or answer it as
 * unclaimed: reads all ones, writes dropped).  Blocks until the device
 * model answers.  Returns 0, or -EINTR if the vCPU was kicked while
 * waiting (the access then did not happen and must be retried). */
int hv_vcpu_io(struct vcpu *v, struct hv_io *io);

/* The guest asked for a reset / power-off through the CPU itself
 * (triple fault is reported as VCPU_EXIT_SHUTDOWN instead). */
void hv_domain_request_shutdown(struct domain *d,
				enum hvctl_shutdown_reason why);

/* Log a guest-caused problem once per (domain, key); never fatal. */
void hv_log_guest(struct domain *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Monotonic host time in nanoseconds. */
uint64_t hv_now_ns(void);

#endif
