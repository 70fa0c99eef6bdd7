/*
 * test_catalogue.c
 *	  Unit tests of the library's catalogue (src/pure/catalogue.c): one bit
 *	  per trigger, actions found by name with the mapping each writes, and
 *	  the one rule of a generated invoice.
 */
#include <stdio.h>
#include <string.h>

#include "catalogue.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void
test_triggers(void)
{
	uint32_t	seen = 0;

	CHECK(tz_ntrigger_defs == 12);
	for (int i = 0; i < tz_ntrigger_defs; i++)
	{
		const TzTriggerDef *t = &tz_trigger_defs[i];

		CHECK((t->bit & (t->bit - 1)) == 0 && t->bit != 0);	/* one bit */
		CHECK((seen & t->bit) == 0);	/* its own */
		seen |= t->bit;
		CHECK(tz_trigger_bit(t->name) == t->bit);
		CHECK(strcmp(t->app, "togai") == 0 || strcmp(t->app, "zohobooks") == 0);
	}
	CHECK(tz_trigger_bit("invoice_generated") == TZ_TRG_INVOICE_GENERATED);
	CHECK(tz_trigger_bit("nope") == 0);
	CHECK(tz_trigger_bit("") == 0);
}

static void
test_actions(void)
{
	for (int k = 0; k < TZ_ACTION_UNSUPPORTED; k++)
		CHECK(tz_action_kind(tz_action_defs[k].name) == (TzActionKind) k);
	CHECK(tz_action_kind("contact_upsert") == TZ_ACTION_CONTACT_UPSERT);
	CHECK(tz_action_kind("Contact_Upsert") == TZ_ACTION_UNSUPPORTED);
	CHECK(tz_action_kind("") == TZ_ACTION_UNSUPPORTED);
	CHECK(strcmp(tz_action_maps(TZ_ACTION_CONTACT_UPSERT), "account") == 0);
	CHECK(strcmp(tz_action_maps(TZ_ACTION_INVOICE_CREATE), "invoice") == 0);
	CHECK(strcmp(tz_action_maps(TZ_ACTION_PAYMENT_RECORD), "payment") == 0);
	CHECK(tz_action_maps(TZ_ACTION_INVOICE_VOID) == NULL);
	CHECK(strcmp(tz_action_maps(TZ_ACTION_PAYMENT_APPLY), "payment") == 0);
	CHECK(tz_action_maps(TZ_ACTION_INVOICE_WRITE_OFF) == NULL);
	CHECK(tz_trigger_bit("payment_collected") == TZ_TRG_PAYMENT_COLLECTED);
	CHECK(tz_trigger_bit("invoice_written_off") == TZ_TRG_INVOICE_WRITTEN_OFF);
	CHECK(tz_trigger_bit("invoice_refunded") == TZ_TRG_INVOICE_REFUNDED);
	CHECK(tz_action_kind("invoice_refund") == TZ_ACTION_INVOICE_REFUND);
	CHECK(tz_action_maps(TZ_ACTION_INVOICE_REFUND) == NULL);
	CHECK(tz_trigger_bit("invoice_updated") == TZ_TRG_INVOICE_UPDATED);
	CHECK(tz_action_kind("invoice_update") == TZ_ACTION_INVOICE_UPDATE);
	CHECK(tz_action_maps(TZ_ACTION_INVOICE_UPDATE) == NULL);
	CHECK(tz_action_kind("invoice_credits") == TZ_ACTION_INVOICE_CREDITS);
	CHECK(tz_action_maps(TZ_ACTION_INVOICE_CREDITS) == NULL);
	CHECK(tz_action_maps(TZ_ACTION_UNSUPPORTED) == NULL);
}

static void
test_generated_invoices(void)
{
	const char *generated[] = {"DUE", "PAID", "PARTIALLY_PAID", "UN_COLLECTIBLE", "REFUND_INITIATED",
	"REFUND_COMPLETED", "due", "Paid"};
	const char *not_generated[] = {"DRAFT", "draft", "VOID", "Void", "MERGED", "merged", ""};

	for (int i = 0; i < (int) (sizeof(generated) / sizeof(generated[0])); i++)
		CHECK(tz_invoice_is_generated(generated[i]));
	for (int i = 0; i < (int) (sizeof(not_generated) / sizeof(not_generated[0])); i++)
		CHECK(!tz_invoice_is_generated(not_generated[i]));
	CHECK(!tz_invoice_is_generated(NULL));
}

int
main(void)
{
	test_triggers();
	test_actions();
	test_generated_invoices();
	printf("catalogue: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
