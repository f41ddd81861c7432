/*
 * What dm/ calls in net/: the back ends and cards from the command line
 * (-netdev, -net, -device MODEL) and the QMP commands.
 */
#ifndef NET_NET_DM_H
#define NET_NET_DM_H

/* Open every -netdev and the -net back ends, and add -net nic cards. */
int net_init(void);
/* -device SPEC: 0 when SPEC is not a network card, 1 when the card was
 * added, -1 (after a message) when it could not be. */
int net_device(const char *spec);
/* set_link: 0 when cmd is not ours, 1 when it ran, -1 with *err (g_free
 * it).  args is the command's JsonObject (or NULL). */
int net_qmp_command(const char *cmd, void *args, char **err);

#endif
