/*
 * Drives from the command line and QMP: the errors a person sees for bad
 * images and options, image locking against a second qemu-dm and against
 * QEMU's qemu-img, and media change (query-block, eject, change,
 * blockdev-change-medium, the tray commands) with its events.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

static char *dir;

static char *make_image(const char *name, size_t size, unsigned char fill)
{
	char *path = g_build_filename(dir, name, NULL);
	unsigned char *buf = g_malloc0(size + 1);

	memset(buf, fill, size);
	if (!g_file_set_contents(path, (char *)buf, (gssize)size, NULL)) {
		printf("FAIL: drive: cannot write %s\n", path);
		exit(1);
	}
	g_free(buf);
	return path;
}

/* Run qemu-dm in qtest mode with args; its exit status and stderr. */
static int run_dm(const char *args, char **err)
{
	char *cmd = g_strdup_printf("bin/qemu-dm -machine accel=qtest -qtest "
				    "stdio -display none %s", args);
	char *out = NULL;
	int status = -1;
	GError *e = NULL;

	if (!g_spawn_command_line_sync(cmd, &out, err, &status, &e)) {
		*err = g_strdup(e->message);
		g_error_free(e);
	}
	g_free(out);
	g_free(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* qemu-dm refuses args with exit status 1 and a message containing want. */
static void expect_refused(const char *name, const char *args, const char *want)
{
	char *err = NULL;
	int st = run_dm(args, &err);

	test_check(name, st == 1 && err && strstr(err, want),
		   "exit %d, stderr: %s (wanted \"%s\")", st, err ? err : "",
		   want);
	g_free(err);
}

/* expect_refused with the arguments made from a format and one value. */
static void refused_with(const char *name, const char *fmt, const char *arg,
			 const char *want)
{
	char *args = g_strdup_printf(fmt, arg);

	expect_refused(name, args, want);
	g_free(args);
}

static void test_bad_input(const char *img)
{
	char *empty = make_image("empty.img", 0, 0);
	char *two = g_strdup_printf("-hdc %s -cdrom %s", img, img);

	expect_refused("drive/missing-file",
		       "-drive file=/nonexistent/disk.img,if=ide",
		       "/nonexistent/disk.img: no such file");
	refused_with("drive/directory", "-drive file=%s,if=ide", dir,
		     "is a directory");
	refused_with("drive/empty-image", "-hda %s", empty,
		     "is empty (0 bytes)");
	refused_with("drive/bad-interface", "-drive file=%s,if=virtio", img,
		     "if=virtio");
	refused_with("drive/bad-index", "-drive file=%s,index=7", img,
		     "index=7");
	refused_with("drive/unknown-key", "-drive file=%s,bogus=1", img,
		     "'bogus' is not a -drive option");
	refused_with("drive/bad-cache", "-drive file=%s,cache=fast", img,
		     "cache=fast");
	refused_with("drive/unknown-format", "-drive file=%s,format=qcow9", img,
		     "format=qcow9");
	expect_refused("drive/cdrom-over-hdc", two, "IDE index 2");
	expect_refused("drive/disk-without-file", "-drive if=ide,media=disk",
		       "a disk needs file=");
	g_free(two);
	g_free(empty);
}

/* An image in a format we cannot read yet is refused by name, not shown
 * to the guest as raw. */
static void test_foreign_format(void)
{
	char *q = g_build_filename(dir, "q.qcow2", NULL);
	char *cmd = g_strdup_printf("qemu-img create -q -f qcow2 %s 16M", q);
	char *args;
	int st = -1;

	if (!g_spawn_command_line_sync(cmd, NULL, NULL, &st, NULL) || st) {
		test_skip("drive/qcow2-refused-by-name", "qemu-img missing "
			  "(Debian package qemu-utils)");
		goto out;
	}
	args = g_strdup_printf("-hda %s", q);
	expect_refused("drive/qcow2-refused-by-name", args,
		       "is a qcow2 image, which qemu-dm cannot read");
	g_free(args);
out:
	g_free(cmd);
	g_free(q);
}

/* Does another open file description hold QEMU's write-permission lock
 * byte on path? */
static bool write_locked(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 101, .l_len = 1 };
	bool held;

	if (fd < 0)
		return false;
	held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

static void own_group(gpointer p)
{
	(void)p;
	setpgid(0, 0);
}

static bool contains(const char *s, const char *want)
{
	return s && strstr(s, want);
}

/* A second writer is refused, and so are a reader while one writes and
 * QEMU's qemu-io (the locks are QEMU's byte-range locks); QEMU holding
 * the image keeps qemu-dm out.  Two readers of one ISO are fine. */
static void test_locking(const char *img, const char *iso)
{
	char *args = g_strdup_printf("-hda %s", img);
	struct qts *q = qts_start(args);
	char *cmd, *err = NULL, *out = NULL;
	int st = -1;

	if (!q) {
		test_fail("drive/lock", "qemu-dm did not start");
		return;
	}
	expect_refused("drive/lock-second-writer", args, "in use by another");
	g_free(args);
	args = g_strdup_printf("-drive file=%s,readonly=on", img);
	expect_refused("drive/lock-reader-while-writing", args,
		       "is open for writing by another");
	g_free(args);
	/* QEMU's own tools see our lock (qemu-io opens read-write). */
	cmd = g_strdup_printf("qemu-io -f raw -c \"read 0 512\" %s", img);
	if (g_spawn_command_line_sync(cmd, &out, &err, &st, NULL) &&
	    WIFEXITED(st) && WEXITSTATUS(st) != 127) {
		test_check("drive/lock-seen-by-qemu-io",
			   st != 0 && contains(err, "Failed to get \"write\" lock"),
			   "qemu-io wrote to an image qemu-dm writes: %s %s",
			   out ? out : "", err ? err : "");
	} else {
		test_skip("drive/lock-seen-by-qemu-io", "qemu-io missing "
			  "(Debian package qemu-utils)");
	}
	g_free(cmd);
	g_free(out);
	g_free(err);
	qts_quit(q);

	/* Released at exit: a new writer gets it. */
	args = g_strdup_printf("-hda %s", img);
	q = qts_start(args);
	test_check("drive/lock-released-at-exit", q != NULL,
		   "second start failed");
	if (q)
		qts_quit(q);
	g_free(args);

	/* QEMU's qemu-io holding the image (it waits on its standard input
	 * for commands) keeps qemu-dm out. */
	{
		char *argv[] = { "sh", "-c", NULL, NULL };
		GPid pid;
		bool refused = false;

		argv[2] = g_strdup_printf("sleep 20 | exec qemu-io -f raw %s", img);
		if (access("/usr/bin/qemu-io", X_OK) != 0) {
			test_skip("drive/lock-held-by-qemu-io", "qemu-io missing "
				  "(Debian package qemu-utils)");
		} else if (g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
					 G_SPAWN_STDOUT_TO_DEV_NULL, own_group, NULL,
					 &pid, NULL)) {
			char *e = NULL;

			args = g_strdup_printf("-hda %s", img);
			/* qemu-io takes its lock a moment after it starts:
			 * wait until someone holds byte 101 (QEMU's lock
			 * byte for write permission), then try once. */
			for (int i = 0; i < 200 && !write_locked(img); i++)
				g_usleep(50000);
			refused = run_dm(args, &e) == 1 &&
				  contains(e, "by another guest or program");
			g_free(e);
			test_check("drive/lock-held-by-qemu-io", refused,
				   "qemu-dm opened an image qemu-io writes");
			kill(-pid, SIGTERM);
			waitpid(pid, NULL, 0);
			g_spawn_close_pid(pid);
			g_free(args);
		}
		g_free(argv[2]);
	}

	/* Two guests may share one read-only ISO. */
	args = g_strdup_printf("-cdrom %s", iso);
	q = qts_start(args);
	if (q) {
		struct qts *q2 = qts_start(args);

		test_check("drive/lock-two-readers", q2 != NULL,
			   "second reader refused");
		if (q2)
			qts_quit(q2);
		qts_quit(q);
	} else {
		test_fail("drive/lock-two-readers", "first reader failed");
	}
	g_free(args);
}

static void test_media_change(const char *img, const char *iso,
			      const char *iso2)
{
	char *args = g_strdup_printf("-hda %s -cdrom %s", img, iso);
	struct qts *q = qts_start(args);
	const char *r;
	char *want;

	g_free(args);
	if (!q) {
		test_fail("drive/media", "qemu-dm did not start");
		return;
	}
	r = qts_qmp(q, "{\"execute\": \"query-block\"}");
	want = g_strdup_printf("\"file\":\"%s\"", iso);
	test_check("drive/query-block-lists-drives",
		   contains(r, "\"device\":\"ide0-hd0\"") &&
		   contains(r, "\"device\":\"ide1-cd0\"") && contains(r, want) &&
		   contains(r, "\"tray_open\":false"),
		   "%s", r);
	g_free(want);
	r = qts_qmp(q, "{\"execute\": \"eject\", \"arguments\": "
		    "{\"device\": \"ide0-hd0\"}}");
	test_check("drive/eject-disk-refused",
		   contains(r, "is not removable"), "%s", r);
	r = qts_qmp(q, "{\"execute\": \"eject\", \"arguments\": "
		    "{\"device\": \"ide9-cd9\"}}");
	test_check("drive/eject-unknown-device",
		   contains(r, "Device 'ide9-cd9' not found"), "%s", r);
	r = qts_qmp(q, "{\"execute\": \"eject\", \"arguments\": "
		    "{\"device\": \"ide1-cd0\"}}");
	test_check("drive/eject", contains(r, "\"return\""), "%s", r);
	r = qts_qmp_event(q, "DEVICE_TRAY_MOVED", 2000);
	test_check("drive/eject-event", contains(r, "\"tray-open\": true"),
		   "%s", r ? r : "no event");
	r = qts_qmp(q, "{\"execute\": \"query-block\"}");
	test_check("drive/ejected-is-empty",
		   contains(r, "\"tray_open\":true") &&
		   !contains(r, iso), "%s", r);
	r = qts_qmp(q, "{\"execute\": \"blockdev-change-medium\", "
		    "\"arguments\": {\"id\": \"ide1-cd0\", \"filename\": "
		    "\"/nonexistent.iso\"}}");
	test_check("drive/change-missing-file",
		   contains(r, "/nonexistent.iso: no such file"), "%s", r);
	r = qts_qmp(q, "{\"execute\": \"blockdev-change-medium\", "
		    "\"arguments\": {\"id\": \"ide1-cd0\", \"filename\": "
		    "\"%s\", \"format\": \"raw\"}}", iso2);
	test_check("drive/change-medium", contains(r, "\"return\""), "%s", r);
	r = qts_qmp(q, "{\"execute\": \"query-block\"}");
	want = g_strdup_printf("\"file\":\"%s\"", iso2);
	test_check("drive/changed-medium-inserted",
		   contains(r, want) && contains(r, "\"tray_open\":false"),
		   "%s", r);
	g_free(want);
	r = qts_qmp(q, "{\"execute\": \"change\", \"arguments\": "
		    "{\"device\": \"ide1-cd0\", \"target\": \"%s\"}}", iso);
	want = g_strdup_printf("\"file\":\"%s\"", iso);
	test_check("drive/change-old-form", contains(r, "\"return\"") &&
		   contains(qts_qmp(q, "{\"execute\": \"query-block\"}"), want),
		   "%s", r);
	g_free(want);
	r = qts_qmp(q, "{\"execute\": \"blockdev-change-medium\", "
		    "\"arguments\": {\"id\": \"ide1-cd0\", \"filename\": "
		    "\"%s\", \"read-only-mode\": \"read-write\"}}", iso2);
	test_check("drive/cdrom-stays-read-only",
		   contains(r, "read-only"), "%s", r);
	qts_quit(q);

	/* The IDE function is PIIX3's, or PIIX4's on request. */
	q = qts_start("-device piix4-ide");
	test_check("drive/piix4-ide-ids", q &&
		   qts_pci_read(q, (1 << 3) | 1, 0, 4) == 0x71118086,
		   "00:01.1 is not 8086:7111");
	if (q)
		qts_quit(q);
	q = qts_start("");
	test_check("drive/piix3-ide-by-default", q &&
		   qts_pci_read(q, (1 << 3) | 1, 0, 4) == 0x70108086,
		   "00:01.1 is not 8086:7010");
	if (q)
		qts_quit(q);

	/* An empty CD-ROM drive is a drive without a medium. */
	q = qts_start("-drive if=ide,index=2,media=cdrom");
	r = q ? qts_qmp(q, "{\"execute\": \"query-block\"}") : NULL;
	test_check("drive/empty-cdrom", contains(r, "\"device\":\"ide1-cd0\"") &&
		   !contains(r, "inserted"), "%s", r ? r : "did not start");
	if (q)
		qts_quit(q);
}

int main(void)
{
	char tmpl[] = "/tmp/drive-test.XXXXXX";
	char *img, *iso, *iso2, *cmd;

	dir = mkdtemp(tmpl);
	if (!dir) {
		printf("FAIL: drive: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	img = make_image("disk.img", 1 << 20, 0);
	iso = make_image("a.iso", 2048 * 16, 'a');
	iso2 = make_image("b.iso", 2048 * 32, 'b');
	test_bad_input(img);
	test_foreign_format();
	test_locking(img, iso);
	test_media_change(img, iso, iso2);
	cmd = g_strdup_printf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "drive-test: could not remove %s\n", dir);
	g_free(cmd);
	g_free(img);
	g_free(iso);
	g_free(iso2);
	return test_exit();
}
