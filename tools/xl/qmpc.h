/*
 * A small QMP client for xl: one connection to a device model's QMP
 * socket, line-delimited JSON, events set aside while waiting for a reply.
 */
#ifndef XL_QMPC_H
#define XL_QMPC_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

struct qmpc;

/* Connect to the server socket at path (or adopt fd >= 0) and negotiate
 * capabilities.  NULL with *err on failure. */
struct qmpc *qmpc_connect(const char *path, char **err);
struct qmpc *qmpc_adopt(int fd, int timeout_ms, char **err);
void qmpc_close(struct qmpc *q);
int qmpc_fd(struct qmpc *q);

/* Run a command; args_json is the arguments object as JSON text or NULL.
 * Returns the "return" node (json_node_free it) or NULL with *err set to
 * the error's class and description. */
JsonNode *qmpc_call(struct qmpc *q, const char *cmd, const char *args_json,
		    char **err);

/* The next event (an object with "event"), waiting up to timeout_ms
 * (-1: forever).  NULL on timeout or when the connection closed (*closed
 * set). */
JsonObject *qmpc_next_event(struct qmpc *q, int timeout_ms, bool *closed);

#endif
