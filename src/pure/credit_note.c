/*-------------------------------------------------------------------------
 *
 * credit_note.c
 *	  A refunded Togai invoice in Zoho Books (see credit_note.h).
 *
 * Togai keeps no refund object: a REFUND_COMPLETED invoice was refunded
 * what was paid on it.  Its Zoho Books invoice gets a credit note of its
 * whole total (revenue and tax reversed); the credit pays what is still
 * owed, and the rest, what was paid, is refunded from the credit note.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit_note.h"

static double
scale(int digits)
{
	return digits <= 0 ? 1.0 : digits == 1 ? 10.0 : digits == 2 ? 100.0 : 1000.0;
}

bool
tz_minor_units(const json_t *v, int digits, long long *out)
{
	double		d;
	char	   *end;

	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 40)
	{
		d = strtod(json_string_value(v), &end);
		if (*end != '\0')
			return false;
	}
	else
		return false;
	if (!isfinite(d) || fabs(d) > 1e15)
		return false;
	*out = llround(d * scale(digits));
	return true;
}

json_t *
tz_money_json(long long minor, int digits)
{
	return digits <= 0 ? json_integer(minor) : json_real((double) minor / scale(digits));
}

void
tz_money_text(long long minor, int digits, char *buf, size_t size)
{
	long long	unit = (long long) scale(digits);
	long long	magnitude = minor < 0 ? -minor : minor;

	if (digits <= 0)
		snprintf(buf, size, "%lld", minor);
	else
		snprintf(buf, size, "%s%lld.%0*lld", minor < 0 ? "-" : "", magnitude / unit,
				 digits > 3 ? 3 : digits, magnitude % unit);
}

void
tz_refund_reference(const char *invoice_reference, char *buf, size_t size)
{
	snprintf(buf, size, "Refund %s", invoice_reference ? invoice_reference : "");
}

json_t *
tz_find_credit_note(const json_t *answer, const char *reference, const char *contact_id)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "creditnotes") : NULL;
	size_t		i;
	json_t	   *c;

	if (reference == NULL)
		return NULL;
	json_array_foreach(list, i, c)
	{
		const char *ref = json_string_value(json_object_get(c, "reference_number"));
		const char *customer = json_string_value(json_object_get(c, "customer_id"));
		const char *status = json_string_value(json_object_get(c, "status"));

		if (!json_is_string(json_object_get(c, "creditnote_id")) || ref == NULL ||
			strcmp(ref, reference) != 0 || (status && strcmp(status, "void") == 0) ||
			(contact_id && customer && strcmp(customer, contact_id) != 0))
			continue;
		return c;
	}
	return NULL;
}

long long
tz_refunded(const json_t *answer, int digits)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "creditnote_refunds") : NULL;
	size_t		i;
	json_t	   *r;
	long long	sum = 0;

	json_array_foreach(list, i, r)
	{
		long long	amount;

		if (tz_minor_units(json_object_get(r, "amount"), digits, &amount) && amount > 0)
			sum += amount;
	}
	return sum;
}

/* A credit note's reference and date, and the invoice's exchange rate: it credits at that rate. */
static json_t *
with_reference(json_t *body, const json_t *zoho_invoice, const char *reference, const char *date)
{
	json_t	   *rate = json_object_get(zoho_invoice, "exchange_rate");

	if (reference)
		json_object_set_new(body, "reference_number", json_string(reference));
	if (date)
		json_object_set_new(body, "date", json_string(date));
	if (json_is_number(rate) && json_number_value(rate) > 0)
		json_object_set(body, "exchange_rate", rate);
	return body;
}

/* A line of the invoice as a credit note line: what was sold, at its price and tax. */
static json_t *
credit_line(const json_t *line)
{
	static const char *const keep[] = {"item_id", "name", "description", "quantity", "rate",
	"tax_id", "account_id"};
	json_t	   *out = json_pack("{}");	/* not json_object(): the server has its own */

	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
	{
		json_t	   *v = json_object_get(line, keep[k]);

		if (v && !json_is_null(v))
			json_object_set(out, keep[k], v);
	}
	return out;
}

json_t *
tz_credit_note_body(const json_t *zoho_invoice, const char *reference, const char *date,
					bool *one_line)
{
	json_t	   *total = json_object_get(zoho_invoice, "total");
	json_t	   *lines = json_object_get(zoho_invoice, "line_items");
	json_t	   *adjustment = json_object_get(zoho_invoice, "adjustment");
	const char *customer = json_string_value(json_object_get(zoho_invoice, "customer_id"));
	json_t	   *body;
	json_t	   *out = json_array();
	size_t		i;
	json_t	   *line;

	if (!json_is_number(total) || json_number_value(total) <= 0 || customer == NULL)
	{
		json_decref(out);
		return NULL;
	}
	*one_line = json_array_size(lines) == 0 ||
		(json_is_number(adjustment) && json_number_value(adjustment) != 0);
	if (*one_line)
		json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:O}",
											 "name", "Refund of the invoice",
											 "description", reference ? reference : "",
											 "quantity", 1, "rate", total));
	else
		json_array_foreach(lines, i, line)
			json_array_append_new(out, credit_line(line));
	body = json_pack("{s:s, s:o}", "customer_id", customer, "line_items", out);
	return with_reference(body, zoho_invoice, reference, date);
}

void
tz_credits_reference(const char *invoice_reference, char *buf, size_t size)
{
	snprintf(buf, size, "Credits %s", invoice_reference ? invoice_reference : "");
}

json_t *
tz_credits_note_body(const json_t *zoho_invoice, long long minor, int digits, const char *reference,
					 const char *date)
{
	const char *customer = json_string_value(json_object_get(zoho_invoice, "customer_id"));
	json_t	   *body;

	if (customer == NULL || minor <= 0)
		return NULL;
	body = json_pack("{s:s, s:[{s:s, s:s, s:i, s:o}]}", "customer_id", customer, "line_items",
					 "name", "Prepaid credits", "description", reference ? reference : "",
					 "quantity", 1, "rate", tz_money_json(minor, digits));
	return with_reference(body, zoho_invoice, reference, date);
}

json_t *
tz_credit_apply_body(const char *invoice_id, long long minor, int digits)
{
	return json_pack("{s:[{s:s, s:o}]}", "invoices", "invoice_id", invoice_id,
					 "amount_applied", tz_money_json(minor, digits));
}

json_t *
tz_credit_refund_body(long long minor, int digits, const char *date, const char *reference,
					  const json_t *options)
{
	const char *mode = json_string_value(json_object_get(options, "refund_mode"));
	const char *account = json_string_value(json_object_get(options, "from_account_id"));
	json_t	   *body = json_pack("{s:o, s:s}", "amount", tz_money_json(minor, digits),
								 "refund_mode", mode ? mode : "others");

	if (date)
		json_object_set_new(body, "date", json_string(date));
	if (reference)
		json_object_set_new(body, "reference_number", json_string(reference));
	if (account)
		json_object_set_new(body, "from_account_id", json_string(account));
	return body;
}

void
tz_refund_split(long long credit, long long owed, long long paid, long long refunded,
				long long *apply, long long *refund)
{
	long long	to_refund = paid - refunded;

	if (to_refund < 0)
		to_refund = 0;
	if (to_refund > credit)
		to_refund = credit;
	*apply = credit - to_refund;
	if (*apply > owed)
		*apply = owed;
	if (*apply < 0)
		*apply = 0;
	*refund = to_refund;
}

bool
tz_advance_read(const json_t *payment, const char *invoice_id, int digits,
				long long *unused, long long *applied_here)
{
	size_t		i;
	json_t	   *a;

	if (!json_is_object(payment) ||
		!tz_minor_units(json_object_get(payment, "unused_amount"), digits, unused))
		return false;
	if (*unused < 0)
		*unused = 0;
	*applied_here = 0;
	json_array_foreach(json_object_get(payment, "invoices"), i, a)
	{
		const char *id = json_string_value(json_object_get(a, "invoice_id"));
		long long	amount;

		if (id && invoice_id && strcmp(id, invoice_id) == 0 &&
			tz_minor_units(json_object_get(a, "amount_applied"), digits, &amount) && amount > 0)
			*applied_here += amount;
	}
	return true;
}

long long
tz_advance_split(const long long *unused, int n, long long need, long long *take)
{
	long long	total = 0;

	for (int i = 0; i < n; i++)
	{
		long long	t = need - total;

		if (t > unused[i])
			t = unused[i];
		take[i] = t > 0 ? t : 0;
		total += take[i];
	}
	return total;
}

json_t *
tz_advance_apply_body(const json_t *payment_ids, const long long *amounts, int digits)
{
	json_t	   *payments = json_array();
	size_t		i;
	json_t	   *id;

	json_array_foreach(payment_ids, i, id)
		if (amounts[i] > 0 && json_is_string(id))
			json_array_append_new(payments, json_pack("{s:O, s:o}", "payment_id", id,
													  "amount_applied",
													  tz_money_json(amounts[i], digits)));
	return json_pack("{s:o, s:[]}", "invoice_payments", payments, "apply_creditnotes");
}
