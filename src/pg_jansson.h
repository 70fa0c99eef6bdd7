/*-------------------------------------------------------------------------
 *
 * pg_jansson.h
 *	  jansson inside the server.  PostgreSQL's fmgrprotos.h and jansson both
 *	  declare json_object(); include this right after postgres.h, before any
 *	  header that pulls in utils/builtins.h, so the two never meet.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_PG_JANSSON_H
#define TZ_PG_JANSSON_H

#define json_object pg_json_object_sql_function
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#undef json_object

#include <jansson.h>

#endif							/* TZ_PG_JANSSON_H */
