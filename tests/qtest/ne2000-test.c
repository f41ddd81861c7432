/*
 * NE2000 over qtest, register by register, with a socket back end whose
 * other end the test holds: the RTL8029's PCI identity, the address PROM
 * through 16- and 32-bit remote DMA, transmit, receive into the ring with
 * its header, short-frame padding, ring wrap and back-pressure while the
 * ring is full, the broadcast, multicast-hash and promiscuous filters,
 * loopback, QMP set_link, the ISA card, ARP through user networking, and
 * the CVE replays (ring registers outside the buffer, 32-bit data port at
 * the buffer's end, frames larger than the ring, transmit past the end).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"
#include "tests/qtest/net-wire.h"
#include "tests/testlib.h"

#define DEVFN (4 << 3)
#define IOB 0xc000
#define IRQ 11

static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
static const uint8_t peer[6] = { 0x00, 0x16, 0x3e, 0x65, 0x43, 0x21 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct qts *q;
static unsigned iob = IOB;

/* Ethernet's CRC, most significant bit first (the hash the DP8390's
 * multicast filter takes its top six bits from). */
static uint32_t crc_msb_first(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++) {
			unsigned bit = (p[i] >> b) & 1;
			unsigned top = crc >> 31;

			crc <<= 1;
			if (top ^ bit)
				crc ^= 0x04c11db7;
		}
	return crc;
}

static void ne_w(unsigned reg, uint8_t v) { qts_outb(q, (uint16_t)(iob + reg), v); }
static uint8_t ne_r(unsigned reg) { return qts_inb(q, (uint16_t)(iob + reg)); }

static void page(unsigned p)
{
	ne_w(0, (uint8_t)((ne_r(0) & 0x03) | 0x20 | p << 6));
}

static void dma_setup(uint16_t addr, uint16_t count, uint8_t cmd)
{
	page(0);
	ne_w(0x08, (uint8_t)addr);
	ne_w(0x09, (uint8_t)(addr >> 8));
	ne_w(0x0a, (uint8_t)count);
	ne_w(0x0b, (uint8_t)(count >> 8));
	ne_w(0, cmd);
}

static void card_write(uint16_t addr, const uint8_t *buf, size_t len)
{
	dma_setup(addr, (uint16_t)len, 0x12);
	for (size_t i = 0; i < len; i += 2)
		qts_outw(q, (uint16_t)(iob + 0x10),
			 (uint16_t)(buf[i] | (i + 1 < len ? buf[i + 1] << 8 : 0)));
	ne_w(0x07, 0x40);
}

static void card_read(uint16_t addr, uint8_t *buf, size_t len)
{
	dma_setup(addr, (uint16_t)len, 0x0a);
	for (size_t i = 0; i < len; i += 2) {
		uint16_t w = qts_inw(q, (uint16_t)(iob + 0x10));

		buf[i] = (uint8_t)w;
		if (i + 1 < len)
			buf[i + 1] = (uint8_t)(w >> 8);
	}
	ne_w(0x07, 0x40);
}

/* Ring [start, stop), CURR = start, BNRY = stop - 1, receive filter rcr,
 * started with all interrupts enabled. */
static void ring_setup(uint8_t start, uint8_t stop, uint8_t rcr)
{
	ne_w(0, 0x21);
	ne_w(0x0e, 0x49);               /* word transfers */
	ne_w(0x01, start);
	ne_w(0x02, stop);
	ne_w(0x03, (uint8_t)(stop - 1));
	ne_w(0x0c, rcr);
	ne_w(0x0d, 0x00);
	ne_w(0x07, 0xff);
	ne_w(0x0f, 0x7f);
	page(1);
	for (int i = 0; i < 6; i++)
		ne_w(1 + i, mac[i]);
	ne_w(0x07, start);
	page(0);
	ne_w(0, 0x22);
}

static uint8_t curr(void)
{
	uint8_t c;

	page(1);
	c = ne_r(0x07);
	page(0);
	return c;
}

/* Wait (bounded) for an ISR bit. */
static bool wait_isr_ms(uint8_t bit, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (ne_r(0x07) & bit)
			return true;
		usleep(1000);
	}
	return false;
}

static bool wait_isr(uint8_t bit)
{
	return wait_isr_ms(bit, 5000);
}

static void transmit(const uint8_t *f, size_t len)
{
	card_write(0x4000, f, len);
	ne_w(0x04, 0x40);
	ne_w(0x05, (uint8_t)len);
	ne_w(0x06, (uint8_t)(len >> 8));
	ne_w(0, 0x26);
}

/* Receive one frame from the ring at CURR-before; returns its length
 * from the header (without the header) or -1. */
static long ring_take(uint8_t at, uint8_t *buf, size_t max, uint8_t *next)
{
	uint8_t h[4];
	size_t len;

	card_read((uint16_t)(at << 8), h, 4);
	len = (size_t)(h[2] | h[3] << 8);
	if (!(h[0] & 1) || len < 4 || len - 4 > max)
		return -1;
	card_read((uint16_t)((at << 8) + 4), buf, len - 4);
	*next = h[1];
	return (long)(len - 4);
}

static void test_pci_and_prom(void)
{
	uint8_t prom[32];
	uint32_t d[4];

	test_check("ne2000/pci-id", qts_pci_read(q, DEVFN, 0, 4) == 0x802910ec,
		   "ID %#x", qts_pci_read(q, DEVFN, 0, 4));
	test_check("ne2000/pci-class", qts_pci_read(q, DEVFN, 8, 4) >> 8 == 0x020000,
		   "class %#x", qts_pci_read(q, DEVFN, 8, 4) >> 8);
	qts_pci_write(q, DEVFN, 0x10, 0xffffffff, 4);
	test_check("ne2000/bar0-32-bytes-io",
		   qts_pci_read(q, DEVFN, 0x10, 4) == 0xffffffe1, "BAR0 %#x",
		   qts_pci_read(q, DEVFN, 0x10, 4));
	qts_pci_write(q, DEVFN, 0x10, IOB, 4);
	qts_pci_write(q, DEVFN, 0x04, 0x05, 2);
	for (unsigned r = 0x60; r < 0x64; r++)
		qts_pci_write(q, 1 << 3, r, IRQ, 1);
	if (access("/usr/lib/ipxe/qemu/pxe-ne2k_pci.rom", R_OK) != 0) {
		test_skip("ne2000/pxe-rom", "no iPXE ROM (Debian package "
			  "ipxe-qemu)");
	} else {
		/* iPXE's ne2k_pci ROM names no device: the card's IDs must be
		 * patched in, with the image's checksum kept, or SeaBIOS
		 * does not run it. */
		static uint8_t rom[256 * 512];
		unsigned p, sum = 0, len;

		qts_pci_write(q, DEVFN, 0x30, 0xe0000001, 4);
		qts_pci_write(q, DEVFN, 0x04, 0x07, 2);
		qts_memread(q, 0xe0000000, rom, 512);
		len = rom[2] * 512u;
		qts_memread(q, 0xe0000000, rom, len);
		p = rom[0x18] | rom[0x19] << 8;
		for (unsigned i = 0; i < len; i++)
			sum += rom[i];
		test_check("ne2000/pxe-rom-ids-patched", rom[0] == 0x55 &&
			   rom[1] == 0xaa && p + 8 < len &&
			   !memcmp(rom + p, "PCIR", 4) && rom[p + 4] == 0xec &&
			   rom[p + 5] == 0x10 && rom[p + 6] == 0x29 &&
			   rom[p + 7] == 0x80 && (sum & 0xff) == 0,
			   "ROM header %02x%02x, sum %#x", rom[0], rom[1], sum & 0xff);
		qts_pci_write(q, DEVFN, 0x30, 0, 4);
		qts_pci_write(q, DEVFN, 0x04, 0x05, 2);
	}

	ne_r(0x1f);
	test_check("ne2000/reset-port", (ne_r(0x07) & 0x80) && ne_r(0) == 0x21,
		   "ISR %#x CR %#x", ne_r(0x07), ne_r(0));
	test_check("ne2000/rtl8029-id", ne_r(0x0a) == 0x50 && ne_r(0x0b) == 0x43,
		   "ID %#x %#x", ne_r(0x0a), ne_r(0x0b));
	ne_w(0x0e, 0x49);
	card_read(0, prom, 32);
	bool ok = prom[14] == 0x57 && prom[15] == 0x57;
	for (int i = 0; i < 6; i++)
		ok = ok && prom[2 * i] == mac[i] && prom[2 * i + 1] == mac[i];
	test_check("ne2000/prom-16bit", ok, "PROM %02x %02x %02x ...", prom[0],
		   prom[1], prom[2]);
	dma_setup(0, 16, 0x0a);
	for (int i = 0; i < 4; i++)
		d[i] = qts_inl(q, (uint16_t)(iob + 0x10));
	test_check("ne2000/prom-32bit", !memcmp(d, prom, 16) &&
		   (ne_r(0x07) & 0x40), "dword PROM reads differ or no RDC");
	ne_w(0x07, 0x40);
}

static void test_tx_rx(struct wire *w)
{
	uint8_t f[1600], g[1600], next;
	long n;

	ring_setup(0x46, 0x80, 0x04);
	qts_irq_intercept(q);
	wire_frame(f, 100, peer, mac, 1);
	transmit(f, 100);
	n = wire_recv(w, g, sizeof(g), 10000);
	test_check("ne2000/tx-frame-on-wire", n == 100 && !memcmp(f, g, 100),
		   "got %ld bytes", n);
	test_check("ne2000/tx-ptx-irq", (ne_r(0x07) & 0x02) && ne_r(0x04) == 0x01 &&
		   qts_get_irq(q, IRQ), "ISR %#x TSR %#x", ne_r(0x07), ne_r(0x04));
	ne_w(0x07, 0x02);
	test_check("ne2000/isr-ack-lowers-irq", !qts_get_irq(q, IRQ),
		   "IRQ still high");

	wire_frame(f, 300, mac, peer, 2);
	wire_send(w, f, 300);
	bool got = wait_isr(0x01);
	test_check("ne2000/rx-irq", got && qts_get_irq(q, IRQ), "no PRX");
	n = ring_take(0x46, g, sizeof(g), &next);
	test_check("ne2000/rx-frame-in-ring", n == 300 && !memcmp(f, g, 300) &&
		   next == 0x46 + 2 && curr() == next,
		   "len %ld next %#x curr %#x", n, next, curr());
	ne_w(0x03, (uint8_t)(next - 1));
	ne_w(0x07, 0x01);

	wire_frame(f, 20, mac, peer, 3);
	wire_send(w, f, 20);
	wait_isr(0x01);
	n = ring_take(next, g, sizeof(g), &next);
	uint8_t zero[40] = { 0 };
	test_check("ne2000/rx-short-frame-padded", n == 60 && !memcmp(g, f, 20) &&
		   !memcmp(g + 20, zero, 40), "len %ld", n);
	ne_w(0x03, (uint8_t)(next - 1));
	ne_w(0x07, 0x01);

	/* Broadcast accepted with AB; a stranger's unicast is not. */
	wire_frame(f, 80, peer, peer, 4);
	wire_send(w, f, 80);
	wire_frame(f, 80, bcast, peer, 5);
	wire_send(w, f, 80);
	wait_isr(0x01);
	n = ring_take(next, g, sizeof(g), &next);
	test_check("ne2000/filter-unicast-and-broadcast", n == 80 && g[0] == 0xff,
		   "len %ld first byte %#x", n, g[0]);
	ne_w(0x03, (uint8_t)(next - 1));
	ne_w(0x07, 0x01);

	/* Promiscuous takes the stranger's frame. */
	ne_w(0x0c, 0x14);
	wire_frame(f, 90, peer, peer, 6);
	wire_send(w, f, 90);
	got = wait_isr(0x01);
	n = got ? ring_take(next, g, sizeof(g), &next) : -1;
	test_check("ne2000/filter-promiscuous", n == 90 && !memcmp(g, peer, 6),
		   "len %ld", n);
	ne_w(0x03, (uint8_t)(next - 1));
	ne_w(0x07, 0x01);
	ne_w(0x0c, 0x04);

	/* Multicast: only groups whose hash bit is set in MAR. */
	uint8_t g1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, g2[6];
	unsigned h1 = crc_msb_first(g1, 6) >> 26, h2;
	memcpy(g2, g1, 6);
	do {
		g2[5]++;
		h2 = crc_msb_first(g2, 6) >> 26;
	} while (h2 == h1);
	page(1);
	for (int i = 0; i < 8; i++)
		ne_w(0x08 + i, 0);
	ne_w(0x08 + (h1 >> 3), (uint8_t)(1 << (h1 & 7)));
	page(0);
	ne_w(0x0c, 0x0c);
	wire_frame(f, 70, g2, peer, 7);
	wire_send(w, f, 70);
	wire_frame(f, 71, g1, peer, 8);
	wire_send(w, f, 71);
	wait_isr(0x01);
	n = ring_take(next, g, sizeof(g), &next);
	test_check("ne2000/filter-multicast-hash", n == 71 && !memcmp(g, g1, 6),
		   "len %ld (hashes %u %u)", n, h1, h2);
	ne_w(0x03, (uint8_t)(next - 1));
	ne_w(0x07, 0x01);
	test_check("ne2000/filter-multicast-no-more", curr() == next,
		   "CURR %#x next %#x", curr(), next);
}

static void test_wrap_and_backpressure(struct wire *w)
{
	uint8_t f[1100], g[1100], next;
	long n;

	ring_setup(0x46, 0x4c, 0x04);           /* 6 pages */
	wire_frame(f, 1000, mac, peer, 9);
	wire_send(w, f, 1000);
	wait_isr(0x01);
	ne_w(0x07, 0x01);
	wire_frame(f, 1000, mac, peer, 10);
	wire_send(w, f, 1000);
	/* 256 bytes free: the second frame must wait, not overwrite. */
	bool early = wait_isr_ms(0x01, 300);
	uint8_t c = curr();
	test_check("ne2000/ring-full-waits", !early && c == 0x4a,
		   "CURR %#x, ISR %#x", c, ne_r(0x07));
	n = ring_take(0x46, g, sizeof(g), &next);
	ne_w(0x03, (uint8_t)(next - 1));        /* free the first */
	bool got = wait_isr(0x01);
	test_check("ne2000/ring-delivers-after-bnry", got && curr() == 0x48,
		   "CURR %#x", curr());
	n = ring_take(0x4a, g, sizeof(g), &next);
	test_check("ne2000/ring-wrap-data", n == 1000 && !memcmp(f, g, 1000) &&
		   next == 0x48, "len %ld next %#x", n, next);
	ne_w(0x07, 0x01);
	/* BNRY one before PSTART (Linux's next-1 when next is PSTART) is
	 * the ring's last page. */
	ne_w(0x03, 0x45);
	wire_frame(f, 200, mac, peer, 15);
	wire_send(w, f, 200);
	got = wait_isr(0x01);
	n = got ? ring_take(0x48, g, sizeof(g), &next) : -1;
	test_check("ne2000/bnry-before-pstart", n == 200 && !memcmp(f, g, 200),
		   "len %ld", n);
	ne_w(0x07, 0x01);
}

static void test_loopback_and_link(struct wire *w)
{
	uint8_t f[200], g[200], next;
	long n;
	const char *r;

	ring_setup(0x46, 0x80, 0x04);
	ne_w(0x0d, 0x02);                       /* internal loopback */
	wire_frame(f, 120, mac, mac, 11);
	transmit(f, 120);
	bool got = wait_isr(0x01);
	n = got ? ring_take(0x46, g, sizeof(g), &next) : -1;
	test_check("ne2000/loopback-into-ring", n == 120 && !memcmp(f, g, 120),
		   "len %ld", n);
	test_check("ne2000/loopback-not-on-wire", wire_quiet(w, 200),
		   "frame left the card");
	ne_w(0x0d, 0x00);
	ne_w(0x03, (uint8_t)(next - 1));
	ne_w(0x07, 0xff);

	r = qts_qmp(q, "{\"execute\": \"set_link\", \"arguments\": "
		    "{\"name\": \"nic0\", \"up\": false}}");
	test_check("ne2000/set-link-down", r && strstr(r, "\"return\""), "%s", r);
	transmit(f, 120);
	test_check("ne2000/link-down-drops-tx", wire_quiet(w, 300), "frame sent");
	qts_qmp(q, "{\"execute\": \"set_link\", \"arguments\": "
		"{\"name\": \"nic0\", \"up\": true}}");
	transmit(f, 120);
	n = wire_recv(w, g, sizeof(g), 10000);
	test_check("ne2000/link-up-again", n == 120, "got %ld", n);
	r = qts_qmp(q, "{\"execute\": \"set_link\", \"arguments\": "
		    "{\"name\": \"nosuch\", \"up\": true}}");
	test_check("ne2000/set-link-unknown", r && strstr(r, "not found"), "%s", r);
}

static void test_cves(struct wire *w)
{
	uint8_t f[9000], g[256];
	uint32_t v;

	/* CVE-2015-8743: dword data port at the end of the buffer. */
	ring_setup(0x46, 0x80, 0x04);
	dma_setup(0xbffe, 4, 0x0a);
	v = qts_inl(q, (uint16_t)(iob + 0x10));
	test_check("ne2000/cve-2015-8743-read-past-end", v == 0xffffffff,
		   "read %#x", v);
	dma_setup(0xbffe, 4, 0x12);
	qts_outl(q, (uint16_t)(iob + 0x10), 0x12345678);
	card_read(0xbffc, g, 4);
	test_check("ne2000/cve-2015-8743-write-past-end",
		   g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0,
		   "%02x%02x%02x%02x", g[0], g[1], g[2], g[3]);

	/* CVE-2015-5279 / CVE-2016-2841: ring registers outside the buffer
	 * or backwards: frames are dropped, nothing loops or overflows. */
	static const uint8_t bad[][4] = {   /* pstart pstop curr bnry */
		{ 0x80, 0x46, 0x50, 0x50 },
		{ 0x46, 0xff, 0xf0, 0x47 },
		{ 0x46, 0x80, 0xfe, 0x47 },
		{ 0x00, 0x00, 0x00, 0x00 },
		{ 0x46, 0x80, 0x50, 0xff },
	};
	bool alive = true;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		ne_w(0, 0x21);
		ne_w(0x01, bad[i][0]);
		ne_w(0x02, bad[i][1]);
		ne_w(0x03, bad[i][3]);
		page(1);
		ne_w(0x07, bad[i][2]);
		page(0);
		ne_w(0x07, 0xff);
		ne_w(0, 0x22);
		wire_frame(f, 1500, mac, peer, 12);
		wire_send(w, f, 1500);
		usleep(20000);
		alive = alive && !(ne_r(0x07) & 0x01);
	}
	test_check("ne2000/cve-2015-5279-ring-outside-buffer", alive,
		   "a frame landed in a bad ring");

	/* CVE-2018-10839: a frame bigger than the ring is dropped whole. */
	ring_setup(0x46, 0x4c, 0x04);
	wire_frame(f, sizeof(f), mac, peer, 13);
	wire_send(w, f, sizeof(f));
	wire_frame(f, 100, mac, peer, 14);
	wire_send(w, f, 100);
	bool got = wait_isr(0x01);
	uint8_t next;
	long n = got ? ring_take(0x46, g, sizeof(g), &next) : -1;
	test_check("ne2000/cve-2018-10839-oversize-frame-dropped", n == 100,
		   "len %ld ISR %#x CURR %#x", n, ne_r(0x07), curr());

	/* Transmit from past the buffer's end: an error, nothing sent. */
	ne_w(0x07, 0xff);
	ne_w(0x04, 0xbf);
	ne_w(0x05, 0x00);
	ne_w(0x06, 0x06);
	ne_w(0, 0x26);
	test_check("ne2000/tx-past-buffer-refused",
		   (ne_r(0x07) & 0x08) && wire_quiet(w, 300),
		   "ISR %#x", ne_r(0x07));
}

static void test_isa(void)
{
	struct qts *qi = qts_start("-device ne2k_isa,mac=00:16:3e:12:34:56");
	uint8_t prom[32];
	bool ok;

	if (!qi) {
		test_fail("ne2000/isa-start", "qemu-dm did not start");
		return;
	}
	q = qi;
	iob = 0x300;
	ne_r(0x1f);
	ne_w(0x0e, 0x48);                       /* byte transfers */
	dma_setup(0, 32, 0x0a);
	for (int i = 0; i < 32; i++)
		prom[i] = qts_inb(q, (uint16_t)(iob + 0x10));
	ok = true;
	for (int i = 0; i < 6; i++)
		ok = ok && prom[2 * i] == mac[i];
	test_check("ne2000/isa-0x300-prom", ok, "PROM %02x %02x", prom[0],
		   prom[2]);
	qts_irq_intercept(q);
	ne_w(0x0f, 0x40);
	dma_setup(0, 0, 0x0a);                  /* zero count: RDC at once */
	test_check("ne2000/isa-irq9", qts_get_irq(q, 9), "IRQ 9 low");
	qts_quit(qi);
}

/* ARP for the user network's gateway; slirp answers. */
static void test_user(void)
{
	struct qts *qu = qts_start("-netdev user,id=u0 -device "
				   "ne2k_pci,netdev=u0,addr=4,"
				   "mac=00:16:3e:12:34:56");
	uint8_t f[60] = { 0 }, g[128], next = 0;
	long n = -1;

	if (!qu) {
		test_fail("ne2000/user-start", "qemu-dm did not start");
		return;
	}
	q = qu;
	iob = IOB;
	qts_pci_write(q, DEVFN, 0x10, IOB, 4);
	qts_pci_write(q, DEVFN, 0x04, 0x05, 2);
	ring_setup(0x46, 0x80, 0x04);
	memcpy(f, bcast, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08; f[13] = 0x06;                     /* ARP */
	f[14] = 0; f[15] = 1; f[16] = 0x08; f[17] = 0;  /* Ethernet, IPv4 */
	f[18] = 6; f[19] = 4; f[20] = 0; f[21] = 1;     /* request */
	memcpy(f + 22, mac, 6);
	f[28] = 10; f[29] = 0; f[30] = 2; f[31] = 15;   /* sender 10.0.2.15 */
	f[38] = 10; f[39] = 0; f[40] = 2; f[41] = 2;    /* who has 10.0.2.2 */
	transmit(f, 60);
	for (int tries = 0; tries < 5 && n < 0; tries++) {
		if (wait_isr(0x01))
			n = ring_take(0x46, g, sizeof(g), &next);
		else
			transmit(f, 60);
	}
	test_check("ne2000/user-arp-reply", n >= 42 && g[12] == 0x08 &&
		   g[13] == 0x06 && g[21] == 2 && g[28] == 10 && g[31] == 2 &&
		   !memcmp(g, mac, 6), "len %ld", n);
	qts_quit(qu);
}

int main(void)
{
	struct wire w;
	char *args;

	if (wire_listen(&w) < 0) {
		test_fail("ne2000/wire", "cannot listen on 127.0.0.1");
		return 1;
	}
	args = g_strdup_printf("-netdev socket,id=n0,connect=127.0.0.1:%d "
			       "-device ne2k_pci,netdev=n0,id=nic0,addr=4,"
			       "mac=00:16:3e:12:34:56", w.port);
	q = qts_start(args);
	if (!q || wire_accept(&w) < 0) {
		test_fail("ne2000/start", "qemu-dm did not start or connect");
		return 1;
	}
	test_pci_and_prom();
	test_tx_rx(&w);
	test_wrap_and_backpressure(&w);
	test_loopback_and_link(&w);
	test_cves(&w);
	test_check("ne2000/survives", qts_quit(q) == 0, "qemu-dm exit status");
	test_isa();
	test_user();
	g_free(args);
	return test_exit();
}
