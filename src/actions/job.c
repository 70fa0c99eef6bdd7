/*-------------------------------------------------------------------------
 *
 * job.c
 *	  Small facts about a held job.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "job.h"

int
tz_job_step(const TzJob *job)
{
	if (job->current < job->nactions)
		return job->actions[job->current].position;
	if (job->nactions > 0)
		return job->actions[job->nactions - 1].position + 1;
	return 1;
}

const char *
tz_outcome_name(TzOutcome outcome)
{
	switch (outcome)
	{
		case TZ_OUTCOME_DELIVERED:
			return "delivered";
		case TZ_OUTCOME_RETRY:
			return "retry";
		case TZ_OUTCOME_DEAD:
			return "dead";
		case TZ_OUTCOME_DEFERRED:
			return "deferred";
		case TZ_OUTCOME_THROTTLED:
			return "throttled";
		case TZ_OUTCOME_NONE:
			break;
	}
	return "retry";
}
