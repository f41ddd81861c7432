/*
 * The VNC front end on libvncserver.
 *
 *   -vnc [HOST]:N[,to=M][,password[=on]][,websocket=P]   port 5900+N
 *   -vnc none
 *
 * HOST defaults to 127.0.0.1: a guest's screen and keyboard are not
 * offered to the network unless asked.  to=M takes the first free
 * display from N to M (xl's vncunused).  With password, clients must
 * give the password set by QMP set_password (or change vnc password);
 * until one is set nobody gets in, as in QEMU.
 *
 * libvncserver runs inside our main loop: its sockets are glib sources,
 * and the server's framebuffer is the console's surface itself (32-bit
 * x8r8g8b8), so a changed rectangle costs a mark and the encoding when a
 * client asks.  All clients share the screen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netdb.h>
#include <rfb/rfb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm/dm-internal.h"
#include "hw/input.h"
#include "ui/console.h"
#include "ui/ui.h"


struct vnc {
	rfbScreenInfoPtr screen;
	struct console *con;
	struct console_listener *listener;
	pixman_image_t *surface;        /* the one the server shows */
	guint listen_src;
	bool password_required;
	char *passwords[2];             /* rfbCheckPasswordByList's list */
	int display;
	int keymap;                     /* keymap_find's index */
	char host[64];
	int last_x, last_y, last_buttons;
	bool have_pos;
};

static struct vnc *vnc;

/* ---- input ---- */

static void vnc_key(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	int q = keymap_qnum(vnc->keymap, (uint32_t)sym);

	(void)cl;
	if (q >= 0)
		input_key_qnum((unsigned)q, down);
}

static void vnc_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = vnc;
	static const struct { int bit; enum input_button b; } map[] = {
		{ 1, INPUT_BTN_LEFT }, { 2, INPUT_BTN_MIDDLE },
		{ 4, INPUT_BTN_RIGHT }, { 8, INPUT_BTN_WHEEL_UP },
		{ 16, INPUT_BTN_WHEEL_DOWN },
	};

	(void)cl;
	if (v->have_pos && (x != v->last_x || y != v->last_y))
		input_mouse_rel(x - v->last_x, y - v->last_y);
	for (unsigned i = 0; i < G_N_ELEMENTS(map); i++)
		if ((buttons ^ v->last_buttons) & map[i].bit)
			input_mouse_button(map[i].b, buttons & map[i].bit);
	v->last_x = x;
	v->last_y = y;
	v->last_buttons = buttons;
	v->have_pos = true;
	input_mouse_sync();
}

/* ---- sockets in the main loop ---- */

static gboolean vnc_readable(gint fd, GIOCondition cond, gpointer p)
{
	(void)fd;
	(void)cond;
	(void)p;
	if (vnc)
		rfbProcessEvents(vnc->screen, 0);
	return G_SOURCE_CONTINUE;
}

static void vnc_client_gone(rfbClientPtr cl)
{
	guint src = GPOINTER_TO_UINT(cl->clientData);

	if (src)
		g_source_remove(src);
	cl->clientData = NULL;
}

static enum rfbNewClientAction vnc_new_client(rfbClientPtr cl)
{
	cl->clientData = GUINT_TO_POINTER(g_unix_fd_add(cl->sock,
		G_IO_IN | G_IO_HUP | G_IO_ERR, vnc_readable, NULL));
	cl->clientGoneHook = vnc_client_gone;
	return RFB_CLIENT_ACCEPT;
}

/* ---- the console ---- */

static void vnc_surface(void *opaque, pixman_image_t *img)
{
	struct vnc *v = opaque;
	rfbPixelFormat *f = &v->screen->serverFormat;

	pixman_image_ref(img);
	rfbNewFramebuffer(v->screen, (char *)pixman_image_get_data(img),
			  pixman_image_get_width(img),
			  pixman_image_get_height(img), 8, 3, 4);
	/* x8r8g8b8 in host (little-endian) order. */
	f->redShift = 16;
	f->greenShift = 8;
	f->blueShift = 0;
	v->screen->paddedWidthInBytes = pixman_image_get_stride(img);
	if (v->surface)
		pixman_image_unref(v->surface);
	v->surface = img;
}

static void vnc_dirty(void *opaque, int x, int y, int w, int h)
{
	struct vnc *v = opaque;

	rfbMarkRectAsModified(v->screen, x, y, x + w, y + h);
}

static void vnc_flush(void *opaque)
{
	struct vnc *v = opaque;

	rfbProcessEvents(v->screen, 0);
}

static const struct console_listener_ops vnc_listener_ops = {
	.resize = vnc_surface, .dirty = vnc_dirty, .flush = vnc_flush,
};

/* ---- set-up ---- */

static void vnc_log(const char *fmt, ...)
{
	(void)fmt;      /* libvncserver's chatter stays quiet */
}

static void vnc_err(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_strchomp(msg);
	dm_log(DM_LOG_WARN, "vnc: %s", msg);
	g_free(msg);
}

/* [HOST]:N[,to=M][,password[=on|off]][,websocket=P][,share=...] */
static int vnc_parse(const char *spec, char *host, size_t hostlen,
		     int *display, int *to, bool *password)
{
	char **parts = g_strsplit(spec, ",", 0);
	const char *first = parts[0] ? parts[0] : "";
	const char *colon = strrchr(first, ':');
	char *end;
	int ret = -1;
	long n;

	*password = false;
	if (!colon) {
		dm_log(DM_LOG_ERR, "-vnc %s: expected [HOST]:DISPLAY, as in "
		       "-vnc :1 or -vnc 0.0.0.0:1, or -vnc none", spec);
		goto out;
	}
	if (colon == first)
		g_strlcpy(host, "127.0.0.1", hostlen);
	else if ((size_t)(colon - first) < hostlen)
		g_strlcpy(host, first, (size_t)(colon - first) + 1);
	else
		goto bad_host;
	if (host[0] == '[') {           /* [::1] */
		size_t l = strlen(host);

		if (l < 3 || host[l - 1] != ']')
			goto bad_host;
		memmove(host, host + 1, l - 2);
		host[l - 2] = '\0';
	}
	n = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || n < 0 || n > 59635) {
		dm_log(DM_LOG_ERR, "-vnc %s: display '%s' is not a number "
		       "from 0 (port 5900)", spec, colon + 1);
		goto out;
	}
	*display = (int)n;
	*to = (int)n;
	for (char **p = parts + 1; *p; p++) {
		if (!strncmp(*p, "to=", 3)) {
			n = strtol(*p + 3, &end, 10);
			if (!(*p)[3] || *end || n < *display || n > 59635) {
				dm_log(DM_LOG_ERR, "-vnc %s: to=%s must be a "
				       "display number not below %d", spec,
				       *p + 3, *display);
				goto out;
			}
			*to = (int)n;
		} else if (!strcmp(*p, "password") ||
			   !strcmp(*p, "password=on")) {
			*password = true;
		} else if (!strcmp(*p, "password=off") ||
			   !strncmp(*p, "share=", 6) ||
			   !strncmp(*p, "lossy", 5) ||
			   !strncmp(*p, "non-adaptive", 12) ||
			   !strncmp(*p, "websocket", 9)) {
			/* accepted: libvncserver answers WebSocket clients
			 * on the VNC port itself */
		} else {
			dm_log(DM_LOG_ERR, "-vnc %s: unknown option '%s' "
			       "(to=, password, websocket, share)", spec, *p);
			goto out;
		}
	}
	ret = 0;
	goto out;
bad_host:
	dm_log(DM_LOG_ERR, "-vnc %s: bad host; give an address as in "
	       "127.0.0.1:1 or [::1]:1", spec);
out:
	g_strfreev(parts);
	return ret;
}

static bool port_free(const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;
	char ps[16];
	bool ok = false;
	int fd, one = 1;

	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(host, ps, &hints, &ai) != 0)
		return false;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return ok;
}

int vnc_init(const char *spec)
{
	struct vnc *v;
	char host[64];
	int display, to;
	bool password, v6;
	struct console *con = console_primary();
	in_addr_t addr = 0;

	if (vnc) {
		dm_log(DM_LOG_ERR, "-vnc %s: only one VNC server", spec);
		return -1;
	}
	if (vnc_parse(spec, host, sizeof(host), &display, &to, &password) < 0)
		return -1;
	if (!con) {
		dm_log(DM_LOG_ERR, "-vnc %s: there is no display device to "
		       "show (drop -vga none)", spec);
		return -1;
	}
	v6 = strchr(host, ':') != NULL;
	if (!v6 && inet_pton(AF_INET, host, &addr) != 1) {
		dm_log(DM_LOG_ERR, "-vnc %s: '%s' is not an IPv4 or IPv6 "
		       "address", spec, host);
		return -1;
	}
	while (display <= to && !port_free(host, 5900 + display))
		display++;
	if (display > to) {
		dm_log(DM_LOG_ERR, "-vnc %s: port%s %d%s%d in use on %s; pick "
		       "another display or add to=N to search", spec,
		       to > display ? "s" : "", 5900 + (to > display ? 0 : to),
		       to > display ? "-" : "", 5900 + to, host);
		return -1;
	}
	rfbLog = vnc_log;
	rfbErr = vnc_err;
	v = g_new0(struct vnc, 1);
	v->display = display;
	v->keymap = keymap_find(dm_cfg.keymap ? dm_cfg.keymap : "en-us");
	g_strlcpy(v->host, host, sizeof(v->host));
	v->screen = rfbGetScreen(NULL, NULL, 640, 480, 8, 3, 4);
	if (!v->screen) {
		g_free(v);
		return -1;
	}
	v->screen->desktopName = dm_cfg.name ? dm_cfg.name : "qemu-dm";
	v->screen->alwaysShared = TRUE;
	v->screen->deferUpdateTime = 0;
	/* libvncserver reads whole messages with blocking waits: bound
	 * what a stalled client can cost the device model. */
	v->screen->maxClientWait = 2000;
	v->screen->cursor = NULL;
	v->screen->kbdAddEvent = vnc_key;
	v->screen->ptrAddEvent = vnc_pointer;
	v->screen->newClientHook = vnc_new_client;
	if (v6) {
		v->screen->port = 0;
		v->screen->ipv6port = 5900 + display;
		v->screen->listen6Interface = v->host;
	} else {
		v->screen->port = 5900 + display;
		v->screen->ipv6port = 0;
		v->screen->listenInterface = addr;
	}
	v->password_required = password;
	if (password) {
		/* Nobody matches until set_password gives one. */
		v->screen->authPasswdData = v->passwords;
		v->screen->passwordCheck = rfbCheckPasswordByList;
		v->passwords[0] = NULL;
	}
	vnc = v;
	v->con = con;
	v->listener = console_listen(con, &vnc_listener_ops, v);
	rfbInitServer(v->screen);
	if ((v6 ? v->screen->listen6Sock : v->screen->listenSock) < 0) {
		dm_log(DM_LOG_ERR, "-vnc %s: cannot listen on %s port %d",
		       spec, host, 5900 + display);
		vnc_fini();
		return -1;
	}
	v->listen_src = g_unix_fd_add(v6 ? v->screen->listen6Sock
					 : v->screen->listenSock,
				      G_IO_IN, vnc_readable, NULL);
	dm_log(DM_LOG_INFO, "VNC server on %s:%d (port %d)%s", host, display,
	       5900 + display, password ? ", password required" : "");
	return 0;
}

void vnc_fini(void)
{
	struct vnc *v = vnc;

	if (!v)
		return;
	if (v->listen_src)
		g_source_remove(v->listen_src);
	rfbShutdownServer(v->screen, TRUE);
	console_unlisten(v->listener);
	rfbScreenCleanup(v->screen);
	if (v->surface)
		pixman_image_unref(v->surface);
	g_free(v->passwords[0]);
	vnc = NULL;
	g_free(v);
}

int vnc_set_password(const char *password)
{
	if (!vnc || !vnc->password_required)
		return -1;
	g_free(vnc->passwords[0]);
	/* VNC authentication uses the first 8 characters. */
	vnc->passwords[0] = g_strndup(password, 8);
	return 0;
}

JsonNode *vnc_query(void)
{
	JsonNode *n = json_from_string("{}", NULL);
	JsonObject *o = json_node_get_object(n);

	json_object_set_boolean_member(o, "enabled", vnc != NULL);
	if (vnc) {
		char svc[16];

		snprintf(svc, sizeof(svc), "%d", 5900 + vnc->display);
		json_object_set_string_member(o, "host", vnc->host);
		json_object_set_string_member(o, "service", svc);
		json_object_set_string_member(o, "family",
			strchr(vnc->host, ':') ? "ipv6" : "ipv4");
		json_object_set_string_member(o, "auth",
			vnc->password_required ? "vnc" : "none");
	}
	return n;
}
