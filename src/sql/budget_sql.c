/*-------------------------------------------------------------------------
 *
 * budget_sql.c
 *	  The API budget's SQL face: api_budget_refresh(), api_budget_live(),
 *	  api_plan() and api_poll_spacing(), over the shared budgets (shmem.c)
 *	  and the plans' table (pure/budget.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pure/budget.h"
#include "clients/conn.h"
#include "settings.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(api_budget_refresh);

/*
 * api_budget_refresh(connection_id bigint, lift_pause boolean) returns void
 *
 * Gives the shared budget the connection's stored settings at once, and
 * lifts a pause for the day when asked (set_api_budget).
 */
Datum
api_budget_refresh(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");
	(void) tz_conn_load_id(id);
	SPI_finish();
	if (PG_GETARG_BOOL(1))
		tz_budget_clear_pause(id);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(api_budget_live);

/*
 * api_budget_live(connection_id bigint) returns record
 *
 * The day's counters as every process sees them now; a row of NULLs for a
 * connection no process has called since the server started.
 */
Datum
api_budget_live(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[9];
	bool		nulls[9] = {false};
	TzBudget	b;
	double		runs_out;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "togai_zoho: api_budget_live must return a record");
	desc = BlessTupleDesc(desc);
	if (!tz_budget_read(PG_GETARG_INT64(0), &b))
	{
		for (int i = 0; i < 9; i++)
			nulls[i] = true;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
	}
	for (int p = 0; p < TZ_NPURPOSES; p++)
		v[p] = Int32GetDatum(b.calls[p]);
	v[4] = Int32GetDatum(b.refused);
	v[5] = Int32GetDatum(b.in_flight);
	v[6] = TimestampTzGetDatum(tz_timestamp_of_unix(b.paused_until_s));
	nulls[6] = b.paused_until_s <= tz_unix_now();
	v[7] = TimestampTzGetDatum(tz_timestamp_of_unix(b.day_ends_s));
	nulls[7] = b.day_ends_s <= 0;
	runs_out = tz_budget_runs_out_s(&b, tz_unix_now());
	v[8] = TimestampTzGetDatum(tz_timestamp_of_unix(runs_out));
	nulls[8] = runs_out <= 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}

PG_FUNCTION_INFO_V1(api_plan);

/*
 * api_plan(plan text, OUT per_day integer, OUT concurrent integer)
 *
 * A Zoho Books plan's daily budget and concurrency cap (budget.c's table);
 * NULLs for an unknown plan.
 */
Datum
api_plan(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[2];
	bool		nulls[2] = {false, false};
	int32_t		per_day,
				concurrent;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "togai_zoho: api_plan must return a record");
	desc = BlessTupleDesc(desc);
	if (!tz_budget_plan(text_to_cstring(PG_GETARG_TEXT_PP(0)), &per_day, &concurrent))
		nulls[0] = nulls[1] = true;
	v[0] = Int32GetDatum(per_day);
	v[1] = Int32GetDatum(concurrent);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}

PG_FUNCTION_INFO_V1(api_poll_spacing);

/*
 * api_poll_spacing(connection_id bigint, streams integer, active boolean)
 *   returns double precision
 *
 * Seconds a poll of one of the connection's streams should wait after the
 * last (a page each), for its polls to spend at most togai_zoho.poll_share
 * of the day's budget (see tz_budget_poll_spacing_s): 0 without a budget,
 * NULL when the share is spent for today, -1 when the whole day's budget is
 * (or the remote paused the connection for the day).
 */
Datum
api_poll_spacing(PG_FUNCTION_ARGS)
{
	TzBudget	b;
	double		s;

	if (!tz_budget_read(PG_GETARG_INT64(0), &b))
		PG_RETURN_FLOAT8(0);
	if (b.paused_until_s > tz_unix_now() || (b.per_day > 0 && tz_budget_spent(&b) >= b.per_day))
		PG_RETURN_FLOAT8(-1);
	s = tz_budget_poll_spacing_s(&b, tz_unix_now(), tz_poll_share, 1.0, PG_GETARG_INT32(1),
								 PG_GETARG_BOOL(2));
	if (s < 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s);
}
