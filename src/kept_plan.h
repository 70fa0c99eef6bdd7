/*-------------------------------------------------------------------------
 *
 * kept_plan.h
 *	  SPI statements prepared once per backend and kept.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_KEPT_PLAN_H
#define TZ_KEPT_PLAN_H

#include "postgres.h"

#include "executor/spi.h"

/* A statement prepared once per backend and kept in *slot. */
extern SPIPlanPtr tz_kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types);

/* The same, always run with its generic plan. */
extern SPIPlanPtr tz_kept_generic_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types);

#endif
