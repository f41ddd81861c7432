/*
 * IDE: the PIIX3 IDE function's two channels, the ATA disks and ATAPI
 * CD-ROMs on them, and the bus-master DMA engine they share.
 *
 * core.c   channel registers (task file, status, device control), the
 *          ATA command set and the PIO/DMA transfer machinery
 * atapi.c  the packet command set of a CD-ROM drive
 * piix.c   the PCI function (8086:7010 at 00:01.1), legacy ports, BAR4
 *          bus-master registers and PRD table walking
 *
 * Everything here runs on qemu-dm's one device thread; disk requests are
 * asynchronous (include/block/block.h) and their completions come back
 * through the main loop.  docs/ide.md describes the design.
 */
#ifndef HW_IDE_IDE_H
#define HW_IDE_IDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "dm/dm.h"

/* The machine's one line: the IDE function, with whatever -drive if=ide
 * drives exist (none is fine). */
/* The IDE function at 00:01.1: PIIX3's (8086:7010, the PC's and Xen's,
 * multiword DMA for Linux's ata_piix), or with piix4 PIIX4's (8086:7111,
 * which ata_piix drives in UDMA/33); the same registers either way. */
int piix_ide_init(bool piix4);
/* Direct Linux boot stands in for firmware: turn IDE decode on. */
void piix_ide_enable_decode(void);

/* ---- status, error, device control bits ---- */
#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10
#define ST_DF   0x20
#define ST_DRDY 0x40
#define ST_BSY  0x80

#define ER_AMNF 0x01
#define ER_ABRT 0x04
#define ER_MCR  0x08
#define ER_IDNF 0x10
#define ER_MC   0x20
#define ER_UNC  0x40

#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB  0x80

/* Bus-master registers (BAR4, 8 bytes per channel). */
#define BM_CMD_START  0x01
#define BM_CMD_READ   0x08      /* 1: the device writes to memory */
#define BM_ST_ACTIVE  0x01
#define BM_ST_ERROR   0x02
#define BM_ST_INTR    0x04
#define BM_ST_DMA0    0x20
#define BM_ST_DMA1    0x40

#define IDE_SECTOR     512
#define CD_BLOCK       2048
#define CD_RAW_BLOCK   2352
/* The transfer buffer: a DRQ block, an ATAPI reply, a chunk of a DMA
 * transfer. */
#define IDE_BUF_SIZE   (256 * 1024)
#define IDE_MAX_PRD    8192     /* a 64 KiB table of 8-byte entries */

struct ide_channel;

/* A piece of guest memory named by a PRD. */
struct ide_sg {
	uint64_t addr;
	uint32_t len;
};

/* What a PIO transfer does when its DRQ block is exhausted. */
enum ide_end {
	END_NONE,       /* no transfer: data port reads 0xffff, writes dropped */
	END_DONE,       /* last block of a command: finish */
	END_READ_NEXT,  /* ATA PIO read: next block */
	END_WRITE_NEXT, /* ATA PIO write: write the block out */
	END_ATAPI_CMD,  /* the 12-byte packet arrived */
	END_ATAPI_NEXT, /* ATAPI PIO data-in: next byte-count chunk */
	END_DSM_PIO,    /* unused: DSM is DMA only */
};

/* A data-in transfer's source: bytes in the buffer, or disc blocks. */
struct atapi_xfer {
	bool from_disc;
	uint32_t lba;
	uint32_t blocks;        /* left to read */
	unsigned block_size;    /* 2048, or 2352 (raw READ CD) */
	uint32_t left;          /* bytes left for the host */
};

struct ide_drive {
	struct ide_channel *ch;
	unsigned unit;
	struct drive *drv;      /* NULL: nothing attached */
	bool atapi;

	/* task file (the command block registers as this device sees them;
	 * writes go to both devices on a channel, as on the cable) */
	uint8_t feature, nsector, sector, lcyl, hcyl;
	uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
	uint8_t select;         /* device/head register */
	uint8_t status, error;
	uint8_t cmd;

	/* identity and settings */
	uint64_t nb_sectors;
	unsigned cyls, heads, secs;             /* default geometry */
	unsigned cur_heads, cur_secs;           /* INITIALIZE DEVICE PARAMETERS */
	char serial[21], model[41], version[9];
	unsigned mult_sectors;                  /* 0: READ/WRITE MULTIPLE off */
	bool wcache;
	uint8_t xfer_mode;                      /* SET FEATURES 03h value */
	bool standby;
	uint8_t smart_enabled, smart_errors;
	unsigned smart_selftest_count;          /* 1..21, next log slot */
	uint8_t smart_selftest[21 * 24];

	/* PIO data window: [data_pos, data_end) of buf */
	uint8_t *buf;
	unsigned data_pos, data_end;
	enum ide_end end;
	/* the ATA transfer in progress */
	uint64_t xfer_lba;
	uint32_t xfer_left;     /* sectors */
	unsigned drq_sectors;   /* sectors per DRQ block */
	bool lba48;
	/* prefetched sectors of a PIO read: buf holds pio_have sectors
	 * starting at pio_base, of which pio_used went to the host */
	unsigned pio_have, pio_used;
	unsigned gen;           /* bumped by resets: stale completions drop */
	unsigned busy_io;       /* disk requests in flight */

	/* DMA: the command waits for the bus master's start bit */
	bool dma_pending;
	bool dma_write;         /* memory -> device */
	uint32_t dma_bytes;     /* this command's total */
	uint32_t dma_chunk;     /* bytes of the chunk in flight */
	unsigned dsm_left;      /* TRIM ranges still being discarded */

	/* ATAPI */
	uint8_t packet[12];
	uint8_t sense_key, asc, ascq;
	bool unit_attention;    /* medium changed, not yet reported */
	bool locked;
	bool atapi_dma;         /* FEATURES bit 0 of the PACKET command */
	unsigned byte_limit;
	struct atapi_xfer ax;
	uint8_t event_media;    /* GET EVENT STATUS media event code */
	bool eject_requested;
	/* a DMA chunk read from the disc: where it goes on completion */
	void (*fill_done)(struct ide_drive *s, int ret);
	uint32_t fill_blocks;
};

struct bmdma {
	uint8_t cmd, status;
	uint32_t prd_addr;
	/* the transfer in progress */
	struct ide_drive *drive;
	struct ide_sg *sg;
	unsigned nsg;
	uint64_t sg_bytes;      /* described by the PRDs walked */
	bool sg_more;           /* table goes on past the transfer */
	uint32_t done;          /* bytes moved */
};

struct ide_channel {
	unsigned index;         /* 0 primary, 1 secondary */
	unsigned gsi;
	struct ide_drive drive[2];
	unsigned cur;           /* selected unit */
	uint8_t devctl;
	bool irq_level;
	struct bmdma bm;
};

/* core.c */
void ide_channel_init(struct ide_channel *ch, unsigned index, unsigned gsi);
uint64_t ide_cmd_read(struct ide_channel *ch, unsigned reg, unsigned size);
void ide_cmd_write(struct ide_channel *ch, unsigned reg, uint64_t v,
		   unsigned size);
uint8_t ide_altstatus_read(struct ide_channel *ch);
void ide_devctl_write(struct ide_channel *ch, uint8_t v);
void ide_channel_reset(struct ide_channel *ch);
void ide_set_irq(struct ide_drive *s);
void ide_update_irq(struct ide_channel *ch);
bool ide_present(const struct ide_drive *s);
void ide_transfer_start(struct ide_drive *s, unsigned len, enum ide_end end);
void ide_transfer_stop(struct ide_drive *s);
void ide_abort(struct ide_drive *s);
void ide_cmd_done(struct ide_drive *s);
/* Bus master: the start bit and a DMA command have met. */
void ide_dma_run(struct ide_channel *ch);
/* Chunked DMA for ATAPI reads, driven from core.c. */
void ide_dma_begin(struct ide_drive *s, uint32_t bytes, bool to_device);
struct blk *ide_blk(struct ide_drive *s);
/* Read len bytes at off into buf; done runs from the main loop (and not
 * at all when a reset came between). */
void ide_read_async(struct ide_drive *s, uint64_t off, void *buf,
		    size_t len, void (*done)(struct ide_drive *s, int ret));

/* atapi.c */
void atapi_identify(struct ide_drive *s, uint16_t *id);
void atapi_packet_cmd(struct ide_drive *s);      /* packet in s->buf */
void atapi_pio_next(struct ide_drive *s);
/* DMA: produce the next len bytes of the reply into buf, then call
 * done(s, ret) (maybe later, from a disk completion). */
void atapi_dma_fill(struct ide_drive *s, uint8_t *buf, uint32_t len,
		    void (*done)(struct ide_drive *s, int ret));
void atapi_dma_finish(struct ide_drive *s, int ret);
void atapi_set_sense(struct ide_drive *s, uint8_t key, uint8_t asc,
		     uint8_t ascq);
void atapi_reset(struct ide_drive *s);
extern const struct drive_dev_ops atapi_drive_ops;
bool atapi_medium_ready(struct ide_drive *s);

/* piix.c */
/* Walk the PRD table for a transfer of need bytes into ch->bm.sg.
 * Returns 0, or -EFAULT when the table itself is not in RAM. */
int bm_prd_walk(struct bmdma *bm, uint64_t need);
/* Copy between a buffer and the PRDs' memory at byte offset off of the
 * transfer; -EFAULT when a PRD points outside RAM. */
int bm_sg_copy(struct bmdma *bm, uint64_t off, void *buf, uint32_t len,
	       bool to_guest);
/* The transfer is over: ok (interrupt, maybe still active), short PRD
 * table (no interrupt), or a bus error. */
enum bm_end { BM_END_OK, BM_END_SHORT, BM_END_ERROR };
void bm_dma_end(struct ide_channel *ch, enum bm_end how);
void bm_irq_notify(struct ide_channel *ch);

/* A big-endian store helper for replies. */
static inline void ide_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ide_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t ide_rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t ide_rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#endif
