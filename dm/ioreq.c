/*
 * The ioreq client: how qemu-dm serves a domain of hvmd.
 *
 * At start-up we connect to hvmd (starting one if none runs and we were
 * not given a domain), create our domain unless -d named one, and attach:
 * hvmd hands over guest RAM, the ioreq area and the event fds.  Then each
 * vCPU's request eventfd, the buffered-ring eventfd and the control socket
 * are watched from the glib main loop.  Every request is copied out of
 * the shared page once and validated before it reaches a device: hvmd is
 * trusted more than a guest, but a corrupt slot must still not make us
 * touch memory outside the guest.
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dm/dm-internal.h"
#include "hvm/hvctl-client.h"
#include "hvm/ioreq.h"

/* How long the device model keeps spinning after its last request. */
#define DM_SPIN_NS 50000

static struct hvctl_conn *conn;
static uint32_t domid;
static bool own_domain;
static unsigned nr_vcpus;
static uint8_t *area;
static uint64_t area_size;
static struct hvm_ioreq_ctl *ctl;
static struct shared_iopage *slots;
static struct buffered_iopage *bufring;
static int bufring_evt = -1, irq_evt = -1;
static int req_evt[HVM_MAX_VCPUS], resp_evt[HVM_MAX_VCPUS];
static bool hvmd_lost;

static void signal_fd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* saturated counter: the reader wakes anyway */
	}
}

/* ---- interrupts: levels and pulses on the shared page ---- */

static void ioreq_irq_set(unsigned gsi, int level)
{
	__atomic_store_n(&ctl->irq_level[gsi], (uint8_t)level,
			 __ATOMIC_RELEASE);
	__atomic_add_fetch(&ctl->irq_seq, 1, __ATOMIC_SEQ_CST);
	signal_fd(irq_evt);
}

static void ioreq_irq_pulse(unsigned gsi)
{
	__atomic_add_fetch(&ctl->irq_pulse[gsi], 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ctl->irq_seq, 1, __ATOMIC_SEQ_CST);
	signal_fd(irq_evt);
}

static const struct dm_irq_backend ioreq_irq_backend = {
	.set = ioreq_irq_set, .pulse = ioreq_irq_pulse,
};

/* ---- serving requests ---- */

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void drain_bufring(void)
{
	uint32_t rp = bufring->read_pointer;

	for (;;) {
		uint32_t wp = __atomic_load_n(&bufring->write_pointer,
					      __ATOMIC_SEQ_CST);
		struct buf_ioreq b;

		if (rp == wp)
			break;
		if (wp - rp > IOREQ_BUFFER_SLOT_NUM) {
			/* Impossible from a sane hvmd: resynchronise. */
			dm_log(DM_LOG_ERR, "buffered ring corrupt; skipping");
			rp = wp;
			break;
		}
		b = bufring->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM];
		if (b.size == 1 || b.size == 2 || b.size == 4 || b.size == 8)
			io_write(b.type == IOREQ_TYPE_PIO ? IO_SPACE_PIO
							  : IO_SPACE_MMIO,
				 b.addr, b.data, b.size);
		rp++;
		__atomic_store_n(&bufring->read_pointer, rp, __ATOMIC_SEQ_CST);
	}
}

/* One element of a string access, between a device and memory. */
static void serve_string(struct ioreq *r, enum io_space sp, uint8_t *bounce)
{
	bool rd = r->flags & IOREQ_F_DIR_READ;
	bool bounced = r->flags & IOREQ_F_BOUNCE;
	uint64_t step = r->size;

	if (bounced && (uint64_t)r->count * r->size > HVM_IOREQ_BOUNCE_SIZE)
		return;
	for (uint32_t i = 0; i < r->count; i++) {
		/* In a bounce buffer the elements are in port order; in
		 * guest memory they go down when DF is set. */
		uint64_t off = bounced ? (uint64_t)i * step
			       : (r->flags & IOREQ_F_DF)
			       ? r->data - (uint64_t)i * step
			       : r->data + (uint64_t)i * step;
		uint64_t v = 0;

		if (rd) {
			v = io_read(sp, r->addr, r->size);
			if (bounced)
				memcpy(bounce + off, &v, r->size);
			else if (guest_mem_write(off, &v, r->size) < 0)
				dm_log_guest("string I/O to non-RAM %#llx",
					     (unsigned long long)off);
		} else {
			if (bounced)
				memcpy(&v, bounce + off, r->size);
			else if (guest_mem_read(off, &v, r->size) < 0)
				dm_log_guest("string I/O from non-RAM %#llx",
					     (unsigned long long)off);
			io_write(sp, r->addr, v, r->size);
		}
		/* MMIO string accesses (rep movs) walk the device too. */
		if (sp == IO_SPACE_MMIO)
			r->addr += (r->flags & IOREQ_F_DF) ? -step : step;
	}
}

static void serve(unsigned vcpu)
{
	struct ioreq *shared = &slots->vcpu_ioreq[vcpu];
	struct ioreq r;
	uint8_t *bounce = area + HVM_IOREQ_BOUNCE_OFFSET +
			  (uint64_t)vcpu * HVM_IOREQ_BOUNCE_SIZE;
	enum io_space sp;

	if (__atomic_load_n(&shared->state, __ATOMIC_ACQUIRE) !=
	    STATE_IOREQ_READY)
		return;
	r = *shared;
	__atomic_store_n(&shared->state, STATE_IOREQ_INPROCESS,
			 __ATOMIC_RELAXED);
	/* Writes buffered before this request happened before it. */
	drain_bufring();
	if (r.size != 1 && r.size != 2 && r.size != 4 && r.size != 8)
		goto done;
	switch (r.type) {
	case IOREQ_TYPE_PIO:
		sp = IO_SPACE_PIO;
		break;
	case IOREQ_TYPE_COPY:
		sp = IO_SPACE_MMIO;
		break;
	case IOREQ_TYPE_PCI_CONFIG:
		if (r.size <= 4 && r.count == 1) {
			uint32_t sbdf = (uint32_t)(r.addr >> 32);
			uint32_t reg = (uint32_t)r.addr;

			if (r.flags & IOREQ_F_DIR_READ)
				r.data = pci_cfg_read(sbdf, reg, r.size);
			else
				pci_cfg_write(sbdf, reg, (uint32_t)r.data,
					      r.size);
		}
		goto done;
	default:
		goto done;
	}
	if (r.flags & IOREQ_F_DATA_IS_PTR) {
		serve_string(&r, sp, bounce);
	} else if (r.flags & IOREQ_F_DIR_READ) {
		r.data = io_read(sp, r.addr, r.size);
	} else {
		io_write(sp, r.addr, r.data & size_mask(r.size), r.size);
	}
done:
	shared->data = r.data;
	__atomic_store_n(&shared->state, STATE_IORESP_READY, __ATOMIC_SEQ_CST);
	/* A vCPU that is spinning for its answer needs no wake-up. */
	if (!__atomic_load_n(&ctl->vcpu_polling[vcpu], __ATOMIC_SEQ_CST))
		signal_fd(resp_evt[vcpu]);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Serve every ready slot; true if there was one. */
static bool serve_all(void)
{
	bool any = false;

	for (unsigned i = 0; i < nr_vcpus; i++)
		if (__atomic_load_n(&slots->vcpu_ioreq[i].state,
				    __ATOMIC_ACQUIRE) == STATE_IOREQ_READY) {
			serve(i);
			any = true;
		}
	return any;
}

/*
 * After a request, guests tend to send the next one within microseconds
 * (a driver polling a status register, a string of port writes): spin on
 * the slots for a while with dm_polling set, so hvmd skips the eventfd and
 * we skip the trip through poll() and the main loop.  Clearing the flag
 * and looking once more closes the race with a request posted meanwhile.
 */
static void serve_and_spin(void)
{
	uint64_t until;

	serve_all();
	if (hvmd_lost)
		return;
	__atomic_store_n(&ctl->dm_polling, 1, __ATOMIC_SEQ_CST);
	until = now_ns() + DM_SPIN_NS;
	while (now_ns() < until) {
		if (serve_all())
			until = now_ns() + DM_SPIN_NS;
		else
			__builtin_ia32_pause();
	}
	__atomic_store_n(&ctl->dm_polling, 0, __ATOMIC_SEQ_CST);
	serve_all();
}

static gboolean on_request(gint fd, GIOCondition cond, gpointer p)
{
	uint64_t v;

	(void)cond;
	(void)p;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return G_SOURCE_CONTINUE;
	serve_and_spin();
	return G_SOURCE_CONTINUE;
}

static gboolean on_bufring(gint fd, GIOCondition cond, gpointer p)
{
	uint64_t v;

	(void)cond;
	(void)p;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return G_SOURCE_CONTINUE;
	drain_bufring();
	return G_SOURCE_CONTINUE;
}

/* ---- hvmd's events: our domain's state ---- */

static gboolean on_control(gint fd, GIOCondition cond, gpointer p)
{
	struct hvctl_event ev;
	int ret;

	(void)fd;
	(void)cond;
	(void)p;
	while ((ret = hvctl_next_event(conn, &ev, false)) == 0) {
		if (ev.info.domid != domid)
			continue;
		if (ev.info.state == HVCTL_STATE_DESTROYED) {
			dm_log(DM_LOG_ERR, "domain %u was destroyed", domid);
			own_domain = false;
			dm_quit(1);
		} else if (ev.info.state == HVCTL_STATE_SHUTDOWN &&
			   ev.info.reason == HVCTL_SHUTDOWN_CRASH) {
			dm_log(DM_LOG_ERR, "the guest crashed (see hvmd's log)");
			dm_quit(1);
		} else if (ev.info.state == HVCTL_STATE_SHUTDOWN &&
			   ev.info.reason == HVCTL_SHUTDOWN_REBOOT) {
			/* A triple fault: the PC resets. */
			dm_log(DM_LOG_INFO, "triple fault: resetting");
			dm_request_reset();
		}
	}
	if (ret != -EAGAIN) {
		dm_log(DM_LOG_ERR, "lost the connection to hvmd; exiting");
		hvmd_lost = true;
		dm_quit(1);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* ---- what the rest of the dm asks of hvmd ---- */

static int call_simple(uint16_t type, const void *body, uint32_t len)
{
	int ret = hvctl_call(conn, type, body, len, NULL, 0, NULL, NULL, NULL,
			     NULL);

	if (ret == -EPIPE || ret == -ECONNRESET) {
		hvmd_lost = true;
		dm_quit(1);
	}
	return ret;
}

static void io_notify(enum io_space space, uint64_t base, uint64_t len,
		      unsigned flags, bool add)
{
	struct hvctl_io_range r = {
		.domid = domid,
		.kind = space == IO_SPACE_PIO ? HVCTL_IO_PORT : HVCTL_IO_MMIO,
		.start = base, .end = base + len - 1,
		.flags = (flags & IO_REGION_BUFFERED) ? HVCTL_IO_F_BUFFERED : 0,
	};
	int ret = call_simple(add ? HVCTL_IO_MAP : HVCTL_IO_UNMAP, &r,
			      sizeof(r));

	if (ret < 0 && !hvmd_lost)
		dm_log(DM_LOG_ERR, "hvmd refused I/O range %#llx+%#llx: %s",
		       (unsigned long long)base, (unsigned long long)len,
		       strerror(-ret));
}

static void io_register_existing(enum io_space sp, uint64_t base,
				 uint64_t len, unsigned flags, void *p)
{
	(void)p;
	io_notify(sp, base, len, flags, true);
}

static int mem_map(int fd, unsigned slot, uint64_t gpa, uint64_t size,
		   bool ro, bool dirty)
{
	struct hvctl_mem_map m = {
		.domid = domid, .slot = slot, .gpa = gpa, .size = size,
		.flags = (ro ? HVCTL_MEM_F_READONLY : 0) |
			 (dirty ? HVCTL_MEM_F_DIRTY_LOG : 0),
	};

	return hvctl_call(conn, HVCTL_MEM_MAP, &m, sizeof(m), &fd, 1, NULL,
			  NULL, NULL, NULL);
}

static int mem_unmap(unsigned slot)
{
	struct hvctl_mem_slot s = { domid, slot };

	return call_simple(HVCTL_MEM_UNMAP, &s, sizeof(s));
}

static int mem_dirty(unsigned slot, uint64_t *bitmap, size_t bytes)
{
	struct hvctl_mem_slot s = { domid, slot };
	uint32_t len = (uint32_t)bytes;

	return hvctl_call(conn, HVCTL_MEM_DIRTY, &s, sizeof(s), NULL, 0,
			  bitmap, &len, NULL, NULL);
}

static const struct dm_mem_backend ioreq_mem_backend = {
	.map = mem_map, .unmap = mem_unmap, .dirty = mem_dirty,
};

static void machine_reset(void)
{
	struct hvctl_domid d = { domid, 0 };
	int ret = call_simple(HVCTL_DOMAIN_RESET, &d, sizeof(d));

	if (ret < 0 && !hvmd_lost)
		dm_log(DM_LOG_ERR, "reset of domain %u failed: %s", domid,
		       strerror(-ret));
}

static void machine_poweroff(void)
{
	struct hvctl_shutdown s = { domid, HVCTL_SHUTDOWN_POWEROFF };

	call_simple(HVCTL_DOMAIN_SHUTDOWN, &s, sizeof(s));
}

static void machine_stop(void)
{
	struct hvctl_domid d = { domid, 0 };

	call_simple(HVCTL_DOMAIN_PAUSE, &d, sizeof(d));
}

static void machine_cont(void)
{
	struct hvctl_domid d = { domid, 0 };

	call_simple(HVCTL_DOMAIN_UNPAUSE, &d, sizeof(d));
}

static const struct dm_machine_backend ioreq_machine = {
	.reset = machine_reset, .poweroff = machine_poweroff,
	.stop = machine_stop, .cont = machine_cont,
};

int dm_set_vcpu_regs(const struct hvctl_vcpu_regs *regs)
{
	struct hvctl_vcpu_regs r = *regs;

	r.domid = domid;
	return call_simple(HVCTL_VCPU_SET, &r, sizeof(r));
}

/* ---- start-up ---- */

static int create_domain(void)
{
	struct hvctl_create c = {
		.mem_bytes = dm_cfg.ram_bytes, .vcpus = dm_cfg.vcpus,
		.accel = dm_cfg.accel == DM_ACCEL_KVM ? HVCTL_ACCEL_KVM :
			 dm_cfg.accel == DM_ACCEL_SOFT ? HVCTL_ACCEL_SOFT :
			 HVCTL_ACCEL_AUTO,
	};
	struct hvctl_create_reply r;
	uint32_t rlen = sizeof(r);
	int ret;

	if (dm_cfg.name)
		g_strlcpy(c.name, dm_cfg.name, sizeof(c.name));
	ret = hvctl_call(conn, HVCTL_DOMAIN_CREATE, &c, sizeof(c), NULL, 0,
			 &r, &rlen, NULL, NULL);
	if (ret < 0) {
		dm_log(DM_LOG_ERR, "hvmd cannot create the domain: %s%s",
		       strerror(-ret), ret == -ENODEV ?
		       " (no usable /dev/kvm for -accel kvm)" : ret == -ENOSYS ?
		       " (this build has no software CPU for -accel soft)" : "");
		return ret;
	}
	domid = r.domid;
	own_domain = true;
	return 0;
}

int ioreq_client_init(void)
{
	struct hvctl_attach a = { 0, HVM_IOREQ_ABI_VERSION };
	struct hvctl_attach_reply r;
	uint32_t rlen = sizeof(r);
	int fds[4 + 2 * HVM_MAX_VCPUS];
	unsigned nfds = G_N_ELEMENTS(fds);
	int ret;

	if (dm_cfg.domid < 0) {
		ret = hvctl_ensure_hvmd();
		if (ret < 0) {
			dm_log(DM_LOG_ERR, "cannot start hvmd: %s",
			       strerror(-ret));
			return -1;
		}
	}
	ret = hvctl_connect(&conn, NULL);
	if (ret < 0) {
		dm_log(DM_LOG_ERR, "cannot reach hvmd at %s: %s",
		       hvctl_socket_dir(), strerror(-ret));
		return -1;
	}
	if (dm_cfg.domid < 0) {
		if (create_domain() < 0)
			return -1;
	} else {
		domid = (uint32_t)dm_cfg.domid;
	}
	a.domid = domid;
	ret = hvctl_call(conn, HVCTL_DM_ATTACH, &a, sizeof(a), NULL, 0, &r,
			 &rlen, fds, &nfds);
	if (ret < 0) {
		dm_log(DM_LOG_ERR, "cannot attach to domain %u: %s", domid,
		       strerror(-ret));
		return -1;
	}
	if (rlen != sizeof(r) || r.nr_vcpus == 0 ||
	    r.nr_vcpus > HVM_MAX_VCPUS || nfds != 4 + 2 * r.nr_vcpus ||
	    r.ioreq_area_size < HVM_IOREQ_AREA_SIZE(r.nr_vcpus)) {
		dm_log(DM_LOG_ERR, "hvmd's attach reply is malformed");
		return -1;
	}
	nr_vcpus = r.nr_vcpus;
	ret = guest_ram_init_fd(fds[0], r.ram_below_4g, r.ram_above_4g);
	if (ret < 0) {
		dm_log(DM_LOG_ERR, "cannot map guest RAM: %s", strerror(-ret));
		return -1;
	}
	area_size = r.ioreq_area_size;
	area = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fds[1], 0);
	if (area == MAP_FAILED) {
		dm_log(DM_LOG_ERR, "cannot map the ioreq area: %s",
		       strerror(errno));
		return -1;
	}
	close(fds[0]);
	close(fds[1]);
	ctl = (struct hvm_ioreq_ctl *)(area + HVM_IOREQ_CTL_OFFSET);
	slots = (struct shared_iopage *)(area + HVM_IOREQ_SLOTS_OFFSET);
	bufring = (struct buffered_iopage *)(area + HVM_IOREQ_BUFRING_OFFSET);
	if (ctl->magic != HVM_IOREQ_MAGIC ||
	    ctl->abi_version != HVM_IOREQ_ABI_VERSION) {
		dm_log(DM_LOG_ERR, "ioreq ABI mismatch (hvmd %u, ours %u)",
		       ctl->abi_version, HVM_IOREQ_ABI_VERSION);
		return -1;
	}
	bufring_evt = fds[2];
	irq_evt = fds[3];
	for (unsigned i = 0; i < nr_vcpus; i++) {
		req_evt[i] = fds[4 + 2 * i];
		resp_evt[i] = fds[5 + 2 * i];
	}
	dm_irq_set_backend(&ioreq_irq_backend);
	dm_mem_backend = &ioreq_mem_backend;
	dm_machine_backend = &ioreq_machine;
	return 0;
}

int ioreq_client_start(void)
{
	struct hvctl_domid d = { domid, 0 };
	int ret;

	/* Regions registered while building the machine, then the rest as
	 * they come and go. */
	io_region_foreach(io_register_existing, NULL);
	io_region_notify = io_notify;
	for (unsigned i = 0; i < nr_vcpus; i++)
		g_unix_fd_add(req_evt[i], G_IO_IN, on_request,
			      GUINT_TO_POINTER(i));
	g_unix_fd_add(bufring_evt, G_IO_IN, on_bufring, NULL);
	g_unix_fd_add(hvctl_fd(conn), G_IO_IN | G_IO_HUP | G_IO_ERR,
		      on_control, NULL);
	if (dm_cfg.start_paused)
		return 0;
	ret = call_simple(HVCTL_DOMAIN_UNPAUSE, &d, sizeof(d));
	if (ret < 0) {
		dm_log(DM_LOG_ERR, "cannot start domain %u: %s", domid,
		       strerror(-ret));
		return -1;
	}
	return 0;
}

void ioreq_client_fini(void)
{
	if (conn && own_domain && !hvmd_lost) {
		struct hvctl_domid d = { domid, 0 };

		hvctl_call(conn, HVCTL_DOMAIN_DESTROY, &d, sizeof(d), NULL, 0,
			   NULL, NULL, NULL, NULL);
	}
	if (conn)
		hvctl_close(conn);
	conn = NULL;
}
