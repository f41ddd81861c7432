/*
 * IDE channels and the ATA command set.
 *
 * A channel is the command block (eight registers at 0x1f0/0x170), the
 * device control register (0x3f6/0x376) and two devices.  Writes to the
 * command block reach both devices' task files, as on the cable; the
 * command register and the data port belong to the selected one.
 *
 * Each command has a row in ata_cmds saying which kinds of device accept
 * it (CVE-2015-6855: ATA-only commands reached a CD-ROM and divided by its
 * zero geometry).  A command either finishes at once (no data, IDENTIFY),
 * or starts a transfer: PIO through the data port in DRQ blocks, or DMA
 * through the bus master (piix.c walks the PRD table).  Disk requests are
 * asynchronous: the port write that starts a command returns with BSY
 * set, and the completion from the main loop moves the command on and
 * raises the interrupt.
 *
 * The data port only ever moves bytes inside [data_pos, data_end) of the
 * device's buffer; outside a transfer reads give all ones and writes are
 * dropped (CVE-2015-5154 was a data port left open after a command).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hw/ide/ide.h"

#define ATA_MAX_MULT 16

/* Which devices accept a command. */
#define HD_OK 0x1
#define CD_OK 0x2
#define ALL_OK (HD_OK | CD_OK)

typedef void ata_handler(struct ide_drive *s);

struct ata_cmd {
	ata_handler *fn;
	uint8_t ok;
};

static const struct ata_cmd ata_cmds[256];

bool ide_present(const struct ide_drive *s)
{
	return s->drv != NULL;
}

static struct ide_drive *cur_drive(struct ide_channel *ch)
{
	return &ch->drive[ch->cur];
}

/* ---- interrupts ---- */

void ide_update_irq(struct ide_channel *ch)
{
	irq_set(ch->gsi, ch->irq_level && !(ch->devctl & DC_NIEN));
}

void ide_set_irq(struct ide_drive *s)
{
	struct ide_channel *ch = s->ch;

	ch->irq_level = true;
	bm_irq_notify(ch);
	if (ch->cur == s->unit)
		ide_update_irq(ch);
}

static void ide_clear_irq(struct ide_channel *ch)
{
	if (ch->irq_level) {
		ch->irq_level = false;
		ide_update_irq(ch);
	}
}

/* ---- the task file ---- */

static bool ide_lba_mode(const struct ide_drive *s)
{
	return s->select & 0x40;
}

/* The command's starting sector: LBA28, LBA48 or CHS. */
static uint64_t ide_get_sector(const struct ide_drive *s)
{
	if (s->lba48)
		return (uint64_t)s->hob_hcyl << 40 | (uint64_t)s->hob_lcyl << 32 |
		       (uint64_t)s->hob_sector << 24 | (uint64_t)s->hcyl << 16 |
		       (uint64_t)s->lcyl << 8 | s->sector;
	if (ide_lba_mode(s))
		return (uint64_t)(s->select & 0x0f) << 24 |
		       (uint64_t)s->hcyl << 16 | (uint64_t)s->lcyl << 8 |
		       s->sector;
	/* CHS: sector numbers start at 1; 0 or one past the geometry
	 * gives a sector past the end (IDNF). */
	unsigned cyl = (unsigned)s->hcyl << 8 | s->lcyl;
	unsigned head = s->select & 0x0f;

	if (s->sector == 0 || s->sector > s->cur_secs || head >= s->cur_heads)
		return UINT64_MAX;
	return ((uint64_t)cyl * s->cur_heads + head) * s->cur_secs +
	       (s->sector - 1u);
}

static void ide_set_sector(struct ide_drive *s, uint64_t n)
{
	if (s->lba48) {
		s->sector = (uint8_t)n;
		s->lcyl = (uint8_t)(n >> 8);
		s->hcyl = (uint8_t)(n >> 16);
		s->hob_sector = (uint8_t)(n >> 24);
		s->hob_lcyl = (uint8_t)(n >> 32);
		s->hob_hcyl = (uint8_t)(n >> 40);
	} else if (ide_lba_mode(s)) {
		s->sector = (uint8_t)n;
		s->lcyl = (uint8_t)(n >> 8);
		s->hcyl = (uint8_t)(n >> 16);
		s->select = (uint8_t)((s->select & 0xf0) | ((n >> 24) & 0x0f));
	} else if (s->cur_heads && s->cur_secs) {
		uint64_t cyl = n / (s->cur_heads * s->cur_secs);
		unsigned r = (unsigned)(n % (s->cur_heads * s->cur_secs));

		s->hcyl = (uint8_t)(cyl >> 8);
		s->lcyl = (uint8_t)cyl;
		s->select = (uint8_t)((s->select & 0xf0) | (r / s->cur_secs));
		s->sector = (uint8_t)(r % s->cur_secs + 1);
	}
}

/* The sector count of the command: 0 means 256 (65536 with LBA48). */
static uint32_t ide_get_nsector(const struct ide_drive *s)
{
	if (s->lba48) {
		uint32_t n = (uint32_t)s->hob_nsector << 8 | s->nsector;

		return n ? n : 65536;
	}
	return s->nsector ? s->nsector : 256;
}

static void ide_set_signature(struct ide_drive *s)
{
	s->select &= 0xf0;      /* head 0 */
	s->nsector = 1;
	s->sector = 1;
	if (s->atapi) {
		s->lcyl = 0x14;
		s->hcyl = 0xeb;
	} else if (ide_present(s)) {
		s->lcyl = 0;
		s->hcyl = 0;
	} else {
		s->lcyl = 0xff;
		s->hcyl = 0xff;
	}
}

/* ---- transfers through the data port ---- */

void ide_transfer_start(struct ide_drive *s, unsigned len, enum ide_end end)
{
	if (len > IDE_BUF_SIZE)
		len = IDE_BUF_SIZE;
	s->data_pos = 0;
	s->data_end = len;
	s->end = end;
	s->status |= ST_DRQ;
}

/* Start a window at an offset of the buffer (the middle of a prefetched
 * PIO read). */
static void ide_transfer_window(struct ide_drive *s, unsigned pos,
				unsigned len, enum ide_end end)
{
	s->data_pos = pos;
	s->data_end = pos + len;
	s->end = end;
	s->status |= ST_DRQ;
}

void ide_transfer_stop(struct ide_drive *s)
{
	s->data_pos = s->data_end = 0;
	s->end = END_NONE;
	s->status &= (uint8_t)~ST_DRQ;
}

void ide_abort(struct ide_drive *s)
{
	ide_transfer_stop(s);
	s->status = ST_DRDY | ST_ERR;
	s->error = ER_ABRT;
}

/* A command without data (or whose data is done) finished well. */
void ide_cmd_done(struct ide_drive *s)
{
	ide_transfer_stop(s);
	s->status = ST_DRDY | ST_DSC;
	s->error = 0;
}

static void ide_error(struct ide_drive *s, uint8_t err)
{
	ide_transfer_stop(s);
	s->status = ST_DRDY | ST_ERR;
	s->error = err;
	ide_set_irq(s);
}

static void ata_transfer_end(struct ide_drive *s);

static uint32_t data_read(struct ide_drive *s, unsigned size)
{
	uint32_t v = 0;

	if (s->end == END_NONE || s->data_pos >= s->data_end)
		return size == 4 ? 0xffffffffu : 0xffffu;
	for (unsigned i = 0; i < size; i++)
		if (s->data_pos + i < s->data_end)
			v |= (uint32_t)s->buf[s->data_pos + i] << (8 * i);
	s->data_pos += size;
	if (s->data_pos >= s->data_end)
		ata_transfer_end(s);
	return v;
}

static void data_write(struct ide_drive *s, uint32_t v, unsigned size)
{
	if (s->end == END_NONE || s->data_pos >= s->data_end)
		return;
	for (unsigned i = 0; i < size; i++)
		if (s->data_pos + i < s->data_end)
			s->buf[s->data_pos + i] = (uint8_t)(v >> (8 * i));
	s->data_pos += size;
	if (s->data_pos >= s->data_end)
		ata_transfer_end(s);
}

/* ---- asynchronous disk requests ---- */

struct ide_req {
	struct ide_drive *s;
	unsigned gen;
	void (*done)(struct ide_drive *s, int ret);
	struct iovec iov;
};

static void ide_req_cb(void *opaque, int ret)
{
	struct ide_req *r = opaque;
	struct ide_drive *s = r->s;

	if (r->gen == s->gen) {
		if (s->busy_io)
			s->busy_io--;
		r->done(s, ret);
	}
	g_free(r);
}

static struct ide_req *ide_req_new(struct ide_drive *s, void *buf,
				   size_t len,
				   void (*done)(struct ide_drive *, int))
{
	struct ide_req *r = g_new0(struct ide_req, 1);

	r->s = s;
	r->gen = s->gen;
	r->done = done;
	r->iov.iov_base = buf;
	r->iov.iov_len = len;
	s->busy_io++;
	return r;
}

struct blk *ide_blk(struct ide_drive *s)
{
	return s->drv ? s->drv->blk : NULL;
}

void ide_read_async(struct ide_drive *s, uint64_t off, void *buf,
		    size_t len, void (*done)(struct ide_drive *, int))
{
	if (!ide_blk(s)) {              /* the medium went away meanwhile */
		done(s, -ENOMEDIUM);
		return;
	}
	struct ide_req *r = ide_req_new(s, buf, len, done);

	blk_aio_readv(ide_blk(s), off, &r->iov, 1, ide_req_cb, r);
}

static void ide_write_async(struct ide_drive *s, uint64_t off, void *buf,
			    size_t len, void (*done)(struct ide_drive *, int))
{
	if (!ide_blk(s)) {
		done(s, -ENOMEDIUM);
		return;
	}
	struct ide_req *r = ide_req_new(s, buf, len, done);

	blk_aio_writev(ide_blk(s), off, &r->iov, 1, ide_req_cb, r);
}

/* ---- ATA PIO ---- */

static bool ata_range_ok(struct ide_drive *s, uint64_t lba, uint32_t n)
{
	return lba != UINT64_MAX && lba <= s->nb_sectors &&
	       n <= s->nb_sectors - lba;
}

/* Serve the next DRQ block of a PIO read from what was prefetched. */
static void ata_pio_read_serve(struct ide_drive *s)
{
	unsigned n = s->drq_sectors;

	if (n > s->pio_have - s->pio_used)
		n = s->pio_have - s->pio_used;
	s->status = ST_DRDY | ST_DSC;
	ide_transfer_window(s, s->pio_used * IDE_SECTOR, n * IDE_SECTOR,
			    END_READ_NEXT);
	s->pio_used += n;
	ide_set_irq(s);
}

static void ata_pio_read_done(struct ide_drive *s, int ret)
{
	if (ret < 0) {
		ide_error(s, ER_UNC | ER_ABRT);
		return;
	}
	ata_pio_read_serve(s);
}

/* Prefetch the next sectors of a PIO read (up to a buffer full). */
static void ata_pio_read_fill(struct ide_drive *s)
{
	unsigned n = s->xfer_left < IDE_BUF_SIZE / IDE_SECTOR ?
		     s->xfer_left : IDE_BUF_SIZE / IDE_SECTOR;

	s->status = ST_BSY | ST_DRDY;
	s->pio_have = n;
	s->pio_used = 0;
	ide_read_async(s, s->xfer_lba * IDE_SECTOR, s->buf,
		       (size_t)n * IDE_SECTOR, ata_pio_read_done);
	s->xfer_lba += n;
	s->xfer_left -= n;
}

static void ata_pio_write_done(struct ide_drive *s, int ret)
{
	if (ret < 0) {
		ide_error(s, ER_ABRT);
		return;
	}
	ide_set_sector(s, s->xfer_lba - 1);
	s->status = ST_DRDY | ST_DSC;
	if (s->xfer_left == 0) {
		ide_transfer_stop(s);
	} else {
		unsigned n = s->xfer_left < s->drq_sectors ? s->xfer_left :
			     s->drq_sectors;

		ide_transfer_start(s, n * IDE_SECTOR, END_WRITE_NEXT);
	}
	ide_set_irq(s);
}

static void ata_transfer_end(struct ide_drive *s)
{
	enum ide_end end = s->end;

	s->end = END_NONE;
	s->status &= (uint8_t)~ST_DRQ;
	switch (end) {
	case END_READ_NEXT:
		ide_set_sector(s, s->xfer_lba - s->pio_have + s->pio_used - 1);
		if (s->pio_used < s->pio_have)
			ata_pio_read_serve(s);
		else if (s->xfer_left > 0)
			ata_pio_read_fill(s);
		else
			ide_cmd_done(s);
		break;
	case END_WRITE_NEXT: {
		unsigned n = s->data_end / IDE_SECTOR;
		uint64_t lba = s->xfer_lba;

		s->status = ST_BSY | ST_DRDY;
		s->xfer_lba += n;
		s->xfer_left -= n;
		ide_write_async(s, lba * IDE_SECTOR, s->buf,
				(size_t)n * IDE_SECTOR, ata_pio_write_done);
		break;
	}
	case END_ATAPI_CMD:
		ide_transfer_stop(s);
		atapi_packet_cmd(s);
		break;
	case END_ATAPI_NEXT:
		atapi_pio_next(s);
		break;
	case END_DONE:
		ide_cmd_done(s);
		break;
	default:
		ide_transfer_stop(s);
		break;
	}
}

/* READ SECTORS / MULTIPLE (+EXT), WRITE likewise, and the DMA forms:
 * check the range, then start. */
static bool ata_rw_setup(struct ide_drive *s, bool lba48)
{
	uint64_t lba;
	uint32_t n;

	s->lba48 = lba48;
	lba = ide_get_sector(s);
	n = ide_get_nsector(s);
	if (!ata_range_ok(s, lba, n)) {
		dm_log_guest("ide: sectors %llu+%u past the end of %s",
			     (unsigned long long)lba, n, s->drv->id);
		ide_error(s, ER_IDNF);
		return false;
	}
	s->xfer_lba = lba;
	s->xfer_left = n;
	return true;
}

static void ata_read_pio(struct ide_drive *s, bool lba48, unsigned per_drq)
{
	if (!ata_rw_setup(s, lba48))
		return;
	s->drq_sectors = per_drq;
	ata_pio_read_fill(s);
}

static void ata_write_pio(struct ide_drive *s, bool lba48, unsigned per_drq)
{
	unsigned n;

	if (!ata_rw_setup(s, lba48))
		return;
	s->drq_sectors = per_drq;
	n = s->xfer_left < per_drq ? s->xfer_left : per_drq;
	s->status = ST_DRDY | ST_DSC;
	ide_transfer_start(s, n * IDE_SECTOR, END_WRITE_NEXT);
}

static void cmd_read_sectors(struct ide_drive *s)
{
	ata_read_pio(s, s->cmd == 0x24, 1);
}

static void cmd_write_sectors(struct ide_drive *s)
{
	ata_write_pio(s, s->cmd == 0x34, 1);
}

static void cmd_read_multiple(struct ide_drive *s)
{
	if (!s->mult_sectors) {
		ide_error(s, ER_ABRT);
		return;
	}
	ata_read_pio(s, s->cmd == 0x29, s->mult_sectors);
}

static void cmd_write_multiple(struct ide_drive *s)
{
	if (!s->mult_sectors) {
		ide_error(s, ER_ABRT);
		return;
	}
	ata_write_pio(s, s->cmd == 0x39, s->mult_sectors);
}

/* ---- DMA ---- */

static void dma_start(struct ide_drive *s, uint32_t bytes, bool to_device)
{
	s->dma_pending = true;
	s->dma_write = to_device;
	s->dma_bytes = bytes;
	s->status = ST_DRDY | ST_DSC | ST_DRQ;
	ide_dma_run(s->ch);
}

void ide_dma_begin(struct ide_drive *s, uint32_t bytes, bool to_device)
{
	dma_start(s, bytes, to_device);
}

static void cmd_read_dma(struct ide_drive *s)
{
	if (!ata_rw_setup(s, s->cmd == 0x25))
		return;
	dma_start(s, s->xfer_left * IDE_SECTOR, false);
}

static void cmd_write_dma(struct ide_drive *s)
{
	if (!ata_rw_setup(s, s->cmd == 0x35))
		return;
	dma_start(s, s->xfer_left * IDE_SECTOR, true);
}

static void dma_next(struct ide_drive *s);

static void dma_fail(struct ide_drive *s, enum bm_end how, uint8_t err)
{
	if (s->atapi) {
		atapi_set_sense(s, 0x0b, 0x00, 0x00);   /* ABORTED COMMAND */
		s->nsector = 0x03;
		s->error = (uint8_t)(0x0b << 4) | ER_ABRT;
		s->status = ST_DRDY | ST_ERR;
		ide_transfer_stop(s);
		ide_set_irq(s);
	} else {
		ide_error(s, err);
	}
	bm_dma_end(s->ch, how);
}

static void dma_complete(struct ide_drive *s)
{
	if (s->atapi) {
		atapi_dma_finish(s, 0);
	} else {
		if (s->cmd != 0x06)
			ide_set_sector(s, s->xfer_lba - 1);
		ide_cmd_done(s);
	}
	ide_set_irq(s);
	bm_dma_end(s->ch, BM_END_OK);
}

/* A chunk from the device is in the buffer: into the PRDs' memory. */
static void dma_in_done(struct ide_drive *s, int ret)
{
	struct bmdma *bm = &s->ch->bm;

	if (ret < 0) {
		dma_fail(s, BM_END_OK, ER_UNC | ER_ABRT);
		return;
	}
	if (bm_sg_copy(bm, bm->done, s->buf, s->dma_chunk, true) < 0) {
		dm_log_guest("ide: a PRD points outside guest RAM");
		dma_fail(s, BM_END_ERROR, ER_ABRT);
		return;
	}
	bm->done += s->dma_chunk;
	dma_next(s);
}

static void dma_out_done(struct ide_drive *s, int ret)
{
	if (ret < 0) {
		dma_fail(s, BM_END_OK, ER_ABRT);
		return;
	}
	s->ch->bm.done += s->dma_chunk;
	dma_next(s);
}

/* DATA SET MANAGEMENT: the ranges arrived; discard them all. */

static void dsm_done(struct ide_drive *s, int ret)
{
	(void)ret;      /* discard is a hint */
	if (s->dsm_left && --s->dsm_left == 0) {
		s->ch->bm.done = s->dma_bytes;
		dma_next(s);
	}
}

static void dsm_run(struct ide_drive *s, uint32_t len)
{
	unsigned n = 0;

	for (uint32_t i = 0; i + 8 <= len; i += 8) {
		uint64_t e = 0;

		for (unsigned b = 0; b < 8; b++)
			e |= (uint64_t)s->buf[i + b] << (8 * b);
		uint64_t lba = e & 0xffffffffffffull;
		uint32_t cnt = (uint32_t)(e >> 48);

		if (cnt && !ata_range_ok(s, lba, cnt)) {
			dm_log_guest("ide: TRIM range %llu+%u past the end",
				     (unsigned long long)lba, cnt);
			dma_fail(s, BM_END_OK, ER_ABRT);
			return;
		}
		n += cnt != 0;
	}
	if (n == 0) {
		s->ch->bm.done = s->dma_bytes;
		dma_next(s);
		return;
	}
	s->dsm_left = n;
	for (uint32_t i = 0; i + 8 <= len; i += 8) {
		uint64_t e = 0;

		for (unsigned b = 0; b < 8; b++)
			e |= (uint64_t)s->buf[i + b] << (8 * b);
		uint32_t cnt = (uint32_t)(e >> 48);

		if (!cnt)
			continue;
		struct ide_req *r = ide_req_new(s, NULL, 0, dsm_done);

		blk_aio_discard(ide_blk(s), (e & 0xffffffffffffull) * IDE_SECTOR,
				(uint64_t)cnt * IDE_SECTOR, ide_req_cb, r);
	}
}

static void dma_next(struct ide_drive *s)
{
	struct bmdma *bm = &s->ch->bm;
	uint32_t left = s->dma_bytes - bm->done;
	uint32_t max = IDE_BUF_SIZE;

	if (left == 0) {
		dma_complete(s);
		return;
	}
	if (s->atapi && s->ax.from_disc)
		max = IDE_BUF_SIZE / s->ax.block_size * s->ax.block_size;
	s->dma_chunk = left < max ? left : max;
	if (!s->dma_write) {
		if (s->atapi) {
			atapi_dma_fill(s, s->buf, s->dma_chunk, dma_in_done);
		} else {
			uint64_t lba = s->xfer_lba;

			s->xfer_lba += s->dma_chunk / IDE_SECTOR;
			ide_read_async(s, lba * IDE_SECTOR, s->buf, s->dma_chunk,
				       dma_in_done);
		}
		return;
	}
	if (bm_sg_copy(bm, bm->done, s->buf, s->dma_chunk, false) < 0) {
		dm_log_guest("ide: a PRD points outside guest RAM");
		dma_fail(s, BM_END_ERROR, ER_ABRT);
		return;
	}
	if (s->cmd == 0x06) {
		dsm_run(s, s->dma_chunk);
		return;
	}
	uint64_t lba = s->xfer_lba;

	s->xfer_lba += s->dma_chunk / IDE_SECTOR;
	ide_write_async(s, lba * IDE_SECTOR, s->buf, s->dma_chunk, dma_out_done);
}

void ide_dma_run(struct ide_channel *ch)
{
	struct bmdma *bm = &ch->bm;
	struct ide_drive *s = NULL;

	if (!(bm->cmd & BM_CMD_START) || bm->drive)
		return;
	for (unsigned u = 0; u < 2; u++)
		if (ch->drive[u].dma_pending)
			s = &ch->drive[u];
	if (!s)
		return;
	s->dma_pending = false;
	s->status &= (uint8_t)~ST_DRQ;
	s->status |= ST_BSY;
	bm->drive = s;
	bm->done = 0;
	if (bm_prd_walk(bm, s->dma_bytes) < 0) {
		dm_log_guest("ide: PRD table at %#x is not in guest RAM",
			     bm->prd_addr);
		dma_fail(s, BM_END_ERROR, ER_ABRT);
		return;
	}
	if (bm->sg_bytes < s->dma_bytes) {
		/* The PRDs describe less than the command moves: the
		 * controller stops with neither interrupt nor active. */
		s->status = ST_DRDY | ST_DSC;
		if (s->atapi)
			s->nsector = 0x03;
		bm_dma_end(ch, BM_END_SHORT);
		return;
	}
	dma_next(s);
}

/* ---- other ATA commands ---- */

static void put_str(uint16_t *w, const char *str, unsigned words)
{
	size_t len = strlen(str);

	for (unsigned i = 0; i < words * 2; i++) {
		uint8_t c = i < len ? (uint8_t)str[i] : ' ';

		if (i & 1)
			w[i / 2] |= c;
		else
			w[i / 2] = (uint16_t)(c << 8);
	}
}

static void id_finish(uint16_t *id, uint8_t *out)
{
	uint8_t sum = 0;

	id[255] = 0x00a5;
	for (unsigned i = 0; i < 256; i++) {
		out[2 * i] = (uint8_t)id[i];
		out[2 * i + 1] = (uint8_t)(id[i] >> 8);
	}
	for (unsigned i = 0; i < 511; i++)
		sum = (uint8_t)(sum + out[i]);
	out[511] = (uint8_t)-sum;
}

static uint16_t dma_mode_word(const struct ide_drive *s, unsigned kind,
			      uint16_t supported)
{
	uint16_t w = supported;

	if ((s->xfer_mode >> 3) == kind)
		w |= (uint16_t)(1u << ((s->xfer_mode & 7) + 8));
	return w;
}

static void ata_identify(struct ide_drive *s, uint16_t *id)
{
	uint64_t cur_cap = (uint64_t)s->cyls * s->cur_heads * s->cur_secs;
	uint64_t lba28 = s->nb_sectors > 0x0fffffff ? 0x0fffffff : s->nb_sectors;
	bool trim = blk_can_discard(ide_blk(s));

	id[0] = 0x0040;
	id[1] = (uint16_t)s->cyls;
	id[3] = (uint16_t)s->heads;
	id[4] = (uint16_t)(IDE_SECTOR * s->secs);
	id[5] = IDE_SECTOR;
	id[6] = (uint16_t)s->secs;
	put_str(&id[10], s->serial, 10);
	id[20] = 3;
	id[21] = IDE_BUF_SIZE / IDE_SECTOR;
	put_str(&id[23], s->version, 4);
	put_str(&id[27], s->model, 20);
	id[47] = 0x8000 | ATA_MAX_MULT;
	id[48] = 1;                             /* dword I/O */
	id[49] = 1u << 11 | 1u << 9 | 1u << 8;  /* IORDY, LBA, DMA */
	id[51] = 0x200;
	id[52] = 0x200;
	id[53] = 1 | 1u << 1 | 1u << 2;         /* words 54-58, 64-70, 88 */
	id[54] = (uint16_t)s->cyls;
	id[55] = (uint16_t)s->cur_heads;
	id[56] = (uint16_t)s->cur_secs;
	if (cur_cap > 0xffffffff)
		cur_cap = 0xffffffff;
	id[57] = (uint16_t)cur_cap;
	id[58] = (uint16_t)(cur_cap >> 16);
	if (s->mult_sectors)
		id[59] = (uint16_t)(0x100 | s->mult_sectors);
	id[60] = (uint16_t)lba28;
	id[61] = (uint16_t)(lba28 >> 16);
	id[62] = dma_mode_word(s, 2, 0x07) & 0x07;   /* single word: none */
	id[63] = dma_mode_word(s, 4, 0x07);     /* multiword 0-2 */
	id[64] = 0x03;                          /* PIO 3, 4 */
	id[65] = 120;
	id[66] = 120;
	id[67] = 120;
	id[68] = 120;
	if (trim)
		id[69] = 1u << 14;              /* zeroes after TRIM */
	id[80] = 0xf0;                          /* ATA/ATAPI-4 to -7 */
	id[81] = 0x16;
	id[82] = 1u << 14 | 1u << 5 | 1u << 0; /* NOP-ish, write cache, SMART */
	id[83] = 1u << 14 | 1u << 13 | 1u << 12 | 1u << 10;
	id[84] = 1u << 14 | 1u << 1;            /* SMART self-test */
	id[85] = (uint16_t)(1u << 14 | (s->wcache ? 1u << 5 : 0) |
			    (s->smart_enabled ? 1 : 0));
	id[86] = 1u << 13 | 1u << 12 | 1u << 10;
	id[87] = 1u << 14 | 1u << 1;
	id[88] = dma_mode_word(s, 8, 0x3f);     /* UDMA 0-5 */
	id[93] = 1 | 1u << 14 | 1u << 13;       /* 80-wire cable */
	id[100] = (uint16_t)s->nb_sectors;
	id[101] = (uint16_t)(s->nb_sectors >> 16);
	id[102] = (uint16_t)(s->nb_sectors >> 32);
	id[103] = (uint16_t)(s->nb_sectors >> 48);
	id[106] = 1u << 14;                     /* 512-byte sectors */
	if (trim) {
		id[105] = 1;                    /* one 512-byte block of ranges */
		id[169] = 1;                    /* TRIM supported */
	}
}

static void cmd_identify(struct ide_drive *s)
{
	uint16_t id[256] = { 0 };

	ata_identify(s, id);
	id_finish(id, s->buf);
	s->status = ST_DRDY | ST_DSC;
	ide_transfer_start(s, IDE_SECTOR, END_DONE);
	ide_set_irq(s);
}

static void cmd_identify_packet(struct ide_drive *s)
{
	uint16_t id[256] = { 0 };

	atapi_identify(s, id);
	id_finish(id, s->buf);
	s->status = ST_DRDY | ST_DSC;
	ide_transfer_start(s, IDE_SECTOR, END_DONE);
	ide_set_irq(s);
}

/* IDENTIFY DEVICE on a CD-ROM: abort with the packet signature, which is
 * how drivers tell it from a disk. */
static void cmd_identify_on_cd(struct ide_drive *s)
{
	ide_set_signature(s);
	ide_error(s, ER_ABRT);
}

static void cmd_ok(struct ide_drive *s)
{
	ide_cmd_done(s);
	ide_set_irq(s);
}

static void cmd_set_multiple(struct ide_drive *s)
{
	unsigned n = s->nsector;

	if (n > ATA_MAX_MULT || (n & (n - 1))) {
		ide_error(s, ER_ABRT);
		return;
	}
	s->mult_sectors = n;
	cmd_ok(s);
}

static void cmd_init_dev_params(struct ide_drive *s)
{
	if (s->nsector == 0) {
		ide_error(s, ER_ABRT);
		return;
	}
	s->cur_secs = s->nsector;
	s->cur_heads = (s->select & 0x0f) + 1u;
	cmd_ok(s);
}

static void cmd_set_features(struct ide_drive *s)
{
	switch (s->feature) {
	case 0x02:      /* write cache on */
		s->wcache = true;
		break;
	case 0x82:
		s->wcache = false;
		break;
	case 0x03: {    /* transfer mode from the sector count */
		uint8_t m = s->nsector;

		switch (m >> 3) {
		case 0:         /* PIO default */
		case 1:         /* PIO flow control 0-4 */
			if ((m >> 3) == 1 && (m & 7) > 4)
				goto abort;
			break;
		case 4:         /* multiword DMA 0-2 */
			if ((m & 7) > 2)
				goto abort;
			break;
		case 8:         /* UDMA 0-5 */
			if ((m & 7) > 5)
				goto abort;
			break;
		default:
			goto abort;
		}
		s->xfer_mode = m;
		break;
	}
	case 0x05: case 0x85:   /* power management */
	case 0x31: case 0x66: case 0xcc:
	case 0x55: case 0xaa:   /* read look-ahead */
	case 0x42: case 0xc2:   /* acoustic management */
		break;
	default:
		goto abort;
	}
	cmd_ok(s);
	return;
abort:
	ide_error(s, ER_ABRT);
}

static void flush_done(struct ide_drive *s, int ret)
{
	if (ret < 0) {
		ide_error(s, ER_ABRT);
		return;
	}
	cmd_ok(s);
}

static void cmd_flush(struct ide_drive *s)
{
	struct blk *b = ide_blk(s);

	if (!b || s->atapi) {
		cmd_ok(s);
		return;
	}
	s->status = ST_BSY | ST_DRDY;
	struct ide_req *r = ide_req_new(s, NULL, 0, flush_done);

	blk_aio_flush(b, ide_req_cb, r);
}

static void cmd_verify(struct ide_drive *s)
{
	if (!ata_rw_setup(s, s->cmd == 0x42))
		return;
	ide_set_sector(s, s->xfer_lba + s->xfer_left - 1);
	cmd_ok(s);
}

static void cmd_read_native_max(struct ide_drive *s)
{
	uint64_t max = s->nb_sectors - 1;

	s->lba48 = s->cmd == 0x27;
	if (!s->lba48 && max > 0x0fffffff)
		max = 0x0fffffff;
	ide_set_sector(s, max);
	cmd_ok(s);
}

static void cmd_check_power(struct ide_drive *s)
{
	s->nsector = s->standby ? 0x00 : 0xff;
	cmd_ok(s);
}

static void cmd_idle(struct ide_drive *s)
{
	s->standby = false;
	cmd_ok(s);
}

static void cmd_standby(struct ide_drive *s)
{
	s->standby = true;
	cmd_ok(s);
}

static void drive_reset_regs(struct ide_drive *s);

static void cmd_diagnostic(struct ide_drive *s)
{
	struct ide_channel *ch = s->ch;

	for (unsigned u = 0; u < 2; u++) {
		struct ide_drive *d = &ch->drive[u];

		ide_set_signature(d);
		ide_transfer_stop(d);
		d->status = d->atapi ? 0 : ST_DRDY | ST_DSC;
		d->error = 0x01;                /* passed */
	}
	/* Device 1 failing would show as 0x81; an absent slave is fine. */
	ch->cur = 0;
	for (unsigned u = 0; u < 2; u++)
		ch->drive[u].select &= (uint8_t)~0x10;
	ide_set_irq(&ch->drive[0]);
}

static void cmd_device_reset(struct ide_drive *s)
{
	drive_reset_regs(s);
	ide_set_signature(s);
	s->status = 0;
	s->error = 0x01;
}

static void cmd_packet(struct ide_drive *s)
{
	s->atapi_dma = s->feature & 1;
	s->byte_limit = (unsigned)s->hcyl << 8 | s->lcyl;
	s->nsector = 0x01;                      /* C/D: a command */
	s->status = ST_DRDY;
	ide_transfer_start(s, 12, END_ATAPI_CMD);
}

/* SMART: enough for smartctl and the counter of CVE-2014-2894, whose
 * 21st self-test wrote before its buffer: the log has 21 slots and the
 * index wraps to 1. */
static void cmd_smart(struct ide_drive *s)
{
	if (s->lcyl != 0x4f || s->hcyl != 0xc2)
		goto abort;
	if (!s->smart_enabled && s->feature != 0xd8)
		goto abort;
	switch (s->feature) {
	case 0xd8:      /* enable */
		s->smart_enabled = 1;
		break;
	case 0xd9:      /* disable */
		s->smart_enabled = 0;
		break;
	case 0xd2:      /* attribute autosave */
	case 0xd3:
		break;
	case 0xda:      /* return status: lcyl/hcyl say "no threshold hit" */
		break;
	case 0xd0:      /* read data */
	case 0xd1: {    /* read thresholds */
		uint8_t sum = 0;

		memset(s->buf, 0, IDE_SECTOR);
		s->buf[0] = 0x10;                       /* revision */
		s->buf[2] = 0x01;                       /* raw read error rate */
		s->buf[3] = 0x03;
		s->buf[5] = 100;
		s->buf[6] = 100;
		s->buf[362] = 0x02;                     /* offline status */
		s->buf[367] = 0x01;                     /* self-test supported */
		s->buf[368] = 0x03;                     /* offline capability */
		for (unsigned i = 0; i < 511; i++)
			sum = (uint8_t)(sum + s->buf[i]);
		s->buf[511] = (uint8_t)-sum;
		s->status = ST_DRDY | ST_DSC;
		ide_transfer_start(s, IDE_SECTOR, END_DONE);
		ide_set_irq(s);
		return;
	}
	case 0xd5: {    /* read log */
		uint8_t sum = 0;

		memset(s->buf, 0, IDE_SECTOR);
		if (s->sector == 0x06) {                /* self-test log */
			s->buf[0] = 0x01;
			s->buf[1] = 0x00;
			memcpy(s->buf + 2, s->smart_selftest,
			       sizeof(s->smart_selftest));
			s->buf[508] = (uint8_t)s->smart_selftest_count;
		} else if (s->sector != 0x01) {
			goto abort;
		}
		for (unsigned i = 0; i < 511; i++)
			sum = (uint8_t)(sum + s->buf[i]);
		s->buf[511] = (uint8_t)-sum;
		s->status = ST_DRDY | ST_DSC;
		ide_transfer_start(s, IDE_SECTOR, END_DONE);
		ide_set_irq(s);
		return;
	}
	case 0xd4: {    /* execute off-line: log a short self-test */
		unsigned slot = s->smart_selftest_count;        /* 1..21 */
		uint8_t *e;

		if (slot < 1 || slot > 21)
			slot = 1;
		e = s->smart_selftest + (slot - 1) * 24;
		memset(e, 0, 24);
		e[0] = s->sector;               /* test number */
		e[1] = 0x00;                    /* completed without error */
		s->smart_selftest_count = slot == 21 ? 1 : slot + 1;
		break;
	}
	default:
		goto abort;
	}
	cmd_ok(s);
	return;
abort:
	ide_error(s, ER_ABRT);
}

static const struct ata_cmd ata_cmds[256] = {
	[0x06] = { cmd_write_dma, HD_OK },      /* DATA SET MANAGEMENT */
	[0x08] = { cmd_device_reset, CD_OK },
	[0x10] = { cmd_ok, HD_OK },             /* RECALIBRATE */
	[0x20] = { cmd_read_sectors, HD_OK },
	[0x21] = { cmd_read_sectors, HD_OK },
	[0x24] = { cmd_read_sectors, HD_OK },
	[0x25] = { cmd_read_dma, HD_OK },
	[0x27] = { cmd_read_native_max, HD_OK },
	[0x29] = { cmd_read_multiple, HD_OK },
	[0x30] = { cmd_write_sectors, HD_OK },
	[0x31] = { cmd_write_sectors, HD_OK },
	[0x34] = { cmd_write_sectors, HD_OK },
	[0x35] = { cmd_write_dma, HD_OK },
	[0x39] = { cmd_write_multiple, HD_OK },
	[0x40] = { cmd_verify, HD_OK },
	[0x41] = { cmd_verify, HD_OK },
	[0x42] = { cmd_verify, HD_OK },
	[0x70] = { cmd_ok, HD_OK },             /* SEEK */
	[0x90] = { cmd_diagnostic, ALL_OK },
	[0x91] = { cmd_init_dev_params, HD_OK },
	[0x94] = { cmd_standby, ALL_OK },
	[0x95] = { cmd_idle, ALL_OK },
	[0x96] = { cmd_standby, ALL_OK },
	[0x97] = { cmd_idle, ALL_OK },
	[0x98] = { cmd_check_power, ALL_OK },
	[0xa0] = { cmd_packet, CD_OK },
	[0xa1] = { cmd_identify_packet, CD_OK },
	[0xb0] = { cmd_smart, HD_OK },
	[0xc4] = { cmd_read_multiple, HD_OK },
	[0xc5] = { cmd_write_multiple, HD_OK },
	[0xc6] = { cmd_set_multiple, HD_OK },
	[0xc8] = { cmd_read_dma, HD_OK },
	[0xc9] = { cmd_read_dma, HD_OK },
	[0xca] = { cmd_write_dma, HD_OK },
	[0xcb] = { cmd_write_dma, HD_OK },
	[0xe0] = { cmd_standby, ALL_OK },       /* STANDBY IMMEDIATE */
	[0xe1] = { cmd_idle, ALL_OK },          /* IDLE IMMEDIATE */
	[0xe2] = { cmd_standby, ALL_OK },
	[0xe3] = { cmd_idle, ALL_OK },
	[0xe5] = { cmd_check_power, ALL_OK },
	[0xe7] = { cmd_flush, ALL_OK },
	[0xea] = { cmd_flush, ALL_OK },
	[0xec] = { cmd_identify, HD_OK },
	[0xef] = { cmd_set_features, ALL_OK },
	[0xf8] = { cmd_read_native_max, HD_OK },
};

static void ide_exec_cmd(struct ide_drive *s, uint8_t cmd)
{
	const struct ata_cmd *c = &ata_cmds[cmd];
	uint8_t kind = s->atapi ? CD_OK : HD_OK;

	if (!ide_present(s))
		return;
	/* Only DEVICE RESET gets through to a busy packet device. */
	if ((s->status & (ST_BSY | ST_DRQ)) && !(s->atapi && cmd == 0x08))
		return;
	if (s->ch->bm.drive == s)
		return;
	s->cmd = cmd;
	s->dma_pending = false;
	s->lba48 = false;
	ide_transfer_stop(s);
	if (s->atapi && cmd == 0xec) {
		cmd_identify_on_cd(s);
		return;
	}
	if (cmd == 0x06 && (s->atapi || !(s->feature & 1) ||
			    !blk_can_discard(ide_blk(s)))) {
		ide_error(s, ER_ABRT);
		return;
	}
	if (!c->fn || !(c->ok & kind)) {
		dm_log_guest("ide: command %#x not accepted by %s", cmd,
			     s->atapi ? "a CD-ROM" : "a disk");
		ide_error(s, ER_ABRT);
		return;
	}
	s->status = ST_DRDY | ST_BSY;
	s->error = 0;
	c->fn(s);
}

/* ---- registers ---- */

uint64_t ide_cmd_read(struct ide_channel *ch, unsigned reg, unsigned size)
{
	struct ide_drive *s = cur_drive(ch);
	bool hob = ch->devctl & DC_HOB;
	bool none = !ide_present(&ch->drive[0]) && !ide_present(&ch->drive[1]);
	/* An absent slave: the master answers for it with zeros. */
	bool absent = !ide_present(s);

	if (reg == 0)
		return absent ? (size == 4 ? 0xffffffffu : 0xffffu) :
		       data_read(s, size == 4 ? 4 : 2);
	if (reg == 6)
		return none ? 0xff : s->select;
	if (none)
		return 0xff;
	if (absent)
		return 0;
	switch (reg) {
	case 1: return hob ? s->hob_feature : s->error;
	case 2: return hob ? s->hob_nsector : s->nsector;
	case 3: return hob ? s->hob_sector : s->sector;
	case 4: return hob ? s->hob_lcyl : s->lcyl;
	case 5: return hob ? s->hob_hcyl : s->hcyl;
	case 7:
		ide_clear_irq(ch);
		return s->status;
	}
	return 0xff;
}

void ide_cmd_write(struct ide_channel *ch, unsigned reg, uint64_t v,
		   unsigned size)
{
	uint8_t b = (uint8_t)v;

	if (reg == 0) {
		if (ide_present(cur_drive(ch)))
			data_write(cur_drive(ch), (uint32_t)v,
				   size == 4 ? 4 : 2);
		return;
	}
	if (reg == 7) {
		ide_clear_irq(ch);
		ide_exec_cmd(cur_drive(ch), b);
		return;
	}
	ch->devctl &= (uint8_t)~DC_HOB;
	for (unsigned u = 0; u < 2; u++) {
		struct ide_drive *s = &ch->drive[u];

		switch (reg) {
		case 1: s->hob_feature = s->feature; s->feature = b; break;
		case 2: s->hob_nsector = s->nsector; s->nsector = b; break;
		case 3: s->hob_sector = s->sector; s->sector = b; break;
		case 4: s->hob_lcyl = s->lcyl; s->lcyl = b; break;
		case 5: s->hob_hcyl = s->hcyl; s->hcyl = b; break;
		case 6: s->select = b | 0xa0; break;
		}
	}
	if (reg == 6) {
		ch->cur = (b >> 4) & 1;
		ide_update_irq(ch);
	}
}

uint8_t ide_altstatus_read(struct ide_channel *ch)
{
	struct ide_drive *s = cur_drive(ch);

	if (!ide_present(&ch->drive[0]) && !ide_present(&ch->drive[1]))
		return 0xff;
	return ide_present(s) ? s->status : 0;
}

/* Forget the command in progress (its disk request, if any, is waited
 * for and its completion dropped). */
static void drive_reset_regs(struct ide_drive *s)
{
	struct blk *b = ide_blk(s);

	s->gen++;
	if (s->busy_io && b)
		blk_drain(b);
	s->busy_io = 0;
	if (s->ch->bm.drive == s)
		bm_dma_end(s->ch, BM_END_SHORT);
	s->dma_pending = false;
	ide_transfer_stop(s);
	s->feature = s->hob_feature = 0;
	s->hob_nsector = s->hob_sector = s->hob_lcyl = s->hob_hcyl = 0;
	s->select = 0xa0 | (uint8_t)(s->unit << 4);
	if (s->atapi)
		atapi_reset(s);
}

static void drive_reset(struct ide_drive *s)
{
	drive_reset_regs(s);
	ide_set_signature(s);
	s->error = 0x01;
	s->status = s->atapi || !ide_present(s) ? 0 : ST_DRDY | ST_DSC;
}

void ide_devctl_write(struct ide_channel *ch, uint8_t v)
{
	bool was = ch->devctl & DC_SRST;

	if (!was && (v & DC_SRST)) {
		for (unsigned u = 0; u < 2; u++) {
			drive_reset_regs(&ch->drive[u]);
			ch->drive[u].status = ST_BSY | ST_DSC;
		}
	} else if (was && !(v & DC_SRST)) {
		for (unsigned u = 0; u < 2; u++)
			drive_reset(&ch->drive[u]);
		ch->cur = 0;
	}
	ch->devctl = v;
	ide_update_irq(ch);
}

void ide_channel_reset(struct ide_channel *ch)
{
	for (unsigned u = 0; u < 2; u++) {
		struct ide_drive *s = &ch->drive[u];

		drive_reset(s);
		s->mult_sectors = ATA_MAX_MULT;
		s->wcache = s->drv && s->drv->blk ?
			    blk_has_write_cache(s->drv->blk) : true;
		s->cur_heads = s->heads;
		s->cur_secs = s->secs;
		s->xfer_mode = 0x44;            /* as the BIOS would leave it */
		s->standby = false;
		s->locked = false;
		s->smart_enabled = 1;
		s->smart_selftest_count = 1;
		memset(s->smart_selftest, 0, sizeof(s->smart_selftest));
	}
	ch->cur = 0;
	ch->devctl = 0;
	ch->irq_level = false;
	ch->bm.cmd = 0;
	ch->bm.status &= BM_ST_DMA0 | BM_ST_DMA1;
	ch->bm.prd_addr = 0;
	ide_update_irq(ch);
}

/* A disk's size and default geometry: 16 heads, 63 sectors, at most
 * 16383 cylinders, as BIOSes and QEMU assume for an LBA disk. */
static void ata_geometry(struct ide_drive *s)
{
	uint64_t cyls = s->nb_sectors / (16 * 63);

	if (cyls > 16383)
		cyls = 16383;
	if (cyls < 1)
		cyls = 1;
	s->cyls = (unsigned)cyls;
	s->heads = 16;
	s->secs = 63;
}

void ide_channel_init(struct ide_channel *ch, unsigned index, unsigned gsi)
{
	memset(ch, 0, sizeof(*ch));
	ch->index = index;
	ch->gsi = gsi;
	for (unsigned u = 0; u < 2; u++) {
		struct ide_drive *s = &ch->drive[u];
		struct drive *d = drive_find(DRIVE_IF_IDE, (int)(index * 2 + u));

		s->ch = ch;
		s->unit = u;
		s->buf = g_malloc0(IDE_BUF_SIZE + 16);
		if (!d)
			continue;
		s->drv = d;
		s->atapi = d->media == DRIVE_MEDIA_CDROM;
		/* QEMU's defaults, which guests and tests know */
		if (d->serial)
			snprintf(s->serial, sizeof(s->serial), "%s", d->serial);
		else
			snprintf(s->serial, sizeof(s->serial), "QM%05u",
				 index * 2 + u + 1);
		snprintf(s->version, sizeof(s->version), "%s",
			 d->ver ? d->ver : "2.5+");
		snprintf(s->model, sizeof(s->model), "%s", d->model ? d->model :
			 s->atapi ? "QEMU DVD-ROM" : "QEMU HARDDISK");
		if (s->atapi) {
			drive_attach(d, &atapi_drive_ops, s);
		} else {
			s->nb_sectors = d->blk ? blk_size(d->blk) / IDE_SECTOR : 0;
			ata_geometry(s);
		}
		if (s->unit == 1)
			ch->bm.status |= BM_ST_DMA1;
		else
			ch->bm.status |= BM_ST_DMA0;
	}
	ide_channel_reset(ch);
}
