/*-------------------------------------------------------------------------
 *
 * finder.c
 *	  A Zoho Books contact, invoice or payment made for a Togai object,
 *	  found again by what we wrote into it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "clients/remote_ops.h"
#include "pure/action.h"
#include "finder.h"

static void
plan(TzFinder *f, const char *operation, const char *id, char *query)
{
	f->operation = operation;
	f->id = id;
	f->query = query;
}

static char *
query_of(const char *operation, const char *p1, const char *v1, const char *p2, const char *v2)
{
	return tz_remote_query(tz_remote_op(TZ_APP_ZOHOBOOKS, operation), p1, v1, p2, v2, NULL);
}

TzFinder *
tz_finder_start(TzFinderKind kind, const char *key, const char *customer_id, const json_t *options)
{
	TzFinder   *f = palloc0(sizeof(TzFinder));
	char		text[128];

	f->kind = kind;
	f->key = pstrdup(key);
	f->customer_id = customer_id ? pstrdup(customer_id) : NULL;
	f->options = options;
	switch (kind)
	{
		case TZ_FIND_CONTACT:
			/* Zoho searches names and notes: the account id is in the notes we write */
			tz_contact_search_text(key, text, sizeof(text));
			plan(f, "contact_search", NULL, query_of("contact_search", "search_text", text, NULL, NULL));
			break;
		case TZ_FIND_INVOICE:
			plan(f, "invoice_search", NULL, query_of("invoice_search", "reference_number", key,
													 "customer_id", customer_id));
			break;
		case TZ_FIND_PAYMENT:
			plan(f, "payment_search", NULL, query_of("payment_search", "reference_number", key,
													 NULL, NULL));
			break;
	}
	return f;
}

/* Reads the next candidate whole, or says there is none. */
static TzFound
next_candidate(TzFinder *f)
{
	const char *id = json_string_value(json_array_get(f->candidates, f->next));

	if (id == NULL)
		return TZ_FOUND_NONE;
	f->next++;
	plan(f, f->kind == TZ_FIND_CONTACT ? "contact_get" : "payment_get", pstrdup(id), NULL);
	return TZ_FOUND_NEXT;
}

/* A candidate read whole: ours when it names the Togai object. */
static TzFound
confirm(TzFinder *f, const json_t *answer)
{
	json_t	   *object;
	const char *id;
	bool		ours;

	if (f->kind == TZ_FIND_CONTACT)
	{
		object = json_object_get(answer, "contact");
		id = json_string_value(json_object_get(object, "contact_id"));
		ours = id != NULL && tz_contact_is_ours(object, f->key, f->options);
	}
	else
	{
		object = json_object_get(answer, "payment");
		id = json_string_value(json_object_get(object, "payment_id"));
		ours = id != NULL && tz_zoho_payment_is(object, f->key, f->customer_id);
	}
	if (!ours)
		return next_candidate(f);
	f->found_id = pstrdup(id);
	f->found = object;
	return TZ_FOUND;
}

/* The search's answer: the invoice itself, or the candidates to read. */
static TzFound
searched(TzFinder *f, const json_t *answer)
{
	size_t		i;
	json_t	   *entry;

	if (f->kind == TZ_FIND_INVOICE)
	{
		f->found_id = tz_find_invoice(answer, f->key, f->customer_id);
		if (f->found_id == NULL)
			return TZ_FOUND_NONE;
		json_array_foreach(json_object_get(answer, "invoices"), i, entry)
			if (strcmp(json_string_value(json_object_get(entry, "invoice_id")) ?: "", f->found_id) == 0)
				f->found = entry;
		return TZ_FOUND;
	}
	f->candidates = f->kind == TZ_FIND_CONTACT ?
		tz_contact_candidates(answer, f->name, f->distinct_name) :
		tz_zoho_payment_candidates(answer);
	f->next = 0;
	return next_candidate(f);
}

TzFound
tz_finder_answered(TzFinder *f, const json_t *answer)
{
	bool		search = f->id == NULL;

	f->operation = NULL;
	f->id = NULL;
	f->query = NULL;
	return search ? searched(f, answer) : confirm(f, answer);
}
