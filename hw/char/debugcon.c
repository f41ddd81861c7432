/*
 * The ISA debug console: bytes written to port 0x402 go to a character
 * back end (-debugcon stdio|file:PATH|...).  SeaBIOS prints its debug log
 * there.  Reads return 0xe9, which is how software detects it.
 */
#include "dm/chardev.h"
#include "dm/dm.h"
#include "hw/serial.h"

static struct chardev *debugcon_chr;

static uint64_t debugcon_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0xe9;
}

static void debugcon_write(void *opaque, uint64_t off, uint64_t v,
			   unsigned size)
{
	uint8_t b = (uint8_t)v;

	(void)opaque;
	(void)off;
	(void)size;
	chardev_write(debugcon_chr, &b, 1);
}

static const struct io_ops debugcon_ops = {
	.read = debugcon_read, .write = debugcon_write,
	.min_size = 1, .max_size = 1,
};

int debugcon_init(struct chardev *chr)
{
	debugcon_chr = chr;
	return io_region_add(IO_SPACE_PIO, 0x402, 1, &debugcon_ops, NULL,
			     "debugcon", 0) ? 0 : -1;
}
