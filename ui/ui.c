/*
 * Which front ends run, and the display's QMP commands.
 */
#include <errno.h>
#include <string.h>

#include "config.h"

#include "dm/dm-internal.h"
#include "ui/console.h"
#include "ui/ui.h"

#ifndef CONFIG_VNC
int vnc_init(const char *spec)
{
	dm_log(DM_LOG_ERR, "-vnc %s: this qemu-dm was built without VNC "
	       "(./configure without --disable-vnc)", spec);
	return -1;
}
void vnc_fini(void) {}
int vnc_set_password(const char *password) { (void)password; return -1; }
JsonNode *vnc_query(void) { return json_from_string("{\"enabled\": false}", NULL); }
#endif
#ifndef CONFIG_SDL
int sdl_init(const char *spec)
{
	dm_log(DM_LOG_ERR, "-display %s: this qemu-dm was built without SDL "
	       "(./configure without --disable-sdl)", spec);
	return -1;
}
#endif

int ui_init(void)
{
#ifdef CONFIG_VNC
	if (dm_cfg.keymap && keymap_find(dm_cfg.keymap) < 0) {
		dm_log(DM_LOG_ERR, "-k %s: unknown keyboard layout; known: %s",
		       dm_cfg.keymap, keymap_names());
		return -1;
	}
#endif
	if (dm_cfg.vnc && strcmp(dm_cfg.vnc, "none") && vnc_init(dm_cfg.vnc) < 0)
		return -1;
	if (dm_cfg.display && !strncmp(dm_cfg.display, "vnc", 3)) {
		const char *eq = strchr(dm_cfg.display, '=');

		if (!eq) {
			dm_log(DM_LOG_ERR, "-display vnc: give the display, "
			       "as in -display vnc=:1");
			return -1;
		}
		if (vnc_init(eq + 1) < 0)
			return -1;
	}
	if (dm_cfg.display && !strncmp(dm_cfg.display, "sdl", 3) &&
	    sdl_init(dm_cfg.display) < 0)
		return -1;
	return 0;
}

void ui_fini(void)
{
	vnc_fini();
}

static const char *arg_str(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

int ui_qmp_command(const char *cmd, JsonObject *args, JsonNode **ret,
		   char **err)
{
	if (!strcmp(cmd, "screendump")) {
		const char *file = arg_str(args, "filename");

		if (!file) {
			*err = g_strdup("screendump: give \"filename\"");
			return -1;
		}
		if (console_screendump(console_primary(), file,
				       arg_str(args, "format"), err) < 0)
			return -1;
		return 1;
	}
	if (!strcmp(cmd, "set_password") || !strcmp(cmd, "change")) {
		const char *proto = arg_str(args, "protocol");
		const char *pw = arg_str(args, "password");

		if (!strcmp(cmd, "change")) {
			/* change device=vnc target=password arg=SECRET;
			 * other devices are the block layer's. */
			const char *dev = arg_str(args, "device");
			const char *target = arg_str(args, "target");

			if (!dev || strcmp(dev, "vnc"))
				return 0;
			if (!target || strcmp(target, "password")) {
				*err = g_strdup("change: only device \"vnc\" "
						"with target \"password\"");
				return -1;
			}
			proto = "vnc";
			pw = arg_str(args, "arg");
		}
		if (!proto || strcmp(proto, "vnc") || !pw) {
			*err = g_strdup("set_password: give protocol \"vnc\" "
					"and \"password\"");
			return -1;
		}
		if (vnc_set_password(pw) < 0) {
			*err = g_strdup("set_password: VNC is not running "
					"with the password option "
					"(-vnc :N,password)");
			return -1;
		}
		return 1;
	}
	if (!strcmp(cmd, "query-vnc")) {
		*ret = vnc_query();
		return 1;
	}
	return 0;
}
