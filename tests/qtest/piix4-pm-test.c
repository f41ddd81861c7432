/*
 * PIIX4 PM (01.3) as firmware and an OS drive it, without direct kernel
 * boot: the PM block appears only once PMBA (0x40) has an address and
 * PMREGMISC (0x80) bit 0 is set, and follows PMBA when it moves; the
 * timer's overflow (bit 23 flipping) sets TMR_STS and raises the SCI when
 * TMR_EN is set (and sets TMR_STS alone when it is not); status bits clear by writing 1; sleep types other than
 * S5 do not power off; a system reset unmaps the block again.
 */
#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define PM (1 << 3 | 3)
#define BASE 0xb000
#define BASE2 0xb100

int main(void)
{
	struct qts *q = qts_start("");
	uint32_t v;

	if (!q) {
		test_fail("piix4-pm/start", "qemu-dm did not start");
		return 1;
	}
	test_check("piix4-pm/id-class", qts_pci_read(q, PM, 0, 4) == 0x71138086 &&
		   (qts_pci_read(q, PM, 8, 4) >> 8) == 0x068000 &&
		   qts_pci_read(q, PM, 0x3d, 1) == 1,
		   "id %#x class %#x", qts_pci_read(q, PM, 0, 4),
		   qts_pci_read(q, PM, 8, 4) >> 8);
	test_check("piix4-pm/unmapped-at-reset",
		   (qts_pci_read(q, PM, 0x40, 4) & 0xffc0) == 0 &&
		   qts_inw(q, 0x604) == 0xffff, "PM block decodes at reset");

	/* PMBA: I/O indicator read-only, 64-byte granularity. */
	qts_pci_write(q, PM, 0x40, BASE | 0x3e, 4);
	v = qts_pci_read(q, PM, 0x40, 4);
	test_check("piix4-pm/pmba-mask", v == (BASE | 1), "PMBA reads %#x", v);
	test_check("piix4-pm/needs-pmregmisc", qts_inw(q, BASE + 4) == 0xffff,
		   "decodes without PMREGMISC");
	qts_pci_write(q, PM, 0x80, 1, 1);
	test_check("piix4-pm/mapped", qts_inw(q, BASE + 4) & 1,
		   "PM1_CNT.SCI_EN not readable at PMBA");
	qts_pci_write(q, PM, 0x40, BASE2 | 1, 4);
	test_check("piix4-pm/pmba-move", (qts_inw(q, BASE2 + 4) & 1) &&
		   qts_inw(q, BASE + 4) == 0xffff, "block did not move");

	/* Timer overflow: TMR_STS and, with TMR_EN, the SCI on IRQ 9. */
	qts_irq_intercept(q);
	qts_outw(q, BASE2 + 2, 0x0001);
	test_check("piix4-pm/no-sci-yet", !qts_get_irq(q, 9) &&
		   !(qts_inw(q, BASE2) & 1), "SCI before any overflow");
	uint32_t t0 = qts_inl(q, BASE2 + 8) & 0xffffff;
	qts_clock_step(q, 0);                   /* to the overflow timer */
	uint32_t t1 = qts_inl(q, BASE2 + 8) & 0xffffff;
	test_check("piix4-pm/timer-overflow-sts", (qts_inw(q, BASE2) & 1) &&
		   ((t0 ^ t1) & 0x800000), "TMR_STS %#x, timer %#x -> %#x",
		   qts_inw(q, BASE2), t0, t1);
	test_check("piix4-pm/timer-overflow-sci", qts_get_irq(q, 9),
		   "no SCI on overflow");
	qts_outw(q, BASE2, 0x0001);
	test_check("piix4-pm/sts-write-one-clears",
		   !(qts_inw(q, BASE2) & 1) && !qts_get_irq(q, 9), "still set");
	qts_outw(q, BASE2 + 2, 0);
	qts_clock_step(q, 5000000000ull);       /* two overflows, masked */
	test_check("piix4-pm/masked-overflow", (qts_inw(q, BASE2) & 1) &&
		   !qts_get_irq(q, 9), "TMR_STS %#x, SCI %d with TMR_EN clear",
		   qts_inw(q, BASE2) & 1, qts_get_irq(q, 9));
	qts_outw(q, BASE2, 0xffff);
	test_check("piix4-pm/sts-all-clear", qts_inw(q, BASE2) == 0,
		   "PM1_STS %#x", qts_inw(q, BASE2));

	/* Byte access to the status register's high half (PWRBTN_STS). */
	qts_outw(q, BASE2 + 2, 0x0100);
	qts_qmp(q, "{\"execute\": \"system_powerdown\"}");
	test_check("piix4-pm/pwrbtn-byte-read",
		   qts_inb(q, BASE2 + 1) == 0x01 && qts_get_irq(q, 9),
		   "high byte %#x", qts_inb(q, BASE2 + 1));
	qts_outb(q, BASE2 + 1, 0x01);
	test_check("piix4-pm/pwrbtn-byte-clear", !(qts_inw(q, BASE2) & 0x100) &&
		   !qts_get_irq(q, 9), "PWRBTN_STS stuck");

	/* SLP_TYP 5 (not our S5) with SLP_EN: the machine keeps running. */
	qts_outw(q, BASE2 + 4, (5 << 10) | 0x2000 | 1);
	test_check("piix4-pm/other-sleep-type-ignored",
		   qts_wait_exit(q, 200) == -1 &&
		   qts_pci_read(q, PM, 0, 4) == 0x71138086, "qemu-dm exited");

	/* A system reset returns PMBA and PMREGMISC to power-on values. */
	qts_qmp(q, "{\"execute\": \"system_reset\"}");
	test_check("piix4-pm/reset-unmaps",
		   qts_pci_read(q, PM, 0x40, 4) == 1 &&
		   qts_pci_read(q, PM, 0x80, 1) == 0 &&
		   qts_inw(q, BASE2 + 4) == 0xffff, "PMBA %#x",
		   qts_pci_read(q, PM, 0x40, 4));
	qts_quit(q);
	return test_exit();
}
