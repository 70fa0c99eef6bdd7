/*-------------------------------------------------------------------------
 *
 * catalogue.c
 *	  The triggers and actions this library implements.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "catalogue.h"

const TzTriggerDef tz_trigger_defs[] = {
	{"account_created", "togai", "account", TZ_TRG_ACCOUNT_CREATED},
	{"account_updated", "togai", "account", TZ_TRG_ACCOUNT_UPDATED},
	{"account_changed", "togai", "account", TZ_TRG_ACCOUNT_CHANGED},
	{"invoice_generated", "togai", "invoice", TZ_TRG_INVOICE_GENERATED},
	{"invoice_voided", "togai", "invoice", TZ_TRG_INVOICE_VOIDED},
	{"payment_recorded", "zohobooks", "payment", TZ_TRG_PAYMENT_RECORDED},
	{"invoice_paid", "zohobooks", "invoice", TZ_TRG_INVOICE_PAID},
	{"contact_updated", "zohobooks", "contact", TZ_TRG_CONTACT_UPDATED},
	{"payment_collected", "togai", "payment", TZ_TRG_PAYMENT_COLLECTED},
	{"invoice_written_off", "togai", "invoice", TZ_TRG_INVOICE_WRITTEN_OFF},
	{"invoice_refunded", "togai", "invoice", TZ_TRG_INVOICE_REFUNDED},
	{"invoice_updated", "togai", "invoice", TZ_TRG_INVOICE_UPDATED},
};
const int	tz_ntrigger_defs = sizeof(tz_trigger_defs) / sizeof(tz_trigger_defs[0]);

const TzActionDef tz_action_defs[] = {
	[TZ_ACTION_CONTACT_UPSERT] = {"contact_upsert", "zohobooks", "account"},
	[TZ_ACTION_INVOICE_CREATE] = {"invoice_create", "zohobooks", "invoice"},
	[TZ_ACTION_INVOICE_VOID] = {"invoice_void", "zohobooks", NULL},
	[TZ_ACTION_ACCOUNT_WRITE_BACK] = {"account_write_back", "togai", NULL},
	[TZ_ACTION_PAYMENT_RECORD] = {"payment_record", "togai", "payment"},
	[TZ_ACTION_ACCOUNT_UPDATE] = {"account_update", "togai", NULL},
	[TZ_ACTION_PAYMENT_APPLY] = {"payment_apply", "zohobooks", "payment"},
	[TZ_ACTION_INVOICE_WRITE_OFF] = {"invoice_write_off", "zohobooks", NULL},
	[TZ_ACTION_INVOICE_REFUND] = {"invoice_refund", "zohobooks", NULL},
	[TZ_ACTION_INVOICE_UPDATE] = {"invoice_update", "zohobooks", NULL},
	[TZ_ACTION_INVOICE_CREDITS] = {"invoice_credits", "zohobooks", NULL},
};

uint32_t
tz_trigger_bit(const char *name)
{
	for (int i = 0; i < tz_ntrigger_defs; i++)
		if (strcmp(tz_trigger_defs[i].name, name) == 0)
			return tz_trigger_defs[i].bit;
	return 0;
}

TzActionKind
tz_action_kind(const char *name)
{
	for (int k = 0; k < TZ_ACTION_UNSUPPORTED; k++)
		if (strcmp(tz_action_defs[k].name, name) == 0)
			return (TzActionKind) k;
	return TZ_ACTION_UNSUPPORTED;
}

const char *
tz_action_maps(TzActionKind kind)
{
	return kind < TZ_ACTION_UNSUPPORTED ? tz_action_defs[kind].maps : NULL;
}

bool
tz_invoice_is_generated(const char *status)
{
	return status != NULL && *status != '\0' &&
		strcasecmp(status, "DRAFT") != 0 &&
		strcasecmp(status, "VOID") != 0 &&
		strcasecmp(status, "MERGED") != 0;
}
