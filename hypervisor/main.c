/*
 * hvmd: the hypervisor daemon.  Listens on its control socket, runs
 * domains; with --idle-exit N it leaves once it has had no domain and no
 * client for N seconds (the way a standalone qemu-dm starts it).
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvm/hvctl-client.h"
#include "hypervisor/control.h"
#include "hypervisor/hvmd.h"

bool hvmd_verbose;
static GMainLoop *loop;
static unsigned idle_exit_s;
static unsigned idle_for_s;
static char sock_path[512];

void hvmd_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvmd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static gboolean on_signal(gpointer p)
{
	(void)p;
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

static gboolean idle_tick(gpointer p)
{
	(void)p;
	if (domain_count() || control_nr_clients())
		idle_for_s = 0;
	else if (++idle_for_s >= idle_exit_s)
		g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

static void destroy_one(struct domain *d, void *p)
{
	struct domain **list = p;

	for (unsigned i = 0; i < 256; i++)
		if (!list[i]) {
			list[i] = d;
			break;
		}
}

static int open_socket(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char lock_path[600];
	int fd, lock;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		hvmd_log("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	/* One hvmd per directory: a lock file decides, so a stale socket
	 * from a crashed hvmd is replaced but a live one is not. */
	snprintf(lock_path, sizeof(lock_path), "%s/hvmd.lock", dir);
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		hvmd_log("another hvmd already runs on %s", dir);
		return -1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/%s", dir, HVCTL_SOCKET_NAME);
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		hvmd_log("socket path too long: %s", sock_path);
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		hvmd_log("cannot listen on %s: %s", sock_path, strerror(errno));
		return -1;
	}
	return fd;
}

static void usage(void)
{
	printf("usage: hvmd [--socket-dir DIR] [--idle-exit SECONDS] [-v]\n"
	       "The socket directory defaults to $HVMD_DIR, else /run/hvmd "
	       "for root,\nelse $XDG_RUNTIME_DIR/hvmd or /tmp/hvmd-UID.\n");
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket-dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--idle-exit") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 86400) {
				fprintf(stderr, "hvmd: --idle-exit %s: expected "
					"seconds (1-86400)\n", argv[i]);
				return 1;
			}
			idle_exit_s = (unsigned)v;
		} else if (!strcmp(argv[i], "-v")) {
			hvmd_verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else {
			fprintf(stderr, "hvmd: %s: unknown option (see --help)\n",
				argv[i]);
			return 1;
		}
	}
	if (!dir)
		dir = hvctl_socket_dir();
	signal(SIGPIPE, SIG_IGN);
	fd = open_socket(dir);
	if (fd < 0)
		return 1;
	loop = g_main_loop_new(NULL, FALSE);
	control_init(fd);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	if (idle_exit_s)
		g_timeout_add_seconds(1, idle_tick, NULL);
	g_main_loop_run(loop);

	/* Leaving: no domain survives its hypervisor. */
	struct domain *list[256] = { 0 };
	domain_foreach(destroy_one, list);
	for (unsigned i = 0; i < 256 && list[i]; i++)
		domain_destroy(list[i], HVCTL_SHUTDOWN_NONE);
	unlink(sock_path);
	close(fd);
	return 0;
}
