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

#include "pure/admission.h"
#include "shmem.h"

#define TZ_BUCKETS 1024			/* connections paced at once per cluster */

typedef struct SharedBucket
{
	Oid			dboid;			/* connection ids are a database's own */
	int64		connection_id;	/* 0: free slot */
	TzBucket	bucket;
	bool		budget_loaded;	/* the counters were taken from the table */
	TzBudget	budget;
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

/* The slot of a connection, claiming one on first use; caller holds the lock. */
static SharedBucket *
slot_of(int64 connection_id)
{
	SharedBucket *table = shared ? shared->buckets : local_buckets;
	uint64		h = (uint64) connection_id * UINT64CONST(0x9E3779B97F4A7C15) + MyDatabaseId;

	for (int i = 0; i < TZ_BUCKETS; i++)
	{
		SharedBucket *slot = &table[(h + i) % TZ_BUCKETS];

		if (slot->connection_id == connection_id && slot->dboid == MyDatabaseId)
			return slot;
		if (slot->connection_id == 0)
		{
			memset(slot, 0, sizeof(*slot));
			slot->dboid = MyDatabaseId;
			slot->connection_id = connection_id;
			return slot;
		}
	}
	return NULL;				/* full: that connection goes unpaced */
}

static TzBucket *
bucket_of(int64 connection_id)
{
	SharedBucket *slot = slot_of(connection_id);

	return slot ? &slot->bucket : NULL;
}

static void
lock_slots(void)
{
	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
}

static void
unlock_slots(void)
{
	if (shared)
		LWLockRelease(shared->lock);
}

void
tz_rate_pause(int64 connection_id, int per_minute, int64 pause_ms)
{
	TzBucket   *b;

	if (per_minute <= 0)
		return;
	lock_slots();
	b = bucket_of(connection_id);
	if (b)
		tz_bucket_pause(b, tz_unix_now(), per_minute, pause_ms);
	unlock_slots();
}

/*
 * ---------------------------------------------------------------------------
 * Daily budgets and concurrency caps (budget.h), beside the buckets
 * ---------------------------------------------------------------------------
 */

/* Calls this process holds slots for, so that an error or an exit frees them. */
typedef struct HeldCalls
{
	int64		connection_id;
	int			n;
} HeldCalls;

#define TZ_HELD_MAX 64
static HeldCalls held[TZ_HELD_MAX];
static bool exit_callback_registered = false;

double
tz_unix_now(void)
{
	return (double) GetCurrentTimestamp() / USECS_PER_SEC +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * (double) SECS_PER_DAY;
}

TimestampTz
tz_timestamp_of_unix(double s)
{
	return (TimestampTz) ((s - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * (double) SECS_PER_DAY)
						  * USECS_PER_SEC);
}

static void
release_held_at_exit(int code, Datum arg)
{
	tz_budget_release_all();
}

static void
note_held(int64 connection_id, int delta)
{
	int			free_i = -1;

	if (!exit_callback_registered)
	{
		before_shmem_exit(release_held_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	for (int i = 0; i < TZ_HELD_MAX; i++)
	{
		if (held[i].n > 0 && held[i].connection_id == connection_id)
		{
			held[i].n += delta;
			return;
		}
		if (held[i].n == 0 && free_i < 0)
			free_i = i;
	}
	if (delta > 0 && free_i >= 0)
	{
		held[free_i].connection_id = connection_id;
		held[free_i].n = delta;
	}
}

void
tz_budget_attach(int64 connection_id, const TzBudget *stored)
{
	SharedBucket *slot;

	lock_slots();
	slot = slot_of(connection_id);
	if (slot)
	{
		TzBudget   *b = &slot->budget;

		b->per_day = stored->per_day;
		b->concurrent = stored->concurrent;
		if (!slot->budget_loaded || stored->day > b->day)
		{
			/* a restart, or the first look after midnight: the table's counts */
			memcpy(b->calls, stored->calls, sizeof(b->calls));
			b->refused = stored->refused;
			b->paused_until_s = stored->paused_until_s;
			b->first_call_s = stored->first_call_s;
			b->day = stored->day;
			b->dirty = false;
			slot->budget_loaded = true;
		}
		if (stored->day == b->day)
			b->day_ends_s = stored->day_ends_s;	/* the time zone's own midnight */
	}
	unlock_slots();
}

TzAdmission
tz_shared_admit(int64 connection_id, int per_minute, TzPurpose purpose, bool take)
{
	SharedBucket *slot;
	TzAdmission a = {TZ_ADMIT_GO, 0, 0};

	lock_slots();
	slot = slot_of(connection_id);
	if (slot)
		a = tz_admission_decide(&slot->bucket, &slot->budget, tz_unix_now(), per_minute, purpose,
								take);
	unlock_slots();
	if (slot && take && a.verdict == TZ_ADMIT_GO && purpose != TZ_PURPOSE_TOKEN)
		note_held(connection_id, 1);
	return a;
}

void
tz_budget_call_ended(int64 connection_id)
{
	SharedBucket *slot;

	lock_slots();
	slot = slot_of(connection_id);
	if (slot)
		tz_budget_release(&slot->budget);
	unlock_slots();
	note_held(connection_id, -1);
}

void
tz_budget_release_all(void)
{
	lock_slots();
	for (int i = 0; i < TZ_HELD_MAX; i++)
	{
		SharedBucket *slot;

		if (held[i].n <= 0)
			continue;
		slot = slot_of(held[i].connection_id);
		while (slot && held[i].n-- > 0)
			tz_budget_release(&slot->budget);
		held[i].n = 0;
	}
	unlock_slots();
}

bool
tz_budget_refusal(int64 connection_id, TzRefusal kind)
{
	SharedBucket *slot;
	bool		for_day = false;

	lock_slots();
	slot = slot_of(connection_id);
	if (slot)
		for_day = tz_budget_refused(&slot->budget, tz_unix_now(), kind);
	unlock_slots();
	return for_day;
}

void
tz_budget_rest_for(int64 connection_id, double seconds)
{
	SharedBucket *slot;

	lock_slots();
	slot = slot_of(connection_id);
	if (slot)
		tz_budget_rest(&slot->budget, tz_unix_now(), seconds);
	unlock_slots();
}

void
tz_budget_clear_pause(int64 connection_id)
{
	SharedBucket *slot;

	lock_slots();
	slot = slot_of(connection_id);
	if (slot)
	{
		slot->budget.paused_until_s = 0;
		slot->budget.dirty = true;
	}
	unlock_slots();
}

bool
tz_budget_read(int64 connection_id, TzBudget *out)
{
	SharedBucket *slot;
	bool		found = false;

	lock_slots();
	slot = slot_of(connection_id);
	if (slot && slot->budget_loaded)
	{
		tz_budget_roll(&slot->budget, tz_unix_now());
		*out = slot->budget;
		found = true;
	}
	unlock_slots();
	return found;
}

int
tz_budget_take_dirty(int64 *ids, TzBudget *out, int max)
{
	SharedBucket *table = shared ? shared->buckets : local_buckets;
	int			n = 0;

	lock_slots();
	for (int i = 0; i < TZ_BUCKETS && n < max; i++)
	{
		SharedBucket *slot = &table[i];

		if (slot->connection_id == 0 || slot->dboid != MyDatabaseId || !slot->budget_loaded)
			continue;
		tz_budget_roll(&slot->budget, tz_unix_now());
		if (!slot->budget.dirty)
			continue;
		ids[n] = slot->connection_id;
		out[n] = slot->budget;
		slot->budget.dirty = false;
		n++;
	}
	unlock_slots();
	return n;
}
