/*
 * Arithmetic with exact flags, for the interpreter.  Each helper takes
 * operands already truncated to `size` bytes and returns the truncated
 * result, updating the arithmetic flags in *flags as the hardware does.
 * Where the architecture leaves a flag undefined we produce what current
 * Intel and AMD parts produce in the common cases; the differential tests
 * mask those flags (see tests/soft/).
 */
#ifndef SOFT_ALU_H
#define SOFT_ALU_H

#include "hypervisor/soft/internal.h"

static inline uint64_t msb(uint64_t v, unsigned size)
{
	return (v >> (size * 8 - 1)) & 1;
}

static inline uint64_t parity(uint64_t v)
{
	return __builtin_parity((unsigned)(v & 0xff)) ? 0 : F_PF;
}

static inline __attribute__((always_inline)) void
flags_szp(uint64_t *flags, uint64_t res, unsigned size)
{
	*flags &= ~(uint64_t)(F_SF | F_ZF | F_PF);
	*flags |= (res & szmask(size)) == 0 ? F_ZF : 0;
	*flags |= msb(res, size) ? F_SF : 0;
	*flags |= parity(res);
}

static inline __attribute__((always_inline)) uint64_t
alu_add(uint64_t *flags, uint64_t a, uint64_t b,
			       unsigned cin, unsigned size)
{
	uint64_t m = szmask(size);
	uint64_t r = (a + b + cin) & m;
	bool cf = cin ? r <= a : r < a;

	*flags &= ~(uint64_t)F_ARITH;
	flags_szp(flags, r, size);
	*flags |= cf ? F_CF : 0;
	*flags |= ((a ^ b ^ r) & 0x10) ? F_AF : 0;
	*flags |= msb((a ^ r) & (b ^ r), size) ? F_OF : 0;
	return r;
}

static inline __attribute__((always_inline)) uint64_t
alu_sub(uint64_t *flags, uint64_t a, uint64_t b,
			       unsigned bin, unsigned size)
{
	uint64_t m = szmask(size);
	uint64_t r = (a - b - bin) & m;
	bool cf = bin ? a <= b : a < b;

	*flags &= ~(uint64_t)F_ARITH;
	flags_szp(flags, r, size);
	*flags |= cf ? F_CF : 0;
	*flags |= ((a ^ b ^ r) & 0x10) ? F_AF : 0;
	*flags |= msb((a ^ b) & (a ^ r), size) ? F_OF : 0;
	return r;
}

static inline uint64_t alu_logic(uint64_t *flags, uint64_t r, unsigned size)
{
	*flags &= ~(uint64_t)F_ARITH;   /* CF OF cleared, AF undefined: 0 */
	flags_szp(flags, r, size);
	return r & szmask(size);
}

/*
 * The host is an x86-64 CPU: ADD/OR/ADC/SBB/AND/SUB/XOR/CMP of 8, 16,
 * 32 or 64 bits run as the host's own instruction (CF loaded from the
 * guest's flags for ADC/SBB), and LAHF/SETO give the arithmetic flags,
 * which are the architected ones.  AF, undefined after the logical
 * operations, is cleared as alu_logic does.
 */
#define ALU_HOST_OP(INSN, T, CONS) do {                                  \
		T x_ = (T)a;                                             \
		uint32_t ax_;                                            \
		__asm__("bt $0, %k[f]\n\t" INSN " %[y], %[x]\n\t"       \
			"lahf\n\tseto %%al"                              \
			: [x] "+" CONS (x_), "=&a" (ax_)                   \
			: [y] CONS ((T)b), [f] "r" ((uint32_t)*flags)      \
			: "cc");                                         \
		r = x_;                                                  \
		hf = ax_;                                                \
	} while (0)

#define ALU_HOST_FN(NAME, T, CONS)                                       \
static inline __attribute__((always_inline)) uint64_t                    \
NAME(uint64_t *flags, int op, uint64_t a, uint64_t b)                    \
{                                                                        \
	uint64_t r, f;                                                   \
	uint32_t hf;                                                     \
									 \
	switch (op) {                                                    \
	case 0: ALU_HOST_OP("add", T, CONS); break;                      \
	case 1: ALU_HOST_OP("or", T, CONS); break;                       \
	case 2: ALU_HOST_OP("adc", T, CONS); break;                      \
	case 3: ALU_HOST_OP("sbb", T, CONS); break;                      \
	case 4: ALU_HOST_OP("and", T, CONS); break;                      \
	case 5: ALU_HOST_OP("sub", T, CONS); break;                      \
	case 6: ALU_HOST_OP("xor", T, CONS); break;                      \
	default: ALU_HOST_OP("cmp", T, CONS); break;                     \
	}                                                                \
	f = ((hf >> 8) & (F_CF | F_PF | F_AF | F_ZF | F_SF)) |           \
	    ((uint64_t)(hf & 1) << 11);                                  \
	if (op == 1 || op == 4 || op == 6)                               \
		f &= ~(uint64_t)F_AF;                                    \
	*flags = (*flags & ~(uint64_t)F_ARITH) | f;                      \
	return r;                                                        \
}
ALU_HOST_FN(alu_host8, uint8_t, "q")
ALU_HOST_FN(alu_host16, uint16_t, "r")
ALU_HOST_FN(alu_host32, uint32_t, "r")
ALU_HOST_FN(alu_host64, uint64_t, "r")
#undef ALU_HOST_FN
#undef ALU_HOST_OP

/* op: 0 add 1 or 2 adc 3 sbb 4 and 5 sub 6 xor 7 cmp */
static inline __attribute__((always_inline)) uint64_t
alu_op(uint64_t *flags, int op, uint64_t a,
			      uint64_t b, unsigned size)
{
	unsigned cf = (*flags & F_CF) ? 1 : 0;

	switch (size) {
	case 1: return alu_host8(flags, op, a, b);
	case 2: return alu_host16(flags, op, a, b);
	case 4: return alu_host32(flags, op, a, b);
	case 8: return alu_host64(flags, op, a, b);
	}

	switch (op) {
	case 0: return alu_add(flags, a, b, 0, size);
	case 1: return alu_logic(flags, a | b, size);
	case 2: return alu_add(flags, a, b, cf, size);
	case 3: return alu_sub(flags, a, b, cf, size);
	case 4: return alu_logic(flags, a & b, size);
	case 5: return alu_sub(flags, a, b, 0, size);
	case 6: return alu_logic(flags, a ^ b, size);
	default: alu_sub(flags, a, b, 0, size); return a;
	}
}

static inline uint64_t alu_inc(uint64_t *flags, uint64_t a, unsigned size)
{
	uint64_t cf = *flags & F_CF;
	uint64_t r = alu_add(flags, a, 1, 0, size);

	*flags = (*flags & ~(uint64_t)F_CF) | cf;
	return r;
}

static inline uint64_t alu_dec(uint64_t *flags, uint64_t a, unsigned size)
{
	uint64_t cf = *flags & F_CF;
	uint64_t r = alu_sub(flags, a, 1, 0, size);

	*flags = (*flags & ~(uint64_t)F_CF) | cf;
	return r;
}

/*
 * Shifts and rotates, group 2: op 0 rol 1 ror 2 rcl 3 rcr 4 shl 5 shr
 * 6 sal(=shl) 7 sar.  The count is already masked to 5 (6 for 64-bit)
 * bits; a zero count changes nothing.
 */
static inline __attribute__((always_inline)) uint64_t
alu_shift(uint64_t *flags, int op, uint64_t a,
				 unsigned count, unsigned size)
{
	unsigned bits = size * 8;
	uint64_t m = szmask(size), r = a;
	uint64_t f = *flags;
	bool cf, of;

	if (count == 0)
		return a;
	switch (op) {
	case 0: {               /* ROL */
		unsigned n = count % bits;
		r = n ? ((a << n) | (a >> (bits - n))) & m : a;
		cf = r & 1;
		of = msb(r, size) ^ cf;
		f = (f & ~(uint64_t)(F_CF | F_OF)) | (cf ? F_CF : 0) |
		    (of ? F_OF : 0);
		*flags = f;
		return r;
	}
	case 1: {               /* ROR */
		unsigned n = count % bits;
		r = n ? ((a >> n) | (a << (bits - n))) & m : a;
		cf = msb(r, size);
		of = msb(r, size) ^ ((r >> (bits - 2)) & 1);
		f = (f & ~(uint64_t)(F_CF | F_OF)) | (cf ? F_CF : 0) |
		    (of ? F_OF : 0);
		*flags = f;
		return r;
	}
	case 2: case 3: {       /* RCL, RCR through the carry */
		unsigned n = count % (bits + 1);
		unsigned c0 = (f & F_CF) ? 1 : 0;

		cf = c0;
		for (unsigned i = 0; i < n; i++) {
			if (op == 2) {
				unsigned out = (unsigned)msb(r, size);
				r = ((r << 1) | cf) & m;
				cf = out;
			} else {
				unsigned out = r & 1;
				r = (r >> 1) | ((uint64_t)cf << (bits - 1));
				cf = out;
			}
		}
		if (op == 2)
			of = msb(r, size) ^ cf;
		else
			of = msb(r, size) ^ ((r >> (bits - 2)) & 1);
		if (n == 0)
			return a;
		f = (f & ~(uint64_t)(F_CF | F_OF)) | (cf ? F_CF : 0) |
		    (of ? F_OF : 0);
		*flags = f;
		return r;
	}
	case 4: case 6:         /* SHL */
		if (count < bits) {
			r = (a << count) & m;
			cf = (a >> (bits - count)) & 1;
		} else {
			r = 0;
			cf = count == bits ? a & 1 : 0;
		}
		of = msb(r, size) ^ cf;
		break;
	case 5:                 /* SHR */
		if (count < bits) {
			r = a >> count;
			cf = (a >> (count - 1)) & 1;
		} else {
			r = 0;
			cf = count == bits ? msb(a, size) : 0;
		}
		of = msb(a, size);
		break;
	default: {              /* SAR */
		int64_t s = (int64_t)sext(a, size);
		unsigned n = count < bits ? count : bits - 1;

		r = (uint64_t)(s >> n) & m;
		cf = count < bits ? (uint64_t)(s >> (count - 1)) & 1
				  : (uint64_t)(s < 0);
		of = false;
		break;
	}
	}
	f &= ~(uint64_t)F_ARITH;
	f |= (cf ? F_CF : 0) | (of ? F_OF : 0);
	flags_szp(&f, r, size);
	*flags = f;
	return r;
}

#endif
