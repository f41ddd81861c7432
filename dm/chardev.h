#ifndef DM_CHARDEV_H
#define DM_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chardev;

/* Open a back end from a -serial spec; NULL (and a message) on error. */
struct chardev *chardev_open(const char *spec, const char *label);
/* can_read: how many bytes the device takes now (0 pauses reading);
 * read: bytes that arrived. */
void chardev_set_handlers(struct chardev *c, size_t (*can_read)(void *opaque),
			  void (*read)(void *opaque, const uint8_t *buf,
				       size_t len),
			  void *opaque);
/* The device has room again: resume reading. */
void chardev_accept_input(struct chardev *c);
void chardev_write(struct chardev *c, const uint8_t *buf, size_t len);
/* The pty's path for "pty" back ends, else NULL. */
const char *chardev_pty_path(const struct chardev *c);
/* The i-th open back end, for QMP query-chardev; false past the last.
 * A pty's filename is "pty:/dev/pts/N" (how a toolstack finds the
 * console), others are their -serial spec. */
bool chardev_info(unsigned i, const char **label, const char **filename,
		  bool *frontend_open);

#endif
