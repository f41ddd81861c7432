/*
 * MMX, SSE and SSE2: the 0F-map instructions on XMM and MMX registers,
 * MXCSR, LDMXCSR/STMXCSR.
 *
 * The host is an x86-64 CPU, so every lane operation is done by the host's
 * own SSE2 instruction (compiler intrinsics): results, rounding, NaN
 * propagation and exception flags are the hardware's by construction.
 * Floating-point operations run with the guest's MXCSR loaded (all
 * exceptions masked on the host); the flags they raise are merged into
 * the guest MXCSR, and an exception the guest left unmasked becomes #XM
 * (or #UD without CR4.OSXMMEXCPT) with the destination unchanged.  With
 * overflow or underflow unmasked, the flags a masked run cannot give are
 * worked out lane by lane (see exact_flags).
 *
 * Decoding: the mandatory prefix (none, 66, F3, F2) selects the variant;
 * 66 is not an operand-size prefix here except for MOVD/MOVQ's REX.W.
 * Without a prefix the integer instructions work on MMX registers (the
 * x87 registers' mantissas).
 */
#include <emmintrin.h>
#include <string.h>

#include "hypervisor/soft/exec.h"

enum { P_NONE, P_66, P_F3, P_F2 };

#define MXCSR_MASK 0xffffu     /* DAZ supported */

static unsigned prefix(const struct insn *i)
{
	if (i->repne)
		return P_F2;
	if (i->rep)
		return P_F3;
	return i->prefix66 ? P_66 : P_NONE;
}

/* ---- state checks ---- */

static void sse_check(struct x86 *c)
{
	if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
		x86_raise_noerr(c, X86_UD);
	if (c->cr0 & CR0_TS)
		x86_raise_noerr(c, X86_NM);
}

static void mmx_check(struct x86 *c)
{
	if (c->cr0 & CR0_EM)
		x86_raise_noerr(c, X86_UD);
	if (c->cr0 & CR0_TS)
		x86_raise_noerr(c, X86_NM);
}

/* MMX instructions put the x87 in MMX mode: TOP 0, all tags valid. */
static void mmx_enter(struct x86 *c)
{
	c->fpu_sw &= ~0x3800u;
	c->fpu_tags = 0xff;
}

static uint64_t mmx_get(struct x86 *c, unsigned r)
{
	return c->fpr[r & 7].mant;
}

static void mmx_set(struct x86 *c, unsigned r, uint64_t v)
{
	c->fpr[r & 7].mant = v;
	c->fpr[r & 7].sexp = 0xffff;
}

/* ---- memory operands ---- */

static __m128i load128(struct x86 *c, struct insn *i, bool aligned)
{
	uint64_t lo, hi;

	if (aligned && (i->ea & 15))
		x86_raise(c, X86_GP, 0);
	lo = x86_read(c, i->ea_seg, i->ea, 8);
	hi = x86_read(c, i->ea_seg, (i->ea + 8) & szmask(i->asize), 8);
	return _mm_set_epi64x((long long)hi, (long long)lo);
}

static void store128(struct x86 *c, struct insn *i, __m128i v, bool aligned)
{
	uint64_t q[2];

	if (aligned && (i->ea & 15))
		x86_raise(c, X86_GP, 0);
	memcpy(q, &v, 16);
	/* Probe the second half first so a fault leaves memory as it was. */
	x86_linear(c, i->ea_seg, (i->ea + 8) & szmask(i->asize), 8, ACC_WRITE);
	x86_write(c, i->ea_seg, (i->ea + 8) & szmask(i->asize), q[1], 8);
	x86_write(c, i->ea_seg, i->ea, q[0], 8);
}

static __m128i xget(struct x86 *c, unsigned r)
{
	__m128i v;

	memcpy(&v, &c->xmm[r], 16);
	return v;
}

static void xset(struct x86 *c, unsigned r, __m128i v)
{
	memcpy(&c->xmm[r], &v, 16);
}

static __m128i from64(uint64_t v)
{
	return _mm_set_epi64x(0, (long long)v);
}

static uint64_t low64(__m128i v)
{
	return (uint64_t)_mm_cvtsi128_si64(v);
}

/* The E operand as 128 bits (XMM register or memory). */
static __m128i e128(struct x86 *c, struct insn *i, bool aligned)
{
	return i->mem ? load128(c, i, aligned) : xget(c, i->rm);
}

/* The E operand's low size bytes, zero-extended (scalar operations). */
static __m128i e_scalar(struct x86 *c, struct insn *i, unsigned size)
{
	if (!i->mem)
		return xget(c, i->rm);
	return from64(x86_read(c, i->ea_seg, i->ea, size));
}

/* ---- floating point under the guest's MXCSR ---- */

typedef __m128i (*vop_fn)(__m128i a, __m128i b);

static _Noreturn void simd_fault(struct x86 *c)
{
	x86_raise_noerr(c, (c->cr4 & CR4_OSXMMEXCPT) ? X86_XM : X86_UD);
}

/* Merge the flags an operation raised (with every exception masked on
 * the host).  An unmasked invalid, denormal or divide-by-zero stops the
 * instruction before its result exists, so only those flags are set;
 * then #XM (or #UD without CR4.OSXMMEXCPT). */
static void fp_flags(struct x86 *c, unsigned flags)
{
	unsigned unmasked = flags & ~(c->mxcsr >> 7) & 0x3f;

	if (unmasked & 0x7)
		flags &= 0x7;
	c->mxcsr |= flags;
	if (unmasked)
		simd_fault(c);
}

/* Run fn(a, b) on the host with the MXCSR csr (flags cleared, every
 * exception masked); *flags gets the six flags it raised. */
static __m128i host_run(vop_fn fn, __m128i a, __m128i b, unsigned csr,
			unsigned *flags)
{
	unsigned host = _mm_getcsr();
	__m128i r;

	_mm_setcsr((csr & 0xffc0u) | 0x1f80u);
	/* The empty asm statements keep the operation between the two
	 * MXCSR accesses. */
	__asm__ volatile("" : "+x"(a), "+x"(b));
	r = fn(a, b);
	__asm__ volatile("" : "+x"(r));
	*flags = _mm_getcsr() & 0x3f;
	_mm_setcsr(host);
	return r;
}

/* Operations that can overflow or underflow, for exact_flags. */
enum { K_ADD, K_SUB, K_MUL, K_DIV, K_CVT };

struct fpx {
	unsigned kind;
	bool dbl;               /* source lanes are doubles */
	bool packed;            /* every lane, else lane 0 only */
	vop_fn one;             /* the operation on lane 0 (scalar form) */
};

static void exact_flags(struct x86 *c, const struct fpx *x, __m128i a,
			__m128i b, unsigned *flags);

/* Run fn(a, b) with the guest's rounding, DAZ and FTZ; merge the flags.
 * Raises #XM/#UD for an unmasked exception (no result then).  x, when
 * not NULL, describes an operation that can overflow or underflow: with
 * either of those unmasked its flags are worked out lane by lane. */
static __m128i fp_run_x(struct x86 *c, vop_fn fn, __m128i a, __m128i b,
			const struct fpx *x)
{
	unsigned flags;
	__m128i r = host_run(fn, a, b, c->mxcsr, &flags);

	if (x && (c->mxcsr & 0x0c00u) != 0x0c00u &&
	    !(flags & ~(c->mxcsr >> 7) & 0x7))
		exact_flags(c, x, a, b, &flags);
	fp_flags(c, flags);
	return r;
}

static __m128i fp_run(struct x86 *c, vop_fn fn, __m128i a, __m128i b)
{
	return fp_run_x(c, fn, a, b, NULL);
}

#define F4(x) _mm_castsi128_ps(x)
#define D2(x) _mm_castsi128_pd(x)
#define I4(x) _mm_castps_si128(x)
#define ID(x) _mm_castpd_si128(x)
#define OP(name, expr) \
	static __m128i name(__m128i a, __m128i b) { (void)a; (void)b; return expr; }

OP(addps, I4(_mm_add_ps(F4(a), F4(b))))
OP(addpd, ID(_mm_add_pd(D2(a), D2(b))))
OP(addss, I4(_mm_add_ss(F4(a), F4(b))))
OP(addsd, ID(_mm_add_sd(D2(a), D2(b))))
OP(subps, I4(_mm_sub_ps(F4(a), F4(b))))
OP(subpd, ID(_mm_sub_pd(D2(a), D2(b))))
OP(subss, I4(_mm_sub_ss(F4(a), F4(b))))
OP(subsd, ID(_mm_sub_sd(D2(a), D2(b))))
OP(mulps, I4(_mm_mul_ps(F4(a), F4(b))))
OP(mulpd, ID(_mm_mul_pd(D2(a), D2(b))))
OP(mulss, I4(_mm_mul_ss(F4(a), F4(b))))
OP(mulsd, ID(_mm_mul_sd(D2(a), D2(b))))
OP(divps, I4(_mm_div_ps(F4(a), F4(b))))
OP(divpd, ID(_mm_div_pd(D2(a), D2(b))))
OP(divss, I4(_mm_div_ss(F4(a), F4(b))))
OP(divsd, ID(_mm_div_sd(D2(a), D2(b))))
OP(minps, I4(_mm_min_ps(F4(a), F4(b))))
OP(minpd, ID(_mm_min_pd(D2(a), D2(b))))
OP(minss, I4(_mm_min_ss(F4(a), F4(b))))
OP(minsd, ID(_mm_min_sd(D2(a), D2(b))))
OP(maxps, I4(_mm_max_ps(F4(a), F4(b))))
OP(maxpd, ID(_mm_max_pd(D2(a), D2(b))))
OP(maxss, I4(_mm_max_ss(F4(a), F4(b))))
OP(maxsd, ID(_mm_max_sd(D2(a), D2(b))))
OP(sqrtps, I4(_mm_sqrt_ps(F4(b))))
OP(sqrtpd, ID(_mm_sqrt_pd(D2(b))))
OP(sqrtss, I4(_mm_sqrt_ss(F4(b))))      /* merged below */
OP(sqrtsd, ID(_mm_sqrt_sd(D2(a), D2(b))))
OP(rsqrtps, I4(_mm_rsqrt_ps(F4(b))))
OP(rsqrtss, I4(_mm_rsqrt_ss(F4(b))))
OP(rcpps, I4(_mm_rcp_ps(F4(b))))
OP(rcpss, I4(_mm_rcp_ss(F4(b))))
OP(cvtps2pd, ID(_mm_cvtps_pd(F4(b))))
OP(cvtpd2ps, I4(_mm_cvtpd_ps(D2(b))))
OP(cvtss2sd, ID(_mm_cvtss_sd(D2(a), F4(b))))
OP(cvtsd2ss, I4(_mm_cvtsd_ss(F4(a), D2(b))))
OP(cvtdq2ps, I4(_mm_cvtepi32_ps(b)))
OP(cvtps2dq, _mm_cvtps_epi32(F4(b)))
OP(cvttps2dq, _mm_cvttps_epi32(F4(b)))
OP(cvtdq2pd, ID(_mm_cvtepi32_pd(b)))
OP(cvtpd2dq, _mm_cvtpd_epi32(D2(b)))
OP(cvttpd2dq, _mm_cvttpd_epi32(D2(b)))

/* ---- unmasked overflow and underflow ----
 *
 * The host runs every operation with exceptions masked, and a masked
 * run cannot tell two things hardware reports when OE or UE is unmasked:
 * an underflow is then signalled for every tiny result, exact or not
 * (masked, only for a tiny inexact one), and PE is set only when the
 * result rounded to the destination's precision with an unbounded
 * exponent is inexact (masked, the flag is about the denormalized or
 * overflowed result that gets stored).  Tininess is after rounding: the
 * unbounded-exponent result lies strictly between the smallest normals.
 *
 * So each lane is also computed on scaled operands, with the guest's
 * rounding and no DAZ/FTZ: significands in [1, 2) (mul, div, convert),
 * or both addends moved down by the larger one's exponent, where nothing
 * can overflow or underflow.  That rounding is the unbounded-exponent
 * one; its inexact flag and exponent, plus the scale, give PE and
 * tininess. */

struct ffmt {
	unsigned mbits, ebits;
	int bias;
};

static const struct ffmt FMT_S = { 23, 8, 127 }, FMT_D = { 52, 11, 1023 };

enum { FP_ZERO, FP_FINITE, FP_SPECIAL };

/* Split v into sign, unbiased exponent and fraction (denormals
 * normalized; with DAZ they are zeros). */
static int fsplit(uint64_t v, const struct ffmt *f, bool daz, unsigned *s,
		  int *e, uint64_t *frac)
{
	uint64_t fm = (1ull << f->mbits) - 1;
	unsigned field = (unsigned)(v >> f->mbits) & ((1u << f->ebits) - 1);

	*s = (unsigned)(v >> (f->mbits + f->ebits)) & 1;
	*frac = v & fm;
	if (field == (1u << f->ebits) - 1)
		return FP_SPECIAL;
	if (field == 0) {
		unsigned top;

		if (*frac == 0 || daz)
			return FP_ZERO;
		top = 63u - (unsigned)__builtin_clzll(*frac);
		*e = 1 - f->bias - (int)(f->mbits - top);
		*frac = (*frac << (f->mbits - top)) & fm;
		return FP_FINITE;
	}
	*e = (int)field - f->bias;
	return FP_FINITE;
}

/* The normal number with this sign, unbiased exponent and fraction. */
static uint64_t fmake(unsigned s, int e, uint64_t frac, const struct ffmt *f)
{
	return (uint64_t)s << (f->mbits + f->ebits) |
	       (uint64_t)(e + f->bias) << f->mbits | frac;
}

static uint64_t lane_get(__m128i v, bool dbl, unsigned k)
{
	uint64_t q[2];
	uint32_t d[4];

	if (dbl) {
		memcpy(q, &v, 16);
		return q[k];
	}
	memcpy(d, &v, 16);
	return d[k];
}

/* One lane, scaled as described above: its operands moved into range,
 * the operation run with rounding mode rc only, and the exponent the
 * scaling took off (*scale).  False when the lane cannot overflow or
 * underflow (a zero, infinite or NaN operand). */
static bool lane_scaled(const struct fpx *x, uint64_t a, uint64_t b,
			unsigned csr, uint64_t *r, unsigned *flags,
			int *scale)
{
	const struct ffmt *f = x->dbl ? &FMT_D : &FMT_S;
	bool daz = csr & 0x40;
	unsigned sa = 0, sb, ca = FP_ZERO, cb;
	int ea = 0, eb = 0;
	uint64_t fa = 0, fb;

	cb = (unsigned)fsplit(b, f, daz, &sb, &eb, &fb);
	if (x->kind != K_CVT)
		ca = (unsigned)fsplit(a, f, daz, &sa, &ea, &fa);
	if (ca == FP_SPECIAL || cb == FP_SPECIAL)
		return false;
	switch (x->kind) {
	case K_CVT:
		if (cb == FP_ZERO)
			return false;
		b = fmake(sb, 0, fb, f);
		*scale = eb;
		break;
	case K_MUL: case K_DIV:
		if (ca == FP_ZERO || cb == FP_ZERO)
			return false;
		a = fmake(sa, 0, fa, f);
		b = fmake(sb, 0, fb, f);
		*scale = x->kind == K_MUL ? ea + eb : ea - eb;
		break;
	default: {              /* add, sub */
		int k = ca == FP_ZERO ? eb : cb == FP_ZERO ? ea :
			ea > eb ? ea : eb;
		int emin = 1 - f->bias;

		if (ca == FP_ZERO && cb == FP_ZERO)
			return false;
		/* An addend that would fall below the normal range is far
		 * under half an ulp of the other: only its sign and being
		 * nonzero matter to the rounding, so the smallest normal
		 * stands in for it. */
		a = ca == FP_ZERO ? (uint64_t)sa << (f->mbits + f->ebits) :
		    ea - k < emin ? fmake(sa, emin, 0, f) :
				    fmake(sa, ea - k, fa, f);
		b = cb == FP_ZERO ? (uint64_t)sb << (f->mbits + f->ebits) :
		    eb - k < emin ? fmake(sb, emin, 0, f) :
				    fmake(sb, eb - k, fb, f);
		*scale = k;
		break;
	}
	}
	*r = lane_get(host_run(x->one, from64(a), from64(b), csr & 0x6000u,
			       flags), x->dbl && x->kind != K_CVT, 0);
	return true;
}

/* The flags of an operation with OE or UE unmasked: per lane, the
 * masked run's, except that a lane raising an unmasked OE or UE reports
 * that flag, its pre-computation flags and PE for the unbounded-exponent
 * result.  *flags comes in as the whole masked run's. */
static void exact_flags(struct x86 *c, const struct fpx *x, __m128i a,
			__m128i b, unsigned *flags)
{
	const struct ffmt *out = x->dbl && x->kind != K_CVT ? &FMT_D : &FMT_S;
	unsigned lanes = x->packed ? (x->dbl ? 2 : 4) : 1;
	bool om = !(c->mxcsr & 0x400), um = !(c->mxcsr & 0x800);
	unsigned all = 0;

	for (unsigned k = 0; k < lanes; k++) {
		uint64_t la = lane_get(a, x->dbl, k), lb = lane_get(b, x->dbl, k);
		unsigned lf, sf, s;
		uint64_t r, frac;
		int scale, e;

		host_run(x->one, from64(la), from64(lb), c->mxcsr, &lf);
		if (((om && (lf & 0x08)) || um) &&
		    lane_scaled(x, la, lb, c->mxcsr, &r, &sf, &scale)) {
			bool tiny = fsplit(r, out, false, &s, &e, &frac) ==
				    FP_FINITE && e + scale < 1 - out->bias;

			if (om && (lf & 0x08))
				lf = (lf & 0x07) | 0x08 | (sf & 0x20);
			else if (um && tiny)
				lf = (lf & 0x07) | 0x10 | (sf & 0x20);
		}
		all |= lf;
	}
	*flags = all;
}

/* Only the low lane of these comes from b; the rest of a stays. */
static __m128i merge_ss(__m128i a, __m128i r)
{
	return I4(_mm_move_ss(F4(a), F4(r)));
}

static __m128i cmp_ps(__m128i a, __m128i b, unsigned pred)
{
	switch (pred & 7) {
	case 0: return I4(_mm_cmpeq_ps(F4(a), F4(b)));
	case 1: return I4(_mm_cmplt_ps(F4(a), F4(b)));
	case 2: return I4(_mm_cmple_ps(F4(a), F4(b)));
	case 3: return I4(_mm_cmpunord_ps(F4(a), F4(b)));
	case 4: return I4(_mm_cmpneq_ps(F4(a), F4(b)));
	case 5: return I4(_mm_cmpnlt_ps(F4(a), F4(b)));
	case 6: return I4(_mm_cmpnle_ps(F4(a), F4(b)));
	}
	return I4(_mm_cmpord_ps(F4(a), F4(b)));
}

static __m128i cmp_pd(__m128i a, __m128i b, unsigned pred)
{
	switch (pred & 7) {
	case 0: return ID(_mm_cmpeq_pd(D2(a), D2(b)));
	case 1: return ID(_mm_cmplt_pd(D2(a), D2(b)));
	case 2: return ID(_mm_cmple_pd(D2(a), D2(b)));
	case 3: return ID(_mm_cmpunord_pd(D2(a), D2(b)));
	case 4: return ID(_mm_cmpneq_pd(D2(a), D2(b)));
	case 5: return ID(_mm_cmpnlt_pd(D2(a), D2(b)));
	case 6: return ID(_mm_cmpnle_pd(D2(a), D2(b)));
	}
	return ID(_mm_cmpord_pd(D2(a), D2(b)));
}

/* Scalar compares touch only the low lane (the others must not raise
 * exception flags). */
static __m128i cmp_ss(__m128i a, __m128i b, unsigned pred)
{
	switch (pred & 7) {
	case 0: return I4(_mm_cmpeq_ss(F4(a), F4(b)));
	case 1: return I4(_mm_cmplt_ss(F4(a), F4(b)));
	case 2: return I4(_mm_cmple_ss(F4(a), F4(b)));
	case 3: return I4(_mm_cmpunord_ss(F4(a), F4(b)));
	case 4: return I4(_mm_cmpneq_ss(F4(a), F4(b)));
	case 5: return I4(_mm_cmpnlt_ss(F4(a), F4(b)));
	case 6: return I4(_mm_cmpnle_ss(F4(a), F4(b)));
	}
	return I4(_mm_cmpord_ss(F4(a), F4(b)));
}

static __m128i cmp_sd(__m128i a, __m128i b, unsigned pred)
{
	switch (pred & 7) {
	case 0: return ID(_mm_cmpeq_sd(D2(a), D2(b)));
	case 1: return ID(_mm_cmplt_sd(D2(a), D2(b)));
	case 2: return ID(_mm_cmple_sd(D2(a), D2(b)));
	case 3: return ID(_mm_cmpunord_sd(D2(a), D2(b)));
	case 4: return ID(_mm_cmpneq_sd(D2(a), D2(b)));
	case 5: return ID(_mm_cmpnlt_sd(D2(a), D2(b)));
	case 6: return ID(_mm_cmpnle_sd(D2(a), D2(b)));
	}
	return ID(_mm_cmpord_sd(D2(a), D2(b)));
}

/* CMPccPS/PD/SS/SD: the predicate travels in a static (one CPU runs on
 * one thread, and fp_run calls straight back). */
static __thread unsigned cmp_pred;
OP(cmpps_fn, cmp_ps(a, b, cmp_pred))
OP(cmppd_fn, cmp_pd(a, b, cmp_pred))
OP(cmpss_fn, cmp_ss(a, b, cmp_pred))
OP(cmpsd_fn, cmp_sd(a, b, cmp_pred))

/* ---- integer lane operations (no MXCSR involvement) ---- */

OP(punpcklbw, _mm_unpacklo_epi8(a, b))
OP(punpcklwd, _mm_unpacklo_epi16(a, b))
OP(punpckldq, _mm_unpacklo_epi32(a, b))
OP(punpcklqdq, _mm_unpacklo_epi64(a, b))
OP(punpckhbw, _mm_unpackhi_epi8(a, b))
OP(punpckhwd, _mm_unpackhi_epi16(a, b))
OP(punpckhdq, _mm_unpackhi_epi32(a, b))
OP(punpckhqdq, _mm_unpackhi_epi64(a, b))
OP(packsswb, _mm_packs_epi16(a, b))
OP(packssdw, _mm_packs_epi32(a, b))
OP(packuswb, _mm_packus_epi16(a, b))
OP(pcmpgtb, _mm_cmpgt_epi8(a, b))
OP(pcmpgtw, _mm_cmpgt_epi16(a, b))
OP(pcmpgtd, _mm_cmpgt_epi32(a, b))
OP(pcmpeqb, _mm_cmpeq_epi8(a, b))
OP(pcmpeqw, _mm_cmpeq_epi16(a, b))
OP(pcmpeqd, _mm_cmpeq_epi32(a, b))
OP(psrlw, _mm_srl_epi16(a, b))
OP(psrld, _mm_srl_epi32(a, b))
OP(psrlq, _mm_srl_epi64(a, b))
OP(psraw, _mm_sra_epi16(a, b))
OP(psrad, _mm_sra_epi32(a, b))
OP(psllw, _mm_sll_epi16(a, b))
OP(pslld, _mm_sll_epi32(a, b))
OP(psllq, _mm_sll_epi64(a, b))
OP(paddq, _mm_add_epi64(a, b))
OP(pmullw, _mm_mullo_epi16(a, b))
OP(psubusb, _mm_subs_epu8(a, b))
OP(psubusw, _mm_subs_epu16(a, b))
OP(pminub, _mm_min_epu8(a, b))
OP(pand, _mm_and_si128(a, b))
OP(paddusb, _mm_adds_epu8(a, b))
OP(paddusw, _mm_adds_epu16(a, b))
OP(pmaxub, _mm_max_epu8(a, b))
OP(pandn, _mm_andnot_si128(a, b))
OP(pavgb, _mm_avg_epu8(a, b))
OP(pavgw, _mm_avg_epu16(a, b))
OP(pmulhuw, _mm_mulhi_epu16(a, b))
OP(pmulhw, _mm_mulhi_epi16(a, b))
OP(psubsb, _mm_subs_epi8(a, b))
OP(psubsw, _mm_subs_epi16(a, b))
OP(pminsw, _mm_min_epi16(a, b))
OP(por, _mm_or_si128(a, b))
OP(paddsb, _mm_adds_epi8(a, b))
OP(paddsw, _mm_adds_epi16(a, b))
OP(pmaxsw, _mm_max_epi16(a, b))
OP(pxor, _mm_xor_si128(a, b))
OP(pmuludq, _mm_mul_epu32(a, b))
OP(pmaddwd, _mm_madd_epi16(a, b))
OP(psadbw, _mm_sad_epu8(a, b))
OP(psubb, _mm_sub_epi8(a, b))
OP(psubw, _mm_sub_epi16(a, b))
OP(psubd, _mm_sub_epi32(a, b))
OP(psubq, _mm_sub_epi64(a, b))
OP(paddb, _mm_add_epi8(a, b))
OP(paddw, _mm_add_epi16(a, b))
OP(paddd, _mm_add_epi32(a, b))
OP(unpcklps, I4(_mm_unpacklo_ps(F4(a), F4(b))))
OP(unpckhps, I4(_mm_unpackhi_ps(F4(a), F4(b))))

/* Integer operations by opcode (0F 60..FF), MMX and SSE2 forms alike. */
static vop_fn int_op(uint8_t op)
{
	switch (op) {
	case 0x60: return punpcklbw;
	case 0x61: return punpcklwd;
	case 0x62: return punpckldq;
	case 0x63: return packsswb;
	case 0x64: return pcmpgtb;
	case 0x65: return pcmpgtw;
	case 0x66: return pcmpgtd;
	case 0x67: return packuswb;
	case 0x68: return punpckhbw;
	case 0x69: return punpckhwd;
	case 0x6a: return punpckhdq;
	case 0x6b: return packssdw;
	case 0x74: return pcmpeqb;
	case 0x75: return pcmpeqw;
	case 0x76: return pcmpeqd;
	case 0xd1: return psrlw;
	case 0xd2: return psrld;
	case 0xd3: return psrlq;
	case 0xd4: return paddq;
	case 0xd5: return pmullw;
	case 0xd8: return psubusb;
	case 0xd9: return psubusw;
	case 0xda: return pminub;
	case 0xdb: return pand;
	case 0xdc: return paddusb;
	case 0xdd: return paddusw;
	case 0xde: return pmaxub;
	case 0xdf: return pandn;
	case 0xe0: return pavgb;
	case 0xe1: return psraw;
	case 0xe2: return psrad;
	case 0xe3: return pavgw;
	case 0xe4: return pmulhuw;
	case 0xe5: return pmulhw;
	case 0xe8: return psubsb;
	case 0xe9: return psubsw;
	case 0xea: return pminsw;
	case 0xeb: return por;
	case 0xec: return paddsb;
	case 0xed: return paddsw;
	case 0xee: return pmaxsw;
	case 0xef: return pxor;
	case 0xf1: return psllw;
	case 0xf2: return pslld;
	case 0xf3: return psllq;
	case 0xf4: return pmuludq;
	case 0xf5: return pmaddwd;
	case 0xf6: return psadbw;
	case 0xf8: return psubb;
	case 0xf9: return psubw;
	case 0xfa: return psubd;
	case 0xfb: return psubq;
	case 0xfc: return paddb;
	case 0xfd: return paddw;
	case 0xfe: return paddd;
	}
	return NULL;
}

/* The MMX form of a 128-bit lane operation on 64-bit operands.  Packs
 * and high unpacks see the two 64-bit halves differently. */
static uint64_t mmx_apply(uint8_t op, vop_fn fn, uint64_t a, uint64_t b)
{
	__m128i va = from64(a), vb = from64(b);

	switch (op) {
	case 0x63: case 0x67: case 0x6b: {
		__m128i both = _mm_set_epi64x((long long)b, (long long)a);

		return low64(fn(both, both));
	}
	case 0x68: case 0x69: case 0x6a: {
		vop_fn lo = op == 0x68 ? punpcklbw : op == 0x69 ? punpcklwd
							 : punpckldq;
		return (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(lo(va, vb),
								      lo(va, vb)));
	}
	}
	return low64(fn(va, vb));
}

/* ---- shifts by immediate (0F 71/72/73) ---- */

static __m128i shift_imm(struct x86 *c, struct insn *i, __m128i v,
			 unsigned imm)
{
	__m128i cnt = from64(imm);
	unsigned kind = (i->op - 0x71) * 8 + (i->reg & 7);

	switch (kind) {
	case 2: return _mm_srl_epi16(v, cnt);
	case 4: return _mm_sra_epi16(v, cnt);
	case 6: return _mm_sll_epi16(v, cnt);
	case 10: return _mm_srl_epi32(v, cnt);
	case 12: return _mm_sra_epi32(v, cnt);
	case 14: return _mm_sll_epi32(v, cnt);
	case 18: return _mm_srl_epi64(v, cnt);
	case 22: return _mm_sll_epi64(v, cnt);
	case 19: case 23: {             /* PSRLDQ, PSLLDQ: bytes, XMM only */
		uint8_t in[16], out[16] = { 0 };

		if (!i->prefix66)
			undefined(c, i);
		memcpy(in, &v, 16);
		imm = imm > 16 ? 16 : imm;
		for (unsigned k = 0; k < 16; k++) {
			if (kind == 19 && k + imm < 16)
				out[k] = in[k + imm];
			if (kind == 23 && k >= imm)
				out[k] = in[k - imm];
		}
		memcpy(&v, out, 16);
		return v;
	}
	}
	undefined(c, i);
}

/* ---- shuffles ---- */

static __m128i pshufd(__m128i v, unsigned imm)
{
	uint32_t in[4], out[4];

	memcpy(in, &v, 16);
	for (unsigned k = 0; k < 4; k++)
		out[k] = in[(imm >> (2 * k)) & 3];
	memcpy(&v, out, 16);
	return v;
}

/* Shuffle four words starting at word `at` (0 low, 4 high). */
static __m128i pshufw_at(__m128i v, unsigned imm, unsigned at)
{
	uint16_t in[8], out[8];

	memcpy(in, &v, 16);
	memcpy(out, in, 16);
	for (unsigned k = 0; k < 4; k++)
		out[at + k] = in[at + ((imm >> (2 * k)) & 3)];
	memcpy(&v, out, 16);
	return v;
}

static __m128i shufps(__m128i a, __m128i b, unsigned imm)
{
	uint32_t x[4], y[4], out[4];

	memcpy(x, &a, 16);
	memcpy(y, &b, 16);
	out[0] = x[imm & 3];
	out[1] = x[(imm >> 2) & 3];
	out[2] = y[(imm >> 4) & 3];
	out[3] = y[(imm >> 6) & 3];
	memcpy(&a, out, 16);
	return a;
}

static __m128i shufpd(__m128i a, __m128i b, unsigned imm)
{
	uint64_t x[2], y[2], out[2];

	memcpy(x, &a, 16);
	memcpy(y, &b, 16);
	out[0] = x[imm & 1];
	out[1] = y[(imm >> 1) & 1];
	memcpy(&a, out, 16);
	return a;
}

/* ---- COMISS/UCOMISS ---- */

static void comis(struct x86 *c, struct insn *i, bool dbl, bool quiet)
{
	__m128i a = xget(c, i->reg), b = e_scalar(c, i, dbl ? 8 : 4);
	unsigned host = _mm_getcsr(), flags;
	int lt, eq, un;

	_mm_setcsr((c->mxcsr & 0xffc0u) | 0x1f80u);
	__asm__ volatile("" : "+x"(a), "+x"(b));
	if (dbl) {
		/* Read the flags directly: the intrinsics hide unordered. */
		uint64_t rf;
		if (quiet)
			__asm__ volatile("ucomisd %1, %2\n\tpushfq\n\tpopq %0"
					 : "=r"(rf) : "x"(b), "x"(a) : "cc");
		else
			__asm__ volatile("comisd %1, %2\n\tpushfq\n\tpopq %0"
					 : "=r"(rf) : "x"(b), "x"(a) : "cc");
		lt = rf & F_CF; eq = rf & F_ZF; un = rf & F_PF;
	} else {
		uint64_t rf;
		if (quiet)
			__asm__ volatile("ucomiss %1, %2\n\tpushfq\n\tpopq %0"
					 : "=r"(rf) : "x"(b), "x"(a) : "cc");
		else
			__asm__ volatile("comiss %1, %2\n\tpushfq\n\tpopq %0"
					 : "=r"(rf) : "x"(b), "x"(a) : "cc");
		lt = rf & F_CF; eq = rf & F_ZF; un = rf & F_PF;
	}
	flags = _mm_getcsr() & 0x3f;
	_mm_setcsr(host);
	fp_flags(c, flags);
	c->flags &= ~(uint64_t)F_ARITH;
	c->flags |= (lt ? F_CF : 0) | (eq ? F_ZF : 0) | (un ? F_PF : 0);
}

/* ---- conversions between XMM and general registers ---- */

static uint64_t cvt_to_int(struct x86 *c, struct insn *i, bool dbl,
			   bool trunc, unsigned size)
{
	__m128i v = e_scalar(c, i, dbl ? 8 : 4);
	unsigned host = _mm_getcsr(), flags;
	uint64_t r;

	_mm_setcsr((c->mxcsr & 0xffc0u) | 0x1f80u);
	__asm__ volatile("" : "+x"(v));
	if (size == 8)
		r = (uint64_t)(dbl ? (trunc ? _mm_cvttsd_si64(D2(v))
					    : _mm_cvtsd_si64(D2(v)))
				   : (trunc ? _mm_cvttss_si64(F4(v))
					    : _mm_cvtss_si64(F4(v))));
	else
		r = (uint32_t)(dbl ? (trunc ? _mm_cvttsd_si32(D2(v))
					    : _mm_cvtsd_si32(D2(v)))
				   : (trunc ? _mm_cvttss_si32(F4(v))
					    : _mm_cvtss_si32(F4(v))));
	__asm__ volatile("" : "+r"(r));
	flags = _mm_getcsr() & 0x3f;
	_mm_setcsr(host);
	fp_flags(c, flags);
	return r;
}

static __m128i cvt_from_int(struct x86 *c, __m128i a, uint64_t v, bool dbl,
			    unsigned size)
{
	unsigned host = _mm_getcsr(), flags;

	_mm_setcsr((c->mxcsr & 0xffc0u) | 0x1f80u);
	__asm__ volatile("" : "+x"(a), "+r"(v));
	if (size == 8)
		a = dbl ? ID(_mm_cvtsi64_sd(D2(a), (long long)v))
			: I4(_mm_cvtsi64_ss(F4(a), (long long)v));
	else
		a = dbl ? ID(_mm_cvtsi32_sd(D2(a), (int)v))
			: I4(_mm_cvtsi32_ss(F4(a), (int)v));
	__asm__ volatile("" : "+x"(a));
	flags = _mm_getcsr() & 0x3f;
	_mm_setcsr(host);
	fp_flags(c, flags);
	return a;
}

/* ---- LDMXCSR/STMXCSR (0F AE /2, /3) ---- */

bool exec_mxcsr(struct x86 *c, struct insn *i)
{
	unsigned r = i->reg & 7;

	if (!i->mem || (r != 2 && r != 3))
		return false;
	sse_check(c);
	if (r == 3) {
		x86_write(c, i->ea_seg, i->ea, c->mxcsr, 4);
	} else {
		uint32_t v = (uint32_t)x86_read(c, i->ea_seg, i->ea, 4);

		if (v & ~MXCSR_MASK)
			x86_raise(c, X86_GP, 0);
		c->mxcsr = v;
	}
	return true;
}

uint32_t sse_mxcsr_mask(void)
{
	return MXCSR_MASK;
}

/* ---- the instruction table ---- */

/* Packed FP ops: [op - 0x51][prefix]: ps, pd, ss, sd. */
static vop_fn fp_op(uint8_t op, unsigned p)
{
	static const vop_fn tab[][4] = {
		[0x51 - 0x51] = { sqrtps, sqrtpd, sqrtss, sqrtsd },
		[0x52 - 0x51] = { rsqrtps, NULL, rsqrtss, NULL },
		[0x53 - 0x51] = { rcpps, NULL, rcpss, NULL },
		[0x58 - 0x51] = { addps, addpd, addss, addsd },
		[0x59 - 0x51] = { mulps, mulpd, mulss, mulsd },
		[0x5a - 0x51] = { cvtps2pd, cvtpd2ps, cvtss2sd, cvtsd2ss },
		[0x5b - 0x51] = { cvtdq2ps, cvtps2dq, cvttps2dq, NULL },
		[0x5c - 0x51] = { subps, subpd, subss, subsd },
		[0x5d - 0x51] = { minps, minpd, minss, minsd },
		[0x5e - 0x51] = { divps, divpd, divss, divsd },
		[0x5f - 0x51] = { maxps, maxpd, maxss, maxsd },
	};

	if (op < 0x51 || op > 0x5f)
		return NULL;
	return tab[op - 0x51][p];
}

/* The operations of fp_op that can overflow or underflow. */
static const struct fpx *fp_ovf(uint8_t op, unsigned p)
{
	static const struct fpx tab[][4] = {
#define ROW(k, s, d) { { k, false, true, s }, { k, true, true, d }, \
		       { k, false, false, s }, { k, true, false, d } }
		ROW(K_ADD, addss, addsd), ROW(K_MUL, mulss, mulsd),
		ROW(K_SUB, subss, subsd), ROW(K_DIV, divss, divsd),
#undef ROW
	};
	static const struct fpx cvtpd2ps_x = { K_CVT, true, true, cvtsd2ss },
				cvtsd2ss_x = { K_CVT, true, false, cvtsd2ss };

	switch (op) {
	case 0x58: return &tab[0][p];
	case 0x59: return &tab[1][p];
	case 0x5c: return &tab[2][p];
	case 0x5e: return &tab[3][p];
	case 0x5a:
		return p == P_66 ? &cvtpd2ps_x : p == P_F2 ? &cvtsd2ss_x : NULL;
	}
	return NULL;
}

/* Executes the instruction when it is one of ours; false otherwise. */
bool exec_sse(struct x86 *c, struct insn *i)
{
	uint8_t op = i->op;
	unsigned p = prefix(i);
	bool scalar = p == P_F3 || p == P_F2;
	unsigned ssz = p == P_F2 ? 8 : 4;     /* scalar size */
	__m128i a, b, r;
	vop_fn fn;

	switch (op) {
	case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15:
	case 0x16: case 0x17: case 0x28: case 0x29: case 0x2a: case 0x2b:
	case 0x2c: case 0x2d: case 0x2e: case 0x2f:
	case 0x50 ... 0x7f:
	case 0xc2: case 0xc3: case 0xc4: case 0xc5: case 0xc6:
	case 0xd0 ... 0xff:
		break;
	default:
		return false;
	}
	decode_modrm(c, i);
	/* Immediates follow ModRM: fetch them before RIP-relative fixup. */
	unsigned imm = 0;
	if (op == 0x70 || op == 0x71 || op == 0x72 || op == 0x73 ||
	    op == 0xc2 || op == 0xc4 || op == 0xc5 || op == 0xc6)
		imm = (unsigned)fetch_imm(c, i, 1);
	decode_finish(c, i);

	/* MMX forms: no prefix, integer opcodes, MOVD/MOVQ, EMMS. */
	bool mmx = p == P_NONE && ((op >= 0x60 && op <= 0x7f) ||
				   op >= 0xd0 || op == 0xc4 || op == 0xc5);
	if (op == 0x2a || op == 0x2c || op == 0x2d)
		mmx = !scalar;
	if (op == 0xd6 && p != P_66)
		mmx = true;             /* MOVQ2DQ / MOVDQ2Q */
	if (mmx) {
		if (op == 0x77) {               /* EMMS */
			mmx_check(c);
			c->fpu_tags = 0;
			return true;
		}
		if (op == 0x2a || op == 0x2c || op == 0x2d || op == 0xd6 ||
		    op == 0xf7 || op == 0xe7) {
			sse_check(c);
		} else {
			if (p != P_NONE)
				undefined(c, i);
			mmx_check(c);
		}
	} else {
		sse_check(c);
	}

	switch (op) {
	case 0x10: case 0x11:           /* MOVUPS/MOVUPD/MOVSS/MOVSD */
		if (op == 0x10) {
			if (!scalar) {
				xset(c, i->reg, e128(c, i, false));
			} else if (i->mem) {
				xset(c, i->reg, from64(x86_read(c, i->ea_seg,
								i->ea, ssz)));
			} else {
				a = xget(c, i->reg);
				b = xget(c, i->rm);
				xset(c, i->reg, ssz == 4 ? merge_ss(a, b) :
				     ID(_mm_move_sd(D2(a), D2(b))));
			}
		} else {
			a = xget(c, i->reg);
			if (!scalar && i->mem) {
				store128(c, i, a, false);
			} else if (!scalar) {
				xset(c, i->rm, a);
			} else if (i->mem) {
				x86_write(c, i->ea_seg, i->ea, low64(a), ssz);
			} else {
				b = xget(c, i->rm);
				xset(c, i->rm, ssz == 4 ? merge_ss(b, a) :
				     ID(_mm_move_sd(D2(b), D2(a))));
			}
		}
		return true;
	case 0x12: case 0x13: case 0x16: case 0x17: {
		/* MOVLPS/MOVLPD/MOVHLPS (12, 13) and MOVHPS/MOVHPD/MOVLHPS
		 * (16, 17); SSE3's F3/F2 forms are not implemented. */
		bool high = op >= 0x16;

		if (scalar)
			undefined(c, i);
		if (op == 0x12 || op == 0x16) {
			uint64_t q[2];
			uint64_t v;

			if (i->mem)
				v = x86_read(c, i->ea_seg, i->ea, 8);
			else if (p == P_66)
				undefined(c, i);
			else
				v = c->xmm[i->rm].q[high ? 0 : 1];
			memcpy(q, &c->xmm[i->reg], 16);
			q[high ? 1 : 0] = v;
			memcpy(&c->xmm[i->reg], q, 16);
		} else {
			if (!i->mem)
				undefined(c, i);
			x86_write(c, i->ea_seg, i->ea,
				  c->xmm[i->reg].q[high ? 1 : 0], 8);
		}
		return true;
	}
	case 0x14: case 0x15:           /* UNPCKLPS/PD, UNPCKHPS/PD */
		if (scalar)
			undefined(c, i);
		a = xget(c, i->reg);
		b = e128(c, i, true);
		if (p == P_66)
			r = op == 0x14 ? _mm_unpacklo_epi64(a, b)
				       : _mm_unpackhi_epi64(a, b);
		else
			r = op == 0x14 ? unpcklps(a, b) : unpckhps(a, b);
		xset(c, i->reg, r);
		return true;
	case 0x28: case 0x29: case 0x2b:   /* MOVAPS/PD, MOVNTPS/PD */
		if (scalar || (op == 0x2b && !i->mem))
			undefined(c, i);
		if (op == 0x28)
			xset(c, i->reg, e128(c, i, true));
		else if (i->mem)
			store128(c, i, xget(c, i->reg), true);
		else
			xset(c, i->rm, xget(c, i->reg));
		return true;
	case 0x2a:                      /* CVTPI2PS/PD, CVTSI2SS/SD */
		if (scalar) {
			unsigned isz = i->rex & 8 ? 8 : 4;
			uint64_t v = e_read(c, i, isz);

			xset(c, i->reg, cvt_from_int(c, xget(c, i->reg), v,
						     p == P_F2, isz));
		} else {
			uint64_t v = i->mem ? x86_read(c, i->ea_seg, i->ea, 8)
					    : mmx_get(c, i->rm);
			mmx_enter(c);
			a = xget(c, i->reg);
			if (p == P_66) {
				r = fp_run(c, cvtdq2pd, from64(v), from64(v));
			} else {
				r = fp_run(c, cvtdq2ps, from64(v), from64(v));
				r = _mm_unpacklo_epi64(r, _mm_unpackhi_epi64(a, a));
			}
			xset(c, i->reg, r);
		}
		return true;
	case 0x2c: case 0x2d:           /* CVT(T)SS2SI/SD2SI, (T)PS2PI/PD2PI */
		if (scalar) {
			unsigned isz = i->rex & 8 ? 8 : 4;

			reg_set(c, i, i->reg, isz,
				cvt_to_int(c, i, p == P_F2, op == 0x2c, isz));
		} else {
			b = p == P_66 ? e128(c, i, true) : e_scalar(c, i, 8);
			if (p == P_66)
				r = fp_run(c, op == 0x2c ? cvttpd2dq : cvtpd2dq,
					   b, b);
			else
				r = fp_run(c, op == 0x2c ? cvttps2dq : cvtps2dq,
					   b, b);
			mmx_enter(c);
			mmx_set(c, i->reg, low64(r));
		}
		return true;
	case 0x2e: case 0x2f:           /* UCOMISS/SD, COMISS/SD */
		if (scalar)
			undefined(c, i);
		comis(c, i, p == P_66, op == 0x2e);
		return true;
	case 0x50:                      /* MOVMSKPS/PD */
		if (scalar || i->mem)
			undefined(c, i);
		a = xget(c, i->rm);
		reg_set(c, i, i->reg, 4, p == P_66 ?
			(unsigned)_mm_movemask_pd(D2(a)) :
			(unsigned)_mm_movemask_ps(F4(a)));
		return true;
	case 0x54: case 0x55: case 0x56: case 0x57:     /* logic */
		if (scalar)
			undefined(c, i);
		a = xget(c, i->reg);
		b = e128(c, i, true);
		r = op == 0x54 ? _mm_and_si128(a, b) :
		    op == 0x55 ? _mm_andnot_si128(a, b) :
		    op == 0x56 ? _mm_or_si128(a, b) : _mm_xor_si128(a, b);
		xset(c, i->reg, r);
		return true;
	case 0x51 ... 0x53: case 0x58 ... 0x5f:
		fn = fp_op(op, p);
		if (!fn)
			undefined(c, i);
		a = xget(c, i->reg);
		/* Scalar operands read only their lane from memory; the
		 * conversions ps<->pd read 64 bits. */
		if (op == 0x5a && p == P_NONE)
			b = e_scalar(c, i, 8);
		else if (op == 0x5b || !scalar)
			b = e128(c, i, true);
		else
			b = e_scalar(c, i, ssz);
		r = fp_run_x(c, fn, a, b, fp_ovf(op, p));
		if (op == 0x51 && p == P_F3)
			r = merge_ss(a, r);
		if ((op == 0x52 || op == 0x53) && p == P_F3)
			r = merge_ss(a, r);
		xset(c, i->reg, r);
		return true;
	case 0x6e:                      /* MOVD/MOVQ mm/xmm, r/m */
		if (i->rex & 8) {
			uint64_t v = e_read(c, i, 8);
			if (mmx) {
				mmx_enter(c);
				mmx_set(c, i->reg, v);
			} else {
				xset(c, i->reg, from64(v));
			}
		} else {
			uint64_t v = e_read(c, i, 4);
			if (mmx) {
				mmx_enter(c);
				mmx_set(c, i->reg, v);
			} else {
				xset(c, i->reg, from64(v));
			}
		}
		return true;
	case 0x7e:
		if (p == P_F3) {                /* MOVQ xmm, xmm/m64 */
			xset(c, i->reg, from64(low64(e_scalar(c, i, 8))));
			return true;
		}
		{
			unsigned sz = i->rex & 8 ? 8 : 4;
			uint64_t v = mmx ? mmx_get(c, i->reg)
					 : c->xmm[i->reg].q[0];

			if (mmx)
				mmx_enter(c);
			if (i->mem)
				x86_write(c, i->ea_seg, i->ea, v & szmask(sz), sz);
			else
				reg_set(c, i, i->rm, sz, v & szmask(sz));
		}
		return true;
	case 0x6f: case 0x7f:
		if (mmx) {                      /* MOVQ mm */
			mmx_enter(c);
			if (op == 0x6f) {
				uint64_t v = i->mem ? x86_read(c, i->ea_seg,
							       i->ea, 8)
						    : mmx_get(c, i->rm);
				mmx_set(c, i->reg, v);
			} else if (i->mem) {
				x86_write(c, i->ea_seg, i->ea,
					  mmx_get(c, i->reg), 8);
			} else {
				mmx_set(c, i->rm, mmx_get(c, i->reg));
			}
			return true;
		}
		if (p == P_F2)
			undefined(c, i);
		if (op == 0x6f)
			xset(c, i->reg, e128(c, i, p == P_66));
		else if (i->mem)
			store128(c, i, xget(c, i->reg), p == P_66);
		else
			xset(c, i->rm, xget(c, i->reg));
		return true;
	case 0x70:                      /* PSHUFW/PSHUFD/PSHUFHW/PSHUFLW */
		if (mmx) {
			uint64_t v = i->mem ? x86_read(c, i->ea_seg, i->ea, 8)
					    : mmx_get(c, i->rm);
			mmx_enter(c);
			mmx_set(c, i->reg, low64(pshufw_at(from64(v), imm, 0)));
			return true;
		}
		b = e128(c, i, true);
		r = p == P_66 ? pshufd(b, imm) :
		    p == P_F3 ? pshufw_at(b, imm, 4) : pshufw_at(b, imm, 0);
		xset(c, i->reg, r);
		return true;
	case 0x71: case 0x72: case 0x73:
		if (i->mem)
			undefined(c, i);
		if (mmx) {
			mmx_enter(c);
			mmx_set(c, i->rm, low64(shift_imm(c, i,
					from64(mmx_get(c, i->rm)), imm)));
		} else {
			xset(c, i->rm, shift_imm(c, i, xget(c, i->rm), imm));
		}
		return true;
	case 0x77:
		undefined(c, i);
	case 0x6c: case 0x6d:           /* PUNPCKLQDQ, PUNPCKHQDQ */
		if (p != P_66)
			undefined(c, i);
		a = xget(c, i->reg);
		b = e128(c, i, true);
		xset(c, i->reg, op == 0x6c ? punpcklqdq(a, b)
					   : punpckhqdq(a, b));
		return true;
	case 0xc2:                      /* CMPccPS/PD/SS/SD */
		a = xget(c, i->reg);
		b = scalar ? e_scalar(c, i, ssz) : e128(c, i, true);
		cmp_pred = imm;
		fn = p == P_NONE ? cmpps_fn : p == P_66 ? cmppd_fn :
		     p == P_F3 ? cmpss_fn : cmpsd_fn;
		xset(c, i->reg, fp_run(c, fn, a, b));
		return true;
	case 0xc3:                      /* MOVNTI */
		if (p != P_NONE || !i->mem)
			undefined(c, i);
		{
			unsigned sz = i->rex & 8 ? 8 : 4;
			x86_write(c, i->ea_seg, i->ea, reg_get(c, i, i->reg, sz),
				  sz);
		}
		return true;
	case 0xc4:                      /* PINSRW */
		{
			uint16_t v = (uint16_t)(i->mem ? x86_read(c, i->ea_seg,
								  i->ea, 2)
						       : c->r[i->rm]);
			if (mmx) {
				uint64_t m = mmx_get(c, i->reg);
				unsigned sh = 16 * (imm & 3);

				mmx_enter(c);
				m = (m & ~(0xffffull << sh)) |
				    (uint64_t)v << sh;
				mmx_set(c, i->reg, m);
			} else {
				c->xmm[i->reg].w[imm & 7] = v;
			}
		}
		return true;
	case 0xc5:                      /* PEXTRW */
		if (i->mem)
			undefined(c, i);
		if (mmx) {
			mmx_enter(c);
			reg_set(c, i, i->reg, 4,
				(mmx_get(c, i->rm) >> (16 * (imm & 3))) & 0xffff);
		} else {
			reg_set(c, i, i->reg, 4, c->xmm[i->rm].w[imm & 7]);
		}
		return true;
	case 0xc6:                      /* SHUFPS/SHUFPD */
		if (scalar)
			undefined(c, i);
		a = xget(c, i->reg);
		b = e128(c, i, true);
		xset(c, i->reg, p == P_66 ? shufpd(a, b, imm)
					  : shufps(a, b, imm));
		return true;
	case 0xd6:
		if (p == P_66) {                /* MOVQ xmm/m64, xmm */
			uint64_t v = c->xmm[i->reg].q[0];

			if (i->mem)
				x86_write(c, i->ea_seg, i->ea, v, 8);
			else
				xset(c, i->rm, from64(v));
			return true;
		}
		if (i->mem)
			undefined(c, i);
		mmx_enter(c);
		if (p == P_F3)                  /* MOVQ2DQ xmm, mm */
			xset(c, i->reg, from64(mmx_get(c, i->rm)));
		else if (p == P_F2)             /* MOVDQ2Q mm, xmm */
			mmx_set(c, i->reg, c->xmm[i->rm].q[0]);
		else
			undefined(c, i);
		return true;
	case 0xd7:                      /* PMOVMSKB */
		if (i->mem)
			undefined(c, i);
		if (mmx) {
			mmx_enter(c);
			reg_set(c, i, i->reg, 4, (unsigned)_mm_movemask_epi8(
					from64(mmx_get(c, i->rm))) & 0xff);
		} else {
			reg_set(c, i, i->reg, 4,
				(unsigned)_mm_movemask_epi8(xget(c, i->rm)));
		}
		return true;
	case 0xe6:                      /* CVTTPD2DQ, CVTDQ2PD, CVTPD2DQ */
		if (p == P_NONE)
			undefined(c, i);
		b = p == P_F3 ? e_scalar(c, i, 8) : e128(c, i, true);
		fn = p == P_66 ? cvttpd2dq : p == P_F3 ? cvtdq2pd : cvtpd2dq;
		xset(c, i->reg, fp_run(c, fn, b, b));
		return true;
	case 0xe7:                      /* MOVNTQ, MOVNTDQ */
		if (!i->mem || scalar)
			undefined(c, i);
		if (p == P_66) {
			store128(c, i, xget(c, i->reg), true);
		} else {
			mmx_enter(c);
			x86_write(c, i->ea_seg, i->ea, mmx_get(c, i->reg), 8);
		}
		return true;
	case 0xf7:                      /* MASKMOVQ, MASKMOVDQU */
		if (i->mem || scalar)
			undefined(c, i);
		{
			unsigned n = p == P_66 ? 16 : 8;
			uint8_t data[16], mask[16];
			int seg = i->seg == S_NONE ? S_DS : i->seg;
			uint64_t base = c->r[R_DI] & szmask(i->asize);

			if (p == P_66) {
				memcpy(data, &c->xmm[i->reg], 16);
				memcpy(mask, &c->xmm[i->rm], 16);
			} else {
				uint64_t d = mmx_get(c, i->reg), m = mmx_get(c, i->rm);

				mmx_enter(c);
				memcpy(data, &d, 8);
				memcpy(mask, &m, 8);
			}
			for (unsigned k = 0; k < n; k++)
				if (mask[k] & 0x80)
					x86_write(c, seg, (base + k) &
						  szmask(i->asize), data[k], 1);
		}
		return true;
	}

	/* The remaining integer operations: 0F 60..6B, 74..76, D1..FE. */
	fn = int_op(op);
	if (!fn || scalar)
		undefined(c, i);
	if (mmx) {
		uint64_t bv = i->mem ? x86_read(c, i->ea_seg, i->ea, 8)
				     : mmx_get(c, i->rm);

		mmx_enter(c);
		mmx_set(c, i->reg, mmx_apply(op, fn, mmx_get(c, i->reg), bv));
		return true;
	}
	a = xget(c, i->reg);
	b = e128(c, i, true);
	xset(c, i->reg, fn(a, b));
	return true;
}
