/*
 * qtest: QEMU's line protocol for driving a machine with no CPU.
 *
 * A test sends one command per line ("outb 0x70 0x0a", "readl 0xfec00000",
 * "clock_step 1000000") and gets "OK ..." or "FAIL ..." back; interrupt
 * lines the test intercepted produce "IRQ raise N" / "IRQ lower N" lines
 * whenever their level changes.  Replies are byte for byte what QEMU's
 * system/qtest.c sends, so QEMU's libqtest and recorded traces work
 * unchanged.  Where QEMU would abort on a malformed line we answer "ERR"
 * and keep serving: a fuzzer's input must not kill the device model.
 */
#include <errno.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/unix-socket.h"
#include "dm/dm-internal.h"

#define QTEST_MAX_LINE (1u << 20)
#define QTEST_MAX_RW   (16u << 20)   /* largest read/write/memset */

static int qt_in = -1, qt_out = -1;
static GString *qt_buf;
static FILE *qt_log;
static uint64_t qt_start_ns;
static bool qt_intercept;

static double qt_elapsed(void)
{
	return (double)(g_get_monotonic_time() * 1000 - (int64_t)qt_start_ns) /
	       1e9;
}

static void qt_send_raw(const char *s, size_t len)
{
	while (len && qt_out >= 0) {
		ssize_t n = write(qt_out, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;   /* the reader went away; EOF on input ends us */
		s += n;
		len -= (size_t)n;
	}
}

__attribute__((format(printf, 1, 2)))
static void qt_reply(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (qt_log)
		fprintf(qt_log, "[S +%.6f] %s", qt_elapsed(), s);
	qt_send_raw(s, strlen(s));
	g_free(s);
}

/* ---- interrupt intercept ---- */

static void qt_irq_set(unsigned gsi, int level)
{
	if (qt_intercept)
		qt_reply("IRQ %s %u\n", level ? "raise" : "lower", gsi);
}

static void qt_irq_pulse(unsigned gsi)
{
	if (qt_intercept && !dm_irq_level(gsi)) {
		qt_reply("IRQ raise %u\n", gsi);
		qt_reply("IRQ lower %u\n", gsi);
	}
}

static const struct dm_irq_backend qt_irq_backend = {
	.set = qt_irq_set, .pulse = qt_irq_pulse,
};

/* ---- argument parsing ---- */

static bool qt_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno == 0 && *end == '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ---- commands ---- */

static void qt_cmd_out(char **w, unsigned size)
{
	uint64_t port, val;

	if (!qt_u64(w[1], &port) || !qt_u64(w[2], &val) || port > 0xffff) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	io_write(IO_SPACE_PIO, port, val, size);
	qt_reply("OK\n");
}

static void qt_cmd_in(char **w, unsigned size)
{
	uint64_t port;

	if (!qt_u64(w[1], &port) || port > 0xffff) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	qt_reply("OK 0x%04" PRIx64 "\n", io_read(IO_SPACE_PIO, port, size));
}

static void qt_cmd_write_sized(char **w, unsigned size)
{
	uint64_t addr, val;

	if (!qt_u64(w[1], &addr) || !qt_u64(w[2], &val)) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	phys_write_sized(addr, val, size);
	qt_reply("OK\n");
}

static void qt_cmd_read_sized(char **w, unsigned size)
{
	uint64_t addr;

	if (!qt_u64(w[1], &addr)) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	qt_reply("OK 0x%016" PRIx64 "\n", phys_read_sized(addr, size));
}

static bool qt_addr_len(char **w, uint64_t *addr, uint64_t *len,
			bool zero_ok)
{
	if (!qt_u64(w[1], addr) || !qt_u64(w[2], len) ||
	    (!zero_ok && *len == 0) || *len > QTEST_MAX_RW) {
		qt_reply("ERR invalid argument\n");
		return false;
	}
	return true;
}

static void qt_cmd_read(char **w)
{
	uint64_t addr, len;
	uint8_t *data;
	GString *s;

	if (!qt_addr_len(w, &addr, &len, false))
		return;
	data = g_malloc(len);
	phys_read(addr, data, len);
	s = g_string_sized_new(len * 2 + 8);
	g_string_append(s, "OK 0x");
	for (uint64_t i = 0; i < len; i++)
		g_string_append_printf(s, "%02x", data[i]);
	g_string_append_c(s, '\n');
	qt_reply("%s", s->str);
	g_string_free(s, TRUE);
	g_free(data);
}

static void qt_cmd_write(char **w)
{
	uint64_t addr, len;
	const char *hex = w[3];
	uint8_t *data;
	size_t hexlen;

	if (!qt_addr_len(w, &addr, &len, false))
		return;
	if (!hex || strlen(hex) < 3 || hex[0] != '0' || (hex[1] | 0x20) != 'x') {
		qt_reply("ERR invalid argument size\n");
		return;
	}
	hex += 2;
	hexlen = strlen(hex);
	data = g_malloc0(len);
	/* Like QEMU: missing digits are zero; extra ones are ignored. */
	for (uint64_t i = 0; i < len && i * 2 < hexlen; i++) {
		int hi = hexval(hex[i * 2]);
		int lo = i * 2 + 1 < hexlen ? hexval(hex[i * 2 + 1]) : 0;

		if (hi < 0 || lo < 0) {
			qt_reply("ERR invalid hex data\n");
			g_free(data);
			return;
		}
		data[i] = (uint8_t)(hi << 4 | lo);
	}
	phys_write(addr, data, len);
	g_free(data);
	qt_reply("OK\n");
}

static void qt_cmd_b64read(char **w)
{
	uint64_t addr, len;
	uint8_t *data;
	gchar *b64;

	if (!qt_addr_len(w, &addr, &len, false))
		return;
	data = g_malloc(len);
	phys_read(addr, data, len);
	b64 = g_base64_encode(data, len);
	qt_reply("OK %s\n", b64);
	g_free(b64);
	g_free(data);
}

static void qt_cmd_b64write(char **w)
{
	uint64_t addr, len;
	guchar *data;
	gsize dlen;

	if (!qt_addr_len(w, &addr, &len, false))
		return;
	data = g_base64_decode(w[3], &dlen);
	if (dlen != len)
		dm_log(DM_LOG_WARN, "qtest: b64write: %zu bytes given, %" PRIu64
		       " expected", (size_t)dlen, len);
	phys_write(addr, data, dlen < len ? dlen : len);
	g_free(data);
	qt_reply("OK\n");
}

static void qt_cmd_memset(char **w)
{
	uint64_t addr, len, val;
	uint8_t *data;

	if (!qt_addr_len(w, &addr, &len, true))
		return;
	if (!qt_u64(w[3], &val) || val > 0xff) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	if (len) {
		data = g_malloc(len);
		memset(data, (int)val, len);
		phys_write(addr, data, len);
		g_free(data);
	}
	qt_reply("OK\n");
}

static void qt_cmd_clock_step(char **w)
{
	uint64_t now = dm_clock_ns(), step, target;

	if (!dm_clock_is_virtual()) {
		qt_reply("FAIL could not advance time\n");
		return;
	}
	if (w[1]) {
		if (!qt_u64(w[1], &step)) {
			qt_reply("ERR invalid argument\n");
			return;
		}
		target = now + step < now ? UINT64_MAX : now + step;
	} else {
		target = dm_timers_next_deadline();
		if (target == UINT64_MAX) {
			qt_reply("FAIL cannot advance clock to the next deadline "
				 "because there is no pending deadline\n");
			return;
		}
	}
	dm_clock_set(target);
	qt_reply("OK %" PRIu64 "\n", dm_clock_ns());
}

static void qt_cmd_clock_set(char **w)
{
	uint64_t ns;

	if (!qt_u64(w[1], &ns)) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	if (!dm_clock_is_virtual() || ns < dm_clock_ns()) {
		qt_reply("FAIL %" PRIu64 "\n", ns);
		return;
	}
	dm_clock_set(ns);
	qt_reply("OK %" PRIu64 "\n", dm_clock_ns());
}

/* The PC's interrupt lines all end at the IOAPIC; QEMU tests name it by
 * its QOM path or just "ioapic". */
static bool qt_is_ioapic(const char *name)
{
	const char *last = strrchr(name, '/');

	last = last ? last + 1 : name;
	return strcmp(last, "ioapic") == 0 || strcmp(last, "ioapic.0") == 0;
}

static void qt_cmd_irq_intercept(char **w)
{
	if (!w[1]) {
		qt_reply("ERR invalid argument\n");
		return;
	}
	if (!qt_is_ioapic(w[1])) {
		qt_reply("FAIL Unknown device\n");
		return;
	}
	if (qt_intercept) {
		qt_reply("FAIL IRQ intercept already enabled\n");
		return;
	}
	qt_intercept = true;
	/* Report lines already raised, as a fresh intercept would see. */
	for (unsigned g = 0; g < 48; g++)
		if (dm_irq_level(g))
			qt_reply("IRQ raise %u\n", g);
	qt_reply("OK\n");
}

static void qt_process_line(char *line)
{
	char **w;
	const char *c;

	if (qt_log)
		fprintf(qt_log, "[R +%.6f] %s\n", qt_elapsed(), line);
	dm_finish_pending_reset();
	w = g_strsplit(line, " ", 0);
	c = w[0];
	if (!c || !*c) {
		/* QEMU ignores empty lines. */
		g_strfreev(w);
		return;
	}
	/* Every command below reads w[1..3]; g_strsplit NULL-terminates, so
	 * check arity before looking further than the terminator. */
	unsigned n = g_strv_length(w);
#define NEED(k) do { if (n < (k)) { qt_reply("ERR wrong number of arguments\n"); goto out; } } while (0)
	if (!strcmp(c, "outb") || !strcmp(c, "outw") || !strcmp(c, "outl")) {
		NEED(3);
		qt_cmd_out(w, c[3] == 'b' ? 1 : c[3] == 'w' ? 2 : 4);
	} else if (!strcmp(c, "inb") || !strcmp(c, "inw") || !strcmp(c, "inl")) {
		NEED(2);
		qt_cmd_in(w, c[2] == 'b' ? 1 : c[2] == 'w' ? 2 : 4);
	} else if (!strcmp(c, "writeb") || !strcmp(c, "writew") ||
		   !strcmp(c, "writel") || !strcmp(c, "writeq")) {
		NEED(3);
		qt_cmd_write_sized(w, c[5] == 'b' ? 1 : c[5] == 'w' ? 2 :
				      c[5] == 'l' ? 4 : 8);
	} else if (!strcmp(c, "readb") || !strcmp(c, "readw") ||
		   !strcmp(c, "readl") || !strcmp(c, "readq")) {
		NEED(2);
		qt_cmd_read_sized(w, c[4] == 'b' ? 1 : c[4] == 'w' ? 2 :
				     c[4] == 'l' ? 4 : 8);
	} else if (!strcmp(c, "read")) {
		NEED(3);
		qt_cmd_read(w);
	} else if (!strcmp(c, "write")) {
		NEED(4);
		qt_cmd_write(w);
	} else if (!strcmp(c, "b64read")) {
		NEED(3);
		qt_cmd_b64read(w);
	} else if (!strcmp(c, "b64write")) {
		NEED(4);
		qt_cmd_b64write(w);
	} else if (!strcmp(c, "memset")) {
		NEED(4);
		qt_cmd_memset(w);
	} else if (!strcmp(c, "endianness")) {
		qt_reply("OK little\n");
	} else if (!strcmp(c, "clock_step")) {
		qt_cmd_clock_step(w);
	} else if (!strcmp(c, "clock_set")) {
		NEED(2);
		qt_cmd_clock_set(w);
	} else if (!strcmp(c, "irq_intercept_in") ||
		   !strcmp(c, "irq_intercept_out")) {
		qt_cmd_irq_intercept(w);
	} else if (!strcmp(c, "set_irq_in")) {
		NEED(5);
		qt_reply("FAIL Unknown device\n");
	} else if (!strcmp(c, "module_load")) {
		qt_reply("FAIL\n");
	} else {
		qt_reply("FAIL Unknown command '%s'\n", c);
	}
#undef NEED
out:
	g_strfreev(w);
}

static gboolean qt_readable(gint fd, GIOCondition cond, gpointer data)
{
	char chunk[4096];
	ssize_t n;
	char *nl;

	(void)cond;
	(void)data;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		if (qt_log)
			fprintf(qt_log, "[I +%.6f] CLOSED\n", qt_elapsed());
		dm_quit(0);
		return G_SOURCE_REMOVE;
	}
	g_string_append_len(qt_buf, chunk, n);
	while ((nl = memchr(qt_buf->str, '\n', qt_buf->len))) {
		size_t len = (size_t)(nl - qt_buf->str);
		char *line = g_strndup(qt_buf->str, len);

		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		g_string_erase(qt_buf, 0, (gssize)len + 1);
		qt_process_line(line);
		g_free(line);
	}
	if (qt_buf->len > QTEST_MAX_LINE) {
		qt_reply("ERR line too long\n");
		g_string_truncate(qt_buf, 0);
	}
	return G_SOURCE_CONTINUE;
}

int qtest_init(const char *spec, const char *log)
{
	qt_start_ns = (uint64_t)g_get_monotonic_time() * 1000;
	qt_buf = g_string_new(NULL);
	if (log && strcmp(log, "none") != 0) {
		qt_log = fopen(log, "a");
		if (!qt_log) {
			dm_log(DM_LOG_ERR, "-qtest-log %s: %s", log,
			       strerror(errno));
			return -1;
		}
		setvbuf(qt_log, NULL, _IOLBF, 0);
	}
	if (!strcmp(spec, "stdio")) {
		qt_in = STDIN_FILENO;
		qt_out = STDOUT_FILENO;
	} else if (!strncmp(spec, "unix:", 5)) {
		char *path = g_strdup(spec + 5);
		char *comma = strchr(path, ',');
		int fd;

		if (comma)
			*comma = '\0';   /* options such as ",nowait" */
		fd = unix_connect(path, SOCK_STREAM);
		if (fd < 0) {
			dm_log(DM_LOG_ERR, "-qtest %s: cannot connect: %s",
			       spec, strerror(-fd));
			g_free(path);
			return -1;
		}
		g_free(path);
		qt_in = qt_out = fd;
	} else {
		dm_log(DM_LOG_ERR, "-qtest %s: expected unix:PATH or stdio",
		       spec);
		return -1;
	}
	if (qt_log)
		fprintf(qt_log, "[I %.6f] OPENED\n", qt_elapsed());
	dm_irq_set_backend(&qt_irq_backend);
	g_unix_fd_add(qt_in, G_IO_IN | G_IO_HUP | G_IO_ERR, qt_readable, NULL);
	return 0;
}
