/*
 * A guest's configuration as xl understands it: the keys of an HVM guest
 * from an xl.cfg file (xl and xm/Xen 3 spellings), checked and with
 * Xen's defaults, and its translation into qemu-dm's command line.
 */
#ifndef XL_DOMCFG_H
#define XL_DOMCFG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "tools/xl/xlcfg.h"

enum xl_action {
	XL_ACT_DESTROY, XL_ACT_RESTART, XL_ACT_PRESERVE, XL_ACT_RENAME_RESTART,
};

#define XL_MAX_IDE 4

struct xl_disk {
	char *target;           /* NULL: an empty CD-ROM drive */
	char *vdev;             /* as written: hda, xvdb, hdc ... */
	int index;              /* IDE index 0..3 (hda..hdd) */
	bool cdrom;
	bool readonly;
	bool cdrom_key;         /* from Xen 3's cdrom = '...' */
	char *format;           /* raw, qcow2, vmdk ... */
	char *where;            /* FILE:LINE */
};

struct xl_vif {
	char *mac;              /* NULL: xl makes one 00:16:3e:xx:xx:xx */
	char *bridge;
	char *model;            /* rtl8139 (Xen's default), ne2k_pci, pcnet ... */
	char *script;
	char *vifname;
	char *backend;          /* "tap", or "user" (our netdev=user) */
	char *where;
};

struct domcfg {
	char *name;
	uint64_t memory_mb, maxmem_mb;
	unsigned vcpus;
	char *kernel, *ramdisk, *cmdline;
	char *dm_path;          /* device_model_override / device_model */
	GPtrArray *disks;       /* struct xl_disk * */
	GPtrArray *vifs;        /* struct xl_vif * */
	bool vnc, vnc_set, vncunused, vncviewer;
	char *vnclisten, *vncpasswd;
	int vncdisplay;         /* -1: none given */
	bool sdl;
	char *vga;              /* "cirrus", "std", "none" */
	bool vga_set;
	char *keymap;
	bool usb;
	GPtrArray *usbdevices;  /* char * */
	GPtrArray *serials;     /* char *: pty, file:/p, /dev/ttyS0 ... */
	char *boot;             /* c, d, n, a in order */
	bool acpi, localtime;
	long long rtc_timeoffset;
	char *uuid;
	char *accel;            /* ours: "kvm", "soft" or NULL (hvmd decides) */
	GPtrArray *dm_args;     /* device_model_args: passed as they are */
	enum xl_action on_poweroff, on_reboot, on_crash;
	GPtrArray *notes;       /* char *: "note: FILE:LINE: key: what" */
	GHashTable *where;      /* key -> "FILE:LINE" of the keys read */
};

/* Read cfg into a new domcfg.  Returns NULL with *err = "FILE:LINE: ..."
 * on a bad value.  Notes (keys accepted but not provided, ignored keys)
 * and one warning per unknown key go to d->notes. */
struct domcfg *domcfg_from_xlcfg(struct xlcfg *cfg, char **err);
/* The same with xl's global config (/etc/xen/xl.conf, may be NULL): the
 * defaults xend took from xend-config.sxp (vnclisten, vncpasswd, keymap)
 * and Xen's vif.default.bridge. */
struct domcfg *domcfg_from_xlcfg_globals(struct xlcfg *cfg,
					 struct xlcfg *globals, char **err);
/* Read xl.conf ($XL_CONF, else /etc/xen/xl.conf): NULL when there is none;
 * errors and unknown keys are notes in *notes (char *). */
struct xlcfg *xl_globals_load(GPtrArray *notes, char **err);
void domcfg_free(struct domcfg *d);

const char *xl_action_name(enum xl_action a);

/*
 * The device model's command line, in groups: each group is the
 * arguments one config key (or one default) produced, so an option the
 * device model refuses can be traced to the key that asked for it.
 */
struct dm_arg_group {
	char *key;              /* "vnc", "disk", ... */
	char *where;            /* FILE:LINE, or NULL for a default */
	bool explicit;          /* the config asked for it (not a default) */
	GPtrArray *args;        /* char * */
	bool dropped;           /* a default the device model cannot do */
};

struct dm_args_ctx {
	long domid;             /* -1: none (probing) */
	int vnc_display;        /* chosen display, -1: none */
	const char *qmp_path;   /* xl's QMP server socket, or NULL */
	const char *monitor_path;   /* the watcher's socket, or NULL */
	const char *vif_script;     /* puts a tap on its bridge, or NULL */
};

/* The groups for d, in command-line order (a GPtrArray of
 * struct dm_arg_group *, freed with g_ptr_array_free). */
GPtrArray *dm_args_build(const struct domcfg *d, const struct dm_args_ctx *ctx);
/* The flat argv (without the program), NULL-terminated, g_strfreev it. */
char **dm_args_flatten(GPtrArray *groups);
/* The group a qemu-dm error message ("qemu-dm: -vnc :0: ...") is about,
 * or NULL. */
struct dm_arg_group *dm_args_blame(GPtrArray *groups, const char *msg);

#endif
