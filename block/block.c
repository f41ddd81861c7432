/*
 * Images: picking the format driver, and the guest's requests on the way
 * to it.  Every request is checked against the image here once, so a
 * format driver sees only requests inside the disk, on sector boundaries,
 * and writes only on writable images.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "block/block-int.h"
#include "dm/dm.h"

/* The formats qemu-dm reads.  qcow2 and vmdk go here. */
static const struct blk_driver *const drivers[] = {
	&blk_driver_raw,
};

/*
 * Formats we recognise but cannot read: opening one as raw would show the
 * guest its metadata and let it write over it, so we refuse by name.
 */
static const struct {
	const char *name;
	unsigned offset;
	const char *magic;
	unsigned len;
} foreign[] = {
	{ "qcow2", 0, "QFI\xfb", 4 },
	{ "vmdk", 0, "KDMV", 4 },
	{ "vmdk", 0, "COWD", 4 },
	{ "vmdk", 0, "# Disk DescriptorFile", 21 },
	{ "vpc", 0, "conectix", 8 },
	{ "vhdx", 0, "vhdxfile", 8 },
	{ "vdi", 0x40, "\x7f\x10\xda\xbe", 4 },
	{ "qed", 0, "QED\0", 4 },
	{ "luks", 0, "LUKS\xba\xbe", 6 },
	{ "bochs", 0, "Bochs Virtual HD Image", 22 },
	{ "parallels", 0, "WithoutFreeSpace", 16 },
	{ "cloop", 0, "#!/bin/sh\n#V2.0 Format", 22 },
};

static GPtrArray *open_images;

static const struct blk_driver *driver_by_name(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

static bool known_foreign(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(foreign); i++)
		if (!strcmp(foreign[i].name, name))
			return true;
	return false;
}

static const struct blk_driver *probe(struct blk_file *f, char **err)
{
	uint8_t head[4096];
	size_t len = f->size < sizeof(head) ? (size_t)f->size : sizeof(head);
	const struct blk_driver *best = NULL;
	int best_score = 0, ret;

	ret = blk_file_pread(f, 0, head, len);
	if (ret < 0) {
		*err = g_strdup_printf("%s: cannot read its first sector: %s",
				       f->filename, strerror(-ret));
		return NULL;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++) {
		int s = drivers[i]->probe(head, len, f->filename);

		if (s > best_score) {
			best_score = s;
			best = drivers[i];
		}
	}
	/* Only raw claims it (raw says 1 to anything): make sure it is not
	 * a format we know and cannot read. */
	if (best_score <= 1) {
		for (size_t i = 0; i < G_N_ELEMENTS(foreign); i++) {
			if (foreign[i].offset + foreign[i].len > len ||
			    memcmp(head + foreign[i].offset, foreign[i].magic,
				   foreign[i].len))
				continue;
			*err = g_strdup_printf(
				"%s is a %s image, which qemu-dm cannot read "
				"yet; convert it with qemu-img convert -O raw, "
				"or give format=raw to see its bytes as they are",
				f->filename, foreign[i].name);
			return NULL;
		}
	}
	if (!best)
		*err = g_strdup_printf("%s: unknown image format", f->filename);
	return best;
}

struct blk *blk_open(const char *filename, const struct blk_open_opts *o,
		     char **err)
{
	const struct blk_driver *drv = NULL;
	struct blk_file *f;
	struct blk *b;

	if (o->format) {
		drv = driver_by_name(o->format);
		if (!drv) {
			*err = g_strdup_printf(
				"%s: format=%s %s", filename, o->format,
				known_foreign(o->format) ?
				"is not supported by qemu-dm yet" :
				"is not an image format qemu-dm knows (raw)");
			return NULL;
		}
	}
	f = blk_file_open(filename, o, err);
	if (!f)
		return NULL;
	if (!drv && !(drv = probe(f, err))) {
		blk_file_close(f);
		return NULL;
	}
	b = g_new0(struct blk, 1);
	b->drv = drv;
	b->file = f;
	b->read_only = o->read_only;
	b->cache = o->cache;
	if (drv->open(b, err) < 0) {
		blk_file_close(f);
		g_free(b);
		return NULL;
	}
	if (!open_images)
		open_images = g_ptr_array_new();
	g_ptr_array_add(open_images, b);
	return b;
}

void blk_close(struct blk *b)
{
	if (!b)
		return;
	blk_drain(b);
	if (b->drv->close)
		b->drv->close(b);
	blk_file_close(b->file);
	g_ptr_array_remove(open_images, b);
	g_free(b);
}

uint64_t blk_size(const struct blk *b) { return b->size; }
bool blk_is_read_only(const struct blk *b) { return b->read_only; }
bool blk_can_discard(const struct blk *b) { return !b->read_only && b->file->can_discard; }
const char *blk_filename(const struct blk *b) { return b->file->filename; }
const char *blk_format_name(const struct blk *b) { return b->drv->name; }

bool blk_has_write_cache(const struct blk *b)
{
	return b->cache == BLK_CACHE_WRITEBACK || b->cache == BLK_CACHE_NONE ||
	       b->cache == BLK_CACHE_UNSAFE;
}

/* ---- Requests ---- */

struct blk_req *blk_req_new(enum blk_op op, uint64_t offset,
			    const struct iovec *iov, int iovcnt, uint64_t len,
			    void (*complete)(struct blk_req *), void *opaque)
{
	struct blk_req *r = g_new0(struct blk_req, 1);

	r->op = op;
	r->offset = offset;
	r->len = len;
	if (iovcnt > 0) {
		r->iov = g_memdup2(iov, sizeof(*iov) * (size_t)iovcnt);
		r->iovcnt = iovcnt;
	}
	r->complete = complete;
	r->opaque = opaque;
	return r;
}

void blk_req_free(struct blk_req *r)
{
	g_free(r->iov);
	g_free(r);
}

static void guest_req_complete(struct blk_req *r)
{
	struct blk *b = r->blk;

	b->inflight--;
	r->cb(r->cb_opaque, r->ret);
	blk_req_free(r);
}

static void submit(struct blk *b, enum blk_op op, uint64_t offset,
		   const struct iovec *iov, int iovcnt, uint64_t len,
		   blk_done_fn *cb, void *opaque)
{
	struct blk_req *r = blk_req_new(op, offset, iov, iovcnt, len,
					guest_req_complete, NULL);
	bool ranged = op != BLK_OP_FLUSH;

	r->blk = b;
	r->cb = cb;
	r->cb_opaque = opaque;
	b->inflight++;
	if (iovcnt < 0 || (ranged && ((offset | len) % BLK_SECTOR_SIZE ||
				      offset > b->size ||
				      len > b->size - offset))) {
		dm_log_guest("block: %s: request at byte %llu, %llu bytes, "
			     "outside the image or unaligned",
			     blk_filename(b), (unsigned long long)offset,
			     (unsigned long long)len);
		blk_req_done(r, -EIO);
		return;
	}
	if (b->read_only && (op == BLK_OP_WRITE || op == BLK_OP_DISCARD)) {
		blk_req_done(r, -EROFS);
		return;
	}
	if (len == 0 && op != BLK_OP_FLUSH) {
		blk_req_done(r, 0);
		return;
	}
	b->drv->submit(b, r);
}

static uint64_t iov_len(const struct iovec *iov, int iovcnt)
{
	uint64_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

void blk_aio_readv(struct blk *b, uint64_t offset, const struct iovec *iov,
		   int iovcnt, blk_done_fn *cb, void *opaque)
{
	submit(b, BLK_OP_READ, offset, iov, iovcnt, iov_len(iov, iovcnt), cb,
	       opaque);
}

void blk_aio_writev(struct blk *b, uint64_t offset, const struct iovec *iov,
		    int iovcnt, blk_done_fn *cb, void *opaque)
{
	submit(b, BLK_OP_WRITE, offset, iov, iovcnt, iov_len(iov, iovcnt), cb,
	       opaque);
}

void blk_aio_flush(struct blk *b, blk_done_fn *cb, void *opaque)
{
	submit(b, BLK_OP_FLUSH, 0, NULL, 0, 0, cb, opaque);
}

void blk_aio_discard(struct blk *b, uint64_t offset, uint64_t len,
		     blk_done_fn *cb, void *opaque)
{
	submit(b, BLK_OP_DISCARD, offset, NULL, 0, len, cb, opaque);
}

void blk_drain(struct blk *b)
{
	while (b->inflight)
		blk_completions_run(true);
}

void blk_drain_all(void)
{
	for (guint i = 0; open_images && i < open_images->len; i++)
		blk_drain(g_ptr_array_index(open_images, i));
}

struct sync_wait {
	bool done;
	int ret;
};

static void sync_done(void *opaque, int ret)
{
	struct sync_wait *w = opaque;

	w->ret = ret;
	w->done = true;
}

static int sync_rw(struct blk *b, bool write, uint64_t offset, void *buf,
		   size_t len)
{
	struct sync_wait w = { false, 0 };
	struct iovec v = { buf, len };

	if (write)
		blk_aio_writev(b, offset, &v, 1, sync_done, &w);
	else
		blk_aio_readv(b, offset, &v, 1, sync_done, &w);
	while (!w.done)
		blk_completions_run(true);
	return w.ret;
}

int blk_pread(struct blk *b, uint64_t offset, void *buf, size_t len)
{
	return sync_rw(b, false, offset, buf, len);
}

int blk_pwrite(struct blk *b, uint64_t offset, const void *buf, size_t len)
{
	return sync_rw(b, true, offset, (void *)buf, len);
}
