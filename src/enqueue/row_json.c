/*-------------------------------------------------------------------------
 *
 * row_json.c
 *	  A table's rows as json text, for the jobs the trigger stages.
 *
 * row_to_json() looks every column's type up again for every row, and its
 * garbage stays until the statement ends; a bulk insert's trigger spent half
 * its time there.  This does the look-ups once per statement and makes the
 * same json: numbers bare unless they are not JSON numbers (NaN,
 * Infinity), dates and timestamps in ISO 8601, json and jsonb as they are,
 * text escaped.  Any other type goes through to_json(), which knows arrays,
 * composites and casts to json.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "row_json.h"

typedef enum ColumnKind
{
	COLUMN_NUMBER,
	COLUMN_BOOL,
	COLUMN_STRING,
	COLUMN_JSON,
	COLUMN_DATETIME,
	COLUMN_OTHER				/* to_json() */
} ColumnKind;

typedef struct Column
{
	int			index;			/* in the tuple descriptor */
	Oid			typid;
	ColumnKind	kind;
	char	   *key;			/* "name": */
	FmgrInfo	fn;				/* output function, or to_json() for COLUMN_OTHER */
} Column;

struct TzRowJson
{
	TupleDesc	desc;
	int			ncolumns;
	Column	   *columns;
	Datum	   *values;
	bool	   *nulls;
	StringInfoData buf;
};

static ColumnKind
column_kind(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return COLUMN_NUMBER;
		case BOOLOID:
			return COLUMN_BOOL;
		case TEXTOID:
		case VARCHAROID:
			return COLUMN_STRING;
		case JSONOID:
		case JSONBOID:
			return COLUMN_JSON;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return COLUMN_DATETIME;
		default:
			return COLUMN_OTHER;
	}
}

TzRowJson *
tz_row_json_begin(TupleDesc desc)
{
	TzRowJson  *rj = palloc0(sizeof(TzRowJson));

	rj->desc = desc;
	rj->columns = palloc0(sizeof(Column) * desc->natts);
	rj->values = palloc(sizeof(Datum) * desc->natts);
	rj->nulls = palloc(sizeof(bool) * desc->natts);
	initStringInfo(&rj->buf);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Column	   *c = &rj->columns[rj->ncolumns];
		StringInfoData key;

		if (att->attisdropped)
			continue;
		c->index = i;
		c->typid = att->atttypid;
		c->kind = column_kind(att->atttypid);
		initStringInfo(&key);
		escape_json(&key, NameStr(att->attname));
		appendStringInfoChar(&key, ':');
		c->key = key.data;
		if (c->kind == COLUMN_OTHER)
		{
			/* to_json() learns its argument's type from its call expression */
			fmgr_info(F_TO_JSON, &c->fn);
			c->fn.fn_expr = (Node *) makeFuncExpr(F_TO_JSON, JSONOID,
												  list_make1(makeNullConst(att->atttypid, att->atttypmod,
																		   att->attcollation)),
												  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		}
		else if (c->kind != COLUMN_BOOL && c->kind != COLUMN_DATETIME)
		{
			Oid			out;
			bool		varlena;

			getTypeOutputInfo(att->atttypid, &out, &varlena);
			fmgr_info(out, &c->fn);
		}
		rj->ncolumns++;
	}
	return rj;
}

static void
append_value(StringInfo buf, Column *c, Datum value)
{
	char	   *s;
	char		date[MAXDATELEN + 1];
	text	   *json;

	switch (c->kind)
	{
		case COLUMN_NUMBER:
			s = OutputFunctionCall(&c->fn, value);
			if (IsValidJsonNumber(s, strlen(s)))
				appendStringInfoString(buf, s);
			else
				escape_json(buf, s);
			pfree(s);
			break;
		case COLUMN_BOOL:
			appendStringInfoString(buf, DatumGetBool(value) ? "true" : "false");
			break;
		case COLUMN_STRING:
			s = OutputFunctionCall(&c->fn, value);
			escape_json(buf, s);
			pfree(s);
			break;
		case COLUMN_JSON:
			s = OutputFunctionCall(&c->fn, value);
			appendStringInfoString(buf, s);
			pfree(s);
			break;
		case COLUMN_DATETIME:
			JsonEncodeDateTime(date, value, c->typid, NULL);
			appendStringInfoChar(buf, '"');
			appendStringInfoString(buf, date);
			appendStringInfoChar(buf, '"');
			break;
		case COLUMN_OTHER:
			json = DatumGetTextPP(FunctionCall1(&c->fn, value));
			appendBinaryStringInfo(buf, VARDATA_ANY(json), VARSIZE_ANY_EXHDR(json));
			pfree(json);
			break;
	}
}

Datum
tz_row_json(TzRowJson *rj, HeapTuple tuple)
{
	StringInfo	buf = &rj->buf;

	heap_deform_tuple(tuple, rj->desc, rj->values, rj->nulls);
	resetStringInfo(buf);
	appendStringInfoChar(buf, '{');
	for (int k = 0; k < rj->ncolumns; k++)
	{
		Column	   *c = &rj->columns[k];

		if (k > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, c->key);
		if (rj->nulls[c->index])
			appendStringInfoString(buf, "null");
		else
			append_value(buf, c, rj->values[c->index]);
	}
	appendStringInfoChar(buf, '}');
	return PointerGetDatum(cstring_to_text_with_len(buf->data, buf->len));
}
