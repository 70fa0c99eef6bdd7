/*
 * test_credit_note.c
 *	  Unit tests of a refund's credit note (src/pure/credit_note.c): amounts
 *	  in minor units, the credit note found by reference, its body from the
 *	  invoice, and how its balance splits between the invoice and the refund.
 */
#include <stdio.h>
#include <string.h>

#include "credit_note.h"

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

static void
test_minor_units(void)
{
	json_t	   *v;
	long long	m = -1;

	v = json_real(80.4);
	CHECK(tz_minor_units(v, 2, &m) && m == 8040);
	json_decref(v);
	v = json_real(0.1 + 0.2);	/* 0.30000000000000004 */
	CHECK(tz_minor_units(v, 2, &m) && m == 30);
	json_decref(v);
	v = json_string("12.345");
	CHECK(tz_minor_units(v, 3, &m) && m == 12345);
	json_decref(v);
	v = json_integer(1500);
	CHECK(tz_minor_units(v, 0, &m) && m == 1500);
	json_decref(v);
	v = json_string("12 EUR");
	CHECK(!tz_minor_units(v, 2, &m));
	json_decref(v);
	v = json_real(1e300);
	CHECK(!tz_minor_units(v, 2, &m));
	json_decref(v);
	CHECK(!tz_minor_units(NULL, 2, &m));
	{
		char		text[40];

		tz_money_text(8040, 2, text, sizeof(text));
		CHECK(strcmp(text, "80.40") == 0);
		tz_money_text(-5, 2, text, sizeof(text));
		CHECK(strcmp(text, "-0.05") == 0);
		tz_money_text(1500, 0, text, sizeof(text));
		CHECK(strcmp(text, "1500") == 0);
		tz_money_text(12345, 3, text, sizeof(text));
		CHECK(strcmp(text, "12.345") == 0);
	}
	v = tz_money_json(8040, 2);
	CHECK(json_is_real(v) && json_real_value(v) == 80.4);
	json_decref(v);
	v = tz_money_json(1500, 0);
	CHECK(json_is_integer(v) && json_integer_value(v) == 1500);
	json_decref(v);
}

static void
test_find(void)
{
	json_t	   *a = parse("{\"creditnotes\": ["
						  "{\"creditnote_id\": \"1\", \"reference_number\": \"Refund INV-7\", \"customer_id\": \"c2\", \"status\": \"open\"},"
						  "{\"creditnote_id\": \"2\", \"reference_number\": \"Refund INV-7\", \"customer_id\": \"c1\", \"status\": \"void\"},"
						  "{\"creditnote_id\": \"3\", \"reference_number\": \"Refund INV-77\", \"customer_id\": \"c1\"},"
						  "{\"creditnote_id\": 4, \"reference_number\": \"Refund INV-7\", \"customer_id\": \"c1\"},"
						  "{\"creditnote_id\": \"5\", \"reference_number\": \"Refund INV-7\", \"customer_id\": \"c1\", \"status\": \"closed\"}]}");
	char		ref[64];

	tz_refund_reference("INV-7", ref, sizeof(ref));
	CHECK(strcmp(ref, "Refund INV-7") == 0);
	/* another contact's, a void one, a longer reference and a numeric id are not it */
	CHECK(strcmp(json_string_value(json_object_get(tz_find_credit_note(a, ref, "c1"),
												   "creditnote_id")), "5") == 0);
	CHECK(tz_find_credit_note(a, "Refund INV-8", "c1") == NULL);
	CHECK(tz_find_credit_note(a, NULL, "c1") == NULL);
	CHECK(tz_find_credit_note(NULL, ref, "c1") == NULL);
	json_decref(a);

	a = parse("{\"creditnote_refunds\": [{\"amount\": 20.1}, {\"amount\": \"5.05\"}, {\"amount\": -3}, {}]}");
	CHECK(tz_refunded(a, 2) == 2515);
	json_decref(a);
	CHECK(tz_refunded(NULL, 2) == 0);
}

static void
test_body(void)
{
	json_t	   *inv = parse("{\"invoice_id\": \"i1\", \"customer_id\": \"c1\", \"total\": 120, \"adjustment\": 0,"
							" \"exchange_rate\": 1.08, \"line_items\": ["
							"{\"item_id\": \"it1\", \"name\": \"Seats\", \"quantity\": 2, \"rate\": 50, \"tax_id\": \"t1\","
							" \"line_item_id\": \"l1\", \"item_total\": 100}]}");
	bool		one_line = true;
	char		ref[64];
	json_t	   *b = tz_credit_note_body(inv, "Refund INV-7", "2026-12-04", &one_line);
	json_t	   *line = json_array_get(json_object_get(b, "line_items"), 0);

	CHECK(!one_line);
	CHECK(strcmp(json_string_value(json_object_get(b, "customer_id")), "c1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(b, "reference_number")), "Refund INV-7") == 0);
	CHECK(strcmp(json_string_value(json_object_get(b, "date")), "2026-12-04") == 0);
	CHECK(json_real_value(json_object_get(b, "exchange_rate")) == 1.08);
	/* what was sold, its price and tax; not the invoice's own line ids */
	CHECK(strcmp(json_string_value(json_object_get(line, "item_id")), "it1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(line, "tax_id")), "t1") == 0);
	CHECK(json_integer_value(json_object_get(line, "rate")) == 50);
	CHECK(json_object_get(line, "line_item_id") == NULL && json_object_get(line, "item_total") == NULL);
	json_decref(b);

	/* an adjustment (discounts, credits): one line of the total */
	json_object_set_new(inv, "adjustment", json_real(-10.5));
	b = tz_credit_note_body(inv, "Refund INV-7", NULL, &one_line);
	line = json_array_get(json_object_get(b, "line_items"), 0);
	CHECK(one_line && json_array_size(json_object_get(b, "line_items")) == 1);
	CHECK(json_integer_value(json_object_get(line, "rate")) == 120);
	CHECK(json_object_get(line, "tax_id") == NULL && json_object_get(b, "date") == NULL);
	json_decref(b);

	/* prepaid credits: one line of their amount, for the invoice's customer */
	b = tz_credits_note_body(inv, 3000, 2, "Credits INV-7", "2026-12-04");
	line = json_array_get(json_object_get(b, "line_items"), 0);
	CHECK(json_real_value(json_object_get(line, "rate")) == 30.0);
	CHECK(strcmp(json_string_value(json_object_get(b, "customer_id")), "c1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(b, "reference_number")), "Credits INV-7") == 0);
	json_decref(b);
	CHECK(tz_credits_note_body(inv, 0, 2, "r", "d") == NULL);
	tz_credits_reference("INV-7", ref, sizeof(ref));
	CHECK(strcmp(ref, "Credits INV-7") == 0);

	json_object_del(inv, "total");
	CHECK(tz_credit_note_body(inv, "r", "d", &one_line) == NULL);
	json_decref(inv);

	b = tz_credit_apply_body("i1", 10000, 2);
	CHECK(json_real_value(json_object_get(json_array_get(json_object_get(b, "invoices"), 0),
										  "amount_applied")) == 100.0);
	json_decref(b);
	{
		json_t	   *opts = parse("{\"refund_mode\": \"banktransfer\", \"from_account_id\": \"a9\"}");

		b = tz_credit_refund_body(2010, 2, "2026-12-04", "Refund INV-7", opts);
		CHECK(json_real_value(json_object_get(b, "amount")) == 20.1);
		CHECK(strcmp(json_string_value(json_object_get(b, "refund_mode")), "banktransfer") == 0);
		CHECK(strcmp(json_string_value(json_object_get(b, "from_account_id")), "a9") == 0);
		json_decref(b);
		json_decref(opts);
		b = tz_credit_refund_body(2010, 2, NULL, NULL, NULL);
		CHECK(strcmp(json_string_value(json_object_get(b, "refund_mode")), "others") == 0);
		CHECK(json_object_get(b, "from_account_id") == NULL && json_object_get(b, "date") == NULL);
		json_decref(b);
	}
}

static void
test_split(void)
{
	long long	apply;
	long long	refund;

	/* paid in full: all refunded */
	tz_refund_split(8040, 0, 8040, 0, &apply, &refund);
	CHECK(apply == 0 && refund == 8040);
	/* partly paid: the rest applied first, the paid refunded */
	tz_refund_split(12000, 10000, 2000, 0, &apply, &refund);
	CHECK(apply == 10000 && refund == 2000);
	tz_refund_split(2000, 0, 2000, 0, &apply, &refund);
	CHECK(apply == 0 && refund == 2000);
	/* a repeat after the refund: nothing more */
	tz_refund_split(0, 0, 2000, 2000, &apply, &refund);
	CHECK(apply == 0 && refund == 0);
	/* refunded already (a lost answer): only the rest is applied */
	tz_refund_split(10000, 10000, 2000, 2000, &apply, &refund);
	CHECK(apply == 10000 && refund == 0);
	/* unpaid: all applied, nothing refunded */
	tz_refund_split(5000, 5000, 0, 0, &apply, &refund);
	CHECK(apply == 5000 && refund == 0);
	/* a written-off rest: the credit beyond what is owed and paid stays */
	tz_refund_split(10000, 0, 3000, 0, &apply, &refund);
	CHECK(apply == 0 && refund == 3000);
	/* a credit note smaller than what was paid refunds its balance only */
	tz_refund_split(1000, 0, 3000, 0, &apply, &refund);
	CHECK(apply == 0 && refund == 1000);
}

static void
test_advances(void)
{
	json_t	   *payment = parse("{\"payment_id\": \"9\", \"unused_amount\": 30.5, \"invoices\": ["
									 "{\"invoice_id\": \"1\", \"amount_applied\": 10},"
									 "{\"invoice_id\": \"2\", \"amount_applied\": 20.25},"
									 "{\"invoice_id\": \"2\", \"amount_applied\": \"4.75\"}]}");
	json_t	   *bare = parse("{\"payment_id\": \"9\"}");
	long long	unused = -1;
	long long	here = -1;
	long long	take[3];
	long long	unused3[3] = {500, 0, 2000};
	json_t	   *ids = parse("[\"7\", \"8\", \"9\"]");
	json_t	   *body;
	char	   *text;

	/* what is unused, and what it applied to this invoice (two applications) */
	CHECK(tz_advance_read(payment, "2", 2, &unused, &here));
	CHECK(unused == 3050 && here == 2500);
	CHECK(tz_advance_read(payment, "3", 2, &unused, &here) && here == 0);
	/* an answer without its unused amount is no answer */
	CHECK(!tz_advance_read(bare, "2", 2, &unused, &here));
	CHECK(!tz_advance_read(NULL, "2", 2, &unused, &here));

	/* oldest first, each at most its unused part */
	CHECK(tz_advance_split(unused3, 3, 1800, take) == 1800);
	CHECK(take[0] == 500 && take[1] == 0 && take[2] == 1300);
	CHECK(tz_advance_split(unused3, 3, 9000, take) == 2500 && take[2] == 2000);
	CHECK(tz_advance_split(unused3, 3, 0, take) == 0 && take[0] == 0 && take[2] == 0);

	/* the body names the advances used, and no credit note */
	tz_advance_split(unused3, 3, 1800, take);
	body = tz_advance_apply_body(ids, take, 2);
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(strcmp(text, "{\"apply_creditnotes\":[],\"invoice_payments\":[{\"amount_applied\":5.0,"
				 "\"payment_id\":\"7\"},{\"amount_applied\":13.0,\"payment_id\":\"9\"}]}") == 0);
	free(text);
	json_decref(body);
	json_decref(payment);
	json_decref(bare);
	json_decref(ids);
}

int
main(void)
{
	test_minor_units();
	test_find();
	test_body();
	test_split();
	test_advances();
	printf("credit_note: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
