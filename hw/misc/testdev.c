/*
 * hvm-testdev: a device that exists only to test the I/O path itself
 * (dispatch, string I/O, MMIO widths, interrupts, buffered writes).
 * Guest programs and qtest tests drive it; `-device hvm-testdev` adds it.
 *
 *   port 0xe0  4 bytes  scratch register, any width
 *   port 0xe4  4 bytes  stream: each read returns a counter that then
 *                       increments; each write appends its bytes to a log
 *   port 0xe8  4 bytes  read: log length in bytes; write: clear log+counter
 *   port 0xec  4 bytes  read: FNV-1a hash of the log
 *   port 0x4e0 1 byte   write: bits 0-5 GSI, bit 7 level, bit 6 pulse
 *   port 0x4e1 1 byte   write: 0 power off, 1 reset
 *   port 0x4e2 1 byte   write: a character to qemu-dm's standard output
 *                       (guest programs print their PASS/FAIL lines here)
 *   port 0x4e4 4 bytes  buffered: writes should be 1, 2, 3 ... in order
 *   port 0x4e8 4 bytes  read: buffered writes received
 *   port 0x4ec 4 bytes  read: buffered writes that arrived out of order
 *   MMIO 0xfeb00000, 4 KiB: scratch memory, any width up to 8 bytes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/testdev.h"

#define TESTDEV_LOG_MAX (1u << 20)

static uint32_t td_scratch;
static uint32_t td_counter;
static uint8_t *td_log;
static uint32_t td_log_len;
static uint32_t td_buf_count, td_buf_bad;
static uint8_t td_mmio[4096];

static uint32_t td_hash(void)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < td_log_len; i++)
		h = (h ^ td_log[i]) * 16777619u;
	return h;
}

static uint64_t td_pio_read(void *opaque, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	(void)opaque;
	switch (off & ~3ull) {
	case 0x0:   /* 0xe0 */
		return (td_scratch >> ((off & 3) * 8));
	case 0x4:
		v = td_counter++;
		return v;
	case 0x8:
		return td_log_len;
	case 0xc:
		return td_hash() >> ((off & 3) * 8);
	}
	(void)size;
	return ~0ull;
}

static void td_pio_write(void *opaque, uint64_t off, uint64_t v,
			 unsigned size)
{
	(void)opaque;
	switch (off & ~3ull) {
	case 0x0: {
		unsigned sh = (off & 3) * 8;
		uint32_t m = (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1)
			     << sh;

		td_scratch = (td_scratch & ~m) | (((uint32_t)v << sh) & m);
		break;
	}
	case 0x4:
		for (unsigned i = 0; i < size && td_log_len < TESTDEV_LOG_MAX;
		     i++)
			td_log[td_log_len++] = (uint8_t)(v >> (i * 8));
		break;
	case 0x8:
		td_log_len = 0;
		td_counter = 0;
		break;
	}
}

static const struct io_ops td_pio_ops = {
	.read = td_pio_read, .write = td_pio_write,
	.min_size = 1, .max_size = 4,
};

static uint64_t td_ctl_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return ~0ull;
}

static void td_ctl_write(void *opaque, uint64_t off, uint64_t v,
			 unsigned size)
{
	(void)opaque;
	if (off == 0 && size == 1) {
		unsigned gsi = v & 0x3f;

		if (v & 0x40)
			irq_pulse(gsi);
		else
			irq_set(gsi, (v & 0x80) != 0);
	} else if (off == 1 && size == 1) {
		if (v == 0)
			dm_request_poweroff();
		else if (v == 1)
			dm_request_reset();
	} else if (off == 2 && size == 1) {
		putchar((int)(v & 0xff));
		if (v == '\n')
			fflush(stdout);
	}
}

static const struct io_ops td_ctl_ops = {
	.read = td_ctl_read, .write = td_ctl_write,
	.min_size = 1, .max_size = 4,
};

static void td_buf_write(void *opaque, uint64_t off, uint64_t v,
			 unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	td_buf_count++;
	if (v != td_buf_count)
		td_buf_bad++;
}

static uint64_t td_buf_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0;
}

static const struct io_ops td_buf_ops = {
	.read = td_buf_read, .write = td_buf_write,
	.min_size = 4, .max_size = 4,
};

static uint64_t td_mmio_read(void *opaque, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	(void)opaque;
	if (off + size <= sizeof(td_mmio))
		memcpy(&v, td_mmio + off, size);
	return v;
}

static void td_mmio_write(void *opaque, uint64_t off, uint64_t v,
			  unsigned size)
{
	(void)opaque;
	if (off + size <= sizeof(td_mmio))
		memcpy(td_mmio + off, &v, size);
}

static uint64_t td_count_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	return off == 0 ? td_buf_count : td_buf_bad;
}

static void td_count_write(void *opaque, uint64_t off, uint64_t v,
			   unsigned size)
{
	(void)opaque;
	(void)off;
	(void)v;
	(void)size;
}

static const struct io_ops td_count_ops = {
	.read = td_count_read, .write = td_count_write,
	.min_size = 4, .max_size = 4,
};

static const struct io_ops td_mmio_ops = {
	.read = td_mmio_read, .write = td_mmio_write,
	.min_size = 1, .max_size = 8,
};

int testdev_init(void)
{
	td_log = malloc(TESTDEV_LOG_MAX);
	if (!td_log)
		return -1;
	if (!io_region_add(IO_SPACE_PIO, 0xe0, 16, &td_pio_ops, NULL,
			   "testdev", 0) ||
	    !io_region_add(IO_SPACE_PIO, 0x4e0, 3, &td_ctl_ops, NULL,
			   "testdev-ctl", 0) ||
	    !io_region_add(IO_SPACE_PIO, 0x4e4, 4, &td_buf_ops, NULL,
			   "testdev-buffered", IO_REGION_BUFFERED) ||
	    !io_region_add(IO_SPACE_PIO, 0x4e8, 8, &td_count_ops, NULL,
			   "testdev-count", 0) ||
	    !io_region_add(IO_SPACE_MMIO, TESTDEV_MMIO_BASE, 4096,
			   &td_mmio_ops, NULL, "testdev-mmio", 0))
		return -1;
	return 0;
}
