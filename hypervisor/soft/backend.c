/*
 * soft_backend: hvmd's vCPU backend on the software x86 CPU.
 *
 * Each vCPU thread runs the interpreter in batches of instructions and,
 * between batches, looks at its interrupt controller (hypervisor/irqchip:
 * PICs, IOAPIC, a LAPIC per vCPU, PIT) for INIT/SIPI, NMIs and external
 * interrupts, and moves the platform timers on.  RAM is reached directly
 * through the domain's memory regions; ports and MMIO the irqchip does
 * not own become ioreqs to the device model; REP INS/OUTS become one
 * string ioreq per page.  HLT sleeps until the next timer deadline, an
 * interrupt, or a kick.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvm/ioreq.h"
#include "hypervisor/irqchip/irqchip.h"
#include "hypervisor/soft/cpu.h"
#include "hypervisor/vcpu.h"

#define BATCH 4096

/*
 * Dirty logging (VRAM behind a PCI BAR): the software CPU gets no host
 * pointer for a dirty-logged region, so every access to it comes through
 * bus_mmio, which does it on the region's memory and marks the page.
 * Framebuffers are written far less often than RAM; the slow path is the
 * price of knowing what to redraw.
 */
struct soft_dirty {
	bool used;
	int slot;
	uint64_t gpa, size;
	uint8_t *hva;
	uint64_t *bits;
};

#define SOFT_DIRTY_MAX 4

struct soft_dom {
	struct irqchip *ic;
	pthread_mutex_t dirty_lock;
	struct soft_dirty dirty[SOFT_DIRTY_MAX];
	atomic_int ndirty;
};

struct soft_vcpu {
	struct x86 cpu;
	struct x86_bus bus;
	struct vcpu *v;
	struct domain *d;
	struct irqchip *ic;
	unsigned id;
	bool wait_sipi;
	atomic_bool kicked;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool wake_pending;
	FILE *branch_log;
	FILE *profile;          /* HVMD_SOFT_PROFILE samples */
	uint64_t profile_next_ns;
	uint64_t icount;        /* guest instructions executed */
	uint64_t sleeps;        /* times it waited (HLT, wait-for-SIPI) */
	uint64_t started_ns;
};

static struct soft_vcpu *sv_of(struct domain *d, unsigned id)
{
	struct vcpu *v = hv_domain_vcpu(d, id);

	return v ? hv_vcpu_backend(v) : NULL;
}

static void sv_wake(struct soft_vcpu *s)
{
	pthread_mutex_lock(&s->lock);
	s->wake_pending = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* The irqchip's "this vCPU may have something to take" callback. */
static void ic_kick(void *opaque, unsigned vcpu)
{
	struct soft_vcpu *s = sv_of(opaque, vcpu);

	if (s)
		sv_wake(s);
}

/* ---- the bus ---- */

static uint8_t *bus_ram(void *opaque, uint64_t gpa, uint64_t *avail, bool *ro)
{
	struct soft_vcpu *s = opaque;
	uint32_t flags = 0;
	uint8_t *p = hv_gpa_to_hva(s->d, gpa, avail, &flags);

	*ro = flags & HVCTL_MEM_F_READONLY;
	if (flags & HVCTL_MEM_F_DIRTY_LOG)
		return NULL;    /* through bus_mmio: see struct soft_dirty */
	return p;
}

/* An access to a dirty-logged region: done here, the page marked.
 * Returns false when gpa is in none. */
static bool dirty_access(struct soft_vcpu *s, uint64_t gpa, unsigned size,
			 bool write, uint64_t *val)
{
	struct soft_dom *sd = hv_domain_backend(s->d);
	bool hit = false;

	if (!atomic_load(&sd->ndirty))
		return false;
	pthread_mutex_lock(&sd->dirty_lock);
	for (unsigned i = 0; i < SOFT_DIRTY_MAX; i++) {
		struct soft_dirty *r = &sd->dirty[i];
		uint64_t off = gpa - r->gpa;

		if (!r->used || gpa < r->gpa || off >= r->size)
			continue;
		hit = true;
		if (size > r->size - off) {
			/* Straddles the end: the bytes inside only. */
			size = (unsigned)(r->size - off);
		}
		if (write) {
			uint64_t v = *val;

			memcpy(r->hva + off, &v, size);
			for (uint64_t pg = off >> 12; pg <= (off + size - 1) >> 12;
			     pg++)
				r->bits[pg / 64] |= 1ull << (pg % 64);
		} else {
			uint64_t v = 0;

			memcpy(&v, r->hva + off, size);
			*val = v;
		}
		break;
	}
	pthread_mutex_unlock(&sd->dirty_lock);
	return hit;
}

static int io_result(struct soft_vcpu *s, int ret)
{
	/* -EINTR: the domain is going away; abandon the instruction. */
	if (ret == -EINTR)
		return 1;
	/* The device model may have paused the domain while it handled the
	 * access (power-off, reset, stop): the access is done, but nothing
	 * after it may run, as on hardware (and on KVM, whose kick makes the
	 * next KVM_RUN return at once). */
	if (atomic_load(&s->kicked))
		s->cpu.end_batch = true;
	return 0;
}

static int bus_mmio(void *opaque, uint64_t gpa, unsigned size, bool write,
		    uint64_t *val)
{
	struct soft_vcpu *s = opaque;
	struct hv_io io = {
		.type = IOREQ_TYPE_COPY, .dir_read = !write, .size = size,
		.count = 1, .addr = gpa, .data = write ? *val : 0,
	};
	int ret;

	if (irqchip_mmio(s->ic, s->id, gpa, size, write, val))
		return 0;
	if (size <= 8 && dirty_access(s, gpa, size, write, val))
		return 0;
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		/* Odd sizes from page-straddling accesses: bytes. */
		for (unsigned k = 0; k < size; k++) {
			uint64_t b = write ? (*val >> (8 * k)) & 0xff : 0;

			if (bus_mmio(opaque, gpa + k, 1, write, &b))
				return 1;
			if (!write)
				*val = (*val & ~(0xffull << (8 * k))) | b << (8 * k);
		}
		return 0;
	}
	ret = hv_vcpu_io(s->v, &io);
	if (ret == 0 && !write)
		*val = io.data;
	return io_result(s, ret);
}

static int bus_pio(void *opaque, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	struct soft_vcpu *s = opaque;
	uint32_t v32 = (uint32_t)*val;
	struct hv_io io = {
		.type = IOREQ_TYPE_PIO, .dir_read = !write, .size = size,
		.count = 1, .addr = port, .data = write ? *val : 0,
	};
	int ret;

	if (irqchip_pio(s->ic, s->id, port, size, write, &v32)) {
		if (!write)
			*val = v32;
		return 0;
	}
	ret = hv_vcpu_io(s->v, &io);
	if (ret == 0 && !write)
		*val = io.data;
	return io_result(s, ret);
}

static int bus_pio_string(void *opaque, uint16_t port, unsigned size,
			  bool write, uint64_t gpa, uint32_t count, bool df)
{
	struct soft_vcpu *s = opaque;
	struct hv_io io = {
		.type = IOREQ_TYPE_PIO, .dir_read = !write, .data_is_ptr = true,
		.df = df, .size = size, .count = count, .addr = port,
		.data = gpa,
	};
	uint32_t v32;

	/* The irqchip's ports are never strings in practice; do them one
	 * by one through the single-access path. */
	if (irqchip_pio(s->ic, s->id, port, size, false, &v32) ||
	    port == 0x61) {
		for (uint32_t k = 0; k < count; k++) {
			uint64_t a = df ? gpa - (uint64_t)k * size
					: gpa + (uint64_t)k * size;
			uint64_t avail;
			uint32_t fl;
			uint8_t *p = hv_gpa_to_hva(s->d, a, &avail, &fl);
			uint64_t v = 0;

			if (!p || avail < size)
				continue;
			if (write)
				memcpy(&v, p, size);
			bus_pio(opaque, port, size, write, &v);
			if (!write && !(fl & HVCTL_MEM_F_READONLY))
				memcpy(p, &v, size);
		}
		return 0;
	}
	return io_result(s, hv_vcpu_io(s->v, &io));
}

static bool bus_msr(void *opaque, uint32_t msr, bool write, uint64_t *val)
{
	struct soft_vcpu *s = opaque;

	return irqchip_msr(s->ic, s->id, msr, write, val);
}

static uint64_t bus_tsc(void *opaque)
{
	struct soft_vcpu *s = opaque;

	/* The irqchip keeps each vCPU's TSC: the TSC-deadline timer
	 * compares against the same count. */
	return irqchip_tsc(s->ic, s->id, hv_now_ns());
}

static void bus_log(void *opaque, const char *msg)
{
	struct soft_vcpu *s = opaque;

	hv_log_guest(s->d, "vCPU %u: %s", s->id, msg);
}

/* ---- backend ops ---- */

static int soft_map_region(struct domain *d, struct mem_region *r)
{
	struct soft_dom *sd = hv_domain_backend(d);
	int ret = -ENOSPC;

	if (!(r->flags & HVCTL_MEM_F_DIRTY_LOG))
		return 0;
	pthread_mutex_lock(&sd->dirty_lock);
	for (unsigned i = 0; i < SOFT_DIRTY_MAX; i++) {
		struct soft_dirty *e = &sd->dirty[i];

		if (e->used)
			continue;
		e->bits = calloc((r->size / 4096 + 63) / 64, 8);
		if (!e->bits) {
			ret = -ENOMEM;
			break;
		}
		e->slot = r->slot;
		e->gpa = r->gpa;
		e->size = r->size;
		e->hva = r->hva;
		e->used = true;
		atomic_fetch_add(&sd->ndirty, 1);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&sd->dirty_lock);
	return ret;
}

static void soft_unmap_region(struct domain *d, struct mem_region *r)
{
	struct soft_dom *sd = hv_domain_backend(d);

	pthread_mutex_lock(&sd->dirty_lock);
	for (unsigned i = 0; i < SOFT_DIRTY_MAX; i++) {
		struct soft_dirty *e = &sd->dirty[i];

		if (e->used && e->slot == r->slot) {
			free(e->bits);
			memset(e, 0, sizeof(*e));
			atomic_fetch_sub(&sd->ndirty, 1);
		}
	}
	pthread_mutex_unlock(&sd->dirty_lock);
}

static int soft_get_dirty_log(struct domain *d, struct mem_region *r,
			      uint64_t *bitmap)
{
	struct soft_dom *sd = hv_domain_backend(d);
	int ret = -ENOENT;

	pthread_mutex_lock(&sd->dirty_lock);
	for (unsigned i = 0; i < SOFT_DIRTY_MAX; i++) {
		struct soft_dirty *e = &sd->dirty[i];
		size_t words = (e->size / 4096 + 63) / 64;

		if (!e->used || e->slot != r->slot)
			continue;
		memcpy(bitmap, e->bits, words * 8);
		memset(e->bits, 0, words * 8);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&sd->dirty_lock);
	return ret;
}

static int soft_domain_init(struct domain *d)
{
	struct soft_dom *sd = calloc(1, sizeof(*sd));

	if (!sd)
		return -ENOMEM;
	pthread_mutex_init(&sd->dirty_lock, NULL);
	sd->ic = irqchip_create(hv_domain_nr_vcpus(d), ic_kick, d);
	if (!sd->ic) {
		free(sd);
		return -ENOMEM;
	}
	hv_domain_set_backend(d, sd);
	return 0;
}

static void soft_domain_fini(struct domain *d)
{
	struct soft_dom *sd = hv_domain_backend(d);

	if (!sd)
		return;
	irqchip_destroy(sd->ic);
	for (unsigned i = 0; i < SOFT_DIRTY_MAX; i++)
		free(sd->dirty[i].bits);
	pthread_mutex_destroy(&sd->dirty_lock);
	free(sd);
	hv_domain_set_backend(d, NULL);
}

static int soft_domain_reset(struct domain *d)
{
	struct soft_dom *sd = hv_domain_backend(d);

	irqchip_reset(sd->ic);
	return 0;
}

static int soft_set_irq(struct domain *d, unsigned gsi, int level)
{
	struct soft_dom *sd = hv_domain_backend(d);

	irqchip_set_irq(sd->ic, gsi, level);
	return 0;
}

static int soft_vcpu_init(struct vcpu *v)
{
	struct domain *d = hv_vcpu_domain(v);
	struct soft_dom *sd = hv_domain_backend(d);
	struct soft_vcpu *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->v = v;
	s->d = d;
	s->ic = sd->ic;
	s->id = hv_vcpu_id(v);
	pthread_mutex_init(&s->lock, NULL);
	/* sv_sleep's deadlines are CLOCK_MONOTONIC times; a condition
	 * variable on the default (realtime) clock would see them as long
	 * past and return at once, turning every HLT into a busy loop. */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->bus = (struct x86_bus){
		.opaque = s, .ram = bus_ram, .mmio = bus_mmio, .pio = bus_pio,
		.pio_string = bus_pio_string, .msr = bus_msr, .tsc = bus_tsc,
		.log = bus_log, .memmap_gen = hv_memmap_gen(d),
		.tsc_deadline = true,   /* hypervisor/irqchip's LAPIC */
		.tsc_hz = irqchip_tsc_hz(s->ic),
	};
	s->cpu.bus = &s->bus;
	s->cpu.cpu_id = s->id;
	s->started_ns = hv_now_ns();
	/* Debugging aid: HVMD_SOFT_BRANCH_LOG=FILE records every taken
	 * branch of vCPU 0 (from, to). */
	if (s->id == 0 && getenv("HVMD_SOFT_BRANCH_LOG"))
		s->branch_log = fopen(getenv("HVMD_SOFT_BRANCH_LOG"), "w");
	/* HVMD_SOFT_PROFILE=FILE: every millisecond of host time, vCPU 0's
	 * guest position ("ns cpl linear-rip instructions-so-far"), to
	 * find where a guest spends its time (scripts/soft-profile.sh maps
	 * it to kernel symbols) and how fast it runs there. */
	if (s->id == 0 && getenv("HVMD_SOFT_PROFILE"))
		s->profile = fopen(getenv("HVMD_SOFT_PROFILE"), "w");
	hv_vcpu_set_backend(v, s);
	return 0;
}

static void soft_vcpu_fini(struct vcpu *v)
{
	struct soft_vcpu *s = hv_vcpu_backend(v);

	if (!s)
		return;
	/* HVMD_SOFT_STATS=1: how much this vCPU ran (make bench reads it). */
	if (getenv("HVMD_SOFT_STATS")) {
		double secs = (double)(hv_now_ns() - s->started_ns) / 1e9;

		fprintf(stderr, "hvmd: soft vCPU %u: %llu instructions in %.3f s, "
			"%llu sleeps; %llu cached blocks entered (%llu "
			"translated), %llu instructions run alone\n", s->id,
			(unsigned long long)s->icount, secs,
			(unsigned long long)s->sleeps,
			(unsigned long long)s->cpu.blk_entries,
			(unsigned long long)s->cpu.tr_entries,
			(unsigned long long)s->cpu.blk_singles);
	}
	if (s->profile)
		fclose(s->profile);
	if (s->branch_log) {
		fprintf(s->branch_log, "end: cs %04x rip %llx cr0 %llx efer %llx "
			"flags %llx halted %d\n", s->cpu.seg[S_CS].sel,
			(unsigned long long)s->cpu.rip,
			(unsigned long long)s->cpu.cr0,
			(unsigned long long)s->cpu.efer,
			(unsigned long long)s->cpu.flags, s->cpu.halted);
		fclose(s->branch_log);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
	hv_vcpu_set_backend(v, NULL);
}

static int soft_vcpu_reset(struct vcpu *v)
{
	struct soft_vcpu *s = hv_vcpu_backend(v);

	x86_reset(&s->cpu);
	s->cpu.branch_log = s->branch_log;
	s->wait_sipi = s->id != 0;
	return 0;
}

/* Sleep until woken or until the absolute host time `until`. */
static void sv_sleep(struct soft_vcpu *s, uint64_t until)
{
	struct timespec ts;
	uint64_t now = hv_now_ns();

	if (until <= now)
		return;
	s->sleeps++;
	if (until - now > 100000000ull)
		until = now + 100000000ull;     /* look around every 100 ms */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000ull +
			  (uint64_t)ts.tv_nsec + (until - now);
	ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
	ts.tv_nsec = (long)(abs_ns % 1000000000ull);
	pthread_mutex_lock(&s->lock);
	while (!s->wake_pending && !atomic_load(&s->kicked)) {
		if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) == ETIMEDOUT)
			break;
	}
	s->wake_pending = false;
	pthread_mutex_unlock(&s->lock);
}

static int soft_vcpu_run(struct vcpu *v, struct vcpu_exit *ex)
{
	struct soft_vcpu *s = hv_vcpu_backend(v);
	struct x86 *c = &s->cpu;

	for (;;) {
		int vec = 0;
		uint64_t deadline;

		if (atomic_exchange(&s->kicked, false)) {
			ex->reason = VCPU_EXIT_KICKED;
			return 0;
		}
		switch (irqchip_take_init_sipi(s->ic, s->id, &vec)) {
		case 1:
			x86_reset(c);
			s->wait_sipi = true;
			break;
		case 2:
			if (s->wait_sipi) {
				x86_sipi(c, (unsigned)vec);
				s->wait_sipi = false;
			}
			break;
		}
		deadline = irqchip_update(s->ic, hv_now_ns());
		if (s->wait_sipi) {
			sv_sleep(s, hv_now_ns() + 100000000ull);
			continue;
		}
		if (!c->nmi_blocked && irqchip_take_nmi(s->ic, s->id))
			x86_nmi(c);
		if (x86_interruptible(c) && irqchip_pending(s->ic, s->id) >= 0) {
			int v2 = irqchip_ack(s->ic, s->id);

			if (v2 >= 0 && x86_interrupt(c, (unsigned)v2) ==
			    X86_EXIT_SHUTDOWN) {
				ex->reason = VCPU_EXIT_SHUTDOWN;
				return 0;
			}
		}
		if (c->halted) {
			sv_sleep(s, deadline);
			continue;
		}
		/* One batch under one setjmp; it stops early at HLT. */
		unsigned done = 0;
		enum x86_exit e = x86_run(c, BATCH, &done);

		s->icount += done;
		if (s->profile) {
			uint64_t now = hv_now_ns();

			if (now >= s->profile_next_ns) {
				fprintf(s->profile, "%llu %u %llx %llu\n",
					(unsigned long long)now, c->cpl,
					(unsigned long long)(c->seg[S_CS].base +
							     c->rip),
					(unsigned long long)s->icount);
				s->profile_next_ns = now + 1000000;
			}
		}

		if (e == X86_EXIT_SHUTDOWN) {
			ex->reason = VCPU_EXIT_SHUTDOWN;
			return 0;
		}
		if (e == X86_EXIT_IO_ABORT) {
			ex->reason = VCPU_EXIT_KICKED;
			return 0;
		}
	}
}

static void soft_vcpu_kick(struct vcpu *v)
{
	struct soft_vcpu *s = hv_vcpu_backend(v);

	if (!s)
		return;
	atomic_store(&s->kicked, true);
	sv_wake(s);
}

static void seg_out(const struct x86_seg *s, struct hvctl_seg *o)
{
	o->base = s->base;
	o->limit = s->limit;
	o->sel = s->sel;
	o->attr = s->attr;
}

static void seg_in(const struct hvctl_seg *o, struct x86_seg *s)
{
	s->base = o->base;
	s->limit = o->limit;
	s->sel = o->sel;
	s->attr = o->attr;
}

static int soft_vcpu_get_regs(struct vcpu *v, vcpu_regs_t *r)
{
	struct soft_vcpu *s = hv_vcpu_backend(v);
	struct x86 *c = &s->cpu;

	memcpy(r->gpr, c->r, sizeof(r->gpr));
	r->rip = c->rip;
	r->rflags = c->flags;
	seg_out(&c->seg[S_ES], &r->es);
	seg_out(&c->seg[S_CS], &r->cs);
	seg_out(&c->seg[S_SS], &r->ss);
	seg_out(&c->seg[S_DS], &r->ds);
	seg_out(&c->seg[S_FS], &r->fs);
	seg_out(&c->seg[S_GS], &r->gs);
	seg_out(&c->ldtr, &r->ldtr);
	seg_out(&c->tr, &r->tr);
	r->gdt_base = c->gdt_base;
	r->gdt_limit = c->gdt_limit;
	r->idt_base = c->idt_base;
	r->idt_limit = c->idt_limit;
	r->cr0 = c->cr0;
	r->cr2 = c->cr2;
	r->cr3 = c->cr3;
	r->cr4 = c->cr4;
	r->cr8 = c->cr8;
	r->efer = c->efer;
	return 0;
}

static int soft_vcpu_set_regs(struct vcpu *v, const vcpu_regs_t *r)
{
	struct soft_vcpu *s = hv_vcpu_backend(v);
	struct x86 *c = &s->cpu;

	memcpy(c->r, r->gpr, sizeof(c->r));
	c->rip = r->rip;
	c->flags = r->rflags | 2;
	seg_in(&r->es, &c->seg[S_ES]);
	seg_in(&r->cs, &c->seg[S_CS]);
	seg_in(&r->ss, &c->seg[S_SS]);
	seg_in(&r->ds, &c->seg[S_DS]);
	seg_in(&r->fs, &c->seg[S_FS]);
	seg_in(&r->gs, &c->seg[S_GS]);
	seg_in(&r->ldtr, &c->ldtr);
	seg_in(&r->tr, &c->tr);
	c->gdt_base = r->gdt_base;
	c->gdt_limit = r->gdt_limit;
	c->idt_base = r->idt_base;
	c->idt_limit = r->idt_limit;
	c->cr0 = r->cr0;
	c->cr2 = r->cr2;
	c->cr3 = r->cr3;
	c->cr4 = r->cr4;
	c->cr8 = r->cr8;
	c->efer = r->efer;
	c->halted = false;
	s->wait_sipi = false;
	x86_state_changed(c);
	return 0;
}

const struct cpu_backend soft_backend = {
	.name = "soft",
	.domain_init = soft_domain_init,
	.domain_fini = soft_domain_fini,
	.domain_reset = soft_domain_reset,
	.set_irq = soft_set_irq,
	.map_region = soft_map_region,
	.unmap_region = soft_unmap_region,
	.get_dirty_log = soft_get_dirty_log,
	.vcpu_init = soft_vcpu_init,
	.vcpu_fini = soft_vcpu_fini,
	.vcpu_reset = soft_vcpu_reset,
	.vcpu_run = soft_vcpu_run,
	.vcpu_kick = soft_vcpu_kick,
	.vcpu_get_regs = soft_vcpu_get_regs,
	.vcpu_set_regs = soft_vcpu_set_regs,
};

const struct cpu_backend *const soft_backend_ptr = &soft_backend;
