/*
 * ui/ as qemu-dm's core sees it: start the front ends the command line
 * asked for, and the display's QMP commands.
 */
#ifndef UI_UI_H
#define UI_UI_H

#include <json-glib/json-glib.h>
#include <stdint.h>

/* Start VNC / SDL per dm_cfg (after the machine exists).  -1 after
 * printing why (a bad -vnc, a port in use, no window system). */
int ui_init(void);
void ui_fini(void);
/* screendump, set_password, change (vnc password), query-vnc.
 * Returns 0 when cmd is not one of them, 1 when it ran (with *ret, which
 * may stay NULL), -1 with *err (g_free it). */
int ui_qmp_command(const char *cmd, JsonObject *args, JsonNode **ret,
		   char **err);

/* ---- between the files of ui/ ---- */
int vnc_init(const char *spec);
void vnc_fini(void);
int vnc_set_password(const char *password);
JsonNode *vnc_query(void);
int sdl_init(const char *spec);
/* Keymaps (-k) for VNC's keysyms: an index, or -1 for an unknown name;
 * the PC key (qnum) for a keysym, or -1. */
int keymap_find(const char *name);
const char *keymap_names(void);
int keymap_qnum(int map, uint32_t sym);

#endif
