/*-------------------------------------------------------------------------
 *
 * lookups.c
 *	  Currency ids and line items: Zoho Books ids looked up by code or name,
 *	  once per organization (the engine shares them between its jobs).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "kit.h"
#include "lookups.h"

void
tz_lookup_currency(TzJob *job)
{
	tz_step_call(job, TZ_PHASE_CURRENCIES, "currencies", NULL, NULL, NULL);
}

void
tz_lookup_currency_answered(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
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
	/* planned again from the start, with the id known */
	job->phase = TZ_PHASE_START;
	job->call_method = NULL;
}

static void
search_item(TzJob *job)
{
	tz_step_call(job, TZ_PHASE_ITEM_SEARCH, "item_search", NULL,
				 TZ_STEP_QUERY(job, "item_search", "name", job->call_item), NULL);
}

bool
tz_lookup_items(TzJob *job, const json_t *names)
{
	TzJobAction *a = tz_step_action(job);
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
			search_item(job);
			return true;
		}
	}
	return false;
}

void
tz_lookup_item_known(TzJob *job, const char *item_id)
{
	TzJobAction *a = tz_step_action(job);
	TzLearntItem *learnt = palloc(sizeof(TzLearntItem));

	json_object_set_new(a->items, job->call_item, json_string(item_id));
	learnt->connection_id = a->connection_id;
	learnt->name = job->call_item;
	learnt->item_id = pstrdup(item_id);
	job->items_learnt = lappend(job->items_learnt, learnt);
	job->call_item = NULL;
}

TzLookedUp
tz_lookup_item_answered(TzJob *job, const TzApiResult *r)
{
	const char *id;

	if (job->phase == TZ_PHASE_ITEM_SEARCH)
	{
		id = tz_find_item(r->root, job->call_item);
		if (id == NULL)
		{
			tz_step_call(job, TZ_PHASE_ITEM_CREATE, "item_create", NULL, NULL,
						 tz_item_body(job->call_item, tz_step_action(job)->options));
			return TZ_LOOKUP_CALL;
		}
	}
	else
	{
		id = tz_created_id(r->root, "item", "item_id");
		if (id == NULL)
			return TZ_LOOKUP_UNEXPLAINED;
	}
	tz_lookup_item_known(job, id);
	return TZ_LOOKUP_KNOWN;
}

bool
tz_lookup_item_refused(TzJob *job, const TzApiResult *r)
{
	if (job->phase != TZ_PHASE_ITEM_CREATE || !tz_zoho_duplicate(r->http_status, r->root))
		return false;
	search_item(job);
	return true;
}
