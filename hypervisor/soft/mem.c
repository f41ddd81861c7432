/*
 * Memory as the CPU sees it: segmentation, paging with a small TLB, and
 * physical accesses that go to RAM directly or become MMIO requests.
 *
 * Faults unwind the current instruction with longjmp (x86_raise); the
 * instruction loop then delivers the exception.  Instructions update
 * architectural registers only after their last memory access, so an
 * unwound instruction leaves no trace (string instructions excepted, whose
 * progress is architectural).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hypervisor/soft/internal.h"

void x86_raise(struct x86 *c, int vector, uint32_t error)
{
	c->fault_vector = vector;
	longjmp(c->fault, (int)(error == NO_ERR ? 0x10000 : error) + 1);
}

void x86_retry(struct x86 *c)
{
	longjmp(c->fault, -2);
}

void x86_raise_noerr(struct x86 *c, int vector)
{
	x86_raise(c, vector, NO_ERR);
}

void x86_log_once(struct x86 *c, unsigned key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	key %= sizeof(c->unimpl_logged);
	if (c->unimpl_logged[key])
		return;
	c->unimpl_logged[key] = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->bus->log)
		c->bus->log(c->bus->opaque, msg);
}

/* ---- segmentation ---- */

uint64_t x86_linear(struct x86 *c, int seg, uint64_t off, unsigned size,
		    enum acc acc)
{
	const struct x86_seg *s = &c->seg[seg];
	int vec = seg == S_SS ? X86_SS : X86_GP;

	if (x86_code64(c)) {
		uint64_t lin = off + (seg == S_FS || seg == S_GS ? s->base : 0);

		/* Canonical: bits 63..47 all equal. */
		if (!x86_canonical(lin))
			x86_raise(c, vec, 0);
		return lin;
	}
	if (x86_pe(c) && !x86_v86(c)) {
		unsigned type = s->attr & 15;

		if (!(s->attr & SEG_P))
			x86_raise(c, vec, 0);
		if (acc == ACC_WRITE && ((type & 8) || !(type & 2)))
			x86_raise(c, vec, 0);     /* code, or read-only data */
		if (acc == ACC_READ && (type & 8) && !(type & 2))
			x86_raise(c, vec, 0);     /* execute-only code */
		if (!(type & 8) && (type & 4)) {
			/* Expand-down data: valid offsets are above limit. */
			uint64_t top = (s->attr & SEG_DB) ? 0xffffffffull
							  : 0xffff;
			if (off <= s->limit || off + size - 1 > top)
				x86_raise(c, vec, 0);
			return (uint32_t)(s->base + off);
		}
	}
	if (off + size - 1 > s->limit && size)
		x86_raise(c, vec, 0);
	return (uint32_t)(s->base + off);
}

/* ---- paging ---- */

#define PTE_P   0x1ull
#define PTE_W   0x2ull
#define PTE_U   0x4ull
#define PTE_A   0x20ull
#define PTE_D   0x40ull
#define PTE_PS  0x80ull
#define PTE_NX  (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

/* The TLB (struct x86_tlb, internal.h) lives outside struct x86 to keep
 * that struct simple: one per thread, flushed when the thread starts
 * running another CPU. */
__thread struct x86_tlb x86_tlb;

/* Every entry empty: no tag, no fast path. */
static void tlb_clear(void)
{
	memset(x86_tlb.e, 0, sizeof(x86_tlb.e));
	for (unsigned k = 0; k < TLB_SIZE; k++) {
		struct tlb_entry *t = &x86_tlb.e[k];

		t->fast[0][0] = t->fast[0][1] = TLB_NO_FAST;
		t->fast[1][0] = t->fast[1][1] = TLB_NO_FAST;
	}
}

/* Flushes may come from another thread (registers set by hvmd while the
 * vCPU is parked): bump the CPU's generation, and the thread running it
 * drops its entries at the next translation. */
void x86_tlb_flush(struct x86 *c)
{
	c->tlb_gen++;
	if (x86_tlb.owner == c)
		tlb_clear();
	x86_tlb.gen = c->tlb_gen;
}

static uint64_t pt_read(struct x86 *c, uint64_t pa)
{
	return x86_read_phys(c, pa, 8);
}

static _Noreturn void page_fault(struct x86 *c, uint64_t lin, bool present,
				 enum acc acc, bool user, bool rsvd)
{
	uint32_t err = (present ? 1 : 0) | (acc == ACC_WRITE ? 2 : 0) |
		       (user ? 4 : 0) | (rsvd ? 8 : 0) |
		       (acc == ACC_EXEC && (c->efer & EFER_NXE) ? 16 : 0);

	c->cr2 = lin;
	x86_raise(c, X86_PF, err);
}

/* Walk the tables; set A/D bits; return the physical address. */
static uint64_t walk(struct x86 *c, uint64_t lin, enum acc acc, bool user,
		     struct tlb_entry *out)
{
	bool can_write = true, can_user = true, can_exec = true;
	uint64_t entries[4], addrs[4];
	unsigned levels, n = 0;
	uint64_t table, e = 0, pa, page_size = 4096;
	bool pae = c->cr4 & CR4_PAE;

	if (x86_long(c)) {
		levels = 4;
		table = c->cr3 & ADDR_MASK;
	} else if (pae) {
		uint64_t pdpte = pt_read(c, (c->cr3 & 0xffffffe0u) +
					    ((lin >> 30) & 3) * 8);
		if (!(pdpte & PTE_P))
			page_fault(c, lin, false, acc, user, false);
		levels = 2;
		table = pdpte & ADDR_MASK;
	} else {
		levels = 2;
		table = c->cr3 & 0xfffff000u;
	}
	for (unsigned lvl = levels; lvl > 0; lvl--) {
		unsigned shift, idx;
		uint64_t ea;

		if (pae || x86_long(c)) {
			shift = 12 + 9 * (lvl - 1);
			idx = (unsigned)((lin >> shift) & 0x1ff);
			ea = table + idx * 8ull;
			e = pt_read(c, ea);
		} else {
			shift = 12 + 10 * (lvl - 1);
			idx = (unsigned)((lin >> shift) & 0x3ff);
			ea = table + idx * 4ull;
			e = x86_read_phys(c, ea, 4);
		}
		if (!(e & PTE_P))
			page_fault(c, lin, false, acc, user, false);
		if ((pae || x86_long(c)) && (e & PTE_NX) &&
		    !(c->efer & EFER_NXE))
			page_fault(c, lin, true, acc, user, true);
		if (!(e & PTE_W))
			can_write = false;
		if (!(e & PTE_U))
			can_user = false;
		if ((pae || x86_long(c)) && (e & PTE_NX))
			can_exec = false;
		entries[n] = e;
		addrs[n++] = ea;
		if (lvl > 1 && (e & PTE_PS) &&
		    (lvl <= 3 || !x86_long(c)) &&
		    (pae || x86_long(c) || (c->cr4 & CR4_PSE))) {
			page_size = 1ull << shift;
			break;
		}
		if (lvl == 1)
			break;
		table = (pae || x86_long(c)) ? (e & ADDR_MASK)
					     : (e & 0xfffff000u);
	}
	/* Rights: user accesses need U everywhere; writes need W (always
	 * for user, for supervisor only with CR0.WP). */
	if (user && !can_user)
		page_fault(c, lin, true, acc, user, false);
	if (acc == ACC_WRITE && !can_write && (user || (c->cr0 & CR0_WP)))
		page_fault(c, lin, true, acc, user, false);
	if (acc == ACC_EXEC && !can_exec)
		page_fault(c, lin, true, acc, user, false);
	/* Accessed on every level, dirty on the leaf for writes. */
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = entries[i] | PTE_A;

		if (i == n - 1 && acc == ACC_WRITE)
			want |= PTE_D;
		if (want != entries[i]) {
			if (pae || x86_long(c))
				x86_write_phys(c, addrs[i], want, 8);
			else
				x86_write_phys(c, addrs[i], (uint32_t)want, 4);
			entries[i] = want;
		}
	}
	e = entries[n - 1];
	if (page_size == 4096) {
		pa = (pae || x86_long(c) ? (e & ADDR_MASK) : (e & 0xfffff000u)) |
		     (lin & 0xfff);
	} else if (!pae && !x86_long(c)) {
		/* 4 MiB page: bits 31:22 plus PSE-36's bits 39:32. */
		pa = (e & 0xffc00000u) | ((e >> 13) & 0xffull) << 32 |
		     (lin & 0x3fffff);
	} else {
		pa = (e & ADDR_MASK & ~(page_size - 1)) |
		     (lin & (page_size - 1));
	}
	out->user = can_user;
	out->write = can_write && (e & PTE_D);
	out->exec = can_exec;
	return pa;
}

/* Fill the TLB entry t for lin (walking the tables, raising #PF). */
static __attribute__((noinline)) struct tlb_entry *
tlb_fill(struct x86 *c, struct tlb_entry *t, uint64_t lin, enum acc acc,
	 bool user, uint64_t tag)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;
	bool paging = c->cr0 & CR0_PG;
	struct tlb_entry fresh;
	uint64_t pa;

	if (paging) {
		pa = walk(c, lin, acc, user, &fresh);
	} else {
		pa = c->a20 ? lin : lin & ~(1ull << 20);
		fresh.user = fresh.write = fresh.exec = true;
	}
	fresh.vpage = tag;
	fresh.ppage = pa & ~0xfffull;
	uint8_t *host = NULL;

	fresh.host_ro = false;
	/* Host pointers are kept only when the bus tells us about memory
	 * map changes (a region could go away under a cached pointer). */
	if (mg) {
		uint64_t avail = 0;
		bool ro = false;
		uint8_t *p = x86_ram(c, fresh.ppage, &avail, &ro);

		if (p && avail >= 0x1000) {
			host = p;
			fresh.host_ro = ro;
		}
	}
	uint64_t ftag = tag & ~1ull, none = TLB_NO_FAST;
	bool wr = host && !fresh.host_ro && fresh.write;

	fresh.addend = (uintptr_t)host - (uintptr_t)(tag & ~0xfffull);
	fresh.fast[0][0] = host ? ftag : none;
	fresh.fast[0][1] = host && fresh.user ? ftag : none;
	fresh.fast[1][0] = wr ? ftag : none;
	fresh.fast[1][1] = wr && fresh.user ? ftag : none;
	*t = fresh;
	return t;
}

static __attribute__((noinline)) void tlb_reset(struct x86 *c)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;

	tlb_clear();
	x86_tlb.owner = c;
	x86_tlb.gen = c->tlb_gen;
	x86_tlb.memmap_gen = mg ? *mg : 0;
}

/* The TLB entry for lin, filled when missing or lacking the rights for
 * this access. */
static inline struct tlb_entry *tlb_get(struct x86 *c, uint64_t lin,
					enum acc acc, bool user)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;
	uint64_t vpage = lin & ~0xfffull;
	uint64_t tag = vpage | 1 | ((c->cr0 & CR0_PG) ? 0 : 2) |
		       (c->a20 ? 0 : 4);
	struct tlb_entry *t;

	if (__builtin_expect(x86_tlb.owner != c || x86_tlb.gen != c->tlb_gen ||
			     (mg && x86_tlb.memmap_gen != *mg), 0))
		tlb_reset(c);
	t = &x86_tlb.e[(vpage >> 12) % TLB_SIZE];
	if (__builtin_expect(t->vpage == tag && (!user || t->user) &&
			     (acc != ACC_WRITE || t->write) &&
			     (acc != ACC_EXEC || t->exec), 1))
		return t;
	return tlb_fill(c, t, lin, acc, user, tag);
}

uint64_t x86_translate(struct x86 *c, uint64_t lin, enum acc acc, bool user)
{
	return tlb_get(c, lin, acc, user)->ppage | (lin & 0xfff);
}

/* ---- physical ---- */

/*
 * Guest-physical RAM pages in host memory, per thread: the page walks
 * read a handful of table pages over and over, and asking the bus takes
 * its memory map's lock every time.  Valid while the bus and its memory
 * map generation are the ones the entries were made with; without a
 * generation to watch nothing is kept (as in the TLB).
 */
#define PHYS_CACHE 64
static __thread struct {
	const struct x86_bus *bus;
	uint64_t memmap_gen;
	uint64_t page[PHYS_CACHE];      /* page | 1, or 0 */
	uint8_t *host[PHYS_CACHE];
	bool ro[PHYS_CACHE];
} phys_cache;

uint8_t *x86_ram(struct x86 *c, uint64_t pa, uint64_t *avail, bool *ro)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;
	uint64_t page = pa & ~0xfffull;
	unsigned k = (unsigned)(pa >> 12) % PHYS_CACHE;
	uint64_t page_avail = 0;
	uint8_t *p;

	if (!mg)
		return c->bus->ram(c->bus->opaque, pa, avail, ro);
	if (phys_cache.bus != c->bus || phys_cache.memmap_gen != *mg) {
		memset(&phys_cache, 0, sizeof(phys_cache));
		phys_cache.bus = c->bus;
		phys_cache.memmap_gen = *mg;
	}
	if (phys_cache.page[k] == (page | 1)) {
		*avail = 0x1000 - (pa & 0xfff);
		*ro = phys_cache.ro[k];
		return phys_cache.host[k] + (pa & 0xfff);
	}
	p = c->bus->ram(c->bus->opaque, page, &page_avail, ro);
	if (p && page_avail >= 0x1000) {
		phys_cache.page[k] = page | 1;
		phys_cache.host[k] = p;
		phys_cache.ro[k] = *ro;
		*avail = 0x1000 - (pa & 0xfff);
		return p + (pa & 0xfff);
	}
	return c->bus->ram(c->bus->opaque, pa, avail, ro);
}

uint64_t x86_read_phys(struct x86 *c, uint64_t pa, unsigned size)
{
	uint64_t avail = 0, v = 0;
	bool ro;
	uint8_t *p = x86_ram(c, pa, &avail, &ro);

	if (p && avail >= size)
		return host_load(p, size);
	if (p) {
		/* Straddles the end of a RAM block: byte by byte. */
		for (unsigned i = 0; i < size; i++)
			v |= x86_read_phys(c, pa + i, 1) << (8 * i);
		return v;
	}
	c->blk_stop = true;
	if (c->bus->mmio(c->bus->opaque, pa, size, false, &v)) {
		c->io_abort = true;
		longjmp(c->fault, -1);
	}
	return v & szmask(size);
}

void x86_write_phys(struct x86 *c, uint64_t pa, uint64_t val, unsigned size)
{
	uint64_t avail = 0;
	bool ro;
	uint8_t *p = x86_ram(c, pa, &avail, &ro);

	if (p && avail >= size) {
		if (!ro) {
			x86_code_store(c, p, size);
			host_store(p, val, size);
		}
		return;
	}
	if (p) {
		for (unsigned i = 0; i < size; i++)
			x86_write_phys(c, pa + i, val >> (8 * i), 1);
		return;
	}
	c->blk_stop = true;     /* the device model may write to code */
	if (c->bus->mmio(c->bus->opaque, pa, size, true, &val)) {
		c->io_abort = true;
		longjmp(c->fault, -1);
	}
}

/* ---- linear ---- */

uint64_t x86_read_lin(struct x86 *c, uint64_t lin, unsigned size, bool user,
		      enum acc acc)
{
	if (((lin & 0xfff) + size) > 0x1000) {
		uint64_t v = 0;
		unsigned first = 0x1000 - (unsigned)(lin & 0xfff);

		/* Translate both pages first: a fault on the second page
		 * must come before any side effect on the first. */
		x86_translate(c, lin + first, acc, user);
		for (unsigned i = 0; i < size; i++)
			v |= x86_read_phys(c, x86_translate(c, lin + i, acc,
							    user), 1) << (8 * i);
		return v;
	}

	struct tlb_entry *t = tlb_get(c, lin, acc, user);

	if (tlb_host(t))
		return host_load(tlb_host(t) + (lin & 0xfff), size);
	return x86_read_phys(c, t->ppage | (lin & 0xfff), size);
}

void x86_write_lin(struct x86 *c, uint64_t lin, uint64_t val, unsigned size,
		   bool user)
{
	if (((lin & 0xfff) + size) > 0x1000) {
		unsigned first = 0x1000 - (unsigned)(lin & 0xfff);
		uint64_t pa2 = x86_translate(c, lin + first, ACC_WRITE, user);
		uint64_t pa1 = x86_translate(c, lin, ACC_WRITE, user);

		for (unsigned i = 0; i < size; i++)
			x86_write_phys(c, i < first ? pa1 + i : pa2 + (i - first),
				       val >> (8 * i), 1);
		return;
	}

	struct tlb_entry *t = tlb_get(c, lin, ACC_WRITE, user);

	if (tlb_host(t)) {
		if (!t->host_ro) {
			x86_code_store(c, tlb_host(t) + (lin & 0xfff), size);
			host_store(tlb_host(t) + (lin & 0xfff), val, size);
		}
		return;
	}
	x86_write_phys(c, t->ppage | (lin & 0xfff), val, size);
}

uint8_t *x86_host_rmw(struct x86 *c, int seg, uint64_t off, unsigned size)
{
	uint64_t lin = x86_linear(c, seg, off, size, ACC_WRITE);
	struct tlb_entry *t;

	/* Misaligned (possibly split-line) operands take the ordinary
	 * path: a host split lock may be refused or very slow. */
	if ((lin & (size - 1)) || (lin & 0xfff) + size > 0x1000)
		return NULL;
	t = tlb_get(c, lin, ACC_WRITE, c->cpl == 3);
	if (!tlb_host(t) || t->host_ro)
		return NULL;
	x86_code_store(c, tlb_host(t) + (lin & 0xfff), size);
	return tlb_host(t) + (lin & 0xfff);
}

uint64_t x86_read_slow(struct x86 *c, int seg, uint64_t off, unsigned size)
{
	uint64_t lin = x86_linear(c, seg, off, size, ACC_READ);

	return x86_read_lin(c, lin, size, c->cpl == 3, ACC_READ);
}

void x86_write_slow(struct x86 *c, int seg, uint64_t off, uint64_t val,
		    unsigned size)
{
	uint64_t lin = x86_linear(c, seg, off, size, ACC_WRITE);

	x86_write_lin(c, lin, val, size, c->cpl == 3);
}

uint64_t x86_read_sys(struct x86 *c, uint64_t lin, unsigned size)
{
	return x86_read_lin(c, lin, size, false, ACC_READ);
}

void x86_write_sys(struct x86 *c, uint64_t lin, uint64_t val, unsigned size)
{
	x86_write_lin(c, lin, val, size, false);
}

const uint8_t *x86_code_peek(struct x86 *c, uint64_t lin)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;
	uint64_t vpage = lin & ~0xfffull;
	uint64_t tag = vpage | 1 | ((c->cr0 & CR0_PG) ? 0 : 2) |
		       (c->a20 ? 0 : 4);
	const struct tlb_entry *t = &x86_tlb.e[(vpage >> 12) % TLB_SIZE];

	if (x86_tlb.owner != c || x86_tlb.gen != c->tlb_gen || !mg ||
	    x86_tlb.memmap_gen != *mg)
		return NULL;
	if (t->vpage != tag || !t->exec || (c->cpl == 3 && !t->user))
		return NULL;
	return tlb_host(t);
}

uint8_t x86_fetch8(struct x86 *c, uint64_t rip)
{
	uint64_t lin;

	if (x86_code64(c)) {
		lin = rip;
		if (!x86_canonical(lin))
			x86_raise(c, X86_GP, 0);
	} else {
		const struct x86_seg *cs = &c->seg[S_CS];

		if (rip > cs->limit)
			x86_raise(c, X86_GP, 0);
		lin = (uint32_t)(cs->base + rip);
	}
	if ((lin & ~0xfffull) == c->fetch_page)
		return c->fetch_host[lin & 0xfff];

	struct tlb_entry *t = tlb_get(c, lin, ACC_EXEC, c->cpl == 3);

	if (tlb_host(t)) {
		c->fetch_page = lin & ~0xfffull;
		c->fetch_host = tlb_host(t);
		c->fetch_gen = c->tlb_gen;
		c->fetch_cpl = c->cpl;
		c->fetch_memgen = c->bus->memmap_gen ? *c->bus->memmap_gen : 0;
		return tlb_host(t)[lin & 0xfff];
	}
	return (uint8_t)x86_read_phys(c, t->ppage | (lin & 0xfff), 1);
}
