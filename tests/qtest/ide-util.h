/*
 * Helpers shared by ide-test and atapi-test: images in a temporary
 * directory, the PIIX3 IDE function's ports, polling a channel until a
 * command settles, and PRD tables in guest memory.
 */
#ifndef TESTS_QTEST_IDE_UTIL_H
#define TESTS_QTEST_IDE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define IDE_DEVFN   (1 << 3 | 1)
#define BM_BASE     0xc000
#define P_BASE      0x1f0
#define P_CTL       0x3f6
#define S_BASE      0x170
#define S_CTL       0x376

#define R_DATA 0
#define R_ERR  1
#define R_FEAT 1
#define R_NSEC 2
#define R_LBAL 3
#define R_LBAM 4
#define R_LBAH 5
#define R_DEV  6
#define R_STAT 7
#define R_CMD  7

#define S_ERR  0x01
#define S_DRQ  0x08
#define S_DSC  0x10
#define S_DF   0x20
#define S_DRDY 0x40
#define S_BSY  0x80

#define E_ABRT 0x04
#define E_IDNF 0x10

#define BM_CMD    0
#define BM_STATUS 2
#define BM_PRD    4
#define BM_START  0x01
#define BM_TOMEM  0x08
#define BM_ACTIVE 0x01
#define BM_ERROR  0x02
#define BM_INTR   0x04

#define PRD_EOT 0x80000000u

static char *tmp_dir;

static inline void tmp_cleanup(void)
{
	if (tmp_dir) {
		char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);

		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmp_dir);
		g_free(cmd);
	}
}

/* A raw image of size bytes; fill(buf, offset, len) writes its contents
 * (NULL: sparse zeros). */
static inline char *make_image(const char *name, uint64_t size,
			void (*fill)(uint8_t *, uint64_t, size_t))
{
	char *path;
	int fd;

	if (!tmp_dir) {
		tmp_dir = g_strdup("/tmp/ide-test.XXXXXX");
		if (!g_mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(tmp_cleanup);
	}
	path = g_strdup_printf("%s/%s", tmp_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror(path);
		exit(1);
	}
	if (fill) {
		uint8_t *buf = g_malloc(1 << 20);

		for (uint64_t off = 0; off < size; off += 1 << 20) {
			size_t n = size - off < (1 << 20) ? size - off : 1 << 20;

			fill(buf, off, n);
			if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
				perror("pwrite");
				exit(1);
			}
		}
		g_free(buf);
	}
	close(fd);
	return path;
}

/* Every 4-byte word holds its own byte offset in the image, and the
 * sector's first byte its number's low bits, so any misplaced byte
 * shows. */
static inline void fill_offsets(uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i += 4) {
		uint32_t v = (uint32_t)(off + i) ^ 0xa5000000u;

		memcpy(buf + i, &v, 4);
	}
}

static inline void expect_offsets(const uint8_t *buf, uint64_t off, size_t len,
			   uint64_t *bad)
{
	for (size_t i = 0; i + 4 <= len; i += 4) {
		uint32_t v, want = (uint32_t)(off + i) ^ 0xa5000000u;

		memcpy(&v, buf + i, 4);
		if (v != want) {
			*bad = off + i;
			return;
		}
	}
	*bad = UINT64_MAX;
}

static inline int file_pread(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static inline int file_pwrite(const char *path, uint64_t off, const void *buf,
		       size_t len)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pwrite(fd, buf, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Map BAR4 and turn on I/O decoding and bus mastering. */
static inline void ide_pci_enable(struct qts *q)
{
	qts_pci_write(q, IDE_DEVFN, 0x20, BM_BASE, 4);
	qts_pci_write(q, IDE_DEVFN, 0x04, 0x0005, 2);
	qts_pci_write(q, IDE_DEVFN, 0x40, 0x8000, 2);   /* IDETIM decode */
	qts_pci_write(q, IDE_DEVFN, 0x42, 0x8000, 2);
}

/* Poll the alternate status (which leaves the interrupt alone) until
 * BSY clears; disk completions run in qemu-dm's main loop between our
 * requests.  Returns the status, or 0xff after ~20 s of BSY. */
static inline uint8_t wait_not_busy(struct qts *q, uint16_t ctl)
{
	for (unsigned i = 0; i < 200000; i++) {
		uint8_t st = qts_inb(q, ctl);

		if (!(st & S_BSY))
			return st;
		if (i > 1000)
			g_usleep(100);
	}
	return 0xff;
}

/* Poll the bus master status until the transfer stops being "active
 * without interrupt". */
static inline uint8_t wait_bm(struct qts *q, uint16_t bm)
{
	for (unsigned i = 0; i < 200000; i++) {
		uint8_t st = qts_inb(q, bm + BM_STATUS);

		if ((st & (BM_ACTIVE | BM_INTR)) != BM_ACTIVE)
			return st;
		if (i > 1000)
			g_usleep(100);
	}
	return 0xff;
}

static inline void read_words(struct qts *q, uint16_t base, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i + 1 < len; i += 2) {
		uint16_t w = qts_inw(q, base + R_DATA);

		p[i] = (uint8_t)w;
		p[i + 1] = (uint8_t)(w >> 8);
	}
}

static inline void write_words(struct qts *q, uint16_t base, const void *buf,
			size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i + 1 < len; i += 2)
		qts_outw(q, base + R_DATA, (uint16_t)(p[i] | p[i + 1] << 8));
}

/* A PRD table at tbl: n entries (addr, len | flags). */
static inline void prd_write(struct qts *q, uint64_t tbl, const uint32_t *e,
		      unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		qts_writel(q, tbl + 8 * i, e[2 * i]);
		qts_writel(q, tbl + 8 * i + 4, e[2 * i + 1]);
	}
}

/* qemu-dm with the given drives, or NULL (the test reports it). */
static inline struct qts *ide_start(const char *args)
{
	struct qts *q = qts_start(args);

	if (q) {
		qts_irq_intercept(q);
		ide_pci_enable(q);
	}
	return q;
}

#endif
