/*
 * fuzz_action.c
 *	  libFuzzer target: the Togai -> Zoho Books mapping and the finders, fed an
 *	  arbitrary JSON document as source row, options, context and answer alike
 *	  (and its "options", "context" and "answer" members where it has them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "credit_note.h"
#include "parse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
consume(json_t *body)
{
	char	   *text;

	if (body == NULL)
		return;
	text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	free(text);
	json_decref(body);
}

static const json_t *
member_or(const json_t *root, const char *key)
{
	json_t	   *m = json_object_get(root, key);

	return m ? m : root;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	   *root = tz_json_object((const char *) data, size);
	const json_t *options = member_or(root, "options");
	const json_t *context = member_or(root, "context");
	const json_t *answer = member_or(root, "answer");
	char		buf[64];
	const char *id = tz_row_text(root, "account_id", buf, sizeof(buf));
	const char *found;

	consume(tz_contact_body(root, options, "4600001", answer, false));
	consume(tz_contact_body(root, NULL, NULL, NULL, true));
	consume(tz_invoice_body(root, "4600002", options, context, answer));
	consume(tz_invoice_item_names(root, options, context));
	consume(tz_contact_candidates(answer, "Acme", "Acme (acc.1)"));
	consume(tz_payment_body(context, root, options));
	consume(tz_write_back_body(answer, "zohobooks_contact_id", "4600003"));
	consume(tz_account_update_body(root));

	(void) tz_contact_is_ours(answer, id ? id : "acc.1", options);
	if ((found = tz_find_item(answer, "Seats")) != NULL)
		(void) strlen(found);
	found = tz_find_invoice(answer, tz_invoice_reference(root, buf, sizeof(buf)) ?: "INV-1", "c1");
	if (found)
		(void) strlen(found);
	if ((found = tz_find_payment(answer, "460001")) != NULL)
		(void) strlen(found);
	if ((found = tz_find_currency(answer, "EUR")) != NULL)
		(void) strlen(found);
	if ((found = tz_next_token(answer)) != NULL)
		(void) strlen(found);
	if ((found = tz_created_id(answer, "contact", "contact_id")) != NULL)
		(void) strlen(found);
	(void) tz_togai_source_type(json_string_value(json_object_get(root, "payment_mode")));
	/* a refund's or credits' answers and bodies (credit_note.c) */
	{
		bool		one_line;
		long long	minor = 0;
		long long	apply;
		long long	refund;
		json_t	   *note = tz_find_credit_note(answer, "Refund INV-1", "c1");

		if (note != NULL)
			(void) tz_minor_units(json_object_get(note, "balance"), 2, &minor);
		tz_refund_split(minor, tz_refunded(answer, 2), minor / 3, tz_refunded(answer, 0), &apply, &refund);
		consume(tz_credit_note_body(root, "Refund INV-1", "2026-12-04", &one_line));
		consume(tz_credits_note_body(root, minor, 2, "Credits INV-1", NULL));
		consume(tz_credit_refund_body(refund, 3, NULL, "r", options));
		/* a customer payment read as an advance, and what it pays */
		if (tz_advance_read(json_object_get(answer, "payment"), "1", 2, &minor, &apply))
		{
			json_t	   *ids = json_pack("[s]", "p1");
			long long	take[1];

			(void) tz_advance_split(&minor, 1, apply, take);
			consume(tz_advance_apply_body(ids, take, 2));
			json_decref(ids);
		}
	}
	json_decref(root);
	return 0;
}
