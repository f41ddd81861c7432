/*
 * xl create: read the config, check the device model can do what it
 * asks (qemu-dm -check-args), ask hvmd for a domain, and leave a watcher
 * process (as Xen's xl does) that runs the device model, keeps the
 * domain's state directory current and applies on_poweroff / on_reboot /
 * on_crash when the guest stops.  See docs/xl.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/xl/domcfg.h"
#include "tools/xl/qmpc.h"
#include "tools/xl/state.h"
#include "tools/xl/xl.h"
#include "tools/xl/xlcfg.h"

struct create_ctx {
	struct domcfg *d;
	struct xlcfg *cfg;
	const char *cfg_path;
	const char *dm;
	GPtrArray *dropped;     /* keys of defaults the dm cannot do */
	bool paused;
	int vnc_display;        /* -1: none */
	char *log;
	char *config_text;
};

/* ---- asking the device model what it accepts ---- */

/* Run dm with argv; its stderr's first line into *msg.  Exit status. */
static int run_capture(const char *dm, char **argv, char **msg)
{
	int p[2];
	pid_t pid;
	int st;
	GString *out = g_string_new(NULL);
	char buf[1024];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		xl_die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		xl_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(dm, argv);
		fprintf(stderr, "qemu-dm: cannot run %s: %s\n", dm,
			strerror(errno));
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	{
		char *nl = strchr(out->str, '\n');

		if (nl)
			*nl = '\0';
	}
	*msg = g_string_free(out, FALSE);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char **with_prog(const char *dm, char **args, const char *first)
{
	GPtrArray *a = g_ptr_array_new();

	g_ptr_array_add(a, g_strdup(dm));
	if (first)
		g_ptr_array_add(a, g_strdup(first));
	for (char **p = args; *p; p++)
		g_ptr_array_add(a, g_strdup(*p));
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

/*
 * qemu-dm -check-args with the whole command line.  An option it refuses
 * that a config key asked for stops xl with that key's name and line; one
 * that only a default asked for (Xen's cirrus VGA and VNC are on unless
 * the config says otherwise) is left out with a note.
 */
static void probe(struct create_ctx *c)
{
	struct dm_args_ctx actx = { .domid = -1, .vnc_display = -1 };
	GPtrArray *groups = dm_args_build(c->d, &actx);

	for (int round = 0; round < 16; round++) {
		char **args = dm_args_flatten(groups);
		char **argv = with_prog(c->dm, args, "-check-args");
		char *msg = NULL;
		int st = run_capture(c->dm, argv, &msg);
		struct dm_arg_group *g;

		g_strfreev(args);
		g_strfreev(argv);
		if (st == 0) {
			g_free(msg);
			break;
		}
		if (st == 127 || st == 126)
			xl_die("cannot run the device model %s: %s", c->dm, msg);
		if (strstr(msg, "-check-args")) {
			/* an older device model: it will say at start-up */
			g_free(msg);
			break;
		}
		g = dm_args_blame(groups, msg);
		if (!g)
			xl_die("the device model refuses this configuration: %s",
			       msg);
		if (g->explicit) {
			xl_die("%s%s%s: not supported by this device model "
			       "yet (%s)", g->where ? g->where : "",
			       g->where ? ": " : "", g->key, msg);
		}
		xl_msg("note: %s: Xen's default is not provided by this "
		       "device model yet; left out (%s)", g->key, msg);
		g->dropped = true;
		g_ptr_array_add(c->dropped, g_strdup(g->key));
		g_free(msg);
	}
	g_ptr_array_free(groups, TRUE);
}

static bool dropped(struct create_ctx *c, const char *key)
{
	for (guint i = 0; i < c->dropped->len; i++)
		if (!strcmp(g_ptr_array_index(c->dropped, i), key))
			return true;
	return false;
}

/* The script that puts a vif's tap on its bridge: $XL_VIF_SCRIPT, Xen's
 * place, else the one beside xl in a build tree; NULL: qemu-dm's default
 * (/etc/qemu-ifup). */
static const char *xl_vif_script(void)
{
	static char path[4096];
	const char *env = getenv("XL_VIF_SCRIPT");
	char self[4000];
	ssize_t n;

	if (env && *env)
		return env;
	if (access("/etc/xen/scripts/qemu-ifup", X_OK) == 0)
		return "/etc/xen/scripts/qemu-ifup";
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (strrchr(self, '/'))
			*strrchr(self, '/') = '\0';
		snprintf(path, sizeof(path), "%s/../tools/xl/qemu-ifup", self);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

static GPtrArray *build_args(struct create_ctx *c, uint32_t domid,
			     const char *monitor_path)
{
	char *qmp = g_strdup(xl_dom_path(domid, "qmp.sock"));
	struct dm_args_ctx actx = {
		.domid = domid, .vnc_display = c->vnc_display,
		.qmp_path = qmp, .monitor_path = monitor_path,
		.vif_script = xl_vif_script(),
	};
	GPtrArray *groups = dm_args_build(c->d, &actx);

	for (guint i = 0; i < groups->len; i++) {
		struct dm_arg_group *g = g_ptr_array_index(groups, i);

		if (dropped(c, g->key))
			g->dropped = true;
	}
	if (c->paused) {
		struct dm_arg_group *g = g_new0(struct dm_arg_group, 1);

		g->key = g_strdup("paused");
		g->args = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(g->args, g_strdup("-S"));
		g_ptr_array_add(groups, g);
	}
	g_free(qmp);
	return groups;
}

/* ---- VNC: the first free display from 5900+domid (vncunused) ---- */

static bool port_free(const char *listen, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd, one = 1;
	bool ok;

	if (inet_pton(AF_INET, listen, &sa.sin_addr) != 1)
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int pick_vnc_display(struct create_ctx *c, uint32_t domid)
{
	const char *listen = c->d->vnclisten ? c->d->vnclisten : "127.0.0.1";
	int first;

	if (!c->d->vnc || dropped(c, "vnc"))
		return -1;
	if (!c->d->vncunused)
		return c->d->vncdisplay >= 0 ? c->d->vncdisplay : 0;
	first = c->d->vncdisplay >= 0 ? c->d->vncdisplay : (int)domid;
	for (int disp = first; disp < first + 100 && 5900 + disp < 65536; disp++)
		if (port_free(listen, 5900 + disp))
			return disp;
	xl_die("vncunused: no free VNC port from %d", 5900 + first);
}

/* ---- the watcher ---- */

static void wlog(const char *name, uint32_t domid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void wlog(const char *name, uint32_t domid, const char *fmt, ...)
{
	va_list ap;
	time_t t = time(NULL);
	char ts[32];

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&t));
	fprintf(stderr, "xl: %s %s (domain %u): ", ts, name, domid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static pid_t spawn_dm(struct create_ctx *c, char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int log = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			       0644);

		dup2(null, 0);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		setenv("XEN_DOMAIN_ID", argv[2], 1);
		execvp(argv[0], argv);
		fprintf(stderr, "xl: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	return pid;
}

/* The last lines of the log, for a failed start. */
static char *log_tail(const char *log, long from)
{
	FILE *f = fopen(log, "r");
	GString *g = g_string_new(NULL);
	char line[1024];

	if (!f)
		return g_string_free(g, FALSE);
	fseek(f, from, SEEK_SET);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "qemu-dm:", 8))
			g_string_append(g, line);
	fclose(f);
	if (g->len && g->str[g->len - 1] == '\n')
		g_string_truncate(g, g->len - 1);
	return g_string_free(g, FALSE);
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int hvmd_create(struct create_ctx *c, uint32_t *domid, char **err)
{
	struct hvctl_conn *h;
	struct hvctl_create cr = {
		.mem_bytes = c->d->memory_mb << 20, .vcpus = c->d->vcpus,
		.accel = !c->d->accel ? HVCTL_ACCEL_AUTO :
			 !strcmp(c->d->accel, "kvm") ? HVCTL_ACCEL_KVM :
			 HVCTL_ACCEL_SOFT,
	};
	struct hvctl_create_reply r;
	uint32_t rlen = sizeof(r);
	int ret, saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	/* An hvmd that was just leaving (--idle-exit) may close on us
	 * between the check and the request: start one again and retry. */
	for (int attempt = 0;; attempt++) {
		bool transport;

		/* An hvmd started here logs to a file beside its socket, not
		 * to this terminal (it outlives xl). */
		if (saved >= 0 && null >= 0)
			dup2(null, STDERR_FILENO);
		ret = hvctl_ensure_hvmd();
		if (saved >= 0)
			dup2(saved, STDERR_FILENO);
		if (ret < 0) {
			*err = g_strdup_printf("cannot start hvmd: %s",
					       strerror(-ret));
			break;
		}
		ret = hvctl_connect(&h, NULL);
		if (ret == 0) {
			g_strlcpy(cr.name, c->d->name, sizeof(cr.name));
			rlen = sizeof(r);
			ret = hvctl_call(h, HVCTL_DOMAIN_CREATE, &cr, sizeof(cr),
					 NULL, 0, &r, &rlen, NULL, NULL);
			hvctl_close(h);
		}
		transport = ret == -ENOENT || ret == -ECONNREFUSED ||
			    ret == -EPIPE || ret == -ECONNRESET;
		if (ret == 0 || !transport || attempt == 2) {
			if (ret < 0)
				*err = g_strdup_printf("hvmd cannot create the "
					"domain: %s%s", strerror(-ret),
					ret == -ENODEV ? " (no usable /dev/kvm "
					"for accel='kvm')" : ret == -ENOMEM ?
					" (memory)" : "");
			break;
		}
		usleep(200000);
	}
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
	if (ret < 0)
		return ret;
	*domid = r.domid;
	return 0;
}

static void hvmd_destroy(uint32_t domid)
{
	struct hvctl_conn *h;
	struct hvctl_domid d = { domid, 0 };

	if (hvctl_connect(&h, NULL) < 0)
		return;
	hvctl_call(h, HVCTL_DOMAIN_DESTROY, &d, sizeof(d), NULL, 0, NULL, NULL,
		   NULL, NULL);
	hvctl_close(h);
}

static char *join_argv(char **argv)
{
	GString *g = g_string_new(NULL);

	for (char **p = argv; *p; p++) {
		if (p != argv)
			g_string_append_c(g, ' ');
		if (strpbrk(*p, " \t'\"$\\") || !**p) {
			char *q = g_shell_quote(*p);

			g_string_append(g, q);
			g_free(q);
		} else {
			g_string_append(g, *p);
		}
	}
	return g_string_free(g, FALSE);
}

enum stop_kind { STOP_NONE, STOP_POWEROFF, STOP_REBOOT, STOP_CRASH,
		 STOP_DESTROYED };

/*
 * One life of the domain: start its device model, report to xl create
 * (ready_fd >= 0 the first time), wait for it to stop.  Returns why it
 * stopped, or -1 when the device model could not start (*err).
 */
static int run_once(struct create_ctx *c, uint32_t domid, int *ready_fd,
		    pid_t *dm_out, char **err)
{
	char *mon_path = g_strdup(xl_dom_path(domid, "monitor.sock"));
	int lfd = listen_unix(mon_path);
	GPtrArray *groups;
	char **args, **argv;
	struct xl_dom st = { 0 };
	struct hvctl_conn *h = NULL;
	struct hvctl_domid w = { domid, 0 };
	struct qmpc *q = NULL;
	long log_from = file_size(c->log);
	pid_t pid;
	int status = 0, kind = STOP_NONE;
	bool exited = false, connected = false, qmp_reset = false;
	bool qmp_shutdown = false, qmp_host = false;
	JsonNode *n;

	if (lfd < 0) {
		*err = g_strdup_printf("%s: %s", mon_path, strerror(-lfd));
		g_free(mon_path);
		return -1;
	}
	if (hvctl_connect(&h, NULL) == 0)
		hvctl_call(h, HVCTL_WATCH, &w, sizeof(w), NULL, 0, NULL, NULL,
			   NULL, NULL);
	groups = build_args(c, domid, mon_path);
	args = dm_args_flatten(groups);
	argv = with_prog(c->dm, args, NULL);
	g_ptr_array_free(groups, TRUE);
	g_strfreev(args);

	st.domid = domid;
	st.name = c->d->name;
	st.monitor_pid = getpid();
	st.status = "starting";
	st.start_time = time(NULL);
	st.memory_mb = c->d->memory_mb;
	st.vcpus = c->d->vcpus;
	st.vnc_port = c->vnc_display >= 0 ? 5900 + c->vnc_display : 0;
	st.vnc_listen = c->d->vnclisten ? c->d->vnclisten : "127.0.0.1";
	st.vnc_passwd = c->d->vncpasswd;
	st.log = c->log;
	st.config_file = (char *)c->cfg_path;
	st.config = c->config_text;
	st.dm_cmdline = join_argv(argv);
	st.on_poweroff = (char *)xl_action_name(c->d->on_poweroff);
	st.on_reboot = (char *)xl_action_name(c->d->on_reboot);
	st.on_crash = (char *)xl_action_name(c->d->on_crash);
	{
		struct xl_dom *old = xl_dom_load(domid);

		if (old) {
			st.restarts = old->restarts;
			xl_dom_free(old);
		}
	}
	xl_dom_save(&st);
	wlog(c->d->name, domid, "starting the device model: %s", st.dm_cmdline);

	pid = spawn_dm(c, argv);
	g_strfreev(argv);
	st.dm_pid = pid;
	*dm_out = pid;
	xl_dom_save(&st);

	/* The device model connects to our socket once its machine is
	 * built; it answers QMP once the domain runs (or waits, -S). */
	for (int waited = 0; !q && !connected; waited += 100) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int r = poll(&p, 1, 100);

		if (r > 0) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				connected = true;
				q = qmpc_adopt(fd, 60000, err);
			}
		}
		if (!q && waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			break;
		}
		if (waited > 600000) {
			*err = g_strdup("the device model did not start in "
					"10 minutes");
			kill(pid, SIGKILL);
			break;
		}
	}
	close(lfd);
	unlink(mon_path);
	g_free(mon_path);
	if (q && (n = qmpc_call(q, "query-status", NULL, err))) {
		json_node_free(n);
	} else if (q) {
		qmpc_close(q);
		q = NULL;
	}
	/* It connected, then ended before it answered: it ran (a guest that
	 * resets at once); its exit status and hvmd's events say how. */
	if (!q && connected && !exited) {
		waitpid(pid, &status, 0);
		exited = true;
	}
	if (!q && !(connected && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		char *tail;

		if (!exited) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		tail = log_tail(c->log, log_from);
		if (!*err || !**err) {
			g_free(*err);
			*err = g_strdup_printf("the device model failed to start%s%s",
					       *tail ? ":\n" : "", tail);
		} else if (*tail) {
			char *e = g_strdup_printf("%s:\n%s", *err, tail);

			g_free(*err);
			*err = e;
		}
		g_free(tail);
		hvctl_close(h);
		g_free(st.dm_cmdline);
		return -1;
	}
	/* the serial console's pty, for xl console */
	if (q && (n = qmpc_call(q, "query-chardev", NULL, err))) {
		JsonArray *a = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

		for (guint i = 0; a && i < json_array_get_length(a); i++) {
			JsonObject *o = json_array_get_object_element(a, i);
			const char *f = o && json_object_has_member(o, "filename") ?
				json_object_get_string_member(o, "filename") : NULL;

			if (f && !strncmp(f, "pty:", 4)) {
				st.pty = g_strdup(f + 4);
				break;
			}
		}
		json_node_free(n);
	}
	g_clear_pointer(err, g_free);
	if (q && c->d->vncpasswd && st.vnc_port) {
		char *pw = g_strescape(c->d->vncpasswd, NULL);
		char *a = g_strdup_printf("{\"password\": \"%s\"}", pw);

		g_free(pw);
		if ((n = qmpc_call(q, "change-vnc-password", a, err)))
			json_node_free(n);
		else
			wlog(c->d->name, domid, "vncpasswd: %s", *err);
		g_clear_pointer(err, g_free);
		g_free(a);
	}
	st.status = c->paused ? "paused" : "running";
	xl_dom_save(&st);
	if (*ready_fd >= 0) {
		char *line = g_strdup_printf("OK %u %s\n", domid,
					     st.pty ? st.pty : "-");

		if (write(*ready_fd, line, strlen(line)) < 0)
			wlog(c->d->name, domid, "xl create went away");
		g_free(line);
		close(*ready_fd);
		*ready_fd = -1;
	}

	/* Wait for the device model to end, hearing why from its QMP
	 * events and hvmd's. */
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = q ? qmpc_fd(q) : -1, .events = POLLIN },
			{ .fd = h ? hvctl_fd(h) : -1, .events = POLLIN },
		};
		JsonObject *ev;
		struct hvctl_event hev;
		bool closed = false;

		if (!exited)
			poll(p, 2, 500);
		while (q && (ev = qmpc_next_event(q, 0, &closed))) {
			const char *name = json_object_get_string_member(ev, "event");

			if (name && !strcmp(name, "SHUTDOWN") &&
			    json_object_has_member(ev, "data")) {
				JsonObject *dd = json_object_get_object_member(ev, "data");
				const char *why = dd && json_object_has_member(dd, "reason") ?
					json_object_get_string_member(dd, "reason") : "";

				if (!strcmp(why, "guest-reset"))
					qmp_reset = true;
				else if (!strcmp(why, "guest-shutdown"))
					qmp_shutdown = true;
				else if (!strncmp(why, "host-", 5))
					qmp_host = true;
			}
			json_object_unref(ev);
		}
		while (h && hvctl_next_event(h, &hev, false) == 0) {
			if (hev.info.domid != domid)
				continue;
			if (hev.info.state == HVCTL_STATE_SHUTDOWN ||
			    hev.info.state == HVCTL_STATE_DESTROYED) {
				switch (hev.info.reason) {
				case HVCTL_SHUTDOWN_POWEROFF:
					kind = STOP_POWEROFF;
					break;
				case HVCTL_SHUTDOWN_CRASH:
					kind = STOP_CRASH;
					break;
				case HVCTL_SHUTDOWN_REBOOT:
					if (kind == STOP_NONE)
						kind = STOP_REBOOT;
					break;
				default:
					if (kind == STOP_NONE &&
					    hev.info.state == HVCTL_STATE_DESTROYED)
						kind = STOP_DESTROYED;
				}
			}
		}
		if (exited)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = true;  /* one more round for the last events */
	}
	qmpc_close(q);
	hvctl_close(h);
	/* A device model that ends itself with status 0 without a power-off
	 * was reset by its guest before we heard (-no-reboot). */
	if (kind == STOP_NONE && !qmp_host && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		kind = STOP_REBOOT;
	if (qmp_shutdown && kind != STOP_CRASH)
		kind = STOP_POWEROFF;
	if (qmp_reset && kind != STOP_CRASH && kind != STOP_POWEROFF)
		kind = STOP_REBOOT;
	if (kind == STOP_NONE || kind == STOP_DESTROYED) {
		if (WIFSIGNALED(status))
			wlog(c->d->name, domid, "the device model died (signal "
			     "%d)", WTERMSIG(status));
		else if (kind == STOP_NONE)
			wlog(c->d->name, domid, "the device model exited "
			     "(status %d)", WEXITSTATUS(status));
		kind = STOP_DESTROYED;
	}
	g_free(st.pty);
	g_free(st.dm_cmdline);
	return kind;
}

/* A guest that dies this soon after it started this many times in a
 * row is not restarted again (a config that cannot boot would loop). */
#define QUICK_LIFE_S    10
#define QUICK_RESTARTS  5

static void watcher(struct create_ctx *c, uint32_t domid, int ready_fd)
{
	unsigned quick = 0;

	for (;;) {
		char *err = NULL;
		pid_t dm = 0;
		time_t born = time(NULL);
		int kind = run_once(c, domid, &ready_fd, &dm, &err);
		enum xl_action act;
		const char *what;
		struct xl_dom *st;

		if (kind < 0) {
			wlog(c->d->name, domid, "%s", err);
			if (ready_fd >= 0) {
				char *line = g_strdup_printf("ERR %s\n", err);

				if (write(ready_fd, line, strlen(line)) < 0)
					exit(1);
				g_free(line);
			}
			hvmd_destroy(domid);
			xl_dom_remove(domid);
			exit(1);
		}
		if (xl_flag_test(domid, "destroying")) {
			wlog(c->d->name, domid, "destroyed");
			hvmd_destroy(domid);
			xl_dom_remove(domid);
			exit(0);
		}
		switch (kind) {
		case STOP_POWEROFF:
			what = "powered off";
			act = c->d->on_poweroff;
			if (xl_flag_test(domid, "reboot")) {
				what = "shut down for xl reboot";
				act = XL_ACT_RESTART;
			}
			break;
		case STOP_REBOOT:
			what = "rebooted";
			act = c->d->on_reboot;
			break;
		case STOP_CRASH:
			what = "crashed";
			act = c->d->on_crash;
			break;
		default:
			hvmd_destroy(domid);
			xl_dom_remove(domid);
			wlog(c->d->name, domid, "gone; cleaned up");
			exit(1);
		}
		wlog(c->d->name, domid, "%s: %s", what, xl_action_name(act));
		hvmd_destroy(domid);
		if (act == XL_ACT_DESTROY) {
			xl_dom_remove(domid);
			exit(0);
		}
		if (act == XL_ACT_PRESERVE) {
			st = xl_dom_load(domid);
			if (st) {
				g_free(st->status);
				st->status = g_strdup("shutdown");
				g_free(st->reason);
				st->reason = g_strdup(what);
				st->dm_pid = 0;
				st->monitor_pid = 0;
				xl_dom_save(st);
				xl_dom_free(st);
			}
			exit(0);
		}
		/* restart: a new domain, the same guest, a new device model */
		quick = time(NULL) - born < QUICK_LIFE_S ? quick + 1 : 0;
		if (quick >= QUICK_RESTARTS) {
			wlog(c->d->name, domid, "restarting too fast (%u lives "
			     "shorter than %d s in a row); not restarting",
			     quick, QUICK_LIFE_S);
			xl_dom_remove(domid);
			exit(1);
		}
		{
			uint32_t nid;
			unsigned restarts = 0;

			st = xl_dom_load(domid);
			if (st)
				restarts = st->restarts + 1;
			xl_dom_free(st);
			if (hvmd_create(c, &nid, &err) < 0) {
				wlog(c->d->name, domid, "restart failed: %s", err);
				xl_dom_remove(domid);
				exit(1);
			}
			xl_dom_remove(domid);
			st = g_new0(struct xl_dom, 1);
			st->domid = nid;
			st->name = g_strdup(c->d->name);
			st->status = g_strdup("starting");
			st->monitor_pid = getpid();
			st->restarts = restarts;
			xl_dom_save(st);
			xl_dom_free(st);
			wlog(c->d->name, nid, "restarted (was domain %u)", domid);
			domid = nid;
			c->paused = false;
		}
	}
}

/* ---- xl create ---- */

static void usage_create(void)
{
	fprintf(stderr, "usage: xl create [-c] [-p] [-n] [-q] [-V] [-f] CFG "
		"[KEY=VALUE ...]\n"
		"  -c  attach to the serial console after creating\n"
		"  -p  leave the domain paused (xl unpause starts it)\n"
		"  -n  dry run: print the device model's command line\n"
		"  -V  start a VNC viewer on the domain's display\n"
		"  -f FILE  the config file (also the first argument)\n");
	exit(1);
}

static char *settings_text(struct xlcfg *cfg)
{
	GString *g = g_string_new(NULL);

	for (guint i = 0; i < cfg->settings->len; i++) {
		struct xlsetting *s = g_ptr_array_index(cfg->settings, i);
		char *v = xlval_text(s->val);

		if (s->val->type == XLV_STRING)
			g_string_append_printf(g, "%s = '%s'\n", s->key, v);
		else
			g_string_append_printf(g, "%s = %s\n", s->key, v);
		g_free(v);
	}
	return g_string_free(g, FALSE);
}

static const char *find_config(const char *name)
{
	static char path[4096];

	if (access(name, R_OK) == 0 || strchr(name, '/'))
		return name;
	snprintf(path, sizeof(path), "/etc/xen/%s", name);
	if (access(path, R_OK) == 0)
		return path;
	return name;
}

int cmd_create(int argc, char **argv)
{
	struct create_ctx c = { .vnc_display = -1 };
	const char *file = NULL;
	bool console = false, dry = false, quiet = false, viewer = false;
	GPtrArray *over = g_ptr_array_new();
	char *err = NULL;
	uint32_t domid;
	int ready[2];
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c"))
			console = true;
		else if (!strcmp(a, "-p"))
			c.paused = true;
		else if (!strcmp(a, "-n") || !strcmp(a, "--dryrun"))
			dry = true;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			quiet = true;
		else if (!strcmp(a, "-V") || !strcmp(a, "--vncviewer"))
			viewer = true;
		else if (!strcmp(a, "-A") || !strcmp(a, "--vncviewer-autopass") ||
			 !strcmp(a, "-e") || !strcmp(a, "-d") || !strcmp(a, "-F"))
			;       /* Xen's; nothing to do here */
		else if (!strcmp(a, "-f") && i + 1 < argc)
			file = argv[++i];
		else if (!strncmp(a, "--defconfig=", 12))
			file = a + 12;
		else if (a[0] == '-' && a[1])
			usage_create();
		else if (!file && !strchr(a, '='))
			file = a;
		else
			g_ptr_array_add(over, (char *)a);
	}
	if (!file)
		usage_create();
	c.cfg_path = find_config(file);
	c.cfg = xlcfg_new();
	if (!quiet)
		fprintf(stderr, "Parsing config from %s\n", c.cfg_path);
	if (xlcfg_parse_file(c.cfg, c.cfg_path, &err) < 0)
		xl_die("%s", err);
	for (guint i = 0; i < over->len; i++)
		if (xlcfg_override(c.cfg, g_ptr_array_index(over, i), &err) < 0)
			xl_die("%s", err);
	{
		GPtrArray *gnotes = g_ptr_array_new_with_free_func(g_free);
		struct xlcfg *globals = xl_globals_load(gnotes, &err);

		if (err)
			xl_die("%s", err);
		for (guint i = 0; i < gnotes->len; i++)
			xl_msg("%s", (char *)g_ptr_array_index(gnotes, i));
		g_ptr_array_free(gnotes, TRUE);
		c.d = domcfg_from_xlcfg_globals(c.cfg, globals, &err);
		xlcfg_free(globals);
	}
	if (!c.d)
		xl_die("%s", err);
	for (guint i = 0; i < c.d->notes->len; i++)
		xl_msg("%s", (char *)g_ptr_array_index(c.d->notes, i));
	c.config_text = settings_text(c.cfg);
	c.dm = xl_device_model(c.d->dm_path);
	c.dropped = g_ptr_array_new_with_free_func(g_free);

	/* the name must be free */
	{
		struct hvctl_dom_info doms[HVCTL_LIST_MAX];
		int n = xl_hvmd_list(doms, HVCTL_LIST_MAX);
		GPtrArray *st = xl_dom_list();

		for (int i = 0; i < n; i++)
			if (!strcmp(doms[i].name, c.d->name) &&
			    doms[i].state != HVCTL_STATE_DESTROYED)
				xl_die("domain '%s' already exists (ID %u); "
				       "choose another name= or xl destroy it",
				       c.d->name, doms[i].domid);
		for (guint i = 0; i < st->len; i++) {
			struct xl_dom *d = g_ptr_array_index(st, i);

			if (!strcmp(d->name, c.d->name) &&
			    !strcmp(d->status, "shutdown"))
				xl_die("domain '%s' already exists (ID %u, shut "
				       "down and preserved); xl destroy it first",
				       c.d->name, d->domid);
		}
		g_ptr_array_free(st, TRUE);
	}
	probe(&c);
	if (dry) {
		GPtrArray *groups = build_args(&c, 0, NULL);
		char **args = dm_args_flatten(groups);
		char **full = with_prog(c.dm, args, NULL);
		char *line = join_argv(full);

		printf("%s\n", line);
		g_free(line);
		g_strfreev(full);
		g_strfreev(args);
		g_ptr_array_free(groups, TRUE);
		return 0;
	}
	if (hvmd_create(&c, &domid, &err) < 0)
		xl_die("%s", err);
	c.vnc_display = pick_vnc_display(&c, domid);
	xl_dom_remove(domid);           /* a stale one from an earlier hvmd */
	if (g_mkdir_with_parents(xl_dom_path(domid, NULL), 0700) < 0) {
		hvmd_destroy(domid);
		xl_die("cannot make %s: %s", xl_dom_path(domid, NULL),
		       strerror(errno));
	}
	{
		const char *ld = xl_log_dir();

		if (g_mkdir_with_parents(ld, 0755) < 0 || access(ld, W_OK) < 0)
			ld = xl_state_dir();
		c.log = g_strdup_printf("%s/qemu-dm-%s.log", ld, c.d->name);
	}
	if (pipe2(ready, O_CLOEXEC) < 0)
		xl_die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		xl_die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The watcher: its own session, detached from this terminal,
		 * writing to the domain's log. */
		int null = open("/dev/null", O_RDWR);
		int log;

		close(ready[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		log = open(c.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		dup2(null, 0);
		dup2(null, 1);
		if (log >= 0)
			dup2(log, 2);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		watcher(&c, domid, ready[1]);
		_exit(0);
	}
	close(ready[1]);
	waitpid(pid, NULL, 0);
	{
		char buf[8192];
		ssize_t n, got = 0;

		while (got < (ssize_t)sizeof(buf) - 1 &&
		       (n = read(ready[0], buf + got, sizeof(buf) - 1 - got)) > 0)
			got += n;
		buf[got] = '\0';
		close(ready[0]);
		if (strncmp(buf, "OK ", 3)) {
			char *nl = buf[got ? got - 1 : 0] == '\n' ?
				   &buf[got - 1] : NULL;

			if (nl)
				*nl = '\0';
			xl_die("domain '%s' not started: %s (log: %s)", c.d->name,
			       !strncmp(buf, "ERR ", 4) ? buf + 4 :
			       "the watcher process ended", c.log);
		}
	}
	if (!quiet && c.vnc_display >= 0)
		fprintf(stderr, "xl: domain %s (ID %u): VNC display %s:%d "
			"(port %d)\n", c.d->name, domid,
			c.d->vnclisten ? c.d->vnclisten : "127.0.0.1",
			c.vnc_display, 5900 + c.vnc_display);
	if ((viewer || c.d->vncviewer) && c.vnc_display >= 0) {
		char *a[] = { "xl", "vncviewer", NULL, NULL };
		char id[16];
		int vncviewer_main(int argc, char **argv);

		snprintf(id, sizeof(id), "%u", domid);
		a[2] = id;
		if (fork() == 0) {
			setsid();
			_exit(vncviewer_main(3, a));
		}
	}
	if (console)
		return xl_console(domid);
	return 0;
}
