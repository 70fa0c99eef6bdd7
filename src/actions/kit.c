/*-------------------------------------------------------------------------
 *
 * kit.c
 *	  What every action module uses: planning a call, ending an action or
 *	  the job, and the mappings an action learns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "utils/json.h"

#include "pure/action.h"
#include "pure/upsert.h"
#include "kit.h"

#define DEFER_MS (60 * 1000)	/* a waiter is also woken when its mapping is written */

void
tz_step_call_at(TzJob *job, int64 connection_id, TzApp app, TzPhase phase, const char *operation,
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

void
tz_step_call(TzJob *job, TzPhase phase, const char *operation, const char *id, char *query,
			 json_t *body)
{
	TzJobAction *a = tz_step_action(job);

	tz_step_call_at(job, a->connection_id, a->togai ? TZ_APP_TOGAI : TZ_APP_ZOHOBOOKS, phase,
					operation, id, query, body);
}

void
tz_step_find(TzJob *job, const TzFinder *f)
{
	tz_step_call(job, f->id ? TZ_PHASE_CONFIRM : TZ_PHASE_SEARCH, f->operation, f->id, f->query,
				 NULL);
}

TzFound
tz_step_find_answered(TzJob *job, TzFinder *f, const TzApiResult *r)
{
	TzFound		found = tz_finder_answered(f, r->root);

	if (found == TZ_FOUND_NEXT)
		tz_step_find(job, f);
	return found;
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
	job->state = NULL;
	job->note = NULL;
}

void
tz_step_finish(TzJob *job, TzOutcome outcome, const char *error)
{
	job->outcome = outcome;
	job->error = error ? pstrdup(error) : NULL;
}

void
tz_step_unexplained(TzJob *job, const TzApiResult *r, const char *what)
{
	job->http_status = r->http_status;
	tz_step_finish(job, TZ_OUTCOME_RETRY, what ? what :
				   "the answer did not carry the id of the created object");
}

void
tz_step_note(TzJob *job, const char *text)
{
	job->note = job->note ? psprintf("%s; %s", job->note, text) : pstrdup(text);
}

const char *
tz_step_context_text(const TzJob *job, const char *key)
{
	return json_is_object(job->context) ?
		json_string_value(json_object_get(job->context, key)) : NULL;
}

/* job_context() keys what it worked out per organization by connection id. */
json_t *
tz_step_for_organization(TzJob *job, const char *what)
{
	char		key[32];

	snprintf(key, sizeof(key), INT64_FORMAT, tz_step_action(job)->connection_id);
	return json_object_get(json_object_get(job->context, what), key);
}

void
tz_step_remember(TzJob *job, const char *entity, const char *togai_id, const char *zoho_id)
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

void
tz_step_mapped(TzJob *job, const char *entity, const char *togai_id, const char *zoho_id,
			   const char *did)
{
	bool		togai = tz_step_action(job)->togai;

	tz_step_remember(job, entity, togai_id, zoho_id);
	tz_step_done(job, did, togai ? togai_id : zoho_id);
}

void
tz_step_wait_for_account(TzJob *job)
{
	const char *account_id = tz_json_str(job->payload, "account_id");

	job->waiting_for = account_id ? pstrdup(account_id) : NULL;
	job->delay_ms = DEFER_MS;
	tz_step_finish(job, TZ_OUTCOME_DEFERRED,
				   psprintf("waiting for account %s to have a Zoho Books contact",
							account_id ? account_id : "(none)"));
}

/*
 * A job that follows an invoice (a payment, a write-off) waits, not as an
 * attempt, while the context says the invoice is on its way, and stops,
 * naming it, when the invoice's own job died.
 */
bool
tz_step_held_by_invoice(TzJob *job)
{
	const char *waiting = tz_step_context_text(job, "waiting");
	const char *blocked = tz_step_context_text(job, "blocked");

	if (waiting)
	{
		job->delay_ms = ON_ITS_WAY_MS;
		tz_step_finish(job, TZ_OUTCOME_DEFERRED, psprintf("waiting: %s", waiting));
		return true;
	}
	if (blocked)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD, blocked);
		return true;
	}
	return false;
}
