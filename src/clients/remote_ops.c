/*-------------------------------------------------------------------------
 *
 * remote_ops.c
 *	  The table of remote operations and the requests built from it.
 *
 * Query parameters are those the apps document for each operation (Zoho
 * Books: test/mock/zohobooks-api.json; Togai: its OpenAPI document), so a
 * parameter a service would silently ignore cannot be sent by mistake.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdarg.h>

#include "lib/stringinfo.h"

#include "api.h"
#include "remote_ops.h"

#define Z TZ_APP_ZOHOBOOKS
#define T TZ_APP_TOGAI

static const TzRemoteOp ops[] = {
	/* Zoho Books */
	{"organizations", Z, "GET", "/organizations", NULL, NULL, {{0}}, "organizations"},
	{"currencies", Z, "GET", "/settings/currencies", NULL, NULL, {{0}}, "currencies"},
	{"exchange_rates", Z, "GET", "/settings/currencies/%s/exchangerates", "currency_id", NULL,
	{{"from_date", "from_date"}}, "exchange_rates"},
	{"taxes", Z, "GET", "/settings/taxes", NULL, NULL,
	{{"page", "page"}, {"per_page", NULL, "200"}}, "taxes"},
	{"contact_create", Z, "POST", "/contacts", NULL, "contact", {{0}}, "contact", true},
	/* the upserts by a unique custom field: sent twice, they leave one object */
	{"contact_upsert", Z, "PUT", "/contacts", NULL, "contact", {{0}}, "contact", false, true},
	{"invoice_upsert", Z, "PUT", "/invoices", NULL, "invoice", {{0}}, "invoice", false, true},
	{"payment_upsert", Z, "PUT", "/customerpayments", NULL, "payment", {{0}}, "payment", false, true},
	{"credit_note_upsert", Z, "PUT", "/creditnotes", NULL, "creditnote", {{0}}, "creditnote",
	false, true},
	{"contact_update", Z, "PUT", "/contacts/%s", "contact_id", "contact", {{0}}, "contact"},
	{"contact_get", Z, "GET", "/contacts/%s", "contact_id", NULL, {{0}}, "contact"},
	{"contact_search", Z, "GET", "/contacts", NULL, NULL,
	{{"search_text", "search_text"}, {"page", "page"}}, NULL},
	{"contacts_by_change", Z, "GET", "/contacts", NULL, NULL,
	{{"sort_column", NULL, "last_modified_time"}, {"page", "page"}, {"per_page", NULL, "200"}}, NULL},
	{"invoice_create", Z, "POST", "/invoices", NULL, "invoice",
	{{"ignore_auto_number_generation", "ignore_auto_number_generation"}}, "invoice", true},
	{"invoice_get", Z, "GET", "/invoices/%s", "invoice_id", NULL, {{0}}, "invoice"},
	{"invoice_update", Z, "PUT", "/invoices/%s", "invoice_id", "invoice", {{0}}, "invoice"},
	{"invoice_search", Z, "GET", "/invoices", NULL, NULL,
	{{"reference_number", "reference_number"}, {"customer_id", "customer_id"}}, NULL},
	{"invoices_changed", Z, "GET", "/invoices", NULL, NULL,
	{{"last_modified_time", "since"}, {"page", "page"}, {"per_page", NULL, "200"}}, NULL},
	{"invoice_mark_sent", Z, "POST", "/invoices/%s/status/sent", "invoice_id", NULL, {{0}}, NULL},
	{"invoices_mark_sent", Z, "POST", "/invoices/status/sent", NULL, NULL,
	{{"invoice_ids", "invoice_ids"}}, NULL},
	{"invoice_void", Z, "POST", "/invoices/%s/status/void", "invoice_id", NULL, {{0}}, NULL},
	{"invoice_payments", Z, "GET", "/invoices/%s/payments", "invoice_id", NULL, {{0}}, "payments"},
	{"invoice_apply_credits", Z, "POST", "/invoices/%s/credits", "invoice_id", "credits", {{0}},
	NULL, true},
	{"payment_create", Z, "POST", "/customerpayments", NULL, "payment", {{0}}, "payment", true},
	{"payment_get", Z, "GET", "/customerpayments/%s", "payment_id", NULL, {{0}}, "payment"},
	{"payment_search", Z, "GET", "/customerpayments", NULL, NULL,
	{{"reference_number", "reference_number"}}, NULL},
	{"invoice_write_off", Z, "POST", "/invoices/%s/writeoff", "invoice_id", NULL, {{0}}, NULL},
	{"credit_note_create", Z, "POST", "/creditnotes", NULL, "creditnote",
	{{"invoice_id", "invoice_id"}}, "creditnote", true},
	{"credit_note_search", Z, "GET", "/creditnotes", NULL, NULL,
	{{"reference_number", "reference_number"}, {"customer_id", "customer_id"}}, NULL},
	{"credit_note_apply", Z, "POST", "/creditnotes/%s/invoices", "creditnote_id", "credit", {{0}},
	NULL, true},
	{"credit_note_refunds", Z, "GET", "/creditnotes/%s/refunds", "creditnote_id", NULL, {{0}},
	"creditnote_refunds"},
	{"credit_note_refund", Z, "POST", "/creditnotes/%s/refunds", "creditnote_id", "refund", {{0}},
	"creditnote_refund", true},
	{"item_search", Z, "GET", "/items", NULL, NULL, {{"name", "name"}}, "items"},
	{"item_create", Z, "POST", "/items", NULL, "item", {{0}}, "item", true},
	{"item_get", Z, "GET", "/items/%s", "item_id", NULL, {{0}}, "item"},
	{"webhook_create", Z, "POST", "/settings/webhooks", NULL, "webhook", {{0}}, "webhook", true},

	/* Togai */
	{"accounts_list", T, "GET", "/accounts", NULL, NULL,
	{{"nextToken", "next_token"}, {"pageSize", "page_size"}}, NULL},
	{"account_get", T, "GET", "/accounts/%s", "account_id", NULL, {{0}}, NULL},
	{"account_update", T, "PATCH", "/accounts/%s", "account_id", "account", {{0}}, NULL},
	{"customers_list", T, "GET", "/customers", NULL, NULL,
	{{"nextToken", "next_token"}, {"pageSize", "page_size"}}, NULL},
	{"customer_get", T, "GET", "/customers/%s", "customer_id", NULL, {{0}}, NULL},
	{"invoices_list", T, "GET", "/invoices", NULL, NULL,
	{{"nextToken", "next_token"}, {"pageSize", "page_size"}, {"status", "status"},
	{"owner_id", "owner_id"}, {"customer_id", "customer_id"}, {"start_time", "start_time"},
	{"end_time", "end_time"}}, NULL},
	{"invoice_get", T, "GET", "/invoices/%s", "invoice_id", NULL, {{0}}, NULL},
	{"payments_list", T, "GET", "/payments", NULL, NULL,
	{{"nextToken", "next_token"}, {"pageSize", "page_size"}}, NULL},
	{"payment_record", T, "POST", "/payments", NULL, "payment", {{0}}, NULL, true},
};

const TzRemoteOp *
tz_remote_op(TzApp app, const char *name)
{
	for (int i = 0; i < lengthof(ops); i++)
		if (ops[i].app == app && strcmp(ops[i].name, name) == 0)
			return &ops[i];
	return NULL;
}

char *
tz_remote_op_names(TzApp app)
{
	StringInfoData out;

	initStringInfo(&out);
	for (int i = 0; i < lengthof(ops); i++)
		if (ops[i].app == app)
			appendStringInfo(&out, "%s%s", out.len ? ", " : "", ops[i].name);
	return out.data;
}

char *
tz_remote_path(const TzRemoteOp *op, const char *id)
{
	if (op->id_arg == NULL)
		return pstrdup(op->path);
	if (id == NULL)
		elog(ERROR, "togai_zoho: operation %s needs an id", op->name);
	return psprintf(op->path, tz_url_escape(id));
}

char *
tz_remote_query_values(const TzRemoteOp *op, const char *const *values)
{
	StringInfoData out;

	initStringInfo(&out);
	for (int i = 0; i < TZ_OP_MAX_QUERY && op->query[i].param; i++)
	{
		const char *v = op->query[i].fixed ? op->query[i].fixed : values[i];

		if (v != NULL)
			appendStringInfo(&out, "%s%s=%s", out.len ? "&" : "", op->query[i].param,
							 op->query[i].fixed ? v : tz_url_escape(v));
	}
	return out.len ? out.data : NULL;
}

char *
tz_remote_query(const TzRemoteOp *op,...)
{
	const char *values[TZ_OP_MAX_QUERY] = {0};
	va_list		ap;
	const char *param;

	va_start(ap, op);
	while ((param = va_arg(ap, const char *)) != NULL)
	{
		const char *value = va_arg(ap, const char *);
		int			i = 0;

		while (i < TZ_OP_MAX_QUERY && op->query[i].param && strcmp(op->query[i].param, param) != 0)
			i++;
		if (i == TZ_OP_MAX_QUERY || op->query[i].param == NULL)
			elog(ERROR, "togai_zoho: %s does not document the query parameter %s", op->name, param);
		values[i] = value;
	}
	va_end(ap);
	return tz_remote_query_values(op, values);
}
