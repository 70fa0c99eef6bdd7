/*-------------------------------------------------------------------------
 *
 * account.c
 *	  account_write_back and account_update: Togai accounts changed from
 *	  Zoho Books.
 *
 * account_write_back reads the Togai account and writes its contact id
 * into the metadata, keeping the other keys.  account_update reads the
 * whole Zoho Books contact (list entries carry no address) and copies it
 * onto its Togai account.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "kit.h"
#include "module.h"

#define DEFAULT_METADATA_KEY "zohobooks_contact_id"

static bool
plan_write_back(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	const char *account_id = tz_json_str(job->payload, "account_id");

	if (a->account_zoho_id == NULL)
	{
		tz_step_wait_for_account(job);
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

static bool
answered_write_back(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	const char *key = json_string_value(json_object_get(a->options, "metadata_key"));
	json_t	   *body;

	if (job->phase == TZ_PHASE_UPDATE)
	{
		tz_step_done(job, "written back", a->account_zoho_id);
		return true;
	}
	if (job->phase != TZ_PHASE_READ)
		return false;
	body = tz_write_back_body(r->root, key ? key : DEFAULT_METADATA_KEY, a->account_zoho_id);
	if (body == NULL)
		tz_step_done(job, "already written back", a->account_zoho_id);
	else
		tz_step_call(job, TZ_PHASE_UPDATE, "account_update", tz_json_str(job->payload, "account_id"),
					 NULL, body);
	return true;
}

static json_t *
stand_in_write_back(TzJob *job)
{
	json_t	   *metadata = json_object_get(job->payload, "metadata");

	if (job->phase != TZ_PHASE_READ)
		return NULL;
	return json_pack("{s:O}", "metadata", json_is_object(metadata) ? metadata : json_pack("{}"));
}

static bool
plan_update(TzJob *job)
{
	const char *account_id = tz_step_context_text(job, "account_id");
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
	tz_step_call_at(job, job->source_connection_id, TZ_APP_ZOHOBOOKS, TZ_PHASE_READ, "contact_get",
					contact_id, NULL, NULL);
	return true;
}

static bool
answered_update(TzJob *job, const TzApiResult *r)
{
	const char *account_id = tz_step_context_text(job, "account_id");
	json_t	   *body;

	if (job->phase == TZ_PHASE_UPDATE)
	{
		tz_step_done(job, "updated", account_id);
		return true;
	}
	if (job->phase != TZ_PHASE_READ)
		return false;
	body = tz_account_update_body(json_object_get(r->root, "contact"));
	if (body == NULL)
		tz_step_done(job, "the contact has nothing to copy", NULL);
	else
		tz_step_call(job, TZ_PHASE_UPDATE, "account_update", account_id, NULL, body);
	return true;
}

static json_t *
stand_in_update(TzJob *job)
{
	json_t	   *contact = json_object_get(job->payload, "payload");

	if (job->phase != TZ_PHASE_READ)
		return NULL;
	return json_pack("{s:O}", "contact", json_is_object(contact) ? contact : json_pack("{}"));
}

const TzActionModule tz_account_write_back_module = {
	.plan = plan_write_back,
	.answered = answered_write_back,
	.stand_in = stand_in_write_back,
};

const TzActionModule tz_account_update_module = {
	.plan = plan_update,
	.answered = answered_update,
	.stand_in = stand_in_update,
};
