/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  A connection's API usage: the gate of a session's calls, the stored
 *	  day's counters, and the SQL functions behind set_api_budget() and the
 *	  api_usage view.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shmem.h"
#include "api.h"
#include "kept_plan.h"
#include "togai_zoho.h"
#include "usage.h"

#define BUSY_WAIT_MS 20

static const char *
show_time(double s)
{
	return timestamptz_to_str(tz_timestamp_of_unix(s));
}

char *
tz_usage_wait_reason(const TzConnInfo *conn, TzBudgetVerdict v, double until_s)
{
	switch (v)
	{
		case TZ_BUDGET_SPENT:
			return psprintf("the daily API budget of connection \"%s\" is spent (%d calls); "
							"calls go on at %s", conn->name, conn->budget.per_day > 0 ?
							conn->budget.per_day : 0, show_time(until_s));
		case TZ_BUDGET_PAUSED:
			if (conn->app == TZ_APP_TOGAI)
				return psprintf("Togai refused connection \"%s\" for rate (HTTP 429); "
								"calls go on at %s", conn->name, show_time(until_s));
			return psprintf("the remote refused connection \"%s\" for the rest of its day "
							"(its daily API cap); calls go on at %s", conn->name,
							show_time(until_s));
		case TZ_BUDGET_BUSY:
			return psprintf("connection \"%s\" has its most concurrent calls in flight",
							conn->name);
		case TZ_BUDGET_GO:
			break;
	}
	return NULL;
}

static void
usage_begin(const TzConnInfo *conn)
{
	TimestampTz start = GetCurrentTimestamp();
	TzPurpose	purpose = (TzPurpose) tz_call_purpose;

	for (;;)
	{
		double		until_s;
		TzBudgetVerdict v = tz_budget_call(conn->id, purpose, &until_s);

		if (v == TZ_BUDGET_GO)
			return;
		if (v != TZ_BUDGET_BUSY)
			ereport(ERROR,
					(errcode(ERRCODE_TZ_REMOTE_RATE_LIMIT),
					 errmsg("%s", tz_usage_wait_reason(conn, v, until_s)),
					 errdetail("Jobs wait until then; nothing is lost."),
					 errhint("togai_zoho.api_usage shows the day's calls; "
							 "togai_zoho.set_api_budget() changes the budget and lifts a pause.")));
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), tz_request_timeout_ms))
			ereport(ERROR,
					(errcode(ERRCODE_TZ_REMOTE_RATE_LIMIT),
					 errmsg("%s", tz_usage_wait_reason(conn, v, 0)),
					 errdetail("No call of the %d allowed at once ended within togai_zoho.request_timeout_ms.",
							   conn->budget.concurrent)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 BUSY_WAIT_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

void
tz_usage_perform(const TzConnInfo *conn, const TzHttpRequest *req, TzHttpResponse *resp)
{
	usage_begin(conn);
	PG_TRY();
	{
		tz_http_perform(tz_api_http_settings(), req, resp);
	}
	PG_FINALLY();
	{
		tz_budget_call_ended(conn->id);
	}
	PG_END_TRY();
}

void
tz_usage_token(const TzConnInfo *conn)
{
	double		until_s;

	(void) tz_budget_call(conn->id, TZ_PURPOSE_TOKEN, &until_s);
}

bool
tz_usage_refused(const TzConnInfo *conn, const char *message, long retry_after_s)
{
	TzRefusal	kind;
	bool		for_day;

	/* Togai publishes no daily cap: a 429 pauses this connection a while, never the day */
	if (conn->app == TZ_APP_TOGAI)
	{
		tz_budget_rest_for(conn->id, retry_after_s > 0 ? (double) retry_after_s : TZ_REST_DEFAULT_S);
		return true;
	}
	kind = tz_budget_refusal_kind(message, retry_after_s >= 0);
	for_day = tz_budget_refusal(conn->id, kind);

	if (kind == TZ_REFUSAL_UNKNOWN && !for_day)
		/* a first unexplained refusal: a minute's wait, the day's if it repeats */
		tz_rate_pause(conn->id, conn->rate_limit_per_minute, 60 * 1000);
	if (for_day)
		ereport(LOG,
				(errmsg("togai_zoho: connection \"%s\" reached its remote's daily API cap",
						conn->name),
				 errdetail("The remote said: %s", message ? message : "(nothing)"),
				 errhint("Its calls pause until the organization's midnight; "
						 "togai_zoho.set_api_budget() lifts the pause.")));
	return for_day;
}

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
