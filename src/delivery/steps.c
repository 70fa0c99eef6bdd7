/*-------------------------------------------------------------------------
 *
 * steps.c
 *	  The actions, phase by phase.
 *
 * contact_upsert: looks up the Zoho currency id once per currency, then
 * reads and updates the mapped contact, or creates one, or, when it may
 * exist (an earlier attempt, a backfill, a name already taken), searches for
 * it first: every candidate of the search is read and taken only when its
 * notes or custom field carry the account id, never by name.  An account
 * whose name is taken by another contact gets its distinct name.
 * invoice_create: waits (deferred) until the account has a contact; an
 * invoice already mapped is not created again; finds or makes the Zoho item
 * of each line; otherwise as above, searched by reference number and
 * customer first when it may exist.  invoice_void voids the mapped invoice.
 * account_write_back: reads the Togai account and writes the contact id
 * into its metadata, keeping the other keys.
 * payment_record: records a Zoho Books payment in Togai once: the payment
 * mapping, and a search by transaction number when it may exist, guard it.
 * account_update: reads the whole Zoho Books contact (list entries carry no
 * address) and copies it onto its Togai account.
 * payment_apply: records a Togai payment in Zoho Books once, applied to the
 * mapped invoices: the payment mapping guards it, and a search by reference
 * number (each candidate read whole) when it may exist; an echo of a Zoho
 * Books payment is never sent back.  invoice_write_off writes the mapped
 * invoice's balance off.  invoice_update puts the invoice as Togai has it
 * now, while no money was applied to it in Zoho Books; after that it says
 * the difference.  These wait while an invoice is on its way; refunds and
 * credits (credit notes) are in steps_credit_note.c, exchange rates in
 * steps_exchange.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "utils/json.h"

#include "pure/credit_note.h"
#include "clients/remote_ops.h"
#include "step_kit.h"
#include "pure/upsert.h"

#define DEFER_MS (60 * 1000)	/* a waiter is also woken when its mapping is written */
#define DEFAULT_METADATA_KEY "zohobooks_contact_id"

/* The next call: an operation (see remote_ops.c) at a connection of its app. */
static void
set_call_at(TzJob *job, int64 connection_id, TzApp app, TzPhase phase, const char *operation,
			const char *id, char *query, json_t *body)
{
	const TzRemoteOp *op = tz_remote_op(app, operation);

	if (op == NULL)
		elog(ERROR, "togai_zoho: no remote operation %s", operation);
	job->phase = phase;
	job->call_connection_id = connection_id;
	job->call_method = op->method;
	job->call_path = tz_remote_path(op, id);
	job->call_query = query;
	job->call_body = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	job->call_creates = op->creates;
	job->call_unique_key = NULL;
	job->call_unique_value = NULL;
	if (body)
		json_decref(body);
}

/* The next call: an operation at the current action's connection. */
void
tz_step_call(TzJob *job, TzPhase phase, const char *operation, const char *id, char *query,
			 json_t *body)
{
	TzJobAction *a = tz_step_action(job);

	set_call_at(job, a->connection_id, a->togai ? TZ_APP_TOGAI : TZ_APP_ZOHOBOOKS, phase,
				operation, id, query, body);
}

json_t *
tz_step_unique_field(TzJob *job, const char *entity)
{
	json_t	   *field = json_object_get(tz_step_for_organization(job, "unique_fields"), entity);

	return json_is_string(json_object_get(field, "api_name")) &&
		json_is_string(json_object_get(field, "body_field")) ? field : NULL;
}

void
tz_step_create(TzJob *job, const char *entity, const char *operation, const char *togai_id,
			   char *query, json_t *body)
{
	json_t	   *field = tz_step_unique_field(job, entity);

	if (field == NULL || togai_id == NULL || query != NULL)
	{
		tz_step_call(job, TZ_PHASE_CREATE, operation, NULL, query, body);
		return;
	}
	/* the body holds the id too: whether Zoho stores the header's value is unsure */
	tz_upsert_set_field(body, tz_upsert_field_entry(entity,
													json_string_value(json_object_get(field, "body_field")),
													togai_id));
	tz_step_call(job, TZ_PHASE_CREATE, psprintf("%s_upsert", entity), NULL, NULL, body);
	job->call_unique_key = pstrdup(json_string_value(json_object_get(field, "api_name")));
	job->call_unique_value = pstrdup(togai_id);
}

static const char *
context_text(const TzJob *job, const char *key)
{
	return json_is_object(job->context) ?
		json_string_value(json_object_get(job->context, key)) : NULL;
}

/* The Zoho Books object an inbound job carries (the inbox row's payload). */
static json_t *
inbound_object(const TzJob *job)
{
	return json_object_get(job->payload, "payload");
}

/* Records a mapping to store and lets later actions of the job use it. */
static void
remember_mapping(TzJob *job, const char *entity, const char *togai_id, const char *zoho_id)
{
	TzJobAction *a = tz_step_action(job);
	TzNewMapping *m = palloc0(sizeof(TzNewMapping));
	bool		inbound = a->togai;	/* a Togai action: the job came from Zoho Books */

	m->entity = entity;
	m->togai_connection_id = inbound ? a->connection_id : job->source_connection_id;
	m->zohobooks_connection_id = inbound ? job->source_connection_id : a->connection_id;
	m->togai_id = pstrdup(togai_id);
	m->togai_customer_id = tz_json_str(job->payload, "customer_id") && !inbound ?
		pstrdup(tz_json_str(job->payload, "customer_id")) : NULL;
	m->zohobooks_id = pstrdup(zoho_id);
	job->mappings = lappend(job->mappings, m);

	for (int k = job->current; k < job->nactions; k++)
	{
		TzJobAction *later = &job->actions[k];

		if (strcmp(entity, "account") == 0 &&
			(later->connection_id == m->zohobooks_connection_id ||
			 (later->togai && later->account_zoho_id == NULL)))
			later->account_zoho_id = m->zohobooks_id;
		else if (strcmp(entity, "invoice") == 0 && later->connection_id == m->zohobooks_connection_id)
			later->invoice_zoho_id = m->zohobooks_id;
	}
}

/* The current action is done: note what it did, move to the next. */
void
tz_step_done(TzJob *job, const char *did, const char *remote_id)
{
	TzJobAction *a = tz_step_action(job);
	StringInfo	out = &job->result;

	if (out->len > 1)
		appendStringInfoString(out, ", ");
	appendStringInfo(out, "{\"position\": %d, \"action\": ", a->position);
	escape_json(out, a->name);
	appendStringInfoString(out, ", \"did\": ");
	escape_json(out, did);
	if (remote_id)
	{
		appendStringInfoString(out, a->togai ? ", \"togai_id\": " : ", \"zohobooks_id\": ");
		escape_json(out, remote_id);
	}
	if (job->note)
	{
		appendStringInfoString(out, ", \"note\": ");
		escape_json(out, job->note);
	}
	appendStringInfoChar(out, '}');
	job->current++;
	job->phase = TZ_PHASE_START;
	job->call_method = NULL;
	job->refreshed = false;
	job->candidates = NULL;
	job->next_candidate = 0;
	job->searched = false;
	job->distinct = false;
	job->current_object = NULL;
	job->note = NULL;
}

void
tz_step_finish(TzJob *job, TzOutcome outcome, const char *error)
{
	job->outcome = outcome;
	job->error = error ? pstrdup(error) : NULL;
}

/* The action needs the account's contact, which is not there yet: wait for it. */
static void
wait_for_account(TzJob *job)
{
	const char *account_id = tz_json_str(job->payload, "account_id");

	job->waiting_for = account_id ? pstrdup(account_id) : NULL;
	job->delay_ms = DEFER_MS;
	tz_step_finish(job, TZ_OUTCOME_DEFERRED,
				   psprintf("waiting for account %s to have a Zoho Books contact",
					account_id ? account_id : "(none)"));
}

/* The account's contact body as the action sends it now. */
static json_t *
contact_body(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	return tz_contact_body(job->payload, a->options, a->currency_id, job->current_object,
						   job->distinct);
}

/* Look for the account's contact: candidates by search_text, each read and confirmed. */
static void
search_contact(TzJob *job)
{
	char		id_buf[64];
	char		text[128];

	tz_contact_search_text(tz_row_text(job->payload, "account_id", id_buf, sizeof(id_buf)),
						   text, sizeof(text));
	job->searched = true;
	tz_step_call(job, TZ_PHASE_SEARCH, "contact_search", NULL,
				 TZ_STEP_QUERY(job, "contact_search", "search_text", text), NULL);
}

static void
create_contact(TzJob *job)
{
	char		id_buf[64];

	tz_step_create(job, "contact", "contact_create",
				   tz_row_text(job->payload, "account_id", id_buf, sizeof(id_buf)), NULL,
				   contact_body(job));
}

/* The account's contact is known: update it with what it is now. */
static void
update_contact(TzJob *job)
{
	tz_step_call(job, TZ_PHASE_UPDATE, "contact_update", tz_step_action(job)->account_zoho_id, NULL,
				 contact_body(job));
}

static bool
plan_contact(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	char	   *name;
	const char *currency = tz_json_str(job->payload, "invoice_currency");
	bool		capped;

	/* Zoho takes a currency id, not a code: look it up once per organization */
	if (currency != NULL && a->currency_id == NULL)
	{
		tz_step_call(job, TZ_PHASE_CURRENCIES, "currencies", NULL, NULL, NULL);
		return true;
	}
	name = tz_contact_name(job->payload, a->options, false);
	if (name == NULL)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD,
					   "the account row has no account_id or no name to make a contact from");
		return false;
	}
	free(name);
	if (tz_payment_terms(job->payload, a->options, &capped) >= 0 && capped)
		job->note = psprintf("net terms over %d days sent as %d, Zoho Books' most",
							 TZ_ZOHO_MAX_TERMS, TZ_ZOHO_MAX_TERMS);
	/* an update names the persons it changes: read the contact first */
	if (a->account_zoho_id)
		tz_step_call(job, TZ_PHASE_READ, "contact_get", a->account_zoho_id, NULL, NULL);
	else if (job->search_first)
		search_contact(job);
	else
		create_contact(job);
	return true;
}

/* The Zoho item of the next line item name not known yet; false when all are. */
static bool
plan_items(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *names = tz_invoice_item_names(job->payload, a->options, job->context);
	size_t		i;
	json_t	   *n;

	if (a->items == NULL)
		a->items = json_pack("{}");
	json_array_foreach(names, i, n)
	{
		const char *name = json_string_value(n);

		if (json_object_get(a->items, name) == NULL)
		{
			job->call_item = pstrdup(name);
			tz_step_call(job, TZ_PHASE_ITEM_SEARCH, "item_search", NULL,
						 TZ_STEP_QUERY(job, "item_search", "name", name), NULL);
			json_decref(names);
			return true;
		}
	}
	json_decref(names);
	return false;
}

/*
 * What the database worked out for this action's Zoho Books connection
 * (job_context() keys such entries by connection id), or NULL.
 */
json_t *
tz_step_for_organization(TzJob *job, const char *what)
{
	char		key[32];

	snprintf(key, sizeof(key), INT64_FORMAT, tz_step_action(job)->connection_id);
	return json_object_get(json_object_get(job->context, what), key);
}

/* Adds to what the current action's result says. */
void
tz_step_note(TzJob *job, const char *text)
{
	job->note = job->note ? psprintf("%s; %s", job->note, text) : pstrdup(text);
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

	for (int k = job->current + 1; k < job->nactions; k++)
		follows |= job->actions[k].kind == TZ_ACTION_INVOICE_CREDITS &&
			job->actions[k].connection_id == a->connection_id;
	if (!follows || a->kind != TZ_ACTION_INVOICE_CREATE ||
		!tz_minor_units(json_object_get(ctx, "credits"), d, &credits) || credits <= 0)
		return ctx;
	tz_minor_units(json_object_get(ctx, "adjustment"), d, &adjustment);
	adjustment += credits;
	{
		json_t	   *copy = json_deep_copy(ctx);

		json_decref(ctx);
		ctx = copy;
	}
	if (adjustment == 0)
		json_object_del(ctx, "adjustment");
	else
		json_object_set_new(ctx, "adjustment", tz_money_json(adjustment, d));
	return ctx;
}

static void
create_invoice(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	bool		own_number = json_is_true(json_object_get(a->options, "use_togai_number"));
	bool		capped;
	json_t	   *ctx;
	json_t	   *body;

	if (plan_items(job))
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
	{
		char		ref[64];

		/* Togai's number needs a parameter the upsert lacks: that create is a plain one */
		tz_step_create(job, "invoice", "invoice_create",
					   tz_invoice_reference(job->payload, ref, sizeof(ref)),
					   own_number ? TZ_STEP_QUERY(job, "invoice_create", "ignore_auto_number_generation", "true") : NULL,
					   body);
	}
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
search_invoice(TzJob *job)
{
	char		buf[64];

	job->searched = true;
	tz_step_call(job, TZ_PHASE_SEARCH, "invoice_search", NULL,
				 TZ_STEP_QUERY(job, "invoice_search",
				   "reference_number", tz_invoice_reference(job->payload, buf, sizeof(buf)),
				   "customer_id", tz_step_action(job)->account_zoho_id), NULL);
}

static bool
plan_invoice(TzJob *job)
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
		wait_for_account(job);
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
		search_invoice(job);
	else
		create_invoice(job);
	return true;
}

static bool
plan_write_back(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	const char *account_id = tz_json_str(job->payload, "account_id");

	if (a->account_zoho_id == NULL)
	{
		wait_for_account(job);
		return false;
	}
	if (account_id == NULL)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD, "the account row has no account_id");
		return false;
	}
	tz_step_call(job, TZ_PHASE_READ, "account_get", account_id, NULL, NULL);
	return true;
}

static char *
payments_query(TzJob *job, const char *next_token)
{
	return TZ_STEP_QUERY(job, "payments_list", "pageSize", "50", "nextToken", next_token);
}

static bool
plan_payment(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	const char *recorded = context_text(job, "recorded");
	json_t	   *body;

	if (recorded)
	{
		tz_step_done(job, "already recorded in Togai", recorded);
		return false;
	}
	if (json_array_size(json_object_get(job->context, "records")) == 0)
	{
		tz_step_done(job, context_text(job, "skip") ?
					 context_text(job, "skip") : "no synced invoice in it: nothing to record", NULL);
		return false;
	}
	body = tz_payment_body(job->context, inbound_object(job), a->options);
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
plan_account_update(TzJob *job)
{
	const char *account_id = context_text(job, "account_id");
	const char *contact_id = json_string_value(json_object_get(job->payload, "remote_id"));

	if (account_id == NULL)
	{
		tz_step_done(job, "the contact is not mapped to a Togai account: nothing to update", NULL);
		return false;
	}
	if (contact_id == NULL)
	{
		tz_step_done(job, "the inbox row names no contact", NULL);
		return false;
	}
	/* list entries carry no address: read the whole contact at Zoho Books first */
	set_call_at(job, job->source_connection_id, TZ_APP_ZOHOBOOKS, TZ_PHASE_READ, "contact_get",
				contact_id, NULL, NULL);
	return true;
}

/*
 * A job that follows an invoice (a payment, a write-off) waits, not as an
 * attempt, while the context says the invoice is on its way, and stops,
 * naming it, when the invoice's own job died.  True: it did either.
 */
bool
tz_step_held_by_invoice(TzJob *job)
{
	if (context_text(job, "waiting"))
	{
		job->delay_ms = ON_ITS_WAY_MS;
		tz_step_finish(job, TZ_OUTCOME_DEFERRED, psprintf("waiting: %s", context_text(job, "waiting")));
		return true;
	}
	if (context_text(job, "blocked"))
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD, context_text(job, "blocked"));
		return true;
	}
	return false;
}

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
	StringInfoData note;

	initStringInfo(&note);
	append_ids(&note, "not applied, invoice not in Zoho Books",
			   json_object_get(planned_payment(job), "unmapped"));
	append_ids(&note, "records left in Togai", json_object_get(job->context, "not_invoices"));
	if (json_is_number(json_object_get(planned_payment(job), "advance")))
		appendStringInfo(&note, "%s%.*g to prepaid credits or the wallet in Togai: kept as the "
						 "customer's unused credit (an advance) in Zoho Books", note.len ? "; " : "", 15,
						 json_number_value(json_object_get(planned_payment(job), "advance")));
	job->note = note.len ? note.data : NULL;
}

static void
create_zoho_payment(TzJob *job)
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
plan_payment_apply(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *planned = planned_payment(job);
	const char *recorded = json_string_value(json_object_get(planned, "recorded"));

	if (context_text(job, "echo"))
	{
		tz_step_done(job, context_text(job, "echo"), NULL);
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
		wait_for_account(job);
		return false;
	}
	if (job->search_first)
	{
		job->searched = true;
		tz_step_call(job, TZ_PHASE_SEARCH, "payment_search", NULL,
					 TZ_STEP_QUERY(job, "payment_search", "reference_number", job->source_id), NULL);
	}
	else
		create_zoho_payment(job);
	return true;
}

static bool
plan_write_off(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	if (tz_step_held_by_invoice(job))
		return false;
	if (a->invoice_zoho_id == NULL)
	{
		tz_step_done(job, "no Zoho Books invoice to write off", NULL);
		return false;
	}
	tz_step_call(job, TZ_PHASE_WRITE_OFF, "invoice_write_off", a->invoice_zoho_id, NULL, NULL);
	return true;
}

static bool
plan_invoice_update(TzJob *job)
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
		wait_for_account(job);
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
invoice_update_read(TzJob *job, const TzApiResult *r)
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
	create_invoice(job);
}

static bool plan_next(TzJob *job);

bool
tz_steps_plan(TzJob *job, bool search_first)
{
	job->search_first = search_first;
	/* a step may end the job instead of planning its call (it waits for another) */
	return plan_next(job) && job->outcome == TZ_OUTCOME_NONE && job->call_method != NULL;
}

/* The next call of the job, or its end; true: a call is planned. */
static bool
plan_next(TzJob *job)
{
	while (job->outcome == TZ_OUTCOME_NONE)
	{
		TzJobAction *a;

		if (job->current >= job->nactions)
		{
			tz_step_finish(job, TZ_OUTCOME_DELIVERED, NULL);
			return false;
		}
		a = tz_step_action(job);
		switch (a->kind)
		{
			case TZ_ACTION_CONTACT_UPSERT:
				return plan_contact(job);
			case TZ_ACTION_INVOICE_CREATE:
				if (plan_invoice(job))
					return true;
				break;			/* done already, or finished */
			case TZ_ACTION_INVOICE_VOID:
				if (a->invoice_zoho_id == NULL)
				{
					tz_step_done(job, "no Zoho Books invoice to void", NULL);
					break;
				}
				tz_step_call(job, TZ_PHASE_VOID, "invoice_void", a->invoice_zoho_id, NULL, NULL);
				return true;
			case TZ_ACTION_ACCOUNT_WRITE_BACK:
				return plan_write_back(job);
			case TZ_ACTION_PAYMENT_RECORD:
				if (plan_payment(job))
					return true;
				break;
			case TZ_ACTION_ACCOUNT_UPDATE:
				if (plan_account_update(job))
					return true;
				break;
			case TZ_ACTION_PAYMENT_APPLY:
				if (plan_payment_apply(job))
					return true;
				break;
			case TZ_ACTION_INVOICE_WRITE_OFF:
				if (plan_write_off(job))
					return true;
				break;
			case TZ_ACTION_INVOICE_REFUND:
				if (tz_plan_refund(job))
					return true;
				break;
			case TZ_ACTION_INVOICE_UPDATE:
				if (plan_invoice_update(job))
					return true;
				break;
			case TZ_ACTION_INVOICE_CREDITS:
				if (tz_plan_credits(job))
					return true;
				break;
			case TZ_ACTION_UNSUPPORTED:
				tz_step_finish(job, TZ_OUTCOME_DEAD,
							   psprintf("action %s is not in this version's catalogue", a->name));
				return false;
		}
	}
	return false;
}

/*
 * Queues a draft invoice to be marked sent when the action asks for it: one
 * bulk call marks many (mark_sent.c).  Returns whether it was queued.
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

/* The status of an invoice in a list answer, or NULL. */
static const char *
found_status(const json_t *answer, const char *invoice_id)
{
	json_t	   *list = json_object_get(answer, "invoices");
	size_t		i;
	json_t	   *inv;

	json_array_foreach(list, i, inv)
	{
		const char *id = json_string_value(json_object_get(inv, "invoice_id"));

		if (id && strcmp(id, invoice_id) == 0)
			return json_string_value(json_object_get(inv, "status"));
	}
	return NULL;
}

/* Reads the next candidate of the search, or creates the object. */
static void
next_candidate(TzJob *job)
{
	const char *id = json_string_value(json_array_get(job->candidates, job->next_candidate));
	bool		payment = tz_step_action(job)->kind == TZ_ACTION_PAYMENT_APPLY;

	if (id == NULL)
	{
		if (payment)
			create_zoho_payment(job);
		else
			create_contact(job);
		return;
	}
	job->next_candidate++;
	tz_step_call(job, TZ_PHASE_CONFIRM, payment ? "payment_get" : "contact_get", id, NULL, NULL);
}

static void
answered_search(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	const char *id;
	char		buf[64];

	switch (a->kind)
	{
		case TZ_ACTION_CONTACT_UPSERT:
			{
				char	   *name = tz_contact_name(job->payload, a->options, false);
				char	   *distinct = tz_contact_name(job->payload, a->options, true);

				job->candidates = tz_contact_candidates(r->root, name, distinct);
				job->next_candidate = 0;
				free(name);
				free(distinct);
				next_candidate(job);
				return;
			}
		case TZ_ACTION_INVOICE_REFUND:
		case TZ_ACTION_INVOICE_CREDITS:
			tz_credit_note_searched(job, r);
			return;
		case TZ_ACTION_PAYMENT_APPLY:
			/* list entries carry no reference number: each candidate is read whole */
			job->candidates = tz_zoho_payment_candidates(r->root);
			job->next_candidate = 0;
			next_candidate(job);
			return;
		case TZ_ACTION_PAYMENT_RECORD:
			{
				const char *txn = context_text(job, "transaction");
				const char *next = tz_next_token(r->root);

				id = txn ? tz_find_payment(r->root, txn) : NULL;
				if (id)
				{
					remember_mapping(job, "payment", id, txn);
					tz_step_done(job, "found in Togai", id);
				}
				else if (next)
					tz_step_call(job, TZ_PHASE_SEARCH, "payments_list", NULL, payments_query(job, next),
								 NULL);
				else
					tz_step_call(job, TZ_PHASE_CREATE, "payment_record", NULL, NULL,
								 tz_payment_body(job->context, inbound_object(job), a->options));
				return;
			}
		default:
			id = tz_find_invoice(r->root, tz_invoice_reference(job->payload, buf, sizeof(buf)),
								 a->account_zoho_id);
			if (id)
			{
				remember_mapping(job, "invoice", job->source_id, id);
				/* made by an attempt cut short before it was marked sent */
				if (mark_sent_later(job, id, found_status(r->root, id)))
					tz_step_done(job, "found; marked sent with the next bulk call", id);
				else
					tz_step_done(job, "found", id);
			}
			else
				create_invoice(job);
			return;
	}
}

/* A candidate read in full: ours when its notes or custom field name the account. */
static void
answered_confirm(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *contact = json_object_get(r->root, "contact");
	const char *id = json_string_value(json_object_get(contact, "contact_id"));
	char		buf[64];
	const char *account_id = tz_row_text(job->payload, "account_id", buf, sizeof(buf));

	if (a->kind == TZ_ACTION_PAYMENT_APPLY)
	{
		json_t	   *payment = json_object_get(r->root, "payment");

		id = json_string_value(json_object_get(payment, "payment_id"));
		if (id == NULL || !tz_zoho_payment_is(payment, job->source_id, a->account_zoho_id))
		{
			next_candidate(job);
			return;
		}
		remember_mapping(job, "payment", job->source_id, id);
		tz_step_done(job, "found in Zoho Books", id);
		return;
	}
	if (id == NULL || !tz_contact_is_ours(contact, account_id, a->options))
	{
		next_candidate(job);
		return;
	}
	remember_mapping(job, "account", account_id, id);
	job->current_object = contact;
	update_contact(job);
}

/* A successful answer: the phase's next step.  False: it did not say what it made. */
static bool
answered_create(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	const char *id;
	char		buf[64];

	switch (a->kind)
	{
		case TZ_ACTION_CONTACT_UPSERT:
			id = tz_created_id(r->root, "contact", "contact_id");
			if (id == NULL)
				return false;
			remember_mapping(job, "account",
							 tz_row_text(job->payload, "account_id", buf, sizeof(buf)), id);
			tz_step_done(job, job->distinct ? "created with its distinct name" : "created", id);
			return true;
		case TZ_ACTION_INVOICE_REFUND:
		case TZ_ACTION_INVOICE_CREDITS:
			return tz_credit_note_created(job, r);
		case TZ_ACTION_PAYMENT_APPLY:
			id = tz_created_id(r->root, "payment", "payment_id");
			if (id == NULL)
				return false;
			remember_mapping(job, "payment", job->source_id, id);
			tz_step_done(job, "recorded", id);
			return true;
		case TZ_ACTION_PAYMENT_RECORD:
			id = json_is_object(r->root) ? json_string_value(json_object_get(r->root, "id")) : NULL;
			if (id == NULL || id[0] == '\0')
				return false;
			remember_mapping(job, "payment", id, context_text(job, "transaction"));
			tz_step_done(job, "recorded", id);
			return true;
		default:
			id = tz_created_id(r->root, "invoice", "invoice_id");
			if (id == NULL)
				return false;
			remember_mapping(job, "invoice", job->source_id, id);
			if (mark_sent_later(job, id, "draft"))
				tz_step_done(job, "created; marked sent with the next bulk call", id);
			else
				tz_step_done(job, "created", id);
			return true;
	}
}

/* The item a line needs is known now: keep it, and go on with the next. */
static void
item_known(TzJob *job, const char *item_id)
{
	TzJobAction *a = tz_step_action(job);
	TzLearntItem *learnt = palloc(sizeof(TzLearntItem));

	json_object_set_new(a->items, job->call_item, json_string(item_id));
	learnt->connection_id = a->connection_id;
	learnt->name = job->call_item;
	learnt->item_id = pstrdup(item_id);
	job->items_learnt = lappend(job->items_learnt, learnt);
	job->call_item = NULL;
	create_invoice(job);
}

void
tz_steps_item_known(TzJob *job, const char *item_id)
{
	job->call_method = NULL;
	item_known(job, item_id);
}

void
tz_steps_answered(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
			answered_search(job, r);
			return;

		case TZ_PHASE_CONFIRM:
			answered_confirm(job, r);
			return;

		case TZ_PHASE_CREATE:
			if (answered_create(job, r))
				return;
			break;

		case TZ_PHASE_ITEM_SEARCH:
			{
				const char *id = tz_find_item(r->root, job->call_item);

				if (id)
					item_known(job, id);
				else
					tz_step_call(job, TZ_PHASE_ITEM_CREATE, "item_create", NULL, NULL,
								 tz_item_body(job->call_item, a->options));
				return;
			}

		case TZ_PHASE_ITEM_CREATE:
			{
				const char *id = tz_created_id(r->root, "item", "item_id");

				if (id == NULL)
					break;
				item_known(job, id);
				return;
			}

		case TZ_PHASE_CURRENCIES:
			{
				const char *code = tz_json_str(job->payload, "invoice_currency");
				const char *id = tz_find_currency(r->root, code);

				if (id == NULL)
				{
					tz_step_finish(job, TZ_OUTCOME_DEAD,
								   psprintf("currency %s is not enabled in the Zoho Books organization: "
									"add it under Settings, Currencies, then retry the job", code));
					return;
				}
				a->currency_id = pstrdup(id);
				job->currency_code = pstrdup(code);
				job->currency_id = a->currency_id;
				job->currency_connection_id = a->connection_id;
				job->phase = TZ_PHASE_START;
				job->call_method = NULL;
				return;
			}

		case TZ_PHASE_READ:
			if (a->kind == TZ_ACTION_INVOICE_REFUND || a->kind == TZ_ACTION_INVOICE_CREDITS)
				tz_credit_note_invoice_read(job, r);
			else if (a->kind == TZ_ACTION_INVOICE_UPDATE)
				invoice_update_read(job, r);
			else if (a->kind == TZ_ACTION_INVOICE_WRITE_OFF)
			{
				json_t	   *balance = json_object_get(json_object_get(r->root, "invoice"), "balance");

				if (json_is_number(balance) && json_number_value(balance) == 0)
				{
					job->note = NULL;
					tz_step_done(job, "nothing left to write off (balance 0)", a->invoice_zoho_id);
				}
				else
					tz_step_finish(job, TZ_OUTCOME_DEAD, job->note);
			}
			else if (a->kind == TZ_ACTION_CONTACT_UPSERT)
			{
				job->current_object = json_object_get(r->root, "contact");
				update_contact(job);
			}
			else if (a->kind == TZ_ACTION_ACCOUNT_UPDATE)
			{
				json_t	   *body = tz_account_update_body(json_object_get(r->root, "contact"));

				if (body == NULL)
					tz_step_done(job, "the contact has nothing to copy", NULL);
				else
					tz_step_call(job, TZ_PHASE_UPDATE, "account_update",
								 context_text(job, "account_id"), NULL, body);
			}
			else
			{
				const char *key = json_string_value(json_object_get(a->options, "metadata_key"));
				json_t	   *body = tz_write_back_body(r->root, key ? key : DEFAULT_METADATA_KEY,
													  a->account_zoho_id);

				if (body == NULL)
					tz_step_done(job, "already written back", a->account_zoho_id);
				else
					tz_step_call(job, TZ_PHASE_UPDATE, "account_update",
								 tz_json_str(job->payload, "account_id"), NULL, body);
			}
			return;

		case TZ_PHASE_UPDATE:
			if (a->kind == TZ_ACTION_ACCOUNT_WRITE_BACK)
				tz_step_done(job, "written back", a->account_zoho_id);
			else if (a->kind == TZ_ACTION_ACCOUNT_UPDATE)
				tz_step_done(job, "updated", context_text(job, "account_id"));
			else if (a->kind == TZ_ACTION_INVOICE_UPDATE)
				tz_step_done(job, "updated", a->invoice_zoho_id);
			else
				tz_step_done(job, job->distinct ? "updated, with its distinct name" : "updated",
							 a->account_zoho_id);
			return;

		case TZ_PHASE_MARK_SENT:
			tz_step_done(job, "created and marked sent", a->invoice_zoho_id);
			return;

		case TZ_PHASE_VOID:
			tz_step_done(job, "voided", a->invoice_zoho_id);
			return;

		case TZ_PHASE_WRITE_OFF:
			tz_step_done(job, "written off", a->invoice_zoho_id);
			return;

		case TZ_PHASE_REFUNDS_READ:
		case TZ_PHASE_CREDIT:
		case TZ_PHASE_REFUND:
			tz_credit_note_moved(job, r);
			return;

		case TZ_PHASE_ADVANCE_READ:
		case TZ_PHASE_ADVANCE_APPLY:
			tz_credit_note_advance(job, r);
			return;

		case TZ_PHASE_EXCHANGE_RATE:
			tz_step_exchange_rate_read(job, r);
			if (a->kind == TZ_ACTION_PAYMENT_APPLY)
				create_zoho_payment(job);
			else
				create_invoice(job);
			return;

		case TZ_PHASE_START:
			break;
	}
	/* a success that does not say what it made: the remote broke its contract */
	job->http_status = r->http_status;
	tz_step_finish(job, TZ_OUTCOME_RETRY, "the answer did not carry the id of the created object");
}

bool
tz_steps_refused(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	bool		duplicate = tz_zoho_duplicate(r->http_status, r->root);

	if (a->togai)
		return false;
	/*
	 * A write-off refused: made already by an attempt whose answer was lost?
	 * The invoice says (its balance); the refusal is kept for the result.
	 */
	if (job->phase == TZ_PHASE_WRITE_OFF && r->http_status == 400)
	{
		job->note = psprintf("Zoho Books refused the write-off: %s",
							 r->message ? r->message : "(no message)");
		tz_step_call(job, TZ_PHASE_READ, "invoice_get", a->invoice_zoho_id, NULL, NULL);
		return true;
	}
	/* the mapped contact was deleted in Zoho Books: look for it, or make a new one */
	if ((job->phase == TZ_PHASE_READ || job->phase == TZ_PHASE_UPDATE) &&
		r->http_status == 404 && a->kind == TZ_ACTION_CONTACT_UPSERT)
	{
		a->account_zoho_id = NULL;
		job->current_object = NULL;
		search_contact(job);
		return true;
	}
	/* an advance deleted in Zoho Books pays nothing: the next one, or a credit note */
	if (job->phase == TZ_PHASE_ADVANCE_READ && r->http_status == 404)
	{
		tz_credit_note_advance(job, NULL);
		return true;
	}
	if (!duplicate)
		return false;
	if (a->kind == TZ_ACTION_CONTACT_UPSERT && !job->distinct &&
		(job->phase == TZ_PHASE_CREATE || job->phase == TZ_PHASE_UPDATE))
	{
		/*
		 * The name is taken: by our own contact (made by an attempt or a
		 * connection we do not remember), or by another.  Ours is found by
		 * reading; another's name is never ours: take the distinct name.
		 */
		job->distinct = true;
		if (job->phase == TZ_PHASE_CREATE && !job->searched)
			search_contact(job);
		else if (job->phase == TZ_PHASE_CREATE)
			create_contact(job);
		else
			update_contact(job);
		return true;
	}
	if (a->kind == TZ_ACTION_INVOICE_CREATE && job->phase == TZ_PHASE_CREATE && !job->searched)
	{
		/* an invoice number taken: ours, made before we remembered it? */
		search_invoice(job);
		return true;
	}
	if (job->phase == TZ_PHASE_ITEM_CREATE)
	{
		/* made meanwhile by another job: look it up again */
		tz_step_call(job, TZ_PHASE_ITEM_SEARCH, "item_search", NULL,
					 TZ_STEP_QUERY(job, "item_search", "name", job->call_item), NULL);
		return true;
	}
	return false;
}
