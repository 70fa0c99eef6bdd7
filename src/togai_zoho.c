/*-------------------------------------------------------------------------
 *
 * togai_zoho.c
 *	  Module entry point: defines the togai_zoho.* settings (settings.c) and,
 *	  when preloaded, asks for the shared segment and registers the worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "clients/api.h"
#include "enqueue/enqueue.h"
#include "settings.h"
#include "shmem.h"
#include "delivery/worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Module load: settings are defined whether the library is preloaded or
 * loaded on first use, so SHOW and SET work either way (but for the
 * worker's database and role, which only a preloaded library has).
 */
void
_PG_init(void)
{
	tz_settings_define();
	tz_enqueue_init();

	if (process_shared_preload_libraries_in_progress && !IsBinaryUpgrade)
	{
		tz_shmem_init();
		tz_worker_register();
	}

	/* jansson objects live in memory contexts, so errors cannot leak them */
	tz_json_use_palloc();
}
