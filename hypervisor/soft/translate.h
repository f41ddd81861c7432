/*
 * Translation of cached blocks to host code (translate.c); the plan and
 * the contract are in docs/soft-cpu-translation.md.
 */
#ifndef SOFT_TRANSLATE_H
#define SOFT_TRANSLATE_H

#include "hypervisor/soft/exec.h"

/*
 * A translated block, called with the CPU and the caller's scratch
 * instruction (for the instructions it hands to the interpreter).  It
 * may go on into other translated blocks (jumps patched by tr_patch,
 * tr_lookup), up to c->tr_limit instructions in all.  It returns the
 * number of instructions it completed (TR_COUNT bits), with TR_DONE
 * when the last one set rip itself (a taken branch) and TR_GENERIC when
 * the last one ran in the interpreter.  c->rip is the next
 * instruction's, c->insn_rip the last one's.  Faults unwind with longjmp
 * as in the interpreter, with c->insn_rip, c->saved_sp, c->saved_flags
 * and c->tr_count (instructions completed before it) those of the
 * faulting instruction.
 */
typedef uint64_t (*tr_fn)(struct x86 *c, struct insn *i);
#define TR_COUNT   0xffffu
#define TR_DONE    0x10000u
#define TR_GENERIC 0x20000u

/* The kind of code a translation is made for (the CPU state it may
 * assume beyond its bytes): 64-bit code; 32-bit protected-mode code
 * with a flat CS (base 0, limit 4 GiB), and which of DS, ES and SS are
 * flat too (base 0, limit 4 GiB, writable, expand-up; SS with a 32-bit
 * stack); or 16-bit code (real mode, virtual-8086 mode, 16-bit
 * protected mode) with a CS limit of 64 KiB, a CS base below 8 MiB
 * (it is part of the key, tr_block.csbase) and which of DS, ES and SS
 * are usable with their base read at run time and a limit of at least
 * 64 KiB (writable, expand-up; SS with a 16-bit stack).  Accesses
 * through the other segments always take the slow path.  Paging on or
 * off.  Other code is not translated (TRM_NONE). */
#define TRM_64     0u
#define TRM_FLAT32 1u
#define TRM_NOPG   2u           /* paging off */
#define TRM_DS     4u
#define TRM_ES     8u
#define TRM_SS     16u
#define TRM_SEG16  32u
#define TRM_NONE   0xffu
#define TRM_CSBASE_MAX (1u << 23)

/* What the translator needs of a block: its instructions as recorded
 * and their short-path forms (FOP_*), the kind of code (TRM_*), and the
 * privilege (user) and A20 state the code may assume. */
struct tr_block {
	uint64_t lin;
	unsigned n;
	const struct insn *insn[TR_MAX_INSNS];
	const uint8_t *fop;
	const uint8_t *src;     /* its bytes, nbytes of them */
	unsigned nbytes;
	bool user, a20;
	uint8_t mode;
	uint32_t csbase;        /* TRM_SEG16: CS's base (rip = lin - csbase) */
};

/* Host code for the block, or NULL (no code buffer).  Translations live
 * until the per-thread code buffer fills: then all of them are dropped
 * at once and tr_gen changes. */
tr_fn tr_translate(const struct tr_block *b, void **chain);
/* Point the unpatched chain jump site at target (a block's chain entry
 * from tr_translate, of the same generation). */
void tr_patch(void *site, const void *target);
extern __thread uint32_t tr_gen;
/* Remember chain as lin's translated block for this privilege level, A20
 * state and kind of code, for exits to lin from other translated code. */
void tr_jc_fill(uint64_t lin, bool user, bool a20, uint8_t mode,
		uint32_t csbase, void *chain);
/* The chain entry remembered for lin, or NULL. */
void *tr_jc_find(uint64_t lin, bool user, bool a20, uint8_t mode,
		 uint32_t csbase);
/* Run translated code from C at a chain entry: it checks the budget and
 * the block's bytes itself (as from another block; c->blk_code the code
 * page), and returns as a tr_fn does; a count of 0 means it did not
 * start (the budget, other bytes). */
uint64_t tr_enter(struct x86 *c, struct insn *i, void *chain);

/* exec.c: run the recorded instruction s at rip (instruction k of its
 * block, after base others since the translated code was called) in the
 * interpreter; 0 when the translated code may go on with the next
 * instruction, else what it returns. */
uint64_t tr_generic(struct x86 *c, struct insn *i, const struct insn *s,
		    uint64_t rip, unsigned k, unsigned base);

/* exec.c: the chain entry of the translated block at c->rip for this
 * CPU's state, making its page the code page (c->blk_code), or NULL. */
void *tr_lookup(struct x86 *c);
/* exec.c: an unpatched jump at site (its end) from translated code to
 * c->rip in the same page: patch it to the block there if that is
 * translated (tr_lookup's result either way). */
void *tr_chain_miss(struct x86 *c, void *site);

#endif
