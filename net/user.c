/*
 * -netdev user: user-mode networking through libslirp, with QEMU's
 * defaults: the guest's network 10.0.2.0/24, the host (gateway) at
 * 10.0.2.2, DNS at 10.0.2.3, DHCP handing out 10.0.2.15 up.  Needs no
 * privilege.  Options as QEMU's: net=ADDR[/MASK], host=, dhcpstart=,
 * dns=, hostname=, domainname=, restrict=on|off, tftp=DIR,
 * bootfile=FILE, tftp-server-name=, hostfwd=[tcp|udp]:[HADDR]:HPORT-
 * [GADDR]:GPORT (repeatable).  IPv6 is off.
 *
 * slirp's sockets are polled from the glib main loop by a GSource of our
 * own that asks slirp for its fds before each poll; its timers are glib
 * timeouts on the host's monotonic clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dm-internal.h"
#include "dm/options.h"
#include "net/net-be.h"

struct user_be {
	struct netdev *nd;
	Slirp *slirp;
	GSource *src;
	GArray *pfds;               /* GPollFD, as slirp asked */
	char *tftp, *bootfile, *hostname, *domainname, *tftp_name;
};

struct user_src {
	GSource src;
	struct user_be *u;
};

struct user_timer {
	struct user_be *u;
	SlirpTimerCb cb;
	void *cb_opaque;
	guint id;
};

static ssize_t user_send_packet(const void *buf, size_t len, void *opaque)
{
	struct user_be *u = opaque;

	netdev_receive(u->nd, buf, len);
	return (ssize_t)len;
}

static void user_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	dm_log_guest("user network: %s", msg);
}

static int64_t user_clock_ns(void *opaque)
{
	(void)opaque;
	return g_get_monotonic_time() * 1000;
}

static void *user_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct user_timer *t = g_new0(struct user_timer, 1);

	t->u = opaque;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	return t;
}

static void user_timer_free(void *timer, void *opaque)
{
	struct user_timer *t = timer;

	(void)opaque;
	if (t->id)
		g_source_remove(t->id);
	g_free(t);
}

static gboolean user_timer_fire(gpointer p)
{
	struct user_timer *t = p;

	t->id = 0;
	t->cb(t->cb_opaque);
	return G_SOURCE_REMOVE;
}

static void user_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct user_timer *t = timer;
	int64_t now = g_get_monotonic_time() / 1000;

	(void)opaque;
	if (t->id)
		g_source_remove(t->id);
	t->id = g_timeout_add((guint)MAX(expire_ms - now, 0), user_timer_fire,
			      t);
}

static void user_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void user_notify(void *opaque)
{
	(void)opaque;
	g_main_context_wakeup(NULL);
}

static const SlirpCb user_cb = {
	.send_packet = user_send_packet,
	.guest_error = user_guest_error,
	.clock_get_ns = user_clock_ns,
	.timer_new = user_timer_new,
	.timer_free = user_timer_free,
	.timer_mod = user_timer_mod,
	.register_poll_fd = user_register_poll_fd,
	.unregister_poll_fd = user_register_poll_fd,
	.notify = user_notify,
};

/* ---- polling slirp's sockets from the main loop ---- */

static int user_add_poll(int fd, int events, void *opaque)
{
	struct user_be *u = opaque;
	GPollFD p = { .fd = fd };

	if (events & SLIRP_POLL_IN)
		p.events |= G_IO_IN;
	if (events & SLIRP_POLL_OUT)
		p.events |= G_IO_OUT;
	if (events & SLIRP_POLL_PRI)
		p.events |= G_IO_PRI;
	if (events & SLIRP_POLL_ERR)
		p.events |= G_IO_ERR;
	if (events & SLIRP_POLL_HUP)
		p.events |= G_IO_HUP;
	g_array_append_val(u->pfds, p);
	return (int)u->pfds->len - 1;
}

static int user_get_revents(int idx, void *opaque)
{
	struct user_be *u = opaque;
	int r = 0;
	gushort re;

	if (idx < 0 || (guint)idx >= u->pfds->len)
		return 0;
	re = g_array_index(u->pfds, GPollFD, idx).revents;
	if (re & G_IO_IN)
		r |= SLIRP_POLL_IN;
	if (re & G_IO_OUT)
		r |= SLIRP_POLL_OUT;
	if (re & G_IO_PRI)
		r |= SLIRP_POLL_PRI;
	if (re & G_IO_ERR)
		r |= SLIRP_POLL_ERR;
	if (re & G_IO_HUP)
		r |= SLIRP_POLL_HUP;
	return r;
}

static gboolean user_src_prepare(GSource *src, gint *timeout)
{
	struct user_be *u = ((struct user_src *)src)->u;
	uint32_t to = UINT32_MAX;

	for (guint i = 0; i < u->pfds->len; i++)
		g_source_remove_poll(src, &g_array_index(u->pfds, GPollFD, i));
	g_array_set_size(u->pfds, 0);
	slirp_pollfds_fill(u->slirp, &to, user_add_poll, u);
	/* The array is complete: its elements no longer move. */
	for (guint i = 0; i < u->pfds->len; i++)
		g_source_add_poll(src, &g_array_index(u->pfds, GPollFD, i));
	*timeout = to > INT_MAX ? -1 : (gint)to;
	return FALSE;
}

static gboolean user_src_check(GSource *src)
{
	struct user_be *u = ((struct user_src *)src)->u;

	for (guint i = 0; i < u->pfds->len; i++)
		if (g_array_index(u->pfds, GPollFD, i).revents)
			return TRUE;
	return FALSE;
}

static gboolean user_src_dispatch(GSource *src, GSourceFunc cb, gpointer p)
{
	struct user_be *u = ((struct user_src *)src)->u;

	(void)cb;
	(void)p;
	slirp_pollfds_poll(u->slirp, 0, user_get_revents, u);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs user_src_funcs = {
	.prepare = user_src_prepare,
	.check = user_src_check,
	.dispatch = user_src_dispatch,
};

/* Timers inside slirp's TCP run from slirp_pollfds_poll: poll it at
 * least this often while it has sockets. */
static gboolean user_tick(gpointer p)
{
	struct user_be *u = p;

	slirp_pollfds_poll(u->slirp, 0, user_get_revents, u);
	return G_SOURCE_CONTINUE;
}

/* ---- options ---- */

static int parse_ip(const char *s, struct in_addr *a)
{
	return inet_pton(AF_INET, s, a) == 1 ? 0 : -1;
}

/* [tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT */
static int user_hostfwd(struct user_be *u, const char *spec, const char *fwd)
{
	char **halves = NULL, *proto_end;
	char *hhost = NULL, *ghost = NULL;
	int hport, gport, udp = 0, ret = -1;
	struct in_addr ha = { .s_addr = htonl(INADDR_ANY) }, ga = { 0 };
	const char *p = fwd;

	if (!strncmp(p, "tcp:", 4)) {
		p += 4;
	} else if (!strncmp(p, "udp:", 4)) {
		udp = 1;
		p += 4;
	} else if ((proto_end = strchr(p, ':')) && strchr(proto_end + 1, ':') &&
		   proto_end != p) {
		goto bad;
	}
	halves = g_strsplit(p, "-", 2);
	if (!halves[0] || !halves[1] ||
	    net_parse_hostport(halves[0], &hhost, &hport) < 0 ||
	    net_parse_hostport(halves[1], &ghost, &gport) < 0 ||
	    (*hhost && parse_ip(hhost, &ha) < 0) ||
	    (*ghost && parse_ip(ghost, &ga) < 0) || gport == 0)
		goto bad;
	if (!*ghost)
		inet_pton(AF_INET, "10.0.2.15", &ga);
	if (slirp_add_hostfwd(u->slirp, udp, ha, hport, ga, gport) < 0) {
		dm_log(DM_LOG_ERR, "-netdev %s: hostfwd=%s: cannot bind host "
		       "port %d: %s (pick a free port)", spec, fwd, hport,
		       strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
bad:
	dm_log(DM_LOG_ERR, "-netdev %s: hostfwd=%s: expected "
	       "[tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT", spec, fwd);
out:
	g_strfreev(halves);
	g_free(hhost);
	g_free(ghost);
	return ret;
}

static int user_open(struct netdev *nd, const char *spec)
{
	struct user_be *u = g_new0(struct user_be, 1);
	SlirpConfig cfg = { .version = 4 };
	char *net = opt_get(spec, "net"), *host = opt_get(spec, "host");
	char *dhcp = opt_get(spec, "dhcpstart"), *dns = opt_get(spec, "dns");
	char **parts = NULL;
	uint32_t mask = 0xffffff00;
	bool ok = true;
	int ret = -1;

	u->nd = nd;
	u->tftp = opt_get(spec, "tftp");
	u->bootfile = opt_get(spec, "bootfile");
	u->hostname = opt_get(spec, "hostname");
	u->domainname = opt_get(spec, "domainname");
	u->tftp_name = opt_get(spec, "tftp-server-name");
	cfg.restricted = net_opt_bool(spec, "restrict", false, &ok);
	if (!ok) {
		dm_log(DM_LOG_ERR, "-netdev %s: restrict= takes on or off", spec);
		goto out;
	}
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	if (net) {
		char *slash = strchr(net, '/');
		long bits = 24;

		if (slash) {
			*slash = '\0';
			if (strchr(slash + 1, '.')) {
				struct in_addr m;

				if (parse_ip(slash + 1, &m) < 0)
					bits = -1;
				else
					bits = __builtin_popcount(m.s_addr);
			} else {
				bits = strtol(slash + 1, NULL, 10);
			}
		}
		if (parse_ip(net, &cfg.vnetwork) < 0 || bits < 8 || bits > 30) {
			dm_log(DM_LOG_ERR, "-netdev %s: net= takes ADDR[/BITS] "
			       "such as 10.0.2.0/24", spec);
			goto out;
		}
		mask = 0xffffffffu << (32 - bits);
	}
	cfg.vnetmask.s_addr = htonl(mask);
	cfg.vnetwork.s_addr &= cfg.vnetmask.s_addr;
	cfg.vhost.s_addr = cfg.vnetwork.s_addr | htonl(2);
	cfg.vnameserver.s_addr = cfg.vnetwork.s_addr | htonl(3);
	cfg.vdhcp_start.s_addr = cfg.vnetwork.s_addr | htonl(15);
	if ((host && parse_ip(host, &cfg.vhost) < 0) ||
	    (dns && parse_ip(dns, &cfg.vnameserver) < 0) ||
	    (dhcp && parse_ip(dhcp, &cfg.vdhcp_start) < 0)) {
		dm_log(DM_LOG_ERR, "-netdev %s: host=, dns= and dhcpstart= "
		       "take IPv4 addresses", spec);
		goto out;
	}
	if (u->tftp && !g_file_test(u->tftp, G_FILE_TEST_IS_DIR)) {
		dm_log(DM_LOG_ERR, "-netdev %s: tftp=%s is not a directory",
		       spec, u->tftp);
		goto out;
	}
	cfg.vhostname = u->hostname;
	cfg.vdomainname = u->domainname;
	cfg.tftp_path = u->tftp;
	cfg.bootfile = u->bootfile;
	cfg.tftp_server_name = u->tftp_name;
	cfg.in6_enabled = false;
	u->slirp = slirp_new(&cfg, &user_cb, u);
	if (!u->slirp) {
		dm_log(DM_LOG_ERR, "-netdev %s: libslirp refused this "
		       "configuration", spec);
		goto out;
	}
	parts = g_strsplit(spec, ",", 0);
	for (char **p = parts; *p; p++)
		if (!strncmp(*p, "hostfwd=", 8) &&
		    user_hostfwd(u, spec, *p + 8) < 0)
			goto out;
	u->pfds = g_array_new(FALSE, TRUE, sizeof(GPollFD));
	u->src = g_source_new(&user_src_funcs, sizeof(struct user_src));
	((struct user_src *)u->src)->u = u;
	g_source_attach(u->src, NULL);
	g_timeout_add(250, user_tick, u);
	nd->be = u;
	ret = 0;
out:
	if (ret < 0) {
		if (u->slirp)
			slirp_cleanup(u->slirp);
		g_free(u->tftp);
		g_free(u->bootfile);
		g_free(u->hostname);
		g_free(u->domainname);
		g_free(u->tftp_name);
		g_free(u);
	}
	g_strfreev(parts);
	g_free(net);
	g_free(host);
	g_free(dhcp);
	g_free(dns);
	return ret;
}

static void user_send(struct netdev *nd, const uint8_t *buf, size_t len)
{
	struct user_be *u = nd->be;

	slirp_input(u->slirp, buf, (int)len);
}

const struct netdev_ops net_user_ops = {
	.type = "user",
	.open = user_open,
	.send = user_send,
};
