/*
 * Client side of the qtest and QMP protocols for our device tests.  The
 * sockets are set up as QEMU's libqtest does (we listen, qemu-dm
 * connects), so the same command line exercises our compatibility with it.
 */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"

struct qts {
	pid_t pid;
	int qt_fd, qmp_fd;
	GString *qt_buf, *qmp_buf;
	char *reply;
	char *dir;
	bool irq[64];
	unsigned irq_raises[64];
	GQueue events;
	int status;
	bool exited;
};

#define QTS_TIMEOUT_MS 60000

static void qts_die(struct qts *q, const char *what)
{
	fprintf(stdout, "FAIL: libqtest: %s (qemu-dm pid %d)\n", what,
		(int)q->pid);
	fflush(stdout);
	if (q->pid > 0 && !q->exited)
		kill(q->pid, SIGKILL);
	exit(1);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1) < 0)
		return -1;
	return fd;
}

/* Accept with a timeout, noticing if qemu-dm died first. */
static int accept_timeout(struct qts *q, int lfd)
{
	for (int waited = 0; waited < QTS_TIMEOUT_MS; waited += 50) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int st;

		if (poll(&p, 1, 50) > 0)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (waitpid(q->pid, &st, WNOHANG) == q->pid) {
			q->exited = true;
			q->status = WIFEXITED(st) ? WEXITSTATUS(st)
						  : 128 + WTERMSIG(st);
			return -1;
		}
	}
	return -1;
}

/* Read one line from fd into buf's tail; returns a g_malloc'd line. */
static char *read_line(struct qts *q, int fd, GString *buf, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(buf->str, '\n', buf->len);
		char chunk[65536];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - buf->str);
			char *line = g_strndup(buf->str, len);

			if (len && line[len - 1] == '\r')
				line[len - 1] = '\0';
			g_string_erase(buf, 0, (gssize)len + 1);
			return line;
		}
		if (poll(&p, 1, timeout_ms) <= 0)
			return NULL;
		n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			qts_die(q, "qemu-dm closed the connection");
		g_string_append_len(buf, chunk, n);
	}
}

static void send_all(struct qts *q, int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			qts_die(q, "cannot write to qemu-dm");
		s += n;
		len -= (size_t)n;
	}
}

static const char *qmp_next(struct qts *q, bool skip_events)
{
	for (;;) {
		char *line = read_line(q, q->qmp_fd, q->qmp_buf,
				       QTS_TIMEOUT_MS);

		if (!line)
			qts_die(q, "no QMP reply");
		if (!*line) {
			g_free(line);
			continue;
		}
		if (skip_events && strstr(line, "\"event\"") == line + 1) {
			g_queue_push_tail(&q->events, line);
			continue;
		}
		g_free(q->reply);
		q->reply = line;
		return line;
	}
}

struct qts *qts_start(const char *extra_args)
{
	struct qts *q = g_new0(struct qts, 1);
	const char *bin = getenv("QTEST_QEMU_BINARY");
	char *qt_path, *qmp_path, *cmd;
	int qt_l, qmp_l;

	if (!bin)
		bin = "bin/qemu-dm";
	q->dir = g_dir_make_tmp("qtest-XXXXXX", NULL);
	qt_path = g_build_filename(q->dir, "qtest.sock", NULL);
	qmp_path = g_build_filename(q->dir, "qmp.sock", NULL);
	qt_l = listen_unix(qt_path);
	qmp_l = listen_unix(qmp_path);
	if (qt_l < 0 || qmp_l < 0) {
		printf("FAIL: libqtest: cannot create sockets in %s\n", q->dir);
		exit(1);
	}
	cmd = g_strdup_printf("exec %s -qtest unix:%s -qtest-log /dev/null "
			      "-chardev socket,path=%s,id=char0 "
			      "-mon chardev=char0,mode=control -display none "
			      "%s -accel qtest", bin, qt_path, qmp_path,
			      extra_args ? extra_args : "");
	q->pid = fork();
	if (q->pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	g_free(cmd);
	q->qt_fd = accept_timeout(q, qt_l);
	q->qmp_fd = q->qt_fd >= 0 ? accept_timeout(q, qmp_l) : -1;
	close(qt_l);
	close(qmp_l);
	unlink(qt_path);
	unlink(qmp_path);
	g_free(qt_path);
	g_free(qmp_path);
	q->qt_buf = g_string_new(NULL);
	q->qmp_buf = g_string_new(NULL);
	g_queue_init(&q->events);
	if (q->qt_fd < 0 || q->qmp_fd < 0) {
		if (!q->exited)
			kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
		fprintf(stderr, "libqtest: qemu-dm did not connect\n");
		rmdir(q->dir);
		g_free(q->dir);
		g_free(q);
		return NULL;
	}
	/* The greeting, then capabilities negotiation. */
	if (!strstr(qmp_next(q, true), "\"QMP\""))
		qts_die(q, "no QMP greeting");
	if (!strstr(qts_qmp(q, "{\"execute\": \"qmp_capabilities\"}"),
		    "\"return\""))
		qts_die(q, "qmp_capabilities refused");
	return q;
}

int qts_pid(struct qts *q)
{
	return (int)q->pid;
}

static void qts_free(struct qts *q)
{
	close(q->qt_fd);
	close(q->qmp_fd);
	rmdir(q->dir);
	g_free(q->dir);
	g_free(q->reply);
	g_string_free(q->qt_buf, TRUE);
	g_string_free(q->qmp_buf, TRUE);
	g_queue_clear_full(&q->events, g_free);
	g_free(q);
}

int qts_wait_exit(struct qts *q, int timeout_ms)
{
	for (int waited = 0; !q->exited; waited += 10) {
		int st;

		if (waitpid(q->pid, &st, WNOHANG) == q->pid) {
			q->exited = true;
			q->status = WIFEXITED(st) ? WEXITSTATUS(st)
						  : 128 + WTERMSIG(st);
			break;
		}
		if (waited >= timeout_ms)
			return -1;
		usleep(10000);
	}
	return q->status;
}

int qts_quit(struct qts *q)
{
	int st;

	if (!q->exited) {
		kill(q->pid, SIGTERM);
		if (qts_wait_exit(q, 30000) < 0) {
			kill(q->pid, SIGKILL);
			qts_wait_exit(q, 5000);
		}
	}
	st = q->status;
	qts_free(q);
	return st;
}

const char *qts_cmd(struct qts *q, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	send_all(q, q->qt_fd, s, strlen(s));
	send_all(q, q->qt_fd, "\n", 1);
	g_free(s);
	for (;;) {
		char *line = read_line(q, q->qt_fd, q->qt_buf, QTS_TIMEOUT_MS);
		unsigned n;

		if (!line)
			qts_die(q, "no qtest reply");
		if (sscanf(line, "IRQ raise %u", &n) == 1 && n < 64) {
			q->irq[n] = true;
			q->irq_raises[n]++;
		} else if (sscanf(line, "IRQ lower %u", &n) == 1 && n < 64) {
			q->irq[n] = false;
		} else {
			g_free(q->reply);
			q->reply = line;
			return line;
		}
		g_free(line);
	}
}

static uint64_t reply_u64(struct qts *q, const char *r)
{
	if (strncmp(r, "OK ", 3))
		qts_die(q, r);
	return strtoull(r + 3, NULL, 0);
}

static void reply_ok(struct qts *q, const char *r)
{
	if (strcmp(r, "OK"))
		qts_die(q, r);
}

void qts_outb(struct qts *q, uint16_t p, uint8_t v) { reply_ok(q, qts_cmd(q, "outb 0x%x 0x%x", p, v)); }
void qts_outw(struct qts *q, uint16_t p, uint16_t v) { reply_ok(q, qts_cmd(q, "outw 0x%x 0x%x", p, v)); }
void qts_outl(struct qts *q, uint16_t p, uint32_t v) { reply_ok(q, qts_cmd(q, "outl 0x%x 0x%x", p, v)); }
uint8_t qts_inb(struct qts *q, uint16_t p) { return (uint8_t)reply_u64(q, qts_cmd(q, "inb 0x%x", p)); }
uint16_t qts_inw(struct qts *q, uint16_t p) { return (uint16_t)reply_u64(q, qts_cmd(q, "inw 0x%x", p)); }
uint32_t qts_inl(struct qts *q, uint16_t p) { return (uint32_t)reply_u64(q, qts_cmd(q, "inl 0x%x", p)); }
void qts_writeb(struct qts *q, uint64_t a, uint8_t v) { reply_ok(q, qts_cmd(q, "writeb 0x%llx 0x%x", (unsigned long long)a, v)); }
void qts_writew(struct qts *q, uint64_t a, uint16_t v) { reply_ok(q, qts_cmd(q, "writew 0x%llx 0x%x", (unsigned long long)a, v)); }
void qts_writel(struct qts *q, uint64_t a, uint32_t v) { reply_ok(q, qts_cmd(q, "writel 0x%llx 0x%x", (unsigned long long)a, v)); }
void qts_writeq(struct qts *q, uint64_t a, uint64_t v) { reply_ok(q, qts_cmd(q, "writeq 0x%llx 0x%llx", (unsigned long long)a, (unsigned long long)v)); }
uint8_t qts_readb(struct qts *q, uint64_t a) { return (uint8_t)reply_u64(q, qts_cmd(q, "readb 0x%llx", (unsigned long long)a)); }
uint16_t qts_readw(struct qts *q, uint64_t a) { return (uint16_t)reply_u64(q, qts_cmd(q, "readw 0x%llx", (unsigned long long)a)); }
uint32_t qts_readl(struct qts *q, uint64_t a) { return (uint32_t)reply_u64(q, qts_cmd(q, "readl 0x%llx", (unsigned long long)a)); }
uint64_t qts_readq(struct qts *q, uint64_t a) { return reply_u64(q, qts_cmd(q, "readq 0x%llx", (unsigned long long)a)); }

void qts_memread(struct qts *q, uint64_t a, void *buf, size_t len)
{
	const char *r = qts_cmd(q, "read 0x%llx 0x%zx", (unsigned long long)a,
				len);
	uint8_t *out = buf;

	if (strncmp(r, "OK 0x", 5) || strlen(r + 5) != len * 2)
		qts_die(q, r);
	for (size_t i = 0; i < len; i++) {
		char hex[3] = { r[5 + i * 2], r[6 + i * 2], 0 };

		out[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
}

void qts_memwrite(struct qts *q, uint64_t a, const void *buf, size_t len)
{
	GString *s = g_string_new(NULL);
	const uint8_t *in = buf;

	g_string_printf(s, "write 0x%llx 0x%zx 0x", (unsigned long long)a, len);
	for (size_t i = 0; i < len; i++)
		g_string_append_printf(s, "%02x", in[i]);
	reply_ok(q, qts_cmd(q, "%s", s->str));
	g_string_free(s, TRUE);
}

uint64_t qts_clock_step(struct qts *q, uint64_t ns)
{
	if (ns)
		return reply_u64(q, qts_cmd(q, "clock_step %llu",
					    (unsigned long long)ns));
	return reply_u64(q, qts_cmd(q, "clock_step"));
}

void qts_irq_intercept(struct qts *q)
{
	reply_ok(q, qts_cmd(q, "irq_intercept_in ioapic"));
}

bool qts_get_irq(struct qts *q, unsigned n)
{
	/* A harmless command flushes IRQ lines sent before it. */
	qts_cmd(q, "inb 0");
	return n < 64 && q->irq[n];
}

unsigned qts_irq_raises(struct qts *q, unsigned n)
{
	qts_cmd(q, "inb 0");
	return n < 64 ? q->irq_raises[n] : 0;
}

uint32_t qts_pci_read(struct qts *q, unsigned devfn, unsigned reg,
		      unsigned size)
{
	qts_outl(q, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
	switch (size) {
	case 1: return qts_inb(q, 0xcfc + (reg & 3));
	case 2: return qts_inw(q, 0xcfc + (reg & 2));
	default: return qts_inl(q, 0xcfc);
	}
}

void qts_pci_write(struct qts *q, unsigned devfn, unsigned reg, uint32_t v,
		   unsigned size)
{
	qts_outl(q, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
	switch (size) {
	case 1: qts_outb(q, 0xcfc + (reg & 3), (uint8_t)v); break;
	case 2: qts_outw(q, 0xcfc + (reg & 2), (uint16_t)v); break;
	default: qts_outl(q, 0xcfc, v); break;
	}
}

const char *qts_qmp_raw(struct qts *q, const char *text)
{
	send_all(q, q->qmp_fd, text, strlen(text));
	return qmp_next(q, true);
}

const char *qts_qmp(struct qts *q, const char *fmt, ...)
{
	va_list ap;
	char *s;
	const char *r;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	r = qts_qmp_raw(q, s);
	g_free(s);
	return r;
}

const char *qts_qmp_event(struct qts *q, const char *name, int timeout_ms)
{
	char *want = g_strdup_printf("\"event\": \"%s\"", name);
	char *want2 = g_strdup_printf("\"event\":\"%s\"", name);
	const char *found = NULL;

	for (;;) {
		char *ev = g_queue_pop_head(&q->events);

		if (!ev) {
			ev = read_line(q, q->qmp_fd, q->qmp_buf, timeout_ms);
			if (!ev)
				break;
		}
		if (strstr(ev, want) || strstr(ev, want2)) {
			g_free(q->reply);
			q->reply = ev;
			found = ev;
			break;
		}
		g_free(ev);
	}
	g_free(want);
	g_free(want2);
	return found;
}
