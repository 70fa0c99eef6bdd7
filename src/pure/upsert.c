/*-------------------------------------------------------------------------
 *
 * upsert.c
 *	  The unique custom field in create bodies, and the probe's verdict.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "upsert.h"

/* Whether text is digits only (an index or a customfield_id). */
static bool
all_digits(const char *text)
{
	if (text == NULL || *text == '\0')
		return false;
	for (const char *c = text; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	return true;
}

json_t *
tz_upsert_field_entry(const char *entity, const char *body_field, const char *value)
{
	bool		digits = all_digits(body_field);

	if (entity == NULL || body_field == NULL || *body_field == '\0' || value == NULL)
		return NULL;
	if (strcmp(entity, "contact") == 0)
		return digits ?
			json_pack("{s:I, s:s}", "index", (json_int_t) strtol(body_field, NULL, 10), "value", value) :
			json_pack("{s:s, s:s}", "label", body_field, "value", value);
	if (strcmp(entity, "invoice") == 0 || strcmp(entity, "credit_note") == 0 ||
		(strcmp(entity, "payment") == 0 && digits))
		return json_pack("{s:s, s:s}", "customfield_id", body_field, "value", value);
	if (strcmp(entity, "payment") == 0)
		return json_pack("{s:s, s:s}", "label", body_field, "value", value);
	return NULL;
}

/* Whether two entries address the same field: the same key with the same value. */
static bool
same_field(const json_t *a, const json_t *b)
{
	static const char *const keys[] = {"index", "customfield_id", "label"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
	{
		json_t	   *x = json_object_get(a, keys[i]);
		json_t	   *y = json_object_get(b, keys[i]);

		if (x != NULL || y != NULL)
			return x != NULL && y != NULL && json_equal(x, y);
	}
	return false;
}

void
tz_upsert_set_field(json_t *body, json_t *entry)
{
	json_t	   *fields;
	size_t		i;
	json_t	   *f;

	if (!json_is_object(body) || entry == NULL)
	{
		json_decref(entry);
		return;
	}
	fields = json_object_get(body, "custom_fields");
	if (!json_is_array(fields))
	{
		json_object_set_new(body, "custom_fields", json_pack("[o]", entry));
		return;
	}
	json_array_foreach(fields, i, f)
		if (same_field(f, entry))
		{
			json_array_set_new(fields, i, entry);
			return;
		}
	json_array_append_new(fields, entry);
}

void
tz_upsert_credit_note_lines(json_t *body, const char *invoice_id)
{
	json_t	   *lines = json_object_get(body, "line_items");
	size_t		i;
	json_t	   *line;

	if (invoice_id == NULL)
		return;
	json_array_foreach(lines, i, line)
		if (json_is_object(line))
		json_object_set_new(line, "invoice_id", json_string(invoice_id));
}

bool
tz_upsert_probe_usable(long http_status, const json_t *answer)
{
	json_t	   *code = json_is_object(answer) ? json_object_get(answer, "code") : NULL;

	if (http_status == 404)
		return true;
	return http_status >= 400 && json_is_integer(code) && json_integer_value(code) == 1002;
}
