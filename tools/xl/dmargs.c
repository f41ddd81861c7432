/*
 * A domcfg as qemu-dm's command line, in QEMU's own spelling (-drive,
 * -netdev/-device, -vnc :N, -vga, -boot order=), grouped by the config
 * key each part comes from.  See docs/xl.md for the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/xl/domcfg.h"

static void group_free(gpointer p)
{
	struct dm_arg_group *g = p;

	g_free(g->key);
	g_free(g->where);
	g_ptr_array_free(g->args, TRUE);
	g_free(g);
}

static const struct domcfg *cur;

/* The arguments of key; explicit when the config set it. */
static struct dm_arg_group *group(GPtrArray *gs, const char *key,
				  bool explicit)
{
	struct dm_arg_group *g = g_new0(struct dm_arg_group, 1);
	const char *where = g_hash_table_lookup(cur->where, key);

	g->key = g_strdup(key);
	g->where = where ? g_strdup(where) : NULL;
	g->explicit = explicit;
	g->args = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(gs, g);
	return g;
}

static void arg(struct dm_arg_group *g, const char *a)
{
	g_ptr_array_add(g->args, g_strdup(a));
}

__attribute__((format(printf, 2, 3)))
static void argf(struct dm_arg_group *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(g->args, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* A value inside QEMU's "k=v,k=v": commas are doubled. */
static char *qemu_escape(const char *s)
{
	GString *g = g_string_new(NULL);

	for (; *s; s++) {
		g_string_append_c(g, *s);
		if (*s == ',')
			g_string_append_c(g, ',');
	}
	return g_string_free(g, FALSE);
}

static void add_disks(GPtrArray *gs, const struct domcfg *d)
{
	for (guint i = 0; i < d->disks->len; i++) {
		const struct xl_disk *k = g_ptr_array_index(d->disks, i);
		struct dm_arg_group *g = group(gs, k->cdrom_key ? "cdrom" : "disk",
					       true);
		GString *s = g_string_new(NULL);

		g_free(g->where);
		g->where = g_strdup(k->where);
		if (k->target) {
			char *t = qemu_escape(k->target);

			g_string_append_printf(s, "file=%s,", t);
			g_free(t);
		}
		g_string_append_printf(s, "if=ide,index=%d,media=%s", k->index,
				       k->cdrom ? "cdrom" : "disk");
		if (k->target)
			g_string_append_printf(s, ",format=%s", k->format);
		if (k->readonly && !k->cdrom)
			g_string_append(s, ",readonly=on");
		arg(g, "-drive");
		arg(g, s->str);
		g_string_free(s, TRUE);
	}
}

/* A tap named vif<ID>.<N>-emu as Xen names it, on the vif's bridge: the
 * device model runs script IFNAME BRIDGE (the vif's script=, else xl's). */
static void add_vifs(GPtrArray *gs, const struct domcfg *d, long domid,
		     const char *vif_script)
{
	for (guint i = 0; i < d->vifs->len; i++) {
		const struct xl_vif *v = g_ptr_array_index(d->vifs, i);
		struct dm_arg_group *g = group(gs, "vif", true);
		GString *s = g_string_new(v->backend);

		g_free(g->where);
		g->where = g_strdup(v->where);
		g_string_append_printf(s, ",id=net%u", i);
		if (!strcmp(v->backend, "tap")) {
			if (v->vifname)
				g_string_append_printf(s, ",ifname=%s", v->vifname);
			else if (domid >= 0)
				g_string_append_printf(s, ",ifname=vif%ld.%u-emu",
						       domid, i);
			if (v->bridge)
				g_string_append_printf(s, ",bridge=%s", v->bridge);
			if (v->script || vif_script)
				g_string_append_printf(s, ",script=%s,downscript=no",
						       v->script ? v->script :
						       vif_script);
		}
		arg(g, "-netdev");
		arg(g, s->str);
		arg(g, "-device");
		argf(g, "%s,netdev=net%u,mac=%s", v->model, i, v->mac);
		g_string_free(s, TRUE);
	}
}

/* rtc_timeoffset (seconds from the host's clock) as -rtc base=DATE. */
static void add_rtc(GPtrArray *gs, const struct domcfg *d)
{
	struct dm_arg_group *g;
	time_t t;
	struct tm tm;
	char buf[64];

	if (!d->rtc_timeoffset) {
		if (d->localtime)
			arg(group(gs, "localtime", true), "-localtime");
		return;
	}
	g = group(gs, "rtc_timeoffset", true);
	t = time(NULL) + (time_t)d->rtc_timeoffset;
	if (d->localtime)
		localtime_r(&t, &tm);
	else
		gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	arg(g, "-rtc");
	argf(g, "base=%s", buf);
}

GPtrArray *dm_args_build(const struct domcfg *d, const struct dm_args_ctx *ctx)
{
	GPtrArray *gs = g_ptr_array_new_with_free_func(group_free);
	struct dm_arg_group *g;

	cur = d;
	if (ctx->domid >= 0) {
		g = group(gs, "domid", true);
		arg(g, "-d");
		argf(g, "%ld", ctx->domid);
	}
	g = group(gs, "name", true);
	arg(g, "-domain-name");
	arg(g, d->name);
	g = group(gs, "memory", true);
	arg(g, "-m");
	argf(g, "%llu", (unsigned long long)d->memory_mb);
	g = group(gs, "vcpus", true);
	arg(g, "-smp");
	argf(g, "%u", d->vcpus);
	/* a guest reset ends the device model; the watcher applies on_reboot */
	arg(group(gs, "on_reboot", true), "-no-reboot");
	if (d->uuid) {
		g = group(gs, "uuid", true);
		arg(g, "-uuid");
		arg(g, d->uuid);
	}
	if (d->kernel) {
		g = group(gs, "kernel", true);
		arg(g, "-kernel");
		arg(g, d->kernel);
		if (d->ramdisk) {
			arg(g, "-initrd");
			arg(g, d->ramdisk);
		}
		if (d->cmdline) {
			arg(g, "-append");
			arg(g, d->cmdline);
		}
	}
	add_disks(gs, d);
	g = group(gs, "boot", d->boot != NULL);
	arg(g, "-boot");
	argf(g, "order=%s", d->boot ? d->boot : "cd");
	g = group(gs, "vga", d->vga_set);
	arg(g, "-vga");
	arg(g, d->vga);
	if (d->vnc) {
		int disp = ctx->vnc_display >= 0 ? ctx->vnc_display :
			   d->vncdisplay >= 0 ? d->vncdisplay : 0;

		g = group(gs, "vnc", d->vnc_set);
		arg(g, "-vnc");
		argf(g, "%s:%d%s", d->vnclisten ? d->vnclisten : "127.0.0.1",
		     disp, d->vncpasswd ? ",password" : "");
	}
	if (d->sdl) {
		g = group(gs, "sdl", true);
		arg(g, "-display");
		arg(g, "sdl");
	} else {
		g = group(gs, "display", true);
		arg(g, "-display");
		arg(g, "none");
	}
	if (d->keymap) {
		g = group(gs, "keymap", true);
		arg(g, "-k");
		arg(g, d->keymap);
	}
	for (guint i = 0; i < d->serials->len; i++) {
		g = group(gs, "serial", true);
		arg(g, "-serial");
		arg(g, g_ptr_array_index(d->serials, i));
	}
	if (d->usb) {
		g = group(gs, "usb", true);
		arg(g, "-usb");
		for (guint i = 0; i < d->usbdevices->len; i++) {
			g = group(gs, "usbdevice", true);
			arg(g, "-usbdevice");
			arg(g, g_ptr_array_index(d->usbdevices, i));
		}
	}
	add_vifs(gs, d, ctx->domid, ctx->vif_script);
	if (!d->acpi)
		arg(group(gs, "acpi", true), "-no-acpi");
	add_rtc(gs, d);
	if (ctx->qmp_path) {
		g = group(gs, "qmp", true);
		arg(g, "-qmp");
		argf(g, "unix:%s,server,nowait", ctx->qmp_path);
	}
	if (ctx->monitor_path) {
		g = group(gs, "qmp", true);
		arg(g, "-qmp");
		argf(g, "unix:%s", ctx->monitor_path);
	}
	if (d->dm_args->len) {
		g = group(gs, "device_model_args", true);
		for (guint i = 0; i < d->dm_args->len; i++)
			arg(g, g_ptr_array_index(d->dm_args, i));
	}
	return gs;
}

char **dm_args_flatten(GPtrArray *groups)
{
	GPtrArray *a = g_ptr_array_new();

	for (guint i = 0; i < groups->len; i++) {
		const struct dm_arg_group *g = g_ptr_array_index(groups, i);

		if (g->dropped)
			continue;
		for (guint j = 0; j < g->args->len; j++)
			g_ptr_array_add(a, g_strdup(g_ptr_array_index(g->args, j)));
	}
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

struct dm_arg_group *dm_args_blame(GPtrArray *groups, const char *msg)
{
	struct dm_arg_group *best = NULL;
	const char *p = msg;
	size_t optlen;
	int best_score = 0;

	if (!strncmp(p, "qemu-dm: ", 9))
		p += 9;
	if (!strncmp(p, "error: ", 7))
		p += 7;
	if (*p != '-')
		return NULL;
	optlen = strcspn(p, " :");
	for (guint i = 0; i < groups->len; i++) {
		struct dm_arg_group *g = g_ptr_array_index(groups, i);

		if (g->dropped)
			continue;
		for (guint j = 0; j < g->args->len; j++) {
			const char *a = g_ptr_array_index(g->args, j);
			const char *b = a + (a[0] == '-' && a[1] == '-');
			const char *q = p + (p[0] == '-' && p[1] == '-');
			size_t ql = optlen - (q - p);
			int score;

			if (a[0] != '-' || strlen(b) != ql || strncmp(b, q, ql))
				continue;
			score = 1;
			/* the value follows the option in the message */
			if (j + 1 < g->args->len) {
				const char *v = g_ptr_array_index(g->args, j + 1);

				if (p[optlen] == ' ' &&
				    !strncmp(p + optlen + 1, v, strlen(v)))
					score = 2;
			}
			if (score > best_score) {
				best_score = score;
				best = g;
			}
		}
	}
	return best;
}
