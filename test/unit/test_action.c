/*
 * test_action.c
 *	  Unit tests of the action bodies and finders (src/action.c), run without
 *	  a server and under valgrind by make test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static json_t *
parse(const char *text)
{
	return json_loads(text, 0, NULL);
}

/* The body as compact JSON text contains the fragment. */
static int
body_has(json_t *body, const char *fragment)
{
	char	   *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_SORT_KEYS);
	int			found = text && strstr(text, fragment) != NULL;

	if (!found)
		printf("  %s not in %s\n", fragment, text ? text : "(null)");
	free(text);
	return found;
}

static void
test_kinds_and_text(void)
{
	json_t	   *row = parse("{\"s\": \"x\", \"i\": 42, \"r\": 123.45, \"n\": null, \"e\": \"\", \"o\": {}}");
	char		buf[64];

	CHECK(tz_action_kind("contact_upsert") == TZ_ACTION_CONTACT_UPSERT);
	CHECK(tz_action_kind("invoice_create") == TZ_ACTION_INVOICE_CREATE);
	CHECK(tz_action_kind("invoice_void") == TZ_ACTION_INVOICE_VOID);
	CHECK(tz_action_kind("contact_delete") == TZ_ACTION_UNSUPPORTED);
	CHECK(strcmp(tz_action_maps(TZ_ACTION_CONTACT_UPSERT), "account") == 0);
	CHECK(strcmp(tz_action_maps(TZ_ACTION_INVOICE_CREATE), "invoice") == 0);
	CHECK(tz_action_maps(TZ_ACTION_INVOICE_VOID) == NULL);

	CHECK(strcmp(tz_row_text(row, "s", buf, sizeof(buf)), "x") == 0);
	CHECK(strcmp(tz_row_text(row, "i", buf, sizeof(buf)), "42") == 0);
	CHECK(strcmp(tz_row_text(row, "r", buf, sizeof(buf)), "123.45") == 0);
	CHECK(tz_row_text(row, "n", buf, sizeof(buf)) == NULL);
	CHECK(tz_row_text(row, "e", buf, sizeof(buf)) == NULL);
	CHECK(tz_row_text(row, "o", buf, sizeof(buf)) == NULL);
	CHECK(tz_row_text(row, "missing", buf, sizeof(buf)) == NULL);
	CHECK(tz_row_text(NULL, "s", buf, sizeof(buf)) == NULL);
	json_decref(row);
}

static void
test_contact(void)
{
	json_t	   *row = parse("{\"account_id\": \"acc.1\", \"customer_id\": \"cus.1\", \"name\": \"Acme Main\","
							" \"customer_name\": \"Acme Inc\", \"primary_email\": \"b@acme.example\","
							" \"net_term_days\": 30, \"address\": {\"line1\": \"1 Market St\", \"city\": \"SF\","
							" \"postalCode\": \"94105\", \"country\": \"US\"}}");
	json_t	   *options = parse("{\"contact_name_field\": \"customer_name\", \"togai_id_custom_field\": \"cf_togai_id\","
								" \"payment_terms\": 15, \"customer_sub_type\": \"individual\"}");
	json_t	   *by_index = parse("{\"togai_id_custom_field\": \"3\", \"payment_terms\": 120,"
								 " \"contact_name_pattern\": \"{name} / {account_id}\"}");
	json_t	   *current = parse("{\"contact_name\": \"Acme Main (acc.1)\", \"contact_persons\": ["
								" {\"contact_person_id\": \"p2\", \"is_primary_contact\": false},"
								" {\"contact_person_id\": \"p1\", \"is_primary_contact\": true}]}");
	bool		capped;
	char	   *name;
	json_t	   *nameless = parse("{\"account_id\": \"acc.2\"}");
	json_t	   *body = tz_contact_body(row, NULL, NULL, NULL, false);

	CHECK(body != NULL);
	CHECK(body_has(body, "\"contact_name\":\"Acme Main\""));
	CHECK(body_has(body, "\"company_name\":\"Acme Inc\""));
	CHECK(body_has(body, "\"contact_type\":\"customer\""));
	CHECK(body_has(body, "\"customer_sub_type\":\"business\""));
	CHECK(body_has(body, "\"payment_terms\":30"));
	CHECK(body_has(body, "\"notes\":\"Togai account acc.1 (customer cus.1)\""));
	CHECK(!body_has(body, "currency_id"));
	CHECK(body_has(body, "\"email\":\"b@acme.example\""));
	CHECK(body_has(body, "\"is_primary_contact\":true"));
	CHECK(body_has(body, "\"address\":\"1 Market St\""));
	CHECK(body_has(body, "\"zip\":\"94105\""));
	json_decref(body);

	body = tz_contact_body(row, options, "4600042", NULL, false);
	CHECK(body_has(body, "\"currency_id\":\"4600042\""));
	CHECK(body_has(body, "\"contact_name\":\"Acme Inc\""));
	/* contacts take custom fields by label or index, never by api_name */
	CHECK(body_has(body, "\"custom_fields\":[{\"label\":\"cf_togai_id\",\"value\":\"acc.1\"}]"));
	CHECK(body_has(body, "\"payment_terms\":15"));
	CHECK(body_has(body, "\"customer_sub_type\":\"individual\""));
	json_decref(body);

	/* a distinct name, terms capped at 100, the custom field by index */
	body = tz_contact_body(row, by_index, NULL, NULL, true);
	CHECK(body_has(body, "\"contact_name\":\"Acme Main / acc.1\""));
	CHECK(body_has(body, "\"company_name\":\"Acme Inc\""));
	CHECK(body_has(body, "\"payment_terms\":100"));
	CHECK(body_has(body, "\"custom_fields\":[{\"index\":3,\"value\":\"acc.1\"}]"));
	json_decref(body);
	CHECK(tz_payment_terms(row, by_index, &capped) == 100 && capped);
	CHECK(tz_payment_terms(row, NULL, &capped) == 30 && !capped);
	name = tz_contact_name(row, NULL, true);
	CHECK(strcmp(name, "Acme Main (acc.1)") == 0);
	free(name);

	/* an update keeps the primary person's id and a distinct name it has */
	body = tz_contact_body(row, NULL, NULL, current, false);
	CHECK(body_has(body, "\"contact_name\":\"Acme Main (acc.1)\""));
	CHECK(body_has(body, "\"contact_person_id\":\"p1\""));
	CHECK(!body_has(body, "p2"));
	json_decref(body);

	CHECK(tz_contact_body(nameless, NULL, NULL, NULL, false) == NULL);
	CHECK(tz_contact_body(NULL, NULL, NULL, NULL, false) == NULL);
	json_decref(row);
	json_decref(options);
	json_decref(by_index);
	json_decref(current);
	json_decref(nameless);
}

static void
test_find_contact(void)
{
	json_t	   *answer = parse("{\"contacts\": ["
							   " {\"contact_id\": \"9\", \"contact_name\": \"X\"},"
							   " {\"contact_id\": \"7\", \"contact_name\": \"Acme\"}, 3, \"x\", {\"contact_id\": 5}]}");
	json_t	   *ours = parse("{\"contact_id\": \"7\", \"notes\": \"Togai account acc.1 (customer c)\"}");
	json_t	   *dotted = parse("{\"contact_id\": \"7\", \"notes\": \"Togai account acc.1.5\"}");
	json_t	   *ended = parse("{\"contact_id\": \"7\", \"notes\": \"Made for Togai account acc.1. Thanks\"}");
	json_t	   *fielded = parse("{\"contact_id\": \"8\", \"custom_fields\": [{\"index\": 2, \"label\": \"Togai\", \"value\": \"acc.5\"}]}");
	json_t	   *by_index = parse("{\"togai_id_custom_field\": \"2\"}");
	json_t	   *by_label = parse("{\"togai_id_custom_field\": \"Togai\"}");
	json_t	   *garbage = parse("{\"contacts\": {\"a\": 1}}");
	json_t	   *c = tz_contact_candidates(answer, "Acme", NULL);
	char		text[128];

	/* candidates: every listed id, the one named like ours first; confirmed only by reading */
	CHECK(json_array_size(c) == 2);
	CHECK(strcmp(json_string_value(json_array_get(c, 0)), "7") == 0);
	json_decref(c);
	c = tz_contact_candidates(garbage, "Acme", NULL);
	CHECK(json_array_size(c) == 0);
	json_decref(c);
	CHECK(tz_contact_is_ours(ours, "acc.1", NULL));
	CHECK(!tz_contact_is_ours(ours, "acc.10", NULL));
	CHECK(!tz_contact_is_ours(dotted, "acc.1", NULL));	/* acc.1.5 is another account */
	CHECK(tz_contact_is_ours(ended, "acc.1", NULL));
	CHECK(!tz_contact_is_ours(fielded, "acc.5", NULL));
	CHECK(tz_contact_is_ours(fielded, "acc.5", by_index));
	CHECK(tz_contact_is_ours(fielded, "acc.5", by_label));
	CHECK(!tz_contact_is_ours(NULL, "acc.1", NULL));
	CHECK(!tz_contact_is_ours(answer, "acc.1", NULL));	/* a name never identifies a contact */
	tz_contact_search_text("acc.1", text, sizeof(text));
	CHECK(strcmp(text, "acc.1") == 0);
	json_decref(answer);
	json_decref(ours);
	json_decref(dotted);
	json_decref(ended);
	json_decref(fielded);
	json_decref(by_index);
	json_decref(by_label);
	json_decref(garbage);
}

/* Items by line name, names cut to 100 characters with the whole text in the description. */
static void
test_invoice_items(const json_t *inv)
{
	char		long_name[200];
	char		context_text[400];
	json_t	   *context;
	json_t	   *items = parse("{\"Platform fee\": \"it.9\"}");
	json_t	   *names;
	json_t	   *body;
	json_t	   *line;

	memset(long_name, 'n', 150);
	long_name[150] = '\0';
	snprintf(context_text, sizeof(context_text),
			 "{\"lines\": [{\"name\": \"%s\", \"description\": \"d\", \"quantity\": 1, \"rate\": 1},"
			 " {\"name\": \"Platform fee\", \"quantity\": 1, \"rate\": 49}]}", long_name);
	context = parse(context_text);
	names = tz_invoice_item_names(inv, NULL, context);
	CHECK(json_array_size(names) == 2);
	CHECK(strlen(json_string_value(json_array_get(names, 0))) == 100);
	json_decref(names);
	body = tz_invoice_body(inv, "c1", NULL, context, items);
	line = json_array_get(json_object_get(body, "line_items"), 0);
	CHECK(strlen(json_string_value(json_object_get(line, "name"))) == 100);
	CHECK(strncmp(json_string_value(json_object_get(line, "description")), long_name, 150) == 0);
	CHECK(json_object_get(line, "item_id") == NULL);	/* not known yet */
	CHECK(json_object_get(line, "item") == NULL);
	line = json_array_get(json_object_get(body, "line_items"), 1);
	CHECK(strcmp(json_string_value(json_object_get(line, "item_id")), "it.9") == 0);
	json_decref(body);
	/* the one line for a whole invoice bills one item */
	names = tz_invoice_item_names(inv, NULL, NULL);
	CHECK(strcmp(json_string_value(json_array_get(names, 0)), "Togai invoice") == 0);
	json_decref(names);
	json_decref(context);
	json_decref(items);
}

static void
test_invoice(void)
{
	json_t	   *inv = parse("{\"invoice_id\": \"inv.1\", \"sequence_id\": \"INV-1\", \"total_amount\": 123.45,"
							" \"invoice_date\": \"2026-11-01T00:00:00+00:00\", \"due_date\": \"2026-12-01T00:00:00+00:00\"}");
	json_t	   *lines = parse("{\"invoice_id\": \"inv.2\", \"net_term_days\": 15}");
	json_t	   *context = parse("{\"lines\": [{\"name\": \"API calls\", \"quantity\": 1500, \"rate\": 0.02},"
								" {\"name\": \"Platform fee\", \"quantity\": 1, \"rate\": 49}, 7],"
								" \"adjustment\": -0.05}");
	json_t	   *options = parse("{\"item_id\": \"it.1\", \"tax_id\": \"tx.1\"}");
	json_t	   *found = parse("{\"invoices\": ["
							  " {\"invoice_id\": \"1\", \"reference_number\": \"INV-1\", \"customer_id\": \"c2\"},"
							  " {\"invoice_id\": \"2\", \"reference_number\": \"INV-1\", \"customer_id\": \"c1\", \"status\": \"void\"},"
							  " {\"invoice_id\": \"3\", \"reference_number\": \"INV-1\", \"customer_id\": \"c1\"}]}");
	json_t	   *created = parse("{\"code\": 0, \"invoice\": {\"invoice_id\": \"77\"}}");
	char		buf[64];
	json_t	   *body;

	CHECK(strcmp(tz_invoice_reference(inv, buf, sizeof(buf)), "INV-1") == 0);
	CHECK(strcmp(tz_invoice_reference(lines, buf, sizeof(buf)), "inv.2") == 0);

	body = tz_invoice_body(inv, "c1", NULL, NULL, NULL);
	CHECK(body_has(body, "\"customer_id\":\"c1\""));
	CHECK(body_has(body, "\"reference_number\":\"INV-1\""));
	CHECK(body_has(body, "\"date\":\"2026-11-01\""));
	CHECK(body_has(body, "\"due_date\":\"2026-12-01\""));
	CHECK(body_has(body, "\"name\":\"Togai invoice INV-1\""));
	CHECK(body_has(body, "\"quantity\":1"));
	CHECK(body_has(body, "\"rate\":123.45"));
	json_decref(body);

	body = tz_invoice_body(lines, "c1", options, context, NULL);
	CHECK(json_array_size(json_object_get(body, "line_items")) == 2);
	CHECK(body_has(body, "\"quantity\":1500,\"rate\":0.02"));
	CHECK(body_has(body, "\"name\":\"Platform fee\",\"quantity\":1,\"rate\":49"));
	CHECK(body_has(body, "\"payment_terms\":15"));
	CHECK(body_has(body, "\"adjustment\":-0.05"));
	CHECK(!body_has(body, "invoice_number"));
	CHECK(body_has(body, "\"item_id\":\"it.1\""));
	CHECK(body_has(body, "\"tax_id\":\"tx.1\""));
	json_decref(body);
	CHECK(tz_invoice_body(inv, NULL, NULL, NULL, NULL) == NULL);
	test_invoice_items(inv);

	CHECK(strcmp(tz_find_invoice(found, "INV-1", "c1"), "3") == 0);
	CHECK(strcmp(tz_find_invoice(found, "INV-1", "c2"), "1") == 0);
	CHECK(tz_find_invoice(found, "INV-2", "c1") == NULL);
	CHECK(tz_find_invoice(NULL, "INV-1", "c1") == NULL);
	CHECK(strcmp(tz_created_id(created, "invoice", "invoice_id"), "77") == 0);
	CHECK(tz_created_id(created, "contact", "contact_id") == NULL);
	CHECK(tz_created_id(NULL, "invoice", "invoice_id") == NULL);

	json_decref(context);
	json_decref(inv);
	json_decref(lines);
	json_decref(options);
	json_decref(found);
	json_decref(created);
}

static void
test_togai_side(void)
{
	json_t	   *currencies = parse("{\"currencies\": [{\"currency_id\": \"1\", \"currency_code\": \"USD\"},"
								   " {\"currency_id\": \"2\", \"currency_code\": \"EUR\"}, 5]}");
	json_t	   *account = parse("{\"id\": \"acc.1\", \"metadata\": {\"crm\": \"42\"}}");
	json_t	   *written = parse("{\"id\": \"acc.1\", \"metadata\": {\"zohobooks_contact_id\": \"77\"}}");
	json_t	   *context = parse("{\"account_id\": \"acc.1\", \"currency\": \"USD\", \"amount\": 99.99,"
								" \"transaction\": \"460001\", \"records\": [{\"togaiId\": \"inv.1\","
								" \"amount\": 99.99, \"type\": \"INVOICE\", \"order\": 1}]}");
	json_t	   *payment = parse("{\"payment_id\": \"460001\", \"payment_number\": \"PMT-3\","
								" \"payment_mode\": \"Credit Card\", \"reference_number\": \"UTR-1\"}");
	json_t	   *page = parse("{\"data\": [{\"id\": \"pay.1\", \"externalPaymentReferences\":"
							 " {\"transactionNumber\": \"x\"}}, {\"id\": \"pay.2\","
							 " \"externalPaymentReferences\": [{\"transactionNumber\": \"460001\"}]}],"
							 " \"nextToken\": \"abc\"}");
	json_t	   *last = parse("{\"data\": [], \"nextToken\": \"\"}");
	json_t	   *contact = parse("{\"contact_name\": \"Acme\", \"email\": \"a@b.c\","
								" \"billing_address\": {\"address\": \"1 St\", \"zip\": \"9\"}}");
	json_t	   *body;

	CHECK(strcmp(tz_find_currency(currencies, "EUR"), "2") == 0);
	CHECK(tz_find_currency(currencies, "JPY") == NULL);
	CHECK(tz_find_currency(NULL, "USD") == NULL);

	body = tz_write_back_body(account, "zohobooks_contact_id", "77");
	CHECK(body_has(body, "\"metadata\":{\"crm\":\"42\",\"zohobooks_contact_id\":\"77\"}"));
	json_decref(body);
	CHECK(tz_write_back_body(written, "zohobooks_contact_id", "77") == NULL);
	body = tz_write_back_body(NULL, "k", "77");
	CHECK(body_has(body, "{\"metadata\":{\"k\":\"77\"}}"));
	json_decref(body);

	CHECK(strcmp(tz_togai_source_type("Credit Card"), "CARD") == 0);
	CHECK(strcmp(tz_togai_source_type("cash"), "CASH") == 0);
	CHECK(strcmp(tz_togai_source_type("Check"), "CHEQUE") == 0);
	CHECK(strcmp(tz_togai_source_type("Stripe"), "GATEWAY") == 0);
	/* Zoho's documented modes */
	CHECK(strcmp(tz_togai_source_type("bankremittance"), "BANK_TRANSFER") == 0);
	CHECK(strcmp(tz_togai_source_type("autotransaction"), "GATEWAY") == 0);
	CHECK(strcmp(tz_togai_source_type(NULL), "GATEWAY") == 0);

	body = tz_payment_body(context, payment, NULL);
	CHECK(body_has(body, "\"accountId\":\"acc.1\""));
	CHECK(body_has(body, "\"totalAmount\":99.99"));
	CHECK(body_has(body, "\"sourceType\":\"CARD\""));
	CHECK(body_has(body, "\"transactionNumber\":\"460001\""));
	CHECK(body_has(body, "\"description\":\"UTR-1\""));
	CHECK(body_has(body, "\"description\":\"Zoho Books payment PMT-3\""));
	CHECK(body_has(body, "\"lineItemRecords\":[{\"amount\":99.99,\"order\":1,\"togaiId\":\"inv.1\""));
	json_decref(body);
	CHECK(tz_payment_body(NULL, payment, NULL) == NULL);
	CHECK(tz_payment_body(account, payment, NULL) == NULL);

	CHECK(strcmp(tz_find_payment(page, "460001"), "pay.2") == 0);
	CHECK(strcmp(tz_find_payment(page, "x"), "pay.1") == 0);
	CHECK(tz_find_payment(page, "nope") == NULL);
	CHECK(strcmp(tz_next_token(page), "abc") == 0);
	CHECK(tz_next_token(last) == NULL);

	body = tz_account_update_body(contact);
	CHECK(body_has(body, "\"name\":\"Acme\""));
	CHECK(body_has(body, "\"primaryEmail\":\"a@b.c\""));
	CHECK(body_has(body, "\"address\":{\"line1\":\"1 St\",\"postalCode\":\"9\"}"));
	json_decref(body);
	CHECK(tz_account_update_body(page) == NULL);

	CHECK(tz_action_kind("payment_record") == TZ_ACTION_PAYMENT_RECORD);
	CHECK(tz_action_kind("account_write_back") == TZ_ACTION_ACCOUNT_WRITE_BACK);
	CHECK(tz_action_kind("account_update") == TZ_ACTION_ACCOUNT_UPDATE);
	CHECK(tz_action_kind("nope") == TZ_ACTION_UNSUPPORTED);

	json_decref(currencies);
	json_decref(account);
	json_decref(written);
	json_decref(context);
	json_decref(payment);
	json_decref(page);
	json_decref(last);
	json_decref(contact);
}

/* A Togai payment as a Zoho Books customer payment: the planned body, the contact, the options. */
static void
test_zoho_payment(void)
{
	json_t	   *planned = json_loads("{\"body\": {\"payment_mode\": \"others\", \"amount\": 310.5,"
									 " \"date\": \"2026-11-20\", \"reference_number\": \"pay.7\","
									 " \"invoices\": [{\"invoice_id\": \"46\", \"amount_applied\": 60},"
									 " {\"invoice_id\": \"47\", \"amount_applied\": 250.5}]}}", 0, NULL);
	json_t	   *empty = json_loads("{\"body\": {\"amount\": 0, \"invoices\": []}}", 0, NULL);
	json_t	   *options = json_loads("{\"payment_mode\": \"banktransfer\","
									 " \"deposit_account_id\": \"9001\"}", 0, NULL);
	json_t	   *list = json_loads("{\"code\": 0, \"customerpayments\": [{\"payment_id\": \"1\"},"
								  " {\"payment_id\": 2}, {\"payment_id\": \"3\"}]}", 0, NULL);
	json_t	   *described = json_loads("{\"customer_payments\": [{\"payment_id\": \"8\"}]}", 0, NULL);
	json_t	   *whole = json_loads("{\"payment_id\": \"3\", \"reference_number\": \"pay.7\","
								   " \"customer_id\": \"c1\"}", 0, NULL);
	json_t	   *body = tz_zoho_payment_body(planned, "c1", NULL);
	json_t	   *ids;
	json_t	   *rates;
	const char *effective = NULL;

	CHECK(body_has(body, "\"customer_id\":\"c1\""));
	CHECK(body_has(body, "\"payment_mode\":\"others\""));
	CHECK(body_has(body, "\"amount\":310.5"));
	CHECK(body_has(body, "\"invoices\":[{\"amount_applied\":60,\"invoice_id\":\"46\"}"));
	CHECK(json_object_get(body, "account_id") == NULL);
	json_decref(body);
	body = tz_zoho_payment_body(planned, "c1", options);
	CHECK(body_has(body, "\"payment_mode\":\"banktransfer\""));
	CHECK(body_has(body, "\"account_id\":\"9001\""));
	json_decref(body);
	/* the plan is left as it was: a body is a copy */
	CHECK(json_object_get(json_object_get(planned, "body"), "customer_id") == NULL);
	CHECK(tz_zoho_payment_body(planned, NULL, NULL) == NULL);
	CHECK(tz_zoho_payment_body(empty, "c1", NULL) == NULL);
	CHECK(tz_zoho_payment_body(NULL, "c1", NULL) == NULL);

	ids = tz_zoho_payment_candidates(list);
	CHECK(json_array_size(ids) == 2);	/* ids are strings: a number is not taken */
	CHECK(strcmp(json_string_value(json_array_get(ids, 1)), "3") == 0);
	json_decref(ids);
	ids = tz_zoho_payment_candidates(described);
	CHECK(json_array_size(ids) == 1);
	json_decref(ids);
	ids = tz_zoho_payment_candidates(NULL);
	CHECK(json_array_size(ids) == 0);
	json_decref(ids);

	CHECK(tz_zoho_payment_is(whole, "pay.7", "c1"));
	CHECK(!tz_zoho_payment_is(whole, "pay.7", "c2"));
	CHECK(!tz_zoho_payment_is(whole, "pay.70", "c1"));
	CHECK(!tz_zoho_payment_is(whole, NULL, "c1"));
	CHECK(!tz_zoho_payment_is(list, "pay.7", "c1"));
	rates = json_loads("{\"exchange_rates\": [{\"effective_date\": \"2026-11-05\", \"rate\": 1.1},"
					   " {\"effective_date\": \"2026-10-30\", \"rate\": 1.08},"
					   " {\"effective_date\": \"2026-10-31\", \"rate\": 0},"
					   " {\"effective_date\": \"2026-10-01\", \"rate\": 1.05}, {\"rate\": 2}]}", 0, NULL);
	CHECK(json_number_value(tz_find_exchange_rate(rates, "2026-10-31", &effective)) == 1.08);
	CHECK(strcmp(effective, "2026-10-30") == 0);
	CHECK(json_number_value(tz_find_exchange_rate(rates, "2026-12-01T00:00:00Z", &effective)) == 1.1);
	CHECK(json_number_value(tz_find_exchange_rate(rates, NULL, NULL)) == 1.1);
	CHECK(tz_find_exchange_rate(rates, "2026-09-30", &effective) == NULL && effective == NULL);
	CHECK(tz_find_exchange_rate(list, "2026-10-31", NULL) == NULL);
	CHECK(tz_find_exchange_rate(NULL, "2026-10-31", NULL) == NULL);
	json_decref(rates);

	CHECK(tz_action_kind("payment_apply") == TZ_ACTION_PAYMENT_APPLY);
	CHECK(tz_action_kind("invoice_write_off") == TZ_ACTION_INVOICE_WRITE_OFF);

	json_decref(planned);
	json_decref(empty);
	json_decref(options);
	json_decref(list);
	json_decref(described);
	json_decref(whole);
}

int
main(void)
{
	test_kinds_and_text();
	test_contact();
	test_find_contact();
	test_invoice();
	test_togai_side();
	test_zoho_payment();
	printf("action: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
