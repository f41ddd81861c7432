/*
 * xl's QMP client (see qmpc.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/xl/qmpc.h"

struct qmpc {
	int fd;
	GString *buf;
	GQueue events;          /* JsonObject * */
};

/* One line (a JSON object), waiting up to timeout_ms; NULL on timeout,
 * EOF or a parse error. */
static JsonObject *read_obj(struct qmpc *q, int timeout_ms, bool *closed)
{
	for (;;) {
		char *nl = memchr(q->buf->str, '\n', q->buf->len);
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		char tmp[4096];
		ssize_t n;
		int r;

		if (nl) {
			size_t len = (size_t)(nl - q->buf->str) + 1;
			char *line = g_strndup(q->buf->str, len);
			JsonParser *jp = json_parser_new();
			JsonObject *o = NULL;

			g_string_erase(q->buf, 0, (gssize)len);
			g_strstrip(line);
			if (*line && json_parser_load_from_data(jp, line, -1, NULL) &&
			    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp)))
				o = json_object_ref(json_node_get_object(
						json_parser_get_root(jp)));
			g_object_unref(jp);
			g_free(line);
			if (o)
				return o;
			continue;
		}
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		n = read(q->fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (closed)
				*closed = true;
			return NULL;
		}
		g_string_append_len(q->buf, tmp, n);
	}
}

struct qmpc *qmpc_adopt(int fd, int timeout_ms, char **err)
{
	struct qmpc *q = g_new0(struct qmpc, 1);
	JsonObject *o;
	JsonNode *r;

	q->fd = fd;
	q->buf = g_string_new(NULL);
	g_queue_init(&q->events);
	o = read_obj(q, timeout_ms, NULL);
	if (!o || !json_object_has_member(o, "QMP")) {
		*err = g_strdup("no QMP greeting from the device model");
		if (o)
			json_object_unref(o);
		qmpc_close(q);
		return NULL;
	}
	json_object_unref(o);
	r = qmpc_call(q, "qmp_capabilities", NULL, err);
	if (!r) {
		qmpc_close(q);
		return NULL;
	}
	json_node_free(r);
	return q;
}

struct qmpc *qmpc_connect(const char *path, char **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err = g_strdup_printf("%s: path too long", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*err = g_strdup_printf("cannot reach the device model's QMP "
				       "socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return qmpc_adopt(fd, 10000, err);
}

void qmpc_close(struct qmpc *q)
{
	JsonObject *o;

	if (!q)
		return;
	while ((o = g_queue_pop_head(&q->events)))
		json_object_unref(o);
	close(q->fd);
	g_string_free(q->buf, TRUE);
	g_free(q);
}

int qmpc_fd(struct qmpc *q)
{
	return q->fd;
}

JsonNode *qmpc_call(struct qmpc *q, const char *cmd, const char *args_json,
		    char **err)
{
	char *msg = g_strdup_printf("{\"execute\": \"%s\"%s%s}\r\n", cmd,
				    args_json ? ", \"arguments\": " : "",
				    args_json ? args_json : "");
	size_t len = strlen(msg), off = 0;

	while (off < len) {
		ssize_t n = send(q->fd, msg + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = g_strdup_printf("the device model closed its "
					       "QMP socket (%s)", strerror(errno));
			g_free(msg);
			return NULL;
		}
		off += (size_t)n;
	}
	g_free(msg);
	for (;;) {
		bool closed = false;
		JsonObject *o = read_obj(q, 30000, &closed);
		JsonNode *ret;

		if (!o) {
			*err = g_strdup(closed ? "the device model closed its "
					"QMP socket" : "no answer from the device "
					"model (30 s)");
			return NULL;
		}
		if (json_object_has_member(o, "event")) {
			g_queue_push_tail(&q->events, o);
			continue;
		}
		if (json_object_has_member(o, "error")) {
			JsonObject *e = json_object_get_object_member(o, "error");
			const char *cls = e && json_object_has_member(e, "class") ?
				json_object_get_string_member(e, "class") : "Error";
			const char *desc = e && json_object_has_member(e, "desc") ?
				json_object_get_string_member(e, "desc") : "";

			*err = g_strdup_printf("%s: %s", cls, desc);
			json_object_unref(o);
			return NULL;
		}
		if (json_object_has_member(o, "return")) {
			ret = json_node_copy(json_object_get_member(o, "return"));
			json_object_unref(o);
			return ret;
		}
		json_object_unref(o);
	}
}

JsonObject *qmpc_next_event(struct qmpc *q, int timeout_ms, bool *closed)
{
	JsonObject *o = g_queue_pop_head(&q->events);

	while (!o) {
		o = read_obj(q, timeout_ms, closed);
		if (!o)
			return NULL;
		if (!json_object_has_member(o, "event")) {
			json_object_unref(o);
			o = NULL;
		}
	}
	return o;
}
