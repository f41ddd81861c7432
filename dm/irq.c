/*
 * Interrupt lines driven by devices.  The dm keeps the level of every GSI
 * and tells the backend (hvmd's shared page, or qtest's intercept) only
 * about changes, so a device may set a line to the level it already has
 * as often as it likes.
 */
#include "dm/dm-internal.h"
#include "hvm/ioreq.h"

static uint8_t irq_levels[HVM_NR_IRQ_LINES];
static const struct dm_irq_backend *irq_backend;

void dm_irq_set_backend(const struct dm_irq_backend *b)
{
	irq_backend = b;
}

int dm_irq_level(unsigned gsi)
{
	return gsi < HVM_NR_IRQ_LINES ? irq_levels[gsi] : 0;
}

void irq_set(unsigned gsi, int level)
{
	if (gsi >= HVM_NR_IRQ_LINES) {
		dm_log(DM_LOG_ERR, "irq_set: no GSI %u", gsi);
		return;
	}
	level = level != 0;
	if (irq_levels[gsi] == level)
		return;
	irq_levels[gsi] = (uint8_t)level;
	if (irq_backend)
		irq_backend->set(gsi, level);
}

void irq_pulse(unsigned gsi)
{
	if (gsi >= HVM_NR_IRQ_LINES) {
		dm_log(DM_LOG_ERR, "irq_pulse: no GSI %u", gsi);
		return;
	}
	if (irq_backend)
		irq_backend->pulse(gsi);
}
