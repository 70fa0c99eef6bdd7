/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  A connection's API usage: the day's counters every process keeps in
 *	  shared memory, stored for the api_usage view (the gate that counts
 *	  them is admission.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shmem.h"
#include "kept_plan.h"
#include "usage.h"

void
tz_usage_store(void)
{
	static const char *const sql =
		"INSERT INTO togai_zoho.api_usage_day AS u (connection_id, day, delivery_calls, poll_calls,"
		"  session_calls, token_calls, refused, paused_until, first_call_at)"
		" SELECT $1, date '2000-01-01' + $2, $3, $4, $5, $6, $7, $8, $9"
		"  WHERE EXISTS (SELECT 1 FROM togai_zoho.connection c WHERE c.id = $1)"
		" ON CONFLICT (connection_id, day) DO UPDATE SET"
		"  delivery_calls = greatest(u.delivery_calls, excluded.delivery_calls),"
		"  poll_calls = greatest(u.poll_calls, excluded.poll_calls),"
		"  session_calls = greatest(u.session_calls, excluded.session_calls),"
		"  token_calls = greatest(u.token_calls, excluded.token_calls),"
		"  refused = greatest(u.refused, excluded.refused),"
		"  paused_until = excluded.paused_until,"
		"  first_call_at = coalesce(u.first_call_at, excluded.first_call_at)";
	static SPIPlanPtr plan = NULL;
	Oid			types[9] = {INT8OID, INT4OID, INT4OID, INT4OID, INT4OID, INT4OID, INT4OID,
	TIMESTAMPTZOID, TIMESTAMPTZOID};
	int64		ids[64];
	TzBudget	budgets[64];
	int			n = tz_budget_take_dirty(ids, budgets, lengthof(ids));

	for (int i = 0; i < n; i++)
	{
		TzBudget   *b = &budgets[i];
		Datum		v[9];
		char		nulls[9] = "         ";

		v[0] = Int64GetDatum(ids[i]);
		v[1] = Int32GetDatum(b->day);
		for (int p = 0; p < TZ_NPURPOSES; p++)
			v[2 + p] = Int32GetDatum(b->calls[p]);
		v[6] = Int32GetDatum(b->refused);
		v[7] = TimestampTzGetDatum(tz_timestamp_of_unix(b->paused_until_s));
		if (b->paused_until_s <= 0)
			nulls[7] = 'n';
		v[8] = TimestampTzGetDatum(tz_timestamp_of_unix(b->first_call_s));
		if (b->first_call_s <= 0)
			nulls[8] = 'n';
		if (SPI_execute_plan(tz_kept_plan(&plan, sql, 9, types), v, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "togai_zoho: could not store the API usage of connection %lld",
				 (long long) ids[i]);
	}
}
