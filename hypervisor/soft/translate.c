/*
 * Translation of cached blocks of 64-bit guest code to host code.
 *
 * The host is x86-64 too, so each short-path form (FOP_*, exec.h) becomes
 * the same host instruction on the guest's operands: guest registers
 * stay in struct x86 (rbx points at it) and are used as memory operands,
 * guest memory is reached through the TLB's host pointers with the same
 * one-compare check the interpreter inlines, and the arithmetic flags
 * are the host instruction's own.  Anything else in a block (and the
 * slow path of every memory access) calls back into the interpreter, so
 * a translated block does exactly what blk_run would do with it.  The
 * design and its reasons: docs/soft-cpu-translation.md.
 *
 * Host registers inside a block: rbx the CPU, r12 the scratch struct
 * insn, r13 the TLB's entries, r14 the block's code page in host memory
 * (for stores into it), rbp a memory operand's offset (kept across calls
 * into the interpreter), r11 the pending flags.  rsi, rdi and r8-r10
 * hold the guest registers the block uses most (loaded at its start,
 * stored back before anything outside the block may look: exits, calls
 * into C).  rax and rcx are temporaries; rdx holds a memory operand's
 * host address between the TLB check and the access.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hypervisor/soft/translate.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
       R8, R9, R10, R11, R12, R13, R14, R15 };

/* ---- the code buffer ---- */

/* Per host thread (blocks and the TLB are per thread too), mapped twice
 * from one memfd: written through wr, run through rx. */
#define TR_BUF_SIZE (16u << 20)
static __thread uint8_t *tr_wr, *tr_rx;
static __thread size_t tr_used, tr_cold_used;
/* Code that rarely runs (slow paths, unpatched exits) goes to the last
 * quarter, so the rest holds the hot paths back to back. */
#define TR_HOT_SIZE (TR_BUF_SIZE / 4 * 3)
__thread uint32_t tr_gen = 1;
static pthread_key_t tr_key;
static pthread_once_t tr_key_once = PTHREAD_ONCE_INIT;

/* The jump cache: chain entries of recent targets of exits that go to
 * an address known only when they run (returns, indirect branches) or
 * to another page, probed inline before tr_lookup (emit_jc_probe). */
struct tr_jc {
	uint64_t key;           /* tr_jc_key; 0: empty */
	void *chain;
};
#define TR_JC_SIZE 4096
static __thread struct tr_jc *tr_jc;

/* Linear addresses are 48 bits (canonical, 4-level paging) or 32 bits,
 * so the key's low nine bits are free for the state a translation is
 * made for, and in 16-bit code (32-bit linear addresses) the bits from
 * 41 for CS's base (below TRM_CSBASE_MAX). */
#define TR_JC_SHIFT 9
static uint64_t tr_jc_bits(bool user, bool a20, uint8_t mode,
			   uint32_t csbase)
{
	return (uint64_t)csbase << 41 | (uint64_t)(mode & 63) << 2 |
	       (user ? 2 : 0) | (a20 ? 1 : 0);
}

static uint64_t tr_jc_key(uint64_t lin, bool user, bool a20, uint8_t mode,
			  uint32_t csbase)
{
	return lin << TR_JC_SHIFT | tr_jc_bits(user, a20, mode, csbase);
}

static unsigned tr_jc_index(uint64_t lin)
{
	return (unsigned)((lin ^ (lin >> 12)) & (TR_JC_SIZE - 1));
}

void tr_jc_fill(uint64_t lin, bool user, bool a20, uint8_t mode,
		uint32_t csbase, void *chain)
{
	if (tr_jc)
		tr_jc[tr_jc_index(lin)] = (struct tr_jc){
			tr_jc_key(lin, user, a20, mode, csbase), chain };
}

static void tr_buf_free(void *unused)
{
	(void)unused;
	free(tr_jc);
	tr_jc = NULL;
	if (tr_wr) {
		munmap(tr_wr, TR_BUF_SIZE);
		if (tr_rx != tr_wr)
			munmap(tr_rx, TR_BUF_SIZE);
		tr_wr = tr_rx = NULL;
	}
}

static void tr_key_make(void)
{
	if (pthread_key_create(&tr_key, tr_buf_free) != 0)
		abort();
}

/* The start of the buffer: tr_enter's code, kept when it fills. */
#define TR_ENTER_SIZE 64
static __thread uint64_t (*tr_enter_code)(struct x86 *c, struct insn *i,
					  void *chain);
static void tr_enter_emit(void);

static bool tr_buf_init(void)
{
	static bool warned;
	int fd;

	if (tr_wr)
		return true;
	/* Measuring aid: one mapping, writable and executable, so that
	 * valgrind --smc-check=all sees the jumps tr_patch rewrites (it
	 * cannot tell that two mappings share pages). */
	if (getenv("HVMD_SOFT_TRANSLATE_RWX")) {
		tr_wr = mmap(NULL, TR_BUF_SIZE, PROT_READ | PROT_WRITE |
			     PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (tr_wr == MAP_FAILED) {
			tr_wr = NULL;
			goto fail;
		}
		tr_rx = tr_wr;
		goto mapped;
	}
	fd = memfd_create("hvmd-soft-code", MFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (ftruncate(fd, TR_BUF_SIZE) != 0) {
		close(fd);
		goto fail;
	}
	tr_wr = mmap(NULL, TR_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     fd, 0);
	tr_rx = mmap(NULL, TR_BUF_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED,
		     fd, 0);
	close(fd);
	if (tr_wr == MAP_FAILED || tr_rx == MAP_FAILED) {
		if (tr_wr != MAP_FAILED)
			munmap(tr_wr, TR_BUF_SIZE);
		if (tr_rx != MAP_FAILED)
			munmap(tr_rx, TR_BUF_SIZE);
		tr_wr = tr_rx = NULL;
		goto fail;
	}
mapped:
	tr_jc = calloc(TR_JC_SIZE, sizeof(*tr_jc));
	if (!tr_jc) {
		tr_buf_free(NULL);
		goto fail;
	}
	pthread_once(&tr_key_once, tr_key_make);
	pthread_setspecific(tr_key, tr_wr);
	tr_enter_emit();
	tr_cold_used = TR_HOT_SIZE;
	return true;
fail:
	if (!warned) {
		warned = true;
		fprintf(stderr, "soft: no code buffer for translation (%m); "
			"interpreting only\n");
	}
	return false;
}

/* ---- the emitter ---- */

struct em {
	uint8_t *p, *end;       /* in the writable view */
	bool full;
};

static void b1(struct em *e, unsigned v)
{
	if (e->p < e->end)
		*e->p++ = (uint8_t)v;
	else
		e->full = true;
}

static void b4(struct em *e, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		b1(e, v >> (8 * k));
}

/* An immediate of an operation of size bytes (at most 4 of them). */
static void imm(struct em *e, unsigned size, uint64_t v)
{
	b1(e, (uint8_t)v);
	if (size >= 2)
		b1(e, (uint8_t)(v >> 8));
	if (size >= 4) {
		b1(e, (uint8_t)(v >> 16));
		b1(e, (uint8_t)(v >> 24));
	}
}

static void b8(struct em *e, uint64_t v)
{
	b4(e, (uint32_t)v);
	b4(e, (uint32_t)(v >> 32));
}

/* An operand: a host register, or memory at base + index * 2^scale +
 * disp. */
struct mref {
	bool direct;
	int8_t base, index;
	uint8_t scale;
	int32_t disp;
};

static struct mref reg(int r)
{
	return (struct mref){ .direct = true, .base = (int8_t)r, .index = -1 };
}

static struct mref mem(int base, int32_t disp)
{
	return (struct mref){ .base = (int8_t)base, .index = -1, .disp = disp };
}

/* The guest state in struct x86 (rbx). */
#define XOFF(field) ((int32_t)offsetof(struct x86, field))
static struct mref xm(int32_t off)
{
	return mem(RBX, off);
}

/* Prefixes, opcode (opc_len bytes, most significant first), ModRM with
 * the reg field r (a register or an opcode extension), SIB and
 * displacement.  size: the operand size (2 adds 66, 8 REX.W). */
static void op_rm(struct em *e, unsigned size, uint32_t opc, int opc_len,
		  int r, struct mref m)
{
	unsigned rex = 0;

	if (size == 2)
		b1(e, 0x66);
	if (size == 8)
		rex |= 8;
	if (r & 8)
		rex |= 4;
	if (!m.direct && m.index >= 0 && (m.index & 8))
		rex |= 2;
	if (m.base & 8)
		rex |= 1;
	/* A byte operand in host registers 4-7 would be AH-BH without a
	 * REX: the emitter never uses those as byte registers. */
	if (rex)
		b1(e, 0x40 | rex);
	for (int k = opc_len - 1; k >= 0; k--)
		b1(e, opc >> (8 * k));
	if (m.direct) {
		b1(e, 0xc0 | ((r & 7) << 3) | (m.base & 7));
		return;
	}
	unsigned mod = m.disp == 0 && (m.base & 7) != RBP ? 0 :
		       m.disp >= -128 && m.disp <= 127 ? 1 : 2;
	if (m.index >= 0 || (m.base & 7) == RSP) {
		b1(e, (mod << 6) | ((r & 7) << 3) | 4);
		b1(e, (m.scale << 6) |
		      ((m.index >= 0 ? m.index & 7 : RSP) << 3) | (m.base & 7));
	} else {
		b1(e, (mod << 6) | ((r & 7) << 3) | (m.base & 7));
	}
	if (mod == 1)
		b1(e, (uint8_t)m.disp);
	else if (mod == 2)
		b4(e, (uint32_t)m.disp);
}

/* Opcodes whose byte form is one less than the others (MOV, ALU, TEST
 * ...): pick by size. */
static void op_sz(struct em *e, unsigned size, uint32_t opc, int r,
		  struct mref m)
{
	op_rm(e, size, size == 1 ? opc - 1 : opc, 1, r, m);
}

static bool fits32(int64_t v)
{
	return v == (int32_t)v;
}

/* mov r64, imm (the shortest form that zero- or sign-extends right). */
static void mov_ri(struct em *e, int r, uint64_t v)
{
	if (v <= 0xffffffffull) {
		if (r & 8)
			b1(e, 0x41);
		b1(e, 0xb8 + (r & 7));
		b4(e, (uint32_t)v);
	} else if (fits32((int64_t)v)) {
		op_rm(e, 8, 0xc7, 1, 0, reg(r));
		b4(e, (uint32_t)v);
	} else {
		b1(e, 0x48 | (r & 8 ? 1 : 0));
		b1(e, 0xb8 + (r & 7));
		b8(e, v);
	}
}

/* mov qword m, imm. */
static void mov_mi64(struct em *e, struct mref m, uint64_t v)
{
	if (fits32((int64_t)v)) {
		op_rm(e, 8, 0xc7, 1, 0, m);
		b4(e, (uint32_t)v);
	} else {
		mov_ri(e, RAX, v);
		op_rm(e, 8, 0x89, 1, RAX, m);
	}
}

/* Load size bytes of m into r, zero-extended. */
static void load(struct em *e, int r, unsigned size, struct mref m)
{
	switch (size) {
	case 1: op_rm(e, 4, 0x0fb6, 2, r, m); break;
	case 2: op_rm(e, 4, 0x0fb7, 2, r, m); break;
	case 4: op_rm(e, 4, 0x8b, 1, r, m); break;
	default: op_rm(e, 8, 0x8b, 1, r, m); break;
	}
}

static void store(struct em *e, unsigned size, struct mref m, int r)
{
	op_sz(e, size, 0x89, r, m);
}

static void call_abs(struct em *e, const void *fn)
{
	mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
	b1(e, 0xff);
	b1(e, 0xd0);            /* call rax */
}

/* Jumps within the block: a rel32 to patch once the target is known. */
static uint8_t *jcc_fwd(struct em *e, unsigned cc)
{
	b1(e, 0x0f);
	b1(e, 0x80 | cc);
	b4(e, 0);
	return e->p;
}

static uint8_t *jmp_fwd(struct em *e)
{
	b1(e, 0xe9);
	b4(e, 0);
	return e->p;
}

/* Point the jump whose rel32 ends at after to here. */
static void land(struct em *e, uint8_t *after)
{
	int32_t rel = (int32_t)(e->p - after);

	if (!e->full)
		memcpy(after - 4, &rel, 4);
}

static void jmp_to(struct em *e, const uint8_t *target)
{
	b1(e, 0xe9);
	b4(e, (uint32_t)(int32_t)(target - (e->p + 4)));
}

static void jcc_to(struct em *e, unsigned cc, const uint8_t *target)
{
	b1(e, 0x0f);
	b1(e, 0x80 | cc);
	b4(e, (uint32_t)(int32_t)(target - (e->p + 4)));
}

/* Forms of the translator's own, beyond the block cache's short paths:
 * instructions that do nothing (90, 0f 1f), BSWAP, and JMP and CALL
 * through a register (CALL) or memory too (JMP). */
#define TR_NOP   0xff
#define TR_BSWAP 0xfe
#define TR_JMPI  0xfd
#define TR_CALLI 0xfc

enum { CC_O, CC_NO, CC_B, CC_AE, CC_Z, CC_NZ, CC_BE, CC_A,
       CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

/* ---- per block ---- */

struct tr {
	struct em e;            /* where code goes now */
	struct em cold;         /* the other section (cold while hot) */
	bool in_cold;
	const struct tr_block *b;
	bool pend;              /* flags pending in r11 (emit_flags) */
	uint32_t pend_keep;
	uint8_t *epilogue;      /* returns rax to the caller */
	uint8_t *entry, *chain;
	/* Per instruction: its rip (the linear address less CS's base in
	 * 16-bit code), and whether the arithmetic flags it writes must
	 * reach c->flags. */
	uint64_t ip[TR_MAX_INSNS + 1];
	bool flags_live[TR_MAX_INSNS];
	/* The form translated: the recorded one, or FOP_GENERIC for the
	 * corner cases left to the interpreter. */
	uint8_t form[TR_MAX_INSNS], size[TR_MAX_INSNS];
	const struct insn *generic[TR_MAX_INSNS];       /* copies, run view */
};

/* 32-bit flat or 16-bit code, not 64-bit. */
static bool not64(const struct tr *t)
{
	return t->b->mode != TRM_64;
}

static bool is16(const struct tr *t)
{
	return t->b->mode & TRM_SEG16;
}

/* What rip wraps at in near branches of the code's own size. */
static uint64_t ip_mask(const struct tr *t)
{
	return is16(t) ? 0xffffull : not64(t) ? 0xffffffffull : ~0ull;
}

/* The bits of a TLB tag besides the page (fast[] tags: A20 masked,
 * paging off; a code tag adds the valid bit 1). */
static unsigned tag_bits(const struct tr *t)
{
	return (t->b->a20 ? 0 : 4) | (t->b->mode & TRM_NOPG ? 2 : 0);
}

/* 32-bit or 16-bit code: accesses through seg may take the inline path
 * (16-bit: with its base from struct x86 and a 64 KiB limit check). */
static bool seg_flat(const struct tr *t, int seg)
{
	unsigned m = t->b->mode;

	return seg == S_DS ? m & TRM_DS : seg == S_ES ? m & TRM_ES :
	       seg == S_SS ? m & TRM_SS : false;
}

/* Stack slots, return addresses and near branch targets: 4 bytes in
 * 32-bit code. */
static unsigned stack_size(const struct tr *t)
{
	return is16(t) ? 2 : not64(t) ? 4 : 8;
}

/* Emit into the cold section from now on (or back into the hot one). */
static void swap_section(struct tr *t)
{
	struct em tmp = t->e;

	t->e = t->cold;
	t->cold = tmp;
	t->in_cold = !t->in_cold;
}

/* The host registers that hold guest registers in a block, and which
 * one holds each guest register (-1: none) while a block is emitted
 * (regcache_plan): only registers the block uses with 32- or 64-bit
 * operands, so the host register's full value is the guest's. */
static const int8_t cache_hosts[] = { RSI, RDI, R8, R9, R10 };
#define NCACHE ((int)sizeof(cache_hosts))
static __thread int8_t cached[16];
static __thread bool cached_written[16];        /* by some instruction */

/* The guest register r as an operand of size bytes (AH-BH where the
 * instruction says so). */
static struct mref greg(const struct insn *s, unsigned r, unsigned size)
{
	if (cached[r & 15] >= 0)
		return reg(cached[r & 15]);
	if (size == 1 && r >= 4 && r < 8 && !s->rex_present)
		return xm(XOFF(r) + 8 * (int32_t)(r - 4) + 1);
	return xm(XOFF(r) + 8 * (int32_t)r);
}

/* All 64 bits of guest register r. */
static struct mref greg64(unsigned r)
{
	if (cached[r & 15] >= 0)
		return reg(cached[r & 15]);
	return xm(XOFF(r) + 8 * (int32_t)r);
}

/* Cached guest registers back to struct x86 (the ones the block
 * writes), before code outside the block may read them. */
static void cache_store(struct em *e)
{
	for (int r = 0; r < 16; r++)
		if (cached[r] >= 0 && cached_written[r])
			store(e, 8, xm(XOFF(r) + 8 * r), cached[r]);
}

/* ... and from it: at the block's start, after calls into C. */
static void cache_load(struct em *e)
{
	for (int r = 0; r < 16; r++)
		if (cached[r] >= 0)
			load(e, cached[r], 8, xm(XOFF(r) + 8 * r));
}

/* Store host register r into the guest register g written with size
 * bytes: 32-bit writes zero-extend (the host register already is). */
static void store_greg(struct em *e, const struct insn *s, unsigned g,
		       unsigned size, int r)
{
	store(e, size == 4 ? 8 : size, greg(s, g, size), r);
}

/* Write rax to the E operand: memory at loc, or the ModRM register. */
static void store_e(struct em *e, const struct insn *s, bool memop,
		    struct mref loc, unsigned sz)
{
	if (memop)
		store(e, sz, loc, RAX);
	else
		store_greg(e, s, s->rm, sz, RAX);
}

/* Leave the block after instruction k (flags: TR_DONE when it set rip
 * itself): rip, the last instruction's address, and the count of
 * instructions completed since the caller called (r15 before this
 * block's).  With lookup, first try the translated block at rip through
 * tr_lookup (returns, other pages). */
static void flags_merge(struct tr *t);
static void flags_sync(struct tr *t);
static void flags_hand_on(struct tr *t);

#define FL_ARITH 0x8d5u
#define FL_LOGIC 0x8c5u         /* AF cleared, as alu_logic does */

/* r11's arithmetic bits (all exact, as chained blocks hand them on)
 * into c->flags. */
static void merge_exact(struct em *e)
{
	op_rm(e, 4, 0x81, 1, 4, reg(R11));              /* and r11d, arith */
	b4(e, FL_ARITH);
	op_rm(e, 8, 0x81, 1, 4, xm(XOFF(flags)));       /* and [fl], ~arith */
	b4(e, ~FL_ARITH);
	op_rm(e, 8, 0x09, 1, R11, xm(XOFF(flags)));     /* or [fl], r11 */
}

/* How an exit goes on: back to the caller, through tr_lookup, or
 * through a jump patched by tr_chain_miss. */
enum exit_how { EXIT_PLAIN, EXIT_LOOKUP, EXIT_CHAIN };

/* With rcx a code page's TLB tag and ent its entry (disp unused): jumps
 * (stored at out, their number returned, at most three) taken unless the
 * entry is that page's and lets this block's privilege level run code
 * there. */
static unsigned emit_code_tlb(struct tr *t, struct mref ent, uint8_t **out)
{
	struct em *e = &t->e;
	unsigned n = 0;

	ent.disp = (int32_t)offsetof(struct tlb_entry, vpage);
	op_rm(e, 8, 0x3b, 1, RCX, ent);
	out[n++] = jcc_fwd(e, CC_NZ);
	ent.disp = (int32_t)offsetof(struct tlb_entry, exec);
	op_rm(e, 1, 0x80, 1, 7, ent);                   /* cmp byte, 0 */
	b1(e, 0);
	out[n++] = jcc_fwd(e, CC_Z);
	if (t->b->user) {
		ent.disp = (int32_t)offsetof(struct tlb_entry, user);
		op_rm(e, 1, 0x80, 1, 7, ent);
		b1(e, 0);
		out[n++] = jcc_fwd(e, CC_Z);
	}
	return n;
}

/*
 * The jump to the target in rax through the jump cache: its chain entry
 * when the cache has it for this privilege level and A20 state, with
 * r14 (and c->blk_code) the target's code page from the TLB when that
 * is another page and the TLB lets it run there.  Else on at the end of
 * what this emits (rax kept), for tr_lookup.
 */
static void emit_jc_probe(struct tr *t)
{
	struct em *e = &t->e;
	const struct tr_block *b = t->b;
	uint8_t *miss[6], *same;
	unsigned nmiss = 0;
	struct mref ent = { .base = R13, .index = RDI };
	struct mref jc = { .base = RSI, .index = RDX };
	uint64_t bits = tr_jc_bits(b->user, b->a20, b->mode, b->csbase);

	/* rip to the linear address (back at the misses). */
	if (b->csbase) {
		op_rm(e, 8, 0x81, 1, 0, reg(RAX));      /* add rax, base */
		b4(e, b->csbase);
	}
	op_rm(e, 8, 0x8b, 1, RCX, reg(RAX));            /* key */
	op_rm(e, 8, 0xc1, 1, 4, reg(RCX));              /* shl rcx, 9 */
	b1(e, TR_JC_SHIFT);
	if (bits > 0x7f) {
		mov_ri(e, RDX, bits);
		op_rm(e, 8, 0x09, 1, RDX, reg(RCX));    /* or rcx, rdx */
	} else if (bits) {
		op_rm(e, 8, 0x83, 1, 1, reg(RCX));      /* or rcx, bits */
		b1(e, (unsigned)bits);
	}
	op_rm(e, 8, 0x8b, 1, RDX, reg(RAX));            /* index * 16 */
	op_rm(e, 8, 0xc1, 1, 5, reg(RDX));              /* shr rdx, 12 */
	b1(e, 12);
	op_rm(e, 8, 0x33, 1, RDX, reg(RAX));            /* xor rdx, rax */
	op_rm(e, 4, 0x81, 1, 4, reg(RDX));              /* and edx, ... */
	b4(e, TR_JC_SIZE - 1);
	op_rm(e, 4, 0xc1, 1, 4, reg(RDX));              /* shl edx, 4 */
	b1(e, 4);
	mov_ri(e, RSI, (uint64_t)(uintptr_t)tr_jc);
	op_rm(e, 8, 0x3b, 1, RCX, jc);                  /* cmp rcx, key */
	miss[nmiss++] = jcc_fwd(e, CC_NZ);
	/* The target's page: this block's, or one the TLB may run. */
	op_rm(e, 8, 0x8b, 1, RCX, reg(RAX));
	op_rm(e, 8, 0x81, 1, 4, reg(RCX));              /* and rcx, -4096 */
	b4(e, 0xfffff000u);
	mov_ri(e, RDI, b->lin & ~0xfffull);
	op_rm(e, 8, 0x3b, 1, RCX, reg(RDI));
	same = jcc_fwd(e, CC_Z);
	op_rm(e, 8, 0x8b, 1, RDI, reg(RAX));
	op_rm(e, 8, 0xc1, 1, 5, reg(RDI));              /* shr rdi, 6 */
	b1(e, 6);
	op_rm(e, 4, 0x81, 1, 4, reg(RDI));              /* and edi, ... */
	b4(e, (TLB_SIZE - 1) << 6);
	op_rm(e, 8, 0x83, 1, 1, reg(RCX));              /* or rcx, tag */
	b1(e, 1 | tag_bits(t));
	nmiss += emit_code_tlb(t, ent, miss + nmiss);
	ent.disp = (int32_t)offsetof(struct tlb_entry, addend);
	op_rm(e, 8, 0x8b, 1, RCX, reg(RAX));            /* the page's host */
	op_rm(e, 8, 0x81, 1, 4, reg(RCX));              /* address: page */
	b4(e, 0xfffff000u);
	op_rm(e, 8, 0x03, 1, RCX, ent);                 /* + addend, NULL */
	miss[nmiss++] = jcc_fwd(e, CC_Z);
	op_rm(e, 8, 0x8b, 1, R14, reg(RCX));
	store(e, 8, xm(XOFF(blk_code)), R14);
	land(e, same);
	jc.disp = 8;
	op_rm(e, 4, 0xff, 1, 4, jc);                    /* jmp [chain] */
	for (unsigned k = 0; k < nmiss; k++)
		land(e, miss[k]);
	if (b->csbase) {
		op_rm(e, 8, 0x81, 1, 5, reg(RAX));      /* sub rax, base */
		b4(e, b->csbase);
	}
}

static void emit_exit_to(struct tr *t, unsigned k, uint64_t rip,
			 bool rip_set, unsigned flags, enum exit_how how)
{
	struct em *e = &t->e;
	uint8_t *out, *site = NULL;

	cache_store(e);
	if (how != EXIT_PLAIN)
		flags_hand_on(t);
	else
		flags_merge(t);
	op_rm(e, 8, 0x83, 1, 0, reg(R15));              /* add r15, k + 1 */
	b1(e, k + 1);
	if (how == EXIT_LOOKUP) {
		if (!rip_set)
			mov_ri(e, RAX, rip);
		emit_jc_probe(t);
		merge_exact(e);
	}
	bool to_cold = how == EXIT_CHAIN && !t->in_cold;

	if (how == EXIT_CHAIN) {
		/* A jump, patched later; until then to the rest, cold. */
		site = jmp_fwd(e);
		if (to_cold)
			swap_section(t);
		land(e, site);
		merge_exact(e);
	}
	if (!rip_set)
		mov_mi64(e, xm(XOFF(rip)), rip);
	mov_mi64(e, xm(XOFF(insn_rip)), t->ip[k]);
	if (how == EXIT_LOOKUP) {
		op_rm(e, 8, 0x8b, 1, RDI, reg(RBX));
		call_abs(e, (const void *)tr_lookup);
	} else if (how == EXIT_CHAIN) {
		op_rm(e, 8, 0x8b, 1, RDI, reg(RBX));
		mov_ri(e, RSI, (uint64_t)(uintptr_t)(tr_rx + (site - tr_wr)));
		call_abs(e, (const void *)tr_chain_miss);
	}
	if (how != EXIT_PLAIN) {
		op_rm(e, 8, 0x85, 1, RAX, reg(RAX));
		out = jcc_fwd(e, CC_Z);
		load(e, R11, 8, xm(XOFF(flags)));       /* see flags_merge */
		load(e, R14, 8, xm(XOFF(blk_code)));
		b1(e, 0xff);
		b1(e, 0xe0);                            /* jmp rax */
		land(e, out);
	}
	op_rm(e, 4, 0x8b, 1, RAX, reg(R15));
	op_rm(e, 4, 0x81, 1, 1, reg(RAX));                      /* or */
	b4(e, flags);
	jmp_to(e, t->epilogue);
	if (to_cold)
		swap_section(t);
}

static void emit_exit(struct tr *t, unsigned k, uint64_t rip, bool rip_set,
		      unsigned flags)
{
	emit_exit_to(t, k, rip, rip_set, flags, EXIT_PLAIN);
}

/* Leave the block after instruction k for the constant rip, which other
 * translated code may follow.  In the same page (and so the same mode),
 * through a jump that tr_chain_miss patches to the next block's checked
 * entry once that block is translated; elsewhere through tr_lookup. */
static void emit_chain_exit(struct tr *t, unsigned k, uint64_t rip,
			    unsigned flags)
{
	emit_exit_to(t, k, rip, false, flags,
		     ((rip + t->b->csbase) & ~0xfffull) ==
		     (t->b->lin & ~0xfffull) ? EXIT_CHAIN : EXIT_LOOKUP);
}

/* Before anything in instruction k that may fault: what the fault path
 * (x86_run: blk_completed, step_fault) needs to find it. */
static void emit_fault_point(struct tr *t, unsigned k)
{
	struct em *e = &t->e;

	mov_mi64(e, xm(XOFF(insn_rip)), t->ip[k]);
	load(e, RAX, 8, xm(XOFF(r) + 8 * R_SP));
	store(e, 8, xm(XOFF(saved_sp)), RAX);
	load(e, RAX, 8, xm(XOFF(flags)));               /* merged already */
	store(e, 8, xm(XOFF(saved_flags)), RAX);
	op_rm(e, 4, 0x8d, 1, RAX, mem(R15, (int32_t)k));
	store(e, 4, xm(XOFF(tr_count)), RAX);
}

static void emit_raise_gp0(struct tr *t, unsigned k)
{
	struct em *e = &t->e;

	cache_store(e);
	flags_merge(t);
	emit_fault_point(t, k);
	op_rm(e, 8, 0x8b, 1, RDI, reg(RBX));    /* mov rdi, rbx */
	mov_ri(e, RSI, X86_GP);
	mov_ri(e, RDX, 0);
	call_abs(e, (const void *)x86_raise);
}


/*
 * The arithmetic flags.  A host instruction that writes all six leaves
 * them in r11 (pushfq; pop r11): "pending", with the bits to keep
 * (AF is cleared after logical operations).  They reach c->flags only
 * where something outside this code may look (calls into C, exits to
 * the caller); conditions and carry-ins read r11 while they are
 * pending.  Between translated blocks they stay in r11 too: a block
 * starts with them pending (its entry from C loads r11), and a chained
 * exit leaves them there with every bit exact.  t->pend is the state at
 * the point being emitted.
 */
static void flags_merge(struct tr *t)
{
	struct em *e = &t->e;

	if (!t->pend)
		return;
	op_rm(e, 4, 0x81, 1, 4, reg(R11));              /* and r11d, keep */
	b4(e, t->pend_keep);
	op_rm(e, 8, 0x81, 1, 4, xm(XOFF(flags)));       /* and [fl], ~arith */
	b4(e, ~0x8d5u);
	op_rm(e, 8, 0x09, 1, R11, xm(XOFF(flags)));     /* or [fl], r11 */
}

static void flags_sync(struct tr *t)
{
	flags_merge(t);
	t->pend = false;
}

/* Pending from here on: r11 from c->flags when they are not. */
static void flags_pend(struct tr *t)
{
	if (t->pend)
		return;
	load(&t->e, R11, 8, xm(XOFF(flags)));
	t->pend = true;
	t->pend_keep = FL_ARITH;
}

/* What a chained exit hands the next block: r11 with its arithmetic
 * bits exact. */
static void flags_hand_on(struct tr *t)
{
	if (!t->pend) {
		load(&t->e, R11, 8, xm(XOFF(flags)));
	} else if (t->pend_keep != FL_ARITH) {
		op_rm(&t->e, 4, 0x81, 1, 4, reg(R11));  /* and r11d, keep */
		b4(&t->e, t->pend_keep | ~FL_ARITH);
	}
}

/* bt on the guest's CF, for ADC, SBB, RCL and RCR. */
static void emit_cf_in(struct tr *t)
{
	struct em *e = &t->e;

	op_rm(e, 4, 0x0fba, 2, 4, t->pend ? reg(R11) : xm(XOFF(flags)));
	b1(e, 0);
}

/* Right after the host instruction of instruction k: its flags, if a
 * later one may read them.  Writers of all six go pending; partial ones
 * (keep: the bits they write, FL_LOGIC for all six with AF cleared)
 * merge into the pending ones. */
static void emit_flags(struct tr *t, unsigned k, uint32_t keep, bool all)
{
	struct em *e = &t->e;
	uint32_t bits = keep == FL_LOGIC ? FL_ARITH : keep;

	if (!t->flags_live[k])
		return;
	b1(e, 0x9c);                                    /* pushfq */
	if (all) {
		b1(e, 0x41);
		b1(e, 0x58 + (R11 & 7));                /* pop r11 */
		t->pend = true;
		t->pend_keep = keep;
		return;
	}
	b1(e, 0x58 + RCX);                              /* pop rcx */
	flags_pend(t);
	op_rm(e, 4, 0x81, 1, 4, reg(RCX));              /* and ecx, keep */
	b4(e, keep);
	op_rm(e, 4, 0x81, 1, 4, reg(R11));              /* and r11d, ~bits */
	b4(e, ~bits);
	op_rm(e, 4, 0x09, 1, RCX, reg(R11));            /* or r11d, ecx */
	t->pend_keep |= bits;
}

/* Test the guest's condition cc (its even form) on c->flags: afterwards
 * the host's NZ means it holds.  Returns the host cc for cc itself. */
static unsigned emit_cond(struct tr *t, unsigned cc)
{
	static const uint8_t bit[6] = { 0, 0x01, 0x40, 0x41, 0x80, 0x04 };
	struct em *e = &t->e;
	struct mref fl = t->pend ? reg(R11) : xm(XOFF(flags));
	unsigned base = (cc >> 1) & 7;

	if (base == 0) {
		op_rm(e, 4, 0xf7, 1, 0, fl);                /* test OF */
		b4(e, 0x800);
	} else if (base < 6) {
		op_rm(e, 1, 0xf6, 1, 0, fl);
		b1(e, bit[base]);
	} else {
		/* SF != OF (and for LE, or ZF) */
		load(e, RAX, 4, fl);
		op_rm(e, 4, 0x8b, 1, RCX, reg(RAX));        /* mov ecx, eax */
		op_rm(e, 4, 0xc1, 1, 5, reg(RCX));          /* shr ecx, 4 */
		b1(e, 4);
		op_rm(e, 4, 0x31, 1, RAX, reg(RCX));        /* xor ecx, eax */
		op_rm(e, 4, 0x81, 1, 4, reg(RCX));          /* and ecx, 0x80 */
		b4(e, 0x80);
		if (base == 7) {
			op_rm(e, 4, 0x81, 1, 4, reg(RAX));  /* and eax, 0x40 */
			b4(e, 0x40);
			op_rm(e, 4, 0x09, 1, RAX, reg(RCX)); /* or ecx, eax */
		}
	}
	return cc & 1 ? CC_Z : CC_NZ;
}

/* The immediate of forms with one: sign-extended from 8 bits (imm8
 * forms) or from 32 (64-bit operands), truncated to the size. */
static uint64_t imm_of(const struct insn *s, unsigned size, bool imm8)
{
	uint64_t v = imm8 ? sext(s->imm[0], 1) :
		     size == 8 ? sext(s->imm[0], 4) : s->imm[0];

	return v & szmask(size);
}

/* IMUL r, E, imm (6B: imm8, 69: full size) into host register r. */
static void emit_imul_i(struct em *e, const struct insn *s, unsigned sz,
			int r, struct mref loc)
{
	if (s->op == 0x6b) {
		op_rm(e, sz, 0x6b, 1, r, loc);
		b1(e, (uint8_t)s->imm[0]);
	} else {
		op_rm(e, sz, 0x69, 1, r, loc);
		imm(e, sz, s->imm[0]);
	}
}

/* The host register holding guest register r, or -1. */
static int hreg(unsigned r)
{
	return cached[r & 15];
}

/*
 * emit_op's forms whose destination is a guest register held in a host
 * register (regcache_plan): the host instruction on that register
 * itself, its other operand wherever it is.  32-bit results zero-extend
 * there as in the guest.  False when the form is not one of these.
 */
static bool emit_op_cached(struct tr *t, unsigned k, struct mref loc)
{
	struct em *e = &t->e;
	const struct insn *s = t->b->insn[k];
	unsigned sz = t->size[k], aop = (s->op >> 3) & 7, op = s->reg & 7;
	unsigned form = t->form[k];
	int g = hreg(s->reg);
	bool e_host = loc.direct;       /* the E operand is a host register */
	uint32_t keep = (aop == 1 || aop == 4 || aop == 6) ? FL_LOGIC
							   : FL_ARITH;

	switch (form) {
	case FOP_MOV_EG:
		if (!e_host)
			return false;
		load(e, loc.base, sz, greg(s, s->reg, sz));
		return true;
	case FOP_MOV_GE:
		if (g < 0)
			return false;
		load(e, g, sz, loc);
		return true;
	case FOP_ALU_EG:
		if (!e_host)
			return false;
		if (aop == 2 || aop == 3)
			emit_cf_in(t);
		op_sz(e, sz, aop * 8 + 3, loc.base, greg(s, s->reg, sz));
		emit_flags(t, k, keep, true);
		return true;
	case FOP_ALU_GE:
		if (g < 0)
			return false;
		if (aop == 2 || aop == 3)
			emit_cf_in(t);
		op_sz(e, sz, aop * 8 + 3, g, loc);
		emit_flags(t, k, keep, true);
		return true;
	case FOP_GRP1:
	case FOP_ALU_AI: {
		bool grp1 = form == FOP_GRP1;
		unsigned o = grp1 ? op : aop;

		if (!e_host)
			return false;
		if (o == 2 || o == 3)
			emit_cf_in(t);
		op_sz(e, sz, 0x81, (int)o, loc);
		imm(e, sz, imm_of(s, sz, grp1 && s->op == 0x83));
		emit_flags(t, k, (o == 1 || o == 4 || o == 6) ? FL_LOGIC
							     : FL_ARITH, true);
		return true;
	}
	case FOP_TEST_EG:
		if (e_host)
			op_sz(e, sz, 0x85, loc.base, greg(s, s->reg, sz));
		else if (g >= 0)
			op_sz(e, sz, 0x85, g, loc);
		else
			return false;
		emit_flags(t, k, FL_LOGIC, true);
		return true;
	case FOP_TEST_AI:
	case FOP_GRP3: {
		unsigned o = form == FOP_GRP3 ? op : 0;

		if (!e_host)
			return false;
		if (o <= 1) {
			op_sz(e, sz, 0xf7, 0, loc);
			imm(e, sz, imm_of(s, sz, false));
			emit_flags(t, k, FL_LOGIC, true);
		} else {
			op_sz(e, sz, 0xf7, (int)o, loc);        /* not/neg */
			if (o == 3)
				emit_flags(t, k, FL_ARITH, true);
		}
		return true;
	}
	case FOP_SHIFT: {
		/* Counts in CL may be zero: emit_op's way. */
		bool all = op >= 4;

		if (!e_host || s->op >= 0xd2)
			return false;
		if (op == 6)
			op = 4;
		if (op == 2 || op == 3)
			emit_cf_in(t);
		op_sz(e, sz, 0xc1, (int)op, loc);
		b1(e, s->op < 0xd0 ? (uint8_t)s->imm[0] : 1);
		emit_flags(t, k, op < 4 ? 0x801 : FL_LOGIC, all);
		return true;
	}
	case FOP_INCDEC_E:
		if (!e_host)
			return false;
		op_sz(e, sz, 0xff, s->reg & 1, loc);
		emit_flags(t, k, FL_ARITH & ~1u, false);
		return true;
	case FOP_IMUL:
		if (g < 0)
			return false;
		op_rm(e, sz, 0x0faf, 2, g, loc);
		emit_flags(t, k, FL_ARITH, true);
		return true;
	case FOP_IMUL_I:
		if (g < 0)
			return false;
		emit_imul_i(e, s, sz, g, loc);
		emit_flags(t, k, FL_ARITH, true);
		return true;
	case FOP_MOVZX:
		if (g < 0)
			return false;
		op_rm(e, 4, s->op == 0xb6 ? 0x0fb6 : 0x0fb7, 2, g, loc);
		return true;
	case FOP_MOVSX:
		if (g < 0)
			return false;
		op_rm(e, sz, s->op == 0xbe ? 0x0fbe : 0x0fbf, 2, g, loc);
		return true;
	case FOP_MOVSXD:
		if (g < 0)
			return false;
		if (sz == 8)
			op_rm(e, 8, 0x63, 1, g, loc);
		else
			load(e, g, 4, loc);
		return true;
	}
	return false;
}

/*
 * The operation of instruction k on its E operand at loc (a guest
 * register, the host address in rdx, or the scratch word after a slow
 * read), for the forms that have an E operand.  Emitted twice for
 * memory operands (fast and slow path); may use rax, rcx, rsi, rdi.
 */
static void emit_op(struct tr *t, unsigned k, struct mref loc)
{
	struct em *e = &t->e;
	const struct insn *s = t->b->insn[k];
	unsigned sz = t->size[k], aop = (s->op >> 3) & 7, form = t->form[k];
	bool memop = s->mem;
	uint32_t keep = (aop == 1 || aop == 4 || aop == 6) ? FL_LOGIC
							   : FL_ARITH;

	if (emit_op_cached(t, k, loc))
		return;
	switch (form) {
	case FOP_MOV_EG:
		load(e, RAX, sz, greg(s, s->reg, sz));
		store_e(e, s, memop, loc, sz);
		break;
	case FOP_MOV_GE:
		load(e, RAX, sz, loc);
		store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_ALU_EG:
		if (aop == 2 || aop == 3) {
			load(e, RAX, sz, loc);
			emit_cf_in(t);
			op_sz(e, sz, aop * 8 + 3, RAX, greg(s, s->reg, sz));
		} else {
			load(e, RAX, sz, loc);
			op_sz(e, sz, aop * 8 + 3, RAX, greg(s, s->reg, sz));
		}
		emit_flags(t, k, keep, true);
		if (aop != 7) {
			store_e(e, s, memop, loc, sz);
		}
		break;
	case FOP_ALU_GE:
		load(e, RAX, sz, greg(s, s->reg, sz));
		if (aop == 2 || aop == 3) {
			emit_cf_in(t);
		}
		op_sz(e, sz, aop * 8 + 3, RAX, loc);
		emit_flags(t, k, keep, true);
		if (aop != 7)
			store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_GRP1:
	case FOP_ALU_AI: {
		bool grp1 = form == FOP_GRP1;
		unsigned op = grp1 ? s->reg & 7 : aop;
		uint64_t v = imm_of(s, sz, grp1 && s->op == 0x83);

		keep = (op == 1 || op == 4 || op == 6) ? FL_LOGIC : FL_ARITH;
		load(e, RAX, sz, loc);
		if (op == 2 || op == 3) {
			emit_cf_in(t);
		}
		op_sz(e, sz, 0x81, (int)op, reg(RAX));
		imm(e, sz, v);
		emit_flags(t, k, keep, true);
		if (op != 7) {
			if (memop)
				store(e, sz, loc, RAX);
			else
				store_greg(e, s, grp1 ? s->rm : R_AX, sz, RAX);
		}
		break;
	}
	case FOP_TEST_EG:
		load(e, RAX, sz, loc);
		op_sz(e, sz, 0x85, RAX, greg(s, s->reg, sz));   /* test */
		emit_flags(t, k, FL_LOGIC, true);
		break;
	case FOP_TEST_AI:
	case FOP_GRP3: {
		unsigned op = form == FOP_GRP3 ? s->reg & 7 : 0;

		load(e, RAX, sz, loc);
		if (op <= 1) {
			op_sz(e, sz, 0xf7, 0, reg(RAX));
			imm(e, sz, imm_of(s, sz, false));
			emit_flags(t, k, FL_LOGIC, true);
			break;
		}
		op_sz(e, sz, 0xf7, (int)op, reg(RAX));          /* not/neg */
		if (op == 3)
			emit_flags(t, k, FL_ARITH, true);
		store_e(e, s, memop, loc, sz);
		break;
	}
	case FOP_SHIFT: {
		unsigned op = s->reg & 7, mask = sz == 8 ? 63 : 31;
		uint8_t *zero = NULL, *done;

		bool all = op >= 4 && s->op < 0xd2;

		if (op == 6)
			op = 4;
		/* Rotates, and shifts whose count may be zero, write only
		 * some flags or none. */
		/* Both ways past a count of zero with the same state. */
		if (s->op >= 0xd2 && t->flags_live[k])
			flags_pend(t);
		uint32_t keep0 = t->pend_keep;

		load(e, RAX, sz, loc);
		if (s->op >= 0xd2) {
			load(e, RCX, 4, greg64(R_CX));
			op_rm(e, 4, 0x81, 1, 4, reg(RCX));
			b4(e, mask);
			zero = jcc_fwd(e, CC_Z);
		}
		if (op == 2 || op == 3) {
			emit_cf_in(t);
		}
		if (s->op >= 0xd2) {
			op_sz(e, sz, 0xd3, (int)op, reg(RAX));
		} else {
			op_sz(e, sz, 0xc1, (int)op, reg(RAX));
			b1(e, s->op < 0xd0 ? (uint8_t)s->imm[0] : 1);
		}
		emit_flags(t, k, op < 4 ? 0x801 : FL_LOGIC, all);
		store_e(e, s, memop, loc, sz);
		if (zero) {
			done = jmp_fwd(e);
			land(e, zero);
			/* A zero count changes nothing but a 32-bit
			 * register's upper half. */
			if (!memop && sz == 4)
				store_greg(e, s, s->rm, 4, RAX);
			land(e, done);
			t->pend_keep = keep0;
		}
		break;
	}
	case FOP_MOVZX:
		load(e, RAX, s->op == 0xb6 ? 1 : 2, loc);
		store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_MOVSX:
		op_rm(e, sz, s->op == 0xbe ? 0x0fbe : 0x0fbf, 2, RAX, loc);
		store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_MOVSXD:
		if (sz == 8)
			op_rm(e, 8, 0x63, 1, RAX, loc);
		else
			load(e, RAX, 4, loc);
		store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_CMOV: {
		uint8_t *skip, *done;
		unsigned hcc;

		load(e, RDX, sz, loc);
		hcc = emit_cond(t, s->op & 15);
		skip = jcc_fwd(e, hcc ^ 1);
		store_greg(e, s, s->reg, sz, RDX);
		if (sz == 4) {
			done = jmp_fwd(e);
			land(e, skip);
			load(e, RDX, 4, greg(s, s->reg, 4));
			store_greg(e, s, s->reg, 4, RDX);
			land(e, done);
		} else {
			land(e, skip);
		}
		break;
	}
	case FOP_SETCC: {
		unsigned hcc = emit_cond(t, s->op & 15);

		op_rm(e, 4, 0x0f90 | hcc, 2, 0, reg(RAX));      /* setcc al */
		store(e, 1, loc, RAX);
		break;
	}
	case FOP_IMUL:
		load(e, RAX, sz, greg(s, s->reg, sz));
		op_rm(e, sz, 0x0faf, 2, RAX, loc);
		emit_flags(t, k, FL_ARITH, true);
		store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_IMUL_I:
		emit_imul_i(e, s, sz, RAX, loc);
		emit_flags(t, k, FL_ARITH, true);
		store_greg(e, s, s->reg, sz, RAX);
		break;
	case FOP_INCDEC_E:
		load(e, RAX, sz, loc);
		op_sz(e, sz, 0xff, s->reg & 1, reg(RAX));
		emit_flags(t, k, FL_ARITH & ~1u, false);
		store_e(e, s, memop, loc, sz);
		break;
	case FOP_MOV_EI: {
		uint64_t v = imm_of(s, sz, false);

		if (memop) {
			mov_ri(e, RAX, v);
			store(e, sz, loc, RAX);
		} else if (sz <= 2) {
			op_sz(e, sz, 0xc7, 0, greg(s, s->rm, sz));
			imm(e, sz, v);
		} else {
			mov_mi64(e, greg(s, s->rm, 8), v);
		}
		break;
	}
	case FOP_PUSH:
		load(e, RAX, 8, greg(s, (s->op & 7) | (s->rex & 1 ? 8 : 0), 8));
		store(e, stack_size(t), loc, RAX);
		break;
	case FOP_CALL:
	case TR_CALLI:
		mov_ri(e, RAX, t->ip[k + 1]);
		store(e, stack_size(t), loc, RAX);
		break;
	case FOP_POP:
	case FOP_RET:
	case TR_JMPI:
		load(e, RAX, stack_size(t), loc);
		break;
	}
}

static bool emit_tail(struct tr *t, unsigned k);

/* A jump taken when rax is not canonical (bits 63-47 differ). */
static uint8_t *emit_if_noncanonical(struct em *e)
{
	op_rm(e, 8, 0x8b, 1, RCX, reg(RAX));
	op_rm(e, 8, 0xc1, 1, 4, reg(RCX));              /* shl rcx, 16 */
	b1(e, 16);
	op_rm(e, 8, 0xc1, 1, 7, reg(RCX));              /* sar rcx, 16 */
	b1(e, 16);
	op_rm(e, 8, 0x3b, 1, RCX, reg(RAX));
	return jcc_fwd(e, CC_NZ);
}

/* Forms that read or write E in memory. */
static bool op_reads(unsigned form)
{
	switch (form) {
	case FOP_MOV_EG: case FOP_MOV_EI: case FOP_SETCC:
	case FOP_PUSH: case FOP_CALL: case TR_CALLI:
		return false;
	}
	return true;
}

static bool op_writes(const struct insn *s, unsigned form)
{
	switch (form) {
	case FOP_MOV_EG: case FOP_MOV_EI: case FOP_SETCC:
	case FOP_PUSH: case FOP_CALL: case FOP_SHIFT: case FOP_INCDEC_E:
	case TR_CALLI:
		return true;
	case FOP_ALU_EG:
		return ((s->op >> 3) & 7) != 7;
	case FOP_GRP1:
		return (s->reg & 7) != 7;
	case FOP_GRP3:
		return (s->reg & 7) >= 2;
	}
	return false;
}

/*
 * Instruction k's E operand in memory: the address into rbp, the TLB
 * check, emit_op on the host address, the slow path through the
 * interpreter's accessors (which may fault or reach a device), and the
 * block's end after an instruction that stored into its own code page
 * or touched a device.
 */
static void emit_mem_op(struct tr *t, unsigned k, int seg, unsigned size)
{
	struct em *e = &t->e;
	const struct insn *s = t->b->insn[k];
	unsigned form = t->form[k];
	bool rd = op_reads(form), wr = op_writes(s, form);
	int32_t fast_off = (int32_t)(offsetof(struct tlb_entry, fast) +
				     sizeof(uint64_t) *
				     ((wr ? 2 : 0) + (t->b->user ? 1 : 0)));
	uint8_t *slow, *slow_lim = NULL, *end, *to_stop, *code_hit = NULL;

	/* The linear address: the offset (rbp), or rcx with the FS/GS
	 * base added.  In 32-bit code only DS, ES and SS are known to be
	 * flat: the others (limits, rights) always take the slow path. */
	int lin = RBP;

	if (not64(t) && !seg_flat(t, seg)) {
		slow = jmp_fwd(e);
		goto op;
	}
	if (is16(t)) {
		/* The segment's limit is 64 KiB or more: the last byte
		 * within 64 KiB is within it.  Its base is today's. */
		op_rm(e, 4, 0x81, 1, 7, reg(RBP));      /* cmp ebp, ... */
		b4(e, 0x10000 - size);
		slow_lim = jcc_fwd(e, CC_A);
		lin = RCX;
		op_rm(e, 4, 0x8b, 1, RCX, reg(RBP));    /* mov ecx, ebp */
		op_rm(e, 4, 0x03, 1, RCX,               /* add ecx, base */
		      xm(XOFF(seg) + seg * (int32_t)sizeof(struct x86_seg) +
			 (int32_t)offsetof(struct x86_seg, base)));
	} else if (seg == S_FS || seg == S_GS) {
		lin = RCX;
		op_rm(e, 8, 0x8b, 1, RCX, reg(RBP));
		op_rm(e, 8, 0x03, 1, RCX,
		      xm(XOFF(seg) + seg * (int32_t)sizeof(struct x86_seg) +
			 (int32_t)offsetof(struct x86_seg, base)));
	}
	/* rax = entry offset; edx = the offset in the page; rcx = tag of
	 * the last byte's page. */
	op_rm(e, 8, 0x8b, 1, RAX, reg(lin));
	op_rm(e, 8, 0xc1, 1, 5, reg(RAX));              /* shr rax, 6 */
	b1(e, 6);
	op_rm(e, 4, 0x81, 1, 4, reg(RAX));              /* and eax, ... */
	b4(e, (TLB_SIZE - 1) << 6);
	op_rm(e, 8, 0x8b, 1, RDX, reg(lin));            /* mov rdx, lin */
	op_rm(e, 8, 0x8d, 1, RCX, mem(lin, (int32_t)size - 1));
	op_rm(e, 8, 0x81, 1, 4, reg(RCX));              /* and rcx, -4096 */
	b4(e, 0xfffff000u);
	if (tag_bits(t)) {
		op_rm(e, 8, 0x83, 1, 1, reg(RCX));      /* or rcx, bits */
		b1(e, tag_bits(t));
	}
	op_rm(e, 8, 0x3b, 1, RCX, (struct mref){ .base = R13, .index = RAX,
						 .disp = fast_off });
	slow = jcc_fwd(e, CC_NZ);
	/* rdx += the entry's addend: the host address. */
	op_rm(e, 8, 0x03, 1, RDX, (struct mref){
		.base = R13, .index = RAX,
		.disp = (int32_t)offsetof(struct tlb_entry, addend) });
op:;
	bool pend0 = t->pend, pend1;
	uint32_t keep0 = t->pend_keep, keep1;

	emit_op(t, k, mem(RDX, 0));
	pend1 = t->pend;
	keep1 = t->pend_keep;
	if (wr) {
		/* (p + size - code page) < 0x1000 + size: a store into the
		 * running block's page. */
		op_rm(e, 8, 0x8d, 1, RAX, mem(RDX, (int32_t)size));
		op_rm(e, 8, 0x2b, 1, RAX, reg(R14));
		op_rm(e, 8, 0x81, 1, 7, reg(RAX));      /* cmp rax, ... */
		b4(e, 0x1000 + size);
		code_hit = jcc_fwd(e, CC_B);
	}
	end = e->p;

	swap_section(t);
	land(e, slow);
	if (slow_lim)
		land(e, slow_lim);
	t->pend = pend0;
	t->pend_keep = keep0;
	cache_store(e);
	flags_sync(t);
	emit_fault_point(t, k);
	if (rd) {
		op_rm(e, 8, 0x8b, 1, RDI, reg(RBX));
		mov_ri(e, RSI, (unsigned)seg);
		op_rm(e, 8, 0x8b, 1, RDX, reg(RBP));
		mov_ri(e, RCX, size);
		call_abs(e, (const void *)x86_read_slow);
		store(e, 8, xm(XOFF(tr_scratch)), RAX);
		cache_load(e);
	}
	emit_op(t, k, xm(XOFF(tr_scratch)));
	if (wr) {
		/* The new flags reach c->flags only once the write went
		 * through: a write that faults leaves them as they were. */
		if (t->pend)
			store(e, 8, xm(XOFF(tr_hflags)), R11);
		op_rm(e, 8, 0x8b, 1, RDI, reg(RBX));
		mov_ri(e, RSI, (unsigned)seg);
		op_rm(e, 8, 0x8b, 1, RDX, reg(RBP));
		load(e, RCX, size, xm(XOFF(tr_scratch)));
		mov_ri(e, R8, size);
		call_abs(e, (const void *)x86_write_slow);
		if (t->pend)
			load(e, R11, 8, xm(XOFF(tr_hflags)));
		cache_load(e);
	}
	/* Both paths on with the same state: the fast path's pending flags
	 * came from before this instruction, which the slow path stored. */
	if (pend1 && !t->pend)
		load(e, R11, 8, xm(XOFF(flags)));
	t->pend = pend1;
	t->pend_keep = keep1;
	/* An MMIO access sets blk_stop: the device model may have written
	 * anything, including this block's code. */
	op_rm(e, 1, 0x80, 1, 7, xm(XOFF(blk_stop)));    /* cmp byte, 0 */
	b1(e, 0);
	jcc_to(e, CC_Z, end);
	if (code_hit) {
		to_stop = jmp_fwd(e);
		land(e, code_hit);
		op_rm(e, 1, 0xc6, 1, 0, xm(XOFF(blk_stop)));
		b1(e, 1);
		land(e, to_stop);
	}
	/* The block ends after this instruction. */
	if (!emit_tail(t, k))
		emit_exit(t, k, t->ip[k + 1], false, 0);
	swap_section(t);
}

/* The memory operand's offset into rbp (32 bits of it in 32-bit
 * code). */
static void emit_ea64(struct tr *t, unsigned k);

static void emit_ea(struct tr *t, unsigned k)
{
	emit_ea64(t, k);
	if (is16(t))
		op_rm(&t->e, 4, 0x0fb7, 2, RBP, reg(RBP));      /* movzx ebp, bp */
	else if (not64(t))
		op_rm(&t->e, 4, 0x8b, 1, RBP, reg(RBP));        /* mov ebp, ebp */
}

static void emit_ea64(struct tr *t, unsigned k)
{
	struct em *e = &t->e;
	const struct insn *s = t->b->insn[k];
	unsigned form = t->form[k];

	if (form == FOP_PUSH || form == FOP_CALL || form == FOP_POP ||
	    form == FOP_RET || form == TR_CALLI) {
		load(e, RBP, 8, xm(XOFF(r) + 8 * R_SP));
		if (form == FOP_PUSH || form == FOP_CALL || form == TR_CALLI)
			op_rm(e, 8, 0x8d, 1, RBP,
			      mem(RBP, -(int32_t)stack_size(t)));
		return;
	}
	if (s->riprel) {
		mov_ri(e, RBP, t->ip[k + 1] + (uint64_t)(int64_t)s->ea_disp);
		return;
	}
	if (s->ea_base >= 0) {
		/* Cached registers serve as the LEA's own base and index. */
		int b = hreg((unsigned)s->ea_base);

		if (b < 0) {
			load(e, RBP, 8, greg64((unsigned)s->ea_base));
			b = RBP;
		}
		if (s->ea_index >= 0) {
			int x = hreg((unsigned)s->ea_index);

			if (x < 0) {
				load(e, RAX, 8, greg64((unsigned)s->ea_index));
				x = RAX;
			}
			op_rm(e, 8, 0x8d, 1, RBP, (struct mref){
				.base = (int8_t)b, .index = (int8_t)x,
				.scale = s->ea_scale, .disp = s->ea_disp });
		} else if (s->ea_disp) {
			op_rm(e, 8, 0x8d, 1, RBP, mem(b, s->ea_disp));
		} else if (b != RBP) {
			op_rm(e, 8, 0x8b, 1, RBP, reg(b));
		}
	} else if (s->ea_index >= 0) {
		load(e, RBP, 8, greg64((unsigned)s->ea_index));
		if (s->ea_scale) {
			op_rm(e, 8, 0xc1, 1, 4, reg(RBP));      /* shl */
			b1(e, s->ea_scale);
		}
		if (s->ea_disp)
			op_rm(e, 8, 0x8d, 1, RBP, mem(RBP, s->ea_disp));
	} else {
		mov_ri(e, RBP, (uint64_t)(int64_t)s->ea_disp);
	}
}

/* What instruction k does after its memory access (stack pointer,
 * popped register, branch); true when that leaves the block. */
static bool emit_tail(struct tr *t, unsigned k)
{
	struct em *e = &t->e;
	const struct insn *s = t->b->insn[k];
	unsigned form = t->form[k];
	uint8_t *bad;

	/* The stack pointer moves by a slot: in 32-bit code ESP alone. */
	unsigned ss = stack_size(t);

	switch (form) {
	case FOP_PUSH:
		op_rm(e, ss, 0x83, 1, 5, xm(XOFF(r) + 8 * R_SP));  /* sub */
		b1(e, ss);
		return false;
	case FOP_POP:
		op_rm(e, ss, 0x83, 1, 0, xm(XOFF(r) + 8 * R_SP));  /* add */
		b1(e, ss);
		store_greg(e, s, (s->op & 7) | (s->rex & 1 ? 8 : 0), ss, RAX);
		return false;
	case FOP_CALL: {
		uint64_t v = t->ip[k + 1] + sext(s->imm[0], is16(t) ? 2 : 4);

		op_rm(e, ss, 0x83, 1, 5, xm(XOFF(r) + 8 * R_SP));
		b1(e, ss);
		if (not64(t))
			v &= ip_mask(t);
		else if (!x86_canonical(v)) {
			/* The stack pointer goes back with the fault. */
			emit_raise_gp0(t, k);
			return true;
		}
		emit_chain_exit(t, k, v, TR_DONE);
		return true;
	}
	case FOP_RET:
	case TR_JMPI:
		/* 32-bit code: CS is flat, any target is within its limit. */
		bad = not64(t) ? NULL : emit_if_noncanonical(e);
		if (form == FOP_RET) {
			op_rm(e, ss, 0x83, 1, 0, xm(XOFF(r) + 8 * R_SP));
			b1(e, ss);
		}
		store(e, 8, xm(XOFF(rip)), RAX);
		emit_exit_to(t, k, 0, true, TR_DONE, EXIT_LOOKUP);
		if (bad) {
			land(e, bad);
			emit_raise_gp0(t, k);
		}
		return true;
	case TR_CALLI:
		/* The target was checked and kept at [rsp] before the push. */
		op_rm(e, ss, 0x83, 1, 5, xm(XOFF(r) + 8 * R_SP));
		b1(e, ss);
		load(e, RAX, 8, mem(RSP, 0));
		store(e, 8, xm(XOFF(rip)), RAX);
		emit_exit_to(t, k, 0, true, TR_DONE, EXIT_LOOKUP);
		return true;
	}
	return false;
}

/* The size of the E operand in memory or registers. */
static unsigned e_size(const struct tr *t, unsigned k)
{
	const struct insn *s = t->b->insn[k];

	switch (t->form[k]) {
	case FOP_MOVZX: return s->op == 0xb6 ? 1 : 2;
	case FOP_MOVSX: return s->op == 0xbe ? 1 : 2;
	case FOP_MOVSXD: return 4;
	case FOP_SETCC: return 1;
	case FOP_PUSH: case FOP_POP: case FOP_CALL: case FOP_RET:
	case TR_JMPI: case TR_CALLI:
		return stack_size(t);
	}
	return t->size[k];
}

/* Forms whose byte variant is the opcode with bit 0 clear. */
static bool form_has_byte_variant(unsigned form)
{
	switch (form) {
	case FOP_MOV_EG: case FOP_MOV_GE: case FOP_ALU_EG: case FOP_ALU_GE:
	case FOP_ALU_AI: case FOP_TEST_EG: case FOP_TEST_AI: case FOP_GRP1:
	case FOP_SHIFT: case FOP_MOV_EI: case FOP_INCDEC_E: case FOP_GRP3:
		return true;
	}
	return false;
}

/* The form instruction k is translated as, and its operand size.  Most
 * are the block's short-path forms; 16-bit operands (which blk_run
 * leaves to the interpreter) and multi-byte NOPs are added here.
 * Shifts whose count may be zero (they change nothing, not even the
 * flags) and forms of 32-bit code run in the interpreter. */
static void tr_classify(struct tr *t, unsigned k)
{
	const struct insn *s = t->b->insn[k];
	unsigned f = t->b->fop[k], form = FOP_FORM(f), size = FOP_SIZE(f);

	if (not64(t)) {
		/* The block cache's short paths leave most 32-bit and all
		 * 16-bit forms to the interpreter: classify them here.  The
		 * code's own address size only; branches and stack forms
		 * with its own operand size only. */
		unsigned own = is16(t) ? 2 : 4;

		form = FOP_GENERIC;
		if (!s->mode64 && !s->lock && !s->rep && !s->repne &&
		    s->asize == own && (s->osize == 4 || s->osize == 2)) {
			if ((s->twobyte && s->op == 0x1f) ||
			    (!s->twobyte && s->op == 0x90)) {
				form = TR_NOP;
			} else if (s->twobyte && s->op >= 0xc8 &&
				   s->op <= 0xcf && s->osize == 4) {
				form = TR_BSWAP;
			} else if (!s->twobyte && s->op == 0xff &&
				   s->osize == own && ((s->reg & 7) == 4 ||
				    ((s->reg & 7) == 2 && !s->mem &&
				     (t->b->mode & TRM_SS)))) {
				form = (s->reg & 7) == 4 ? TR_JMPI : TR_CALLI;
			} else {
				form = fop_form(s);
				switch (form) {
				case FOP_LEA:
					if (!s->mem)
						form = FOP_GENERIC;
					break;
				case FOP_PUSH: case FOP_POP: case FOP_CALL:
				case FOP_RET:
					/* A 32-bit flat stack only. */
					if (!(t->b->mode & TRM_SS))
						form = FOP_GENERIC;
					/* fall through */
				case FOP_JMP: case FOP_JCC: case FOP_MOVSXD:
					if (s->osize != own)
						form = FOP_GENERIC;
					break;
				}
			}
			size = form_has_byte_variant(form) && !(s->op & 1) ?
			       1 : s->osize;
		}
	} else if (form == FOP_GENERIC && s->mode64 && !s->lock && !s->rep &&
	    !s->repne && s->asize == 8) {
		if ((s->twobyte && s->op == 0x1f) ||
		    (!s->twobyte && s->op == 0x90 && !(s->rex & 1))) {
			form = TR_NOP;
		} else if (s->twobyte && s->op >= 0xc8 && s->op <= 0xcf &&
			   s->osize != 2) {
			form = TR_BSWAP;
		} else if (!s->twobyte && s->op == 0xff && !s->prefix66 &&
			   ((s->reg & 7) == 4 ||
			    ((s->reg & 7) == 2 && !s->mem))) {
			form = (s->reg & 7) == 4 ? TR_JMPI : TR_CALLI;
		} else if (s->osize == 2) {
			form = fop_form(s);
			switch (form) {
			case FOP_LEA:
				if (!s->mem)
					form = FOP_GENERIC;
				break;
			case FOP_PUSH: case FOP_POP: case FOP_CALL:
			case FOP_RET: case FOP_JMP: case FOP_JCC:
			case FOP_MOVSXD: case FOP_INCDEC_R:
				form = FOP_GENERIC;
				break;
			}
			size = form_has_byte_variant(form) && !(s->op & 1) ?
			       1 : 2;
		}
	}
	if (form == TR_BSWAP)
		size = s->osize;
	if (form == FOP_SHIFT) {
		if (s->op >= 0xd2 ? s->mem :
		    !((s->op < 0xd0 ? s->imm[0] : 1) & (size == 8 ? 63 : 31)))
			form = FOP_GENERIC;
	}
	if (form == FOP_INCDEC_R && !not64(t))
		form = FOP_GENERIC;
	t->form[k] = (uint8_t)form;
	t->size[k] = (uint8_t)size;
}

static void emit_insn(struct tr *t, unsigned k)
{
	struct em *e = &t->e;
	const struct insn *s = t->b->insn[k];
	unsigned form = t->form[k], sz = t->size[k];
	uint64_t v;
	uint8_t *skip;

	switch (form) {
	case TR_NOP:
		return;
	case TR_BSWAP: {
		unsigned r = (s->op & 7) | (s->rex & 1 ? 8 : 0);
		int h = hreg(r);

		if (h >= 0) {
			if (sz == 8 || h >= 8)
				b1(e, 0x40 | (sz == 8 ? 8 : 0) | (h >= 8 ? 1 : 0));
			b1(e, 0x0f);
			b1(e, 0xc8 + (h & 7));                  /* bswap */
			return;
		}
		load(e, RAX, sz, greg(s, r, sz));
		if (sz == 8)
			b1(e, 0x48);
		b1(e, 0x0f);
		b1(e, 0xc8);                    /* bswap eax / rax */
		store_greg(e, s, r, sz, RAX);
		return;
	}
	case TR_JMPI:
		if (s->mem)
			break;
		load(e, RAX, stack_size(t), greg(s, s->rm, 8));
		emit_tail(t, k);
		return;
	case TR_CALLI:
		load(e, RAX, stack_size(t), greg(s, s->rm, 8));
		skip = not64(t) ? NULL : emit_if_noncanonical(e);
		store(e, 8, mem(RSP, 0), RAX);
		emit_ea(t, k);
		emit_mem_op(t, k, S_SS, stack_size(t));
		emit_tail(t, k);
		if (skip) {
			land(e, skip);
			emit_raise_gp0(t, k);
		}
		return;
	case FOP_INCDEC_R: {
		unsigned r = s->op & 7;
		int h = hreg(r);

		/* 32-bit code only (40-4f are REX prefixes in 64-bit code). */
		if (h >= 0) {
			op_sz(e, sz, 0xff, s->op >= 0x48, reg(h));
		} else {
			load(e, RAX, sz, greg(s, r, sz));
			op_sz(e, sz, 0xff, s->op >= 0x48, reg(RAX));
		}
		emit_flags(t, k, FL_ARITH & ~1u, false);
		if (h < 0)
			store_greg(e, s, r, sz, RAX);
		return;
	}
	case FOP_GENERIC:
		flags_sync(t);
		cache_store(e);
		op_rm(e, 8, 0x8b, 1, RDI, reg(RBX));
		op_rm(e, 8, 0x8b, 1, RSI, reg(R12));
		mov_ri(e, RDX, (uint64_t)(uintptr_t)t->generic[k]);
		mov_ri(e, RCX, t->ip[k]);
		mov_ri(e, R8, k);
		op_rm(e, 4, 0x8b, 1, R9, reg(R15));
		call_abs(e, (const void *)tr_generic);
		op_rm(e, 8, 0x85, 1, RAX, reg(RAX));            /* test */
		jcc_to(e, CC_NZ, t->epilogue);
		cache_load(e);
		return;
	case FOP_JCC:
		v = t->ip[k + 1] + sext(s->imm[0], !s->twobyte ? 1 :
					 is16(t) ? 2 : 4);
		if (not64(t))
			v &= ip_mask(t);
		skip = jcc_fwd(e, emit_cond(t, s->op & 15) ^ 1);
		if (x86_canonical(v))
			emit_chain_exit(t, k, v, TR_DONE);
		else
			emit_raise_gp0(t, k);
		land(e, skip);
		return;
	case FOP_JMP:
		v = t->ip[k + 1] + sext(s->imm[0], s->op == 0xeb ? 1 :
					 is16(t) ? 2 : 4);
		if (not64(t))
			v &= ip_mask(t);
		if (x86_canonical(v))
			emit_chain_exit(t, k, v, TR_DONE);
		else
			emit_raise_gp0(t, k);
		return;
	case FOP_LEA: {
		int g = hreg(s->reg), hb = s->ea_base >= 0 ?
			hreg((unsigned)s->ea_base) : -1;

		/* Into a cached register from cached ones: one host LEA. */
		if (g >= 0 && !s->riprel && hb >= 0 &&
		    (s->asize == 8 || (s->asize == 4 && sz <= 4)) &&
		    (s->ea_index < 0 || hreg((unsigned)s->ea_index) >= 0)) {
			op_rm(e, sz, 0x8d, 1, g, (struct mref){
				.base = (int8_t)hb,
				.index = (int8_t)(s->ea_index >= 0 ?
					hreg((unsigned)s->ea_index) : -1),
				.scale = s->ea_scale, .disp = s->ea_disp });
			return;
		}
		emit_ea(t, k);
		if (g >= 0) {
			op_rm(e, sz, 0x8b, 1, g, reg(RBP));
			return;
		}
		op_rm(e, sz, 0x8b, 1, RAX, reg(RBP));
		store_greg(e, s, s->reg, sz, RAX);
		return;
	}
	case FOP_MOV_RI:
		v = s->imm[0] & szmask(sz);
		if (sz == 2) {
			op_rm(e, 2, 0xc7, 1, 0,
			      greg(s, (s->op & 7) | (s->rex & 1 ? 8 : 0), 2));
			imm(e, 2, v);
		} else {
			mov_mi64(e, greg(s, (s->op & 7) | (s->rex & 1 ? 8 : 0), 8),
				 v);
		}
		return;
	case FOP_PUSH: case FOP_POP: case FOP_CALL: case FOP_RET:
		emit_ea(t, k);
		emit_mem_op(t, k, S_SS, stack_size(t));
		emit_tail(t, k);
		return;
	}
	if (s->mem) {
		emit_ea(t, k);
		emit_mem_op(t, k, s->ea_seg, e_size(t, k));
		emit_tail(t, k);
		return;
	}
	emit_op(t, k, greg(s, form == FOP_ALU_AI || form == FOP_TEST_AI ?
			       R_AX : s->rm, e_size(t, k)));
}

/* How instruction k uses the arithmetic flags, as masks of FL_ARITH's
 * bits: those it reads (as input, or keeps as they were when it may not
 * write them), those it always writes, and those it may write. */
struct flag_use {
	uint32_t reads, writes, may_write;
};

static struct flag_use flag_use(const struct tr *t, unsigned k)
{
	const struct insn *s = t->b->insn[k];
	struct flag_use u = { 0, 0, 0 };
	unsigned op, form = t->form[k];

	/* A fault leaves the flags as they were before the instruction:
	 * they must be in c->flags by then. */
	if (s->mem && form != FOP_LEA && form != TR_NOP)
		u.reads = FL_ARITH;
	switch (form) {
	case FOP_GENERIC: case FOP_JCC: case FOP_CMOV: case FOP_SETCC:
	case FOP_PUSH: case FOP_POP: case FOP_CALL: case FOP_RET:
	case FOP_JMP: case TR_JMPI: case TR_CALLI:
		u.reads = FL_ARITH;
		break;
	case FOP_INCDEC_R:
		u.writes = FL_ARITH & ~1u;              /* CF stays */
		break;
	case FOP_ALU_EG: case FOP_ALU_GE: case FOP_ALU_AI: case FOP_GRP1:
		op = form == FOP_GRP1 ? s->reg & 7 : (s->op >> 3) & 7;
		if (op == 2 || op == 3)
			u.reads |= 1;                   /* ADC, SBB: CF */
		u.writes = FL_ARITH;
		break;
	case FOP_TEST_EG: case FOP_TEST_AI: case FOP_IMUL: case FOP_IMUL_I:
		u.writes = FL_ARITH;
		break;
	case FOP_GRP3:
		if ((s->reg & 7) != 2)                  /* NOT: none */
			u.writes = FL_ARITH;
		break;
	case FOP_INCDEC_E:
		u.writes = FL_ARITH & ~1u;              /* CF stays */
		break;
	case FOP_SHIFT: {
		unsigned bits;

		op = s->reg & 7;
		bits = op >= 4 ? FL_ARITH : 0x801;      /* rotates: CF, OF */
		if (op == 2 || op == 3)
			u.reads |= 1;                   /* RCL, RCR: CF */
		u.may_write = bits;
		if (s->op < 0xd2)       /* a count of zero is left to tr_generic */
			u.writes = bits;
		else
			u.reads = FL_ARITH;     /* a zero count keeps them */
		break;
	}
	}
	u.may_write |= u.writes;
	return u;
}

/* Which instructions' flags must be stored: those a later instruction
 * of the block may read, and the last writer's (live after the block).
 * Liveness goes flag by flag, so that a rotate's CF and OF, say, are
 * dropped when a later logical operation writes them all. */
static void flags_liveness(struct tr *t)
{
	uint32_t live = FL_ARITH;

	for (unsigned k = t->b->n; k-- > 0;) {
		struct flag_use u = flag_use(t, k);

		t->flags_live[k] = (u.may_write & live) != 0;
		live = (live & ~u.writes) | u.reads;
	}
}

/* Guest register uses, for regcache_plan. */
struct reg_uses {
	unsigned n[16];
	bool bad[16], written[16];
};

static void use(struct reg_uses *u, const struct insn *s, unsigned r,
		unsigned size, bool write)
{
	r &= 15;
	if (size < 4) {
		/* Byte and word operands (and AH-BH) stay in memory. */
		u->bad[r] = true;
		if (size == 1 && r >= 4 && r < 8 && !s->rex_present)
			u->bad[r - 4] = true;
		return;
	}
	u->n[r]++;
	u->written[r] |= write;
}

/* Which guest registers live in host registers while the block runs:
 * the ones it uses most (twice or more), never RSP (the fault paths and
 * the stack forms read it in struct x86) nor one it uses as a byte or
 * word. */
static void regcache_plan(struct tr *t)
{
	struct reg_uses u = { { 0 }, { false }, { false } };
	const struct tr_block *b = t->b;

	for (unsigned k = 0; k < b->n; k++) {
		const struct insn *s = b->insn[k];
		unsigned form = t->form[k], sz = t->size[k], es = e_size(t, k);
		unsigned aop = (s->op >> 3) & 7, op = s->reg & 7;
		unsigned rr = (s->op & 7) | (s->rex & 1 ? 8 : 0);
		bool e_reg = !s->mem;

		if (form == FOP_GENERIC)
			continue;
		if (s->mem && !s->riprel) {
			if (s->ea_base >= 0)
				use(&u, s, (unsigned)s->ea_base, 8, false);
			if (s->ea_index >= 0)
				use(&u, s, (unsigned)s->ea_index, 8, false);
		}
		switch (form) {
		case FOP_MOV_EG:
			use(&u, s, s->reg, sz, false);
			if (e_reg)
				use(&u, s, s->rm, es, true);
			break;
		case FOP_MOV_GE: case FOP_MOVZX: case FOP_MOVSX:
		case FOP_MOVSXD: case FOP_IMUL_I: case FOP_LEA:
			use(&u, s, s->reg, sz, true);
			if (e_reg && form != FOP_LEA)
				use(&u, s, s->rm, es, false);
			break;
		case FOP_ALU_EG:
			use(&u, s, s->reg, sz, false);
			if (e_reg)
				use(&u, s, s->rm, es, aop != 7);
			break;
		case FOP_ALU_GE: case FOP_CMOV: case FOP_IMUL:
			use(&u, s, s->reg, sz, form != FOP_ALU_GE || aop != 7);
			if (e_reg)
				use(&u, s, s->rm, es, false);
			break;
		case FOP_TEST_EG:
			use(&u, s, s->reg, sz, false);
			if (e_reg)
				use(&u, s, s->rm, es, false);
			break;
		case FOP_ALU_AI:
			use(&u, s, R_AX, sz, aop != 7);
			break;
		case FOP_TEST_AI:
			use(&u, s, R_AX, sz, false);
			break;
		case FOP_GRP1: case FOP_SHIFT: case FOP_GRP3:
		case FOP_INCDEC_E: case FOP_MOV_EI: case FOP_SETCC:
			if (e_reg)
				use(&u, s, s->rm, es,
				    form == FOP_GRP1 ? op != 7 :
				    form == FOP_GRP3 ? op >= 2 : true);
			if (form == FOP_SHIFT && s->op >= 0xd2)
				use(&u, s, R_CX, 4, false);
			break;
		case FOP_MOV_RI: case FOP_POP:
			use(&u, s, rr, form == FOP_POP ? 8 : sz, true);
			break;
		case FOP_PUSH:
			use(&u, s, rr, 8, false);
			break;
		case TR_BSWAP:
			use(&u, s, rr, sz, true);
			break;
		case FOP_INCDEC_R:
			use(&u, s, s->op & 7, sz, true);
			break;
		case TR_JMPI: case TR_CALLI:
			if (e_reg)
				use(&u, s, s->rm, 8, false);
			break;
		case FOP_JCC: case FOP_JMP: case FOP_CALL: case FOP_RET:
		case TR_NOP:
			break;
		default:
			u.bad[s->reg & 15] = u.bad[s->rm & 15] = true;
			break;
		}
	}
	u.bad[R_SP] = true;
	for (int h = 0; h < NCACHE; h++) {
		int best = -1;

		for (int r = 0; r < 16; r++)
			if (!u.bad[r] && cached[r] < 0 && u.n[r] >= 2 &&
			    (best < 0 || u.n[r] > u.n[best]))
				best = r;
		if (best < 0)
			break;
		cached[best] = cache_hosts[h];
		cached_written[best] = u.written[best];
	}
}

static void regcache_reset(void)
{
	for (int r = 0; r < 16; r++) {
		cached[r] = -1;
		cached_written[r] = false;
	}
}

static bool form_ends(unsigned form)
{
	return form == FOP_JMP || form == FOP_CALL || form == FOP_RET ||
	       form == TR_JMPI || form == TR_CALLI;
}

#define TR_MAX_BAIL 40

/* What translated code expects on entry from C (tr_fn's arguments in
 * rdi, rsi): the callee-saved registers saved, the stack aligned, the
 * fixed registers set (see the top of this file), r11 the flags.  The
 * blocks' epilogues undo it. */
static void emit_prologue(struct em *e)
{
	static const uint8_t pushes[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55,
					  0x41, 0x56, 0x41, 0x57 };

	for (size_t k = 0; k < sizeof(pushes); k++)
		b1(e, pushes[k]);
	op_rm(e, 8, 0x83, 1, 5, reg(RSP));              /* sub rsp, 8 */
	b1(e, 8);
	op_rm(e, 8, 0x8b, 1, RBX, reg(RDI));
	op_rm(e, 8, 0x8b, 1, R12, reg(RSI));
	mov_ri(e, R13, (uint64_t)(uintptr_t)&x86_tlb.e[0]);
	load(e, R14, 8, xm(XOFF(blk_code)));
	op_rm(e, 4, 0x31, 1, R15, reg(R15));            /* xor r15d, r15d */
	load(e, R11, 8, xm(XOFF(flags)));               /* see flags_merge */
}

static void emit_block(struct tr *t)
{
	struct em *e = &t->e;
	uint8_t *body, *bail[TR_MAX_BAIL], *checked, *epoch;
	unsigned nbail = 0;
	static const uint8_t pops[] = { 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d,
					0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
	const struct tr_block *b = t->b;

	regcache_reset();
	t->ip[0] = b->lin - b->csbase;
	for (unsigned k = 0; k < b->n; k++) {
		t->ip[k + 1] = t->ip[k] + b->insn[k]->len;
		if (not64(t))
			t->ip[k + 1] &= 0xffffffffull;
		tr_classify(t, k);
	}
	/* The instructions left to the interpreter, copied: a block slot
	 * is reused for other code while blocks patched to jump here may
	 * still come (they check the bytes, which is all this code and the
	 * copies depend on). */
	for (unsigned k = 0; k < b->n; k++) {
		if (t->form[k] != FOP_GENERIC)
			continue;
		while ((uintptr_t)e->p & 15)
			b1(e, 0xcc);
		t->generic[k] = (const struct insn *)(const void *)
			(tr_rx + (e->p - tr_wr));
		for (size_t j = 0; j < INSN_DYN; j++)
			b1(e, ((const uint8_t *)b->insn[k])[j]);
	}
	/* The run (c->tr_epoch) that last checked this block's bytes;
	 * written through the writable view. */
	while ((uintptr_t)e->p & 7)
		b1(e, 0xcc);
	epoch = e->p;
	b8(e, 0);
	/* The epilogue first, so exits jump back to a known place. */
	t->epilogue = e->p;
	op_rm(e, 8, 0x83, 1, 0, reg(RSP));              /* add rsp, 8 */
	b1(e, 8);
	for (size_t k = 0; k < sizeof(pops); k++)
		b1(e, pops[k]);
	while ((uintptr_t)e->p & 15)
		b1(e, 0xcc);
	t->entry = e->p;
	emit_prologue(e);
	body = jmp_fwd(e);

	/* The entry from other translated blocks: what blk_run checks
	 * before it enters a block (the budget, the bytes), inline. */
	while ((uintptr_t)e->p & 15)
		b1(e, 0xcc);
	t->chain = e->p;
	op_rm(e, 4, 0x8d, 1, RAX, mem(R15, (int32_t)b->n));
	op_rm(e, 4, 0x3b, 1, RAX, xm(XOFF(tr_limit)));
	bail[nbail++] = jcc_fwd(e, CC_A);
	/* Checked already in this run? */
	mov_ri(e, RAX, (uint64_t)(uintptr_t)epoch);
	load(e, RCX, 8, xm(XOFF(tr_epoch)));
	op_rm(e, 8, 0x39, 1, RCX, mem(RAX, 0));         /* cmp [rax], rcx */
	checked = jcc_fwd(e, CC_Z);
	unsigned in_page = 0x1000 - (unsigned)(b->lin & 0xfff);

	if (in_page > b->nbytes)
		in_page = b->nbytes;
	for (unsigned off = 0; off < in_page;) {
		unsigned left = in_page - off;
		struct mref m;
		uint64_t v = 0;

		bool wide = left >= 8 || off >= 8;

		/* The last 8 bytes overlap the ones before. */
		if (left < 8 && off >= 8)
			off = in_page - 8;
		m = mem(R14, (int32_t)((b->lin & 0xfff) + off));
		if (wide) {
			memcpy(&v, b->src + off, 8);
			mov_ri(e, RAX, v);
			op_rm(e, 8, 0x39, 1, RAX, m);          /* cmp m, rax */
			off += 8;
		} else if (left >= 4) {
			memcpy(&v, b->src + off, 4);
			op_rm(e, 4, 0x81, 1, 7, m);
			b4(e, (uint32_t)v);
			off += 4;
		} else {
			op_rm(e, 1, 0x80, 1, 7, m);
			b1(e, b->src[off]);
			off += 1;
		}
		if (nbail < TR_MAX_BAIL)
			bail[nbail++] = jcc_fwd(e, CC_NZ);
		else
			e->full = true;
	}
	/* An instruction that crosses into the next page (a block of its
	 * own): the rest of its bytes there, through the TLB. */
	if (in_page < b->nbytes) {
		struct mref ent = { .base = R13, .index = RAX };
		uint64_t next = (b->lin & ~0xfffull) + 0x1000;

		mov_ri(e, RAX, ((next >> 12) % TLB_SIZE) << 6);
		mov_ri(e, RCX, next | 1 | tag_bits(t));
		nbail += emit_code_tlb(t, ent, bail + nbail);
		ent.disp = (int32_t)offsetof(struct tlb_entry, addend);
		mov_ri(e, RCX, next);                   /* its host address */
		op_rm(e, 8, 0x03, 1, RCX, ent);
		bail[nbail++] = jcc_fwd(e, CC_Z);
		for (unsigned off = in_page; off < b->nbytes; off++) {
			op_rm(e, 1, 0x80, 1, 7, mem(RCX, (int32_t)(off - in_page)));
			b1(e, b->src[off]);
			if (nbail < TR_MAX_BAIL)
				bail[nbail++] = jcc_fwd(e, CC_NZ);
			else
				e->full = true;
		}
	}
	mov_ri(e, RAX, (uint64_t)(uintptr_t)epoch);
	load(e, RCX, 8, xm(XOFF(tr_epoch)));
	store(e, 8, mem(RAX, 0), RCX);
	land(e, checked);
	land(e, body);
	t->pend = true;
	t->pend_keep = FL_ARITH;
	flags_liveness(t);
	regcache_plan(t);
	cache_load(e);
	for (unsigned k = 0; k < b->n; k++) {
		emit_insn(t, k);
		/* Forms that always leave the block end it here. */
		if (form_ends(t->form[k]))
			break;
	}
	if (!(form_ends(t->form[b->n - 1])))
		emit_chain_exit(t, b->n - 1, t->ip[b->n], 0);
	/* Not this block after all: back to the caller at its start. */
	for (unsigned k = 0; k < nbail; k++)
		land(e, bail[k]);
	merge_exact(e);         /* from the block before */
	mov_mi64(e, xm(XOFF(rip)), t->ip[0]);
	mov_mi64(e, xm(XOFF(insn_rip)), t->ip[0]);
	op_rm(e, 4, 0x8b, 1, RAX, reg(R15));
	op_rm(e, 4, 0x81, 1, 1, reg(RAX));
	b4(e, TR_DONE);
	jmp_to(e, t->epilogue);
	regcache_reset();
}

/* Debugging aid: HVMD_SOFT_TRANSLATE_DUMP=DIR writes each block's host
 * code to DIR/LIN-OFFSET-ENTRY-CHAIN.bin (its offset in the code buffer,
 * as perf shows it, and of its two entries), for objdump -D -b binary
 * -m i386:x86-64. */
static void tr_dump(const struct tr_block *b, const uint8_t *start,
		    const uint8_t *end, const uint8_t *entry,
		    const uint8_t *chain)
{
	static const char *dir;
	static bool looked;
	char path[4096];
	FILE *f;

	if (!looked) {
		dir = getenv("HVMD_SOFT_TRANSLATE_DUMP");
		looked = true;
	}
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%llx-%x-%x-%x.bin", dir,
		 (unsigned long long)b->lin, (unsigned)(start - tr_wr),
		 (unsigned)(entry - start), (unsigned)(chain - start));
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(start, 1, (size_t)(end - start), f);
	fclose(f);
}

void tr_patch(void *site, const void *target)
{
	uint8_t *w = tr_wr + ((uint8_t *)site - tr_rx);
	int32_t rel = (int32_t)((const uint8_t *)target - (uint8_t *)site);

	memcpy(w - 4, &rel, 4);
}

tr_fn tr_translate(const struct tr_block *b, void **chain)
{
	_Static_assert(sizeof(struct tlb_entry) == 64,
		       "the inline TLB check indexes entries by << 6");
	struct tr t;

	if (!b->n || !tr_buf_init())
		return NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t start = (tr_used + 15) & ~(size_t)15;

		memset(&t, 0, sizeof(t));
		t.b = b;
		t.e.p = tr_wr + start;
		t.e.end = tr_wr + TR_HOT_SIZE;
		t.cold.p = tr_wr + tr_cold_used;
		t.cold.end = tr_wr + TR_BUF_SIZE;
		emit_block(&t);
		if (!t.e.full && !t.cold.full) {
			tr_dump(b, tr_wr + start, t.e.p, t.entry, t.chain);
			tr_used = (size_t)(t.e.p - tr_wr);
			tr_cold_used = (size_t)(t.cold.p - tr_wr);
			*chain = tr_rx + (t.chain - tr_wr);
			return (tr_fn)(void *)(tr_rx + (t.entry - tr_wr));
		}
		/* Full: drop every translation and start over. */
		tr_used = TR_ENTER_SIZE;
		tr_cold_used = TR_HOT_SIZE;
		tr_gen++;
		memset(tr_jc, 0, TR_JC_SIZE * sizeof(*tr_jc));
	}
	return NULL;
}

/* Written at the start of the code buffer: the prologue, then a jump to
 * the chain entry in rdx. */
static void tr_enter_emit(void)
{
	struct em e = { .p = tr_wr, .end = tr_wr + TR_ENTER_SIZE };

	emit_prologue(&e);
	b1(&e, 0xff);
	b1(&e, 0xe2);                                   /* jmp rdx */
	if (e.full)
		abort();
	tr_enter_code = (uint64_t (*)(struct x86 *, struct insn *, void *))
		(void *)tr_rx;
	tr_used = TR_ENTER_SIZE;
}

void *tr_jc_find(uint64_t lin, bool user, bool a20, uint8_t mode,
		 uint32_t csbase)
{
	const struct tr_jc *j;

	if (!tr_jc)
		return NULL;
	j = &tr_jc[tr_jc_index(lin)];
	return j->key == tr_jc_key(lin, user, a20, mode, csbase) ?
	       j->chain : NULL;
}

uint64_t tr_enter(struct x86 *c, struct insn *i, void *chain)
{
	return tr_enter_code(c, i, chain);
}
