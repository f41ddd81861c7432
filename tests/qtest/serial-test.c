/*
 * 16550A UART over qtest: scratch and divisor latch, loopback data and
 * modem lines, THR-empty and receive interrupts on IRQ 4, the FIFO's
 * trigger level and character timeout, and a file back end receiving
 * what the guest transmits.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define COM1 0x3f8

int main(void)
{
	char *dir = g_dir_make_tmp("serial-XXXXXX", NULL);
	char *out = g_build_filename(dir, "com1.txt", NULL);
	char *args = g_strdup_printf("-serial file:%s", out);
	struct qts *q = qts_start(args);
	gchar *text = NULL;

	if (!q) {
		test_fail("serial/start", "qemu-dm did not start");
		return 1;
	}
	qts_irq_intercept(q);
	qts_outb(q, COM1 + 7, 0xa5);
	test_check("serial/scratch", qts_inb(q, COM1 + 7) == 0xa5, "SCR lost");

	qts_outb(q, COM1 + 3, 0x83);            /* DLAB, 8N1 */
	qts_outb(q, COM1 + 0, 0x01);
	qts_outb(q, COM1 + 1, 0x00);
	test_check("serial/divisor-latch", qts_inb(q, COM1) == 1 &&
		   qts_inb(q, COM1 + 1) == 0, "divisor not kept");
	qts_outb(q, COM1 + 0, 0x00);            /* divisor 0 is harmless */
	qts_outb(q, COM1 + 0, 0x01);            /* 115200 baud */
	qts_outb(q, COM1 + 3, 0x03);

	/* Transmit to the file back end. */
	for (const char *p = "hello\n"; *p; p++)
		qts_outb(q, COM1, (uint8_t)*p);
	test_check("serial/thr-empty-after-write",
		   (qts_inb(q, COM1 + 5) & 0x60) == 0x60, "LSR %#x",
		   qts_inb(q, COM1 + 5));

	/* THR-empty interrupt: raised when enabled, acked by reading IIR. */
	qts_outb(q, COM1 + 1, 0x02);
	test_check("serial/thri-raises-irq4", qts_get_irq(q, 4) &&
		   (qts_inb(q, COM1 + 2) & 0x0f) == 0x02, "no THRI");
	test_check("serial/iir-read-acks-thri", !qts_get_irq(q, 4) &&
		   (qts_inb(q, COM1 + 2) & 0x01), "THRI still pending");
	qts_outb(q, COM1 + 1, 0x00);

	/* Loopback: data and modem lines come back. */
	qts_outb(q, COM1 + 4, 0x10 | 0x02 | 0x01);     /* LOOP RTS DTR */
	uint8_t msr = qts_inb(q, COM1 + 6);
	test_check("serial/loopback-msr", (msr & 0xf0) == 0x30, "MSR %#x", msr);
	qts_outb(q, COM1 + 1, 0x01);                  /* RX interrupt */
	qts_outb(q, COM1, 0x5a);
	test_check("serial/loopback-rx-irq", qts_get_irq(q, 4) &&
		   (qts_inb(q, COM1 + 2) & 0x0f) == 0x04 &&
		   qts_inb(q, COM1) == 0x5a && !qts_get_irq(q, 4),
		   "no RX interrupt / data");

	/* FIFO with trigger level 4: three bytes wait for the timeout. */
	qts_outb(q, COM1 + 2, 0x47);                  /* FIFO on, clear, 4 */
	qts_outb(q, COM1, 1);
	qts_outb(q, COM1, 2);
	qts_outb(q, COM1, 3);
	bool early = qts_get_irq(q, 4);
	qts_clock_step(q, 10 * 1000 * 1000);          /* 10 ms: > 4 chars */
	test_check("serial/fifo-char-timeout", !early && qts_get_irq(q, 4) &&
		   (qts_inb(q, COM1 + 2) & 0x0f) == 0x0c, "no timeout interrupt");
	qts_inb(q, COM1);
	qts_inb(q, COM1);
	qts_inb(q, COM1);
	qts_outb(q, COM1, 4);
	qts_outb(q, COM1, 5);
	qts_outb(q, COM1, 6);
	qts_outb(q, COM1, 7);
	test_check("serial/fifo-trigger-level", qts_get_irq(q, 4) &&
		   (qts_inb(q, COM1 + 2) & 0x0f) == 0x04, "no trigger interrupt");
	for (int i = 0; i < 20; i++)                  /* overrun */
		qts_outb(q, COM1, (uint8_t)i);
	test_check("serial/overrun", (qts_inb(q, COM1 + 5) & 0x02) &&
		   !(qts_inb(q, COM1 + 5) & 0x02), "OE not reported once");
	qts_quit(q);

	test_check("serial/file-backend",
		   g_file_get_contents(out, &text, NULL, NULL) &&
		   !strcmp(text, "hello\n"), "file has '%s'", text ? text : "");
	g_free(text);
	remove(out);
	rmdir(dir);
	g_free(out);
	g_free(dir);
	g_free(args);
	return test_exit();
}
