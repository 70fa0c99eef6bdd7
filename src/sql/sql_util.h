/*-------------------------------------------------------------------------
 *
 * sql_util.h
 *	  Small helpers shared by the SQL functions that call the apps.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_SQL_UTIL_H
#define TZ_SQL_UTIL_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "clients/api.h"

/*
 * The index of the first element of the answer's list[member] mentioning s
 * (any element, for NULL): a string equal to s or, unless exact, holding s as
 * a whole word.  -1 when none does.
 */
extern int	tz_find_in_list(const TzApiResult *r, const char *member, const char *s, bool exact);

/* Copies a jsonb out of SPI's memory and disconnects from SPI. */
extern Datum tz_finish_jsonb(Jsonb *value, bool *isnull);

/* Appends "key": value as a JSON string (or null), and a comma unless last. */
extern void tz_put_json_text(StringInfo out, const char *key, const char *value, bool last);

#endif							/* TZ_SQL_UTIL_H */
