/*
 * The keys of an HVM guest (xl.cfg(5), and the xm/Xen 3 spellings the old
 * guides use), read from a parsed config into struct domcfg.  A bad value
 * is an error naming the file and line; a key that asks for something
 * this stack does not provide is a note; an unknown key is one warning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "hvm/ioreq.h"
#include "tools/xl/domcfg.h"

struct reader {
	struct xlcfg *cfg;
	struct domcfg *d;
	char *err;
	struct xlcfg *globals;  /* xl.conf, or NULL */
};

/* A string default from xl.conf, or NULL. */
static const char *global_str(struct reader *r, const char *key)
{
	struct xlsetting *s = r->globals ? xlcfg_get(r->globals, key) : NULL;

	return s && s->val->type != XLV_LIST ? s->val->str : NULL;
}

__attribute__((format(printf, 3, 4)))
static void fail(struct reader *r, const struct xlsetting *s,
		 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (r->err)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	r->err = s ? g_strdup_printf("%s: %s: %s", xlcfg_where(s), s->key, msg)
		   : msg;
	if (s)
		g_free(msg);
}

__attribute__((format(printf, 3, 4)))
static void note(struct reader *r, const struct xlsetting *s,
		 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(r->d->notes, s ? g_strdup_printf("note: %s: %s: %s",
				xlcfg_where(s), s->key, msg) :
				g_strdup_printf("note: %s", msg));
	g_free(msg);
}

/* ---- typed getters ---- */

/* xlcfg_get, remembering where the key was set (for later messages). */
static struct xlsetting *cfg_get(struct reader *r, const char *key)
{
	struct xlsetting *s = xlcfg_get(r->cfg, key);

	if (s)
		g_hash_table_replace(r->d->where, g_strdup(key),
				     g_strdup(xlcfg_where(s)));
	return s;
}

static struct xlsetting *get_str(struct reader *r, const char *key,
				 const char **out)
{
	struct xlsetting *s = cfg_get(r, key);

	if (!s)
		return NULL;
	if (s->val->type == XLV_LIST) {
		if (s->val->items->len == 1) {
			/* xm configs sometimes wrap one value in a list */
			*out = ((struct xlval *)g_ptr_array_index(s->val->items, 0))->str;
			return s;
		}
		fail(r, s, "expected a string, not a list");
		return NULL;
	}
	*out = s->val->str;
	return s;
}

static struct xlsetting *get_num(struct reader *r, const char *key,
				 long long *out)
{
	struct xlsetting *s = cfg_get(r, key);
	char *end;

	if (!s)
		return NULL;
	if (s->val->type == XLV_NUMBER) {
		*out = s->val->num;
		return s;
	}
	if (s->val->type == XLV_STRING) {
		/* '512' in quotes is common in xm configs */
		errno = 0;
		*out = strtoll(s->val->str, &end, 0);
		if (!errno && *s->val->str && !*end)
			return s;
	}
	fail(r, s, "expected a number");
	return NULL;
}

static struct xlsetting *get_bool(struct reader *r, const char *key,
				  bool *out)
{
	struct xlsetting *s = cfg_get(r, key);

	if (!s)
		return NULL;
	if (s->val->type == XLV_NUMBER) {
		*out = s->val->num != 0;
		return s;
	}
	if (s->val->type == XLV_STRING) {
		const char *v = s->val->str;

		if (!g_ascii_strcasecmp(v, "1") || !g_ascii_strcasecmp(v, "yes") ||
		    !g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "on")) {
			*out = true;
			return s;
		}
		if (!g_ascii_strcasecmp(v, "0") || !g_ascii_strcasecmp(v, "no") ||
		    !g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "off") ||
		    !*v) {
			*out = false;
			return s;
		}
	}
	fail(r, s, "expected 0 or 1");
	return NULL;
}

/* A string or a list of strings, as a list. */
static struct xlsetting *get_list(struct reader *r, const char *key,
				  GPtrArray **out)
{
	struct xlsetting *s = cfg_get(r, key);
	GPtrArray *a;

	if (!s)
		return NULL;
	a = g_ptr_array_new();
	if (s->val->type == XLV_LIST) {
		for (guint i = 0; i < s->val->items->len; i++)
			g_ptr_array_add(a, ((struct xlval *)
				g_ptr_array_index(s->val->items, i))->str);
	} else {
		g_ptr_array_add(a, s->val->str);
	}
	*out = a;
	return s;
}

/* ---- disks ---- */

static void disk_free(gpointer p)
{
	struct xl_disk *k = p;

	g_free(k->target);
	g_free(k->vdev);
	g_free(k->format);
	g_free(k->where);
	g_free(k);
}

static void vif_free(gpointer p)
{
	struct xl_vif *v = p;

	g_free(v->mac);
	g_free(v->bridge);
	g_free(v->model);
	g_free(v->script);
	g_free(v->vifname);
	g_free(v->backend);
	g_free(v->where);
	g_free(v);
}

/* hda..hdd and xvda..xvdd (emulated as the same IDE disks, as libxl
 * does for HVM guests): the IDE index, or -1 with why. */
static int vdev_index(const char *vdev, const char **why)
{
	const char *l = NULL;

	if (!strncmp(vdev, "hd", 2))
		l = vdev + 2;
	else if (!strncmp(vdev, "xvd", 3))
		l = vdev + 3;
	else if (!strncmp(vdev, "sd", 2) && vdev[2] >= 'a' && vdev[2] <= 'z') {
		*why = "SCSI disks (sdX) are not emulated; use hda..hdd";
		return -1;
	}
	if (!l || !*l || l[1] || *l < 'a' || *l > 'z') {
		*why = "expected a virtual device such as hda, hdc or xvda";
		return -1;
	}
	if (*l > 'd') {
		*why = "only four IDE devices (hda..hdd) are emulated";
		return -1;
	}
	return *l - 'a';
}

static bool known_format(const char *f)
{
	static const char *const fmts[] = { "raw", "qcow", "qcow2", "vmdk",
					    "vhd", "qed", "vpc" };

	for (size_t i = 0; i < G_N_ELEMENTS(fmts); i++)
		if (!strcmp(f, fmts[i]))
			return true;
	return false;
}

static bool set_access(struct xl_disk *k, const char *a)
{
	if (!strcmp(a, "r") || !strcmp(a, "ro"))
		k->readonly = true;
	else if (!strcmp(a, "w") || !strcmp(a, "rw") || !strcmp(a, "w!"))
		k->readonly = false;
	else
		return false;
	return true;
}

/* The deprecated form: [prefix:]target,vdev[:cdrom|:disk],access */
static bool disk_old_form(struct reader *r, const struct xlsetting *s,
			  const char *spec, char **f, struct xl_disk *k)
{
	char *t = g_strstrip(g_strdup(f[0]));
	char *v = g_strstrip(g_strdup(f[1]));
	char *p = t;
	char *colon;

	for (;;) {
		static const char *const ignore[] = { "file:", "phy:", "tap:",
			"tap2:", "tapdisk:", "aio:", "ioemu:", "drbd:" };
		bool again = false;

		for (size_t i = 0; i < G_N_ELEMENTS(ignore); i++)
			if (!strncmp(p, ignore[i], strlen(ignore[i]))) {
				p += strlen(ignore[i]);
				again = true;
			}
		for (const char *fm = "raw:\0qcow:\0qcow2:\0vhd:\0vmdk:\0"; *fm;
		     fm += strlen(fm) + 1)
			if (!strncmp(p, fm, strlen(fm))) {
				g_free(k->format);
				k->format = g_strndup(fm, strlen(fm) - 1);
				p += strlen(fm);
				again = true;
			}
		if (!again)
			break;
	}
	k->target = *p ? g_strdup(p) : NULL;
	g_free(t);
	p = v;
	if (!strncmp(p, "ioemu:", 6))
		p += 6;
	colon = strchr(p, ':');
	if (colon) {
		*colon = '\0';
		if (!strcmp(colon + 1, "cdrom"))
			k->cdrom = true;
		else if (strcmp(colon + 1, "disk")) {
			fail(r, s, "'%s': '%s' after the device: expected "
			     ":cdrom or :disk", spec, colon + 1);
			g_free(v);
			return false;
		}
	}
	k->vdev = g_strdup(p);
	g_free(v);
	if (!set_access(k, g_strstrip(f[2]))) {
		fail(r, s, "'%s': access '%s': expected r or w", spec, f[2]);
		return false;
	}
	return true;
}

/* xl-disk-configuration(5): positional target,format,vdev,access or keys;
 * target= comes last and takes the rest (commas included). */
static bool disk_new_form(struct reader *r, const struct xlsetting *s,
			  const char *spec, struct xl_disk *k)
{
	const char *p = spec;
	int pos = 0;

	while (*p) {
		const char *comma;
		char *item, *eq;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "target=", 7)) {
			k->target = *(p + 7) ? g_strdup(p + 7) : NULL;
			break;
		}
		comma = strchr(p, ',');
		item = g_strstrip(g_strndup(p, comma ? (size_t)(comma - p) : strlen(p)));
		eq = strchr(item, '=');
		if (eq) {
			const char *val = eq + 1;

			*eq = '\0';
			if (!strcmp(item, "vdev")) {
				g_free(k->vdev);
				k->vdev = g_strdup(val);
			} else if (!strcmp(item, "format")) {
				g_free(k->format);
				k->format = g_strdup(val);
			} else if (!strcmp(item, "access")) {
				if (!set_access(k, val)) {
					fail(r, s, "'%s': access=%s: expected "
					     "ro, r, rw or w", spec, val);
					g_free(item);
					return false;
				}
			} else if (!strcmp(item, "devtype")) {
				if (!strcmp(val, "cdrom"))
					k->cdrom = true;
				else if (strcmp(val, "disk")) {
					fail(r, s, "'%s': devtype=%s: expected "
					     "cdrom or disk", spec, val);
					g_free(item);
					return false;
				}
			} else if (!strcmp(item, "backendtype") ||
				   !strcmp(item, "script") ||
				   !strcmp(item, "backend") ||
				   !strcmp(item, "discard") ||
				   !strcmp(item, "direct-io-safe")) {
				/* how Xen's backend reaches the image: the
				 * device model opens it itself here */
			} else {
				fail(r, s, "'%s': unknown disk key '%s' (keys: "
				     "target, format, vdev, access, devtype)",
				     spec, item);
				g_free(item);
				return false;
			}
		} else if (!strcmp(item, "cdrom")) {
			k->cdrom = true;
		} else if (!strcmp(item, "discard") || !strcmp(item, "no-discard")) {
		} else {
			/* positional: target, format, vdev, access */
			switch (pos++) {
			case 0:
				k->target = *item ? g_strdup(item) : NULL;
				break;
			case 1:
				if (*item) {
					g_free(k->format);
					k->format = g_strdup(item);
				}
				break;
			case 2:
				g_free(k->vdev);
				k->vdev = g_strdup(item);
				break;
			case 3:
				if (!set_access(k, item)) {
					fail(r, s, "'%s': access '%s': expected "
					     "ro, r, rw or w", spec, item);
					g_free(item);
					return false;
				}
				break;
			default:
				fail(r, s, "'%s': too many fields (target, "
				     "format, vdev, access)", spec);
				g_free(item);
				return false;
			}
		}
		g_free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	return true;
}

static bool add_disk(struct reader *r, const struct xlsetting *s,
		     const char *spec, bool xm_cdrom_key)
{
	struct xl_disk *k = g_new0(struct xl_disk, 1);
	char **f = g_strsplit(spec, ",", -1);
	unsigned n = g_strv_length(f);
	bool keys = strstr(spec, "=") != NULL;
	const char *why = NULL;
	bool ok;

	k->where = g_strdup(xlcfg_where(s));
	if (xm_cdrom_key) {
		/* Xen 3's cdrom = '/path.iso': the second IDE master */
		k->target = *spec ? g_strdup(spec) : NULL;
		k->vdev = g_strdup("hdc");
		k->cdrom = true;
		k->cdrom_key = true;
		k->readonly = true;
		ok = true;
	} else if (!keys && n == 3) {
		ok = disk_old_form(r, s, spec, f, k);
	} else {
		ok = disk_new_form(r, s, spec, k);
	}
	g_strfreev(f);
	if (!ok)
		goto bad;
	if (!k->vdev) {
		fail(r, s, "'%s': no virtual device (vdev=hda, or the old "
		     "form 'file:/path,hda,w')", spec);
		goto bad;
	}
	k->index = vdev_index(k->vdev, &why);
	if (k->index < 0) {
		fail(r, s, "'%s': %s: %s", spec, k->vdev, why);
		goto bad;
	}
	if (k->format && !known_format(k->format)) {
		fail(r, s, "'%s': format '%s': expected raw, qcow2, vmdk, qcow "
		     "or vhd", spec, k->format);
		goto bad;
	}
	if (!k->format)
		k->format = g_strdup("raw");
	if (k->cdrom)
		k->readonly = true;
	if (!k->target && !k->cdrom) {
		fail(r, s, "'%s': a disk needs a target (only a CD-ROM drive "
		     "may be empty)", spec);
		goto bad;
	}
	for (guint i = 0; i < r->d->disks->len; i++) {
		struct xl_disk *o = g_ptr_array_index(r->d->disks, i);

		if (o->index == k->index) {
			fail(r, s, "'%s': %s is given twice (also %s at %s)",
			     spec, k->vdev, o->vdev, o->where);
			goto bad;
		}
	}
	g_ptr_array_add(r->d->disks, k);
	return true;
bad:
	disk_free(k);
	return false;
}

/* ---- network ---- */

static bool add_vif(struct reader *r, const struct xlsetting *s,
		    const char *spec, unsigned devid)
{
	struct xl_vif *v = g_new0(struct xl_vif, 1);
	char **items = g_strsplit(spec, ",", -1);
	bool pv_only = false;

	v->where = g_strdup(xlcfg_where(s));
	for (char **it = items; *it; it++) {
		char *item = g_strstrip(*it);
		char *eq = strchr(item, '=');
		const char *val;

		if (!*item)
			continue;
		if (!eq) {
			fail(r, s, "'%s': '%s': expected key=value", spec, item);
			goto bad;
		}
		*eq = '\0';
		val = eq + 1;
		if (!strcmp(item, "mac")) {
			unsigned b[6];
			char end;

			if (sscanf(val, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2],
				   &b[3], &b[4], &b[5], &end) != 6 ||
			    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255 ||
			    b[4] > 255 || b[5] > 255) {
				fail(r, s, "'%s': mac=%s: expected six hex bytes "
				     "such as 00:16:3e:12:34:56", spec, val);
				goto bad;
			}
			g_free(v->mac);
			v->mac = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x",
						 b[0], b[1], b[2], b[3], b[4], b[5]);
		} else if (!strcmp(item, "bridge")) {
			g_free(v->bridge);
			v->bridge = g_strdup(val);
		} else if (!strcmp(item, "model")) {
			g_free(v->model);
			v->model = g_strdup(val);
		} else if (!strcmp(item, "script")) {
			g_free(v->script);
			v->script = g_strdup(val);
		} else if (!strcmp(item, "vifname")) {
			g_free(v->vifname);
			v->vifname = g_strdup(val);
		} else if (!strcmp(item, "type")) {
			if (!strcmp(val, "vif") || !strcmp(val, "netfront"))
				pv_only = true;
			else if (strcmp(val, "ioemu")) {
				fail(r, s, "'%s': type=%s: expected ioemu or vif",
				     spec, val);
				goto bad;
			}
		} else if (!strcmp(item, "netdev")) {
			if (strcmp(val, "user") && strcmp(val, "tap")) {
				fail(r, s, "'%s': netdev=%s: expected user or "
				     "tap", spec, val);
				goto bad;
			}
			g_free(v->backend);
			v->backend = g_strdup(val);
		} else if (!strcmp(item, "ip") || !strcmp(item, "rate") ||
			   !strcmp(item, "backend") || !strcmp(item, "gatewaydev") ||
			   !strcmp(item, "accel") || !strcmp(item, "mtu")) {
			note(r, s, "'%s': %s= is for Xen's network back end; "
			     "ignored", spec, item);
		} else {
			note(r, s, "'%s': unknown vif key '%s' ignored", spec, item);
		}
	}
	g_strfreev(items);
	if (pv_only) {
		note(r, s, "'%s': type=vif is a paravirtual NIC only; this "
		     "guest gets no emulated card for it", spec);
		vif_free(v);
		return true;
	}
	if (!v->model)
		v->model = g_strdup("rtl8139");
	if (!v->backend)
		v->backend = g_strdup("tap");
	if (!strcmp(v->backend, "tap") && !v->bridge) {
		const char *gb = global_str(r, "vif.default.bridge");

		if (!gb)
			gb = global_str(r, "defaultbridge");
		v->bridge = g_strdup(gb ? gb : "xenbr0");
	}
	if (!v->mac) {
		/* Xen's range: 00:16:3e, the rest random */
		v->mac = g_strdup_printf("00:16:3e:%02x:%02x:%02x",
					 g_random_int_range(0, 128),
					 g_random_int_range(0, 256),
					 g_random_int_range(0, 256));
	}
	(void)devid;
	g_ptr_array_add(r->d->vifs, v);
	return true;
bad:
	g_strfreev(items);
	vif_free(v);
	return false;
}

/* ---- the rest ---- */

static bool parse_action(struct reader *r, const char *key,
			 enum xl_action *out)
{
	const char *v;
	struct xlsetting *s = get_str(r, key, &v);

	if (!s)
		return !r->err;
	if (!strcmp(v, "destroy"))
		*out = XL_ACT_DESTROY;
	else if (!strcmp(v, "restart"))
		*out = XL_ACT_RESTART;
	else if (!strcmp(v, "preserve"))
		*out = XL_ACT_PRESERVE;
	else if (!strcmp(v, "rename-restart"))
		*out = XL_ACT_RENAME_RESTART;
	else if (!strcmp(v, "coredump-destroy") || !strcmp(v, "coredump-restart")) {
		note(r, s, "no core dumps here: %s", v + 9);
		*out = !strcmp(v, "coredump-destroy") ? XL_ACT_DESTROY
						       : XL_ACT_RESTART;
	} else if (!strcmp(v, "soft-reset")) {
		note(r, s, "soft-reset is not provided: restart");
		*out = XL_ACT_RESTART;
	} else {
		fail(r, s, "'%s': expected destroy, restart, preserve or "
		     "rename-restart", v);
		return false;
	}
	return true;
}

const char *xl_action_name(enum xl_action a)
{
	switch (a) {
	case XL_ACT_DESTROY: return "destroy";
	case XL_ACT_RESTART: return "restart";
	case XL_ACT_PRESERVE: return "preserve";
	case XL_ACT_RENAME_RESTART: return "rename-restart";
	}
	return "?";
}

/* Keys that describe Xen itself or things this stack does not do: read
 * so they are not "unknown", and noted when they ask for something. */
static void not_provided(struct reader *r)
{
	static const char *const keys[] = {
		"soundhw", "viridian", "pci", "hap", "nestedhvm",
		"shadow_memory", "timer_mode", "hpet", "vpt_align", "cpus",
		"cpu_weight", "cpu_cap", "opengl", "gfx_passthru", "monitor",
		"vtpm", "vfb", "vkb", "channel", "usbctrl", "usbdev", "rdm",
		"cpuid", "tsc_mode", "altp2m", "e820_host", "ioports", "irqs",
		"iomem", "device_model_stubdomain_override", "stubdomain_memory",
		"max_grant_frames", "max_maptrack_frames", "seclabel",
		"pool", "cpupool", "numa", "vnuma", "xauthority", "display",
		"nomigrate", "driver_domain", "audio", "isa",
		"extid", "on_xend_start", "on_xend_stop", "blkif", "netif",
		"tpmif", "pci_permissive", "pci_msitranslate", "pci_power_mgmt",
		"usbversion", "serial_console", "ne2000", "parallel",
		"bootloader", "bootloader_args", "firmware", "smbios_firmware",
		"acpi_firmware", "acpi_s3", "acpi_s4", "mmio_hole",
		"videoram", "vif_fallback",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		struct xlsetting *s = cfg_get(r, keys[i]);
		char *t;

		if (!s)
			continue;
		t = xlval_text(s->val);
		if (strcmp(t, "0") && strcmp(t, "") && strcmp(t, "[]") &&
		    strcmp(t, "none") && strcmp(t, "''"))
			note(r, s, "'%s' accepted; not provided by this "
			     "stack, ignored", t);
		g_free(t);
	}
	/* xen_platform_pci=1 is Xen's default: only say so when asked. */
	{
		bool b = false;
		struct xlsetting *s = get_bool(r, "xen_platform_pci", &b);

		if (s && b)
			note(r, s, "no Xen platform device (no PV drivers "
			     "here); ignored");
	}
}

static uint64_t host_memory_mb(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return UINT64_MAX;
	return ((uint64_t)si.totalram + si.totalswap) * si.mem_unit >> 20;
}

static void read_memory(struct reader *r)
{
	struct domcfg *d = r->d;
	struct xlsetting *s, *m;
	long long n;
	uint64_t host = getenv("XL_HOST_MEMORY_MB") ?
		strtoull(getenv("XL_HOST_MEMORY_MB"), NULL, 0) : host_memory_mb();

	d->memory_mb = 128;
	if ((s = get_num(r, "memory", &n))) {
		if (n < 2) {
			fail(r, s, "%lld MB: a guest needs at least 2 MB", n);
			return;
		}
		if ((uint64_t)n > host) {
			fail(r, s, "%lld MB is more than this host's %" PRIu64
			     " MB (RAM and swap)", n, host);
			return;
		}
		d->memory_mb = (uint64_t)n;
	}
	d->maxmem_mb = d->memory_mb;
	if ((m = get_num(r, "maxmem", &n))) {
		if (n < (long long)d->memory_mb) {
			fail(r, m, "%lld MB is less than memory (%" PRIu64 " MB)",
			     n, d->memory_mb);
			return;
		}
		if ((uint64_t)n > d->memory_mb)
			note(r, m, "no ballooning here: the guest gets "
			     "memory=%" PRIu64 " MB", d->memory_mb);
		d->maxmem_mb = (uint64_t)n;
	}
}

static void read_boot(struct reader *r)
{
	struct domcfg *d = r->d;
	const char *v = NULL;
	struct xlsetting *s;

	if ((s = get_str(r, "kernel", &v)) && *v) {
		const char *base = strrchr(v, '/') ? strrchr(v, '/') + 1 : v;

		if (!strncmp(base, "hvmloader", 9)) {
			note(r, s, "the firmware is built into the device "
			     "model; kernel='%s' ignored", v);
		} else {
			d->kernel = g_strdup(v);
		}
	}
	if ((s = get_str(r, "ramdisk", &v)) && *v) {
		if (!d->kernel) {
			fail(r, s, "a ramdisk needs a kernel= for direct boot");
			return;
		}
		d->ramdisk = g_strdup(v);
	}
	{
		const char *cmd = NULL, *root = NULL, *extra = NULL;
		struct xlsetting *cs = get_str(r, "cmdline", &cmd);
		struct xlsetting *rs = get_str(r, "root", &root);
		struct xlsetting *es = get_str(r, "extra", &extra);

		if (cs && (rs || es))
			note(r, cs, "given with root/extra: cmdline wins, as "
			     "in xl");
		if (cs)
			d->cmdline = g_strdup(cmd);
		else if (rs || es)
			d->cmdline = g_strdup_printf("%s%s%s%s",
				rs ? "root=" : "", rs ? root : "",
				rs && es ? " " : "", es ? extra : "");
		if (d->cmdline && !d->kernel) {
			fail(r, cs ? cs : rs ? rs : es, "a kernel command line "
			     "needs a kernel= for direct boot");
			return;
		}
	}
	if ((s = get_str(r, "boot", &v))) {
		if (!*v) {
			fail(r, s, "empty: expected letters such as 'c', 'd', "
			     "'dc' or 'n'");
			return;
		}
		for (const char *p = v; *p; p++)
			if (!strchr("acdn", *p)) {
				fail(r, s, "'%s': '%c' is not a boot device "
				     "(a floppy, c disk, d CD-ROM, n network)",
				     v, *p);
				return;
			}
		d->boot = g_strdup(v);
	}
	if ((s = get_str(r, "bios", &v))) {
		if (!strcmp(v, "ovmf")) {
			fail(r, s, "UEFI firmware (ovmf) is not provided; use "
			     "seabios");
			return;
		}
		if (strcmp(v, "seabios"))
			note(r, s, "'%s': SeaBIOS is used", v);
	}
}

static void read_display(struct reader *r)
{
	struct domcfg *d = r->d;
	const char *v;
	struct xlsetting *s;
	long long n;
	bool b;

	d->vnc = true;              /* xl's default */
	d->vncunused = true;
	d->vncdisplay = -1;
	if (get_bool(r, "vnc", &b)) {
		d->vnc = b;
		d->vnc_set = true;
	}
	if ((s = get_str(r, "vnclisten", &v))) {
		const char *colon = strrchr(v, ':');

		if (colon && colon[1] && !strchr(v, ']') == !strchr(v, '[')) {
			char *end;
			long disp = strtol(colon + 1, &end, 10);

			if (!*end && disp >= 0 && disp < 65536 - 5900) {
				d->vnclisten = g_strndup(v, colon - v);
				d->vncdisplay = (int)disp;
				d->vncunused = false;
			}
		}
		if (!d->vnclisten)
			d->vnclisten = g_strdup(v);
	}
	if (!d->vnclisten && global_str(r, "vnclisten"))
		d->vnclisten = g_strdup(global_str(r, "vnclisten"));
	if ((s = get_num(r, "vncdisplay", &n))) {
		if (n < 0 || n >= 65536 - 5900) {
			fail(r, s, "%lld: expected a display number (port "
			     "5900+N)", n);
			return;
		}
		d->vncdisplay = (int)n;
		d->vncunused = false;
	}
	if (get_bool(r, "vncunused", &b))
		d->vncunused = b;
	if ((s = get_str(r, "vncpasswd", &v))) {
		if (*v)
			d->vncpasswd = g_strdup(v);
	} else if (global_str(r, "vncpasswd") && *global_str(r, "vncpasswd")) {
		d->vncpasswd = g_strdup(global_str(r, "vncpasswd"));
	}
	if (get_bool(r, "vncviewer", &b))
		d->vncviewer = b;
	if (get_bool(r, "vncconsole", &b))
		d->vncviewer = b;
	get_bool(r, "sdl", &d->sdl);

	d->vga = g_strdup("cirrus");        /* Xen's default */
	if (get_bool(r, "stdvga", &b)) {
		g_free(d->vga);
		d->vga = g_strdup(b ? "std" : "cirrus");
		d->vga_set = true;
	}
	if ((s = get_str(r, "vga", &v))) {
		g_free(d->vga);
		if (!strcmp(v, "stdvga") || !strcmp(v, "std"))
			d->vga = g_strdup("std");
		else if (!strcmp(v, "cirrus") || !strcmp(v, "none"))
			d->vga = g_strdup(v);
		else {
			d->vga = NULL;
			fail(r, s, "'%s': expected stdvga, cirrus or none", v);
			return;
		}
		d->vga_set = true;
	}
	if (get_bool(r, "nographic", &b) && b) {
		g_free(d->vga);
		d->vga = g_strdup("none");
		d->vga_set = true;
		d->vnc = false;
		d->sdl = false;
	}
	if ((s = get_str(r, "keymap", &v)))
		d->keymap = g_strdup(v);
	else if (global_str(r, "keymap"))
		d->keymap = g_strdup(global_str(r, "keymap"));
}

static void read_devices(struct reader *r)
{
	struct domcfg *d = r->d;
	struct xlsetting *s;
	GPtrArray *l = NULL;
	const char *v;
	long long n;
	bool b;

	if ((s = get_list(r, "disk", &l))) {
		for (guint i = 0; i < l->len && !r->err; i++)
			add_disk(r, s, g_ptr_array_index(l, i), false);
		g_ptr_array_free(l, TRUE);
		l = NULL;
	}
	if (r->err)
		return;
	if ((s = get_str(r, "cdrom", &v)) && !r->err)
		add_disk(r, s, v, true);
	if (r->err)
		return;
	if ((s = get_list(r, "vif", &l))) {
		for (guint i = 0; i < l->len && !r->err; i++)
			add_vif(r, s, g_ptr_array_index(l, i), i);
		g_ptr_array_free(l, TRUE);
		l = NULL;
	}
	if (r->err)
		return;
	if ((s = get_num(r, "nic", &n)) || (s = get_num(r, "nics", &n))) {
		if (n < 0 || n > 8) {
			fail(r, s, "%lld: expected 0 to 8 network cards", n);
			return;
		}
		/* xm: nic=N cards, configured by vif entries or defaults */
		while (d->vifs->len < (guint)n && !r->err)
			add_vif(r, s, "type=ioemu", d->vifs->len);
		while (d->vifs->len > (guint)n)
			g_ptr_array_remove_index(d->vifs, d->vifs->len - 1);
	}
	if (r->err)
		return;
	if ((s = get_list(r, "serial", &l))) {
		for (guint i = 0; i < l->len; i++) {
			const char *sv = g_ptr_array_index(l, i);

			if (!strcmp(sv, "stdio")) {
				fail(r, s, "'stdio': the device model runs in "
				     "the background; use 'pty' and xl console");
				break;
			}
			if (*sv)
				g_ptr_array_add(d->serials, g_strdup(sv));
		}
		g_ptr_array_free(l, TRUE);
		l = NULL;
	}
	if (r->err)
		return;
	get_bool(r, "usb", &d->usb);
	if ((s = get_list(r, "usbdevice", &l))) {
		for (guint i = 0; i < l->len; i++)
			if (*(char *)g_ptr_array_index(l, i))
				g_ptr_array_add(d->usbdevices,
					g_strdup(g_ptr_array_index(l, i)));
		g_ptr_array_free(l, TRUE);
		l = NULL;
		if (d->usbdevices->len)
			d->usb = true;
	}
	if (r->err)
		return;
	d->acpi = true;
	get_bool(r, "acpi", &d->acpi);
	if ((s = get_bool(r, "apic", &b)) && !b)
		note(r, s, "the local APIC and IOAPIC are always present; "
		     "ignored");
	if ((s = get_bool(r, "pae", &b)) && !b)
		note(r, s, "PAE is always available; ignored");
	get_bool(r, "localtime", &d->localtime);
	if ((s = get_num(r, "rtc_timeoffset", &n)))
		d->rtc_timeoffset = n;
	if ((s = get_str(r, "uuid", &v)))
		d->uuid = g_strdup(v);
	if ((s = get_list(r, "device_model_args", &l)) ||
	    (s = get_list(r, "device_model_args_hvm", &l))) {
		for (guint i = 0; i < l->len; i++)
			g_ptr_array_add(d->dm_args,
					g_strdup(g_ptr_array_index(l, i)));
		g_ptr_array_free(l, TRUE);
	}
}

static void read_general(struct reader *r)
{
	struct domcfg *d = r->d;
	struct xlsetting *s;
	const char *v;
	long long n;

	if (!(s = get_str(r, "name", &v))) {
		if (!r->err)
			fail(r, NULL, "no name = '...' in the configuration "
			     "(every domain needs one)");
		return;
	}
	if (!*v || strlen(v) >= 64 || strchr(v, '/') || strchr(v, ' ') ||
	    !strcmp(v, "Domain-0") || strspn(v, "0123456789") == strlen(v)) {
		fail(r, s, "'%s': a name is 1 to 63 characters without '/' or "
		     "spaces, not all digits, and not Domain-0", v);
		return;
	}
	d->name = g_strdup(v);
	{
		const char *b = NULL, *t = NULL;
		struct xlsetting *bs = get_str(r, "builder", &b);
		struct xlsetting *ts = get_str(r, "type", &t);

		if (ts && strcmp(t, "hvm")) {
			fail(r, ts, "'%s': only HVM guests (type='hvm') run "
			     "here", t);
			return;
		}
		if (bs && strcmp(b, "hvm")) {
			fail(r, bs, "'%s': only HVM guests (builder='hvm') "
			     "run here", b);
			return;
		}
		if (!bs && !ts)
			note(r, NULL, "no type='hvm' (or builder='hvm'): "
			     "taken as an HVM guest");
	}
	read_memory(r);
	if (r->err)
		return;
	d->vcpus = 1;
	if ((s = get_num(r, "vcpus", &n))) {
		if (n < 1 || n > HVM_MAX_VCPUS) {
			fail(r, s, "%lld: expected 1 to %u", n, HVM_MAX_VCPUS);
			return;
		}
		d->vcpus = (unsigned)n;
	}
	if ((s = get_num(r, "maxvcpus", &n)) && n > (long long)d->vcpus)
		note(r, s, "no vCPU hot-plug: the guest gets vcpus=%u",
		     d->vcpus);
	if ((s = get_str(r, "device_model_override", &v))) {
		d->dm_path = g_strdup(v);
	} else if ((s = get_str(r, "device_model", &v))) {
		/* xm's device_model names Xen's own qemu-dm path */
		if (g_file_test(v, G_FILE_TEST_IS_EXECUTABLE) &&
		    strstr(v, "/xen/") == NULL)
			d->dm_path = g_strdup(v);
		else
			note(r, s, "'%s': xl starts its own qemu-dm", v);
	}
	if ((s = get_str(r, "device_model_version", &v)) &&
	    strcmp(v, "qemu-xen") && strcmp(v, "qemu-xen-traditional") &&
	    strcmp(v, "qemu-dm")) {
		fail(r, s, "'%s': expected qemu-xen or qemu-xen-traditional", v);
		return;
	}
	if ((s = get_str(r, "accel", &v))) {
		if (strcmp(v, "kvm") && strcmp(v, "soft")) {
			fail(r, s, "'%s': expected kvm or soft", v);
			return;
		}
		d->accel = g_strdup(v);
	}
	d->on_poweroff = XL_ACT_DESTROY;
	d->on_reboot = XL_ACT_RESTART;
	d->on_crash = XL_ACT_DESTROY;
	if (!parse_action(r, "on_poweroff", &d->on_poweroff) ||
	    !parse_action(r, "on_reboot", &d->on_reboot) ||
	    !parse_action(r, "on_crash", &d->on_crash))
		return;
}

struct domcfg *domcfg_from_xlcfg(struct xlcfg *cfg, char **err)
{
	return domcfg_from_xlcfg_globals(cfg, NULL, err);
}

struct xlcfg *xl_globals_load(GPtrArray *notes, char **err)
{
	static const char *const known[] = {
		/* ours: xend-config.sxp's defaults */
		"vnclisten", "vncpasswd", "keymap",
		/* Xen's xl.conf: vif.default.bridge is used, the rest are
		 * about Xen itself */
		"vif.default.bridge", "defaultbridge", "vif.default.script",
		"vifscript", "vif.default.gatewaydev", "autoballoon",
		"run_hotplug_scripts", "lockfile", "output_format",
		"blkdev_start", "claim_mode", "max_grant_frames",
		"max_maptrack_frames", "max_grant_version", "vm.cpumask",
		"vm.pv.cpumask", "vm.hvm.cpumask", "remus.default.netbufscript",
		"colo.default.proxyscript",
	};
	const char *path = getenv("XL_CONF") ? getenv("XL_CONF")
					     : "/etc/xen/xl.conf";
	struct xlcfg *g;

	if (access(path, F_OK) != 0)
		return NULL;
	g = xlcfg_new();
	if (xlcfg_parse_file(g, path, err) < 0) {
		xlcfg_free(g);
		return NULL;
	}
	for (guint i = 0; i < g->settings->len; i++) {
		struct xlsetting *s = g_ptr_array_index(g->settings, i);
		bool ok = false;

		for (size_t k = 0; k < G_N_ELEMENTS(known); k++)
			if (!strcmp(s->key, known[k]))
				ok = true;
		if (!ok)
			g_ptr_array_add(notes, g_strdup_printf("warning: %s: "
				"unknown key '%s' ignored", xlcfg_where(s),
				s->key));
	}
	return g;
}

struct domcfg *domcfg_from_xlcfg_globals(struct xlcfg *cfg,
					 struct xlcfg *globals, char **err)
{
	struct domcfg *d = g_new0(struct domcfg, 1);
	struct reader r = { cfg, d, NULL, globals };

	d->disks = g_ptr_array_new_with_free_func(disk_free);
	d->vifs = g_ptr_array_new_with_free_func(vif_free);
	d->usbdevices = g_ptr_array_new_with_free_func(g_free);
	d->serials = g_ptr_array_new_with_free_func(g_free);
	d->dm_args = g_ptr_array_new_with_free_func(g_free);
	d->notes = g_ptr_array_new_with_free_func(g_free);
	d->where = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	read_general(&r);
	if (!r.err)
		read_boot(&r);
	if (!r.err)
		read_display(&r);
	if (!r.err)
		read_devices(&r);
	if (!r.err)
		not_provided(&r);
	if (r.err) {
		*err = r.err;
		domcfg_free(d);
		return NULL;
	}
	/* Known keys read only to be checked. */
	xlcfg_get(cfg, "builder");
	xlcfg_get(cfg, "type");
	xlcfg_get(cfg, "xen_platform_pci");
	for (guint i = 0; i < cfg->settings->len; i++) {
		struct xlsetting *s = g_ptr_array_index(cfg->settings, i);

		if (!s->used)
			g_ptr_array_add(d->notes, g_strdup_printf(
				"warning: %s: unknown key '%s' ignored", xlcfg_where(s),
				s->key));
	}
	return d;
}

void domcfg_free(struct domcfg *d)
{
	if (!d)
		return;
	g_free(d->name);
	g_free(d->kernel);
	g_free(d->ramdisk);
	g_free(d->cmdline);
	g_free(d->dm_path);
	g_ptr_array_free(d->disks, TRUE);
	g_ptr_array_free(d->vifs, TRUE);
	g_free(d->vnclisten);
	g_free(d->vncpasswd);
	g_free(d->vga);
	g_free(d->keymap);
	g_ptr_array_free(d->usbdevices, TRUE);
	g_ptr_array_free(d->serials, TRUE);
	g_free(d->boot);
	g_free(d->uuid);
	g_free(d->accel);
	g_ptr_array_free(d->dm_args, TRUE);
	g_ptr_array_free(d->notes, TRUE);
	g_hash_table_destroy(d->where);
	g_free(d);
}
