/*-------------------------------------------------------------------------
 *
 * kit.h
 *	  What every action module uses: the current action, the next call, the
 *	  action's result, the mappings it learns, and what job_context() worked
 *	  out for an organization.
 *
 * Memory only: no SPI, no locks (deliver.c runs a step without a
 * subtransaction).  What is allocated is the job's memory context's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_KIT_H
#define TZ_ACTIONS_KIT_H

#include "clients/remote_ops.h"
#include "finder.h"
#include "job.h"

#define ON_ITS_WAY_MS (10 * 1000)	/* an invoice still being made or marked sent */

static inline TzJobAction *
tz_step_action(TzJob *job)
{
	return &job->actions[job->current];
}

/*
 * The current action's own state (its module's struct), made zeroed on
 * first use and dropped when the action is done.
 */
static inline void *
tz_step_state(TzJob *job, size_t size)
{
	if (job->state == NULL)
		job->state = palloc0(size);
	return job->state;
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

/* The next call: an operation (remote_ops.c) at a connection of its app; takes body. */
extern void tz_step_call_at(TzJob *job, int64 connection_id, TzApp app, TzPhase phase,
							const char *operation, const char *id, char *query, json_t *body);

/* The next call: an operation at the current action's connection; takes body. */
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

/* A success that does not say what it made: the remote broke its contract; the job retries. */
extern void tz_step_unexplained(TzJob *job, const TzApiResult *r, const char *what);

/* Adds to what the current action's result says. */
extern void tz_step_note(TzJob *job, const char *text);

/* A text job_context() worked out for the job ("recorded", "echo", ...), or NULL. */
extern const char *tz_step_context_text(const TzJob *job, const char *key);

/* What job_context() worked out for this action's Zoho Books connection, or NULL. */
extern json_t *tz_step_for_organization(TzJob *job, const char *what);

/* The finder's planned call (a search, or reading a candidate whole) is the next call. */
extern void tz_step_find(TzJob *job, const TzFinder *f);

/* The answer to a finder's call: found, not there, or (planned already) its next call. */
extern TzFound tz_step_find_answered(TzJob *job, TzFinder *f, const TzApiResult *r);

/* Records a mapping to store and lets the job's later actions use it. */
extern void tz_step_remember(TzJob *job, const char *entity, const char *togai_id,
							 const char *zoho_id);

/*
 * The action made or found its object: the mapping is remembered, and the
 * action is done with did, naming the object of the app it changes.
 */
extern void tz_step_mapped(TzJob *job, const char *entity, const char *togai_id,
						   const char *zoho_id, const char *did);

/* The action needs the account's contact, not there yet: the job waits for it. */
extern void tz_step_wait_for_account(TzJob *job);

/* Waits while the job's invoice is on its way, or stops naming its dead job; true: it did. */
extern bool tz_step_held_by_invoice(TzJob *job);

#endif							/* TZ_ACTIONS_KIT_H */
