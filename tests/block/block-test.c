/*
 * The block layer against real files: every cache mode reads and writes
 * the right bytes through its own road (libaio for O_DIRECT, the
 * non-blocking fast path or a worker thread for the page cache),
 * including buffers that O_DIRECT cannot take as they are, more pieces
 * than one system call takes, and requests outside the image.
 * Completions must never run inside the call that submitted them.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-int.h"
#include "dm/dm.h"
#include "tests/testlib.h"

/* The one piece of qemu-dm the block layer calls. */
void dm_log(int level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define IMG_SIZE (8u << 20)

static char *img;
static bool in_submit;

struct wait {
	bool done, inline_call;
	int ret;
};

static void on_done(void *opaque, int ret)
{
	struct wait *w = opaque;

	w->done = true;
	w->ret = ret;
	w->inline_call = in_submit;
}

static int wait_for(struct wait *w)
{
	while (!w->done)
		blk_completions_run(true);
	return w->ret;
}

static int rw(struct blk *b, bool write, uint64_t off, struct iovec *iov,
	      int cnt, bool *was_inline)
{
	struct wait w = { 0 };

	in_submit = true;
	if (write)
		blk_aio_writev(b, off, iov, cnt, on_done, &w);
	else
		blk_aio_readv(b, off, iov, cnt, on_done, &w);
	in_submit = false;
	wait_for(&w);
	if (was_inline)
		*was_inline = w.inline_call;
	return w.ret;
}

static void pattern(uint8_t *p, size_t n, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((off + i) * 7 + seed + ((off + i) >> 9));
}

static const char *cache_name[] = {
	"writeback", "none", "writethrough", "directsync", "unsafe"
};

static void test_cache_mode(enum blk_cache c)
{
	struct blk_open_opts o = { .format = "raw", .cache = c };
	char name[96], *err = NULL;
	struct blk *b = blk_open(img, &o, &err);
	uint8_t *buf, *rd, *file, *u;
	struct iovec iov[3];
	bool inl = false;
	int ret;

	snprintf(name, sizeof(name), "block/%s/open", cache_name[c]);
	if (!b) {
		test_fail(name, "%s", err);
		g_free(err);
		return;
	}
	test_pass(name);
	/* Aligned: 64 KiB at 1 MiB. */
	buf = aligned_alloc(4096, 1 << 20);
	rd = aligned_alloc(4096, 1 << 20);
	pattern(buf, 65536, 1 << 20, c);
	iov[0] = (struct iovec){ buf, 65536 };
	ret = rw(b, true, 1 << 20, iov, 1, &inl);
	snprintf(name, sizeof(name), "block/%s/write-aligned", cache_name[c]);
	test_check(name, ret == 0 && !inl, "ret %d inline %d", ret, inl);
	memset(rd, 0, 65536);
	iov[0] = (struct iovec){ rd, 65536 };
	ret = rw(b, false, 1 << 20, iov, 1, &inl);
	snprintf(name, sizeof(name), "block/%s/read-back", cache_name[c]);
	test_check(name, ret == 0 && !inl && !memcmp(buf, rd, 65536),
		   "ret %d inline %d or data differ", ret, inl);

	/* Unaligned guest buffers, three pieces, at an odd sector: O_DIRECT
	 * needs the bounce buffer with read-modify-write. */
	u = buf + 200001;
	pattern(u, 512 * 3, 512 * 4097, c + 1);
	iov[0] = (struct iovec){ u, 100 };
	iov[1] = (struct iovec){ u + 100, 1000 };
	iov[2] = (struct iovec){ u + 1100, 512 * 3 - 1100 };
	ret = rw(b, true, 512 * 4097, iov, 3, NULL);
	memset(rd, 0, 8192);
	iov[0] = (struct iovec){ rd + 3, 512 * 3 };
	ret |= rw(b, false, 512 * 4097, iov, 1, NULL);
	snprintf(name, sizeof(name), "block/%s/unaligned-buffers", cache_name[c]);
	test_check(name, ret == 0 && !memcmp(u, rd + 3, 512 * 3),
		   "ret %d or data differ", ret);
	/* The neighbours of that odd sector are untouched. */
	{
		uint8_t want[512], got[512];
		struct iovec v = { got, 512 };

		pattern(want, 512, 512 * 4096, 99);
		ret = rw(b, false, 512 * 4096, &v, 1, NULL);
		snprintf(name, sizeof(name), "block/%s/rmw-keeps-neighbours",
			 cache_name[c]);
		test_check(name, ret == 0 && !memcmp(want, got, 512),
			   "ret %d or sector 4096 changed", ret);
	}

	/* Past the end, and a request straddling it. */
	iov[0] = (struct iovec){ rd, 4096 };
	ret = rw(b, false, IMG_SIZE, iov, 1, &inl);
	snprintf(name, sizeof(name), "block/%s/read-past-end", cache_name[c]);
	test_check(name, ret == -EIO && !inl, "ret %d inline %d", ret, inl);
	ret = rw(b, true, IMG_SIZE - 2048, iov, 1, NULL);
	snprintf(name, sizeof(name), "block/%s/write-straddling-end",
		 cache_name[c]);
	test_check(name, ret == -EIO, "ret %d", ret);
	{
		struct wait w = { 0 };

		in_submit = true;
		blk_aio_flush(b, on_done, &w);
		in_submit = false;
		ret = wait_for(&w);
		snprintf(name, sizeof(name), "block/%s/flush", cache_name[c]);
		test_check(name, ret == 0 && !w.inline_call, "ret %d", ret);
	}
	blk_close(b);

	/* What the file holds, read without the block layer. */
	file = NULL;
	{
		gsize len;

		g_file_get_contents(img, (gchar **)&file, &len, NULL);
	}
	snprintf(name, sizeof(name), "block/%s/in-the-file", cache_name[c]);
	test_check(name, file && !memcmp(file + (1 << 20), buf, 65536) &&
		   !memcmp(file + 512 * 4097, u, 512 * 3),
		   "the image file does not hold what was written");
	g_free(file);
	free(buf);
	free(rd);
}

/* More pieces than one preadv takes (IDE PRD tables can have 8192). */
static void test_many_pieces(void)
{
	struct blk_open_opts o = { .format = "raw" };
	char *err = NULL;
	struct blk *b = blk_open(img, &o, &err);
	enum { N = 3000 };
	struct iovec *iov = g_new(struct iovec, N);
	uint8_t *buf = g_malloc(N * 512), *rd = g_malloc0(N * 512);
	int ret;

	pattern(buf, N * 512, 0, 5);
	for (int i = 0; i < N; i++)
		iov[i] = (struct iovec){ buf + (size_t)i * 512, 512 };
	ret = rw(b, true, 0, iov, N, NULL);
	for (int i = 0; i < N; i++)
		iov[i] = (struct iovec){ rd + (size_t)(N - 1 - i) * 512, 512 };
	ret |= rw(b, false, 0, iov, N, NULL);
	/* Read into reversed pieces: piece i holds sector i. */
	bool ok = ret == 0;
	for (int i = 0; ok && i < N; i++)
		ok = !memcmp(rd + (size_t)(N - 1 - i) * 512, buf + (size_t)i * 512, 512);
	test_check("block/more-pieces-than-iov-max", ok, "ret %d or data differ",
		   ret);
	blk_close(b);
	g_free(iov);
	g_free(buf);
	g_free(rd);
}

static void test_read_only_and_discard(void)
{
	struct blk_open_opts o = { .format = "raw", .read_only = true };
	char *err = NULL;
	struct blk *b = blk_open(img, &o, &err);
	uint8_t sec[512] = { 0 };
	struct iovec v = { sec, 512 };
	struct stat before, after;
	int ret;

	ret = rw(b, true, 0, &v, 1, NULL);
	test_check("block/write-to-read-only", ret == -EROFS, "ret %d", ret);
	blk_close(b);

	o.read_only = false;
	b = blk_open(img, &o, &err);
	stat(img, &before);
	{
		struct wait w = { 0 };

		blk_aio_discard(b, 2 << 20, 2 << 20, on_done, &w);
		ret = wait_for(&w);
	}
	stat(img, &after);
	test_check("block/discard-frees-space",
		   ret == 0 && after.st_blocks < before.st_blocks,
		   "ret %d, %lld blocks before, %lld after", ret,
		   (long long)before.st_blocks, (long long)after.st_blocks);
	{
		uint8_t zero[4096] = { 0 }, got[4096];
		struct iovec g = { got, sizeof(got) };

		memset(got, 0xaa, sizeof(got));
		ret = rw(b, false, 3 << 20, &g, 1, NULL);
		test_check("block/discarded-reads-zero",
			   ret == 0 && !memcmp(zero, got, sizeof(got)),
			   "ret %d or not zeros", ret);
	}
	blk_close(b);
}

/* Many requests in flight at once, completed in any order. */
static void test_in_flight(void)
{
	struct blk_open_opts o = { .format = "raw", .cache = BLK_CACHE_NONE };
	char *err = NULL;
	struct blk *b = blk_open(img, &o, &err);
	enum { N = 64 };
	struct wait w[N];
	uint8_t *buf = aligned_alloc(4096, N * 4096);
	struct iovec v[N];
	int bad = 0;

	memset(w, 0, sizeof(w));
	pattern(buf, N * 4096, 0, 77);
	for (int i = 0; i < N; i++) {
		v[i] = (struct iovec){ buf + i * 4096, 4096 };
		blk_aio_writev(b, (uint64_t)i * 8192, &v[i], 1, on_done, &w[i]);
	}
	blk_drain(b);
	for (int i = 0; i < N; i++)
		bad += !w[i].done || w[i].ret;
	memset(buf, 0, N * 4096);
	memset(w, 0, sizeof(w));
	for (int i = 0; i < N; i++)
		blk_aio_readv(b, (uint64_t)i * 8192, &v[i], 1, on_done, &w[i]);
	blk_drain(b);
	for (int i = 0; i < N; i++) {
		uint8_t want[4096];

		pattern(want, 4096, (uint64_t)i * 4096, 77);
		bad += !w[i].done || w[i].ret || memcmp(want, buf + i * 4096, 4096);
	}
	test_check("block/64-in-flight-then-drain", bad == 0, "%d bad", bad);
	blk_close(b);
	free(buf);
}

int main(void)
{
	char tmpl[] = "/var/tmp/block-test.XXXXXX";
	int fd = mkstemp(tmpl);
	uint8_t *init = g_malloc(IMG_SIZE);

	if (fd < 0) {
		printf("FAIL: block: mkstemp: %s\n", strerror(errno));
		return 1;
	}
	img = tmpl;
	pattern(init, IMG_SIZE, 0, 99);
	if (write(fd, init, IMG_SIZE) != IMG_SIZE) {
		printf("FAIL: block: cannot write the image\n");
		return 1;
	}
	close(fd);
	g_free(init);
	for (int c = BLK_CACHE_WRITEBACK; c <= BLK_CACHE_UNSAFE; c++)
		test_cache_mode((enum blk_cache)c);
	test_many_pieces();
	test_read_only_and_discard();
	test_in_flight();
	unlink(img);
	return test_exit();
}
