/*-------------------------------------------------------------------------
 *
 * modules.c
 *	  The table of action modules, indexed as the catalogue's actions
 *	  (pure/catalogue.c, tz_action_defs): an action added there gets its
 *	  module here; the build fails while one has none.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "module.h"

static const TzActionModule *const modules[] = {
	[TZ_ACTION_CONTACT_UPSERT] = &tz_contact_upsert_module,
	[TZ_ACTION_INVOICE_CREATE] = &tz_invoice_create_module,
	[TZ_ACTION_INVOICE_VOID] = &tz_invoice_void_module,
	[TZ_ACTION_ACCOUNT_WRITE_BACK] = &tz_account_write_back_module,
	[TZ_ACTION_PAYMENT_RECORD] = &tz_payment_record_module,
	[TZ_ACTION_ACCOUNT_UPDATE] = &tz_account_update_module,
	[TZ_ACTION_PAYMENT_APPLY] = &tz_payment_apply_module,
	[TZ_ACTION_INVOICE_WRITE_OFF] = &tz_invoice_write_off_module,
	[TZ_ACTION_INVOICE_REFUND] = &tz_invoice_refund_module,
	[TZ_ACTION_INVOICE_UPDATE] = &tz_invoice_update_module,
	[TZ_ACTION_INVOICE_CREDITS] = &tz_invoice_credits_module,
};

StaticAssertDecl(lengthof(modules) == TZ_ACTION_UNSUPPORTED,
				 "every action of the catalogue has its module");

const TzActionModule *
tz_action_module(TzActionKind kind)
{
	return kind >= 0 && kind < lengthof(modules) ? modules[kind] : NULL;
}
