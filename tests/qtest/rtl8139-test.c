/*
 * RTL8139C+ over qtest with a socket back end the test holds: PCI
 * identity and both BARs, reset, the 93C46 EEPROM bit by bit (read as
 * Linux's drivers do, write after EWEN), normal-mode transmit through
 * the four descriptors, receive into the ring with header and CRC, ring
 * wrap and back-pressure until CAPR moves, the filters, TCR loopback,
 * TCTR and TimerInt on the virtual clock, C+ mode (gathered transmit,
 * IP/TCP checksum offload, TCP segmentation, receive descriptors), and
 * the CVE replays: offload headers whose lengths lie (CVE-2015-5165), a
 * ring with no last fragment (CVE-2016-8910), frames larger than the
 * receive ring (CVE-2018-17958), loopback through the queue
 * (CVE-2021-3416).
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
#define MMIO 0xe0000000u
#define IRQ 11
#define TXBUF 0x100000
#define RXRING 0x200000
#define CPTX 0x300000
#define CPRX 0x301000
#define CPBUF 0x400000

static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
static const uint8_t peer[6] = { 0x00, 0x16, 0x3e, 0x65, 0x43, 0x21 };

static struct qts *q;
static struct wire w;

static void w8(unsigned r, uint8_t v) { qts_outb(q, (uint16_t)(IOB + r), v); }
static void w16(unsigned r, uint16_t v) { qts_outw(q, (uint16_t)(IOB + r), v); }
static void w32(unsigned r, uint32_t v) { qts_outl(q, (uint16_t)(IOB + r), v); }
static uint8_t r8(unsigned r) { return qts_inb(q, (uint16_t)(IOB + r)); }
static uint16_t r16(unsigned r) { return qts_inw(q, (uint16_t)(IOB + r)); }
static uint32_t r32(unsigned r) { return qts_inl(q, (uint16_t)(IOB + r)); }

/* The FCS as it goes on the wire, computed bit by bit. */
static uint32_t fcs(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int b = 0; b < 8; b++)
			c = (c & 1) ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return ~c;
}

static uint32_t crc_msb_first(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++) {
			unsigned bit = (p[i] >> b) & 1, top = crc >> 31;

			crc <<= 1;
			if (top ^ bit)
				crc ^= 0x04c11db7;
		}
	return crc;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A TCP/IPv4 frame with payload plen, checksums zero. */
static size_t tcp_frame(uint8_t *f, size_t plen, uint8_t flags)
{
	memcpy(f, peer, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08; f[13] = 0x00;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((40 + plen) >> 8);
	ip[3] = (uint8_t)(40 + plen);
	ip[4] = 0x12; ip[5] = 0x34;
	ip[8] = 64; ip[9] = 6;
	ip[12] = 10; ip[13] = 0; ip[14] = 2; ip[15] = 15;
	ip[16] = 10; ip[17] = 0; ip[18] = 2; ip[19] = 2;
	tcp[0] = 0x30; tcp[1] = 0x39; tcp[2] = 0x00; tcp[3] = 0x50;
	tcp[4] = 0x01; tcp[5] = 0x02; tcp[6] = 0x03; tcp[7] = 0x04;
	tcp[12] = 0x50;
	tcp[13] = flags;
	tcp[14] = 0x20;
	for (size_t i = 0; i < plen; i++)
		tcp[20 + i] = (uint8_t)(i * 13 + 5);
	return 54 + plen;
}

/* IP header and TCP checksums of a received frame are right. */
static bool tcp_sums_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t tot = (size_t)(ip[2] << 8 | ip[3]);
	uint8_t ph[12];

	if (len < 54 || tot + 14 > len || csum(ip, 20, 0) != 0xffff)
		return false;
	memcpy(ph, ip + 12, 8);
	ph[8] = 0; ph[9] = 6;
	ph[10] = (uint8_t)((tot - 20) >> 8);
	ph[11] = (uint8_t)(tot - 20);
	return csum(ip + 20, tot - 20, csum(ph, 12, 0)) == 0xffff;
}

/* ---- EEPROM, as Linux's drivers clock it ---- */

static unsigned ee_read(unsigned loc, unsigned addr_len)
{
	unsigned cmd = loc | (6u << addr_len), v = 0;

	w8(0x50, 0x80);
	w8(0x50, 0x88);
	for (int i = 4 + (int)addr_len; i >= 0; i--) {
		uint8_t d = (cmd & (1u << i)) ? 0x02 : 0;

		w8(0x50, 0x88 | d);
		w8(0x50, 0x88 | d | 0x04);
	}
	w8(0x50, 0x88);
	for (int i = 16; i > 0; i--) {
		w8(0x50, 0x88 | 0x04);
		v = (v << 1) | (r8(0x50) & 1);
		w8(0x50, 0x88);
	}
	w8(0x50, 0);
	return v;
}

static void ee_bits(unsigned val, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		uint8_t d = (val & (1u << i)) ? 0x02 : 0;

		w8(0x50, 0x88 | d);
		w8(0x50, 0x88 | d | 0x04);
	}
	w8(0x50, 0x80);          /* CS low ends the command */
}

static void test_basics(void)
{
	test_check("rtl8139/pci-id", qts_pci_read(q, DEVFN, 0, 4) == 0x813910ec,
		   "ID %#x", qts_pci_read(q, DEVFN, 0, 4));
	test_check("rtl8139/revision-c-plus", qts_pci_read(q, DEVFN, 8, 1) == 0x20,
		   "rev %#x", qts_pci_read(q, DEVFN, 8, 1));
	qts_pci_write(q, DEVFN, 0x10, IOB, 4);
	qts_pci_write(q, DEVFN, 0x14, MMIO, 4);
	qts_pci_write(q, DEVFN, 0x04, 0x07, 2);
	for (unsigned r = 0x60; r < 0x64; r++)
		qts_pci_write(q, 1 << 3, r, IRQ, 1);
	qts_irq_intercept(q);
	w8(0x37, 0x10);
	test_check("rtl8139/reset-self-clears", (r8(0x37) & 0x10) == 0,
		   "CR %#x", r8(0x37));
	test_check("rtl8139/tcr-8139c-plus", (r32(0x40) & 0x7c800000) == 0x74800000,
		   "TCR %#x", r32(0x40));
	bool ok = true;
	for (int i = 0; i < 6; i++)
		ok = ok && r8(i) == mac[i];
	test_check("rtl8139/idr-mac", ok, "IDR differs");
	test_check("rtl8139/mmio-bar-same-registers",
		   qts_readl(q, MMIO + 0x40) == r32(0x40) &&
		   qts_readb(q, MMIO) == mac[0], "MMIO BAR differs");
	test_check("rtl8139/mii-link-up", (r16(0x64) & 0x04) && !(r8(0x58) & 0x04),
		   "BMSR %#x MSR %#x", r16(0x64), r8(0x58));

	test_check("rtl8139/eeprom-id-0x8129", ee_read(0, 6) == 0x8129,
		   "word 0 %#x", ee_read(0, 6));
	test_check("rtl8139/eeprom-8-bit-probe-fails", ee_read(0, 8) != 0x8129,
		   "a 93C46 answered an 8-bit address");
	unsigned m0 = ee_read(7, 6), m1 = ee_read(8, 6), m2 = ee_read(9, 6);
	test_check("rtl8139/eeprom-mac", m0 == (unsigned)(mac[0] | mac[1] << 8) &&
		   m1 == (unsigned)(mac[2] | mac[3] << 8) &&
		   m2 == (unsigned)(mac[4] | mac[5] << 8), "%#x %#x %#x", m0, m1, m2);
	/* EWEN, WRITE 0x30 <- 0xbeef, EWDS; WRITE without EWEN is ignored. */
	w8(0x50, 0x80);
	ee_bits(0x130, 9);              /* 1 00 11xxxx */
	ee_bits((0x140 | 0x30) << 16 | 0xbeef, 25);
	ee_bits(0x100, 9);              /* EWDS */
	ee_bits((0x140 | 0x31) << 16 | 0x1234, 25);
	test_check("rtl8139/eeprom-write", ee_read(0x30, 6) == 0xbeef &&
		   ee_read(0x31, 6) == 0, "%#x %#x", ee_read(0x30, 6),
		   ee_read(0x31, 6));
}

static void test_timer(void)
{
	uint32_t a, b;

	w16(0x3c, 0x4000);
	w32(0x54, 0);
	w16(0x3e, 0xffff);
	w32(0x48, 0);
	a = r32(0x48);
	qts_clock_step(q, 1000000000);
	b = r32(0x48);
	test_check("rtl8139/tctr-33mhz", b - a > 33000000 && b - a < 33700000,
		   "%u ticks in 1 s", b - a);
	test_check("rtl8139/timerint-0-no-irq", !(r16(0x3e) & 0x4000), "ISR %#x",
		   r16(0x3e));
	w32(0x54, r32(0x48) + 3333333);         /* 0.1 s ahead */
	qts_clock_step(q, 50000000);
	bool early = r16(0x3e) & 0x4000;
	qts_clock_step(q, 60000000);
	test_check("rtl8139/timerint-timeout", !early && (r16(0x3e) & 0x4000) &&
		   qts_get_irq(q, IRQ), "early %d ISR %#x", early, r16(0x3e));
	w16(0x3e, 0x4000);
	test_check("rtl8139/timeout-ack", !(r16(0x3e) & 0x4000) &&
		   !qts_get_irq(q, IRQ), "still set");
	w32(0x54, 0);
	w16(0x3c, 0);
}

static bool wait_isr(uint16_t bit, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (r16(0x3e) & bit)
			return true;
		usleep(1000);
	}
	return false;
}

static void rx_setup(uint32_t rcr)
{
	w8(0x37, 0x10);
	w32(0x30, RXRING);
	w32(0x44, rcr);                 /* 8 KiB ring */
	w8(0x37, 0x0c);
	w16(0x3c, 0xffff);
	w16(0x3e, 0xffff);
}

/* Take the record at ring offset off; returns the frame length (with
 * CRC) and checks the CRC, or -1. */
static long ring_take(uint32_t off, uint8_t *buf, uint16_t *status)
{
	uint8_t h[4];
	size_t len;

	qts_memread(q, RXRING + off, h, 4);
	*status = (uint16_t)(h[0] | h[1] << 8);
	len = (size_t)(h[2] | h[3] << 8);
	if (len < 8 || len > 1600)
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = qts_readb(q, RXRING + ((off + 4 + i) % 8192));
	uint32_t c = fcs(buf, len - 4);
	if (memcmp(&c, buf + len - 4, 4))
		return -2;
	return (long)len;
}

static void test_normal(void)
{
	uint8_t f[1600], g[1700];
	uint16_t st;
	long n;

	rx_setup(0x0a);                 /* APM, AB */
	wire_frame(f, 200, peer, mac, 1);
	qts_memwrite(q, TXBUF, f, 200);
	w32(0x20, TXBUF);
	w32(0x10, 200);
	n = wire_recv(&w, g, sizeof(g), 10000);
	test_check("rtl8139/tx-frame-on-wire", n == 200 && !memcmp(f, g, 200),
		   "got %ld", n);
	test_check("rtl8139/tx-tsd-own-tok", (r32(0x10) & 0xa000) == 0xa000 &&
		   (r16(0x3e) & 0x04) && qts_get_irq(q, IRQ), "TSD %#x ISR %#x",
		   r32(0x10), r16(0x3e));
	test_check("rtl8139/tsad-summary", (r16(0x60) & 0x1001) == 0x1001,
		   "TSAD %#x", r16(0x60));
	/* Descriptors in turn. */
	wire_frame(f, 100, peer, mac, 2);
	qts_memwrite(q, TXBUF + 0x1000, f, 100);
	w32(0x24, TXBUF + 0x1000);
	w32(0x14, 100);
	n = wire_recv(&w, g, sizeof(g), 10000);
	test_check("rtl8139/tx-second-descriptor", n == 100 && g[14] == f[14],
		   "got %ld", n);
	w16(0x3e, 0xffff);

	test_check("rtl8139/rx-empty-bufe", r8(0x37) & 0x01, "CR %#x", r8(0x37));
	wire_frame(f, 300, mac, peer, 3);
	wire_send(&w, f, 300);
	bool got = wait_isr(0x01, 5000);
	n = ring_take(0, g, &st);
	test_check("rtl8139/rx-record", got && n == 304 && st == 0x4001 &&
		   !memcmp(f, g, 300) && qts_get_irq(q, IRQ),
		   "len %ld status %#x", n, st);
	test_check("rtl8139/rx-cbr-aligned", r16(0x3a) == ((4 + 304 + 3) & ~3) &&
		   !(r8(0x37) & 0x01), "CBR %#x", r16(0x3a));
	w16(0x38, (uint16_t)(r16(0x3a) - 16));
	w16(0x3e, 0x01);
	test_check("rtl8139/rx-capr-empties", r8(0x37) & 0x01, "CR %#x", r8(0x37));

	/* Filters: a stranger's unicast no, broadcast yes, multicast by hash. */
	uint8_t g1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x07 }, g2[6];
	unsigned h1 = crc_msb_first(g1, 6) >> 26, h2;
	memcpy(g2, g1, 6);
	do {
		g2[5]++;
		h2 = crc_msb_first(g2, 6) >> 26;
	} while (h2 == h1);
	for (int i = 0; i < 8; i++)
		w8(0x08 + i, i == (int)(h1 >> 3) ? (uint8_t)(1 << (h1 & 7)) : 0);
	w32(0x44, 0x0e);
	uint32_t at = r16(0x3a);
	wire_frame(f, 64, peer, peer, 4);
	wire_send(&w, f, 64);
	wire_frame(f, 65, g2, peer, 5);
	wire_send(&w, f, 65);
	wire_frame(f, 66, g1, peer, 6);
	wire_send(&w, f, 66);
	wait_isr(0x01, 5000);
	n = ring_take(0, g, &st);
	test_check("rtl8139/filter-multicast-hash", n == 70 && st == 0x8001 &&
		   !memcmp(g, g1, 6), "len %ld status %#x (ring reset at %u)",
		   n, st, at);
	w16(0x38, (uint16_t)(r16(0x3a) - 16));
	w16(0x3e, 0x01);
}

static void test_wrap(void)
{
	uint8_t f[1600], g[1700];
	uint16_t st;
	uint32_t rd = 0, full;
	long n;
	bool ok = true;

	rx_setup(0x0a);
	/* Seven 1400-byte frames (1408-byte records) for an 8 KiB ring:
	 * five fit, the rest wait for CAPR; the sixth wraps. */
	for (int i = 0; i < 7; i++) {
		wire_frame(f, 1400, mac, peer, (uint8_t)(10 + i));
		wire_send(&w, f, 1400);
	}
	usleep(300000);
	full = r16(0x3a);
	for (int i = 0; i < 7 && ok; i++) {
		for (int t = 0; t < 5000 && (r8(0x37) & 0x01); t++)
			usleep(1000);
		n = ring_take(rd, g, &st);
		wire_frame(f, 1400, mac, peer, (uint8_t)(10 + i));
		ok = n == 1404 && !memcmp(f, g, 1400);
		if (!ok)
			printf("# record %d at %u: len %ld\n", i, rd, n);
		rd = (rd + 1408) % 8192;
		w16(0x38, (uint16_t)((rd - 16) & 0xffff));
	}
	test_check("rtl8139/rx-ring-full-waits", full == 5 * 1408, "CBR %#x",
		   full);
	test_check("rtl8139/rx-ring-wrap", ok && rd == 7 * 1408 % 8192,
		   "ring data or order wrong");
	w16(0x3e, 0xffff);
}

static void test_loopback(void)
{
	uint8_t f[200], g[300];
	uint16_t st;
	long n;

	rx_setup(0x0a);
	w32(0x40, 3u << 17);
	wire_frame(f, 150, mac, mac, 20);
	qts_memwrite(q, TXBUF, f, 150);
	w32(0x20, TXBUF);
	w32(0x10, 150);
	bool got = wait_isr(0x01, 5000);
	n = ring_take(0, g, &st);
	test_check("rtl8139/loopback-into-ring", got && n == 154 &&
		   !memcmp(f, g, 150), "len %ld", n);
	test_check("rtl8139/loopback-not-on-wire", wire_quiet(&w, 200),
		   "frame left");
	w32(0x40, 0);
}

static void cp_setup(void)
{
	w8(0x37, 0x10);
	w16(0xe0, 0x0003);
	w32(0x20, CPTX);
	w32(0x24, 0);
	w32(0xe4, CPRX);
	w32(0xe8, 0);
	w32(0x44, 0x0a);
	w8(0x37, 0x0c);
	w16(0x3c, 0xffff);
	w16(0x3e, 0xffff);
}

static void cp_txd(unsigned i, uint32_t dw0, uint32_t dw1, uint64_t addr)
{
	qts_writel(q, CPTX + i * 16, dw0);
	qts_writel(q, CPTX + i * 16 + 4, dw1);
	qts_writeq(q, CPTX + i * 16 + 8, addr);
}

static void test_cplus(void)
{
	uint8_t f[4000], g[4000], h[2000];
	long n;

	cp_setup();
	/* Two fragments, one frame. */
	wire_frame(f, 300, peer, mac, 30);
	qts_memwrite(q, CPBUF, f, 100);
	qts_memwrite(q, CPBUF + 0x1000, f + 100, 200);
	cp_txd(0, 0x80000000u | 1u << 29 | 100, 0, CPBUF);
	cp_txd(1, 0x80000000u | 1u << 28 | 200, 0, CPBUF + 0x1000);
	w8(0xd9, 0x40);
	n = wire_recv(&w, g, sizeof(g), 10000);
	test_check("rtl8139/cplus-tx-gather", n == 300 && !memcmp(f, g, 300),
		   "got %ld", n);
	test_check("rtl8139/cplus-tx-own-cleared",
		   !(qts_readl(q, CPTX) & 0x80000000u) &&
		   !(qts_readl(q, CPTX + 16) & 0x80000000u) && (r16(0x3e) & 0x04),
		   "descriptors still owned");

	/* Checksum offload. */
	size_t len = tcp_frame(f, 500, 0x18);
	qts_memwrite(q, CPBUF, f, len);
	cp_txd(2, 0x80000000u | 3u << 28 | 1u << 18 | 1u << 16 | (uint32_t)len,
	       0, CPBUF);
	w8(0xd9, 0x40);
	n = wire_recv(&w, g, sizeof(g), 10000);
	test_check("rtl8139/cplus-tx-checksums", n == (long)len &&
		   tcp_sums_ok(g, (size_t)n) && !memcmp(g + 54, f + 54, 500),
		   "len %ld", n);

	/* TCP segmentation: 1000 bytes at MSS 300 -> 300, 300, 300, 100. */
	len = tcp_frame(f, 1000, 0x19);         /* FIN PSH ACK */
	qts_memwrite(q, CPBUF, f, len);
	cp_txd(3, 0x80000000u | 3u << 28 | 1u << 27 | 300u << 16 | (uint32_t)len,
	       0, CPBUF);
	w8(0xd9, 0x40);
	bool ok = true;
	uint32_t seq0 = 0x01020304;
	for (int i = 0; i < 4; i++) {
		size_t want = i < 3 ? 300 : 100;

		n = wire_recv(&w, g, sizeof(g), 10000);
		uint32_t seq = (uint32_t)g[38] << 24 | g[39] << 16 | g[40] << 8 | g[41];
		bool last = i == 3;
		ok = ok && n == (long)(54 + want) && tcp_sums_ok(g, (size_t)n) &&
		     seq == seq0 + (uint32_t)i * 300 &&
		     !memcmp(g + 54, f + 54 + i * 300, want) &&
		     ((g[47] & 0x09) != 0) == last &&
		     (g[18] << 8 | g[19]) == 0x1234 + i;
		if (!ok) {
			printf("# segment %d: len %ld seq %#x flags %#x\n", i, n,
			       seq, g[47]);
			break;
		}
	}
	test_check("rtl8139/cplus-tso-segments", ok && wire_quiet(&w, 200),
		   "segments wrong");

	/* CVE-2015-5165: headers whose lengths lie go out untouched. */
	len = tcp_frame(f, 100, 0x10);
	f[14] = 0x4f;                           /* IHL 60 > total length */
	f[16] = 0; f[17] = 30;
	qts_memwrite(q, CPBUF, f, len);
	cp_txd(4, 0x80000000u | 3u << 28 | 1u << 27 | 40u << 16 | (uint32_t)len,
	       0, CPBUF);
	w8(0xd9, 0x40);
	n = wire_recv(&w, g, sizeof(g), 10000);
	ok = n == (long)len && !memcmp(f, g, len);
	f[14] = 0x45;
	f[16] = 0x0f; f[17] = 0xff;             /* total length past the frame */
	qts_memwrite(q, CPBUF, f, len);
	cp_txd(5, 0x80000000u | 3u << 28 | 1u << 18 | 1u << 16 | (uint32_t)len,
	       0, CPBUF);
	w8(0xd9, 0x40);
	n = wire_recv(&w, g, sizeof(g), 10000);
	ok = ok && n == (long)len && !memcmp(f, g, len);
	f[16] = 0; f[17] = 60;
	f[46] = 0xf0;                           /* TCP offset 60 > segment */
	qts_memwrite(q, CPBUF, f, len);
	cp_txd(6, 0x80000000u | 3u << 28 | 1u << 27 | 40u << 16 | (uint32_t)len,
	       0, CPBUF);
	w8(0xd9, 0x40);
	n = wire_recv(&w, g, sizeof(g), 10000);
	ok = ok && n == (long)len && !memcmp(f, g, len);
	test_check("rtl8139/cve-2015-5165-offload-header-lengths", ok,
		   "a frame with bad header lengths was altered");

	/* CVE-2016-8910: every descriptor owned, none the last fragment. */
	for (unsigned i = 0; i < 64; i++)
		cp_txd(i, 0x80000000u | (i == 63 ? 1u << 30 : 0) | 64, 0, CPBUF);
	w8(0xd9, 0x40);
	test_check("rtl8139/cve-2016-8910-ring-walk-bounded",
		   r32(0x40) != 0xffffffff && wire_quiet(&w, 200),
		   "no answer or a frame sent");

	/* C+ receive. */
	cp_setup();
	for (unsigned i = 0; i < 4; i++) {
		qts_writel(q, CPRX + i * 16, 0x80000000u | (i == 3 ? 1u << 30 : 0) |
			   (i == 1 ? 100 : 1536));
		qts_writel(q, CPRX + i * 16 + 4, 0);
		qts_writeq(q, CPRX + i * 16 + 8, CPBUF + 0x10000 + i * 0x800);
	}
	wire_frame(f, 400, mac, peer, 31);
	wire_send(&w, f, 400);
	bool got = wait_isr(0x01, 5000);
	uint32_t d0 = qts_readl(q, CPRX);
	qts_memread(q, CPBUF + 0x10000, h, 404);
	uint32_t c = fcs(f, 400);
	test_check("rtl8139/cplus-rx-descriptor", got && !(d0 & 0x80000000u) &&
		   (d0 & 0x1fff) == 404 && (d0 & 0x30000000u) == 0x30000000u &&
		   !memcmp(h, f, 400) && !memcmp(h + 400, &c, 4),
		   "dw0 %#x", d0);
	w16(0x3e, 0xffff);
	wire_send(&w, f, 400);                  /* descriptor 1: 100 bytes */
	got = wait_isr(0x02, 5000);
	d0 = qts_readl(q, CPRX + 16);
	test_check("rtl8139/cplus-rx-too-big-for-buffer", got &&
		   !(d0 & 0x80000000u), "dw0 %#x", d0);
	w16(0x3e, 0xffff);
	wire_send(&w, f, 400);                  /* 2 */
	wait_isr(0x01, 5000);
	w16(0x3e, 0xffff);
	wire_send(&w, f, 400);                  /* 3, with EOR */
	wait_isr(0x01, 5000);
	w16(0x3e, 0xffff);
	wire_frame(f, 200, mac, peer, 32);
	wire_send(&w, f, 200);                  /* 0 again: not owned yet */
	bool early = wait_isr(0x01, 300);
	qts_writel(q, CPRX, 0x80000000u | 1536);
	w8(0x37, 0x0c);                         /* nudge: the card has room */
	got = wait_isr(0x01, 5000);
	qts_memread(q, CPBUF + 0x10000, h, 200);
	test_check("rtl8139/cplus-rx-ring-wraps-and-waits", !early && got &&
		   !memcmp(h, f, 200), "early %d got %d", early, got);
}

static void test_cves_rx(void)
{
	uint8_t f[9000];

	/* CVE-2018-17958: a frame larger than the whole ring. */
	w8(0x37, 0x10);
	rx_setup(0x0a);
	wire_frame(f, sizeof(f), mac, peer, 40);
	wire_send(&w, f, sizeof(f));
	wire_frame(f, 100, mac, peer, 41);
	wire_send(&w, f, 100);
	bool got = wait_isr(0x01, 5000);
	uint8_t g[200];
	uint16_t st;
	long n = ring_take(0, g, &st);
	test_check("rtl8139/cve-2018-17958-oversize-dropped", got && n == 104 &&
		   r32(0x4c) >= 1, "len %ld MPC %u", n, r32(0x4c));
	/* Normal-mode transmit of more than the chip's maximum. */
	w16(0x3e, 0xffff);
	w32(0x20, TXBUF);
	w32(0x10, 0x1fff);
	test_check("rtl8139/tx-oversize-aborts", (r16(0x3e) & 0x08) &&
		   wire_quiet(&w, 200), "ISR %#x", r16(0x3e));
}

int main(void)
{
	char *args;

	if (wire_listen(&w) < 0) {
		test_fail("rtl8139/wire", "cannot listen on 127.0.0.1");
		return 1;
	}
	args = g_strdup_printf("-netdev socket,id=n0,connect=127.0.0.1:%d "
			       "-device rtl8139,netdev=n0,addr=4,"
			       "mac=00:16:3e:12:34:56", w.port);
	q = qts_start(args);
	if (!q || wire_accept(&w) < 0) {
		test_fail("rtl8139/start", "qemu-dm did not start or connect");
		return 1;
	}
	test_basics();
	test_timer();
	test_normal();
	test_wrap();
	test_loopback();
	test_cplus();
	test_cves_rx();
	test_check("rtl8139/survives", qts_quit(q) == 0, "qemu-dm exit status");
	g_free(args);

	/* cplus=off: an RTL8139C, for Linux's 8139too. */
	q = qts_start("-device rtl8139,addr=4,cplus=off");
	if (q) {
		qts_pci_write(q, DEVFN, 0x10, IOB, 4);
		qts_pci_write(q, DEVFN, 0x04, 0x05, 2);
		w16(0xe0, 0x0003);
		test_check("rtl8139/cplus-off-is-8139c",
			   qts_pci_read(q, DEVFN, 8, 1) == 0x10 &&
			   (r32(0x40) & 0x7c800000) == 0x74000000 &&
			   r16(0xe0) == 0, "rev %#x TCR %#x CpCmd %#x",
			   qts_pci_read(q, DEVFN, 8, 1), r32(0x40), r16(0xe0));
		qts_quit(q);
	} else {
		test_fail("rtl8139/cplus-off-is-8139c", "qemu-dm did not start");
	}
	return test_exit();
}
