/*
 * Standard VGA with Bochs VBE over qtest: the PCI identity, VBE modes at
 * 8/15/16/24/32 bpp drawn through the linear framebuffer, virtual width
 * and offsets, banked access, the MMIO BAR, the DAC, text mode glyphs
 * and cursor, the planar write and read modes, mode 12h with split
 * screen and panning, mode 13h and mode X.  Every expected pixel is
 * computed from what the test wrote; screendump (PNG) shows the screen.
 * Last, the attacks of CVE-2014-3615, CVE-2016-3710 and CVE-2016-3712:
 * huge VBE sizes, banks past video memory and VGA registers rewritten
 * while VBE shows a mode.
 */
#include <stdlib.h>
#include <unistd.h>

#include "tests/qtest/vga-util.h"
#include "tests/testlib.h"

static struct qts *q;
static char *dir;
static struct image img;

static bool shot(void)
{
	return screendump(q, dir, &img) == 0;
}

static uint32_t pat32(int x, int y)
{
	return (uint32_t)((x * 4) & 0xff) << 16 | (uint32_t)((y * 5) & 0xff) << 8 |
	       (uint32_t)((x + y) & 0xff);
}

static void test_pci(void)
{
	uint32_t id = qts_pci_read(q, VGA_DEVFN, 0, 4);
	uint32_t cls = qts_pci_read(q, VGA_DEVFN, 8, 4) >> 8;
	uint32_t bar0, rom;

	test_check("vga/pci-id", id == 0x11111234, "id %#x", id);
	test_check("vga/pci-class", cls == 0x030000, "class %#x", cls);
	qts_pci_write(q, VGA_DEVFN, 0x10, 0xffffffff, 4);
	bar0 = qts_pci_read(q, VGA_DEVFN, 0x10, 4);
	test_check("vga/bar0-16mib-prefetchable", bar0 == 0xff000008,
		   "BAR0 sizes as %#x", bar0);
	qts_pci_write(q, VGA_DEVFN, 0x30, 0xfffff800, 4);
	rom = qts_pci_read(q, VGA_DEVFN, 0x30, 4);
	test_check("vga/option-rom", rom != 0 && rom != 0xfffff800,
		   "ROM BAR sizes as %#x", rom);
	qts_pci_write(q, VGA_DEVFN, 0x30, 0, 4);
	vga_pci_setup(q);
}

static void test_vbe_regs(void)
{
	vbe_write(q, 0, 0xb0c0);
	test_check("vbe/id", vbe_read(q, 0) == 0xb0c0, "id %#x", vbe_read(q, 0));
	vbe_write(q, 0, 0xb0c5);
	test_check("vbe/video-memory-64k", vbe_read(q, 0xa) == 256, "%u",
		   vbe_read(q, 0xa));
	vbe_write(q, 4, 0x02);          /* GETCAPS */
	test_check("vbe/getcaps", vbe_read(q, 1) >= 1920 &&
		   vbe_read(q, 2) >= 1080 && vbe_read(q, 3) == 32,
		   "max %ux%ux%u", vbe_read(q, 1), vbe_read(q, 2),
		   vbe_read(q, 3));
	vbe_write(q, 4, 0);
	/* The MMIO BAR: dispi index 1 at 0x502, VGA misc at 0x40c. */
	qts_writew(q, MMIO_ADDR + 0x502, 800);
	test_check("vbe/mmio-bar-dispi", vbe_read(q, 1) == 800, "xres %u",
		   vbe_read(q, 1));
	qts_outb(q, 0x3c2, 0x67);
	test_check("vga/mmio-bar-ports", qts_readb(q, MMIO_ADDR + 0x40c) == 0x67,
		   "misc %#x", qts_readb(q, MMIO_ADDR + 0x40c));
}

static void test_vbe32(void)
{
	int w = 64, h = 48, bad = 0;
	uint32_t *buf = g_new(uint32_t, (size_t)w * h);

	vbe_mode(q, w, h, 32);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			buf[y * w + x] = pat32(x, y);
	qts_memwrite(q, LFB_ADDR, buf, (size_t)w * h * 4);
	if (!shot()) {
		test_fail("vbe/32bpp", "screendump failed");
		return;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			bad += px(&img, x, y) != pat32(x, y);
	test_check("vbe/32bpp", img.w == w && img.h == h && !bad,
		   "%dx%d, %d pixels differ (0,0 is %#x)", img.w, img.h, bad,
		   px(&img, 0, 0));
	g_free(buf);
}

static uint32_t rgb565(uint16_t v)
{
	uint32_t r = v >> 11, g = (v >> 5) & 63, b = v & 31;

	return (r * 255 / 31) << 16 | (g * 255 / 63) << 8 | (b * 255 / 31);
}

static uint32_t rgb555(uint16_t v)
{
	uint32_t r = (v >> 10) & 31, g = (v >> 5) & 31, b = v & 31;

	return (r * 255 / 31) << 16 | (g * 255 / 31) << 8 | (b * 255 / 31);
}

/* Colour channels within 4 of each other (5- and 6-bit expansion may
 * round either way). */
static bool near(uint32_t a, uint32_t b)
{
	for (int s = 0; s < 24; s += 8) {
		int d = (int)((a >> s) & 0xff) - (int)((b >> s) & 0xff);

		if (d > 4 || d < -4)
			return false;
	}
	return true;
}

static void test_vbe16_15_24(void)
{
	int w = 40, h = 30, bad16 = 0, bad15 = 0, bad24 = 0;
	uint16_t *b16 = g_new(uint16_t, (size_t)w * h);
	uint8_t *b24 = g_malloc((size_t)w * h * 3);

	for (int i = 0; i < w * h; i++)
		b16[i] = (uint16_t)(i * 2654435761u >> 7);
	vbe_mode(q, w, h, 16);
	qts_memwrite(q, LFB_ADDR, b16, (size_t)w * h * 2);
	if (shot())
		for (int i = 0; i < w * h; i++)
			bad16 += !near(px(&img, i % w, i / w), rgb565(b16[i]));
	test_check("vbe/16bpp", img.w == w && img.h == h && !bad16,
		   "%dx%d, %d differ", img.w, img.h, bad16);
	vbe_mode(q, w, h, 15);
	qts_memwrite(q, LFB_ADDR, b16, (size_t)w * h * 2);
	if (shot())
		for (int i = 0; i < w * h; i++)
			bad15 += !near(px(&img, i % w, i / w), rgb555(b16[i]));
	test_check("vbe/15bpp", img.w == w && !bad15, "%d differ", bad15);
	for (int i = 0; i < w * h * 3; i++)
		b24[i] = (uint8_t)(i * 37 + 11);
	vbe_mode(q, w, h, 24);
	qts_memwrite(q, LFB_ADDR, b24, (size_t)w * h * 3);
	if (shot())
		for (int i = 0; i < w * h; i++)
			bad24 += px(&img, i % w, i / w) !=
				 ((uint32_t)b24[3 * i + 2] << 16 |
				  (uint32_t)b24[3 * i + 1] << 8 | b24[3 * i]);
	test_check("vbe/24bpp", img.w == w && !bad24, "%d differ", bad24);
	g_free(b16);
	g_free(b24);
}

static void test_vbe8_dac(void)
{
	int w = 16, h = 8, bad = 0, bad8 = 0;
	uint8_t buf[16 * 8];

	vbe_mode(q, w, h, 8);
	for (int i = 0; i < 16; i++)
		dac_set(q, (uint8_t)i, (uint8_t)(i * 4), (uint8_t)(63 - i * 4),
			(uint8_t)(i * 2));
	for (int i = 0; i < w * h; i++)
		buf[i] = (uint8_t)((i % w + i / w) & 15);
	qts_memwrite(q, LFB_ADDR, buf, sizeof(buf));
	if (shot())
		for (int i = 0; i < w * h; i++)
			bad += px(&img, i % w, i / w) !=
			       dac6((uint8_t)(buf[i] * 4),
				    (uint8_t)(63 - buf[i] * 4),
				    (uint8_t)(buf[i] * 2));
	test_check("vbe/8bpp-palette", img.w == w && !bad, "%d differ (0,0 "
		   "%#x)", bad, px(&img, 0, 0));
	/* DAC read-back through 0x3c7/0x3c9. */
	qts_outb(q, 0x3c7, 5);
	uint8_t r = qts_inb(q, 0x3c9), g = qts_inb(q, 0x3c9),
		b = qts_inb(q, 0x3c9);
	test_check("vga/dac-readback", r == 20 && g == 43 && b == 10,
		   "entry 5 reads %u,%u,%u", r, g, b);
	/* 8-bit DAC (VBE_DISPI_8BIT_DAC): entries are used as written. */
	vbe_write(q, 4, 0x61);
	dac_set(q, 3, 0xc8, 0x64, 0x32);
	buf[0] = 3;
	qts_memwrite(q, LFB_ADDR, buf, 1);
	if (shot())
		bad8 = px(&img, 0, 0) != 0xc86432;
	test_check("vbe/8bit-dac", !bad8, "pixel %#x", px(&img, 0, 0));
}

static void test_vbe_virtual(void)
{
	int bad = 0;
	uint32_t *buf = g_new(uint32_t, 32 * 24);

	vbe_mode(q, 16, 16, 32);
	vbe_write(q, 6, 32);            /* virtual width */
	vbe_write(q, 8, 2);             /* x offset */
	vbe_write(q, 9, 4);             /* y offset */
	for (int y = 0; y < 24; y++)
		for (int x = 0; x < 32; x++)
			buf[y * 32 + x] = pat32(x, y);
	qts_memwrite(q, LFB_ADDR, buf, 32 * 24 * 4);
	if (shot())
		for (int y = 0; y < 16; y++)
			for (int x = 0; x < 16; x++)
				bad += px(&img, x, y) != pat32(x + 2, y + 4);
	test_check("vbe/virtual-width-and-offsets", img.w == 16 && !bad,
		   "%d differ", bad);
	/* 16 MiB / 128 bytes a line is more lines than the register holds. */
	test_check("vbe/virtual-height", vbe_read(q, 7) == 0xffff, "%u",
		   vbe_read(q, 7));
	vbe_write(q, 6, 4096);
	test_check("vbe/virtual-height-4096", vbe_read(q, 7) == (16 << 20) /
		   (4096 * 4), "%u", vbe_read(q, 7));
	g_free(buf);
}

static void test_vbe_bank(void)
{
	vbe_mode(q, 64, 48, 32);
	vbe_write(q, 5, 1);
	qts_writeb(q, 0xa0010, 0x5a);
	test_check("vbe/bank-window", qts_readb(q, LFB_ADDR + 0x10010) == 0x5a &&
		   qts_readb(q, 0xa0010) == 0x5a,
		   "vram[0x10010] is %#x", qts_readb(q, LFB_ADDR + 0x10010));
	vbe_write(q, 5, 255);           /* the last 64 KiB */
	qts_writeb(q, 0xaffff, 0xa5);
	test_check("vbe/last-bank", qts_readb(q, LFB_ADDR + 0xffffff) == 0xa5,
		   "last byte %#x", qts_readb(q, LFB_ADDR + 0xffffff));
}

static uint8_t glyph(int ch, int r)
{
	return (uint8_t)((ch * 7 + r * 29) ^ (r & 1 ? 0x81 : 0x3c));
}

static void load_font(int ch)
{
	/* Plane 2, sequential addressing, as a VGA BIOS loads fonts. */
	qts_outb(q, 0x3c4, 2); qts_outb(q, 0x3c5, 0x04);
	qts_outb(q, 0x3c4, 4); qts_outb(q, 0x3c5, 0x06);
	qts_outb(q, 0x3ce, 4); qts_outb(q, 0x3cf, 0x02);
	qts_outb(q, 0x3ce, 5); qts_outb(q, 0x3cf, 0x00);
	qts_outb(q, 0x3ce, 6); qts_outb(q, 0x3cf, 0x04);
	for (int r = 0; r < 16; r++)
		qts_writeb(q, 0xa0000 + (uint64_t)ch * 32 + r, glyph(ch, r));
}

/* The 9x16 cell at col,row against glyph ch in fg/bg; returns the count
 * of wrong pixels.  line_graphics: the ninth column repeats the eighth. */
static int check_cell(int col, int row, int ch, uint32_t fg, uint32_t bg,
		      int cur_from, int cur_to, bool line_graphics)
{
	int bad = 0;

	for (int r = 0; r < 16; r++)
		for (int x = 0; x < 9; x++) {
			uint8_t bits = glyph(ch, r);
			bool on = x < 8 ? (bits >> (7 - x)) & 1
					: line_graphics && (bits & 1);

			if (r >= cur_from && r <= cur_to)
				on = true;
			bad += px(&img, col * 9 + x, row * 16 + r) !=
			       (on ? fg : bg);
		}
	return bad;
}

/* Like check_cell for 40 columns (every dot twice) or short cells. */
static int check_cell_geom(int col, int row, int ch, uint32_t fg, uint32_t bg,
			   int dot_w, int rows)
{
	int bad = 0;

	for (int r = 0; r < rows; r++)
		for (int x = 0; x < 9 * dot_w; x++) {
			int dot = x / dot_w;
			bool on = dot < 8 && ((glyph(ch, r) >> (7 - dot)) & 1);

			bad += px(&img, col * 9 * dot_w + x, row * rows + r) !=
			       (on ? fg : bg);
		}
	return bad;
}

static void test_text(void)
{
	uint32_t fg = dac6(63, 63, 21), bg = dac6(0, 0, 42);
	int bad;

	vbe_write(q, 4, 0);
	vga_set_regs(q, 0x67, mode3_seq, mode3_crtc, mode3_gr, mode3_ar);
	load_font('A');
	load_font(0xc4);
	vga_set_regs(q, 0x67, mode3_seq, mode3_crtc, mode3_gr, mode3_ar);
	dac_set(q, 0x00, 0, 0, 0);
	dac_set(q, 0x01, 0, 0, 42);
	dac_set(q, 0x3e, 63, 63, 21);
	dac_set(q, 0x3c, 63, 21, 21);
	for (int i = 0; i < 80 * 25 * 2; i += 2)
		qts_writew(q, 0xb8000 + (uint64_t)i, 0x0720);
	qts_writeb(q, 0xb8000 + 2 * (2 * 80 + 5), 'A');
	qts_writeb(q, 0xb8000 + 2 * (2 * 80 + 5) + 1, 0x1e);
	qts_writeb(q, 0xb8000 + 2 * (3 * 80 + 6), 0xc4);
	qts_writeb(q, 0xb8000 + 2 * (3 * 80 + 6) + 1, 0x1c);
	qts_outb(q, 0x3d4, 0x0a); qts_outb(q, 0x3d5, 0x20);     /* no cursor */
	if (!shot()) {
		test_fail("vga/text-glyph", "screendump failed");
		return;
	}
	test_check("vga/text-80x25-size", img.w == 720 && img.h == 400,
		   "%dx%d", img.w, img.h);
	bad = check_cell(5, 2, 'A', fg, bg, 99, 99, false);
	test_check("vga/text-glyph-colours", bad == 0, "%d pixels differ", bad);
	bad = check_cell(6, 3, 0xc4, dac6(63, 21, 21), bg, 99, 99, true);
	test_check("vga/text-line-graphics-9th-column", bad == 0,
		   "%d pixels differ", bad);
	/* Cursor on the 'A', scan lines 13-14. */
	qts_outb(q, 0x3d4, 0x0a); qts_outb(q, 0x3d5, 13);
	qts_outb(q, 0x3d4, 0x0b); qts_outb(q, 0x3d5, 14);
	qts_outb(q, 0x3d4, 0x0e); qts_outb(q, 0x3d5, 0);
	qts_outb(q, 0x3d4, 0x0f); qts_outb(q, 0x3d5, 2 * 80 + 5);
	bad = shot() ? check_cell(5, 2, 'A', fg, bg, 13, 14, false) : -1;
	test_check("vga/text-cursor", bad == 0, "%d pixels differ", bad);
	/* Start address: the screen scrolls by one row. */
	qts_outb(q, 0x3d4, 0x0d); qts_outb(q, 0x3d5, 80);
	qts_outb(q, 0x3d4, 0x0a); qts_outb(q, 0x3d5, 0x20);
	bad = shot() ? check_cell(5, 1, 'A', fg, bg, 99, 99, false) : -1;
	test_check("vga/text-start-address", bad == 0, "%d pixels differ", bad);
	qts_outb(q, 0x3d4, 0x0d); qts_outb(q, 0x3d5, 0);
	/* 40 columns: CR1 39 and the dot clock halved (SR1 bit 3); CR11
	 * bit 7 write-protects CR0-7 until cleared. */
	qts_outb(q, 0x3d4, 0x01); qts_outb(q, 0x3d5, 39);
	test_check("vga/crtc-write-protect", qts_inb(q, 0x3d5) == 0x4f,
		   "CR1 %#x under CR11 bit 7", qts_inb(q, 0x3d5));
	qts_outb(q, 0x3d4, 0x11); qts_outb(q, 0x3d5, 0x0e);
	qts_outb(q, 0x3c4, 1); qts_outb(q, 0x3c5, 0x08);
	qts_outb(q, 0x3d4, 0x01); qts_outb(q, 0x3d5, 39);
	bad = shot() ? check_cell_geom(5, 2, 'A', fg, bg, 2, 16) : -1;
	test_check("vga/text-40-columns", img.w == 720 && img.h == 400 &&
		   bad == 0, "%dx%d, %d pixels differ", img.w, img.h, bad);
	qts_outb(q, 0x3c4, 1); qts_outb(q, 0x3c5, 0x00);
	qts_outb(q, 0x3d4, 0x01); qts_outb(q, 0x3d5, 0x4f);
	/* 50 rows: 8 scan lines a character (CR9), 400 lines. */
	qts_outb(q, 0x3d4, 0x09); qts_outb(q, 0x3d5, 0x47);
	bad = shot() ? check_cell_geom(5, 2, 'A', fg, bg, 1, 8) : -1;
	test_check("vga/text-50-rows", img.w == 720 && img.h == 400 &&
		   bad == 0, "%dx%d, %d pixels differ", img.w, img.h, bad);
	qts_outb(q, 0x3d4, 0x09); qts_outb(q, 0x3d5, 0x4f);
}

static void planar_setup(void)
{
	qts_outb(q, 0x3c4, 4); qts_outb(q, 0x3c5, 0x06);
	qts_outb(q, 0x3ce, 6); qts_outb(q, 0x3cf, 0x05);
	qts_outb(q, 0x3c4, 2); qts_outb(q, 0x3c5, 0x0f);
	for (int i = 0; i < 9; i++) {
		qts_outb(q, 0x3ce, (uint8_t)i);
		qts_outb(q, 0x3cf, i == 6 ? 0x05 : i == 7 ? 0x0f :
				   i == 8 ? 0xff : 0);
	}
}

static void gr(uint8_t i, uint8_t v)
{
	qts_outb(q, 0x3ce, i);
	qts_outb(q, 0x3cf, v);
}

static void sr(uint8_t i, uint8_t v)
{
	qts_outb(q, 0x3c4, i);
	qts_outb(q, 0x3c5, v);
}

static uint8_t plane(uint32_t a, int p)
{
	gr(5, 0);
	gr(4, (uint8_t)p);
	return qts_readb(q, 0xa0000 + a);
}

static void set_planes(uint32_t a, uint8_t p0, uint8_t p1, uint8_t p2,
		       uint8_t p3)
{
	uint8_t v[4] = { p0, p1, p2, p3 };

	gr(5, 0);
	gr(1, 0);
	gr(3, 0);
	gr(8, 0xff);
	for (int p = 0; p < 4; p++) {
		sr(2, (uint8_t)(1 << p));
		qts_writeb(q, 0xa0000 + a, v[p]);
	}
	sr(2, 0x0f);
}

static bool planes_are(uint32_t a, uint8_t p0, uint8_t p1, uint8_t p2,
		       uint8_t p3)
{
	return plane(a, 0) == p0 && plane(a, 1) == p1 && plane(a, 2) == p2 &&
	       plane(a, 3) == p3;
}

static void test_planar_modes(void)
{
	planar_setup();
	/* Write mode 0: map mask. */
	sr(2, 0x05);
	qts_writeb(q, 0xa0000, 0x5a);
	sr(2, 0x0a);
	qts_writeb(q, 0xa0000, 0x33);
	sr(2, 0x0f);
	test_check("vga/write-mode-0-map-mask", planes_are(0, 0x5a, 0x33, 0x5a,
		   0x33), "planes %02x %02x %02x %02x", plane(0, 0),
		   plane(0, 1), plane(0, 2), plane(0, 3));
	/* Set/reset on planes 1 and 3, bit mask 0x0f keeps the latch. */
	set_planes(1, 0x11, 0x22, 0x44, 0x88);
	(void)plane(1, 0);                      /* load the latches */
	gr(0, 0x0a);
	gr(1, 0x0f);
	gr(8, 0x0f);
	qts_writeb(q, 0xa0001, 0x00);
	gr(1, 0);
	gr(8, 0xff);
	test_check("vga/write-mode-0-set-reset-bitmask",
		   planes_are(1, 0x10, 0x2f, 0x40, 0x8f),
		   "planes %02x %02x %02x %02x", plane(1, 0), plane(1, 1),
		   plane(1, 2), plane(1, 3));
	/* Rotate by 1 and XOR with the latch. */
	set_planes(2, 0xff, 0x00, 0xf0, 0x0f);
	(void)plane(2, 0);
	gr(3, 0x18 | 1);
	qts_writeb(q, 0xa0002, 0x81);           /* rotated: 0xc0 */
	gr(3, 0);
	test_check("vga/write-mode-0-rotate-xor",
		   planes_are(2, 0x3f, 0xc0, 0x30, 0xcf),
		   "planes %02x %02x %02x %02x", plane(2, 0), plane(2, 1),
		   plane(2, 2), plane(2, 3));
	/* Write mode 1: latches copied. */
	set_planes(3, 0x12, 0x34, 0x56, 0x78);
	(void)plane(3, 0);
	gr(5, 1);
	qts_writeb(q, 0xa0004, 0xff);
	test_check("vga/write-mode-1-latch-copy",
		   planes_are(4, 0x12, 0x34, 0x56, 0x78),
		   "planes %02x %02x %02x %02x", plane(4, 0), plane(4, 1),
		   plane(4, 2), plane(4, 3));
	/* Write mode 2: colour 6 under bit mask 0xf0. */
	set_planes(5, 0x0f, 0x0f, 0x0f, 0xff);
	(void)plane(5, 0);
	gr(5, 2);
	gr(8, 0xf0);
	qts_writeb(q, 0xa0005, 0x06);
	gr(8, 0xff);
	test_check("vga/write-mode-2", planes_are(5, 0x0f, 0xff, 0xff, 0x0f),
		   "planes %02x %02x %02x %02x", plane(5, 0), plane(5, 1),
		   plane(5, 2), plane(5, 3));
	/* Write mode 3: set/reset colour 5 under data AND bit mask. */
	set_planes(6, 0x00, 0xff, 0x00, 0xff);
	(void)plane(6, 0);
	gr(5, 3);
	gr(0, 0x05);
	gr(8, 0x3c);
	qts_writeb(q, 0xa0006, 0xf0);           /* mask 0x30 */
	gr(8, 0xff);
	gr(0, 0);
	test_check("vga/write-mode-3", planes_are(6, 0x30, 0xcf, 0x30, 0xcf),
		   "planes %02x %02x %02x %02x", plane(6, 0), plane(6, 1),
		   plane(6, 2), plane(6, 3));
	/* Read mode 1: colour compare. */
	set_planes(7, 0xf0, 0x00, 0xff, 0x0f);
	gr(5, 0x08);
	gr(2, 0x05);
	gr(7, 0x0f);
	uint8_t cmp = qts_readb(q, 0xa0007);
	gr(7, 0x04);
	uint8_t cmp2 = qts_readb(q, 0xa0007);
	gr(7, 0x0f);
	gr(5, 0);
	test_check("vga/read-mode-1-colour-compare", cmp == 0xf0 && cmp2 == 0xff,
		   "%#x %#x", cmp, cmp2);
}

/* Mode 12h, 640x480x16. */
static const uint8_t m12_seq[5] = { 0x03, 0x01, 0x0f, 0x00, 0x06 };
static const uint8_t m12_crtc[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7,
	0x04, 0xe3, 0xff,
};
static const uint8_t m12_gr[9] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff,
};
static const uint8_t m12_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00,
};

static uint8_t pbyte(int p, int y, int bx)
{
	return (uint8_t)((y * 31 + bx * 7 + p * 0x35) ^ 0xa5);
}

static uint32_t m12_colour(int x, int y)
{
	unsigned c = 0;

	if (y >= 8 || x >= 32)
		c = 0;
	else
		for (int p = 0; p < 4; p++)
			c |= ((pbyte(p, y, x / 8) >> (7 - x % 8)) & 1u) << p;
	uint8_t i = m12_ar[c];
	return dac6(i, (uint8_t)(63 - i), (uint8_t)((i * 3) & 63));
}

static void test_mode12(void)
{
	int bad = 0, bad_split = 0, bad_pan = 0;

	vga_set_regs(q, 0xe3, m12_seq, m12_crtc, m12_gr, m12_ar);
	for (int i = 0; i < 64; i++)
		dac_set(q, (uint8_t)i, (uint8_t)i, (uint8_t)(63 - i),
			(uint8_t)((i * 3) & 63));
	sr(2, 0x0f);
	for (int y = 0; y < 12; y++)
		for (int bx = 0; bx < 6; bx++)
			qts_writeb(q, 0xa0000 + (uint64_t)y * 80 + bx, 0);
	for (int p = 0; p < 4; p++) {
		sr(2, (uint8_t)(1 << p));
		for (int y = 0; y < 8; y++)
			for (int bx = 0; bx < 4; bx++)
				qts_writeb(q, 0xa0000 + (uint64_t)y * 80 + bx,
					   pbyte(p, y, bx));
	}
	sr(2, 0x0f);
	if (shot())
		for (int y = 0; y < 10; y++)
			for (int x = 0; x < 40; x++)
				bad += px(&img, x, y) != m12_colour(x, y);
	test_check("vga/mode12h-planar", img.w == 640 && img.h == 480 && !bad,
		   "%dx%d, %d differ", img.w, img.h, bad);
	/* Split screen at line 100 with the top starting at memory line 4:
	 * screen line y shows memory line y+4 above 100, y-100 below. */
	qts_outb(q, 0x3d4, 0x0c); qts_outb(q, 0x3d5, 0x01);
	qts_outb(q, 0x3d4, 0x0d); qts_outb(q, 0x3d5, 0x40);     /* 320 */
	qts_outb(q, 0x3d4, 0x18); qts_outb(q, 0x3d5, 100);
	qts_outb(q, 0x3d4, 0x07); qts_outb(q, 0x3d5, 0x2e);     /* LC bit 8 off */
	qts_outb(q, 0x3d4, 0x09); qts_outb(q, 0x3d5, 0x00);     /* LC bit 9 off */
	if (shot())
		for (int x = 0; x < 40; x++) {
			bad_split += px(&img, x, 0) != m12_colour(x, 4);
			bad_split += px(&img, x, 100) != m12_colour(x, 0);
			bad_split += px(&img, x, 103) != m12_colour(x, 3);
		}
	test_check("vga/split-screen", !bad_split, "%d differ", bad_split);
	/* Pixel panning by 3. */
	(void)qts_inb(q, 0x3da);
	qts_outb(q, 0x3c0, 0x33);
	qts_outb(q, 0x3c0, 3);
	if (shot())
		for (int x = 0; x < 28; x++)
			bad_pan += px(&img, x, 0) != m12_colour(x + 3, 4);
	test_check("vga/pixel-panning", !bad_pan, "%d differ", bad_pan);
}

/* Mode 13h, 320x200x256, and mode X (unchained). */
static const uint8_t m13_seq[5] = { 0x03, 0x01, 0x0f, 0x00, 0x0e };
static const uint8_t m13_crtc[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96,
	0xb9, 0xa3, 0xff,
};
static const uint8_t m13_gr[9] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff,
};
static const uint8_t m13_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00,
};

static uint32_t pal256(int i)
{
	return dac6((uint8_t)(i & 63), (uint8_t)((i >> 2) & 63),
		    (uint8_t)((255 - i) & 63));
}

static void test_mode13(void)
{
	int bad = 0, badx = 0;

	vga_set_regs(q, 0x63, m13_seq, m13_crtc, m13_gr, m13_ar);
	for (int i = 0; i < 256; i++)
		dac_set(q, (uint8_t)i, (uint8_t)(i & 63), (uint8_t)((i >> 2) & 63),
			(uint8_t)((255 - i) & 63));
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 32; x++)
			qts_writeb(q, 0xa0000 + (uint64_t)y * 320 + x,
				   (uint8_t)(x * 8 + y));
	if (shot())
		for (int y = 0; y < 8; y++)
			for (int x = 0; x < 32; x++)
				bad += px(&img, x, y) != pal256(x * 8 + y);
	test_check("vga/mode13h-chain4", img.w == 320 && img.h == 200 && !bad,
		   "%dx%d, %d differ", img.w, img.h, bad);
	/* Mode X: pixel x in plane x & 3 at address y * 80 + x / 4. */
	sr(4, 0x06);
	qts_outb(q, 0x3d4, 0x14); qts_outb(q, 0x3d5, 0x00);
	qts_outb(q, 0x3d4, 0x17); qts_outb(q, 0x3d5, 0xe3);
	for (int p = 0; p < 4; p++) {
		sr(2, (uint8_t)(1 << p));
		for (int y = 0; y < 4; y++)
			for (int x = p; x < 32; x += 4)
				qts_writeb(q, 0xa0000 + (uint64_t)y * 80 + x / 4,
					   (uint8_t)(255 - x - y));
	}
	sr(2, 0x0f);
	if (shot())
		for (int y = 0; y < 4; y++)
			for (int x = 0; x < 32; x++)
				badx += px(&img, x, y) != pal256(255 - x - y);
	test_check("vga/mode-x-unchained", img.w == 320 && !badx, "%d differ",
		   badx);
}

static void test_security(void)
{
	int bad = 0;
	uint32_t *buf = g_new(uint32_t, 64 * 48);

	/* CVE-2014-3615: a mode bigger than video memory shows nothing and
	 * reads nothing outside it. */
	vbe_mode(q, 16000, 12000, 32);
	test_check("cve-2014-3615/huge-vbe-mode", shot(), "screendump failed");
	vbe_write(q, 4, 0);
	vbe_mode(q, 64, 48, 32);
	vbe_write(q, 6, 0xffff);        /* virtual width */
	vbe_write(q, 9, 0xffff);        /* y offset */
	vbe_write(q, 8, 0xffff);        /* x offset */
	test_check("cve-2014-3615/huge-virtual-offsets", shot(),
		   "screendump failed");
	/* CVE-2016-3710: banks past video memory are refused. */
	vbe_write(q, 4, 0);
	vbe_mode(q, 64, 48, 32);
	vbe_write(q, 5, 0x100);
	qts_writeb(q, 0xa0000, 0x77);
	test_check("cve-2016-3710/bank-past-vram", vbe_read(q, 5) == 0 &&
		   qts_readb(q, LFB_ADDR) == 0x77, "bank %#x, vram[0] %#x",
		   vbe_read(q, 5), qts_readb(q, LFB_ADDR));
	vbe_write(q, 5, 0xffff);
	qts_writeb(q, 0xaffff, 0x77);
	(void)qts_readb(q, 0xaffff);
	test_check("cve-2016-3710/bank-0xffff", vbe_read(q, 5) != 0xffff,
		   "bank %#x", vbe_read(q, 5));
	/* CVE-2016-3712: VGA registers rewritten under VBE do not change
	 * what VBE shows or make the renderer read elsewhere. */
	vbe_write(q, 5, 0);
	for (int y = 0; y < 48; y++)
		for (int x = 0; x < 64; x++)
			buf[y * 64 + x] = pat32(x, y);
	qts_memwrite(q, LFB_ADDR, buf, 64 * 48 * 4);
	vga_set_regs(q, 0x63, m13_seq, m13_crtc, m13_gr, m13_ar);
	qts_outb(q, 0x3d4, 0x13); qts_outb(q, 0x3d5, 0xff);
	qts_outb(q, 0x3d4, 0x01); qts_outb(q, 0x3d5, 0xff);
	qts_outb(q, 0x3d4, 0x12); qts_outb(q, 0x3d5, 0xff);
	sr(4, 0x06);
	gr(5, 0x20);
	if (shot())
		for (int y = 0; y < 48; y++)
			for (int x = 0; x < 64; x++)
				bad += px(&img, x, y) != pat32(x, y);
	test_check("cve-2016-3712/vga-regs-under-vbe", img.w == 64 && !bad,
		   "%dx%d, %d differ", img.w, img.h, bad);
	/* And the same registers in plain VGA: any value renders within
	 * video memory. */
	vbe_write(q, 4, 0);
	for (int i = 0; i < 25; i++) {
		qts_outb(q, 0x3d4, (uint8_t)i);
		qts_outb(q, 0x3d5, 0xff);
	}
	gr(6, 0x01);
	gr(5, 0x40);
	test_check("vga/max-crtc-values", shot(), "screendump failed");
	gr(5, 0x00);
	test_check("vga/max-crtc-values-planar", shot(), "screendump failed");
	gr(6, 0x00);
	test_check("vga/max-crtc-values-text", shot(), "screendump failed");
	g_free(buf);
}

int main(void)
{
	q = qts_start("-vga std");
	if (!q) {
		test_fail("vga/start", "qemu-dm did not start");
		return 1;
	}
	dir = g_dir_make_tmp("vga-test-XXXXXX", NULL);
	test_pci();
	test_vbe_regs();
	test_vbe32();
	test_vbe16_15_24();
	test_vbe8_dac();
	test_vbe_virtual();
	test_vbe_bank();
	test_text();
	test_planar_modes();
	test_mode12();
	test_mode13();
	test_security();
	test_check("vga/survives", qts_quit(q) == 0, "qemu-dm exited badly");
	rmdir(dir);
	g_free(img.px);
	return test_exit();
}
