/*-------------------------------------------------------------------------
 *
 * invoice.c
 *	  invoice_create and invoice_update: a Togai invoice as a Zoho Books
 *	  invoice.
 *
 * invoice_create waits (deferred) until the account has a contact; an
 * invoice already mapped is not created again; it finds or makes the Zoho
 * item of each line (lookups.c) and reads an exchange rate it needs
 * (exchange.c); when it may exist it is found first, by reference number
 * and customer (finder.c).  A draft is marked sent with the next bulk call
 * (delivery/mark_sent.c) when the action asks for it.  invoice_update puts
 * the invoice as Togai has it now, while no money was applied to it in
 * Zoho Books; after that it says the difference.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "pure/credit_note.h"
#include "exchange.h"
#include "kit.h"
#include "lookups.h"
#include "module.h"

typedef struct InvoiceState
{
	TzFinder   *finder;
	bool		searched;		/* the invoice was looked for in this attempt */
} InvoiceState;

static InvoiceState *
state(TzJob *job)
{
	return tz_step_state(job, sizeof(InvoiceState));
}

/* How this action's organization taxes the invoice (togai_zoho.invoice_tax_plans), or NULL. */
static json_t *
tax_plan(TzJob *job)
{
	return tz_step_for_organization(job, "tax_plans");
}

/*
 * The invoice's context as this organization bills it: with its taxes
 * mapped, every line takes the tax and the adjustment leaves it out; else
 * (no taxes, a fixed tax_id, or unmapped_tax = adjustment) the context as
 * it is, the taxes in the adjustment.
 */
static json_t *
taxed_context(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *plan = tax_plan(job);
	json_t	   *ctx;
	json_t	   *difference = json_object_get(plan, "difference");

	if (!json_is_string(json_object_get(plan, "tax_id")) ||
		json_is_string(json_object_get(a->options, "tax_id")))
		return json_incref(job->context);
	ctx = json_deep_copy(job->context);
	json_object_set(ctx, "tax_id", json_object_get(plan, "tax_id"));
	if (json_object_get(plan, "adjustment"))
		json_object_set(ctx, "adjustment", json_object_get(plan, "adjustment"));
	else
		json_object_del(ctx, "adjustment");
	if (json_is_number(difference))
		tz_step_note(job, psprintf("Zoho Books' line taxes differ from Togai's by %.*g (rounding line "
								   "by line); the adjustment keeps the total exact", 15,
								   json_number_value(difference)));
	return ctx;
}

/*
 * With an invoice_credits action after this one for the same organization,
 * the invoice shows the charges before credits: the credits leave the
 * adjustment, to come back as a credit note applied to the invoice.
 */
static json_t *
without_credits(TzJob *job, json_t *ctx)
{
	TzJobAction *a = tz_step_action(job);
	int			d = tz_step_digits(ctx);
	long long	credits;
	long long	adjustment = 0;
	bool		follows = false;
	json_t	   *copy;

	for (int k = job->current + 1; k < job->nactions; k++)
		follows |= job->actions[k].kind == TZ_ACTION_INVOICE_CREDITS &&
			job->actions[k].connection_id == a->connection_id;
	if (!follows || a->kind != TZ_ACTION_INVOICE_CREATE ||
		!tz_minor_units(json_object_get(ctx, "credits"), d, &credits) || credits <= 0)
		return ctx;
	tz_minor_units(json_object_get(ctx, "adjustment"), d, &adjustment);
	adjustment += credits;
	copy = json_deep_copy(ctx);
	json_decref(ctx);
	if (adjustment == 0)
		json_object_del(copy, "adjustment");
	else
		json_object_set_new(copy, "adjustment", tz_money_json(adjustment, d));
	return copy;
}

/*
 * The invoice's call once its items and exchange rate are known: the
 * update, or the create (a plain one with Togai's number, which needs a
 * parameter the upsert lacks).  Also the resume after a look-up.
 */
static void
write_invoice(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	bool		own_number = json_is_true(json_object_get(a->options, "use_togai_number"));
	bool		capped;
	json_t	   *names = tz_invoice_item_names(job->payload, a->options, job->context);
	bool		looking = tz_lookup_items(job, names);
	json_t	   *ctx;
	json_t	   *body;
	char		ref[64];

	json_decref(names);
	if (looking)
		return;
	if (tz_payment_terms(job->payload, NULL, &capped) >= 0 && capped)
		job->note = psprintf("net terms over %d days sent as %d, Zoho Books' most",
							 TZ_ZOHO_MAX_TERMS, TZ_ZOHO_MAX_TERMS);
	if (tz_step_read_exchange_rate(job))
		return;
	ctx = without_credits(job, taxed_context(job));
	body = tz_invoice_body(job->payload, a->account_zoho_id, a->options, ctx, a->items);
	tz_step_add_exchange_rate(job, body);
	if (a->kind == TZ_ACTION_INVOICE_UPDATE)
		tz_step_call(job, TZ_PHASE_UPDATE, "invoice_update", a->invoice_zoho_id, NULL, body);
	else
		tz_step_create(job, "invoice", "invoice_create",
					   tz_invoice_reference(job->payload, ref, sizeof(ref)),
					   own_number ? TZ_STEP_QUERY(job, "invoice_create", "ignore_auto_number_generation", "true") : NULL,
					   body);
	json_decref(ctx);
}

/*
 * An invoice whose Togai tax has no Zoho Books tax stops, naming it, unless
 * the action carries unmapped taxes in the adjustment.  True: it stopped.
 */
static bool
stopped_by_tax(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	const char *unmapped = json_string_value(json_object_get(tax_plan(job), "unmapped"));
	const char *how = json_string_value(json_object_get(a->options, "unmapped_tax"));

	if (how != NULL && strcmp(how, "adjustment") != 0 && strcmp(how, "stop") != 0)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD,
					   psprintf("option unmapped_tax is \"%s\": it takes \"stop\" or \"adjustment\"", how));
		return true;
	}
	if (unmapped == NULL || json_is_string(json_object_get(a->options, "tax_id")) ||
		(how != NULL && strcmp(how, "adjustment") == 0))
		return false;
	tz_step_finish(job, TZ_OUTCOME_DEAD,
				   psprintf("Togai tax %s has no Zoho Books tax: map it with togai_zoho.map_tax("
							"'<zohobooks connection>', '<tax name>', '<zoho tax_id>', <rate>), then "
							"togai_zoho.retry() this job", unmapped));
	return true;
}

static void
search(TzJob *job)
{
	InvoiceState *s = state(job);
	char		ref[64];

	s->searched = true;
	s->finder = tz_finder_start(TZ_FIND_INVOICE, tz_invoice_reference(job->payload, ref, sizeof(ref)),
								tz_step_action(job)->account_zoho_id, NULL);
	tz_step_find(job, s->finder);
}

/*
 * Queues a draft invoice to be marked sent when the action asks for it: one
 * bulk call marks many.  Returns whether it was queued.
 */
static bool
mark_sent_later(TzJob *job, const char *invoice_id, const char *status)
{
	TzJobAction *a = tz_step_action(job);
	TzUnsentInvoice *u;

	if (!json_is_true(json_object_get(a->options, "mark_sent")) ||
		status == NULL || strcmp(status, "draft") != 0)
		return false;
	u = palloc(sizeof(TzUnsentInvoice));
	u->connection_id = a->connection_id;
	u->invoice_id = pstrdup(invoice_id);
	job->unsent = lappend(job->unsent, u);
	return true;
}

/* The invoice is in Zoho Books (found, or made now): mapped, and queued to be marked sent. */
static void
invoice_known(TzJob *job, const char *id, const char *status, bool created)
{
	bool		later = mark_sent_later(job, id, status);

	tz_step_mapped(job, "invoice", job->source_id, id,
				   later ? (created ? "created; marked sent with the next bulk call" :
							"found; marked sent with the next bulk call") :
				   (created ? "created" : "found"));
}

static bool
plan_create(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	char		buf[64];

	if (a->invoice_zoho_id)
	{
		tz_step_done(job, "already in Zoho Books", a->invoice_zoho_id);
		return false;
	}
	if (a->account_zoho_id == NULL)
	{
		tz_step_wait_for_account(job);
		return false;
	}
	if (tz_invoice_reference(job->payload, buf, sizeof(buf)) == NULL)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD, "the invoice row has no invoice_id");
		return false;
	}
	if (stopped_by_tax(job))
		return false;
	if (job->search_first)
		search(job);
	else
		write_invoice(job);
	return true;
}

static bool
answered_create(TzJob *job, const TzApiResult *r)
{
	InvoiceState *s = state(job);
	const char *id;

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
			if (tz_step_find_answered(job, s->finder, r) != TZ_FOUND)
				write_invoice(job);
			else
				/* made by an attempt cut short before it was marked sent? */
				invoice_known(job, s->finder->found_id,
							  json_string_value(json_object_get(s->finder->found, "status")), false);
			return true;
		case TZ_PHASE_CREATE:
			id = tz_created_id(r->root, "invoice", "invoice_id");
			if (id == NULL)
				return false;
			invoice_known(job, id, "draft", true);
			return true;
		default:
			return false;
	}
}

/* An invoice number taken: ours, made before we remembered it? */
static bool
refused_create(TzJob *job, const TzApiResult *r)
{
	if (job->phase != TZ_PHASE_CREATE || state(job)->searched ||
		!tz_zoho_duplicate(r->http_status, r->root))
		return false;
	search(job);
	return true;
}

static json_t *
stand_in_create(TzJob *job)
{
	return job->phase == TZ_PHASE_CREATE ?
		json_pack("{s:{s:s}}", "invoice", "invoice_id", "(new invoice id)") : NULL;
}

static bool
plan_update(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	if (tz_step_held_by_invoice(job))
		return false;
	if (a->invoice_zoho_id == NULL)
	{
		tz_step_done(job, "no Zoho Books invoice to update", NULL);
		return false;
	}
	if (a->account_zoho_id == NULL)
	{
		tz_step_wait_for_account(job);
		return false;
	}
	if (stopped_by_tax(job))
		return false;
	/* whether money was applied to it: Zoho Books keeps what was paid against the lines */
	tz_step_call(job, TZ_PHASE_READ, "invoice_get", a->invoice_zoho_id, NULL, NULL);
	return true;
}

/* The invoice as Zoho Books has it: updated while no money was applied, else the difference said. */
static void
update_read(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *invoice = json_object_get(r->root, "invoice");
	const char *status = json_string_value(json_object_get(invoice, "status"));
	static const char *const applied[] = {"payment_made", "credits_applied", "write_off_amount"};
	char		togai_buf[64];
	char		zoho_buf[64];
	const char *togai_total = tz_row_text(job->payload, "total_amount", togai_buf, sizeof(togai_buf));
	const char *zoho_total = tz_row_text(invoice, "total", zoho_buf, sizeof(zoho_buf));

	if (status && strcmp(status, "void") == 0)
	{
		tz_step_done(job, "the Zoho Books invoice is void: not updated", a->invoice_zoho_id);
		return;
	}
	for (int k = 0; k < lengthof(applied); k++)
	{
		json_t	   *v = json_object_get(invoice, applied[k]);

		if (json_is_number(v) && json_number_value(v) > 0)
		{
			job->note = psprintf("Togai total %s, Zoho Books total %s with %s %.*g: the difference "
								 "stays (see togai_zoho.money_differences)",
								 togai_total ? togai_total : "?", zoho_total ? zoho_total : "?",
								 applied[k], 15, json_number_value(v));
			tz_step_done(job, "not updated: money was applied to it", a->invoice_zoho_id);
			return;
		}
	}
	write_invoice(job);
}

static bool
answered_update(TzJob *job, const TzApiResult *r)
{
	if (job->phase == TZ_PHASE_READ)
		update_read(job, r);
	else if (job->phase == TZ_PHASE_UPDATE)
		tz_step_done(job, "updated", tz_step_action(job)->invoice_zoho_id);
	else
		return false;
	return true;
}

const TzActionModule tz_invoice_create_module = {
	.plan = plan_create,
	.answered = answered_create,
	.refused = refused_create,
	.resume = write_invoice,
	.stand_in = stand_in_create,
};

const TzActionModule tz_invoice_update_module = {
	.plan = plan_update,
	.answered = answered_update,
	.resume = write_invoice,
};
