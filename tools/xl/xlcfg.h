/*
 * The xl.cfg language: "key = value" settings, one per line (or split by
 * ';'), where a value is a quoted string ('...' or "..."), a number, or a
 * list "[ v, v, ... ]" that may span lines; '#' starts a comment.  "key +=
 * value" appends to a list or string.  A later setting of a key replaces
 * an earlier one.  Command-line overrides ("KEY=VALUE") use the same value
 * syntax, and a bare word stands for a string there.
 */
#ifndef XL_XLCFG_H
#define XL_XLCFG_H

#include <glib.h>
#include <stdbool.h>

enum xlval_type { XLV_STRING, XLV_NUMBER, XLV_LIST };

struct xlval {
	enum xlval_type type;
	char *str;                 /* STRING, NUMBER (its text) */
	long long num;             /* NUMBER */
	GPtrArray *items;          /* LIST: struct xlval *, never lists */
};

struct xlsetting {
	char *key;
	struct xlval *val;
	char *file;                /* where it was set, for messages */
	int line;
	bool used;                 /* a key the reader understood */
};

struct xlcfg {
	GPtrArray *settings;       /* struct xlsetting *, in order */
};

struct xlcfg *xlcfg_new(void);
void xlcfg_free(struct xlcfg *c);

/* Parse text as the contents of fname (for messages).  Returns 0, or -1
 * with *err = "FILE:LINE: what" (g_free it). */
int xlcfg_parse_text(struct xlcfg *c, const char *text, const char *fname,
		     char **err);
int xlcfg_parse_file(struct xlcfg *c, const char *path, char **err);
/* One "KEY=VALUE" from the command line. */
int xlcfg_override(struct xlcfg *c, const char *kv, char **err);

/* The last setting of key, or NULL; marks it used. */
struct xlsetting *xlcfg_get(struct xlcfg *c, const char *key);

/* Where a setting came from: "FILE:LINE" (static buffer). */
const char *xlcfg_where(const struct xlsetting *s);

/* A value as text (lists as "[a, b]"), freshly allocated. */
char *xlval_text(const struct xlval *v);

#endif
