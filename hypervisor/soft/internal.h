/*
 * Shared between the files of the software CPU; not part of its API.
 */
#ifndef SOFT_INTERNAL_H
#define SOFT_INTERNAL_H

#include "hypervisor/soft/cpu.h"

/* ---- modes ---- */
static inline bool x86_long(const struct x86 *c)
{
	return c->efer & EFER_LMA;
}

static inline bool x86_code64(const struct x86 *c)
{
	return x86_long(c) && (c->seg[S_CS].attr & SEG_L);
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
/* Through a segment, at the current privilege level. */
uint64_t x86_read(struct x86 *c, int seg, uint64_t off, unsigned size);
void x86_write(struct x86 *c, int seg, uint64_t off, uint64_t val,
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
/* Physical access (MMIO when not RAM). */
uint64_t x86_read_phys(struct x86 *c, uint64_t pa, unsigned size);
void x86_write_phys(struct x86 *c, uint64_t pa, uint64_t val, unsigned size);
/* Instruction fetch at CS:rip. */
uint8_t x86_fetch8(struct x86 *c, uint64_t rip);
void x86_tlb_flush(struct x86 *c);

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
