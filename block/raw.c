/*
 * raw: the image is the disk, byte for byte.  Every request goes straight
 * to the file layer.
 */
#include "block/block-int.h"

/* Anything can be a raw image; any real format's probe beats this. */
static int raw_probe(const uint8_t *head, size_t len, const char *filename)
{
	(void)head; (void)len; (void)filename;
	return 1;
}

static int raw_open(struct blk *b, char **err)
{
	(void)err;
	b->size = b->file->size;
	return 0;
}

static void raw_submit(struct blk *b, struct blk_req *r)
{
	blk_file_submit(b->file, r);
}

const struct blk_driver blk_driver_raw = {
	.name = "raw",
	.probe = raw_probe,
	.open = raw_open,
	.submit = raw_submit,
};
