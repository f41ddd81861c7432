/*
 * Helpers for the display tests: program the standard VGA and its Bochs
 * VBE registers over qtest, and read a screendump back with libpng.
 */
#ifndef TESTS_QTEST_VGA_UTIL_H
#define TESTS_QTEST_VGA_UTIL_H

#include <glib.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/qtest/libqtest.h"

#define VGA_DEVFN (2 << 3)
#define LFB_ADDR  0xe0000000ull
#define MMIO_ADDR 0xe1000000ull

struct image {
	int w, h;
	uint32_t *px;           /* 0xRRGGBB */
};

static inline void vbe_write(struct qts *q, uint16_t index, uint16_t v)
{
	qts_outw(q, 0x1ce, index);
	qts_outw(q, 0x1cf, v);
}

static inline uint16_t vbe_read(struct qts *q, uint16_t index)
{
	qts_outw(q, 0x1ce, index);
	return qts_inw(q, 0x1cf);
}

/* Map BAR0 (LFB) and BAR2 (MMIO) where the tests expect them. */
static inline void vga_pci_setup(struct qts *q)
{
	qts_pci_write(q, VGA_DEVFN, 0x10, (uint32_t)LFB_ADDR, 4);
	qts_pci_write(q, VGA_DEVFN, 0x18, (uint32_t)MMIO_ADDR, 4);
	qts_pci_write(q, VGA_DEVFN, 0x04, 0x3, 2);
}

static inline void vbe_mode(struct qts *q, int w, int h, int bpp)
{
	vbe_write(q, 4, 0);
	vbe_write(q, 1, (uint16_t)w);
	vbe_write(q, 2, (uint16_t)h);
	vbe_write(q, 3, (uint16_t)bpp);
	vbe_write(q, 4, 0x41);          /* enabled, LFB */
}

/* 6-bit DAC entry i. */
static inline void dac_set(struct qts *q, uint8_t i, uint8_t r, uint8_t g,
			   uint8_t b)
{
	qts_outb(q, 0x3c8, i);
	qts_outb(q, 0x3c9, r);
	qts_outb(q, 0x3c9, g);
	qts_outb(q, 0x3c9, b);
}

static inline uint32_t dac6(uint8_t r, uint8_t g, uint8_t b)
{
	uint32_t R = (uint32_t)(r << 2 | r >> 4), G = (uint32_t)(g << 2 | g >> 4),
		 B = (uint32_t)(b << 2 | b >> 4);

	return R << 16 | G << 8 | B;
}

static inline int png_load(const char *path, struct image *img)
{
	FILE *f = fopen(path, "rb");
	png_structp png;
	png_infop info;
	png_bytep row;

	memset(img, 0, sizeof(*img));
	if (!f)
		return -1;
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, NULL);
		fclose(f);
		return -1;
	}
	png_init_io(png, f);
	png_read_info(png, info);
	if (png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB ||
	    png_get_bit_depth(png, info) != 8)
		longjmp(png_jmpbuf(png), 1);
	img->w = (int)png_get_image_width(png, info);
	img->h = (int)png_get_image_height(png, info);
	img->px = g_new(uint32_t, (size_t)img->w * img->h);
	row = g_malloc((size_t)img->w * 3);
	for (int y = 0; y < img->h; y++) {
		png_read_row(png, row, NULL);
		for (int x = 0; x < img->w; x++)
			img->px[y * img->w + x] = (uint32_t)row[3 * x] << 16 |
						  (uint32_t)row[3 * x + 1] << 8 |
						  row[3 * x + 2];
	}
	g_free(row);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(f);
	return 0;
}

/* QMP screendump into dir and load it; 0 on success. */
static inline int screendump(struct qts *q, const char *dir, struct image *img)
{
	char *path = g_build_filename(dir, "shot.png", NULL);
	const char *r;
	int ret;

	g_free(img->px);
	img->px = NULL;
	unlink(path);
	r = qts_qmp(q, "{\"execute\": \"screendump\", \"arguments\": "
		    "{\"filename\": \"%s\"}}", path);
	ret = strstr(r, "\"return\"") ? png_load(path, img) : -1;
	unlink(path);
	g_free(path);
	return ret;
}

static inline uint32_t px(const struct image *img, int x, int y)
{
	if (x < 0 || y < 0 || x >= img->w || y >= img->h)
		return 0xdeadbeef;
	return img->px[y * img->w + x];
}

/*
 * Standard 80x25 colour text mode (mode 3), register by register, as a
 * VGA BIOS sets it, with the EGA palette in the attribute controller and
 * the DAC left to the caller.
 */
static const uint8_t mode3_seq[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_crtc[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d,
	0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96,
	0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gr[9] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff,
};
static const uint8_t mode3_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

static inline void vga_set_regs(struct qts *q, uint8_t misc,
				const uint8_t *seq, const uint8_t *crtc,
				const uint8_t *gr, const uint8_t *ar)
{
	qts_outb(q, 0x3c2, misc);
	for (int i = 0; i < 5; i++) {
		qts_outb(q, 0x3c4, (uint8_t)i);
		qts_outb(q, 0x3c5, seq[i]);
	}
	qts_outb(q, 0x3d4, 0x11);
	qts_outb(q, 0x3d5, 0x00);       /* unlock CR0-7 */
	for (int i = 0; i < 25; i++) {
		qts_outb(q, 0x3d4, (uint8_t)i);
		qts_outb(q, 0x3d5, crtc[i]);
	}
	for (int i = 0; i < 9; i++) {
		qts_outb(q, 0x3ce, (uint8_t)i);
		qts_outb(q, 0x3cf, gr[i]);
	}
	(void)qts_inb(q, 0x3da);        /* attribute flip-flop to index */
	for (int i = 0; i < 21; i++) {
		qts_outb(q, 0x3c0, (uint8_t)i);
		qts_outb(q, 0x3c0, ar[i]);
	}
	qts_outb(q, 0x3c0, 0x20);       /* palette address source: display */
}

#endif
