/*
 * test_upsert.c
 *	  Unit tests of Zoho Books' upsert by a unique custom field
 *	  (src/pure/upsert.c): the field's entry in each module's body, an entry
 *	  replaced rather than repeated, credit note lines naming their invoice,
 *	  and the probe's verdict.
 */
#include <stdio.h>
#include <string.h>

#include "upsert.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static json_t *
parse(const char *text)
{
	json_error_t err;

	return json_loads(text, 0, &err);
}

/* Whether the entry equals the JSON text. */
static bool
is(json_t *entry, const char *text)
{
	json_t	   *want = parse(text);
	bool		same = entry != NULL && want != NULL && json_equal(entry, want);

	json_decref(want);
	json_decref(entry);
	return same;
}

static void
test_entries(void)
{
	CHECK(is(tz_upsert_field_entry("contact", "3", "acc.1"), "{\"index\": 3, \"value\": \"acc.1\"}"));
	CHECK(is(tz_upsert_field_entry("contact", "Togai ID", "acc.1"),
			 "{\"label\": \"Togai ID\", \"value\": \"acc.1\"}"));
	CHECK(is(tz_upsert_field_entry("invoice", "46000000012845", "INV-1"),
			 "{\"customfield_id\": \"46000000012845\", \"value\": \"INV-1\"}"));
	CHECK(is(tz_upsert_field_entry("credit_note", "46000000012846", "INV-1 refund"),
			 "{\"customfield_id\": \"46000000012846\", \"value\": \"INV-1 refund\"}"));
	CHECK(is(tz_upsert_field_entry("payment", "46000000012847", "pay.1"),
			 "{\"customfield_id\": \"46000000012847\", \"value\": \"pay.1\"}"));
	CHECK(is(tz_upsert_field_entry("payment", "Togai ID", "pay.1"),
			 "{\"label\": \"Togai ID\", \"value\": \"pay.1\"}"));
	CHECK(tz_upsert_field_entry("item", "1", "x") == NULL);
	CHECK(tz_upsert_field_entry("contact", "", "x") == NULL);
	CHECK(tz_upsert_field_entry("contact", "1", NULL) == NULL);
	CHECK(tz_upsert_field_entry(NULL, "1", "x") == NULL);
}

static void
test_set_field(void)
{
	json_t	   *body = parse("{\"contact_name\": \"A\"}");
	json_t	   *want;

	tz_upsert_set_field(body, tz_upsert_field_entry("contact", "2", "acc.1"));
	want = parse("{\"contact_name\": \"A\", \"custom_fields\": [{\"index\": 2, \"value\": \"acc.1\"}]}");
	CHECK(json_equal(body, want));
	json_decref(want);
	json_decref(body);

	/* the flow's option names the same field: one entry, ours */
	body = parse("{\"custom_fields\": [{\"customfield_id\": \"9\", \"value\": \"old\"},"
				 " {\"customfield_id\": \"8\", \"value\": \"kept\"}]}");
	tz_upsert_set_field(body, tz_upsert_field_entry("invoice", "9", "INV-1"));
	want = parse("{\"custom_fields\": [{\"customfield_id\": \"9\", \"value\": \"INV-1\"},"
				 " {\"customfield_id\": \"8\", \"value\": \"kept\"}]}");
	CHECK(json_equal(body, want));
	json_decref(want);

	/* another field, or another way of naming one: added */
	tz_upsert_set_field(body, tz_upsert_field_entry("payment", "Togai ID", "p"));
	CHECK(json_array_size(json_object_get(body, "custom_fields")) == 3);
	json_decref(body);

	/* nothing to set, or no body: nothing leaks */
	tz_upsert_set_field(NULL, tz_upsert_field_entry("contact", "2", "acc.1"));
	body = parse("{}");
	tz_upsert_set_field(body, NULL);
	CHECK(json_object_size(body) == 0);
	json_decref(body);
}

static void
test_credit_note_lines(void)
{
	json_t	   *body = parse("{\"line_items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}");

	tz_upsert_credit_note_lines(body, "460000000000123");
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(body, "line_items"), 1),
												   "invoice_id")), "460000000000123") == 0);
	tz_upsert_credit_note_lines(body, NULL);
	json_decref(body);
}

static void
test_probe(void)
{
	json_t	   *missing = parse("{\"code\": 1002, \"message\": \"Invoice does not exist.\"}");
	json_t	   *invalid = parse("{\"code\": 2, \"message\": \"Invalid value passed for X-Unique-Identifier-Key\"}");

	CHECK(tz_upsert_probe_usable(404, missing));
	CHECK(tz_upsert_probe_usable(404, NULL));
	CHECK(tz_upsert_probe_usable(400, missing));
	CHECK(!tz_upsert_probe_usable(400, invalid));
	CHECK(!tz_upsert_probe_usable(200, missing));
	CHECK(!tz_upsert_probe_usable(401, invalid));
	CHECK(!tz_upsert_probe_usable(500, NULL));
	json_decref(missing);
	json_decref(invalid);
}

int
main(void)
{
	test_entries();
	test_set_field();
	test_credit_note_lines();
	test_probe();
	printf("test_upsert: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
