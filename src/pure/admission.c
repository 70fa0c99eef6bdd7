/*-------------------------------------------------------------------------
 *
 * admission.c
 *	  One decision over a connection's pause, budget, cap and pace.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "admission.h"

TzAdmission
tz_admission_decide(TzBucket *bucket, TzBudget *budget, double now_s, double per_minute,
					TzPurpose purpose, bool take)
{
	TzAdmission a = {TZ_ADMIT_GO, 0, 0};
	TzBudget	trial = *budget;
	TzBucket	pace = *bucket;
	double		until_s = 0;
	TzBudgetVerdict v;

	/* the budget first, on a copy: a call it refuses must not spend a pace token */
	v = tz_budget_take(&trial, now_s, purpose, &until_s);
	if (v == TZ_BUDGET_PAUSED || v == TZ_BUDGET_SPENT)
	{
		a.verdict = v == TZ_BUDGET_PAUSED ? TZ_ADMIT_PAUSED : TZ_ADMIT_SPENT;
		a.until_s = until_s;
		return a;
	}
	if (v == TZ_BUDGET_BUSY)
	{
		a.verdict = TZ_ADMIT_BUSY;
		return a;
	}
	if (purpose != TZ_PURPOSE_TOKEN && per_minute > 0)
	{
		a.wait_ms = tz_bucket_take(&pace, now_s, per_minute);
		if (a.wait_ms > 0)
		{
			a.verdict = TZ_ADMIT_PACED;
			return a;
		}
	}
	if (take)
	{
		*budget = trial;
		*bucket = pace;
	}
	return a;
}

bool
tz_admission_short(TzAdmitVerdict v)
{
	return v == TZ_ADMIT_PACED || v == TZ_ADMIT_BUSY;
}
