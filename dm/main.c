/*
 * qemu-dm: one device model per guest.
 *
 * Start-up: parse the command line, get guest RAM (from hvmd, or our own
 * in qtest mode), build the PC, connect the test/management channels, let
 * the guest run, and serve I/O from the glib main loop until the guest
 * powers off, a signal arrives, or hvmd goes away.
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/drive.h"
#include "dm/dm-internal.h"
#include "dm/linux-boot.h"
#include "dm/options.h"
#include "ui/ui.h"

GMainLoop *dm_main_loop;
const struct dm_machine_backend *dm_machine_backend;
static int dm_exit_status;
static bool dm_quitting;
static int dm_log_max = DM_LOG_INFO;

void dm_log(int level, const char *fmt, ...)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "" };
	va_list ap;

	if (level > dm_log_max)
		return;
	fprintf(stderr, "qemu-dm: %s", tag[level & 3]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void dm_quit(int status)
{
	if (!dm_quitting)
		dm_exit_status = status;
	dm_quitting = true;
	if (dm_main_loop)
		g_main_loop_quit(dm_main_loop);
}

/* ---- reset and power ---- */

struct reset_entry {
	void (*fn)(void *opaque);
	void *opaque;
};
static GArray *reset_list;

void dm_register_reset(void (*fn)(void *opaque), void *opaque)
{
	struct reset_entry e = { fn, opaque };

	if (!reset_list)
		reset_list = g_array_new(FALSE, FALSE, sizeof(e));
	g_array_append_val(reset_list, e);
}

void dm_machine_reset(void)
{
	if (!reset_list)
		return;
	for (guint i = reset_list->len; i-- > 0;) {
		struct reset_entry *e = &g_array_index(reset_list,
						       struct reset_entry, i);
		e->fn(e->opaque);
	}
}

/* The whole machine: vCPUs stopped, devices reset, vCPUs reset, the
 * kernel reloaded for direct boot, vCPUs started again. */
static void machine_reset_now(void)
{
	bool run = dm_machine_backend && dm_machine_backend->stop;

	if (run)
		dm_machine_backend->stop();
	dm_machine_reset();
	linux_boot_reload();
	if (dm_machine_backend && dm_machine_backend->reset)
		dm_machine_backend->reset();
	linux_boot_cpu_setup();
	if (run && dm_machine_backend->cont)
		dm_machine_backend->cont();
}

/* The idle source of a guest reset that has not run yet (0: none). */
static guint reset_source;

static gboolean reset_deferred(gpointer p)
{
	(void)p;
	reset_source = 0;
	machine_reset_now();
	qmp_event("RESET", "{\"guest\": true, \"reason\": \"guest-reset\"}");
	return G_SOURCE_REMOVE;
}

void dm_request_reset(void)
{
	/* Nothing may run after the access that asked: the vCPUs stop
	 * right after it (hvmd's pause ends the vCPU's run there). */
	if (dm_machine_backend && dm_machine_backend->stop)
		dm_machine_backend->stop();
	if (dm_cfg.no_reboot) {
		dm_log(DM_LOG_INFO, "guest reset; exiting (-no-reboot)");
		qmp_event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-reset\"}");
		dm_quit(0);
		return;
	}
	/* The request comes from inside a guest access the vCPU waits on;
	 * answer it first, then reset from the main loop.  Several requests
	 * before it runs are one reset. */
	if (!reset_source)
		reset_source = g_idle_add(reset_deferred, NULL);
}

void dm_finish_pending_reset(void)
{
	if (!reset_source)
		return;
	g_source_remove(reset_source);
	reset_deferred(NULL);
}

void dm_system_reset(void)
{
	machine_reset_now();
}

void dm_request_poweroff(void)
{
	dm_log(DM_LOG_INFO, "guest powered off");
	qmp_event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
	if (dm_machine_backend && dm_machine_backend->poweroff)
		dm_machine_backend->poweroff();
	dm_quit(0);
}

static gboolean on_signal(gpointer data)
{
	(void)data;
	qmp_event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-signal\"}");
	dm_quit(0);
	return G_SOURCE_CONTINUE;
}

static void write_pidfile(void)
{
	FILE *f;

	if (!dm_cfg.pidfile)
		return;
	f = fopen(dm_cfg.pidfile, "w");
	if (!f) {
		dm_log(DM_LOG_ERR, "-pidfile %s: %s", dm_cfg.pidfile,
		       strerror(errno));
		exit(1);
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

int main(int argc, char **argv)
{
	int ret;

	if (getenv("QEMU_DM_DEBUG"))
		dm_log_max = DM_LOG_DEBUG;
	dm_parse_options(argc, argv);
	/* Images open before anything starts: a bad one is one message. */
	if (drives_init() < 0)
		return 1;
	io_init();
	if (dm_cfg.daemonize && daemon(0, 1) < 0) {
		dm_log(DM_LOG_ERR, "-daemonize: %s", strerror(errno));
		return 1;
	}
	write_pidfile();
	dm_main_loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	g_unix_signal_add(SIGHUP, on_signal, NULL);

	if (dm_cfg.accel == DM_ACCEL_QTEST) {
		dm_clock_init(true);
		ret = guest_ram_init_local(dm_cfg.ram_bytes);
		if (ret < 0) {
			dm_log(DM_LOG_ERR, "cannot allocate %llu MiB of guest "
			       "RAM: %s", (unsigned long long)(dm_cfg.ram_bytes >> 20),
			       strerror(-ret));
			return 1;
		}
	} else {
		dm_clock_init(false);
		if (ioreq_client_init() < 0)
			return 1;
	}
	if (machine_pc_init() < 0)
		goto fail;
	if (qmp_init() < 0 || ui_init() < 0)
		goto fail;
	if (dm_cfg.accel == DM_ACCEL_QTEST &&
	    qtest_init(dm_cfg.qtest, dm_cfg.qtest_log) < 0)
		goto fail;
	if (dm_cfg.accel != DM_ACCEL_QTEST &&
	    (linux_boot_cpu_setup() < 0 || ioreq_client_start() < 0))
		goto fail;
	if (!dm_quitting)
		g_main_loop_run(dm_main_loop);
	if (dm_cfg.accel != DM_ACCEL_QTEST)
		ioreq_client_fini();
	drives_fini();
	if (dm_cfg.pidfile)
		unlink(dm_cfg.pidfile);
	return dm_exit_status;
fail:
	if (dm_cfg.accel != DM_ACCEL_QTEST)
		ioreq_client_fini();
	return 1;
}
