/*-------------------------------------------------------------------------
 *
 * budget.h
 *	  A connection's daily API budget and concurrency cap as pure arithmetic:
 *	  what may be called now, what was called today and why, when the day
 *	  ends.  No server, no network: unit-tested alone; shmem.c keeps one per
 *	  connection where every process sees it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_BUDGET_H
#define TZ_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

/* Why a call is made: the columns of api_usage. */
typedef enum TzPurpose
{
	TZ_PURPOSE_DELIVERY,		/* the worker or process_outbox, for a job */
	TZ_PURPOSE_POLL,			/* poll_togai / poll_zohobooks */
	TZ_PURPOSE_SESSION,			/* any other SQL function: calls, checks, setup */
	TZ_PURPOSE_TOKEN,			/* OAuth token mints: the accounts server, not the API */
	TZ_NPURPOSES
} TzPurpose;

typedef struct TzBudget
{
	int32_t		per_day;		/* API calls a day; 0: no budget */
	int32_t		concurrent;		/* calls in flight at once; 0: no cap */
	double		day_ends_s;		/* end of the organization's day (epoch seconds) */
	int32_t		day;			/* that day's number, for the persisted counters */
	int32_t		calls[TZ_NPURPOSES];	/* today's */
	int32_t		refused;		/* today's 429 answers */
	int32_t		in_flight;
	double		paused_until_s; /* the remote refused: no call until then; 0 when not */
	double		first_call_s;	/* today's first API call, for the pace */
	double		unknown_at_s;	/* last unexplained 429 */
	bool		dirty;			/* counters changed since they were stored */
} TzBudget;

typedef enum TzBudgetVerdict
{
	TZ_BUDGET_GO,				/* counted, and a slot taken: release it */
	TZ_BUDGET_BUSY,				/* concurrent calls in flight: wait for one */
	TZ_BUDGET_SPENT,			/* today's budget is spent: wait for the day's end */
	TZ_BUDGET_PAUSED			/* the remote refused (for the day, or Togai for a
								 * while): wait until then */
} TzBudgetVerdict;

/* Days of at most 25 hours: where a time zone's day is longer, a roll waits. */
#define TZ_DAY_SECONDS 86400.0

/*
 * Starts a new day when now_s has passed the day's end: counters cleared, a
 * pause for the day lifted, the next end a day later (the caller corrects it
 * from the time zone when it can).
 */
extern void tz_budget_roll(TzBudget *b, double now_s);

/*
 * Takes a call of the purpose at now_s.  GO counts it and takes a slot; the
 * others change nothing and set *until_s to when to look again (BUSY: 0, as
 * soon as a call ends).  Token mints are counted but never refused: without
 * a token no budgeted call can be made.
 */
extern TzBudgetVerdict tz_budget_take(TzBudget *b, double now_s, TzPurpose purpose,
									  double *until_s);

/* A call taken with GO has ended. */
extern void tz_budget_release(TzBudget *b);

/*
 * A refusal for rate by a remote without a daily cap (Togai): counted, and
 * no call until now_s + seconds (a later pause already set stands).
 */
extern void tz_budget_rest(TzBudget *b, double now_s, double seconds);

/* What a 429 answer says of its limit. */
typedef enum TzRefusal
{
	TZ_REFUSAL_DAY,				/* the daily cap: no call until midnight */
	TZ_REFUSAL_SHORT,			/* per minute, or concurrency: a short wait */
	TZ_REFUSAL_UNKNOWN			/* neither said, and no Retry-After */
} TzRefusal;

/* The kind of limit a 429's message names (a Retry-After means a short one). */
extern TzRefusal tz_budget_refusal_kind(const char *message, bool has_retry_after);

/*
 * The remote refused a call for rate (HTTP 429): counts it, and pauses the
 * connection until its day ends when the answer is the daily cap's, or when
 * a second unexplained refusal follows the first within TZ_UNKNOWN_STRIKE_S.
 * Returns whether the connection is now paused for the day.
 */
#define TZ_UNKNOWN_STRIKE_S 600.0
extern bool tz_budget_refused(TzBudget *b, double now_s, TzRefusal kind);

/* API calls today (token mints are not API calls). */
extern int32_t tz_budget_spent(const TzBudget *b);

/*
 * When today's budget runs out at today's pace (calls since the first one of
 * the day), or 0 when it will not before the day ends or there is no budget.
 */
extern double tz_budget_runs_out_s(const TzBudget *b, double now_s);

/*
 * The shortest wait between two polls of a stream that keeps the polls of
 * streams streams (calls_per_poll each) within share (0..1) of the day's
 * budget until the day ends: the even spread of what is left.  A stream
 * that just found changes (active) may poll at once while the polls are not
 * ahead of that even pace.  0 when there is no budget, a negative number
 * when the polls' share is spent.
 */
extern double tz_budget_poll_spacing_s(const TzBudget *b, double now_s, double share,
									   double calls_per_poll, int streams, bool active);


/* The defaults of a plan name (free, standard, ...); false for an unknown one. */
extern bool tz_budget_plan(const char *plan, int32_t *per_day, int32_t *concurrent);

#endif							/* TZ_BUDGET_H */
