/* Linked while the software CPU (hypervisor/soft/) is not built in. */
#include "hypervisor/hvmd.h"

const struct cpu_backend *const soft_backend_ptr = NULL;
