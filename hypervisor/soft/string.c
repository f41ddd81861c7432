/*
 * String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, with the
 * REP/REPE/REPNE prefixes and the direction flag.
 *
 * A REP instruction runs a bounded batch of iterations per step and stays
 * at the same rip until rCX reaches zero, so interrupts are taken between
 * batches as on hardware.  REP INS/OUTS go to the device model as one
 * string request per page (the ioreq ABI's count > 1), not one per
 * element.
 */
#include "hypervisor/soft/alu.h"
#include "hypervisor/soft/exec.h"

#define REP_BATCH 4096

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t amask(const struct insn *i)
{
	return szmask(i->asize);
}

static uint64_t idx(struct x86 *c, const struct insn *i, int r)
{
	return c->r[r] & amask(i);
}

static void idx_step(struct x86 *c, const struct insn *i, int r,
		     unsigned size, uint64_t n)
{
	uint64_t m = amask(i);
	uint64_t d = (c->flags & F_DF) ? (uint64_t)-(int64_t)(size * n)
				       : size * n;

	c->r[r] = (c->r[r] & ~m) | ((c->r[r] + d) & m);
}

static void cx_dec(struct x86 *c, const struct insn *i, uint64_t n)
{
	uint64_t m = amask(i);

	c->r[R_CX] = (c->r[R_CX] & ~m) | ((c->r[R_CX] - n) & m);
}

/*
 * REP INS/OUTS of up to one page of elements in one request.  Returns the
 * elements done (0: do it element by element instead).
 */
static uint64_t string_io_fast(struct x86 *c, struct insn *i, bool in,
			       unsigned size, uint64_t max)
{
	int seg = in ? S_ES : (i->seg != S_NONE ? i->seg : S_DS);
	int r = in ? R_DI : R_SI;
	uint64_t off = idx(c, i, r);
	bool df = c->flags & F_DF;
	uint64_t lin, pa, room, n, avail = 0;
	bool ro;

	if (!c->bus->pio_string || max < 2)
		return 0;
	lin = x86_linear(c, seg, off, size, in ? ACC_WRITE : ACC_READ);
	if (lin & (size - 1))
		return 0;
	/* Elements that fit in this page, in the direction of travel. */
	room = df ? ((lin & 0xfff) / size) + 1
		  : (0x1000 - (lin & 0xfff)) / size;
	n = max < room ? max : room;
	/* The segment limit must allow all of them. */
	if (!i->mode64 && x86_pe(c)) {
		uint64_t lo = df ? off - (n - 1) * size : off;
		uint64_t hi = df ? off + size - 1 : off + n * size - 1;

		if (lo > off + size || hi > c->seg[seg].limit)
			return 0;
	}
	if (!df && ((off + n * size - 1) & amask(i)) < off)
		return 0;     /* the index would wrap */
	if (df && off < (n - 1) * size)
		return 0;
	pa = x86_translate(c, lin, in ? ACC_WRITE : ACC_READ, c->cpl == 3);
	uint8_t *p = x86_ram(c, pa & ~0xfffull, &avail, &ro);
	if (!p || avail < 0x1000 || (in && ro))
		return 0;
	c->blk_stop = true;     /* as port_in/port_out */
	if (c->bus->pio_string(c->bus->opaque, (uint16_t)c->r[R_DX], size,
			       !in, pa, (uint32_t)n, df)) {
		c->io_abort = true;
		longjmp(c->fault, -1);
	}
	return n;
}

#define FAST_NEVER (~0ull)

/* Whole elements from off to the end of its page in the direction of
 * travel (0 when the first one crosses the page end). */
static uint64_t page_room(uint64_t off, unsigned size, bool df)
{
	if (df)
		return (off & 0xfff) + size <= 0x1000 ? (off & 0xfff) / size + 1
						      : 0;
	return (0x1000 - (off & 0xfff)) / size;
}

/*
 * REP MOVS/STOS in 64-bit code with 64-bit addresses: the elements that
 * lie in one page of each operand, when the TLB lets the inline path at
 * them (RAM, rights, dirty), as one host copy or fill.  Returns the
 * elements done: 0 to take the element-by-element path for one element
 * (which also fills the TLB or raises the fault), FAST_NEVER when this
 * instruction cannot take this path at all.  Overlapping operands are
 * copied as one move only when the direction of travel makes that the
 * same as element by element (ascending with the destination below the
 * source, descending with it above); otherwise the copy can read what
 * it wrote and goes element by element.
 */
static uint64_t string_mem_fast(struct x86 *c, struct insn *i, int src_seg,
				unsigned size, uint64_t max)
{
	bool df = c->flags & F_DF, movs = i->op <= 0xa5;
	uint64_t di = c->r[R_DI], si = c->r[R_SI];
	uint64_t n = page_room(di, size, df), bytes, back;
	uint8_t *d, *src = NULL;

	if (!i->mode64 || i->asize != 8)
		return FAST_NEVER;
	if (movs && page_room(si, size, df) < n)
		n = page_room(si, size, df);
	if (n > max)
		n = max;
	if (n < 2)
		return 0;
	bytes = n * size;
	back = df ? (n - 1) * size : 0;         /* to the lowest element */
	d = x86_host_fast(c, S_ES, di - back, (unsigned)bytes, ACC_WRITE);
	if (!d)
		return 0;
	if (movs) {
		src = x86_host_fast(c, src_seg, si - back, (unsigned)bytes,
				    ACC_READ);
		if (!src)
			return 0;
		if (src < d + bytes && d < src + bytes &&
		    (df ? d < src : d > src))
			return FAST_NEVER;
	}
	x86_code_store(c, d, (unsigned)bytes);
	if (src) {
		memmove(d, src, bytes);
	} else {
		uint64_t v = c->r[R_AX];

		if (size == 1) {
			memset(d, (int)(v & 0xff), bytes);
		} else {
			for (uint64_t k = 0; k < n; k++)
				host_store(d + k * size, v, size);
		}
	}
	return n;
}

/* REP MOVS/STOS through string_mem_fast: up to max elements (and RCX)
 * done, the index and count registers moved past them; 0 when this
 * round must go element by element, and *fast cleared when the rest of
 * the instruction must. */
static uint64_t string_fast(struct x86 *c, struct insn *i, int src_seg,
			    unsigned size, uint64_t max, bool *fast)
{
	uint64_t k = string_mem_fast(c, i, src_seg, size,
				     min_u64(idx(c, i, R_CX), max));

	if (k == FAST_NEVER) {
		*fast = false;
		return 0;
	}
	if (k) {
		if (i->op <= 0xa5)              /* MOVS */
			idx_step(c, i, R_SI, size, k);
		idx_step(c, i, R_DI, size, k);
		cx_dec(c, i, k);
	}
	return k;
}

void exec_string(struct x86 *c, struct insn *i)
{
	uint8_t op = i->op;
	unsigned size = (op & 1) ? i->osize : 1;
	bool rep = i->rep || i->repne;
	int src_seg = i->seg != S_NONE ? i->seg : S_DS;
	uint64_t n = 0, limit = rep ? REP_BATCH : 1;
	bool in_out = op >= 0x6c && op <= 0x6f;
	bool fast = true;       /* string_mem_fast may apply */

	if (in_out && size == 8)
		size = 4;
	if (rep && idx(c, i, R_CX) == 0)
		return;
	if (in_out)
		io_check(c, (uint16_t)c->r[R_DX], size);

	while (n < limit) {
		uint64_t v, a, k;
		bool stop = false, counted = false;

		switch (op) {
		case 0x6c: case 0x6d:                   /* INS */
			if (rep) {
				uint64_t left = idx(c, i, R_CX);
				k = string_io_fast(c, i, true, size, left);
				if (k) {
					idx_step(c, i, R_DI, size, k);
					cx_dec(c, i, k);
					n += k;
					counted = true;
					break;
				}
			}
			/* Probe the destination before reading the port: a
			 * fault must not lose the port's data. */
			x86_translate(c, x86_linear(c, S_ES, idx(c, i, R_DI),
						    size, ACC_WRITE),
				      ACC_WRITE, c->cpl == 3);
			v = port_in(c, (uint16_t)c->r[R_DX], size);
			x86_write(c, S_ES, idx(c, i, R_DI), v, size);
			idx_step(c, i, R_DI, size, 1);
			break;
		case 0x6e: case 0x6f:                   /* OUTS */
			if (rep) {
				uint64_t left = idx(c, i, R_CX);
				k = string_io_fast(c, i, false, size, left);
				if (k) {
					idx_step(c, i, R_SI, size, k);
					cx_dec(c, i, k);
					n += k;
					counted = true;
					break;
				}
			}
			v = x86_read(c, src_seg, idx(c, i, R_SI), size);
			port_out(c, (uint16_t)c->r[R_DX], size, v);
			idx_step(c, i, R_SI, size, 1);
			break;
		case 0xa4: case 0xa5:                   /* MOVS */
			if (rep && fast &&
			    (k = string_fast(c, i, src_seg, size, limit - n,
					     &fast))) {
				n += k;
				counted = true;
				break;
			}
			v = x86_read(c, src_seg, idx(c, i, R_SI), size);
			x86_write(c, S_ES, idx(c, i, R_DI), v, size);
			idx_step(c, i, R_SI, size, 1);
			idx_step(c, i, R_DI, size, 1);
			break;
		case 0xa6: case 0xa7:                   /* CMPS */
			v = x86_read(c, src_seg, idx(c, i, R_SI), size);
			a = x86_read(c, S_ES, idx(c, i, R_DI), size);
			alu_sub(&c->flags, v, a, 0, size);
			idx_step(c, i, R_SI, size, 1);
			idx_step(c, i, R_DI, size, 1);
			if (rep)
				stop = i->rep ? !(c->flags & F_ZF)
					      : (c->flags & F_ZF);
			break;
		case 0xaa: case 0xab:                   /* STOS */
			if (rep && fast &&
			    (k = string_fast(c, i, src_seg, size, limit - n,
					     &fast))) {
				n += k;
				counted = true;
				break;
			}
			x86_write(c, S_ES, idx(c, i, R_DI),
				  reg_get(c, i, R_AX, size), size);
			idx_step(c, i, R_DI, size, 1);
			break;
		case 0xac: case 0xad:                   /* LODS */
			v = x86_read(c, src_seg, idx(c, i, R_SI), size);
			reg_set(c, i, R_AX, size, v);
			idx_step(c, i, R_SI, size, 1);
			break;
		case 0xae: case 0xaf:                   /* SCAS */
			a = x86_read(c, S_ES, idx(c, i, R_DI), size);
			alu_sub(&c->flags, reg_get(c, i, R_AX, size), a, 0,
				size);
			idx_step(c, i, R_DI, size, 1);
			if (rep)
				stop = i->rep ? !(c->flags & F_ZF)
					      : (c->flags & F_ZF);
			break;
		}
		if (!rep)
			return;
		if (!counted) {
			cx_dec(c, i, 1);
			n++;
		}
		/* Iterations are architectural: a fault in a later one
		 * leaves the flags of this one's comparison. */
		c->saved_flags = c->flags;
		if (idx(c, i, R_CX) == 0 || stop)
			return;
	}
	/* More to do: stay on this instruction. */
	i->done = true;
}
