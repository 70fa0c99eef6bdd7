/*-------------------------------------------------------------------------
 *
 * contact.c
 *	  contact_upsert: a Togai account as a Zoho Books contact.
 *
 * Looks up the Zoho currency id once per currency, then reads and updates
 * the mapped contact, or creates one, or, when it may exist (an earlier
 * attempt, a backfill, a name already taken), finds it first (finder.c:
 * by the account id in its notes or custom field, never by name).  An
 * account whose name is taken by another contact gets its distinct name.
 * A mapped contact deleted in Zoho Books is looked for, or made again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "kit.h"
#include "lookups.h"
#include "module.h"

typedef struct ContactState
{
	TzFinder   *finder;			/* the search under way */
	bool		searched;		/* the contact was looked for in this attempt */
	bool		distinct;		/* the contact takes its distinct name */
	json_t	   *current;		/* the whole contact an update changes */
} ContactState;

static ContactState *
state(TzJob *job)
{
	return tz_step_state(job, sizeof(ContactState));
}

static const char *
account_id(TzJob *job, char *buf, size_t size)
{
	return tz_row_text(job->payload, "account_id", buf, size);
}

/* The account's contact body as the action sends it now. */
static json_t *
contact_body(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	return tz_contact_body(job->payload, a->options, a->currency_id, state(job)->current,
						   state(job)->distinct);
}

/* Look for the account's contact: candidates of the same names first. */
static void
search(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	ContactState *s = state(job);
	char		buf[64];
	char	   *name = tz_contact_name(job->payload, a->options, false);
	char	   *distinct = tz_contact_name(job->payload, a->options, true);

	s->searched = true;
	s->finder = tz_finder_start(TZ_FIND_CONTACT, account_id(job, buf, sizeof(buf)), NULL, a->options);
	s->finder->name = name ? pstrdup(name) : NULL;
	s->finder->distinct_name = distinct ? pstrdup(distinct) : NULL;
	free(name);
	free(distinct);
	tz_step_find(job, s->finder);
}

static void
create(TzJob *job)
{
	char		buf[64];

	tz_step_create(job, "contact", "contact_create", account_id(job, buf, sizeof(buf)), NULL,
				   contact_body(job));
}

/* The account's contact is known: update it with what it is now. */
static void
update(TzJob *job)
{
	tz_step_call(job, TZ_PHASE_UPDATE, "contact_update", tz_step_action(job)->account_zoho_id, NULL,
				 contact_body(job));
}

static bool
plan(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	char	   *name;
	bool		capped;

	/* Zoho takes a currency id, not a code: look it up once per organization */
	if (tz_json_str(job->payload, "invoice_currency") != NULL && a->currency_id == NULL)
	{
		tz_lookup_currency(job);
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
		search(job);
	else
		create(job);
	return true;
}

static bool
answered(TzJob *job, const TzApiResult *r)
{
	ContactState *s = state(job);
	const char *id;
	char		buf[64];

	switch (job->phase)
	{
		case TZ_PHASE_SEARCH:
		case TZ_PHASE_CONFIRM:
			switch (tz_step_find_answered(job, s->finder, r))
			{
				case TZ_FOUND:
					tz_step_remember(job, "account", account_id(job, buf, sizeof(buf)),
									 s->finder->found_id);
					s->current = s->finder->found;
					update(job);
					break;
				case TZ_FOUND_NONE:
					create(job);
					break;
				case TZ_FOUND_NEXT:
					break;
			}
			return true;
		case TZ_PHASE_CREATE:
			id = tz_created_id(r->root, "contact", "contact_id");
			if (id == NULL)
				return false;
			tz_step_mapped(job, "account", account_id(job, buf, sizeof(buf)), id,
						   s->distinct ? "created with its distinct name" : "created");
			return true;
		case TZ_PHASE_READ:
			s->current = json_object_get(r->root, "contact");
			update(job);
			return true;
		case TZ_PHASE_UPDATE:
			tz_step_done(job, s->distinct ? "updated, with its distinct name" : "updated",
						 tz_step_action(job)->account_zoho_id);
			return true;
		default:
			return false;
	}
}

static bool
refused(TzJob *job, const TzApiResult *r)
{
	ContactState *s = state(job);

	/* the mapped contact was deleted in Zoho Books: look for it, or make a new one */
	if ((job->phase == TZ_PHASE_READ || job->phase == TZ_PHASE_UPDATE) && r->http_status == 404)
	{
		tz_step_action(job)->account_zoho_id = NULL;
		s->current = NULL;
		search(job);
		return true;
	}
	if (!tz_zoho_duplicate(r->http_status, r->root) || s->distinct ||
		(job->phase != TZ_PHASE_CREATE && job->phase != TZ_PHASE_UPDATE))
		return false;

	/*
	 * The name is taken: by our own contact (made by an attempt or a
	 * connection we do not remember), or by another.  Ours is found by
	 * reading; another's name is never ours: take the distinct name.
	 */
	s->distinct = true;
	if (job->phase == TZ_PHASE_CREATE && !s->searched)
		search(job);
	else if (job->phase == TZ_PHASE_CREATE)
		create(job);
	else
		update(job);
	return true;
}

static json_t *
stand_in(TzJob *job)
{
	if (job->phase == TZ_PHASE_CREATE)
		return json_pack("{s:{s:s}}", "contact", "contact_id", "(new contact id)");
	if (job->phase == TZ_PHASE_READ)
		return json_pack("{s:{s:s, s:[{s:s, s:b}]}}", "contact", "contact_id",
						 tz_step_action(job)->account_zoho_id, "contact_persons",
						 "contact_person_id", "(its primary person's id)", "is_primary_contact", 1);
	return NULL;
}

const TzActionModule tz_contact_upsert_module = {
	.plan = plan,
	.answered = answered,
	.refused = refused,
	.stand_in = stand_in,
};
