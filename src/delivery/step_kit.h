/*-------------------------------------------------------------------------
 *
 * step_kit.h
 *	  What the step files share (steps.c, steps_credit_note.c and
 *	  steps_exchange.c): the current action, the next call, the action's
 *	  result, and what job_context() worked out for an organization.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_STEP_KIT_H
#define TZ_STEP_KIT_H

#include "clients/remote_ops.h"
#include "steps.h"

#define ON_ITS_WAY_MS (10 * 1000)	/* an invoice still being made or marked sent */

static inline TzJobAction *
tz_step_action(TzJob *job)
{
	return &job->actions[job->current];
}

/* Digits of the minor unit of the object's currency (job_context's "digits"; 2 if not said). */
static inline int
tz_step_digits(const json_t *ctx)
{
	json_t	   *digits = json_object_get(ctx, "digits");

	return json_is_integer(digits) ? (int) json_integer_value(digits) : 2;
}

/* The query of an operation of the current action's app. */
#define TZ_STEP_QUERY(job, operation, ...) \
	tz_remote_query(tz_remote_op(tz_step_action(job)->togai ? TZ_APP_TOGAI : TZ_APP_ZOHOBOOKS, \
								 operation), __VA_ARGS__, NULL)

/* The next call: an operation (remote_ops.c) at the current action's connection; takes body. */
extern void tz_step_call(TzJob *job, TzPhase phase, const char *operation, const char *id,
						 char *query, json_t *body);

/* The organization's unique custom field for entity (job_context's "unique_fields"), or NULL. */
extern json_t *tz_step_unique_field(TzJob *job, const char *entity);

/*
 * Creates an object of entity (contact, invoice, payment, credit_note) with
 * operation, or, when the organization has a unique custom field for it and
 * the create needs no query parameter (the upserts document none), upserts
 * it by that field holding togai_id: sent twice, it leaves one object.
 * Takes body.
 */
extern void tz_step_create(TzJob *job, const char *entity, const char *operation,
						   const char *togai_id, char *query, json_t *body);

/* The current action is done: what it did (and the remote id) goes into the result. */
extern void tz_step_done(TzJob *job, const char *did, const char *remote_id);

/* The job ends with this outcome. */
extern void tz_step_finish(TzJob *job, TzOutcome outcome, const char *error);

/* Adds to what the current action's result says. */
extern void tz_step_note(TzJob *job, const char *text);

/* What job_context() worked out for this action's Zoho Books connection, or NULL. */
extern json_t *tz_step_for_organization(TzJob *job, const char *what);

/* Waits while the job's invoice is on its way, or stops naming its dead job; true: it did. */
extern bool tz_step_held_by_invoice(TzJob *job);

/* steps_credit_note.c: invoice_refund and invoice_credits */
extern bool tz_plan_refund(TzJob *job);
extern bool tz_plan_credits(TzJob *job);
extern void tz_credit_note_invoice_read(TzJob *job, const TzApiResult *r);
extern void tz_credit_note_searched(TzJob *job, const TzApiResult *r);
extern bool tz_credit_note_created(TzJob *job, const TzApiResult *r);
extern void tz_credit_note_moved(TzJob *job, const TzApiResult *r);
extern void tz_credit_note_advance(TzJob *job, const TzApiResult *r);

/* steps_exchange.c: the rate to read first (true: a call is planned, or the job waits) */
extern bool tz_step_read_exchange_rate(TzJob *job);
extern void tz_step_exchange_rate_read(TzJob *job, const TzApiResult *r);
/* the rate on a body, and where it came from in the result */
extern void tz_step_add_exchange_rate(TzJob *job, json_t *body);

#endif							/* TZ_STEP_KIT_H */
