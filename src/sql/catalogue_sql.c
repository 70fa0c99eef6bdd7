/*-------------------------------------------------------------------------
 *
 * catalogue_sql.c
 *	  The library's catalogue, seen from SQL: invoice_is_generated(), the
 *	  one rule of a generated invoice, and library_catalogue(), what this
 *	  library implements (held against trigger_def and action_def by the
 *	  catalogue regress test).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pure/catalogue.h"

PG_FUNCTION_INFO_V1(invoice_is_generated);
PG_FUNCTION_INFO_V1(library_catalogue);

/* invoice_is_generated(status text) returns boolean (strict) */
Datum
invoice_is_generated(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tz_invoice_is_generated(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * library_catalogue(OUT kind text, OUT name text, OUT app text, OUT entity text)
 * returns setof record: one row per trigger (entity: what it reports) and per
 * action (entity: the mapping it writes, if any).
 */
Datum
library_catalogue(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < tz_ntrigger_defs; i++)
	{
		Datum		values[4] = {CStringGetTextDatum("trigger"),
			CStringGetTextDatum(tz_trigger_defs[i].name),
			CStringGetTextDatum(tz_trigger_defs[i].app),
		CStringGetTextDatum(tz_trigger_defs[i].entity)};
		bool		nulls[4] = {false, false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int k = 0; k < TZ_ACTION_UNSUPPORTED; k++)
	{
		const TzActionDef *a = &tz_action_defs[k];
		Datum		values[4] = {CStringGetTextDatum("action"), CStringGetTextDatum(a->name),
			CStringGetTextDatum(a->app), a->maps ? CStringGetTextDatum(a->maps) : (Datum) 0};
		bool		nulls[4] = {false, false, false, a->maps == NULL};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
