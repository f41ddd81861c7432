/*
 * Inside the block layer: what a format driver sees.  Devices include
 * block/block.h only.
 *
 * An image is a stack of two layers: the format driver (raw, qcow2,
 * vmdk: struct blk_driver, one ops table per format) turns a guest
 * request into requests on the host file it was opened on (struct
 * blk_file: a regular file or a block device, read through libaio or a
 * worker thread).  Every request, guest's or driver's, is a struct
 * blk_req whose complete() runs from the main loop when it is done.
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include <libaio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/block.h"

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_DISCARD };

struct blk_req {
	enum blk_op op;
	uint64_t offset, len;           /* bytes */
	struct iovec *iov;              /* owned copy of the caller's */
	int iovcnt;
	int ret;                        /* 0 or -errno, set when done */
	void (*complete)(struct blk_req *r);
	void *opaque;                   /* the submitter's */
	/* A guest request's (block.c). */
	struct blk *blk;
	blk_done_fn *cb;
	void *cb_opaque;
	/* The file layer's. */
	struct blk_file *file;
	struct iocb iocb;
	struct blk_req *next;
};

/* A new request (iov copied); free with blk_req_free. */
struct blk_req *blk_req_new(enum blk_op op, uint64_t offset,
			    const struct iovec *iov, int iovcnt, uint64_t len,
			    void (*complete)(struct blk_req *), void *opaque);
void blk_req_free(struct blk_req *r);
/* Finish r with ret: complete() runs later from the main loop.  Safe from
 * any thread. */
void blk_req_done(struct blk_req *r, int ret);

/* ---- The host file under an image ---- */

struct blk_file {
	int fd;
	char *filename;
	bool read_only, direct, dsync, ignore_flush;
	bool is_device;                 /* a block device (phy:, /dev/cdrom) */
	unsigned align;                 /* O_DIRECT alignment, else 1 */
	uint64_t size;                  /* bytes, rounded up to 512 */
	bool can_discard;
};

struct blk_file *blk_file_open(const char *filename,
			       const struct blk_open_opts *o, char **err);
void blk_file_close(struct blk_file *f);
/* Carry out r (offsets in the file); blk_req_done when finished. */
void blk_file_submit(struct blk_file *f, struct blk_req *r);
/* Synchronous, for headers and metadata: 0 or -errno; reads past the
 * end of the file give zeros. */
int blk_file_pread(struct blk_file *f, uint64_t offset, void *buf,
		   size_t len);
int blk_file_pwrite(struct blk_file *f, uint64_t offset, const void *buf,
		    size_t len);

/* Run every finished request's complete(); true when one ran.  With
 * wait, sleep until at least one is done (blk_drain). */
bool blk_completions_run(bool wait);

/* ---- Format drivers ---- */

struct blk {
	const struct blk_driver *drv;
	struct blk_file *file;
	void *state;                    /* the driver's */
	uint64_t size;                  /* virtual disk size, bytes */
	bool read_only;
	enum blk_cache cache;
	unsigned inflight;              /* guest requests not yet completed */
};

struct blk_driver {
	const char *name;
	/* How sure the driver is that an image starting with these bytes
	 * is its format: 0 not at all, 100 certain (magic numbers). */
	int (*probe)(const uint8_t *head, size_t len, const char *filename);
	/* Read the image's metadata; set b->size.  b->file is open. */
	int (*open)(struct blk *b, char **err);
	void (*close)(struct blk *b);
	/* Carry out a guest request; blk_req_done(r, ret) when done. */
	void (*submit)(struct blk *b, struct blk_req *r);
};

extern const struct blk_driver blk_driver_raw;

#endif
