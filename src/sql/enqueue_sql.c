/*-------------------------------------------------------------------------
 *
 * enqueue_sql.c
 *	  The triggers' SQL face: enqueue_sync() on the sources, and
 *	  flow_cache_invalidate() on the configuration (enqueue/ does the work).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"

#include "enqueue/enqueue.h"
#include "enqueue/flow_cache.h"

PG_FUNCTION_INFO_V1(enqueue_sync);

/* The trigger on the mirrors and on users' own tables. */
Datum
enqueue_sync(PG_FUNCTION_ARGS)
{
	return tz_enqueue_sync(fcinfo);
}

PG_FUNCTION_INFO_V1(flow_cache_invalidate);

/* Statement trigger on flow, flow_action and connection. */
Datum
flow_cache_invalidate(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("flow_cache_invalidate() must be called as a trigger")));
	tz_flow_cache_invalidate();
	PG_RETURN_POINTER(NULL);
}
