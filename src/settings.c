/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The togai_zoho.* settings: one table, defined at module load.
 *
 * The variables' initial values repeat the boot values, as PostgreSQL's own
 * settings do (assert-enabled servers compare them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "pure/budget.h"
#include "settings.h"

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

typedef enum TzSettingKind
{
	TZ_SETTING_BOOL,
	TZ_SETTING_INT,
	TZ_SETTING_REAL,
	TZ_SETTING_STRING,
	TZ_SETTING_ENUM
} TzSettingKind;

/* One setting, named without the togai_zoho. prefix. */
typedef struct TzSetting
{
	TzSettingKind kind;
	const char *name;
	const char *short_desc;
	const char *long_desc;
	void	   *value;
	bool		boot_bool;
	int			boot_int;		/* also an enum's */
	double		boot_real;
	const char *boot_string;
	double		min;
	double		max;
	const struct config_enum_entry *options;
	GucContext	context;
	int			flags;
	GucStringCheckHook check_string;
	/*
	 * The worker's own settings exist only where the worker can: defining a
	 * postmaster setting after startup is fatal to the loading backend.
	 */
	bool		preload_only;
} TzSetting;

/* debug_fail_answer is a test aid, like PostgreSQL's debug_ settings: hidden from SHOW ALL */
static const TzSetting settings[] = {
	{
		.kind = TZ_SETTING_BOOL, .name = "allow_http",
		.short_desc = "Allows plain http:// API URLs to hosts other than loopback.",
		.long_desc = "Off by default: credentials and billing data must travel over TLS. Only "
			"a superuser may turn it on.",
		.value = &tz_allow_http, .boot_bool = false,
		.context = PGC_SUSET,
	},
	{
		.kind = TZ_SETTING_STRING, .name = "ca_bundle",
		.short_desc = "PEM file of certificate authorities to trust for the APIs.",
		.long_desc = "Empty means the system's trust store. Set it for a private CA or a "
			"TLS-intercepting proxy; verification itself can never be turned off.",
		.value = &tz_ca_bundle, .boot_string = "",
		.context = PGC_SUSET,
	},
	{
		.kind = TZ_SETTING_INT, .name = "request_timeout_ms",
		.short_desc = "Longest time one API request may take, connection included.",
		.long_desc = NULL,
		.value = &tz_request_timeout_ms, .boot_int = 30000, .min = 100, .max = 600000,
		.context = PGC_USERSET, .flags = GUC_UNIT_MS,
	},
	{
		.kind = TZ_SETTING_INT, .name = "connect_timeout_ms",
		.short_desc = "Longest time to establish a connection to an API.",
		.long_desc = NULL,
		.value = &tz_connect_timeout_ms, .boot_int = 10000, .min = 100, .max = 600000,
		.context = PGC_USERSET, .flags = GUC_UNIT_MS,
	},
	{
		.kind = TZ_SETTING_INT, .name = "max_response_bytes",
		.short_desc = "Largest API answer accepted; a larger one fails the request.",
		.long_desc = NULL,
		.value = &tz_max_response_bytes, .boot_int = 8 * 1024 * 1024, .min = 1024, .max = INT_MAX,
		.context = PGC_USERSET, .flags = GUC_UNIT_BYTE,
	},
	{
		.kind = TZ_SETTING_STRING, .name = "database_name",
		.short_desc = "Database the background worker delivers for.",
		.long_desc = "The extension must be installed there; the worker idles otherwise.",
		.value = &tz_database_name, .boot_string = "postgres",
		.context = PGC_POSTMASTER, .preload_only = true,
	},
	{
		.kind = TZ_SETTING_STRING, .name = "role",
		.short_desc = "Role the background worker connects as.",
		.long_desc = "Empty means the bootstrap superuser. The role must own the extension's "
			"objects or be a superuser.",
		.value = &tz_role, .boot_string = "",
		.context = PGC_POSTMASTER, .preload_only = true,
	},
	{
		.kind = TZ_SETTING_BOOL, .name = "worker",
		.short_desc = "Whether the background worker delivers jobs.",
		.long_desc = "Off pauses delivery (jobs keep queueing); process_outbox() still works.",
		.value = &tz_worker_enabled, .boot_bool = true,
		.context = PGC_SIGHUP,
	},
	{
		.kind = TZ_SETTING_INT, .name = "batch_size",
		.short_desc = "Most jobs claimed in one claim transaction.",
		.long_desc = NULL,
		.value = &tz_batch_size, .boot_int = 100, .min = 1, .max = 10000,
		.context = PGC_SUSET,
	},
	{
		.kind = TZ_SETTING_INT, .name = "max_concurrency",
		.short_desc = "Most API requests in flight at once, per worker or session.",
		.long_desc = NULL,
		.value = &tz_max_concurrency, .boot_int = 16, .min = 1, .max = 1000,
		.context = PGC_SUSET,
	},
	{
		.kind = TZ_SETTING_INT, .name = "max_attempts",
		.short_desc = "Attempts after which a failing job is dead.",
		.long_desc = "Rate-limit refusals and waits for a mapping do not count.",
		.value = &tz_max_attempts, .boot_int = 10, .min = 1, .max = 1000,
		.context = PGC_SUSET,
	},
	{
		.kind = TZ_SETTING_INT, .name = "retry_base",
		.short_desc = "First retry delay; it doubles with each attempt, with jitter.",
		.long_desc = NULL,
		.value = &tz_retry_base_ms, .boot_int = 1000, .min = 1, .max = INT_MAX,
		.context = PGC_SUSET, .flags = GUC_UNIT_MS,
	},
	{
		.kind = TZ_SETTING_INT, .name = "retry_max",
		.short_desc = "Longest retry delay.",
		.long_desc = NULL,
		.value = &tz_retry_max_ms, .boot_int = 3600 * 1000, .min = 1, .max = INT_MAX,
		.context = PGC_SUSET, .flags = GUC_UNIT_MS,
	},
	{
		.kind = TZ_SETTING_INT, .name = "ttl",
		.short_desc = "How long delivered jobs are kept before the worker deletes them.",
		.long_desc = "Dead jobs are kept until retried or deleted by hand.",
		.value = &tz_ttl_s, .boot_int = 7 * 24 * 3600, .min = 0, .max = INT_MAX,
		.context = PGC_SUSET, .flags = GUC_UNIT_S,
	},
	{
		.kind = TZ_SETTING_INT, .name = "look_first_after_failover",
		.short_desc = "After a new timeline (a promotion, a point-in-time recovery), how long "
			"every new job looks for its object before creating it.",
		.long_desc = "What the old primary polled and created may come back through a poll or "
			"a webhook; jobs not done at the change look first in any case.",
		.value = &tz_look_first_after_failover_s, .boot_int = 3600, .min = 0, .max = INT_MAX,
		.context = PGC_SIGHUP, .flags = GUC_UNIT_S,
	},
	{
		.kind = TZ_SETTING_INT, .name = "stage_min_rows",
		.short_desc = "Changes of at least this many rows stage their jobs for the worker to "
			"write.",
		.long_desc = "The writer then adds one outbox_stage row per 1,000 jobs instead of an "
			"outbox row per job; the worker (or process_outbox) writes the jobs "
			"moments later. 0: never, every change writes its outbox jobs itself.",
		.value = &tz_stage_min_rows, .boot_int = 1, .min = 0, .max = INT_MAX,
		.context = PGC_USERSET,
	},
	{
		.kind = TZ_SETTING_ENUM, .name = "call_purpose",
		.short_desc = "What this session's API calls count as in togai_zoho.api_usage.",
		.long_desc = "The poll functions set it for their own calls.",
		.value = &tz_call_purpose, .boot_int = TZ_PURPOSE_SESSION, .options = purpose_options,
		.context = PGC_USERSET, .flags = GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
	},
	{
		.kind = TZ_SETTING_REAL, .name = "poll_share",
		.short_desc = "Share of a connection's daily API budget that polls may spend.",
		.long_desc = "The rest is kept for delivery and sessions; polls space themselves to "
			"make their share last the day.",
		.value = &tz_poll_share, .boot_real = 0.1, .min = 0.0, .max = 1.0,
		.context = PGC_SUSET,
	},
	{
		.kind = TZ_SETTING_INT, .name = "poll_idle_max",
		.short_desc = "Longest wait between two polls of a stream that found nothing new.",
		.long_desc = "A quiet stream waits twice as long after each quiet poll, up to this; a "
			"change brings it back to every call. 0: every call polls.",
		.value = &tz_poll_idle_max_s, .boot_int = 600, .min = 0, .max = 86400,
		.context = PGC_SUSET, .flags = GUC_UNIT_S,
	},
	{
		.kind = TZ_SETTING_INT, .name = "poll_sweep",
		.short_desc = "Wait between two polls of a list while the connection's webhooks are "
			"set up.",
		.long_desc = "Webhooks bring the changes; the sweep catches any they missed (Zoho "
			"Books: register_zohobooks_webhook; Togai: set_togai_webhook).",
		.value = &tz_poll_sweep_s, .boot_int = 3600, .min = 60, .max = 7 * 86400,
		.context = PGC_SUSET, .flags = GUC_UNIT_S,
	},
	{
		.kind = TZ_SETTING_INT, .name = "togai_sweep",
		.short_desc = "Wait between two full walks of a Togai connection's lists.",
		.long_desc = "Polls in between read only what can still change (the invoices in "
			"togai_zoho.togai_open_statuses, recent invoices, new accounts); the "
			"sweep catches anything else, customers' renames among it.",
		.value = &tz_togai_sweep_s, .boot_int = 86400, .min = 60, .max = 30 * 86400,
		.context = PGC_SUSET, .flags = GUC_UNIT_S,
	},
	{
		.kind = TZ_SETTING_STRING, .name = "togai_open_statuses",
		.short_desc = "Togai invoice statuses every poll reads (comma-separated).",
		.long_desc = "Invoices in these statuses can still move; one that leaves them is read "
			"alone. Drafts need not be listed (every account has one): each is read "
			"alone once its period has ended, until it leaves DRAFT. An invoice in "
			"another status is read again only by the sweep (togai_zoho.togai_sweep), "
			"a webhook, or its own move.",
		.value = &tz_togai_open_statuses, .boot_string = "DUE,PARTIALLY_PAID,REFUND_INITIATED,REFUND_COMPLETED",
		.context = PGC_SUSET, .flags = GUC_LIST_INPUT, .check_string = check_open_statuses,
	},
	{
		.kind = TZ_SETTING_STRING, .name = "debug_fail_answer",
		.short_desc = "Raises an error in the step taking the answer of a call whose path "
			"contains this text (tests only).",
		.long_desc = "Shows how a job whose step fails is stopped alone.",
		.value = &tz_debug_fail_answer, .boot_string = "",
		.context = PGC_SUSET, .flags = GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
	},
};

void
tz_settings_define(void)
{
	for (int i = 0; i < lengthof(settings); i++)
	{
		const TzSetting *s = &settings[i];
		char	   *name = psprintf("togai_zoho.%s", s->name);

		if (s->preload_only && !process_shared_preload_libraries_in_progress)
			continue;
		switch (s->kind)
		{
			case TZ_SETTING_BOOL:
				DefineCustomBoolVariable(name, s->short_desc, s->long_desc, (bool *) s->value,
										 s->boot_bool, s->context, s->flags, NULL, NULL, NULL);
				break;
			case TZ_SETTING_INT:
				DefineCustomIntVariable(name, s->short_desc, s->long_desc, (int *) s->value,
										s->boot_int, (int) s->min, (int) s->max, s->context,
										s->flags, NULL, NULL, NULL);
				break;
			case TZ_SETTING_REAL:
				DefineCustomRealVariable(name, s->short_desc, s->long_desc, (double *) s->value,
										 s->boot_real, s->min, s->max, s->context, s->flags,
										 NULL, NULL, NULL);
				break;
			case TZ_SETTING_STRING:
				DefineCustomStringVariable(name, s->short_desc, s->long_desc, (char **) s->value,
										   s->boot_string, s->context, s->flags,
										   s->check_string, NULL, NULL);
				break;
			case TZ_SETTING_ENUM:
				DefineCustomEnumVariable(name, s->short_desc, s->long_desc, (int *) s->value,
										 s->boot_int, s->options, s->context, s->flags,
										 NULL, NULL, NULL);
				break;
		}
	}
	MarkGUCPrefixReserved("togai_zoho");
}
