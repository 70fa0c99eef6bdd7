/*-------------------------------------------------------------------------
 *
 * action.c
 *	  Request bodies for the Zoho Books actions, and finding a created
 *	  object again in a search answer.
 *
 * Pure code: jansson only.  Every reader copes with any answer, since a
 * search answer may be cut short or not what we asked for.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "action.h"

/*
 * A new empty object.  Not json_object(): inside the server that name binds
 * to PostgreSQL's own SQL function of the same name, whatever the headers
 * say; json_pack is jansson's alone.
 */
static json_t *
new_object(void)
{
	return json_pack("{}");
}

const char *
tz_row_text(const json_t *row, const char *field, char *buf, size_t size)
{
	json_t	   *v = json_is_object(row) ? json_object_get(row, field) : NULL;

	if (json_is_string(v))
		return json_string_length(v) > 0 ? json_string_value(v) : NULL;
	if (json_is_integer(v))
	{
		snprintf(buf, size, "%lld", (long long) json_integer_value(v));
		return buf;
	}
	if (json_is_real(v))
	{
		snprintf(buf, size, "%.15g", json_real_value(v));
		return buf;
	}
	return NULL;
}

/* A field's value, or the option naming which field to read instead. */
static const char *
mapped_text(const json_t *row, const json_t *options, const char *option,
			const char *field, char *buf, size_t size)
{
	const char *other = json_is_object(options) ?
		json_string_value(json_object_get(options, option)) : NULL;

	return tz_row_text(row, other ? other : field, buf, size);
}

static void
set_text(json_t *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(obj, key, json_string(value));
}

void
tz_contact_marker(const char *account_id, char *buf, size_t size)
{
	snprintf(buf, size, "Togai account %s", account_id);
}

/* Togai's address object as a Zoho Books billing address. */
static json_t *
billing_address(const json_t *address)
{
	static const char *const pairs[][2] = {
		{"line1", "address"}, {"line2", "street2"}, {"city", "city"},
		{"state", "state"}, {"postalCode", "zip"}, {"zipcode", "zip"},
		{"country", "country"}, {"phone", "phone"}
	};
	json_t	   *out;
	char		buf[64];

	if (!json_is_object(address))
		return NULL;
	out = new_object();
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
	{
		const char *v = tz_row_text(address, pairs[i][0], buf, sizeof(buf));

		if (v != NULL && json_object_get(out, pairs[i][1]) == NULL)
			json_object_set_new(out, pairs[i][1], json_string(v));
	}
	if (json_object_size(out) == 0)
	{
		json_decref(out);
		return NULL;
	}
	return out;
}

/*
 * The non-empty id_key of the first element of answer[list] whose key equals
 * value (case aside when nocase), or NULL.
 */
static const char *
id_where(const json_t *answer, const char *list, const char *id_key, const char *key,
		 const char *value, bool nocase)
{
	json_t	   *items = json_is_object(answer) ? json_object_get(answer, list) : NULL;
	size_t		i;
	json_t	   *it;

	if (value == NULL)
		return NULL;
	json_array_foreach(items, i, it)
	{
		const char *id = json_string_value(json_object_get(it, id_key));
		const char *v = json_string_value(json_object_get(it, key));

		if (id != NULL && id[0] != '\0' && v != NULL &&
			(nocase ? strcasecmp(v, value) : strcmp(v, value)) == 0)
			return id;
	}
	return NULL;
}

/* The characters of text up to n code points (UTF-8), as a new string. */
static char *
cut_text(const char *text, size_t n, bool *cut)
{
	size_t		i = 0;
	size_t		points = 0;
	char	   *out;

	while (text[i] != '\0' && points < n)
	{
		i++;
		while ((text[i] & 0xC0) == 0x80)
			i++;
		points++;
	}
	*cut = text[i] != '\0';
	out = malloc(i + 1);
	memcpy(out, text, i);
	out[i] = '\0';
	return out;
}

/* A malloc'd copy (strdup is not C11). */
static char *
copy_text(const char *text)
{
	bool		cut;

	return cut_text(text, (size_t) -1, &cut);
}

int
tz_payment_terms(const json_t *row, const json_t *options, bool *capped)
{
	json_t	   *opt = json_is_object(options) ? json_object_get(options, "payment_terms") : NULL;
	json_t	   *days = json_is_integer(opt) ? opt : json_object_get(row, "net_term_days");
	json_int_t	v;

	*capped = false;
	if (!json_is_integer(days) || json_integer_value(days) < 0)
		return -1;
	v = json_integer_value(days);
	if (v > TZ_ZOHO_MAX_TERMS)
	{
		*capped = true;
		return TZ_ZOHO_MAX_TERMS;
	}
	return (int) v;
}

char *
tz_contact_name(const json_t *account, const json_t *options, bool distinct)
{
	char		name_buf[64];
	char		id_buf[64];
	const char *name = mapped_text(account, options, "contact_name_field", "name",
								   name_buf, sizeof(name_buf));
	const char *account_id = tz_row_text(account, "account_id", id_buf, sizeof(id_buf));
	const char *pattern = json_is_object(options) ?
		json_string_value(json_object_get(options, "contact_name_pattern")) : NULL;
	char		out[1024];
	size_t		len = 0;

	if (name == NULL || account_id == NULL)
		return NULL;
	if (!distinct)
		return copy_text(name);
	/* {name} and {account_id} in the pattern; anything else as written */
	for (const char *p = pattern ? pattern : TZ_DISTINCT_NAME_PATTERN; *p && len < sizeof(out) - 1;)
	{
		const char *with = NULL;

		if (strncmp(p, "{name}", 6) == 0)
			with = name, p += 6;
		else if (strncmp(p, "{account_id}", 12) == 0)
			with = account_id, p += 12;
		if (with)
			while (*with && len < sizeof(out) - 1)
				out[len++] = *with++;
		else
			out[len++] = *p++;
	}
	out[len] = '\0';
	return copy_text(out);
}

/* The primary person of a whole contact, or NULL. */
static json_t *
primary_person(const json_t *contact)
{
	json_t	   *persons = json_is_object(contact) ? json_object_get(contact, "contact_persons") : NULL;
	size_t		i;
	json_t	   *p;

	json_array_foreach(persons, i, p)
		if (json_is_true(json_object_get(p, "is_primary_contact")))
		return p;
	return json_array_get(persons, 0);
}

/* A custom field naming the account: by index (a number in the option) or by label. */
static json_t *
custom_field(const char *field, const char *value)
{
	char	   *end;
	long		index = strtol(field, &end, 10);

	if (*field != '\0' && *end == '\0')
		return json_pack("{s:I, s:s}", "index", (json_int_t) index, "value", value);
	return json_pack("{s:s, s:s}", "label", field, "value", value);
}

json_t *
tz_contact_body(const json_t *account, const json_t *options, const char *currency_id,
				const json_t *current, bool distinct)
{
	char		buf[64];
	char		id_buf[64];
	char		marker[320];
	char		notes[700];
	char		cus_buf[64];
	const char *customer_id = tz_row_text(account, "customer_id", cus_buf, sizeof(cus_buf));
	const char *account_id = tz_row_text(account, "account_id", id_buf, sizeof(id_buf));
	const char *current_name = json_is_object(current) ?
		json_string_value(json_object_get(current, "contact_name")) : NULL;
	char	   *name;
	char	   *other;
	const char *v;
	json_t	   *body;
	json_t	   *opt;
	json_t	   *address;
	bool		capped;
	int			terms;

	name = tz_contact_name(account, options, distinct);
	if (name == NULL)
		return NULL;
	/* a contact that carries the distinct name keeps it: no rename into a collision */
	other = tz_contact_name(account, options, true);
	if (!distinct && current_name != NULL && strcmp(current_name, other) == 0)
	{
		free(name);
		name = other;
		other = NULL;
	}
	free(other);
	body = new_object();
	set_text(body, "contact_name", name);
	free(name);
	/* both Togai ids, where GET /contacts?search_text= finds them */
	tz_contact_marker(account_id, marker, sizeof(marker));
	if (customer_id != NULL)
		snprintf(notes, sizeof(notes), "%s (customer %s)", marker, customer_id);
	else
		snprintf(notes, sizeof(notes), "%s", marker);
	set_text(body, "notes", notes);
	set_text(body, "contact_type", "customer");
	set_text(body, "currency_id", currency_id);
	set_text(body, "company_name",
			 mapped_text(account, options, "company_name_field", "customer_name", buf, sizeof(buf)));

	opt = json_is_object(options) ? json_object_get(options, "customer_sub_type") : NULL;
	set_text(body, "customer_sub_type", json_is_string(opt) ? json_string_value(opt) : "business");

	terms = tz_payment_terms(account, options, &capped);
	if (terms >= 0)
		json_object_set_new(body, "payment_terms", json_integer(terms));

	if ((v = tz_row_text(account, "primary_email", buf, sizeof(buf))) != NULL)
	{
		json_t	   *person = new_object();
		json_t	   *was = primary_person(current);
		const char *was_id = json_string_value(json_object_get(was, "contact_person_id"));
		char		first_buf[64];
		const char *first = tz_row_text(account, "name", first_buf, sizeof(first_buf));
		bool		cut = false;
		char	   *first_cut = first ? cut_text(first, TZ_ZOHO_MAX_NAME, &cut) : NULL;

		/* an update names the person it changes, or Zoho adds another */
		set_text(person, "contact_person_id", was_id);
		set_text(person, "email", v);
		set_text(person, "first_name", first_cut);
		free(first_cut);
		json_object_set_new(person, "is_primary_contact", json_true());
		json_object_set_new(body, "contact_persons", json_pack("[o]", person));
	}
	if ((address = billing_address(json_object_get(account, "address"))) != NULL)
		json_object_set_new(body, "billing_address", address);

	opt = json_is_object(options) ? json_object_get(options, "togai_id_custom_field") : NULL;
	if (json_is_string(opt))
		json_object_set_new(body, "custom_fields",
							json_pack("[o]", custom_field(json_string_value(opt), account_id)));
	return body;
}

/* Whether a custom field of a whole contact holds the account id: by index or label. */
static bool
custom_field_names(const json_t *contact, const char *field, const char *account_id)
{
	json_t	   *fields = json_object_get(contact, "custom_fields");
	char	   *end;
	long		index = strtol(field, &end, 10);
	bool		by_index = *field != '\0' && *end == '\0';
	size_t		i;
	json_t	   *f;

	json_array_foreach(fields, i, f)
	{
		const char *v = json_string_value(json_object_get(f, "value"));
		json_t	   *at = json_object_get(f, "index");
		const char *label = json_string_value(json_object_get(f, "label"));
		bool		named = by_index ? (json_is_integer(at) && json_integer_value(at) == index) :
			(label != NULL && strcmp(label, field) == 0);

		if (named && v != NULL && strcmp(v, account_id) == 0)
			return true;
	}
	return false;
}

void
tz_contact_search_text(const char *account_id, char *buf, size_t size)
{
	bool		cut;
	char	   *text = cut_text(account_id, TZ_ZOHO_MAX_SEARCH, &cut);

	/* the id alone: in the marker of the notes, or in a distinct contact name */
	snprintf(buf, size, "%s", text);
	free(text);
}

json_t *
tz_contact_candidates(const json_t *answer, const char *name, const char *distinct_name)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "contacts") : NULL;
	json_t	   *first = json_array();
	json_t	   *rest = json_array();
	size_t		i;
	json_t	   *c;

	/* those named as we name the account's contact first: likeliest ours */
	json_array_foreach(list, i, c)
	{
		const char *id = json_string_value(json_object_get(c, "contact_id"));
		const char *n = json_string_value(json_object_get(c, "contact_name"));

		if (id == NULL || id[0] == '\0')
			continue;
		if (n != NULL && ((name && strcmp(n, name) == 0) ||
						  (distinct_name && strcmp(n, distinct_name) == 0)))
			json_array_append_new(first, json_string(id));
		else
			json_array_append_new(rest, json_string(id));
	}
	json_array_extend(first, rest);
	json_decref(rest);
	return first;
}

bool
tz_contact_is_ours(const json_t *contact, const char *account_id, const json_t *options)
{
	const char *notes = json_is_object(contact) ?
		json_string_value(json_object_get(contact, "notes")) : NULL;
	json_t	   *opt = json_is_object(options) ? json_object_get(options, "togai_id_custom_field") : NULL;
	char		marker[320];
	size_t		mlen;

	if (!json_is_object(contact) || account_id == NULL)
		return false;
	tz_contact_marker(account_id, marker, sizeof(marker));
	mlen = strlen(marker);
	/* the marker as a whole: "Togai account a1" must not match "... a10" */
	for (const char *at = notes ? strstr(notes, marker) : NULL; at; at = strstr(at + 1, marker))
	{
		char		next = at[mlen];
		char		after = next ? at[mlen + 1] : '\0';

		/* a full stop ends the id only at the end of a sentence: ids hold dots */
		if (next == '\0' || next == ' ' || next == '\n' || next == ',' || next == '(' ||
			(next == '.' && (after == '\0' || after == ' ' || after == '\n')))
			return true;
	}
	return json_is_string(opt) && custom_field_names(contact, json_string_value(opt), account_id);
}

const char *
tz_invoice_reference(const json_t *invoice, char *buf, size_t size)
{
	const char *v = tz_row_text(invoice, "sequence_id", buf, size);

	return v ? v : tz_row_text(invoice, "invoice_id", buf, size);
}

/* yyyy-mm-dd of a timestamp written as text, or NULL. */
static json_t *
date_of(const json_t *row, const char *field)
{
	char		buf[64];
	const char *v = tz_row_text(row, field, buf, sizeof(buf));

	if (v == NULL || strlen(v) < 10)
		return NULL;
	return json_stringn(v, 10);
}

/* The lines worked out, exactly, by the database (context["lines"]), or one for the total. */
static json_t *
given_lines(const json_t *invoice, const json_t *context)
{
	json_t	   *given = json_is_object(context) ? json_object_get(context, "lines") : NULL;
	json_t	   *lines = json_array();
	size_t		i;
	json_t	   *node;

	json_array_foreach(given, i, node)
	{
		if (json_is_object(node))
			json_array_append_new(lines, json_deep_copy(node));
	}
	if (json_array_size(lines) == 0)
	{
		json_t	   *line = new_object();
		json_t	   *total = json_object_get(invoice, "total_amount");
		char		buf[64];
		char		name[320];

		snprintf(name, sizeof(name), "Togai invoice %s",
				 tz_invoice_reference(invoice, buf, sizeof(buf)) ?: "");
		set_text(line, "name", name);
		set_text(line, "item", TZ_TOTAL_ITEM_NAME);
		json_object_set_new(line, "quantity", json_integer(1));
		json_object_set_new(line, "rate", json_is_number(total) ? json_copy(total) : json_integer(0));
		json_array_append_new(lines, line);
	}
	return lines;
}

/* The Zoho Books item a line is billed under: its rate card or line type, by name. */
static char *
line_item_name(const json_t *line)
{
	const char *item = json_string_value(json_object_get(line, "item"));
	const char *name = json_string_value(json_object_get(line, "name"));
	bool		cut;

	return cut_text(item ? item : (name ? name : TZ_TOTAL_ITEM_NAME), TZ_ZOHO_MAX_NAME, &cut);
}

json_t *
tz_invoice_item_names(const json_t *invoice, const json_t *options, const json_t *context)
{
	json_t	   *names = json_array();
	json_t	   *lines;
	size_t		i;
	json_t	   *line;

	if (json_is_string(json_is_object(options) ? json_object_get(options, "item_id") : NULL))
		return names;
	lines = given_lines(invoice, context);
	json_array_foreach(lines, i, line)
	{
		char	   *name = line_item_name(line);
		bool		seen = false;
		size_t		k;
		json_t	   *n;

		json_array_foreach(names, k, n)
			seen |= strcmp(json_string_value(n), name) == 0;
		if (!seen)
			json_array_append_new(names, json_string(name));
		free(name);
	}
	json_decref(lines);
	return names;
}

/*
 * The Zoho line items: names cut to Zoho's 100 characters (the whole text in
 * the description), each with its item (the fixed one of the options, or the
 * line's item from items by name) and the fixed tax of the options.
 */
static json_t *
line_items(const json_t *invoice, const json_t *options, const json_t *context,
		   const json_t *items)
{
	json_t	   *lines = given_lines(invoice, context);
	json_t	   *item_id = json_is_object(options) ? json_object_get(options, "item_id") : NULL;
	json_t	   *tax_id = json_is_object(options) ? json_object_get(options, "tax_id") : NULL;
	size_t		i;
	json_t	   *node;

	/* no fixed tax: the tax the Togai taxes map to, if any (togai_zoho.invoice_tax_plans) */
	if (!json_is_string(tax_id) && json_is_object(context))
		tax_id = json_object_get(context, "tax_id");

	json_array_foreach(lines, i, node)
	{
		const char *name = json_string_value(json_object_get(node, "name"));
		char	   *item = line_item_name(node);
		const char *found = json_is_object(items) ?
			json_string_value(json_object_get(items, item)) : NULL;
		bool		cut = false;

		if (name != NULL)
		{
			char	   *short_name = cut_text(name, TZ_ZOHO_MAX_NAME, &cut);
			const char *was = json_string_value(json_object_get(node, "description"));

			if (cut)
			{
				char	   *full = malloc(strlen(name) + (was ? strlen(was) : 0) + 3);

				sprintf(full, "%s%s%s", name, was ? "\n" : "", was ? was : "");
				json_object_set_new(node, "description", json_string(full));
				free(full);
			}
			json_object_set_new(node, "name", json_string(short_name));
			free(short_name);
		}
		json_object_del(node, "item");
		if (json_is_string(item_id))
			json_object_set(node, "item_id", item_id);
		else if (found)
			set_text(node, "item_id", found);
		free(item);
		if (json_is_string(tax_id))
			json_object_set(node, "tax_id", tax_id);
	}
	return lines;
}

json_t *
tz_invoice_body(const json_t *invoice, const char *contact_id, const json_t *options,
				const json_t *context, const json_t *items)
{
	char		buf[64];
	const char *reference = tz_invoice_reference(invoice, buf, sizeof(buf));
	json_t	   *body;
	json_t	   *d;
	json_t	   *adjustment = json_is_object(context) ? json_object_get(context, "adjustment") : NULL;
	json_t	   *field = json_is_object(options) ?
		json_object_get(options, "togai_id_customfield_id") : NULL;
	bool		capped;
	int			terms;

	if (reference == NULL || contact_id == NULL)
		return NULL;
	body = new_object();
	set_text(body, "customer_id", contact_id);
	set_text(body, "reference_number", reference);
	if (json_is_true(json_object_get(options, "use_togai_number")))
		set_text(body, "invoice_number", reference);
	if ((d = date_of(invoice, "invoice_date")) != NULL)
		json_object_set_new(body, "date", d);
	if ((d = date_of(invoice, "due_date")) != NULL)
		json_object_set_new(body, "due_date", d);
	terms = tz_payment_terms(invoice, NULL, &capped);
	if (terms >= 0)
		json_object_set_new(body, "payment_terms", json_integer(terms));
	json_object_set_new(body, "line_items", line_items(invoice, options, context, items));
	/* what the lines do not carry (discounts, credits, minimums) keeps the total exact */
	if (json_is_number(adjustment))
	{
		json_object_set(body, "adjustment", adjustment);
		set_text(body, "adjustment_description", "Discounts, credits and adjustments in Togai");
	}
	if (json_is_string(field))
		json_object_set_new(body, "custom_fields",
							json_pack("[{s:O, s:s}]", "customfield_id", field, "value", reference));
	return body;
}

const char *
tz_find_item(const json_t *answer, const char *name)
{
	return id_where(answer, "items", "item_id", "name", name, true);
}

json_t *
tz_item_body(const char *name, const json_t *options)
{
	json_t	   *account = json_is_object(options) ? json_object_get(options, "item_account_id") : NULL;
	json_t	   *body = json_pack("{s:s, s:i, s:s}", "name", name, "rate", 0,
								 "description", "Billed by Togai");

	if (json_is_string(account))
		json_object_set(body, "account_id", account);
	return body;
}

bool
tz_zoho_duplicate(long http_status, const json_t *answer)
{
	json_t	   *code = json_is_object(answer) ? json_object_get(answer, "code") : NULL;
	const char *message = json_is_object(answer) ?
		json_string_value(json_object_get(answer, "message")) : NULL;

	if (http_status != 400)
		return false;
	if (json_is_integer(code) && (json_integer_value(code) == 3062 ||
								  json_integer_value(code) == 1001))
		return true;
	return message != NULL && strstr(message, "already exists") != NULL;
}

const char *
tz_find_invoice(const json_t *answer, const char *reference, const char *contact_id)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "invoices") : NULL;
	size_t		i;
	json_t	   *inv;

	json_array_foreach(list, i, inv)
	{
		const char *id = json_string_value(json_object_get(inv, "invoice_id"));
		const char *ref = json_string_value(json_object_get(inv, "reference_number"));
		const char *customer = json_string_value(json_object_get(inv, "customer_id"));
		const char *status = json_string_value(json_object_get(inv, "status"));

		if (id == NULL || ref == NULL || strcmp(ref, reference) != 0)
			continue;
		/* ours only for our contact: the reference alone may be someone else's */
		if (customer == NULL || contact_id == NULL || strcmp(customer, contact_id) != 0)
			continue;
		if (status != NULL && strcmp(status, "void") == 0)
			continue;
		return id;
	}
	return NULL;
}

const char *
tz_created_id(const json_t *answer, const char *object, const char *id_key)
{
	json_t	   *obj = json_is_object(answer) ? json_object_get(answer, object) : NULL;
	const char *id = json_is_object(obj) ? json_string_value(json_object_get(obj, id_key)) : NULL;

	return (id != NULL && id[0] != '\0') ? id : NULL;
}

const char *
tz_find_currency(const json_t *answer, const char *code)
{
	return id_where(answer, "currencies", "currency_id", "currency_code", code, false);
}

json_t *
tz_write_back_body(const json_t *account, const char *key, const char *contact_id)
{
	json_t	   *metadata = json_is_object(account) ? json_object_get(account, "metadata") : NULL;
	const char *current = json_is_object(metadata) ?
		json_string_value(json_object_get(metadata, key)) : NULL;
	json_t	   *merged;

	if (current != NULL && strcmp(current, contact_id) == 0)
		return NULL;
	/* metadata replaces the whole map: keep every other key */
	merged = json_is_object(metadata) ? json_deep_copy(metadata) : new_object();
	json_object_set_new(merged, key, json_string(contact_id));
	return json_pack("{s:o}", "metadata", merged);
}

const char *
tz_togai_source_type(const char *payment_mode)
{
	static const char *const modes[][2] = {
		{"cash", "CASH"}, {"check", "CHEQUE"}, {"cheque", "CHEQUE"},
		{"bank transfer", "BANK_TRANSFER"}, {"bank remittance", "BANK_TRANSFER"},
		{"banktransfer", "BANK_TRANSFER"}, {"bankremittance", "BANK_TRANSFER"},
		{"ach", "BANK_TRANSFER"}, {"wire", "BANK_TRANSFER"}, {"autotransaction", "GATEWAY"},
		{"credit card", "CARD"}, {"creditcard", "CARD"}, {"debit card", "CARD"}, {"card", "CARD"}
	};

	for (size_t i = 0; payment_mode != NULL && i < sizeof(modes) / sizeof(modes[0]); i++)
	{
		if (strcasecmp(payment_mode, modes[i][0]) == 0)
			return modes[i][1];
	}
	return "GATEWAY";
}

json_t *
tz_payment_body(const json_t *context, const json_t *object, const json_t *options)
{
	json_t	   *records = json_is_object(context) ? json_object_get(context, "records") : NULL;
	json_t	   *amount = json_is_object(context) ? json_object_get(context, "amount") : NULL;
	const char *account_id = json_is_object(context) ?
		json_string_value(json_object_get(context, "account_id")) : NULL;
	const char *currency = json_is_object(context) ?
		json_string_value(json_object_get(context, "currency")) : NULL;
	const char *txn = json_is_object(context) ?
		json_string_value(json_object_get(context, "transaction")) : NULL;
	const char *type = json_string_value(json_object_get(options, "source_type"));
	const char *source = json_string_value(json_object_get(options, "source_name"));
	char		buf[64];
	char		number_buf[64];
	const char *number = tz_row_text(object, "payment_number", number_buf, sizeof(number_buf));
	const char *reference = tz_row_text(object, "reference_number", buf, sizeof(buf));
	json_t	   *ref;
	json_t	   *body;
	char		description[512];

	if (account_id == NULL || currency == NULL || txn == NULL || !json_is_number(amount) ||
		json_array_size(records) == 0)
		return NULL;
	ref = json_pack("{s:s, s:s, s:s}", "sourceName", source ? source : "Zoho Books",
					"sourceType", type ? type :
					tz_togai_source_type(json_string_value(json_object_get(object, "payment_mode"))),
					"transactionNumber", txn);
	if (reference != NULL)
		set_text(ref, "description", reference);
	snprintf(description, sizeof(description), "Zoho Books payment %s",
			 number ? number : txn);
	body = json_pack("{s:s, s:s, s:O, s:o, s:O, s:s}", "accountId", account_id,
					 "currency", currency, "totalAmount", amount,
					 "externalPaymentReference", ref, "lineItemRecords", records,
					 "description", description);
	return body;
}

/* The reference of a Togai payment: one object, or a list of them in older answers. */
static const char *
payment_transaction(const json_t *payment)
{
	json_t	   *refs = json_object_get(payment, "externalPaymentReferences");
	json_t	   *one = json_object_get(payment, "externalPaymentReference");

	if (json_is_array(refs))
		refs = json_array_get(refs, 0);
	if (!json_is_object(refs))
		refs = one;
	return json_is_object(refs) ? json_string_value(json_object_get(refs, "transactionNumber")) : NULL;
}

const char *
tz_find_payment(const json_t *answer, const char *transaction)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "data") : NULL;
	size_t		i;
	json_t	   *p;

	json_array_foreach(list, i, p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *txn = payment_transaction(p);

		if (id != NULL && txn != NULL && strcmp(txn, transaction) == 0)
			return id;
	}
	return NULL;
}

const char *
tz_next_token(const json_t *answer)
{
	const char *t = json_is_object(answer) ?
		json_string_value(json_object_get(answer, "nextToken")) : NULL;

	return (t != NULL && t[0] != '\0') ? t : NULL;
}

json_t *
tz_account_update_body(const json_t *contact)
{
	static const char *const pairs[][2] = {
		{"address", "line1"}, {"street2", "line2"}, {"city", "city"}, {"state", "state"},
		{"zip", "postalCode"}, {"country", "country"}, {"phone", "phoneNumber"}
	};
	json_t	   *body = new_object();
	json_t	   *billing = json_object_get(contact, "billing_address");
	json_t	   *address = new_object();
	char		buf[64];
	const char *v;

	set_text(body, "name", tz_row_text(contact, "contact_name", buf, sizeof(buf)));
	/* a whole contact has its email on its primary person */
	set_text(body, "primaryEmail", tz_row_text(contact, "email", buf, sizeof(buf)) ?:
			 tz_row_text(primary_person(contact), "email", buf, sizeof(buf)));
	for (size_t i = 0; json_is_object(billing) && i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if ((v = tz_row_text(billing, pairs[i][0], buf, sizeof(buf))) != NULL)
			set_text(address, pairs[i][1], v);
	if (json_object_size(address) > 0)
		json_object_set_new(body, "address", address);
	else
		json_decref(address);
	if (json_object_size(body) == 0)
	{
		json_decref(body);
		return NULL;
	}
	return body;
}

json_t *
tz_zoho_payment_body(const json_t *planned, const char *contact_id, const json_t *options)
{
	json_t	   *body = json_is_object(planned) ? json_object_get(planned, "body") : NULL;
	const char *mode = json_string_value(json_object_get(options, "payment_mode"));
	const char *deposit = json_string_value(json_object_get(options, "deposit_account_id"));

	/* a payment applied to no invoice is a customer advance: its amount must say so */
	if (!json_is_object(body) || contact_id == NULL ||
		(json_array_size(json_object_get(body, "invoices")) == 0 &&
		 !(json_is_number(json_object_get(body, "amount")) &&
		   json_number_value(json_object_get(body, "amount")) > 0)))
		return NULL;
	body = json_deep_copy(body);
	json_object_set_new(body, "customer_id", json_string(contact_id));
	set_text(body, "payment_mode", mode);
	set_text(body, "account_id", deposit);
	return body;
}

json_t *
tz_zoho_payment_candidates(const json_t *answer)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "customerpayments") : NULL;
	json_t	   *ids = json_array();
	size_t		i;
	json_t	   *p;

	/* Zoho's description names the list customer_payments; its SDKs read customerpayments */
	if (list == NULL && json_is_object(answer))
		list = json_object_get(answer, "customer_payments");
	json_array_foreach(list, i, p)
	{
		json_t	   *id = json_object_get(p, "payment_id");

		if (json_is_string(id))
			json_array_append(ids, id);
	}
	return ids;
}

bool
tz_zoho_payment_is(const json_t *payment, const char *reference, const char *contact_id)
{
	char		ref_buf[128];
	char		customer_buf[64];
	const char *ref = tz_row_text(payment, "reference_number", ref_buf, sizeof(ref_buf));
	const char *customer = tz_row_text(payment, "customer_id", customer_buf, sizeof(customer_buf));

	return ref != NULL && reference != NULL && strcmp(ref, reference) == 0 &&
		(contact_id == NULL || customer == NULL || strcmp(customer, contact_id) == 0);
}

json_t *
tz_find_exchange_rate(const json_t *answer, const char *date, const char **effective)
{
	json_t	   *list = json_is_object(answer) ? json_object_get(answer, "exchange_rates") : NULL;
	json_t	   *best = NULL;
	const char *best_date = NULL;
	size_t		i;
	json_t	   *e;

	json_array_foreach(list, i, e)
	{
		json_t	   *rate = json_object_get(e, "rate");
		const char *day = json_string_value(json_object_get(e, "effective_date"));

		if (!json_is_number(rate) || json_number_value(rate) <= 0 || day == NULL ||
			(date != NULL && strncmp(day, date, 10) > 0))
			continue;
		if (best_date == NULL || strncmp(day, best_date, 10) > 0)
		{
			best = rate;
			best_date = day;
		}
	}
	if (effective)
		*effective = best_date;
	return best;
}
