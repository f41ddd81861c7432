/*
 * xl: the toolstack.  Commands, options and output follow Xen's xl so the
 * guides work; hvmd keeps the domains, qemu-dm one per domain serves its
 * devices, and xl's state directory keeps the rest (tools/xl/state.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tools/xl/qmpc.h"
#include "tools/xl/state.h"
#include "tools/xl/xl.h"

void xl_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void xl_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static pid_t hvmd_pid;

int xl_hvmd_list(struct hvctl_dom_info *out, unsigned max)
{
	struct hvctl_conn *h;
	uint8_t buf[HVCTL_MAX_MSG];
	struct hvctl_list_reply r;
	uint32_t len = sizeof(buf);
	int ret = hvctl_connect(&h, NULL);

	if (ret < 0)
		return ret;
	{
		struct ucred cr;
		socklen_t cl = sizeof(cr);

		if (getsockopt(hvctl_fd(h), SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			hvmd_pid = cr.pid;
	}
	ret = hvctl_call(h, HVCTL_DOMAIN_LIST, NULL, 0, NULL, 0, buf, &len,
			 NULL, NULL);
	hvctl_close(h);
	if (ret < 0)
		return ret;
	if (len < sizeof(r))
		return -EPROTO;
	memcpy(&r, buf, sizeof(r));
	if (r.count > HVCTL_LIST_MAX ||
	    len < sizeof(r) + r.count * sizeof(struct hvctl_dom_info))
		return -EPROTO;
	if (r.count > max)
		r.count = max;
	memcpy(out, buf + sizeof(r), r.count * sizeof(struct hvctl_dom_info));
	return (int)r.count;
}

uint32_t xl_resolve(const char *dom)
{
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	int n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
	GPtrArray *st = xl_dom_list();
	char *end;
	unsigned long id = strtoul(dom, &end, 10);
	bool numeric = *dom && !*end;

	for (int i = 0; i < n; i++)
		if (numeric ? doms[i].domid == id : !strcmp(doms[i].name, dom)) {
			g_ptr_array_free(st, TRUE);
			return doms[i].domid;
		}
	for (guint i = 0; i < st->len; i++) {
		struct xl_dom *d = g_ptr_array_index(st, i);

		if (numeric ? d->domid == id : !strcmp(d->name, dom)) {
			uint32_t r = d->domid;

			g_ptr_array_free(st, TRUE);
			return r;
		}
	}
	g_ptr_array_free(st, TRUE);
	if (numeric && id == 0)
		xl_die("domain 0 is the host: that does not work on Domain-0");
	xl_die("'%s' is not a domain (see xl list)", dom);
}

static const char *self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return dir;
}

const char *xl_device_model(const char *cfg_path)
{
	static char path[PATH_MAX + 16];
	const char *env = getenv("XL_DEVICE_MODEL");
	const char *dir;

	if (cfg_path)
		return cfg_path;
	if (env && *env)
		return env;
	dir = self_dir();
	if (dir) {
		snprintf(path, sizeof(path), "%s/qemu-dm", dir);
		if (access(path, X_OK) == 0)
			return path;
	}
	return "qemu-dm";
}

const char *xl_log_dir(void)
{
	const char *env = getenv("XL_LOG_DIR");

	if (env && *env)
		return env;
	if (geteuid() == 0 && !getenv("HVMD_DIR") && !getenv("XL_STATE_DIR"))
		return "/var/log/xen";
	return xl_state_dir();
}

static struct qmpc *qmp_of(uint32_t domid)
{
	char *err = NULL;
	struct qmpc *q = qmpc_connect(xl_dom_path(domid, "qmp.sock"), &err);

	if (!q)
		xl_die("domain %u: %s (was it started by xl create?)", domid, err);
	return q;
}

static void qmp_do(uint32_t domid, const char *cmd, const char *args,
		   const char *what)
{
	struct qmpc *q = qmp_of(domid);
	char *err = NULL;
	JsonNode *n = qmpc_call(q, cmd, args, &err);

	if (!n) {
		if (err && strstr(err, "CommandNotFound"))
			xl_die("%s: not supported by this device model yet (%s)",
			       what, err);
		xl_die("%s: %s", what, err);
	}
	json_node_free(n);
	qmpc_close(q);
}

static bool hvmd_has(uint32_t domid)
{
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	int n = xl_hvmd_list(doms, HVCTL_LIST_MAX);

	for (int i = 0; i < n; i++)
		if (doms[i].domid == domid && doms[i].state != HVCTL_STATE_DESTROYED)
			return true;
	return false;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* ---- list ---- */

/* CPU seconds of hvmd's threads named d<domid>v<n>. */
static double domain_cpu_time(uint32_t domid)
{
	char dir[64], want[32];
	DIR *dh;
	struct dirent *e;
	double t = 0;
	long hz = sysconf(_SC_CLK_TCK);

	if (hvmd_pid <= 0)
		return 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)hvmd_pid);
	snprintf(want, sizeof(want), "d%uv", domid);
	dh = opendir(dir);
	if (!dh)
		return 0;
	while ((e = readdir(dh))) {
		char p[PATH_MAX], buf[1024];
		FILE *f;
		char *rp;
		unsigned long ut, st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/stat", dir, e->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		/* pid (comm) state ... field 14 utime, 15 stime */
		rp = strrchr(buf, ')');
		if (!rp || strncmp(strchr(buf, '(') + 1, want, strlen(want)))
			continue;
		if (sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			   "%*u %lu %lu", &ut, &st) == 2)
			t += (double)(ut + st) / (double)hz;
	}
	closedir(dh);
	return t;
}

static const char *state_letters(const struct hvctl_dom_info *i)
{
	switch (i->state) {
	case HVCTL_STATE_RUNNING: return "r-----";
	case HVCTL_STATE_PAUSED: return "--p---";
	case HVCTL_STATE_SHUTDOWN:
		return i->reason == HVCTL_SHUTDOWN_CRASH ? "----c-" : "---s--";
	default: return "-----d";
	}
}

static double host_cpu_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long u = 0, n = 0, s = 0;

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu", &u, &n, &s) != 3)
		u = n = s = 0;
	fclose(f);
	return (double)(u + n + s) / (double)sysconf(_SC_CLK_TCK);
}

/* The device model's drives and their media (QMP query-block), while it
 * runs: "disks": [ { "device": "ide1-cd0", "file": "/x.iso" } ... ] */
static void add_block_info(JsonBuilder *b, const struct xl_dom *d)
{
	char *err = NULL;
	struct qmpc *q;
	JsonNode *n;
	JsonArray *a;

	if (!d->dm_pid || !pid_alive(d->dm_pid))
		return;
	q = qmpc_connect(xl_dom_path(d->domid, "qmp.sock"), &err);
	g_free(err);
	err = NULL;
	if (!q)
		return;
	n = qmpc_call(q, "query-block", NULL, &err);
	g_free(err);
	qmpc_close(q);
	if (!n)
		return;
	a = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
	json_builder_set_member_name(b, "disks");
	json_builder_begin_array(b);
	for (guint k = 0; a && k < json_array_get_length(a); k++) {
		JsonObject *o = json_array_get_object_element(a, k);
		JsonObject *in = o && json_object_has_member(o, "inserted") ?
			json_object_get_object_member(o, "inserted") : NULL;

		if (!o || !json_object_has_member(o, "device"))
			continue;
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "device");
		json_builder_add_string_value(b,
			json_object_get_string_member(o, "device"));
		json_builder_set_member_name(b, "file");
		json_builder_add_string_value(b, in &&
			json_object_has_member(in, "file") ?
			json_object_get_string_member(in, "file") : "");
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_node_free(n);
}

static void print_long(uint32_t domid, const struct hvctl_dom_info *i)
{
	struct xl_dom *d = xl_dom_load(domid);
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	char *text;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "domid");
	json_builder_add_int_value(b, domid);
	json_builder_set_member_name(b, "name");
	json_builder_add_string_value(b, d ? d->name : i->name);
	json_builder_set_member_name(b, "state");
	json_builder_add_string_value(b, i ? state_letters(i) : "---s--");
	if (i) {
		json_builder_set_member_name(b, "memory_mb");
		json_builder_add_int_value(b, (gint64)(i->mem_bytes >> 20));
		json_builder_set_member_name(b, "vcpus");
		json_builder_add_int_value(b, i->vcpus);
		json_builder_set_member_name(b, "accel");
		json_builder_add_string_value(b, i->accel == HVCTL_ACCEL_KVM ?
					      "kvm" : "soft");
	}
	if (d) {
		json_builder_set_member_name(b, "status");
		json_builder_add_string_value(b, d->status);
		if (d->reason) {
			json_builder_set_member_name(b, "reason");
			json_builder_add_string_value(b, d->reason);
		}
		json_builder_set_member_name(b, "device_model_pid");
		json_builder_add_int_value(b, d->dm_pid);
		json_builder_set_member_name(b, "device_model_cmdline");
		json_builder_add_string_value(b, d->dm_cmdline ? d->dm_cmdline : "");
		json_builder_set_member_name(b, "serial_pty");
		json_builder_add_string_value(b, d->pty ? d->pty : "");
		json_builder_set_member_name(b, "vnc_port");
		json_builder_add_int_value(b, d->vnc_port);
		if (d->vnc_port) {
			json_builder_set_member_name(b, "vnc_listen");
			json_builder_add_string_value(b, d->vnc_listen);
		}
		json_builder_set_member_name(b, "log");
		json_builder_add_string_value(b, d->log ? d->log : "");
		json_builder_set_member_name(b, "config_file");
		json_builder_add_string_value(b, d->config_file ? d->config_file : "");
		json_builder_set_member_name(b, "on_poweroff");
		json_builder_add_string_value(b, d->on_poweroff ? d->on_poweroff : "");
		json_builder_set_member_name(b, "on_reboot");
		json_builder_add_string_value(b, d->on_reboot ? d->on_reboot : "");
		json_builder_set_member_name(b, "on_crash");
		json_builder_add_string_value(b, d->on_crash ? d->on_crash : "");
		json_builder_set_member_name(b, "restarts");
		json_builder_add_int_value(b, d->restarts);
		json_builder_set_member_name(b, "config");
		json_builder_add_string_value(b, d->config ? d->config : "");
		add_block_info(b, d);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	text = json_generator_to_data(g, NULL);
	printf("%s\n", text);
	g_free(text);
	json_node_free(root);
	g_object_unref(g);
	g_object_unref(b);
	xl_dom_free(d);
}

static int cmd_list(int argc, char **argv)
{
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	bool lng = false;
	int n;
	GPtrArray *st;
	struct sysinfo si;
	const char *only = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "--long"))
			lng = true;
		else if (argv[i][0] == '-')
			xl_die("usage: xl list [-l] [DOMAIN]");
		else
			only = argv[i];
	}
	n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
	if (n < 0)
		n = 0;          /* no hvmd: no guests */
	st = xl_dom_list();
	/* state left behind by domains hvmd no longer has */
	for (guint i = 0; i < st->len; i++) {
		struct xl_dom *d = g_ptr_array_index(st, i);
		bool live = false;

		for (int k = 0; k < n; k++)
			if (doms[k].domid == d->domid)
				live = true;
		if (!live && strcmp(d->status, "shutdown") &&
		    !pid_alive(d->monitor_pid))
			xl_dom_remove(d->domid);
	}
	if (lng) {
		printf("[\n");
		for (int i = 0; i < n; i++)
			if (!only || !strcmp(only, doms[i].name) ||
			    strtoul(only, NULL, 10) == doms[i].domid)
				print_long(doms[i].domid, &doms[i]);
		for (guint i = 0; i < st->len; i++) {
			struct xl_dom *d = g_ptr_array_index(st, i);

			if (!strcmp(d->status, "shutdown") &&
			    (!only || !strcmp(only, d->name)))
				print_long(d->domid, NULL);
		}
		printf("]\n");
		g_ptr_array_free(st, TRUE);
		return 0;
	}
	sysinfo(&si);
	printf("%-40s %5s %5s %5s     %-6s %9s\n", "Name", "ID", "Mem", "VCPUs",
	       "State", "Time(s)");
	if (!only || !strcmp(only, "Domain-0") || !strcmp(only, "0"))
		printf("%-40s %5d %5llu %5ld     %-6s %9.1f\n", "Domain-0", 0,
		       (unsigned long long)((uint64_t)si.totalram * si.mem_unit >> 20),
		       sysconf(_SC_NPROCESSORS_ONLN), "r-----", host_cpu_time());
	for (int i = 0; i < n; i++) {
		if (only && strcmp(only, doms[i].name) &&
		    !(strtoul(only, NULL, 10) == doms[i].domid && *only != '0'))
			continue;
		printf("%-40s %5u %5llu %5u     %-6s %9.1f\n", doms[i].name,
		       doms[i].domid,
		       (unsigned long long)(doms[i].mem_bytes >> 20),
		       doms[i].vcpus, state_letters(&doms[i]),
		       domain_cpu_time(doms[i].domid));
	}
	for (guint i = 0; i < st->len; i++) {
		struct xl_dom *d = g_ptr_array_index(st, i);

		if (strcmp(d->status, "shutdown") || (only && strcmp(only, d->name)))
			continue;
		printf("%-40s %5u %5llu %5u     %-6s %9.1f\n", d->name, d->domid,
		       (unsigned long long)d->memory_mb, d->vcpus, "---s--", 0.0);
	}
	g_ptr_array_free(st, TRUE);
	return 0;
}

/* ---- destroy, shutdown, reboot, pause ---- */

static int destroy(uint32_t domid)
{
	struct xl_dom *d = xl_dom_load(domid);
	struct hvctl_conn *h;
	struct hvctl_domid id = { domid, 0 };
	int ret = -ENOENT;

	if (d)
		xl_flag_set(domid, "destroying");
	if (hvctl_connect(&h, NULL) == 0) {
		ret = hvctl_call(h, HVCTL_DOMAIN_DESTROY, &id, sizeof(id), NULL,
				 0, NULL, NULL, NULL, NULL);
		hvctl_close(h);
	}
	if (d) {
		/* its device model and watcher follow; make sure */
		for (int i = 0; i < 100 && (pid_alive(d->dm_pid) ||
					    pid_alive(d->monitor_pid)); i++)
			usleep(100000);
		if (pid_alive(d->dm_pid))
			kill(d->dm_pid, SIGKILL);
		if (!pid_alive(d->monitor_pid))
			xl_dom_remove(domid);
		ret = 0;
		xl_dom_free(d);
	}
	if (ret < 0 && ret != -ENOENT)
		xl_die("destroy of domain %u: %s", domid, strerror(-ret));
	return 0;
}

static int cmd_destroy(int argc, char **argv)
{
	if (argc < 2)
		xl_die("usage: xl destroy DOMAIN");
	return destroy(xl_resolve(argv[argc - 1]));
}

/* Wait until domid is gone from hvmd (and xl's watcher is done). */
static void wait_gone(uint32_t domid, const char *name)
{
	for (;;) {
		struct xl_dom *d;

		if (!hvmd_has(domid)) {
			d = xl_dom_load(domid);
			if (!d || !strcmp(d->status, "shutdown") ||
			    !pid_alive(d->monitor_pid)) {
				xl_dom_free(d);
				break;
			}
			xl_dom_free(d);
		}
		usleep(200000);
	}
	fprintf(stderr, "Domain %u (%s) has been shut down.\n", domid, name);
}

static int cmd_shutdown(int argc, char **argv, bool reboot)
{
	bool wait = false;
	const char *dom = NULL;
	uint32_t domid;
	struct xl_dom *d;
	char *name;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-w") || !strcmp(argv[i], "--wait"))
			wait = true;
		else if (!strcmp(argv[i], "-F") || !strcmp(argv[i], "-a") ||
			 !strcmp(argv[i], "--all"))
			;
		else if (argv[i][0] == '-')
			xl_die("usage: xl %s [-w] DOMAIN", reboot ? "reboot" :
			       "shutdown");
		else
			dom = argv[i];
	}
	if (!dom)
		xl_die("usage: xl %s [-w] DOMAIN", reboot ? "reboot" : "shutdown");
	domid = xl_resolve(dom);
	d = xl_dom_load(domid);
	name = g_strdup(d ? d->name : dom);
	xl_dom_free(d);
	if (reboot)
		xl_flag_set(domid, "reboot");
	/* the ACPI power button; the guest shuts itself down */
	qmp_do(domid, "system_powerdown", NULL, reboot ? "reboot" : "shutdown");
	fprintf(stderr, "%s domain %u\n", reboot ? "Rebooting" : "Shutting down",
		domid);
	if (wait && !reboot)
		wait_gone(domid, name);
	g_free(name);
	return 0;
}

static int cmd_pause(int argc, char **argv, bool pause)
{
	uint32_t domid;

	if (argc < 2)
		xl_die("usage: xl %s DOMAIN", pause ? "pause" : "unpause");
	domid = xl_resolve(argv[1]);
	qmp_do(domid, pause ? "stop" : "cont", NULL, pause ? "pause" : "unpause");
	{
		struct xl_dom *d = xl_dom_load(domid);

		if (d) {
			g_free(d->status);
			d->status = g_strdup(pause ? "paused" : "running");
			xl_dom_save(d);
			xl_dom_free(d);
		}
	}
	return 0;
}

/* ---- console ---- */

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static char *console_pty(uint32_t domid)
{
	struct xl_dom *d = xl_dom_load(domid);
	char *pty = d && d->pty ? g_strdup(d->pty) : NULL;

	xl_dom_free(d);
	return pty;
}

int xl_console(uint32_t domid)
{
	char *pty = console_pty(domid);
	int fd;
	bool in_open = true;

	if (!pty)
		xl_die("domain %u has no serial console (set serial='pty' in "
		       "its config)", domid);
	fd = open(pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		xl_die("%s: %s", pty, strerror(errno));
	{
		struct termios t;

		/* the guest's side sees raw bytes */
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(fd, TCSANOW, &t);
		}
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios t = saved_tio;

		tio_saved = true;
		atexit(restore_tty);
		cfmakeraw(&t);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		char buf[4096];
		ssize_t n;

		if (poll(p, 2, 1000) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0) {
				if (n < 0 && errno == EAGAIN)
					continue;
				break;          /* the device model is gone */
			}
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;        /* keep showing output */
				continue;
			}
			{
				char *esc = memchr(buf, 0x1d, (size_t)n);

				if (esc)        /* Ctrl-] detaches */
					n = esc - buf;
				if (n > 0 && write(fd, buf, (size_t)n) < 0)
					break;
				if (esc)
					break;
			}
		}
	}
	close(fd);
	restore_tty();
	g_free(pty);
	return 0;
}

int cmd_console(int argc, char **argv)
{
	const char *dom = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			if (strcmp(argv[++i], "serial"))
				xl_die("console -t %s: only the serial console "
				       "is provided", argv[i]);
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			i++;
		} else {
			dom = argv[i];
		}
	}
	if (!dom)
		xl_die("usage: xl console [-t serial] DOMAIN");
	return xl_console(xl_resolve(dom));
}

/* ---- vncviewer ---- */

int vncviewer_main(int argc, char **argv);
int vncviewer_main(int argc, char **argv)
{
	bool autopass = false;
	const char *dom = NULL;
	struct xl_dom *d;
	char *target;
	const char *viewer = getenv("XL_VNCVIEWER");

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--autopass") || !strcmp(argv[i], "-a"))
			autopass = true;
		else
			dom = argv[i];
	}
	if (!dom)
		xl_die("usage: xl vncviewer [--autopass] DOMAIN");
	d = xl_dom_load(xl_resolve(dom));
	if (!d || !d->vnc_port)
		xl_die("domain %s has no VNC display (vnc=1 in its config)", dom);
	target = g_strdup_printf("%s::%d", d->vnc_listen && strcmp(d->vnc_listen,
				 "0.0.0.0") ? d->vnc_listen : "127.0.0.1",
				 d->vnc_port);
	if (!viewer)
		viewer = "vncviewer";
	if (autopass && d->vnc_passwd) {
		int p[2];

		if (pipe(p) == 0) {
			bool ok = write(p[1], d->vnc_passwd,
					strlen(d->vnc_passwd)) >= 0 &&
				  write(p[1], "\n", 1) >= 0;

			close(p[1]);
			if (!ok)
				xl_die("vncviewer: cannot pass the password");
			dup2(p[0], STDIN_FILENO);
			close(p[0]);
		}
		execlp(viewer, viewer, "-autopass", target, (char *)NULL);
	} else {
		execlp(viewer, viewer, target, (char *)NULL);
	}
	xl_die("cannot run %s (install a VNC viewer, e.g. Debian's "
	       "tigervnc-viewer, or set XL_VNCVIEWER): %s; the display is %s",
	       viewer, strerror(errno), target);
}

/* ---- CD-ROMs ---- */

static char *ide_drive_id(const char *vdev)
{
	const char *l = !strncmp(vdev, "hd", 2) ? vdev + 2 :
			!strncmp(vdev, "xvd", 3) ? vdev + 3 : NULL;
	int idx;

	if (!l || l[1] || *l < 'a' || *l > 'd')
		xl_die("%s: expected a virtual device hda..hdd", vdev);
	idx = *l - 'a';
	/* QEMU's names for -drive if=ide,index=N,media=cdrom */
	return g_strdup_printf("ide%d-cd%d", idx / 2, idx % 2);
}

static int cmd_cd(int argc, char **argv, bool insert)
{
	uint32_t domid;
	char *id, *args, *target;

	if (argc < (insert ? 4 : 3))
		xl_die(insert ? "usage: xl cd-insert DOMAIN VDEV TARGET" :
		       "usage: xl cd-eject DOMAIN VDEV");
	domid = xl_resolve(argv[1]);
	id = ide_drive_id(argv[2]);
	if (!insert) {
		args = g_strdup_printf("{\"device\": \"%s\", \"force\": true}", id);
		qmp_do(domid, "eject", args, "cd-eject");
		g_free(args);
		g_free(id);
		return 0;
	}
	target = argv[3];
	/* "file:/p.iso", "raw:/p.iso" or target=/p.iso as in the disk spec */
	if (!strncmp(target, "target=", 7))
		target += 7;
	if (!strncmp(target, "file:", 5) || !strncmp(target, "phy:", 4))
		target = strchr(target, ':') + 1;
	if (access(target, R_OK) < 0)
		xl_die("cd-insert: %s: %s", target, strerror(errno));
	{
		char *q = g_strescape(target, NULL);

		args = g_strdup_printf("{\"device\": \"%s\", \"filename\": "
				       "\"%s\", \"format\": \"raw\"}", id, q);
		g_free(q);
	}
	qmp_do(domid, "blockdev-change-medium", args, "cd-insert");
	g_free(args);
	g_free(id);
	return 0;
}

/* ---- small ones ---- */

static int cmd_domid(int argc, char **argv)
{
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	int n;

	if (argc < 2)
		xl_die("usage: xl domid NAME");
	if (!strcmp(argv[1], "Domain-0")) {
		printf("0\n");
		return 0;
	}
	n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
	for (int i = 0; i < n; i++)
		if (!strcmp(doms[i].name, argv[1])) {
			printf("%u\n", doms[i].domid);
			return 0;
		}
	printf("%u\n", xl_resolve(argv[1]));
	return 0;
}

static int cmd_domname(int argc, char **argv)
{
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	char *end;
	unsigned long id;
	int n;
	struct xl_dom *d;

	if (argc < 2)
		xl_die("usage: xl domname ID");
	id = strtoul(argv[1], &end, 10);
	if (!*argv[1] || *end)
		xl_die("'%s': expected a domain ID", argv[1]);
	if (id == 0) {
		printf("Domain-0\n");
		return 0;
	}
	n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
	for (int i = 0; i < n; i++)
		if (doms[i].domid == id) {
			printf("%s\n", doms[i].name);
			return 0;
		}
	d = xl_dom_load((uint32_t)id);
	if (!d)
		xl_die("%lu is not a domain (see xl list)", id);
	printf("%s\n", d->name);
	xl_dom_free(d);
	return 0;
}

static void print_uptime(const char *name, uint32_t id, double secs)
{
	long s = (long)secs;

	if (s >= 86400)
		printf("%-32s %5u %ld day%s, %2ld:%02ld:%02ld\n", name, id,
		       s / 86400, s / 86400 == 1 ? "" : "s", s % 86400 / 3600,
		       s % 3600 / 60, s % 60);
	else
		printf("%-32s %5u %2ld:%02ld:%02ld\n", name, id, s / 3600,
		       s % 3600 / 60, s % 60);
}

static int cmd_uptime(int argc, char **argv)
{
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	int n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
	struct sysinfo si;
	time_t now = time(NULL);

	sysinfo(&si);
	printf("%-32s %5s %s\n", "Name", "ID", "Uptime");
	if (argc < 2 || !strcmp(argv[1], "Domain-0"))
		print_uptime("Domain-0", 0, (double)si.uptime);
	for (int i = 0; i < n; i++) {
		struct xl_dom *d;

		if (argc >= 2 && strcmp(argv[1], doms[i].name) &&
		    strtoul(argv[1], NULL, 10) != doms[i].domid)
			continue;
		d = xl_dom_load(doms[i].domid);
		print_uptime(doms[i].name, doms[i].domid,
			     d && d->start_time ? (double)(now - d->start_time) : 0);
		xl_dom_free(d);
	}
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct utsname u;
	struct sysinfo si;
	struct hvctl_dom_info doms[HVCTL_LIST_MAX];
	int n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
	uint64_t used = 0;
	char host[256] = "";

	(void)argc;
	(void)argv;
	uname(&u);
	sysinfo(&si);
	gethostname(host, sizeof(host) - 1);
	for (int i = 0; i < n; i++)
		used += doms[i].mem_bytes >> 20;
	printf("%-22s : %s\n", "host", host);
	printf("%-22s : %s\n", "release", u.release);
	printf("%-22s : %s\n", "version", u.version);
	printf("%-22s : %s\n", "machine", u.machine);
	printf("%-22s : %ld\n", "nr_cpus", sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-22s : %llu\n", "total_memory",
	       (unsigned long long)((uint64_t)si.totalram * si.mem_unit >> 20));
	printf("%-22s : %llu\n", "free_memory",
	       (unsigned long long)((uint64_t)si.freeram * si.mem_unit >> 20));
	printf("%-22s : %llu\n", "guest_memory", (unsigned long long)used);
	printf("%-22s : %s\n", "hypervisor", n >= 0 ? "hvmd (running)" :
	       "hvmd (not running; xl create starts it)");
	printf("%-22s : %s\n", "hvmd_socket_dir", hvctl_socket_dir());
	printf("%-22s : %d\n", "nr_domains", n > 0 ? n : 0);
	printf("%-22s : %s\n", "xl_state_dir", xl_state_dir());
	printf("%-22s : %s\n", "device_model", xl_device_model(NULL));
	printf("%-22s : %s\n", "virt_caps", access("/dev/kvm", R_OK | W_OK) == 0 ?
	       "hvm (kvm, soft)" : "hvm (soft)");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xl COMMAND [ARGS]\n"
		"  create [-c] [-p] [-n] [-V] [-f] CFG [KEY=VALUE ...]\n"
		"  list [-l] [DOMAIN]      destroy DOMAIN\n"
		"  shutdown [-w] DOMAIN    reboot DOMAIN\n"
		"  pause DOMAIN            unpause DOMAIN\n"
		"  console DOMAIN          (Ctrl-] detaches)\n"
		"  vncviewer [--autopass] DOMAIN\n"
		"  cd-insert DOMAIN VDEV TARGET   cd-eject DOMAIN VDEV\n"
		"  domid NAME   domname ID   info   uptime [DOMAIN]\n"
		"A DOMAIN is a name or an ID.\n");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *cmd;

	signal(SIGPIPE, SIG_IGN);
	/* xl's global options (-v, -f, -N) come before the command */
	while (argc > 1 && argv[1][0] == '-' && argv[1][1] &&
	       strcmp(argv[1], "-h") && strcmp(argv[1], "--help")) {
		argv++;
		argc--;
	}
	if (argc < 2)
		usage();
	cmd = argv[1];
	argv++;
	argc--;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "list") || !strcmp(cmd, "li"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "destroy"))
		return cmd_destroy(argc, argv);
	if (!strcmp(cmd, "shutdown"))
		return cmd_shutdown(argc, argv, false);
	if (!strcmp(cmd, "reboot"))
		return cmd_shutdown(argc, argv, true);
	if (!strcmp(cmd, "pause"))
		return cmd_pause(argc, argv, true);
	if (!strcmp(cmd, "unpause"))
		return cmd_pause(argc, argv, false);
	if (!strcmp(cmd, "console"))
		return cmd_console(argc, argv);
	if (!strcmp(cmd, "vncviewer"))
		return vncviewer_main(argc, argv);
	if (!strcmp(cmd, "cd-insert"))
		return cmd_cd(argc, argv, true);
	if (!strcmp(cmd, "cd-eject"))
		return cmd_cd(argc, argv, false);
	if (!strcmp(cmd, "domid"))
		return cmd_domid(argc, argv);
	if (!strcmp(cmd, "domname"))
		return cmd_domname(argc, argv);
	if (!strcmp(cmd, "uptime"))
		return cmd_uptime(argc, argv);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		usage();
	xl_die("'%s': unknown command (see xl help)", cmd);
}
