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
	TZ_ACTION_UNSUPPORTED		/* in the catalogue, not deliverable yet */
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

/* The body of POST/PUT /contacts for a Togai account row; NULL if the row lacks a name. */
extern json_t *tz_contact_body(const json_t *account, const json_t *options);

/*
 * Finds, in an answer to GET /contacts?search_text=<account id>, the contact
 * made for the account: by the marker in notes, by the Togai id in a custom
 * field, or, when the list shows neither, by the exact contact name.
 */
extern const char *tz_find_contact(const json_t *answer, const char *account_id,
								   const char *contact_name);

/* The reference number a Zoho Books invoice carries for a Togai invoice. */
extern const char *tz_invoice_reference(const json_t *invoice, char *buf, size_t size);

/* The body of POST /invoices for a Togai invoice row and the mapped contact. */
extern json_t *tz_invoice_body(const json_t *invoice, const char *contact_id,
							   const json_t *options);

/* Finds, in an answer to GET /invoices?reference_number=..., the invoice for the contact. */
extern const char *tz_find_invoice(const json_t *answer, const char *reference,
								   const char *contact_id);

/* The id of a created object: answer[object][id_key]. */
extern const char *tz_created_id(const json_t *answer, const char *object, const char *id_key);

#endif							/* TZ_ACTION_H */
