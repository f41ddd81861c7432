/*
 * QEMU-compatible fw_cfg device: selector 0x510 (16-bit), data 0x511,
 * DMA 0x514.  Other devices add items and files before the guest runs.
 */
#ifndef HW_FW_CFG_H
#define HW_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

enum {
	FW_CFG_SIGNATURE = 0x00, FW_CFG_ID = 0x01, FW_CFG_UUID = 0x02,
	FW_CFG_RAM_SIZE = 0x03, FW_CFG_NOGRAPHIC = 0x04, FW_CFG_NB_CPUS = 0x05,
	FW_CFG_NUMA = 0x0d, FW_CFG_BOOT_MENU = 0x0e, FW_CFG_MAX_CPUS = 0x0f,
	FW_CFG_FILE_DIR = 0x19, FW_CFG_FILE_FIRST = 0x20,
	FW_CFG_MAX_FILES = 64,
};

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DMA 0x514
#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA 0x2

/* FWCfgDmaAccess.control bits (big-endian in guest memory). */
#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SKIP   0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE  0x10

/* Register the ports and the fixed items.  Returns 0 or -1. */
int fw_cfg_init(void);
/* Items copy their data.  Return 0, or -1 on a full table/bad name. */
int fw_cfg_add_bytes(uint16_t key, const void *data, size_t len);
int fw_cfg_add_i16(uint16_t key, uint16_t val);   /* little-endian */
int fw_cfg_add_i32(uint16_t key, uint32_t val);
int fw_cfg_add_i64(uint16_t key, uint64_t val);
int fw_cfg_add_file(const char *name, const void *data, size_t len);

#endif
