"""Crash test: during a drain of both ready flows, SIGKILL the worker and restart the whole
server (immediate shutdown) at random moments; afterwards every job is delivered, and the
mocks hold exactly one contact per account and one invoice per invoice."""

import subprocess

from drain_case import LONG, DrainCase, random, sizes, sql, time, value, wait_until

ACCOUNTS = INVOICES = sizes(1000, 5000)
INTERRUPTIONS = 30 if LONG else 10


def worker_pid():
    return value("SELECT pid FROM pg_stat_activity WHERE backend_type = 'togai_zoho worker'")


def cluster(*args):
    return subprocess.run(["pg_ctlcluster", "15", "regress"] + list(args), capture_output=True, text=True)


def restart_immediately():
    """Immediate shutdown (no checkpoint, like a power cut), then start again; the start is
    retried while the old postmaster is still on its way out."""
    stop = cluster("stop", "-m", "immediate")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    for _ in range(50):
        start = cluster("start")
        if start.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the cluster did not start again: " + start.stdout + start.stderr)


class CrashDrain(DrainCase):

    def reachable_with_worker(self):
        try:
            return worker_pid() is not None
        except Exception:
            return False

    def test_kills_and_restarts_lose_and_double_nothing(self):
        self.settings(request_timeout_ms=2000, max_concurrency=8)
        self.zoho.config(latency_ms=80)
        self.togai.config(latency_ms=30)
        rng = random.Random(20261126)
        start = time.monotonic()
        ids, refs = self.enqueue(ACCOUNTS, INVOICES)
        total = ACCOUNTS + INVOICES
        kills = restarts = 0
        pending_at = []
        # random moments of the drain: each interruption waits until a random share of the
        # jobs is delivered, so every one of them hits a drain under way whatever its size
        for k, share in enumerate(sorted(rng.uniform(0.02, 0.8) for _ in range(INTERRUPTIONS))):
            wait_until(lambda: self.states().get("done", 0) >= share * total, timeout=300, interval=0.05)
            time.sleep(rng.uniform(0, 0.1))
            s = self.states()
            pending_at.append(total - s.get("done", 0))
            if k % 2 == 0:
                pid = worker_pid()
                subprocess.run(["kill", "-KILL", str(pid)], check=False)
                kills += 1
            else:
                restart_immediately()
                restarts += 1
            self.assertTrue(wait_until(self.reachable_with_worker, timeout=60))
        self.assertTrue(wait_until(lambda: self.settled(total), timeout=600, interval=0.5), self.states())
        took = time.monotonic() - start
        states = self.states()
        found = self.count_at_remotes(ids, refs)
        reclaimed = value("SELECT count(*) FROM togai_zoho.outbox_attempt a JOIN togai_zoho.outbox o "
                          "ON o.id = a.job_id WHERE a.outcome = 'reclaimed' AND o.source_id LIKE '%s%%'"
                          % self.prefix)
        self.report("crash drain: %d jobs, %d SIGKILLs of the worker, %d immediate restarts"
                    % (total, kills, restarts), dict({
                        "jobs not yet delivered at each interruption": pending_at,
                        "delivered": states.get("done", 0),
                        "dead": states.get("dead", 0),
                        "attempts taken back after an interruption": reclaimed,
                        "drain with interruptions took": "%.1f s" % took}, **found))
        self.assertTrue(all(p > 0 for p in pending_at), "every interruption hit a drain under way")
        self.assertEqual(states, {"done": total})
        self.assertEqual(found, {k: 0 for k in found})
        self.assertEqual(sql("SELECT count(*) FROM togai_zoho.id_mapping WHERE togai_id LIKE '%s%%'"
                             % self.prefix), [(str(total),)])
