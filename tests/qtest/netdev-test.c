/*
 * The network back ends and options, with an NE2000 PCI card as the
 * guest's end: the older -net nic,vlan= / -net socket,vlan= form; two
 * qemu-dm on one wire of UDP datagrams (udp=) and of multicast (mcast=;
 * SKIP where this host cannot join a group on loopback); a TAP
 * interface (as root with /dev/net/tun; SKIP otherwise) seen from an
 * AF_PACKET socket; and the one-line messages for bad options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"
#include "tests/qtest/net-wire.h"
#include "tests/testlib.h"

#define DEVFN (4 << 3)
#define IOB 0xc000

static const uint8_t mac_a[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x0b };

/* ---- a minimal NE2000 driver ---- */

static void w8(struct qts *q, unsigned r, uint8_t v) { qts_outb(q, (uint16_t)(IOB + r), v); }
static uint8_t r8(struct qts *q, unsigned r) { return qts_inb(q, (uint16_t)(IOB + r)); }

static void ne_up(struct qts *q, const uint8_t *mac)
{
	qts_pci_write(q, DEVFN, 0x10, IOB, 4);
	qts_pci_write(q, DEVFN, 0x04, 0x05, 2);
	w8(q, 0, 0x21);
	w8(q, 0x0e, 0x49);
	w8(q, 0x01, 0x46);
	w8(q, 0x02, 0x80);
	w8(q, 0x03, 0x7f);
	w8(q, 0x0c, 0x04);
	w8(q, 0x07, 0xff);
	w8(q, 0, 0x61);
	for (int i = 0; i < 6; i++)
		w8(q, 1 + i, mac[i]);
	w8(q, 0x07, 0x46);
	w8(q, 0, 0x22);
}

static void ne_tx(struct qts *q, const uint8_t *f, size_t len)
{
	w8(q, 0x08, 0x00);
	w8(q, 0x09, 0x40);
	w8(q, 0x0a, (uint8_t)len);
	w8(q, 0x0b, (uint8_t)(len >> 8));
	w8(q, 0, 0x12);
	for (size_t i = 0; i < len; i += 2)
		qts_outw(q, IOB + 0x10, (uint16_t)(f[i] | (i + 1 < len ? f[i + 1] << 8 : 0)));
	w8(q, 0x04, 0x40);
	w8(q, 0x05, (uint8_t)len);
	w8(q, 0x06, (uint8_t)(len >> 8));
	w8(q, 0, 0x26);
}

/* The first frame in the ring (page 0x46), or -1 after a bounded wait. */
static long ne_rx(struct qts *q, uint8_t *buf, size_t max)
{
	uint8_t h[4];
	size_t len;
	int i;

	for (i = 0; i < 5000 && !(r8(q, 0x07) & 0x01); i++)
		usleep(1000);
	if (i == 5000)
		return -1;
	w8(q, 0x08, 0x00);
	w8(q, 0x09, 0x46);
	w8(q, 0x0a, 0xff);
	w8(q, 0x0b, 0x0f);
	w8(q, 0, 0x0a);
	for (int k = 0; k < 4; k += 2) {
		uint16_t v = qts_inw(q, IOB + 0x10);

		h[k] = (uint8_t)v;
		h[k + 1] = (uint8_t)(v >> 8);
	}
	len = (size_t)(h[2] | h[3] << 8) - 4;
	if (len > max)
		return -1;
	for (size_t k = 0; k < len; k += 2) {
		uint16_t v = qts_inw(q, IOB + 0x10);

		buf[k] = (uint8_t)v;
		if (k + 1 < len)
			buf[k + 1] = (uint8_t)(v >> 8);
	}
	return (long)len;
}

/* ---- command-line errors ---- */

static void expect_error(const char *name, const char *args, const char *want)
{
	char *cmd = g_strdup_printf("bin/qemu-dm -qtest stdio %s", args);
	char *err = NULL;
	int status = 0;
	gchar **argv = NULL;

	g_shell_parse_argv(cmd, NULL, &argv, NULL);
	g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
		     G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, NULL, &err,
		     &status, NULL);
	test_check(name, status != 0 && err && strstr(err, want) &&
		   strchr(err, '\n') == err + strlen(err) - 1,
		   "status %d: %s", status, err ? err : "");
	g_strfreev(argv);
	g_free(err);
	g_free(cmd);
}

static void test_errors(void)
{
	expect_error("netdev/error-unknown-type", "-netdev carrier,id=x",
		     "unknown network back end");
	expect_error("netdev/error-no-id", "-netdev user", "id=");
	expect_error("netdev/error-no-such-netdev",
		     "-device ne2k_pci,netdev=nosuch", "no -netdev with id=nosuch");
	expect_error("netdev/error-bad-mac",
		     "-netdev user,id=u -device rtl8139,netdev=u,mac=01:02:03:04:05:06",
		     "not a unicast MAC");
	expect_error("netdev/error-bad-hostfwd", "-netdev user,id=u,hostfwd=tcp:x",
		     "hostfwd=");
	expect_error("netdev/error-socket-mode", "-netdev socket,id=s",
		     "exactly one of");
	expect_error("netdev/error-connect-refused",
		     "-netdev socket,id=s,connect=127.0.0.1:1", "cannot connect");
	expect_error("netdev/error-tap-bad-fd", "-netdev tap,id=t,fd=987",
		     "not an open file descriptor");
	expect_error("netdev/error-unknown-model", "-net nic,model=e1000 -net user",
		     "unknown card model");
}

/* ---- -net nic,vlan= with -net socket,vlan= ---- */

static void test_legacy(void)
{
	struct wire w;
	uint8_t f[100], g[200];
	char *args;
	struct qts *q;
	long n;

	if (wire_listen(&w) < 0) {
		test_fail("netdev/legacy-net", "cannot listen");
		return;
	}
	args = g_strdup_printf("-net nic,vlan=1,model=ne2k_pci,addr=4,"
			       "macaddr=00:16:3e:00:00:0a "
			       "-net socket,vlan=1,connect=127.0.0.1:%d", w.port);
	q = qts_start(args);
	if (!q || wire_accept(&w) < 0) {
		test_fail("netdev/legacy-net", "qemu-dm did not start");
		return;
	}
	ne_up(q, mac_a);
	wire_frame(f, 100, mac_b, mac_a, 1);
	ne_tx(q, f, 100);
	n = wire_recv(&w, g, sizeof(g), 10000);
	test_check("netdev/legacy-net-nic-vlan", n == 100 && !memcmp(f, g, 100),
		   "got %ld", n);
	test_check("netdev/legacy-macaddr", qts_pci_read(q, DEVFN, 0, 4) == 0x802910ec,
		   "no card at 04.0");
	qts_quit(q);
	close(w.fd);
	close(w.lfd);
	g_free(args);
}

/* ---- two qemu-dm on one wire ---- */

static int free_udp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (void *)&a, sizeof(a));
	getsockname(fd, (void *)&a, &l);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void two_guests(const char *name, const char *nd_a, const char *nd_b)
{
	char *aa = g_strdup_printf("-netdev socket,id=n,%s -device ne2k_pci,"
				   "netdev=n,addr=4,mac=00:16:3e:00:00:0a", nd_a);
	char *ab = g_strdup_printf("-netdev socket,id=n,%s -device ne2k_pci,"
				   "netdev=n,addr=4,mac=00:16:3e:00:00:0b", nd_b);
	struct qts *a = qts_start(aa), *b = a ? qts_start(ab) : NULL;
	uint8_t f[300], g[400];
	long n;
	char tname[64];

	if (!a || !b) {
		test_fail(name, "qemu-dm did not start");
		goto out;
	}
	ne_up(a, mac_a);
	ne_up(b, mac_b);
	wire_frame(f, 300, mac_b, mac_a, 2);
	ne_tx(a, f, 300);
	n = ne_rx(b, g, sizeof(g));
	snprintf(tname, sizeof(tname), "%s-a-to-b", name);
	test_check(tname, n == 300 && !memcmp(f, g, 300), "got %ld", n);
	wire_frame(f, 200, mac_a, mac_b, 3);
	ne_tx(b, f, 200);
	n = ne_rx(a, g, sizeof(g));
	snprintf(tname, sizeof(tname), "%s-b-to-a", name);
	test_check(tname, n == 200 && !memcmp(f, g, 200), "got %ld", n);
out:
	if (a)
		qts_quit(a);
	if (b)
		qts_quit(b);
	g_free(aa);
	g_free(ab);
}

static void test_wires(void)
{
	int pa = free_udp_port(), pb = free_udp_port();
	char *a = g_strdup_printf("udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", pb, pa);
	char *b = g_strdup_printf("udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", pa, pb);
	int s;
	struct ip_mreq mr = { 0 };
	char *m;

	two_guests("netdev/udp-wire", a, b);
	g_free(a);
	g_free(b);

	/* Multicast needs a host that can join a group and route it. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "230.0.0.1", &mr.imr_multiaddr);
	mr.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		test_skip("netdev/mcast-wire", "this host cannot join a multicast "
			  "group on loopback (%s)", strerror(errno));
		close(s);
		return;
	}
	close(s);
	m = g_strdup_printf("mcast=230.0.0.1:%d,localaddr=127.0.0.1",
			    free_udp_port());
	two_guests("netdev/mcast-wire", m, m);
	g_free(m);
}

/* ---- tap ---- */

static int if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0), r;

	g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (r == 0)
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return r;
}

static void test_tap(void)
{
	char ifname[IFNAMSIZ], *args;
	struct qts *q;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	uint8_t f[200], g[2000];
	long n = -1;
	int ps;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		test_skip("netdev/tap", "needs root and /dev/net/tun");
		return;
	}
	snprintf(ifname, sizeof(ifname), "hvt%d", (int)getpid() % 100000);
	args = g_strdup_printf("-netdev tap,id=t,ifname=%s,script=no,"
			       "downscript=no -device ne2k_pci,netdev=t,addr=4,"
			       "mac=00:16:3e:00:00:0a", ifname);
	q = qts_start(args);
	if (!q) {
		test_fail("netdev/tap", "qemu-dm did not start");
		g_free(args);
		return;
	}
	ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (ps < 0 || !sll.sll_ifindex || if_up(ifname) < 0 ||
	    bind(ps, (void *)&sll, sizeof(sll)) < 0) {
		test_skip("netdev/tap", "cannot open a packet socket on %s (%s)",
			  ifname, strerror(errno));
		goto out;
	}
	ne_up(q, mac_a);
	wire_frame(f, 200, mac_b, mac_a, 4);
	ne_tx(q, f, 200);
	/* The host's own traffic (IPv6 router solicitations...) may come
	 * first: look for ours among the first frames. */
	for (int i = 0; i < 20; i++) {
		struct pollfd p = { .fd = ps, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			break;
		n = recv(ps, g, sizeof(g), 0);
		if (n == 200 && !memcmp(f, g, 200))
			break;
		n = -1;
	}
	test_check("netdev/tap-guest-to-host", n == 200, "frame not seen on %s",
		   ifname);
	wire_frame(f, 150, mac_a, mac_b, 5);
	send(ps, f, 150, 0);
	n = ne_rx(q, g, sizeof(g));
	test_check("netdev/tap-host-to-guest", n == 150 && !memcmp(f, g, 150),
		   "got %ld", n);
out:
	if (ps >= 0)
		close(ps);
	qts_quit(q);
	g_free(args);
}

int main(void)
{
	test_errors();
	test_legacy();
	test_wires();
	test_tap();
	return test_exit();
}
