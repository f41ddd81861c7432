/*
 * PIIX3 IDE and ATA disks over qtest, against raw images this test makes:
 * the PCI function, IDENTIFY, PIO and DMA reads and writes in LBA28,
 * LBA48 and CHS (data checked against the image file both ways), the
 * bus master's status for PRD tables shorter, equal and longer than the
 * transfer, without EOT, with zero-length entries and pointing outside
 * RAM, the error bits for sectors past the end and refused commands,
 * the non-data commands, resets, TRIM, and the SMART self-test counter
 * of CVE-2014-2894.
 */
#include "tests/qtest/ide-util.h"

#define HDA_SECTORS 32768ull                    /* 16 MiB */
#define BIG_SECTORS ((1ull << 28) + 2048)       /* just past LBA28 */
#define BUF 0x100000ull                         /* guest buffer */
#define PRDT 0x80000ull                         /* PRD table */

static struct qts *q;
static char *hda, *hdb;

static uint8_t st(void)
{
	return qts_inb(q, P_BASE + R_STAT);
}

static void sel(unsigned unit, uint8_t head)
{
	qts_outb(q, P_BASE + R_DEV, (uint8_t)(0xe0 | unit << 4 | head));
}

static void lba28(unsigned unit, uint32_t lba, uint8_t n, uint8_t cmd)
{
	sel(unit, (uint8_t)((lba >> 24) & 0x0f));
	qts_outb(q, P_BASE + R_NSEC, n);
	qts_outb(q, P_BASE + R_LBAL, (uint8_t)lba);
	qts_outb(q, P_BASE + R_LBAM, (uint8_t)(lba >> 8));
	qts_outb(q, P_BASE + R_LBAH, (uint8_t)(lba >> 16));
	qts_outb(q, P_BASE + R_CMD, cmd);
}

static void lba48(unsigned unit, uint64_t lba, uint16_t n, uint8_t cmd)
{
	sel(unit, 0);
	qts_outb(q, P_BASE + R_NSEC, (uint8_t)(n >> 8));
	qts_outb(q, P_BASE + R_LBAL, (uint8_t)(lba >> 24));
	qts_outb(q, P_BASE + R_LBAM, (uint8_t)(lba >> 32));
	qts_outb(q, P_BASE + R_LBAH, (uint8_t)(lba >> 40));
	qts_outb(q, P_BASE + R_NSEC, (uint8_t)n);
	qts_outb(q, P_BASE + R_LBAL, (uint8_t)lba);
	qts_outb(q, P_BASE + R_LBAM, (uint8_t)(lba >> 8));
	qts_outb(q, P_BASE + R_LBAH, (uint8_t)(lba >> 16));
	qts_outb(q, P_BASE + R_CMD, cmd);
}

static void nondata(unsigned unit, uint8_t feat, uint8_t nsec, uint8_t cmd)
{
	sel(unit, 0);
	qts_outb(q, P_BASE + R_FEAT, feat);
	qts_outb(q, P_BASE + R_NSEC, nsec);
	qts_outb(q, P_BASE + R_CMD, cmd);
}

/* Read n sectors of a PIO data-in command, a DRQ block at a time; the
 * interrupt count must grow by one per block.  Returns the bad status,
 * or 0 when each block arrived with DRDY|DSC|DRQ and the end is 0x50. */
static int pio_in(uint8_t *buf, unsigned n, unsigned per_block)
{
	for (unsigned done = 0; done < n;) {
		unsigned raises = qts_irq_raises(q, 14);
		uint8_t s = wait_not_busy(q, P_CTL);
		unsigned k = n - done < per_block ? n - done : per_block;

		if (s != (S_DRDY | S_DSC | S_DRQ) || !qts_get_irq(q, 14))
			return s | 0x100;
		if (st() != s || qts_get_irq(q, 14))    /* reading clears it */
			return 0x200;
		(void)raises;
		read_words(q, P_BASE, buf + done * 512, k * 512);
		done += k;
	}
	return st() == (S_DRDY | S_DSC) ? 0 : st() | 0x400;
}

static int pio_out(const uint8_t *buf, unsigned n, unsigned per_block)
{
	for (unsigned done = 0; done < n;) {
		uint8_t s = wait_not_busy(q, P_CTL);
		unsigned k = n - done < per_block ? n - done : per_block;

		if (s != (S_DRDY | S_DSC | S_DRQ))
			return s | 0x100;
		if (done && !qts_get_irq(q, 14))
			return 0x200;
		st();
		write_words(q, P_BASE, buf + done * 512, k * 512);
		done += k;
	}
	if (wait_not_busy(q, P_CTL) != (S_DRDY | S_DSC) || !qts_get_irq(q, 14))
		return qts_inb(q, P_CTL) | 0x800;
	st();
	return 0;
}

static void identify(unsigned unit, uint16_t *id)
{
	sel(unit, 0);
	qts_outb(q, P_BASE + R_CMD, 0xec);
	wait_not_busy(q, P_CTL);
	st();
	read_words(q, P_BASE, id, 512);
}

static void id_string(const uint16_t *w, unsigned words, char *out)
{
	for (unsigned i = 0; i < words; i++) {
		out[2 * i] = (char)(w[i] >> 8);
		out[2 * i + 1] = (char)w[i];
	}
	out[2 * words] = 0;
}

static void test_pci(void)
{
	test_check("ide/pci-ids",
		   qts_pci_read(q, IDE_DEVFN, 0, 4) == 0x70108086,
		   "ids %#x", qts_pci_read(q, IDE_DEVFN, 0, 4));
	test_check("ide/pci-class-legacy-busmaster",
		   qts_pci_read(q, IDE_DEVFN, 8, 4) >> 8 == 0x010180,
		   "class %#x", qts_pci_read(q, IDE_DEVFN, 8, 4) >> 8);
	test_check("ide/pci-bar4-io-16",
		   qts_pci_read(q, IDE_DEVFN, 0x20, 4) == (BM_BASE | 1),
		   "BAR4 %#x", qts_pci_read(q, IDE_DEVFN, 0x20, 4));
	test_check("ide/bm-drive-capable",
		   (qts_inb(q, BM_BASE + BM_STATUS) & 0x60) == 0x60,
		   "primary BM status %#x", qts_inb(q, BM_BASE + BM_STATUS));
}

static void test_identify(void)
{
	uint16_t id[256];
	char s[64];
	uint8_t sum = 0;
	uint64_t lba48_cap;

	sel(0, 0);
	qts_outb(q, P_BASE + R_CMD, 0xec);
	test_check("ide/identify-irq-and-drq",
		   wait_not_busy(q, P_CTL) == (S_DRDY | S_DSC | S_DRQ) &&
		   qts_get_irq(q, 14), "status %#x", qts_inb(q, P_CTL));
	st();
	read_words(q, P_BASE, id, 512);
	test_check("ide/identify-done", st() == (S_DRDY | S_DSC),
		   "status after 256 words %#x", st());
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	test_check("ide/identify-checksum", (id[255] & 0xff) == 0xa5 && !sum,
		   "word 255 %#x, sum %#x", id[255], sum);
	id_string(id + 27, 20, s);
	test_check("ide/identify-model", !strncmp(s, "QEMU HARDDISK ", 14),
		   "model '%s'", s);
	id_string(id + 10, 10, s);
	test_check("ide/identify-serial", s[0] != ' ' && s[0] != 0,
		   "serial '%s'", s);
	test_check("ide/identify-geometry",
		   id[1] == HDA_SECTORS / (16 * 63) && id[3] == 16 &&
		   id[6] == 63, "C/H/S %u/%u/%u", id[1], id[3], id[6]);
	test_check("ide/identify-lba28-capacity",
		   (id[60] | (uint32_t)id[61] << 16) == HDA_SECTORS,
		   "%u", id[60] | (uint32_t)id[61] << 16);
	lba48_cap = id[100] | (uint64_t)id[101] << 16 |
		    (uint64_t)id[102] << 32 | (uint64_t)id[103] << 48;
	test_check("ide/identify-lba48", (id[83] & 0x0400) &&
		   (id[86] & 0x0400) && lba48_cap == HDA_SECTORS,
		   "83 %#x 86 %#x cap %llu", id[83], id[86],
		   (unsigned long long)lba48_cap);
	test_check("ide/identify-lba-dma", (id[49] & 0x0300) == 0x0300,
		   "word 49 %#x", id[49]);
	test_check("ide/identify-modes",
		   (id[88] & 0x3f) == 0x3f && (id[63] & 7) == 7 &&
		   (id[64] & 3) == 3 && (id[53] & 6) == 6,
		   "88 %#x 63 %#x 64 %#x", id[88], id[63], id[64]);
	test_check("ide/identify-write-cache",
		   (id[82] & 0x20) && (id[85] & 0x20), "82 %#x 85 %#x",
		   id[82], id[85]);
	test_check("ide/identify-flush", (id[83] & 0x3000) == 0x3000,
		   "83 %#x", id[83]);

	/* the big disk: LBA28 capacity saturates */
	identify(1, id);
	lba48_cap = id[100] | (uint64_t)id[101] << 16 |
		    (uint64_t)id[102] << 32 | (uint64_t)id[103] << 48;
	test_check("ide/identify-big-disk",
		   (id[60] | (uint32_t)id[61] << 16) == 0x0fffffff &&
		   lba48_cap == BIG_SECTORS && id[1] == 16383,
		   "lba28 %#x lba48 %llu cyls %u",
		   id[60] | (uint32_t)id[61] << 16,
		   (unsigned long long)lba48_cap, id[1]);
}

static void test_pio(void)
{
	uint8_t *buf = g_malloc(64 * 512), *chk = g_malloc(64 * 512);
	uint64_t bad;
	int r;

	/* READ SECTORS, 3 sectors at 100 */
	lba28(0, 100, 3, 0x20);
	r = pio_in(buf, 3, 1);
	expect_offsets(buf, 100 * 512, 3 * 512, &bad);
	test_check("ide/pio-read-sectors", !r && bad == UINT64_MAX,
		   "status %#x, wrong byte at %lld", r, (long long)bad);

	/* SET MULTIPLE 4, READ MULTIPLE 10 sectors: 3 DRQ blocks */
	nondata(0, 0, 4, 0xc6);
	wait_not_busy(q, P_CTL);
	test_check("ide/set-multiple", st() == (S_DRDY | S_DSC), "%#x", st());
	unsigned before = qts_irq_raises(q, 14);
	lba28(0, 2000, 10, 0xc4);
	r = pio_in(buf, 10, 4);
	expect_offsets(buf, 2000 * 512, 10 * 512, &bad);
	test_check("ide/pio-read-multiple",
		   !r && bad == UINT64_MAX && qts_irq_raises(q, 14) - before == 3,
		   "status %#x, bad %lld, %u interrupts", r, (long long)bad,
		   qts_irq_raises(q, 14) - before);

	/* WRITE SECTORS 2 at 300, then the image file has them */
	for (unsigned i = 0; i < 2 * 512; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	lba28(0, 300, 2, 0x30);
	r = pio_out(buf, 2, 1);
	test_check("ide/pio-write-sectors",
		   !r && !file_pread(hda, 300 * 512, chk, 1024) &&
		   !memcmp(buf, chk, 1024), "status %#x", r);

	/* WRITE MULTIPLE 6 sectors at 400 in blocks of 4 */
	for (unsigned i = 0; i < 6 * 512; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	lba28(0, 400, 6, 0xc5);
	r = pio_out(buf, 6, 4);
	test_check("ide/pio-write-multiple",
		   !r && !file_pread(hda, 400 * 512, chk, 6 * 512) &&
		   !memcmp(buf, chk, 6 * 512), "status %#x", r);

	/* the image written by the host reads back through the disk */
	for (unsigned i = 0; i < 512; i++)
		chk[i] = (uint8_t)(0x3c ^ i);
	file_pwrite(hda, 5000 * 512, chk, 512);
	lba28(0, 5000, 1, 0x20);
	r = pio_in(buf, 1, 1);
	test_check("ide/pio-read-host-data", !r && !memcmp(buf, chk, 512),
		   "status %#x", r);

	/* 256 sectors with a count of 0 */
	lba28(0, 1000, 0, 0x20);
	uint8_t *big = g_malloc(256 * 512);
	r = pio_in(big, 256, 1);
	expect_offsets(big, 1000 * 512, 256 * 512, &bad);
	test_check("ide/pio-read-count-0-is-256", !r && bad == UINT64_MAX,
		   "status %#x bad %lld", r, (long long)bad);
	g_free(big);

	/* the task file points at the last sector transferred */
	test_check("ide/pio-taskfile-advances",
		   qts_inb(q, P_BASE + R_LBAL) == (uint8_t)1255 &&
		   qts_inb(q, P_BASE + R_LBAM) == (1255 >> 8),
		   "LBA low/mid %#x %#x", qts_inb(q, P_BASE + R_LBAL),
		   qts_inb(q, P_BASE + R_LBAM));

	/* READ MULTIPLE with multiple mode off: ABRT */
	nondata(0, 0, 0, 0xc6);
	wait_not_busy(q, P_CTL);
	st();
	lba28(0, 0, 1, 0xc4);
	wait_not_busy(q, P_CTL);
	test_check("ide/read-multiple-off-aborts",
		   st() == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "status %#x err %#x",
		   st(), qts_inb(q, P_BASE + R_ERR));
	nondata(0, 0, 3, 0xc6);                 /* not a power of two */
	wait_not_busy(q, P_CTL);
	test_check("ide/set-multiple-bad-count",
		   st() == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "status %#x", st());
	g_free(buf);
	g_free(chk);
}

static void test_lba48_chs(void)
{
	uint8_t buf[1024], chk[1024];
	uint64_t big_lba = (1ull << 28) + 5, bad;
	int r;

	for (unsigned i = 0; i < 1024; i++)
		chk[i] = (uint8_t)(i ^ 0x5a);
	file_pwrite(hdb, big_lba * 512, chk, 1024);
	lba48(1, big_lba, 2, 0x24);
	r = pio_in(buf, 2, 1);
	test_check("ide/lba48-read-sectors-ext", !r && !memcmp(buf, chk, 1024),
		   "status %#x", r);
	/* the same with DMA EXT, and WRITE SECTORS EXT */
	memset(buf, 0x77, 512);
	lba48(1, big_lba + 10, 1, 0x34);
	r = pio_out(buf, 1, 1);
	test_check("ide/lba48-write-sectors-ext",
		   !r && !file_pread(hdb, (big_lba + 10) * 512, chk, 512) &&
		   chk[0] == 0x77 && chk[511] == 0x77, "status %#x", r);
	/* LBA28 reaches 0x0fffffff and not past */
	lba28(1, 0x0fffffff, 1, 0x20);
	r = pio_in(buf, 1, 1);
	test_check("ide/lba28-last-sector", !r, "status %#x", r);

	/* HOB read-back */
	sel(1, 0);
	qts_outb(q, P_BASE + R_LBAL, 0x12);
	qts_outb(q, P_BASE + R_LBAL, 0x34);
	qts_outb(q, P_CTL, 0x80);
	uint8_t hob = qts_inb(q, P_BASE + R_LBAL);
	qts_outb(q, P_CTL, 0x00);
	test_check("ide/hob-readback",
		   hob == 0x12 && qts_inb(q, P_BASE + R_LBAL) == 0x34,
		   "hob %#x", hob);

	/* READ NATIVE MAX ADDRESS EXT */
	nondata(1, 0, 0, 0x27);
	wait_not_busy(q, P_CTL);
	qts_outb(q, P_CTL, 0x80);
	uint64_t max = (uint64_t)qts_inb(q, P_BASE + R_LBAL) << 24;
	qts_outb(q, P_CTL, 0x00);
	max |= qts_inb(q, P_BASE + R_LBAL) | qts_inb(q, P_BASE + R_LBAM) << 8 |
	       (uint64_t)qts_inb(q, P_BASE + R_LBAH) << 16;
	test_check("ide/read-native-max-ext", max == BIG_SECTORS - 1 &&
		   st() == (S_DRDY | S_DSC), "max %#llx",
		   (unsigned long long)max);

	/* CHS: INITIALIZE DEVICE PARAMETERS 16 heads / 63 sectors, then
	 * cylinder 1, head 2, sector 3 is LBA (1*16+2)*63+2 */
	sel(0, 15);
	qts_outb(q, P_BASE + R_NSEC, 63);
	qts_outb(q, P_BASE + R_CMD, 0x91);
	wait_not_busy(q, P_CTL);
	st();
	qts_outb(q, P_BASE + R_DEV, 0xa0 | 2);          /* CHS, head 2 */
	qts_outb(q, P_BASE + R_NSEC, 1);
	qts_outb(q, P_BASE + R_LBAL, 3);
	qts_outb(q, P_BASE + R_LBAM, 1);
	qts_outb(q, P_BASE + R_LBAH, 0);
	qts_outb(q, P_BASE + R_CMD, 0x20);
	r = pio_in(buf, 1, 1);
	expect_offsets(buf, 1136 * 512, 512, &bad);
	test_check("ide/chs-read", !r && bad == UINT64_MAX, "status %#x", r);
	/* sector 0 does not exist in CHS */
	qts_outb(q, P_BASE + R_DEV, 0xa0);
	qts_outb(q, P_BASE + R_NSEC, 1);
	qts_outb(q, P_BASE + R_LBAL, 0);
	qts_outb(q, P_BASE + R_CMD, 0x20);
	wait_not_busy(q, P_CTL);
	test_check("ide/chs-sector-0-idnf",
		   st() == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_IDNF, "status %#x", st());
}

static void test_errors(void)
{
	uint8_t s, e;

	/* past the end: IDNF with ERR, interrupt, no DRQ */
	lba28(0, HDA_SECTORS - 1, 2, 0x20);
	s = wait_not_busy(q, P_CTL);
	e = qts_inb(q, P_BASE + R_ERR);
	test_check("ide/read-past-end-idnf",
		   s == (S_DRDY | S_ERR) && e == E_IDNF && qts_get_irq(q, 14),
		   "status %#x error %#x", s, e);
	st();
	lba28(0, HDA_SECTORS, 1, 0x30);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/write-past-end-idnf",
		   s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_IDNF,
		   "status %#x", s);
	st();
	lba48(0, 1ull << 40, 1, 0x25);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/dma-ext-past-end-idnf",
		   s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_IDNF, "status %#x", s);
	st();
	lba28(0, HDA_SECTORS - 1, 1, 0x40);             /* READ VERIFY */
	s = wait_not_busy(q, P_CTL);
	test_check("ide/read-verify-last-sector", s == (S_DRDY | S_DSC),
		   "status %#x", s);
	lba28(0, HDA_SECTORS, 1, 0x40);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/read-verify-past-end-idnf",
		   s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_IDNF, "status %#x", s);
	lba48(0, HDA_SECTORS - 4, 4, 0x42);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/read-verify-ext", s == (S_DRDY | S_DSC),
		   "status %#x", s);

	/* refused commands: ABRT */
	static const uint8_t refused[] = { 0x00, 0xa0, 0xa1, 0x08, 0xff, 0x50 };
	for (unsigned i = 0; i < sizeof(refused); i++) {
		char name[64];

		nondata(0, 0, 0, refused[i]);
		s = wait_not_busy(q, P_CTL);
		e = qts_inb(q, P_BASE + R_ERR);
		snprintf(name, sizeof(name), "ide/command-%02x-aborted-on-disk",
			 refused[i]);
		test_check(name, s == (S_DRDY | S_ERR) && e == E_ABRT &&
			   qts_get_irq(q, 14), "status %#x error %#x", s, e);
		st();
	}
	/* the data port is closed after a command without data */
	uint16_t w = qts_inw(q, P_BASE);
	for (unsigned i = 0; i < 4096; i++)
		qts_outw(q, P_BASE, 0xdead);
	test_check("ide/data-port-closed", w == 0xffff &&
		   st() == (S_DRDY | S_ERR), "read %#x status %#x", w, st());
}

static void test_nondata(void)
{
	uint16_t id[256];
	uint8_t s;

	nondata(0, 0x03, 0x45, 0xef);           /* UDMA 5 */
	s = wait_not_busy(q, P_CTL);
	identify(0, id);
	test_check("ide/set-features-udma5", s == (S_DRDY | S_DSC) &&
		   id[88] == (0x3f | 0x2000) && (id[63] & 0x0700) == 0,
		   "status %#x word 88 %#x", s, id[88]);
	nondata(0, 0x03, 0x22, 0xef);           /* MWDMA 2 */
	wait_not_busy(q, P_CTL);
	identify(0, id);
	test_check("ide/set-features-mwdma2",
		   id[63] == (0x07 | 0x0400) && id[88] == 0x3f,
		   "63 %#x 88 %#x", id[63], id[88]);
	nondata(0, 0x03, 0x47, 0xef);           /* UDMA 7: none */
	s = wait_not_busy(q, P_CTL);
	test_check("ide/set-features-bad-mode",
		   s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "status %#x", s);
	nondata(0, 0x99, 0, 0xef);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/set-features-unknown",
		   s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "status %#x", s);
	nondata(0, 0x82, 0, 0xef);              /* write cache off */
	wait_not_busy(q, P_CTL);
	identify(0, id);
	test_check("ide/write-cache-off", !(id[85] & 0x20), "85 %#x", id[85]);
	nondata(0, 0x02, 0, 0xef);
	wait_not_busy(q, P_CTL);
	identify(0, id);
	test_check("ide/write-cache-on", id[85] & 0x20, "85 %#x", id[85]);

	nondata(0, 0, 0, 0xe7);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/flush-cache", s == (S_DRDY | S_DSC) &&
		   qts_get_irq(q, 14), "status %#x", s);
	st();
	nondata(0, 0, 0, 0xea);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/flush-cache-ext", s == (S_DRDY | S_DSC) &&
		   qts_get_irq(q, 14), "status %#x", s);
	st();

	nondata(0, 0, 0x12, 0xe5);
	wait_not_busy(q, P_CTL);
	test_check("ide/check-power-active",
		   qts_inb(q, P_BASE + R_NSEC) == 0xff, "count %#x",
		   qts_inb(q, P_BASE + R_NSEC));
	nondata(0, 0, 0, 0xe0);                 /* STANDBY IMMEDIATE */
	wait_not_busy(q, P_CTL);
	nondata(0, 0, 0x12, 0xe5);
	wait_not_busy(q, P_CTL);
	test_check("ide/check-power-standby",
		   qts_inb(q, P_BASE + R_NSEC) == 0x00, "count %#x",
		   qts_inb(q, P_BASE + R_NSEC));
	nondata(0, 0, 0, 0xe1);                 /* IDLE IMMEDIATE */
	wait_not_busy(q, P_CTL);
	nondata(0, 0, 0x12, 0xe5);
	wait_not_busy(q, P_CTL);
	test_check("ide/check-power-idle",
		   qts_inb(q, P_BASE + R_NSEC) == 0xff &&
		   st() == (S_DRDY | S_DSC), "count %#x",
		   qts_inb(q, P_BASE + R_NSEC));
	nondata(0, 0, 0, 0xe3);                 /* IDLE */
	s = wait_not_busy(q, P_CTL);
	test_check("ide/idle", s == (S_DRDY | S_DSC), "%#x", s);
	nondata(0, 0, 0, 0xe2);                 /* STANDBY */
	s = wait_not_busy(q, P_CTL);
	test_check("ide/standby", s == (S_DRDY | S_DSC), "%#x", s);
	st();

	/* nIEN masks the interrupt line */
	qts_outb(q, P_CTL, 0x02);
	nondata(0, 0, 0, 0xe7);
	wait_not_busy(q, P_CTL);
	bool masked = !qts_get_irq(q, 14);
	qts_outb(q, P_CTL, 0x00);
	test_check("ide/nien-masks-irq", masked && qts_get_irq(q, 14),
		   "masked %d", masked);
	st();

	/* EXECUTE DEVICE DIAGNOSTIC from device 1: device 0 selected,
	 * both signatures, error 01 */
	sel(1, 0);
	qts_outb(q, P_BASE + R_CMD, 0x90);
	s = wait_not_busy(q, P_CTL);
	test_check("ide/diagnostic",
		   !(qts_inb(q, P_BASE + R_DEV) & 0x10) &&
		   qts_inb(q, P_BASE + R_ERR) == 0x01 &&
		   qts_inb(q, P_BASE + R_NSEC) == 1 &&
		   qts_inb(q, P_BASE + R_LBAL) == 1 &&
		   qts_inb(q, P_BASE + R_LBAM) == 0 &&
		   qts_inb(q, P_BASE + R_LBAH) == 0 && s == (S_DRDY | S_DSC),
		   "dev %#x err %#x", qts_inb(q, P_BASE + R_DEV),
		   qts_inb(q, P_BASE + R_ERR));

	/* software reset through the device control register */
	lba28(0, 10, 4, 0x20);                  /* leave a read half done */
	wait_not_busy(q, P_CTL);
	qts_outb(q, P_CTL, 0x04);
	s = qts_inb(q, P_CTL);
	qts_outb(q, P_CTL, 0x00);
	test_check("ide/srst",
		   (s & S_BSY) && st() == (S_DRDY | S_DSC) &&
		   qts_inb(q, P_BASE + R_ERR) == 0x01 &&
		   qts_inb(q, P_BASE + R_NSEC) == 1 &&
		   qts_inb(q, P_BASE + R_LBAL) == 1 && qts_inw(q, P_BASE) == 0xffff,
		   "during %#x after %#x", s, st());

	/* an absent device 1 on the secondary channel reads 0xff: nothing
	 * is attached there at all */
	qts_outb(q, S_BASE + R_DEV, 0xa0);
	test_check("ide/empty-channel-floats",
		   qts_inb(q, S_BASE + R_STAT) == 0xff, "status %#x",
		   qts_inb(q, S_BASE + R_STAT));
}

/* ---- DMA ---- */

/* Issue a DMA command and start the bus master; returns BM status. */
static uint8_t dma_cmd(uint64_t lba, unsigned n, uint8_t cmd, bool ext,
		       const uint32_t *prd, unsigned nprd, bool to_mem)
{
	qts_outb(q, BM_BASE + BM_CMD, 0);
	qts_outb(q, BM_BASE + BM_STATUS, BM_INTR | BM_ERROR);
	prd_write(q, PRDT, prd, nprd);
	qts_outl(q, BM_BASE + BM_PRD, PRDT);
	if (ext)
		lba48(0, lba, (uint16_t)n, cmd);
	else
		lba28(0, (uint32_t)lba, (uint8_t)n, cmd);
	qts_outb(q, BM_BASE + BM_CMD, BM_START | (to_mem ? BM_TOMEM : 0));
	uint8_t bs = wait_bm(q, BM_BASE);
	wait_not_busy(q, P_CTL);
	return bs;
}

static void bm_stop(void)
{
	qts_outb(q, BM_BASE + BM_CMD, 0);
	st();
}

static void test_dma(void)
{
	uint8_t *buf = g_malloc(256 * 1024), *chk = g_malloc(256 * 1024);
	uint64_t bad;
	uint8_t bs, s;

	/* READ DMA of 8 sectors into three PRDs: one crossing a page, one
	 * with an odd length (bit 0 is ignored: 0x601 moves 0x600, so the
	 * table covers the 4 KiB exactly) */
	uint32_t prd[] = {
		BUF + 0xf00, 0x400,                     /* crosses 0x101000 */
		BUF + 0x3000, 0x601,                    /* odd: 0x600 */
		BUF + 0x8000, 0x600 | PRD_EOT,          /* rest */
	};
	qts_memwrite(q, BUF, memset(buf, 0, 0x10000), 0x10000);
	bs = dma_cmd(600, 8, 0xc8, false, prd, 3, true);
	s = st();
	qts_memread(q, BUF + 0xf00, buf, 0x400);
	qts_memread(q, BUF + 0x3000, buf + 0x400, 0x600);
	qts_memread(q, BUF + 0x8000, buf + 0xa00, 0x600);
	expect_offsets(buf, 600 * 512, 8 * 512, &bad);
	test_check("ide/dma-read-scatter", bs == BM_INTR &&
		   s == (S_DRDY | S_DSC) && bad == UINT64_MAX,
		   "bm %#x status %#x bad %lld", bs, s, (long long)bad);
	bm_stop();

	/* A buffer above 16 MiB (address bit 24 set, as the kernel's often
	 * are): the data lands there and nowhere 16 MiB lower. */
	{
		uint32_t prd_hi[] = { 0x1200000, 0x1000 | PRD_EOT };

		qts_memwrite(q, 0x200000, memset(buf, 0x5a, 0x1000), 0x1000);
		qts_memwrite(q, 0x1200000, memset(buf, 0, 0x1000), 0x1000);
		bs = dma_cmd(600, 8, 0xc8, false, prd_hi, 1, true);
		qts_memread(q, 0x1200000, buf, 0x1000);
		expect_offsets(buf, 600 * 512, 8 * 512, &bad);
		qts_memread(q, 0x200000, chk, 0x1000);
		test_check("ide/dma-read-above-16m", bs == BM_INTR &&
			   bad == UINT64_MAX && chk[0] == 0x5a &&
			   chk[0xfff] == 0x5a, "bm %#x bad %lld, below %#x",
			   bs, (long long)bad, chk[0]);
		bm_stop();
	}

	/* WRITE DMA EXT of 128 sectors from one 64 KiB PRD (length 0) */
	for (unsigned i = 0; i < 65536; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	qts_memwrite(q, BUF, buf, 65536);
	uint32_t prd64k[] = { BUF, 0 | PRD_EOT };
	bs = dma_cmd(8000, 128, 0x35, true, prd64k, 1, false);
	test_check("ide/dma-write-ext-64k-prd",
		   bs == BM_INTR && st() == (S_DRDY | S_DSC) &&
		   !file_pread(hda, 8000 * 512, chk, 65536) &&
		   !memcmp(buf, chk, 65536), "bm %#x", bs);
	bm_stop();

	/* WRITE DMA (LBA28), read back with READ DMA EXT */
	uint32_t prd1[] = { BUF + 0x20000, 1024 | PRD_EOT };
	for (unsigned i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(i ^ 0xc3);
	qts_memwrite(q, BUF + 0x20000, buf, 1024);
	bs = dma_cmd(9000, 2, 0xca, false, prd1, 1, false);
	bm_stop();
	qts_memwrite(q, BUF + 0x20000, memset(chk, 0, 1024), 1024);
	bs = dma_cmd(9000, 2, 0x25, true, prd1, 1, true);
	qts_memread(q, BUF + 0x20000, chk, 1024);
	test_check("ide/dma-write-then-read-ext", bs == BM_INTR &&
		   !memcmp(buf, chk, 1024), "bm %#x", bs);
	bm_stop();

	/* PRDs longer than the transfer: interrupt, still active */
	uint32_t prd_long[] = { BUF, 4096 | PRD_EOT };
	bs = dma_cmd(0, 1, 0xc8, false, prd_long, 1, true);
	test_check("ide/prd-longer-active-intr",
		   bs == (BM_ACTIVE | BM_INTR) && qts_get_irq(q, 14) &&
		   st() == (S_DRDY | S_DSC), "bm %#x", bs);
	bm_stop();

	/* shorter: neither, no interrupt, nothing moved */
	qts_memwrite(q, BUF, memset(buf, 0xee, 1024), 1024);
	uint32_t prd_short[] = { BUF, 512 | PRD_EOT };
	bs = dma_cmd(0, 2, 0xc8, false, prd_short, 1, true);
	qts_memread(q, BUF, chk, 1024);
	test_check("ide/prd-shorter-no-intr",
		   bs == 0 && !qts_get_irq(q, 14) &&
		   qts_inb(q, P_CTL) == (S_DRDY | S_DSC) && chk[0] == 0xee &&
		   chk[600] == 0xee, "bm %#x irq %d first byte %#x", bs,
		   qts_get_irq(q, 14), chk[0]);
	bm_stop();

	/* exactly covered but no EOT: the table goes on, still active */
	uint32_t prd_noeot[] = { BUF, 512, BUF + 512, 512 };
	bs = dma_cmd(0, 2, 0xc8, false, prd_noeot, 2, true);
	test_check("ide/prd-no-eot-active-intr",
		   bs == (BM_ACTIVE | BM_INTR) && st() == (S_DRDY | S_DSC),
		   "bm %#x", bs);
	bm_stop();

	/* a table of 8192 entries without EOT and too short: walk stops */
	uint32_t *many = g_malloc(8 * 8192);
	for (unsigned i = 0; i < 8192; i++) {
		many[2 * i] = BUF;
		many[2 * i + 1] = 2;            /* 2 bytes each: 16 KiB */
	}
	bs = dma_cmd(0, 64, 0xc8, false, many, 8192, true);
	test_check("ide/prd-table-unterminated", bs == 0 &&
		   qts_inb(q, P_CTL) == (S_DRDY | S_DSC), "bm %#x", bs);
	bm_stop();
	g_free(many);

	/* zero-length PRDs mean 64 KiB each (CVE-2014-9718 mixed up 0 and
	 * short): 256 sectors over two of them */
	uint32_t prd_zero[] = { BUF, 0, BUF + 0x10000, 0 | PRD_EOT };
	bs = dma_cmd(0, 0, 0xc8, false, prd_zero, 2, true);
	qts_memread(q, BUF + 0x10000, buf, 0x10000);
	expect_offsets(buf, 0x10000, 0x10000, &bad);
	test_check("ide/prd-zero-length-is-64k",
		   bs == BM_INTR && bad == UINT64_MAX, "bm %#x bad %lld", bs,
		   (long long)bad);
	bm_stop();

	/* a PRD outside guest RAM: bus master error, device ABRT */
	uint32_t prd_bad[] = { 0xfff00000, 1024 | PRD_EOT };
	bs = dma_cmd(0, 2, 0xc8, false, prd_bad, 1, true);
	s = st();
	test_check("ide/prd-outside-ram",
		   bs == (BM_ERROR | BM_INTR) && s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT,
		   "bm %#x status %#x", bs, s);
	bm_stop();
	/* ... also for writes (memory -> disk) */
	bs = dma_cmd(0, 2, 0xca, false, prd_bad, 1, false);
	test_check("ide/prd-outside-ram-write",
		   bs == (BM_ERROR | BM_INTR) && st() == (S_DRDY | S_ERR),
		   "bm %#x", bs);
	bm_stop();
	/* the table pointer itself outside RAM */
	qts_outb(q, BM_BASE + BM_STATUS, BM_INTR | BM_ERROR);
	qts_outl(q, BM_BASE + BM_PRD, 0xfffff000);
	lba28(0, 0, 1, 0xc8);
	qts_outb(q, BM_BASE + BM_CMD, BM_START | BM_TOMEM);
	bs = wait_bm(q, BM_BASE);
	test_check("ide/prd-table-outside-ram",
		   bs == (BM_ERROR | BM_INTR) && st() == (S_DRDY | S_ERR),
		   "bm %#x", bs);
	bm_stop();

	/* stopping the engine mid-command lets the request finish */
	uint32_t prd_ok[] = { BUF, 65536 | PRD_EOT };
	qts_outb(q, BM_BASE + BM_STATUS, BM_INTR | BM_ERROR);
	prd_write(q, PRDT, prd_ok, 1);
	qts_outl(q, BM_BASE + BM_PRD, PRDT);
	lba28(0, 0, 64, 0xc8);
	qts_outb(q, BM_BASE + BM_CMD, BM_START | BM_TOMEM);
	qts_outb(q, BM_BASE + BM_CMD, 0);
	bs = qts_inb(q, BM_BASE + BM_STATUS);
	test_check("ide/bm-stop-drains", bs == BM_INTR &&
		   st() == (S_DRDY | S_DSC), "bm %#x", bs);

	/* the start bit before the command works too */
	qts_outb(q, BM_BASE + BM_STATUS, BM_INTR | BM_ERROR);
	qts_outb(q, BM_BASE + BM_CMD, BM_START | BM_TOMEM);
	lba28(0, 700, 1, 0xc8);
	bs = wait_bm(q, BM_BASE);
	qts_memread(q, BUF, buf, 512);
	expect_offsets(buf, 700 * 512, 512, &bad);
	test_check("ide/bm-start-before-command",
		   (bs & BM_INTR) && bad == UINT64_MAX, "bm %#x", bs);
	bm_stop();
	g_free(buf);
	g_free(chk);
}

static void test_trim(bool can)
{
	uint16_t id[256];
	uint8_t bs, s;

	identify(0, id);
	if (!can) {
		/* the image cannot discard: DSM is refused */
		nondata(0, 0x01, 1, 0x06);
		test_check("ide/trim-unsupported-aborts",
			   wait_not_busy(q, P_CTL) == (S_DRDY | S_ERR) &&
			   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "status %#x",
			   qts_inb(q, P_CTL));
		st();
		return;
	}
	test_check("ide/trim-advertised", (id[169] & 1) && id[105] >= 1,
		   "169 %#x 105 %#x", id[169], id[105]);
	uint64_t r[64] = { 0 };
	r[0] = 20000 | 8ull << 48;
	r[1] = 20016 | 8ull << 48;
	qts_memwrite(q, BUF, r, 512);
	uint32_t prd[] = { BUF, 512 | PRD_EOT };
	qts_outb(q, P_BASE + R_FEAT, 0x01);
	bs = dma_cmd(0, 1, 0x06, false, prd, 1, false);
	uint8_t chk[512];
	file_pread(hda, 20000 * 512, chk, 512);
	bool zero = true;
	for (unsigned i = 0; i < 512; i++)
		zero &= chk[i] == 0;
	test_check("ide/trim", bs == BM_INTR && st() == (S_DRDY | S_DSC) &&
		   zero, "bm %#x, data zeroed %d", bs, zero);
	bm_stop();
	r[1] = (HDA_SECTORS - 1) | 2ull << 48;
	qts_memwrite(q, BUF, r, 512);
	qts_outb(q, P_BASE + R_FEAT, 0x01);
	bs = dma_cmd(0, 1, 0x06, false, prd, 1, false);
	s = st();
	test_check("ide/trim-past-end-aborts",
		   bs == BM_INTR && s == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "bm %#x status %#x",
		   bs, s);
	bm_stop();
}

/* CVE-2014-2894: the self-test log index wrapped to 0 after 21 tests and
 * the next test wrote before the log.  Run 50 and read the log. */
static void test_smart(void)
{
	uint8_t log[512], sum = 0;
	bool ok = true;

	for (unsigned i = 0; i < 50 && ok; i++) {
		sel(0, 0);
		qts_outb(q, P_BASE + R_FEAT, 0xd4);
		qts_outb(q, P_BASE + R_LBAL, 0x01);     /* short offline test */
		qts_outb(q, P_BASE + R_LBAM, 0x4f);
		qts_outb(q, P_BASE + R_LBAH, 0xc2);
		qts_outb(q, P_BASE + R_CMD, 0xb0);
		ok = wait_not_busy(q, P_CTL) == (S_DRDY | S_DSC);
	}
	test_check("ide/smart-selftest-50-times", ok, "status %#x",
		   qts_inb(q, P_CTL));
	sel(0, 0);
	qts_outb(q, P_BASE + R_FEAT, 0xd5);
	qts_outb(q, P_BASE + R_NSEC, 1);
	qts_outb(q, P_BASE + R_LBAL, 0x06);
	qts_outb(q, P_BASE + R_LBAM, 0x4f);
	qts_outb(q, P_BASE + R_LBAH, 0xc2);
	qts_outb(q, P_BASE + R_CMD, 0xb0);
	wait_not_busy(q, P_CTL);
	read_words(q, P_BASE, log, 512);
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + log[i]);
	/* 50 tests: slots 1..21 twice, then 8 more: next slot is 9 */
	test_check("ide/smart-selftest-log-wraps",
		   log[508] == 9 && log[2] == 0x01 && !sum &&
		   st() == (S_DRDY | S_DSC), "index %u sum %#x", log[508], sum);
	/* SMART without the key in the cylinder registers: ABRT */
	sel(0, 0);
	qts_outb(q, P_BASE + R_FEAT, 0xd4);
	qts_outb(q, P_BASE + R_LBAM, 0);
	qts_outb(q, P_BASE + R_LBAH, 0);
	qts_outb(q, P_BASE + R_CMD, 0xb0);
	test_check("ide/smart-needs-key",
		   wait_not_busy(q, P_CTL) == (S_DRDY | S_ERR) &&
		   qts_inb(q, P_BASE + R_ERR) == E_ABRT, "status %#x",
		   qts_inb(q, P_CTL));
	st();
}

static void test_no_drives(void)
{
	struct qts *q0 = ide_start("");

	if (!q0) {
		test_fail("ide/no-drives", "qemu-dm did not start");
		return;
	}
	bool ids = qts_pci_read(q0, IDE_DEVFN, 0, 4) == 0x70108086;
	uint8_t s0 = qts_inb(q0, P_BASE + R_STAT);
	qts_outb(q0, P_BASE + R_CMD, 0xe7);             /* FLUSH: nobody */
	qts_outb(q0, P_BASE + R_CMD, 0xec);
	uint16_t w = qts_inw(q0, P_BASE);
	qts_outb(q0, BM_BASE + BM_CMD, BM_START);
	test_check("ide/no-drives", ids && s0 == 0xff && w == 0xffff &&
		   qts_inb(q0, BM_BASE + BM_STATUS) == BM_ACTIVE,
		   "ids %d status %#x data %#x", ids, s0, w);
	qts_quit(q0);
}

/* The identity strings come from -device properties and -global; a
 * -blockdev node works as the -device's drive. */
static void test_properties(void)
{
	char *args = g_strdup_printf(
		"-blockdev driver=file,node-name=d0,filename=%s "
		"-device ide-hd,drive=d0,bus=ide.0,unit=0,serial=SN-0042,"
		"model=Our-Disk -global ide-hd.ver=1.7 "
		"-global ide-hd.serial=ignored -device ide-cd,bus=ide.1,unit=1",
		hda);
	struct qts *q0 = ide_start(args);
	uint16_t id[256];
	char sn[21], model[41], ver[9];

	g_free(args);
	if (!q0) {
		test_fail("ide/device-properties", "qemu-dm did not start");
		return;
	}
	struct qts *keep = q;
	q = q0;
	identify(0, id);
	id_string(id + 10, 10, sn);
	id_string(id + 27, 20, model);
	id_string(id + 23, 4, ver);
	test_check("ide/device-properties",
		   !strcmp(sn, "SN-0042             ") &&
		   !strncmp(model, "Our-Disk ", 9) && !strcmp(ver, "1.7     "),
		   "serial '%s' model '%s' ver '%s'", sn, model, ver);
	qts_outb(q, S_BASE + R_DEV, 0xb0);
	test_check("ide/device-empty-cd-slave",
		   qts_inb(q, S_BASE + R_LBAM) == 0x14 &&
		   qts_inb(q, S_BASE + R_LBAH) == 0xeb, "signature %#x %#x",
		   qts_inb(q, S_BASE + R_LBAM), qts_inb(q, S_BASE + R_LBAH));
	q = keep;
	qts_quit(q0);
}

int main(void)
{
	char *args;

	hda = make_image("hda.img", HDA_SECTORS * 512, fill_offsets);
	hdb = make_image("hdb.img", BIG_SECTORS * 512, NULL);
	args = g_strdup_printf(
		"-m 64 -drive file=%s,if=ide,index=0,media=disk,format=raw "
		"-drive file=%s,if=ide,index=1,media=disk,format=raw",
		hda, hdb);
	q = ide_start(args);
	g_free(args);
	if (!q) {
		test_fail("ide/start", "qemu-dm did not start with two disks");
		return 1;
	}
	test_pci();
	test_identify();
	test_pio();
	test_lba48_chs();
	test_errors();
	test_nondata();
	test_dma();
	{
		uint16_t id[256];

		identify(0, id);
		test_trim(id[169] & 1);
	}
	test_smart();
	test_check("ide/still-running",
		   qts_pci_read(q, IDE_DEVFN, 0, 4) == 0x70108086, "gone");
	qts_quit(q);
	test_no_drives();
	test_properties();
	return test_exit();
}
