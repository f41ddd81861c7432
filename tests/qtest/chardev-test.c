/*
 * Serial back ends over qtest: query-chardev reports each port's back end
 * (a pty by its /dev/pts path, as toolstacks look it up), input typed on
 * the pty reaches COM1's receiver, a console client that attaches and
 * stops reading does not freeze qemu-dm (output waits in a bounded
 * buffer and arrives in order once read), and COM2 writes to its file.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define COM1 0x3f8
#define COM2 0x2f8
#define NBYTES 40000u   /* twice what a pty buffers, within ours */

static struct qts *q;

static uint8_t pattern(unsigned i)
{
	return (uint8_t)(i * 7 + i / 256);
}

/* The pty path from query-chardev's "pty:/dev/pts/N" for serial0. */
static char *pty_path(void)
{
	const char *r = qts_qmp(q, "{\"execute\": \"query-chardev\"}");
	const char *p = r ? strstr(r, "pty:/dev/") : NULL;

	if (!p || !strstr(r, "\"serial0\""))
		return NULL;
	p += 4;
	return g_strndup(p, strcspn(p, "\""));
}

/* Read up to n bytes from fd, waiting up to 5 s for each burst. */
static size_t drain(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pf, 1, 5000) <= 0)
			break;
		k = read(fd, buf + got, n - got);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* A free TCP port on the loopback (the kernel's pick, released again). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* qemu-dm listens (server,nowait); we connect, type one byte to COM1 and
 * read what COM1 transmits. */
static void socket_roundtrip(const char *name, const char *spec,
			     const struct sockaddr *sa, socklen_t salen)
{
	char *args = g_strdup_printf("-serial %s,server,nowait", spec);
	uint8_t got[2] = { 0, 0 };
	bool ready = false;
	int fd;

	q = qts_start(args);
	g_free(args);
	if (!q) {
		test_fail(name, "qemu-dm did not start");
		return;
	}
	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, sa, salen) < 0) {
		test_fail(name, "connect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		qts_quit(q);
		return;
	}
	qts_outb(q, COM1 + 3, 0x03);
	if (write(fd, "s", 1) != 1)
		test_fail(name, "write: %s", strerror(errno));
	for (int i = 0; i < 500 && !ready; i++) {
		ready = qts_inb(q, COM1 + 5) & 0x01;
		if (!ready)
			g_usleep(10000);
	}
	bool in_ok = ready && qts_inb(q, COM1) == 's';
	qts_outb(q, COM1, 'o');
	qts_outb(q, COM1, 'k');
	size_t n = drain(fd, got, 2);
	test_check(name, in_ok && n == 2 && !memcmp(got, "ok", 2),
		   "input %d, output %zu bytes", in_ok, n);
	close(fd);
	qts_quit(q);
}

/* -chardev file,id=ID,path=P with -serial chardev:ID, and an id that
 * names nothing refused. */
static void chardev_ids(const char *dir)
{
	char *out = g_build_filename(dir, "con0.txt", NULL);
	char *args = g_strdup_printf("-chardev file,id=con0,path=%s "
				     "-serial chardev:con0", out);
	gchar *text = NULL;

	q = qts_start(args);
	if (!q) {
		test_fail("chardev/serial-chardev-id", "qemu-dm did not start");
	} else {
		const char *r = qts_qmp(q, "{\"execute\": \"query-chardev\"}");
		bool listed = r && strstr(r, "\"con0\"") && strstr(r, out);

		qts_outb(q, COM1 + 3, 0x03);
		qts_outb(q, COM1, 'i');
		qts_outb(q, COM1, 'd');
		qts_quit(q);
		test_check("chardev/serial-chardev-id", listed &&
			   g_file_get_contents(out, &text, NULL, NULL) &&
			   !strcmp(text, "id"), "listed %d, file '%s'", listed,
			   text ? text : "");
	}
	/* -device isa-serial: the next free COM port (COM2 here). */
	g_free(args);
	g_free(text);
	text = NULL;
	remove(out);
	args = g_strdup_printf("-serial null -chardev file,id=c2,path=%s "
			       "-device isa-serial,chardev=c2", out);
	q = qts_start(args);
	if (!q) {
		test_fail("chardev/isa-serial-device", "qemu-dm did not start");
	} else {
		qts_outb(q, COM2 + 3, 0x03);
		qts_outb(q, COM2, '2');
		qts_quit(q);
		test_check("chardev/isa-serial-device",
			   g_file_get_contents(out, &text, NULL, NULL) &&
			   !strcmp(text, "2"), "file '%s'", text ? text : "");
	}
	q = qts_start("-serial null -device isa-serial,iobase=0x3f8,irq=4");
	test_check("chardev/isa-serial-port-conflict-refused", q == NULL,
		   "qemu-dm started");
	if (q)
		qts_quit(q);
	q = qts_start("-serial chardev:nope");
	test_check("chardev/serial-chardev-unknown-id-refused", q == NULL,
		   "qemu-dm started");
	if (q)
		qts_quit(q);
	remove(out);
	g_free(text);
	g_free(out);
	g_free(args);
}

static void sockets(const char *dir)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct sockaddr_in si = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int port = free_port();
	char *spec;

	snprintf(su.sun_path, sizeof(su.sun_path), "%s/com1.sock", dir);
	spec = g_strdup_printf("unix:%s", su.sun_path);
	socket_roundtrip("chardev/unix-server", spec, (struct sockaddr *)&su,
			 sizeof(su));
	g_free(spec);
	unlink(su.sun_path);
	if (port < 0) {
		test_skip("chardev/tcp-server", "no loopback TCP port");
		return;
	}
	si.sin_port = htons((uint16_t)port);
	spec = g_strdup_printf("tcp:127.0.0.1:%d", port);
	socket_roundtrip("chardev/tcp-server", spec, (struct sockaddr *)&si,
			 sizeof(si));
	g_free(spec);
}

int main(void)
{
	char *dir = g_dir_make_tmp("chardev-XXXXXX", NULL);
	char *out = g_build_filename(dir, "com2.txt", NULL);
	char *args = g_strdup_printf("-serial pty -serial file:%s", out);
	uint8_t *buf = g_malloc(NBYTES);
	gchar *text = NULL;
	char *path;
	int fd;

	q = qts_start(args);
	if (!q) {
		test_fail("chardev/start", "qemu-dm did not start");
		return 1;
	}
	path = pty_path();
	const char *r = qts_qmp(q, "{\"execute\": \"query-chardev\"}");
	test_check("chardev/query-lists-file", r && strstr(r, "\"serial1\"") &&
		   strstr(r, out), "%s", r ? r : "no reply");
	test_check("chardev/query-pty-path", path != NULL, "no pty:/dev/... for "
		   "serial0");
	if (!path) {
		qts_quit(q);
		return test_exit();
	}
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	test_check("chardev/pty-opens", fd >= 0, "%s: %s", path,
		   strerror(errno));
	if (fd < 0) {
		qts_quit(q);
		return test_exit();
	}

	/* Typed on the console: arrives in COM1's receive buffer. */
	qts_outb(q, COM1 + 3, 0x03);
	if (write(fd, "k", 1) != 1)
		test_fail("chardev/pty-write", "%s", strerror(errno));
	bool ready = false;
	for (int i = 0; i < 500 && !ready; i++) {
		ready = qts_inb(q, COM1 + 5) & 0x01;
		if (!ready)
			g_usleep(10000);
	}
	test_check("chardev/pty-input", ready && qts_inb(q, COM1) == 'k',
		   "nothing received");

	/* A client that attached and does not read. */
	for (unsigned i = 0; i < NBYTES; i++)
		qts_outb(q, COM1, pattern(i));
	r = qts_qmp(q, "{\"execute\": \"query-status\"}");
	test_check("chardev/unread-pty-does-not-block",
		   r && strstr(r, "\"return\""), "qemu-dm stuck");
	size_t got = drain(fd, buf, NBYTES);
	bool same = got == NBYTES;
	for (unsigned i = 0; same && i < NBYTES; i++)
		same = buf[i] == pattern(i);
	test_check("chardev/pty-output-in-order", same, "%zu of %u bytes, "
		   "in order: %d", got, NBYTES, same);
	close(fd);

	/* The console detaches and attaches again: the pty must still be
	 * there and still carry input. */
	qts_qmp(q, "{\"execute\": \"query-status\"}");  /* let it see HUP */
	g_usleep(300000);
	qts_qmp(q, "{\"execute\": \"query-status\"}");
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	ready = false;
	if (fd >= 0 && write(fd, "r", 1) == 1) {
		for (int i = 0; i < 500 && !ready; i++) {
			ready = qts_inb(q, COM1 + 5) & 0x01;
			if (!ready)
				g_usleep(10000);
		}
	}
	test_check("chardev/pty-reattach", fd >= 0 && ready &&
		   qts_inb(q, COM1) == 'r', "%s: %s", path,
		   fd < 0 ? strerror(errno) : "no input after reattaching");
	if (fd >= 0)
		close(fd);

	qts_outb(q, COM2 + 3, 0x03);
	qts_outb(q, COM2, 'o');
	qts_outb(q, COM2, 'k');
	qts_quit(q);
	test_check("chardev/com2-file", g_file_get_contents(out, &text, NULL,
							    NULL) &&
		   !strcmp(text, "ok"), "got '%s'", text ? text : "");
	g_free(text);
	remove(out);
	sockets(dir);
	chardev_ids(dir);
	rmdir(dir);
	g_free(out);
	g_free(dir);
	g_free(args);
	g_free(path);
	g_free(buf);
	return test_exit();
}
