/*
 * Character back ends for serial ports (-serial SPEC): where a guest's
 * console goes.
 *
 *   stdio, mon:stdio  this terminal, in raw mode (restored at exit);
 *                     Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, as in QEMU
 *   pty               a new pseudo-terminal; its path is printed, like QEMU
 *                     ("char device redirected to /dev/pts/N (label L)"),
 *                     and kept for QMP
 *   file:PATH         output appended to PATH (truncated at start)
 *   unix:PATH[,server][,nowait]  a UNIX socket, as client or server
 *   tcp:[HOST]:PORT[,server][,nowait]  the same over TCP
 *   chardev:ID        a -chardev pty|stdio|null|file|socket with id=ID
 *   null, none        nothing
 *
 * Input is read only while the device can take it (chardev_accept_input
 * re-enables reading), so a full receive FIFO stops the reads instead of
 * losing bytes.  Output never blocks the device model: what a pty or
 * socket cannot take now waits in a bounded buffer (OUT_MAX) drained when
 * the fd is writable, and beyond that is dropped, so a console client
 * that attaches and stops reading cannot freeze the guest.  A peer that
 * goes away makes the port behave as unconnected.  stdio and files are
 * written directly (blocking), as QEMU does.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "dm/chardev.h"
#include "dm/dm-internal.h"
#include "dm/options.h"

struct chardev {
	char label[32];
	int in_fd, out_fd;          /* -1 when none */
	int listen_fd;
	guint watch;
	bool mux_escape;            /* saw Ctrl-A on stdio */
	bool is_stdio;
	char *pty_path;
	char *desc;                 /* for query-chardev: "pty:/dev/pts/3"... */
	guint pty_timer;            /* waiting for a pty client to (re)attach */
	GByteArray *outbuf;         /* output waiting for a writable fd */
	guint out_watch;
	bool dropped_logged;
	size_t (*can_read)(void *opaque);
	void (*read)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

#define OUT_MAX (64 * 1024)

static GPtrArray *chardevs;     /* every open back end, for query-chardev */
static struct termios stdio_saved;
static bool stdio_raw;

static void stdio_restore(void)
{
	if (stdio_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &stdio_saved);
	stdio_raw = false;
}

static void stdio_make_raw(void)
{
	struct termios t;

	if (stdio_raw || !isatty(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &stdio_saved) < 0)
		return;
	t = stdio_saved;
	cfmakeraw(&t);
	/* Keep output post-processing so our own messages stay readable. */
	t.c_oflag |= OPOST | ONLCR;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
	stdio_raw = true;
	atexit(stdio_restore);
}

static gboolean chardev_readable(gint fd, GIOCondition cond, gpointer p);

static void chardev_watch(struct chardev *c)
{
	if (c->in_fd >= 0 && !c->watch && c->read && !c->pty_timer)
		c->watch = g_unix_fd_add(c->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
					 chardev_readable, c);
}

/* No client on the pty's other side: the master reads EIO and polls HUP
 * until one opens it, so look every 200 ms instead of spinning; the pty
 * itself stays, so a console can detach and attach again. */
static gboolean pty_check(gpointer p)
{
	struct chardev *c = p;
	struct pollfd pf = { .fd = c->in_fd, .events = POLLIN };

	if (poll(&pf, 1, 0) >= 0 && (pf.revents & POLLHUP))
		return G_SOURCE_CONTINUE;
	c->pty_timer = 0;
	chardev_watch(c);
	return G_SOURCE_REMOVE;
}

static void pty_wait_client(struct chardev *c)
{
	if (!c->pty_timer)
		c->pty_timer = g_timeout_add(200, pty_check, c);
}

static void chardev_unwatch(struct chardev *c)
{
	if (c->watch)
		g_source_remove(c->watch);
	c->watch = 0;
}

static void chardev_drop_output(struct chardev *c)
{
	if (c->out_watch)
		g_source_remove(c->out_watch);
	c->out_watch = 0;
	if (c->outbuf)
		g_byte_array_set_size(c->outbuf, 0);
}

static void chardev_disconnect(struct chardev *c)
{
	chardev_unwatch(c);
	chardev_drop_output(c);
	if (c->in_fd >= 0 && c->in_fd != STDIN_FILENO)
		close(c->in_fd);
	c->in_fd = c->out_fd = -1;
}

/* Ctrl-A escapes on stdio; returns how many bytes of buf are input. */
static size_t stdio_filter(struct chardev *c, uint8_t *buf, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t ch = buf[i];

		if (c->mux_escape) {
			c->mux_escape = false;
			if (ch == 'x') {
				stdio_restore();
				fprintf(stderr, "\nqemu-dm: terminating on Ctrl-A x\n");
				dm_quit(0);
				return out;
			}
			if (ch == 'h') {
				fprintf(stderr, "\r\nCtrl-A x  exit\r\n"
					"Ctrl-A Ctrl-A  send Ctrl-A\r\n");
				continue;
			}
			if (ch != 1)
				continue;
		} else if (ch == 1) {
			c->mux_escape = true;
			continue;
		}
		buf[out++] = ch;
	}
	return out;
}

static gboolean chardev_readable(gint fd, GIOCondition cond, gpointer p)
{
	struct chardev *c = p;
	uint8_t buf[256];
	size_t room = c->can_read ? c->can_read(c->opaque) : sizeof(buf);
	ssize_t n;

	(void)cond;
	if (room == 0) {
		/* The device is full: wait for chardev_accept_input. */
		c->watch = 0;
		return G_SOURCE_REMOVE;
	}
	if (room > sizeof(buf))
		room = sizeof(buf);
	n = read(fd, buf, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		/* EOF: a socket peer left, or stdin closed.  The port
		 * stays, unconnected; a server waits for the next peer. */
		c->watch = 0;
		if (c->is_stdio) {
			c->in_fd = -1;
		} else if (c->pty_path) {
			pty_wait_client(c);
		} else if (c->listen_fd >= 0) {
			chardev_drop_output(c);
			close(c->in_fd);
			c->in_fd = c->out_fd = -1;
		} else {
			chardev_disconnect(c);
		}
		return G_SOURCE_REMOVE;
	}
	if (c->is_stdio)
		n = (ssize_t)stdio_filter(c, buf, (size_t)n);
	if (n > 0 && c->read)
		c->read(c->opaque, buf, (size_t)n);
	return G_SOURCE_CONTINUE;
}

void chardev_accept_input(struct chardev *c)
{
	if (c)
		chardev_watch(c);
}

void chardev_set_handlers(struct chardev *c, size_t (*can_read)(void *),
			  void (*read)(void *, const uint8_t *, size_t),
			  void *opaque)
{
	c->can_read = can_read;
	c->read = read;
	c->opaque = opaque;
	chardev_watch(c);
}

/* A write failed for good: a server's peer left (wait for the next one);
 * anything else just stops sending. */
static void chardev_write_failed(struct chardev *c)
{
	chardev_drop_output(c);
	if (c->listen_fd >= 0 && c->out_fd >= 0) {
		chardev_unwatch(c);
		close(c->out_fd);
		c->in_fd = c->out_fd = -1;
	}
}

static gboolean chardev_writable(gint fd, GIOCondition cond, gpointer p)
{
	struct chardev *c = p;
	ssize_t n;

	(void)cond;
	n = write(fd, c->outbuf->data, c->outbuf->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		c->out_watch = 0;
		chardev_write_failed(c);
		return G_SOURCE_REMOVE;
	}
	g_byte_array_remove_range(c->outbuf, 0, (guint)n);
	if (c->outbuf->len)
		return G_SOURCE_CONTINUE;
	c->out_watch = 0;
	return G_SOURCE_REMOVE;
}

/* Keep what the fd could not take, up to OUT_MAX; drop the rest. */
static void chardev_queue_output(struct chardev *c, const uint8_t *buf,
				 size_t len)
{
	size_t room;

	if (!c->outbuf)
		c->outbuf = g_byte_array_new();
	room = OUT_MAX - c->outbuf->len;
	if (len > room) {
		if (!c->dropped_logged)
			dm_log(DM_LOG_WARN, "%s: output dropped: the other end "
			       "does not read", c->label);
		c->dropped_logged = true;
		len = room;
	}
	g_byte_array_append(c->outbuf, buf, (guint)len);
	if (!c->out_watch && c->outbuf->len)
		c->out_watch = g_unix_fd_add(c->out_fd, G_IO_OUT,
					     chardev_writable, c);
}

void chardev_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	if (!c || c->out_fd < 0)
		return;
	/* Behind earlier bytes still waiting: keep the order. */
	if (c->outbuf && c->outbuf->len) {
		chardev_queue_output(c, buf, len);
		return;
	}
	while (len) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			chardev_queue_output(c, buf, len);
			return;
		}
		if (n <= 0) {
			chardev_write_failed(c);
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

const char *chardev_pty_path(const struct chardev *c)
{
	return c ? c->pty_path : NULL;
}

static gboolean chardev_accept(gint fd, GIOCondition cond, gpointer p)
{
	struct chardev *c = p;
	int s;

	(void)cond;
	s = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return G_SOURCE_CONTINUE;
	if (c->in_fd >= 0) {
		close(s);       /* one peer at a time */
		return G_SOURCE_CONTINUE;
	}
	c->in_fd = c->out_fd = s;
	chardev_watch(c);
	return G_SOURCE_CONTINUE;
}

/* The address part of unix:PATH or tcp:[HOST]:PORT; fills sa. */
static int socket_address(const char *kind, const char *addr, bool server,
			  struct sockaddr_storage *sa, socklen_t *len)
{
	if (!strcmp(kind, "unix")) {
		struct sockaddr_un *su = (struct sockaddr_un *)sa;

		if (strlen(addr) >= sizeof(su->sun_path)) {
			dm_log(DM_LOG_ERR, "unix:%s: path too long", addr);
			return -1;
		}
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, addr);
		*len = sizeof(*su);
		return 0;
	}
	/* tcp: the port after the last colon, an optional host before. */
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = server ? AI_PASSIVE : 0,
	}, *res = NULL;
	char *host;
	int err;

	if (!colon || !colon[1] ||
	    (strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	     (strlen(colon + 1) > 5 || atoi(colon + 1) > 65535))) {
		dm_log(DM_LOG_ERR, "tcp:%s: expected tcp:[HOST]:PORT with a "
		       "port of 0-65535", addr);
		return -1;
	}
	host = g_strndup(addr, (gsize)(colon - addr));
	/* [::1]:4444 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	err = getaddrinfo(*host ? host : (server ? NULL : "localhost"),
			  colon + 1, &hints, &res);
	g_free(host);
	if (err || !res || res->ai_addrlen > sizeof(*sa)) {
		dm_log(DM_LOG_ERR, "tcp:%s: %s", addr,
		       err ? gai_strerror(err) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* unix:PATH[,server][,nowait] and tcp:[HOST]:PORT[,server][,nowait]
 * (also QEMU's server=on and wait=off spellings). */
static int open_socket(struct chardev *c, const char *kind, const char *spec)
{
	struct sockaddr_storage sa = { 0 };
	socklen_t salen = 0;
	char *addr = g_strdup(spec);
	char *comma = strchr(addr, ',');
	bool server = false, wait = true;
	int fd = -1, one = 1;

	if (comma) {
		char **opts = g_strsplit(comma + 1, ",", 0);

		*comma = '\0';
		for (char **o = opts; *o; o++) {
			if (!strcmp(*o, "server") || !strcmp(*o, "server=on"))
				server = true;
			else if (!strcmp(*o, "nowait") || !strcmp(*o, "wait=off"))
				wait = false;
		}
		g_strfreev(opts);
	}
	if (socket_address(kind, addr, server, &sa, &salen) < 0) {
		g_free(addr);
		return -1;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (server) {
		if (sa.ss_family == AF_UNIX)
			unlink(addr);
		else
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, salen) < 0 ||
		    listen(fd, 1) < 0)
			goto fail;
		c->listen_fd = fd;
		if (wait) {
			fprintf(stderr, "qemu-dm: waiting for a connection on "
				"%s:%s (%s)\n", kind, addr, c->label);
			int s = accept4(fd, NULL, NULL,
					SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (s < 0)
				goto fail;
			c->in_fd = c->out_fd = s;
		}
		g_unix_fd_add(fd, G_IO_IN, chardev_accept, c);
	} else {
		if (connect(fd, (struct sockaddr *)&sa, salen) < 0)
			goto fail;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		c->in_fd = c->out_fd = fd;
	}
	g_free(addr);
	return 0;
fail:
	dm_log(DM_LOG_ERR, "%s:%s: %s", kind, addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	c->listen_fd = -1;
	g_free(addr);
	return -1;
}

static int open_pty(struct chardev *c)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios t;
	const char *name;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m))) {
		dm_log(DM_LOG_ERR, "pty: %s", strerror(errno));
		return -1;
	}
	/* Raw, so the guest sees exactly what is typed. */
	if (tcgetattr(m, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(m, TCSANOW, &t);
	}
	fcntl(m, F_SETFL, O_NONBLOCK);
	c->in_fd = c->out_fd = m;
	c->pty_path = g_strdup(name);
	fprintf(stderr, "char device redirected to %s (label %s)\n", name,
		c->label);
	return 0;
}

/* Yes/no options as -chardev writes them: server, server=on, nowait,
 * wait=off. */
static bool cd_flag(const char *spec, const char *name, bool def)
{
	char *v = opt_get(spec, name);
	char **parts = g_strsplit(spec, ",", 0);
	bool r = def;

	if (v)
		r = !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true");
	for (char **p = parts; !v && *p; p++) {
		if (!strcmp(*p, name))
			r = true;
		else if (!strncmp(*p, "no", 2) && !strcmp(*p + 2, name))
			r = false;
	}
	g_free(v);
	g_strfreev(parts);
	return r;
}

/* "-serial chardev:ID": the -chardev with that id, as a -serial spec
 * (NULL and a message when there is none or its type is unknown). */
static char *chardev_spec_from_id(const char *id)
{
	const char *cd = NULL;
	char *ret = NULL, *path, *host, *port;
	size_t tlen;

	for (unsigned i = 0; i < dm_cfg.nchardev && !cd; i++) {
		char *cid = opt_get(dm_cfg.chardev[i], "id");

		if (cid && !strcmp(cid, id))
			cd = dm_cfg.chardev[i];
		g_free(cid);
	}
	if (!cd) {
		dm_log(DM_LOG_ERR, "-serial chardev:%s: no -chardev with id=%s",
		       id, id);
		return NULL;
	}
	tlen = strcspn(cd, ",");
	path = opt_get(cd, "path");
	host = opt_get(cd, "host");
	port = opt_get(cd, "port");
	if ((tlen == 3 && !strncmp(cd, "pty", 3)) ||
	    (tlen == 5 && !strncmp(cd, "stdio", 5)) ||
	    (tlen == 4 && !strncmp(cd, "null", 4))) {
		ret = g_strndup(cd, tlen);
	} else if (tlen == 4 && !strncmp(cd, "file", 4) && path) {
		ret = g_strdup_printf("file:%s", path);
	} else if (tlen == 6 && !strncmp(cd, "socket", 6) && (path || port)) {
		bool server = cd_flag(cd, "server", false);
		bool wait = cd_flag(cd, "wait", true);
		char *addr = path ? g_strdup_printf("unix:%s", path) :
			     g_strdup_printf("tcp:%s:%s", host ? host : "", port);

		ret = g_strdup_printf("%s%s%s", addr, server ? ",server" : "",
				      wait ? "" : ",nowait");
		g_free(addr);
	} else {
		dm_log(DM_LOG_ERR, "-chardev %s: expected pty, stdio, null, "
		       "file,path=P or socket,path=P|port=N", cd);
	}
	g_free(path);
	g_free(host);
	g_free(port);
	return ret;
}

struct chardev *chardev_open(const char *spec, const char *label)
{
	struct chardev *c = g_new0(struct chardev, 1);
	int ret = 0;

	if (!strncmp(spec, "chardev:", 8)) {
		/* Labelled by the -chardev id, as QEMU's query-chardev does. */
		char *real = chardev_spec_from_id(spec + 8);

		g_free(c);
		c = real ? chardev_open(real, spec + 8) : NULL;
		g_free(real);
		return c;
	}
	g_strlcpy(c->label, label, sizeof(c->label));
	c->in_fd = c->out_fd = c->listen_fd = -1;
	if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
		c->is_stdio = true;
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
		stdio_make_raw();
	} else if (!strcmp(spec, "pty")) {
		ret = open_pty(c);
	} else if (!strncmp(spec, "file:", 5)) {
		c->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				 0644);
		if (c->out_fd < 0) {
			dm_log(DM_LOG_ERR, "-serial %s: %s", spec, strerror(errno));
			ret = -1;
		}
	} else if (!strncmp(spec, "unix:", 5)) {
		ret = open_socket(c, "unix", spec + 5);
	} else if (!strncmp(spec, "tcp:", 4)) {
		ret = open_socket(c, "tcp", spec + 4);
	} else if (!strcmp(spec, "null") || !strcmp(spec, "none") ||
		   !strncmp(spec, "vc", 2)) {
		/* nothing attached */
	} else {
		dm_log(DM_LOG_ERR, "-serial %s: expected stdio, pty, file:PATH, "
		       "unix:PATH[,server][,nowait], "
		       "tcp:[HOST]:PORT[,server][,nowait], chardev:ID or null",
		       spec);
		ret = -1;
	}
	if (ret < 0) {
		g_free(c);
		return NULL;
	}
	if (c->pty_path)
		c->desc = g_strdup_printf("pty:%s", c->pty_path);
	else
		c->desc = g_strdup(spec);
	if (!chardevs)
		chardevs = g_ptr_array_new();
	g_ptr_array_add(chardevs, c);
	return c;
}

bool chardev_info(unsigned i, const char **label, const char **filename,
		  bool *frontend_open)
{
	struct chardev *c;

	if (!chardevs || i >= chardevs->len)
		return false;
	c = g_ptr_array_index(chardevs, i);
	*label = c->label;
	*filename = c->desc;
	*frontend_open = c->read || c->out_fd >= 0;
	return true;
}
