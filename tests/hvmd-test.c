/*
 * hvmd and the ioreq path, end to end:
 *  - the control protocol refuses short, oversized and malformed messages
 *    and hvmd keeps serving (no /dev/kvm needed);
 *  - guest programs on the KVM backend exercise port, string, MMIO,
 *    interrupt and buffered I/O against hvm-testdev (their PASS/FAIL
 *    lines are relayed);
 *  - kill -9 of qemu-dm leaves hvmd up and the domain gone; kill -9 of
 *    hvmd makes qemu-dm exit with a clear message.
 * Each run uses a private socket directory, so it never meets a real hvmd.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvm/hvctl-client.h"
#include "hvm/ioreq.h"
#include "tests/testlib.h"

static char *dir;
static char *sock;

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm;

	if (fd < 0)
		return false;
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

static pid_t start_hvmd(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execl("bin/hvmd", "hvmd", "--socket-dir", dir, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct hvctl_conn *c;

		if (hvctl_connect(&c, sock) == 0) {
			hvctl_close(c);
			return pid;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Send raw bytes (+ optional fd) on a fresh connection; return the reply
 * status, or 1 when no well-formed reply came. */
static int raw_exchange(const void *msg, size_t len, int fd_to_pass)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct hvctl_hdr rh;
	struct timeval tv = { 5, 0 };
	ssize_t n;

	g_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd_to_pass >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd_to_pass, sizeof(int));
	}
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0) {
		close(s);
		return 1;
	}
	n = recv(s, &rh, sizeof(rh), 0);
	close(s);
	if (n != sizeof(rh) || rh.magic != HVCTL_MAGIC || rh.type != HVCTL_REPLY)
		return 1;
	return rh.status;
}

static void hdr(uint8_t *buf, uint16_t type, uint32_t len)
{
	struct hvctl_hdr h = {
		.magic = HVCTL_MAGIC, .version = HVCTL_VERSION, .type = type,
		.len = len, .seq = 42,
	};

	memcpy(buf, &h, sizeof(h));
}

static int list_count(void)
{
	struct hvctl_conn *c;
	uint8_t buf[HVCTL_MAX_MSG];
	uint32_t len = sizeof(buf);
	int ret;

	if (hvctl_connect(&c, sock) < 0)
		return -1;
	ret = hvctl_call(c, HVCTL_DOMAIN_LIST, NULL, 0, NULL, 0, buf, &len,
			 NULL, NULL);
	hvctl_close(c);
	if (ret < 0 || len < sizeof(struct hvctl_list_reply))
		return -1;
	return (int)((struct hvctl_list_reply *)buf)->count;
}

static void test_validation(pid_t hvmd)
{
	uint8_t buf[9000];
	struct hvctl_create cr;
	int st, devnull;

	memset(buf, 0, sizeof(buf));
	st = raw_exchange(buf, 3, -1);
	test_check("control/short-message-refused", st == -EPROTO, "status %d",
		   st);
	hdr(buf, HVCTL_DOMAIN_LIST, 0);
	((struct hvctl_hdr *)buf)->magic = 0xdeadbeef;
	st = raw_exchange(buf, sizeof(struct hvctl_hdr), -1);
	test_check("control/bad-magic-refused", st == -EPROTO, "status %d", st);
	hdr(buf, HVCTL_DOMAIN_LIST, 8000);
	st = raw_exchange(buf, sizeof(struct hvctl_hdr) + 8000, -1);
	test_check("control/oversized-message-refused", st == -EMSGSIZE,
		   "status %d", st);
	hdr(buf, HVCTL_DOMAIN_CREATE, 10);
	st = raw_exchange(buf, sizeof(struct hvctl_hdr) + 10, -1);
	test_check("control/wrong-body-size-refused", st == -EMSGSIZE,
		   "status %d", st);
	hdr(buf, HVCTL_DOMAIN_LIST, 4);
	st = raw_exchange(buf, sizeof(struct hvctl_hdr), -1);
	test_check("control/length-mismatch-refused", st == -EMSGSIZE,
		   "status %d", st);
	hdr(buf, 999, 0);
	st = raw_exchange(buf, sizeof(struct hvctl_hdr), -1);
	test_check("control/unknown-type-refused", st == -EOPNOTSUPP,
		   "status %d", st);
	hdr(buf, HVCTL_REPLY, 0);
	st = raw_exchange(buf, sizeof(struct hvctl_hdr), -1);
	test_check("control/reply-as-request-refused", st == -EOPNOTSUPP,
		   "status %d", st);

	struct { const char *name; uint64_t mem; uint32_t vcpus, accel;
		 bool unterminated; } bad[] = {
		{ "control/create-zero-vcpus", 64 << 20, 0, 0, false },
		{ "control/create-too-many-vcpus", 64 << 20, 65, 0, false },
		{ "control/create-zero-memory", 0, 1, 0, false },
		{ "control/create-unaligned-memory", (64 << 20) + 1, 1, 0, false },
		{ "control/create-huge-memory", 1ull << 50, 1, 0, false },
		{ "control/create-bad-accel", 64 << 20, 1, 77, false },
		{ "control/create-unterminated-name", 64 << 20, 1, 0, true },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		memset(&cr, 0, sizeof(cr));
		cr.mem_bytes = bad[i].mem;
		cr.vcpus = bad[i].vcpus;
		cr.accel = bad[i].accel;
		if (bad[i].unterminated)
			memset(cr.name, 'x', sizeof(cr.name));
		hdr(buf, HVCTL_DOMAIN_CREATE, sizeof(cr));
		memcpy(buf + sizeof(struct hvctl_hdr), &cr, sizeof(cr));
		st = raw_exchange(buf, sizeof(struct hvctl_hdr) + sizeof(cr), -1);
		test_check(bad[i].name, st == -EINVAL || st == -ENOMEM,
			   "status %d", st);
	}

	struct hvctl_domid di = { 12345, 0 };
	hdr(buf, HVCTL_DOMAIN_DESTROY, sizeof(di));
	memcpy(buf + sizeof(struct hvctl_hdr), &di, sizeof(di));
	st = raw_exchange(buf, sizeof(struct hvctl_hdr) + sizeof(di), -1);
	test_check("control/unknown-domain", st == -ESRCH, "status %d", st);

	devnull = open("/dev/null", O_RDONLY);
	hdr(buf, HVCTL_DOMAIN_LIST, 0);
	st = raw_exchange(buf, sizeof(struct hvctl_hdr), devnull);
	close(devnull);
	test_check("control/unexpected-fd-refused", st == -EBADF, "status %d",
		   st);

	/* Random garbage with a valid header shape, and without. */
	GRand *r = g_rand_new_with_seed(1234);
	for (int i = 0; i < 300; i++) {
		size_t len = (size_t)g_rand_int_range(r, 0, 600);

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)g_rand_int(r);
		if (i & 1 && len >= sizeof(struct hvctl_hdr))
			hdr(buf, (uint16_t)g_rand_int_range(r, 0, HVCTL_TYPE_MAX + 2),
			    (uint32_t)(len - sizeof(struct hvctl_hdr)));
		raw_exchange(buf, len ? len : 1, -1);
	}
	g_rand_free(r);
	test_check("control/survives-garbage", alive(hvmd) && list_count() == 0,
		   "hvmd died or lists domains");
}

/* Run qemu-dm to completion; relays the guest's PASS/FAIL lines. */
static char *last_out;         /* stdout of the last run */
static int wait_status(pid_t pid, int ms);
static int run_guest_args(const char *accel, const char *prog,
			  const char *extra, char **err_out);

static int run_guest_accel(const char *accel, const char *prog,
			   char **err_out)
{
	return run_guest_args(accel, prog, NULL, err_out);
}

static int run_guest_args(const char *accel, const char *prog,
			  const char *extra, char **err_out)
{
	/* extra: more options, separated by spaces */
	char **more = g_strsplit(extra ? extra : "", " ", 8);
	char *argv[24] = { "timeout", "120", "bin/qemu-dm", "-accel",
			   (char *)accel, "-m", "64", "-bios", (char *)prog,
			   "-device", "hvm-testdev", "-display", "none" };
	int n = 13;

	for (char **m = more; *m && n < 23; m++)
		if (**m)
			argv[n++] = *m;
	char *out = NULL, *err = NULL;
	int st = -1;
	GError *e = NULL;

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			  &out, &err, &st, &e)) {
		fprintf(stderr, "spawn: %s\n", e->message);
		g_error_free(e);
		g_strfreev(more);
		return -1;
	}
	g_strfreev(more);
	char **lines = g_strsplit(out, "\n", 0);

	for (char **p = lines; *p; p++)
		if (!strncmp(*p, "PASS: ", 6) || !strncmp(*p, "FAIL: ", 6))
			printf("%s\n", *p);
	g_strfreev(lines);
	fflush(stdout);
	g_free(last_out);
	last_out = out;
	if (err_out)
		*err_out = err;
	else
		g_free(err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_guest(const char *prog, char **err_out)
{
	return run_guest_accel("kvm", prog, err_out);
}

/* The same guest programs on the software CPU: no /dev/kvm needed. */
static void test_soft(void)
{
	static const char *const progs[] = {
		"tests/guest-progs/iotest.bin", "tests/guest-progs/modes.bin",
		"tests/guest-progs/triple.bin", "tests/guest-progs/timers.bin",
		"tests/guest-progs/pmirq.bin",
	};

	for (size_t k = 0; k < G_N_ELEMENTS(progs); k++) {
		char *err = NULL;
		char name[96];
		int st = run_guest_accel("soft", progs[k], &err);

		snprintf(name, sizeof(name), "soft/%s-powers-off",
			 strrchr(progs[k], '/') + 1);
		if (st == 1 && err && strstr(err, "no software CPU")) {
			test_skip(name, "this build has no software CPU backend "
				  "(hypervisor/irqchip not built)");
		} else {
			test_check(name, st == 0, "status %d: %s", st,
				   err ? err : "");
		}
		g_free(err);
	}
}

/* Nothing runs after power-off: the program writes 'x' to the console
 * right after the power-off access; none may come out. */
static void test_stops_at_poweroff(const char *accel)
{
	char name[64];
	char *err = NULL;
	int st = run_guest_args(accel, "tests/guest-progs/afteroff.bin", NULL,
				&err);

	snprintf(name, sizeof(name), "%s/nothing-runs-after-power-off", accel);
	if (st == 1 && err && strstr(err, "no software CPU"))
		test_skip(name, "this build has no software CPU backend");
	else
		test_check(name, st == 0 && last_out && !strchr(last_out, 'x'),
			   "status %d, console '%.40s'", st,
			   last_out ? last_out : "");
	g_free(err);
}

/* Nothing runs after a reset either: the program resets through 0xcf9
 * and then writes 'x' forever.  With a reboot the second boot powers
 * off; with -no-reboot qemu-dm exits at the reset. */
static void test_stops_at_reset(const char *accel)
{
	static const struct {
		const char *opts, *suffix, *want, *unwanted;
	} runs[] = {
		{ NULL, "", "GUEST: boot 2", NULL },
		{ "-no-reboot", "-no-reboot", "GUEST: boot 1", "GUEST: boot 2" },
	};

	for (size_t k = 0; k < G_N_ELEMENTS(runs); k++) {
		char name[80];
		char *err = NULL;
		int st = run_guest_args(accel, "tests/guest-progs/afterreset.bin",
					runs[k].opts, &err);
		const char *out = last_out ? last_out : "";

		snprintf(name, sizeof(name), "%s/nothing-runs-after-reset%s",
			 accel, runs[k].suffix);
		if (st == 1 && err && strstr(err, "no software CPU"))
			test_skip(name, "this build has no software CPU backend");
		else
			test_check(name, st == 0 && strstr(out, runs[k].want) &&
				   (!runs[k].unwanted ||
				    !strstr(out, runs[k].unwanted)) &&
				   !strchr(out, 'x'),
				   "status %d, console '%.60s'", st, out);
		g_free(err);
	}
}

/* An idle vCPU sleeps: the idle program waits in HLT for ten PIT
 * interrupts over about half a second, with a second vCPU that is never
 * started.  A separate hvmd with HVMD_SOFT_STATS reports how often each
 * vCPU went to sleep; a handful per interrupt is right, thousands mean
 * the vCPU spun on a core. */
static void test_soft_idle(void)
{
	char *sdir = g_dir_make_tmp("hvmd-idle-XXXXXX", NULL);
	char *log = g_build_filename(sdir, "stats.log", NULL);
	char *ssock = g_build_filename(sdir, HVCTL_SOCKET_NAME, NULL);
	const char *name = "soft/idle-vcpus-sleep";
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, STDERR_FILENO);
		setenv("HVMD_SOFT_STATS", "1", 1);
		execl("bin/hvmd", "hvmd", "--socket-dir", sdir, (char *)NULL);
		_exit(127);
	}
	bool up = false;

	for (int i = 0; i < 500 && !up; i++) {
		struct hvctl_conn *c;

		if (hvctl_connect(&c, ssock) == 0) {
			hvctl_close(c);
			up = true;
		} else {
			usleep(10000);
		}
	}
	setenv("HVMD_DIR", sdir, 1);
	char *err = NULL;
	int st = up ? run_guest_args("soft", "tests/guest-progs/idle.bin",
				    "-smp 2", &err) : -1;
	setenv("HVMD_DIR", dir, 1);
	kill(pid, SIGTERM);
	wait_status(pid, 10000);

	char *text = NULL;
	unsigned long long sleeps[2] = { ~0ull, ~0ull };

	g_file_get_contents(log, &text, NULL, NULL);
	for (char *p = text; p && (p = strstr(p, "soft vCPU ")); p++) {
		unsigned id;
		unsigned long long n;
		const char *q = strstr(p, "instructions in");

		if (sscanf(p, "soft vCPU %u:", &id) == 1 && id < 2 && q &&
		    sscanf(strchr(q, ',') ? strchr(q, ',') : "", ", %llu sleeps",
			   &n) == 1)
			sleeps[id] = n;
	}
	if (st == 1 && err && strstr(err, "no software CPU"))
		test_skip(name, "this build has no software CPU backend");
	else
		test_check(name, st == 0 && strstr(last_out, "idle: 10 ticks") &&
			   sleeps[0] <= 200 && sleeps[1] <= 200,
			   "status %d, sleeps %lld and %lld (want <= 200 each)",
			   st, (long long)sleeps[0], (long long)sleeps[1]);
	g_free(err);
	g_free(text);
	unlink(log);
	unlink(ssock);
	char *lock = g_build_filename(sdir, "hvmd.lock", NULL);
	unlink(lock);
	g_free(lock);
	rmdir(sdir);
	g_free(log);
	g_free(ssock);
	g_free(sdir);
}

/* SeaBIOS on the software CPU: its banner and "No bootable device" on
 * COM1 (its own retry loop never ends, so the test stops it). */
static void test_seabios_soft(void)
{
	char *log = g_build_filename(dir, "seabios.txt", NULL);
	char *serial = g_strdup_printf("file:%s", log);
	char *argv[] = { "bin/qemu-dm", "-accel", "soft", "-m", "128",
			 "-display", "none", "-serial", serial, NULL };
	GPid pid;
	gchar *text = NULL;
	bool done = false;
	int st = -1;

	if (access("/usr/share/seabios/bios-256k.bin", R_OK) != 0) {
		test_skip("soft/seabios-no-bootable-device", "seabios not installed");
		goto out;
	}
	if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
			   G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, NULL))
		goto out;
	for (int t = 0; t < 3000 && !done; t++) {
		usleep(100000);
		g_free(text);
		text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		done = text && strstr(text, "No bootable device");
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = 0;
			break;
		}
	}
	if (pid) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
	}
	if (!pid && WIFEXITED(st) && WEXITSTATUS(st) == 1 && !done) {
		test_skip("soft/seabios-no-bootable-device", "this build has no "
			  "software CPU backend");
	} else {
		test_check("soft/seabios-no-bootable-device",
			   done && text && strstr(text, "SeaBIOS"),
			   "COM1 shows: %.200s", text ? text : "(nothing)");
	}
	g_free(text);
	remove(log);
out:
	g_free(log);
	g_free(serial);
}

static pid_t spawn_dm(const char *prog, int *err_fd)
{
	char *argv[] = { "bin/qemu-dm", "-accel", "kvm", "-m", "64", "-bios",
			 (char *)prog, "-device", "hvm-testdev", "-display",
			 "none", NULL };
	GPid pid;
	GError *e = NULL;

	if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
				      NULL, NULL, &pid, NULL, NULL, err_fd, &e)) {
		g_error_free(e);
		return -1;
	}
	return pid;
}

static int wait_status(pid_t pid, int timeout_ms)
{
	int st;

	for (int t = 0; t < timeout_ms; t += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static int wait_domains(int want, int timeout_ms)
{
	int n = -1;

	for (int t = 0; t < timeout_ms; t += 20) {
		n = list_count();
		if (n == want)
			break;
		usleep(20000);
	}
	return n;
}

static void test_kvm(pid_t *hvmd)
{
	char *err = NULL;
	int st, n, err_fd;
	pid_t dm;

	st = run_guest("tests/guest-progs/iotest.bin", &err);
	test_check("kvm/iotest-powers-off-status-0", st == 0, "status %d: %s",
		   st, err ? err : "");
	g_free(err);
	n = wait_domains(0, 5000);
	test_check("kvm/no-domain-left-after-exit", n == 0, "%d domains", n);
	test_stops_at_poweroff("kvm");
	test_stops_at_reset("kvm");

	/* A triple fault resets the machine; -no-reboot exits instead. */
	st = run_guest("tests/guest-progs/triple.bin", NULL);
	test_check("kvm/triple-fault-resets", st == 0 && last_out &&
		   strstr(last_out, "GUEST: boot 2"), "status %d", st);
	st = run_guest_args("kvm", "tests/guest-progs/triple.bin", "-no-reboot",
			    NULL);
	test_check("kvm/no-reboot-exits-on-triple-fault", st == 0 && last_out &&
		   strstr(last_out, "GUEST: boot 1") &&
		   !strstr(last_out, "GUEST: boot 2"), "status %d", st);

	/* SIGTERM: a clean exit that takes the domain with it */
	dm = spawn_dm("tests/guest-progs/spin.bin", &err_fd);
	wait_domains(1, 10000);
	usleep(200000);
	kill(dm, SIGTERM);
	st = wait_status(dm, 10000);
	close(err_fd);
	n = wait_domains(0, 5000);
	test_check("kvm/dm-sigterm-exit-0-domain-gone", st == 0 && n == 0,
		   "status %d, %d domains", st, n);

	/* kill -9 of the device model while its guest does I/O */
	dm = spawn_dm("tests/guest-progs/spin.bin", &err_fd);
	n = wait_domains(1, 10000);
	usleep(200000);
	kill(dm, SIGKILL);
	waitpid(dm, NULL, 0);
	close(err_fd);
	n = wait_domains(0, 10000);
	test_check("kvm/dm-killed-domain-destroyed", n == 0 && alive(*hvmd),
		   "%d domains, hvmd %s", n, alive(*hvmd) ? "up" : "dead");

	/* kill -9 of hvmd under a running device model */
	dm = spawn_dm("tests/guest-progs/spin.bin", &err_fd);
	wait_domains(1, 10000);
	usleep(200000);
	kill(*hvmd, SIGKILL);
	waitpid(*hvmd, NULL, 0);
	st = wait_status(dm, 20000);
	char msg[512] = "";
	ssize_t k = read(err_fd, msg, sizeof(msg) - 1);
	msg[k > 0 ? k : 0] = '\0';
	close(err_fd);
	test_check("kvm/hvmd-killed-dm-exits-clearly",
		   st == 1 && strstr(msg, "lost the connection to hvmd"),
		   "status %d, stderr '%s'", st, msg);
	*hvmd = start_hvmd();
}

int main(void)
{
	pid_t hvmd;

	dir = g_dir_make_tmp("hvmd-test-XXXXXX", NULL);
	sock = g_build_filename(dir, HVCTL_SOCKET_NAME, NULL);
	setenv("HVMD_DIR", dir, 1);
	hvmd = start_hvmd();
	if (hvmd < 0) {
		test_fail("hvmd/start", "hvmd did not come up");
		return 1;
	}
	test_validation(hvmd);
	test_soft();
	test_stops_at_poweroff("soft");
	test_stops_at_reset("soft");
	test_soft_idle();
	test_seabios_soft();
	if (kvm_usable())
		test_kvm(&hvmd);
	else
		test_skip("kvm/guest-programs", "/dev/kvm is missing or unusable");
	if (hvmd > 0) {
		kill(hvmd, SIGTERM);
		test_check("hvmd/sigterm-exits", wait_status(hvmd, 10000) == 0,
			   "hvmd did not exit cleanly");
	}
	unlink(sock);
	char *lock = g_build_filename(dir, "hvmd.lock", NULL);
	unlink(lock);
	g_free(lock);
	rmdir(dir);
	return test_exit();
}
