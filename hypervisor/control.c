/*
 * hvmd's control socket: one SOCK_SEQPACKET connection per client
 * (toolstack, device model, test).  Every message is checked before it
 * touches a domain: magic, version, known type, exact body length for
 * its type, and each field's range in the handler.  A bad message gets
 * an error reply; the connection and hvmd carry on.
 *
 * A connection that attached as a domain's device model owns that
 * domain's I/O: when it closes (the device model exited or was killed),
 * the domain is destroyed with reason DM_GONE.
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unix-socket.h"
#include "hypervisor/control.h"
#include "hypervisor/hvmd.h"

struct client {
	int fd;
	bool watch;                  /* wants state events */
	uint32_t watch_domid;
	guint source;
	uint32_t pid;
};

static GPtrArray *clients;

/* Body size of each request type; -1: variable (checked by handler). */
static const int32_t body_size[HVCTL_TYPE_MAX] = {
	[HVCTL_DOMAIN_CREATE] = sizeof(struct hvctl_create),
	[HVCTL_DOMAIN_DESTROY] = sizeof(struct hvctl_domid),
	[HVCTL_DOMAIN_PAUSE] = sizeof(struct hvctl_domid),
	[HVCTL_DOMAIN_UNPAUSE] = sizeof(struct hvctl_domid),
	[HVCTL_DOMAIN_RESET] = sizeof(struct hvctl_domid),
	[HVCTL_DOMAIN_LIST] = 0,
	[HVCTL_DOMAIN_SHUTDOWN] = sizeof(struct hvctl_shutdown),
	[HVCTL_WATCH] = sizeof(struct hvctl_domid),
	[HVCTL_DM_ATTACH] = sizeof(struct hvctl_attach),
	[HVCTL_IO_MAP] = sizeof(struct hvctl_io_range),
	[HVCTL_IO_UNMAP] = sizeof(struct hvctl_io_range),
	[HVCTL_MEM_MAP] = sizeof(struct hvctl_mem_map),
	[HVCTL_MEM_UNMAP] = sizeof(struct hvctl_mem_slot),
	[HVCTL_MEM_DIRTY] = sizeof(struct hvctl_mem_slot),
	[HVCTL_IRQ_SET] = sizeof(struct hvctl_irq),
	[HVCTL_VCPU_GET] = sizeof(struct hvctl_vcpu),
	[HVCTL_VCPU_SET] = sizeof(struct hvctl_vcpu_regs),
};

static int send_msg(int fd, uint16_t type, uint32_t seq, uint32_t flags,
		    int32_t status, const void *body, uint32_t len,
		    const int *fds, unsigned nfds)
{
	struct hvctl_hdr h = {
		.magic = HVCTL_MAGIC, .version = HVCTL_VERSION, .type = type,
		.len = len, .seq = seq, .flags = flags, .status = status,
	};
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };

	/* Never block on a client that does not read: drop instead. */
	ssize_t n = unix_send_fds(fd, iov, len ? 2 : 1, fds, nfds, MSG_DONTWAIT);

	return n < 0 ? (int)n : 0;
}

static void reply(struct client *c, uint32_t seq, int32_t status,
		  const void *body, uint32_t len)
{
	send_msg(c->fd, HVCTL_REPLY, seq, 0, status, body, len, NULL, 0);
}

void control_notify(struct domain *d)
{
	struct hvctl_event ev;

	domain_info(d, &ev.info);
	for (guint i = 0; clients && i < clients->len; i++) {
		struct client *c = g_ptr_array_index(clients, i);

		if ((c->watch && (c->watch_domid == HVCTL_DOMID_ANY ||
				  c->watch_domid == d->id)) || c == d->dm)
			send_msg(c->fd, HVCTL_EVENT, 0, HVCTL_F_EVENT, 0, &ev,
				 sizeof(ev), NULL, 0);
	}
}

struct deferred_shutdown {
	uint32_t domid, reason;
};

static gboolean deferred_shutdown_run(gpointer p)
{
	struct deferred_shutdown *s = p;
	struct domain *d = domain_find(s->domid);

	if (d)
		domain_shutdown(d, s->reason);
	g_free(s);
	return G_SOURCE_REMOVE;
}

void control_defer_shutdown(struct domain *d, uint32_t reason)
{
	struct deferred_shutdown *s = g_new(struct deferred_shutdown, 1);

	s->domid = d->id;
	s->reason = reason;
	g_idle_add(deferred_shutdown_run, s);
}

static gboolean irq_evt_ready(gint fd, GIOCondition cond, gpointer p)
{
	struct domain *d = domain_find(GPOINTER_TO_UINT(p));
	uint64_t v;

	(void)cond;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return G_SOURCE_REMOVE;
	if (!d)
		return G_SOURCE_REMOVE;
	domain_sync_irqs(d);
	return G_SOURCE_CONTINUE;
}

static void domain_gone(struct domain *d, uint32_t reason)
{
	if (d->irq_source)
		g_source_remove(GPOINTER_TO_UINT(d->irq_source));
	d->irq_source = NULL;
	domain_destroy(d, reason);
}

static int do_attach(struct client *c, struct domain *d,
		     const struct hvctl_attach *a, uint32_t seq)
{
	struct hvctl_attach_reply r = {
		.domid = d->id, .nr_vcpus = d->nr_vcpus,
		.ram_below_4g = d->ram_below, .ram_above_4g = d->ram_above,
		.ioreq_area_size = d->ioreq_size, .accel = d->accel,
	};
	int fds[4 + 2 * HVM_MAX_VCPUS];
	unsigned n = 0;
	struct ucred cr;
	socklen_t crl = sizeof(cr);

	if (a->abi_version != HVM_IOREQ_ABI_VERSION)
		return -EPROTO;
	if (d->dm)
		return -EBUSY;
	fds[n++] = d->ram_fd;
	fds[n++] = d->ioreq_fd;
	fds[n++] = d->bufring_evt;
	fds[n++] = d->irq_evt;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		fds[n++] = d->vcpus[i]->req_evt;
		fds[n++] = d->vcpus[i]->resp_evt;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0)
		d->dm_pid = (uint32_t)cr.pid;
	d->dm = c;
	d->irq_source = GUINT_TO_POINTER(g_unix_fd_add(d->irq_evt, G_IO_IN,
						       irq_evt_ready,
						       GUINT_TO_POINTER(d->id)));
	if (send_msg(c->fd, HVCTL_REPLY, seq, 0, 0, &r, sizeof(r), fds, n) < 0)
		return -EIO;
	return 1;   /* replied already */
}

/* Domain a client may act on: any for toolstack-style requests; device
 * models act on their own domain only. */
static struct domain *client_domain(struct client *c, uint32_t domid)
{
	struct domain *d = domain_find(domid);

	(void)c;
	return d;
}

struct list_acc {
	union {
		struct hvctl_list_reply r;
		uint8_t buf[sizeof(struct hvctl_list_reply) +
			    HVCTL_LIST_MAX * sizeof(struct hvctl_dom_info)];
	};
};

static void list_add(struct domain *d, void *p)
{
	struct list_acc *acc = p;

	if (acc->r.count < HVCTL_LIST_MAX)
		domain_info(d, &acc->r.dom[acc->r.count++]);
}

static int handle(struct client *c, const struct hvctl_hdr *h,
		  const uint8_t *body, int *fds, unsigned nfds)
{
	const struct hvctl_domid *di = (const void *)body;
	struct domain *d = NULL;
	int ret;

	switch (h->type) {
	case HVCTL_DOMAIN_CREATE: {
		struct hvctl_create req;
		struct hvctl_create_reply r;

		memcpy(&req, body, sizeof(req));
		d = domain_create(&req, &ret);
		if (!d)
			return ret;
		d->owner = c;
		r.domid = d->id;
		r.accel = d->accel;
		hvmd_log("domain %u (%s): created, %llu MiB, %u vCPU(s)",
			 d->id, d->name,
			 (unsigned long long)(d->mem_bytes >> 20), d->nr_vcpus);
		reply(c, h->seq, 0, &r, sizeof(r));
		control_notify(d);
		return 1;
	}
	case HVCTL_DOMAIN_LIST: {
		struct list_acc acc;

		memset(&acc, 0, sizeof(acc));
		domain_foreach(list_add, &acc);
		reply(c, h->seq, 0, acc.buf, (uint32_t)(sizeof(acc.r) +
		      acc.r.count * sizeof(struct hvctl_dom_info)));
		return 1;
	}
	case HVCTL_WATCH:
		c->watch = true;
		c->watch_domid = di->domid;
		return 0;
	default:
		break;
	}

	/* Everything else names a domain first. */
	d = client_domain(c, di->domid);
	if (!d)
		return -ESRCH;
	switch (h->type) {
	case HVCTL_DOMAIN_DESTROY:
		hvmd_log("domain %u (%s): destroyed", d->id, d->name);
		reply(c, h->seq, 0, NULL, 0);
		domain_gone(d, d->state == HVCTL_STATE_SHUTDOWN ? d->reason
				: HVCTL_SHUTDOWN_NONE);
		return 1;
	/* Watchers hear of a state change, not of every request: pausing a
	 * domain that has shut down (a device model stopping its vCPUs
	 * before it handles a triple fault) must not repeat the shutdown
	 * event, or that device model would handle it again. */
	case HVCTL_DOMAIN_PAUSE: {
		uint32_t was = d->state;

		ret = domain_pause(d);
		if (d->state != was)
			control_notify(d);
		return ret;
	}
	case HVCTL_DOMAIN_UNPAUSE: {
		uint32_t was = d->state;

		ret = domain_unpause(d);
		if (d->state != was)
			control_notify(d);
		return ret;
	}
	case HVCTL_DOMAIN_RESET:
		ret = domain_reset(d);
		control_notify(d);
		return ret;
	case HVCTL_DOMAIN_SHUTDOWN: {
		const struct hvctl_shutdown *s = (const void *)body;

		if (s->reason != HVCTL_SHUTDOWN_POWEROFF &&
		    s->reason != HVCTL_SHUTDOWN_REBOOT)
			return -EINVAL;
		domain_shutdown(d, s->reason);
		return 0;
	}
	case HVCTL_DM_ATTACH:
		return do_attach(c, d, (const void *)body, h->seq);
	case HVCTL_IO_MAP:
	case HVCTL_IO_UNMAP:
		if (d->dm != c)
			return -EPERM;
		return domain_io_map(d, (const void *)body,
				     h->type == HVCTL_IO_MAP);
	case HVCTL_MEM_MAP:
		if (d->dm != c)
			return -EPERM;
		if (nfds != 1)
			return -EBADF;
		return domain_mem_map(d, (const void *)body, fds[0]);
	case HVCTL_MEM_UNMAP:
		if (d->dm != c)
			return -EPERM;
		return domain_mem_unmap(d, ((const struct hvctl_mem_slot *)
					    body)->slot);
	case HVCTL_MEM_DIRTY: {
		uint64_t bitmap[(HVCTL_MAX_MSG - sizeof(struct hvctl_hdr)) / 8];
		size_t bytes = sizeof(bitmap);

		if (d->dm != c)
			return -EPERM;
		ret = domain_mem_dirty(d, ((const struct hvctl_mem_slot *)
					   body)->slot, bitmap, &bytes);
		if (ret < 0)
			return ret;
		reply(c, h->seq, 0, bitmap, (uint32_t)bytes);
		return 1;
	}
	case HVCTL_IRQ_SET: {
		const struct hvctl_irq *q = (const void *)body;

		return domain_irq(d, q->gsi, q->op);
	}
	case HVCTL_VCPU_GET: {
		vcpu_regs_t regs;
		const struct hvctl_vcpu *q = (const void *)body;

		memset(&regs, 0, sizeof(regs));
		ret = domain_vcpu_regs(d, q->vcpu, &regs, false);
		if (ret < 0)
			return ret;
		regs.domid = d->id;
		regs.vcpu = q->vcpu;
		reply(c, h->seq, 0, &regs, sizeof(regs));
		return 1;
	}
	case HVCTL_VCPU_SET: {
		vcpu_regs_t regs;

		if (d->dm && d->dm != c)
			return -EPERM;
		memcpy(&regs, body, sizeof(regs));
		return domain_vcpu_regs(d, regs.vcpu, &regs, true);
	}
	}
	return -EINVAL;
}

/* Validate one received message and run it; returns a status to reply
 * with, or 1 when the handler replied itself. */
static int control_dispatch(struct client *c, const uint8_t *msg, size_t len,
			    int *fds, unsigned nfds, uint32_t *seq)
{
	struct hvctl_hdr h;
	uint8_t body[HVCTL_MAX_MSG];

	*seq = 0;
	if (len < sizeof(h))
		return -EPROTO;
	memcpy(&h, msg, sizeof(h));
	*seq = h.seq;
	if (h.magic != HVCTL_MAGIC || h.version != HVCTL_VERSION)
		return -EPROTO;
	if (h.len != len - sizeof(h))
		return -EMSGSIZE;
	if (h.type < HVCTL_DOMAIN_CREATE || h.type >= HVCTL_TYPE_MAX ||
	    h.flags != 0)
		return -EOPNOTSUPP;
	if ((int32_t)h.len != body_size[h.type])
		return -EMSGSIZE;
	if (h.type != HVCTL_MEM_MAP && nfds)
		return -EBADF;
	memset(body, 0, sizeof(body));
	memcpy(body, msg + sizeof(h), h.len);
	return handle(c, &h, body, fds, nfds);
}

static int control_process(struct client *c, const uint8_t *msg, size_t len,
		    int *fds, unsigned nfds)
{
	uint32_t seq;
	int ret = control_dispatch(c, msg, len, fds, nfds, &seq);

	if (ret <= 0)
		reply(c, seq, ret, NULL, 0);
	return ret;
}

struct owner_scan {
	struct client *c;
	struct domain **gone;
	unsigned n;
};

static void owner_scan_one(struct domain *d, void *p)
{
	struct owner_scan *sc = p;

	if (d->owner == sc->c)
		d->owner = NULL;
	if (d->dm == sc->c && sc->n < 256)
		sc->gone[sc->n++] = d;
}

static void client_free(struct client *c)
{
	/* Domains whose device model this was die with it. */
	struct domain *gone[256];
	struct owner_scan sc = { c, gone, 0 };

	domain_foreach(owner_scan_one, &sc);
	for (unsigned i = 0; i < sc.n; i++) {
		hvmd_log("domain %u (%s): device model gone; destroying",
			 gone[i]->id, gone[i]->name);
		gone[i]->dm = NULL;
		domain_gone(gone[i], HVCTL_SHUTDOWN_DM_GONE);
	}
	g_ptr_array_remove(clients, c);
	close(c->fd);
	g_free(c);
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer p)
{
	struct client *c = p;
	uint8_t msg[HVCTL_MAX_MSG + 1];
	int fds[HVCTL_MAX_FDS];
	unsigned nfds = 0;
	int truncated = 0;
	ssize_t n;

	(void)cond;
	n = unix_recv_fds(fd, msg, sizeof(msg), fds, &nfds, HVCTL_MAX_FDS,
			  MSG_DONTWAIT, &truncated);
	if (n == -EAGAIN || n == -EINTR)
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		client_free(c);
		return G_SOURCE_REMOVE;
	}
	if (truncated ||
	    (size_t)n > HVCTL_MAX_MSG) {
		struct hvctl_hdr h = { 0 };

		if ((size_t)n >= sizeof(h))
			memcpy(&h, msg, sizeof(h));
		reply(c, h.seq, -EMSGSIZE, NULL, 0);
	} else {
		control_process(c, msg, (size_t)n, fds, nfds);
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	return G_SOURCE_CONTINUE;
}

static gboolean listener_ready(gint fd, GIOCondition cond, gpointer p)
{
	struct client *c;
	int cfd;

	(void)cond;
	(void)p;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	c = g_new0(struct client, 1);
	c->fd = cfd;
	g_ptr_array_add(clients, c);
	c->source = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR,
				  client_readable, c);
	return G_SOURCE_CONTINUE;
}

unsigned control_nr_clients(void)
{
	return clients ? clients->len : 0;
}

void control_init(int listen_fd)
{
	clients = g_ptr_array_new();
	g_unix_fd_add(listen_fd, G_IO_IN, listener_ready, NULL);
}
