/*-------------------------------------------------------------------------
 *
 * flow_cache.c
 *	  Per-session cache of connections and enabled flows.
 *
 * The enqueue trigger runs for every row written to a source table, so it
 * must not query the flow tables each time.  The cache is loaded on first use
 * and dropped when the flow table's relcache entry is invalidated, which a
 * statement trigger on flow, flow_action and connection requests on every
 * change (pg_cron's approach to caching cron.job).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "miscadmin.h"

#include "flow_cache.h"
#include "store/job_writer.h"
#include "owner.h"
#include "togai_zoho.h"

static MemoryContext cache_cxt = NULL;
static TzFlowCache *cache = NULL;
static Oid	flow_relid = InvalidOid;
static uint64 inval_count = 0;
static uint64 loaded_at = 0;
static bool callback_registered = false;

static void
relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == flow_relid)
		inval_count++;
}

/* Runs a read-only query that must succeed, returning its rows in SPI_tuptable. */
static void
run_query(const char *sql)
{
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: cache query failed: %s", sql);
}

static int64
get_int64(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

static void
load_cache(void)
{
	TzFlowCache *c;
	uint64		seen = inval_count;
	TzAsOwner	saved;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(CacheMemoryContext, "togai_zoho flow cache",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache_cxt);
	cache = NULL;

	flow_relid = tz_extension_relid("flow");
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		callback_registered = true;
	}

	c = MemoryContextAllocZero(cache_cxt, sizeof(TzFlowCache));
	c->owner = tz_extension_owner();
	/* the 0.2.0 update script changes the flow table, so this is reloaded */
	c->staging = tz_jobs_schema_current();

	/* The writer of a source row need not read the configuration: the owner does. */
	tz_as_owner_begin(c->owner, &saved);

	run_query("SELECT id, name, app FROM togai_zoho.connection ORDER BY id");
	c->connections = MemoryContextAllocZero(cache_cxt,
											sizeof(TzConnection) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		TzConnection *conn = &c->connections[c->nconnections++];

		conn->id = get_int64(t, d, 1);
		conn->name = MemoryContextStrdup(cache_cxt, SPI_getvalue(t, d, 2));
		conn->app = strcmp(SPI_getvalue(t, d, 3), "togai") == 0 ? TZ_APP_TOGAI : TZ_APP_ZOHOBOOKS;
	}

	run_query("SELECT f.id, f.trigger_connection_id, f.trigger FROM togai_zoho.flow f "
			  "WHERE f.enabled AND EXISTS "
			  "(SELECT 1 FROM togai_zoho.flow_action a WHERE a.flow_id = f.id) "
			  "ORDER BY f.id");
	c->flows = MemoryContextAllocZero(cache_cxt, sizeof(TzFlow) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		uint32		bit = tz_trigger_bit(SPI_getvalue(t, d, 3));

		if (bit == 0)
			continue;			/* a trigger newer than this library */
		c->flows[c->nflows].id = get_int64(t, d, 1);
		c->flows[c->nflows].connection_id = get_int64(t, d, 2);
		c->flows[c->nflows].trigger = bit;
		c->nflows++;
	}
	SPI_freetuptable(SPI_tuptable);
	tz_as_owner_end(&saved);

	/* An invalidation that arrives while loading makes the next call reload. */
	cache = c;
	loaded_at = seen;
}

const TzFlowCache *
tz_flow_cache_get(void)
{
	if (cache == NULL || loaded_at != inval_count)
		load_cache();
	return cache;
}

const TzConnection *
tz_connection_by_id(const TzFlowCache *c, int64 id)
{
	for (int i = 0; i < c->nconnections; i++)
		if (c->connections[i].id == id)
			return &c->connections[i];
	return NULL;
}

const TzConnection *
tz_connection_by_name(const TzFlowCache *c, const char *name)
{
	for (int i = 0; i < c->nconnections; i++)
		if (strcmp(c->connections[i].name, name) == 0)
			return &c->connections[i];
	return NULL;
}

void
tz_flow_cache_invalidate(void)
{
	CacheInvalidateRelcacheByRelid(tz_extension_relid("flow"));
}
