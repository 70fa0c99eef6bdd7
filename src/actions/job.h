/*-------------------------------------------------------------------------
 *
 * job.h
 *	  One outbox job while it is held by a worker or process_outbox(): what
 *	  was claimed, where its actions stand, and how its attempt ended.
 *
 * Each job lives in its own memory context, deleted once its outcome is
 * written, so a long drain never accumulates memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_JOB_H
#define TZ_ACTIONS_JOB_H

#include "pg_jansson.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "pure/action.h"
#include "clients/api.h"
#include "clients/conn.h"

/* How an attempt ended; the names are outbox_attempt.outcome. */
typedef enum TzOutcome
{
	TZ_OUTCOME_NONE,			/* still running */
	TZ_OUTCOME_DELIVERED,
	TZ_OUTCOME_RETRY,
	TZ_OUTCOME_DEAD,
	TZ_OUTCOME_DEFERRED,		/* waits for another object: not an attempt */
	TZ_OUTCOME_THROTTLED		/* the remote asked to wait: not an attempt */
} TzOutcome;

/* Where the current action stands. */
typedef enum TzPhase
{
	TZ_PHASE_START,
	TZ_PHASE_SEARCH,
	TZ_PHASE_CREATE,
	TZ_PHASE_UPDATE,
	TZ_PHASE_VOID,
	TZ_PHASE_WRITE_OFF,
	TZ_PHASE_REFUNDS_READ,		/* reading the refunds a found credit note has */
	TZ_PHASE_CREDIT,			/* applying a credit note to its invoice */
	TZ_PHASE_REFUND,			/* refunding from a credit note */
	TZ_PHASE_ADVANCE_READ,		/* reading a customer advance the extension recorded */
	TZ_PHASE_ADVANCE_APPLY,		/* applying advances to an invoice */
	TZ_PHASE_EXCHANGE_RATE,		/* reading Zoho Books' rate of a currency for a date */
	TZ_PHASE_CURRENCIES,		/* looking up the Zoho currency id of a code */
	TZ_PHASE_READ,				/* reading the object before a merge-write */
	TZ_PHASE_CONFIRM,			/* reading a search's candidate: is it ours? */
	TZ_PHASE_ITEM_SEARCH,		/* looking up the Zoho item of a line by name */
	TZ_PHASE_ITEM_CREATE		/* making that item */
} TzPhase;

/* One action of the job's flow. */
typedef struct TzJobAction
{
	int			position;
	char	   *name;
	TzActionKind kind;
	int64		connection_id;
	bool		togai;			/* the action changes Togai (else Zoho Books) */
	json_t	   *options;
	char	   *currency_id;	/* Zoho currency id of the account's currency */
	json_t	   *items;			/* Zoho item ids by name, known or learnt (invoice_create) */
	/* mappings known when claimed (NULL: none) */
	char	   *account_zoho_id;
	char	   *invoice_zoho_id;
	/* Zoho Books' exchange rate read for the object's currency and date (NULL: none) */
	bool		rate_read;
	json_t	   *rate;
	const char *rate_date;
} TzJobAction;

/* A Zoho Books item found or made, to keep for later invoices. */
typedef struct TzLearntItem
{
	int64		connection_id;
	char	   *name;
	char	   *item_id;
} TzLearntItem;

/* A Zoho Books exchange rate read, to keep for later objects of that currency and day. */
typedef struct TzLearntRate
{
	int64		connection_id;
	char	   *currency;
	char	   *day;
	char	   *rate;			/* as text; NULL: Zoho Books has none */
	char	   *effective;		/* its date, or NULL */
} TzLearntRate;

/* A Zoho Books invoice made as a draft, to mark sent with the next bulk call. */
typedef struct TzUnsentInvoice
{
	int64		connection_id;
	char	   *invoice_id;
} TzUnsentInvoice;

/* A mapping to store, whatever the attempt's outcome. */
typedef struct TzNewMapping
{
	const char *entity;
	int64		togai_connection_id;
	int64		zohobooks_connection_id;
	char	   *togai_id;
	char	   *togai_customer_id;
	char	   *zohobooks_id;
} TzNewMapping;

typedef struct TzJob
{
	MemoryContext cxt;
	int64		id;
	int64		flow_id;
	int64		source_connection_id;
	char	   *entity;
	char	   *source_id;
	json_t	   *payload;
	json_t	   *context;		/* what the database worked out (togai_zoho.job_context) */
	int			attempts;		/* including this one */
	bool		may_exist;		/* an earlier attempt may have created the object */
	TimestampTz started_at;

	int			nactions;		/* the flow's actions from step onwards */
	TzJobAction *actions;
	int			current;		/* index into actions */
	TzPhase		phase;
	bool		refreshed;		/* token refreshed once after a 401 */
	bool		search_first;	/* look for objects an earlier attempt may have made */
	bool		created_sent;	/* a create may have reached the remote */
	bool		sent_any;		/* a request of this claim went out */

	/* what the current action found out on its way */
	void	   *state;			/* its module's own (kit.h: tz_step_state) */
	char	   *call_item;		/* the item name being looked up or made (lookups.c) */
	char	   *note;			/* said in the action's result ("note") */

	/* the call the current phase makes (planned by an action module) */
	int64		call_connection_id;
	const char *call_method;
	char	   *call_path;
	char	   *call_query;		/* escaped, or NULL */
	char	   *call_body;		/* JSON, or NULL */
	bool		call_creates;	/* a repeat could make a duplicate */
	const char *call_unique_key;	/* an upsert: the unique custom field's API name */
	const char *call_unique_value;	/* ... and the Togai id it holds */

	/* the request in flight, or ready to go */
	TzHttpRequest req;
	bool		in_flight;
	bool		needs_token;	/* a token must be minted (in a transaction) first */
	bool		force_token;	/* ... even though the one we have looks fresh */
	TimestampTz not_before;		/* rate limit: start no earlier */
	int			requests;

	/* the outcome */
	TzOutcome	outcome;
	long		http_status;
	char	   *error;
	int64		delay_ms;
	char	   *waiting_for;
	List	   *mappings;		/* of TzNewMapping */
	char	   *currency_code;	/* a currency id learnt, to keep (with currency_id) */
	char	   *currency_id;
	int64		currency_connection_id;
	List	   *items_learnt;	/* of TzLearntItem */
	List	   *rates_learnt;	/* of TzLearntRate */
	List	   *unsent;			/* of TzUnsentInvoice */
	StringInfoData result;		/* JSON array of what each action did */
} TzJob;

/* The step to store: the position of the first action not yet done. */
extern int	tz_job_step(const TzJob *job);

extern const char *tz_outcome_name(TzOutcome outcome);

#endif							/* TZ_ACTIONS_JOB_H */
