/*
 * QMP, QEMU's JSON management protocol, for toolstacks and tests.
 *
 * Each connection gets the greeting, must negotiate with
 * qmp_capabilities, then may run commands; events go to every negotiated
 * connection.  The byte stream is cut into top-level JSON values by a
 * small splitter that only counts brackets outside strings; json-glib
 * does the parsing proper.  A malformed message gets an error reply and
 * the connection stays up.
 */
#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dm/chardev.h"
#include "block/drive.h"
#include "dm/dm-internal.h"
#include "dm/options.h"
#include "dm/qmp-input.h"
#include "dm/usb-setup.h"
#include "net/net-dm.h"
#include "ui/ui.h"

#define QMP_MAX_MSG (1u << 20)

struct qmp_conn {
	int fd;
	bool negotiated;
	GString *buf;
	/* splitter state */
	size_t scanned;
	int depth;
	bool in_str, esc;
};

static GPtrArray *qmp_conns;
static void (*powerdown_fn)(void *);
static void *powerdown_opaque;
static const char *run_state = "running";

void dm_set_powerdown_handler(void (*fn)(void *opaque), void *opaque)
{
	powerdown_fn = fn;
	powerdown_opaque = opaque;
}

static void qmp_send(struct qmp_conn *c, const char *json)
{
	size_t len = strlen(json);

	while (len) {
		ssize_t n = send(c->fd, json, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		json += n;
		len -= (size_t)n;
	}
	if (send(c->fd, "\r\n", 2, MSG_NOSIGNAL) < 0)
		return;
}

static void qmp_send_node(struct qmp_conn *c, JsonNode *node)
{
	char *s = json_to_string(node, FALSE);

	qmp_send(c, s);
	g_free(s);
}

/* {"return": ret, "id": id} */
static void qmp_return(struct qmp_conn *c, JsonNode *ret, JsonNode *id)
{
	JsonObject *o = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_object_set_member(o, "return",
			       ret ? ret : json_node_init_object(
					       json_node_alloc(),
					       json_object_new()));
	if (id)
		json_object_set_member(o, "id", json_node_copy(id));
	json_node_take_object(n, o);
	qmp_send_node(c, n);
	json_node_unref(n);
}

static void qmp_error(struct qmp_conn *c, const char *cls, const char *desc,
		      JsonNode *id)
{
	JsonObject *o = json_object_new(), *e = json_object_new();
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(e, "class", cls);
	json_object_set_string_member(e, "desc", desc);
	json_object_set_object_member(o, "error", e);
	if (id)
		json_object_set_member(o, "id", json_node_copy(id));
	json_node_take_object(n, o);
	qmp_send_node(c, n);
	json_node_unref(n);
}

void qmp_event(const char *name, const char *data_json)
{
	gint64 now;
	char *msg;

	if (!qmp_conns)
		return;
	now = g_get_real_time();
	msg = g_strdup_printf("{\"event\": \"%s\", \"data\": %s, "
			      "\"timestamp\": {\"seconds\": %lld, "
			      "\"microseconds\": %lld}}",
			      name, data_json ? data_json : "{}",
			      (long long)(now / 1000000),
			      (long long)(now % 1000000));
	for (guint i = 0; i < qmp_conns->len; i++) {
		struct qmp_conn *c = g_ptr_array_index(qmp_conns, i);

		if (c->negotiated)
			qmp_send(c, msg);
	}
	g_free(msg);
}

static const char *const qmp_command_names[] = {
	"qmp_capabilities", "query-status", "query-version",
	"query-commands", "query-name", "stop", "cont", "system_reset",
	"system_powerdown", "quit", "send-key", "input-send-event",
	"query-chardev", "query-machines", "query-block", "eject", "change",
	"blockdev-change-medium", "blockdev-open-tray", "blockdev-close-tray",
	"set_link",
	"screendump", "set_password", "query-vnc", "qom-list-types",
};

static JsonNode *qmp_query_commands(void)
{
	JsonArray *a = json_array_new();
	JsonNode *n = json_node_new(JSON_NODE_ARRAY);

	for (size_t i = 0; i < G_N_ELEMENTS(qmp_command_names); i++) {
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "name", qmp_command_names[i]);
		json_array_add_object_element(a, o);
	}
	json_node_take_array(n, a);
	return n;
}

static JsonNode *qmp_query_chardev(void)
{
	JsonArray *a = json_array_new();
	JsonNode *n = json_node_new(JSON_NODE_ARRAY);
	const char *label, *filename;
	bool open;

	for (unsigned i = 0; chardev_info(i, &label, &filename, &open); i++) {
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "label", label);
		json_object_set_string_member(o, "filename", filename);
		json_object_set_boolean_member(o, "frontend-open", open);
		json_array_add_object_element(a, o);
	}
	json_node_take_array(n, a);
	return n;
}

/*
 * The machine types -machine accepts.  QEMU's libqtest asks for this list
 * (qtest_has_machine) before it decides which test cases to register.
 */
static JsonNode *qmp_query_machines(void)
{
	static const struct { const char *name, *alias; bool dflt; } m[] = {
		{ "pc-i440fx-7.2", "pc", true },
		{ "xenfv", NULL, false },
		{ "none", NULL, false },
	};
	JsonArray *a = json_array_new();
	JsonNode *n = json_node_new(JSON_NODE_ARRAY);

	for (size_t i = 0; i < G_N_ELEMENTS(m); i++) {
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "name", m[i].name);
		if (m[i].alias)
			json_object_set_string_member(o, "alias", m[i].alias);
		if (m[i].dflt)
			json_object_set_boolean_member(o, "is-default", TRUE);
		json_object_set_int_member(o, "cpu-max", 128);
		json_object_set_boolean_member(o, "hotpluggable-cpus", FALSE);
		json_object_set_boolean_member(o, "numa-mem-supported", FALSE);
		json_object_set_boolean_member(o, "deprecated", FALSE);
		json_object_set_boolean_member(o, "acpi", TRUE);
		json_array_add_object_element(a, o);
	}
	json_node_take_array(n, a);
	return n;
}

void qmp_system_powerdown(void)
{
	qmp_event("POWERDOWN", NULL);
	if (powerdown_fn)
		powerdown_fn(powerdown_opaque);
}

/* qom-list-types, for QEMU's qtest_has_device: the -device types (a
 * new one belongs here too). */
static JsonNode *qmp_list_device_types(void)
{
	static const char *const types[] = {
		"VGA", "isa-serial", "pc-testdev", "hvm-testdev",
		"hvm-pci-testdev", "ne2k_pci", "ne2k_isa", "rtl8139",
		"usb-tablet", "usb-mouse", "usb-kbd", "usb-hub",
	};
	JsonArray *a = json_array_new();
	JsonNode *n = json_node_new(JSON_NODE_ARRAY);

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "name", types[i]);
		json_array_add_object_element(a, o);
	}
	json_node_take_array(n, a);
	return n;
}

static void qmp_set_running(bool running)
{
	if (dm_machine_backend && running && dm_machine_backend->cont)
		dm_machine_backend->cont();
	if (dm_machine_backend && !running && dm_machine_backend->stop)
		dm_machine_backend->stop();
	run_state = running ? "running" : "paused";
	qmp_event(running ? "RESUME" : "STOP", NULL);
}

static void qmp_dispatch(struct qmp_conn *c, const char *cmd, JsonNode *id,
			 JsonObject *args)
{
	JsonNode *ret = NULL;
	char *err = NULL;
	int rc;

	if (!c->negotiated) {
		if (!strcmp(cmd, "qmp_capabilities")) {
			c->negotiated = true;
			qmp_return(c, NULL, id);
		} else {
			qmp_error(c, "CommandNotFound",
				  "Expecting capabilities negotiation with "
				  "'qmp_capabilities'", id);
		}
		return;
	}
	if (!strcmp(cmd, "qmp_capabilities")) {
		qmp_error(c, "CommandNotFound",
			  "Capabilities negotiation is already complete, "
			  "command ignored", id);
		return;
	}
	if (!strcmp(cmd, "query-status")) {
		ret = json_from_string("{}", NULL);
		JsonObject *o = json_node_get_object(ret);
		json_object_set_string_member(o, "status", run_state);
		json_object_set_boolean_member(o, "running",
					       !strcmp(run_state, "running"));
		json_object_set_boolean_member(o, "singlestep", FALSE);
	} else if (!strcmp(cmd, "query-version")) {
		ret = json_from_string(
			"{\"qemu\": {\"major\": 8, \"minor\": 2, \"micro\": 0},"
			" \"package\": \"qemu-dm\"}", NULL);
	} else if (!strcmp(cmd, "query-name")) {
		ret = json_from_string("{}", NULL);
		if (dm_cfg.name)
			json_object_set_string_member(json_node_get_object(ret),
						      "name", dm_cfg.name);
	} else if (!strcmp(cmd, "query-chardev")) {
		ret = qmp_query_chardev();
	} else if (!strcmp(cmd, "query-machines")) {
		ret = qmp_query_machines();
	} else if (!strcmp(cmd, "query-commands")) {
		ret = qmp_query_commands();
	} else if (!strcmp(cmd, "stop")) {
		if (strcmp(run_state, "paused"))
			qmp_set_running(false);
	} else if (!strcmp(cmd, "cont")) {
		if (strcmp(run_state, "running"))
			qmp_set_running(true);
	} else if (!strcmp(cmd, "system_reset")) {
		dm_system_reset();
		qmp_return(c, NULL, id);
		qmp_event("RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
		return;
	} else if (!strcmp(cmd, "system_powerdown")) {
		qmp_return(c, NULL, id);
		qmp_system_powerdown();
		return;
	} else if (!strcmp(cmd, "qom-list-types")) {
		ret = qmp_list_device_types();
	} else if (!strcmp(cmd, "quit")) {
		qmp_return(c, NULL, id);
		qmp_event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
		dm_quit(0);
		return;
	} else if ((rc = ui_qmp_command(cmd, args, &ret, &err)) != 0 ||
		   (rc = qmp_block_command(cmd, args, &ret, &err)) != 0 ||
		   (rc = qmp_input_command(cmd, args, &err)) != 0 ||
		   (rc = qmp_usb_command(cmd, args, &err)) != 0 ||
		   (rc = net_qmp_command(cmd, args, &err)) != 0) {
		if (rc < 0) {
			qmp_error(c, "GenericError", err, id);
			g_free(err);
			return;
		}
	} else {
		char *d = g_strdup_printf("The command %s has not been found",
					  cmd);
		qmp_error(c, "CommandNotFound", d, id);
		g_free(d);
		return;
	}
	qmp_return(c, ret, id);
}

static void qmp_handle(struct qmp_conn *c, const char *text)
{
	JsonParser *p = json_parser_new();
	JsonNode *root, *id = NULL;
	JsonObject *o;
	const char *cmd;

	dm_finish_pending_reset();
	if (!json_parser_load_from_data(p, text, -1, NULL)) {
		qmp_error(c, "GenericError", "JSON parse error", NULL);
		goto out;
	}
	root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		qmp_error(c, "GenericError",
			  "QMP input must be a JSON object", NULL);
		goto out;
	}
	o = json_node_get_object(root);
	if (json_object_has_member(o, "id"))
		id = json_object_get_member(o, "id");
	if (!json_object_has_member(o, "execute")) {
		qmp_error(c, "GenericError",
			  "QMP input lacks member 'execute'", id);
		goto out;
	}
	JsonNode *ex = json_object_get_member(o, "execute");
	if (!JSON_NODE_HOLDS_VALUE(ex) ||
	    json_node_get_value_type(ex) != G_TYPE_STRING) {
		qmp_error(c, "GenericError",
			  "QMP input member 'execute' must be a string", id);
		goto out;
	}
	cmd = json_node_get_string(ex);
	JsonNode *an = json_object_get_member(o, "arguments");
	qmp_dispatch(c, cmd, id, an && JSON_NODE_HOLDS_OBJECT(an) ?
		     json_node_get_object(an) : NULL);
out:
	g_object_unref(p);
}

static void qmp_conn_free(struct qmp_conn *c)
{
	close(c->fd);
	g_string_free(c->buf, TRUE);
	g_ptr_array_remove(qmp_conns, c);
	g_free(c);
}

/* Cut complete top-level JSON values off the front of the buffer. */
static void qmp_split(struct qmp_conn *c)
{
	while (c->scanned < c->buf->len) {
		char ch = c->buf->str[c->scanned++];

		if (c->in_str) {
			if (c->esc)
				c->esc = false;
			else if (ch == '\\')
				c->esc = true;
			else if (ch == '"')
				c->in_str = false;
			continue;
		}
		if (ch == '"') {
			c->in_str = true;
		} else if (ch == '{' || ch == '[') {
			c->depth++;
		} else if (ch == '}' || ch == ']') {
			if (--c->depth <= 0) {
				char *msg = g_strndup(c->buf->str, c->scanned);

				g_string_erase(c->buf, 0, (gssize)c->scanned);
				c->scanned = 0;
				c->depth = 0;
				qmp_handle(c, msg);
				g_free(msg);
			}
		} else if (c->depth == 0 && !g_ascii_isspace(ch)) {
			/* Garbage between messages: answer once per run of
			 * it and resynchronise at the next newline. */
			char *nl = memchr(c->buf->str + c->scanned - 1, '\n',
					  c->buf->len - c->scanned + 1);
			size_t cut = nl ? (size_t)(nl - c->buf->str) + 1
					: c->buf->len;

			g_string_erase(c->buf, 0, (gssize)cut);
			c->scanned = 0;
			qmp_error(c, "GenericError", "JSON parse error", NULL);
		}
	}
	if (c->buf->len > QMP_MAX_MSG) {
		qmp_error(c, "GenericError", "message too long", NULL);
		g_string_truncate(c->buf, 0);
		c->scanned = 0;
		c->depth = 0;
		c->in_str = c->esc = false;
	}
}

static gboolean qmp_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct qmp_conn *c = data;
	char chunk[4096];
	ssize_t n;

	(void)cond;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		qmp_conn_free(c);
		return G_SOURCE_REMOVE;
	}
	g_string_append_len(c->buf, chunk, n);
	qmp_split(c);
	return G_SOURCE_CONTINUE;
}

static void qmp_conn_new(int fd)
{
	struct qmp_conn *c = g_new0(struct qmp_conn, 1);

	c->fd = fd;
	c->buf = g_string_new(NULL);
	g_ptr_array_add(qmp_conns, c);
	qmp_send(c, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, "
		    "\"minor\": 2, \"major\": 8}, \"package\": \"qemu-dm\"}, "
		    "\"capabilities\": []}}");
	g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, qmp_readable, c);
}

static gboolean qmp_accept(gint fd, GIOCondition cond, gpointer data)
{
	int c;

	(void)cond;
	(void)data;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c >= 0)
		qmp_conn_new(c);
	return G_SOURCE_CONTINUE;
}

/* path + server flag -> a connected or listening socket, or -errno. */
static int qmp_open(const char *path, bool server)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (server) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(fd, 4) < 0)
			goto fail;
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		goto fail;
	}
	return fd;
fail:
	e = -errno;
	close(fd);
	return e;
}

static bool opt_flag(const char *spec, const char *name, bool def)
{
	char *v = opt_get(spec, name);
	bool r = def;
	char **parts;

	if (v) {
		r = !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true");
		g_free(v);
		return r;
	}
	parts = g_strsplit(spec, ",", 0);
	for (char **p = parts; *p; p++) {
		if (!strcmp(*p, name))
			r = true;
		else if (!strncmp(*p, "no", 2) && !strcmp(*p + 2, name))
			r = false;
	}
	g_strfreev(parts);
	return r;
}

/* A -qmp spec, or a -mon whose chardev= names a -chardev socket. */
static int qmp_add(const char *spec)
{
	char *path = NULL;
	bool server;
	int fd;

	if (!strncmp(spec, "chardev=", 8) || strstr(spec, ",chardev=") ||
	    strstr(spec, "mode=control")) {
		char *id = opt_get(spec, "chardev");
		const char *cd = NULL;

		for (unsigned i = 0; id && i < dm_cfg.nchardev; i++) {
			char *cid = opt_get(dm_cfg.chardev[i], "id");

			if (cid && !strcmp(cid, id))
				cd = dm_cfg.chardev[i];
			g_free(cid);
		}
		if (!cd || strncmp(cd, "socket,", 7)) {
			dm_log(DM_LOG_ERR, "-mon %s: no -chardev socket,id=%s",
			       spec, id ? id : "?");
			g_free(id);
			return -1;
		}
		g_free(id);
		path = opt_get(cd, "path");
		server = opt_flag(cd, "server", false);
		spec = cd;
	} else if (!strncmp(spec, "unix:", 5)) {
		path = g_strdup(spec + 5);
		char *comma = strchr(path, ',');
		if (comma)
			*comma = '\0';
		server = opt_flag(spec, "server", false);
	} else {
		dm_log(DM_LOG_ERR, "-qmp %s: expected unix:PATH[,server,nowait]",
		       spec);
		return -1;
	}
	if (!path) {
		dm_log(DM_LOG_ERR, "%s: no socket path", spec);
		return -1;
	}
	fd = qmp_open(path, server);
	if (fd < 0) {
		dm_log(DM_LOG_ERR, "QMP socket %s: %s", path, strerror(-fd));
		g_free(path);
		return -1;
	}
	g_free(path);
	if (server)
		g_unix_fd_add(fd, G_IO_IN, qmp_accept, NULL);
	else
		qmp_conn_new(fd);
	return 0;
}

int qmp_init(void)
{
	qmp_conns = g_ptr_array_new();
	if (dm_cfg.start_paused)
		run_state = "prelaunch";
	for (unsigned i = 0; i < dm_cfg.nqmp; i++)
		if (qmp_add(dm_cfg.qmp[i]) < 0)
			return -1;
	return 0;
}
