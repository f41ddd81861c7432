/*
 * Guest memory as the device model sees it.
 *
 * Guest RAM is one memfd: its first ram_below_4g bytes appear at GPA 0,
 * the rest at 4 GiB.  Under hvmd the memfd comes from hvmd at attach; in
 * qtest mode we create it ourselves.  Either way devices reach it only
 * through guest_mem_read/write/ptr, which refuse any range that is not
 * wholly RAM: a guest-supplied DMA address can never make us touch memory
 * outside the guest.
 *
 * Memory the device model owns (VRAM, ROMs) is a dm_mem: its own memfd,
 * shown to the guest at a GPA through hvmd (or, in qtest mode, through
 * our own table that phys_read/phys_write consult).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm/dm-internal.h"
#include "hvm/memmap.h"

static uint8_t *ram_host;
static uint64_t ram_below, ram_above;

const struct dm_mem_backend *dm_mem_backend;

static int ram_map(int fd, uint64_t below, uint64_t above)
{
	uint64_t total = below + above;
	void *p;

	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ram_host = p;
	ram_below = below;
	ram_above = above;
	return 0;
}

int guest_ram_init_local(uint64_t total)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)total) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = ram_map(fd, hvm_ram_below_4g(total), hvm_ram_above_4g(total));
	close(fd);
	return ret;
}

int guest_ram_init_fd(int fd, uint64_t below_4g, uint64_t above_4g)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (below_4g > HVM_4G || (uint64_t)st.st_size < below_4g + above_4g)
		return -EINVAL;
	return ram_map(fd, below_4g, above_4g);
}

uint64_t guest_ram_size(void)
{
	return ram_below + ram_above;
}

uint64_t guest_ram_below_4g(void)
{
	return ram_below;
}

/* Host address of [gpa, gpa+len) if it is wholly inside one RAM block. */
static uint8_t *ram_lookup(uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= ram_below)
		return ram_host + gpa;
	if (gpa >= HVM_4G && gpa - HVM_4G <= ram_above &&
	    len <= ram_above - (gpa - HVM_4G))
		return ram_host + ram_below + (gpa - HVM_4G);
	return NULL;
}

void *guest_mem_ptr(uint64_t gpa, size_t len)
{
	return ram_host ? ram_lookup(gpa, len) : NULL;
}

int guest_mem_read(uint64_t gpa, void *buf, size_t len)
{
	uint8_t *p = guest_mem_ptr(gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(uint64_t gpa, const void *buf, size_t len)
{
	uint8_t *p = guest_mem_ptr(gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

/* ---- memory owned by the device model ---- */

#define DM_MEM_SLOTS 32

struct dm_mem {
	char name[32];
	int fd;
	uint8_t *host;
	size_t size;
	bool mapped, readonly;
	uint64_t gpa;
	unsigned slot;
	/* Local dirty log (no hvmd): pages phys_write touched, and who to
	 * tell at the first one. */
	bool dirty_log;
	uint64_t *dirty;
	void (*notify)(void *opaque);
	void *notify_opaque;
	bool notified;
};

static struct dm_mem *dm_mem_slots[DM_MEM_SLOTS];

struct dm_mem *dm_mem_alloc(const char *name, size_t size)
{
	struct dm_mem *m;
	void *p;
	int fd;

	size = (size + 4095) & ~(size_t)4095;
	if (!size)
		return NULL;
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	m = g_new0(struct dm_mem, 1);
	g_strlcpy(m->name, name, sizeof(m->name));
	m->fd = fd;
	m->host = p;
	m->size = size;
	m->slot = DM_MEM_SLOTS;
	return m;
}

void *dm_mem_host(struct dm_mem *m)
{
	return m->host;
}

int dm_mem_unmap(struct dm_mem *m)
{
	int ret = 0;

	if (!m->mapped)
		return 0;
	if (dm_mem_backend)
		ret = dm_mem_backend->unmap(m->slot);
	dm_mem_slots[m->slot] = NULL;
	m->slot = DM_MEM_SLOTS;
	m->mapped = false;
	return ret;
}

int dm_mem_map(struct dm_mem *m, uint64_t gpa, bool readonly, bool dirty_log)
{
	unsigned slot;
	int ret;

	if ((gpa & 4095) || gpa + m->size < gpa)
		return -EINVAL;
	dm_mem_unmap(m);
	for (slot = 0; slot < DM_MEM_SLOTS && dm_mem_slots[slot]; slot++)
		;
	if (slot == DM_MEM_SLOTS)
		return -ENOSPC;
	if (dm_mem_backend) {
		ret = dm_mem_backend->map(m->fd, slot, gpa, m->size, readonly,
					  dirty_log);
		if (ret < 0) {
			dm_log(DM_LOG_ERR, "%s: cannot map at %#llx: %s",
			       m->name, (unsigned long long)gpa,
			       strerror(-ret));
			return ret;
		}
	}
	dm_mem_slots[slot] = m;
	m->slot = slot;
	m->gpa = gpa;
	m->readonly = readonly;
	m->mapped = true;
	m->dirty_log = dirty_log;
	if (dirty_log && !m->dirty)
		m->dirty = g_new0(uint64_t, (m->size / 4096 + 63) / 64);
	return 0;
}

bool dm_mem_set_dirty_notify(struct dm_mem *m, void (*fn)(void *opaque),
			     void *opaque)
{
	if (dm_mem_backend)
		return false;
	m->notify = fn;
	m->notify_opaque = opaque;
	m->notified = false;
	return true;
}

/* phys_write into m at [off, off+len): log the pages. */
static void dm_mem_written(struct dm_mem *m, uint64_t off, size_t len)
{
	if (!m->dirty_log || !len)
		return;
	for (uint64_t p = off / 4096; p <= (off + len - 1) / 4096; p++)
		m->dirty[p / 64] |= 1ull << (p % 64);
	if (m->notify && !m->notified) {
		m->notified = true;
		m->notify(m->notify_opaque);
	}
}

int dm_mem_dirty(struct dm_mem *m, uint64_t *bitmap)
{
	size_t bytes = ((m->size / 4096 + 63) / 64) * 8;

	if (!m->mapped)
		return -EINVAL;
	if (dm_mem_backend)
		return dm_mem_backend->dirty(m->slot, bitmap, bytes);
	/* Nobody but qtest writes it locally, and qtest writes through
	 * phys_write, which logs what it touched. */
	if (!m->dirty_log)
		return -EINVAL;
	memcpy(bitmap, m->dirty, bytes);
	memset(m->dirty, 0, bytes);
	m->notified = false;
	return 0;
}

static struct dm_mem *dm_mem_lookup(uint64_t gpa)
{
	for (unsigned i = 0; i < DM_MEM_SLOTS; i++) {
		struct dm_mem *m = dm_mem_slots[i];

		if (m && gpa >= m->gpa && gpa - m->gpa < m->size)
			return m;
	}
	return NULL;
}

/* ---- the whole physical address space, for qtest ---- */

/* Bytes from gpa that share one backing (RAM, a dm_mem, or MMIO). */
static size_t phys_span(uint64_t gpa, size_t len, uint8_t **host,
			bool *ro, struct dm_mem **mem)
{
	struct dm_mem *m;
	size_t n;

	*ro = false;
	*mem = NULL;
	/* The legacy VGA window is never RAM (hvmd leaves it out of the
	 * guest's RAM too): it belongs to whoever claims it as MMIO. */
	if ((gpa < ram_below && !(gpa >= HVM_VGA_HOLE_START &&
				  gpa < HVM_VGA_HOLE_END)) ||
	    (gpa >= HVM_4G && gpa - HVM_4G < ram_above)) {
		uint64_t end = gpa < ram_below ? ram_below
					       : HVM_4G + ram_above;

		if (gpa < HVM_VGA_HOLE_START && end > HVM_VGA_HOLE_START)
			end = HVM_VGA_HOLE_START;

		n = end - gpa < len ? (size_t)(end - gpa) : len;
		*host = ram_lookup(gpa, n);
		return n;
	}
	m = dm_mem_lookup(gpa);
	if (m) {
		uint64_t left = m->size - (gpa - m->gpa);

		n = left < len ? (size_t)left : len;
		*host = m->host + (gpa - m->gpa);
		*ro = m->readonly;
		*mem = m;
		return n;
	}
	*host = NULL;
	return 1;
}

void phys_read(uint64_t gpa, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint8_t *host;
		bool ro;
		struct dm_mem *m;
		size_t n = phys_span(gpa, len, &host, &ro, &m);

		if (host)
			memcpy(out, host, n);
		else
			*out = (uint8_t)io_read(IO_SPACE_MMIO, gpa, 1);
		out += n;
		gpa += n;
		len -= n;
	}
}

void phys_write(uint64_t gpa, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	while (len) {
		uint8_t *host;
		bool ro;
		struct dm_mem *m;
		size_t n = phys_span(gpa, len, &host, &ro, &m);

		if (host && !ro) {
			memcpy(host, in, n);
			if (m)
				dm_mem_written(m, gpa - m->gpa, n);
		}
		else if (!host)
			io_write(IO_SPACE_MMIO, gpa, *in, 1);
		in += n;
		gpa += n;
		len -= n;
	}
}

/* One guest-sized access (qtest's readw/writel...): memory if the whole
 * access is memory, else a single MMIO access of that size, so device
 * registers see the width the guest used. */
uint64_t phys_read_sized(uint64_t gpa, unsigned size)
{
	uint8_t *host;
	bool ro;
	struct dm_mem *m;
	uint64_t v = 0;

	if (phys_span(gpa, size, &host, &ro, &m) == size && host) {
		memcpy(&v, host, size);
		return v;
	}
	return io_read(IO_SPACE_MMIO, gpa, size);
}

void phys_write_sized(uint64_t gpa, uint64_t v, unsigned size)
{
	uint8_t *host;
	bool ro;
	struct dm_mem *m;

	if (phys_span(gpa, size, &host, &ro, &m) == size && host) {
		if (!ro) {
			memcpy(host, &v, size);
			if (m)
				dm_mem_written(m, gpa - m->gpa, size);
		}
		return;
	}
	io_write(IO_SPACE_MMIO, gpa, v, size);
}
