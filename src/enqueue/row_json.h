/*-------------------------------------------------------------------------
 *
 * row_json.h
 *	  A table's rows as json text, what row_to_json() makes of them, with
 *	  each column's type looked up once per statement instead of per row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ROW_JSON_H
#define TZ_ROW_JSON_H

#include "access/htup.h"
#include "access/tupdesc.h"

typedef struct TzRowJson TzRowJson;

/* Prepares the columns of desc; lives in the current memory context. */
extern TzRowJson *tz_row_json_begin(TupleDesc desc);

/* The row as a json datum, in the current memory context. */
extern Datum tz_row_json(TzRowJson *rj, HeapTuple tuple);

#endif							/* TZ_ROW_JSON_H */
