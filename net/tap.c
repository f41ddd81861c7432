/*
 * -netdev tap: a Linux TAP interface, usually put on a bridge by a
 * script (Xen's qemu-ifup / vif-bridge).  Options: ifname=NAME (or a
 * template such as tap%d), script=PATH|no, downscript=PATH|no, bridge=BR
 * (given to the scripts as their second argument, as Xen's qemu-dm
 * does), fd=N (an open TAP fd from a toolstack).  Without script= the
 * default /etc/qemu-ifup runs when it exists.  Needs /dev/net/tun and
 * CAP_NET_ADMIN (or a TAP device owned by this user).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dm/dm-internal.h"
#include "dm/options.h"
#include "net/net-be.h"

#define DEFAULT_SCRIPT "/etc/qemu-ifup"
#define DEFAULT_DOWNSCRIPT "/etc/qemu-ifdown"

struct tap_be {
	struct netdev *nd;
	int fd;
	guint watch;
	bool paused;
	char ifname[IFNAMSIZ];
	char *downscript, *bridge;
};

static GPtrArray *taps_down;    /* run their downscripts at exit */

static int run_script(const char *script, const char *ifname,
		      const char *bridge)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl(script, script, ifname, bridge, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void tap_atexit(void)
{
	for (guint i = 0; taps_down && i < taps_down->len; i++) {
		struct tap_be *t = g_ptr_array_index(taps_down, i);

		run_script(t->downscript, t->ifname, t->bridge);
	}
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer p)
{
	struct tap_be *t = p;
	static uint8_t buf[NET_MAX_FRAME];

	(void)cond;
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (!netdev_receive(t->nd, buf, (size_t)n)) {
			t->paused = true;
			t->watch = 0;
			return G_SOURCE_REMOVE;
		}
	}
	return G_SOURCE_CONTINUE;
}

static void tap_resume(struct netdev *nd)
{
	struct tap_be *t = nd->be;

	t->paused = false;
	if (!t->watch)
		t->watch = g_unix_fd_add(t->fd, G_IO_IN, tap_readable, t);
}

static void tap_send(struct netdev *nd, const uint8_t *buf, size_t len)
{
	struct tap_be *t = nd->be;

	/* A full TAP queue drops the frame, as a busy wire would. */
	if (write(t->fd, buf, len) < 0 && errno != EAGAIN)
		dm_log(DM_LOG_DEBUG, "tap %s: %s", t->ifname, strerror(errno));
}

static int tap_open(struct netdev *nd, const char *spec)
{
	struct tap_be *t = g_new0(struct tap_be, 1);
	char *ifname = opt_get(spec, "ifname"), *script = opt_get(spec, "script");
	char *down = opt_get(spec, "downscript"), *fdstr = opt_get(spec, "fd");
	struct ifreq ifr = { 0 };
	int ret = -1;

	t->nd = nd;
	t->fd = -1;
	t->bridge = opt_get(spec, "bridge");
	if (fdstr) {
		char *end;

		t->fd = (int)strtol(fdstr, &end, 10);
		if (*end || t->fd < 0 || fcntl(t->fd, F_GETFD) < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: fd=%s is not an open "
			       "file descriptor", spec, fdstr);
			t->fd = -1;
			goto out;
		}
		g_strlcpy(t->ifname, ifname ? ifname : "tap", IFNAMSIZ);
	} else {
		t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (t->fd < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: cannot open /dev/net/tun: "
			       "%s (%s)", spec, strerror(errno),
			       errno == ENOENT ? "load the tun module, or use "
			       "-netdev user" : "tap needs root (CAP_NET_ADMIN); "
			       "use -netdev user without it");
			goto out;
		}
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (ifname)
			g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
		if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: cannot create the TAP "
			       "interface %s: %s (%s)", spec,
			       ifname ? ifname : "tap%d", strerror(errno),
			       errno == EPERM ? "tap needs root "
			       "(CAP_NET_ADMIN); use -netdev user without it" :
			       "check ifname=");
			goto out;
		}
		g_strlcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	}
	fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
	if (!script && access(DEFAULT_SCRIPT, X_OK) == 0)
		script = g_strdup(DEFAULT_SCRIPT);
	if (!down && access(DEFAULT_DOWNSCRIPT, X_OK) == 0)
		down = g_strdup(DEFAULT_DOWNSCRIPT);
	if (script && strcmp(script, "no") && *script &&
	    run_script(script, t->ifname, t->bridge) < 0) {
		dm_log(DM_LOG_ERR, "-netdev %s: the script %s %s failed (fix "
		       "it, or give script=no)", spec, script, t->ifname);
		goto out;
	}
	if (down && strcmp(down, "no") && *down) {
		t->downscript = g_strdup(down);
		if (!taps_down) {
			taps_down = g_ptr_array_new();
			atexit(tap_atexit);
		}
		g_ptr_array_add(taps_down, t);
	}
	nd->be = t;
	t->watch = g_unix_fd_add(t->fd, G_IO_IN, tap_readable, t);
	dm_log(DM_LOG_DEBUG, "-netdev %s: interface %s", nd->id, t->ifname);
	ret = 0;
out:
	if (ret < 0) {
		if (t->fd >= 0)
			close(t->fd);
		g_free(t->bridge);
		g_free(t);
	}
	g_free(ifname);
	g_free(script);
	g_free(down);
	g_free(fdstr);
	return ret;
}

const struct netdev_ops net_tap_ops = {
	.type = "tap",
	.open = tap_open,
	.send = tap_send,
	.resume = tap_resume,
};
