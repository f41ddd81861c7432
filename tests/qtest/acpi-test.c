/*
 * ACPI over qtest: the tables a direct kernel boot finds (RSDP from the
 * zero page, RSDT/XSDT, FADT, FACS, MADT, DSDT: signatures, checksums,
 * the PM block addresses, one LAPIC per vCPU), the PIIX4 PM function
 * (8086:7113, PM timer at 3.579545 MHz, S5 powers off), and the power
 * button: QMP system_powerdown raises the SCI on IRQ 9.
 */
#include <glib.h>
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static struct qts *q;

static bool checksum_ok(uint64_t a, uint32_t len)
{
	uint8_t *buf = g_malloc(len), sum = 0;

	qts_memread(q, a, buf, len);
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + buf[i]);
	g_free(buf);
	return sum == 0;
}

static bool sig(uint64_t a, const char *s)
{
	char b[5] = { 0 };

	qts_memread(q, a, b, 4);
	return !memcmp(b, s, 4);
}

int main(void)
{
	char *dir = g_dir_make_tmp("acpi-XXXXXX", NULL);
	char *kpath = g_build_filename(dir, "vmlinuz", NULL);
	uint8_t img[8192] = { 0 };
	char *args;

	/* A minimal bzImage header: the loader needs one for -kernel. */
	img[0x1f1] = 1;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f; img[0x207] = 0x02;
	img[0x211] = 0x01;
	img[0x216] = 0x10;      /* code32_start 0x100000 */
	img[0x238] = 0xff;      /* cmdline_size */
	g_file_set_contents(kpath, (char *)img, sizeof(img), NULL);
	args = g_strdup_printf("-m 128 -smp 3 -kernel %s", kpath);
	q = qts_start(args);
	if (!q) {
		test_fail("acpi/start", "qemu-dm did not start");
		return 1;
	}
	uint64_t rsdp = qts_readq(q, 0x7000 + 0x70);
	test_check("acpi/rsdp", rsdp && !(rsdp & 15) &&
		   qts_readq(q, rsdp) == 0x2052545020445352ull &&
		   checksum_ok(rsdp, 20) && checksum_ok(rsdp, 36),
		   "no valid RSDP at %#llx", (unsigned long long)rsdp);
	uint32_t rsdt = qts_readl(q, rsdp + 16);
	uint64_t xsdt = qts_readq(q, rsdp + 24);
	test_check("acpi/rsdt-xsdt", sig(rsdt, "RSDT") && sig(xsdt, "XSDT") &&
		   checksum_ok(rsdt, qts_readl(q, rsdt + 4)) &&
		   checksum_ok(xsdt, qts_readl(q, xsdt + 4)), "RSDT/XSDT bad");
	uint32_t fadt = qts_readl(q, rsdt + 36), madt = qts_readl(q, rsdt + 40);
	test_check("acpi/fadt", sig(fadt, "FACP") &&
		   checksum_ok(fadt, qts_readl(q, fadt + 4)) &&
		   qts_readl(q, fadt + 56) == 0x600 &&
		   qts_readw(q, fadt + 46) == 9 &&
		   qts_readq(q, xsdt + 36) == fadt, "FADT bad");
	uint32_t dsdt = qts_readl(q, fadt + 40), facs = qts_readl(q, fadt + 36);
	test_check("acpi/dsdt-facs", sig(dsdt, "DSDT") && sig(facs, "FACS") &&
		   checksum_ok(dsdt, qts_readl(q, dsdt + 4)) &&
		   !(facs & 63), "DSDT/FACS bad");
	uint32_t mlen = qts_readl(q, madt + 4), cpus = 0;
	for (uint32_t o = 44; o + 2 <= mlen; o += qts_readb(q, madt + o + 1)) {
		if (qts_readb(q, madt + o) == 0)
			cpus++;
		if (!qts_readb(q, madt + o + 1))
			break;
	}
	test_check("acpi/madt-lapic-per-vcpu", sig(madt, "APIC") &&
		   checksum_ok(madt, mlen) && cpus == 3, "%u LAPICs", cpus);

	/* PIIX4 PM, enabled at 0x600 for the direct boot. */
	test_check("acpi/piix4-pm-id",
		   qts_pci_read(q, (1 << 3) | 3, 0, 4) == 0x71138086, "01.3 id");
	uint32_t t0 = qts_inl(q, 0x608);
	qts_clock_step(q, 1000000);                    /* 1 ms */
	uint32_t t1 = qts_inl(q, 0x608);
	test_check("acpi/pm-timer-rate", ((t1 - t0) & 0xffffff) >= 3578 &&
		   ((t1 - t0) & 0xffffff) <= 3581, "%u ticks in 1 ms",
		   (t1 - t0) & 0xffffff);
	test_check("acpi/sci-enabled", qts_inw(q, 0x604) & 1, "SCI_EN clear");

	/* Power button: status bit 8, SCI on IRQ 9 when enabled. */
	qts_irq_intercept(q);
	qts_outw(q, 0x602, 0x0100);
	qts_qmp(q, "{\"execute\": \"system_powerdown\"}");
	test_check("acpi/powerdown-raises-sci", qts_get_irq(q, 9) &&
		   (qts_inw(q, 0x600) & 0x0100), "no SCI");
	qts_outw(q, 0x600, 0x0100);                    /* clear */
	test_check("acpi/status-write-clears", !qts_get_irq(q, 9) &&
		   !(qts_inw(q, 0x600) & 0x0100), "SCI stuck");

	/* S5: SLP_TYP 0 with SLP_EN ends qemu-dm with status 0. */
	qts_outw(q, 0x604, 0x2000 | 1);
	int st = qts_wait_exit(q, 10000);
	test_check("acpi/s5-powers-off", st == 0, "status %d", st);
	qts_quit(q);
	remove(kpath);
	rmdir(dir);
	g_free(kpath);
	g_free(dir);
	g_free(args);
	return test_exit();
}
