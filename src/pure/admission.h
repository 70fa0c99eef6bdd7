/*-------------------------------------------------------------------------
 *
 * admission.h
 *	  Whether a call to a connection may start now, decided in one place:
 *	  its pause, its day's budget, its concurrency cap and its pace (a token
 *	  bucket), in that order, so a call refused for one reason never spends
 *	  what another would have kept.
 *
 * Pure: no server.  shmem.c runs it under its lock on the connection's
 * shared bucket and budget; clients/admission.c is the gate every caller
 * passes (the worker's engine without waiting, a session's call waiting).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ADMISSION_H
#define TZ_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"
#include "policy.h"

typedef enum TzAdmitVerdict
{
	TZ_ADMIT_GO,				/* counted, and (but for token mints) a slot taken */
	TZ_ADMIT_PACED,				/* the rate limit: look again in wait_ms */
	TZ_ADMIT_BUSY,				/* every slot of the cap in flight: when one ends */
	TZ_ADMIT_SPENT,				/* the day's budget: until until_s */
	TZ_ADMIT_PAUSED				/* the remote refused (the day, or a while): until until_s */
} TzAdmitVerdict;

typedef struct TzAdmission
{
	TzAdmitVerdict verdict;
	int64_t		wait_ms;		/* PACED */
	double		until_s;		/* SPENT and PAUSED */
} TzAdmission;

/*
 * Decides a call of the purpose at now_s.  With take, a GO counts the call,
 * takes its pace token and (but for a token mint) a concurrency slot, to be
 * given back with tz_budget_release; any other verdict changes nothing.
 * Without take nothing is ever changed: what the answer would be.  Token
 * mints are counted and never refused nor paced: without a token no call
 * can be made.  per_minute <= 0: no pace.
 */
extern TzAdmission tz_admission_decide(TzBucket *bucket, TzBudget *budget, double now_s,
									   double per_minute, TzPurpose purpose, bool take);

/* Whether the verdict holds the call for a while (pace, busy) rather than for the day. */
extern bool tz_admission_short(TzAdmitVerdict v);

#endif							/* TZ_ADMISSION_H */
