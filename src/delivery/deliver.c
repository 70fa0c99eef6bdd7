/*-------------------------------------------------------------------------
 *
 * deliver.c
 *	  The delivery engine: one loop that claims, calls, and records.
 *
 * Each turn: claim due jobs while there is room (short transaction),
 * start every ready call whose connection has a token to spare, drive the
 * transfers for at most 100 ms, move the jobs whose answers arrived on, and
 * write the outcomes of finished jobs (short transaction, one subtransaction
 * per job).  No transaction is open while transfers run: a claim commits,
 * with may_exist set, before any of its calls leaves, so no rollback can
 * forget a request that was sent.  The worker and the helpers of
 * process_outbox() (session_helper.c) run it alike.  Interrupts are checked
 * every turn, so cancel, SIGTERM and SIGHUP are seen within about 100 ms
 * even when a remote hangs; a helper asked to stop (tz_delivery_stop)
 * starts no more calls, waits a moment for those in flight, and gives the
 * rest back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "access/xact.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "deliver.h"
#include "mark_sent.h"
#include "outbox.h"
#include "pure/policy.h"
#include "settings.h"
#include "shmem.h"
#include "actions/steps.h"
#include "clients/togai.h"
#include "togai_zoho.h"
#include "clients/admission.h"
#include "clients/usage.h"
#include "clients/zoho.h"

#define TURN_MS			100		/* longest wait for transfers in one turn */
#define WRITE_EVERY_MS	50		/* finished jobs wait at most this long to be written */
#define WRITE_BATCH		32
#define PUMP_EVERY		8		/* outcomes written between two looks at the transfers */
#define RECLAIM_EVERY_S	10
#define CONN_RELOAD_S	30		/* connection settings are re-read this often */
#define USAGE_STORE_MS	5000
#define MARK_SENT_EVERY_MS 1000	/* a bulk call waits this long for more invoices */
#define BUSY_RETRY_MS	20		/* a job under a full concurrency cap looks again */
#define STOP_WAIT_MS	5000	/* a stopping engine waits this long for calls in flight */
#define HOLD_PACED_MS	2000	/* a job paced longer than this goes back to the queue */
#define RECHECK_DUE_MS	500		/* while busy, look for newly due retries this often */
#define UNSTAGE_ROUNDS_PER_CLAIM 100	/* about 100,000 staged jobs */

/* The engine's state of one connection (see TzConnection, flow_cache.h). */
typedef struct ConnEntry
{
	int64		id;
	MemoryContext cxt;
	TzConnInfo *info;
	TimestampTz loaded_at;
	int			paced;			/* jobs waiting for this connection's tokens */
	json_t	   *currencies;		/* the organization's currencies, once one job read them */
	bool		currencies_asked;	/* a job's request for them is in flight */
	json_t	   *items;			/* item name -> id, found or made by a job of this engine */
	json_t	   *items_asked;	/* item names a job is finding or making now */
} ConnEntry;

struct TzEngine
{
	MemoryContext cxt;
	MemoryContext turn_cxt;
	bool		in_worker;		/* the cluster's worker (else a helper of process_outbox) */
	TimestampTz stopping_since; /* asked to stop (0: not) */
	char	   *held_reason;	/* this database is a copy: it claims nothing */
	bool		look_first;		/* after a new timeline: every claim looks first */
	char	   *who;
	List	   *held;			/* TzJob *, claimed and not yet written */
	List	   *conns;			/* ConnEntry * */
	TzHttpMulti *multi;
	int			in_flight;
	int			claimed_total;
	bool		drained;
	bool		paused;
	bool		started;
	bool		unstage;		/* staged jobs may be waiting: write them at the next claims */
	int			unstage_rounds; /* written since the last claim */
	TimestampTz drained_at;
	TimestampTz last_renew;
	TimestampTz last_reclaim;
	TimestampTz last_write;
	TimestampTz last_usage_store;
	TimestampTz unsent_since;	/* jobs queued invoices to mark sent (0: none) */
	bool		marking;		/* the bulk mark-sent waits for the calls in flight to end */
};

static int
lease_seconds(void)
{
	return Max(60, 3 * tz_request_timeout_ms / 1000);
}

volatile sig_atomic_t tz_delivery_stop = false;

/* Every database step of the engine is a transaction of its own. */
static void
db_begin(TzEngine *e)
{
	MemoryContextSwitchTo(e->turn_cxt);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(e->turn_cxt);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");
}

static void
db_end(TzEngine *e)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	MemoryContextSwitchTo(e->turn_cxt);
}

static char *
copy_str(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* The connection's settings and secrets, re-read when older than CONN_RELOAD_S. */
static ConnEntry *
conn_entry(TzEngine *e, int64 id, bool load)
{
	ListCell   *lc;
	ConnEntry  *ce = NULL;
	TzConnInfo *src;
	MemoryContext old;

	foreach(lc, e->conns)
		if (((ConnEntry *) lfirst(lc))->id == id)
			ce = lfirst(lc);
	if (!load || (ce && !TimestampDifferenceExceeds(ce->loaded_at, GetCurrentTimestamp(),
													CONN_RELOAD_S * 1000)))
		return ce;

	src = tz_conn_load_id(id);
	if (ce == NULL)
	{
		old = MemoryContextSwitchTo(e->cxt);
		ce = palloc0(sizeof(ConnEntry));
		ce->id = id;
		e->conns = lappend(e->conns, ce);
		MemoryContextSwitchTo(old);
	}
	if (ce->cxt)
		MemoryContextDelete(ce->cxt);
	ce->currencies = NULL;
	ce->items = NULL;
	ce->items_asked = NULL;
	ce->cxt = AllocSetContextCreate(e->cxt, "togai_zoho connection", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ce->cxt);
	ce->info = palloc(sizeof(TzConnInfo));
	*ce->info = *src;
	ce->info->name = copy_str(src->name);
	ce->info->base_url = copy_str(src->base_url);
	ce->info->accounts_url = copy_str(src->accounts_url);
	ce->info->organization_id = copy_str(src->organization_id);
	ce->info->client_id = copy_str(src->client_id);
	ce->info->api_token = copy_str(src->api_token);
	ce->info->client_secret = copy_str(src->client_secret);
	ce->info->refresh_token = copy_str(src->refresh_token);
	ce->info->access_token = copy_str(src->access_token);
	MemoryContextSwitchTo(old);
	ce->loaded_at = GetCurrentTimestamp();
	return ce;
}

static void
finish_job(TzJob *job, TzOutcome outcome, int64 delay_ms, const char *error)
{
	job->outcome = outcome;
	job->delay_ms = delay_ms;
	job->error = error ? MemoryContextStrdup(job->cxt, error) : NULL;
}

static int64
backoff(TzJob *job)
{
	return tz_backoff_ms(job->attempts, tz_retry_base_ms, tz_retry_max_ms,
						 pg_prng_double(&pg_global_prng_state));
}

/* A failed attempt: retry later, or dead once max_attempts is reached. */
static void
fail_transient(TzJob *job, const char *error, int64 min_delay_ms)
{
	if (job->attempts >= tz_max_attempts)
		finish_job(job, TZ_OUTCOME_DEAD, 0,
				   psprintf("gave up after %d attempts: %s", job->attempts, error));
	else
		finish_job(job, TZ_OUTCOME_RETRY, Max(backoff(job), min_delay_ms), error);
}

static const char *
describe(const TzApiResult *r)
{
	if (r->detail)
		return psprintf("%s (%s)", r->message, r->detail);
	return r->message ? r->message : "unknown failure";
}

/* Claims more jobs when there is room, and loads what they need. */
static void
claim(TzEngine *e, int max_jobs)
{
	int			active = 0;
	int			room;
	List	   *jobs;
	ListCell   *lc;

	foreach(lc, e->held)
		if (((TzJob *) lfirst(lc))->outcome == TZ_OUTCOME_NONE)
			active++;
	room = Min(tz_batch_size, 2 * tz_max_concurrency - active);
	if (max_jobs >= 0)
		room = Min(room, max_jobs - e->claimed_total);
	/*
	 * Up to twice max_concurrency jobs are held, so a freed slot finds a job
	 * ready to go: claim before the ready ones run out, at least half a
	 * slot count at a time, not only once slots stand empty.
	 */
	if (room <= 0 || (active >= tz_max_concurrency && room < Max(tz_max_concurrency / 2, 1)))
		return;

	db_begin(e);
	if (!e->started)
	{
		static bool warned = false;

		e->held_reason = tz_outbox_identity(&e->look_first, e->cxt);
		if (e->held_reason)
		{
			db_end(e);
			if (!warned)
				ereport(WARNING,
						(errmsg("togai_zoho: delivery is held: %s", e->held_reason),
						 errhint("Once the original delivers no more, run "
								 "SELECT togai_zoho.take_over_delivery();")));
			warned = true;
			return;
		}
		warned = false;
	}
	if (!e->started || TimestampDifferenceExceeds(e->last_reclaim, GetCurrentTimestamp(),
												  RECLAIM_EVERY_S * 1000))
	{
		int			n = tz_outbox_reclaim(!e->started, e->who);

		if (n > 0)
			ereport(LOG,
					(errmsg("togai_zoho: took back %d interrupted job%s", n, n == 1 ? "" : "s"),
					 errdetail("They run again and look for their objects before creating them.")));
		e->started = true;
		e->last_reclaim = GetCurrentTimestamp();
	}
	/*
	 * Staged jobs are written before more jobs are claimed, so that changes
	 * committed before a claim fold into their jobs instead of making a
	 * claimed job run again; about 1,000 a transaction, with the answers
	 * taken between them.  After UNSTAGE_ROUNDS_PER_CLAIM rounds a claim goes
	 * ahead anyway: writers faster than this must not stall delivery.
	 */
	if (e->unstage)
	{
		e->unstage = tz_outbox_unstage();
		if (e->unstage && ++e->unstage_rounds < UNSTAGE_ROUNDS_PER_CLAIM)
		{
			db_end(e);
			return;
		}
	}
	e->unstage_rounds = 0;
	jobs = tz_outbox_claim(room, lease_seconds(), e->cxt);
	foreach(lc, jobs)
	{
		TzJob	   *job = lfirst(lc);

		job->may_exist |= e->look_first;

		for (int k = 0; k < job->nactions; k++)
			conn_entry(e, job->actions[k].connection_id, true);
		/* some actions read from the source app too (account_update) */
		conn_entry(e, job->source_connection_id, true);
	}
	db_end(e);

	if (jobs == NIL)
	{
		e->drained = true;
		e->drained_at = GetCurrentTimestamp();
	}
	e->claimed_total += list_length(jobs);
	MemoryContextSwitchTo(e->cxt);
	e->held = list_concat(e->held, jobs);
	list_free(jobs);
	MemoryContextSwitchTo(e->turn_cxt);
}

/* An object of the connection's entry, made in its context on first use. */
static json_t *
shared_object(ConnEntry *ce, json_t **slot)
{
	if (*slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(ce->cxt);

		*slot = json_pack("{}");	/* not json_object(): see action.c */
		MemoryContextSwitchTo(old);
	}
	return *slot;
}

/* Starts the job's planned call, unless its connection must wait. */
static void
start_call(TzEngine *e, TzJob *job)
{
	ConnEntry  *ce = conn_entry(e, job->call_connection_id, false);
	TzConnInfo *conn = ce->info;
	TimestampTz now = GetCurrentTimestamp();
	TzApiResult r;
	TzAdmission a;
	MemoryContext old;

	if (job->not_before > now)
	{
		ce->paced++;
		return;
	}
	if (conn->app == TZ_APP_ZOHOBOOKS && (!tz_zoho_token_fresh(conn) || job->force_token))
	{
		job->needs_token = true;
		return;
	}
	/* pause, the day's budget, the cap and the pace, shared with every process */
	a = tz_admit(conn, TZ_PURPOSE_DELIVERY, TZ_ADMIT_TRY);
	if (a.verdict == TZ_ADMIT_PACED)
	{
		/* the queue ahead of this job, at the connection's pace */
		int64		queued = a.wait_ms + (int64) (ce->paced * 1000.0 /
												  tz_bucket_rate(conn->rate_limit_per_minute));

		ce->paced++;
		if (queued > HOLD_PACED_MS && !job->sent_any)
		{
			finish_job(job, TZ_OUTCOME_THROTTLED, queued, NULL);
			return;
		}
		job->not_before = TimestampTzPlusMilliseconds(now, a.wait_ms);
		return;
	}
	if (a.verdict == TZ_ADMIT_BUSY)
	{
		/* every call slot of the connection is taken: look again in a moment */
		job->not_before = TimestampTzPlusMilliseconds(now, BUSY_RETRY_MS);
		return;
	}
	if (a.verdict != TZ_ADMIT_GO)
	{
		if (job->phase == TZ_PHASE_ITEM_CREATE && ce->items_asked)
			json_object_del(ce->items_asked, job->call_item);
		/* not an attempt: the job waits in the outbox for the budget */
		finish_job(job, TZ_OUTCOME_THROTTLED,
				   Max((int64) ((a.until_s - tz_unix_now()) * 1000.0), 1000),
				   tz_admit_reason(conn, &a));
		return;
	}

	old = MemoryContextSwitchTo(job->cxt);
	if (conn->app == TZ_APP_ZOHOBOOKS)
	{
		tz_zoho_prepare(&r, &job->req, conn, job->call_method, job->call_path,
						job->call_query, job->call_body, false);
		if (job->call_unique_key)
			tz_zoho_unique_headers(job->req.headers, job->call_unique_key,
								   job->call_unique_value, true);
	}
	else
		tz_togai_prepare(&r, &job->req, conn, job->call_method, job->call_path,
						 job->call_query, job->call_body);
	MemoryContextSwitchTo(old);
	if (!r.ok)
	{
		tz_admit_ended(conn);
		fail_transient(job, describe(&r), 0);
		return;
	}
	tz_http_multi_add(e->multi, &job->req, job);
	if (job->phase == TZ_PHASE_CURRENCIES)
		ce->currencies_asked = true;
	if (job->phase == TZ_PHASE_ITEM_SEARCH)
	{
		/* jansson allocates in the current context: the entry's, which outlives the turn */
		old = MemoryContextSwitchTo(ce->cxt);
		json_object_set_new(shared_object(ce, &ce->items_asked), job->call_item, json_true());
		MemoryContextSwitchTo(old);
	}
	job->in_flight = true;
	job->sent_any = true;
	job->requests++;
	e->in_flight++;
}

/*
 * Jobs that start together look an item up once per name: the first finds
 * or makes it, the others wait for it and take its id.  True when the job
 * must not call.
 */
static bool
item_known(TzEngine *e, TzJob *job)
{
	ConnEntry  *ce = conn_entry(e, job->call_connection_id, false);
	const char *id = ce->items ? json_string_value(json_object_get(ce->items, job->call_item)) : NULL;
	MemoryContext old;

	if (id)
	{
		old = MemoryContextSwitchTo(job->cxt);
		tz_steps_item_known(job, pstrdup(id));
		MemoryContextSwitchTo(old);
		return true;
	}
	if (ce->items_asked && json_object_get(ce->items_asked, job->call_item))
	{
		job->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), BUSY_RETRY_MS);
		return true;
	}
	return false;
}

/* What a job's answer tells the others about an item. */
static void
item_answered(ConnEntry *ce, TzJob *job, const TzApiResult *r)
{
	const char *id = NULL;
	MemoryContext old;

	if (r->ok && job->phase == TZ_PHASE_ITEM_SEARCH)
	{
		id = tz_find_item(r->root, job->call_item);
		if (id == NULL)
			return;				/* it makes the item next: the others go on waiting */
	}
	else if (r->ok)
		id = tz_created_id(r->root, "item", "item_id");
	if (ce->items_asked)
		json_object_del(ce->items_asked, job->call_item);
	if (id)
	{
		old = MemoryContextSwitchTo(ce->cxt);
		json_object_set_new(shared_object(ce, &ce->items), job->call_item, json_string(id));
		MemoryContextSwitchTo(old);
	}
}

/*
 * Runs one job's step, planning its next call (r NULL) or taking an answer,
 * so that an ERROR in it (a bug met by one object's data) ends that job's
 * attempt, not the turn of every job held with it, which would otherwise
 * all be taken back and fail again together.  Steps touch memory only (no
 * SPI, no locks, no buffers; what they allocate is the job's context's), so
 * the error is taken without a subtransaction.  Cancel and shutdown go on
 * up.  The job dies with the error's words; retry_dead() runs it again
 * once the cause is fixed, and it looks for what it made before.  Returns
 * the step's own answer (planned, or refusal understood).
 */
static bool
guarded_step(TzJob *job, const TzApiResult *r, bool search_first)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool result = false;

	PG_TRY();
	{
		if (r == NULL)
			result = tz_steps_plan(job, search_first);
		else
		{
			if (tz_debug_fail_answer && tz_debug_fail_answer[0] && job->call_path &&
				strstr(job->call_path, tz_debug_fail_answer))
				elog(ERROR, "togai_zoho.debug_fail_answer: failing the answer to %s", job->call_path);
			if (r->ok)
			{
				job->call_method = NULL;
				tz_steps_answered(job, r);
				result = true;
			}
			else
				result = tz_steps_refused(job, r);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			proc_exit_inprogress)
			PG_RE_THROW();
		FlushErrorState();
		ereport(WARNING,
				(errmsg("togai_zoho: job %lld stopped by an error in its step: %s",
						(long long) job->id, edata->message),
				 errdetail("The other jobs go on; this one goes to dead_jobs."),
				 errhint("This is a bug: report it with the job's row; "
						 "retry_dead() runs the job again.")));
		job->call_method = NULL;
		finish_job(job, edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY ? TZ_OUTCOME_RETRY : TZ_OUTCOME_DEAD,
				   edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY ? backoff(job) : 0,
				   psprintf("internal error in the job's step: %s", edata->message));
		FreeErrorData(edata);
		result = r != NULL;		/* an answer taken: nothing more to do with it */
	}
	PG_END_TRY();
	return result;
}

/*
 * Jobs that start together need the organization's currencies, and each
 * item, once: the first asks, the others wait for its answer and take it.
 * Returns true when the job must not call.
 */
static bool
known_already(TzEngine *e, TzJob *job)
{
	ConnEntry  *ce;
	TzApiResult r;
	MemoryContext old;

	if (job->phase == TZ_PHASE_ITEM_SEARCH)
		return item_known(e, job);
	if (job->phase != TZ_PHASE_CURRENCIES)
		return false;
	ce = conn_entry(e, job->call_connection_id, false);
	if (ce->currencies == NULL)
	{
		if (!ce->currencies_asked)
			return false;
		job->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), BUSY_RETRY_MS);
		return true;
	}
	memset(&r, 0, sizeof(r));
	r.ok = true;
	r.root = ce->currencies;
	old = MemoryContextSwitchTo(job->cxt);
	(void) guarded_step(job, &r, false);
	MemoryContextSwitchTo(old);
	return true;
}

/* Plans and starts what each held job does next. */
static void
advance_all(TzEngine *e)
{
	ListCell   *lc;
	int			in_flight = e->in_flight;

	foreach(lc, e->conns)
		((ConnEntry *) lfirst(lc))->paced = 0;
	foreach(lc, e->held)
	{
		TzJob	   *job = lfirst(lc);
		MemoryContext old;
		bool		planned;

		if (job->outcome != TZ_OUTCOME_NONE || job->in_flight ||
			(job->needs_token && e->stopping_since == 0))
			continue;
		if ((e->in_flight >= tz_max_concurrency || e->marking) && job->call_method != NULL &&
			e->stopping_since == 0)
			continue;
		if (job->call_method == NULL && !job->needs_token)
		{
			/* memory only: a stopping engine still learns that a job is done */
			old = MemoryContextSwitchTo(job->cxt);
			planned = guarded_step(job, NULL, job->may_exist);
			MemoryContextSwitchTo(old);
			if (!planned)
				continue;
		}
		if (e->stopping_since != 0)
		{
			/* not an attempt: its step and what it may have made are kept */
			job->needs_token = false;
			finish_job(job, TZ_OUTCOME_THROTTLED, 0,
					   "delivery stopped (process_outbox cancelled): given back to the queue");
			continue;
		}
		if (e->in_flight >= tz_max_concurrency || e->marking)
			continue;
		if (known_already(e, job))
			continue;
		start_call(e, job);
	}
	/* on the wire now, not after the database work that may come next */
	if (e->in_flight > in_flight)
		tz_http_multi_send(e->multi);
}

/* Whether the job's last request carried the connection's current access token. */
static bool
used_current_token(const TzJob *job, const TzConnInfo *conn)
{
	const char *sent = job->req.authorization;
	const char *prefix = "Zoho-oauthtoken ";

	return sent == NULL || conn->access_token == NULL ||
		(strncmp(sent, prefix, strlen(prefix)) == 0 &&
		 strcmp(sent + strlen(prefix), conn->access_token) == 0);
}

/* Mints the tokens jobs wait for, in one short transaction. */
static void
refresh_tokens(TzEngine *e)
{
	ListCell   *lc;
	bool		any = false;

	foreach(lc, e->held)
		any |= ((TzJob *) lfirst(lc))->needs_token;
	if (!any)
		return;

	db_begin(e);
	foreach(lc, e->held)
	{
		TzJob	   *job = lfirst(lc);
		ConnEntry  *ce;
		TzApiResult r;

		if (!job->needs_token)
			continue;
		ce = conn_entry(e, job->call_connection_id, false);
		/*
		 * One refresh serves every job of the connection: a job refused with a
		 * token that has been replaced since just goes again with the new one.
		 */
		if (job->force_token && !used_current_token(job, ce->info))
			job->force_token = false;
		if (job->force_token || !tz_zoho_token_fresh(ce->info))
			tz_zoho_ensure_token(&r, ce->info, job->force_token);
		else
			r.ok = true;
		job->needs_token = false;
		job->force_token = false;
		if (!r.ok)
		{
			job->http_status = r.http_status;
			if (tz_verdict(r.http_status > 0, r.http_status, true) == TZ_VERDICT_DEAD)
				finish_job(job, TZ_OUTCOME_DEAD, 0, describe(&r));
			else
				fail_transient(job, describe(&r), 0);
		}
		else
		{
			/* jobs of the same connection waiting with it are served too */
			ListCell   *lc2;

			foreach(lc2, e->held)
			{
				TzJob	   *other = lfirst(lc2);

				if (other->needs_token && !other->force_token &&
					other->call_connection_id == ce->id)
					other->needs_token = false;
			}
		}
	}
	db_end(e);
}

/* An answer arrived: read it and move the job on. */
static void
answered(TzEngine *e, TzJob *job, TzHttpResponse *resp)
{
	ConnEntry  *ce = conn_entry(e, job->call_connection_id, false);
	TzApiResult r;
	MemoryContext old = MemoryContextSwitchTo(job->cxt);
	bool		reached;

	e->in_flight--;
	job->in_flight = false;
	tz_admit_ended(ce->info);
	if (ce->info->app == TZ_APP_ZOHOBOOKS)
		tz_zoho_read_answer(&r, &job->req, resp);
	else
		tz_togai_read_answer(&r, &job->req, resp);
	job->http_status = r.http_status;
	if (job->phase == TZ_PHASE_ITEM_SEARCH || job->phase == TZ_PHASE_ITEM_CREATE)
		item_answered(ce, job, &r);
	if (job->phase == TZ_PHASE_CURRENCIES)
	{
		/* the answer serves every job of the connection that waits for it */
		ce->currencies_asked = false;
		if (r.ok && r.root)
		{
			MemoryContextSwitchTo(ce->cxt);
			ce->currencies = json_deep_copy(r.root);
			MemoryContextSwitchTo(job->cxt);
		}
	}
	reached = resp->outcome != TZ_HTTP_CONNECT_FAILED && resp->outcome != TZ_HTTP_URL_REFUSED;
	if (job->call_creates && tz_may_have_reached(reached, r.ok ? 200 : r.http_status))
		job->created_sent = true;

	if (guarded_step(job, &r, false))
		;
	else
	{
		switch (tz_verdict(resp->outcome == TZ_HTTP_ANSWERED, r.http_status, job->refreshed))
		{
			case TZ_VERDICT_REFRESH:
				job->refreshed = true;
				job->force_token = true;
				break;
			case TZ_VERDICT_THROTTLED:
				{
					int64		wait = r.retry_after_s > 0 ? r.retry_after_s * 1000 : backoff(job);
					TzAdmission paused = {TZ_ADMIT_PAUSED, 0, 0};

					if (tz_admit_refused(ce->info, r.message, r.retry_after_s, wait, &paused.until_s))
					{
						/* paused (the day's cap, or Togai's wait): every job of the connection waits */
						finish_job(job, TZ_OUTCOME_THROTTLED,
								   Max((int64) ((paused.until_s - tz_unix_now()) * 1000.0), 1000),
								   psprintf("%s: %s", tz_admit_reason(ce->info, &paused),
											describe(&r)));
						break;
					}
					finish_job(job, TZ_OUTCOME_THROTTLED, wait, describe(&r));
					break;
				}
			case TZ_VERDICT_RETRY:
				/*
				 * A create cut off in flight may still be running at the
				 * remote: give it as long as we waited before looking for it.
				 */
				fail_transient(job, describe(&r),
							   (job->call_creates && reached &&
								resp->outcome != TZ_HTTP_ANSWERED) ? tz_request_timeout_ms : 0);
				break;
			case TZ_VERDICT_DEAD:
				finish_job(job, TZ_OUTCOME_DEAD, 0, describe(&r));
				break;
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * Takes the answers that arrived and refills the slots they freed: after each
 * wait, and between the statements of a long write, so that requests do not
 * wait for the disk.
 */
static void
pump(TzEngine *e)
{
	MemoryContext old = MemoryContextSwitchTo(e->turn_cxt);
	TzJob	   *job;
	TzHttpResponse resp;

	tz_http_multi_send(e->multi);
	while (tz_http_multi_next_done(e->multi, (void **) &job, &resp))
		answered(e, job, &resp);
	advance_all(e);
	MemoryContextSwitchTo(old);
}

/* Writes the finished jobs' outcomes and lets them go. */
static int
write_finished(TzEngine *e, bool force)
{
	List	   *keep = NIL;
	List	   *finished = NIL;
	ListCell   *lc;
	int			n;

	MemoryContextSwitchTo(e->cxt);
	foreach(lc, e->held)
	{
		TzJob	   *job = lfirst(lc);

		if (job->outcome == TZ_OUTCOME_NONE)
			keep = lappend(keep, job);
		else
			finished = lappend(finished, job);
	}
	MemoryContextSwitchTo(e->turn_cxt);
	if (finished == NIL ||
		!(force || e->in_flight == 0 || list_length(finished) >= WRITE_BATCH ||
		  TimestampDifferenceExceeds(e->last_write, GetCurrentTimestamp(), WRITE_EVERY_MS)))
	{
		list_free(keep);
		list_free(finished);
		return 0;
	}

	db_begin(e);
	/*
	 * The worker does not wait for its outcomes to reach the disk. One lost
	 * with the machine leaves its job running with may_exist, which its
	 * (durable) claim set: after the lease it runs again and finds what it
	 * made, as after a worker killed between the request and this commit.
	 */
	if (e->in_worker)
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	foreach(lc, finished)
	{
		if (tz_outbox_finish(lfirst(lc), e->who))
			e->drained = false;
		if (foreach_current_index(lc) % PUMP_EVERY == PUMP_EVERY - 1)
			pump(e);
	}
	db_end(e);

	foreach(lc, finished)
		if (((TzJob *) lfirst(lc))->unsent != NIL && e->unsent_since == 0)
			e->unsent_since = GetCurrentTimestamp();

	/* jobs sent back unsent (paced, waiting for a mapping) made no attempt */
	n = 0;
	foreach(lc, finished)
		if (((TzJob *) lfirst(lc))->requests > 0 ||
			((TzJob *) lfirst(lc))->outcome == TZ_OUTCOME_DELIVERED ||
			((TzJob *) lfirst(lc))->outcome == TZ_OUTCOME_DEAD)
			n++;
	/* only now: a failed commit must not lose the jobs' memory mid-write */
	foreach(lc, finished)
		MemoryContextDelete(((TzJob *) lfirst(lc))->cxt);
	list_free(finished);
	list_free(e->held);
	e->held = keep;
	e->last_write = GetCurrentTimestamp();
	return n;
}

static void
renew_leases(TzEngine *e)
{
	List	   *running = NIL;
	ListCell   *lc;

	if (!TimestampDifferenceExceeds(e->last_renew, GetCurrentTimestamp(),
									lease_seconds() * 1000 / 3))
		return;
	foreach(lc, e->held)
		if (((TzJob *) lfirst(lc))->outcome == TZ_OUTCOME_NONE)
			running = lappend(running, lfirst(lc));
	if (running != NIL)
	{
		db_begin(e);
		tz_outbox_renew(running, lease_seconds());
		db_end(e);
	}
	e->last_renew = GetCurrentTimestamp();
}

/* Whether a Zoho Books connection the engine calls has every slot of its cap in flight. */
static bool
zoho_slots_full(TzEngine *e)
{
	ListCell   *lc;

	foreach(lc, e->conns)
	{
		ConnEntry  *ce = lfirst(lc);

		if (ce->info && ce->info->app == TZ_APP_ZOHOBOOKS &&
			tz_admit(ce->info, TZ_PURPOSE_DELIVERY, TZ_ADMIT_LOOK).verdict == TZ_ADMIT_BUSY)
			return true;
	}
	return false;
}

/*
 * Invoices the finished jobs made are marked sent in bulk: when the queue
 * has waited MARK_SENT_EVERY_MS, or the jobs ran out (force).  The bulk call
 * waits for a call slot as a session's call does: while the engine's own
 * calls hold every slot of a connection's cap, it would wait for them and
 * they for it (their answers are read by this process) until the request
 * timeout failed the turn.  So then no call starts until one of them ends.
 */
static void
mark_sent(TzEngine *e, bool force)
{
	if (e->unsent_since == 0 ||
		!(force || TimestampDifferenceExceeds(e->unsent_since, GetCurrentTimestamp(),
											  MARK_SENT_EVERY_MS)))
		return;
	e->marking = e->in_flight > 0 && zoho_slots_full(e);
	if (e->marking)
		return;
	db_begin(e);
	(void) tz_mark_sent_flush();
	db_end(e);
	e->unsent_since = 0;
}

/* The worker stores the day's API calls every few seconds while it delivers. */
static void
store_usage(TzEngine *e)
{
	if (!e->in_worker ||
		!TimestampDifferenceExceeds(e->last_usage_store, GetCurrentTimestamp(), USAGE_STORE_MS))
		return;
	db_begin(e);
	tz_usage_store();
	db_end(e);
	e->last_usage_store = GetCurrentTimestamp();
}

/*
 * How long the loop may wait: until a paced job may go, at most a turn; not
 * at all while staged jobs are being written.
 */
static long
wait_ms(TzEngine *e)
{
	TimestampTz now = GetCurrentTimestamp();
	long		ms = TURN_MS;
	ListCell   *lc;

	if (e->unstage && e->unstage_rounds > 0 && !e->paused)
		return 0;

	foreach(lc, e->held)
	{
		TzJob	   *job = lfirst(lc);

		if (job->outcome == TZ_OUTCOME_NONE && !job->in_flight && job->not_before > now)
			ms = Min(ms, (long) ((job->not_before - now) / 1000) + 1);
	}
	return ms;
}

TzEngine *
tz_engine_create(bool in_worker, const char *who)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "togai_zoho delivery",
											  ALLOCSET_DEFAULT_SIZES);
	TzEngine   *e = MemoryContextAllocZero(cxt, sizeof(TzEngine));

	e->cxt = cxt;
	e->turn_cxt = AllocSetContextCreate(cxt, "togai_zoho delivery turn", ALLOCSET_DEFAULT_SIZES);
	e->in_worker = in_worker;
	e->unstage = true;
	e->who = MemoryContextStrdup(cxt, who);
	return e;
}

/* Whether the loop should look for more jobs. */
static bool
wants_more(TzEngine *e, int max_jobs)
{
	return !e->paused && e->stopping_since == 0 && e->held_reason == NULL &&
		(!e->drained || e->unstage) &&
		(max_jobs < 0 || e->claimed_total < max_jobs);
}

static int
run_loop(TzEngine *e, int max_jobs)
{
	int			done = 0;

	e->drained = false;
	e->paused = false;
	e->claimed_total = 0;
	for (;;)
	{
		MemoryContextReset(e->turn_cxt);
		MemoryContextSwitchTo(e->turn_cxt);
		CHECK_FOR_INTERRUPTS();
		if (tz_delivery_stop && e->stopping_since == 0)
			e->stopping_since = GetCurrentTimestamp();
		if (e->stopping_since != 0 &&
			TimestampDifferenceExceeds(e->stopping_since, GetCurrentTimestamp(), STOP_WAIT_MS))
		{
			/*
			 * Calls still in flight leave their jobs running, their claims
			 * saying they may exist: they are taken back once this process
			 * is gone, and look first.
			 */
			done += write_finished(e, true);
			tz_admit_release_all();
			break;
		}
		if (e->in_worker)
		{
			if (ConfigReloadPending)
			{
				ConfigReloadPending = false;
				ProcessConfigFile(PGC_SIGHUP);
			}
			e->paused = !tz_worker_enabled;
			/* a commit that enqueued or staged work set the latch */
			if (MyLatch->is_set)
			{
				ResetLatch(MyLatch);
				e->drained = false;
				e->unstage = true;
			}
		}
		if (e->drained && TimestampDifferenceExceeds(e->drained_at, GetCurrentTimestamp(),
													 RECHECK_DUE_MS))
			e->drained = false;

		if (wants_more(e, max_jobs))
			claim(e, max_jobs);
		advance_all(e);
		refresh_tokens(e);
		advance_all(e);
		done += write_finished(e, false);
		renew_leases(e);
		store_usage(e);
		mark_sent(e, false);

		if (e->held == NIL)
		{
			if (!wants_more(e, max_jobs))
			{
				if (e->stopping_since == 0)
					mark_sent(e, true);
				break;
			}
			continue;
		}

		if (e->in_flight > 0)
			tz_http_multi_wait(e->multi, (int) wait_ms(e));
		else if (wait_ms(e) > 0)
		{
			bool		paced = false;
			ListCell   *lc;

			foreach(lc, e->held)
				paced |= ((TzJob *) lfirst(lc))->not_before > GetCurrentTimestamp() &&
					((TzJob *) lfirst(lc))->outcome == TZ_OUTCOME_NONE;
			if (paced)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 wait_ms(e), PG_WAIT_EXTENSION);
				if (!e->in_worker)
					ResetLatch(MyLatch);	/* a helper's latch says only: stop */
			}
		}
		/* refill the freed slots before the database work of the next turn */
		pump(e);
	}
	return done;
}

int
tz_engine_run(TzEngine *e, int max_jobs)
{
	MemoryContext caller = CurrentMemoryContext;
	int			done;

	e->multi = tz_http_multi_create(tz_api_http_settings());
	PG_TRY();
	{
		done = run_loop(e, max_jobs);
	}
	PG_CATCH();
	{
		/* transfers are libcurl's memory, not a context's: free them */
		tz_http_multi_destroy(e->multi);
		e->multi = NULL;
		e->in_flight = 0;
		tz_admit_release_all();
		PG_RE_THROW();
	}
	PG_END_TRY();
	tz_http_multi_destroy(e->multi);
	e->multi = NULL;
	MemoryContextSwitchTo(caller);
	return done;
}

bool
tz_engine_held(TzEngine *e)
{
	return e->held_reason != NULL;
}

void
tz_engine_destroy(TzEngine *e)
{
	if (e->multi)
		tz_http_multi_destroy(e->multi);
	MemoryContextDelete(e->cxt);
}
