/*
 * Direct Linux boot (-kernel, -initrd, -append), by the Linux x86 boot
 * protocol's 32-bit entry (Documentation/arch/x86/boot.rst): we do what a
 * boot loader does after the real-mode part, so no BIOS code runs first.
 *
 *   0x040e   the BIOS data area's EBDA segment (and 0x413, base memory)
 *   0x6000   a GDT with the flat __BOOT_CS (0x10) and __BOOT_DS (0x18)
 *   0x7000   the zero page (struct boot_params): the kernel's setup header,
 *            the e820 map, pointers to the command line and initrd
 *   0x20000  the command line
 *   0x9fc00  the EBDA, holding a copy of the ACPI RSDP
 *   0x100000 the protected-mode kernel
 *   top of low RAM (below initrd_addr_max): the initrd
 *
 * vCPU 0 starts at the kernel's code32_start in flat 32-bit protected
 * mode with ESI pointing at the zero page.  The image is loaded again on
 * every reset.  Every field read from the kernel file is checked against
 * the file's size and the guest's RAM.
 */
#include <string.h>

#include "dm/dm-internal.h"
#include "dm/linux-boot.h"
#include "hvm/control.h"
#include "hvm/memmap.h"
#include "hw/acpi.h"
#include "hw/ide/ide.h"

#define GDT_ADDR      0x6000u
#define ZERO_PAGE     0x7000u
#define CMDLINE_ADDR  0x20000u
#define CMDLINE_MAX   0x10000u
#define KERNEL_ADDR   0x100000u
#define EBDA_ADDR     0x9fc00u
#define RSDP_LEN      36u      /* ACPI 2.0 RSDP */
/* ACPI tables sit at the top of low RAM, reserved in the e820 map. */
#define ACPI_AREA     0x20000u

/* Offsets in the zero page / setup header. */
#define BP_ACPI_RSDP      0x070
#define BP_E820_ENTRIES   0x1e8
#define BP_SETUP_SECTS    0x1f1
#define BP_BOOT_FLAG      0x1fe
#define BP_HEADER         0x202
#define BP_VERSION        0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS      0x211
#define BP_CODE32_START   0x214
#define BP_RAMDISK_IMAGE  0x218
#define BP_RAMDISK_SIZE   0x21c
#define BP_HEAP_END_PTR   0x224
#define BP_CMD_LINE_PTR   0x228
#define BP_INITRD_MAX     0x22c
#define BP_CMDLINE_SIZE   0x238
#define BP_E820_TABLE     0x2d0
#define E820_MAX          128

static uint8_t *kernel, *initrd;
static size_t kernel_len, initrd_len;
static uint32_t code32_start;
static uint64_t rsdp_addr;

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void wr64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

void linux_boot_set_rsdp(uint64_t addr)
{
	rsdp_addr = addr;
}

/*
 * Programs that do not read the zero page's acpi_rsdp_addr (Memtest86+,
 * older kernels) find the RSDP as on a BIOS machine: by scanning the
 * first KiB of the EBDA, whose segment the BIOS data area holds at 0x40e.
 * The EBDA is the 1 KiB below 640 KiB that the e820 map reserves.
 */
static int linux_boot_ebda(uint64_t rsdp)
{
	uint8_t ebda[0x400] = { 1 };    /* byte 0: the EBDA's size in KiB */
	uint16_t bda_ebda = EBDA_ADDR >> 4, bda_basemem = EBDA_ADDR >> 10;

	if (rsdp && guest_mem_read(rsdp, ebda + 16, RSDP_LEN) < 0)
		return -1;
	if (guest_mem_write(EBDA_ADDR, ebda, sizeof(ebda)) < 0 ||
	    guest_mem_write(0x40e, &bda_ebda, 2) < 0 ||
	    guest_mem_write(0x413, &bda_basemem, 2) < 0)
		return -1;
	return 0;
}

static unsigned e820_add(uint8_t *zp, unsigned n, uint64_t addr,
			 uint64_t len, uint32_t type)
{
	uint8_t *e = zp + BP_E820_TABLE + n * 20;

	if (n >= E820_MAX || !len)
		return n;
	wr64(e, 0, addr);
	wr64(e, 8, len);
	wr32(e, 16, type);
	return n + 1;
}

/* Copy the image into guest RAM and build the zero page. */
static int linux_boot_load(void)
{
	uint8_t zp[4096];
	uint64_t low = guest_ram_below_4g();
	unsigned setup_sects = kernel[BP_SETUP_SECTS] ? kernel[BP_SETUP_SECTS]
						      : 4;
	size_t setup_len = (size_t)(setup_sects + 1) * 512;
	size_t hdr_end = BP_HEADER + 2 + kernel[0x201];
	uint16_t version = (uint16_t)(kernel[BP_VERSION] |
				      kernel[BP_VERSION + 1] << 8);
	uint32_t initrd_max, cmdline_max;
	const char *cmd = dm_cfg.append ? dm_cfg.append : "";
	size_t cmdlen = strlen(cmd) + 1;
	uint64_t gdt[4] = {
		0, 0,
		0x00cf9b000000ffffull,   /* 0x10: code, flat 32-bit */
		0x00cf93000000ffffull,   /* 0x18: data, flat */
	};
	unsigned n = 0;

	if (hdr_end > sizeof(zp) || hdr_end > kernel_len)
		hdr_end = BP_HEADER + 0x80;
	memset(zp, 0, sizeof(zp));
	memcpy(zp + BP_SETUP_SECTS, kernel + BP_SETUP_SECTS,
	       hdr_end - BP_SETUP_SECTS);

	if (kernel_len - setup_len + KERNEL_ADDR > low) {
		dm_log(DM_LOG_ERR, "-kernel %s: does not fit in %llu MiB of RAM",
		       dm_cfg.kernel, (unsigned long long)(low >> 20));
		return -1;
	}
	if (guest_mem_write(KERNEL_ADDR, kernel + setup_len,
			    kernel_len - setup_len) < 0)
		return -1;

	cmdline_max = version >= 0x206 ? rd32(kernel, BP_CMDLINE_SIZE) : 255;
	if (cmdlen - 1 > cmdline_max || cmdlen > CMDLINE_MAX) {
		dm_log(DM_LOG_ERR, "-append: command line longer than the "
		       "kernel's limit of %u bytes", cmdline_max);
		return -1;
	}
	if (guest_mem_write(CMDLINE_ADDR, cmd, cmdlen) < 0)
		return -1;
	wr32(zp, BP_CMD_LINE_PTR, CMDLINE_ADDR);

	/* The IDE channels decoding, as firmware leaves them. */
	piix_ide_enable_decode();
	/* ACPI tables, as firmware would have left them. */
	uint64_t acpi_at = 0, acpi_size = 0;
	if (!dm_cfg.no_acpi) {
		acpi_at = low - ACPI_AREA;
		rsdp_addr = acpi_tables_install(dm_cfg.vcpus, acpi_at, &acpi_size);
		piix4_pm_enable();
		low = acpi_at;
	}
	if (initrd) {
		uint64_t top = low;

		initrd_max = version >= 0x203 ? rd32(kernel, BP_INITRD_MAX)
					      : 0x37ffffff;
		if (top > (uint64_t)initrd_max + 1)
			top = (uint64_t)initrd_max + 1;
		if (initrd_len + KERNEL_ADDR + (kernel_len - setup_len) > top) {
			dm_log(DM_LOG_ERR, "-initrd %s: no room below %#llx",
			       dm_cfg.initrd, (unsigned long long)top);
			return -1;
		}
		uint64_t at = (top - initrd_len) & ~0xfffull;
		if (guest_mem_write(at, initrd, initrd_len) < 0)
			return -1;
		wr32(zp, BP_RAMDISK_IMAGE, (uint32_t)at);
		wr32(zp, BP_RAMDISK_SIZE, (uint32_t)initrd_len);
	}

	zp[BP_TYPE_OF_LOADER] = 0xff;            /* "undefined" loader */
	zp[BP_LOADFLAGS] |= 0x80;                /* CAN_USE_HEAP */
	zp[BP_HEAP_END_PTR] = 0x00;
	zp[BP_HEAP_END_PTR + 1] = 0xfe;
	if (rsdp_addr && version >= 0x20e)
		wr64(zp, BP_ACPI_RSDP, rsdp_addr);
	if (linux_boot_ebda(acpi_at ? rsdp_addr : 0) < 0)
		return -1;

	/* The memory map: conventional memory, the BIOS area reserved as on
	 * every PC, then RAM from 1 MiB, then above 4 GiB. */
	n = e820_add(zp, n, 0, EBDA_ADDR, 1);
	n = e820_add(zp, n, EBDA_ADDR, 0x400, 2);
	n = e820_add(zp, n, 0xf0000, 0x10000, 2);
	n = e820_add(zp, n, 0x100000, low - 0x100000, 1);
	if (acpi_at)
		n = e820_add(zp, n, acpi_at, ACPI_AREA, 3);    /* ACPI data */
	/* RAM above 4 GiB: whatever did not fit below (low may have lost
	 * the ACPI area, which is not RAM moved upwards). */
	if (guest_ram_size() > guest_ram_below_4g())
		n = e820_add(zp, n, HVM_4G,
			     guest_ram_size() - guest_ram_below_4g(), 1);
	n = e820_add(zp, n, HVM_IOAPIC_BASE, 0x1000, 2);
	n = e820_add(zp, n, HVM_LAPIC_BASE, 0x1000, 2);
	zp[BP_E820_ENTRIES] = (uint8_t)n;

	if (guest_mem_write(ZERO_PAGE, zp, sizeof(zp)) < 0 ||
	    guest_mem_write(GDT_ADDR, gdt, sizeof(gdt)) < 0)
		return -1;
	return 0;
}

int linux_boot_cpu_setup(void)
{
	struct hvctl_vcpu_regs r;
	struct hvctl_seg code = { 0, 0xffffffff, 0x10, 0xc09b };
	struct hvctl_seg data = { 0, 0xffffffff, 0x18, 0xc093 };

	if (!kernel || dm_cfg.accel == DM_ACCEL_QTEST)
		return 0;
	memset(&r, 0, sizeof(r));
	r.vcpu = 0;
	r.rip = code32_start;
	r.rflags = 2;
	r.gpr[6] = ZERO_PAGE;            /* ESI */
	r.cs = code;
	r.ds = r.es = r.ss = r.fs = r.gs = data;
	r.ldtr = (struct hvctl_seg){ 0, 0xffff, 0, 0x82 };
	r.tr = (struct hvctl_seg){ 0, 0xffff, 0, 0x8b };
	r.gdt_base = GDT_ADDR;
	r.gdt_limit = 4 * 8 - 1;
	r.idt_limit = 0;
	r.cr0 = 0x11;                    /* PE, ET */
	return dm_set_vcpu_regs(&r);
}

/* After a machine reset: load the kernel again and redo what firmware
 * would have set up.  Called once every device has been reset (the PM
 * block's PCI registers among them), not from the device reset list,
 * where it could run before them and see its work undone. */
int linux_boot_reload(void)
{
	return kernel ? linux_boot_load() : 0;
}

int linux_boot_init(void)
{
	GError *err = NULL;
	gsize len;

	if (!dm_cfg.kernel)
		return 0;
	if (!g_file_get_contents(dm_cfg.kernel, (gchar **)&kernel, &len, &err)) {
		dm_log(DM_LOG_ERR, "-kernel %s: %s", dm_cfg.kernel, err->message);
		g_error_free(err);
		return -1;
	}
	kernel_len = len;
	if (kernel_len < 0x1000 || memcmp(kernel + BP_HEADER, "HdrS", 4) ||
	    (kernel[BP_VERSION] | kernel[BP_VERSION + 1] << 8) < 0x202 ||
	    (size_t)((kernel[BP_SETUP_SECTS] ? kernel[BP_SETUP_SECTS] : 4) + 1) *
	    512 >= kernel_len) {
		dm_log(DM_LOG_ERR, "-kernel %s: not a Linux bzImage (boot "
		       "protocol 2.02 or later)", dm_cfg.kernel);
		return -1;
	}
	if (!(kernel[BP_LOADFLAGS] & 1)) {
		dm_log(DM_LOG_ERR, "-kernel %s: a zImage (loaded low) is not "
		       "supported; use a bzImage", dm_cfg.kernel);
		return -1;
	}
	code32_start = rd32(kernel, BP_CODE32_START);
	if (dm_cfg.initrd) {
		if (!g_file_get_contents(dm_cfg.initrd, (gchar **)&initrd, &len,
					 &err)) {
			dm_log(DM_LOG_ERR, "-initrd %s: %s", dm_cfg.initrd,
			       err->message);
			g_error_free(err);
			return -1;
		}
		initrd_len = len;
	}
	return linux_boot_load();
}
