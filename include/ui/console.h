/*
 * The display as devices and front ends see it (the one header of ui/).
 *
 * A graphics device owns a console: it renders into the console's surface
 * (32-bit x8r8g8b8, a pixman image) when the console asks it to, and says
 * which rectangles changed.  Front ends (VNC, SDL, screendump) listen to
 * a console: they are told when the surface is replaced (a mode change)
 * and which rectangles changed, and read the pixels from the surface.
 *
 * Nothing runs while nobody looks: a device calls console_touch() when the
 * guest changed something that may show, and the console schedules one
 * update only when a listener exists.  A device whose memory the guest
 * writes without trapping (a linear framebuffer under a hypervisor) says
 * so with console_set_polling(); the console then polls it while
 * listeners exist.
 */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>

struct console;

struct console_hw_ops {
	/* Bring the surface up to date with the guest's screen; full
	 * asks for every pixel to be redrawn.  The device calls
	 * console_resize and console_dirty from here. */
	void (*update)(void *opaque, bool full);
	/* Text-mode contents for a text console, NULL when graphical. */
};

struct console *console_new(const char *name,
			    const struct console_hw_ops *ops, void *opaque);
/* The first console (what VNC, SDL and screendump show), or NULL. */
struct console *console_primary(void);

/* ---- for devices ---- */
/* Replace the surface by a w x h one (contents black) unless it already
 * has that size; every listener hears of it.  Limits: 1..16384. */
pixman_image_t *console_resize(struct console *c, int w, int h);
pixman_image_t *console_surface(struct console *c);
/* Pixels in this rectangle changed (clipped to the surface). */
void console_dirty(struct console *c, int x, int y, int w, int h);
/* The guest changed something that may show: update soon if anyone
 * looks. */
void console_touch(struct console *c);
/* The device cannot see all changes (memory the guest writes directly):
 * poll it every interval_ms while someone looks (0: stop). */
void console_set_polling(struct console *c, unsigned interval_ms);

/* ---- for front ends ---- */
struct console_listener_ops {
	void (*resize)(void *opaque, pixman_image_t *surface);
	void (*dirty)(void *opaque, int x, int y, int w, int h);
	/* After an update pass that changed something. */
	void (*flush)(void *opaque);
};
struct console_listener;
struct console_listener *console_listen(struct console *c,
				       const struct console_listener_ops *ops,
				       void *opaque);
void console_unlisten(struct console_listener *l);
/* Run the device's update now (full: redraw everything). */
void console_update_now(struct console *c, bool full);

/* Screendump: PNG (by default) or PPM (format "ppm"); 0 or -errno with
 * a message in *err (g_free it). */
int console_screendump(struct console *c, const char *path,
		       const char *format, char **err);

#endif
