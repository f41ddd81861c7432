/*
 * ATAPI CD-ROM over qtest: a disc image on the secondary master and an
 * empty drive as secondary slave.  The packet protocol (PIO in byte
 * count chunks, DMA through the bus master), every packet command the
 * drive implements with its exact reply, the sense data of each error
 * (no medium, LBA out of range, unknown opcode, removal prevented, unit
 * attention after a media change from QMP), and the regressions of
 * CVE-2015-5154 (data port after START STOP UNIT), CVE-2015-6855 (ATA
 * commands on a packet device) and CVE-2020-29443 (LBA -1 on READ CD).
 */
#include "tests/qtest/ide-util.h"

#define CD_BLOCKS 300u
#define BUF 0x100000ull
#define PRDT 0x80000ull
#define BM2 (BM_BASE + 8)

static struct qts *q;
static char *iso, *iso2, *hd;

struct reply {
	uint8_t status, error, ireason;
	unsigned len;           /* bytes received */
	unsigned chunks;
	bool bad_chunk;         /* a DRQ chunk over the limit or odd */
	uint8_t data[CD_BLOCKS * 2352 + 4096];
};

static struct reply rep;

static uint8_t st2(void)
{
	return qts_inb(q, S_BASE + R_STAT);
}

static unsigned unit_sel;

/* Send one packet command and collect its reply by PIO (limit: the
 * byte count limit) or DMA. */
static void packet(const uint8_t *cdb, unsigned limit, bool dma,
		   unsigned dma_len)
{
	uint8_t pkt[12] = { 0 };

	memcpy(pkt, cdb, 12);
	memset(&rep, 0, offsetof(struct reply, data));
	qts_outb(q, S_BASE + R_DEV, (uint8_t)(0xa0 | unit_sel << 4));
	if (dma) {
		uint32_t prd[] = { BUF, dma_len | PRD_EOT };

		qts_outb(q, BM2 + BM_CMD, 0);
		qts_outb(q, BM2 + BM_STATUS, BM_INTR | BM_ERROR);
		prd_write(q, PRDT, prd, 1);
		qts_outl(q, BM2 + BM_PRD, PRDT);
	}
	qts_outb(q, S_BASE + R_FEAT, dma ? 1 : 0);
	qts_outb(q, S_BASE + R_LBAM, (uint8_t)limit);
	qts_outb(q, S_BASE + R_LBAH, (uint8_t)(limit >> 8));
	qts_outb(q, S_BASE + R_CMD, 0xa0);
	uint8_t s = wait_not_busy(q, S_CTL);
	if (!(s & S_DRQ) || qts_inb(q, S_BASE + R_NSEC) != 0x01) {
		rep.status = s;
		rep.error = qts_inb(q, S_BASE + R_ERR);
		return;
	}
	write_words(q, S_BASE, pkt, 12);
	if (dma) {
		qts_outb(q, BM2 + BM_CMD, BM_START | BM_TOMEM);
		wait_bm(q, BM2);
		wait_not_busy(q, S_CTL);
		qts_outb(q, BM2 + BM_CMD, 0);
	}
	for (;;) {
		s = wait_not_busy(q, S_CTL);
		if (!(s & S_DRQ))
			break;
		unsigned n = qts_inb(q, S_BASE + R_LBAM) |
			     qts_inb(q, S_BASE + R_LBAH) << 8;
		if (!qts_get_irq(q, 15) || qts_inb(q, S_BASE + R_NSEC) != 2 ||
		    n == 0 || n > (limit ? limit : 0xfffe) ||
		    rep.len + n > sizeof(rep.data)) {
			rep.bad_chunk = true;
			break;
		}
		st2();
		read_words(q, S_BASE, rep.data + rep.len, n + (n & 1));
		rep.len += n;
		rep.chunks++;
	}
	rep.status = st2();
	rep.error = qts_inb(q, S_BASE + R_ERR);
	rep.ireason = qts_inb(q, S_BASE + R_NSEC);
	if (dma) {
		rep.len = dma_len;
		qts_memread(q, BUF, rep.data, dma_len);
	}
}

static bool ok_status(void)
{
	return rep.status == (S_DRDY | S_DSC) && rep.ireason == 3 &&
	       !rep.bad_chunk;
}

/* CHECK CONDITION with this sense key in the error register */
static bool check_cond(uint8_t key)
{
	return rep.status == (S_DRDY | S_ERR) && rep.error == key << 4 &&
	       rep.ireason == 3;
}

static void sense(uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
	uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };

	packet(cdb, 0x100, false, 0);
	*key = rep.data[2] & 0x0f;
	*asc = rep.data[12];
	*ascq = rep.data[13];
}

static bool sense_is(uint8_t key, uint8_t asc, uint8_t ascq)
{
	uint8_t k, a, aq;

	sense(&k, &a, &aq);
	return k == key && a == asc && aq == ascq;
}

static void read10(uint32_t lba, uint16_t n, unsigned limit, bool dma)
{
	uint8_t cdb[12] = { 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			    (uint8_t)(lba >> 8), (uint8_t)lba, 0,
			    (uint8_t)(n >> 8), (uint8_t)n };

	packet(cdb, limit, dma, n * 2048u);
}

static void test_identify(void)
{
	uint16_t id[256];
	char model[41];

	unit_sel = 0;
	qts_outb(q, S_BASE + R_DEV, 0xa0);
	test_check("atapi/signature",
		   qts_inb(q, S_BASE + R_LBAM) == 0x14 &&
		   qts_inb(q, S_BASE + R_LBAH) == 0xeb &&
		   qts_inb(q, S_BASE + R_NSEC) == 1 && st2() == 0,
		   "cyl %#x/%#x status %#x", qts_inb(q, S_BASE + R_LBAM),
		   qts_inb(q, S_BASE + R_LBAH), st2());
	qts_outb(q, S_BASE + R_CMD, 0xec);
	uint8_t s = wait_not_busy(q, S_CTL);
	test_check("atapi/identify-device-aborts-with-signature",
		   s == (S_DRDY | S_ERR) &&
		   qts_inb(q, S_BASE + R_ERR) == E_ABRT &&
		   qts_inb(q, S_BASE + R_LBAM) == 0x14 &&
		   qts_inb(q, S_BASE + R_LBAH) == 0xeb && qts_get_irq(q, 15),
		   "status %#x", s);
	st2();
	qts_outb(q, S_BASE + R_CMD, 0xa1);
	s = wait_not_busy(q, S_CTL);
	read_words(q, S_BASE, id, 512);
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = (char)(id[27 + i] >> 8);
		model[2 * i + 1] = (char)id[27 + i];
	}
	model[40] = 0;
	test_check("atapi/identify-packet",
		   s == (S_DRDY | S_DSC | S_DRQ) && id[0] == 0x85c0 &&
		   (id[49] & 0x0100) && (id[88] & 0x3f) == 0x3f &&
		   !strncmp(model, "QEMU DVD-ROM", 12) &&
		   st2() == (S_DRDY | S_DSC),
		   "word 0 %#x model '%s'", id[0], model);
}

static void test_basic(void)
{
	uint8_t cdb[12];
	uint64_t bad;

	unit_sel = 0;
	memset(cdb, 0, 12);
	packet(cdb, 0, false, 0);                       /* TEST UNIT READY */
	test_check("atapi/test-unit-ready", ok_status() && rep.len == 0,
		   "status %#x error %#x", rep.status, rep.error);

	uint8_t inq[12] = { 0x12, 0, 0, 0, 96 };
	packet(inq, 0x200, false, 0);
	test_check("atapi/inquiry", ok_status() && rep.len == 36 &&
		   rep.data[0] == 0x05 && rep.data[1] == 0x80 &&
		   !memcmp(rep.data + 16, "QEMU DVD-ROM", 12),
		   "len %u type %#x", rep.len, rep.data[0]);
	inq[4] = 5;
	packet(inq, 0x200, false, 0);
	test_check("atapi/inquiry-allocation-length", ok_status() &&
		   rep.len == 5, "len %u", rep.len);

	uint8_t cap[12] = { 0x25 };
	packet(cap, 0x200, false, 0);
	test_check("atapi/read-capacity", ok_status() && rep.len == 8 &&
		   rep.data[2] == ((CD_BLOCKS - 1) >> 8) &&
		   rep.data[3] == (uint8_t)(CD_BLOCKS - 1) &&
		   rep.data[6] == 0x08 && rep.data[7] == 0,
		   "len %u", rep.len);

	/* READ(10), 5 blocks in chunks of at most 3000 bytes (even) */
	read10(7, 5, 3000, false);
	expect_offsets(rep.data, 7 * 2048, 5 * 2048, &bad);
	test_check("atapi/read10-pio-chunks",
		   ok_status() && rep.len == 5 * 2048 && rep.chunks == 4 &&
		   bad == UINT64_MAX, "status %#x len %u chunks %u bad %lld",
		   rep.status, rep.len, rep.chunks, (long long)bad);
	/* an odd limit is rounded down to even between chunks */
	read10(1, 1, 1001, false);
	expect_offsets(rep.data, 2048, 2048, &bad);
	test_check("atapi/read10-odd-limit", ok_status() &&
		   rep.len == 2048 && rep.chunks == 3 && bad == UINT64_MAX,
		   "chunks %u", rep.chunks);
	/* limit 0 means as much as fits (0xfffe) */
	read10(0, 40, 0, false);
	expect_offsets(rep.data, 0, 40 * 2048, &bad);
	test_check("atapi/read10-limit-0", ok_status() &&
		   rep.len == 40 * 2048 && rep.chunks == 2 && bad == UINT64_MAX,
		   "chunks %u", rep.chunks);
	/* the whole disc, through the prefetch buffer several times */
	read10(0, CD_BLOCKS, 0xfffe, false);
	expect_offsets(rep.data, 0, CD_BLOCKS * 2048, &bad);
	test_check("atapi/read10-whole-disc", ok_status() &&
		   rep.len == CD_BLOCKS * 2048 && bad == UINT64_MAX,
		   "len %u bad %lld", rep.len, (long long)bad);
	read10(5, 0, 0x800, false);
	test_check("atapi/read10-zero-blocks", ok_status() && rep.len == 0,
		   "len %u", rep.len);

	uint8_t r12[12] = { 0xa8, 0, 0, 0, 0, 100, 0, 0, 0, 2 };
	packet(r12, 0x8000, false, 0);
	expect_offsets(rep.data, 100 * 2048, 2 * 2048, &bad);
	test_check("atapi/read12", ok_status() && rep.len == 4096 &&
		   bad == UINT64_MAX, "len %u", rep.len);

	uint8_t rcd[12] = { 0xbe, 0, 0, 0, 0, 33, 0, 0, 2, 0x10 };
	packet(rcd, 0x8000, false, 0);
	expect_offsets(rep.data, 33 * 2048, 2 * 2048, &bad);
	test_check("atapi/read-cd-user-data", ok_status() &&
		   rep.len == 4096 && bad == UINT64_MAX, "len %u", rep.len);
	rcd[9] = 0xf8;                                  /* raw 2352 */
	packet(rcd, 0xfffe, false, 0);
	static const uint8_t sync[12] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	expect_offsets(rep.data + 16, 33 * 2048, 2048, &bad);
	uint64_t bad2;
	expect_offsets(rep.data + 2352 + 16, 34 * 2048, 2048, &bad2);
	/* LBA 33 + 150 = 183 = 00:02:33 */
	test_check("atapi/read-cd-raw",
		   ok_status() && rep.len == 2 * 2352 &&
		   !memcmp(rep.data, sync, 12) && rep.data[12] == 0x00 &&
		   rep.data[13] == 0x02 && rep.data[14] == 0x33 &&
		   rep.data[15] == 1 && bad == UINT64_MAX &&
		   bad2 == UINT64_MAX && rep.data[2352 + 14] == 0x34,
		   "len %u header %02x %02x %02x %02x", rep.len, rep.data[12],
		   rep.data[13], rep.data[14], rep.data[15]);
	rcd[9] = 0x18;                          /* a mix we do not build */
	packet(rcd, 0xfffe, false, 0);
	test_check("atapi/read-cd-bad-flags",
		   check_cond(5) && sense_is(5, 0x24, 0), "status %#x",
		   rep.status);

	/* DMA */
	read10(9, 3, 0, true);
	expect_offsets(rep.data, 9 * 2048, 3 * 2048, &bad);
	test_check("atapi/read10-dma", ok_status() && bad == UINT64_MAX &&
		   (qts_inb(q, BM2 + BM_STATUS) & BM_INTR),
		   "status %#x bad %lld", rep.status, (long long)bad);
	uint8_t inq2[12] = { 0x12, 0, 0, 0, 36 };
	packet(inq2, 0, true, 36);
	test_check("atapi/inquiry-dma", ok_status() && rep.data[0] == 0x05 &&
		   !memcmp(rep.data + 8, "QEMU    ", 8), "status %#x",
		   rep.status);
	packet(rcd, 0, true, 2 * 2352);                 /* raw by DMA */
	test_check("atapi/read-cd-bad-flags-dma", check_cond(5),
		   "status %#x", rep.status);
	rcd[9] = 0xf8;
	packet(rcd, 0, true, 2 * 2352);
	expect_offsets(rep.data + 2352 + 16, 34 * 2048, 2048, &bad);
	test_check("atapi/read-cd-raw-dma", ok_status() &&
		   !memcmp(rep.data, sync, 12) && bad == UINT64_MAX,
		   "status %#x", rep.status);
}

static void test_toc(void)
{
	uint32_t end = CD_BLOCKS + 150;
	uint8_t m = (uint8_t)(end / 4500), s = (uint8_t)(end / 75 % 60),
		f = (uint8_t)(end % 75);
	uint8_t cdb[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24 };

	packet(cdb, 0x800, false, 0);                   /* format 0, LBA */
	test_check("atapi/toc-format0-lba",
		   ok_status() && rep.len == 20 && rep.data[1] == 18 &&
		   rep.data[2] == 1 && rep.data[3] == 1 &&
		   rep.data[5] == 0x14 && rep.data[6] == 1 &&
		   !memcmp(rep.data + 8, "\0\0\0\0", 4) &&
		   rep.data[14] == 0xaa &&
		   rep.data[18] == (CD_BLOCKS >> 8) &&
		   rep.data[19] == (uint8_t)CD_BLOCKS, "len %u", rep.len);
	cdb[1] = 0x02;                                  /* MSF */
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-format0-msf",
		   ok_status() && rep.len == 20 && rep.data[9] == 0 &&
		   rep.data[10] == 2 && rep.data[11] == 0 &&
		   rep.data[17] == m && rep.data[18] == s && rep.data[19] == f,
		   "leadout %u:%u:%u", rep.data[17], rep.data[18],
		   rep.data[19]);
	cdb[6] = 0xaa;                                  /* lead-out only */
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-leadout-only", ok_status() && rep.len == 12 &&
		   rep.data[6] == 0xaa, "len %u", rep.len);
	cdb[6] = 2;                                     /* no track 2 */
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-bad-track", check_cond(5) &&
		   sense_is(5, 0x24, 0), "status %#x", rep.status);
	cdb[6] = 0;
	cdb[1] = 0;
	cdb[2] = 1;                                     /* sessions */
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-format1", ok_status() && rep.len == 12 &&
		   rep.data[1] == 10 && rep.data[2] == 1 && rep.data[3] == 1 &&
		   rep.data[6] == 1, "len %u", rep.len);
	cdb[2] = 2;                                     /* full TOC */
	cdb[1] = 2;
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-format2", ok_status() && rep.len == 48 &&
		   rep.data[7] == 0xa0 && rep.data[12] == 1 &&
		   rep.data[18] == 0xa1 && rep.data[29] == 0xa2 &&
		   rep.data[34] == m && rep.data[35] == s &&
		   rep.data[36] == f && rep.data[40] == 1,
		   "len %u", rep.len);
	cdb[2] = 5;
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-bad-format", check_cond(5), "status %#x",
		   rep.status);
	cdb[2] = 0;
	cdb[7] = 0;
	cdb[8] = 4;                                     /* header only */
	packet(cdb, 0x800, false, 0);
	test_check("atapi/toc-allocation-length", ok_status() &&
		   rep.len == 4, "len %u", rep.len);
}

static void test_misc(void)
{
	uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 0xff };
	packet(gc, 0x800, false, 0);
	test_check("atapi/get-configuration",
		   ok_status() && rep.len == 36 && rep.data[6] == 0 &&
		   rep.data[7] == 0x08 && rep.data[9] == 0x00 &&
		   rep.data[13] == 0x10 && rep.data[17] == 0x08 &&
		   rep.data[18] == 1 && rep.data[21] == 0x01 &&
		   rep.data[29] == 0x03, "len %u profile %#x", rep.len,
		   rep.data[7]);
	gc[1] = 2;                              /* one feature: core */
	gc[3] = 1;
	packet(gc, 0x800, false, 0);
	test_check("atapi/get-configuration-one", ok_status() &&
		   rep.len == 16 && rep.data[9] == 0x01, "len %u", rep.len);

	uint8_t ge[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	packet(ge, 0x800, false, 0);
	test_check("atapi/event-status-media",
		   ok_status() && rep.len == 8 && rep.data[1] == 6 &&
		   rep.data[2] == 0x04 && rep.data[3] == 0x10 &&
		   rep.data[4] == 0 && rep.data[5] == 0x02, "len %u %02x %02x",
		   rep.len, rep.data[4], rep.data[5]);
	ge[4] = 0x02;                           /* a class we lack */
	packet(ge, 0x800, false, 0);
	test_check("atapi/event-status-no-class", ok_status() &&
		   rep.len == 4 && rep.data[2] == 0x80, "len %u", rep.len);
	ge[1] = 0;                              /* asynchronous: refused */
	packet(ge, 0x800, false, 0);
	test_check("atapi/event-status-async-refused",
		   check_cond(5) && sense_is(5, 0x24, 0), "status %#x",
		   rep.status);

	uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0xff };
	packet(ms, 0x800, false, 0);
	test_check("atapi/mode-sense-capabilities",
		   ok_status() && rep.len == 28 && rep.data[1] == 26 &&
		   rep.data[8] == 0x2a && rep.data[9] == 0x12 &&
		   (rep.data[14] & 0x29) == 0x29 && !(rep.data[14] & 2),
		   "len %u page %#x", rep.len, rep.data[8]);
	ms[2] = 0x3f;
	packet(ms, 0x800, false, 0);
	test_check("atapi/mode-sense-all", ok_status() && rep.len == 36 &&
		   rep.data[8] == 0x01 && rep.data[16] == 0x2a,
		   "len %u", rep.len);
	ms[2] = 0xea;                           /* saved values */
	packet(ms, 0x800, false, 0);
	test_check("atapi/mode-sense-saved-refused",
		   check_cond(5) && sense_is(5, 0x39, 0), "status %#x",
		   rep.status);
	ms[2] = 0x0e;                           /* audio page: not ours */
	packet(ms, 0x800, false, 0);
	test_check("atapi/mode-sense-unknown-page", check_cond(5) &&
		   sense_is(5, 0x24, 0), "status %#x", rep.status);

	uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 0xff };
	packet(di, 0x800, false, 0);
	test_check("atapi/read-disc-information",
		   ok_status() && rep.len == 34 && rep.data[1] == 32 &&
		   rep.data[2] == 0x0e && rep.data[3] == 1 && rep.data[4] == 1,
		   "len %u", rep.len);
	uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff };
	packet(mech, 0x800, false, 0);
	test_check("atapi/mechanism-status", ok_status() && rep.len == 8 &&
		   rep.data[1] == 0, "len %u", rep.len);
	uint8_t speed[12] = { 0xbb, 0, 0xff, 0xff };
	packet(speed, 0x800, false, 0);
	test_check("atapi/set-cd-speed", ok_status(), "status %#x",
		   rep.status);
	uint8_t seek[12] = { 0x2b, 0, 0, 0, 0, 10 };
	packet(seek, 0x800, false, 0);
	test_check("atapi/seek", ok_status(), "status %#x", rep.status);
}

static void test_errors(void)
{
	uint8_t s;

	/* past the end: ILLEGAL REQUEST, LBA OUT OF RANGE */
	read10(CD_BLOCKS - 1, 2, 0x800, false);
	test_check("atapi/read-past-end", check_cond(5) && rep.len == 0 &&
		   sense_is(5, 0x21, 0), "status %#x error %#x", rep.status,
		   rep.error);
	read10(CD_BLOCKS, 1, 0x800, true);
	test_check("atapi/read-past-end-dma",
		   check_cond(5) && sense_is(5, 0x21, 0), "status %#x",
		   rep.status);
	/* CVE-2020-29443: LBA 0xffffffff on READ CD and READ(12) */
	uint8_t rcd[12] = { 0xbe, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0x10 };
	packet(rcd, 0x800, false, 0);
	test_check("atapi/read-cd-lba-minus-1",
		   check_cond(5) && rep.len == 0 && sense_is(5, 0x21, 0),
		   "status %#x", rep.status);
	rcd[9] = 0xf8;
	packet(rcd, 0x800, false, 0);
	test_check("atapi/read-cd-raw-lba-minus-1",
		   check_cond(5) && sense_is(5, 0x21, 0), "status %#x",
		   rep.status);
	uint8_t r12[12] = { 0xa8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2 };
	packet(r12, 0x800, false, 0);
	test_check("atapi/read12-lba-minus-1",
		   check_cond(5) && sense_is(5, 0x21, 0), "status %#x",
		   rep.status);
	uint8_t r12n[12] = { 0xa8, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff };
	packet(r12n, 0x800, false, 0);
	test_check("atapi/read12-huge-count",
		   check_cond(5) && sense_is(5, 0x21, 0), "status %#x",
		   rep.status);
	/* unknown opcodes */
	static const uint8_t unknown[] = { 0xff, 0x2a, 0x55, 0x01 };
	for (unsigned i = 0; i < sizeof(unknown); i++) {
		uint8_t cdb[12] = { unknown[i] };
		char name[64];

		packet(cdb, 0x800, false, 0);
		snprintf(name, sizeof(name), "atapi/unknown-opcode-%02x",
			 unknown[i]);
		test_check(name, check_cond(5) && sense_is(5, 0x20, 0),
			   "status %#x error %#x", rep.status, rep.error);
	}
	/* sense is cleared once read */
	test_check("atapi/sense-cleared", sense_is(0, 0, 0), "still set");

	/* CVE-2015-6855: ATA-only commands on a packet device abort */
	static const uint8_t ata_only[] = { 0xf8, 0x27, 0x20, 0x24, 0xc8,
					    0x25, 0x30, 0x91, 0xb0, 0xc6,
					    0xc4, 0x40, 0x06, 0x70 };
	bool all = true;
	for (unsigned i = 0; i < sizeof(ata_only); i++) {
		qts_outb(q, S_BASE + R_DEV, 0xa0);
		qts_outb(q, S_BASE + R_NSEC, 1);
		qts_outb(q, S_BASE + R_CMD, ata_only[i]);
		s = wait_not_busy(q, S_CTL);
		if (s != (S_DRDY | S_ERR) ||
		    qts_inb(q, S_BASE + R_ERR) != E_ABRT ||
		    qts_inw(q, S_BASE) != 0xffff) {
			test_fail("atapi/ata-only-commands-abort",
				  "command %#x: status %#x", ata_only[i], s);
			all = false;
			break;
		}
		st2();
	}
	if (all)
		test_pass("atapi/ata-only-commands-abort");
	/* the commands both kinds take still work */
	qts_outb(q, S_BASE + R_NSEC, 0x12);
	qts_outb(q, S_BASE + R_CMD, 0xe5);
	s = wait_not_busy(q, S_CTL);
	test_check("atapi/check-power-mode", s == (S_DRDY | S_DSC) &&
		   qts_inb(q, S_BASE + R_NSEC) == 0xff, "status %#x", s);
	qts_outb(q, S_BASE + R_FEAT, 0x03);
	qts_outb(q, S_BASE + R_NSEC, 0x22);
	qts_outb(q, S_BASE + R_CMD, 0xef);
	s = wait_not_busy(q, S_CTL);
	test_check("atapi/set-features", s == (S_DRDY | S_DSC), "%#x", s);
	/* DEVICE RESET: signature back, status 0 */
	qts_outb(q, S_BASE + R_CMD, 0x08);
	test_check("atapi/device-reset", qts_inb(q, S_CTL) == 0 &&
		   qts_inb(q, S_BASE + R_LBAM) == 0x14 &&
		   qts_inb(q, S_BASE + R_LBAH) == 0xeb, "status %#x",
		   qts_inb(q, S_CTL));
	/* a packet cut short by DEVICE RESET leaves nothing behind */
	qts_outb(q, S_BASE + R_CMD, 0xa0);
	wait_not_busy(q, S_CTL);
	qts_outw(q, S_BASE, 0x28);
	qts_outb(q, S_BASE + R_CMD, 0x08);
	test_check("atapi/device-reset-mid-packet",
		   qts_inb(q, S_CTL) == 0 && qts_inw(q, S_BASE) == 0xffff,
		   "status %#x", qts_inb(q, S_CTL));
}

static void test_tray(void)
{
	uint8_t cdb[12] = { 0 };
	uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
	uint8_t load[12] = { 0x1b, 0, 0, 0, 0x03 };
	uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
	uint8_t unlock[12] = { 0x1e };
	uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0xff };

	packet(lock, 0, false, 0);
	packet(ms, 0x800, false, 0);
	test_check("atapi/lock-shows-in-capabilities",
		   ok_status() && (rep.data[14] & 0x02), "byte %#x",
		   rep.data[14]);
	packet(eject, 0, false, 0);
	test_check("atapi/eject-while-locked",
		   check_cond(5) && sense_is(5, 0x53, 0x02), "status %#x",
		   rep.status);
	/* the host's eject is refused too and the guest hears of it */
	char *r = g_strdup(qts_qmp(q, "{\"execute\": \"eject\", \"arguments\": "
				"{\"device\": \"ide1-cd0\"}}"));
	bool refused = r && strstr(r, "\"error\"");
	uint8_t ge[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	packet(ge, 0x800, false, 0);
	test_check("atapi/qmp-eject-while-locked",
		   refused && rep.data[4] == 1 && rep.data[5] == 0x02,
		   "reply %s event %u", r ? r : "(none)", rep.data[4]);
	packet(unlock, 0, false, 0);

	/* CVE-2015-5154: START STOP UNIT must leave the data port shut */
	packet(eject, 0, false, 0);
	uint16_t w = qts_inw(q, S_BASE);
	for (unsigned i = 0; i < 70000; i++)
		qts_outw(q, S_BASE, 0x4141);
	test_check("atapi/eject-data-port-closed",
		   ok_status() && w == 0xffff && qts_inw(q, S_BASE) == 0xffff &&
		   st2() == (S_DRDY | S_DSC), "status %#x word %#x",
		   rep.status, w);
	packet(cdb, 0, false, 0);
	test_check("atapi/tray-open-not-ready",
		   check_cond(2) && sense_is(2, 0x3a, 0x02), "status %#x",
		   rep.status);
	uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	packet(mech, 0x800, false, 0);
	test_check("atapi/mechanism-status-open", ok_status() &&
		   rep.data[1] == 0x10, "byte 1 %#x", rep.data[1]);
	packet(load, 0, false, 0);
	packet(cdb, 0, false, 0);
	test_check("atapi/load-ready-again", ok_status(), "status %#x",
		   rep.status);

	/* QMP media change: a unit attention, once, then the new disc */
	g_free(r);
	r = g_strdup(qts_qmp(q, "{\"execute\": \"blockdev-change-medium\", "
		    "\"arguments\": {\"id\": \"ide1-cd0\", \"filename\": "
		    "\"%s\", \"format\": \"raw\"}}", iso2));
	if (!r || !strstr(r, "\"return\"")) {
		test_fail("atapi/qmp-change-medium", "reply %s", r ? r : "-");
		g_free(r);
		return;
	}
	packet(cdb, 0, false, 0);
	bool ua = check_cond(6) && sense_is(6, 0x28, 0);
	packet(cdb, 0, false, 0);
	test_check("atapi/unit-attention-after-change", ua && ok_status(),
		   "status %#x", rep.status);
	uint8_t capc[12] = { 0x25 };
	packet(capc, 0x200, false, 0);
	test_check("atapi/new-disc-capacity", ok_status() &&
		   rep.data[3] == 9, "last block %u", rep.data[3]);
	/* INQUIRY does not consume a unit attention */
	g_free(r);
	r = g_strdup(qts_qmp(q, "{\"execute\": \"change\", \"arguments\": "
		    "{\"device\": \"ide1-cd0\", \"target\": \"%s\", "
		    "\"arg\": \"raw\"}}", iso));
	uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	packet(inq, 0x200, false, 0);
	bool inq_ok = ok_status();
	packet(capc, 0x200, false, 0);
	test_check("atapi/inquiry-passes-unit-attention",
		   r && strstr(r, "\"return\"") && inq_ok && check_cond(6),
		   "status %#x", rep.status);
	/* QMP eject: NOT READY, medium not present */
	g_free(r);
	r = g_strdup(qts_qmp(q, "{\"execute\": \"eject\", \"arguments\": "
		    "{\"device\": \"ide1-cd0\"}}"));
	packet(cdb, 0, false, 0);
	test_check("atapi/qmp-eject-no-medium",
		   r && strstr(r, "\"return\"") && check_cond(2) &&
		   sense_is(2, 0x3a, 0x02), "status %#x", rep.status);
	packet(ge, 0x800, false, 0);
	test_check("atapi/event-media-removal", ok_status() &&
		   rep.data[4] == 3 && rep.data[5] == 0x01, "event %u %#x",
		   rep.data[4], rep.data[5]);
	g_free(r);
}

static void test_empty(void)
{
	uint8_t cdb[12] = { 0 };

	unit_sel = 1;
	packet(cdb, 0, false, 0);
	test_check("atapi/empty-test-unit-ready",
		   check_cond(2) && sense_is(2, 0x3a, 0x01), "status %#x",
		   rep.status);
	uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	packet(inq, 0x200, false, 0);
	test_check("atapi/empty-inquiry", ok_status() && rep.len == 36,
		   "status %#x", rep.status);
	test_check("atapi/empty-request-sense", sense_is(2, 0x3a, 0x01),
		   "no medium not reported");
	read10(0, 1, 0x800, false);
	test_check("atapi/empty-read", check_cond(2) && rep.len == 0,
		   "status %#x", rep.status);
	uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24 };
	packet(toc, 0x800, false, 0);
	test_check("atapi/empty-toc", check_cond(2), "status %#x", rep.status);
	uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 0xff };
	packet(gc, 0x800, false, 0);
	test_check("atapi/empty-get-configuration", ok_status() &&
		   rep.data[7] == 0, "profile %#x", rep.data[7]);
	uint8_t ge[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	packet(ge, 0x800, false, 0);
	test_check("atapi/empty-event-status", ok_status() &&
		   rep.data[5] == 0, "media status %#x", rep.data[5]);
	qts_outb(q, S_BASE + R_CMD, 0xe7);      /* FLUSH on an empty drive */
	test_check("atapi/empty-flush",
		   wait_not_busy(q, S_CTL) == (S_DRDY | S_DSC), "status %#x",
		   qts_inb(q, S_CTL));
	st2();
	/* a disc arrives: unit attention, then it reads */
	char *r = g_strdup(qts_qmp(q, "{\"execute\": \"blockdev-change-medium\", "
				"\"arguments\": {\"id\": \"ide1-cd1\", "
				"\"filename\": \"%s\", \"format\": \"raw\"}}",
				iso));
	packet(cdb, 0, false, 0);
	bool ua = check_cond(6);
	uint64_t bad;
	read10(3, 1, 0x800, false);
	expect_offsets(rep.data, 3 * 2048, 2048, &bad);
	test_check("atapi/empty-drive-gets-disc",
		   r && strstr(r, "\"return\"") && ua && ok_status() &&
		   bad == UINT64_MAX, "reply %s status %#x", r ? r : "-",
		   rep.status);
	g_free(r);
	unit_sel = 0;
}

/* Both channels moving data at once: the disk on the primary and the
 * CD on the secondary, both bus masters started back to back, several
 * chunks each, with a last chunk of a different size. */
static void test_two_channels(void)
{
	uint32_t prd1[18], prd2[20];
	uint64_t bad1, bad2;
	uint8_t *buf = g_malloc(CD_BLOCKS * 2048);
	unsigned n;

	for (n = 0; n < 9; n++) {               /* 1088 sectors, 544 KiB */
		prd1[2 * n] = 0x200000 + n * 0x10000;
		prd1[2 * n + 1] = n == 8 ? (0x8000 | PRD_EOT) : 0;
	}
	for (n = 0; n < 10; n++) {              /* 300 blocks, 600 KiB */
		prd2[2 * n] = 0x300000 + n * 0x10000;
		prd2[2 * n + 1] = n == 9 ? (0x6000 | PRD_EOT) : 0;
	}
	qts_outb(q, BM_BASE + BM_CMD, 0);
	qts_outb(q, BM_BASE + BM_STATUS, BM_INTR | BM_ERROR);
	prd_write(q, 0x90000, prd1, 9);
	qts_outl(q, BM_BASE + BM_PRD, 0x90000);
	qts_outb(q, P_BASE + R_DEV, 0x40);
	qts_outb(q, P_BASE + R_NSEC, 1088 >> 8);
	qts_outb(q, P_BASE + R_LBAL, 0);
	qts_outb(q, P_BASE + R_LBAM, 0);
	qts_outb(q, P_BASE + R_LBAH, 0);
	qts_outb(q, P_BASE + R_NSEC, 1088 & 0xff);
	qts_outb(q, P_BASE + R_LBAL, 0);
	qts_outb(q, P_BASE + R_CMD, 0x25);      /* READ DMA EXT */

	uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 0, 0, CD_BLOCKS >> 8,
			    CD_BLOCKS & 0xff };
	qts_outb(q, BM2 + BM_CMD, 0);
	qts_outb(q, BM2 + BM_STATUS, BM_INTR | BM_ERROR);
	prd_write(q, 0x98000, prd2, 10);
	qts_outl(q, BM2 + BM_PRD, 0x98000);
	qts_outb(q, S_BASE + R_DEV, 0xa0);
	qts_outb(q, S_BASE + R_FEAT, 1);
	qts_outb(q, S_BASE + R_CMD, 0xa0);
	wait_not_busy(q, S_CTL);
	write_words(q, S_BASE, cdb, 12);

	qts_outb(q, BM_BASE + BM_CMD, BM_START | BM_TOMEM);
	qts_outb(q, BM2 + BM_CMD, BM_START | BM_TOMEM);
	uint8_t b1 = wait_bm(q, BM_BASE), b2 = wait_bm(q, BM2);
	uint8_t s1 = wait_not_busy(q, P_CTL), s2 = wait_not_busy(q, S_CTL);
	qts_outb(q, BM_BASE + BM_CMD, 0);
	qts_outb(q, BM2 + BM_CMD, 0);
	qts_memread(q, 0x200000, buf, 544 * 1024);
	expect_offsets(buf, 0, 544 * 1024, &bad1);
	qts_memread(q, 0x300000, buf, CD_BLOCKS * 2048);
	expect_offsets(buf, 0, CD_BLOCKS * 2048, &bad2);
	test_check("atapi/two-channels-dma-at-once",
		   b1 == BM_INTR && b2 == BM_INTR && s1 == (S_DRDY | S_DSC) &&
		   s2 == (S_DRDY | S_DSC) && bad1 == UINT64_MAX &&
		   bad2 == UINT64_MAX,
		   "bm %#x/%#x status %#x/%#x bad %lld/%lld", b1, b2, s1, s2,
		   (long long)bad1, (long long)bad2);
	qts_inb(q, P_BASE + R_STAT);
	st2();
	g_free(buf);
}

int main(void)
{
	char *args;

	iso = make_image("cd.iso", CD_BLOCKS * 2048ull, fill_offsets);
	iso2 = make_image("cd2.iso", 10 * 2048ull, fill_offsets);
	hd = make_image("hd.img", 2 << 20, fill_offsets);
	args = g_strdup_printf(
		"-m 64 -drive file=%s,if=ide,index=2,media=cdrom,format=raw "
		"-drive if=ide,index=3,media=cdrom "
		"-drive file=%s,if=ide,index=0,format=raw", iso, hd);
	q = ide_start(args);
	g_free(args);
	if (!q) {
		test_fail("atapi/start", "qemu-dm did not start");
		return 1;
	}
	test_identify();
	test_basic();
	test_toc();
	test_misc();
	test_errors();
	test_two_channels();
	test_empty();
	unit_sel = 0;
	test_tray();
	test_check("atapi/still-running",
		   qts_pci_read(q, IDE_DEVFN, 0, 4) == 0x70108086, "gone");
	qts_quit(q);
	return test_exit();
}
