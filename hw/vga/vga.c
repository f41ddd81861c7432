/*
 * The VGA core: misc output, sequencer, CRT, graphics and attribute
 * controllers, the DAC, the 0xA0000-0xBFFFF window with its read and
 * write modes, Bochs VBE (dispi), and the renderer that turns video
 * memory into the console's surface.
 *
 * Video memory layout: byte 4*a+p is plane p at address a, so the planar
 * modes see four planes side by side, chain-4 (mode 13h) and VBE see
 * plain bytes, and odd/even text mode puts characters in plane 0 and
 * attributes in plane 1 of the same address, with the font in plane 2.
 *
 * Every index, address, bank and VBE geometry the guest sets is checked
 * against video memory before use; rendering reads only inside vram.
 * Nothing is drawn on a timer: the device marks the pages it wrote and
 * the console asks for an update when someone looks.  There is no
 * blinking (no cursor or attribute blink), so a still screen costs
 * nothing.
 */
#include <glib.h>
#include <string.h>

#include "hw/vga.h"
#include "ui/console.h"

#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_NUM_REGS          0xb

#define VBE_DISPI_ID0               0xb0c0
#define VBE_DISPI_ID5               0xb0c5
#define VBE_DISPI_ENABLED           0x01
#define VBE_DISPI_GETCAPS           0x02
#define VBE_DISPI_8BIT_DAC          0x20
#define VBE_DISPI_LFB_ENABLED       0x40
#define VBE_DISPI_NOCLEARMEM        0x80
#define VBE_DISPI_MAX_XRES          16000
#define VBE_DISPI_MAX_YRES          12000
#define VBE_DISPI_MAX_BPP           32

#define PAGE_SHIFT 12

enum vga_mode { MODE_BLANK, MODE_TEXT, MODE_PLANAR16, MODE_256, MODE_VBE };

/* What the last update drew; any change means a full redraw. */
struct vga_geom {
	enum vga_mode mode;
	int w, h;
	uint32_t start, line_offset;    /* bytes of vram */
	uint32_t line_compare;
	int cw, ch, cols, rows;         /* text */
	int repeat;                     /* scan lines per graphics line */
	int bpp, pan;
	uint32_t font_a, font_b;
	uint8_t ar10, ar12, ar14;
};

struct vga {
	char name[16];
	uint8_t *vram;
	uint32_t vram_size;
	struct dm_mem *mem;
	uint64_t lfb_gpa;
	bool has_vbe;

	uint8_t misc, fcr, st01;
	uint8_t sr_index, sr[8];
	uint8_t gr_index, gr[16];
	uint8_t cr_index, cr[256];
	uint8_t ar_index, ar[32];
	bool ar_flip;                   /* next 0x3c0 write is data */
	uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
	uint8_t dac_cache[3];
	uint8_t palette[768];
	uint8_t pel_mask;
	uint32_t latch;

	uint16_t vbe_index;
	uint16_t vbe_regs[VBE_DISPI_NUM_REGS];
	bool vbe_valid;                 /* geometry fits in vram */
	uint32_t vbe_start, vbe_line_offset;

	/* rendering */
	struct console *con;
	uint64_t *dirty;                /* one bit per vram page */
	uint64_t *lfb_dirty;            /* scratch for dm_mem_dirty */
	size_t dirty_words;
	bool full;                      /* palette, font or mode changed */
	struct vga_geom last;
	uint32_t *text_shadow;          /* char | attr << 8 | cursor << 16 */
	size_t text_cells;
	bool polling;
	bool lfb_notify;                /* dm_mem tells us of LFB writes */
};

static const uint32_t mask16[16] = {
	0x00000000, 0x000000ff, 0x0000ff00, 0x0000ffff,
	0x00ff0000, 0x00ff00ff, 0x00ffff00, 0x00ffffff,
	0xff000000, 0xff0000ff, 0xff00ff00, 0xff00ffff,
	0xffff0000, 0xffff00ff, 0xffffff00, 0xffffffff,
};

static void vga_mark(struct vga *s, uint32_t byte)
{
	uint32_t page = byte >> PAGE_SHIFT;

	s->dirty[page / 64] |= 1ull << (page % 64);
}

static void vga_changed(struct vga *s, bool full)
{
	if (full)
		s->full = true;
	if (s->con)
		console_touch(s->con);
}

/* ---- VBE ---- */

static bool vbe_enabled(const struct vga *s)
{
	return s->has_vbe && (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] &
			      VBE_DISPI_ENABLED);
}

static unsigned vbe_bytes_pp(unsigned bpp)
{
	return bpp == 15 ? 2 : bpp / 8;
}

/* Recompute the VBE geometry and whether it fits in video memory. */
static void vbe_update(struct vga *s)
{
	uint16_t *r = s->vbe_regs;
	uint64_t lo, need;
	unsigned bpp = r[VBE_DISPI_INDEX_BPP];

	s->vbe_valid = false;
	if (bpp != 4 && bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 &&
	    bpp != 32)
		return;
	if (!r[VBE_DISPI_INDEX_XRES] || !r[VBE_DISPI_INDEX_YRES] ||
	    r[VBE_DISPI_INDEX_XRES] > VBE_DISPI_MAX_XRES ||
	    r[VBE_DISPI_INDEX_YRES] > VBE_DISPI_MAX_YRES)
		return;
	if (r[VBE_DISPI_INDEX_VIRT_WIDTH] < r[VBE_DISPI_INDEX_XRES])
		r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
	if (bpp == 4)
		lo = r[VBE_DISPI_INDEX_VIRT_WIDTH] / 2u;
	else
		lo = (uint64_t)r[VBE_DISPI_INDEX_VIRT_WIDTH] * vbe_bytes_pp(bpp);
	if (!lo)
		return;
	r[VBE_DISPI_INDEX_VIRT_HEIGHT] =
		(uint16_t)MIN(s->vram_size / lo, 0xffff);
	s->vbe_line_offset = (uint32_t)lo;
	s->vbe_start = 0;
	need = lo * r[VBE_DISPI_INDEX_Y_OFFSET] +
	       (bpp == 4 ? r[VBE_DISPI_INDEX_X_OFFSET] / 2u
			 : (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] *
			   vbe_bytes_pp(bpp));
	if (need > s->vram_size)
		return;
	s->vbe_start = (uint32_t)need;
	need += lo * (r[VBE_DISPI_INDEX_YRES] - 1u) +
		(bpp == 4 ? r[VBE_DISPI_INDEX_XRES] / 2u
			  : (uint64_t)r[VBE_DISPI_INDEX_XRES] *
			    vbe_bytes_pp(bpp));
	if (need > s->vram_size) {
		dm_log_guest("%s: VBE mode %ux%ux%u at offset %u,%u does not "
			     "fit in %u KiB of video memory", s->name,
			     r[VBE_DISPI_INDEX_XRES], r[VBE_DISPI_INDEX_YRES],
			     bpp, r[VBE_DISPI_INDEX_X_OFFSET],
			     r[VBE_DISPI_INDEX_Y_OFFSET], s->vram_size >> 10);
		return;
	}
	s->vbe_valid = true;
}

static void vga_polling_update(struct vga *s);

uint16_t vga_vbe_read(struct vga *s, unsigned index)
{
	uint16_t *r = s->vbe_regs;

	if (index >= VBE_DISPI_NUM_REGS)
		return 0;
	if (r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
		switch (index) {
		case VBE_DISPI_INDEX_XRES: return VBE_DISPI_MAX_XRES;
		case VBE_DISPI_INDEX_YRES: return VBE_DISPI_MAX_YRES;
		case VBE_DISPI_INDEX_BPP: return VBE_DISPI_MAX_BPP;
		}
	}
	if (index == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
		return (uint16_t)(s->vram_size >> 16);
	return r[index];
}

void vga_vbe_write(struct vga *s, unsigned index, uint16_t v)
{
	uint16_t *r = s->vbe_regs;
	bool was_on = vbe_enabled(s);

	switch (index) {
	case VBE_DISPI_INDEX_ID:
		if (v >= VBE_DISPI_ID0 && v <= VBE_DISPI_ID5)
			r[index] = v;
		return;
	case VBE_DISPI_INDEX_XRES:
	case VBE_DISPI_INDEX_YRES:
	case VBE_DISPI_INDEX_BPP:
	case VBE_DISPI_INDEX_VIRT_WIDTH:
	case VBE_DISPI_INDEX_X_OFFSET:
	case VBE_DISPI_INDEX_Y_OFFSET:
		if (index == VBE_DISPI_INDEX_BPP && v == 0)
			v = 8;
		r[index] = v;
		break;
	case VBE_DISPI_INDEX_BANK:
		/* Banks count 64 KiB; one past the end of vram is refused
		 * here and any access is checked again at use. */
		if ((uint32_t)v << 16 >= s->vram_size) {
			dm_log_guest("%s: VBE bank %u beyond video memory",
				     s->name, v);
			return;
		}
		r[index] = v;
		return;
	case VBE_DISPI_INDEX_ENABLE:
		r[index] = v & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS |
				VBE_DISPI_8BIT_DAC | VBE_DISPI_LFB_ENABLED |
				VBE_DISPI_NOCLEARMEM);
		if ((v & VBE_DISPI_ENABLED) && !was_on) {
			r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
			r[VBE_DISPI_INDEX_X_OFFSET] = 0;
			r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
			r[VBE_DISPI_INDEX_BANK] = 0;
			vbe_update(s);
			if (s->vbe_valid && !(v & VBE_DISPI_NOCLEARMEM)) {
				uint64_t n = (uint64_t)s->vbe_line_offset *
					     r[VBE_DISPI_INDEX_YRES];

				memset(s->vram, 0, (size_t)MIN(n, s->vram_size));
			}
			/* The VGA side shows a 64 KiB graphics window at
			 * 0xa0000, as the VGA BIOS expects. */
			s->gr[6] = (uint8_t)((s->gr[6] & ~0x0c) | 0x05);
		}
		break;
	default:
		return;
	}
	vbe_update(s);
	vga_polling_update(s);
	vga_changed(s, true);
}

/* ---- registers ---- */

static bool port_wrong_mode(const struct vga *s, uint16_t port)
{
	/* Mono ports 0x3b? answer only in mono mode, colour 0x3d? only in
	 * colour mode (misc output bit 0). */
	return ((port & 0xfff0) == 0x3b0 && (s->misc & 1)) ||
	       ((port & 0xfff0) == 0x3d0 && !(s->misc & 1));
}

uint8_t vga_ioport_read(struct vga *s, uint16_t port)
{
	uint8_t v = 0xff;

	if (port_wrong_mode(s, port))
		return 0xff;
	switch (port) {
	case 0x3c0:
		v = s->ar_flip ? 0 : s->ar_index;
		break;
	case 0x3c1:
		v = s->ar[s->ar_index & 0x1f];
		break;
	case 0x3c2:
		v = 0;          /* input status 0: no switch sense */
		break;
	case 0x3c4:
		v = s->sr_index;
		break;
	case 0x3c5:
		v = s->sr[s->sr_index & 7];
		break;
	case 0x3c6:
		v = s->pel_mask;
		break;
	case 0x3c7:
		v = s->dac_state;
		break;
	case 0x3c8:
		v = s->dac_write_index;
		break;
	case 0x3c9:
		v = s->palette[s->dac_read_index * 3 + s->dac_sub];
		if (++s->dac_sub == 3) {
			s->dac_sub = 0;
			s->dac_read_index++;
		}
		break;
	case 0x3ca:
		v = s->fcr;
		break;
	case 0x3cc:
		v = s->misc;
		break;
	case 0x3ce:
		v = s->gr_index;
		break;
	case 0x3cf:
		v = s->gr[s->gr_index & 15];
		break;
	case 0x3b4: case 0x3d4:
		v = s->cr_index;
		break;
	case 0x3b5: case 0x3d5:
		v = s->cr[s->cr_index];
		break;
	case 0x3ba: case 0x3da:
		/* Input status 1: toggle retrace and display-enable so
		 * that polling loops see both states. */
		s->st01 ^= 0x09;
		v = s->st01;
		s->ar_flip = false;
		break;
	}
	return v;
}

void vga_ioport_write(struct vga *s, uint16_t port, uint8_t v)
{
	if (port_wrong_mode(s, port))
		return;
	switch (port) {
	case 0x3c0: case 0x3c1:
		if (!s->ar_flip) {
			if ((v ^ s->ar_index) & 0x20)
				vga_changed(s, true);
			s->ar_index = v & 0x3f;
		} else {
			unsigned i = s->ar_index & 0x1f;

			if (i < 0x15) {
				static const uint8_t wmask[0x15] = {
					[0 ... 15] = 0x3f, [16] = 0xff,
					[17] = 0xff, [18] = 0x3f,
					[19] = 0x0f, [20] = 0x0f,
				};
				s->ar[i] = v & wmask[i];
				vga_changed(s, true);
			}
		}
		s->ar_flip = !s->ar_flip;
		break;
	case 0x3c2:
		s->misc = v & ~0x10;
		vga_changed(s, true);
		break;
	case 0x3c4:
		s->sr_index = v & 7;
		break;
	case 0x3c5: {
		static const uint8_t wmask[8] = {
			0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0xff,
		};
		s->sr[s->sr_index & 7] = v & wmask[s->sr_index & 7];
		vga_changed(s, true);
		break;
	}
	case 0x3c6:
		s->pel_mask = v;
		vga_changed(s, true);
		break;
	case 0x3c7:
		s->dac_read_index = v;
		s->dac_sub = 0;
		s->dac_state = 3;
		break;
	case 0x3c8:
		s->dac_write_index = v;
		s->dac_sub = 0;
		s->dac_state = 0;
		break;
	case 0x3c9:
		s->dac_cache[s->dac_sub++] = v;
		if (s->dac_sub == 3) {
			memcpy(&s->palette[s->dac_write_index * 3],
			       s->dac_cache, 3);
			s->dac_sub = 0;
			s->dac_write_index++;
			vga_changed(s, true);
		}
		break;
	case 0x3ce:
		s->gr_index = v & 15;
		break;
	case 0x3cf: {
		static const uint8_t wmask[16] = {
			0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff,
		};
		s->gr[s->gr_index & 15] = v & wmask[s->gr_index & 15];
		vga_changed(s, true);
		break;
	}
	case 0x3b4: case 0x3d4:
		s->cr_index = v;
		break;
	case 0x3b5: case 0x3d5:
		if (s->cr_index > 0x18)
			break;
		/* CR11 bit 7 write-protects CR0-CR7, except CR7's line
		 * compare bit 4. */
		if ((s->cr[0x11] & 0x80) && s->cr_index <= 7) {
			if (s->cr_index == 7)
				s->cr[7] = (uint8_t)((s->cr[7] & ~0x10) |
						     (v & 0x10));
			break;
		}
		s->cr[s->cr_index] = v;
		vga_changed(s, s->cr_index != 0x0e && s->cr_index != 0x0f);
		break;
	case 0x3ba: case 0x3da:
		s->fcr = v & 0x10;
		break;
	}
}

/* ---- the memory window ---- */

/* Offset into the window that the graphics controller decodes, or -1. */
static int64_t window_offset(const struct vga *s, uint64_t addr)
{
	if (vbe_enabled(s) && s->vbe_regs[VBE_DISPI_INDEX_BPP] != 4)
		return addr < 0x10000 ? (int64_t)addr : -1;
	switch ((s->gr[6] >> 2) & 3) {
	case 0:
		return (int64_t)addr;
	case 1:
		return addr < 0x10000 ? (int64_t)addr : -1;
	case 2:
		return addr >= 0x10000 && addr < 0x18000 ?
		       (int64_t)addr - 0x10000 : -1;
	default:
		return addr >= 0x18000 ? (int64_t)addr - 0x18000 : -1;
	}
}

/* VBE banked modes: a plain byte of vram, bounds-checked. */
static int64_t vbe_bank_byte(const struct vga *s, uint32_t off)
{
	uint64_t b = ((uint64_t)s->vbe_regs[VBE_DISPI_INDEX_BANK] << 16) + off;

	return b < s->vram_size ? (int64_t)b : -1;
}

uint8_t vga_mem_readb(struct vga *s, uint64_t addr)
{
	int64_t off = window_offset(s, addr);
	uint32_t a, plane;

	if (off < 0)
		return 0xff;
	a = (uint32_t)off;
	if (vbe_enabled(s) && s->vbe_regs[VBE_DISPI_INDEX_BPP] != 4) {
		int64_t b = vbe_bank_byte(s, a);

		return b < 0 ? 0xff : s->vram[b];
	}
	if (s->sr[4] & 0x08) {                  /* chain 4 */
		return a < s->vram_size ? s->vram[a] : 0xff;
	}
	if (s->gr[5] & 0x10) {                  /* odd/even */
		plane = (s->gr[4] & 2) | (a & 1);
		a >>= 1;
		return (uint64_t)a * 4 + plane < s->vram_size ?
		       s->vram[a * 4 + plane] : 0xff;
	}
	if ((uint64_t)a * 4 + 4 > s->vram_size)
		return 0xff;
	memcpy(&s->latch, &s->vram[a * 4], 4);
	if (!(s->gr[5] & 0x08))                 /* read mode 0 */
		return (uint8_t)(s->latch >> ((s->gr[4] & 3) * 8));
	/* read mode 1: colour compare */
	uint32_t r = (s->latch ^ mask16[s->gr[2] & 15]) & mask16[s->gr[7] & 15];

	r |= r >> 16;
	r |= r >> 8;
	return (uint8_t)~r;
}

void vga_mem_writeb(struct vga *s, uint64_t addr, uint8_t v)
{
	int64_t off = window_offset(s, addr);
	uint32_t a, plane, val, bit_mask, wmask;
	unsigned func;

	if (off < 0)
		return;
	a = (uint32_t)off;
	if (vbe_enabled(s) && s->vbe_regs[VBE_DISPI_INDEX_BPP] != 4) {
		int64_t b = vbe_bank_byte(s, a);

		if (b < 0) {
			dm_log_guest("%s: VBE bank write beyond video memory",
				     s->name);
			return;
		}
		s->vram[b] = v;
		vga_mark(s, (uint32_t)b);
		vga_changed(s, false);
		return;
	}
	if (s->sr[4] & 0x08) {                  /* chain 4 */
		plane = a & 3;
		if ((s->sr[2] & (1u << plane)) && a < s->vram_size) {
			s->vram[a] = v;
			vga_mark(s, a);
			vga_changed(s, false);
		}
		return;
	}
	if (!(s->sr[4] & 0x04)) {               /* odd/even */
		plane = (s->gr[4] & 2) | (a & 1);
		a >>= 1;
		if ((s->sr[2] & (1u << plane)) &&
		    (uint64_t)a * 4 + plane < s->vram_size) {
			s->vram[a * 4 + plane] = v;
			vga_mark(s, a * 4);
			if (plane == 2)
				s->full = true;         /* the font */
			vga_changed(s, false);
		}
		return;
	}
	if ((uint64_t)a * 4 + 4 > s->vram_size)
		return;
	bit_mask = s->gr[8];
	switch (s->gr[5] & 3) {
	case 0: {
		unsigned rot = s->gr[3] & 7;
		uint8_t b = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));
		uint32_t set_mask = mask16[s->gr[1] & 15];

		val = b * 0x01010101u;
		val = (val & ~set_mask) | (mask16[s->gr[0] & 15] & set_mask);
		break;
	}
	case 1:
		val = s->latch;
		goto store;
	case 2:
		val = mask16[v & 15];
		break;
	default: {
		unsigned rot = s->gr[3] & 7;
		uint8_t b = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));

		bit_mask &= b;
		val = mask16[s->gr[0] & 15];
		break;
	}
	}
	func = (s->gr[3] >> 3) & 3;
	if (func == 1)
		val &= s->latch;
	else if (func == 2)
		val |= s->latch;
	else if (func == 3)
		val ^= s->latch;
	bit_mask *= 0x01010101u;
	val = (val & bit_mask) | (s->latch & ~bit_mask);
store:
	wmask = mask16[s->sr[2] & 15];
	{
		uint32_t old;

		memcpy(&old, &s->vram[a * 4], 4);
		old = (old & ~wmask) | (val & wmask);
		memcpy(&s->vram[a * 4], &old, 4);
	}
	if ((s->sr[2] & 4) && !(s->gr[6] & 1))
		s->full = true;                 /* may be the font */
	vga_mark(s, a * 4);
	vga_changed(s, false);
}

/* ---- I/O region glue ---- */

static uint64_t vga_pio_read(void *opaque, uint64_t off, unsigned size)
{
	return vga_ioport_read(opaque, (uint16_t)(0x3b0 + off));
}

static void vga_pio_write(void *opaque, uint64_t off, uint64_t v,
			  unsigned size)
{
	vga_ioport_write(opaque, (uint16_t)(0x3b0 + off), (uint8_t)v);
}

static const struct io_ops vga_pio_ops = {
	.read = vga_pio_read, .write = vga_pio_write,
	.min_size = 1, .max_size = 1,
};

static uint64_t vga_win_read(void *opaque, uint64_t off, unsigned size)
{
	return vga_mem_readb(opaque, off);
}

static void vga_win_write(void *opaque, uint64_t off, uint64_t v,
			  unsigned size)
{
	vga_mem_writeb(opaque, off, (uint8_t)v);
}

static const struct io_ops vga_win_ops = {
	.read = vga_win_read, .write = vga_win_write,
	.min_size = 1, .max_size = 1,
};

/* 0x1ce: dispi index (16 bits); 0x1cf: data (16 bits, also reached as
 * 0x1d0 by some drivers). */
static uint64_t vbe_pio_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *s = opaque;

	if (off == 0)
		return s->vbe_index;
	return vga_vbe_read(s, s->vbe_index);
}

static void vbe_pio_write(void *opaque, uint64_t off, uint64_t v,
			  unsigned size)
{
	struct vga *s = opaque;

	if (off == 0)
		s->vbe_index = (uint16_t)v;
	else
		vga_vbe_write(s, s->vbe_index, (uint16_t)v);
}

static const struct io_ops vbe_pio_ops = {
	.read = vbe_pio_read, .write = vbe_pio_write,
	.min_size = 2, .max_size = 2,
};

int vga_register_isa(struct vga *s)
{
	if (!io_region_add(IO_SPACE_PIO, 0x3b0, 0x30, &vga_pio_ops, s,
			   s->name, 0) ||
	    !io_region_add(IO_SPACE_MMIO, 0xa0000, 0x20000, &vga_win_ops, s,
			   s->name, IO_REGION_BUFFERED))
		return -1;
	if (s->has_vbe &&
	    !io_region_add(IO_SPACE_PIO, 0x1ce, 3, &vbe_pio_ops, s, "vbe", 0))
		return -1;
	return 0;
}

/* ---- rendering ---- */

static uint32_t dac_rgb(const struct vga *s, unsigned idx)
{
	const uint8_t *p = &s->palette[(idx & 0xff) * 3];
	uint32_t r = p[0], g = p[1], b = p[2];

	if (!(vbe_enabled(s) &&
	      (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC))) {
		r = ((r & 0x3f) << 2) | ((r & 0x3f) >> 4);
		g = ((g & 0x3f) << 2) | ((g & 0x3f) >> 4);
		b = ((b & 0x3f) << 2) | ((b & 0x3f) >> 4);
	}
	return r << 16 | g << 8 | b;
}

/* A 4-bit attribute colour through the attribute controller's palette
 * to a DAC index. */
static unsigned ar_colour(const struct vga *s, unsigned c)
{
	unsigned v = s->ar[c & 15];

	if (s->ar[0x10] & 0x80)
		return (v & 0x0f) | ((s->ar[0x14] & 0x0f) << 4);
	return (v & 0x3f) | ((s->ar[0x14] & 0x0c) << 4);
}

static bool range_dirty(const struct vga *s, uint64_t lo, uint64_t hi)
{
	if (hi > s->vram_size)
		hi = s->vram_size;
	for (uint64_t p = lo >> PAGE_SHIFT; p <= (hi - 1) >> PAGE_SHIFT &&
	     lo < hi; p++)
		if (s->dirty[p / 64] & (1ull << (p % 64)))
			return true;
	return false;
}

static void vga_geom(struct vga *s, struct vga_geom *g)
{
	uint32_t vde = s->cr[0x12] | ((s->cr[7] & 0x02) << 7) |
		       ((s->cr[7] & 0x40) << 3);
	unsigned shift = (s->gr[5] >> 5) & 3;

	memset(g, 0, sizeof(*g));
	if (vbe_enabled(s)) {
		if (!s->vbe_valid) {
			g->mode = MODE_BLANK;
			g->w = s->last.w ? s->last.w : 640;
			g->h = s->last.h ? s->last.h : 480;
			return;
		}
		g->mode = MODE_VBE;
		g->w = s->vbe_regs[VBE_DISPI_INDEX_XRES];
		g->h = s->vbe_regs[VBE_DISPI_INDEX_YRES];
		g->bpp = s->vbe_regs[VBE_DISPI_INDEX_BPP];
		g->start = s->vbe_start;
		g->line_offset = s->vbe_line_offset;
		if (g->bpp == 4) {      /* not drawn: planar VBE is rare */
			g->mode = MODE_BLANK;
		}
		return;
	}
	g->ar10 = s->ar[0x10];
	g->ar12 = s->ar[0x12];
	g->ar14 = s->ar[0x14];
	g->start = ((uint32_t)s->cr[0x0c] << 8 | s->cr[0x0d]);
	g->line_offset = (uint32_t)s->cr[0x13] << 3;    /* bytes of vram */
	g->line_compare = s->cr[0x18] | ((s->cr[7] & 0x10) << 4) |
			  ((s->cr[9] & 0x40) << 3);
	if (!(s->ar_index & 0x20) || (s->sr[1] & 0x20)) {
		g->mode = MODE_BLANK;
		g->w = s->last.w ? s->last.w : 640;
		g->h = s->last.h ? s->last.h : 480;
		return;
	}
	if (!(s->gr[6] & 1)) {
		unsigned sa = (s->sr[3] >> 5 & 1) << 2 | (s->sr[3] >> 2 & 3);
		unsigned sb = (s->sr[3] >> 4 & 1) << 2 | (s->sr[3] & 3);
		static const uint32_t font_base[8] = {
			0x0000, 0x4000, 0x8000, 0xc000,
			0x2000, 0x6000, 0xa000, 0xe000,
		};

		g->mode = MODE_TEXT;
		g->cw = (s->sr[1] & 1) ? 8 : 9;
		if (s->sr[1] & 8)
			g->cw *= 2;
		g->ch = (s->cr[9] & 0x1f) + 1;
		g->cols = s->cr[1] + 1;
		g->rows = (int)((vde + 1) / (unsigned)g->ch);
		if (g->rows < 1)
			g->rows = 1;
		if (g->rows > 200)
			g->rows = 200;
		g->w = g->cols * g->cw;
		g->h = g->rows * g->ch;
		g->font_a = font_base[sa];
		g->font_b = font_base[sb];
		return;
	}
	g->repeat = ((s->cr[9] & 0x1f) + 1) * ((s->cr[9] & 0x80) ? 2 : 1);
	g->h = (int)((vde + 1) / (unsigned)g->repeat);
	if (shift >= 2) {
		g->mode = MODE_256;
		g->w = (s->cr[1] + 1) * 4;
	} else if (shift == 0) {
		g->mode = MODE_PLANAR16;
		g->w = (s->cr[1] + 1) * 8;
		if (s->sr[1] & 8)
			g->w /= 2;
		g->pan = s->ar[0x13] & 7;
	} else {
		/* CGA-compatible 4-colour modes (4, 5): not drawn. */
		g->mode = MODE_BLANK;
		g->w = (s->cr[1] + 1) * 8;
	}
	if (g->h < 1)
		g->h = 1;
}

static void draw_blank(struct vga *s, const struct vga_geom *g, bool full)
{
	pixman_image_t *img = console_surface(s->con);
	pixman_color_t black = { 0, 0, 0, 0xffff };

	if (!full)
		return;
	pixman_image_fill_rectangles(PIXMAN_OP_SRC, img, &black, 1,
		&(pixman_rectangle16_t){ 0, 0,
			(uint16_t)pixman_image_get_width(img),
			(uint16_t)pixman_image_get_height(img) });
	console_dirty(s->con, 0, 0, g->w, g->h);
}

static void draw_text(struct vga *s, const struct vga_geom *g, bool full)
{
	pixman_image_t *img = console_surface(s->con);
	uint32_t *fb = pixman_image_get_data(img);
	int stride = pixman_image_get_stride(img) / 4;
	uint32_t cursor = ((uint32_t)s->cr[0x0e] << 8 | s->cr[0x0f]);
	int cur_start = s->cr[0x0a] & 0x1f, cur_end = s->cr[0x0b] & 0x1f;
	bool cur_on = !(s->cr[0x0a] & 0x20) && cur_start <= cur_end;
	size_t cells = (size_t)g->cols * g->rows;
	uint32_t pal[16];

	if (s->text_cells != cells) {
		g_free(s->text_shadow);
		s->text_shadow = g_new(uint32_t, cells);
		s->text_cells = cells;
		full = true;
	}
	for (int i = 0; i < 16; i++)
		pal[i] = dac_rgb(s, ar_colour(s, (unsigned)i));
	for (int row = 0; row < g->rows; row++) {
		int first = -1, last = -1;

		for (int col = 0; col < g->cols; col++) {
			uint32_t addr = g->start +
					(uint32_t)row * (g->line_offset / 4) +
					(uint32_t)col;
			uint32_t cell, ch, attr, fg, bg, font;
			bool cur = cur_on && addr == cursor;

			addr &= (s->vram_size / 4) - 1;
			ch = s->vram[addr * 4];
			attr = s->vram[addr * 4 + 1];
			cell = ch | attr << 8 | (uint32_t)cur << 16;
			if (!full && s->text_shadow[row * g->cols + col] == cell)
				continue;
			s->text_shadow[row * g->cols + col] = cell;
			if (first < 0)
				first = col;
			last = col;
			fg = pal[attr & 15];
			bg = pal[(s->ar[0x10] & 0x08) ? (attr >> 4) & 7
						       : attr >> 4];
			font = (attr & 8) ? g->font_a : g->font_b;
			for (int y = 0; y < g->ch; y++) {
				uint32_t fa = font + ch * 32 + (uint32_t)(y & 31);
				uint8_t bits = s->vram[(fa * 4 + 2) &
						       (s->vram_size - 1)];
				uint32_t *p = fb + (size_t)(row * g->ch + y) *
					      stride + (size_t)col * g->cw;
				int dots = (s->sr[1] & 8) ? g->cw / 2 : g->cw;
				bool ninth = dots == 9 && (s->ar[0x10] & 4) &&
					     ch >= 0xc0 && ch <= 0xdf &&
					     (bits & 1);

				if (cur && y >= cur_start && y <= cur_end)
					bits = 0xff, ninth = dots == 9;
				for (int x = 0; x < dots; x++) {
					bool on = x < 8 ? (bits >> (7 - x)) & 1
							: ninth;
					uint32_t c = on ? fg : bg;

					if (s->sr[1] & 8) {
						p[2 * x] = c;
						p[2 * x + 1] = c;
					} else {
						p[x] = c;
					}
				}
			}
		}
		if (first >= 0)
			console_dirty(s->con, first * g->cw, row * g->ch,
				      (last - first + 1) * g->cw, g->ch);
	}
}

/* Video memory bytes a graphics line of this geometry reads. */
static void line_range(const struct vga *s, const struct vga_geom *g,
		       int y, uint64_t *lo, uint64_t *hi)
{
	uint64_t base, len;

	if (g->mode == MODE_VBE) {
		base = g->start + (uint64_t)y * g->line_offset;
		len = (uint64_t)g->w * (g->bpp == 15 ? 2 : g->bpp / 8);
	} else {
		uint32_t scan = (uint32_t)y * (uint32_t)g->repeat;

		if (g->line_compare && scan >= g->line_compare)
			base = (uint64_t)((scan - g->line_compare) /
					  (uint32_t)g->repeat) *
			       g->line_offset;
		else
			base = (uint64_t)g->start * 4 +
			       (uint64_t)y * g->line_offset;
		len = g->mode == MODE_256 ? (uint64_t)g->w
					  : ((uint64_t)g->w / 8 + 1) * 4;
	}
	*lo = base;
	*hi = base + len;
}

static void draw_line(struct vga *s, const struct vga_geom *g, int y,
		      uint32_t *out, const uint32_t *pal256,
		      const uint32_t *pal16)
{
	uint64_t lo, hi;
	uint32_t mask = s->vram_size - 1;

	line_range(s, g, y, &lo, &hi);
	if (g->mode == MODE_VBE) {
		/* vbe_update checked the whole frame against vram. */
		const uint8_t *src = s->vram + lo;

		switch (g->bpp) {
		case 8:
			for (int x = 0; x < g->w; x++)
				out[x] = pal256[src[x]];
			break;
		case 15:
			for (int x = 0; x < g->w; x++) {
				uint32_t v = src[2 * x] | src[2 * x + 1] << 8;
				uint32_t r = (v >> 10) & 31, gg = (v >> 5) & 31,
					 b = v & 31;

				out[x] = (r << 3 | r >> 2) << 16 |
					 (gg << 3 | gg >> 2) << 8 |
					 (b << 3 | b >> 2);
			}
			break;
		case 16:
			for (int x = 0; x < g->w; x++) {
				uint32_t v = src[2 * x] | src[2 * x + 1] << 8;
				uint32_t r = (v >> 11) & 31, gg = (v >> 5) & 63,
					 b = v & 31;

				out[x] = (r << 3 | r >> 2) << 16 |
					 (gg << 2 | gg >> 4) << 8 |
					 (b << 3 | b >> 2);
			}
			break;
		case 24:
			for (int x = 0; x < g->w; x++)
				out[x] = (uint32_t)src[3 * x + 2] << 16 |
					 (uint32_t)src[3 * x + 1] << 8 |
					 src[3 * x];
			break;
		default:
			memcpy(out, src, (size_t)g->w * 4);
			for (int x = 0; x < g->w; x++)
				out[x] &= 0xffffff;
			break;
		}
		return;
	}
	if (g->mode == MODE_256) {
		for (int x = 0; x < g->w; x++)
			out[x] = pal256[s->vram[(lo + (uint64_t)x) & mask] &
					s->pel_mask];
		return;
	}
	/* 16-colour planar: bit 7 of each plane's byte is the leftmost. */
	for (int x = 0; x < g->w; x++) {
		unsigned px = (unsigned)x + (unsigned)g->pan;
		uint64_t a = lo + (uint64_t)(px >> 3) * 4;
		unsigned bit = 7 - (px & 7), c = 0;

		for (unsigned p = 0; p < 4; p++)
			c |= ((s->vram[(a + p) & mask] >> bit) & 1u) << p;
		out[x] = pal16[c & (g->ar12 & 15)];
	}
}

static void draw_graphics(struct vga *s, const struct vga_geom *g, bool full)
{
	pixman_image_t *img = console_surface(s->con);
	uint32_t *fb = pixman_image_get_data(img);
	int stride = pixman_image_get_stride(img) / 4;
	uint32_t pal256[256], pal16[16];
	int first = -1;

	for (int i = 0; i < 256; i++)
		pal256[i] = dac_rgb(s, (unsigned)i);
	for (int i = 0; i < 16; i++)
		pal16[i] = dac_rgb(s, ar_colour(s, (unsigned)i));
	for (int y = 0; y <= g->h; y++) {
		uint64_t lo, hi;
		bool draw = false;

		if (y < g->h) {
			line_range(s, g, y, &lo, &hi);
			draw = full || range_dirty(s, lo, hi);
		}
		if (draw) {
			draw_line(s, g, y, fb + (size_t)y * stride, pal256,
				  pal16);
			if (first < 0)
				first = y;
		} else if (first >= 0) {
			console_dirty(s->con, 0, first, g->w, y - first);
			first = -1;
		}
	}
}

static void vga_update(void *opaque, bool full)
{
	struct vga *s = opaque;
	struct vga_geom g;

	if (s->mem && s->lfb_gpa && vbe_enabled(s) &&
	    dm_mem_dirty(s->mem, s->lfb_dirty) == 0)
		for (size_t i = 0; i < s->dirty_words; i++)
			s->dirty[i] |= s->lfb_dirty[i];
	vga_geom(s, &g);
	if (full || s->full || memcmp(&g, &s->last, sizeof(g))) {
		full = true;
		console_resize(s->con, g.w, g.h);
	}
	s->full = false;
	s->last = g;
	switch (g.mode) {
	case MODE_BLANK:
		draw_blank(s, &g, full);
		break;
	case MODE_TEXT:
		draw_text(s, &g, full);
		break;
	default:
		draw_graphics(s, &g, full);
		break;
	}
	memset(s->dirty, 0, s->dirty_words * 8);
}

static const struct console_hw_ops vga_console_ops = {
	.update = vga_update,
};

/* Under a hypervisor the guest writes the linear framebuffer directly:
 * poll its dirty log while a VBE mode shows (and someone looks). */
static void vga_lfb_written(void *opaque)
{
	struct vga *s = opaque;

	if (s->con)
		console_touch(s->con);
}

static void vga_polling_update(struct vga *s)
{
	bool want = s->mem && s->lfb_gpa && vbe_enabled(s) && !s->lfb_notify;

	if (want != s->polling && s->con) {
		console_set_polling(s->con, want ? 30 : 0);
		s->polling = want;
	}
}

void vga_lfb_mapped(struct vga *s, uint64_t gpa)
{
	s->lfb_gpa = gpa;
	/* Where writes are seen as they happen, no polling at all. */
	s->lfb_notify = gpa && dm_mem_set_dirty_notify(s->mem,
						       vga_lfb_written, s);
	vga_polling_update(s);
}

void vga_reset(struct vga *s)
{
	s->misc = 0;
	s->fcr = s->st01 = 0;
	s->sr_index = s->gr_index = s->cr_index = s->ar_index = 0;
	memset(s->sr, 0, sizeof(s->sr));
	memset(s->gr, 0, sizeof(s->gr));
	memset(s->cr, 0, sizeof(s->cr));
	memset(s->ar, 0, sizeof(s->ar));
	s->ar_flip = false;
	s->dac_read_index = s->dac_write_index = s->dac_sub = 0;
	s->dac_state = 0;
	s->pel_mask = 0xff;
	s->latch = 0;
	s->vbe_index = 0;
	memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
	s->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
	s->vbe_regs[VBE_DISPI_INDEX_BPP] = 8;
	s->vbe_valid = false;
	vga_polling_update(s);
	vga_changed(s, true);
}

static void vga_reset_cb(void *opaque)
{
	vga_reset(opaque);
}

struct vga *vga_create(uint8_t *vram, uint32_t vram_size,
		       struct dm_mem *mem, bool vbe, const char *name)
{
	struct vga *s;

	if (vram_size < (256u << 10) || (vram_size & (vram_size - 1)))
		return NULL;
	s = g_new0(struct vga, 1);
	g_strlcpy(s->name, name, sizeof(s->name));
	s->vram = vram;
	s->vram_size = vram_size;
	s->mem = mem;
	s->has_vbe = vbe;
	s->dirty_words = ((vram_size >> PAGE_SHIFT) + 63) / 64;
	s->dirty = g_new0(uint64_t, s->dirty_words);
	s->lfb_dirty = g_new0(uint64_t, s->dirty_words);
	s->con = console_new(name, &vga_console_ops, s);
	vga_reset(s);
	dm_register_reset(vga_reset_cb, s);
	return s;
}
