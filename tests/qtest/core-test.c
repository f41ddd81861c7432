/*
 * The device model's core over qtest: I/O dispatch (widths, splitting,
 * unclaimed ranges), guest memory, the virtual clock, interrupt intercept,
 * fw_cfg, the protocol's behaviour on bad input, QMP, and how qemu-dm
 * ends (SIGTERM, client gone, quit).
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define MMIO 0xfeb00000ull

static void test_port_widths(struct qts *q)
{
	qts_outl(q, 0xe0, 0x12345678);
	test_check("pio/dword-read-back", qts_inl(q, 0xe0) == 0x12345678,
		   "got %#x", qts_inl(q, 0xe0));
	test_check("pio/byte-of-dword", qts_inb(q, 0xe1) == 0x56,
		   "got %#x", qts_inb(q, 0xe1));
	test_check("pio/word-of-dword", qts_inw(q, 0xe2) == 0x1234,
		   "got %#x", qts_inw(q, 0xe2));
	qts_outb(q, 0xe3, 0xab);
	test_check("pio/byte-write-merges", qts_inl(q, 0xe0) == 0xab345678,
		   "got %#x", qts_inl(q, 0xe0));
	test_check("pio/unclaimed-reads-ones",
		   qts_inl(q, 0x9f0) == 0xffffffff && qts_inb(q, 0x9f3) == 0xff,
		   "got %#x", qts_inl(q, 0x9f0));
	/* A dword at 0xdf spans a hole and the scratch register's first
	 * three bytes: each piece goes to its owner. */
	test_check("pio/access-spanning-hole",
		   qts_inl(q, 0xdf) == 0x345678ff, "got %#x",
		   qts_inl(q, 0xdf));
	/* The stream port's counter moves once per access, whatever its
	 * width: a dword is one access, not four. */
	qts_outl(q, 0xe8, 0);
	qts_inl(q, 0xe4);
	qts_inw(q, 0xe4);
	test_check("pio/one-access-per-read", qts_inb(q, 0xe4) == 2,
		   "counter did not advance once per access");
}

static void test_mmio_widths(struct qts *q)
{
	qts_writeq(q, MMIO + 8, 0x1122334455667788ull);
	test_check("mmio/qword", qts_readq(q, MMIO + 8) == 0x1122334455667788ull,
		   "got %#llx", (unsigned long long)qts_readq(q, MMIO + 8));
	test_check("mmio/dword", qts_readl(q, MMIO + 12) == 0x11223344,
		   "got %#x", qts_readl(q, MMIO + 12));
	test_check("mmio/word", qts_readw(q, MMIO + 10) == 0x5566, "got %#x",
		   qts_readw(q, MMIO + 10));
	qts_writeb(q, MMIO + 9, 0xee);
	test_check("mmio/byte", qts_readb(q, MMIO + 9) == 0xee &&
		   qts_readq(q, MMIO + 8) == 0x112233445566ee88ull, "got %#llx",
		   (unsigned long long)qts_readq(q, MMIO + 8));
	test_check("mmio/unclaimed-reads-ones",
		   qts_readl(q, 0xfea00000) == 0xffffffff, "got %#x",
		   qts_readl(q, 0xfea00000));
}

static void test_memory(struct qts *q)
{
	uint8_t buf[300], back[300];
	const char *r;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	qts_memwrite(q, 0x10000, buf, sizeof(buf));
	qts_memread(q, 0x10000, back, sizeof(back));
	test_check("mem/write-read", !memcmp(buf, back, sizeof(buf)),
		   "data differs");
	test_check("mem/readl-little-endian",
		   qts_readl(q, 0x10000) == 0x160f0801u, "got %#x",
		   qts_readl(q, 0x10000));
	r = qts_cmd(q, "b64write 0x20000 3 AQID");
	test_check("mem/b64write", !strcmp(r, "OK") &&
		   qts_readl(q, 0x20000) == 0x030201, "%s", r);
	r = qts_cmd(q, "b64read 0x20000 3");
	test_check("mem/b64read", !strcmp(r, "OK AQID"), "%s", r);
	r = qts_cmd(q, "memset 0x20000 2 0x5a");
	test_check("mem/memset", !strcmp(r, "OK") &&
		   qts_readl(q, 0x20000) == 0x035a5a, "%s", r);
	/* Beyond RAM (128 MiB) nothing is there: reads are ones. */
	test_check("mem/beyond-ram", qts_readl(q, 0x9000000) == 0xffffffff,
		   "got %#x", qts_readl(q, 0x9000000));
}

static void test_clock_irq(struct qts *q)
{
	const char *r = qts_cmd(q, "clock_step");

	test_check("clock/step-next-without-deadline",
		   !strncmp(r, "FAIL cannot advance clock", 25), "%s", r);
	test_check("clock/step", qts_clock_step(q, 1000) == 1000 &&
		   qts_clock_step(q, 500) == 1500, "clock did not advance");
	r = qts_cmd(q, "clock_set 1000");
	test_check("clock/set-backwards-fails", !strcmp(r, "FAIL 1000"), "%s",
		   r);
	r = qts_cmd(q, "clock_set 5000");
	test_check("clock/set", !strcmp(r, "OK 5000"), "%s", r);

	qts_irq_intercept(q);
	r = qts_cmd(q, "irq_intercept_in ioapic");
	test_check("irq/intercept-twice", !strcmp(r,
		   "FAIL IRQ intercept already enabled"), "%s", r);
	qts_outb(q, 0x4e0, 0x80 | 10);
	test_check("irq/raise", qts_get_irq(q, 10), "line 10 not raised");
	qts_outb(q, 0x4e0, 10);
	test_check("irq/lower", !qts_get_irq(q, 10), "line 10 still high");
	r = qts_cmd(q, "outb 0x4e0 0x4b");   /* pulse 11 */
	test_check("irq/pulse-ends-low", !strcmp(r, "OK") &&
		   !qts_get_irq(q, 11), "%s", r);
}

static void test_fw_cfg(struct qts *q)
{
	char sig[5] = { 0 };
	uint32_t count;
	bool e820 = false;

	qts_outw(q, 0x510, 0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)qts_inb(q, 0x511);
	test_check("fw_cfg/signature", !strcmp(sig, "QEMU"), "got '%s'", sig);
	qts_outw(q, 0x510, 0x0003);
	uint64_t ram = 0;
	for (int i = 0; i < 8; i++)
		ram |= (uint64_t)qts_inb(q, 0x511) << (8 * i);
	test_check("fw_cfg/ram-size", ram == 128ull << 20, "got %llu",
		   (unsigned long long)ram);
	qts_outw(q, 0x510, 0x0005);
	test_check("fw_cfg/cpus", qts_inb(q, 0x511) == 2, "wrong CPU count");
	/* The file directory: a big-endian count, then 64-byte entries. */
	qts_outw(q, 0x510, 0x0019);
	count = 0;
	for (int i = 0; i < 4; i++)
		count = count << 8 | qts_inb(q, 0x511);
	for (uint32_t f = 0; f < count && f < 64; f++) {
		char name[57] = { 0 };

		for (int i = 0; i < 8; i++)
			qts_inb(q, 0x511);
		for (int i = 0; i < 56; i++)
			name[i] = (char)qts_inb(q, 0x511);
		if (!strcmp(name, "etc/e820"))
			e820 = true;
	}
	test_check("fw_cfg/file-dir-has-e820", e820, "%u files, no etc/e820",
		   count);

	/* The DMA interface: a big-endian descriptor in guest memory, its
	 * address written to 0x514 (high half) and 0x518 (low half). */
	uint8_t d[16] = { 0, 0, 0, 0x0a,        /* key 0, SELECT | READ */
			  0, 0, 0, 4,            /* length */
			  0, 0, 0, 0, 0, 0, 0x40, 0x00 };   /* address 0x4000 */
	char got[5] = { 0 };
	qts_memwrite(q, 0x3000, d, sizeof(d));
	qts_outl(q, 0x514, 0);
	qts_outl(q, 0x518, __builtin_bswap32(0x3000));
	qts_memread(q, 0x4000, got, 4);
	test_check("fw_cfg/dma-read", !strcmp(got, "QEMU") &&
		   qts_readl(q, 0x3000) == 0, "got '%s', control %#x", got,
		   qts_readl(q, 0x3000));
	/* A destination outside RAM: the error bit, nothing written. */
	d[3] = 0x0a;
	d[8] = 0x10;                                /* 0x1000_0000_0000_4000 */
	qts_memwrite(q, 0x3000, d, sizeof(d));
	qts_outl(q, 0x514, 0);
	qts_outl(q, 0x518, __builtin_bswap32(0x3000));
	test_check("fw_cfg/dma-bad-address-error",
		   qts_readl(q, 0x3000) & __builtin_bswap32(1), "control %#x",
		   qts_readl(q, 0x3000));
}

static void test_bad_input(struct qts *q)
{
	static const char *const bad[] = {
		"outb", "outb 0x80", "outb 0x10000 1", "inb zz", "readl",
		"read 0x1000 0", "read 0x1000 99999999999", "write 0x1000 4 0x",
		"write 0x1000 2 0xzz", "memset 0x1000 4 300", "clock_set -5",
		"b64read 0 0", "irq_intercept_in",
	};
	bool all_err = true;
	const char *r;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		r = qts_cmd(q, "%s", bad[i]);
		if (strncmp(r, "ERR", 3) && strncmp(r, "FAIL", 4)) {
			test_fail("qtest/malformed-lines-refused", "'%s' -> '%s'",
				  bad[i], r);
			all_err = false;
		}
	}
	if (all_err)
		test_pass("qtest/malformed-lines-refused");
	r = qts_cmd(q, "frobnicate 1 2");
	test_check("qtest/unknown-command",
		   !strcmp(r, "FAIL Unknown command 'frobnicate'"), "%s", r);
	test_check("qtest/still-serving", qts_inl(q, 0xe0) == 0xab345678,
		   "scratch register lost");
}

static void test_qmp(struct qts *q)
{
	const char *r;

	r = qts_qmp(q, "{\"execute\": \"query-status\", \"id\": 7}");
	test_check("qmp/query-status", strstr(r, "\"running\":true") &&
		   strstr(r, "\"id\":7"), "%s", r);
	r = qts_qmp_raw(q, "{\"execute\": }\n");
	test_check("qmp/bad-json", strstr(r, "GenericError") != NULL, "%s", r);
	r = qts_qmp_raw(q, "[1, 2]\n");
	test_check("qmp/not-an-object", strstr(r, "\"error\"") != NULL, "%s", r);
	r = qts_qmp(q, "{\"execute\": \"no-such-command\"}");
	test_check("qmp/unknown-command", strstr(r, "CommandNotFound") != NULL,
		   "%s", r);
	r = qts_qmp(q, "{\"execute\": \"stop\"}");
	test_check("qmp/stop", strstr(r, "\"return\"") &&
		   qts_qmp_event(q, "STOP", 5000) &&
		   strstr(qts_qmp(q, "{\"execute\": \"query-status\"}"),
			  "\"paused\""), "stop failed");
	r = qts_qmp(q, "{\"execute\": \"cont\"}");
	test_check("qmp/cont", qts_qmp_event(q, "RESUME", 5000) != NULL,
		   "no RESUME event");
	r = qts_qmp(q, "{\"execute\": \"system_powerdown\"}");
	test_check("qmp/system_powerdown-event",
		   qts_qmp_event(q, "POWERDOWN", 5000) != NULL,
		   "no POWERDOWN event");
	r = qts_qmp(q, "{\"execute\": \"query-version\"}");
	test_check("qmp/query-version", strstr(r, "\"major\"") != NULL, "%s", r);
	test_check("qmp/still-serving",
		   strstr(qts_qmp(q, "{\"execute\": \"query-name\"}"),
			  "\"return\"") != NULL, "no reply");
}

/* Run qemu-dm with args; return its exit status and first stderr line. */
static int run_dm(const char *args, char *err, size_t errlen)
{
	char *cmd = g_strdup_printf("bin/qemu-dm %s 2>&1 >/dev/null", args);
	FILE *p = popen(cmd, "r");
	int st;

	err[0] = '\0';
	if (p) {
		if (!fgets(err, (int)errlen, p))
			err[0] = '\0';
		while (fgetc(p) != EOF)
			;
		st = pclose(p);
	} else {
		st = -1;
	}
	g_free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_command_line(void)
{
	static const struct {
		const char *name, *args, *want;
	} cases[] = {
		{ "cli/unknown-option", "-frobnicate", "invalid option" },
		{ "cli/missing-argument", "-m", "requires an argument" },
		{ "cli/zero-memory", "-m 0 -qtest stdio", "at least 1 MiB" },
		{ "cli/huge-memory", "-m 100000G -qtest stdio", "more than this host" },
		{ "cli/bad-size", "-m 12Q -qtest stdio", "expected a size" },
		{ "cli/zero-vcpus", "-smp 0 -qtest stdio", "must be 1 to" },
		{ "cli/too-many-vcpus", "-smp 65 -qtest stdio", "must be 1 to" },
		{ "cli/missing-kernel", "-kernel /nonexistent/vmlinuz -qtest stdio",
		  "No such file" },
		{ "cli/missing-bios", "-bios /nonexistent/bios.bin -qtest stdio",
		  "No such file" },
		{ "cli/unknown-device", "-device frob -qtest stdio </dev/null",
		  "unknown device type" },
	};
	char err[512];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int st = run_dm(cases[i].args, err, sizeof(err));

		test_check(cases[i].name, st == 1 && strstr(err, cases[i].want),
			   "status %d, message '%s'", st, g_strchomp(err));
	}
}

static void test_endings(void)
{
	struct qts *q;
	int st;

	q = qts_start("-device hvm-testdev");
	st = q ? qts_quit(q) : -1;
	test_check("exit/sigterm-status-0", st == 0, "status %d", st);

	q = qts_start("-device hvm-testdev");
	if (q) {
		qts_qmp(q, "{\"execute\": \"quit\"}");
		st = qts_wait_exit(q, 10000);
		qts_quit(q);
	}
	test_check("exit/qmp-quit", q && st == 0, "status %d", st);

	q = qts_start("-device hvm-testdev");
	if (q) {
		qts_outb(q, 0x4e1, 0);   /* the test device's power-off */
		st = qts_wait_exit(q, 10000);
		qts_quit(q);
	}
	test_check("exit/guest-poweroff-status-0", q && st == 0, "status %d",
		   st);

	/* The argument line of newer QEMU libqtest versions. */
	q = qts_start("-machine pc -audio none -run-with exit-with-parent=on "
		      "-device hvm-testdev");
	if (q) {
		qts_outl(q, 0xe0, 0xfeedbeef);
		st = qts_inl(q, 0xe0) == 0xfeedbeef ? 0 : -1;
		st = qts_quit(q) | st;
	}
	test_check("qtest/libqtest-argument-line", q && st == 0, "status %d", st);

	/* 0xcf9: a reset request; with -no-reboot qemu-dm exits 0, without
	 * it the machine resets (a RESET event) and keeps running. */
	q = qts_start("-no-reboot");
	if (q) {
		qts_outb(q, 0xcf9, 0x06);
		st = qts_wait_exit(q, 10000);
		qts_quit(q);
	}
	test_check("reset/cf9-no-reboot-exits-0", q && st == 0, "status %d", st);
	q = qts_start("");
	if (q) {
		qts_outb(q, 0xcf9, 0x06);
		st = qts_qmp_event(q, "RESET", 10000) != NULL &&
		     qts_inb(q, 0xcf9) == 0 ? 0 : -1;
		qts_quit(q);
	}
	test_check("reset/cf9-resets", q && st == 0, "no RESET event");

	/* The reset is finished before the next command runs, even when
	 * that command is already waiting (a replayed trace): the i8042's
	 * command byte, set to 0x30, reads back as after power-on. */
	FILE *rp = popen("printf 'outb 0x64 0x60\\noutb 0x60 0x30\\n"
			"outb 0xcf9 0x06\\noutb 0x64 0x20\\ninb 0x60\\n' | "
			"bin/qemu-dm -qtest stdio 2>/dev/null", "r");
	char rline[64], last[64] = "";

	while (rp && fgets(rline, sizeof(rline), rp))
		memcpy(last, rline, sizeof(last));
	st = rp ? pclose(rp) : -1;
	test_check("reset/cf9-done-before-next-command",
		   st == 0 && !strcmp(last, "OK 0x0043\n"),
		   "status %d, command byte read '%s'", st, last);

	/* A qtest client that goes away ends qemu-dm cleanly. */
	char err[256];
	st = run_dm("-qtest stdio -device hvm-testdev </dev/null", err,
		    sizeof(err));
	test_check("exit/client-gone", st == 0, "status %d: %s", st, err);

	/* A recorded trace replays from standard input. */
	FILE *p = popen("printf 'outl 0xe0 0x1234\\ninw 0xe0\\n' | "
			"bin/qemu-dm -qtest stdio -device hvm-testdev", "r");
	char line[64] = "", line2[64] = "";
	if (p) {
		if (!fgets(line, sizeof(line), p) ||
		    !fgets(line2, sizeof(line2), p))
			line2[0] = '\0';
		pclose(p);
	}
	test_check("qtest/stdio-trace", !strcmp(line2, "OK 0x1234\n"),
		   "got '%s'", line2);
}

int main(void)
{
	struct qts *q = qts_start("-smp 2 -device hvm-testdev");

	if (!q) {
		test_fail("qtest/start", "qemu-dm did not start");
		return 1;
	}
	test_port_widths(q);
	test_mmio_widths(q);
	test_memory(q);
	test_clock_irq(q);
	test_fw_cfg(q);
	test_bad_input(q);
	test_qmp(q);
	qts_quit(q);
	test_command_line();
	test_endings();
	return test_exit();
}
