/*
 * The xl.cfg language (see xlcfg.h): a small hand-written lexer and a
 * recursive-descent reader.  Every error names the file and line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/xl/xlcfg.h"

enum tok {
	T_EOF, T_NL, T_SEMI, T_IDENT, T_EQ, T_PLUSEQ, T_STRING, T_NUMBER,
	T_LBRACK, T_RBRACK, T_COMMA, T_WORD,
};

struct lexer {
	const char *p;
	const char *file;
	int line;
	bool bare_words;        /* command line: a bare word is a string */
	char *err;
	/* current token */
	enum tok t;
	int tline;
	GString *text;
};

static void xlval_free(gpointer p)
{
	struct xlval *v = p;

	if (!v)
		return;
	g_free(v->str);
	if (v->items)
		g_ptr_array_free(v->items, TRUE);
	g_free(v);
}

static void setting_free(gpointer p)
{
	struct xlsetting *s = p;

	g_free(s->key);
	xlval_free(s->val);
	g_free(s->file);
	g_free(s);
}

struct xlcfg *xlcfg_new(void)
{
	struct xlcfg *c = g_new0(struct xlcfg, 1);

	c->settings = g_ptr_array_new_with_free_func(setting_free);
	return c;
}

void xlcfg_free(struct xlcfg *c)
{
	if (!c)
		return;
	g_ptr_array_free(c->settings, TRUE);
	g_free(c);
}

__attribute__((format(printf, 3, 4)))
static bool lex_error(struct lexer *lx, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (lx->err)
		return false;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	lx->err = g_strdup_printf("%s:%d: %s", lx->file, line, msg);
	g_free(msg);
	return false;
}

static bool is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(int c)
{
	/* '.' for xl.conf's keys (vif.default.bridge) */
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static bool is_word(int c)
{
	return c && !strchr(" \t\r\n,[];#='\"", c);
}

/* Read one quoted string; lx->p is at the opening quote. */
static bool lex_string(struct lexer *lx)
{
	char q = *lx->p++;

	g_string_truncate(lx->text, 0);
	for (;;) {
		char c = *lx->p;

		if (!c || c == '\n')
			return lex_error(lx, lx->tline, "unterminated string "
					 "(no closing %c on this line)", q);
		lx->p++;
		if (c == q)
			return true;
		if (c == '\\' && lx->p[0] && lx->p[0] != '\n') {
			char e = *lx->p++;

			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '\\': case '\'': case '"': c = e; break;
			default:        /* keep it as written (C:\path) */
				g_string_append_c(lx->text, '\\');
				c = e;
			}
		}
		g_string_append_c(lx->text, c);
	}
}

static bool next(struct lexer *lx)
{
	const char *s;

	for (;;) {
		while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r')
			lx->p++;
		if (*lx->p == '#') {
			while (*lx->p && *lx->p != '\n')
				lx->p++;
			continue;
		}
		/* A backslash at the end of a line continues it. */
		if (lx->p[0] == '\\' && (lx->p[1] == '\n' ||
		    (lx->p[1] == '\r' && lx->p[2] == '\n'))) {
			lx->p += lx->p[1] == '\n' ? 2 : 3;
			lx->line++;
			continue;
		}
		break;
	}
	lx->tline = lx->line;
	s = lx->p;
	switch (*s) {
	case '\0': lx->t = T_EOF; return true;
	case '\n': lx->p++; lx->line++; lx->t = T_NL; return true;
	case ';': lx->p++; lx->t = T_SEMI; return true;
	case '=': lx->p++; lx->t = T_EQ; return true;
	case '[': lx->p++; lx->t = T_LBRACK; return true;
	case ']': lx->p++; lx->t = T_RBRACK; return true;
	case ',': lx->p++; lx->t = T_COMMA; return true;
	case '+':
		if (s[1] == '=') {
			lx->p += 2;
			lx->t = T_PLUSEQ;
			return true;
		}
		break;
	case '\'': case '"':
		lx->t = T_STRING;
		return lex_string(lx);
	}
	if ((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')) {
		const char *e = s + (*s == '-');

		while (is_word(*e))
			e++;
		lx->p = e;
		g_string_assign(lx->text, "");
		g_string_append_len(lx->text, s, e - s);
		lx->t = T_NUMBER;
		return true;
	}
	if (is_ident_start(*s)) {
		const char *e = s;

		while (is_ident(*e))
			e++;
		if (is_word(*e) && !lx->bare_words) {
			while (is_word(*e))
				e++;
			lx->t = T_WORD;
		} else {
			lx->t = T_IDENT;
		}
		lx->p = e;
		g_string_assign(lx->text, "");
		g_string_append_len(lx->text, s, e - s);
		return true;
	}
	if (is_word(*s)) {
		const char *e = s;

		while (is_word(*e))
			e++;
		lx->p = e;
		g_string_assign(lx->text, "");
		g_string_append_len(lx->text, s, e - s);
		lx->t = T_WORD;
		return true;
	}
	return lex_error(lx, lx->line, "unexpected character '%c'", *s);
}

static struct xlval *number_value(struct lexer *lx)
{
	struct xlval *v;
	char *end;
	long long n;

	errno = 0;
	n = strtoll(lx->text->str, &end, 0);
	if (errno || *end) {
		lex_error(lx, lx->tline, "'%s' is not a number (strings need "
			  "quotes)", lx->text->str);
		return NULL;
	}
	v = g_new0(struct xlval, 1);
	v->type = XLV_NUMBER;
	v->num = n;
	v->str = g_strdup(lx->text->str);
	return v;
}

/* A scalar at the current token: string, number (or, on the command
 * line, a bare word). */
static struct xlval *scalar(struct lexer *lx, const char *key)
{
	struct xlval *v;

	switch (lx->t) {
	case T_STRING:
		v = g_new0(struct xlval, 1);
		v->type = XLV_STRING;
		v->str = g_strdup(lx->text->str);
		return v;
	case T_NUMBER:
		if (lx->bare_words) {
			char *end;

			errno = 0;
			(void)strtoll(lx->text->str, &end, 0);
			if (errno || *end)
				goto word;
		}
		return number_value(lx);
	case T_IDENT:
	case T_WORD:
		if (lx->bare_words)
			goto word;
		lex_error(lx, lx->tline, "%s: '%s' needs quotes (a string is "
			  "'...' or \"...\")", key, lx->text->str);
		return NULL;
	default:
		lex_error(lx, lx->tline, "%s: expected a value (a quoted "
			  "string, a number or a [list])", key);
		return NULL;
	}
word:
	v = g_new0(struct xlval, 1);
	v->type = XLV_STRING;
	v->str = g_strdup(lx->text->str);
	return v;
}

static bool skip_newlines(struct lexer *lx)
{
	while (lx->t == T_NL)
		if (!next(lx))
			return false;
	return true;
}

static struct xlval *list_value(struct lexer *lx, const char *key)
{
	struct xlval *v = g_new0(struct xlval, 1);
	int start = lx->tline;

	v->type = XLV_LIST;
	v->items = g_ptr_array_new_with_free_func(xlval_free);
	if (!next(lx) || !skip_newlines(lx))
		goto fail;
	while (lx->t != T_RBRACK) {
		struct xlval *item;

		if (lx->t == T_EOF) {
			lex_error(lx, start, "%s: list not closed (missing ']')",
				  key);
			goto fail;
		}
		if (lx->t == T_LBRACK) {
			lex_error(lx, lx->tline, "%s: a list inside a list", key);
			goto fail;
		}
		if (lx->t == T_COMMA) {
			lex_error(lx, lx->tline, "%s: an empty list item "
				  "(two commas)", key);
			goto fail;
		}
		if (lx->t == T_IDENT && !lx->bare_words) {
			/* Most likely the next setting: the ']' is missing. */
			lex_error(lx, start, "%s: list not closed (missing ']' "
				  "before line %d)", key, lx->tline);
			goto fail;
		}
		item = scalar(lx, key);
		if (!item)
			goto fail;
		g_ptr_array_add(v->items, item);
		if (!next(lx) || !skip_newlines(lx))
			goto fail;
		if (lx->t == T_COMMA) {
			if (!next(lx) || !skip_newlines(lx))
				goto fail;
		} else if (lx->t != T_RBRACK) {
			if (lx->t == T_EOF)
				lex_error(lx, start, "%s: list not closed "
					  "(missing ']')", key);
			else if (lx->t == T_IDENT && !lx->bare_words)
				lex_error(lx, start, "%s: list not closed "
					  "(missing ']' before line %d)", key,
					  lx->tline);
			else
				lex_error(lx, lx->tline, "%s: expected ',' or "
					  "']' between list items", key);
			goto fail;
		}
	}
	return v;
fail:
	xlval_free(v);
	return NULL;
}

static struct xlval *value(struct lexer *lx, const char *key)
{
	if (lx->t == T_LBRACK)
		return list_value(lx, key);
	return scalar(lx, key);
}

static void add_setting(struct xlcfg *c, struct lexer *lx, const char *key,
			struct xlval *v, int line, bool append)
{
	struct xlsetting *s;

	if (append) {
		struct xlsetting *old = NULL;

		for (guint i = c->settings->len; i-- > 0;) {
			struct xlsetting *o = g_ptr_array_index(c->settings, i);

			if (!strcmp(o->key, key)) {
				old = o;
				break;
			}
		}
		if (old && old->val->type == XLV_LIST) {
			if (v->type == XLV_LIST) {
				for (guint i = 0; i < v->items->len; i++)
					g_ptr_array_add(old->val->items,
						g_ptr_array_index(v->items, i));
				g_ptr_array_set_free_func(v->items, NULL);
				xlval_free(v);
			} else {
				g_ptr_array_add(old->val->items, v);
			}
			return;
		}
		if (old && old->val->type == XLV_STRING && v->type == XLV_STRING) {
			char *s2 = g_strconcat(old->val->str, v->str, NULL);

			g_free(old->val->str);
			old->val->str = s2;
			xlval_free(v);
			return;
		}
		if (old) {
			lex_error(lx, line, "%s += ...: can only append to a "
				  "list or a string", key);
			xlval_free(v);
			return;
		}
	}
	s = g_new0(struct xlsetting, 1);
	s->key = g_strdup(key);
	s->val = v;
	s->file = g_strdup(lx->file);
	s->line = line;
	g_ptr_array_add(c->settings, s);
}

static int parse(struct xlcfg *c, struct lexer *lx, char **err)
{
	lx->text = g_string_new(NULL);
	if (!next(lx))
		goto out;
	for (;;) {
		char *key;
		struct xlval *v;
		bool append;
		int line;

		if (lx->t == T_EOF)
			break;
		if (lx->t == T_NL || lx->t == T_SEMI) {
			if (!next(lx))
				goto out;
			continue;
		}
		if (lx->t != T_IDENT) {
			lex_error(lx, lx->tline, "expected a setting 'key = "
				  "value'%s", lx->t == T_WORD ||
				  lx->t == T_STRING ? "" : " at the start of "
				  "the line");
			goto out;
		}
		key = g_strdup(lx->text->str);
		line = lx->tline;
		if (!next(lx)) {
			g_free(key);
			goto out;
		}
		if (lx->t != T_EQ && lx->t != T_PLUSEQ) {
			lex_error(lx, line, "'%s': expected '=' after the key "
				  "(python statements such as import or if are "
				  "not part of xl.cfg)", key);
			g_free(key);
			goto out;
		}
		append = lx->t == T_PLUSEQ;
		if (!next(lx)) {
			g_free(key);
			goto out;
		}
		v = value(lx, key);
		if (!v) {
			g_free(key);
			goto out;
		}
		add_setting(c, lx, key, v, line, append);
		g_free(key);
		if (lx->err || !next(lx))
			goto out;
		if (lx->t != T_NL && lx->t != T_SEMI && lx->t != T_EOF) {
			lex_error(lx, lx->tline, "unexpected text after the "
				  "value (one setting per line, or ';' between)");
			goto out;
		}
	}
out:
	g_string_free(lx->text, TRUE);
	if (lx->err) {
		*err = lx->err;
		return -1;
	}
	return 0;
}

int xlcfg_parse_text(struct xlcfg *c, const char *text, const char *fname,
		     char **err)
{
	struct lexer lx = { .p = text, .file = fname, .line = 1 };

	return parse(c, &lx, err);
}

int xlcfg_parse_file(struct xlcfg *c, const char *path, char **err)
{
	gchar *text;
	gsize len;
	GError *ge = NULL;
	int ret;

	if (!g_file_get_contents(path, &text, &len, &ge)) {
		*err = g_strdup_printf("%s: %s", path, ge->message);
		g_error_free(ge);
		return -1;
	}
	if (memchr(text, '\0', len)) {
		*err = g_strdup_printf("%s: not a text file", path);
		g_free(text);
		return -1;
	}
	ret = xlcfg_parse_text(c, text, path, err);
	g_free(text);
	return ret;
}

int xlcfg_override(struct xlcfg *c, const char *kv, char **err)
{
	struct lexer lx = { .p = kv, .file = "command line", .line = 1,
			    .bare_words = true };
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv || !is_ident_start(kv[0])) {
		*err = g_strdup_printf("'%s': expected KEY=VALUE", kv);
		return -1;
	}
	/* A value with spaces but no quotes is one string (extra=console=ttyS0 quiet). */
	if (eq[1] && eq[1] != '\'' && eq[1] != '"' && eq[1] != '[') {
		bool plain = true;

		for (const char *p = kv; p < eq; p++)
			if (!is_ident(*p) && !(*p == '+' && p + 1 == eq))
				plain = false;
		if (plain) {
			struct xlval *v = g_new0(struct xlval, 1);
			char *key = g_strndup(kv, eq - kv);
			bool append = key[strlen(key) - 1] == '+';
			char *end;
			long long n;

			if (append)
				key[strlen(key) - 1] = '\0';
			errno = 0;
			n = strtoll(eq + 1, &end, 0);
			if (!errno && !*end) {
				v->type = XLV_NUMBER;
				v->num = n;
			} else {
				v->type = XLV_STRING;
			}
			v->str = g_strdup(eq + 1);
			add_setting(c, &lx, key, v, 1, append);
			g_free(key);
			if (lx.err) {
				*err = lx.err;
				return -1;
			}
			return 0;
		}
	}
	return parse(c, &lx, err);
}

struct xlsetting *xlcfg_get(struct xlcfg *c, const char *key)
{
	for (guint i = c->settings->len; i-- > 0;) {
		struct xlsetting *s = g_ptr_array_index(c->settings, i);

		if (!strcmp(s->key, key)) {
			/* Earlier settings of the key are replaced, not unknown. */
			for (guint j = 0; j < c->settings->len; j++) {
				struct xlsetting *o = g_ptr_array_index(c->settings, j);

				if (!strcmp(o->key, key))
					o->used = true;
			}
			return s;
		}
	}
	return NULL;
}

const char *xlcfg_where(const struct xlsetting *s)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s:%d", s->file, s->line);
	return buf;
}

char *xlval_text(const struct xlval *v)
{
	GString *g;

	if (v->type != XLV_LIST)
		return g_strdup(v->str);
	g = g_string_new("[");
	for (guint i = 0; i < v->items->len; i++) {
		const struct xlval *it = g_ptr_array_index(v->items, i);

		if (i)
			g_string_append(g, ", ");
		if (it->type == XLV_STRING)
			g_string_append_printf(g, "'%s'", it->str);
		else
			g_string_append(g, it->str);
	}
	g_string_append_c(g, ']');
	return g_string_free(g, FALSE);
}
