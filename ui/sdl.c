/*
 * The SDL2 front end (-display sdl, -sdl): a window showing the primary
 * console, scaled with the window, keyboard and mouse to the PS/2
 * devices.  A click grabs the mouse (relative mode), Ctrl-Alt releases
 * it; closing the window presses the power button, as on Xen.
 *
 * SDL has no file descriptor to wait on portably, so while the window
 * exists its events are pumped every 20 ms; without -display sdl nothing
 * of this runs.  Without a window system sdl_init fails with one message.
 */
#include <SDL.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dm-internal.h"
#include "hw/input.h"
#include "ui/console.h"
#include "ui/ui.h"

struct sdl {
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	pixman_image_t *surface;
	struct console_listener *listener;
	guint pump;
	bool grab, ctrl, alt, combo_only;
	char title[96];
};

static struct sdl *sdl;

/* USB HID usages (SDL scancodes) to PS/2 set 1 (0x80: 0xe0 prefix). */
static const uint8_t hid_to_qnum[256] = {
	[4] = 0x1e, [5] = 0x30, [6] = 0x2e, [7] = 0x20, [8] = 0x12,
	[9] = 0x21, [10] = 0x22, [11] = 0x23, [12] = 0x17, [13] = 0x24,
	[14] = 0x25, [15] = 0x26, [16] = 0x32, [17] = 0x31, [18] = 0x18,
	[19] = 0x19, [20] = 0x10, [21] = 0x13, [22] = 0x1f, [23] = 0x14,
	[24] = 0x16, [25] = 0x2f, [26] = 0x11, [27] = 0x2d, [28] = 0x15,
	[29] = 0x2c,
	[30] = 0x02, [31] = 0x03, [32] = 0x04, [33] = 0x05, [34] = 0x06,
	[35] = 0x07, [36] = 0x08, [37] = 0x09, [38] = 0x0a, [39] = 0x0b,
	[40] = 0x1c, [41] = 0x01, [42] = 0x0e, [43] = 0x0f, [44] = 0x39,
	[45] = 0x0c, [46] = 0x0d, [47] = 0x1a, [48] = 0x1b, [49] = 0x2b,
	[50] = 0x2b, [51] = 0x27, [52] = 0x28, [53] = 0x29, [54] = 0x33,
	[55] = 0x34, [56] = 0x35, [57] = 0x3a,
	[58] = 0x3b, [59] = 0x3c, [60] = 0x3d, [61] = 0x3e, [62] = 0x3f,
	[63] = 0x40, [64] = 0x41, [65] = 0x42, [66] = 0x43, [67] = 0x44,
	[68] = 0x57, [69] = 0x58,
	[70] = 0xb7, [71] = 0x46, [73] = 0xd2, [74] = 0xc7, [75] = 0xc9,
	[76] = 0xd3, [77] = 0xcf, [78] = 0xd1, [79] = 0xcd, [80] = 0xcb,
	[81] = 0xd0, [82] = 0xc8, [83] = 0x45, [84] = 0xb5, [85] = 0x37,
	[86] = 0x4a, [87] = 0x4e, [88] = 0x9c, [89] = 0x4f, [90] = 0x50,
	[91] = 0x51, [92] = 0x4b, [93] = 0x4c, [94] = 0x4d, [95] = 0x47,
	[96] = 0x48, [97] = 0x49, [98] = 0x52, [99] = 0x53, [100] = 0x56,
	[101] = 0xdd,
	[224] = 0x1d, [225] = 0x2a, [226] = 0x38, [227] = 0xdb,
	[228] = 0x9d, [229] = 0x36, [230] = 0xb8, [231] = 0xdc,
};

static void sdl_title(struct sdl *s)
{
	snprintf(s->title, sizeof(s->title), "%s%s",
		 dm_cfg.name ? dm_cfg.name : "qemu-dm",
		 s->grab ? " - press Ctrl-Alt to release the mouse" : "");
	SDL_SetWindowTitle(s->win, s->title);
}

static void sdl_set_grab(struct sdl *s, bool on)
{
	s->grab = on;
	SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
	sdl_title(s);
}

static void sdl_key(struct sdl *s, const SDL_KeyboardEvent *k)
{
	bool down = k->type == SDL_KEYDOWN;
	SDL_Scancode sc = k->keysym.scancode;

	if (sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL)
		s->ctrl = down;
	else if (sc == SDL_SCANCODE_LALT || sc == SDL_SCANCODE_RALT)
		s->alt = down;
	else if (down)
		s->combo_only = false;
	if (down && s->ctrl && s->alt)
		s->combo_only = true;
	/* Ctrl-Alt pressed and released alone: release the grab. */
	if (!down && s->combo_only && s->grab && !(s->ctrl && s->alt)) {
		s->combo_only = false;
		sdl_set_grab(s, false);
	}
	if ((unsigned)sc < 256 && hid_to_qnum[sc] && !k->repeat)
		input_key_qnum(hid_to_qnum[sc], down);
	else if ((unsigned)sc < 256 && hid_to_qnum[sc])
		input_key_qnum(hid_to_qnum[sc], true);  /* typematic */
}

static void sdl_button(struct sdl *s, const SDL_MouseButtonEvent *b)
{
	bool down = b->type == SDL_MOUSEBUTTONDOWN;

	if (!s->grab) {
		if (down && b->button == SDL_BUTTON_LEFT)
			sdl_set_grab(s, true);
		return;
	}
	if (b->button == SDL_BUTTON_LEFT)
		input_mouse_button(INPUT_BTN_LEFT, down);
	else if (b->button == SDL_BUTTON_RIGHT)
		input_mouse_button(INPUT_BTN_RIGHT, down);
	else if (b->button == SDL_BUTTON_MIDDLE)
		input_mouse_button(INPUT_BTN_MIDDLE, down);
	input_mouse_sync();
}

static void sdl_redraw(struct sdl *s)
{
	SDL_RenderClear(s->ren);
	if (s->tex)
		SDL_RenderCopy(s->ren, s->tex, NULL, NULL);
	SDL_RenderPresent(s->ren);
}

static gboolean sdl_pump(gpointer p)
{
	struct sdl *s = p;
	SDL_Event ev;

	while (SDL_PollEvent(&ev)) {
		switch (ev.type) {
		case SDL_QUIT:
			/* Closing the window is the power button. */
			qmp_system_powerdown();
			break;
		case SDL_KEYDOWN:
		case SDL_KEYUP:
			sdl_key(s, &ev.key);
			break;
		case SDL_MOUSEMOTION:
			if (s->grab) {
				input_mouse_rel(ev.motion.xrel, ev.motion.yrel);
				input_mouse_sync();
			}
			break;
		case SDL_MOUSEBUTTONDOWN:
		case SDL_MOUSEBUTTONUP:
			sdl_button(s, &ev.button);
			break;
		case SDL_MOUSEWHEEL:
			if (s->grab && ev.wheel.y) {
				enum input_button b = ev.wheel.y > 0 ?
					INPUT_BTN_WHEEL_UP : INPUT_BTN_WHEEL_DOWN;

				input_mouse_button(b, true);
				input_mouse_button(b, false);
				input_mouse_sync();
			}
			break;
		case SDL_WINDOWEVENT:
			if (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
			    ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
				sdl_redraw(s);
			break;
		}
	}
	return G_SOURCE_CONTINUE;
}

static void sdl_surface(void *opaque, pixman_image_t *img)
{
	struct sdl *s = opaque;
	int w = pixman_image_get_width(img), h = pixman_image_get_height(img);

	pixman_image_ref(img);
	if (s->surface)
		pixman_image_unref(s->surface);
	s->surface = img;
	if (s->tex)
		SDL_DestroyTexture(s->tex);
	s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_RGB888,
				   SDL_TEXTUREACCESS_STREAMING, w, h);
	SDL_RenderSetLogicalSize(s->ren, w, h);
	SDL_SetWindowSize(s->win, w, h);
}

static void sdl_dirty(void *opaque, int x, int y, int w, int h)
{
	struct sdl *s = opaque;
	SDL_Rect r = { x, y, w, h };
	int stride = pixman_image_get_stride(s->surface);
	const uint8_t *data = (const uint8_t *)pixman_image_get_data(s->surface);

	if (s->tex)
		SDL_UpdateTexture(s->tex, &r, data + (size_t)y * stride +
				  (size_t)x * 4, stride);
}

static void sdl_flush(void *opaque)
{
	sdl_redraw(opaque);
}

static const struct console_listener_ops sdl_listener_ops = {
	.resize = sdl_surface, .dirty = sdl_dirty, .flush = sdl_flush,
};

int sdl_init(const char *spec)
{
	struct console *con = console_primary();
	const char *drv;
	struct sdl *s;

	if (!con) {
		dm_log(DM_LOG_ERR, "-display %s: there is no display device to "
		       "show (drop -vga none)", spec);
		return -1;
	}
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		dm_log(DM_LOG_ERR, "-display %s: cannot open a window (%s); use "
		       "-vnc :N or -display none", spec, SDL_GetError());
		return -1;
	}
	/* Without a window system SDL falls back to drivers that show
	 * nothing; take them only when asked for by SDL_VIDEODRIVER. */
	drv = SDL_GetCurrentVideoDriver();
	if (!getenv("SDL_VIDEODRIVER") && drv &&
	    (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy") ||
	     !strcmp(drv, "evdev"))) {
		dm_log(DM_LOG_ERR, "-display %s: cannot open a window (no window "
		       "system: set DISPLAY); use -vnc :N or -display none",
		       spec);
		SDL_Quit();
		return -1;
	}
	s = g_new0(struct sdl, 1);
	s->win = SDL_CreateWindow("qemu-dm", SDL_WINDOWPOS_UNDEFINED,
				  SDL_WINDOWPOS_UNDEFINED, 640, 480,
				  SDL_WINDOW_RESIZABLE);
	s->ren = s->win ? SDL_CreateRenderer(s->win, -1, 0) : NULL;
	if (!s->ren) {
		dm_log(DM_LOG_ERR, "-display %s: cannot create a window (%s); "
		       "use -vnc :N or -display none", spec, SDL_GetError());
		if (s->win)
			SDL_DestroyWindow(s->win);
		SDL_Quit();
		g_free(s);
		return -1;
	}
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	sdl = s;
	sdl_title(s);
	s->listener = console_listen(con, &sdl_listener_ops, s);
	s->pump = g_timeout_add(20, sdl_pump, s);
	return 0;
}
