/*-------------------------------------------------------------------------
 *
 * credit_note.h
 *	  A refunded Togai invoice in Zoho Books: the credit note of its total,
 *	  the credit applied to what is unpaid, the refund of what was paid.
 *
 * Amounts are whole minor units of the invoice's currency (digits 0 to 3),
 * so a balance is compared and split exactly.  Pure code: jansson only,
 * unit-tested without a server.  Returned JSON is borrowed from the answer
 * given unless it is a body (a new reference).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_CREDIT_NOTE_H
#define TZ_CREDIT_NOTE_H

#include <stdbool.h>

#include <jansson.h>

/* An amount (a JSON number or a string holding one) in minor units; false: not an amount. */
extern bool tz_minor_units(const json_t *v, int digits, long long *out);

/* Minor units as a JSON number of the currency. */
extern json_t *tz_money_json(long long minor, int digits);

/* Minor units as text of the currency: "12.50", "1500", "-0.05". */
extern void tz_money_text(long long minor, int digits, char *buf, size_t size);

/* The credit note's reference: the Togai invoice's reference, marked as its refund. */
extern void tz_refund_reference(const char *invoice_reference, char *buf, size_t size);

/*
 * The credit note of a list answer (GET /creditnotes) carrying that
 * reference for that contact, void ones aside; NULL when there is none.
 */
extern json_t *tz_find_credit_note(const json_t *answer, const char *reference,
								   const char *contact_id);

/* What the refunds of an answer to GET /creditnotes/{id}/refunds add up to. */
extern long long tz_refunded(const json_t *answer, int digits);

/*
 * The credit note of a Zoho Books invoice (as GET /invoices/{id} answers
 * it): its lines (items, taxes) when it has no adjustment, so the credit
 * note reverses each line and its tax; else one line of its total.
 * *one_line says which.  NULL when the invoice has no total or customer.
 */
extern json_t *tz_credit_note_body(const json_t *zoho_invoice, const char *reference,
								   const char *date, bool *one_line);

/*
 * The credit note of prepaid credits applied on a Togai invoice: one line
 * of that amount, for the invoice's customer.
 */
extern json_t *tz_credits_note_body(const json_t *zoho_invoice, long long minor, int digits,
									const char *reference, const char *date);

/* The credit note's reference for the credits of a Togai invoice. */
extern void tz_credits_reference(const char *invoice_reference, char *buf, size_t size);

/* POST /creditnotes/{id}/invoices: that much credit applied to the invoice. */
extern json_t *tz_credit_apply_body(const char *invoice_id, long long minor, int digits);

/* POST /creditnotes/{id}/refunds, with the action's refund_mode and from_account_id. */
extern json_t *tz_credit_refund_body(long long minor, int digits, const char *date,
									 const char *reference, const json_t *options);

/*
 * A customer payment as GET /customerpayments/{id} answers it ("payment"),
 * seen as an advance for an invoice: what is unused of it, and what it
 * applied to that invoice already.  False when the answer lacks either.
 */
extern bool tz_advance_read(const json_t *payment, const char *invoice_id, int digits,
							long long *unused, long long *applied_here);

/*
 * How much of each of n advances (oldest first) pays `need`: take[i] of
 * advance i, each at most what is unused of it.  Returns the sum.
 */
extern long long tz_advance_split(const long long *unused, int n, long long need, long long *take);

/*
 * POST /invoices/{id}/credits: amounts[i] of the advance payment_ids[i] (a
 * JSON array of ids) applied to the invoice, zero ones left out; no credit
 * note.
 */
extern json_t *tz_advance_apply_body(const json_t *payment_ids, const long long *amounts,
									 int digits);

/*
 * How a credit note of balance `credit` settles an invoice of balance
 * `owed` on which `paid` was paid and `refunded` refunded already: the
 * credit to apply to the invoice (what the refund does not need) and the
 * refund still to make.
 */
extern void tz_refund_split(long long credit, long long owed, long long paid, long long refunded,
							long long *apply, long long *refund);

#endif							/* TZ_CREDIT_NOTE_H */
