/*
 * Consoles: a device's surface and the front ends that watch it.
 *
 * Updates are pulled, never timed for nothing: a device calls
 * console_touch when the guest changed its screen; with a listener the
 * console runs one update on a short glib timeout (so a burst of guest
 * writes costs one redraw), and without one it does nothing at all.  A
 * device that polls (console_set_polling) gets a repeating timeout, again
 * only while a listener exists.  The timeouts are the host's clock, not
 * the guest's: qtest's virtual clock must not stall a VNC client.
 */
#include <errno.h>
#include <glib.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "dm/dm.h"
#include "ui/console.h"

#define CONSOLE_MAX_DIM 16384
#define UPDATE_DELAY_MS 15

struct console_listener {
	struct console *con;
	const struct console_listener_ops *ops;
	void *opaque;
};

struct console {
	char name[32];
	const struct console_hw_ops *ops;
	void *opaque;
	pixman_image_t *surface;
	GPtrArray *listeners;
	guint update_src, poll_src;
	unsigned poll_ms;
	bool changed;           /* console_dirty since the last flush */
	bool in_update;
};

static GPtrArray *consoles;

struct console *console_new(const char *name,
			    const struct console_hw_ops *ops, void *opaque)
{
	struct console *c = g_new0(struct console, 1);

	g_strlcpy(c->name, name, sizeof(c->name));
	c->ops = ops;
	c->opaque = opaque;
	c->listeners = g_ptr_array_new();
	if (!consoles)
		consoles = g_ptr_array_new();
	g_ptr_array_add(consoles, c);
	console_resize(c, 640, 480);
	return c;
}

struct console *console_primary(void)
{
	return consoles && consoles->len ? g_ptr_array_index(consoles, 0)
					 : NULL;
}

pixman_image_t *console_surface(struct console *c)
{
	return c->surface;
}

pixman_image_t *console_resize(struct console *c, int w, int h)
{
	pixman_image_t *img;

	if (w < 1 || h < 1 || w > CONSOLE_MAX_DIM || h > CONSOLE_MAX_DIM)
		return c->surface;
	if (c->surface && pixman_image_get_width(c->surface) == w &&
	    pixman_image_get_height(c->surface) == h)
		return c->surface;
	img = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, NULL, w * 4);
	if (!img) {
		dm_log(DM_LOG_ERR, "%s: no memory for a %dx%d screen",
		       c->name, w, h);
		return c->surface;
	}
	/* Listeners drop their references to the old surface first. */
	for (guint i = 0; i < c->listeners->len; i++) {
		struct console_listener *l = g_ptr_array_index(c->listeners, i);

		l->ops->resize(l->opaque, img);
	}
	if (c->surface)
		pixman_image_unref(c->surface);
	c->surface = img;
	c->changed = true;
	return img;
}

void console_dirty(struct console *c, int x, int y, int w, int h)
{
	int sw = pixman_image_get_width(c->surface);
	int sh = pixman_image_get_height(c->surface);

	if (x < 0) {
		w += x;
		x = 0;
	}
	if (y < 0) {
		h += y;
		y = 0;
	}
	if (x >= sw || y >= sh || w <= 0 || h <= 0)
		return;
	if (w > sw - x)
		w = sw - x;
	if (h > sh - y)
		h = sh - y;
	c->changed = true;
	for (guint i = 0; i < c->listeners->len; i++) {
		struct console_listener *l = g_ptr_array_index(c->listeners, i);

		l->ops->dirty(l->opaque, x, y, w, h);
	}
}

void console_update_now(struct console *c, bool full)
{
	if (c->in_update)
		return;
	c->in_update = true;
	c->changed = false;
	c->ops->update(c->opaque, full);
	c->in_update = false;
	if (!c->changed)
		return;
	for (guint i = 0; i < c->listeners->len; i++) {
		struct console_listener *l = g_ptr_array_index(c->listeners, i);

		if (l->ops->flush)
			l->ops->flush(l->opaque);
	}
}

static gboolean update_cb(gpointer p)
{
	struct console *c = p;

	c->update_src = 0;
	console_update_now(c, false);
	return G_SOURCE_REMOVE;
}

void console_touch(struct console *c)
{
	if (!c->listeners->len || c->update_src)
		return;
	c->update_src = g_timeout_add(UPDATE_DELAY_MS, update_cb, c);
}

static gboolean poll_cb(gpointer p)
{
	console_update_now(p, false);
	return G_SOURCE_CONTINUE;
}

static void poll_arm(struct console *c)
{
	bool want = c->poll_ms && c->listeners->len;

	if (want && !c->poll_src)
		c->poll_src = g_timeout_add(c->poll_ms, poll_cb, c);
	if (!want && c->poll_src) {
		g_source_remove(c->poll_src);
		c->poll_src = 0;
	}
}

void console_set_polling(struct console *c, unsigned interval_ms)
{
	if (c->poll_ms != interval_ms && c->poll_src) {
		g_source_remove(c->poll_src);
		c->poll_src = 0;
	}
	c->poll_ms = interval_ms;
	poll_arm(c);
}

struct console_listener *console_listen(struct console *c,
				       const struct console_listener_ops *ops,
				       void *opaque)
{
	struct console_listener *l = g_new0(struct console_listener, 1);

	l->con = c;
	l->ops = ops;
	l->opaque = opaque;
	g_ptr_array_add(c->listeners, l);
	ops->resize(opaque, c->surface);
	poll_arm(c);
	/* A newcomer sees the whole screen. */
	console_update_now(c, true);
	console_dirty(c, 0, 0, pixman_image_get_width(c->surface),
		      pixman_image_get_height(c->surface));
	if (ops->flush)
		ops->flush(opaque);
	return l;
}

void console_unlisten(struct console_listener *l)
{
	struct console *c = l->con;

	g_ptr_array_remove(c->listeners, l);
	g_free(l);
	poll_arm(c);
	if (!c->listeners->len && c->update_src) {
		g_source_remove(c->update_src);
		c->update_src = 0;
	}
}

/* ---- screendump ---- */

static int dump_ppm(pixman_image_t *img, FILE *f)
{
	int w = pixman_image_get_width(img), h = pixman_image_get_height(img);
	int stride = pixman_image_get_stride(img);
	const uint8_t *data = (const uint8_t *)pixman_image_get_data(img);
	uint8_t *row = g_malloc((size_t)w * 3);

	fprintf(f, "P6\n%d %d\n255\n", w, h);
	for (int y = 0; y < h; y++) {
		const uint32_t *src = (const uint32_t *)(data + (size_t)y * stride);

		for (int x = 0; x < w; x++) {
			row[3 * x] = (uint8_t)(src[x] >> 16);
			row[3 * x + 1] = (uint8_t)(src[x] >> 8);
			row[3 * x + 2] = (uint8_t)src[x];
		}
		if (fwrite(row, 3, (size_t)w, f) != (size_t)w) {
			g_free(row);
			return -EIO;
		}
	}
	g_free(row);
	return 0;
}

static int dump_png(pixman_image_t *img, FILE *f)
{
	int w = pixman_image_get_width(img), h = pixman_image_get_height(img);
	int stride = pixman_image_get_stride(img);
	const uint8_t *data = (const uint8_t *)pixman_image_get_data(img);
	png_structp png;
	png_infop info;
	uint8_t *row = g_malloc((size_t)w * 3);

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		g_free(row);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		g_free(row);
		return -EIO;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < h; y++) {
		const uint32_t *src = (const uint32_t *)(data + (size_t)y * stride);

		for (int x = 0; x < w; x++) {
			row[3 * x] = (uint8_t)(src[x] >> 16);
			row[3 * x + 1] = (uint8_t)(src[x] >> 8);
			row[3 * x + 2] = (uint8_t)src[x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	g_free(row);
	return 0;
}

int console_screendump(struct console *c, const char *path,
		       const char *format, char **err)
{
	bool ppm = format && !strcmp(format, "ppm");
	FILE *f;
	int ret;

	if (format && !ppm && strcmp(format, "png")) {
		*err = g_strdup_printf("screendump: format '%s' is not png "
				       "or ppm", format);
		return -EINVAL;
	}
	if (!c) {
		*err = g_strdup("screendump: there is no display device "
				"(-vga none)");
		return -ENODEV;
	}
	console_update_now(c, true);
	f = fopen(path, "wb");
	if (!f) {
		ret = -errno;
		*err = g_strdup_printf("screendump: %s: %s", path,
				       strerror(errno));
		return ret;
	}
	ret = ppm ? dump_ppm(c->surface, f) : dump_png(c->surface, f);
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (ret) {
		*err = g_strdup_printf("screendump: %s: %s", path,
				       strerror(-ret));
		return ret;
	}
	return 0;
}
