/*
 * Drives: what -drive, -hda..-hdd and -cdrom (and -device ide-hd/ide-cd
 * on an if=none drive) say, the images in them, and media change from
 * QMP (eject, change, blockdev-change-medium, the tray commands,
 * query-block).  Spellings and error texts follow QEMU's, since
 * toolstacks and test suites match them.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block-int.h"
#include "block/drive.h"
#include "dm/dm-internal.h"
#include "dm/options.h"

#define IDE_DRIVES 4

static GPtrArray *drives;

/* ---- -drive KEY=VALUE,... (",," is a literal comma) ---- */

struct kv {
	char *key, *val;
};

static void free_kv(GPtrArray *a);

static GPtrArray *parse_kv(const char *spec, char **err)
{
	GPtrArray *a = g_ptr_array_new();
	GString *cur = g_string_new(NULL);
	const char *p = spec;

	for (;;) {
		if (*p == ',' && p[1] == ',') {
			g_string_append_c(cur, ',');
			p += 2;
			continue;
		}
		if (*p && *p != ',') {
			g_string_append_c(cur, *p++);
			continue;
		}
		if (cur->len) {
			char *eq = strchr(cur->str, '=');
			struct kv *kv = g_new0(struct kv, 1);

			if (!eq) {
				*err = g_strdup_printf("'%s' is not KEY=VALUE",
						       cur->str);
				g_free(kv);
				goto fail;
			}
			kv->key = g_strndup(cur->str, (gsize)(eq - cur->str));
			kv->val = g_strdup(eq + 1);
			g_ptr_array_add(a, kv);
			g_string_truncate(cur, 0);
		}
		if (!*p)
			break;
		p++;
	}
	g_string_free(cur, TRUE);
	return a;
fail:
	g_string_free(cur, TRUE);
	free_kv(a);
	return NULL;
}

static void free_kv(GPtrArray *a)
{
	for (guint i = 0; i < a->len; i++) {
		struct kv *kv = g_ptr_array_index(a, i);

		g_free(kv->key);
		g_free(kv->val);
		g_free(kv);
	}
	g_ptr_array_free(a, TRUE);
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int parse_cache(const char *v, enum blk_cache *out)
{
	static const struct { const char *name; enum blk_cache c; } t[] = {
		{ "writeback", BLK_CACHE_WRITEBACK },
		{ "none", BLK_CACHE_NONE },
		{ "writethrough", BLK_CACHE_WRITETHROUGH },
		{ "directsync", BLK_CACHE_DIRECTSYNC },
		{ "unsafe", BLK_CACHE_UNSAFE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		if (!strcmp(v, t[i].name)) {
			*out = t[i].c;
			return 0;
		}
	return -1;
}

static bool parse_num(const char *v, long max, long *out)
{
	char *end;

	*out = strtol(v, &end, 10);
	return *v && !*end && *out >= 0 && *out <= max;
}

struct drive_spec {
	char *file, *id;
	enum drive_if ifc;
	long index, bus, unit;
	enum drive_media media;
	struct blk_open_opts opts;
	bool has_readonly;
};

static int parse_spec(const char *spec, struct drive_spec *s, char **err)
{
	GPtrArray *kv = parse_kv(spec, err);
	int ret = -1;

	if (!kv)
		return -1;
	memset(s, 0, sizeof(*s));
	s->index = s->bus = s->unit = -1;
	for (guint i = 0; i < kv->len; i++) {
		const char *k = ((struct kv *)g_ptr_array_index(kv, i))->key;
		const char *v = ((struct kv *)g_ptr_array_index(kv, i))->val;
		bool b;

		if (!strcmp(k, "file")) {
			g_free(s->file);
			s->file = *v ? g_strdup(v) : NULL;
		} else if (!strcmp(k, "id")) {
			g_free(s->id);
			s->id = g_strdup(v);
		} else if (!strcmp(k, "if")) {
			if (!strcmp(v, "ide")) {
				s->ifc = DRIVE_IF_IDE;
			} else if (!strcmp(v, "none")) {
				s->ifc = DRIVE_IF_NONE;
			} else {
				*err = g_strdup_printf("if=%s: qemu-dm's disks "
						       "are IDE (if=ide, or if=none "
						       "with -device ide-hd/ide-cd)",
						       v);
				goto out;
			}
		} else if (!strcmp(k, "index") || !strcmp(k, "bus") ||
			   !strcmp(k, "unit")) {
			long n, max = k[0] == 'i' ? IDE_DRIVES - 1 : 1;

			if (!parse_num(v, max, &n)) {
				*err = g_strdup_printf("%s=%s: IDE has %s", k, v,
						       k[0] == 'i' ? "indexes 0-3" :
						       k[0] == 'b' ? "buses 0 and 1" :
						       "units 0 and 1");
				goto out;
			}
			*(k[0] == 'i' ? &s->index : k[0] == 'b' ? &s->bus :
			  &s->unit) = n;
		} else if (!strcmp(k, "media")) {
			if (!strcmp(v, "disk")) {
				s->media = DRIVE_MEDIA_DISK;
			} else if (!strcmp(v, "cdrom")) {
				s->media = DRIVE_MEDIA_CDROM;
			} else {
				*err = g_strdup_printf("media=%s: expected disk "
						       "or cdrom", v);
				goto out;
			}
		} else if (!strcmp(k, "format")) {
			g_free((char *)s->opts.format);
			s->opts.format = g_strdup(v);
		} else if (!strcmp(k, "readonly") || !strcmp(k, "read-only")) {
			if (parse_bool(v, &s->opts.read_only) < 0) {
				*err = g_strdup_printf("%s=%s: expected on or off",
						       k, v);
				goto out;
			}
			s->has_readonly = true;
		} else if (!strcmp(k, "cache")) {
			if (parse_cache(v, &s->opts.cache) < 0) {
				*err = g_strdup_printf("cache=%s: expected "
						       "writeback, none, "
						       "writethrough, directsync "
						       "or unsafe", v);
				goto out;
			}
		} else if (!strcmp(k, "file.locking") || !strcmp(k, "locking")) {
			if (!strcmp(v, "auto"))
				b = true;
			else if (parse_bool(v, &b) < 0) {
				*err = g_strdup_printf("%s=%s: expected on, off "
						       "or auto", k, v);
				goto out;
			}
			s->opts.no_lock = !b;
		} else if (!strcmp(k, "snapshot")) {
			if (parse_bool(v, &b) < 0 || b) {
				*err = g_strdup_printf("snapshot=%s: temporary "
						       "snapshots are not "
						       "supported; copy the "
						       "image instead", v);
				goto out;
			}
		} else if (!strcmp(k, "file.read-zeroes")) {
			/* null-co:// (QEMU's tests): it always reads zeros. */
		} else if (!strcmp(k, "aio") || !strcmp(k, "discard") ||
			   !strcmp(k, "werror") || !strcmp(k, "rerror") ||
			   !strcmp(k, "detect-zeroes")) {
			/* Accepted for QEMU's command lines: I/O is always
			 * asynchronous, discard is always passed on, errors
			 * always go to the guest. */
		} else {
			*err = g_strdup_printf("'%s' is not a -drive option "
					       "qemu-dm knows", k);
			goto out;
		}
	}
	ret = 0;
out:
	free_kv(kv);
	return ret;
}

static void spec_free(struct drive_spec *s)
{
	g_free(s->file);
	g_free(s->id);
	g_free((char *)s->opts.format);
}

/* ---- The drives ---- */

struct drive *drive_find(enum drive_if ifc, int index)
{
	for (guint i = 0; drives && i < drives->len; i++) {
		struct drive *d = g_ptr_array_index(drives, i);

		if (d->ifc == ifc && d->index == index)
			return d;
	}
	return NULL;
}

struct drive *drive_lookup(const char *name)
{
	for (guint i = 0; name && drives && i < drives->len; i++) {
		struct drive *d = g_ptr_array_index(drives, i);

		if (!strcmp(d->id, name))
			return d;
	}
	return NULL;
}

void drive_attach(struct drive *d, const struct drive_dev_ops *ops,
		  void *dev)
{
	d->dev_ops = ops;
	d->dev = dev;
}

static char *ide_name(int index, enum drive_media media)
{
	return g_strdup_printf("ide%d-%s%d", index / 2,
			       media == DRIVE_MEDIA_CDROM ? "cd" : "hd",
			       index % 2);
}

static int drive_open_medium(struct drive *d, const char *file,
			     const struct blk_open_opts *o, char **err)
{
	struct blk *b = blk_open(file, o, err);

	if (!b)
		return -1;
	d->blk = b;
	return 0;
}

/* Make a drive from one -drive spec.  Errors say which option is wrong. */
static int drive_add(const char *spec, char **err)
{
	struct drive_spec s;
	struct drive *d;

	if (parse_spec(spec, &s, err) < 0)
		return -1;
	if (s.index < 0 && (s.bus >= 0 || s.unit >= 0))
		s.index = (s.bus > 0 ? s.bus : 0) * 2 + (s.unit > 0 ? s.unit : 0);
	if (s.ifc == DRIVE_IF_IDE && s.index < 0) {
		/* The first free position, as QEMU picks it. */
		for (int i = 0; i < IDE_DRIVES && s.index < 0; i++)
			if (!drive_find(DRIVE_IF_IDE, i))
				s.index = i;
		if (s.index < 0) {
			*err = g_strdup("all four IDE positions are taken");
			goto fail;
		}
	}
	if (s.ifc == DRIVE_IF_IDE && drive_find(DRIVE_IF_IDE, (int)s.index)) {
		*err = g_strdup_printf("IDE index %ld (%s) is taken by another "
				       "drive", s.index,
				       s.index == 2 ? "also where -cdrom goes" :
				       "-hda..-hdd are 0..3");
		goto fail;
	}
	if (s.ifc == DRIVE_IF_NONE && !s.id) {
		*err = g_strdup("if=none needs id= (for -device ...,drive=ID)");
		goto fail;
	}
	if (s.id && drive_lookup(s.id)) {
		*err = g_strdup_printf("id=%s is used by another drive", s.id);
		goto fail;
	}
	/* A CD-ROM is read-only; a disk needs an image. */
	if (s.media == DRIVE_MEDIA_CDROM)
		s.opts.read_only = true;
	if (s.media == DRIVE_MEDIA_DISK && !s.file) {
		*err = g_strdup("a disk needs file=IMAGE (only a CD-ROM drive "
				"may be empty)");
		goto fail;
	}
	d = g_new0(struct drive, 1);
	d->ifc = s.ifc;
	d->index = s.ifc == DRIVE_IF_IDE ? (int)s.index : -1;
	d->media = s.media;
	d->id = s.id ? g_strdup(s.id) : ide_name(d->index, d->media);
	d->opts = s.opts;
	d->opts.format = s.opts.format ? g_strdup(s.opts.format) : NULL;
	if (s.file && drive_open_medium(d, s.file, &d->opts, err) < 0) {
		g_free(d->id);
		g_free((char *)d->opts.format);
		g_free(d);
		goto fail;
	}
	if (!drives)
		drives = g_ptr_array_new();
	g_ptr_array_add(drives, d);
	spec_free(&s);
	return 0;
fail:
	spec_free(&s);
	return -1;
}

/* -device ide-hd|ide-cd,drive=ID[,bus=ide.N][,unit=U]: puts an if=none
 * drive on the IDE bus.  Returns 1 when spec was such a device. */
static int drive_device(const char *spec, char **err)
{
	size_t len = strcspn(spec, ",");
	bool cd = len == 6 && !strncmp(spec, "ide-cd", 6);
	bool hd = len == 6 && !strncmp(spec, "ide-hd", 6);
	char *id, *bus, *unit;
	struct drive *d;
	long b = -1, u = 0;
	int ret = -1;

	if (!cd && !hd)
		return 0;
	id = opt_get(spec, "drive");
	bus = opt_get(spec, "bus");
	unit = opt_get(spec, "unit");
	d = drive_lookup(id);
	if (!id && cd) {
		/* An empty CD-ROM drive, as QEMU makes one. */
		d = g_new0(struct drive, 1);
		d->ifc = DRIVE_IF_NONE;
		d->media = DRIVE_MEDIA_CDROM;
		d->opts.read_only = true;
		if (!drives)
			drives = g_ptr_array_new();
		g_ptr_array_add(drives, d);
	}
	if (!d || d->ifc != DRIVE_IF_NONE) {
		*err = g_strdup_printf("-device %s: drive=%s is not an if=none "
				       "-drive", spec, id ? id : "(missing)");
		goto out;
	}
	if (bus && (strncmp(bus, "ide.", 4) || !parse_num(bus + 4, 1, &b))) {
		*err = g_strdup_printf("-device %s: bus=%s: expected ide.0 or "
				       "ide.1", spec, bus);
		goto out;
	}
	if (unit && !parse_num(unit, 1, &u)) {
		*err = g_strdup_printf("-device %s: unit=%s: expected 0 or 1",
				       spec, unit);
		goto out;
	}
	if (b < 0) {
		for (int i = 0; i < IDE_DRIVES && b < 0; i++)
			if (!drive_find(DRIVE_IF_IDE, i)) {
				b = i / 2;
				u = i % 2;
			}
	}
	if (b < 0 || drive_find(DRIVE_IF_IDE, (int)(b * 2 + u))) {
		*err = g_strdup_printf("-device %s: that IDE position is taken",
				       spec);
		goto out;
	}
	d->ifc = DRIVE_IF_IDE;
	d->index = (int)(b * 2 + u);
	if (!d->id)
		d->id = ide_name(d->index, DRIVE_MEDIA_CDROM);
	d->serial = opt_get(spec, "serial");
	d->model = opt_get(spec, "model");
	d->ver = opt_get(spec, "ver");
	if (cd) {
		d->media = DRIVE_MEDIA_CDROM;
		d->opts.read_only = true;
		if (d->blk && !blk_is_read_only(d->blk)) {
			*err = g_strdup_printf("-device %s: a CD-ROM's drive "
					       "must be read-only", spec);
			goto out;
		}
	} else if (!d->blk) {
		*err = g_strdup_printf("-device %s: a disk needs an image",
				       spec);
		goto out;
	}
	ret = 1;
out:
	g_free(id);
	g_free(bus);
	g_free(unit);
	return ret;
}

/* -global ide-hd.serial=X (ide-cd., ide-drive. likewise; serial, model,
 * ver): for the IDE drives that did not set it on -device. */
static void drive_globals(void)
{
	for (unsigned g = 0; g < dm_cfg.nglobals; g++) {
		const char *spec = dm_cfg.globals[g];
		const char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');

		if (!dot || !eq || eq < dot)
			continue;
		for (guint i = 0; drives && i < drives->len; i++) {
			struct drive *d = g_ptr_array_index(drives, i);
			const char *kind = d->media == DRIVE_MEDIA_CDROM ?
					   "ide-cd" : "ide-hd";
			size_t n = (size_t)(dot - spec);
			char **prop = NULL;

			if (d->ifc != DRIVE_IF_IDE ||
			    ((n != 6 || strncmp(spec, kind, 6)) &&
			     (n != 9 || strncmp(spec, "ide-drive", 9))))
				continue;
			if (!strncmp(dot + 1, "serial=", 7))
				prop = &d->serial;
			else if (!strncmp(dot + 1, "model=", 6))
				prop = &d->model;
			else if (!strncmp(dot + 1, "ver=", 4))
				prop = &d->ver;
			if (prop && !*prop)
				*prop = g_strdup(eq + 1);
		}
	}
}

bool drive_is_device_spec(const char *spec)
{
	size_t len = strcspn(spec, ",");

	return len == 6 && (!strncmp(spec, "ide-hd", 6) ||
			    !strncmp(spec, "ide-cd", 6));
}

int drives_init(void)
{
	char *err = NULL;

	for (unsigned i = 0; i < dm_cfg.ndrives; i++) {
		if (drive_add(dm_cfg.drives[i], &err) < 0) {
			dm_log(DM_LOG_ERR, "-drive %s: %s", dm_cfg.drives[i],
			       err);
			g_free(err);
			return -1;
		}
	}
	for (unsigned i = 0; i < dm_cfg.ndevices; i++) {
		if (drive_device(dm_cfg.devices[i], &err) < 0) {
			dm_log(DM_LOG_ERR, "%s", err);
			g_free(err);
			return -1;
		}
	}
	drive_globals();
	return 0;
}

/* ---- Media change ---- */

static void tray_event(struct drive *d)
{
	char *data = g_strdup_printf("{\"device\": \"%s\", \"id\": \"%s\", "
				     "\"tray-open\": %s}", d->id, d->id,
				     d->tray_open ? "true" : "false");

	qmp_event("DEVICE_TRAY_MOVED", data);
	g_free(data);
}

void drive_tray_moved(struct drive *d, bool open)
{
	if (d->tray_open == open)
		return;
	d->tray_open = open;
	tray_event(d);
}

static bool drive_locked(struct drive *d)
{
	return d->dev_ops && d->dev_ops->is_locked &&
	       d->dev_ops->is_locked(d->dev);
}

static int drive_open_tray(struct drive *d, bool force, char **err)
{
	if (d->media != DRIVE_MEDIA_CDROM) {
		*err = g_strdup_printf("Device '%s' is not removable", d->id);
		return -1;
	}
	if (d->tray_open)
		return 0;
	if (drive_locked(d)) {
		/* Ask the guest to let go; with force, open anyway. */
		if (d->dev_ops->eject_request)
			d->dev_ops->eject_request(d->dev);
		if (!force) {
			*err = g_strdup_printf("Device '%s' is locked and force "
					       "was not specified, wait for "
					       "tray to open and try again",
					       d->id);
			return -1;
		}
	}
	drive_tray_moved(d, true);
	return 0;
}

static void drive_remove_medium(struct drive *d)
{
	if (!d->blk)
		return;
	blk_close(d->blk);
	d->blk = NULL;
	if (d->dev_ops && d->dev_ops->change_media)
		d->dev_ops->change_media(d->dev, false);
}

static void drive_close_tray(struct drive *d)
{
	if (!d->tray_open)
		return;
	drive_tray_moved(d, false);
	if (d->blk && d->dev_ops && d->dev_ops->change_media)
		d->dev_ops->change_media(d->dev, true);
}

int drive_eject(struct drive *d, bool force, char **err)
{
	if (drive_open_tray(d, force, err) < 0)
		return -1;
	drive_remove_medium(d);
	return 0;
}

int drive_change(struct drive *d, const char *file, const char *format,
		 int read_only, bool force, char **err)
{
	struct blk_open_opts o = d->opts;

	if (format)
		o.format = format;
	if (read_only >= 0)
		o.read_only = read_only;
	if (d->media == DRIVE_MEDIA_CDROM && !o.read_only) {
		*err = g_strdup_printf("Device '%s': a CD-ROM's medium is "
				       "read-only", d->id);
		return -1;
	}
	if (drive_open_tray(d, force, err) < 0)
		return -1;
	drive_remove_medium(d);
	if (drive_open_medium(d, file, &o, err) < 0)
		return -1;      /* the tray stays open and empty, as QEMU's */
	drive_close_tray(d);
	return 0;
}

/* ---- QMP ---- */

static struct drive *qmp_drive(JsonObject *args, char **err)
{
	const char *dev = NULL, *id = NULL;
	struct drive *d;

	if (args && json_object_has_member(args, "device"))
		dev = json_object_get_string_member(args, "device");
	if (args && json_object_has_member(args, "id"))
		id = json_object_get_string_member(args, "id");
	if (!dev && !id) {
		*err = g_strdup("Need exactly one of 'device' and 'id'");
		return NULL;
	}
	d = drive_lookup(dev ? dev : id);
	if (!d)
		*err = g_strdup_printf("Device '%s' not found", dev ? dev : id);
	return d;
}

static bool arg_bool(JsonObject *args, const char *name)
{
	return args && json_object_has_member(args, name) &&
	       json_object_get_boolean_member(args, name);
}

static const char *arg_str(JsonObject *args, const char *name)
{
	JsonNode *n = args ? json_object_get_member(args, name) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) &&
	       json_node_get_value_type(n) == G_TYPE_STRING ?
	       json_node_get_string(n) : NULL;
}

static JsonNode *query_block(void)
{
	JsonArray *a = json_array_new();
	JsonNode *n = json_node_new(JSON_NODE_ARRAY);

	for (guint i = 0; drives && i < drives->len; i++) {
		struct drive *d = g_ptr_array_index(drives, i);
		JsonObject *o = json_object_new();
		bool cd = d->media == DRIVE_MEDIA_CDROM;

		json_object_set_string_member(o, "device", d->id);
		json_object_set_string_member(o, "qdev", d->id);
		json_object_set_boolean_member(o, "locked", drive_locked(d));
		json_object_set_boolean_member(o, "removable", cd);
		if (cd)
			json_object_set_boolean_member(o, "tray_open",
						       d->tray_open);
		json_object_set_string_member(o, "type", "unknown");
		if (d->blk) {
			JsonObject *in = json_object_new();
			JsonObject *img = json_object_new();
			JsonObject *cache = json_object_new();

			json_object_set_string_member(in, "file",
						      blk_filename(d->blk));
			json_object_set_boolean_member(in, "ro",
						       blk_is_read_only(d->blk));
			json_object_set_string_member(in, "drv",
						      blk_format_name(d->blk));
			json_object_set_boolean_member(in, "encrypted", FALSE);
			json_object_set_int_member(in, "backing_file_depth", 0);
			json_object_set_string_member(in, "detect_zeroes", "off");
			json_object_set_boolean_member(cache, "writeback",
						       blk_has_write_cache(d->blk));
			json_object_set_boolean_member(cache, "direct",
						       d->blk->file->direct);
			json_object_set_boolean_member(cache, "no-flush",
						       d->blk->file->ignore_flush);
			json_object_set_object_member(in, "cache", cache);
			json_object_set_string_member(img, "filename",
						      blk_filename(d->blk));
			json_object_set_string_member(img, "format",
						      blk_format_name(d->blk));
			json_object_set_int_member(img, "virtual-size",
						   (gint64)blk_size(d->blk));
			json_object_set_object_member(in, "image", img);
			json_object_set_object_member(o, "inserted", in);
		}
		json_array_add_object_element(a, o);
	}
	json_node_take_array(n, a);
	return n;
}

int qmp_block_command(const char *cmd, JsonObject *args, JsonNode **ret,
		      char **err)
{
	struct drive *d;

	if (!strcmp(cmd, "query-block")) {
		*ret = query_block();
		return 1;
	}
	if (!strcmp(cmd, "change")) {
		/* The old form; other devices ("vnc") are not ours. */
		const char *dev = arg_str(args, "device");

		if (!dev || !drive_lookup(dev))
			return 0;
	} else if (strcmp(cmd, "eject") &&
		   strcmp(cmd, "blockdev-change-medium") &&
		   strcmp(cmd, "blockdev-open-tray") &&
		   strcmp(cmd, "blockdev-close-tray")) {
		return 0;
	}
	d = qmp_drive(args, err);
	if (!d)
		return -1;
	if (!strcmp(cmd, "eject"))
		return drive_eject(d, arg_bool(args, "force"), err) < 0 ? -1 : 1;
	if (!strcmp(cmd, "blockdev-open-tray"))
		return drive_open_tray(d, arg_bool(args, "force"), err) < 0 ? -1 : 1;
	if (!strcmp(cmd, "blockdev-close-tray")) {
		if (d->media != DRIVE_MEDIA_CDROM) {
			*err = g_strdup_printf("Device '%s' is not removable",
					       d->id);
			return -1;
		}
		drive_close_tray(d);
		return 1;
	}
	if (!strcmp(cmd, "change"))
		return drive_change(d, arg_str(args, "target") ?
				    arg_str(args, "target") : "",
				    arg_str(args, "arg"), -1, false, err) < 0 ?
		       -1 : 1;
	/* blockdev-change-medium */
	{
		const char *mode = arg_str(args, "read-only-mode");
		const char *file = arg_str(args, "filename");
		int ro = -1;

		if (!file) {
			*err = g_strdup("Parameter 'filename' is missing");
			return -1;
		}
		if (mode && !strcmp(mode, "read-only"))
			ro = 1;
		else if (mode && !strcmp(mode, "read-write"))
			ro = 0;
		else if (mode && strcmp(mode, "retain")) {
			*err = g_strdup_printf("Parameter 'read-only-mode' does "
					       "not accept value '%s'", mode);
			return -1;
		}
		return drive_change(d, file, arg_str(args, "format"), ro,
				    arg_bool(args, "force"), err) < 0 ? -1 : 1;
	}
}

void drives_fini(void)
{
	for (guint i = 0; drives && i < drives->len; i++) {
		struct drive *d = g_ptr_array_index(drives, i);

		if (d->blk)
			blk_close(d->blk);
		d->blk = NULL;
	}
}
