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

#include <stdbool.h>

#include <jansson.h>

#include "catalogue.h"

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

/* Zoho Books' documented limits: line and person names, search texts, payment terms. */
#define TZ_ZOHO_MAX_NAME	100
#define TZ_ZOHO_MAX_SEARCH	100
#define TZ_ZOHO_MAX_TERMS	100

/* How a contact is named when the account's own name is taken in the organization. */
#define TZ_DISTINCT_NAME_PATTERN "{name} ({account_id})"

/* The item of the one line that stands for a whole invoice. */
#define TZ_TOTAL_ITEM_NAME "Togai invoice"

/*
 * The payment terms of a row (the option payment_terms, else its
 * net_term_days), capped at Zoho's 100 days (capped says so); -1 for none.
 */
extern int	tz_payment_terms(const json_t *row, const json_t *options, bool *capped);

/*
 * The contact name of an account: its name (or the field the options name),
 * or, distinct, the options' contact_name_pattern ({name} and {account_id})
 * or TZ_DISTINCT_NAME_PATTERN.  malloc'd; NULL without a name or account id.
 */
extern char *tz_contact_name(const json_t *account, const json_t *options, bool distinct);

/*
 * The body of POST/PUT /contacts for a Togai account row, with the Zoho
 * currency id when known; NULL if the row lacks a name or an account id.
 * current is the whole contact an update changes (its primary person keeps
 * its id, a distinct name stays), or NULL.
 */
extern json_t *tz_contact_body(const json_t *account, const json_t *options,
							   const char *currency_id, const json_t *current, bool distinct);

/*
 * The search_text that finds an account's contacts (Zoho searches names and
 * notes): the account id, cut to 100 characters.
 */
extern void tz_contact_search_text(const char *account_id, char *buf, size_t size);

/*
 * The contact ids of a search answer as a new array, those named name or
 * distinct_name first.  Candidates only: list entries carry no notes, so
 * each must be read and confirmed with tz_contact_is_ours().
 */
extern json_t *tz_contact_candidates(const json_t *answer, const char *name,
									 const char *distinct_name);

/*
 * Whether a whole contact (GET /contacts/{id}) was made for the account: the
 * marker in its notes, or the account id in the custom field the options'
 * togai_id_custom_field names (an index, or a label).  Never by name.
 */
extern bool tz_contact_is_ours(const json_t *contact, const char *account_id,
							   const json_t *options);

/* The reference number a Zoho Books invoice carries for a Togai invoice. */
extern const char *tz_invoice_reference(const json_t *invoice, char *buf, size_t size);

/*
 * The body of POST /invoices for a Togai invoice row and the mapped contact;
 * context holds the exact lines and adjustment (togai_zoho.invoice_line_items),
 * items the Zoho item id of each line's item name.
 */
extern json_t *tz_invoice_body(const json_t *invoice, const char *contact_id,
							   const json_t *options, const json_t *context,
							   const json_t *items);

/* The item names an invoice's lines need (none with a fixed item_id), as a new array. */
extern json_t *tz_invoice_item_names(const json_t *invoice, const json_t *options,
									 const json_t *context);

/* The item_id of the item named name in an answer to GET /items?name=. */
extern const char *tz_find_item(const json_t *answer, const char *name);

/* The body of POST /items for an item billed by Togai. */
extern json_t *tz_item_body(const char *name, const json_t *options);

/* Whether a Zoho Books refusal says the name or number is taken. */
extern bool tz_zoho_duplicate(long http_status, const json_t *answer);

/* Finds, in an answer to GET /invoices?reference_number=..., the invoice of the contact. */
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

/*
 * The body of Zoho Books' POST /customerpayments for a Togai payment: the
 * body the database planned for this connection (togai_payment_context()'s
 * apply entry), for the contact, with the action's options (payment_mode,
 * deposit_account_id); NULL when there is nothing to apply (no invoice, no
 * advance to prepaid credits or the wallet).
 */
extern json_t *tz_zoho_payment_body(const json_t *planned, const char *contact_id,
									const json_t *options);

/* The payment ids of an answer to GET /customerpayments, as a new array. */
extern json_t *tz_zoho_payment_candidates(const json_t *answer);

/*
 * Whether a whole Zoho Books payment is the one made for a Togai payment:
 * its reference number is that payment's id, and it is the contact's.
 */
extern bool tz_zoho_payment_is(const json_t *payment, const char *reference,
							   const char *contact_id);

/*
 * The rate of an answer to GET /settings/currencies/{id}/exchangerates for
 * a date: the entry of that date or the closest before it (its effective
 * date in *effective); NULL when there is none.  Borrowed from the answer.
 */
extern json_t *tz_find_exchange_rate(const json_t *answer, const char *date,
									 const char **effective);

/* The PATCH /accounts body copying a Zoho Books contact's name, email and address. */
extern json_t *tz_account_update_body(const json_t *contact);

#endif							/* TZ_ACTION_H */
