/*-------------------------------------------------------------------------
 *
 * policy.h
 *	  Delivery policy as pure arithmetic: what an attempt's outcome means for
 *	  its job, how long to back off, and the token bucket that paces calls.
 *
 * No server, no network: unit-tested alone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_POLICY_H
#define TZ_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* What becomes of a job after a failed request. */
typedef enum TzVerdict
{
	TZ_VERDICT_RETRY,			/* transient: back off and try again */
	TZ_VERDICT_THROTTLED,		/* refused for rate: wait, not an attempt */
	TZ_VERDICT_REFRESH,			/* 401: refresh the token once, then retry */
	TZ_VERDICT_DEAD				/* the request itself is wrong: stop */
} TzVerdict;

/*
 * The verdict for a request that got no answer (answered = false) or an
 * answer with this status.  refreshed says the token was already refreshed
 * once in this attempt.
 */
extern TzVerdict tz_verdict(bool answered, long http_status, bool refreshed);

/*
 * Whether the request may have changed the remote: false only when it was
 * surely refused before being acted on (no connection, 4xx other than 408).
 */
extern bool tz_may_have_reached(bool connected, long http_status);

/*
 * Backoff before attempt number attempts + 1 (attempts >= 1): base * 2^(n-1)
 * capped at max, with "equal jitter" (half fixed, half random; rand01 in
 * [0, 1)) so a burst of failures does not retry in lockstep.
 */
extern int64_t tz_backoff_ms(int attempts, int base_ms, int max_ms, double rand01);

/*
 * A token bucket.  tokens may go below zero: callers that must pause a
 * connection (after a 429) push it into debt.
 */
typedef struct TzBucket
{
	double		tokens;
	double		last_s;			/* time of the last refill, seconds */
	bool		primed;
} TzBucket;

/*
 * The bucket for a limit of per_minute calls: a burst of size such that the
 * burst plus a minute of refill never exceeds the limit in any 60-second
 * window, whichever way the remote counts.
 */
extern double tz_bucket_burst(double per_minute);
extern double tz_bucket_rate(double per_minute);	/* tokens per second */

/*
 * Takes one token at now_s; returns 0 when taken, else the milliseconds until
 * one will be there (nothing is taken then).
 */
extern int64_t tz_bucket_take(TzBucket *b, double now_s, double per_minute);

/* Empties the bucket and puts it pause_ms into debt (the remote said wait). */
extern void tz_bucket_pause(TzBucket *b, double now_s, double per_minute, int64_t pause_ms);

#endif							/* TZ_POLICY_H */
