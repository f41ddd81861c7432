/*
 * I/O dispatch: which device answers a port or MMIO access.
 *
 * Regions live in one array per address space, sorted by base, and are
 * found by binary search.  The dispatcher is the only place that sees raw
 * access sizes from the guest; it cuts them down to what each device's ops
 * accept (io_ops.min_size/max_size), so devices never see a size they did
 * not ask for.  Unclaimed reads return all ones, as on a real bus.
 *
 * Re-entrancy: a device's callback may call io_read/io_write (a NIC in
 * loopback, say), but must not add, move or delete regions while another
 * access to the same region is in flight; the region pointer it was called
 * through stays valid until it returns because deletion is deferred while
 * dispatch is active.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dm-internal.h"

struct io_region {
	enum io_space space;
	uint64_t base, len;
	const struct io_ops *ops;
	void *opaque;
	char name[32];
	unsigned flags;
	bool dead;
};

struct io_map {
	struct io_region **r;
	size_t n, cap;
};

static struct io_map io_maps[2];
static unsigned io_depth;            /* dispatch nesting */
static GPtrArray *io_graveyard;      /* regions freed when depth drops to 0 */

void (*io_region_notify)(enum io_space space, uint64_t base, uint64_t len,
			 unsigned flags, bool add);

void io_init(void)
{
	if (!io_graveyard)
		io_graveyard = g_ptr_array_new_with_free_func(g_free);
}

/* Index of the first region whose end is above addr. */
static size_t io_lower_bound(const struct io_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct io_region *r = m->r[mid];

		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct io_region *io_find(enum io_space space, uint64_t addr)
{
	const struct io_map *m = &io_maps[space];
	size_t i = io_lower_bound(m, addr);

	if (i < m->n && m->r[i]->base <= addr)
		return m->r[i];
	return NULL;
}

static bool io_range_ok(enum io_space space, uint64_t base, uint64_t len)
{
	uint64_t limit = space == IO_SPACE_PIO ? 0x10000 : 0;

	if (len == 0 || base + len < base)
		return false;
	if (limit && (base >= limit || len > limit - base))
		return false;
	return true;
}

static int io_insert(struct io_region *r)
{
	struct io_map *m = &io_maps[r->space];
	size_t i = io_lower_bound(m, r->base);

	if (i < m->n && m->r[i]->base < r->base + r->len)
		return -EEXIST;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->r = g_renew(struct io_region *, m->r, m->cap);
	}
	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
	m->r[i] = r;
	m->n++;
	return 0;
}

static void io_remove(struct io_region *r)
{
	struct io_map *m = &io_maps[r->space];

	for (size_t i = 0; i < m->n; i++) {
		if (m->r[i] == r) {
			memmove(&m->r[i], &m->r[i + 1],
				(m->n - i - 1) * sizeof(m->r[0]));
			m->n--;
			return;
		}
	}
}

struct io_region *io_region_add(enum io_space space, uint64_t base,
				uint64_t len, const struct io_ops *ops,
				void *opaque, const char *name, unsigned flags)
{
	struct io_region *r;

	if ((space != IO_SPACE_PIO && space != IO_SPACE_MMIO) || !ops ||
	    !io_range_ok(space, base, len)) {
		dm_log(DM_LOG_ERR, "%s: bad I/O range %#llx+%#llx",
		       name ? name : "?", (unsigned long long)base,
		       (unsigned long long)len);
		return NULL;
	}
	r = g_new0(struct io_region, 1);
	r->space = space;
	r->base = base;
	r->len = len;
	r->ops = ops;
	r->opaque = opaque;
	r->flags = flags;
	g_strlcpy(r->name, name ? name : "?", sizeof(r->name));
	if (io_insert(r) < 0) {
		struct io_region *o = io_find(space, base);
		/* A guest that places BARs on top of each other gets here
		 * as often as it likes: say it a few times, not forever. */
		static unsigned overlap_logs;

		if (overlap_logs < 8) {
			overlap_logs++;
			dm_log(DM_LOG_ERR, "%s: %s range %#llx+%#llx overlaps %s%s",
			       r->name, space == IO_SPACE_PIO ? "port" : "MMIO",
			       (unsigned long long)base, (unsigned long long)len,
			       o ? o->name : "another region",
			       overlap_logs == 8 ? " (further overlaps not logged)"
						 : "");
		}
		g_free(r);
		return NULL;
	}
	if (io_region_notify)
		io_region_notify(space, base, len, flags, true);
	return r;
}

void io_region_del(struct io_region *r)
{
	if (!r || r->dead)
		return;
	io_remove(r);
	if (io_region_notify)
		io_region_notify(r->space, r->base, r->len, r->flags, false);
	r->dead = true;
	if (io_depth)
		g_ptr_array_add(io_graveyard, r);
	else
		g_free(r);
}

int io_region_move(struct io_region *r, uint64_t new_base)
{
	uint64_t old = r->base;

	if (r->dead)
		return -EINVAL;
	if (new_base == old)
		return 0;
	if (!io_range_ok(r->space, new_base, r->len))
		return -EINVAL;
	io_remove(r);
	r->base = new_base;
	if (io_insert(r) < 0) {
		r->base = old;
		io_insert(r);
		return -EEXIST;
	}
	if (io_region_notify) {
		io_region_notify(r->space, old, r->len, r->flags, false);
		io_region_notify(r->space, new_base, r->len, r->flags, true);
	}
	return 0;
}

void io_region_foreach(void (*fn)(enum io_space, uint64_t, uint64_t,
				  unsigned, void *), void *opaque)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < io_maps[s].n; i++) {
			struct io_region *r = io_maps[s].r[i];

			fn(r->space, r->base, r->len, r->flags, opaque);
		}
}

static unsigned io_min(const struct io_region *r)
{
	return r->ops->min_size ? r->ops->min_size : 1;
}

static unsigned io_max(const struct io_region *r)
{
	return r->ops->max_size ? r->ops->max_size : 8;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* One access of 1/2/4/8 bytes at addr, possibly spanning regions or
 * holes: handled byte-group by byte-group so each piece goes to its
 * owner with a size it accepts. */
static uint64_t io_read_piece(enum io_space space, uint64_t addr,
			      unsigned size);
static void io_write_piece(enum io_space space, uint64_t addr, uint64_t val,
			   unsigned size);

static void io_leave(void)
{
	if (--io_depth == 0 && io_graveyard->len)
		g_ptr_array_set_size(io_graveyard, 0);
}

uint64_t io_read(enum io_space space, uint64_t addr, unsigned size)
{
	uint64_t v;

	if ((space != IO_SPACE_PIO && space != IO_SPACE_MMIO) ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return ~0ull;
	io_depth++;
	v = io_read_piece(space, addr, size);
	io_leave();
	return v & size_mask(size);
}

void io_write(enum io_space space, uint64_t addr, uint64_t value,
	      unsigned size)
{
	if ((space != IO_SPACE_PIO && space != IO_SPACE_MMIO) ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return;
	io_depth++;
	io_write_piece(space, addr, value & size_mask(size), size);
	io_leave();
}

/* The largest power of two <= n that is also <= max. */
static unsigned pow2_floor(unsigned n, unsigned max)
{
	unsigned p = 1;

	while (p * 2 <= n && p * 2 <= max)
		p *= 2;
	return p;
}

static uint64_t io_read_piece(enum io_space space, uint64_t addr,
			      unsigned size)
{
	struct io_region *r = io_find(space, addr);
	uint64_t off, avail, v = 0;
	unsigned n, done = 0;

	if (!r) {
		/* Hole: all ones up to the next region (or the end). */
		struct io_map *m = &io_maps[space];
		size_t i = io_lower_bound(m, addr);

		avail = i < m->n ? m->r[i]->base - addr : size;
		n = avail < size ? (unsigned)avail : size;
		v = size_mask(n);
		if (n < size)
			v |= io_read_piece(space, addr + n, size - n) << (n * 8);
		return v;
	}
	off = addr - r->base;
	avail = r->len - off;
	n = avail < size ? (unsigned)avail : size;
	if (n >= io_min(r)) {
		/* Split into the widest pieces the device accepts. */
		while (done < n) {
			unsigned k = pow2_floor(n - done, io_max(r));

			if (k < io_min(r))
				break;
			v |= (r->ops->read(r->opaque, off + done, k) &
			      size_mask(k)) << (done * 8);
			done += k;
		}
	}
	if (done < n) {
		/* Narrower than the device takes: read the aligned unit
		 * that holds the bytes and extract them. */
		unsigned unit = io_min(r);
		while (done < n) {
			uint64_t uoff = (off + done) & ~(uint64_t)(unit - 1);
			unsigned skip = (unsigned)(off + done - uoff);
			unsigned take = unit - skip;
			uint64_t u;

			if (take > n - done)
				take = n - done;
			if (uoff + unit > r->len) {
				u = ~0ull;
			} else {
				u = r->ops->read(r->opaque, uoff, unit);
			}
			v |= ((u >> (skip * 8)) & size_mask(take))
			     << (done * 8);
			done += take;
		}
	}
	if (n < size)
		v |= io_read_piece(space, addr + n, size - n) << (n * 8);
	return v;
}

static void io_write_piece(enum io_space space, uint64_t addr, uint64_t val,
			   unsigned size)
{
	struct io_region *r = io_find(space, addr);
	uint64_t off, avail;
	unsigned n, done = 0;

	if (!r) {
		struct io_map *m = &io_maps[space];
		size_t i = io_lower_bound(m, addr);

		avail = i < m->n ? m->r[i]->base - addr : size;
		n = avail < size ? (unsigned)avail : size;
		if (n < size)
			io_write_piece(space, addr + n, val >> (n * 8),
				       size - n);
		return;
	}
	off = addr - r->base;
	avail = r->len - off;
	n = avail < size ? (unsigned)avail : size;
	if (n >= io_min(r)) {
		while (done < n) {
			unsigned k = pow2_floor(n - done, io_max(r));

			if (k < io_min(r))
				break;
			r->ops->write(r->opaque, off + done,
				      (val >> (done * 8)) & size_mask(k), k);
			if (r->dead)
				return;
			done += k;
		}
	}
	while (done < n) {
		/* Read-modify-write of the device's smallest unit. */
		unsigned unit = io_min(r);
		uint64_t uoff = (off + done) & ~(uint64_t)(unit - 1);
		unsigned skip = (unsigned)(off + done - uoff);
		unsigned take = unit - skip;
		uint64_t u, m;

		if (take > n - done)
			take = n - done;
		if (uoff + unit <= r->len) {
			u = r->ops->read(r->opaque, uoff, unit);
			m = size_mask(take) << (skip * 8);
			u = (u & ~m) |
			    ((((val >> (done * 8)) & size_mask(take))
			      << (skip * 8)) & m);
			r->ops->write(r->opaque, uoff, u & size_mask(unit),
				      unit);
			if (r->dead)
				return;
		}
		done += take;
	}
	if (n < size)
		io_write_piece(space, addr + n, val >> (n * 8), size - n);
}

/* ---- PCI configuration mechanism #1 ---- */

static pci_cfg_read_fn pci_rd;
static pci_cfg_write_fn pci_wr;
static void *pci_opaque;
static uint32_t pci_addr_latch;

void pci_cfg_set_handler(pci_cfg_read_fn rd, pci_cfg_write_fn wr,
			 void *opaque)
{
	pci_rd = rd;
	pci_wr = wr;
	pci_opaque = opaque;
}

uint32_t pci_cfg_read(uint32_t sbdf, uint32_t reg, unsigned size)
{
	if (!pci_rd || reg > 0xfff || (size != 1 && size != 2 && size != 4) ||
	    (reg & (size - 1)))
		return (uint32_t)size_mask(size);
	return pci_rd(pci_opaque, sbdf, reg, size) & (uint32_t)size_mask(size);
}

void pci_cfg_write(uint32_t sbdf, uint32_t reg, uint32_t value,
		   unsigned size)
{
	if (!pci_wr || reg > 0xfff || (size != 1 && size != 2 && size != 4) ||
	    (reg & (size - 1)))
		return;
	pci_wr(pci_opaque, sbdf, reg, value & (uint32_t)size_mask(size), size);
}

static bool pci_data_target(uint64_t off, unsigned size, uint32_t *sbdf,
			    uint32_t *reg)
{
	uint32_t a = pci_addr_latch;
	/*
	 * Real chipsets ignore latch bits 1:0, but QEMU ORs them into the
	 * register number and its libqos relies on that (it latches the full
	 * offset, then reads 0xcfc).  Guests write them as zero, so doing
	 * the same costs nothing and keeps QEMU's qtests working.
	 */
	uint32_t low = (a & 3) | (uint32_t)off;

	if (!(a & 0x80000000u))
		return false;
	*sbdf = (a >> 8) & 0xffff;
	*reg = (a & 0xfc) | low;
	return true;
}

/*
 * An access not aligned to its size (possible only through the latch's
 * low bits, see above) is done a byte at a time, as QEMU does, within
 * the 256-byte type 1 space.
 */
static uint64_t pci_data_read(void *opaque, uint64_t off, unsigned size)
{
	uint32_t sbdf, reg, v = 0;

	(void)opaque;
	if (!pci_data_target(off, size, &sbdf, &reg))
		return size_mask(size);
	if (!(reg & (size - 1)))
		return pci_cfg_read(sbdf, reg, size);
	for (unsigned i = 0; i < size; i++) {
		uint32_t b = reg + i <= 0xff ? pci_cfg_read(sbdf, reg + i, 1)
					      : 0xff;
		v |= b << (8 * i);
	}
	return v;
}

static void pci_data_write(void *opaque, uint64_t off, uint64_t v,
			   unsigned size)
{
	uint32_t sbdf, reg;

	(void)opaque;
	if (!pci_data_target(off, size, &sbdf, &reg))
		return;
	if (!(reg & (size - 1))) {
		pci_cfg_write(sbdf, reg, (uint32_t)v, size);
		return;
	}
	for (unsigned i = 0; i < size && reg + i <= 0xff; i++)
		pci_cfg_write(sbdf, reg + i, (uint32_t)(v >> (8 * i)) & 0xff, 1);
}

static const struct io_ops pci_data_ops = {
	.read = pci_data_read, .write = pci_data_write,
	.min_size = 1, .max_size = 4,
};

/*
 * 0xcf8 is the address latch for dword accesses only; a byte at 0xcf9 is
 * PIIX3's reset control register, whose owner hooks in here because both
 * share one port region.  Other widths at 0xcf8 do nothing.
 */
static void (*cf9_write)(void *opaque, uint8_t v);
static uint8_t (*cf9_read)(void *opaque);
static void *cf9_opaque;

void pci_cfg_set_cf9_handler(uint8_t (*rd)(void *), void (*wr)(void *, uint8_t),
			     void *opaque)
{
	cf9_read = rd;
	cf9_write = wr;
	cf9_opaque = opaque;
}

static uint64_t pci_cf8_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	if (size == 4 && off == 0)
		return pci_addr_latch;
	if (off == 1 && size == 1)
		return cf9_read ? cf9_read(cf9_opaque) : 0xff;
	return size_mask(size);
}

static void pci_cf8_write(void *opaque, uint64_t off, uint64_t v,
			  unsigned size)
{
	(void)opaque;
	if (size == 4 && off == 0)
		pci_addr_latch = (uint32_t)v;
	else if (off == 1 && size == 1 && cf9_write)
		cf9_write(cf9_opaque, (uint8_t)v);
}

static const struct io_ops pci_cf8_ops = {
	.read = pci_cf8_read, .write = pci_cf8_write,
	.min_size = 1, .max_size = 4,
};

void pci_cfg_ports_init(void)
{
	io_region_add(IO_SPACE_PIO, 0xcf8, 4, &pci_cf8_ops, NULL,
		      "pci-config-address", 0);
	io_region_add(IO_SPACE_PIO, 0xcfc, 4, &pci_data_ops, NULL,
		      "pci-config-data", 0);
}
