/*-------------------------------------------------------------------------
 *
 * payment_apply.c
 *	  payment_apply: a Togai payment recorded in Zoho Books once, applied to
 *	  the mapped invoices.
 *
 * The payment mapping guards it, and, when it may exist, a search by
 * reference number whose candidates are read whole (finder.c); an echo of
 * a Zoho Books payment is never sent back.  It waits while an invoice it
 * pays is on its way; what Togai kept as prepaid credits or in the wallet
 * becomes the customer's unused credit (an advance).  The body is the one
 * the database planned (togai_payment_context()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "exchange.h"
#include "kit.h"
#include "module.h"

typedef struct ApplyState
{
	TzFinder   *finder;
} ApplyState;

/* The customer payment planned for this organization (togai_payment_context), or NULL. */
static json_t *
planned_payment(TzJob *job)
{
	return tz_step_for_organization(job, "apply");
}

/* Appends "label: a, b" (after a "; " when there is text already); nothing for no ids. */
static void
append_ids(StringInfo out, const char *label, const json_t *ids)
{
	size_t		i;
	json_t	   *v;

	if (json_array_size(ids) == 0)
		return;
	appendStringInfo(out, "%s%s: ", out->len ? "; " : "", label);
	json_array_foreach(ids, i, v)
		appendStringInfo(out, "%s%s", i ? ", " : "", json_string_value(v) ? json_string_value(v) : "?");
}

/* Notes what a payment_apply leaves out (records of invoices not synced) and its advance. */
static void
note_payment_rest(TzJob *job)
{
	json_t	   *advance = json_object_get(planned_payment(job), "advance");
	StringInfoData note;

	initStringInfo(&note);
	append_ids(&note, "not applied, invoice not in Zoho Books",
			   json_object_get(planned_payment(job), "unmapped"));
	append_ids(&note, "records left in Togai", json_object_get(job->context, "not_invoices"));
	if (json_is_number(advance))
		appendStringInfo(&note, "%s%.*g to prepaid credits or the wallet in Togai: kept as the "
						 "customer's unused credit (an advance) in Zoho Books", note.len ? "; " : "", 15,
						 json_number_value(advance));
	job->note = note.len ? note.data : NULL;
}

/* The payment's create, once its exchange rate is known; also the resume after reading it. */
static void
create(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *body;

	if (tz_step_read_exchange_rate(job))
		return;
	note_payment_rest(job);
	body = tz_zoho_payment_body(planned_payment(job), a->account_zoho_id, a->options);
	tz_step_add_exchange_rate(job, body);
	tz_step_create(job, "payment", "payment_create", job->source_id, NULL, body);
}

static bool
plan(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *planned = planned_payment(job);
	const char *recorded = json_string_value(json_object_get(planned, "recorded"));
	const char *echo = tz_step_context_text(job, "echo");
	ApplyState *s;

	if (echo)
	{
		tz_step_done(job, echo, NULL);
		return false;
	}
	if (recorded)
	{
		tz_step_done(job, "already in Zoho Books", recorded);
		return false;
	}
	if (tz_step_held_by_invoice(job))
		return false;
	if (planned == NULL)
	{
		note_payment_rest(job);
		tz_step_done(job, "no invoice of the payment is in Zoho Books: nothing to apply", NULL);
		return false;
	}
	if (a->account_zoho_id == NULL)
	{
		tz_step_wait_for_account(job);
		return false;
	}
	if (!job->search_first)
	{
		create(job);
		return true;
	}
	s = tz_step_state(job, sizeof(ApplyState));
	s->finder = tz_finder_start(TZ_FIND_PAYMENT, job->source_id, a->account_zoho_id, NULL);
	tz_step_find(job, s->finder);
	return true;
}

static bool
answered(TzJob *job, const TzApiResult *r)
{
	ApplyState *s = tz_step_state(job, sizeof(ApplyState));
	const char *id;

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
		case TZ_PHASE_CONFIRM:
			switch (tz_step_find_answered(job, s->finder, r))
			{
				case TZ_FOUND:
					tz_step_mapped(job, "payment", job->source_id, s->finder->found_id,
								   "found in Zoho Books");
					break;
				case TZ_FOUND_NONE:
					create(job);
					break;
				case TZ_FOUND_NEXT:
					break;
			}
			return true;
		case TZ_PHASE_CREATE:
			id = tz_created_id(r->root, "payment", "payment_id");
			if (id == NULL)
				return false;
			tz_step_mapped(job, "payment", job->source_id, id, "recorded");
			return true;
		default:
			return false;
	}
}

static json_t *
stand_in(TzJob *job)
{
	return job->phase == TZ_PHASE_CREATE ?
		json_pack("{s:{s:s}}", "payment", "payment_id", "(new payment id)") : NULL;
}

const TzActionModule tz_payment_apply_module = {
	.plan = plan,
	.answered = answered,
	.resume = create,
	.stand_in = stand_in,
};
