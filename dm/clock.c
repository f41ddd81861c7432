/*
 * The guest's clock and the device timers that run on it.
 *
 * Normally the clock is the host's monotonic time since start-up and
 * timers fire from the glib main loop.  In qtest mode the clock is
 * virtual: it stands still until the test moves it with clock_step or
 * clock_set, and moving it fires every timer that fell due, in deadline
 * order, with the clock set to each timer's deadline as it runs, so
 * timer-driven devices behave the same on every run.
 */
#include <time.h>

#include "dm/dm-internal.h"

struct dm_timer {
	dm_timer_fn fn;
	void *opaque;
	uint64_t expire;
	bool armed;
};

static bool clock_virtual;
static uint64_t clock_virtual_ns;
static uint64_t clock_host_start;
static GPtrArray *timers;           /* every timer, armed or not */
static GSource *timer_source;

static uint64_t host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t dm_clock_ns(void)
{
	if (clock_virtual)
		return clock_virtual_ns;
	return host_ns() - clock_host_start;
}

bool dm_clock_is_virtual(void)
{
	return clock_virtual;
}

uint64_t dm_timers_next_deadline(void)
{
	uint64_t best = UINT64_MAX;

	for (guint i = 0; i < timers->len; i++) {
		struct dm_timer *t = g_ptr_array_index(timers, i);

		if (t->armed && t->expire < best)
			best = t->expire;
	}
	return best;
}

/* Fire the earliest timer due by `now`; false when none is. */
static bool timers_fire_one(uint64_t now)
{
	struct dm_timer *due = NULL;

	for (guint i = 0; i < timers->len; i++) {
		struct dm_timer *t = g_ptr_array_index(timers, i);

		if (t->armed && t->expire <= now &&
		    (!due || t->expire < due->expire))
			due = t;
	}
	if (!due)
		return false;
	due->armed = false;
	if (clock_virtual)
		clock_virtual_ns = due->expire;
	due->fn(due->opaque);
	return true;
}

void dm_timers_run(void)
{
	/* A timer that re-arms itself in the past must not starve the
	 * loop: bound the work done per call. */
	for (int i = 0; i < 10000 && timers_fire_one(dm_clock_ns()); i++)
		;
}

void dm_clock_set(uint64_t ns)
{
	if (!clock_virtual || ns < clock_virtual_ns)
		return;
	while (timers_fire_one(ns))
		;
	clock_virtual_ns = ns;
}

struct dm_timer *dm_timer_new(dm_timer_fn fn, void *opaque)
{
	struct dm_timer *t = g_new0(struct dm_timer, 1);

	t->fn = fn;
	t->opaque = opaque;
	g_ptr_array_add(timers, t);
	return t;
}

static void timer_source_update(void)
{
	uint64_t next;

	if (clock_virtual || !timer_source)
		return;
	next = dm_timers_next_deadline();
	if (next == UINT64_MAX) {
		g_source_set_ready_time(timer_source, -1);
	} else {
		/* g_source ready times are in g_get_monotonic_time() µs. */
		int64_t now_us = g_get_monotonic_time();
		uint64_t now = dm_clock_ns();
		int64_t delta_us = next > now ? (int64_t)((next - now + 999) / 1000)
					      : 0;
		g_source_set_ready_time(timer_source, now_us + delta_us);
	}
}

void dm_timer_mod(struct dm_timer *t, uint64_t expire_ns)
{
	t->expire = expire_ns;
	t->armed = true;
	timer_source_update();
}

void dm_timer_del(struct dm_timer *t)
{
	t->armed = false;
}

bool dm_timer_pending(struct dm_timer *t)
{
	return t->armed;
}

void dm_timer_free(struct dm_timer *t)
{
	if (!t)
		return;
	g_ptr_array_remove(timers, t);
	g_free(t);
}

static gboolean timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	(void)src;
	(void)cb;
	(void)data;
	dm_timers_run();
	timer_source_update();
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
	.dispatch = timer_dispatch,
};

void dm_clock_init(bool virtual_clock)
{
	clock_virtual = virtual_clock;
	clock_host_start = host_ns();
	timers = g_ptr_array_new();
	if (!virtual_clock) {
		timer_source = g_source_new(&timer_funcs, sizeof(GSource));
		g_source_set_ready_time(timer_source, -1);
		g_source_attach(timer_source, NULL);
	}
}
