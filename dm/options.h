#ifndef DM_OPTIONS_H
#define DM_OPTIONS_H

/* Parse argv into dm_cfg; exits with a message on any bad option. */
void dm_parse_options(int argc, char **argv);
/* Value of key in a "a,key=v,b" option string: a g_malloc'd copy or NULL. */
char *opt_get(const char *spec, const char *key);

#endif
