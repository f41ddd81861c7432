/* placeholder, replaced below */
#include "ui/ui.h"
#include "dm/dm.h"
int sdl_init(const char *spec)
{
	dm_log(DM_LOG_ERR, "-display %s: not yet", spec);
	return -1;
}
