/*
 * xl's per-domain state directory (see state.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvm/hvctl-client.h"
#include "tools/xl/state.h"

const char *xl_state_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("XL_STATE_DIR");

	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/xl", hvctl_socket_dir());
	return dir;
}

const char *xl_dom_path(uint32_t domid, const char *file)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u%s%s", xl_state_dir(), domid,
		 file ? "/" : "", file ? file : "");
	return path;
}

static char *kf_str(GKeyFile *k, const char *key)
{
	char *v = g_key_file_get_string(k, "domain", key, NULL);

	if (v && !*v) {
		g_free(v);
		return NULL;
	}
	return v;
}

struct xl_dom *xl_dom_load(uint32_t domid)
{
	GKeyFile *k = g_key_file_new();
	struct xl_dom *d;

	if (!g_key_file_load_from_file(k, xl_dom_path(domid, "info"),
				       G_KEY_FILE_NONE, NULL)) {
		g_key_file_free(k);
		return NULL;
	}
	d = g_new0(struct xl_dom, 1);
	d->domid = domid;
	d->name = kf_str(k, "name");
	d->dm_pid = (pid_t)g_key_file_get_integer(k, "domain", "dm_pid", NULL);
	d->monitor_pid = (pid_t)g_key_file_get_integer(k, "domain",
						      "monitor_pid", NULL);
	d->status = kf_str(k, "status");
	d->reason = kf_str(k, "reason");
	d->start_time = g_key_file_get_int64(k, "domain", "start_time", NULL);
	d->memory_mb = g_key_file_get_uint64(k, "domain", "memory", NULL);
	d->vcpus = (unsigned)g_key_file_get_integer(k, "domain", "vcpus", NULL);
	d->pty = kf_str(k, "pty");
	d->vnc_port = g_key_file_get_integer(k, "domain", "vnc_port", NULL);
	d->vnc_listen = kf_str(k, "vnc_listen");
	d->vnc_passwd = kf_str(k, "vnc_passwd");
	d->log = kf_str(k, "log");
	d->config_file = kf_str(k, "config_file");
	d->config = kf_str(k, "config");
	d->dm_cmdline = kf_str(k, "dm_cmdline");
	d->on_poweroff = kf_str(k, "on_poweroff");
	d->on_reboot = kf_str(k, "on_reboot");
	d->on_crash = kf_str(k, "on_crash");
	d->restarts = (unsigned)g_key_file_get_integer(k, "domain", "restarts",
						       NULL);
	g_key_file_free(k);
	if (!d->name || !d->status) {
		xl_dom_free(d);
		return NULL;
	}
	return d;
}

static void kf_set(GKeyFile *k, const char *key, const char *v)
{
	g_key_file_set_string(k, "domain", key, v ? v : "");
}

int xl_dom_save(const struct xl_dom *d)
{
	GKeyFile *k = g_key_file_new();
	char *data;
	gsize len;
	gboolean ok;

	if (g_mkdir_with_parents(xl_dom_path(d->domid, NULL), 0700) < 0)
		return -errno;
	kf_set(k, "name", d->name);
	g_key_file_set_integer(k, "domain", "dm_pid", d->dm_pid);
	g_key_file_set_integer(k, "domain", "monitor_pid", d->monitor_pid);
	kf_set(k, "status", d->status);
	kf_set(k, "reason", d->reason);
	g_key_file_set_int64(k, "domain", "start_time", d->start_time);
	g_key_file_set_uint64(k, "domain", "memory", d->memory_mb);
	g_key_file_set_integer(k, "domain", "vcpus", (gint)d->vcpus);
	kf_set(k, "pty", d->pty);
	g_key_file_set_integer(k, "domain", "vnc_port", d->vnc_port);
	kf_set(k, "vnc_listen", d->vnc_listen);
	kf_set(k, "vnc_passwd", d->vnc_passwd);
	kf_set(k, "log", d->log);
	kf_set(k, "config_file", d->config_file);
	kf_set(k, "config", d->config);
	kf_set(k, "dm_cmdline", d->dm_cmdline);
	kf_set(k, "on_poweroff", d->on_poweroff);
	kf_set(k, "on_reboot", d->on_reboot);
	kf_set(k, "on_crash", d->on_crash);
	g_key_file_set_integer(k, "domain", "restarts", (gint)d->restarts);
	data = g_key_file_to_data(k, &len, NULL);
	g_key_file_free(k);
	/* written aside and renamed: readers never see half a file */
	ok = g_file_set_contents_full(xl_dom_path(d->domid, "info"), data,
				      (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT,
				      0600, NULL);
	g_free(data);
	return ok ? 0 : -EIO;
}

void xl_dom_free(struct xl_dom *d)
{
	if (!d)
		return;
	g_free(d->name);
	g_free(d->status);
	g_free(d->reason);
	g_free(d->pty);
	g_free(d->vnc_listen);
	g_free(d->vnc_passwd);
	g_free(d->log);
	g_free(d->config_file);
	g_free(d->config);
	g_free(d->dm_cmdline);
	g_free(d->on_poweroff);
	g_free(d->on_reboot);
	g_free(d->on_crash);
	g_free(d);
}

void xl_dom_remove(uint32_t domid)
{
	char dir[PATH_MAX];
	DIR *dh;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s", xl_dom_path(domid, NULL));
	dh = opendir(dir);
	if (!dh)
		return;
	while ((e = readdir(dh))) {
		char p[PATH_MAX + 256];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(dh);
	rmdir(dir);
}

static gint by_domid(gconstpointer a, gconstpointer b)
{
	const struct xl_dom *x = *(struct xl_dom *const *)a;
	const struct xl_dom *y = *(struct xl_dom *const *)b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

GPtrArray *xl_dom_list(void)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)xl_dom_free);
	DIR *dh = opendir(xl_state_dir());
	struct dirent *e;

	if (!dh)
		return a;
	while ((e = readdir(dh))) {
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);
		struct xl_dom *d;

		if (!*e->d_name || *end || id > UINT32_MAX)
			continue;
		d = xl_dom_load((uint32_t)id);
		if (d)
			g_ptr_array_add(a, d);
	}
	closedir(dh);
	g_ptr_array_sort(a, by_domid);
	return a;
}

bool xl_flag_test(uint32_t domid, const char *flag)
{
	return access(xl_dom_path(domid, flag), F_OK) == 0;
}

void xl_flag_set(uint32_t domid, const char *flag)
{
	int fd = open(xl_dom_path(domid, flag), O_WRONLY | O_CREAT | O_CLOEXEC,
		      0600);

	if (fd >= 0)
		close(fd);
}
