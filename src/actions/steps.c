/*-------------------------------------------------------------------------
 *
 * steps.c
 *	  The phase driver: runs a job's actions through their modules.
 *
 * The phases every action may pass (a currency id, an invoice line's item,
 * an exchange rate) are answered here, then the action goes on; all else
 * goes to the current action's module.  No action is named here: adding
 * one touches its module, the table in modules.c, the catalogue
 * (pure/catalogue.c) and the SQL that installs it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "exchange.h"
#include "kit.h"
#include "lookups.h"
#include "module.h"
#include "steps.h"

static const TzActionModule *
module_of(TzJob *job)
{
	return tz_action_module(tz_step_action(job)->kind);
}

bool
tz_steps_plan(TzJob *job, bool search_first)
{
	job->search_first = search_first;
	while (job->outcome == TZ_OUTCOME_NONE)
	{
		const TzActionModule *m;

		if (job->current >= job->nactions)
		{
			tz_step_finish(job, TZ_OUTCOME_DELIVERED, NULL);
			break;
		}
		m = module_of(job);
		if (m == NULL)
		{
			tz_step_finish(job, TZ_OUTCOME_DEAD,
						   psprintf("action %s is not in this version's catalogue",
									tz_step_action(job)->name));
			break;
		}
		/* an action done without a call (already there, nothing to do) leads to the next */
		if (m->plan(job))
			break;
	}
	/* a step may end the job instead of planning its call (it waits for another) */
	return job->outcome == TZ_OUTCOME_NONE && job->call_method != NULL;
}

void
tz_steps_answered(TzJob *job, const TzApiResult *r)
{
	const TzActionModule *m = module_of(job);

	switch (job->phase)
	{
		case TZ_PHASE_CURRENCIES:
			tz_lookup_currency_answered(job, r);
			return;
		case TZ_PHASE_ITEM_SEARCH:
		case TZ_PHASE_ITEM_CREATE:
			switch (tz_lookup_item_answered(job, r))
			{
				case TZ_LOOKUP_KNOWN:
					m->resume(job);
					return;
				case TZ_LOOKUP_CALL:
					return;
				case TZ_LOOKUP_UNEXPLAINED:
					break;
			}
			break;
		case TZ_PHASE_EXCHANGE_RATE:
			tz_step_exchange_rate_read(job, r);
			m->resume(job);
			return;
		case TZ_PHASE_START:
			break;
		default:
			if (m->answered(job, r))
				return;
			break;
	}
	tz_step_unexplained(job, r, NULL);
}

bool
tz_steps_refused(TzJob *job, const TzApiResult *r)
{
	const TzActionModule *m = module_of(job);

	/* Togai's refusals mean nothing more than their verdict */
	if (tz_step_action(job)->togai)
		return false;
	if (tz_lookup_item_refused(job, r))
		return true;
	return m->refused != NULL && m->refused(job, r);
}

void
tz_steps_item_known(TzJob *job, const char *item_id)
{
	job->call_method = NULL;
	tz_lookup_item_known(job, item_id);
	module_of(job)->resume(job);
}

json_t *
tz_steps_stand_in(TzJob *job)
{
	const char *code = tz_json_str(job->payload, "invoice_currency");
	const TzActionModule *m = module_of(job);
	json_t	   *answer;

	switch (job->phase)
	{
		case TZ_PHASE_CURRENCIES:
			return json_pack("{s:[{s:s, s:s}]}", "currencies", "currency_code", code ? code : "",
							 "currency_id", psprintf("(currency id of %s)", code ? code : ""));
		case TZ_PHASE_ITEM_SEARCH:
			return json_pack("{s:[]}", "items");
		case TZ_PHASE_ITEM_CREATE:
			return json_pack("{s:{s:s}}", "item", "item_id",
							 psprintf("(new item id of %s)", job->call_item));
		default:
			answer = m->stand_in ? m->stand_in(job) : NULL;
			return answer ? answer : json_pack("{}");
	}
}
