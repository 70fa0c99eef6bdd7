/*-------------------------------------------------------------------------
 *
 * session_helper.c
 *	  The helper process that delivers for process_outbox().
 *
 * The session and its helper share a small dynamic shared memory segment:
 * the session writes its database, the role the function runs as, the
 * number of jobs and its delivery settings; the helper writes back how many
 * jobs ended an attempt, or the error that stopped it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "deliver.h"
#include "session_helper.h"

/* The session's settings the delivery reads, carried to the helper. */
static const char *const carried_settings[] = {
	"togai_zoho.allow_http", "togai_zoho.ca_bundle", "togai_zoho.request_timeout_ms",
	"togai_zoho.connect_timeout_ms", "togai_zoho.max_response_bytes", "togai_zoho.batch_size",
	"togai_zoho.max_concurrency", "togai_zoho.max_attempts", "togai_zoho.retry_base",
	"togai_zoho.retry_max", "togai_zoho.debug_fail_answer", NULL
};

#define SETTINGS_BYTES	4096

typedef struct HelperShared
{
	/* written by the session */
	Oid			dboid;
	Oid			roleoid;
	int			max_jobs;
	int			session_pid;
	char		settings[SETTINGS_BYTES];	/* name\0value\0 ..., then \0 */
	/* written by the helper */
	bool		finished;
	int			done;
	int			sqlerrcode;
	char		error[512];
} HelperShared;

PGDLLEXPORT void tz_helper_main(Datum arg);

/* Writes the carried settings' current values as name\0value\0 pairs. */
static void
pack_settings(char *out)
{
	size_t		used = 0;

	for (int i = 0; carried_settings[i]; i++)
	{
		const char *value = GetConfigOption(carried_settings[i], true, false);
		size_t		need;

		if (value == NULL)
			continue;
		need = strlen(carried_settings[i]) + strlen(value) + 2;
		if (used + need + 1 > SETTINGS_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("togai_zoho: the delivery settings of this session are too long to hand "
							"to process_outbox()'s helper"),
					 errdetail("Setting \"%s\" is %zu bytes long.", carried_settings[i], strlen(value))));
		strcpy(out + used, carried_settings[i]);
		used += strlen(carried_settings[i]) + 1;
		strcpy(out + used, value);
		used += strlen(value) + 1;
	}
	out[used] = '\0';
}

static void
unpack_settings(const char *in)
{
	while (*in)
	{
		const char *name = in;
		const char *value = name + strlen(name) + 1;

		SetConfigOption(name, value, PGC_SUSET, PGC_S_SESSION);
		in = value + strlen(value) + 1;
	}
}

/* Run when the wait ends in an error or the session exits: the helper stops. */
static void
stop_helper(int code, Datum arg)
{
	(void) TerminateBackgroundWorker((BackgroundWorkerHandle *) DatumGetPointer(arg));
}

int
tz_deliver_in_helper(int max_jobs)
{
	dsm_segment *seg = dsm_create(sizeof(HelperShared), 0);
	HelperShared *sh = dsm_segment_address(seg);
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	pid_t		pid;
	int			done;

	memset(sh, 0, sizeof(HelperShared));
	sh->dboid = MyDatabaseId;
	/* process_outbox() is SECURITY DEFINER: its owner's role */
	sh->roleoid = GetUserId();
	sh->max_jobs = max_jobs;
	sh->session_pid = MyProcPid;
	pack_settings(sh->settings);

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "togai_zoho");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "tz_helper_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "togai_zoho process_outbox for pid %d", MyProcPid);
	snprintf(w.bgw_type, BGW_MAXLEN, "togai_zoho process_outbox");
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("togai_zoho: process_outbox() could not start its delivery process"),
				 errdetail("Every background worker slot (max_worker_processes) is taken; "
						   "nothing was claimed or sent."),
				 errhint("Try again later, or raise max_worker_processes.")));

	PG_ENSURE_ERROR_CLEANUP(stop_helper, PointerGetDatum(handle));
	{
		if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
			(void) WaitForBackgroundWorkerShutdown(handle);
	}
	PG_END_ENSURE_ERROR_CLEANUP(stop_helper, PointerGetDatum(handle));

	if (!sh->finished)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("togai_zoho: process_outbox()'s delivery process stopped before it finished"),
				 errdetail("The jobs it claimed run again and look for their objects first."),
				 errhint("The server log says why it stopped.")));
	if (sh->sqlerrcode != 0)
		ereport(ERROR,
				(errcode(sh->sqlerrcode),
				 errmsg("togai_zoho: process_outbox()'s delivery failed: %s", sh->error),
				 errdetail("The jobs it claimed run again and look for their objects first.")));
	done = sh->done;
	dsm_detach(seg);
	return done;
}

/* SIGTERM (the session gave up, or a shutdown): stop after the calls in flight. */
static void
helper_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	tz_delivery_stop = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

void
tz_helper_main(Datum arg)
{
	dsm_segment *seg;
	HelperShared *sh;
	TzEngine   *engine;

	pqsignal(SIGTERM, helper_sigterm);
	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the session is gone already */
	sh = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(sh->dboid, sh->roleoid, 0);
	pgstat_report_appname("togai_zoho process_outbox");
	unpack_settings(sh->settings);

	PG_TRY();
	{
		engine = tz_engine_create(false, psprintf("process_outbox (pid %d)", sh->session_pid));
		sh->done = tz_engine_run(engine, sh->max_jobs);
		tz_engine_destroy(engine);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();

		sh->sqlerrcode = edata->sqlerrcode;
		strlcpy(sh->error, edata->message ? edata->message : "unknown error", sizeof(sh->error));
		sh->finished = true;
		PG_RE_THROW();
	}
	PG_END_TRY();
	sh->finished = true;
	dsm_detach(seg);
	proc_exit(0);
}
