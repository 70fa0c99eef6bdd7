/*-------------------------------------------------------------------------
 *
 * steps.c
 *	  The actions, phase by phase.
 *
 * contact_upsert: looks up the Zoho currency id once per currency, then
 * updates the mapped contact, or creates one, or, when an earlier attempt
 * may have created it, searches for it first.
 * invoice_create: waits (deferred) until the account has a contact; an
 * invoice already mapped is not created again; otherwise as above, searched
 * by reference number first when it may exist.  invoice_void voids the
 * mapped invoice.
 * account_write_back: reads the Togai account and writes the contact id
 * into its metadata, keeping the other keys.
 * payment_record: records a Zoho Books payment in Togai once: the payment
 * mapping, and a search by transaction number when it may exist, guard it.
 * account_update: copies a Zoho Books contact onto its Togai account.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "utils/json.h"

#include "steps.h"

#define DEFER_MS (60 * 1000)	/* a waiter is also woken when its mapping is written */
#define DEFAULT_METADATA_KEY "zohobooks_contact_id"

static void
set_call(TzJob *job, TzPhase phase, const char *method, char *path, char *query,
		 json_t *body, bool creates)
{
	job->phase = phase;
	job->call_method = method;
	job->call_path = path;
	job->call_query = query;
	job->call_body = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	job->call_creates = creates;
	if (body)
		json_decref(body);
}

static TzJobAction *
current_action(TzJob *job)
{
	return &job->actions[job->current];
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
	TzJobAction *a = current_action(job);
	TzNewMapping *m = palloc0(sizeof(TzNewMapping));
	bool		inbound = strcmp(entity, "payment") == 0;

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
static void
action_done(TzJob *job, const char *did, const char *remote_id)
{
	TzJobAction *a = current_action(job);
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
	appendStringInfoChar(out, '}');
	job->current++;
	job->phase = TZ_PHASE_START;
	job->call_method = NULL;
	job->refreshed = false;
}

static void
finish(TzJob *job, TzOutcome outcome, const char *error)
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
	finish(job, TZ_OUTCOME_DEFERRED,
		   psprintf("waiting for account %s to have a Zoho Books contact",
					account_id ? account_id : "(none)"));
}

static char *
contact_path(const char *id)
{
	return psprintf("/contacts/%s", tz_url_escape(id));
}

static char *
account_path(const char *id)
{
	return psprintf("/accounts/%s", tz_url_escape(id));
}

static bool
plan_contact(TzJob *job)
{
	TzJobAction *a = current_action(job);
	json_t	   *body;
	char		buf[64];
	const char *account_id = tz_row_text(job->payload, "account_id", buf, sizeof(buf));
	const char *currency = tz_json_str(job->payload, "invoice_currency");

	/* Zoho takes a currency id, not a code: look it up once per organization */
	if (currency != NULL && a->currency_id == NULL)
	{
		set_call(job, TZ_PHASE_CURRENCIES, "GET", pstrdup("/settings/currencies"), NULL, NULL,
				 false);
		return true;
	}
	body = tz_contact_body(job->payload, a->options, a->currency_id);
	if (body == NULL)
	{
		finish(job, TZ_OUTCOME_DEAD,
			   "the account row has no account_id or no name to make a contact from");
		return false;
	}
	if (a->account_zoho_id)
		set_call(job, TZ_PHASE_UPDATE, "PUT", contact_path(a->account_zoho_id), NULL, body, false);
	else if (job->search_first)
	{
		json_decref(body);
		set_call(job, TZ_PHASE_SEARCH, "GET", pstrdup("/contacts"),
				 psprintf("search_text=%s", tz_url_escape(account_id)), NULL, false);
	}
	else
		set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/contacts"), NULL, body, true);
	return true;
}

static void
create_invoice(TzJob *job)
{
	TzJobAction *a = current_action(job);
	bool		own_number = json_is_true(json_object_get(a->options, "use_togai_number"));

	set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/invoices"),
			 own_number ? pstrdup("ignore_auto_number_generation=true") : NULL,
			 tz_invoice_body(job->payload, a->account_zoho_id, a->options, job->context), true);
}

static bool
plan_invoice(TzJob *job)
{
	TzJobAction *a = current_action(job);
	char		buf[64];
	const char *reference;

	if (a->invoice_zoho_id)
	{
		action_done(job, "already in Zoho Books", a->invoice_zoho_id);
		return false;
	}
	if (a->account_zoho_id == NULL)
	{
		wait_for_account(job);
		return false;
	}
	reference = tz_invoice_reference(job->payload, buf, sizeof(buf));
	if (reference == NULL)
	{
		finish(job, TZ_OUTCOME_DEAD, "the invoice row has no invoice_id");
		return false;
	}
	if (job->search_first)
		set_call(job, TZ_PHASE_SEARCH, "GET", pstrdup("/invoices"),
				 psprintf("reference_number=%s&customer_id=%s", tz_url_escape(reference),
						  tz_url_escape(a->account_zoho_id)),
				 NULL, false);
	else
		create_invoice(job);
	return true;
}

static bool
plan_write_back(TzJob *job)
{
	TzJobAction *a = current_action(job);
	const char *account_id = tz_json_str(job->payload, "account_id");

	if (a->account_zoho_id == NULL)
	{
		wait_for_account(job);
		return false;
	}
	if (account_id == NULL)
	{
		finish(job, TZ_OUTCOME_DEAD, "the account row has no account_id");
		return false;
	}
	set_call(job, TZ_PHASE_READ, "GET", account_path(account_id), NULL, NULL, false);
	return true;
}

static char *
payments_query(const char *next_token)
{
	if (next_token)
		return psprintf("pageSize=50&nextToken=%s", tz_url_escape(next_token));
	return pstrdup("pageSize=50");
}

static bool
plan_payment(TzJob *job)
{
	TzJobAction *a = current_action(job);
	const char *recorded = context_text(job, "recorded");
	json_t	   *body;

	if (recorded)
	{
		action_done(job, "already recorded in Togai", recorded);
		return false;
	}
	if (json_array_size(json_object_get(job->context, "records")) == 0)
	{
		action_done(job, context_text(job, "skip") ?
					context_text(job, "skip") : "no synced invoice in it: nothing to record", NULL);
		return false;
	}
	body = tz_payment_body(job->context, inbound_object(job), a->options);
	if (body == NULL)
	{
		finish(job, TZ_OUTCOME_DEAD,
			   "the Togai account or currency of the payment is unknown: its invoices are in "
			   "id_mapping but not in togai_zoho.invoices");
		return false;
	}
	if (job->search_first)
	{
		json_decref(body);
		set_call(job, TZ_PHASE_SEARCH, "GET", pstrdup("/payments"), payments_query(NULL), NULL,
				 false);
	}
	else
		set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/payments"), NULL, body, true);
	return true;
}

static bool
plan_account_update(TzJob *job)
{
	const char *account_id = context_text(job, "account_id");
	json_t	   *body;

	if (account_id == NULL)
	{
		action_done(job, "the contact is not mapped to a Togai account: nothing to update", NULL);
		return false;
	}
	body = tz_account_update_body(inbound_object(job));
	if (body == NULL)
	{
		action_done(job, "the contact has nothing to copy", NULL);
		return false;
	}
	set_call(job, TZ_PHASE_UPDATE, "PATCH", account_path(account_id), NULL, body, false);
	return true;
}

bool
tz_steps_plan(TzJob *job, bool search_first)
{
	job->search_first = search_first;
	while (job->outcome == TZ_OUTCOME_NONE)
	{
		TzJobAction *a;

		if (job->current >= job->nactions)
		{
			finish(job, TZ_OUTCOME_DELIVERED, NULL);
			return false;
		}
		a = current_action(job);
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
					action_done(job, "no Zoho Books invoice to void", NULL);
					break;
				}
				set_call(job, TZ_PHASE_VOID, "POST",
						 psprintf("/invoices/%s/status/void", tz_url_escape(a->invoice_zoho_id)),
						 NULL, NULL, false);
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
			case TZ_ACTION_UNSUPPORTED:
				finish(job, TZ_OUTCOME_DEAD,
					   psprintf("action %s is not in this version's catalogue", a->name));
				return false;
		}
	}
	return false;
}

static void
answered_search(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = current_action(job);
	const char *id;
	char		buf[64];
	char		name_buf[64];

	switch (a->kind)
	{
		case TZ_ACTION_CONTACT_UPSERT:
			{
				const char *account_id = tz_row_text(job->payload, "account_id", buf, sizeof(buf));
				json_t	   *body = tz_contact_body(job->payload, a->options, a->currency_id);
				const char *name = tz_row_text(body, "contact_name", name_buf, sizeof(name_buf));

				id = tz_find_contact(r->root, account_id, name);
				if (id)
				{
					remember_mapping(job, "account", account_id, id);
					set_call(job, TZ_PHASE_UPDATE, "PUT", contact_path(id), NULL, body, false);
				}
				else
					set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/contacts"), NULL, body, true);
				return;
			}
		case TZ_ACTION_PAYMENT_RECORD:
			{
				const char *txn = context_text(job, "transaction");
				const char *next = tz_next_token(r->root);

				id = txn ? tz_find_payment(r->root, txn) : NULL;
				if (id)
				{
					remember_mapping(job, "payment", id, txn);
					action_done(job, "found in Togai", id);
				}
				else if (next)
					set_call(job, TZ_PHASE_SEARCH, "GET", pstrdup("/payments"),
							 payments_query(next), NULL, false);
				else
					set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/payments"), NULL,
							 tz_payment_body(job->context, inbound_object(job), a->options), true);
				return;
			}
		default:
			id = tz_find_invoice(r->root, tz_invoice_reference(job->payload, buf, sizeof(buf)),
								 a->account_zoho_id);
			if (id)
			{
				remember_mapping(job, "invoice", job->source_id, id);
				action_done(job, "found", id);
			}
			else
				create_invoice(job);
			return;
	}
}

/* A successful answer: the phase's next step.  False: it did not say what it made. */
static bool
answered_create(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = current_action(job);
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
			action_done(job, "created", id);
			return true;
		case TZ_ACTION_PAYMENT_RECORD:
			id = json_is_object(r->root) ? json_string_value(json_object_get(r->root, "id")) : NULL;
			if (id == NULL || id[0] == '\0')
				return false;
			remember_mapping(job, "payment", id, context_text(job, "transaction"));
			action_done(job, "recorded", id);
			return true;
		default:
			id = tz_created_id(r->root, "invoice", "invoice_id");
			if (id == NULL)
				return false;
			remember_mapping(job, "invoice", job->source_id, id);
			if (json_is_true(json_object_get(a->options, "mark_sent")))
			{
				set_call(job, TZ_PHASE_MARK_SENT, "POST",
						 psprintf("/invoices/%s/status/sent", tz_url_escape(id)), NULL, NULL, false);
				return true;
			}
			action_done(job, "created", id);
			return true;
	}
}

void
tz_steps_answered(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = current_action(job);

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
			answered_search(job, r);
			return;

		case TZ_PHASE_CREATE:
			if (answered_create(job, r))
				return;
			break;

		case TZ_PHASE_CURRENCIES:
			{
				const char *code = tz_json_str(job->payload, "invoice_currency");
				const char *id = tz_find_currency(r->root, code);

				if (id == NULL)
				{
					finish(job, TZ_OUTCOME_DEAD,
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
			{
				const char *key = json_string_value(json_object_get(a->options, "metadata_key"));
				json_t	   *body = tz_write_back_body(r->root, key ? key : DEFAULT_METADATA_KEY,
													  a->account_zoho_id);

				if (body == NULL)
					action_done(job, "already written back", a->account_zoho_id);
				else
					set_call(job, TZ_PHASE_UPDATE, "PATCH",
							 account_path(tz_json_str(job->payload, "account_id")), NULL, body,
							 false);
				return;
			}

		case TZ_PHASE_UPDATE:
			if (a->kind == TZ_ACTION_ACCOUNT_WRITE_BACK)
				action_done(job, "written back", a->account_zoho_id);
			else if (a->kind == TZ_ACTION_ACCOUNT_UPDATE)
				action_done(job, "updated", context_text(job, "account_id"));
			else
				action_done(job, "updated", a->account_zoho_id);
			return;

		case TZ_PHASE_MARK_SENT:
			action_done(job, "created and marked sent", a->invoice_zoho_id);
			return;

		case TZ_PHASE_VOID:
			action_done(job, "voided", a->invoice_zoho_id);
			return;

		case TZ_PHASE_START:
			break;
	}
	/* a success that does not say what it made: the remote broke its contract */
	job->http_status = r->http_status;
	finish(job, TZ_OUTCOME_RETRY, "the answer did not carry the id of the created object");
}

bool
tz_steps_refused(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = current_action(job);

	/* the mapped contact was deleted in Zoho Books: make a new one */
	if (job->phase == TZ_PHASE_UPDATE && r->http_status == 404 &&
		a->kind == TZ_ACTION_CONTACT_UPSERT)
	{
		json_t	   *body = tz_contact_body(job->payload, a->options, a->currency_id);

		a->account_zoho_id = NULL;
		set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/contacts"), NULL, body, true);
		return true;
	}
	return false;
}
