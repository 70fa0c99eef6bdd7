/*-------------------------------------------------------------------------
 *
 * sql_util.c
 *	  Small helpers shared by the SQL functions that call the apps: finding
 *	  an object in a list answer, returning jsonb out of SPI, writing JSON.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include <ctype.h>

#include "executor/spi.h"
#include "utils/json.h"

#include "sql_util.h"

/* Whether c may be part of an id (letters, digits, '.', '_', '-'). */
static bool
id_char(char c)
{
	return c != '\0' && (isalnum((unsigned char) c) || strchr("._-", c) != NULL);
}

/* Whether needle stands in haystack as a whole word (ids never abut id characters). */
static bool
contains_word(const char *haystack, const char *needle)
{
	size_t		n = strlen(needle);

	if (n == 0)
		return false;
	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
	{
		char		before = p == haystack ? ' ' : p[-1];
		char		after = p[n];

		if (!id_char(before) && !id_char(after))
			return true;
	}
	return false;
}

/* Whether some string inside v is s (or, unless exact, holds s as a word). */
static bool
json_mentions(json_t *v, const char *s, bool exact, int depth)
{
	const char *key;
	json_t	   *item;
	size_t		i;

	if (depth > 8)
		return false;
	if (json_is_string(v))
		return strcmp(json_string_value(v), s) == 0 ||
			(!exact && contains_word(json_string_value(v), s));
	if (json_is_object(v))
		json_object_foreach(v, key, item)
			if (json_mentions(item, s, exact, depth + 1))
			return true;
	if (json_is_array(v))
		json_array_foreach(v, i, item)
			if (json_mentions(item, s, exact, depth + 1))
			return true;
	return false;
}

/* The index of the first element of list[member] mentioning s (any, for NULL), or -1. */
int
tz_find_in_list(const TzApiResult *r, const char *member, const char *s, bool exact)
{
	json_t	   *list = r->root ? json_object_get(r->root, member) : NULL;
	json_t	   *item;
	size_t		i;

	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, item)
		if (s == NULL || json_mentions(item, s, exact, 0))
		return (int) i;
	return -1;
}

/* Copies a jsonb out of SPI's memory and disconnects. */
Datum
tz_finish_jsonb(Jsonb *value, bool *isnull)
{
	Datum		d = (Datum) 0;

	*isnull = (value == NULL);
	if (value)
		d = SPI_datumTransfer(JsonbPGetDatum(value), false, -1);
	SPI_finish();
	return d;
}

/* Appends "key": value-as-JSON-string (or null). */
void
tz_put_json_text(StringInfo out, const char *key, const char *value, bool last)
{
	escape_json(out, key);
	appendStringInfoString(out, ": ");
	if (value)
		escape_json(out, value);
	else
		appendStringInfoString(out, "null");
	if (!last)
		appendStringInfoString(out, ", ");
}
