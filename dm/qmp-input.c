/*
 * QMP's input commands, with QEMU's argument shapes:
 *   send-key {"keys": [{"type": "qcode", "data": "ctrl"},
 *                      {"type": "number", "data": 29}], "hold-time": 100}
 *   input-send-event {"events": [
 *       {"type": "key", "data": {"down": true, "key": KEY}},
 *       {"type": "btn", "data": {"down": true, "button": "left"}},
 *       {"type": "rel", "data": {"axis": "x", "value": 10}},
 *       {"type": "abs", "data": {"axis": "y", "value": 16384}}]}
 * They go to the input layer (hw/input/input.c), which hands them to the
 * USB HID devices or the PS/2 ones.  Absolute positions run 0-0x7fff.
 */
#include <string.h>

#include "dm/qmp-input.h"
#include "hw/input.h"

/* Members of a type other than asked read as absent: json-glib's own
 * getters complain and return NULL, which a client must not reach. */
static const char *get_str(JsonObject *o, const char *name, const char *def)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return def;
	return json_node_get_string(n);
}

static bool get_int(JsonObject *o, const char *name, gint64 *v)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_INT64)
		return false;
	*v = json_node_get_int(n);
	return true;
}

/* A KeyValue: its qnum, or -1 with *err set. */
static int key_value(JsonNode *n, char **err)
{
	JsonObject *o = n && JSON_NODE_HOLDS_OBJECT(n) ?
			json_node_get_object(n) : NULL;
	const char *type = get_str(o, "type", NULL);
	JsonNode *data = o ? json_object_get_member(o, "data") : NULL;
	int qnum = -1;

	if (!type || !data || !JSON_NODE_HOLDS_VALUE(data)) {
		*err = g_strdup("a key must be {\"type\": \"qcode\"|\"number\", "
				"\"data\": ...}");
		return -1;
	}
	if (!strcmp(type, "qcode") &&
	    json_node_get_value_type(data) == G_TYPE_STRING) {
		qnum = input_qcode_to_qnum(json_node_get_string(data));
		if (qnum < 0)
			*err = g_strdup_printf("unknown qcode '%s'",
					       json_node_get_string(data));
	} else if (!strcmp(type, "number") &&
		   json_node_get_value_type(data) == G_TYPE_INT64) {
		gint64 v = json_node_get_int(data);

		if (v > 0 && v <= 0xff)
			qnum = (int)v;
		else
			*err = g_strdup_printf("key number %lld is out of range "
					       "1-255", (long long)v);
	} else {
		*err = g_strdup_printf("bad key of type '%s'", type);
	}
	return qnum;
}

static int send_key(JsonObject *args, char **err)
{
	JsonNode *kn = args ? json_object_get_member(args, "keys") : NULL;
	JsonArray *keys = kn && JSON_NODE_HOLDS_ARRAY(kn) ?
			  json_node_get_array(kn) : NULL;
	gint64 hold = 100;
	unsigned qnums[16];
	guint n;

	if (!keys || !(n = json_array_get_length(keys))) {
		*err = g_strdup("send-key needs a non-empty array 'keys'");
		return -1;
	}
	if (n > G_N_ELEMENTS(qnums)) {
		*err = g_strdup("send-key takes at most 16 keys");
		return -1;
	}
	if (args && json_object_has_member(args, "hold-time") &&
	    !get_int(args, "hold-time", &hold))
		hold = -1;
	if (hold < 0 || hold > 60000) {
		*err = g_strdup("hold-time must be 0 to 60000 ms");
		return -1;
	}
	for (guint i = 0; i < n; i++) {
		int q = key_value(json_array_get_element(keys, i), err);

		if (q < 0)
			return -1;
		qnums[i] = (unsigned)q;
	}
	return input_send_keys(qnums, n, (unsigned)hold);
}

static bool get_bool(JsonObject *o, const char *name, bool *v)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_BOOLEAN)
		return false;
	*v = json_node_get_boolean(n);
	return true;
}

static int one_event(JsonObject *ev, bool *mouse, char **err)
{
	const char *type = get_str(ev, "type", "");
	JsonNode *dn = json_object_get_member(ev, "data");
	JsonObject *d = dn && JSON_NODE_HOLDS_OBJECT(dn) ?
			json_node_get_object(dn) : NULL;
	bool down;

	if (!d) {
		*err = g_strdup_printf("event '%s' has no 'data' object", type);
		return -1;
	}
	if (!strcmp(type, "key")) {
		int q = key_value(json_object_get_member(d, "key"), err);

		if (q < 0)
			return -1;
		if (!get_bool(d, "down", &down)) {
			*err = g_strdup("key event needs a boolean 'down'");
			return -1;
		}
		return input_key_qnum((unsigned)q, down);
	}
	if (!strcmp(type, "btn")) {
		static const char *const names[] = {
			[INPUT_BTN_LEFT] = "left", [INPUT_BTN_RIGHT] = "right",
			[INPUT_BTN_MIDDLE] = "middle",
			[INPUT_BTN_WHEEL_UP] = "wheel-up",
			[INPUT_BTN_WHEEL_DOWN] = "wheel-down",
		};
		const char *b = get_str(d, "button", "");

		if (!get_bool(d, "down", &down)) {
			*err = g_strdup("btn event needs a boolean 'down'");
			return -1;
		}
		for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
			if (!strcmp(b, names[i])) {
				input_mouse_button((enum input_button)i, down);
				*mouse = true;
				return 0;
			}
		}
		*err = g_strdup_printf("unknown button '%s'", b);
		return -1;
	}
	if (!strcmp(type, "rel")) {
		const char *axis = get_str(d, "axis", "");
		gint64 v = 0;

		if (!get_int(d, "value", &v) || v < -65535 || v > 65535 ||
		    (strcmp(axis, "x") && strcmp(axis, "y"))) {
			*err = g_strdup("rel event needs axis x|y and a value "
					"within +-65535");
			return -1;
		}
		input_mouse_rel(!strcmp(axis, "x") ? (int)v : 0,
				!strcmp(axis, "y") ? (int)v : 0);
		*mouse = true;
		return 0;
	}
	if (!strcmp(type, "abs")) {
		const char *axis = get_str(d, "axis", "");
		gint64 v = 0;

		if (!get_int(d, "value", &v) || v < 0 || v > INPUT_ABS_MAX ||
		    (strcmp(axis, "x") && strcmp(axis, "y"))) {
			*err = g_strdup("abs event needs axis x|y and a value "
					"0-32767");
			return -1;
		}
		input_mouse_abs(!strcmp(axis, "x") ? (int)v : -1,
				!strcmp(axis, "y") ? (int)v : -1);
		*mouse = true;
		return 0;
	}
	*err = g_strdup_printf("input event type '%s' is not supported "
			       "(key, btn, rel, abs)", type);
	return -1;
}

static int send_events(JsonObject *args, char **err)
{
	JsonNode *en = args ? json_object_get_member(args, "events") : NULL;
	JsonArray *evs = en && JSON_NODE_HOLDS_ARRAY(en) ?
			 json_node_get_array(en) : NULL;
	bool mouse = false;
	int rc = 0;

	if (!evs) {
		*err = g_strdup("input-send-event needs an array 'events'");
		return -1;
	}
	for (guint i = 0; i < json_array_get_length(evs) && !rc; i++) {
		JsonNode *n = json_array_get_element(evs, i);

		if (!JSON_NODE_HOLDS_OBJECT(n)) {
			*err = g_strdup("each event must be an object");
			rc = -1;
		} else {
			rc = one_event(json_node_get_object(n), &mouse, err);
		}
	}
	/* Like evdev's SYN: one mouse report for the whole batch. */
	if (mouse)
		input_mouse_sync();
	return rc;
}

int qmp_input_command(const char *cmd, JsonObject *args, char **err)
{
	int rc;

	*err = NULL;
	if (!strcmp(cmd, "send-key"))
		rc = send_key(args, err);
	else if (!strcmp(cmd, "input-send-event"))
		rc = send_events(args, err);
	else
		return 0;
	if (rc < 0 && !*err)
		*err = g_strdup_printf("%s: bad arguments", cmd);
	return rc < 0 ? -1 : 1;
}
