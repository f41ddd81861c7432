/*
 * The ioreq server: hands a vCPU's port and MMIO accesses to the device
 * model through the shared slot page (or the buffered ring) and waits for
 * the answer.
 *
 * The device model can write anything into the shared pages at any time,
 * so nothing read back from them is trusted beyond "the state says done"
 * and "here is a value": sizes, counts and addresses are always the ones
 * hvmd put in, kept on this side.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/hvmd.h"

/* How long a vCPU spins for its answer before sleeping. */
#define IOREQ_SPIN_NS 100000

bool ioreq_claimed(struct domain *d, uint32_t kind, uint64_t addr,
		   uint32_t *flags)
{
	bool hit = false;

	pthread_mutex_lock(&d->io_lock);
	for (unsigned i = 0; i < d->nr_io_ranges; i++) {
		const struct io_range *r = &d->io_ranges[i];

		if (r->kind == kind && addr >= r->start && addr <= r->end) {
			*flags = r->flags;
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&d->io_lock);
	return hit;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the reader will wake. */
	}
}

static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending. */
	}
}

/* Nobody serves this address: reads see all ones, writes vanish. */
static void io_unclaimed(struct vcpu *v, struct hv_io *io)
{
	uint64_t n = (uint64_t)io->count * io->size;

	if (!io->dir_read)
		return;
	if (io->buf) {
		memset(io->buf, 0xff, n);
	} else if (io->data_is_ptr) {
		for (uint32_t i = 0; i < io->count; i++) {
			uint64_t gpa = io->df ? io->data - (uint64_t)i * io->size
					      : io->data + (uint64_t)i * io->size;
			uint64_t avail;
			uint32_t fl;
			uint8_t *p = hv_gpa_to_hva(v->d, gpa, &avail, &fl);

			if (p && avail >= io->size &&
			    !(fl & HVCTL_MEM_F_READONLY))
				memset(p, 0xff, io->size);
		}
	} else {
		io->data = io->size >= 8 ? ~0ull : (1ull << (io->size * 8)) - 1;
	}
}

/* Writes nobody waits for (VGA): into the ring, signal on empty->busy. */
static int io_buffered(struct vcpu *v, struct hv_io *io)
{
	struct domain *d = v->d;
	struct buffered_iopage *b = d->bufring;
	uint32_t wp, rp;

	pthread_mutex_lock(&d->bufring_lock);
	wp = b->write_pointer;
	for (;;) {
		rp = __atomic_load_n(&b->read_pointer, __ATOMIC_SEQ_CST);
		if (wp - rp < IOREQ_BUFFER_SLOT_NUM)
			break;
		/* Full: the device model is behind; let it catch up. */
		signal_fd(d->bufring_evt);
		if (d->dying) {
			pthread_mutex_unlock(&d->bufring_lock);
			return -EINTR;
		}
		sched_yield();
	}
	b->buf_ioreq[wp % IOREQ_BUFFER_SLOT_NUM] = (struct buf_ioreq){
		.data = io->data, .addr = (uint32_t)io->addr,
		.type = io->type, .size = (uint8_t)io->size,
	};
	__atomic_store_n(&b->write_pointer, wp + 1, __ATOMIC_SEQ_CST);
	rp = __atomic_load_n(&b->read_pointer, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&d->bufring_lock);
	if (rp == wp)
		signal_fd(d->bufring_evt);
	return 0;
}

int hv_vcpu_io(struct vcpu *v, struct hv_io *io)
{
	struct domain *d = v->d;
	struct ioreq *slot;
	uint32_t kind = io->type == IOREQ_TYPE_PIO ? HVCTL_IO_PORT
						   : HVCTL_IO_MMIO;
	uint32_t flags = 0;
	uint64_t bytes = (uint64_t)io->count * io->size;
	uint8_t st;

	if ((io->size != 1 && io->size != 2 && io->size != 4 &&
	     io->size != 8) || io->count == 0)
		return -EINVAL;
	if (!d->dm || !ioreq_claimed(d, kind, io->addr, &flags)) {
		io_unclaimed(v, io);
		return 0;
	}
	if ((flags & HVCTL_IO_F_BUFFERED) && !io->dir_read &&
	    io->count == 1 && !io->data_is_ptr && !io->buf &&
	    io->addr < (1ull << 32))
		return io_buffered(v, io);
	if (io->buf && bytes > HVM_IOREQ_BOUNCE_SIZE)
		return -EINVAL;   /* backends keep strings within a page */

	slot = &d->slots->vcpu_ioreq[v->id];
	slot->addr = io->addr;
	slot->size = io->size;
	slot->count = io->count;
	slot->type = io->type;
	slot->flags = (io->dir_read ? IOREQ_F_DIR_READ : 0) |
		      (io->df ? IOREQ_F_DF : 0);
	if (io->buf) {
		slot->flags |= IOREQ_F_DATA_IS_PTR | IOREQ_F_BOUNCE;
		slot->data = 0;
		if (!io->dir_read)
			memcpy(v->bounce, io->buf, bytes);
	} else if (io->data_is_ptr) {
		slot->flags |= IOREQ_F_DATA_IS_PTR;
		slot->data = io->data;
	} else {
		slot->data = io->data;
	}
	drain_fd(v->resp_evt);
	atomic_store(&v->in_io, true);
	__atomic_store_n(&slot->state, STATE_IOREQ_READY, __ATOMIC_SEQ_CST);
	/* A device model that is spinning on the slots needs no wake-up. */
	if (!__atomic_load_n(&d->ctl->dm_polling, __ATOMIC_SEQ_CST))
		signal_fd(v->req_evt);

	/* Spin briefly: most answers come within microseconds, and a sleep
	 * and wake-up cost more than that.  Then announce that we sleep and
	 * look once more, so an answer given in between is not missed. */
	uint64_t spin_until = hv_now_ns() + IOREQ_SPIN_NS;
	__atomic_store_n(&d->ctl->vcpu_polling[v->id], 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) !=
	       STATE_IORESP_READY && hv_now_ns() < spin_until && !d->dying)
		__builtin_ia32_pause();
	__atomic_store_n(&d->ctl->vcpu_polling[v->id], 0, __ATOMIC_SEQ_CST);

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = v->resp_evt, .events = POLLIN },
			{ .fd = v->kick_evt, .events = POLLIN },
		};

		st = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
		if (st == STATE_IORESP_READY)
			break;
		if (d->dying) {
			atomic_store(&v->in_io, false);
			return -EINTR;
		}
		if (poll(p, 2, 1000) > 0) {
			if (p[0].revents)
				drain_fd(v->resp_evt);
			if (p[1].revents)
				drain_fd(v->kick_evt);
		}
	}
	if (io->dir_read) {
		if (io->buf)
			memcpy(io->buf, v->bounce, bytes);
		else if (!io->data_is_ptr)
			io->data = slot->data;
	}
	__atomic_store_n(&slot->state, STATE_IOREQ_NONE, __ATOMIC_RELEASE);
	atomic_store(&v->in_io, false);
	domain_sync_irqs(d);
	return 0;
}
