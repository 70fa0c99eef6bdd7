/*-------------------------------------------------------------------------
 *
 * module.h
 *	  An action as a module: its handlers, registered in one table
 *	  (modules.c) beside the catalogue's list of actions (pure/catalogue.c).
 *
 * The phase driver (steps.c) knows no action by name: it plans and answers
 * through these handlers.  A module keeps its own state in job->state
 * (tz_step_state) and reaches the rest through the kit (kit.h), the
 * look-ups (lookups.h), exchange rates (exchange.h) and finders
 * (finder.h); no module calls another.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_MODULE_H
#define TZ_ACTIONS_MODULE_H

#include "job.h"

typedef struct TzActionModule
{
	/*
	 * Plans the action's next call from where it stands (called at its start
	 * and after a look-up of a currency): true with job->call_* set, else
	 * the action is done or the job finished.
	 */
	bool		(*plan) (TzJob *job);

	/*
	 * A successful answer to the action's call in job->phase: the next call,
	 * done, or finished.  False: the answer did not say what it made.
	 */
	bool		(*answered) (TzJob *job, const TzApiResult *r);

	/* A refused call that means something to the action (NULL: none ever does). */
	bool		(*refused) (TzJob *job, const TzApiResult *r);

	/* Goes on once an item or an exchange rate it asked for is known (NULL: asks none). */
	void		(*resume) (TzJob *job);

	/* preview_flow(): a stand-in answer to the call planned (NULL: an empty object). */
	json_t	   *(*stand_in) (TzJob *job);
} TzActionModule;

/* The module of an action kind; NULL for one this version does not implement. */
extern const TzActionModule *tz_action_module(TzActionKind kind);

/* The modules (each in its own file). */
extern const TzActionModule tz_contact_upsert_module;
extern const TzActionModule tz_invoice_create_module;
extern const TzActionModule tz_invoice_update_module;
extern const TzActionModule tz_invoice_void_module;
extern const TzActionModule tz_invoice_write_off_module;
extern const TzActionModule tz_account_write_back_module;
extern const TzActionModule tz_account_update_module;
extern const TzActionModule tz_payment_record_module;
extern const TzActionModule tz_payment_apply_module;
extern const TzActionModule tz_invoice_refund_module;
extern const TzActionModule tz_invoice_credits_module;

#endif							/* TZ_ACTIONS_MODULE_H */
