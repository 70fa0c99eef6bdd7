/*-------------------------------------------------------------------------
 *
 * action.h
 *	  What the flow actions send to Zoho Books, and how their answers are
 *	  read: Togai rows (as JSON) in, request bodies out; search answers in,
 *	  the matching remote id out.
 *
 * Pure code: jansson only, so it is unit-tested and fuzzed without a server.
 * Bodies are new jansson references; returned strings point into the
 * answer given.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTION_H
#define TZ_ACTION_H

#include <jansson.h>

typedef enum TzActionKind
{
	TZ_ACTION_CONTACT_UPSERT,
	TZ_ACTION_INVOICE_CREATE,
	TZ_ACTION_INVOICE_VOID,
	TZ_ACTION_ACCOUNT_WRITE_BACK,
	TZ_ACTION_PAYMENT_RECORD,
	TZ_ACTION_ACCOUNT_UPDATE,
	TZ_ACTION_UNSUPPORTED		/* not in this version's catalogue */
} TzActionKind;

extern TzActionKind tz_action_kind(const char *name);

/* Entity of the mapping an action writes ("account", "invoice"), or NULL. */
extern const char *tz_action_maps(TzActionKind kind);

/*
 * The value of a field of a source row as text: strings as they are,
 * numbers as written (into buf), NULL when absent, null, empty or not a
 * scalar.
 */
extern const char *tz_row_text(const json_t *row, const char *field, char *buf, size_t size);

/*
 * The note that marks a Zoho Books contact as made for a Togai account, and
 * which a search by search_text finds again.
 */
extern void tz_contact_marker(const char *account_id, char *buf, size_t size);

/*
 * The body of POST/PUT /contacts for a Togai account row, with the Zoho
 * currency id when known; NULL if the row lacks a name or an account id.
 */
extern json_t *tz_contact_body(const json_t *account, const json_t *options,
							   const char *currency_id);

/*
 * Finds, in an answer to GET /contacts?search_text=<account id>, the contact
 * made for the account: by the marker in notes, by the Togai id in a custom
 * field, or, when the list shows neither, by the exact contact name.
 */
extern const char *tz_find_contact(const json_t *answer, const char *account_id,
								   const char *contact_name);

/* The reference number a Zoho Books invoice carries for a Togai invoice. */
extern const char *tz_invoice_reference(const json_t *invoice, char *buf, size_t size);

/*
 * The body of POST /invoices for a Togai invoice row and the mapped contact;
 * context holds the exact lines and adjustment (togai_zoho.invoice_line_items).
 */
extern json_t *tz_invoice_body(const json_t *invoice, const char *contact_id,
							   const json_t *options, const json_t *context);

/* Finds, in an answer to GET /invoices?reference_number=..., the invoice for the contact. */
extern const char *tz_find_invoice(const json_t *answer, const char *reference,
								   const char *contact_id);

/* The id of a created object: answer[object][id_key]. */
extern const char *tz_created_id(const json_t *answer, const char *object, const char *id_key);

/* The currency_id of a currency code in an answer to GET /settings/currencies. */
extern const char *tz_find_currency(const json_t *answer, const char *code);

/*
 * The PATCH /accounts body that writes the contact id under key into the
 * account's metadata, keeping its other keys; NULL when it is there already.
 */
extern json_t *tz_write_back_body(const json_t *account, const char *key, const char *contact_id);

/* Togai's sourceType for a Zoho Books payment mode (GATEWAY when unknown). */
extern const char *tz_togai_source_type(const char *payment_mode);

/*
 * The body of Togai's POST /payments for a Zoho Books payment (object),
 * from the context worked out by the database (account, currency, amount,
 * invoice records, transaction); NULL when the context lacks any of them.
 */
extern json_t *tz_payment_body(const json_t *context, const json_t *object, const json_t *options);

/* Finds, in a page of GET /payments, the payment with this transaction number. */
extern const char *tz_find_payment(const json_t *answer, const char *transaction);

/* The nextToken of a Togai list page, or NULL on the last page. */
extern const char *tz_next_token(const json_t *answer);

/* The PATCH /accounts body copying a Zoho Books contact's name, email and address. */
extern json_t *tz_account_update_body(const json_t *contact);

#endif							/* TZ_ACTION_H */
