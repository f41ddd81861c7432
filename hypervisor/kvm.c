/*
 * The KVM backend: guest code runs in the host kernel's KVM, with its
 * in-kernel PIC, IOAPIC, LAPIC and PIT.  Port and MMIO exits become
 * ioreqs through hv_vcpu_io; device interrupts are KVM_IRQ_LINE calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvm/ioreq.h"
#include "hvm/memmap.h"
#include "hypervisor/vcpu.h"

#define KICK_SIGNAL SIGUSR1

struct kvm_dom {
	int kvm_fd, vm_fd;
	size_t run_size;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_known;
	pthread_mutex_t kick_lock;
};

static void kick_handler(int sig)
{
	(void)sig;   /* only interrupts KVM_RUN */
}

static int kvm_set_routing(struct kvm_dom *k)
{
	/* PC wiring: ISA IRQs 0-15 reach the 8259s (IRQ2 is the cascade)
	 * and the IOAPIC, where the PIT's IRQ0 arrives on pin 2 (the ACPI
	 * interrupt source override every PC firmware reports). */
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[64];
	} rt;
	unsigned n = 0;

	memset(&rt, 0, sizeof(rt));
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi < 16 && gsi != 2) {
			rt.e[n].gsi = gsi;
			rt.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			rt.e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							    : KVM_IRQCHIP_PIC_SLAVE;
			rt.e[n].u.irqchip.pin = gsi & 7;
			n++;
		}
		if (gsi == 2)
			continue;
		rt.e[n].gsi = gsi;
		rt.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt.e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		rt.e[n].u.irqchip.pin = gsi == 0 ? 2 : gsi;
		n++;
	}
	rt.r.nr = n;
	return ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, &rt) < 0 ? -errno : 0;
}

static int kvm_domain_init(struct domain *d)
{
	struct kvm_dom *k = calloc(1, sizeof(*k));
	struct sigaction sa = { .sa_handler = kick_handler };
	uint64_t ident = 0xfffbc000;
	int ret;

	if (!k)
		return -ENOMEM;
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);   /* no SA_RESTART: EINTR */
	k->vm_fd = -1;
	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		ret = -errno;
		free(k);
		return ret;
	}
	if (ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		goto fail_proto;
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		goto fail;
	k->run_size = (size_t)ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0 ||
	    ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 ||
	    ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto fail;
	{
		struct kvm_pit_config pit = { .flags = 0 };

		if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
			goto fail;
	}
	ret = kvm_set_routing(k);
	if (ret < 0)
		goto fail_ret;
	hv_domain_set_backend(d, k);
	return 0;
fail_proto:
	errno = EPROTO;
fail:
	ret = -errno;
fail_ret:
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	close(k->kvm_fd);
	free(k);
	return ret;
}

static void kvm_domain_fini(struct domain *d)
{
	struct kvm_dom *k = hv_domain_backend(d);

	if (!k)
		return;
	close(k->vm_fd);
	close(k->kvm_fd);
	free(k);
	hv_domain_set_backend(d, NULL);
}

static int kvm_slot(struct domain *d, struct mem_region *r, bool remove)
{
	struct kvm_dom *k = hv_domain_backend(d);
	struct kvm_userspace_memory_region m = {
		.slot = (uint32_t)r->slot,
		.flags = (r->flags & HVCTL_MEM_F_READONLY ? KVM_MEM_READONLY : 0) |
			 (r->flags & HVCTL_MEM_F_DIRTY_LOG ?
			  KVM_MEM_LOG_DIRTY_PAGES : 0),
		.guest_phys_addr = r->gpa,
		.memory_size = remove ? 0 : r->size,
		.userspace_addr = (uint64_t)(uintptr_t)r->hva,
	};

	return ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0 ? -errno : 0;
}

static int kvm_map_region(struct domain *d, struct mem_region *r)
{
	return kvm_slot(d, r, false);
}

static void kvm_unmap_region(struct domain *d, struct mem_region *r)
{
	kvm_slot(d, r, true);
}

static int kvm_get_dirty_log(struct domain *d, struct mem_region *r,
			     uint64_t *bitmap)
{
	struct kvm_dom *k = hv_domain_backend(d);
	struct kvm_dirty_log log = { .slot = (uint32_t)r->slot,
				     .dirty_bitmap = bitmap };

	return ioctl(k->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

static int kvm_set_irq(struct domain *d, unsigned gsi, int level)
{
	struct kvm_dom *k = hv_domain_backend(d);
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	return ioctl(k->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static int kvm_set_cpuid(struct kvm_dom *k, struct kvm_vcpu *kv, unsigned id)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[128];
	} cp;
	int ret;

	memset(&cp, 0, sizeof(cp));
	cp.c.nent = 128;
	if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cp) < 0)
		return -errno;
	for (unsigned i = 0; i < cp.c.nent; i++) {
		struct kvm_cpuid_entry2 *e = &cp.e[i];

		if (e->function == 1) {
			/* Initial APIC id, one logical CPU per package. */
			e->ebx = (e->ebx & 0x0000ffffu) | (id << 24) | (1u << 16);
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = id;
		}
	}
	ret = ioctl(kv->fd, KVM_SET_CPUID2, &cp);
	return ret < 0 ? -errno : 0;
}

static int kvm_vcpu_init(struct vcpu *v)
{
	struct kvm_dom *k = hv_domain_backend(hv_vcpu_domain(v));
	struct kvm_vcpu *kv = calloc(1, sizeof(*kv));
	int ret;

	if (!kv)
		return -ENOMEM;
	pthread_mutex_init(&kv->kick_lock, NULL);
	kv->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, hv_vcpu_id(v));
	if (kv->fd < 0) {
		ret = -errno;
		free(kv);
		return ret;
	}
	kv->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       kv->fd, 0);
	if (kv->run == MAP_FAILED) {
		ret = -errno;
		close(kv->fd);
		free(kv);
		return ret;
	}
	ret = kvm_set_cpuid(k, kv, hv_vcpu_id(v));
	if (ret < 0) {
		munmap(kv->run, k->run_size);
		close(kv->fd);
		free(kv);
		return ret;
	}
	hv_vcpu_set_backend(v, kv);
	return 0;
}

static void kvm_vcpu_fini(struct vcpu *v)
{
	struct kvm_dom *k = hv_domain_backend(hv_vcpu_domain(v));
	struct kvm_vcpu *kv = hv_vcpu_backend(v);

	if (!kv)
		return;
	munmap(kv->run, k->run_size);
	close(kv->fd);
	free(kv);
	hv_vcpu_set_backend(v, NULL);
}

/* ---- register conversion ---- */

static void seg_to_hv(const struct kvm_segment *s, struct hvctl_seg *o)
{
	o->base = s->base;
	o->limit = s->limit;
	o->sel = s->selector;
	o->attr = (uint16_t)((s->type & 15) | (s->s ? 1u << 4 : 0) |
			     ((s->dpl & 3u) << 5) | (s->present ? 1u << 7 : 0) |
			     (s->avl ? 1u << 12 : 0) | (s->l ? 1u << 13 : 0) |
			     (s->db ? 1u << 14 : 0) | (s->g ? 1u << 15 : 0));
}

static void seg_from_hv(const struct hvctl_seg *o, struct kvm_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->base = o->base;
	s->limit = o->limit;
	s->selector = o->sel;
	s->type = o->attr & 15;
	s->s = (o->attr >> 4) & 1;
	s->dpl = (o->attr >> 5) & 3;
	s->present = (o->attr >> 7) & 1;
	s->avl = (o->attr >> 12) & 1;
	s->l = (o->attr >> 13) & 1;
	s->db = (o->attr >> 14) & 1;
	s->g = (o->attr >> 15) & 1;
	s->unusable = !s->present;
}

static int kvm_vcpu_get_regs(struct vcpu *v, vcpu_regs_t *o)
{
	struct kvm_vcpu *kv = hv_vcpu_backend(v);
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(kv->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(kv->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	uint64_t g[16] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi,
			   r.rdi, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
			   r.r14, r.r15 };
	memcpy(o->gpr, g, sizeof(g));
	o->rip = r.rip;
	o->rflags = r.rflags;
	seg_to_hv(&s.es, &o->es);
	seg_to_hv(&s.cs, &o->cs);
	seg_to_hv(&s.ss, &o->ss);
	seg_to_hv(&s.ds, &o->ds);
	seg_to_hv(&s.fs, &o->fs);
	seg_to_hv(&s.gs, &o->gs);
	seg_to_hv(&s.ldt, &o->ldtr);
	seg_to_hv(&s.tr, &o->tr);
	o->gdt_base = s.gdt.base;
	o->gdt_limit = s.gdt.limit;
	o->idt_base = s.idt.base;
	o->idt_limit = s.idt.limit;
	o->cr0 = s.cr0;
	o->cr2 = s.cr2;
	o->cr3 = s.cr3;
	o->cr4 = s.cr4;
	o->cr8 = s.cr8;
	o->efer = s.efer;
	return 0;
}

static int kvm_vcpu_set_regs(struct vcpu *v, const vcpu_regs_t *o)
{
	struct kvm_vcpu *kv = hv_vcpu_backend(v);
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(kv->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rax = o->gpr[0]; r.rcx = o->gpr[1]; r.rdx = o->gpr[2];
	r.rbx = o->gpr[3]; r.rsp = o->gpr[4]; r.rbp = o->gpr[5];
	r.rsi = o->gpr[6]; r.rdi = o->gpr[7]; r.r8 = o->gpr[8];
	r.r9 = o->gpr[9]; r.r10 = o->gpr[10]; r.r11 = o->gpr[11];
	r.r12 = o->gpr[12]; r.r13 = o->gpr[13]; r.r14 = o->gpr[14];
	r.r15 = o->gpr[15];
	r.rip = o->rip;
	r.rflags = o->rflags | 2;
	seg_from_hv(&o->es, &s.es);
	seg_from_hv(&o->cs, &s.cs);
	seg_from_hv(&o->ss, &s.ss);
	seg_from_hv(&o->ds, &s.ds);
	seg_from_hv(&o->fs, &s.fs);
	seg_from_hv(&o->gs, &s.gs);
	seg_from_hv(&o->ldtr, &s.ldt);
	seg_from_hv(&o->tr, &s.tr);
	s.gdt.base = o->gdt_base;
	s.gdt.limit = (uint16_t)o->gdt_limit;
	s.idt.base = o->idt_base;
	s.idt.limit = (uint16_t)o->idt_limit;
	s.cr0 = o->cr0;
	s.cr2 = o->cr2;
	s.cr3 = o->cr3;
	s.cr4 = o->cr4;
	s.cr8 = o->cr8;
	s.efer = o->efer;
	if (ioctl(kv->fd, KVM_SET_SREGS, &s) < 0 ||
	    ioctl(kv->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

/* The architectural power-on state: the BSP at f000:fff0, APs waiting
 * for INIT/SIPI. */
static int kvm_vcpu_reset(struct vcpu *v)
{
	struct kvm_vcpu *kv = hv_vcpu_backend(v);
	unsigned id = hv_vcpu_id(v);
	struct kvm_mp_state mp = {
		.mp_state = id == 0 ? KVM_MP_STATE_RUNNABLE
				    : KVM_MP_STATE_UNINITIALIZED,
	};
	struct kvm_lapic_state lapic;
	vcpu_regs_t r;
	struct hvctl_seg data = { 0, 0xffff, 0, 0x93 };
	int ret;

	memset(&r, 0, sizeof(r));
	r.rip = 0xfff0;
	r.rflags = 2;
	r.gpr[2] = 0x600;   /* EDX: family 6 signature, as hardware */
	r.cs = (struct hvctl_seg){ 0xffff0000, 0xffff, 0xf000, 0x9b };
	r.es = r.ss = r.ds = r.fs = r.gs = data;
	r.ldtr = (struct hvctl_seg){ 0, 0xffff, 0, 0x82 };
	r.tr = (struct hvctl_seg){ 0, 0xffff, 0, 0x8b };
	r.gdt_limit = r.idt_limit = 0xffff;
	r.cr0 = 0x60000010;
	ret = kvm_vcpu_set_regs(v, &r);
	if (ret < 0)
		return ret;
	/* The local APIC: enabled in xAPIC mode at its default base, all
	 * LVT entries masked, software-disabled until the guest sets SVR. */
	struct kvm_sregs s;
	if (ioctl(kv->fd, KVM_GET_SREGS, &s) == 0) {
		s.apic_base = HVM_LAPIC_BASE | 0x800 | (id == 0 ? 0x100 : 0);
		ioctl(kv->fd, KVM_SET_SREGS, &s);
	}
	memset(&lapic, 0, sizeof(lapic));
	*(uint32_t *)&lapic.regs[0x20] = id << 24;         /* ID */
	*(uint32_t *)&lapic.regs[0x30] = 0x50014;          /* version */
	*(uint32_t *)&lapic.regs[0xe0] = 0xffffffff;       /* DFR */
	*(uint32_t *)&lapic.regs[0xf0] = 0xff;             /* SVR */
	for (unsigned off = 0x320; off <= 0x370; off += 0x10)
		*(uint32_t *)&lapic.regs[off] = 0x10000;   /* LVT masked */
	/* ...except the BSP's LINT0, which passes the 8259's interrupts
	 * (virtual-wire mode, what real-mode code and the BIOS rely on). */
	if (id == 0)
		*(uint32_t *)&lapic.regs[0x350] = 0x700;
	if (ioctl(kv->fd, KVM_SET_LAPIC, &lapic) < 0 ||
	    ioctl(kv->fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	return 0;
}

static int kvm_domain_reset(struct domain *d)
{
	struct kvm_dom *k = hv_domain_backend(d);
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;

	/* Interrupt controllers back to power-on: all zero except what
	 * the hardware defines otherwise (IOAPIC entries masked). */
	for (unsigned c = 0; c < 3; c++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = c;
		if (c == KVM_IRQCHIP_IOAPIC) {
			chip.chip.ioapic.base_address = HVM_IOAPIC_BASE;
			for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
				chip.chip.ioapic.redirtbl[i].fields.mask = 1;
		} else {
			chip.chip.pic.elcr_mask = c == 0 ? 0xf8 : 0xde;
		}
		ioctl(k->vm_fd, KVM_SET_IRQCHIP, &chip);
	}
	memset(&pit, 0, sizeof(pit));
	ioctl(k->vm_fd, KVM_SET_PIT2, &pit);
	return 0;
}

static int kvm_io(struct vcpu *v, struct kvm_run *run, struct vcpu_exit *ex)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	struct hv_io io = {
		.type = IOREQ_TYPE_PIO,
		.dir_read = run->io.direction == KVM_EXIT_IO_IN,
		.size = run->io.size, .count = run->io.count,
		.addr = run->io.port,
	};
	int ret;

	if (io.count == 1) {
		if (!io.dir_read)
			memcpy(&io.data, data, io.size);
	} else {
		io.buf = data;
	}
	ret = hv_vcpu_io(v, &io);
	if (ret == -EINTR) {
		ex->reason = VCPU_EXIT_KICKED;
		return 1;
	}
	if (ret < 0) {
		ex->reason = VCPU_EXIT_ERROR;
		ex->error = ret;
		return 1;
	}
	if (io.count == 1 && io.dir_read)
		memcpy(data, &io.data, io.size);
	return 0;
}

static int kvm_mmio(struct vcpu *v, struct kvm_run *run,
		    struct vcpu_exit *ex)
{
	uint32_t len = run->mmio.len;
	bool wr = run->mmio.is_write;
	int ret = 0;

	if (len > 8)
		len = 8;
	if (len == 1 || len == 2 || len == 4 || len == 8) {
		struct hv_io io = { .type = IOREQ_TYPE_COPY, .dir_read = !wr,
				    .size = len, .count = 1,
				    .addr = run->mmio.phys_addr };

		if (wr)
			memcpy(&io.data, run->mmio.data, len);
		ret = hv_vcpu_io(v, &io);
		if (!ret && !wr)
			memcpy(run->mmio.data, &io.data, len);
	} else {
		/* A fragment of an access split at a page boundary: odd
		 * sizes go byte by byte. */
		for (uint32_t i = 0; i < len && !ret; i++) {
			struct hv_io io = { .type = IOREQ_TYPE_COPY,
					    .dir_read = !wr, .size = 1,
					    .count = 1,
					    .addr = run->mmio.phys_addr + i };

			if (wr)
				io.data = run->mmio.data[i];
			ret = hv_vcpu_io(v, &io);
			if (!ret && !wr)
				run->mmio.data[i] = (uint8_t)io.data;
		}
	}
	if (ret == -EINTR) {
		ex->reason = VCPU_EXIT_KICKED;
		return 1;
	}
	if (ret < 0) {
		ex->reason = VCPU_EXIT_ERROR;
		ex->error = ret;
		return 1;
	}
	return 0;
}

static void kvm_internal(struct vcpu *v, struct kvm_run *run,
			 struct vcpu_exit *ex)
{
	struct kvm_vcpu *kv = hv_vcpu_backend(v);
	struct kvm_regs r;
	struct kvm_sregs s;

	ex->reason = VCPU_EXIT_INTERNAL;
	if (ioctl(kv->fd, KVM_GET_REGS, &r) == 0 &&
	    ioctl(kv->fd, KVM_GET_SREGS, &s) == 0)
		ex->rip = s.cs.base + r.rip;
#ifdef KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		uint32_t n = run->emulation_failure.insn_size;

		ex->insn_len = (uint8_t)(n > 15 ? 15 : n);
		memcpy(ex->insn, run->emulation_failure.insn_bytes,
		       ex->insn_len);
	}
#else
	(void)run;
#endif
}

static int kvm_vcpu_run(struct vcpu *v, struct vcpu_exit *ex)
{
	struct kvm_vcpu *kv = hv_vcpu_backend(v);
	struct kvm_run *run = kv->run;

	if (!kv->thread_known) {
		pthread_mutex_lock(&kv->kick_lock);
		kv->thread = pthread_self();
		kv->thread_known = true;
		pthread_mutex_unlock(&kv->kick_lock);
	}
	for (;;) {
		if (ioctl(kv->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				ex->reason = VCPU_EXIT_KICKED;
				return 0;
			}
			ex->reason = VCPU_EXIT_ERROR;
			ex->error = -errno;
			return 0;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (kvm_io(v, run, ex))
				return 0;
			break;
		case KVM_EXIT_MMIO:
			if (kvm_mmio(v, run, ex))
				return 0;
			break;
		case KVM_EXIT_HLT:
			ex->reason = VCPU_EXIT_HALT;
			return 0;
		case KVM_EXIT_SHUTDOWN:
			ex->reason = VCPU_EXIT_SHUTDOWN;
			return 0;
		case KVM_EXIT_INTR:
			ex->reason = VCPU_EXIT_KICKED;
			return 0;
		case KVM_EXIT_INTERNAL_ERROR:
			kvm_internal(v, run, ex);
			return 0;
		case KVM_EXIT_SYSTEM_EVENT:
			ex->reason = VCPU_EXIT_SHUTDOWN;
			return 0;
		default:
			ex->reason = VCPU_EXIT_ERROR;
			ex->error = -(int)run->exit_reason;
			return 0;
		}
	}
}

static void kvm_vcpu_kick(struct vcpu *v)
{
	struct kvm_vcpu *kv = hv_vcpu_backend(v);

	if (!kv)
		return;
	__atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&kv->kick_lock);
	if (kv->thread_known)
		pthread_kill(kv->thread, KICK_SIGNAL);
	pthread_mutex_unlock(&kv->kick_lock);
}

/*
 * Does this host run guest kernel code natively?  Nested KVMs such as
 * PVM run only user-mode code natively and emulate the rest about 1500
 * times slower, which is useless for real guests.  Run 200k iterations
 * of a two-instruction loop in 32-bit protected mode and time it:
 * natively that takes some 10 µs, emulated over 10 ms.
 * Returns 1 fast, 0 slow, negative errno when KVM does not work at all.
 */
int kvm_probe_native(void)
{
	static const uint8_t loop[] = {
		0xb9, 0x20, 0x4e, 0x00, 0x00,   /* mov $20000, %ecx */
		0x49,                           /* 1: dec %ecx */
		0x75, 0xfd,                     /* jnz 1b */
		0xf4,                           /* hlt */
	};
	int kvm, vm = -1, cpu = -1, ret = -ENODEV;
	struct kvm_run *run = MAP_FAILED;
	size_t run_size = 0;
	uint8_t *mem;
	struct kvm_sregs s;
	struct kvm_regs r;
	uint64_t t0, t1;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -errno;
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		goto out;
	memcpy(mem + 0x1000, loop, sizeof(loop));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		goto out;
	struct kvm_userspace_memory_region m = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = 0x10000,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	run_size = (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m) < 0 ||
	    (cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		goto out;
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED || ioctl(cpu, KVM_GET_SREGS, &s) < 0)
		goto out;
	struct kvm_segment flat = { .base = 0, .limit = 0xffffffff,
				    .selector = 8, .type = 0xb, .present = 1,
				    .s = 1, .db = 1, .g = 1 };
	s.cs = flat;
	flat.type = 3;
	flat.selector = 16;
	s.ds = s.es = s.ss = s.fs = s.gs = flat;
	s.cr0 |= 1;
	memset(&r, 0, sizeof(r));
	r.rip = 0x1000;
	r.rflags = 2;
	if (ioctl(cpu, KVM_SET_SREGS, &s) < 0 || ioctl(cpu, KVM_SET_REGS, &r) < 0)
		goto out;
	t0 = hv_now_ns();
	if (ioctl(cpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_HLT)
		goto out;
	t1 = hv_now_ns();
	ret = t1 - t0 < 2 * 1000 * 1000;
out:
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (cpu >= 0)
		close(cpu);
	if (vm >= 0)
		close(vm);
	if (mem != MAP_FAILED)
		munmap(mem, 0x10000);
	close(kvm);
	return ret;
}

const struct cpu_backend kvm_backend = {
	.name = "kvm",
	.domain_init = kvm_domain_init,
	.domain_fini = kvm_domain_fini,
	.domain_reset = kvm_domain_reset,
	.map_region = kvm_map_region,
	.unmap_region = kvm_unmap_region,
	.get_dirty_log = kvm_get_dirty_log,
	.set_irq = kvm_set_irq,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_fini = kvm_vcpu_fini,
	.vcpu_reset = kvm_vcpu_reset,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_get_regs = kvm_vcpu_get_regs,
	.vcpu_set_regs = kvm_vcpu_set_regs,
};
