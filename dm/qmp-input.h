#ifndef DM_QMP_INPUT_H
#define DM_QMP_INPUT_H

#include <json-glib/json-glib.h>

/* The QMP commands send-key and input-send-event.  Returns 0 when cmd is
 * not one of them, 1 when it ran, -1 with *err (g_free it) when its
 * arguments were bad. */
int qmp_input_command(const char *cmd, JsonObject *args, char **err);

#endif
