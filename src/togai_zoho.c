/*-------------------------------------------------------------------------
 *
 * togai_zoho.c
 *	  Module entry point: defines the togai_zoho.* settings and, when preloaded,
 *	  asks for the shared segment and registers the worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include <limits.h>

#include "api.h"
#include "enqueue.h"
#include "shmem.h"
#include "togai_zoho.h"
#include "worker.h"

PG_MODULE_MAGIC;

bool		tz_allow_http = false;
char	   *tz_ca_bundle = NULL;
int			tz_request_timeout_ms = 30000;
int			tz_connect_timeout_ms = 10000;
int			tz_max_response_bytes = 8 * 1024 * 1024;
char	   *tz_database_name = NULL;
char	   *tz_role = NULL;
bool		tz_worker_enabled = true;
int			tz_batch_size = 100;
int			tz_max_concurrency = 16;
int			tz_max_attempts = 10;
int			tz_retry_base_ms = 1000;
int			tz_retry_max_ms = 3600 * 1000;
int			tz_ttl_s = 7 * 24 * 3600;
int			tz_look_first_after_failover_s = 3600;
int			tz_stage_min_rows = 1;
int			tz_call_purpose = TZ_PURPOSE_SESSION;
double		tz_poll_share = 0.1;
int			tz_poll_idle_max_s = 600;
int			tz_poll_sweep_s = 3600;
int			tz_togai_sweep_s = 86400;
char	   *tz_togai_open_statuses = NULL;
char	   *tz_debug_fail_answer = NULL;

static const struct config_enum_entry purpose_options[] = {
	{"session", TZ_PURPOSE_SESSION, false},
	{"poll", TZ_PURPOSE_POLL, false},
	{"delivery", TZ_PURPOSE_DELIVERY, true},	/* bulk calls of the worker */
	{NULL, 0, false}
};

void		_PG_init(void);

/*
 * togai_zoho.togai_open_statuses: Togai invoice statuses (InvoicesStatus),
 * comma-separated, each at most once; empty lists none.
 */
static bool
check_open_statuses(char **newval, void **extra, GucSource source)
{
	static const char *const statuses[] = {"DRAFT", "DUE", "PAID", "VOID", "UN_COLLECTIBLE",
		"REFUND_INITIATED", "REFUND_COMPLETED", "MERGED", "PARTIALLY_PAID"};
	char	   *copy = pstrdup(*newval);
	char	   *save = NULL;
	int			seen = 0;

	(void) extra;
	(void) source;
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
	{
		int			i;

		while (*t == ' ')
			t++;
		for (char *e = t + strlen(t); e > t && e[-1] == ' '; e--)
			e[-1] = '\0';
		for (i = 0; i < lengthof(statuses); i++)
			if (strcmp(t, statuses[i]) == 0)
				break;
		if (i == lengthof(statuses))
		{
			GUC_check_errdetail("\"%s\" is not a Togai invoice status.", t);
			GUC_check_errhint("Statuses: DRAFT, DUE, PAID, VOID, UN_COLLECTIBLE, REFUND_INITIATED, "
							  "REFUND_COMPLETED, MERGED, PARTIALLY_PAID.");
			pfree(copy);
			return false;
		}
		if (seen & (1 << i))
		{
			GUC_check_errdetail("\"%s\" is named twice.", t);
			pfree(copy);
			return false;
		}
		seen |= 1 << i;
	}
	pfree(copy);
	return true;
}

/*
 * Module load: settings are defined whether the library is preloaded or
 * loaded on first use, so SHOW and SET work either way (but for the
 * worker's database and role, which only a preloaded library has).
 */
void
_PG_init(void)
{
	DefineCustomBoolVariable("togai_zoho.allow_http",
							 "Allows plain http:// API URLs to hosts other than loopback.",
							 "Off by default: credentials and billing data must travel over TLS. "
							 "Only a superuser may turn it on.",
							 &tz_allow_http,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("togai_zoho.ca_bundle",
							   "PEM file of certificate authorities to trust for the APIs.",
							   "Empty means the system's trust store. Set it for a private CA or a "
							   "TLS-intercepting proxy; verification itself can never be turned off.",
							   &tz_ca_bundle,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.request_timeout_ms",
							"Longest time one API request may take, connection included.",
							NULL,
							&tz_request_timeout_ms,
							30000, 100, 600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.connect_timeout_ms",
							"Longest time to establish a connection to an API.",
							NULL,
							&tz_connect_timeout_ms,
							10000, 100, 600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.max_response_bytes",
							"Largest API answer accepted; a larger one fails the request.",
							NULL,
							&tz_max_response_bytes,
							8 * 1024 * 1024, 1024, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	/*
	 * The worker's own settings exist only where the worker can: defining a
	 * postmaster setting after startup is fatal to the loading backend.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomStringVariable("togai_zoho.database_name",
								   "Database the background worker delivers for.",
								   "The extension must be installed there; the worker idles otherwise.",
								   &tz_database_name,
								   "postgres",
								   PGC_POSTMASTER,
								   0,
								   NULL, NULL, NULL);

		DefineCustomStringVariable("togai_zoho.role",
								   "Role the background worker connects as.",
								   "Empty means the bootstrap superuser. The role must own the "
								   "extension's objects or be a superuser.",
								   &tz_role,
								   "",
								   PGC_POSTMASTER,
								   0,
								   NULL, NULL, NULL);
	}

	DefineCustomBoolVariable("togai_zoho.worker",
							 "Whether the background worker delivers jobs.",
							 "Off pauses delivery (jobs keep queueing); process_outbox() still works.",
							 &tz_worker_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.batch_size",
							"Most jobs claimed in one claim transaction.",
							NULL,
							&tz_batch_size,
							100, 1, 10000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.max_concurrency",
							"Most API requests in flight at once, per worker or session.",
							NULL,
							&tz_max_concurrency,
							16, 1, 1000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.max_attempts",
							"Attempts after which a failing job is dead.",
							"Rate-limit refusals and waits for a mapping do not count.",
							&tz_max_attempts,
							10, 1, 1000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.retry_base",
							"First retry delay; it doubles with each attempt, with jitter.",
							NULL,
							&tz_retry_base_ms,
							1000, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.retry_max",
							"Longest retry delay.",
							NULL,
							&tz_retry_max_ms,
							3600 * 1000, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.ttl",
							"How long delivered jobs are kept before the worker deletes them.",
							"Dead jobs are kept until retried or deleted by hand.",
							&tz_ttl_s,
							7 * 24 * 3600, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.look_first_after_failover",
							"After a new timeline (a promotion, a point-in-time recovery), how long "
							"every new job looks for its object before creating it.",
							"What the old primary polled and created may come back through a poll or "
							"a webhook; jobs not done at the change look first in any case.",
							&tz_look_first_after_failover_s,
							3600, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.stage_min_rows",
							"Changes of at least this many rows stage their jobs for the worker to write.",
							"The writer then adds one outbox_stage row per 1,000 jobs instead of an outbox "
							"row per job; the worker (or process_outbox) writes the jobs moments later. "
							"0: never, every change writes its outbox jobs itself.",
							&tz_stage_min_rows,
							1, 0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("togai_zoho.call_purpose",
							 "What this session's API calls count as in togai_zoho.api_usage.",
							 "The poll functions set it for their own calls.",
							 &tz_call_purpose,
							 TZ_PURPOSE_SESSION, purpose_options,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("togai_zoho.poll_share",
							 "Share of a connection's daily API budget that polls may spend.",
							 "The rest is kept for delivery and sessions; polls space themselves "
							 "to make their share last the day.",
							 &tz_poll_share,
							 0.1, 0.0, 1.0,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.poll_idle_max",
							"Longest wait between two polls of a stream that found nothing new.",
							"A quiet stream waits twice as long after each quiet poll, up to this; "
							"a change brings it back to every call. 0: every call polls.",
							&tz_poll_idle_max_s,
							600, 0, 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.poll_sweep",
							"Wait between two polls of a list while the connection's webhooks are set up.",
							"Webhooks bring the changes; the sweep catches any they missed (Zoho "
							"Books: register_zohobooks_webhook; Togai: set_togai_webhook).",
							&tz_poll_sweep_s,
							3600, 60, 7 * 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.togai_sweep",
							"Wait between two full walks of a Togai connection's lists.",
							"Polls in between read only what can still change (the invoices in "
							"togai_zoho.togai_open_statuses, recent invoices, new accounts); the "
							"sweep catches anything else, customers' renames among it.",
							&tz_togai_sweep_s,
							86400, 60, 30 * 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("togai_zoho.togai_open_statuses",
							   "Togai invoice statuses every poll reads (comma-separated).",
							   "Invoices in these statuses can still move; one that leaves them is "
							   "read alone. An invoice in another status is read again only by the "
							   "sweep (togai_zoho.togai_sweep), a webhook, or its own move.",
							   &tz_togai_open_statuses,
							   "DRAFT,DUE,PARTIALLY_PAID,REFUND_INITIATED,REFUND_COMPLETED",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_open_statuses, NULL, NULL);

	/* a test aid, like PostgreSQL's own debug_ settings: hidden from SHOW ALL and the sample */
	DefineCustomStringVariable("togai_zoho.debug_fail_answer",
							   "Raises an error in the step taking the answer of a call whose path "
							   "contains this text (tests only).",
							   "Shows how a job whose step fails is stopped alone.",
							   &tz_debug_fail_answer,
							   "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("togai_zoho");
	tz_enqueue_init();

	if (process_shared_preload_libraries_in_progress && !IsBinaryUpgrade)
	{
		tz_shmem_init();
		tz_worker_register();
	}

	/* jansson objects live in memory contexts, so errors cannot leak them */
	tz_json_use_palloc();
}
