/*
 * The host side of an image: a regular file or a block device.
 *
 * Two roads to the disk.  With O_DIRECT (cache=none, directsync) and
 * aligned buffers a request goes to the kernel through libaio and is
 * truly asynchronous.  Everything else goes through the page cache, where
 * libaio would do the copy inside io_submit and stall qemu-dm's only
 * device thread on every cache miss.  So a buffered read or write is
 * first tried without blocking (preadv2/pwritev2 with RWF_NOWAIT: a page
 * cache hit costs no thread hop) and otherwise handed to a worker thread,
 * as bhyve's block_if does.  Both roads, and every error, end in
 * blk_req_done, which queues the request and kicks one eventfd that the
 * main loop watches: completions always run there, never inside the call
 * that submitted them.
 *
 * Image locking uses the same byte-range OFD locks as QEMU (bytes
 * 100+perm for permissions held, 200+perm for permissions not shared), so
 * two qemu-dm, or a qemu-dm and a QEMU or qemu-img, see each other.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib-unix.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-int.h"
#include "dm/dm.h"

#define AIO_MAX_EVENTS 128

static int done_efd = -1;
static GMutex done_lock;
static struct blk_req *done_head, **done_tail = &done_head;
static GThreadPool *workers;
static io_context_t aio_ctx;
static bool aio_ok;
static unsigned aio_inflight;

/* ---- Completion ---- */

void blk_req_done(struct blk_req *r, int ret)
{
	uint64_t one = 1;

	r->ret = ret;
	r->next = NULL;
	g_mutex_lock(&done_lock);
	*done_tail = r;
	done_tail = &r->next;
	g_mutex_unlock(&done_lock);
	if (write(done_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		dm_log(DM_LOG_ERR, "block: completion eventfd: %s",
		       strerror(errno));
}

static void aio_reap(void)
{
	struct io_event ev[32];
	struct timespec zero = { 0, 0 };
	int n;

	while (aio_inflight &&
	       (n = io_getevents(aio_ctx, 0, 32, ev, &zero)) > 0) {
		for (int i = 0; i < n; i++) {
			struct blk_req *r = ev[i].data;
			long res = (long)ev[i].res;

			aio_inflight--;
			if (res < 0) {
				blk_req_done(r, (int)res);
			} else if ((uint64_t)res != r->len) {
				/* Short (the end of a device): let the worker
				 * finish it with its zero fill. */
				g_thread_pool_push(workers, r, NULL);
			} else {
				blk_req_done(r, 0);
			}
		}
	}
}

bool blk_completions_run(bool wait)
{
	struct blk_req *list;
	uint64_t cnt;
	bool ran = false;

	if (done_efd < 0)
		return false;
	if (wait) {
		struct pollfd p = { .fd = done_efd, .events = POLLIN };

		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	if (read(done_efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		dm_log(DM_LOG_ERR, "block: completion eventfd: %s",
		       strerror(errno));
	aio_reap();
	g_mutex_lock(&done_lock);
	list = done_head;
	done_head = NULL;
	done_tail = &done_head;
	g_mutex_unlock(&done_lock);
	while (list) {
		struct blk_req *r = list;

		list = r->next;
		r->complete(r);
		ran = true;
	}
	return ran;
}

static gboolean on_completion(gint fd, GIOCondition cond, gpointer p)
{
	(void)fd; (void)cond; (void)p;
	blk_completions_run(false);
	return G_SOURCE_CONTINUE;
}

/* ---- Synchronous I/O (worker threads, metadata) ---- */

/* Read or write len bytes at off from or into iov, however many system
 * calls it takes.  Reads past the end of the file give zeros. */
static int rw_iov(int fd, bool write, struct iovec *iov, int iovcnt,
		  uint64_t off, uint64_t len)
{
	struct iovec *v = g_memdup2(iov, sizeof(*iov) * (size_t)iovcnt);
	int i = 0, ret = 0;

	while (len && i < iovcnt) {
		int cnt = iovcnt - i > IOV_MAX ? IOV_MAX : iovcnt - i;
		ssize_t n = write ? pwritev(fd, v + i, cnt, (off_t)off)
				  : preadv(fd, v + i, cnt, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			if (write) {
				ret = -EIO;
				break;
			}
			/* End of file: the rest reads as zeros. */
			for (; i < iovcnt; i++)
				memset(v[i].iov_base, 0, v[i].iov_len);
			break;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
		while (n > 0 && i < iovcnt) {
			if ((size_t)n >= v[i].iov_len) {
				n -= (ssize_t)v[i].iov_len;
				i++;
			} else {
				v[i].iov_base = (char *)v[i].iov_base + n;
				v[i].iov_len -= (size_t)n;
				n = 0;
			}
		}
		while (i < iovcnt && v[i].iov_len == 0)
			i++;
	}
	g_free(v);
	return ret;
}

static bool req_aligned(const struct blk_file *f, const struct blk_req *r)
{
	uint64_t a = f->align;

	if ((r->offset | r->len) & (a - 1))
		return false;
	for (int i = 0; i < r->iovcnt; i++)
		if (((uintptr_t)r->iov[i].iov_base | r->iov[i].iov_len) &
		    (a - 1))
			return false;
	return true;
}

static size_t iov_copy(const struct iovec *iov, int iovcnt, void *buf,
		       bool to_iov)
{
	size_t done = 0;

	for (int i = 0; i < iovcnt; i++) {
		if (to_iov)
			memcpy(iov[i].iov_base, (char *)buf + done,
			       iov[i].iov_len);
		else
			memcpy((char *)buf + done, iov[i].iov_base,
			       iov[i].iov_len);
		done += iov[i].iov_len;
	}
	return done;
}

/* O_DIRECT with an unaligned buffer or range: through an aligned copy,
 * reading the partial blocks first when writing.  One request per drive
 * is in flight at a time (IDE has no queueing), so the read-modify-write
 * of a shared block does not race. */
static int rw_bounce(struct blk_file *f, struct blk_req *r)
{
	uint64_t a = f->align;
	uint64_t start = r->offset & ~(a - 1);
	uint64_t end = (r->offset + r->len + a - 1) & ~(a - 1);
	size_t span = (size_t)(end - start);
	void *buf = NULL;
	struct iovec v;
	int ret;

	if (posix_memalign(&buf, a, span))
		return -ENOMEM;
	v.iov_base = buf;
	v.iov_len = span;
	if (r->op == BLK_OP_READ) {
		ret = rw_iov(f->fd, false, &v, 1, start, span);
		if (!ret) {
			char *src = (char *)buf + (r->offset - start);

			iov_copy(r->iov, r->iovcnt, src, true);
		}
	} else {
		ret = 0;
		if (start != r->offset || end != r->offset + r->len)
			ret = rw_iov(f->fd, false, &v, 1, start, span);
		if (!ret) {
			iov_copy(r->iov, r->iovcnt,
				 (char *)buf + (r->offset - start), false);
			ret = rw_iov(f->fd, true, &v, 1, start, span);
		}
	}
	free(buf);
	return ret;
}

static int file_discard(struct blk_file *f, uint64_t off, uint64_t len)
{
	int ret;

	if (!f->can_discard)
		return 0;
	if (f->is_device) {
		uint64_t range[2] = { off, len };

		ret = ioctl(f->fd, BLKDISCARD, range);
	} else {
		ret = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	}
	/* A hint: where the file system cannot, nothing is lost. */
	if (ret < 0 && (errno == EOPNOTSUPP || errno == ENOTTY))
		f->can_discard = false;
	return 0;
}

static int file_do_sync(struct blk_file *f, struct blk_req *r)
{
	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (f->direct && !req_aligned(f, r))
			return rw_bounce(f, r);
		return rw_iov(f->fd, r->op == BLK_OP_WRITE, r->iov, r->iovcnt,
			      r->offset, r->len);
	case BLK_OP_FLUSH:
		if (f->ignore_flush || f->read_only)
			return 0;
		return fdatasync(f->fd) < 0 ? -errno : 0;
	case BLK_OP_DISCARD:
		return file_discard(f, r->offset, r->len);
	}
	return -EINVAL;
}

static void worker(gpointer data, gpointer user)
{
	struct blk_req *r = data;

	(void)user;
	blk_req_done(r, file_do_sync(r->file, r));
}

int blk_file_pread(struct blk_file *f, uint64_t offset, void *buf,
		   size_t len)
{
	struct blk_req r = { .op = BLK_OP_READ, .offset = offset, .len = len,
			     .iovcnt = 1 };
	struct iovec v = { buf, len };

	r.iov = &v;
	return file_do_sync(f, &r);
}

int blk_file_pwrite(struct blk_file *f, uint64_t offset, const void *buf,
		    size_t len)
{
	struct blk_req r = { .op = BLK_OP_WRITE, .offset = offset, .len = len,
			     .iovcnt = 1 };
	struct iovec v = { (void *)buf, len };

	r.iov = &v;
	return file_do_sync(f, &r);
}

/* ---- Submission ---- */

static bool try_aio(struct blk_file *f, struct blk_req *r)
{
	struct iocb *cb = &r->iocb;

	if (!aio_ok || !f->direct || r->iovcnt > IOV_MAX ||
	    aio_inflight >= AIO_MAX_EVENTS || !req_aligned(f, r))
		return false;
	if (r->op == BLK_OP_READ)
		io_prep_preadv(cb, f->fd, r->iov, r->iovcnt, (long long)r->offset);
	else
		io_prep_pwritev(cb, f->fd, r->iov, r->iovcnt, (long long)r->offset);
	io_set_eventfd(cb, done_efd);
	cb->data = r;
	if (io_submit(aio_ctx, 1, &cb) != 1)
		return false;
	aio_inflight++;
	return true;
}

/* A buffered request the page cache can serve at once. */
static bool try_nowait(struct blk_file *f, struct blk_req *r)
{
	ssize_t n;

	if (f->direct || f->dsync || r->iovcnt > IOV_MAX)
		return false;
	if (r->op == BLK_OP_READ)
		n = preadv2(f->fd, r->iov, r->iovcnt, (off_t)r->offset,
			    RWF_NOWAIT);
	else
		n = pwritev2(f->fd, r->iov, r->iovcnt, (off_t)r->offset,
			     RWF_NOWAIT);
	/* Anything short (EAGAIN, end of file, part done) starts over on a
	 * worker: reading or writing the same bytes again is harmless. */
	if (n < 0 || (uint64_t)n != r->len)
		return false;
	blk_req_done(r, 0);
	return true;
}

void blk_file_submit(struct blk_file *f, struct blk_req *r)
{
	r->file = f;
	if ((r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) &&
	    (try_aio(f, r) || try_nowait(f, r)))
		return;
	g_thread_pool_push(workers, r, NULL);
}

/* ---- Opening ---- */

static void file_layer_init(void)
{
	if (done_efd >= 0)
		return;
	done_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (done_efd < 0) {
		dm_log(DM_LOG_ERR, "block: eventfd: %s", strerror(errno));
		abort();
	}
	g_unix_fd_add(done_efd, G_IO_IN, on_completion, NULL);
	workers = g_thread_pool_new(worker, NULL, 8, FALSE, NULL);
	aio_ok = io_setup(AIO_MAX_EVENTS, &aio_ctx) == 0;
	if (!aio_ok)
		dm_log(DM_LOG_WARN, "block: libaio unavailable (%s); O_DIRECT "
		       "requests go through worker threads",
		       strerror(errno));
}

enum { PERM_READ, PERM_WRITE, PERM_WRITE_UNCHANGED, PERM_RESIZE, PERM_N };
#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200
static const char *const perm_name[PERM_N] = {
	"consistent read", "write", "write unchanged", "resize"
};

static int lock_byte(int fd, int cmd, short type, off_t byte)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = byte, .l_len = 1 };
	int ret = fcntl(fd, cmd, &fl);

	if (ret < 0)
		return -errno;
	return cmd == F_OFD_GETLK ? fl.l_type != F_UNLCK : 0;
}

/* Take what a disk needs (read; write unless read-only) and share
 * neither writing nor resizing with anyone, as QEMU's disks do. */
static int file_lock(struct blk_file *f, bool writable, char **err)
{
	unsigned want = 1u << PERM_READ | (writable ? 1u << PERM_WRITE : 0);
	unsigned unshared = 1u << PERM_WRITE | 1u << PERM_RESIZE;
	int ret;

	for (int p = 0; p < PERM_N; p++) {
		if ((want >> p & 1) &&
		    (ret = lock_byte(f->fd, F_OFD_SETLK, F_RDLCK,
				     LOCK_PERM_BASE + p)) < 0)
			goto nolock;
		if ((unshared >> p & 1) &&
		    (ret = lock_byte(f->fd, F_OFD_SETLK, F_RDLCK,
				     LOCK_SHARED_BASE + p)) < 0)
			goto nolock;
	}
	for (int p = 0; p < PERM_N; p++) {
		if ((want >> p & 1) &&
		    lock_byte(f->fd, F_OFD_GETLK, F_WRLCK,
			      LOCK_SHARED_BASE + p) > 0) {
			*err = g_strdup_printf(
				"%s is in use by another guest or program that "
				"does not let others %s it (QEMU's \"Failed to "
				"get \\\"%s\\\" lock\"); stop it first",
				f->filename, p == PERM_WRITE ? "write to" : "read",
				perm_name[p]);
			return -EBUSY;
		}
		if ((unshared >> p & 1) &&
		    lock_byte(f->fd, F_OFD_GETLK, F_WRLCK,
			      LOCK_PERM_BASE + p) > 0) {
			*err = g_strdup_printf(
				"%s is open for %s by another guest or program "
				"(QEMU's \"Failed to get shared \\\"%s\\\" "
				"lock\"); stop it first", f->filename,
				p == PERM_WRITE ? "writing" : "resizing",
				perm_name[p]);
			return -EBUSY;
		}
	}
	return 0;
nolock:
	/* File systems without OFD locks (some network ones): go on, as
	 * QEMU does, but say so once. */
	dm_log(DM_LOG_WARN, "%s: cannot lock the image (%s); nothing stops "
	       "a second writer", f->filename, strerror(-ret));
	return 0;
}

/* The smallest alignment O_DIRECT accepts on this file. */
static unsigned probe_direct_align(int fd)
{
	static const unsigned sizes[] = { 512, 4096 };
	void *buf;

	if (posix_memalign(&buf, 4096, 4096))
		return 4096;
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		/* Offset sizes[i] misaligns every smaller alignment. */
		if (pread(fd, buf, sizes[i], sizes[i]) >= 0 || errno != EINVAL) {
			free(buf);
			return sizes[i];
		}
	}
	free(buf);
	return 4096;
}

static char *open_error(const char *name, int e, bool read_only)
{
	switch (e) {
	case ENOENT:
		return g_strdup_printf("%s: no such file", name);
	case EACCES:
	case EPERM:
		if (!read_only && access(name, R_OK) == 0)
			return g_strdup_printf("%s is not writable (permission "
					       "denied); give readonly=on or "
					       "change its permissions", name);
		return g_strdup_printf("%s: permission denied", name);
	case EROFS:
		return g_strdup_printf("%s is on a read-only file system; "
				       "give readonly=on", name);
	case EISDIR:
		return g_strdup_printf("%s is a directory, not a disk image",
				       name);
	case ENOMEDIUM:
		return g_strdup_printf("%s: no medium in the host drive", name);
	case ETXTBSY:
		return g_strdup_printf("%s is busy", name);
	}
	return g_strdup_printf("%s: %s", name, strerror(e));
}

/* QEMU's null-co:// protocol, which its tests give their drives: 1 GiB
 * that reads as zeros and forgets what is written (/dev/zero does both). */
static struct blk_file *null_open(const struct blk_open_opts *o, char **err)
{
	struct blk_file *f;
	int fd = open("/dev/zero", O_CLOEXEC | (o->read_only ? O_RDONLY : O_RDWR));

	if (fd < 0) {
		*err = open_error("/dev/zero", errno, o->read_only);
		return NULL;
	}
	f = g_new0(struct blk_file, 1);
	f->fd = fd;
	f->filename = g_strdup("null-co://");
	f->read_only = o->read_only;
	f->ignore_flush = true;
	f->align = 1;
	f->size = 1ull << 30;
	return f;
}

struct blk_file *blk_file_open(const char *filename,
			       const struct blk_open_opts *o, char **err)
{
	struct blk_file *f;
	struct stat st;
	int flags = O_CLOEXEC | (o->read_only ? O_RDONLY : O_RDWR);
	bool direct = o->cache == BLK_CACHE_NONE ||
		      o->cache == BLK_CACHE_DIRECTSYNC;
	bool dsync = o->cache == BLK_CACHE_WRITETHROUGH ||
		     o->cache == BLK_CACHE_DIRECTSYNC;
	int fd;

	file_layer_init();
	if (!strcmp(filename, "null-co://"))
		return null_open(o, err);
	if (stat(filename, &st) == 0 && S_ISDIR(st.st_mode)) {
		*err = open_error(filename, EISDIR, o->read_only);
		return NULL;
	}
	fd = open(filename, flags | (direct ? O_DIRECT : 0) |
		  (dsync ? O_DSYNC : 0));
	if (fd < 0 && errno == EINVAL && direct) {
		*err = g_strdup_printf("%s: its file system does not support "
				       "cache=none or directsync (O_DIRECT); "
				       "use cache=writeback", filename);
		return NULL;
	}
	if (fd < 0) {
		*err = open_error(filename, errno, o->read_only);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		*err = g_strdup_printf("%s is neither a regular file nor a "
				       "block device", filename);
		close(fd);
		return NULL;
	}
	f = g_new0(struct blk_file, 1);
	f->fd = fd;
	f->filename = g_strdup(filename);
	f->read_only = o->read_only;
	f->direct = direct;
	f->dsync = dsync;
	f->ignore_flush = o->cache == BLK_CACHE_UNSAFE;
	f->is_device = S_ISBLK(st.st_mode);
	f->can_discard = !o->read_only;
	f->align = 1;
	if (f->is_device) {
		uint64_t bytes = 0;
		int ssz = 512;

		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
			*err = open_error(filename, errno, o->read_only);
			goto fail;
		}
		if (direct && ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
			f->align = (unsigned)ssz;
		else if (direct)
			f->align = 512;
		f->size = bytes;
	} else {
		f->size = (uint64_t)st.st_size;
		if (direct)
			f->align = probe_direct_align(fd);
	}
	if (f->size == 0) {
		*err = g_strdup_printf("%s is empty (0 bytes); make an image "
				       "first, e.g. qemu-img create -f raw %s "
				       "10G", filename, filename);
		goto fail;
	}
	/* A raw image's last partial sector reads as zeros. */
	f->size = (f->size + BLK_SECTOR_SIZE - 1) & ~(uint64_t)(BLK_SECTOR_SIZE - 1);
	if (!o->no_lock && file_lock(f, !o->read_only, err) < 0)
		goto fail;
	return f;
fail:
	close(fd);
	g_free(f->filename);
	g_free(f);
	return NULL;
}

void blk_file_close(struct blk_file *f)
{
	if (!f)
		return;
	close(f->fd);
	g_free(f->filename);
	g_free(f);
}
