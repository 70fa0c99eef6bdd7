/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  Verdicts, backoff and token buckets (pure arithmetic).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "policy.h"

TzVerdict
tz_verdict(bool answered, long http_status, bool refreshed)
{
	if (!answered)
		return TZ_VERDICT_RETRY;
	if (http_status == 429)
		return TZ_VERDICT_THROTTLED;
	/*
	 * A token refused again just after a refresh is a blip or a scope
	 * problem: later attempts (with backoff, each refreshing once) tell which,
	 * and max_attempts ends a lasting one with its reason.
	 */
	if (http_status == 401)
		return refreshed ? TZ_VERDICT_RETRY : TZ_VERDICT_REFRESH;
	if (http_status == 408 || http_status >= 500 || http_status < 400)
		return TZ_VERDICT_RETRY;
	return TZ_VERDICT_DEAD;
}

bool
tz_may_have_reached(bool connected, long http_status)
{
	if (!connected)
		return false;
	if (http_status >= 400 && http_status < 500 && http_status != 408)
		return false;
	return true;
}

int64_t
tz_backoff_ms(int attempts, int base_ms, int max_ms, double rand01)
{
	double		delay = base_ms;

	if (attempts < 1)
		attempts = 1;
	for (int i = 1; i < attempts && delay < max_ms; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	if (rand01 < 0 || rand01 >= 1)
		rand01 = 0;
	return (int64_t) (delay / 2 + rand01 * delay / 2);
}

double
tz_bucket_burst(double per_minute)
{
	double		burst = floor(per_minute / 20);

	return burst < 1 ? 1 : burst;
}

double
tz_bucket_rate(double per_minute)
{
	double		rest = per_minute - tz_bucket_burst(per_minute);

	return (rest > 0 ? rest : per_minute / 2) / 60.0;
}

static void
refill(TzBucket *b, double now_s, double per_minute)
{
	double		burst = tz_bucket_burst(per_minute);

	if (!b->primed)
	{
		b->tokens = burst;
		b->last_s = now_s;
		b->primed = true;
		return;
	}
	if (now_s > b->last_s)
	{
		b->tokens += (now_s - b->last_s) * tz_bucket_rate(per_minute);
		b->last_s = now_s;
	}
	if (b->tokens > burst)
		b->tokens = burst;
}

int64_t
tz_bucket_take(TzBucket *b, double now_s, double per_minute)
{
	refill(b, now_s, per_minute);
	if (b->tokens >= 1)
	{
		b->tokens -= 1;
		return 0;
	}
	return (int64_t) ceil((1 - b->tokens) / tz_bucket_rate(per_minute) * 1000);
}

void
tz_bucket_pause(TzBucket *b, double now_s, double per_minute, int64_t pause_ms)
{
	double		debt;

	refill(b, now_s, per_minute);
	debt = -(pause_ms / 1000.0) * tz_bucket_rate(per_minute);
	if (b->tokens > debt)
		b->tokens = debt;
}
