/*-------------------------------------------------------------------------
 *
 * catalogue.h
 *	  The triggers and actions this library implements, and the rules that
 *	  fire them: the C side of togai_zoho.trigger_def and action_def.
 *
 * The install script's rows and these tables are held against each other
 * by the catalogue regress test (togai_zoho.library_catalogue()).  Pure
 * code: no server, unit-tested.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_CATALOGUE_H
#define TZ_CATALOGUE_H

#include <stdbool.h>
#include <stdint.h>

/* Triggers, one bit each, so a change can fire several. */
#define TZ_TRG_ACCOUNT_CREATED		(1u << 0)
#define TZ_TRG_ACCOUNT_UPDATED		(1u << 1)
#define TZ_TRG_ACCOUNT_CHANGED		(1u << 2)
#define TZ_TRG_INVOICE_GENERATED	(1u << 3)
#define TZ_TRG_INVOICE_VOIDED		(1u << 4)
#define TZ_TRG_PAYMENT_RECORDED		(1u << 5)
#define TZ_TRG_INVOICE_PAID			(1u << 6)
#define TZ_TRG_CONTACT_UPDATED		(1u << 7)
#define TZ_TRG_PAYMENT_COLLECTED	(1u << 8)
#define TZ_TRG_INVOICE_WRITTEN_OFF	(1u << 9)
#define TZ_TRG_INVOICE_REFUNDED		(1u << 10)
#define TZ_TRG_INVOICE_UPDATED		(1u << 11)

typedef struct TzTriggerDef
{
	const char *name;
	const char *app;			/* togai or zohobooks */
	const char *entity;			/* account, invoice, payment or contact */
	uint32_t	bit;
} TzTriggerDef;

extern const TzTriggerDef tz_trigger_defs[];
extern const int tz_ntrigger_defs;

/* The trigger's bit, or 0 for a name this library does not know. */
extern uint32_t tz_trigger_bit(const char *name);

typedef enum TzActionKind
{
	TZ_ACTION_CONTACT_UPSERT,
	TZ_ACTION_INVOICE_CREATE,
	TZ_ACTION_INVOICE_VOID,
	TZ_ACTION_ACCOUNT_WRITE_BACK,
	TZ_ACTION_PAYMENT_RECORD,
	TZ_ACTION_ACCOUNT_UPDATE,
	TZ_ACTION_PAYMENT_APPLY,
	TZ_ACTION_INVOICE_WRITE_OFF,
	TZ_ACTION_INVOICE_REFUND,
	TZ_ACTION_INVOICE_UPDATE,
	TZ_ACTION_INVOICE_CREDITS,
	TZ_ACTION_UNSUPPORTED		/* not in this library's catalogue */
} TzActionKind;

typedef struct TzActionDef
{
	const char *name;
	const char *app;			/* the app the action changes */
	const char *maps;			/* entity of the mapping it writes, or NULL */
} TzActionDef;

/* Indexed by TzActionKind, up to TZ_ACTION_UNSUPPORTED. */
extern const TzActionDef tz_action_defs[];

extern TzActionKind tz_action_kind(const char *name);

/* Entity of the mapping an action writes ("account", "invoice", "payment"), or NULL. */
extern const char *tz_action_maps(TzActionKind kind);

/*
 * Whether a Togai invoice status is a generated invoice's: any status but
 * DRAFT (still ongoing), VOID and MERGED; case-insensitive, NULL is not.
 * The one definition: the enqueue trigger, backfill() and preview_flow()
 * use it (SQL reaches it as togai_zoho.invoice_is_generated()).
 */
extern bool tz_invoice_is_generated(const char *status);

#endif
