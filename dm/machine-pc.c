/*
 * The PC: which devices exist and where.  One line per device; each
 * device's own file knows its registers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/drive.h"
#include "dm/dm-internal.h"
#include "dm/linux-boot.h"
#include "dm/options.h"
#include "dm/usb-setup.h"
#include "hvm/memmap.h"
#include "dm/chardev.h"
#include "hw/acpi.h"
#include "hw/fw_cfg.h"
#include "hw/ide/ide.h"
#include "hw/input.h"
#include "hw/pci.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "hw/testdev.h"
#include "net/net-dm.h"
#include "hw/vga.h"

/* e820 entries as SeaBIOS reads them from fw_cfg's "etc/e820". */
struct e820_entry {
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM      1
#define E820_RESERVED 2

static int machine_fw_cfg(void)
{
	struct e820_entry e820[2];
	unsigned n = 0;

	if (fw_cfg_init() < 0)
		return -1;
	fw_cfg_add_i16(FW_CFG_NB_CPUS, (uint16_t)dm_cfg.vcpus);
	fw_cfg_add_i16(FW_CFG_MAX_CPUS, (uint16_t)dm_cfg.vcpus);
	fw_cfg_add_i16(FW_CFG_NOGRAPHIC, dm_cfg.nographic);
	/* -boot menu=on[,splash-time=ms]: SeaBIOS's boot menu and its wait
	 * (QEMU passes the wait whether or not the menu is on). */
	char *menu = dm_cfg.boot ? opt_get(dm_cfg.boot, "menu") : NULL;
	char *splash = dm_cfg.boot ? opt_get(dm_cfg.boot, "splash-time") : NULL;
	char *rbt = dm_cfg.boot ? opt_get(dm_cfg.boot, "reboot-timeout") : NULL;
	bool menu_on = menu && (!strcmp(menu, "on") || !strcmp(menu, "yes"));
	fw_cfg_add_i16(FW_CFG_BOOT_MENU, menu_on);
	if (splash) {
		uint16_t ms = GUINT16_TO_LE((uint16_t)strtoul(splash, NULL, 10));
		fw_cfg_add_file("etc/boot-menu-wait", &ms, sizeof(ms));
	}
	/* -boot reboot-timeout=ms: SeaBIOS retries a failed boot after it;
	 * -1 means never. */
	if (rbt) {
		long t = strtol(rbt, NULL, 10);
		uint32_t le = GUINT32_TO_LE(t < 0 ? UINT32_MAX : (uint32_t)t);

		fw_cfg_add_file("etc/boot-fail-wait", &le, sizeof(le));
	}
	if (dm_cfg.has_uuid)
		fw_cfg_add_bytes(FW_CFG_UUID, dm_cfg.uuid, sizeof(dm_cfg.uuid));
	g_free(menu);
	g_free(splash);
	g_free(rbt);
	/* There is no display adapter yet: SeaBIOS prints its screen on
	 * COM1 instead, as with -nographic. */
	{
		uint16_t port = 0x3f8;
		fw_cfg_add_file("etc/sercon-port", &port, sizeof(port));
	}
	e820[n++] = (struct e820_entry){ 0, guest_ram_below_4g(), E820_RAM };
	if (guest_ram_size() > guest_ram_below_4g())
		e820[n++] = (struct e820_entry){
			HVM_4G, guest_ram_size() - guest_ram_below_4g(),
			E820_RAM };
	if (fw_cfg_add_file("etc/e820", e820, n * sizeof(e820[0])) < 0)
		return -1;
	/* The ACPI tables, for SeaBIOS to install (-no-acpi: none). */
	if (!dm_cfg.no_acpi && acpi_tables_fw_cfg(dm_cfg.vcpus) < 0)
		return -1;
	return 0;
}

/*
 * The firmware image: mapped read-only just below 4 GiB, where the CPU
 * starts, and its last 128 KiB copied into RAM at 0xe0000 (the legacy
 * BIOS area), again on every reset since the BIOS writes to that copy.
 */
static uint8_t *bios_image;
static size_t bios_size;

static void bios_copy_low(void *opaque)
{
	size_t n = bios_size < (128u << 10) ? bios_size : (128u << 10);

	(void)opaque;
	if (guest_mem_write(0x100000 - n, bios_image + bios_size - n, n) < 0)
		dm_log(DM_LOG_ERR, "no RAM for the BIOS copy below 1 MiB");
}

static int machine_bios(void)
{
	const char *path = dm_cfg.bios;
	struct dm_mem *m;
	gchar *data;
	gsize len;
	GError *err = NULL;

	if (!path) {
		if (dm_cfg.accel == DM_ACCEL_QTEST)
			return 0;
		path = "/usr/share/seabios/bios-256k.bin";
	}
	if (!g_file_get_contents(path, &data, &len, &err)) {
		dm_log(DM_LOG_ERR, "-bios %s: %s", path, err->message);
		g_error_free(err);
		return -1;
	}
	if (len == 0 || len > HVM_BIOS_MAX_SIZE || (len & 0xfff)) {
		dm_log(DM_LOG_ERR, "-bios %s: %zu bytes; a firmware image is a "
		       "multiple of 4 KiB up to 16 MiB", path, (size_t)len);
		g_free(data);
		return -1;
	}
	m = dm_mem_alloc("bios", len);
	if (!m) {
		g_free(data);
		return -1;
	}
	memcpy(dm_mem_host(m), data, len);
	bios_image = (uint8_t *)data;
	bios_size = len;
	if (dm_mem_map(m, HVM_4G - len, true, false) < 0)
		return -1;
	bios_copy_low(NULL);
	dm_register_reset(bios_copy_low, NULL);
	return 0;
}

/*
 * COM ports: one per -serial, in order; without any, COM1 exists with
 * nothing attached (on the terminal with -nographic), as in QEMU.
 */
static const uint16_t com_base[DM_MAX_SERIAL] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const unsigned com_gsi[DM_MAX_SERIAL] = { 4, 3, 4, 3 };
static unsigned com_used;       /* COM ports taken by -serial */

static bool has_device(const char *name)
{
	for (unsigned i = 0; i < dm_cfg.ndevices; i++)
		if (!strcmp(dm_cfg.devices[i], name))
			return true;
	return false;
}

static bool has_isa_serial_device(void)
{
	for (unsigned i = 0; i < dm_cfg.ndevices; i++)
		if (!strncmp(dm_cfg.devices[i], "isa-serial", 10) &&
		    (!dm_cfg.devices[i][10] || dm_cfg.devices[i][10] == ','))
			return true;
	return false;
}

/* -device isa-serial,chardev=ID[,iobase=N][,irq=N]: the next free COM
 * port unless placed explicitly. */
static int machine_isa_serial(const char *spec)
{
	char *id = opt_get(spec, "chardev");
	char *iobase = opt_get(spec, "iobase"), *irq = opt_get(spec, "irq");
	unsigned long base = com_used < DM_MAX_SERIAL ? com_base[com_used] : 0;
	unsigned long gsi = com_used < DM_MAX_SERIAL ? com_gsi[com_used] : 0;
	struct chardev *chr = NULL;
	int ret = -1;

	if (iobase)
		base = strtoul(iobase, NULL, 0);
	if (irq)
		gsi = strtoul(irq, NULL, 0);
	if (!base || base > 0xfff8 || gsi > 15) {
		dm_log(DM_LOG_ERR, "-device %s: give iobase= (up to 0xfff8) and "
		       "irq= (0-15), or use at most %d COM ports", spec,
		       DM_MAX_SERIAL);
		goto out;
	}
	if (id) {
		char *ref = g_strdup_printf("chardev:%s", id);

		chr = chardev_open(ref, id);
		g_free(ref);
		if (!chr)
			goto out;
	}
	if (serial_init((uint16_t)base, (unsigned)gsi, chr) < 0) {
		dm_log(DM_LOG_ERR, "-device %s: I/O ports %#lx-%#lx are taken",
		       spec, base, base + 7);
		goto out;
	}
	com_used++;
	ret = 0;
out:
	g_free(id);
	g_free(iobase);
	g_free(irq);
	return ret;
}

static int machine_serial(void)
{
	const uint16_t *base = com_base;
	const unsigned *gsi = com_gsi;
	const char *specs[DM_MAX_SERIAL];
	unsigned n = dm_cfg.nserial;

	memcpy(specs, dm_cfg.serial, sizeof(specs));
	/* A -device isa-serial replaces the default COM1, as in QEMU. */
	if (n == 0 && !dm_cfg.nodefaults && !has_isa_serial_device()) {
		specs[0] = dm_cfg.nographic ? "mon:stdio" : "null";
		n = 1;
	}
	for (unsigned i = 0; i < n; i++) {
		char label[16];
		struct chardev *chr;

		if (!strcmp(specs[i], "none"))
			continue;
		snprintf(label, sizeof(label), "serial%u", i);
		chr = chardev_open(specs[i], label);
		if (!chr || serial_init(base[i], gsi[i], chr) < 0)
			return -1;
	}
	com_used = n;
	return 0;
}

/* Boot device letters -> CMOS codes: a floppy, c disk, d CD-ROM, n net. */
static unsigned boot_code(char ch)
{
	switch (ch) {
	case 'a': return 1;
	case 'c': return 2;
	case 'd': return 3;
	case 'n': return 4;
	}
	return 0;
}

/* The permanent boot order, after a -boot once= boot. */
static char boot_order[4];

/* SeaBIOS reads the first three boot devices from CMOS 0x3d and 0x38;
 * bit 0 of 0x38 turns off its floppy boot signature check. */
static void machine_boot_order_set(const char *order)
{
	unsigned n = (unsigned)strnlen(order, 3);
	unsigned c0 = n > 0 ? boot_code(order[0]) : 0;
	unsigned c1 = n > 1 ? boot_code(order[1]) : 0;
	unsigned c2 = n > 2 ? boot_code(order[2]) : 0;

	rtc_set_cmos(0x3d, (uint8_t)(c1 << 4 | c0));
	rtc_set_cmos(0x38, (uint8_t)(c2 << 4 | (dm_cfg.no_fd_bootchk ? 1 : 0)));
	rtc_update_checksum();
}

static void machine_boot_reset(void *opaque)
{
	(void)opaque;
	machine_boot_order_set(boot_order);
}

/* The NVRAM bytes SeaBIOS and guests read. */
static int machine_cmos(void)
{
	uint64_t below = guest_ram_below_4g(), total = guest_ram_size();
	uint64_t ext = below > (1u << 20) ? (below - (1u << 20)) >> 10 : 0;
	uint64_t above16 = below > (16u << 20) ? (below - (16u << 20)) >> 16 : 0;
	uint64_t above4g = (total - below) >> 16;
	char order[4] = "cad";
	char *o = dm_cfg.boot ? opt_get(dm_cfg.boot, "order") : NULL;

	if (rtc_init(dm_cfg.localtime) < 0)
		return -1;
	if (dm_cfg.has_rtc_base)
		rtc_set_time(dm_cfg.rtc_base);
	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	rtc_set_cmos(0x14, 0x06);               /* equipment: FPU, VGA */
	rtc_set_cmos(0x15, 640 & 0xff);         /* base memory, KiB */
	rtc_set_cmos(0x16, 640 >> 8);
	rtc_set_cmos(0x17, (uint8_t)ext);
	rtc_set_cmos(0x18, (uint8_t)(ext >> 8));
	rtc_set_cmos(0x30, (uint8_t)ext);
	rtc_set_cmos(0x31, (uint8_t)(ext >> 8));
	rtc_set_cmos(0x34, (uint8_t)above16);
	rtc_set_cmos(0x35, (uint8_t)(above16 >> 8));
	rtc_set_cmos(0x5b, (uint8_t)above4g);
	rtc_set_cmos(0x5c, (uint8_t)(above4g >> 8));
	rtc_set_cmos(0x5d, (uint8_t)(above4g >> 16));
	rtc_set_cmos(0x5f, (uint8_t)(dm_cfg.vcpus - 1));
	/* -boot order=cdn (options.c turns the old -boot cdn into that);
	 * once=X is the order for the first boot only. */
	if (o)
		g_strlcpy(order, o, sizeof(order));
	g_free(o);
	memcpy(boot_order, order, sizeof(order));
	o = dm_cfg.boot ? opt_get(dm_cfg.boot, "once") : NULL;
	if (o) {
		g_strlcpy(order, o, sizeof(order));
		dm_register_reset(machine_boot_reset, NULL);
	}
	g_free(o);
	machine_boot_order_set(order);
	return 0;
}

/* -vga std (the default, as in QEMU, also with -nographic), -vga none,
 * -vga cirrus (std until the Cirrus card exists), -device VGA. */
static int machine_vga(const char *spec)
{
	char *mb = spec ? opt_get(spec, "vgamem_mb") : NULL;
	unsigned long vram_mb = mb ? strtoul(mb, NULL, 0) : 16;

	g_free(mb);
	if (vram_mb < 1 || vram_mb > 256 || (vram_mb & (vram_mb - 1))) {
		dm_log(DM_LOG_ERR, "-device %s: vgamem_mb is a power of two "
		       "from 1 to 256", spec);
		return -1;
	}
	return stdvga_init(PCI_DEVFN(2, 0), (unsigned)vram_mb,
			   "/usr/share/seabios/vgabios-stdvga.bin");
}

static int machine_default_vga(void)
{
	const char *t = dm_cfg.vga ? dm_cfg.vga :
			dm_cfg.nodefaults ? "none" : "std";

	for (unsigned i = 0; i < dm_cfg.ndevices; i++)
		if (!strncmp(dm_cfg.devices[i], "VGA", 3) &&
		    (!dm_cfg.devices[i][3] || dm_cfg.devices[i][3] == ','))
			t = "none";     /* -device VGA takes slot 2 itself */
	if (!strcmp(t, "none"))
		return 0;
	if (!strcmp(t, "cirrus"))
		dm_log(DM_LOG_WARN, "-vga cirrus: the Cirrus card is not "
		       "emulated yet; using the standard VGA");
	return machine_vga(NULL);
}

static int machine_devices(void)
{
	for (unsigned i = 0; i < dm_cfg.ndevices; i++) {
		const char *spec = dm_cfg.devices[i];
		size_t len = strcspn(spec, ",");
		int usb = usb_cmdline_device(spec);
		int nic;

		if (usb < 0)
			return -1;
		if (usb > 0)
			continue;
		nic = net_device(spec);
		if (nic < 0)
			return -1;
		if (nic > 0) {
			continue;
		} else if (drive_is_device_spec(spec) || !strcmp(spec, "piix4-ide")) {
			continue;       /* placed by drives_init */
		} else if (len == 10 && !strncmp(spec, "isa-serial", 10)) {
			if (machine_isa_serial(spec) < 0)
				return -1;
		} else if (len == 3 && !strncmp(spec, "VGA", 3)) {
			if (machine_vga(spec) < 0)
				return -1;
		} else if (len == 10 && !strncmp(spec, "pc-testdev", 10)) {
			if (pc_testdev_init() < 0)
				return -1;
		} else if (len == 11 && !strncmp(spec, "hvm-testdev", 11)) {
			if (testdev_init() < 0)
				return -1;
		} else if (len == 15 && !strncmp(spec, "hvm-pci-testdev", 15)) {
			char *addr = opt_get(spec, "addr");
			unsigned long slot = addr ? strtoul(addr, NULL, 0) : 3;

			g_free(addr);
			if (slot < 2 || slot > 31 || pci_testdev_init((unsigned)slot) < 0) {
				dm_log(DM_LOG_ERR, "-device %s: slot %lu is not "
				       "free (2-31)", spec, slot);
				return -1;
			}
		} else {
			dm_log(DM_LOG_ERR, "-device %s: unknown device type "
			       "'%.*s'", spec, (int)len, spec);
			return -1;
		}
	}
	return 0;
}

int machine_pc_init(void)
{
	pci_cfg_ports_init();
	pci_bus_init();
	if (i440fx_init() < 0 || piix3_init() < 0 || piix4_pm_init() < 0)
		return -1;
	/* 00:01.1, with or without drives; -device piix4-ide for UDMA. */
	if (piix_ide_init(has_device("piix4-ide")) < 0)
		return -1;
	if (machine_fw_cfg() < 0 || machine_bios() < 0 ||
	    machine_cmos() < 0 || machine_serial() < 0 || i8042_init() < 0)
		return -1;
	if (dm_cfg.debugcon) {
		struct chardev *chr = chardev_open(dm_cfg.debugcon, "debugcon");

		if (!chr || debugcon_init(chr) < 0)
			return -1;
	}
	if (usb_machine_init() < 0 || net_init() < 0 ||
	    machine_default_vga() < 0 || machine_devices() < 0)
		return -1;
	/* Last: the kernel goes over whatever the devices put in RAM. */
	return linux_boot_init();
}
