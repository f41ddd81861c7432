/*
 * Domains: guest RAM, memory regions, vCPU threads, run control.
 *
 * Every domain's vCPUs run on threads of their own.  The main thread
 * (control socket) creates, pauses, resets and destroys domains; it never
 * waits on a device model for long, so a hung device model cannot hang
 * hvmd: a pause that does not complete in time is reported as -EBUSY, and
 * destroying a domain wakes any vCPU that waits for an answer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "hvm/memmap.h"
#include "hypervisor/hvmd.h"

#define MAX_DOMAINS 256
#define PAUSE_TIMEOUT_MS 2000

static struct domain *domains[MAX_DOMAINS];
static uint32_t next_domid = 1;

/* ---- accessors for backends (vcpu.h) ---- */

void *hv_domain_backend(struct domain *d) { return d->be_priv; }
const volatile uint64_t *hv_memmap_gen(struct domain *d)
{
	return &d->memmap_gen;
}
void hv_domain_set_backend(struct domain *d, void *p) { d->be_priv = p; }
void *hv_vcpu_backend(struct vcpu *v) { return v->be; }
void hv_vcpu_set_backend(struct vcpu *v, void *p) { v->be = p; }
struct domain *hv_vcpu_domain(struct vcpu *v) { return v->d; }
unsigned hv_vcpu_id(struct vcpu *v) { return v->id; }
unsigned hv_domain_nr_vcpus(struct domain *d) { return d->nr_vcpus; }
uint32_t hv_domain_id(struct domain *d) { return d->id; }

struct vcpu *hv_domain_vcpu(struct domain *d, unsigned id)
{
	return id < d->nr_vcpus ? d->vcpus[id] : NULL;
}

uint64_t hv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint8_t *hv_gpa_to_hva(struct domain *d, uint64_t gpa, uint64_t *avail,
		       uint32_t *flags)
{
	uint8_t *hva = NULL;

	pthread_rwlock_rdlock(&d->mem_lock);
	for (unsigned i = 0; i < HV_MAX_REGIONS; i++) {
		struct mem_region *r = &d->regions[i];

		if (r->in_use && gpa >= r->gpa && gpa - r->gpa < r->size) {
			hva = r->hva + (gpa - r->gpa);
			if (avail)
				*avail = r->size - (gpa - r->gpa);
			if (flags)
				*flags = r->flags;
			break;
		}
	}
	pthread_rwlock_unlock(&d->mem_lock);
	return hva;
}

unsigned hv_domain_regions(struct domain *d, struct mem_region *out,
			   unsigned max)
{
	unsigned n = 0;

	pthread_rwlock_rdlock(&d->mem_lock);
	for (unsigned i = 0; i < HV_MAX_REGIONS && n < max; i++)
		if (d->regions[i].in_use)
			out[n++] = d->regions[i];
	pthread_rwlock_unlock(&d->mem_lock);
	return n;
}

void hv_domain_request_shutdown(struct domain *d,
				enum hvctl_shutdown_reason why)
{
	control_defer_shutdown(d, why);
}

void hv_log_guest(struct domain *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvmd: domain %u: guest: ", d->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- lookup ---- */

struct domain *domain_find(uint32_t id)
{
	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		if (domains[i] && domains[i]->id == id)
			return domains[i];
	return NULL;
}

unsigned domain_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		n += domains[i] != NULL;
	return n;
}

void domain_foreach(void (*fn)(struct domain *, void *), void *opaque)
{
	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		if (domains[i])
			fn(domains[i], opaque);
}

void domain_info(struct domain *d, struct hvctl_dom_info *o)
{
	memset(o, 0, sizeof(*o));
	o->domid = d->id;
	o->state = d->state;
	o->reason = d->reason;
	o->vcpus = d->nr_vcpus;
	o->mem_bytes = d->mem_bytes;
	o->accel = d->accel;
	o->dm_pid = d->dm_pid;
	memcpy(o->name, d->name, sizeof(o->name));
}

/* ---- vCPU threads ---- */

static void vcpu_report_internal(struct vcpu *v, const struct vcpu_exit *ex)
{
	char bytes[15 * 3 + 1] = "";

	for (unsigned i = 0; i < ex->insn_len && i < 15; i++)
		sprintf(bytes + i * 3, "%02x ", ex->insn[i]);
	hvmd_log("domain %u vCPU %u: cannot emulate the instruction at "
		 "%#llx (bytes: %s); domain crashed", v->d->id, v->id,
		 (unsigned long long)ex->rip, ex->insn_len ? bytes : "unknown");
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct domain *d = v->d;

	for (;;) {
		struct vcpu_exit ex = { 0 };
		int ret;

		pthread_mutex_lock(&d->run_lock);
		while (d->paused && !d->dying) {
			v->parked = true;
			pthread_cond_broadcast(&d->run_cond);
			pthread_cond_wait(&d->run_cond, &d->run_lock);
		}
		v->parked = false;
		if (d->dying) {
			v->parked = true;
			pthread_cond_broadcast(&d->run_cond);
			pthread_mutex_unlock(&d->run_lock);
			break;
		}
		pthread_mutex_unlock(&d->run_lock);

		/* A reset asked for while we were busy: every access we had
		 * in flight has completed by now (vcpu_run returns only
		 * between instructions), so the new state sticks. */
		if (atomic_exchange(&v->reset_pending, false))
			d->be->vcpu_reset(v);
		ret = d->be->vcpu_run(v, &ex);
		if (ret < 0 && ex.reason == 0) {
			ex.reason = VCPU_EXIT_ERROR;
			ex.error = ret;
		}
		switch (ex.reason) {
		case VCPU_EXIT_KICKED:
			break;
		case VCPU_EXIT_HALT: {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			break;
		}
		case VCPU_EXIT_SHUTDOWN:
			/* A triple fault resets a PC: the device model
			 * decides (reset, or exit with -no-reboot). */
			hvmd_log("domain %u vCPU %u: triple fault; reboot",
				 d->id, v->id);
			control_defer_shutdown(d, HVCTL_SHUTDOWN_REBOOT);
			goto park;
		case VCPU_EXIT_INTERNAL:
			vcpu_report_internal(v, &ex);
			control_defer_shutdown(d, HVCTL_SHUTDOWN_CRASH);
			goto park;
		default:
			hvmd_log("domain %u vCPU %u: backend error %d; domain "
				 "crashed", d->id, v->id, ex.error);
			control_defer_shutdown(d, HVCTL_SHUTDOWN_CRASH);
park:
			/* Stop here until the main thread pauses or kills the
			 * domain; running on would repeat the failure. */
			pthread_mutex_lock(&d->run_lock);
			d->paused = true;
			pthread_cond_broadcast(&d->run_cond);
			pthread_mutex_unlock(&d->run_lock);
			break;
		}
	}
	return NULL;
}

static void vcpu_kick_all(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		uint64_t one = 1;

		if (!d->vcpus[i])
			continue;
		d->be->vcpu_kick(d->vcpus[i]);
		if (write(d->vcpus[i]->kick_evt, &one, sizeof(one)) < 0)
			hvmd_log("kick: %s", strerror(errno));
	}
}

/* Stop the vCPUs without waiting for them (they may be waiting for the
 * very device model that asked). */
static void domain_pause_async(struct domain *d)
{
	pthread_mutex_lock(&d->run_lock);
	d->paused = true;
	pthread_mutex_unlock(&d->run_lock);
	vcpu_kick_all(d);
}

/* Pause and wait until every vCPU is parked or waiting for the device
 * model (which must stay free to answer: it may be the one asking). */
int domain_pause(struct domain *d)
{
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PAUSE_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&d->run_lock);
	d->paused = true;
	pthread_mutex_unlock(&d->run_lock);
	vcpu_kick_all(d);
	pthread_mutex_lock(&d->run_lock);
	for (;;) {
		bool all = true;

		for (unsigned i = 0; i < d->nr_vcpus; i++)
			if (d->vcpus[i]->thread_started && !d->vcpus[i]->parked &&
			    !d->vcpus[i]->in_io)
				all = false;
		if (all)
			break;
		if (pthread_cond_timedwait(&d->run_cond, &d->run_lock,
					   &until) == ETIMEDOUT) {
			ret = -EBUSY;
			break;
		}
	}
	pthread_mutex_unlock(&d->run_lock);
	if (d->state == HVCTL_STATE_RUNNING)
		d->state = HVCTL_STATE_PAUSED;
	return ret;
}

int domain_unpause(struct domain *d)
{
	if (d->state == HVCTL_STATE_SHUTDOWN)
		return -EINVAL;
	pthread_mutex_lock(&d->run_lock);
	d->paused = false;
	pthread_cond_broadcast(&d->run_cond);
	pthread_mutex_unlock(&d->run_lock);
	d->state = HVCTL_STATE_RUNNING;
	return 0;
}

/*
 * System reset.  The device model asks for it from inside an I/O access
 * (0xcf9, the keyboard controller), so nothing here waits for the vCPUs:
 * each one resets itself before it next runs guest code.
 */
int domain_reset(struct domain *d)
{
	bool was_running = d->state == HVCTL_STATE_RUNNING;

	domain_pause_async(d);
	if (d->be->domain_reset)
		d->be->domain_reset(d);
	/* Parked vCPUs (a paused domain) are reset right away, so that the
	 * device model can set registers (direct kernel boot) before it
	 * unpauses; running ones reset themselves before their next run. */
	pthread_mutex_lock(&d->run_lock);
	bool all_parked = true;
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (!d->vcpus[i]->parked)
			all_parked = false;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		if (all_parked)
			d->be->vcpu_reset(d->vcpus[i]);
		else
			atomic_store(&d->vcpus[i]->reset_pending, true);
	}
	pthread_mutex_unlock(&d->run_lock);
	pthread_mutex_lock(&d->irq_lock);
	memset(d->irq_seen_level, 0, sizeof(d->irq_seen_level));
	pthread_mutex_unlock(&d->irq_lock);
	d->state = HVCTL_STATE_PAUSED;
	d->reason = HVCTL_SHUTDOWN_NONE;
	if (was_running)
		domain_unpause(d);
	return 0;
}

void domain_shutdown(struct domain *d, uint32_t reason)
{
	if (d->state == HVCTL_STATE_SHUTDOWN)
		return;
	domain_pause_async(d);
	d->state = HVCTL_STATE_SHUTDOWN;
	d->reason = reason;
	control_notify(d);
}

int domain_vcpu_regs(struct domain *d, unsigned vcpu, vcpu_regs_t *regs,
		     bool set)
{
	struct vcpu *v = hv_domain_vcpu(d, vcpu);

	if (!v)
		return -EINVAL;
	if (d->state == HVCTL_STATE_RUNNING || !v->parked)
		return -EBUSY;
	if (set)
		atomic_store(&v->reset_pending, false);
	return set ? d->be->vcpu_set_regs(v, regs) : d->be->vcpu_get_regs(v, regs);
}

/* ---- memory ---- */

static int region_set(struct domain *d, unsigned idx, uint64_t gpa,
		      uint64_t size, uint8_t *hva, uint32_t flags)
{
	struct mem_region *r = &d->regions[idx];

	__atomic_add_fetch(&d->memmap_gen, 1, __ATOMIC_SEQ_CST);
	r->gpa = gpa;
	r->size = size;
	r->hva = hva;
	r->flags = flags;
	r->slot = (int)idx;
	r->in_use = true;
	return d->be->map_region ? d->be->map_region(d, r) : 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int domain_mem_map(struct domain *d, const struct hvctl_mem_map *m, int fd)
{
	unsigned idx = HV_RAM_REGIONS + m->slot;
	struct stat st;
	void *p;
	int ret;

	if (m->slot >= HVCTL_MEM_SLOTS || !m->size || (m->gpa | m->size |
	    m->offset) & (HVM_PAGE_SIZE - 1) || m->gpa + m->size < m->gpa ||
	    m->gpa + m->size > (1ull << 46) ||
	    (m->flags & ~(HVCTL_MEM_F_READONLY | HVCTL_MEM_F_DIRTY_LOG)))
		return -EINVAL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    m->offset + m->size < m->offset ||
	    (uint64_t)st.st_size < m->offset + m->size)
		return -EINVAL;
	if (d->regions[idx].in_use)
		domain_mem_unmap(d, m->slot);
	for (unsigned i = 0; i < HV_MAX_REGIONS; i++)
		if (d->regions[i].in_use &&
		    ranges_overlap(d->regions[i].gpa, d->regions[i].size,
				   m->gpa, m->size))
			return -EEXIST;
	p = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)m->offset);
	if (p == MAP_FAILED)
		return -errno;
	pthread_rwlock_wrlock(&d->mem_lock);
	ret = region_set(d, idx, m->gpa, m->size, p, m->flags);
	if (ret < 0) {
		d->regions[idx].in_use = false;
		munmap(p, m->size);
	}
	pthread_rwlock_unlock(&d->mem_lock);
	return ret;
}

int domain_mem_unmap(struct domain *d, unsigned slot)
{
	unsigned idx = HV_RAM_REGIONS + slot;
	struct mem_region *r;

	if (slot >= HVCTL_MEM_SLOTS)
		return -EINVAL;
	r = &d->regions[idx];
	if (!r->in_use)
		return -ENOENT;
	pthread_rwlock_wrlock(&d->mem_lock);
	if (d->be->unmap_region)
		d->be->unmap_region(d, r);
	r->in_use = false;
	/* Before the unmap: the soft CPU drops host pointers it cached. */
	__atomic_add_fetch(&d->memmap_gen, 1, __ATOMIC_SEQ_CST);
	munmap(r->hva, r->size);
	pthread_rwlock_unlock(&d->mem_lock);
	return 0;
}

int domain_mem_dirty(struct domain *d, unsigned slot, uint64_t *bitmap,
		     size_t *bytes)
{
	unsigned idx = HV_RAM_REGIONS + slot;
	struct mem_region *r;
	size_t need;

	if (slot >= HVCTL_MEM_SLOTS || !d->regions[idx].in_use)
		return -EINVAL;
	r = &d->regions[idx];
	if (!(r->flags & HVCTL_MEM_F_DIRTY_LOG))
		return -EINVAL;
	need = ((r->size / HVM_PAGE_SIZE + 63) / 64) * 8;
	if (need > *bytes)
		return -E2BIG;
	*bytes = need;
	memset(bitmap, 0, need);
	if (!d->be->get_dirty_log) {
		memset(bitmap, 0xff, need);
		return 0;
	}
	return d->be->get_dirty_log(d, r, bitmap);
}

/* ---- I/O ranges ---- */

int domain_io_map(struct domain *d, const struct hvctl_io_range *r, bool add)
{
	int ret = -ENOENT;

	if (r->kind > HVCTL_IO_PCI || r->end < r->start ||
	    (r->kind == HVCTL_IO_PORT && r->end > 0xffff) ||
	    (r->kind == HVCTL_IO_PCI && r->end > 0xffffffffull) ||
	    (r->flags & ~HVCTL_IO_F_BUFFERED))
		return -EINVAL;
	pthread_mutex_lock(&d->io_lock);
	if (add) {
		ret = 0;
		for (unsigned i = 0; i < d->nr_io_ranges; i++) {
			struct io_range *o = &d->io_ranges[i];

			if (o->kind == r->kind && o->start <= r->end &&
			    r->start <= o->end)
				ret = -EEXIST;
		}
		if (!ret && d->nr_io_ranges == HV_MAX_IO_RANGES)
			ret = -ENOSPC;
		if (!ret)
			d->io_ranges[d->nr_io_ranges++] = (struct io_range){
				r->kind, r->start, r->end, r->flags };
	} else {
		for (unsigned i = 0; i < d->nr_io_ranges; i++) {
			struct io_range *o = &d->io_ranges[i];

			if (o->kind == r->kind && o->start == r->start &&
			    o->end == r->end) {
				*o = d->io_ranges[--d->nr_io_ranges];
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&d->io_lock);
	return ret;
}

/* ---- interrupts ---- */

int domain_irq(struct domain *d, unsigned gsi, unsigned op)
{
	if (gsi >= HVM_NR_IRQ_LINES || op > HVCTL_IRQ_PULSE)
		return -EINVAL;
	if (op == HVCTL_IRQ_PULSE) {
		d->be->set_irq(d, gsi, 1);
		return d->be->set_irq(d, gsi, 0);
	}
	return d->be->set_irq(d, gsi, op == HVCTL_IRQ_ASSERT);
}

/* Apply the device model's line levels and pulses from the shared page.
 * Called when it signals the irq eventfd and after every ioreq, so an
 * interrupt raised while serving an access is seen before the vCPU runs
 * on. */
void domain_sync_irqs(struct domain *d)
{
	if (!d->ctl)
		return;
	pthread_mutex_lock(&d->irq_lock);
	for (unsigned g = 0; g < HVM_NR_IRQ_LINES; g++) {
		uint8_t lvl = __atomic_load_n(&d->ctl->irq_level[g],
					      __ATOMIC_ACQUIRE) != 0;
		uint32_t p = __atomic_load_n(&d->ctl->irq_pulse[g],
					     __ATOMIC_ACQUIRE);

		if (p != d->irq_seen_pulse[g]) {
			/* Edges: one is enough, the device model cannot
			 * expect more than the guest could see. */
			d->irq_seen_pulse[g] = p;
			if (!lvl) {
				d->be->set_irq(d, g, 1);
				d->be->set_irq(d, g, 0);
			}
		}
		if (lvl != d->irq_seen_level[g]) {
			d->irq_seen_level[g] = lvl;
			d->be->set_irq(d, g, lvl);
		}
	}
	pthread_mutex_unlock(&d->irq_lock);
}

/* ---- create / destroy ---- */

static int new_memfd(const char *name, uint64_t size, uint8_t **map)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	*map = p;
	return fd;
fail:
	{
		int e = -errno;

		close(fd);
		return e;
	}
}

static void domain_free(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpus[i];

		if (!v)
			continue;
		if (v->be)
			d->be->vcpu_fini(v);
		if (v->req_evt >= 0)
			close(v->req_evt);
		if (v->resp_evt >= 0)
			close(v->resp_evt);
		if (v->kick_evt >= 0)
			close(v->kick_evt);
		free(v);
	}
	if (d->be_priv)
		d->be->domain_fini(d);
	for (unsigned i = HV_RAM_REGIONS; i < HV_MAX_REGIONS; i++)
		if (d->regions[i].in_use)
			munmap(d->regions[i].hva, d->regions[i].size);
	if (d->ram)
		munmap(d->ram, d->ram_below + d->ram_above);
	if (d->ioreq_area)
		munmap(d->ioreq_area, d->ioreq_size);
	if (d->ram_fd >= 0)
		close(d->ram_fd);
	if (d->ioreq_fd >= 0)
		close(d->ioreq_fd);
	if (d->bufring_evt >= 0)
		close(d->bufring_evt);
	if (d->irq_evt >= 0)
		close(d->irq_evt);
	free(d);
}

/*
 * -accel auto: KVM when the host runs kernel code natively (probed once),
 * else the software CPU.  An explicit choice is honoured or refused.
 */
const struct cpu_backend *backend_for(uint32_t accel, uint32_t *chosen,
				      int *err)
{
	static int native = -2;

	if (accel == HVCTL_ACCEL_AUTO) {
		if (native == -2) {
			native = kvm_probe_native();
			hvmd_log("KVM %s", native > 0 ? "runs kernel code natively" :
				 native == 0 ? "emulates kernel code (nested KVM); "
					       "the software CPU is the default" :
					       "is not usable");
		}
		accel = native > 0 ? HVCTL_ACCEL_KVM : HVCTL_ACCEL_SOFT;
		if (accel == HVCTL_ACCEL_SOFT && !soft_backend_ptr && native == 0) {
			hvmd_log("no software CPU in this build: using the "
				 "slow KVM");
			accel = HVCTL_ACCEL_KVM;
		}
	}
	*chosen = accel;
	if (accel == HVCTL_ACCEL_SOFT) {
		if (!soft_backend_ptr)
			*err = -ENOSYS;
		return soft_backend_ptr;
	}
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		*err = -ENODEV;
		return NULL;
	}
	return &kvm_backend;
}

struct domain *domain_create(const struct hvctl_create *req, int *err)
{
	struct domain *d;
	struct sysinfo si;
	unsigned slot;
	size_t namelen = strnlen(req->name, HVCTL_NAME_MAX);

	*err = -EINVAL;
	if (namelen == HVCTL_NAME_MAX || req->vcpus < 1 ||
	    req->vcpus > HVM_MAX_VCPUS || req->mem_bytes < (1u << 20) ||
	    (req->mem_bytes & (HVM_PAGE_SIZE - 1)) ||
	    req->accel > HVCTL_ACCEL_SOFT)
		return NULL;
	if (sysinfo(&si) == 0 && req->mem_bytes >
	    (uint64_t)si.totalram * si.mem_unit + (uint64_t)si.totalswap * si.mem_unit) {
		*err = -ENOMEM;
		return NULL;
	}
	for (slot = 0; slot < MAX_DOMAINS && domains[slot]; slot++)
		;
	if (slot == MAX_DOMAINS) {
		*err = -ENOSPC;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->ram_fd = d->ioreq_fd = d->bufring_evt = d->irq_evt = -1;
	d->id = next_domid++;
	memcpy(d->name, req->name, namelen);
	if (!namelen)
		snprintf(d->name, sizeof(d->name), "domain%u", d->id);
	d->nr_vcpus = req->vcpus;
	d->mem_bytes = req->mem_bytes;
	d->state = HVCTL_STATE_PAUSED;
	d->paused = true;
	pthread_rwlock_init(&d->mem_lock, NULL);
	pthread_mutex_init(&d->io_lock, NULL);
	pthread_mutex_init(&d->irq_lock, NULL);
	pthread_mutex_init(&d->run_lock, NULL);
	pthread_mutex_init(&d->bufring_lock, NULL);
	pthread_cond_init(&d->run_cond, NULL);

	d->be = backend_for(req->accel, &d->accel, err);
	if (!d->be)
		goto fail;

	d->ram_below = hvm_ram_below_4g(req->mem_bytes);
	d->ram_above = hvm_ram_above_4g(req->mem_bytes);
	d->ram_fd = new_memfd("guest-ram", req->mem_bytes, &d->ram);
	if (d->ram_fd < 0) {
		*err = d->ram_fd;
		goto fail;
	}
	d->ioreq_size = HVM_IOREQ_AREA_SIZE(d->nr_vcpus);
	d->ioreq_fd = new_memfd("ioreq", d->ioreq_size, &d->ioreq_area);
	if (d->ioreq_fd < 0) {
		*err = d->ioreq_fd;
		goto fail;
	}
	d->ctl = (struct hvm_ioreq_ctl *)(d->ioreq_area + HVM_IOREQ_CTL_OFFSET);
	d->slots = (struct shared_iopage *)(d->ioreq_area +
					    HVM_IOREQ_SLOTS_OFFSET);
	d->bufring = (struct buffered_iopage *)(d->ioreq_area +
						HVM_IOREQ_BUFRING_OFFSET);
	d->ctl->magic = HVM_IOREQ_MAGIC;
	d->ctl->abi_version = HVM_IOREQ_ABI_VERSION;
	d->ctl->nr_vcpus = d->nr_vcpus;
	d->ctl->bounce_size = HVM_IOREQ_BOUNCE_SIZE;
	d->bufring_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->irq_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->bufring_evt < 0 || d->irq_evt < 0) {
		*err = -errno;
		goto fail;
	}

	*err = d->be->domain_init(d);
	if (*err < 0)
		goto fail;
	pthread_rwlock_wrlock(&d->mem_lock);
	*err = region_set(d, 0, 0, d->ram_below < HVM_VGA_HOLE_START ?
			  d->ram_below : HVM_VGA_HOLE_START, d->ram, 0);
	if (!*err && d->ram_below > HVM_VGA_HOLE_END)
		*err = region_set(d, 1, HVM_VGA_HOLE_END,
				  d->ram_below - HVM_VGA_HOLE_END,
				  d->ram + HVM_VGA_HOLE_END, 0);
	if (!*err && d->ram_above)
		*err = region_set(d, 2, HVM_4G, d->ram_above,
				  d->ram + d->ram_below, 0);
	pthread_rwlock_unlock(&d->mem_lock);
	if (*err < 0)
		goto fail;

	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = calloc(1, sizeof(*v));

		if (!v) {
			*err = -ENOMEM;
			goto fail;
		}
		d->vcpus[i] = v;
		v->d = d;
		v->id = i;
		v->parked = true;
		v->bounce = d->ioreq_area + HVM_IOREQ_BOUNCE_OFFSET +
			    (uint64_t)i * HVM_IOREQ_BOUNCE_SIZE;
		v->req_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		v->resp_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		v->kick_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->req_evt < 0 || v->resp_evt < 0 || v->kick_evt < 0) {
			*err = -errno;
			goto fail;
		}
		*err = d->be->vcpu_init(v);
		if (*err < 0)
			goto fail;
		*err = d->be->vcpu_reset(v);
		if (*err < 0)
			goto fail;
	}
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		if (pthread_create(&d->vcpus[i]->thread, NULL, vcpu_thread,
				   d->vcpus[i]) != 0) {
			*err = -EAGAIN;
			/* Threads already started park on the dying flag. */
			d->dying = true;
			goto fail_threads;
		}
		d->vcpus[i]->thread_started = true;
		{       /* "d<domid>v<vcpu>": xl list adds up their CPU time */
			char tname[16];

			snprintf(tname, sizeof(tname), "d%uv%u", d->id, i);
			pthread_setname_np(d->vcpus[i]->thread, tname);
		}
	}
	domains[slot] = d;
	*err = 0;
	return d;
fail_threads:
	pthread_mutex_lock(&d->run_lock);
	pthread_cond_broadcast(&d->run_cond);
	pthread_mutex_unlock(&d->run_lock);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i]->thread_started)
			pthread_join(d->vcpus[i]->thread, NULL);
fail:
	domain_free(d);
	return NULL;
}

void domain_destroy(struct domain *d, uint32_t reason)
{
	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		if (domains[i] == d)
			domains[i] = NULL;
	pthread_mutex_lock(&d->run_lock);
	d->dying = true;
	pthread_cond_broadcast(&d->run_cond);
	pthread_mutex_unlock(&d->run_lock);
	vcpu_kick_all(d);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i]->thread_started)
			pthread_join(d->vcpus[i]->thread, NULL);
	if (d->state != HVCTL_STATE_SHUTDOWN || reason == HVCTL_SHUTDOWN_DM_GONE)
		d->reason = reason;
	d->state = HVCTL_STATE_DESTROYED;
	control_notify(d);
	domain_free(d);
}
