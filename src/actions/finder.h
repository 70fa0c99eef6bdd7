/*-------------------------------------------------------------------------
 *
 * finder.h
 *	  Finding a Zoho Books object made for a Togai one again, by what we
 *	  wrote into it, never by name: the one way both the worker's actions
 *	  and the SQL calls (zohobooks_call's contact_find, invoice_find) do it.
 *
 * A finder plans one call at a time (operation, id, query) and reads its
 * answer; the worker sends the calls with its engine, a session one by
 * one.  Contacts and payments: list entries carry no notes nor reference,
 * so every candidate of the search is read whole and taken only when it
 * names the Togai object.  Invoices: the list's own reference number and
 * customer say it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_FINDER_H
#define TZ_ACTIONS_FINDER_H

#include "pg_jansson.h"

typedef enum TzFinderKind
{
	TZ_FIND_CONTACT,			/* key: the Togai account id */
	TZ_FIND_INVOICE,			/* key: the reference number; customer_id */
	TZ_FIND_PAYMENT				/* key: the Togai payment id (its reference); customer_id */
} TzFinderKind;

typedef enum TzFound
{
	TZ_FOUND_NEXT,				/* another call is planned */
	TZ_FOUND,					/* found_id (and found, the object as read) */
	TZ_FOUND_NONE				/* not there */
} TzFound;

typedef struct TzFinder
{
	TzFinderKind kind;
	const char *key;
	const char *customer_id;
	const json_t *options;		/* contact: the action's (its id custom field) */
	const char *name;			/* contact: names whose candidates are read first, or NULL */
	const char *distinct_name;
	/* the next call */
	const char *operation;
	const char *id;
	char	   *query;
	/* on the way, and what it found */
	json_t	   *candidates;
	size_t		next;
	const char *found_id;
	json_t	   *found;
} TzFinder;

/* A finder of kind for key, its search planned. */
extern TzFinder *tz_finder_start(TzFinderKind kind, const char *key, const char *customer_id,
								 const json_t *options);

/* Reads the answer to the call planned: found, not there, or the next call planned. */
extern TzFound tz_finder_answered(TzFinder *f, const json_t *answer);

#endif							/* TZ_ACTIONS_FINDER_H */
