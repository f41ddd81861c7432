/*
 * What a disk controller sees of its disks: drives and the images in them.
 *
 * A struct drive is one -drive (or -hda..-hdd, -cdrom): where it sits
 * (interface and index), whether it is a hard disk or a CD-ROM, and the
 * image inserted now.  A CD-ROM drive may be empty (blk NULL); a disk
 * never is.  The device that owns a drive attaches to it with a small ops
 * table, so that media change from QMP (eject, change,
 * blockdev-change-medium) reaches the device without the block layer
 * knowing what an ATAPI sense code is.
 *
 * A struct blk is one open image: a format driver (raw today; qcow2 and
 * vmdk plug into the same table) over a host file or block device.
 * Requests are asynchronous: blk_aio_* queue the request and return at
 * once; the completion callback runs later from qemu-dm's main loop, never
 * inside the call that submitted it, with 0 or a negative errno.  Offsets
 * and lengths are bytes and must be multiples of 512; a request past the
 * end of the image completes with -EIO without touching anything (the
 * device checks its own LBAs first and reports IDNF or the sense code
 * itself; this is the last line of defence).
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_SECTOR_SIZE 512

/* Cache modes as QEMU names them (-drive cache=). */
enum blk_cache {
	BLK_CACHE_WRITEBACK,    /* host page cache, guest flush -> fdatasync */
	BLK_CACHE_NONE,         /* O_DIRECT, guest flush -> fdatasync */
	BLK_CACHE_WRITETHROUGH, /* host page cache, every write O_DSYNC */
	BLK_CACHE_DIRECTSYNC,   /* O_DIRECT and O_DSYNC */
	BLK_CACHE_UNSAFE,       /* host page cache, guest flush ignored */
};

struct blk_open_opts {
	const char *format;     /* "raw", "qcow2", ...; NULL: probe */
	bool read_only;
	enum blk_cache cache;
	bool no_lock;           /* file.locking=off: no image lock */
};

struct blk;

/* Open an image.  On failure returns NULL and sets *err to one sentence
 * naming the file and the reason (g_free it). */
struct blk *blk_open(const char *filename, const struct blk_open_opts *o,
		     char **err);
/* Waits for the requests in flight, then closes. */
void blk_close(struct blk *b);

uint64_t blk_size(const struct blk *b);            /* bytes */
bool blk_is_read_only(const struct blk *b);
/* The guest may see a volatile write cache (writeback, none, unsafe). */
bool blk_has_write_cache(const struct blk *b);
bool blk_can_discard(const struct blk *b);
const char *blk_filename(const struct blk *b);
const char *blk_format_name(const struct blk *b);

typedef void blk_done_fn(void *opaque, int ret);

void blk_aio_readv(struct blk *b, uint64_t offset, const struct iovec *iov,
		   int iovcnt, blk_done_fn *cb, void *opaque);
void blk_aio_writev(struct blk *b, uint64_t offset, const struct iovec *iov,
		    int iovcnt, blk_done_fn *cb, void *opaque);
void blk_aio_flush(struct blk *b, blk_done_fn *cb, void *opaque);
/* Tell the image a range is no longer used (TRIM).  Completes with 0 also
 * where the image cannot free it: discard is a hint. */
void blk_aio_discard(struct blk *b, uint64_t offset, uint64_t len,
		     blk_done_fn *cb, void *opaque);
/* Run the main loop's share of b's completions until none is in flight
 * (a controller reset, eject, exit).  Callbacks run from inside. */
void blk_drain(struct blk *b);
/* Every image: before a reset and at exit. */
void blk_drain_all(void);

/* Synchronous reads and writes for the few places that cannot wait
 * (probing, tests).  Return 0 or a negative errno. */
int blk_pread(struct blk *b, uint64_t offset, void *buf, size_t len);
int blk_pwrite(struct blk *b, uint64_t offset, const void *buf, size_t len);

/* ---- Drives ---- */

enum drive_if { DRIVE_IF_IDE, DRIVE_IF_NONE };
enum drive_media { DRIVE_MEDIA_DISK, DRIVE_MEDIA_CDROM };

/* What the device owning a drive does on media events. */
struct drive_dev_ops {
	/* A medium went in (loaded) or out; for a CD-ROM the device raises
	 * its unit attention here. */
	void (*change_media)(void *dev, bool loaded);
	/* The guest locked the tray (PREVENT ALLOW MEDIUM REMOVAL). */
	bool (*is_locked)(void *dev);
	/* A host asked for an eject while the tray is locked: the device
	 * tells the guest (GET EVENT STATUS NOTIFICATION). */
	void (*eject_request)(void *dev);
};

struct drive {
	char *id;               /* QMP's device name: ide0-hd0, ide1-cd0 */
	enum drive_if ifc;
	int index;              /* IDE: 0-3 = primary master .. secondary slave */
	enum drive_media media;
	struct blk_open_opts opts;  /* as given, for media inserted later */
	struct blk *blk;        /* NULL: no medium */
	bool tray_open;
	/* -device ide-hd|ide-cd,serial=,model=,ver= or -global
	 * ide-hd.serial=...: what IDENTIFY says; NULL: the device's own */
	char *serial, *model, *ver;
	const struct drive_dev_ops *dev_ops;
	void *dev;
};

/* The drive at (ifc, index), or NULL. */
struct drive *drive_find(enum drive_if ifc, int index);
/* Look one up by QMP name (id, or ide1-cd0 style). */
struct drive *drive_lookup(const char *name);
/* The device taking a drive registers its ops. */
void drive_attach(struct drive *d, const struct drive_dev_ops *ops,
		  void *dev);
/* The guest opened (START STOP UNIT eject) or closed the tray.  The
 * medium stays in the drive (a guest's eject and load give the same disc
 * back, as in QEMU) but the device reports "medium not present, tray
 * open" while d->tray_open; QMP gets DEVICE_TRAY_MOVED. */
void drive_tray_moved(struct drive *d, bool open);

#endif
