/*-------------------------------------------------------------------------
 *
 * invoice_close.c
 *	  invoice_void and invoice_write_off: the mapped Zoho Books invoice
 *	  voided, or its balance written off, as in Togai.
 *
 * A write-off waits while its invoice is on its way.  Refused (already
 * written off by an attempt whose answer was lost?), the invoice says: a
 * balance of 0 is done, any other keeps the refusal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "kit.h"
#include "module.h"

static bool
plan_void(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	if (a->invoice_zoho_id == NULL)
	{
		tz_step_done(job, "no Zoho Books invoice to void", NULL);
		return false;
	}
	tz_step_call(job, TZ_PHASE_VOID, "invoice_void", a->invoice_zoho_id, NULL, NULL);
	return true;
}

static bool
answered_void(TzJob *job, const TzApiResult *r)
{
	if (job->phase != TZ_PHASE_VOID)
		return false;
	tz_step_done(job, "voided", tz_step_action(job)->invoice_zoho_id);
	return true;
}

static bool
plan_write_off(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	if (tz_step_held_by_invoice(job))
		return false;
	if (a->invoice_zoho_id == NULL)
	{
		tz_step_done(job, "no Zoho Books invoice to write off", NULL);
		return false;
	}
	tz_step_call(job, TZ_PHASE_WRITE_OFF, "invoice_write_off", a->invoice_zoho_id, NULL, NULL);
	return true;
}

static bool
answered_write_off(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *balance;

	if (job->phase == TZ_PHASE_WRITE_OFF)
	{
		tz_step_done(job, "written off", a->invoice_zoho_id);
		return true;
	}
	if (job->phase != TZ_PHASE_READ)
		return false;
	balance = json_object_get(json_object_get(r->root, "invoice"), "balance");
	if (json_is_number(balance) && json_number_value(balance) == 0)
	{
		job->note = NULL;
		tz_step_done(job, "nothing left to write off (balance 0)", a->invoice_zoho_id);
	}
	else
		tz_step_finish(job, TZ_OUTCOME_DEAD, job->note);
	return true;
}

/* Refused: made already by an attempt whose answer was lost?  The invoice's balance says. */
static bool
refused_write_off(TzJob *job, const TzApiResult *r)
{
	if (job->phase != TZ_PHASE_WRITE_OFF || r->http_status != 400)
		return false;
	job->note = psprintf("Zoho Books refused the write-off: %s",
						 r->message ? r->message : "(no message)");
	tz_step_call(job, TZ_PHASE_READ, "invoice_get", tz_step_action(job)->invoice_zoho_id, NULL, NULL);
	return true;
}

const TzActionModule tz_invoice_void_module = {
	.plan = plan_void,
	.answered = answered_void,
};

const TzActionModule tz_invoice_write_off_module = {
	.plan = plan_write_off,
	.answered = answered_write_off,
	.refused = refused_write_off,
};
