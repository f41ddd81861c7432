/*
 * xl's commands share these (tools/xl/xl.c, tools/xl/create.c).
 */
#ifndef XL_XL_H
#define XL_XL_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/hvctl-client.h"

__attribute__((format(printf, 1, 2), noreturn))
void xl_die(const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void xl_msg(const char *fmt, ...);

/* hvmd's domains (count, up to HVCTL_LIST_MAX), or -errno when hvmd does
 * not answer. */
int xl_hvmd_list(struct hvctl_dom_info *out, unsigned max);
/* Name or number -> domain ID; dies with a message when none matches. */
uint32_t xl_resolve(const char *dom);
/* The device model to run: the config's, $XL_DEVICE_MODEL, qemu-dm beside
 * xl, else qemu-dm on PATH (static buffer). */
const char *xl_device_model(const char *cfg_path);
/* Where device-model logs go: $XL_LOG_DIR, /var/log/xen for root, else
 * the state dir. */
const char *xl_log_dir(void);

int cmd_create(int argc, char **argv);
int cmd_console(int argc, char **argv);
/* Attach this terminal to domid's serial console. */
int xl_console(uint32_t domid);

#endif
