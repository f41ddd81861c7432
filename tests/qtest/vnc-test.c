/*
 * The VNC server with a real RFB client (libvncclient): the framebuffer
 * a client receives has exactly the pixels the test drew through VBE,
 * later changes arrive as updates, a mode change resizes the desktop,
 * two clients share the screen, keys reach the PS/2 keyboard, the
 * password option keeps clients out until QMP set_password, and
 * -vnc errors are one clear message.  Then the attacks of CVE-2014-7815
 * (SetPixelFormat with a bad bits-per-pixel) and CVE-2015-5239 (a huge
 * ClientCutText) from a raw socket: the device model survives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/qtest/vga-util.h"
#include "tests/testlib.h"

static struct qts *q;
static int port;
static const char *client_password = "";

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static char *get_password(rfbClient *cl)
{
	(void)cl;
	return strdup(client_password);
}

static rfbClient *connect_client(void)
{
	rfbClient *cl = rfbGetClient(8, 3, 4);

	free(cl->serverHost);
	cl->serverHost = strdup("127.0.0.1");
	cl->serverPort = port;
	cl->GetPassword = get_password;
	cl->canHandleNewFBSize = TRUE;
	cl->appData.shareDesktop = TRUE;
	cl->appData.encodingsString = "raw";
	if (!rfbInitClient(cl, NULL, NULL))
		return NULL;        /* rfbInitClient freed it */
	return cl;
}

/* libvncclient leaves the framebuffer to the application. */
static void client_free(rfbClient *cl)
{
	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	rfbClientCleanup(cl);
}

static uint32_t client_px(rfbClient *cl, int x, int y)
{
	uint32_t v;

	memcpy(&v, cl->frameBuffer + ((size_t)y * cl->width + x) * 4, 4);
	return ((v >> cl->format.redShift) & 0xff) << 16 |
	       ((v >> cl->format.greenShift) & 0xff) << 8 |
	       ((v >> cl->format.blueShift) & 0xff);
}

static uint32_t pat(int x, int y, int k)
{
	return (uint32_t)((x * 3 + k) & 0xff) << 16 |
	       (uint32_t)((y * 5) & 0xff) << 8 | (uint32_t)((x ^ y ^ k) & 0xff);
}

static int mismatches(rfbClient *cl, int w, int h, int k)
{
	int bad = 0;

	if (cl->width != w || cl->height != h)
		return -1;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			bad += client_px(cl, x, y) != pat(x, y, k);
	return bad;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Serve server messages until the client shows frame k (or 30 s). */
static int wait_frame(rfbClient *cl, int w, int h, int k)
{
	double end = now() + 30;
	int bad = -1;

	while (now() < end) {
		bad = mismatches(cl, w, h, k);
		if (bad == 0)
			return 0;
		SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
					     TRUE);
		if (WaitForMessage(cl, 200000) > 0 &&
		    !HandleRFBServerMessage(cl))
			return -2;
	}
	return bad;
}

static void draw(int w, int h, int k)
{
	uint32_t *buf = g_new(uint32_t, (size_t)w * h);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			buf[y * w + x] = pat(x, y, k);
	qts_memwrite(q, LFB_ADDR, buf, (size_t)w * h * 4);
	g_free(buf);
}

static int vnc_port(void)
{
	const char *r = qts_qmp(q, "{\"execute\": \"query-vnc\"}");
	const char *s = strstr(r, "\"service\"");

	if (!s || !(s = strchr(s + 9, '"')))
		return -1;
	return atoi(s + 1);
}

/* A raw RFB 3.8 connection through the handshake (no authentication);
 * returns the socket or -1. */
static int raw_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	uint8_t buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint32_t len;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	if (read(fd, buf, 12) != 12 || write(fd, "RFB 003.008\n", 12) != 12)
		goto fail;
	if (read(fd, buf, 1) != 1 || buf[0] < 1 ||
	    read(fd, buf + 1, buf[0]) != buf[0])
		goto fail;
	if (write(fd, "\x01", 1) != 1 || read(fd, buf, 4) != 4 ||
	    memcmp(buf, "\0\0\0\0", 4))
		goto fail;
	if (write(fd, "\x01", 1) != 1 || read(fd, buf, 24) != 24)
		goto fail;
	memcpy(&len, buf + 20, 4);
	len = ntohl(len);
	while (len > 0) {
		ssize_t n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (n <= 0)
			goto fail;
		len -= (uint32_t)n;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void send_raw(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		test_skip("vnc/raw-write", "short write: %s", strerror(errno));
}

static bool alive(void)
{
	return strstr(qts_qmp(q, "{\"execute\": \"query-status\"}"),
		      "\"return\"") != NULL;
}

static void attacks(void)
{
	int fd = raw_connect();
	uint8_t spf[20] = { 0 };

	if (fd < 0) {
		test_fail("cve-2014-7815/bad-bits-per-pixel", "no connection");
		return;
	}
	/* SetPixelFormat, bits-per-pixel 0, then an update request. */
	spf[0] = 0;
	spf[4] = 0;             /* bpp */
	spf[5] = 0;             /* depth */
	spf[7] = 1;             /* true colour */
	send_raw(fd, spf, sizeof(spf));
	send_raw(fd, "\x03\x00\x00\x00\x00\x00\x00\x40\x00\x30", 10);
	usleep(200000);
	test_check("cve-2014-7815/bad-bits-per-pixel", alive(),
		   "qemu-dm stopped answering");
	close(fd);
	fd = raw_connect();
	if (fd < 0) {
		test_fail("cve-2015-5239/huge-client-cut-text", "no connection");
		return;
	}
	/* ClientCutText claiming 4 GiB - 1, followed by a little text. */
	send_raw(fd, "\x06\x00\x00\x00\xff\xff\xff\xff" "abcdefgh", 16);
	usleep(200000);
	test_check("cve-2015-5239/huge-client-cut-text", alive(),
		   "qemu-dm stopped answering");
	close(fd);
}

static int run_dm(const char *args, char *out, size_t outlen)
{
	char *cmd = g_strdup_printf("bin/qemu-dm -accel qtest -qtest stdio "
				    "%s </dev/null 2>&1", args);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, outlen - 1, p) : 0;
	int st = p ? pclose(p) : -1;

	out[n] = '\0';
	g_free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void bad_options(void)
{
	char out[512];
	int st;

	st = run_dm("-vnc 1", out, sizeof(out));
	test_check("vnc/option-without-colon", st == 1 && strstr(out, "-vnc 1"),
		   "status %d: %s", st, out);
	st = run_dm("-vnc :1,bogus", out, sizeof(out));
	test_check("vnc/unknown-suboption", st == 1 && strstr(out, "bogus"),
		   "status %d: %s", st, out);
	st = run_dm("-k xx", out, sizeof(out));
	test_check("vnc/unknown-keymap", st == 1 && strstr(out, "-k xx") &&
		   strstr(out, "en-gb"), "status %d: %s", st, out);
	char *busy = g_strdup_printf("-vnc :%d", port - 5900);
	st = run_dm(busy, out, sizeof(out));
	test_check("vnc/port-in-use", st == 1 && strstr(out, "in use"),
		   "status %d: %s", st, out);
	g_free(busy);
}

int main(void)
{
	int base = 200 + getpid() % 400;
	rfbClient *a, *b;
	char *args;
	int r;

	rfbClientLog = quiet;
	rfbClientErr = quiet;
	args = g_strdup_printf("-vga std -vnc :%d,to=%d", base, base + 99);
	q = qts_start(args);
	g_free(args);
	if (!q) {
		test_fail("vnc/start", "qemu-dm did not start");
		return 1;
	}
	port = vnc_port();
	test_check("vnc/query-vnc", port >= 5900 + base && port <= 5999 + base,
		   "port %d", port);
	vga_pci_setup(q);
	vbe_mode(q, 64, 48, 32);
	draw(64, 48, 0);
	a = connect_client();
	if (!a) {
		test_fail("vnc/connect", "libvncclient could not connect");
		qts_quit(q);
		return 1;
	}
	r = wait_frame(a, 64, 48, 0);
	test_check("vnc/framebuffer-pixels", r == 0,
		   "%dx%d, result %d, (0,0) %#x", a->width, a->height, r,
		   a->width ? client_px(a, 0, 0) : 0);
	draw(64, 48, 1);
	r = wait_frame(a, 64, 48, 1);
	test_check("vnc/update-after-change", r == 0, "result %d", r);
	b = connect_client();
	r = b ? wait_frame(b, 64, 48, 1) : -3;
	test_check("vnc/two-clients-shared", r == 0 && a->sock >= 0,
		   "result %d", r);
	if (b)
		client_free(b);
	/* Desktop resize on a mode change. */
	vbe_mode(q, 96, 32, 32);
	draw(96, 32, 2);
	r = wait_frame(a, 96, 32, 2);
	test_check("vnc/desktop-resize", r == 0, "%dx%d, result %d", a->width,
		   a->height, r);
	/* A key: 'a' down and up is set 1 0x1e, 0x9e at the i8042. */
	SendKeyEvent(a, 'a', TRUE);
	SendKeyEvent(a, 'a', FALSE);
	SendKeyEvent(a, XK_Shift_L, TRUE);
	SendKeyEvent(a, 'Q', TRUE);
	SendKeyEvent(a, 'Q', FALSE);
	SendKeyEvent(a, XK_Shift_L, FALSE);
	uint8_t got[6] = { 0 };
	int n = 0;
	for (double end = now() + 10; n < 6 && now() < end;) {
		if (qts_inb(q, 0x64) & 1)
			got[n++] = qts_inb(q, 0x60);
		else
			usleep(10000);
	}
	test_check("vnc/keys-to-ps2", n == 6 && !memcmp(got,
		   "\x1e\x9e\x2a\x10\x90\xaa", 6),
		   "%d bytes: %02x %02x %02x %02x %02x %02x", n, got[0], got[1],
		   got[2], got[3], got[4], got[5]);
	client_free(a);
	attacks();
	bad_options();
	test_check("vnc/survives", qts_quit(q) == 0, "qemu-dm exited badly");

	/* Password: nobody gets in until set_password. */
	args = g_strdup_printf("-vga std -k de -vnc :%d,to=%d,password", base,
			       base + 99);
	q = qts_start(args);
	g_free(args);
	if (!q)
		return 1;
	port = vnc_port();
	client_password = "secret";
	a = connect_client();
	test_check("vnc/password-unset-refuses", a == NULL, "client got in");
	if (a)
		client_free(a);
	qts_qmp(q, "{\"execute\": \"set_password\", \"arguments\": "
		"{\"protocol\": \"vnc\", \"password\": \"secret\"}}");
	a = connect_client();
	test_check("vnc/password-accepted", a != NULL, "client refused");
	if (a) {
		/* -k de: 'y' and 'z' trade places, o-umlaut is where ';'
		 * is on en-us. */
		uint8_t got[3] = { 0 };
		int n = 0;

		SendKeyEvent(a, 'y', TRUE);
		SendKeyEvent(a, 'z', TRUE);
		SendKeyEvent(a, XK_odiaeresis, TRUE);
		for (double end = now() + 10; n < 3 && now() < end;) {
			if (qts_inb(q, 0x64) & 1)
				got[n++] = qts_inb(q, 0x60);
			else
				usleep(10000);
		}
		test_check("vnc/keymap-de", n == 3 && got[0] == 0x2c &&
			   got[1] == 0x15 && got[2] == 0x27,
			   "%d bytes: %02x %02x %02x", n, got[0], got[1], got[2]);
		client_free(a);
	}
	client_password = "wrong";
	a = connect_client();
	test_check("vnc/password-wrong-refused", a == NULL, "client got in");
	if (a)
		client_free(a);
	test_check("vnc/password-survives", qts_quit(q) == 0,
		   "qemu-dm exited badly");
	return test_exit();
}
