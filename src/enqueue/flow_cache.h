/*-------------------------------------------------------------------------
 *
 * flow_cache.h
 *	  Per-session cache of connections and enabled flows, for the enqueue
 *	  trigger's hot path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_FLOW_CACHE_H
#define TZ_FLOW_CACHE_H

#include "app.h"
#include "pure/catalogue.h"

/*
 * A connection as the enqueue trigger sees it: its id, name and app, for
 * every change of every writer.  Two fuller forms exist on purpose:
 * TzConnInfo (clients/conn.h) carries the settings and secrets a call
 * needs and is loaded only where calls are made, so that no writer's
 * backend ever holds a secret; ConnEntry (delivery/deliver.c) is the
 * engine's state of one connection (its TzConnInfo, the organization's
 * currencies and items it has learnt) for the life of a worker.
 */
typedef struct TzConnection
{
	int64		id;
	char	   *name;
	TzApp		app;
} TzConnection;

/* An enabled flow that has at least one action. */
typedef struct TzFlow
{
	int64		id;
	int64		connection_id;
	uint32		trigger;		/* one TZ_TRG_* bit */
} TzFlow;

typedef struct TzFlowCache
{
	int			nconnections;
	TzConnection *connections;
	int			nflows;
	TzFlow	   *flows;
	Oid			owner;			/* owner of the extension's tables */
	bool		staging;		/* the schema stages jobs (0.2.0 on) */
} TzFlowCache;

/* Returns the current cache, reloading it if stale.  Caller is connected to SPI. */
extern const TzFlowCache *tz_flow_cache_get(void);

extern const TzConnection *tz_connection_by_id(const TzFlowCache *cache, int64 id);
extern const TzConnection *tz_connection_by_name(const TzFlowCache *cache, const char *name);

/* Every session drops its cache at its next transaction (this one at its next command). */
extern void tz_flow_cache_invalidate(void);

#endif							/* TZ_FLOW_CACHE_H */
