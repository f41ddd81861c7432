/*
 * Shared between the files of the software CPU; not part of its API.
 */
#ifndef SOFT_INTERNAL_H
#define SOFT_INTERNAL_H

#include <string.h>

#include "hypervisor/soft/cpu.h"

/* ---- modes ---- */
static inline bool x86_long(const struct x86 *c)
{
	return c->efer & EFER_LMA;
}

static inline bool x86_code64(const struct x86 *c)
{
	/* Branch-free: asked several times per instruction. */
	return ((c->efer / EFER_LMA) & (c->seg[S_CS].attr / SEG_L)) & 1;
}

static inline bool x86_pe(const struct x86 *c)
{
	return c->cr0 & CR0_PE;
}

static inline bool x86_v86(const struct x86 *c)
{
	return x86_pe(c) && (c->flags & F_VM);
}

/* Bits 63..47 all equal (48-bit linear addresses). */
static inline bool x86_canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static inline uint64_t szmask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sext(uint64_t v, unsigned size)
{
	switch (size) {
	case 1: return (uint64_t)(int64_t)(int8_t)v;
	case 2: return (uint64_t)(int64_t)(int16_t)v;
	case 4: return (uint64_t)(int64_t)(int32_t)v;
	}
	return v;
}

/* ---- faults (mem.c) ---- */
/* Raise an exception: unwinds the current instruction. */
_Noreturn void x86_raise(struct x86 *c, int vector, uint32_t error);
_Noreturn void x86_raise_noerr(struct x86 *c, int vector);
#define NO_ERR 0xffffffffu

/* ---- memory (mem.c) ---- */
enum acc { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

/* Linear address of seg:off for an access of size bytes (checks limits
 * and rights outside long mode). */
uint64_t x86_linear(struct x86 *c, int seg, uint64_t off, unsigned size,
		    enum acc acc);
/* Linear -> physical, walking the page tables (raises #PF). */
uint64_t x86_translate(struct x86 *c, uint64_t lin, enum acc acc, bool user);
/* Read/write at a linear address (any alignment, may cross pages). */
uint64_t x86_read_lin(struct x86 *c, uint64_t lin, unsigned size,
		      bool user, enum acc acc);
void x86_write_lin(struct x86 *c, uint64_t lin, uint64_t val, unsigned size,
		   bool user);
/* Through a segment, at the current privilege level: x86_read and
 * x86_write below (the common case inline, the rest in these). */
uint64_t x86_read_slow(struct x86 *c, int seg, uint64_t off, unsigned size);
void x86_write_slow(struct x86 *c, int seg, uint64_t off, uint64_t val,
		    unsigned size);
/* Host address of an aligned RAM operand for a locked read-modify-write
 * (checked for writing), or NULL: use the ordinary accessors. */
uint8_t *x86_host_rmw(struct x86 *c, int seg, uint64_t off, unsigned size);
/* Abandon the current instruction and run it again (a lost race on a
 * locked operand). */
_Noreturn void x86_retry(struct x86 *c);
/* Supervisor accesses (descriptor tables, TSS, IDT): ignore CPL. */
uint64_t x86_read_sys(struct x86 *c, uint64_t lin, unsigned size);
void x86_write_sys(struct x86 *c, uint64_t lin, uint64_t val, unsigned size);
/* Guest-physical RAM at pa in host memory, avail bytes of it (the bus's
 * ram callback, through a per-thread cache of pages), or NULL. */
uint8_t *x86_ram(struct x86 *c, uint64_t pa, uint64_t *avail, bool *ro);
/* Physical access (MMIO when not RAM). */
uint64_t x86_read_phys(struct x86 *c, uint64_t pa, unsigned size);
void x86_write_phys(struct x86 *c, uint64_t pa, uint64_t val, unsigned size);
/* Instruction fetch at CS:rip. */
uint8_t x86_fetch8(struct x86 *c, uint64_t rip);
/* The code page at lin in host memory if the TLB already allows this
 * CPU to fetch from it, else NULL (never walks or faults). */
const uint8_t *x86_code_peek(struct x86 *c, uint64_t lin);
void x86_tlb_flush(struct x86 *c);

/* ---- the TLB (mem.c) ---- */
/* Entries cover paging-off too (identity with the A20 mask), so every
 * access finds the page's host address here.  The tag is the linear page
 * | 1 (valid) | 2 (paging off) | 4 (A20 masked). */
struct tlb_entry {
	uint64_t vpage;
	uint64_t ppage;
	/* The page's host address minus its linear address (what the
	 * translated code adds to an address); tlb_host() gives the page's,
	 * NULL unless it is all RAM. */
	uintptr_t addend;
	bool host_ro;           /* ROM: writes are dropped */
	bool user, write, exec; /* allowed (write: and already dirty) */
	/* [write][user]: the tag without its valid bit when a data access
	 * of that kind may use host directly (host set, rights allow it,
	 * not ROM for writes), else TLB_NO_FAST; one compare with the
	 * access's page (| 4 with A20 masked) on the inline paths. */
	uint64_t fast[2][2];
};
#define TLB_NO_FAST 1ull        /* never a page (| 2 | 4) */

static inline uint8_t *tlb_host(const struct tlb_entry *t)
{
	return (uint8_t *)(t->addend + (uintptr_t)(t->vpage & ~0xfffull));
}

#define TLB_SIZE 1024
struct x86_tlb {
	const struct x86 *owner;
	uint64_t gen, memmap_gen;
	struct tlb_entry e[TLB_SIZE];
};
extern __thread struct x86_tlb x86_tlb;

/* Fixed-size copies: a memcpy of variable length is a library call and a
 * store-forwarding stall on the hottest path of the interpreter. */
static inline uint64_t host_load(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	}
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline void host_store(uint8_t *p, uint64_t v, unsigned size)
{
	switch (size) {
	case 1: *p = (uint8_t)v; return;
	case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); return; }
	case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); return; }
	}
	memcpy(p, &v, 8);
}

/* A store of size bytes at host address p: if it touches the code page
 * of the block of decoded instructions being run, the block must end
 * after this instruction (its remaining instructions were decoded from
 * the bytes before the store).  Conservative: any byte of the page. */
static inline void x86_code_store(struct x86 *c, const uint8_t *p,
				  unsigned size)
{
	if (__builtin_expect((uintptr_t)p + size - c->blk_code <
			     0x1000u + size, 0))
		c->blk_stop = true;
}

/* The host address of a data access in 64-bit code that the TLB already
 * allows (in one RAM page, writable when writing), or NULL: the slow path
 * then does everything (limits, walks, faults, MMIO, ROM).  Exactly what
 * x86_linear + tlb_get would find, without the calls. */
static inline __attribute__((always_inline)) uint8_t *
x86_host_fast_in(struct x86 *c, int seg, uint64_t off, unsigned size,
		 enum acc acc, bool known64)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;
	const struct tlb_entry *t;
	uint64_t lin, tag;

	if ((!known64 && !x86_code64(c)) || !mg)
		return NULL;
	lin = off + (seg == S_FS || seg == S_GS ? c->seg[seg].base : 0);
	if (!x86_canonical(lin) || (lin & 0xfff) + size > 0x1000)
		return NULL;
	if (x86_tlb.owner != c || x86_tlb.gen != c->tlb_gen ||
	    x86_tlb.memmap_gen != *mg)
		return NULL;
	/* Long mode pages: tlb_get's tag with paging on, as in fast[]. */
	tag = (lin & ~0xfffull) | (c->a20 ? 0 : 4);
	t = &x86_tlb.e[(lin >> 12) % TLB_SIZE];
	if (t->fast[acc == ACC_WRITE][c->cpl == 3] != tag)
		return NULL;
	return tlb_host(t) + (lin & 0xfff);
}

static inline uint8_t *x86_host_fast(struct x86 *c, int seg, uint64_t off,
				     unsigned size, enum acc acc)
{
	return x86_host_fast_in(c, seg, off, size, acc, false);
}

static inline __attribute__((always_inline)) uint64_t
x86_read_in(struct x86 *c, int seg, uint64_t off, unsigned size, bool known64)
{
	uint8_t *p = x86_host_fast_in(c, seg, off, size, ACC_READ, known64);

	if (p)
		return host_load(p, size);
	return x86_read_slow(c, seg, off, size);
}

static inline __attribute__((always_inline)) void
x86_write_in(struct x86 *c, int seg, uint64_t off, uint64_t val,
	     unsigned size, bool known64)
{
	uint8_t *p = x86_host_fast_in(c, seg, off, size, ACC_WRITE, known64);

	if (p) {
		x86_code_store(c, p, size);
		host_store(p, val, size);
	} else {
		x86_write_slow(c, seg, off, val, size);
	}
}

static inline uint64_t x86_read(struct x86 *c, int seg, uint64_t off,
				unsigned size)
{
	return x86_read_in(c, seg, off, size, false);
}

static inline void x86_write(struct x86 *c, int seg, uint64_t off,
			     uint64_t val, unsigned size)
{
	x86_write_in(c, seg, off, val, size, false);
}

/* The same, for callers that know the code is 64-bit. */
static inline __attribute__((always_inline)) uint64_t
x86_read64(struct x86 *c, int seg, uint64_t off, unsigned size)
{
	return x86_read_in(c, seg, off, size, true);
}

static inline __attribute__((always_inline)) void
x86_write64(struct x86 *c, int seg, uint64_t off, uint64_t val, unsigned size)
{
	x86_write_in(c, seg, off, val, size, true);
}

/* ---- stack (exec.c) ---- */
void x86_push(struct x86 *c, uint64_t v, unsigned size);
uint64_t x86_pop(struct x86 *c, unsigned size);
unsigned x86_stack_size(const struct x86 *c);

/* ---- system (system.c) ---- */
/* Save the registers a far transfer or delivery changes (once per
 * instruction or delivery); x86_ckpt_restore undoes them after a fault. */
void x86_ckpt(struct x86 *c);
void x86_ckpt_restore(struct x86 *c);
void x86_load_seg(struct x86 *c, int seg, uint16_t sel);
void x86_load_seg_real(struct x86 *c, int seg, uint16_t sel);
void x86_deliver(struct x86 *c, int vector, uint32_t error, bool software,
		 uint64_t next_rip);
void x86_deliver_external(struct x86 *c, int vector, uint64_t next_rip);
void x86_far_jmp(struct x86 *c, uint16_t sel, uint64_t off, unsigned osize);
void x86_far_call(struct x86 *c, uint16_t sel, uint64_t off, unsigned osize);
void x86_far_ret(struct x86 *c, unsigned osize, uint16_t pop_bytes);
void x86_iret(struct x86 *c, unsigned osize);
void x86_update_mode(struct x86 *c);
void x86_write_cr(struct x86 *c, int cr, uint64_t v);
bool x86_msr_read(struct x86 *c, uint32_t msr, uint64_t *v);
bool x86_msr_write(struct x86 *c, uint32_t msr, uint64_t v);
void x86_cpuid(struct x86 *c);
void x86_syscall(struct x86 *c);
void x86_sysret(struct x86 *c, unsigned osize);
void x86_sysenter(struct x86 *c);
void x86_sysexit(struct x86 *c, unsigned osize);
void x86_lldt(struct x86 *c, uint16_t sel);
void x86_ltr(struct x86 *c, uint16_t sel);
/* Read a descriptor (8 bytes) for a selector; raises #GP(sel) if out of
 * the table. */
uint64_t x86_descriptor(struct x86 *c, uint16_t sel, uint32_t err);
void x86_log_once(struct x86 *c, unsigned key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
