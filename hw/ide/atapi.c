/*
 * ATAPI: the packet command set of the CD-ROM drive (MMC, the parts an
 * operating system's CD driver and a BIOS use).
 *
 * PACKET (A0h) opens a 12-byte window on the data port; the packet's
 * opcode picks a row of atapi_cmds, which says whether the command needs
 * a medium (else NOT READY, MEDIUM NOT PRESENT) and whether it may run
 * while a unit attention is pending (only INQUIRY, REQUEST SENSE and GET
 * EVENT STATUS NOTIFICATION may: every other command reports the
 * attention once).  A reply goes out by PIO in chunks no larger than the
 * byte count limit the host put in the cylinder registers, or by DMA
 * when the PACKET command's feature bit 0 asked for it.  Reads check
 * their LBA and length against the disc in 64-bit arithmetic first
 * (CVE-2020-29443 was an LBA of -1 on READ CD).
 *
 * An empty drive (no image, or the tray open) is a drive without a
 * medium: the commands that need one fail with NOT READY, the others
 * answer.
 */
#include <string.h>

#include <glib.h>

#include "hw/ide/ide.h"

/* sense keys */
#define SK_NO_SENSE        0x00
#define SK_NOT_READY       0x02
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION  0x06

/* additional sense codes */
#define ASC_INV_OPCODE     0x20
#define ASC_LBA_RANGE      0x21
#define ASC_INV_FIELD      0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_SAVING_PARAMS  0x39
#define ASC_NO_MEDIUM      0x3a
#define ASC_REMOVAL_PREVENTED 0x53

#define NEEDS_MEDIUM 0x1
#define ALLOW_UA     0x2

/* GET EVENT STATUS NOTIFICATION media event codes */
#define MEC_NONE       0
#define MEC_EJECT_REQ  1
#define MEC_NEW_MEDIA  2
#define MEC_REMOVAL    3

bool atapi_medium_ready(struct ide_drive *s)
{
	return s->drv && s->drv->blk && !s->drv->tray_open;
}

static uint32_t disc_blocks(struct ide_drive *s)
{
	uint64_t n;

	if (!atapi_medium_ready(s))
		return 0;
	n = blk_size(s->drv->blk) / CD_BLOCK;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void atapi_set_sense(struct ide_drive *s, uint8_t key, uint8_t asc,
		     uint8_t ascq)
{
	s->sense_key = key;
	s->asc = asc;
	s->ascq = ascq;
}

/* The command succeeded (its data, if any, went out). */
static void atapi_ok(struct ide_drive *s)
{
	ide_transfer_stop(s);
	s->status = ST_DRDY | ST_DSC;
	s->error = 0;
	s->nsector = 0x03;              /* I/O and C/D: status phase */
	ide_set_irq(s);
}

/* CHECK CONDITION: the sense key goes in the error register's top half. */
static void atapi_check(struct ide_drive *s, uint8_t key, uint8_t asc,
			uint8_t ascq)
{
	atapi_set_sense(s, key, asc, ascq);
	ide_transfer_stop(s);
	s->status = ST_DRDY | ST_ERR;
	s->error = (uint8_t)(key << 4);
	s->nsector = 0x03;
	ide_set_irq(s);
}

static void atapi_no_medium(struct ide_drive *s)
{
	bool open = s->drv && s->drv->tray_open;

	atapi_check(s, SK_NOT_READY, ASC_NO_MEDIUM, open ? 0x02 : 0x01);
}

static void atapi_bad_field(struct ide_drive *s)
{
	atapi_check(s, SK_ILLEGAL_REQUEST, ASC_INV_FIELD, 0);
}

/* ---- data-in ---- */

static unsigned byte_limit(struct ide_drive *s)
{
	unsigned l = s->byte_limit;

	if (l == 0 || l == 0xffff)
		l = 0xfffe;
	return l < 2 ? 2 : l;
}

/* Expand n 2048-byte blocks at the start of buf into raw 2352-byte
 * mode 1 frames (sync, header with the MSF address, data, and zeroed
 * EDC/ECC), last one first so nothing is overwritten before it moved. */
static void cd_raw_expand(uint8_t *buf, uint32_t lba, uint32_t n)
{
	for (uint32_t i = n; i-- > 0;) {
		uint8_t *f = buf + (size_t)i * CD_RAW_BLOCK;
		uint32_t a = lba + i + 150;

		memmove(f + 16, buf + (size_t)i * CD_BLOCK, CD_BLOCK);
		memset(f + 16 + CD_BLOCK, 0, CD_RAW_BLOCK - 16 - CD_BLOCK);
		f[0] = 0;
		memset(f + 1, 0xff, 10);
		f[11] = 0;
		f[12] = (uint8_t)(a / 4500 / 10 * 16 + a / 4500 % 10);
		f[13] = (uint8_t)(a / 75 % 60 / 10 * 16 + a / 75 % 60 % 10);
		f[14] = (uint8_t)(a % 75 / 10 * 16 + a % 75 % 10);
		f[15] = 1;              /* mode 1 */
	}
}

static void atapi_pio_serve(struct ide_drive *s)
{
	unsigned chunk = s->ax.left;
	unsigned lim = byte_limit(s);

	if (chunk > s->pio_have - s->pio_used)
		chunk = s->pio_have - s->pio_used;
	if (chunk > lim)
		chunk = lim & ~1u;
	s->nsector = 0x02;              /* I/O: data to the host */
	s->lcyl = (uint8_t)chunk;
	s->hcyl = (uint8_t)(chunk >> 8);
	s->status = ST_DRDY | ST_DSC;
	s->data_pos = s->pio_used;
	s->data_end = s->pio_used + chunk;
	s->end = END_ATAPI_NEXT;
	s->status |= ST_DRQ;
	s->pio_used += chunk;
	s->ax.left -= chunk;
	ide_set_irq(s);
}

static void disc_read_done(struct ide_drive *s, int ret)
{
	uint32_t n = s->fill_blocks;

	if (ret < 0) {
		/* MEDIUM ERROR, UNRECOVERED READ ERROR */
		atapi_check(s, 0x03, 0x11, 0x00);
		if (s->fill_done)
			s->fill_done = NULL;
		return;
	}
	if (s->ax.block_size == CD_RAW_BLOCK)
		cd_raw_expand(s->buf, s->ax.lba - n, n);
	if (s->fill_done) {
		void (*done)(struct ide_drive *, int) = s->fill_done;

		s->fill_done = NULL;
		done(s, 0);
		return;
	}
	s->pio_have = n * s->ax.block_size;
	s->pio_used = 0;
	atapi_pio_serve(s);
}

/* Read the next n blocks of the transfer into the start of buf. */
static void disc_read(struct ide_drive *s, uint32_t n)
{
	uint32_t lba = s->ax.lba;

	s->fill_blocks = n;
	s->ax.lba += n;
	s->ax.blocks -= n;
	s->status = ST_BSY | ST_DRDY;
	ide_read_async(s, (uint64_t)lba * CD_BLOCK, s->buf,
		       (size_t)n * CD_BLOCK, disc_read_done);
}

void atapi_pio_next(struct ide_drive *s)
{
	s->end = END_NONE;
	s->status &= (uint8_t)~ST_DRQ;
	if (s->ax.left == 0) {
		atapi_ok(s);
		return;
	}
	if (s->pio_used >= s->pio_have) {
		uint32_t n = IDE_BUF_SIZE / s->ax.block_size;

		if (!s->ax.from_disc || s->ax.blocks == 0) {
			atapi_ok(s);            /* cannot happen: left agrees */
			return;
		}
		disc_read(s, s->ax.blocks < n ? s->ax.blocks : n);
		return;
	}
	atapi_pio_serve(s);
}

void atapi_dma_fill(struct ide_drive *s, uint8_t *buf, uint32_t len,
		    void (*done)(struct ide_drive *s, int ret))
{
	if (!s->ax.from_disc) {
		if (len > s->pio_have - s->pio_used)
			len = s->pio_have - s->pio_used;
		memmove(buf, s->buf + s->pio_used, len);
		s->pio_used += len;
		done(s, 0);
		return;
	}
	s->fill_done = done;
	disc_read(s, len / s->ax.block_size);
}

void atapi_dma_finish(struct ide_drive *s, int ret)
{
	(void)ret;
	ide_transfer_stop(s);
	s->status = ST_DRDY | ST_DSC;
	s->error = 0;
	s->nsector = 0x03;
}

static void atapi_start_data(struct ide_drive *s)
{
	if (s->ax.left == 0) {
		atapi_ok(s);
		return;
	}
	s->pio_used = 0;
	s->pio_have = s->ax.from_disc ? 0 : s->ax.left;
	if (s->atapi_dma) {
		ide_dma_begin(s, s->ax.left, false);
		return;
	}
	atapi_pio_next(s);
}

/* A reply of len bytes in buf, cut to the host's allocation length. */
static void atapi_reply(struct ide_drive *s, unsigned len, unsigned alloc)
{
	s->ax = (struct atapi_xfer){ .left = len < alloc ? len : alloc };
	atapi_start_data(s);
}

static void atapi_read_blocks(struct ide_drive *s, uint64_t lba,
			      uint64_t n, unsigned bs)
{
	uint64_t total = disc_blocks(s);

	if (lba > total || n > total - lba) {
		dm_log_guest("atapi: read of %llu blocks at %llu past the end",
			     (unsigned long long)n, (unsigned long long)lba);
		atapi_check(s, SK_ILLEGAL_REQUEST, ASC_LBA_RANGE, 0);
		return;
	}
	if (n * bs > 0xffffffffu / 2) {
		atapi_bad_field(s);
		return;
	}
	s->ax = (struct atapi_xfer){
		.from_disc = true, .lba = (uint32_t)lba, .blocks = (uint32_t)n,
		.block_size = bs, .left = (uint32_t)(n * bs),
	};
	atapi_start_data(s);
}

/* ---- the commands ---- */

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
	lba += 150;
	p[0] = (uint8_t)(lba / 4500);
	p[1] = (uint8_t)(lba / 75 % 60);
	p[2] = (uint8_t)(lba % 75);
}

static void cmd_test_unit_ready(struct ide_drive *s)
{
	atapi_ok(s);
}

static void cmd_request_sense(struct ide_drive *s)
{
	uint8_t *b = s->buf;

	memset(b, 0, 18);
	b[0] = 0x70;
	b[7] = 10;
	if (s->sense_key == SK_NO_SENSE && !atapi_medium_ready(s))
		atapi_set_sense(s, SK_NOT_READY, ASC_NO_MEDIUM,
				s->drv && s->drv->tray_open ? 0x02 : 0x01);
	if (s->unit_attention && s->sense_key == SK_NO_SENSE) {
		atapi_set_sense(s, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
		s->unit_attention = false;
	}
	b[2] = s->sense_key;
	b[12] = s->asc;
	b[13] = s->ascq;
	atapi_set_sense(s, SK_NO_SENSE, 0, 0);
	atapi_reply(s, 18, s->packet[4]);
}

static void cmd_inquiry(struct ide_drive *s)
{
	uint8_t *b = s->buf;

	if (s->packet[1] & 1) {         /* no vital product data pages */
		atapi_bad_field(s);
		return;
	}
	memset(b, 0, 36);
	b[0] = 0x05;                    /* CD/DVD device */
	b[1] = 0x80;                    /* removable */
	b[2] = 0x00;
	b[3] = 0x21;                    /* ATAPI, response data format 1 */
	b[4] = 31;
	memcpy(b + 8, "QEMU    ", 8);
	memcpy(b + 16, "QEMU DVD-ROM    ", 16);
	memcpy(b + 32, s->version, strnlen(s->version, 4));
	atapi_reply(s, 36, ide_rd_be16(s->packet + 3));
}

static void cmd_read_capacity(struct ide_drive *s)
{
	ide_be32(s->buf, disc_blocks(s) - 1);
	ide_be32(s->buf + 4, CD_BLOCK);
	atapi_reply(s, 8, 8);
}

static void cmd_read10(struct ide_drive *s)
{
	atapi_read_blocks(s, ide_rd_be32(s->packet + 2),
			  ide_rd_be16(s->packet + 7), CD_BLOCK);
}

static void cmd_read12(struct ide_drive *s)
{
	atapi_read_blocks(s, ide_rd_be32(s->packet + 2),
			  ide_rd_be32(s->packet + 6), CD_BLOCK);
}

static void cmd_read_cd(struct ide_drive *s)
{
	const uint8_t *p = s->packet;
	uint32_t n = (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8];
	uint32_t lba = ide_rd_be32(p + 2);

	switch (p[9] & 0xf8) {
	case 0x00:                      /* nothing asked for */
		if (lba > disc_blocks(s)) {
			atapi_check(s, SK_ILLEGAL_REQUEST, ASC_LBA_RANGE, 0);
			return;
		}
		atapi_ok(s);
		return;
	case 0x10:                      /* user data */
		atapi_read_blocks(s, lba, n, CD_BLOCK);
		return;
	case 0xf8:                      /* the whole raw sector */
		atapi_read_blocks(s, lba, n, CD_RAW_BLOCK);
		return;
	}
	atapi_bad_field(s);
}

static void cmd_seek(struct ide_drive *s)
{
	if (ide_rd_be32(s->packet + 2) >= disc_blocks(s)) {
		atapi_check(s, SK_ILLEGAL_REQUEST, ASC_LBA_RANGE, 0);
		return;
	}
	atapi_ok(s);
}

/* An address in a TOC: LBA, or [0, M, S, F]. */
static void toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
	if (msf) {
		p[0] = 0;
		lba_to_msf(p + 1, lba);
	} else {
		ide_be32(p, lba);
	}
}

static void cmd_read_toc(struct ide_drive *s)
{
	const uint8_t *p = s->packet;
	bool msf = p[1] & 2;
	unsigned format = p[2] & 0x0f;
	unsigned start = p[6];
	unsigned alloc = ide_rd_be16(p + 7);
	uint32_t total = disc_blocks(s);
	uint8_t *b = s->buf;
	unsigned len;

	if (format == 0 && (p[9] >> 6))         /* the old place for it */
		format = p[9] >> 6;
	memset(b, 0, 64);
	switch (format) {
	case 0:                                 /* TOC */
		if (start > 1 && start != 0xaa) {
			atapi_bad_field(s);
			return;
		}
		b[2] = 1;
		b[3] = 1;
		len = 4;
		if (start <= 1) {
			b[len + 1] = 0x14;      /* data track, copy allowed */
			b[len + 2] = 1;
			toc_addr(b + len + 4, 0, msf);
			len += 8;
		}
		b[len + 1] = 0x14;
		b[len + 2] = 0xaa;              /* lead-out */
		toc_addr(b + len + 4, total, msf);
		len += 8;
		break;
	case 1:                                 /* session information */
		b[2] = 1;
		b[3] = 1;
		b[5] = 0x14;
		b[6] = 1;
		toc_addr(b + 8, 0, msf);
		len = 12;
		break;
	case 2: {                               /* full TOC */
		static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };

		b[2] = 1;
		b[3] = 1;
		len = 4;
		for (unsigned i = 0; i < 4; i++) {
			uint8_t *d = b + len;

			d[0] = 1;               /* session */
			d[1] = 0x14;
			d[3] = points[i];
			switch (points[i]) {
			case 0xa0: d[8] = 1; break;      /* first track */
			case 0xa1: d[8] = 1; break;      /* last track */
			case 0xa2:                       /* lead-out */
				if (msf)
					lba_to_msf(d + 8, total);
				else
					ide_be32(d + 7, total);
				break;
			default:
				if (msf)
					lba_to_msf(d + 8, 0);
				break;
			}
			len += 11;
		}
		break;
	}
	default:
		atapi_bad_field(s);
		return;
	}
	ide_be16(b, (uint16_t)(len - 2));
	atapi_reply(s, len, alloc);
}

/* Profiles: a disc larger than a CD is a DVD. */
#define PROFILE_CD  0x0008
#define PROFILE_DVD 0x0010

static uint16_t current_profile(struct ide_drive *s)
{
	if (!atapi_medium_ready(s))
		return 0;
	return disc_blocks(s) > 400000 ? PROFILE_DVD : PROFILE_CD;
}

static void cmd_get_configuration(struct ide_drive *s)
{
	const uint8_t *p = s->packet;
	unsigned rt = p[1] & 3;
	unsigned start = ide_rd_be16(p + 2);
	unsigned alloc = ide_rd_be16(p + 7);
	uint16_t cur = current_profile(s);
	uint8_t *b = s->buf;
	unsigned len = 8;

	if (rt == 3) {
		atapi_bad_field(s);
		return;
	}
	memset(b, 0, 64);
	ide_be16(b + 6, cur);
	for (unsigned f = 0; f < 4; f++) {
		uint8_t *d = b + len;
		unsigned code = f == 3 ? 0x0003 : f;

		if (f == 2)
			continue;               /* no feature 2 */
		if (rt == 2 ? code != start : code < start)
			continue;
		ide_be16(d, (uint16_t)code);
		switch (code) {
		case 0x0000:                    /* profile list */
			d[2] = 0x03;            /* persistent, current */
			d[3] = 8;
			ide_be16(d + 4, PROFILE_DVD);
			d[6] = cur == PROFILE_DVD;
			ide_be16(d + 8, PROFILE_CD);
			d[10] = cur == PROFILE_CD;
			len += 12;
			break;
		case 0x0001:                    /* core */
			d[2] = 0x03;
			d[3] = 4;
			d[7] = 0x02;            /* ATAPI */
			len += 8;
			break;
		case 0x0003:                    /* removable medium */
			d[2] = 0x03;
			d[3] = 4;
			d[4] = 0x29;            /* tray, eject, lock */
			if (s->locked)
				d[4] |= 0x04;   /* prevent jumper: locked */
			len += 8;
			break;
		}
	}
	ide_be32(b, len - 4);
	atapi_reply(s, len, alloc);
}

static void cmd_get_event_status(struct ide_drive *s)
{
	const uint8_t *p = s->packet;
	unsigned alloc = ide_rd_be16(p + 7);
	uint8_t *b = s->buf;

	if (!(p[1] & 1)) {              /* only polled operation */
		atapi_bad_field(s);
		return;
	}
	memset(b, 0, 8);
	b[3] = 0x10;                    /* supported: media */
	if (!(p[4] & 0x10)) {
		b[2] = 0x80;            /* no event available */
		ide_be16(b, 2);
		atapi_reply(s, 4, alloc);
		return;
	}
	b[2] = 0x04;                    /* media class */
	ide_be16(b, 6);
	if (s->eject_requested) {
		b[4] = MEC_EJECT_REQ;
		s->eject_requested = false;
	} else {
		b[4] = s->event_media;
	}
	s->event_media = MEC_NONE;
	b[5] = (uint8_t)((s->drv && s->drv->tray_open ? 1 : 0) |
			 (atapi_medium_ready(s) ? 2 : 0));
	atapi_reply(s, 8, alloc);
}

static void cmd_mode_sense(struct ide_drive *s)
{
	const uint8_t *p = s->packet;
	unsigned pc = p[2] >> 6, page = p[2] & 0x3f;
	unsigned alloc = ide_rd_be16(p + 7);
	uint8_t *b = s->buf;
	unsigned len = 8;

	if (pc == 3) {
		atapi_check(s, SK_ILLEGAL_REQUEST, ASC_SAVING_PARAMS, 0);
		return;
	}
	if (page != 0x01 && page != 0x2a && page != 0x3f) {
		atapi_bad_field(s);
		return;
	}
	memset(b, 0, 64);
	b[2] = 0x70;                    /* medium type as QEMU reports it */
	if (page == 0x01 || page == 0x3f) {     /* error recovery */
		b[len] = 0x01;
		b[len + 1] = 0x06;
		if (pc != 1)
			b[len + 3] = 5; /* read retry count */
		len += 8;
	}
	if (page == 0x2a || page == 0x3f) {     /* capabilities */
		uint8_t *c = b + len;

		c[0] = 0x2a;
		c[1] = 0x12;
		if (pc != 1) {
			c[2] = 0x3b;    /* reads CD-R, CD-RW, DVD-ROM, ... */
			c[4] = 0x71;    /* audio play, multi-session, modes */
			c[5] = 0x7f;
			c[6] = 0x29 | (s->locked ? 0x02 : 0);
			ide_be16(c + 8, 706);   /* 4x, KB/s */
			ide_be16(c + 10, 2);
			ide_be16(c + 12, 512);
			ide_be16(c + 14, 706);
		}
		len += 20;
	}
	ide_be16(b, (uint16_t)(len - 2));
	atapi_reply(s, len, alloc);
}

static void cmd_start_stop(struct ide_drive *s)
{
	bool start = s->packet[4] & 1, loej = s->packet[4] & 2;

	if (loej && s->drv) {
		if (!start && s->locked) {
			atapi_check(s, SK_ILLEGAL_REQUEST,
				    ASC_REMOVAL_PREVENTED, 0x02);
			return;
		}
		if (s->drv->tray_open == start) {
			drive_tray_moved(s->drv, !start);
			s->event_media = start ? MEC_NEW_MEDIA : MEC_REMOVAL;
		}
	}
	atapi_ok(s);
}

static void cmd_prevent_allow(struct ide_drive *s)
{
	s->locked = s->packet[4] & 1;
	atapi_ok(s);
}

static void cmd_read_disc_info(struct ide_drive *s)
{
	uint8_t *b = s->buf;

	if (s->packet[1] & 7) {         /* only the standard disc info */
		atapi_bad_field(s);
		return;
	}
	memset(b, 0, 34);
	ide_be16(b, 32);
	b[2] = 0x0e;                    /* last session complete, disc final */
	b[3] = 1;                       /* first track */
	b[4] = 1;                       /* sessions */
	b[5] = 1;
	b[6] = 1;
	b[7] = 0x20;                    /* unrestricted use */
	atapi_reply(s, 34, ide_rd_be16(s->packet + 7));
}

static void cmd_mechanism_status(struct ide_drive *s)
{
	uint8_t *b = s->buf;

	memset(b, 0, 8);
	if (s->drv && s->drv->tray_open)
		b[1] = 0x10;            /* door open */
	atapi_reply(s, 8, ide_rd_be16(s->packet + 8));
}

static void cmd_set_cd_speed(struct ide_drive *s)
{
	atapi_ok(s);
}

struct atapi_cmd {
	void (*fn)(struct ide_drive *s);
	uint8_t flags;
};

static const struct atapi_cmd atapi_cmds[256] = {
	[0x00] = { cmd_test_unit_ready, NEEDS_MEDIUM },
	[0x03] = { cmd_request_sense, ALLOW_UA },
	[0x12] = { cmd_inquiry, ALLOW_UA },
	[0x1b] = { cmd_start_stop, 0 },
	[0x1e] = { cmd_prevent_allow, 0 },
	[0x25] = { cmd_read_capacity, NEEDS_MEDIUM },
	[0x28] = { cmd_read10, NEEDS_MEDIUM },
	[0x2b] = { cmd_seek, NEEDS_MEDIUM },
	[0x43] = { cmd_read_toc, NEEDS_MEDIUM },
	[0x46] = { cmd_get_configuration, ALLOW_UA },
	[0x4a] = { cmd_get_event_status, ALLOW_UA },
	[0x51] = { cmd_read_disc_info, NEEDS_MEDIUM },
	[0x5a] = { cmd_mode_sense, 0 },
	[0xa8] = { cmd_read12, NEEDS_MEDIUM },
	[0xbb] = { cmd_set_cd_speed, 0 },
	[0xbd] = { cmd_mechanism_status, 0 },
	[0xbe] = { cmd_read_cd, NEEDS_MEDIUM },
};

void atapi_packet_cmd(struct ide_drive *s)
{
	const struct atapi_cmd *c;

	memcpy(s->packet, s->buf, sizeof(s->packet));
	c = &atapi_cmds[s->packet[0]];
	s->status = ST_BSY | ST_DRDY;
	if (s->unit_attention && !(c->flags & ALLOW_UA)) {
		s->unit_attention = false;
		atapi_check(s, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
		return;
	}
	if (!c->fn) {
		dm_log_guest("atapi: unknown packet command %#x",
			     s->packet[0]);
		atapi_check(s, SK_ILLEGAL_REQUEST, ASC_INV_OPCODE, 0);
		return;
	}
	if ((c->flags & NEEDS_MEDIUM) && !atapi_medium_ready(s)) {
		atapi_no_medium(s);
		return;
	}
	if (s->packet[0] != 0x03)
		atapi_set_sense(s, SK_NO_SENSE, 0, 0);
	c->fn(s);
}

void atapi_identify(struct ide_drive *s, uint16_t *id)
{
	uint16_t *w;
	const char *str[3] = { s->serial, s->version, s->model };
	const unsigned at[3] = { 10, 23, 27 }, words[3] = { 10, 4, 20 };

	/* ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets */
	id[0] = 2u << 14 | 5u << 8 | 1u << 7 | 2u << 5;
	for (unsigned k = 0; k < 3; k++) {
		size_t len = strlen(str[k]);

		w = id + at[k];
		for (unsigned i = 0; i < words[k] * 2; i++) {
			uint8_t ch = i < len ? (uint8_t)str[k][i] : ' ';

			if (i & 1)
				w[i / 2] |= ch;
			else
				w[i / 2] = (uint16_t)(ch << 8);
		}
	}
	id[48] = 1;
	id[49] = 1u << 11 | 1u << 9 | 1u << 8;  /* IORDY, LBA, DMA */
	id[53] = 7;
	id[62] = 7;
	id[63] = 7;
	if ((s->xfer_mode >> 3) == 4)
		id[63] |= (uint16_t)(1u << ((s->xfer_mode & 7) + 8));
	id[64] = 3;
	id[65] = 0xb4;
	id[66] = 0xb4;
	id[67] = 0x12c;
	id[68] = 0xb4;
	id[71] = 30;
	id[72] = 30;
	id[80] = 0x1e;                          /* ATAPI-1 to -4 */
	id[82] = 1u << 4 | 1u << 14;            /* PACKET feature set */
	id[83] = 1u << 14;
	id[84] = 1u << 14;
	id[85] = 1u << 4 | 1u << 14;
	id[87] = 1u << 14;
	id[88] = 0x3f;
	if ((s->xfer_mode >> 3) == 8)
		id[88] |= (uint16_t)(1u << ((s->xfer_mode & 7) + 8));
	id[93] = 1 | 1u << 14 | 1u << 13;
}

void atapi_reset(struct ide_drive *s)
{
	s->fill_done = NULL;
	s->ax = (struct atapi_xfer){ 0 };
	s->pio_have = s->pio_used = 0;
	atapi_set_sense(s, SK_NO_SENSE, 0, 0);
}

/* ---- media events from the block layer ---- */

static void atapi_change_media(void *dev, bool loaded)
{
	struct ide_drive *s = dev;

	if (loaded) {
		s->unit_attention = true;
		s->event_media = MEC_NEW_MEDIA;
	} else {
		s->event_media = MEC_REMOVAL;
	}
}

static bool atapi_is_locked(void *dev)
{
	struct ide_drive *s = dev;

	return s->locked;
}

static void atapi_eject_request(void *dev)
{
	struct ide_drive *s = dev;

	s->eject_requested = true;
}

const struct drive_dev_ops atapi_drive_ops = {
	.change_media = atapi_change_media,
	.is_locked = atapi_is_locked,
	.eject_request = atapi_eject_request,
};
