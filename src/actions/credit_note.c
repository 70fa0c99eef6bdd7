/*-------------------------------------------------------------------------
 *
 * credit_note.c
 *	  invoice_refund and invoice_credits: a credit note on a Zoho Books
 *	  invoice, phase by phase.
 *
 * Both read the mapped invoice (what was paid, what is owed), find its
 * credit note by reference or make it, and settle it: invoice_refund's
 * credit note is the invoice's lines (or one line of its total), applied
 * to what is unpaid, the rest refunded as Togai refunded what was paid;
 * invoice_credits' is the Togai invoice's prepaid credits, applied to it
 * once it is sent; credits the customer bought through a Togai payment sit
 * in Zoho Books as that payment's unused part (an advance), so they are
 * paid from it first and only the rest (credits granted, not bought) is a
 * credit note.  Each step follows from the balances read (a found credit
 * note's refunds, an advance's invoices), so a repeat after a lost answer
 * never credits or refunds twice.  The amounts' arithmetic is pure
 * (credit_note.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "pure/action.h"
#include "pure/credit_note.h"
#include "pure/upsert.h"
#include "kit.h"
#include "module.h"

/* Where the invoice's credit note stands, in minor units: the action's own state. */
typedef struct TzRefund
{
	bool		credits;		/* a note of prepaid credits (else of a refund) */
	long long	amount;			/* the credits to note */
	int			digits;			/* of the invoice's currency */
	json_t	   *invoice;		/* the Zoho Books invoice, as read */
	char	   *credit_note_id;
	bool		created;		/* by this attempt (else found) */
	bool		one_line;		/* one line of the total, not the invoice's lines */
	long long	credit;			/* the credit note's balance */
	long long	owed;			/* the invoice's balance */
	long long	paid;			/* paid on the invoice */
	long long	refunded;		/* refunded from the credit note */
	long long	step;			/* the amount of the call in flight */
	long long	applied_now;	/* applied by this attempt */
	long long	refunded_now;	/* refunded by this attempt */
	json_t	   *advances;		/* the customer's advances (Zoho payment ids), oldest first */
	int			advance_next;	/* the next one to read */
	long long  *unused;			/* what is unused of each, as read */
	long long	covered;		/* credits the advances paid on this invoice */
	long long	advanced_now;	/* of which by this attempt */
} TzRefund;

static TzRefund *
refund_of(TzJob *job)
{
	return tz_step_state(job, sizeof(TzRefund));
}

/* The credit note's reference: the Togai invoice's, marked as its refund or its credits. */
static char *
refund_reference(TzJob *job)
{
	char		ref[64];
	char		buf[128];
	const char *invoice = tz_invoice_reference(job->payload, ref, sizeof(ref));

	if (refund_of(job)->credits)
		tz_credits_reference(invoice, buf, sizeof(buf));
	else
		tz_refund_reference(invoice, buf, sizeof(buf));
	return pstrdup(buf);
}

/* Today in this action's organization (job_context), for the credit note and refund. */
static const char *
refund_date(TzJob *job)
{
	return json_string_value(tz_step_for_organization(job, "credit_note_dates"));
}

static bool
plan_refund(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);

	if (tz_step_held_by_invoice(job))
		return false;
	if (a->invoice_zoho_id == NULL)
	{
		tz_step_done(job, "no Zoho Books invoice to refund", NULL);
		return false;
	}
	refund_of(job)->digits = tz_step_digits(job->context);
	/* what was paid and what is owed: as Zoho Books has them now */
	tz_step_call(job, TZ_PHASE_READ, "invoice_get", a->invoice_zoho_id, NULL, NULL);
	return true;
}

/* Whether the Zoho Books invoice still waits to be marked sent (credits need a sent invoice). */
static bool
invoice_unsent(TzJob *job, const char *invoice_id)
{
	ListCell   *lc;
	size_t		i;
	json_t	   *v;

	foreach(lc, job->unsent)
		if (strcmp(((TzUnsentInvoice *) lfirst(lc))->invoice_id, invoice_id) == 0)
			return true;
	json_array_foreach(json_object_get(job->context, "unsent"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), invoice_id) == 0)
			return true;
	return false;
}

static bool
plan_credits(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	int			d = tz_step_digits(job->context);
	long long	credits = 0;

	if (!tz_minor_units(json_object_get(job->context, "credits"), d, &credits) || credits <= 0)
	{
		tz_step_done(job, "no prepaid credits on the Togai invoice", NULL);
		return false;
	}
	if (a->invoice_zoho_id == NULL)
	{
		tz_step_done(job, "no Zoho Books invoice to credit", NULL);
		return false;
	}
	if (invoice_unsent(job, a->invoice_zoho_id))
	{
		job->delay_ms = ON_ITS_WAY_MS;
		tz_step_finish(job, TZ_OUTCOME_DEFERRED,
					   psprintf("waiting: Zoho Books invoice %s is not marked sent yet", a->invoice_zoho_id));
		return false;
	}
	if (json_is_string(json_object_get(job->context, "advance_waiting")))
	{
		/* bought credits are paid from their advance, which must be there first */
		job->delay_ms = ON_ITS_WAY_MS;
		tz_step_finish(job, TZ_OUTCOME_DEFERRED,
					   psprintf("waiting: %s", json_string_value(json_object_get(job->context,
																			   "advance_waiting"))));
		return false;
	}
	refund_of(job)->credits = true;
	refund_of(job)->amount = credits;
	refund_of(job)->digits = d;
	tz_step_call(job, TZ_PHASE_READ, "invoice_get", a->invoice_zoho_id, NULL, NULL);
	return true;
}

/* "12.50" for minor units of the refund's currency. */
static char *
refund_amount(TzJob *job, long long minor)
{
	char		buf[40];

	tz_money_text(minor, refund_of(job)->digits, buf, sizeof(buf));
	return pstrdup(buf);
}

/* What became of the invoice's prepaid credits, for the result. */
static void
credits_note(TzJob *job)
{
	TzRefund   *f = refund_of(job);
	char	   *text = psprintf("prepaid credits %s:", refund_amount(job, f->amount));
	const char *by_attempt = f->advanced_now == f->covered ? "" :
		psprintf(", %s by this attempt", refund_amount(job, f->advanced_now));

	if (f->covered > 0)
		text = psprintf("%s %s paid from the customer's advance "
						"(credits bought with a Togai payment)%s%s",
						text, refund_amount(job, f->covered), by_attempt, f->credit_note_id ? "," : "");
	if (f->credit_note_id)
		text = psprintf("%s %s applied to the invoice by credit note%s", text,
						refund_amount(job, f->applied_now), f->created ? "" : " by this attempt");
	tz_step_note(job, text);
}

/* The credit note's next step: apply credit, refund, or done. */
static void
settle_refund(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	TzRefund   *f = refund_of(job);
	long long	apply;
	long long	refund;

	tz_refund_split(f->credit, f->owed, f->paid, f->refunded, &apply, &refund);
	if (apply > 0)
	{
		f->step = apply;
		tz_step_call(job, TZ_PHASE_CREDIT, "credit_note_apply", f->credit_note_id, NULL,
					 tz_credit_apply_body(a->invoice_zoho_id, apply, f->digits));
		return;
	}
	if (refund > 0)
	{
		f->step = refund;
		tz_step_call(job, TZ_PHASE_REFUND, "credit_note_refund", f->credit_note_id, NULL,
					 tz_credit_refund_body(refund, f->digits, refund_date(job), refund_reference(job),
									   a->options));
		return;
	}
	if (f->one_line)
		tz_step_note(job, "one line of the invoice's total: it has an adjustment (discounts or credits), "
					 "so its lines and taxes are not reversed one by one");
	if (f->credits)
		credits_note(job);
	else
		tz_step_note(job, psprintf("%s applied to the invoice, %s refunded%s",
							   refund_amount(job, f->applied_now), refund_amount(job, f->refunded_now),
							   f->created ? "" : " by this attempt"));
	if (f->credit > 0)
		tz_step_note(job, psprintf("%s left on the credit note as the customer's credit",
							   refund_amount(job, f->credit)));
	tz_step_done(job, f->created ? (f->credits ? "credited" : "credited and refunded") :
				 "found its credit note; settled", f->credit_note_id);
}

/* The invoice as Zoho Books has it: look for its credit note. */
static void
invoice_read(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	TzRefund   *f = refund_of(job);
	json_t	   *invoice = json_object_get(r->root, "invoice");
	const char *status = json_string_value(json_object_get(invoice, "status"));
	const char *customer = json_string_value(json_object_get(invoice, "customer_id"));

	if (status && strcmp(status, "void") == 0)
	{
		tz_step_done(job, "the Zoho Books invoice is void: nothing to credit", a->invoice_zoho_id);
		return;
	}
	if (customer == NULL || !tz_minor_units(json_object_get(invoice, "balance"), f->digits, &f->owed))
	{
		job->http_status = r->http_status;
		tz_step_finish(job, TZ_OUTCOME_RETRY, "the Zoho Books invoice came without its customer or balance");
		return;
	}
	/* credits refund nothing: what was paid stays paid */
	if (f->credits || !tz_minor_units(json_object_get(invoice, "payment_made"), f->digits, &f->paid))
		f->paid = 0;
	f->invoice = json_deep_copy(invoice);
	tz_step_call(job, TZ_PHASE_SEARCH, "credit_note_search", NULL,
				 TZ_STEP_QUERY(job, "credit_note_search", "reference_number", refund_reference(job),
				   "customer_id", customer), NULL);
}

static void
create_credit_note(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	TzRefund   *f = refund_of(job);
	json_t	   *body = f->credits ?
		tz_credits_note_body(f->invoice, f->amount - f->covered, f->digits, refund_reference(job),
							 refund_date(job)) :
		tz_credit_note_body(f->invoice, refund_reference(job), refund_date(job), &f->one_line);

	if (body == NULL)
	{
		tz_step_finish(job, TZ_OUTCOME_DEAD, "the Zoho Books invoice has no total to credit");
		return;
	}
	/* the upsert takes no invoice_id parameter: each line names the invoice */
	if (tz_step_unique_field(job, "credit_note"))
	{
		tz_upsert_credit_note_lines(body, a->invoice_zoho_id);
		tz_step_create(job, "credit_note", "credit_note_create", refund_reference(job), NULL, body);
	}
	else
		tz_step_call(job, TZ_PHASE_CREATE, "credit_note_create", NULL,
					 TZ_STEP_QUERY(job, "credit_note_create", "invoice_id", a->invoice_zoho_id), body);
}

/* A credit note found or made: its balance; what it refunded is read when found. */
static bool
credit_note_known(TzJob *job, const json_t *note, bool created)
{
	TzRefund   *f = refund_of(job);
	const char *id = json_string_value(json_object_get(note, "creditnote_id"));

	if (id == NULL || !tz_minor_units(json_object_get(note, "balance"), f->digits, &f->credit))
		return false;
	f->credit_note_id = pstrdup(id);
	f->created = created;
	if (created || f->credits)	/* a note of credits is never refunded from */
		settle_refund(job);
	else
		tz_step_call(job, TZ_PHASE_REFUNDS_READ, "credit_note_refunds", id, NULL, NULL);
	return true;
}

/* Reads the next of the customer's advances; false when all are read. */
static bool
read_advance(TzJob *job)
{
	TzRefund   *f = refund_of(job);
	const char *id = json_string_value(json_array_get(f->advances, f->advance_next));

	if (id == NULL)
		return false;
	tz_step_call(job, TZ_PHASE_ADVANCE_READ, "payment_get", id, NULL, NULL);
	return true;
}

/* The credits the advances did not pay: a credit note of the rest, or done. */
static void
after_advances(TzJob *job)
{
	TzRefund   *f = refund_of(job);

	if (f->amount - f->covered > 0)
	{
		create_credit_note(job);
		return;
	}
	credits_note(job);
	tz_step_done(job, f->advanced_now > 0 ? "paid from the customer's advance" :
				 "found paid from the customer's advance", tz_step_action(job)->invoice_zoho_id);
}

/*
 * Every advance read: what is still owed of the credits is paid from them,
 * oldest first, in one call.
 */
static void
apply_advances(TzJob *job)
{
	TzRefund   *f = refund_of(job);
	int			n = (int) json_array_size(f->advances);
	long long  *take = palloc0(Max(n, 1) * sizeof(long long));
	long long	need = Min(f->amount - f->covered, f->owed);

	f->step = tz_advance_split(f->unused, n, need, take);
	if (f->step <= 0)
	{
		after_advances(job);
		return;
	}
	tz_step_call(job, TZ_PHASE_ADVANCE_APPLY, "invoice_apply_credits",
				 tz_step_action(job)->invoice_zoho_id, NULL,
				 tz_advance_apply_body(f->advances, take, f->digits));
}

/* An advance read (r NULL: it is gone), or advances applied to the invoice. */
static void
advance(TzJob *job, const TzApiResult *r)
{
	TzRefund   *f = refund_of(job);
	long long	here = 0;

	if (job->phase == TZ_PHASE_ADVANCE_APPLY)
	{
		f->covered += f->step;
		f->advanced_now += f->step;
		f->owed -= f->step;
		after_advances(job);
		return;
	}
	if (r == NULL)
	{
		tz_step_note(job, psprintf("customer payment %s (an advance) is gone from Zoho Books",
								   json_string_value(json_array_get(f->advances, f->advance_next))));
		f->unused[f->advance_next] = 0;
	}
	else if (!tz_advance_read(json_object_get(r->root, "payment"), tz_step_action(job)->invoice_zoho_id,
							  f->digits, &f->unused[f->advance_next], &here))
	{
		tz_step_finish(job, TZ_OUTCOME_RETRY, "the customer payment came without its unused amount");
		return;
	}
	f->covered += here;
	f->advance_next++;
	if (!read_advance(job))
		apply_advances(job);
}

/* The search's answer: the credit note found, or made now (after the advances, for credits). */
static void
searched(TzJob *job, const TzApiResult *r)
{
	TzRefund   *f = refund_of(job);
	const char *customer = json_string_value(json_object_get(f->invoice, "customer_id"));
	json_t	   *note = tz_find_credit_note(r->root, refund_reference(job), customer);

	if (note == NULL && f->credits)
	{
		f->advances = tz_step_for_organization(job, "advances");
		f->unused = palloc0(Max(json_array_size(f->advances), 1) * sizeof(long long));
		if (!read_advance(job))
			after_advances(job);
	}
	else if (note == NULL)
		create_credit_note(job);
	else if (!credit_note_known(job, note, false))
		tz_step_finish(job, TZ_OUTCOME_RETRY, "the credit note found came without its id or balance");
}

/* Its refunds read, credit applied or a refund made: the balances move, then the next step. */
static void
moved(TzJob *job, const TzApiResult *r)
{
	TzRefund   *f = refund_of(job);

	switch (job->phase)
	{
		case TZ_PHASE_REFUNDS_READ:
			f->refunded = tz_refunded(r->root, f->digits);
			break;
		case TZ_PHASE_CREDIT:
			f->credit -= f->step;
			f->owed -= f->step;
			f->applied_now += f->step;
			break;
		case TZ_PHASE_REFUND:
			f->credit -= f->step;
			f->refunded += f->step;
			f->refunded_now += f->step;
			break;
		default:
			break;
	}
	settle_refund(job);
}

static bool
answered(TzJob *job, const TzApiResult *r)
{
	switch (job->phase)
	{
		case TZ_PHASE_READ:
			invoice_read(job, r);
			return true;
		case TZ_PHASE_SEARCH:
			searched(job, r);
			return true;
		case TZ_PHASE_CREATE:
			/* false: the answer did not say which credit note it made */
			return credit_note_known(job, json_object_get(r->root, "creditnote"), true);
		case TZ_PHASE_REFUNDS_READ:
		case TZ_PHASE_CREDIT:
		case TZ_PHASE_REFUND:
			moved(job, r);
			return true;
		case TZ_PHASE_ADVANCE_READ:
		case TZ_PHASE_ADVANCE_APPLY:
			advance(job, r);
			return true;
		default:
			return false;
	}
}

/* An advance deleted in Zoho Books pays nothing: the next one, or a credit note. */
static bool
refused(TzJob *job, const TzApiResult *r)
{
	if (job->phase != TZ_PHASE_ADVANCE_READ || r->http_status != 404)
		return false;
	advance(job, NULL);
	return true;
}

/* preview_flow(): the invoice as if paid in full, so its credit note is refunded whole. */
static json_t *
stand_in(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *total = json_object_get(job->payload, "total_amount");
	json_t	   *t;
	json_t	   *answer;

	if (job->phase == TZ_PHASE_CREATE)
		return json_pack("{s:{s:s, s:O}}", "creditnote", "creditnote_id", "(new credit note id)",
						 "balance", json_object_get(refund_of(job)->invoice, "total"));
	if (job->phase != TZ_PHASE_READ)
		return NULL;
	t = json_is_number(total) ? json_incref(total) : json_integer(0);
	answer = json_pack("{s:{s:s, s:s, s:O, s:i, s:O, s:[]}}", "invoice",
					   "invoice_id", a->invoice_zoho_id, "customer_id",
					   a->account_zoho_id ? a->account_zoho_id : "(contact id)",
					   "total", t, "balance", 0, "payment_made", t, "line_items");
	json_decref(t);
	return answer;
}

const TzActionModule tz_invoice_refund_module = {
	.plan = plan_refund,
	.answered = answered,
	.refused = refused,
	.stand_in = stand_in,
};

const TzActionModule tz_invoice_credits_module = {
	.plan = plan_credits,
	.answered = answered,
	.refused = refused,
};
