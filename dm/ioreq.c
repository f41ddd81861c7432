/* The ioreq client: serves a domain of hvmd.  (Being written: until it
 * lands, only qtest mode runs.) */
#include "dm/dm-internal.h"

int ioreq_client_init(void)
{
	dm_log(DM_LOG_ERR, "running a guest needs hvmd, which is not built "
	       "yet; only -accel qtest works in this version");
	return -1;
}

int ioreq_client_start(void)
{
	return -1;
}

void ioreq_client_fini(void)
{
}
