/*-------------------------------------------------------------------------
 *
 * lookups.h
 *	  The Zoho Books ids an action needs before its body can be written:
 *	  the currency id of a code, and the item of each invoice line, found
 *	  by name or made.  The phase driver answers these phases for every
 *	  action; the action goes on (its resume) once what it needs is known.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_LOOKUPS_H
#define TZ_ACTIONS_LOOKUPS_H

#include "job.h"

/* Plans the look-up of the currency id of code (TZ_PHASE_CURRENCIES). */
extern void tz_lookup_currency(TzJob *job);

/* The currencies read: the action's currency id kept, or the job dies naming the code. */
extern void tz_lookup_currency_answered(TzJob *job, const TzApiResult *r);

/*
 * Plans the look-up of the next item of names not known to the action yet
 * (TZ_PHASE_ITEM_SEARCH); false when every one is known.
 */
extern bool tz_lookup_items(TzJob *job, const json_t *names);

/* What an item look-up came to. */
typedef enum TzLookedUp
{
	TZ_LOOKUP_KNOWN,			/* the item is known now */
	TZ_LOOKUP_CALL,				/* another call is planned (the item is made) */
	TZ_LOOKUP_UNEXPLAINED		/* the make's answer did not say the id */
} TzLookedUp;

extern TzLookedUp tz_lookup_item_answered(TzJob *job, const TzApiResult *r);

/* The item the job looks for is known (found, or learnt from another job). */
extern void tz_lookup_item_known(TzJob *job, const char *item_id);

/* A make refused as a duplicate: made meanwhile by another job; look again.  */
extern bool tz_lookup_item_refused(TzJob *job, const TzApiResult *r);

#endif							/* TZ_ACTIONS_LOOKUPS_H */
