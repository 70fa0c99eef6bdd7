/*-------------------------------------------------------------------------
 *
 * steps.c
 *	  contact_upsert, invoice_create and invoice_void, phase by phase.
 *
 * contact_upsert: a mapped contact is updated; otherwise it is created, or,
 * when an earlier attempt may have created it, searched for first.
 * invoice_create: waits (deferred) until the account has a contact; an
 * invoice already mapped is not created again; otherwise as above, searched
 * by reference number first when it may exist.  invoice_void voids the
 * mapped invoice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "utils/json.h"

#include "steps.h"

#define DEFER_MS (60 * 1000)	/* a waiter is also woken when its mapping is written */

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

/* Records a mapping to store and lets later actions of the job use it. */
static void
remember_mapping(TzJob *job, const char *entity, const char *togai_id, const char *zoho_id)
{
	TzJobAction *a = current_action(job);
	TzNewMapping *m = palloc0(sizeof(TzNewMapping));

	m->entity = entity;
	m->zohobooks_connection_id = a->connection_id;
	m->togai_id = pstrdup(togai_id);
	m->togai_customer_id = tz_json_str(job->payload, "customer_id") ?
		pstrdup(tz_json_str(job->payload, "customer_id")) : NULL;
	m->zohobooks_id = pstrdup(zoho_id);
	job->mappings = lappend(job->mappings, m);

	for (int k = job->current; k < job->nactions; k++)
	{
		if (job->actions[k].connection_id != a->connection_id)
			continue;
		if (strcmp(entity, "account") == 0)
			job->actions[k].account_zoho_id = m->zohobooks_id;
		else
			job->actions[k].invoice_zoho_id = m->zohobooks_id;
	}
}

/* The current action is done: note what it did, move to the next. */
static void
action_done(TzJob *job, const char *did, const char *zoho_id)
{
	TzJobAction *a = current_action(job);
	StringInfo	out = &job->result;

	if (out->len > 1)
		appendStringInfoString(out, ", ");
	appendStringInfo(out, "{\"position\": %d, \"action\": ", a->position);
	escape_json(out, a->name);
	appendStringInfoString(out, ", \"did\": ");
	escape_json(out, did);
	if (zoho_id)
	{
		appendStringInfoString(out, ", \"zohobooks_id\": ");
		escape_json(out, zoho_id);
	}
	appendStringInfoChar(out, '}');
	job->current++;
	job->phase = TZ_PHASE_START;
	job->refreshed = false;
}

static void
finish(TzJob *job, TzOutcome outcome, const char *error)
{
	job->outcome = outcome;
	job->error = error ? pstrdup(error) : NULL;
}

static char *
contact_path(const char *id)
{
	return psprintf("/contacts/%s", tz_url_escape(id));
}

/* Plans contact_upsert from its start. */
static bool
plan_contact(TzJob *job, bool search_first)
{
	TzJobAction *a = current_action(job);
	json_t	   *body = tz_contact_body(job->payload, a->options);
	char		buf[64];
	const char *account_id = tz_row_text(job->payload, "account_id", buf, sizeof(buf));

	if (body == NULL)
	{
		finish(job, TZ_OUTCOME_DEAD,
			   "the account row has no account_id or no name to make a contact from");
		return false;
	}
	if (a->account_zoho_id)
		set_call(job, TZ_PHASE_UPDATE, "PUT", contact_path(a->account_zoho_id), NULL, body, false);
	else if (search_first)
	{
		json_decref(body);
		set_call(job, TZ_PHASE_SEARCH, "GET", pstrdup("/contacts"),
				 psprintf("search_text=%s", tz_url_escape(account_id)), NULL, false);
	}
	else
		set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/contacts"), NULL, body, true);
	return true;
}

static bool
plan_invoice(TzJob *job, bool search_first)
{
	TzJobAction *a = current_action(job);
	char		buf[64];
	const char *reference;
	const char *account_id = tz_json_str(job->payload, "account_id");

	if (a->invoice_zoho_id)
	{
		action_done(job, "already in Zoho Books", a->invoice_zoho_id);
		return false;
	}
	if (a->account_zoho_id == NULL)
	{
		job->waiting_for = account_id ? pstrdup(account_id) : NULL;
		job->delay_ms = DEFER_MS;
		finish(job, TZ_OUTCOME_DEFERRED,
			   psprintf("waiting for account %s to have a Zoho Books contact",
						account_id ? account_id : "(none)"));
		return false;
	}
	reference = tz_invoice_reference(job->payload, buf, sizeof(buf));
	if (reference == NULL)
	{
		finish(job, TZ_OUTCOME_DEAD, "the invoice row has no invoice_id");
		return false;
	}
	if (search_first)
		set_call(job, TZ_PHASE_SEARCH, "GET", pstrdup("/invoices"),
				 psprintf("reference_number=%s&customer_id=%s", tz_url_escape(reference),
						  tz_url_escape(a->account_zoho_id)),
				 NULL, false);
	else
		set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/invoices"), NULL,
				 tz_invoice_body(job->payload, a->account_zoho_id, a->options), true);
	return true;
}

bool
tz_steps_plan(TzJob *job, bool search_first)
{
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
				return plan_contact(job, search_first);
			case TZ_ACTION_INVOICE_CREATE:
				if (plan_invoice(job, search_first))
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
			case TZ_ACTION_UNSUPPORTED:
				finish(job, TZ_OUTCOME_DEAD,
					   psprintf("action %s is not delivered by this version of togai_zoho", a->name));
				return false;
		}
	}
	return false;
}

/* A successful answer: the phase's next step. */
void
tz_steps_answered(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = current_action(job);
	const char *id;
	char		buf[64];
	char		name_buf[64];

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
			if (a->kind == TZ_ACTION_CONTACT_UPSERT)
			{
				const char *account_id = tz_row_text(job->payload, "account_id", buf, sizeof(buf));
				json_t	   *body = tz_contact_body(job->payload, a->options);
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
			id = tz_find_invoice(r->root, tz_invoice_reference(job->payload, buf, sizeof(buf)),
								 a->account_zoho_id);
			if (id)
			{
				remember_mapping(job, "invoice", job->source_id, id);
				action_done(job, "found", id);
			}
			else
				set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/invoices"), NULL,
						 tz_invoice_body(job->payload, a->account_zoho_id, a->options), true);
			return;

		case TZ_PHASE_CREATE:
			if (a->kind == TZ_ACTION_CONTACT_UPSERT)
			{
				id = tz_created_id(r->root, "contact", "contact_id");
				if (id == NULL)
					break;
				remember_mapping(job, "account", tz_row_text(job->payload, "account_id", buf,
															 sizeof(buf)), id);
				action_done(job, "created", id);
				return;
			}
			id = tz_created_id(r->root, "invoice", "invoice_id");
			if (id == NULL)
				break;
			remember_mapping(job, "invoice", job->source_id, id);
			if (json_is_true(json_object_get(a->options, "mark_sent")))
			{
				set_call(job, TZ_PHASE_MARK_SENT, "POST",
						 psprintf("/invoices/%s/status/sent", tz_url_escape(id)), NULL, NULL, false);
				return;
			}
			action_done(job, "created", id);
			return;

		case TZ_PHASE_UPDATE:
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
		json_t	   *body = tz_contact_body(job->payload, a->options);

		a->account_zoho_id = NULL;
		set_call(job, TZ_PHASE_CREATE, "POST", pstrdup("/contacts"), NULL, body, true);
		return true;
	}
	return false;
}
