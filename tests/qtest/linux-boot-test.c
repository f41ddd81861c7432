/*
 * Direct Linux boot's loader, checked in qtest mode against a synthetic
 * bzImage: the protected-mode part at 1 MiB, the zero page (command line,
 * initrd, e820, loader type), the initrd below initrd_addr_max, and clear
 * errors for files that are not a bzImage.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static char *write_tmp(const char *dir, const char *name, const void *data,
		       size_t len)
{
	char *path = g_build_filename(dir, name, NULL);

	g_file_set_contents(path, data, (gssize)len, NULL);
	return path;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

int main(void)
{
	char *dir = g_dir_make_tmp("lboot-XXXXXX", NULL);
	uint8_t img[1024 + 8192], rd[5000], back[64];
	char *kpath, *rpath, *bad, *args, cmd[512];
	struct qts *q;

	/* setup_sects = 1: the protected-mode part starts at 1024. */
	memset(img, 0, sizeof(img));
	img[0x1f1] = 1;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x201] = 0x70;               /* header length - 0x202 - 2 */
	img[0x206] = 0x0f; img[0x207] = 0x02;   /* protocol 2.15 */
	img[0x211] = 0x01;               /* LOADED_HIGH */
	put32(img + 0x214, 0x100000);    /* code32_start */
	put32(img + 0x22c, 0x00ffffff);  /* initrd_addr_max: 16 MiB */
	put32(img + 0x238, 2048);        /* cmdline_size */
	for (size_t i = 1024; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 11);
	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i ^ 0x5a);
	kpath = write_tmp(dir, "vmlinuz", img, sizeof(img));
	rpath = write_tmp(dir, "initrd", rd, sizeof(rd));
	bad = write_tmp(dir, "notakernel", "hello", 5);

	args = g_strdup_printf("-m 64 -kernel %s -initrd %s -append "
			       "'console=ttyS0 root=/dev/ram0'", kpath, rpath);
	q = qts_start(args);
	if (!q) {
		test_fail("linux-boot/start", "qemu-dm did not start");
		return 1;
	}
	qts_memread(q, 0x100000, back, sizeof(back));
	test_check("linux-boot/kernel-at-1MiB", !memcmp(back, img + 1024, 64),
		   "protected-mode part not at 0x100000");
	test_check("linux-boot/cmdline", qts_readl(q, 0x7000 + 0x228) == 0x20000,
		   "cmd_line_ptr %#x", qts_readl(q, 0x7000 + 0x228));
	qts_memread(q, 0x20000, back, 30);
	test_check("linux-boot/cmdline-text",
		   !memcmp(back, "console=ttyS0 root=/dev/ram0", 29) && !back[29],
		   "command line differs");
	uint32_t rimg = qts_readl(q, 0x7000 + 0x218);
	uint32_t rsize = qts_readl(q, 0x7000 + 0x21c);
	test_check("linux-boot/initrd-below-limit",
		   rsize == sizeof(rd) && rimg + rsize <= 0x1000000 &&
		   !(rimg & 0xfff), "initrd at %#x size %u", rimg, rsize);
	qts_memread(q, rimg, back, sizeof(back));
	test_check("linux-boot/initrd-contents", !memcmp(back, rd, sizeof(back)),
		   "initrd differs");
	test_check("linux-boot/loader-type",
		   qts_readb(q, 0x7000 + 0x210) == 0xff, "type_of_loader");
	uint8_t ne = qts_readb(q, 0x7000 + 0x1e8);
	uint64_t ram_top = qts_readq(q, 0x7000 + 0x2d0 + 3 * 20 + 8) + 0x100000;
	uint64_t acpi_end = qts_readq(q, 0x7000 + 0x2d0 + 4 * 20) +
			    qts_readq(q, 0x7000 + 0x2d0 + 4 * 20 + 8);
	test_check("linux-boot/e820", ne >= 5 && ram_top < 64ull << 20 &&
		   acpi_end == 64ull << 20 &&
		   qts_readl(q, 0x7000 + 0x2d0 + 4 * 20 + 16) == 3,
		   "%u entries, RAM to %#llx", ne, (unsigned long long)ram_top);
	test_check("linux-boot/gdt-boot-cs",
		   qts_readq(q, 0x6000 + 0x10) == 0x00cf9b000000ffffull,
		   "no flat code descriptor at 0x10");
	/* IDE decode on for both channels, as firmware leaves it: Linux's
	 * ata_piix ignores a channel whose IDETIM bit 15 is clear. */
	test_check("linux-boot/ide-decode-enabled",
		   (qts_pci_read(q, (1 << 3) | 1, 0x40, 4) & 0x80008000u) ==
		   0x80008000u, "IDETIM %#x",
		   qts_pci_read(q, (1 << 3) | 1, 0x40, 4));
	/* The RSDP as a BIOS leaves it (Memtest86+ scans for it): in the
	 * first KiB of the EBDA named by the BDA, checksummed, and the same
	 * table the zero page points at. */
	uint32_t ebda = (uint32_t)qts_readw(q, 0x40e) << 4;
	uint64_t zp_rsdp = qts_readq(q, 0x7000 + 0x070);
	bool found = false;
	for (uint32_t a = ebda; ebda && a < ebda + 0x400 && !found; a += 16) {
		uint8_t r[20], sum = 0;

		qts_memread(q, a, r, sizeof(r));
		for (unsigned i = 0; i < sizeof(r); i++)
			sum = (uint8_t)(sum + r[i]);
		if (!memcmp(r, "RSD PTR ", 8) && !sum)
			found = qts_readl(q, a + 16) == qts_readl(q, zp_rsdp + 16);
	}
	test_check("linux-boot/rsdp-in-ebda", found && ebda < 0xa0000,
		   "EBDA %#x: no RSDP matching the zero page's %#llx", ebda,
		   (unsigned long long)zp_rsdp);

	/* A reset (the guest's `reboot`) loads the kernel again and redoes
	 * the firmware's part after the devices reset: the PM block stays
	 * where the ACPI tables put it, or the rebooted kernel's power-off
	 * and PM timer go nowhere. */
	qts_writel(q, 0x100000, 0xdeadbeef);
	qts_qmp(q, "{\"execute\": \"system_reset\"}");
	qts_memread(q, 0x100000, back, sizeof(back));
	test_check("linux-boot/reset-reloads-kernel",
		   !memcmp(back, img + 1024, 64), "1 MiB not reloaded");
	uint32_t pmba = qts_pci_read(q, (1 << 3 | 3), 0x40, 4);
	uint32_t pmmisc = qts_pci_read(q, (1 << 3 | 3), 0x80, 1);
	uint32_t t0 = qts_inl(q, 0x608);
	qts_clock_step(q, 1000000);
	uint32_t t1 = qts_inl(q, 0x608);
	test_check("linux-boot/reset-keeps-pm-block",
		   (pmba & 0xffc0) == 0x600 && (pmmisc & 1) && t1 != t0 &&
		   t1 != 0xffffffff, "PMBA %#x PMREGMISC %#x timer %#x -> %#x",
		   pmba, pmmisc, t0, t1);
	qts_quit(q);

	snprintf(cmd, sizeof(cmd), "bin/qemu-dm -qtest stdio -kernel %s "
		 "</dev/null 2>&1", bad);
	FILE *p = popen(cmd, "r");
	char line[256] = "";
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		int st = pclose(p);
		test_check("linux-boot/not-a-bzimage",
			   WEXITSTATUS(st) == 1 && strstr(line, "not a Linux bzImage"),
			   "status %d: %s", WEXITSTATUS(st), line);
	}
	remove(kpath);
	remove(rpath);
	remove(bad);
	rmdir(dir);
	g_free(kpath);
	g_free(rpath);
	g_free(bad);
	g_free(dir);
	g_free(args);
	return test_exit();
}
