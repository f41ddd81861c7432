/*
 * fw_cfg: the firmware configuration interface SeaBIOS and Linux's
 * qemu_fw_cfg driver read.  Items are byte arrays keyed by a 16-bit
 * selector; files are items from 0x20 on, listed in item 0x19 sorted by
 * name (as QEMU does, so firmware sees the same order).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/fw_cfg.h"

#define FW_CFG_MAX_KEYS (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FW_CFG_NAME_LEN 56

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

static struct fw_cfg_item fw_items[FW_CFG_MAX_KEYS];
static char fw_names[FW_CFG_MAX_FILES][FW_CFG_NAME_LEN];
static unsigned fw_nfiles;
static uint16_t fw_sel;
static uint32_t fw_off;
static uint64_t fw_dma_addr;  /* high half latched until the low half */

static struct fw_cfg_item *fw_cfg_cur(void)
{
	return fw_sel < FW_CFG_MAX_KEYS ? &fw_items[fw_sel] : NULL;
}

int fw_cfg_add_bytes(uint16_t key, const void *data, size_t len)
{
	uint8_t *copy;

	if (key >= FW_CFG_MAX_KEYS || len > UINT32_MAX)
		return -1;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	free(fw_items[key].data);
	fw_items[key].data = copy;
	fw_items[key].len = (uint32_t)len;
	return 0;
}

int fw_cfg_add_i16(uint16_t key, uint16_t v)
{
	uint8_t b[2] = { v, v >> 8 };

	return fw_cfg_add_bytes(key, b, sizeof(b));
}

int fw_cfg_add_i32(uint16_t key, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = v >> (8 * i);
	return fw_cfg_add_bytes(key, b, sizeof(b));
}

int fw_cfg_add_i64(uint16_t key, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
	return fw_cfg_add_bytes(key, b, sizeof(b));
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Rebuild item 0x19: count, then {size, select, reserved, name[56]}. */
static int fw_cfg_rebuild_dir(void)
{
	size_t len = 4 + (size_t)fw_nfiles * 64;
	uint8_t *dir = calloc(1, len);
	int rc;

	if (!dir)
		return -1;
	put_be(dir, fw_nfiles, 4);
	for (unsigned i = 0; i < fw_nfiles; i++) {
		uint8_t *e = dir + 4 + i * 64;
		uint16_t key = FW_CFG_FILE_FIRST + i;

		put_be(e, fw_items[key].len, 4);
		put_be(e + 4, key, 2);
		memcpy(e + 8, fw_names[i], FW_CFG_NAME_LEN);
	}
	rc = fw_cfg_add_bytes(FW_CFG_FILE_DIR, dir, len);
	free(dir);
	return rc;
}

/*
 * Files keep sorted order by shifting later entries up one key; this is
 * only legal before the guest starts, which is when devices add files.
 */
int fw_cfg_add_file(const char *name, const void *data, size_t len)
{
	unsigned pos;
	uint8_t *copy;

	if (!name || !*name || strlen(name) >= FW_CFG_NAME_LEN ||
	    fw_nfiles >= FW_CFG_MAX_FILES || len > UINT32_MAX)
		return -1;
	for (pos = 0; pos < fw_nfiles; pos++) {
		int c = strcmp(name, fw_names[pos]);

		if (c == 0)
			return -1;
		if (c < 0)
			break;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	memmove(&fw_names[pos + 1], &fw_names[pos],
		(fw_nfiles - pos) * sizeof(fw_names[0]));
	memmove(&fw_items[FW_CFG_FILE_FIRST + pos + 1],
		&fw_items[FW_CFG_FILE_FIRST + pos],
		(fw_nfiles - pos) * sizeof(fw_items[0]));
	memset(fw_names[pos], 0, FW_CFG_NAME_LEN);
	strcpy(fw_names[pos], name);
	fw_items[FW_CFG_FILE_FIRST + pos].data = copy;
	fw_items[FW_CFG_FILE_FIRST + pos].len = (uint32_t)len;
	fw_nfiles++;
	return fw_cfg_rebuild_dir();
}

static void fw_cfg_select(uint16_t key)
{
	fw_sel = key;
	fw_off = 0;
}

/* One byte of the current item; past the end (or unknown key) reads 0. */
static uint8_t fw_cfg_read_byte(void)
{
	struct fw_cfg_item *it = fw_cfg_cur();

	if (!it || !it->data || fw_off >= it->len)
		return 0;
	return it->data[fw_off++];
}

static uint64_t fw_cfg_io_read(void *opaque, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	(void)opaque;
	if (off != 1)          /* the selector is write-only */
		return 0;
	/* Wider data reads return bytes in stream order, as QEMU does. */
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | fw_cfg_read_byte();
	return v;
}

static void fw_cfg_io_write(void *opaque, uint64_t off, uint64_t val,
			    unsigned size)
{
	(void)opaque;
	if (off == 0 && size == 2)
		fw_cfg_select((uint16_t)val);
	/* Data writes are ignored: the interface is read-only since QEMU 2.4. */
}

/* Run one FWCfgDmaAccess at gpa; every guest length is clamped. */
static void fw_cfg_dma_run(uint64_t gpa)
{
	uint8_t d[16];
	uint32_t ctl, len;
	uint64_t addr;
	bool err = false;

	if (guest_mem_read(gpa, d, sizeof(d)) < 0) {
		dm_log_guest("fw_cfg DMA descriptor at %#llx not in RAM",
			     (unsigned long long)gpa);
		return;
	}
	ctl = (uint32_t)get_be(d, 4);
	len = (uint32_t)get_be(d + 4, 4);
	addr = get_be(d + 8, 8);
	if (ctl & FW_CFG_DMA_SELECT)
		fw_cfg_select((uint16_t)(ctl >> 16));
	if (ctl & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP)) {
		struct fw_cfg_item *it = fw_cfg_cur();
		uint32_t avail = (it && it->data && fw_off < it->len) ?
				 it->len - fw_off : 0;
		uint32_t n = len < avail ? len : avail;

		if (ctl & FW_CFG_DMA_READ) {
			/* Bytes past the item read as zeros, like PIO. */
			static const uint8_t zeros[4096];
			uint32_t done;

			if (n && guest_mem_write(addr, it->data + fw_off, n) < 0)
				err = true;
			for (done = n; !err && done < len;) {
				uint32_t k = len - done;

				if (k > sizeof(zeros))
					k = sizeof(zeros);
				if (guest_mem_write(addr + done, zeros, k) < 0)
					err = true;
				done += k;
			}
		}
		if (!err)
			fw_off += n;
	} else if (ctl & FW_CFG_DMA_WRITE) {
		err = true;   /* writes are refused */
	}
	put_be(d, err ? FW_CFG_DMA_ERROR : 0, 4);
	guest_mem_write(gpa, d, 4);
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t off, unsigned size)
{
	/* Reads give the "QEMU CFG" signature SeaBIOS probes for. */
	static const char sig[] = "QEMU CFG";
	uint64_t v = 0;

	(void)opaque;
	/* Byte order as QEMU's big-endian region: port 0x514 reads 'Q'. */
	for (unsigned i = 0; i < size && off + i < 8; i++)
		v |= (uint64_t)(uint8_t)sig[off + i] << (8 * i);
	return v;
}

static void fw_cfg_dma_write(void *opaque, uint64_t off, uint64_t val,
			     unsigned size)
{
	(void)opaque;
	/* Big-endian address; the guest swaps, so a port write of 4 bytes
	 * at offset 0 carries the high half and at 4 the low half. */
	if (size == 4 && off == 0) {
		fw_dma_addr = (uint64_t)__builtin_bswap32((uint32_t)val) << 32;
	} else if (size == 4 && off == 4) {
		fw_cfg_dma_run(fw_dma_addr |
			       __builtin_bswap32((uint32_t)val));
		fw_dma_addr = 0;
	} else if (size == 8 && off == 0) {
		fw_cfg_dma_run(__builtin_bswap64(val));
		fw_dma_addr = 0;
	}
}

static const struct io_ops fw_cfg_ops = {
	.read = fw_cfg_io_read, .write = fw_cfg_io_write,
	.min_size = 1, .max_size = 8,
};

static const struct io_ops fw_cfg_dma_ops = {
	.read = fw_cfg_dma_read, .write = fw_cfg_dma_write,
	.min_size = 1, .max_size = 8,
};

int fw_cfg_init(void)
{
	static const char sig[4] = { 'Q', 'E', 'M', 'U' };

	if (!io_region_add(IO_SPACE_PIO, FW_CFG_PORT_SEL, 2, &fw_cfg_ops, NULL,
			   "fw_cfg", 0) ||
	    !io_region_add(IO_SPACE_PIO, FW_CFG_PORT_DMA, 8, &fw_cfg_dma_ops,
			   NULL, "fw_cfg-dma", 0))
		return -1;
	fw_cfg_add_bytes(FW_CFG_SIGNATURE, sig, sizeof(sig));
	fw_cfg_add_i32(FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	fw_cfg_add_i64(FW_CFG_RAM_SIZE, guest_ram_size());
	fw_cfg_add_i64(FW_CFG_NUMA, 0);
	return fw_cfg_rebuild_dir();
}
