/*-------------------------------------------------------------------------
 *
 * admission.c
 *	  The gate of every call to a remote: admitted now, waited for, or
 *	  looked at; and what a refusal for rate does to the connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shmem.h"
#include "admission.h"
#include "api.h"
#include "togai_zoho.h"

#define BUSY_WAIT_MS 20
#define PACE_WAIT_MAX_MS 1000

TzAdmission
tz_admit(const TzConnInfo *conn, TzPurpose purpose, TzAdmitMode mode)
{
	TimestampTz start;
	TzAdmission a;

	if (mode != TZ_ADMIT_WAIT)
		return tz_shared_admit(conn->id, conn->rate_limit_per_minute, purpose, mode == TZ_ADMIT_TRY);
	start = GetCurrentTimestamp();
	for (;;)
	{
		long		sleep_ms;

		a = tz_shared_admit(conn->id, conn->rate_limit_per_minute, purpose, true);
		if (a.verdict == TZ_ADMIT_GO)
			return a;
		if (!tz_admission_short(a.verdict))
			ereport(ERROR,
					(errcode(ERRCODE_TZ_REMOTE_RATE_LIMIT),
					 errmsg("%s", tz_admit_reason(conn, &a)),
					 errdetail("Jobs wait until then; nothing is lost."),
					 errhint("togai_zoho.api_usage shows the day's calls; "
							 "togai_zoho.set_api_budget() changes the budget and lifts a pause.")));
		/* the pace always frees a token; a cap held by calls that never end must not hold us */
		if (a.verdict == TZ_ADMIT_BUSY &&
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(), tz_request_timeout_ms))
			ereport(ERROR,
					(errcode(ERRCODE_TZ_REMOTE_RATE_LIMIT),
					 errmsg("%s", tz_admit_reason(conn, &a)),
					 errdetail("No call of the %d allowed at once ended within togai_zoho.request_timeout_ms.",
							   conn->budget.concurrent)));
		sleep_ms = a.verdict == TZ_ADMIT_BUSY ? BUSY_WAIT_MS : (long) Min(a.wait_ms, PACE_WAIT_MAX_MS);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

void
tz_admit_ended(const TzConnInfo *conn)
{
	tz_budget_call_ended(conn->id);
}

void
tz_admit_release_all(void)
{
	tz_budget_release_all();
}

void
tz_admit_perform(const TzConnInfo *conn, const TzHttpRequest *req, TzHttpResponse *resp)
{
	(void) tz_admit(conn, (TzPurpose) tz_call_purpose, TZ_ADMIT_WAIT);
	PG_TRY();
	{
		tz_http_perform(tz_api_http_settings(), req, resp);
	}
	PG_FINALLY();
	{
		tz_admit_ended(conn);
	}
	PG_END_TRY();
}

bool
tz_admit_refused(const TzConnInfo *conn, const char *message, long retry_after_s, int64 wait_ms,
				 double *until_s)
{
	TzRefusal	kind;
	bool		paused;
	TzBudget	b;

	*until_s = 0;
	/* Togai publishes no daily cap: a 429 pauses this connection a while, never the day */
	if (conn->app == TZ_APP_TOGAI)
	{
		tz_budget_rest_for(conn->id, retry_after_s > 0 ? (double) retry_after_s : TZ_REST_DEFAULT_S);
		paused = true;
	}
	else
	{
		kind = tz_budget_refusal_kind(message, retry_after_s >= 0);
		paused = tz_budget_refusal(conn->id, kind);
		if (kind == TZ_REFUSAL_UNKNOWN && !paused)
			/* a first unexplained refusal: a minute's wait, the day's if it repeats */
			tz_rate_pause(conn->id, conn->rate_limit_per_minute, 60 * 1000);
		if (paused)
			ereport(LOG,
					(errmsg("togai_zoho: connection \"%s\" reached its remote's daily API cap",
							conn->name),
					 errdetail("The remote said: %s", message ? message : "(nothing)"),
					 errhint("Its calls pause until the organization's midnight; "
							 "togai_zoho.set_api_budget() lifts the pause.")));
	}
	if (paused && tz_budget_read(conn->id, &b) && b.paused_until_s > 0)
	{
		*until_s = b.paused_until_s;
		return true;
	}
	if (wait_ms > 0)
		tz_rate_pause(conn->id, conn->rate_limit_per_minute, wait_ms);
	return false;
}

void
tz_admit_answered(const TzConnInfo *conn, const TzApiResult *r)
{
	double		until_s;

	if (r->http_status == 429)
		(void) tz_admit_refused(conn, r->message, r->retry_after_s,
								r->retry_after_s > 0 ? r->retry_after_s * 1000 : 0, &until_s);
}

static const char *
show_time(double s)
{
	return timestamptz_to_str(tz_timestamp_of_unix(s));
}

char *
tz_admit_reason(const TzConnInfo *conn, const TzAdmission *a)
{
	switch (a->verdict)
	{
		case TZ_ADMIT_SPENT:
			return psprintf("the daily API budget of connection \"%s\" is spent (%d calls); "
							"calls go on at %s", conn->name, conn->budget.per_day > 0 ?
							conn->budget.per_day : 0, show_time(a->until_s));
		case TZ_ADMIT_PAUSED:
			if (conn->app == TZ_APP_TOGAI)
				return psprintf("Togai refused connection \"%s\" for rate (HTTP 429); "
								"calls go on at %s", conn->name, show_time(a->until_s));
			return psprintf("the remote refused connection \"%s\" for the rest of its day "
							"(its daily API cap); calls go on at %s", conn->name,
							show_time(a->until_s));
		case TZ_ADMIT_BUSY:
			return psprintf("connection \"%s\" has its most concurrent calls in flight",
							conn->name);
		case TZ_ADMIT_PACED:
			return psprintf("connection \"%s\" is at its rate limit (%d calls a minute)",
							conn->name, conn->rate_limit_per_minute);
		case TZ_ADMIT_GO:
			break;
	}
	return NULL;
}
