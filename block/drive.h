/*
 * Drives as qemu-dm's command line and QMP see them (devices use
 * include/block/block.h).
 */
#ifndef BLOCK_DRIVE_H
#define BLOCK_DRIVE_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "block/block.h"

/* Open every -drive (and place -device ide-hd/ide-cd): before devices
 * are made.  Logs one message and returns -1 on bad input. */
int drives_init(void);
/* Let requests in flight finish and close every image (exit). */
void drives_fini(void);
/* -device ide-hd / ide-cd: handled by drives_init, not by the machine. */
bool drive_is_device_spec(const char *spec);

/* Media change.  read_only: -1 keep the drive's, 0 or 1. */
int drive_eject(struct drive *d, bool force, char **err);
int drive_change(struct drive *d, const char *file, const char *format,
		 int read_only, bool force, char **err);

/* QMP's block commands: 0 not one of them, 1 done (*ret may be set),
 * -1 failed with *err. */
int qmp_block_command(const char *cmd, JsonObject *args, JsonNode **ret,
		      char **err);

#endif
