/*
 * PCnet-PCI II over qtest with a socket back end the test holds: PCI
 * identity, the address PROM, word and dword I/O modes, the chip ID in
 * CSR88/89, initialisation blocks in the 16-bit (SWSTYLE 0) and 32-bit
 * (2, 3) layouts, transmit of single and chained descriptors, receive
 * spread over several descriptors with the FCS, ring wrap and a frame
 * waiting while no descriptor is free, the logical address filter,
 * loopback, and the CVE replays: chained transmit past the 4 KiB buffer
 * (CVE-2015-3209), loopback of a maximal frame and its FCS
 * (CVE-2015-7504), back-end frames over 4 KiB (CVE-2015-7512,
 * CVE-2018-17962), ring lengths of 0 in CSR76/78 (CVE-2016-7909).
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
#define IBLK 0x100000
#define RXR 0x101000
#define TXR 0x102000
#define RXB 0x200000
#define TXB 0x300000

static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
static const uint8_t peer[6] = { 0x00, 0x16, 0x3e, 0x65, 0x43, 0x21 };

static struct qts *q;
static struct wire w;
static bool dw;                 /* dword I/O mode */
static unsigned style = 2;

static void rap(unsigned r)
{
	if (dw)
		qts_outl(q, IOB + 0x14, r);
	else
		qts_outw(q, IOB + 0x12, (uint16_t)r);
}

static void csr_w(unsigned r, uint16_t v)
{
	rap(r);
	if (dw)
		qts_outl(q, IOB + 0x10, v);
	else
		qts_outw(q, IOB + 0x10, v);
}

static uint16_t csr_r(unsigned r)
{
	rap(r);
	return dw ? (uint16_t)qts_inl(q, IOB + 0x10) : qts_inw(q, IOB + 0x10);
}

static void bcr_w(unsigned r, uint16_t v)
{
	rap(r);
	if (dw)
		qts_outl(q, IOB + 0x1c, v);
	else
		qts_outw(q, IOB + 0x16, v);
}

static uint16_t bcr_r(unsigned r)
{
	rap(r);
	return dw ? (uint16_t)qts_inl(q, IOB + 0x1c) : qts_inw(q, IOB + 0x16);
}

static void chip_reset(void)
{
	if (dw)
		qts_inl(q, IOB + 0x18);
	else
		qts_inw(q, IOB + 0x14);
}

/* Descriptor i of a ring at base in the current style. */
static void desc_set(uint64_t base, unsigned i, uint32_t addr, uint32_t flags,
		     uint32_t misc)
{
	if (style == 0) {
		uint64_t a = base + i * 8;

		qts_writew(q, a, (uint16_t)addr);
		qts_writew(q, a + 2, (uint16_t)((flags >> 16 & 0xff00) |
						(addr >> 16 & 0xff)));
		qts_writew(q, a + 4, (uint16_t)flags);
		qts_writew(q, a + 6, (uint16_t)misc);
	} else {
		uint64_t a = base + i * 16;

		qts_writel(q, a + (style == 3 ? 8 : 0), addr);
		qts_writel(q, a + 4, flags);
		qts_writel(q, a + (style == 3 ? 0 : 8), misc);
		qts_writel(q, a + 12, 0);
	}
}

static void desc_get(uint64_t base, unsigned i, uint32_t *flags, uint32_t *misc)
{
	if (style == 0) {
		uint64_t a = base + i * 8;

		*flags = (uint32_t)(qts_readw(q, a + 2) & 0xff00) << 16 |
			 qts_readw(q, a + 4);
		*misc = qts_readw(q, a + 6);
	} else {
		uint64_t a = base + i * 16;

		*flags = qts_readl(q, a + 4);
		*misc = qts_readl(q, a + (style == 3 ? 0 : 8));
	}
}

#define OWN (1u << 31)
#define STP (1u << 25)
#define ENP (1u << 24)
static uint32_t bcnt(unsigned n) { return (uint32_t)(-(int)n) & 0xfff; }

/* Init block, rings of 2^rl receive and 2^tl transmit descriptors with
 * rbuf-byte receive buffers; mode as CSR15; started. */
static void setup(unsigned rl, unsigned tl, unsigned rbuf, uint16_t mode,
		  const uint16_t *ladrf)
{
	chip_reset();
	bcr_w(20, (uint16_t)style);
	if (style == 0) {
		uint16_t b[12] = { mode };

		for (int i = 0; i < 3; i++)
			b[1 + i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
		for (int i = 0; i < 4; i++)
			b[4 + i] = ladrf ? ladrf[i] : 0;
		b[8] = (uint16_t)RXR;
		b[9] = (uint16_t)((RXR >> 16) | rl << 13);
		b[10] = (uint16_t)TXR;
		b[11] = (uint16_t)((TXR >> 16) | tl << 13);
		qts_memwrite(q, IBLK, b, sizeof(b));
	} else {
		uint32_t b[7];

		b[0] = mode | rl << 20 | tl << 28;
		b[1] = (uint32_t)(mac[0] | mac[1] << 8 | mac[2] << 16 |
				  (uint32_t)mac[3] << 24);
		b[2] = (uint32_t)(mac[4] | mac[5] << 8);
		b[3] = ladrf ? (uint32_t)(ladrf[0] | ladrf[1] << 16) : 0;
		b[4] = ladrf ? (uint32_t)(ladrf[2] | ladrf[3] << 16) : 0;
		b[5] = RXR;
		b[6] = TXR;
		qts_memwrite(q, IBLK, b, sizeof(b));
	}
	for (unsigned i = 0; i < (1u << rl); i++)
		desc_set(RXR, i, RXB + i * 0x1000, OWN | 0xf000 | bcnt(rbuf), 0);
	for (unsigned i = 0; i < (1u << tl); i++)
		desc_set(TXR, i, TXB + i * 0x1000, 0, 0);
	csr_w(1, (uint16_t)IBLK);
	csr_w(2, (uint16_t)(IBLK >> 16));
	csr_w(4, 0x0915);
	csr_w(0, 0x0001);
	csr_w(0, 0x0142);               /* ack IDON, STRT, IENA */
}

static bool wait_csr0(uint16_t bit, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (csr_r(0) & bit)
			return true;
		usleep(1000);
	}
	return false;
}

static void tx(unsigned i, const uint8_t *f, size_t len, uint32_t extra)
{
	qts_memwrite(q, TXB + i * 0x1000, f, len);
	desc_set(TXR, i, TXB + i * 0x1000, OWN | 0xf000 | bcnt((unsigned)len) |
		 extra, 0);
}

static void test_basics(void)
{
	uint8_t prom[16];

	test_check("pcnet/pci-id", qts_pci_read(q, DEVFN, 0, 4) == 0x20001022,
		   "ID %#x", qts_pci_read(q, DEVFN, 0, 4));
	qts_pci_write(q, DEVFN, 0x10, IOB, 4);
	qts_pci_write(q, DEVFN, 0x04, 0x05, 2);
	for (unsigned r = 0x60; r < 0x64; r++)
		qts_pci_write(q, 1 << 3, r, IRQ, 1);
	qts_irq_intercept(q);
	for (int i = 0; i < 16; i++)
		prom[i] = qts_inb(q, (uint16_t)(IOB + i));
	test_check("pcnet/aprom", !memcmp(prom, mac, 6) && prom[14] == 0x57 &&
		   prom[15] == 0x57, "PROM %02x:%02x", prom[0], prom[5]);
	chip_reset();
	test_check("pcnet/reset-stopped", csr_r(0) == 0x0004, "CSR0 %#x", csr_r(0));
	rap(88);
	test_check("pcnet/chip-id-79c970a", csr_r(88) == 0x1003 &&
		   csr_r(89) == 0x0262, "CSR88 %#x CSR89 %#x", csr_r(88),
		   csr_r(89));
	test_check("pcnet/csr12-mac-after-reset", csr_r(12) == (mac[0] | mac[1] << 8),
		   "CSR12 %#x", csr_r(12));
	rap(88);
	test_check("pcnet/word-rap", qts_inw(q, IOB + 0x12) == 88, "RAP");
	test_check("pcnet/bcr4-link-up", bcr_r(4) != 0xc0, "BCR4 %#x", bcr_r(4));
}

static void test_style(unsigned st)
{
	uint8_t f[1600], g[1700];
	uint32_t fl, misc;
	long n;
	char name[64];

	style = st;
	setup(2, 2, 1536, 0, NULL);
	snprintf(name, sizeof(name), "pcnet/style%u-init-idon", st);
	test_check(name, (csr_r(0) & 0x0036) == 0x0032 && csr_r(76) == 4 &&
		   csr_r(78) == 4, "CSR0 %#x CSR76 %u", csr_r(0), csr_r(76));

	wire_frame(f, 120, peer, mac, (uint8_t)st);
	tx(0, f, 120, STP | ENP);
	csr_w(0, 0x0048);
	n = wire_recv(&w, g, sizeof(g), 10000);
	desc_get(TXR, 0, &fl, &misc);
	snprintf(name, sizeof(name), "pcnet/style%u-tx", st);
	test_check(name, n == 120 && !memcmp(f, g, 120) && !(fl & OWN) &&
		   (csr_r(0) & 0x0280) == 0x0280 && qts_get_irq(q, IRQ),
		   "len %ld flags %#x CSR0 %#x", n, fl, csr_r(0));
	csr_w(0, 0x0240);
	snprintf(name, sizeof(name), "pcnet/style%u-tint-ack", st);
	test_check(name, !qts_get_irq(q, IRQ), "IRQ still high");

	wire_frame(f, 700, mac, peer, (uint8_t)(st + 1));
	wire_send(&w, f, 700);
	bool got = wait_csr0(0x0400, 5000);
	desc_get(RXR, 0, &fl, &misc);
	qts_memread(q, RXB, g, 704);
	uint32_t fcs = 0xffffffff;
	for (int i = 0; i < 700; i++) {
		fcs ^= f[i];
		for (int b = 0; b < 8; b++)
			fcs = (fcs & 1) ? (fcs >> 1) ^ 0xedb88320 : fcs >> 1;
	}
	fcs = ~fcs;
	snprintf(name, sizeof(name), "pcnet/style%u-rx", st);
	test_check(name, got && !(fl & OWN) && (fl & (STP | ENP)) == (STP | ENP) &&
		   (misc & 0xfff) == 704 && !memcmp(g, f, 700) &&
		   !memcmp(g + 700, &fcs, 4), "flags %#x mcnt %u", fl, misc & 0xfff);
	csr_w(0, 0x0440);
}

static void test_chains(void)
{
	uint8_t f[2000], g[2100];
	uint32_t fl, misc;
	long n;

	style = 2;
	setup(2, 2, 512, 0, NULL);
	/* One frame over three transmit descriptors. */
	wire_frame(f, 1000, peer, mac, 7);
	tx(0, f, 300, STP);
	tx(1, f + 300, 300, 0);
	tx(2, f + 600, 400, ENP);
	csr_w(0, 0x0048);
	n = wire_recv(&w, g, sizeof(g), 10000);
	test_check("pcnet/tx-chained", n == 1000 && !memcmp(f, g, 1000),
		   "len %ld", n);

	/* One 1300-byte frame over three 512-byte receive buffers. */
	wire_frame(f, 1300, mac, peer, 8);
	wire_send(&w, f, 1300);
	bool got = wait_csr0(0x0400, 5000);
	bool ok = got;
	for (int i = 0; i < 3; i++) {
		desc_get(RXR, (unsigned)i, &fl, &misc);
		ok = ok && !(fl & OWN) && (!!(fl & STP)) == (i == 0) &&
		     (!!(fl & ENP)) == (i == 2);
		qts_memread(q, RXB + i * 0x1000, g + i * 512, 512);
	}
	test_check("pcnet/rx-chained", ok && (misc & 0xfff) == 1304 &&
		   !memcmp(f, g, 1300), "mcnt %u", misc & 0xfff);
	csr_w(0, 0x0440);

	/* Ring of 4: one descriptor left; a 700-byte frame needs two and
	 * waits until the driver gives back the first three. */
	wire_frame(f, 700, mac, peer, 9);
	wire_send(&w, f, 700);
	bool early = wait_csr0(0x0400, 300);
	for (unsigned i = 0; i < 3; i++)
		desc_set(RXR, i, RXB + i * 0x1000, OWN | 0xf000 | bcnt(512), 0);
	qts_clock_step(q, 2000000);     /* the chip polls its ring */
	got = wait_csr0(0x0400, 5000);
	desc_get(RXR, 3, &fl, &misc);
	uint32_t fl0, m0;
	desc_get(RXR, 0, &fl0, &m0);
	qts_memread(q, RXB + 3 * 0x1000, g, 512);
	qts_memread(q, RXB, g + 512, 192);
	test_check("pcnet/rx-waits-then-wraps", !early && got && (fl & STP) &&
		   (fl0 & ENP) && (m0 & 0xfff) == 704 && !memcmp(f, g, 700),
		   "early %d got %d", early, got);
	csr_w(0, 0x0440);
}

static void test_filter_loopback(void)
{
	uint8_t f[200], g[300], grp[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x09 };
	uint16_t ladrf[4] = { 0 };
	uint32_t fl, misc, crc = 0xffffffff;

	for (int i = 0; i < 6; i++) {
		crc ^= grp[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320 : crc >> 1;
	}
	unsigned idx = crc >> 26;
	ladrf[idx >> 4] = (uint16_t)(1u << (idx & 15));
	style = 2;
	setup(2, 2, 1536, 0, ladrf);
	uint8_t other[6];
	memcpy(other, grp, 6);
	other[5] ^= 0x40;
	wire_frame(f, 80, other, peer, 10);     /* not in the filter (likely) */
	wire_send(&w, f, 80);
	wire_frame(f, 81, peer, peer, 11);      /* someone else's */
	wire_send(&w, f, 81);
	wire_frame(f, 82, grp, peer, 12);
	wire_send(&w, f, 82);
	wait_csr0(0x0400, 5000);
	desc_get(RXR, 0, &fl, &misc);
	uint32_t fl1, m1;
	desc_get(RXR, 1, &fl1, &m1);
	bool other_in = false;
	{
		uint32_t c2 = 0xffffffff;
		for (int i = 0; i < 6; i++) {
			c2 ^= other[i];
			for (int b = 0; b < 8; b++)
				c2 = (c2 & 1) ? (c2 >> 1) ^ 0xedb88320 : c2 >> 1;
		}
		other_in = (c2 >> 26) == idx;
	}
	test_check("pcnet/ladrf-filter", other_in || ((misc & 0xfff) == 86 &&
		   (fl & (1u << 21)) && (fl1 & OWN)), "mcnt %u flags %#x",
		   misc & 0xfff, fl);
	csr_w(0, 0x0440);

	setup(2, 2, 1536, 0x0044, NULL);        /* LOOP | INTL */
	wire_frame(f, 150, mac, mac, 13);
	tx(0, f, 150, STP | ENP);
	csr_w(0, 0x0048);
	bool got = wait_csr0(0x0400, 5000);
	qts_memread(q, RXB, g, 150);
	desc_get(RXR, 0, &fl, &misc);
	test_check("pcnet/loopback", got && (misc & 0xfff) == 154 &&
		   !memcmp(f, g, 150) && wire_quiet(&w, 200), "mcnt %u",
		   misc & 0xfff);
}

static void test_cves(void)
{
	static uint8_t f[9000];
	uint32_t fl, misc;

	/* CVE-2015-3209: STP..ENP over 3 x 2000 bytes > 4 KiB buffer. */
	style = 2;
	setup(2, 2, 1536, 0, NULL);
	wire_frame(f, 6000, peer, mac, 20);
	tx(0, f, 2000, STP);
	tx(1, f + 2000, 2000, 0);
	tx(2, f + 4000, 2000, ENP);
	csr_w(0, 0x0048);
	desc_get(TXR, 2, &fl, &misc);
	test_check("pcnet/cve-2015-3209-tx-chain-overrun", (fl & (1u << 30)) &&
		   !(fl & OWN) && wire_quiet(&w, 300), "flags %#x", fl);

	/* CVE-2015-7504: loopback of a frame at the buffer's limit. */
	setup(2, 2, 4095, 0x0044, NULL);
	wire_frame(f, 4092, mac, mac, 21);
	tx(0, f, 2046, STP);
	tx(1, f + 2046, 2046, ENP);
	csr_w(0, 0x0048);
	bool got = wait_csr0(0x0400, 3000);
	desc_get(RXR, 0, &fl, &misc);
	uint32_t fl1, m1;
	desc_get(RXR, 1, &fl1, &m1);
	test_check("pcnet/cve-2015-7504-loopback-fcs", got && (fl & STP) &&
		   (fl1 & ENP) && !(fl1 & (1u << 30)), "got %d flags %#x %#x",
		   got, fl, fl1);

	/* CVE-2015-7512 / CVE-2018-17962: back-end frames over 4 KiB. */
	setup(2, 2, 1536, 0, NULL);
	wire_frame(f, sizeof(f), mac, peer, 22);
	wire_send(&w, f, sizeof(f));
	wire_frame(f, 4093, mac, peer, 23);
	wire_send(&w, f, 4093);
	wire_frame(f, 100, mac, peer, 24);
	wire_send(&w, f, 100);
	got = wait_csr0(0x0400, 5000);
	desc_get(RXR, 0, &fl, &misc);
	test_check("pcnet/cve-2015-7512-oversize-dropped", got &&
		   (misc & 0xfff) == 104 && (csr_r(0) & 0x1000),
		   "mcnt %u CSR0 %#x", misc & 0xfff, csr_r(0));

	/* CVE-2016-7909: ring lengths of 0 written while stopped. */
	csr_w(0, 0x0004);
	csr_w(76, 0);
	csr_w(78, 0);
	test_check("pcnet/cve-2016-7909-zero-ring-length",
		   csr_r(76) != 0 && csr_r(78) != 0, "CSR76 %u", csr_r(76));
	csr_w(0, 0x0002);
	wire_frame(f, 100, mac, peer, 25);
	wire_send(&w, f, 100);
	csr_w(0, 0x0008);
	usleep(100000);
	test_check("pcnet/cve-2016-7909-still-answers", csr_r(88) == 0x1003,
		   "no answer");
}

int main(void)
{
	char *args;

	if (wire_listen(&w) < 0) {
		test_fail("pcnet/wire", "cannot listen on 127.0.0.1");
		return 1;
	}
	args = g_strdup_printf("-netdev socket,id=n0,connect=127.0.0.1:%d "
			       "-device pcnet,netdev=n0,addr=4,"
			       "mac=00:16:3e:12:34:56", w.port);
	q = qts_start(args);
	if (!q || wire_accept(&w) < 0) {
		test_fail("pcnet/start", "qemu-dm did not start or connect");
		return 1;
	}
	test_basics();
	test_style(0);
	test_style(2);
	test_style(3);
	/* Dword I/O: a 32-bit write to RDP switches for good. */
	qts_outl(q, IOB + 0x10, 0);
	dw = true;
	rap(88);
	test_check("pcnet/dword-mode", csr_r(88) == 0x1003 &&
		   qts_inl(q, IOB + 0x14) == 88, "CSR88 %#x", csr_r(88));
	test_chains();
	test_filter_loopback();
	test_cves();
	test_check("pcnet/survives", qts_quit(q) == 0, "qemu-dm exit status");
	g_free(args);
	return test_exit();
}
