/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background worker: one per cluster, connected to
 *	  togai_zoho.database_name, delivering the outbox until told to stop.
 *
 * It sleeps on its latch, which every transaction that enqueued a job sets
 * when it commits, and on a timer for the next due retry or lease, or at
 * most ten seconds, to store the day's API calls of every process.  An error ends the turn, not the
 * worker: it is reported, the transaction is rolled back, held jobs are
 * taken back at the next turn, and the worker waits a little before going
 * on, so a broken remote cannot make it crash-loop.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "deliver.h"
#include "mark_sent.h"
#include "outbox.h"
#include "settings.h"
#include "shmem.h"
#include "togai_zoho.h"
#include "worker.h"
#include "clients/usage.h"

#define NOT_INSTALLED_WAIT_MS	(5 * 60 * 1000)	/* CREATE EXTENSION wakes it sooner */
#define AFTER_ERROR_WAIT_MS		5000
#define CLEANUP_BATCH			1000
#define WAKE_LINGER_MS			2
#define USAGE_STORE_MS			10000

PGDLLEXPORT void tz_worker_main(Datum arg);

void
tz_worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* after recovery: never on a standby */
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "togai_zoho");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tz_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "togai_zoho worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "togai_zoho worker");
	RegisterBackgroundWorker(&worker);
}

static void
worker_exit(int code, Datum arg)
{
	tz_shmem_set_worker(false);
}

/* Whether the extension is installed in this database (in a transaction). */
static bool
installed(void)
{
	return OidIsValid(get_extension_oid("togai_zoho", true));
}

/* Runs fn in a transaction of its own, connected to SPI. */
static void
in_transaction(void (*fn) (void))
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");
	fn();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
flush_unsent(void)
{
	/* a copy of the data (sql/install/identity.sql) calls no remote */
	if (tz_outbox_held() == NULL)
		(void) tz_mark_sent_flush();
}

/* Deletes a batch of old finished jobs; returns the ms until the next wake. */
static long
housekeeping(bool *is_installed)
{
	long		next = -1;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	*is_installed = installed();
	if (*is_installed)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "togai_zoho: SPI_connect failed");
		if (tz_outbox_cleanup(tz_ttl_s, CLEANUP_BATCH) == CLEANUP_BATCH)
			next = 0;			/* more to delete: come back at once */
		else
			next = (long) tz_outbox_next_wake_ms(tz_ttl_s);
		if (next < 0 || next > USAGE_STORE_MS)
			next = USAGE_STORE_MS;
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	return next;
}

/*
 * The day's API calls of sessions too, stored within USAGE_STORE_MS; then
 * invoices left to mark sent (by a turn cut short, or a crash).  Each in a
 * transaction of its own, so none holds the locks of another's tables (DROP
 * EXTENSION takes them all).  Run after delivering, never between a commit
 * that woke the worker and its claim: storing the counts is a durable
 * commit, which would delay the claim's own.
 */
static void
chores(TimestampTz *last)
{
	in_transaction(tz_usage_store);
	in_transaction(flush_unsent);
	pgstat_report_stat(false);
	*last = GetCurrentTimestamp();
}

/* The engine delivering now, for the error recovery to destroy. */
static TzEngine *volatile running = NULL;

/*
 * One delivery: the engine runs until nothing is due.  Returns how long to
 * wait before looking again (0: at once, it delivered something).
 */
static long
deliver(TimestampTz *last_chores)
{
	int			done;
	bool		held;

	pgstat_report_activity(STATE_RUNNING, "delivering");
	running = tz_engine_create(true, "worker");
	done = tz_engine_run(running, -1);
	held = tz_engine_held(running);
	tz_engine_destroy(running);
	running = NULL;
	if (held)
	{
		/* a copy: take_over_delivery() wakes the worker */
		pgstat_report_activity(STATE_IDLE, "held: this database is a copy");
		return USAGE_STORE_MS;
	}
	if (done > 0)
	{
		if (TimestampDifferenceExceeds(*last_chores, GetCurrentTimestamp(), USAGE_STORE_MS / 2))
			chores(last_chores);
		return 0;
	}
	/* due jobs all held by process_outbox() helpers: do not spin */
	pgstat_report_activity(STATE_IDLE, "waiting for locked jobs");
	return 1000;
}

/* Sleeps until a commit wakes the worker, or next_ms (-1: no timeout). */
static void
wait_for_work(long next_ms)
{
	int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;

	if (next_ms > 0)
		events |= WL_TIMEOUT;
	if (WaitLatch(MyLatch, events, next_ms, PG_WAIT_EXTENSION) & WL_LATCH_SET)
	{
		/*
		 * Woken by a commit: the latch stays set a moment, so the commits
		 * close behind it find it set and do not each signal this process
		 * (a signal is a real part of a single-row insert's cost: see
		 * bench/); their jobs are claimed together.
		 */
		(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, WAKE_LINGER_MS,
						 PG_WAIT_EXTENSION);
	}
}

/*
 * The worker's main loop: deliver what is due, do the chores, sleep until
 * woken or the next due time.
 */
void
tz_worker_main(Datum arg)
{
	sigjmp_buf	local_sigjmp_buf;
	MemoryContext loop_cxt;
	static TimestampTz last_chores = 0;	/* kept across the error recovery */

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(tz_database_name,
										 (tz_role && tz_role[0]) ? tz_role : NULL, 0);
	pgstat_report_appname("togai_zoho worker");
	tz_shmem_set_worker(true);
	before_shmem_exit(worker_exit, (Datum) 0);

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "togai_zoho worker loop",
									 ALLOCSET_DEFAULT_SIZES);

	/* the error recovery of a long-lived process (as the walwriter does) */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortCurrentTransaction();
		if (running)
		{
			tz_engine_destroy(running);
			running = NULL;
		}
		MemoryContextSwitchTo(loop_cxt);
		FlushErrorState();
		MemoryContextReset(loop_cxt);
		RESUME_INTERRUPTS();
		pgstat_report_activity(STATE_IDLE, "waiting after an error");
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 AFTER_ERROR_WAIT_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	PG_exception_stack = &local_sigjmp_buf;

	for (bool first = true;; first = false)
	{
		bool		is_installed;
		long		next_ms;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		next_ms = housekeeping(&is_installed);
		/* at start, take back at once the jobs a stopped worker left running */
		if (first && next_ms != 0)
			next_ms = 0;
		if (!is_installed)
		{
			pgstat_report_activity(STATE_IDLE, "extension not installed in this database");
			next_ms = NOT_INSTALLED_WAIT_MS;
		}
		else if (!tz_worker_enabled)
		{
			pgstat_report_activity(STATE_IDLE, "paused (togai_zoho.worker = off)");
			next_ms = -1;
		}
		else if (next_ms == 0)
		{
			next_ms = deliver(&last_chores);
			if (next_ms == 0)
				continue;		/* look again: something may have come due meanwhile */
		}
		else
			pgstat_report_activity(STATE_IDLE, "waiting for work");

		if (is_installed)
			chores(&last_chores);
		wait_for_work(next_ms);
	}
}
