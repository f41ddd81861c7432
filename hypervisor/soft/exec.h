/*
 * The decoded instruction and the helpers the interpreter's files share.
 */
#ifndef SOFT_EXEC_H
#define SOFT_EXEC_H

#include <stddef.h>

#include "hypervisor/soft/internal.h"

/* Fields up to `dyn` depend only on the instruction's bytes and the
 * decoding mode, so the decode cache (exec.c) keeps and restores them;
 * the rest is per execution. */
#define INSN_MAX_IMM 2
struct insn {
	uint8_t len;            /* bytes fetched so far */
	uint8_t osize, asize;   /* operand and address size in bytes */
	int8_t seg;             /* segment override or S_NONE */
	bool lock, rep, repne, prefix66;
	uint8_t rex;            /* REX.WRXB in the low nibble */
	bool rex_present;
	bool mode64;
	bool twobyte;
	uint8_t op;
	/* ModRM */
	bool mem, riprel;
	uint8_t mod, reg, rm, rm_raw;
	int8_t ea_seg;
	/* The memory operand's form: disp + base + (index << scale), each
	 * register -1 when absent; the address is reduced to asize. */
	int8_t ea_base, ea_index;
	uint8_t ea_scale;
	/* Immediates (and other bytes past ModRM) in the order the
	 * instruction's code fetched them; replayed on a cache hit. */
	uint8_t nimm;
	uint8_t imm_size[INSN_MAX_IMM];
	uint8_t dc_mode;        /* the decoding mode, for the cache */
	int32_t ea_disp;
	uint64_t imm[INSN_MAX_IMM];

	/* ---- per execution from here on (INSN_DYN) ---- */
	bool replay;            /* decoded fields came from the cache */
	bool nocache;           /* more fetches than fit in imm[] */
	uint8_t imm_pos;        /* next imm[] to replay */
	uint64_t ea;
	bool done;              /* rip already set by the instruction */
	/* The instruction's bytes in host memory when all 15 possible
	 * bytes are in one RAM page within the CS limit (else NULL). */
	const uint8_t *code;
	/* LOCK and XCHG with memory: the operand's host address and the
	 * value e_read saw; e_write stores with a compare-and-swap. */
	bool atomic;
	uint8_t *atomic_host;
	uint64_t atomic_old;
};
#define INSN_DYN offsetof(struct insn, replay)


/* The forms of instruction the block cache runs on short paths (exec.c,
 * blk_fop) and the translator turns into host code; a block's fop byte
 * is (form * 3 + size index (0: byte, 1: 32-bit, 2: 64-bit)) * 2 +
 * (memory operand). */
/* Every form, in order; S: compiled per operand size, A: once. */
#define FOP_LIST(S, A) \
	A(GENERIC) S(MOV_EG) S(MOV_GE) S(LEA) S(ALU_EG) S(ALU_GE) S(ALU_AI) \
	S(TEST_EG) S(TEST_AI) S(GRP1) S(SHIFT) A(JCC) S(MOVZX) S(MOVSX) \
	S(CMOV) S(IMUL) S(IMUL_I) A(INCDEC_R) S(INCDEC_E) S(GRP3) S(MOV_EI) \
	S(SETCC) S(MOV_RI) \
	/* 64-bit code only from here on (blk_fop): */ \
	A(PUSH) A(POP) S(MOVSXD) A(CALL) A(RET) A(JMP)
#define FOP_ENUM(x) FOP_##x,
enum { FOP_LIST(FOP_ENUM, FOP_ENUM) FOP_COUNT };
#undef FOP_ENUM
#define FOP_FORM(f) ((f) / 6)
#define FOP_SIZE(f) ((f) / 2 % 3 == 2 ? 8u : (f) / 2 % 3 == 1 ? 4u : 1u)
#define FOP_MEM(f)  ((f) & 1)
/* The form of an instruction by its opcode alone (FOP_GENERIC when it
 * has none); blk_fop adds what the block cache's short paths accept. */
uint8_t fop_form(const struct insn *i);
/* Instructions per block at most. */
#define TR_MAX_INSNS 32

static inline uint64_t reg_get(struct x86 *c, const struct insn *i,
			       unsigned r, unsigned size)
{
	if (size == 1) {
		if (r >= 4 && r < 8 && !i->rex_present)
			return (c->r[r - 4] >> 8) & 0xff;
		return c->r[r] & 0xff;
	}
	return c->r[r] & szmask(size);
}

static inline void reg_set(struct x86 *c, const struct insn *i, unsigned r,
			   unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		if (r >= 4 && r < 8 && !i->rex_present)
			c->r[r - 4] = (c->r[r - 4] & ~0xff00ull) |
				      ((v & 0xff) << 8);
		else
			c->r[r] = (c->r[r] & ~0xffull) | (v & 0xff);
		break;
	case 2:
		c->r[r] = (c->r[r] & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		c->r[r] = v & 0xffffffffull;    /* zero-extends in 64-bit */
		break;
	default:
		c->r[r] = v;
	}
}

/* ModRM and what follows it up to the immediates, from the bytes. */
void decode_modrm_bytes(struct x86 *c, struct insn *i);

/* Decode the ModRM operand; its effective address from the decoded form
 * (the cache's, on a hit) and today's registers. */
static inline void decode_modrm(struct x86 *c, struct insn *i)
{
	uint64_t ea;

	if (!i->replay)
		decode_modrm_bytes(c, i);
	if (!i->mem)
		return;
	ea = (uint64_t)(int64_t)i->ea_disp;
	if (i->ea_base >= 0)
		ea += c->r[i->ea_base];
	if (i->ea_index >= 0)
		ea += c->r[i->ea_index] << i->ea_scale;
	if (i->asize == 2)
		ea &= 0xffff;
	i->ea = ea;
}

/* Called once all immediates are fetched: RIP-relative needs the end. */
static inline void decode_finish(struct x86 *c, struct insn *i)
{
	if (i->riprel)
		i->ea += c->rip + i->len;
	i->ea &= szmask(i->asize);
}

uint64_t fetch_imm(struct x86 *c, struct insn *i, unsigned size);

/* The ModRM operand E: registers and plain memory inline, LOCKed
 * read-modify-writes (and a LOCK without memory) in the _slow forms. */
uint64_t e_read_slow(struct x86 *c, struct insn *i, unsigned size);
void e_write_slow(struct x86 *c, struct insn *i, unsigned size, uint64_t v);

static inline uint64_t e_read(struct x86 *c, struct insn *i, unsigned size)
{
	if (!i->mem && !i->lock)
		return reg_get(c, i, i->rm, size);
	if (i->mem && !i->atomic)
		return x86_read(c, i->ea_seg, i->ea, size);
	return e_read_slow(c, i, size);
}

static inline void e_write(struct x86 *c, struct insn *i, unsigned size,
			   uint64_t v)
{
	if (!i->mem)
		reg_set(c, i, i->rm, size, v);
	else if (!i->atomic_host)
		x86_write(c, i->ea_seg, i->ea, v & szmask(size), size);
	else
		e_write_slow(c, i, size, v);
}
bool cond(const struct x86 *c, unsigned cc);
void jump_near(struct x86 *c, struct insn *i, uint64_t target);
void io_check(struct x86 *c, uint16_t port, unsigned size);
uint64_t port_in(struct x86 *c, uint16_t port, unsigned size);
void port_out(struct x86 *c, uint16_t port, unsigned size, uint64_t v);
_Noreturn void undefined(struct x86 *c, struct insn *i);
void exec_group5(struct x86 *c, struct insn *i);
bool lock_ok(const struct insn *i);

void exec_twobyte(struct x86 *c, struct insn *i);     /* twobyte.c */
void exec_string(struct x86 *c, struct insn *i);      /* string.c */
void exec_fpu(struct x86 *c, struct insn *i);         /* fpu.c */
void exec_fwait(struct x86 *c);
bool exec_sse(struct x86 *c, struct insn *i);         /* sse.c */
bool exec_mxcsr(struct x86 *c, struct insn *i);
uint32_t sse_mxcsr_mask(void);

#endif
