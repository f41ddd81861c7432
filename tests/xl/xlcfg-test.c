/*
 * xl's config reader and its translation to qemu-dm's command line:
 * configs written to files here, in the forms Xen's guides use (xl and
 * xm/Xen 3 spellings), bad ones with the file and line of the fault, and
 * the device model's argv checked option by option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/testlib.h"
#include "tools/xl/domcfg.h"
#include "tools/xl/xlcfg.h"

static char tmpdir[] = "/tmp/xlcfg-test-XXXXXX";
static char cfgpath[256];

static const char *write_cfg(const char *text)
{
	FILE *f;

	snprintf(cfgpath, sizeof(cfgpath), "%s/guest.cfg", tmpdir);
	f = fopen(cfgpath, "w");
	if (!f) {
		perror(cfgpath);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return cfgpath;
}

/* Parse text (from a file) plus overrides; NULL on error with *err. */
static struct xlcfg *parse(const char *text, const char *const *over,
			   char **err)
{
	struct xlcfg *c = xlcfg_new();

	*err = NULL;
	if (xlcfg_parse_file(c, write_cfg(text), err) < 0) {
		xlcfg_free(c);
		return NULL;
	}
	for (; over && *over; over++)
		if (xlcfg_override(c, *over, err) < 0) {
			xlcfg_free(c);
			return NULL;
		}
	return c;
}

static struct domcfg *dom(const char *text, const char *const *over,
			  char **err)
{
	struct xlcfg *c = parse(text, over, err);
	struct domcfg *d;

	if (!c)
		return NULL;
	d = domcfg_from_xlcfg(c, err);
	xlcfg_free(c);
	return d;
}

/* "guest.cfg:LINE: ..." with the path cut off, for comparing. */
static const char *at(const char *err)
{
	const char *p = err ? strstr(err, "guest.cfg:") : NULL;

	return p ? p : (err ? err : "(no error)");
}

static bool err_at(const char *err, int line, const char *what)
{
	char want[64];

	snprintf(want, sizeof(want), "guest.cfg:%d:", line);
	return err && strstr(err, want) && strstr(err, what);
}

static const struct xlval *val(struct xlcfg *c, const char *key)
{
	struct xlsetting *s = xlcfg_get(c, key);

	return s ? s->val : NULL;
}

static bool is_str(struct xlcfg *c, const char *key, const char *want)
{
	const struct xlval *v = val(c, key);

	return v && v->type == XLV_STRING && !strcmp(v->str, want);
}

static bool is_num(struct xlcfg *c, const char *key, long long want)
{
	const struct xlval *v = val(c, key);

	return v && v->type == XLV_NUMBER && v->num == want;
}

static const char *item(struct xlcfg *c, const char *key, unsigned i)
{
	const struct xlval *v = val(c, key);

	if (!v || v->type != XLV_LIST || i >= v->items->len)
		return NULL;
	return ((struct xlval *)g_ptr_array_index(v->items, i))->str;
}

static unsigned nitems(struct xlcfg *c, const char *key)
{
	const struct xlval *v = val(c, key);

	return v && v->type == XLV_LIST ? v->items->len : 0;
}

static bool has_note(struct domcfg *d, const char *a, const char *b)
{
	for (guint i = 0; i < d->notes->len; i++) {
		const char *n = g_ptr_array_index(d->notes, i);

		if (strstr(n, a) && (!b || strstr(n, b)))
			return true;
	}
	return false;
}

static unsigned count_notes(struct domcfg *d, const char *a)
{
	unsigned k = 0;

	for (guint i = 0; i < d->notes->len; i++)
		if (strstr(g_ptr_array_index(d->notes, i), a))
			k++;
	return k;
}

/* ---- the language ---- */

static void test_language(void)
{
	char *err;
	struct xlcfg *c = parse(
		"# a comment line\n"
		"name = \"dq\"   # trailing comment\n"
		"kernel='sq'\n"
		"memory = 512\n"
		"maxmem=0x400\n"
		"rtc_timeoffset = -3600\n"
		"esc = 'it\\'s \"x\"'\n"
		"vif = [ 'mac=00:16:3e:00:00:01',   # first\n"
		"        \"bridge=br0\",\n"
		"\n"
		"        # a comment inside\n"
		"      ]\n"
		"a = 1; b = 'two'\n"
		"empty = []\n"
		"disk = [ 'x' ]\n"
		"disk += [ 'y', 'z' ]\n"
		"name = 'last wins'\n", NULL, &err);

	if (!c) {
		test_fail("xlcfg/language", "%s", err);
		return;
	}
	test_check("xlcfg/double-quoted", is_str(c, "kernel", "sq") &&
		   true, "kernel");
	test_check("xlcfg/single-quoted", is_str(c, "kernel", "sq"), "bad");
	test_check("xlcfg/number", is_num(c, "memory", 512), "memory");
	test_check("xlcfg/hex-number", is_num(c, "maxmem", 1024), "maxmem");
	test_check("xlcfg/negative-number", is_num(c, "rtc_timeoffset", -3600),
		   "rtc_timeoffset");
	test_check("xlcfg/escapes", is_str(c, "esc", "it's \"x\""), "esc=%s",
		   val(c, "esc") ? val(c, "esc")->str : "?");
	test_check("xlcfg/multi-line-list", nitems(c, "vif") == 2 &&
		   !strcmp(item(c, "vif", 0), "mac=00:16:3e:00:00:01") &&
		   !strcmp(item(c, "vif", 1), "bridge=br0"), "vif has %u items",
		   nitems(c, "vif"));
	test_check("xlcfg/semicolons", is_num(c, "a", 1) && is_str(c, "b", "two"),
		   "a/b");
	test_check("xlcfg/empty-list", val(c, "empty") &&
		   val(c, "empty")->type == XLV_LIST && nitems(c, "empty") == 0,
		   "empty");
	test_check("xlcfg/append", nitems(c, "disk") == 3 &&
		   !strcmp(item(c, "disk", 2), "z"), "disk has %u items",
		   nitems(c, "disk"));
	test_check("xlcfg/later-setting-wins", is_str(c, "name", "last wins"),
		   "name");
	xlcfg_free(c);
}

static void test_language_errors(void)
{
	static const struct {
		const char *name, *text;
		int line;
		const char *what;
	} bad[] = {
		{ "unterminated-string", "name = 'g'\nkernel = \"/boot/vmlinuz\n"
		  "memory = 5\n", 2, "unterminated string" },
		{ "unterminated-single", "name = 'g\n", 1, "unterminated string" },
		{ "list-not-closed", "name = 'g'\ndisk = [ 'a',\n 'b'\n"
		  "memory = 5\n", 2, "list not closed" },
		{ "list-at-eof", "name='g'\n\nvif = [ 'a',\n", 3, "list not closed" },
		{ "list-missing-comma", "disk = [ 'a' 'b' ]\n", 1,
		  "expected ',' or ']'" },
		{ "list-two-commas", "disk = [ 'a',, 'b' ]\n", 1, "empty list item" },
		{ "list-in-list", "disk = [ [ 'a' ] ]\n", 1, "list inside a list" },
		{ "unquoted-string", "name = 'g'\nkernel = /boot/vmlinuz\n", 2,
		  "needs quotes" },
		{ "unquoted-word", "\n\nbuilder = hvm\n", 3, "needs quotes" },
		{ "python-import", "import os, re\n", 1, "expected '='" },
		{ "no-value", "name = 'g'\nmemory =\n", 2, "expected a value" },
		{ "junk-after-value", "memory = 5 6\n", 1, "after the value" },
		{ "bad-number", "memory = 12abc\n", 1, "not a number" },
		{ "no-key", "= 5\n", 1, "expected a setting" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *err = NULL;
		struct xlcfg *c = parse(bad[i].text, NULL, &err);
		char name[64];

		snprintf(name, sizeof(name), "xlcfg/error/%s", bad[i].name);
		test_check(name, !c && err_at(err, bad[i].line, bad[i].what),
			   "got %s", c ? "no error" : at(err));
		xlcfg_free(c);
		g_free(err);
	}
}

static void test_overrides(void)
{
	static const char *const over[] = {
		"memory=1024", "name=over", "kernel='/k'",
		"extra=console=ttyS0 quiet", "vif=['model=pcnet']",
		"serial+=['file:/tmp/s']", NULL,
	};
	char *err;
	struct xlcfg *c = parse("name = 'file'\nmemory = 256\n"
				"serial = [ 'pty' ]\n", over, &err);

	if (!c) {
		test_fail("xlcfg/overrides", "%s", err);
		return;
	}
	test_check("xlcfg/override-number", is_num(c, "memory", 1024), "memory");
	test_check("xlcfg/override-bare-word", is_str(c, "name", "over"), "name");
	test_check("xlcfg/override-quoted", is_str(c, "kernel", "/k"), "kernel");
	test_check("xlcfg/override-with-spaces",
		   is_str(c, "extra", "console=ttyS0 quiet"), "extra");
	test_check("xlcfg/override-list", nitems(c, "vif") == 1 &&
		   !strcmp(item(c, "vif", 0), "model=pcnet"), "vif");
	test_check("xlcfg/override-append", nitems(c, "serial") == 2 &&
		   !strcmp(item(c, "serial", 1), "file:/tmp/s"), "serial");
	{
		struct xlsetting *s = xlcfg_get(c, "memory");

		test_check("xlcfg/override-where", s &&
			   !strcmp(xlcfg_where(s), "command line:1"), "%s",
			   s ? xlcfg_where(s) : "?");
	}
	xlcfg_free(c);
	c = xlcfg_new();
	test_check("xlcfg/override-not-kv", xlcfg_override(c, "memory", &err) < 0 &&
		   strstr(err, "KEY=VALUE"), "accepted");
	xlcfg_free(c);
}

/* ---- the keys ---- */

static const struct xl_disk *disk(struct domcfg *d, int index)
{
	for (guint i = 0; i < d->disks->len; i++) {
		const struct xl_disk *k = g_ptr_array_index(d->disks, i);

		if (k->index == index)
			return k;
	}
	return NULL;
}

static bool disk_is(struct domcfg *d, int index, const char *target,
		    bool cdrom, bool ro, const char *fmt)
{
	const struct xl_disk *k = disk(d, index);

	return k && (target ? k->target && !strcmp(k->target, target) : !k->target) &&
	       k->cdrom == cdrom && k->readonly == ro && !strcmp(k->format, fmt);
}

static void test_disks(void)
{
	char *err;
	struct domcfg *d = dom(
		"name = 'g'\n"
		"disk = [ 'file:/img/a.img,ioemu:hda,w',\n"
		"         'phy:/dev/vg/b,hdb,w',\n"
		"         'file:/iso/x.iso,hdc:cdrom,r' ]\n", NULL, &err);

	if (!d) {
		test_fail("domcfg/disk-old-forms", "%s", err);
		return;
	}
	test_check("domcfg/disk-file-ioemu-hda", disk_is(d, 0, "/img/a.img",
		   false, false, "raw"), "hda");
	test_check("domcfg/disk-phy-hdb", disk_is(d, 1, "/dev/vg/b", false,
		   false, "raw"), "hdb");
	test_check("domcfg/disk-iso-hdc-cdrom", disk_is(d, 2, "/iso/x.iso",
		   true, true, "raw"), "hdc");
	domcfg_free(d);

	d = dom("name = 'g'\n"
		"disk = [ 'phy:/dev/cdrom,hda:cdrom,r', ',hdc:cdrom,r',\n"
		"         'tap:qcow2:/img/q.qcow2,hdb,w' ]\n", NULL, &err);
	test_check("domcfg/disk-host-cdrom-hda", d && disk_is(d, 0,
		   "/dev/cdrom", true, true, "raw"), "%s", d ? "hda" : at(err));
	test_check("domcfg/disk-empty-cdrom", d && disk_is(d, 2, NULL, true,
		   true, "raw"), "hdc");
	test_check("domcfg/disk-tap-qcow2", d && disk_is(d, 1, "/img/q.qcow2",
		   false, false, "qcow2"), "hdb");
	domcfg_free(d);

	d = dom("name = 'g'\n"
		"disk = [ 'format=qcow2, vdev=hda, access=rw, target=/img/a,b.qcow2',\n"
		"  'vdev=hdc, devtype=cdrom, access=ro, target=/iso/d.iso',\n"
		"  '/img/c.vmdk,vmdk,xvdb,rw',\n"
		"  'vdev=hdd, cdrom' ]\n", NULL, &err);
	test_check("domcfg/disk-keys-target-last", d && disk_is(d, 0,
		   "/img/a,b.qcow2", false, false, "qcow2"), "%s",
		   d ? "hda" : at(err));
	test_check("domcfg/disk-keys-devtype-cdrom", d && disk_is(d, 2,
		   "/iso/d.iso", true, true, "raw"), "hdc");
	test_check("domcfg/disk-positional-xvdb", d && disk_is(d, 1,
		   "/img/c.vmdk", false, false, "vmdk"), "xvdb");
	test_check("domcfg/disk-cdrom-flag-empty", d && disk_is(d, 3, NULL,
		   true, true, "raw"), "hdd");
	domcfg_free(d);

	d = dom("name = 'g'\ncdrom = '/iso/old.iso'\nboot = 'd'\n", NULL, &err);
	test_check("domcfg/xen3-cdrom-key", d && disk_is(d, 2, "/iso/old.iso",
		   true, true, "raw") && !strcmp(d->boot, "d"), "%s",
		   d ? "no hdc" : at(err));
	domcfg_free(d);
}

static void test_bad_keys(void)
{
	static const struct {
		const char *name, *text;
		int line;
		const char *what;
	} bad[] = {
		{ "disk-unknown-spec", "name='g'\n\ndisk = [ 'foo' ]\n", 3,
		  "no virtual device" },
		{ "disk-unknown-key", "name='g'\ndisk=['vdev=hda, colour=red, "
		  "target=/x']\n", 2, "unknown disk key 'colour'" },
		{ "disk-duplicate-vdev", "name='g'\ndisk = [ 'file:/a,hda,w',\n"
		  "  'file:/b,hda,w' ]\n", 2, "hda is given twice" },
		{ "disk-duplicate-cdrom-key", "name='g'\ndisk=['file:/a,hdc,w']\n"
		  "cdrom='/x.iso'\n", 3, "hdc is given twice" },
		{ "disk-bad-access", "name='g'\ndisk=['file:/a,hda,x']\n", 2,
		  "access 'x'" },
		{ "disk-scsi", "name='g'\ndisk=['file:/a,sda,w']\n", 2,
		  "SCSI disks" },
		{ "disk-fifth-ide", "name='g'\ndisk=['file:/a,hde,w']\n", 2,
		  "only four IDE" },
		{ "disk-bad-format", "name='g'\ndisk=['/a,vdi,hda,w']\n", 2,
		  "format 'vdi'" },
		{ "disk-no-target", "name='g'\ndisk=['vdev=hda']\n", 2,
		  "needs a target" },
		{ "memory-too-large", "name='g'\n\n\nmemory = 4096\n", 4,
		  "more than this host's 1024 MB" },
		{ "memory-too-small", "name='g'\nmemory = 1\n", 2, "at least" },
		{ "maxmem-below-memory", "name='g'\nmemory=512\nmaxmem=256\n", 3,
		  "less than memory" },
		{ "vcpus-zero", "name='g'\nvcpus = 0\n", 2, "expected 1 to" },
		{ "builder-linux", "name='g'\nbuilder = 'linux'\n", 2,
		  "only HVM guests" },
		{ "type-pv", "name='g'\ntype = 'pv'\n", 2, "only HVM guests" },
		{ "bad-name", "name='a/b'\n", 1, "a name is" },
		{ "on-poweroff-bad", "name='g'\non_poweroff = 'explode'\n", 2,
		  "expected destroy, restart" },
		{ "boot-bad", "name='g'\nboot = 'cx'\n", 2, "'x' is not a boot" },
		{ "vif-bad-mac", "name='g'\nvif = [ 'mac=00:16:3e:zz:00:01' ]\n",
		  2, "six hex bytes" },
		{ "ramdisk-no-kernel", "name='g'\nramdisk = '/i'\n", 2,
		  "needs a kernel" },
		{ "serial-stdio", "name='g'\nserial='stdio'\n", 2, "use 'pty'" },
		{ "vga-bad", "name='g'\nvga = 'matrox'\n", 2, "expected stdvga" },
		{ "bool-bad", "name='g'\nacpi = 'maybe'\n", 2, "expected 0 or 1" },
		{ "bios-ovmf", "name='g'\nbios='ovmf'\n", 2, "UEFI" },
	};

	setenv("XL_HOST_MEMORY_MB", "1024", 1);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *err = NULL;
		struct domcfg *d = dom(bad[i].text, NULL, &err);
		char name[64];

		snprintf(name, sizeof(name), "domcfg/error/%s", bad[i].name);
		test_check(name, !d && err_at(err, bad[i].line, bad[i].what),
			   "got %s", d ? "no error" : at(err));
		domcfg_free(d);
		g_free(err);
	}
	{
		char *err = NULL;
		struct domcfg *d = dom("memory = 128\n", NULL, &err);

		test_check("domcfg/error/no-name", !d && err &&
			   strstr(err, "no name"), "got %s", d ? "none" : err);
		domcfg_free(d);
		g_free(err);
	}
	unsetenv("XL_HOST_MEMORY_MB");
}

static void test_keys(void)
{
	char *err;
	static const char *const over[] = { "vcpus=2", NULL };
	struct domcfg *d = dom(
		"name = 'win'\n"
		"builder = 'hvm'\n"
		"memory = '512'\n"
		"maxmem = 1024\n"
		"kernel = '/usr/lib/xen/boot/hvmloader'\n"
		"device_model = '/usr/lib/xen/bin/qemu-dm'\n"
		"vnc = 1\nvnclisten = '0.0.0.0'\nvncdisplay = 3\n"
		"vncpasswd = 'secret'\nvncconsole = 1\n"
		"sdl = 0\nstdvga = 1\nserial = 'pty'\nusb = 1\n"
		"usbdevice = 'tablet'\nacpi = 1\napic = 1\npae = 1\n"
		"localtime = 1\nkeymap = 'de'\nboot = 'dc'\n"
		"on_poweroff = 'destroy'\non_reboot = 'restart'\n"
		"on_crash = 'preserve'\n"
		"soundhw = 'es1370'\nviridian = 1\nxen_platform_pci = 1\n"
		"colour = 'blue'\n"
		"nic = 2\n", over, &err);

	if (!d) {
		test_fail("domcfg/keys", "%s", err);
		return;
	}
	test_check("domcfg/name", !strcmp(d->name, "win"), "%s", d->name);
	test_check("domcfg/memory-quoted-number", d->memory_mb == 512, "%llu",
		   (unsigned long long)d->memory_mb);
	test_check("domcfg/maxmem-noted", d->maxmem_mb == 1024 &&
		   has_note(d, "maxmem", "ballooning"), "maxmem");
	test_check("domcfg/vcpus-override", d->vcpus == 2, "%u", d->vcpus);
	test_check("domcfg/hvmloader-ignored", !d->kernel &&
		   has_note(d, "guest.cfg:5: kernel", "firmware"), "kernel");
	test_check("domcfg/xm-device-model-ignored", !d->dm_path &&
		   has_note(d, "device_model", "own qemu-dm"), "device_model");
	test_check("domcfg/vnc", d->vnc && d->vncdisplay == 3 && !d->vncunused &&
		   !strcmp(d->vnclisten, "0.0.0.0") &&
		   !strcmp(d->vncpasswd, "secret") && d->vncviewer, "vnc");
	test_check("domcfg/stdvga", !strcmp(d->vga, "std"), "%s", d->vga);
	test_check("domcfg/serial-string", d->serials->len == 1 &&
		   !strcmp(g_ptr_array_index(d->serials, 0), "pty"), "serial");
	test_check("domcfg/usbdevice-string", d->usb && d->usbdevices->len == 1,
		   "usb");
	test_check("domcfg/localtime-keymap-boot", d->localtime &&
		   !strcmp(d->keymap, "de") && !strcmp(d->boot, "dc"), "misc");
	test_check("domcfg/on-actions", d->on_poweroff == XL_ACT_DESTROY &&
		   d->on_reboot == XL_ACT_RESTART &&
		   d->on_crash == XL_ACT_PRESERVE, "on_*");
	test_check("domcfg/not-provided-noted", has_note(d, "soundhw", "not "
		   "provided") && has_note(d, "viridian", "not provided") &&
		   has_note(d, "xen_platform_pci", "Xen platform"), "notes");
	test_check("domcfg/unknown-key-one-warning",
		   count_notes(d, "unknown key") == 1 &&
		   has_note(d, "warning: ", "guest.cfg:29: unknown key 'colour'"),
		   "%u warnings", count_notes(d, "unknown key"));
	test_check("domcfg/nic-2", d->vifs->len == 2 &&
		   !strcmp(((struct xl_vif *)g_ptr_array_index(d->vifs, 1))->model,
			   "rtl8139"), "%u vifs", d->vifs->len);
	domcfg_free(d);

	d = dom("name='v'\nvif = [ 'type=ioemu, mac=00:16:3E:AA:bb:0c, "
		"bridge=xenbr1, model=pcnet',\n 'model=ne2k_pci, netdev=user',\n"
		" 'script=/etc/xen/qemu-ifup' ]\n"
		"usbdevice = [ 'tablet', 'mouse' ]\nserial = [ 'pty', "
		"'file:/tmp/s1' ]\n", NULL, &err);
	if (!d) {
		test_fail("domcfg/vif", "%s", err);
		return;
	}
	{
		struct xl_vif *v0 = g_ptr_array_index(d->vifs, 0);
		struct xl_vif *v1 = g_ptr_array_index(d->vifs, 1);
		struct xl_vif *v2 = g_ptr_array_index(d->vifs, 2);

		test_check("domcfg/vif-bridge", !strcmp(v0->mac, "00:16:3e:aa:bb:0c") &&
			   !strcmp(v0->bridge, "xenbr1") && !strcmp(v0->model, "pcnet") &&
			   !strcmp(v0->backend, "tap"), "vif0");
		test_check("domcfg/vif-user", !strcmp(v1->backend, "user") &&
			   !strcmp(v1->model, "ne2k_pci") &&
			   !strncmp(v1->mac, "00:16:3e:", 9) && strlen(v1->mac) == 17,
			   "vif1 %s", v1->mac);
		test_check("domcfg/vif-script-tap", !strcmp(v2->backend, "tap") &&
			   !strcmp(v2->script, "/etc/xen/qemu-ifup") &&
			   !strcmp(v2->bridge, "xenbr0") &&
			   !strcmp(v2->model, "rtl8139"), "vif2");
	}
	test_check("domcfg/usbdevice-list", d->usbdevices->len == 2, "usb");
	test_check("domcfg/serial-list", d->serials->len == 2, "serial");
	test_check("domcfg/defaults", d->memory_mb == 128 && d->vcpus == 1 &&
		   d->vnc && d->vncunused && !strcmp(d->vga, "cirrus") &&
		   d->acpi && d->on_poweroff == XL_ACT_DESTROY &&
		   d->on_reboot == XL_ACT_RESTART && d->on_crash == XL_ACT_DESTROY,
		   "defaults");
	domcfg_free(d);
}

/* ---- the device model's command line ---- */

/* Index of "opt value" in argv, or -1. */
static int pair(char **argv, const char *opt, const char *value)
{
	for (int i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], opt) && !strcmp(argv[i + 1], value))
			return i;
	return -1;
}

static bool has(char **argv, const char *opt)
{
	for (int i = 0; argv[i]; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

static void test_args(void)
{
	char *err;
	struct domcfg *d = dom(
		"name = 'deb'\nmemory = 512\nvcpus = 2\n"
		"kernel = '/boot/vmlinuz'\nramdisk = '/boot/initrd.img'\n"
		"extra = 'console=ttyS0'\nroot = '/dev/sda1'\n"
		"disk = [ 'vdev=hda, access=w, target=/img/d,1.img', 'file:/iso/x.iso,hdc:cdrom,r',\n"
		"         ',hdd:cdrom,r', 'format=qcow2,vdev=hdb,access=ro,target=/q' ]\n"
		"boot = 'dc'\nstdvga = 1\nvnc = 1\nvnclisten = '0.0.0.0'\n"
		"vncdisplay = 3\nvncpasswd = 'pw'\nserial = [ 'pty', 'file:/tmp/s' ]\n"
		"usbdevice = 'tablet'\nacpi = 0\nlocaltime = 1\nkeymap = 'de'\n"
		"vif = [ 'mac=00:16:3e:01:02:03, bridge=xenbr0, model=pcnet',\n"
		"        'mac=00:16:3e:01:02:04, netdev=user' ]\n"
		"uuid = '12345678-9abc-def0-1234-56789abcdef0'\n"
		"device_model_args = [ '-no-fd-bootchk' ]\n", NULL, &err);
	struct dm_args_ctx ctx = { .domid = 7, .vnc_display = -1,
				   .qmp_path = "/run/q.sock",
				   .vif_script = "/etc/xen/scripts/qemu-ifup" };
	GPtrArray *g;
	char **argv;

	if (!d) {
		test_fail("dmargs/config", "%s", err);
		return;
	}
	g = dm_args_build(d, &ctx);
	argv = dm_args_flatten(g);
	test_check("dmargs/domid-first", !strcmp(argv[0], "-d") &&
		   !strcmp(argv[1], "7"), "%s %s", argv[0], argv[1]);
	test_check("dmargs/name", pair(argv, "-domain-name", "deb") >= 0, "name");
	test_check("dmargs/memory", pair(argv, "-m", "512") >= 0, "-m");
	test_check("dmargs/vcpus", pair(argv, "-smp", "2") >= 0, "-smp");
	test_check("dmargs/kernel", pair(argv, "-kernel", "/boot/vmlinuz") >= 0 &&
		   pair(argv, "-initrd", "/boot/initrd.img") >= 0, "kernel");
	test_check("dmargs/append-root-extra", pair(argv, "-append",
		   "root=/dev/sda1 console=ttyS0") >= 0, "append");
	test_check("dmargs/drive-hda-comma-escaped", pair(argv, "-drive",
		   "file=/img/d,,1.img,if=ide,index=0,media=disk,format=raw") >= 0,
		   "hda");
	test_check("dmargs/drive-hdb-qcow2-readonly", pair(argv, "-drive",
		   "file=/q,if=ide,index=1,media=disk,format=qcow2,readonly=on") >= 0,
		   "hdb");
	test_check("dmargs/drive-hdc-cdrom", pair(argv, "-drive",
		   "file=/iso/x.iso,if=ide,index=2,media=cdrom,format=raw") >= 0,
		   "hdc");
	test_check("dmargs/drive-hdd-empty-cdrom", pair(argv, "-drive",
		   "if=ide,index=3,media=cdrom") >= 0, "hdd");
	test_check("dmargs/boot-order", pair(argv, "-boot", "order=dc") >= 0,
		   "boot");
	test_check("dmargs/vga-std", pair(argv, "-vga", "std") >= 0, "vga");
	test_check("dmargs/vnc-listen-display-password", pair(argv, "-vnc",
		   "0.0.0.0:3,password") >= 0, "vnc");
	test_check("dmargs/display-none", pair(argv, "-display", "none") >= 0,
		   "display");
	test_check("dmargs/serial-two", pair(argv, "-serial", "pty") >= 0 &&
		   pair(argv, "-serial", "file:/tmp/s") > pair(argv, "-serial",
		   "pty"), "serial");
	test_check("dmargs/usb-tablet", has(argv, "-usb") &&
		   pair(argv, "-usbdevice", "tablet") >= 0, "usb");
	test_check("dmargs/no-acpi", has(argv, "-no-acpi"), "acpi");
	test_check("dmargs/localtime", has(argv, "-localtime"), "localtime");
	test_check("dmargs/keymap", pair(argv, "-k", "de") >= 0, "keymap");
	test_check("dmargs/uuid", pair(argv, "-uuid",
		   "12345678-9abc-def0-1234-56789abcdef0") >= 0, "uuid");
	test_check("dmargs/nic-tap-on-bridge", pair(argv, "-netdev",
		   "tap,id=net0,ifname=vif7.0-emu,bridge=xenbr0,"
		   "script=/etc/xen/scripts/qemu-ifup,downscript=no") >= 0 &&
		   pair(argv, "-device",
		   "pcnet,netdev=net0,mac=00:16:3e:01:02:03") >= 0, "nic0");
	test_check("dmargs/nic-user", pair(argv, "-netdev", "user,id=net1") >= 0 &&
		   pair(argv, "-device", "rtl8139,netdev=net1,mac=00:16:3e:01:02:04")
		   >= 0, "nic1");
	test_check("dmargs/qmp", pair(argv, "-qmp",
		   "unix:/run/q.sock,server,nowait") >= 0, "qmp");
	test_check("dmargs/device-model-args-last",
		   !strcmp(argv[g_strv_length(argv) - 1], "-no-fd-bootchk"), "extra");
	test_check("dmargs/no-reboot-for-on-reboot", has(argv, "-no-reboot"),
		   "no -no-reboot");
	{
		struct dm_arg_group *b = dm_args_blame(g,
			"qemu-dm: -vnc 0.0.0.0:3,password: the VNC server is not built yet");
		struct dm_arg_group *b2 = dm_args_blame(g,
			"qemu-dm: -drive: invalid option (see -help)");
		struct dm_arg_group *b3 = dm_args_blame(g,
			"qemu-dm: -drive file=/iso/x.iso,if=ide,index=2,media=cdrom,"
			"format=raw: no such file");

		test_check("dmargs/blame-vnc-line", b && !strcmp(b->key, "vnc") &&
			   b->explicit && b->where && strstr(b->where, "guest.cfg:12"),
			   "%s at %s", b ? b->key : "none", b && b->where ? b->where : "?");
		test_check("dmargs/blame-option", b2 && !strcmp(b2->key, "disk"),
			   "%s", b2 ? b2->key : "none");
		test_check("dmargs/blame-which-disk", b3 && !strcmp(b3->key, "disk") &&
			   strstr(g_ptr_array_index(b3->args, 1), "x.iso"), "%s",
			   b3 ? (char *)g_ptr_array_index(b3->args, 1) : "none");
		test_check("dmargs/blame-unrelated", !dm_args_blame(g,
			   "qemu-dm: cannot map guest RAM"), "blamed");
	}
	g_strfreev(argv);
	g_ptr_array_free(g, TRUE);
	domcfg_free(d);

	/* Xen's defaults: cirrus, VNC on an xl-chosen display, no serial */
	d = dom("name = 'min'\n", NULL, &err);
	ctx.vnc_display = 5;
	g = dm_args_build(d, &ctx);
	argv = dm_args_flatten(g);
	test_check("dmargs/default-vga-cirrus", pair(argv, "-vga", "cirrus") >= 0,
		   "vga");
	test_check("dmargs/default-vnc-display", pair(argv, "-vnc",
		   "127.0.0.1:5") >= 0, "vnc");
	test_check("dmargs/default-boot-cd", pair(argv, "-boot", "order=cd") >= 0,
		   "boot");
	test_check("dmargs/default-no-serial-no-kernel", !has(argv, "-serial") &&
		   !has(argv, "-kernel") && !has(argv, "-drive"), "extra options");
	{
		struct dm_arg_group *b = dm_args_blame(g,
			"qemu-dm: -vga cirrus: no VGA device yet");

		test_check("dmargs/default-is-not-explicit", b && !b->explicit,
			   "explicit");
		b->dropped = true;
		g_strfreev(argv);
		argv = dm_args_flatten(g);
		test_check("dmargs/dropped-default", !has(argv, "-vga"), "kept");
	}
	g_strfreev(argv);
	g_ptr_array_free(g, TRUE);
	domcfg_free(d);
}

/* xl.conf: the defaults xend took from xend-config.sxp, Xen's
 * vif.default.bridge, and a warning for a key neither knows. */
static void test_globals(void)
{
	char path[300];
	FILE *f;
	GPtrArray *notes = g_ptr_array_new_with_free_func(g_free);
	struct xlcfg *g, *c;
	struct domcfg *d;
	char *err = NULL;

	snprintf(path, sizeof(path), "%s/xl.conf", tmpdir);
	f = fopen(path, "w");
	if (!f) {
		test_fail("xlconf/write", "%s", path);
		return;
	}
	fputs("# global defaults\nvif.default.bridge = \"br-lan\"\n"
	      "vnclisten = '0.0.0.0'\nkeymap = 'fr'\nautoballoon = 0\n"
	      "vnc-listen = 'x'\n", f);
	fclose(f);
	setenv("XL_CONF", path, 1);
	g = xl_globals_load(notes, &err);
	test_check("xlconf/read", g && !err, "%s", err ? err : "no file");
	test_check("xlconf/unknown-key-warned", notes->len == 1 &&
		   strstr(g_ptr_array_index(notes, 0), "xl.conf:6: unknown key "
			  "'vnc-listen'"), "%u notes", notes->len);
	c = parse("name = 'g'\nvif = [ 'model=pcnet', 'bridge=br1' ]\n", NULL, &err);
	d = c ? domcfg_from_xlcfg_globals(c, g, &err) : NULL;
	test_check("xlconf/vif-default-bridge", d && d->vifs->len == 2 &&
		   !strcmp(((struct xl_vif *)g_ptr_array_index(d->vifs, 0))->bridge,
			   "br-lan") &&
		   !strcmp(((struct xl_vif *)g_ptr_array_index(d->vifs, 1))->bridge,
			   "br1"), "bridges");
	test_check("xlconf/vnclisten-keymap-defaults", d && d->vnclisten &&
		   !strcmp(d->vnclisten, "0.0.0.0") && d->keymap &&
		   !strcmp(d->keymap, "fr"), "defaults");
	domcfg_free(d);
	xlcfg_free(c);
	c = parse("name = 'g'\nvnclisten = '127.0.0.1'\nkeymap = 'de'\n",
		  NULL, &err);
	d = c ? domcfg_from_xlcfg_globals(c, g, &err) : NULL;
	test_check("xlconf/config-wins", d && !strcmp(d->vnclisten, "127.0.0.1") &&
		   !strcmp(d->keymap, "de"), "config");
	domcfg_free(d);
	xlcfg_free(c);
	xlcfg_free(g);
	unsetenv("XL_CONF");
	unlink(path);
	g_ptr_array_free(notes, TRUE);
}

/* The example configs make install puts in /etc/xen/examples read
 * without error or unknown keys. */
static void test_examples(const char *argv0)
{
	static const char *const ex[] = { "debian-install", "windows-install",
					  "bsd-install" };
	char *dir = g_path_get_dirname(argv0);

	for (size_t i = 0; i < G_N_ELEMENTS(ex); i++) {
		char *path = g_strdup_printf("%s/../../tools/xl/examples/%s.cfg",
					     dir, ex[i]);
		char name[64];
		struct xlcfg *c = xlcfg_new();
		struct domcfg *d = NULL;
		char *err = NULL;

		snprintf(name, sizeof(name), "domcfg/example-%s", ex[i]);
		if (xlcfg_parse_file(c, path, &err) == 0)
			d = domcfg_from_xlcfg(c, &err);
		test_check(name, d && count_notes(d, "unknown key") == 0 &&
			   d->disks->len == 2, "%s", d ? "unknown keys or disks" :
			   err);
		domcfg_free(d);
		xlcfg_free(c);
		g_free(err);
		g_free(path);
	}
	g_free(dir);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_language();
	test_language_errors();
	test_overrides();
	test_disks();
	test_bad_keys();
	test_keys();
	test_args();
	test_examples(argv[0]);
	test_globals();
	unlink(cfgpath);
	rmdir(tmpdir);
	return test_exit();
}
