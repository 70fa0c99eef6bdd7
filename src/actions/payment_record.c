/*-------------------------------------------------------------------------
 *
 * payment_record.c
 *	  payment_record: a payment recorded in Zoho Books, recorded in Togai
 *	  once.
 *
 * The payment mapping guards it, and, when it may exist, a search of
 * Togai's payments (page by page) by the Zoho Books transaction number.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "kit.h"
#include "module.h"

static char *
payments_query(TzJob *job, const char *next_token)
{
	return TZ_STEP_QUERY(job, "payments_list", "pageSize", "50", "nextToken", next_token);
}

/* The body of the record: the payment the inbox row carries, for the database's plan. */
static json_t *
payment_body(TzJob *job)
{
	return tz_payment_body(job->context, json_object_get(job->payload, "payload"),
						   tz_step_action(job)->options);
}

static bool
plan(TzJob *job)
{
	const char *recorded = tz_step_context_text(job, "recorded");
	const char *skip = tz_step_context_text(job, "skip");
	json_t	   *body;

	if (recorded)
	{
		tz_step_done(job, "already recorded in Togai", recorded);
		return false;
	}
	if (json_array_size(json_object_get(job->context, "records")) == 0)
	{
		tz_step_done(job, skip ? skip : "no synced invoice in it: nothing to record", NULL);
		return false;
	}
	body = payment_body(job);
	if (body == NULL)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD,
					   "the Togai account or currency of the payment is unknown: its invoices are in "
					   "id_mapping but not in togai_zoho.invoices");
		return false;
	}
	if (job->search_first)
	{
		json_decref(body);
		tz_step_call(job, TZ_PHASE_SEARCH, "payments_list", NULL, payments_query(job, NULL), NULL);
	}
	else
		tz_step_call(job, TZ_PHASE_CREATE, "payment_record", NULL, NULL, body);
	return true;
}

static bool
answered(TzJob *job, const TzApiResult *r)
{
	const char *txn = tz_step_context_text(job, "transaction");
	const char *id;
	const char *next;

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
			next = tz_next_token(r->root);
			id = txn ? tz_find_payment(r->root, txn) : NULL;
			if (id)
				tz_step_mapped(job, "payment", id, txn, "found in Togai");
			else if (next)
				tz_step_call(job, TZ_PHASE_SEARCH, "payments_list", NULL, payments_query(job, next),
							 NULL);
			else
				tz_step_call(job, TZ_PHASE_CREATE, "payment_record", NULL, NULL, payment_body(job));
			return true;
		case TZ_PHASE_CREATE:
			id = json_is_object(r->root) ? json_string_value(json_object_get(r->root, "id")) : NULL;
			if (id == NULL || id[0] == '\0')
				return false;
			tz_step_mapped(job, "payment", id, txn, "recorded");
			return true;
		default:
			return false;
	}
}

static json_t *
stand_in(TzJob *job)
{
	return job->phase == TZ_PHASE_CREATE ? json_pack("{s:s}", "id", "(new payment id)") : NULL;
}

const TzActionModule tz_payment_record_module = {
	.plan = plan,
	.answered = answered,
	.stand_in = stand_in,
};
