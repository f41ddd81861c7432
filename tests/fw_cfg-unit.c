/*
 * fw_cfg device unit test: the device runs against small stand-ins for the
 * dm services (port dispatch, guest RAM), so it needs no hvmd or qtest.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/fw_cfg.h"
#include "tests/testlib.h"

#define RAM_SIZE (1u << 20)
static uint8_t ram[RAM_SIZE];

struct region { uint64_t base, len; const struct io_ops *ops; void *opaque; };
static struct region regions[4];
static unsigned nregions;

struct io_region *io_region_add(enum io_space space, uint64_t base,
				uint64_t len, const struct io_ops *ops,
				void *opaque, const char *name, unsigned flags)
{
	(void)space; (void)name; (void)flags;
	if (nregions >= 4)
		return NULL;
	regions[nregions] = (struct region){ base, len, ops, opaque };
	return (struct io_region *)&regions[nregions++];
}

static struct region *find(uint64_t port)
{
	for (unsigned i = 0; i < nregions; i++)
		if (port >= regions[i].base &&
		    port < regions[i].base + regions[i].len)
			return &regions[i];
	return NULL;
}

static uint64_t in(uint64_t port, unsigned size)
{
	struct region *r = find(port);

	return r ? r->ops->read(r->opaque, port - r->base, size) : ~0ull;
}

static void out(uint64_t port, uint64_t v, unsigned size)
{
	struct region *r = find(port);

	if (r)
		r->ops->write(r->opaque, port - r->base, v, size);
}

int guest_mem_read(uint64_t gpa, void *buf, size_t len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -14;
	memcpy(buf, ram + gpa, len);
	return 0;
}

int guest_mem_write(uint64_t gpa, const void *buf, size_t len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -14;
	memcpy(ram + gpa, buf, len);
	return 0;
}

uint64_t guest_ram_size(void) { return 512ull << 20; }

void dm_log(int level, const char *fmt, ...)
{
	(void)level; (void)fmt;
}

static void read_item(uint16_t key, void *buf, size_t len)
{
	out(0x510, key, 2);
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)in(0x511, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* Write a descriptor at gpa and kick it the way SeaBIOS does. */
static uint32_t dma(uint64_t gpa, uint32_t ctl, uint32_t len, uint64_t addr)
{
	uint8_t *d = ram + gpa;

	put_be32(d, ctl);
	put_be32(d + 4, len);
	put_be32(d + 8, (uint32_t)(addr >> 32));
	put_be32(d + 12, (uint32_t)addr);
	out(0x514, __builtin_bswap32((uint32_t)(gpa >> 32)), 4);
	out(0x518, __builtin_bswap32((uint32_t)gpa), 4);
	return be32(d);
}

int main(void)
{
	uint8_t buf[64];
	uint32_t id, n;
	uint64_t ram_sz = 0;

	if (fw_cfg_init() < 0) {
		test_fail("fw_cfg-init", "init failed");
		return test_exit();
	}
	fw_cfg_add_file("etc/zzz", "last", 4);
	fw_cfg_add_file("bootorder", "/pci@i0cf8/ide@1,1/drive@0/disk@0\n", 34);
	fw_cfg_add_file("etc/boot-menu-wait", "\x10\x27", 2);
	test_check("fw_cfg-file-dup", fw_cfg_add_file("bootorder", "x", 1) < 0,
		   "duplicate name accepted");

	read_item(FW_CFG_SIGNATURE, buf, 4);
	test_check("fw_cfg-signature", memcmp(buf, "QEMU", 4) == 0,
		   "got %.4s", buf);
	read_item(FW_CFG_ID, &id, 4);
	test_check("fw_cfg-id", id == 3, "id %u", id);
	read_item(FW_CFG_RAM_SIZE, &ram_sz, 8);
	test_check("fw_cfg-ram-size", ram_sz == 512ull << 20, "%llu",
		   (unsigned long long)ram_sz);
	read_item(0x7777, buf, 8);
	test_check("fw_cfg-unknown-zero", !memcmp(buf, "\0\0\0\0\0\0\0\0", 8),
		   "unknown key not zero");

	/* Directory: big-endian count then entries sorted by name. */
	read_item(FW_CFG_FILE_DIR, buf, 4);
	n = be32(buf);
	if (test_check("fw_cfg-dir-count", n == 3, "count %u", n)) {
		char names[3][56];
		uint8_t e[64];
		uint16_t boot_sel = 0;
		uint32_t boot_size = 0;

		out(0x510, FW_CFG_FILE_DIR, 2);
		for (int i = 0; i < 4; i++)
			in(0x511, 1);
		for (int i = 0; i < 3; i++) {
			for (int j = 0; j < 64; j++)
				e[j] = (uint8_t)in(0x511, 1);
			memcpy(names[i], e + 8, 56);
			if (!strcmp(names[i], "bootorder")) {
				boot_size = be32(e);
				boot_sel = (uint16_t)(e[4] << 8 | e[5]);
			}
		}
		test_check("fw_cfg-dir-sorted",
			   !strcmp(names[0], "bootorder") &&
			   !strcmp(names[1], "etc/boot-menu-wait") &&
			   !strcmp(names[2], "etc/zzz"),
			   "order %s %s %s", names[0], names[1], names[2]);
		read_item(boot_sel, buf, 5);
		test_check("fw_cfg-dir-select", boot_size == 34 &&
			   !memcmp(buf, "/pci@", 5), "size %u", boot_size);
	}

	/* DMA port signature, as QEMU's big-endian register. */
	test_check("fw_cfg-dma-sig", in(0x514, 1) == 'Q' && in(0x515, 1) == 'E',
		   "bad DMA signature");

	/* DMA: select+read the signature into RAM, then skip and read. */
	memset(ram + 0x2000, 0xaa, 16);
	n = dma(0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
		FW_CFG_DMA_READ, 6, 0x2000);
	test_check("fw_cfg-dma-read", n == 0 && !memcmp(ram + 0x2000, "QEMU\0\0", 6)
		   && ram[0x2006] == 0xaa, "ctl %#x", n);
	n = dma(0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
		FW_CFG_DMA_SKIP, 2, 0);
	n |= dma(0x1000, FW_CFG_DMA_READ, 2, 0x2100);
	test_check("fw_cfg-dma-skip", n == 0 && !memcmp(ram + 0x2100, "MU", 2),
		   "ctl %#x", n);
	n = dma(0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
		FW_CFG_DMA_READ, 4, RAM_SIZE - 2);
	test_check("fw_cfg-dma-bad-addr", n & FW_CFG_DMA_ERROR, "ctl %#x", n);
	n = dma(0x1000, FW_CFG_DMA_WRITE, 4, 0x2000);
	test_check("fw_cfg-dma-write-refused", n & FW_CFG_DMA_ERROR, "ctl %#x", n);
	/* A huge guest length must be clamped, not overrun. */
	n = dma(0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
		FW_CFG_DMA_READ, 0xffffffffu, 0x3000);
	test_check("fw_cfg-dma-huge-len", n & FW_CFG_DMA_ERROR, "ctl %#x", n);
	/* Descriptor outside RAM: nothing happens, no crash. */
	out(0x514, 0, 4);
	out(0x518, __builtin_bswap32(0xfffffff0u), 4);
	test_pass("fw_cfg-dma-bad-desc");
	return test_exit();
}
