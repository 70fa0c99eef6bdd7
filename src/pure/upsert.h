/*-------------------------------------------------------------------------
 *
 * upsert.h
 *	  Zoho Books' upsert by a unique custom field: the field's entry in a
 *	  create body, and what a probe of the field answered.
 *
 * A create sent as PUT /<module> with X-Unique-Identifier-Key (the field's
 * API name), X-Unique-Identifier-Value (the Togai id) and X-Upsert: true
 * updates the object holding that value, or makes it: sent twice, it
 * leaves one object.  Whether Zoho stores the header's value in the new
 * object is unsure, so the body carries it too, addressed as each module's
 * create body documents custom fields.  Pure code: jansson only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_UPSERT_H
#define TZ_UPSERT_H

#include <stdbool.h>

#include <jansson.h>

/* The headers of an upsert (and of a probe, without the last). */
#define TZ_UPSERT_KEY_HEADER "X-Unique-Identifier-Key"
#define TZ_UPSERT_VALUE_HEADER "X-Unique-Identifier-Value"
#define TZ_UPSERT_CREATE_HEADER "X-Upsert"

/*
 * The entry naming the field in a body's custom_fields: contacts by index
 * (1 to 10, as digits) or label; invoices and credit notes by customfield_id;
 * payments by customfield_id (digits) or label.  NULL for another entity.
 */
extern json_t *tz_upsert_field_entry(const char *entity, const char *body_field,
									 const char *value);

/*
 * Puts the field's entry into the body's custom_fields, replacing an entry
 * that addresses the same field (the flow's options may name it too).
 * Takes the entry.
 */
extern void tz_upsert_set_field(json_t *body, json_t *entry);

/* Each line of a credit note names its invoice (the upsert takes no invoice_id parameter). */
extern void tz_upsert_credit_note_lines(json_t *body, const char *invoice_id);

/*
 * Whether the answer to a probe (the field's key, a value nobody holds, no
 * X-Upsert) says that no object holds the value, which is what Zoho answers
 * when the field is a unique custom field of the module: HTTP 404, or code
 * 1002 ("... does not exist").  Anything else refuses the field.
 */
extern bool tz_upsert_probe_usable(long http_status, const json_t *answer);

#endif							/* TZ_UPSERT_H */
