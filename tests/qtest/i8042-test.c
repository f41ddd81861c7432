/*
 * i8042 over qtest: controller self-test and interface tests, the command
 * byte, keyboard reset/echo/identify with IRQ 1, mouse reset, identify,
 * status and a remote-mode packet with IRQ 12, the A20 bit of the output
 * port, and machine reset through the 0xfe pulse and port 0x92.  Also the
 * debug console at 0x402 (-debugcon file:).  Controller replies arrive even
 * with both interfaces disabled, as Linux's probe needs.
 */
#include <glib.h>
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static struct qts *q;

static uint8_t rd(void)
{
	for (int i = 0; i < 10 && !(qts_inb(q, 0x64) & 1); i++)
		;
	return qts_inb(q, 0x60);
}

static void cmd(uint8_t c)
{
	qts_outb(q, 0x64, c);
}

int main(void)
{
	char *dir = g_dir_make_tmp("kbd-XXXXXX", NULL);
	char *log = g_build_filename(dir, "debugcon.txt", NULL);
	char *args = g_strdup_printf("-debugcon file:%s", log);
	gchar *text = NULL;
	int st;

	q = qts_start(args);
	if (!q) {
		test_fail("i8042/start", "qemu-dm did not start");
		return 1;
	}
	qts_irq_intercept(q);
	cmd(0xaa);
	test_check("i8042/self-test", rd() == 0x55 && (qts_inb(q, 0x64) & 4),
		   "no 0x55 / SYS flag");
	cmd(0xab);
	test_check("i8042/kbd-interface-test", rd() == 0x00, "kbd test");
	cmd(0xa9);
	test_check("i8042/aux-interface-test", rd() == 0x00, "aux test");
	cmd(0x20);
	uint8_t cb = rd();
	cmd(0x60);
	qts_outb(q, 0x60, cb & ~0x03);                /* interrupts off */
	cmd(0x20);
	test_check("i8042/command-byte", rd() == (cb & ~0x03), "not stored");
	/* Linux reads the command byte and loops bytes back through 0xd2 and
	 * 0xd3 with both interfaces disabled: controller output must still
	 * reach the output buffer. */
	cmd(0x60);
	qts_outb(q, 0x60, 0x74);        /* translate, both off, SYS, no IRQs */
	cmd(0x20);
	test_check("i8042/ctr-read-ports-disabled",
		   (qts_inb(q, 0x64) & 0x01) && qts_inb(q, 0x60) == 0x74,
		   "no reply while the keyboard is disabled");
	cmd(0xd3);
	qts_outb(q, 0x60, 0x5a);
	uint8_t sr = qts_inb(q, 0x64);
	test_check("i8042/aux-loop-ports-disabled",
		   (sr & 0x21) == 0x21 && qts_inb(q, 0x60) == 0x5a,
		   "status %#x", sr);
	cmd(0xd2);
	qts_outb(q, 0x60, 0x3c);
	sr = qts_inb(q, 0x64);
	test_check("i8042/kbd-loop-ports-disabled",
		   (sr & 0x21) == 0x01 && qts_inb(q, 0x60) == 0x3c,
		   "status %#x", sr);
	cmd(0x60);
	qts_outb(q, 0x60, cb | 0x03);

	qts_outb(q, 0x60, 0xff);                      /* keyboard reset */
	bool irq1 = qts_get_irq(q, 1);
	test_check("i8042/kbd-reset-irq1", irq1 && rd() == 0xfa && rd() == 0xaa,
		   "reset reply / IRQ 1");
	/* Each byte is its own interrupt: reading one with another queued
	 * must lower and raise IRQ 1 again, or an edge-triggered PIC never
	 * sees the second (Linux reads one byte per interrupt). */
	qts_outb(q, 0x60, 0xff);
	unsigned before = qts_irq_raises(q, 1);
	uint8_t first = qts_inb(q, 0x60);
	unsigned after = qts_irq_raises(q, 1);
	bool level = qts_get_irq(q, 1);
	uint8_t second = rd();
	test_check("i8042/irq1-edge-per-byte", first == 0xfa &&
		   after == before + 1 && level && second == 0xaa,
		   "raises %u -> %u", before, after);
	qts_outb(q, 0x60, 0xee);
	test_check("i8042/kbd-echo", rd() == 0xee, "echo");
	qts_outb(q, 0x60, 0xf2);
	test_check("i8042/kbd-identify", rd() == 0xfa && rd() == 0xab &&
		   rd() == 0x41, "ID bytes");

	cmd(0xd4);
	qts_outb(q, 0x60, 0xff);                      /* mouse reset */
	test_check("i8042/mouse-reset-irq12", qts_get_irq(q, 12) &&
		   (qts_inb(q, 0x64) & 0x20) && rd() == 0xfa && rd() == 0xaa &&
		   rd() == 0x00, "mouse reset reply");
	/* IntelliMouse knock: rates 200, 100, 80 make the ID 3. */
	static const uint8_t knock[] = { 200, 100, 80 };
	for (int i = 0; i < 3; i++) {
		cmd(0xd4); qts_outb(q, 0x60, 0xf3); rd();
		cmd(0xd4); qts_outb(q, 0x60, knock[i]); rd();
	}
	cmd(0xd4);
	qts_outb(q, 0x60, 0xf2);
	test_check("i8042/mouse-intellimouse-id", rd() == 0xfa && rd() == 3,
		   "wheel ID");
	cmd(0xd4);
	qts_outb(q, 0x60, 0xe9);
	test_check("i8042/mouse-status", rd() == 0xfa && rd() == 0x00 &&
		   rd() == 2 && rd() == 80, "status bytes");
	cmd(0xd4);
	qts_outb(q, 0x60, 0xeb);                      /* read data */
	test_check("i8042/mouse-packet", rd() == 0xfa && rd() == 0x08 &&
		   rd() == 0 && rd() == 0 && rd() == 0, "empty packet");

	cmd(0xd0);
	test_check("i8042/a20-in-output-port", rd() & 0x02, "A20 off");
	qts_outb(q, 0x402, 'O');
	qts_outb(q, 0x402, 'K');
	test_check("debugcon/read-e9", qts_inb(q, 0x402) == 0xe9, "no 0xe9");
	qts_quit(q);
	test_check("debugcon/file", g_file_get_contents(log, &text, NULL, NULL) &&
		   !strcmp(text, "OK"), "got '%s'", text ? text : "");
	g_free(text);

	q = qts_start("-no-reboot");
	cmd(0xfe);                                    /* pulse reset */
	st = qts_wait_exit(q, 10000);
	qts_quit(q);
	test_check("i8042/reset-pulse", st == 0, "status %d", st);
	q = qts_start("-no-reboot");
	qts_outb(q, 0x92, 0x01);                      /* fast reset */
	st = qts_wait_exit(q, 10000);
	qts_quit(q);
	test_check("port92/fast-reset", st == 0, "status %d", st);
	/* Without -no-reboot the machine resets and keeps running, and the
	 * controller and port 0x92 come back in their power-on state. */
	q = qts_start("");
	qts_outb(q, 0x92, 0x02);                      /* A20 through 0x92 */
	cmd(0x60);
	qts_outb(q, 0x60, 0x30);                      /* both off, no IRQs */
	cmd(0xfe);
	bool reset = qts_qmp_event(q, "RESET", 10000) != NULL;
	cmd(0x20);
	uint8_t cb_after = rd();
	uint8_t p92_after = qts_inb(q, 0x92);
	test_check("i8042/reset-pulse-resets-machine",
		   reset && cb_after == 0x43 && p92_after == 0,
		   "event %d, command byte %#x, port 0x92 %#x", reset, cb_after,
		   p92_after);
	st = qts_quit(q);
	remove(log);
	rmdir(dir);
	g_free(log);
	g_free(dir);
	g_free(args);
	return test_exit();
}
