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

/* Triggers of the catalogue (trigger_def), as bits. */
#define TZ_TRG_ACCOUNT_CREATED		(1u << 0)
#define TZ_TRG_ACCOUNT_UPDATED		(1u << 1)
#define TZ_TRG_ACCOUNT_CHANGED		(1u << 2)
#define TZ_TRG_INVOICE_GENERATED	(1u << 3)
#define TZ_TRG_INVOICE_VOIDED		(1u << 4)
#define TZ_TRG_PAYMENT_RECORDED		(1u << 5)
#define TZ_TRG_INVOICE_PAID			(1u << 6)
#define TZ_TRG_CONTACT_UPDATED		(1u << 7)

typedef enum TzApp
{
	TZ_APP_TOGAI,
	TZ_APP_ZOHOBOOKS
} TzApp;

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

#endif							/* TZ_FLOW_CACHE_H */
