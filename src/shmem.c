/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The shared segment: the worker's process number, so commits can set its
 *	  latch, and a small open-addressed table of token buckets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "policy.h"
#include "shmem.h"

#define TZ_BUCKETS 1024			/* connections paced at once per cluster */

typedef struct SharedBucket
{
	int64		connection_id;	/* 0: free slot */
	TzBucket	bucket;
} SharedBucket;

typedef struct TzShared
{
	LWLock	   *lock;			/* guards buckets */
	int			worker_procno;	/* -1 when no worker runs */
	SharedBucket buckets[TZ_BUCKETS];
} TzShared;

static TzShared *shared = NULL;
static SharedBucket local_buckets[TZ_BUCKETS];	/* without the preload */
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool wake_at_commit = false;
static bool callback_registered = false;

static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(TzShared)));
	RequestNamedLWLockTranche("togai_zoho", 1);
}

static void
shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("togai_zoho", sizeof(TzShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(TzShared));
		shared->lock = &(GetNamedLWLockTranche("togai_zoho"))->lock;
		shared->worker_procno = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
tz_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
}

void
tz_shmem_set_worker(bool running)
{
	if (shared == NULL)
		return;
	/* a plain int store is atomic; readers only use it to set a latch */
	shared->worker_procno = running ? MyProc->pgprocno : -1;
}

void
tz_wake_worker(void)
{
	int			procno;
	PGPROC	   *proc;

	if (shared == NULL)
		return;
	procno = shared->worker_procno;
	if (procno < 0 || procno >= ProcGlobal->allProcCount)
		return;
	proc = &ProcGlobal->allProcs[procno];
	/* it serves one database: jobs enqueued in another are not its to see */
	if (proc->databaseId == MyDatabaseId)
		SetLatch(&proc->procLatch);
}

static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_at_commit)
				tz_wake_worker();
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_at_commit = false;
			break;
		default:
			break;
	}
}

void
tz_wake_worker_at_commit(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(xact_callback, NULL);
		callback_registered = true;
	}
	wake_at_commit = true;
}

/* The bucket of a connection, claiming a slot on first use. */
static TzBucket *
bucket_of(SharedBucket *table, int64 connection_id)
{
	uint64		h = (uint64) connection_id * UINT64CONST(0x9E3779B97F4A7C15);

	for (int i = 0; i < TZ_BUCKETS; i++)
	{
		SharedBucket *slot = &table[(h + i) % TZ_BUCKETS];

		if (slot->connection_id == connection_id)
			return &slot->bucket;
		if (slot->connection_id == 0)
		{
			memset(slot, 0, sizeof(*slot));
			slot->connection_id = connection_id;
			return &slot->bucket;
		}
	}
	return NULL;				/* full: that connection goes unpaced */
}

static double
now_seconds(void)
{
	return (double) GetCurrentTimestamp() / USECS_PER_SEC;
}

int64
tz_rate_take(int64 connection_id, int per_minute)
{
	TzBucket   *b;
	int64		wait = 0;

	if (per_minute <= 0)
		return 0;
	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	b = bucket_of(shared ? shared->buckets : local_buckets, connection_id);
	if (b)
		wait = tz_bucket_take(b, now_seconds(), per_minute);
	if (shared)
		LWLockRelease(shared->lock);
	return wait;
}

void
tz_rate_wait(int64 connection_id, int per_minute)
{
	int64		wait;

	while ((wait = tz_rate_take(connection_id, per_minute)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) Min(wait, 1000), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

void
tz_rate_pause(int64 connection_id, int per_minute, int64 pause_ms)
{
	TzBucket   *b;

	if (per_minute <= 0)
		return;
	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	b = bucket_of(shared ? shared->buckets : local_buckets, connection_id);
	if (b)
		tz_bucket_pause(b, now_seconds(), per_minute, pause_ms);
	if (shared)
		LWLockRelease(shared->lock);
}
