/*
 * The few QEMU utility functions that QEMU's test client (libqtest,
 * libqmp, qobject) calls but whose home files in QEMU's util/ drag in
 * the rest of QEMU.  Written here from their documented behaviour so
 * that only the client side of QEMU has to be compiled.
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/sockets.h"
#include "qemu/module.h"

static void shim_vreport(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int error_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stderr, fmt, ap);
	va_end(ap);
	return n;
}

void error_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	shim_vreport("", fmt, ap);
	va_end(ap);
}

void warn_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	shim_vreport("warning: ", fmt, ap);
	va_end(ap);
}

void mulu64(uint64_t *plow, uint64_t *phigh, uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	*plow = (uint64_t)r;
	*phigh = (uint64_t)(r >> 64);
}

/* Send everything or fail: the qtest protocol has no partial commands. */
ssize_t qemu_send_full(int s, const void *buf, size_t count)
{
	const char *p = buf;
	size_t done = 0;

	while (done < count) {
		ssize_t n = send(s, p + done, count - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void qemu_set_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	if (f >= 0)
		fcntl(fd, F_SETFD, f | FD_CLOEXEC);
}

/* Only Windows needs socket set-up. */
int socket_init(void)
{
	return 0;
}

/*
 * libqos registers its qgraph nodes from constructors; only QEMU's
 * qos-test walks that graph, and we do not build it.
 */
void register_module_init(void (*fn)(void), module_init_type type)
{
	(void)fn;
	(void)type;
}

/* The USB host controller tests boot a pseries machine when run for
 * ppc64; qemu-dm is x86 only, so the pseries helpers are never reached. */
struct QOSState;
struct QOSState *qtest_spapr_boot(const char *cmdline_fmt, ...);
struct QOSState *qtest_spapr_boot(const char *cmdline_fmt, ...)
{
	(void)cmdline_fmt;
	fprintf(stderr, "qtest_spapr_boot: no pseries machine in qemu-dm\n");
	abort();
}
