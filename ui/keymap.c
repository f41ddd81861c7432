/*
 * Keymaps (-k): which PC key types a keysym on the guest's keyboard
 * layout.  A VNC client sends keysyms (the symbol, not the key); the
 * guest, set up for the same layout as the user, turns scan codes back
 * into symbols, so each symbol must go to the key that carries it on
 * that layout.  Shift and AltGr are sent by the client as keys of their
 * own, so shifted and AltGr symbols map to their base key.
 *
 * en-us is the base table; en-gb, de and fr list where they differ.
 * Keys are QEMU's qnums: the set 1 make code, plus 0x80 for 0xe0 keys.
 */
#include <glib.h>
#include <rfb/keysym.h>
#include <string.h>

#include "ui/ui.h"

struct keymap_entry {
	uint32_t sym;
	uint8_t qnum;
};

static const struct keymap_entry special_keys[] = {
	{ XK_BackSpace, 0x0e }, { XK_Tab, 0x0f }, { XK_ISO_Left_Tab, 0x0f },
	{ XK_Return, 0x1c }, { XK_Escape, 0x01 }, { XK_Delete, 0xd3 },
	{ XK_Home, 0xc7 }, { XK_Left, 0xcb }, { XK_Up, 0xc8 },
	{ XK_Right, 0xcd }, { XK_Down, 0xd0 }, { XK_Page_Up, 0xc9 },
	{ XK_Page_Down, 0xd1 }, { XK_End, 0xcf }, { XK_Insert, 0xd2 },
	{ XK_F1, 0x3b }, { XK_F2, 0x3c }, { XK_F3, 0x3d }, { XK_F4, 0x3e },
	{ XK_F5, 0x3f }, { XK_F6, 0x40 }, { XK_F7, 0x41 }, { XK_F8, 0x42 },
	{ XK_F9, 0x43 }, { XK_F10, 0x44 }, { XK_F11, 0x57 }, { XK_F12, 0x58 },
	{ XK_Shift_L, 0x2a }, { XK_Shift_R, 0x36 }, { XK_Control_L, 0x1d },
	{ XK_Control_R, 0x9d }, { XK_Caps_Lock, 0x3a }, { XK_Alt_L, 0x38 },
	{ XK_Alt_R, 0xb8 }, { XK_Meta_L, 0x38 }, { XK_Meta_R, 0xb8 },
	{ XK_ISO_Level3_Shift, 0xb8 }, { XK_Mode_switch, 0xb8 },
	{ XK_Super_L, 0xdb }, { XK_Super_R, 0xdc }, { XK_Menu, 0xdd },
	{ XK_Num_Lock, 0x45 }, { XK_Scroll_Lock, 0x46 }, { XK_Print, 0xb7 },
	{ XK_Sys_Req, 0xb7 }, { XK_KP_Enter, 0x9c }, { XK_KP_Multiply, 0x37 },
	{ XK_KP_Add, 0x4e }, { XK_KP_Subtract, 0x4a }, { XK_KP_Decimal, 0x53 },
	{ XK_KP_Divide, 0xb5 }, { XK_KP_0, 0x52 }, { XK_KP_1, 0x4f },
	{ XK_KP_2, 0x50 }, { XK_KP_3, 0x51 }, { XK_KP_4, 0x4b },
	{ XK_KP_5, 0x4c }, { XK_KP_6, 0x4d }, { XK_KP_7, 0x47 },
	{ XK_KP_8, 0x48 }, { XK_KP_9, 0x49 }, { XK_KP_Insert, 0x52 },
	{ XK_KP_End, 0x4f }, { XK_KP_Down, 0x50 }, { XK_KP_Page_Down, 0x51 },
	{ XK_KP_Left, 0x4b }, { XK_KP_Begin, 0x4c }, { XK_KP_Right, 0x4d },
	{ XK_KP_Home, 0x47 }, { XK_KP_Up, 0x48 }, { XK_KP_Page_Up, 0x49 },
	{ XK_KP_Delete, 0x53 }, { XK_space, 0x39 },
};

/* en-us: rows of the main block, unshifted and shifted. */
static const char us_rows[][2][16] = {
	{ "1234567890-=", "!@#$%^&*()_+" },     /* 0x02-0x0d */
	{ "qwertyuiop[]", "QWERTYUIOP{}" },     /* 0x10-0x1b */
	{ "asdfghjkl;'`", "ASDFGHJKL:\"~" },    /* 0x1e-0x29 */
	{ "\\zxcvbnm,./", "|ZXCVBNM<>?" },      /* 0x2b-0x35 */
};
static const uint8_t us_row_base[] = { 0x02, 0x10, 0x1e, 0x2b };

static const struct keymap_entry en_gb[] = {
	{ '"', 0x03 }, { XK_sterling, 0x04 }, { '@', 0x28 }, { '#', 0x2b },
	{ '~', 0x2b }, { '\\', 0x56 }, { '|', 0x56 }, { XK_notsign, 0x29 },
	{ XK_brokenbar, 0x29 },
};

static const struct keymap_entry de[] = {
	{ 'y', 0x2c }, { 'Y', 0x2c }, { 'z', 0x15 }, { 'Z', 0x15 },
	{ '"', 0x03 }, { XK_section, 0x04 }, { '&', 0x07 }, { '/', 0x08 },
	{ '{', 0x08 }, { '(', 0x09 }, { '[', 0x09 }, { ')', 0x0a },
	{ ']', 0x0a }, { '=', 0x0b }, { '}', 0x0b }, { XK_ssharp, 0x0c },
	{ '?', 0x0c }, { '\\', 0x0c }, { XK_dead_acute, 0x0d },
	{ XK_dead_grave, 0x0d }, { XK_acute, 0x0d }, { '`', 0x0d },
	{ '@', 0x10 }, { XK_EuroSign, 0x12 }, { XK_udiaeresis, 0x1a },
	{ XK_Udiaeresis, 0x1a }, { '+', 0x1b }, { '*', 0x1b }, { '~', 0x1b },
	{ XK_odiaeresis, 0x27 }, { XK_Odiaeresis, 0x27 },
	{ XK_adiaeresis, 0x28 }, { XK_Adiaeresis, 0x28 },
	{ XK_dead_circumflex, 0x29 }, { '^', 0x29 }, { XK_degree, 0x29 },
	{ '#', 0x2b }, { '\'', 0x2b }, { ',', 0x33 }, { ';', 0x33 },
	{ '.', 0x34 }, { ':', 0x34 }, { '-', 0x35 }, { '_', 0x35 },
	{ '<', 0x56 }, { '>', 0x56 }, { '|', 0x56 }, { XK_mu, 0x32 },
};

static const struct keymap_entry fr[] = {
	{ 'a', 0x10 }, { 'A', 0x10 }, { 'q', 0x1e }, { 'Q', 0x1e },
	{ 'z', 0x11 }, { 'Z', 0x11 }, { 'w', 0x2c }, { 'W', 0x2c },
	{ 'm', 0x27 }, { 'M', 0x27 }, { '&', 0x02 }, { XK_eacute, 0x03 },
	{ '~', 0x03 }, { '"', 0x04 }, { '#', 0x04 }, { '\'', 0x05 },
	{ '{', 0x05 }, { '(', 0x06 }, { '[', 0x06 }, { '-', 0x07 },
	{ '|', 0x07 }, { XK_egrave, 0x08 }, { '`', 0x08 }, { '_', 0x09 },
	{ '\\', 0x09 }, { XK_ccedilla, 0x0a }, { '^', 0x0a },
	{ XK_agrave, 0x0b }, { '@', 0x0b }, { ')', 0x0c }, { XK_degree, 0x0c },
	{ ']', 0x0c }, { '=', 0x0d }, { '+', 0x0d }, { '}', 0x0d },
	{ XK_EuroSign, 0x12 }, { XK_dead_circumflex, 0x1a },
	{ XK_dead_diaeresis, 0x1a }, { '$', 0x1b }, { XK_sterling, 0x1b },
	{ XK_ugrave, 0x28 }, { '%', 0x28 }, { XK_twosuperior, 0x29 },
	{ '*', 0x2b }, { XK_mu, 0x2b }, { ',', 0x32 }, { '?', 0x32 },
	{ ';', 0x33 }, { '.', 0x33 }, { ':', 0x34 }, { '/', 0x34 },
	{ '!', 0x35 }, { XK_section, 0x35 }, { '<', 0x56 }, { '>', 0x56 },
};

static const struct {
	const char *name;
	const struct keymap_entry *map;
	size_t n;
} keymaps[] = {
	{ "en-us", NULL, 0 },
	{ "en-gb", en_gb, G_N_ELEMENTS(en_gb) },
	{ "de", de, G_N_ELEMENTS(de) },
	{ "fr", fr, G_N_ELEMENTS(fr) },
};

int keymap_find(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(keymaps); i++)
		if (!strcmp(keymaps[i].name, name))
			return (int)i;
	return -1;
}

const char *keymap_names(void)
{
	return "en-us, en-gb, de, fr";
}

int keymap_qnum(int map, uint32_t sym)
{
	if (map > 0 && map < (int)G_N_ELEMENTS(keymaps))
		for (size_t i = 0; i < keymaps[map].n; i++)
			if (keymaps[map].map[i].sym == sym)
				return keymaps[map].map[i].qnum;
	if (sym > 0x20 && sym < 0x7f) {
		for (unsigned r = 0; r < G_N_ELEMENTS(us_rows); r++)
			for (unsigned k = 0; k < 2; k++) {
				const char *p = strchr(us_rows[r][k], (int)sym);

				if (p)
					return us_row_base[r] +
					       (int)(p - us_rows[r][k]);
			}
		return -1;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(special_keys); i++)
		if (special_keys[i].sym == sym)
			return special_keys[i].qnum;
	return -1;
}
