/*-------------------------------------------------------------------------
 *
 * kept_plan.c
 *	  SPI statements prepared once per backend and kept: every statement
 *	  the extension runs from C is one of these.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "kept_plan.h"

static SPIPlanPtr
kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types, int options)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, types, options);

		if (plan == NULL)
			elog(ERROR, "togai_zoho: could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		*slot = plan;
	}
	return *slot;
}

SPIPlanPtr
tz_kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	return kept_plan(slot, sql, nargs, types, 0);
}

/*
 * A plan that is never re-planned for its values, for statements whose
 * parameters (arrays, above all) make every custom plan look cheaper than
 * the generic one: the job writer's.  Not for the claims: their time bound
 * picks the index only in a custom plan.
 */
SPIPlanPtr
tz_kept_generic_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	return kept_plan(slot, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
}

