"""Crashes mid-batch and concurrent delivery: every job reaches the remote exactly once."""

import subprocess
import threading
import time

from worker_case import WorkerCase, kill, set_worker_settings, sql, value, wait_until, worker_pid


class Crashes(WorkerCase):

    def drain_with(self, n, interrupt, rounds=2):
        """Inserts n accounts, interrupts delivery `rounds` times mid-batch, then waits."""
        slow = {"togai_zoho.request_timeout_ms": "2000", "togai_zoho.max_concurrency": "4"}
        set_worker_settings(slow)
        self.addCleanup(set_worker_settings, {k: None for k in slow})
        self.zoho.config(latency_ms=100)
        ids = self.accounts(n)
        for k in range(1, rounds + 1):
            target = n * k // (rounds + 1)
            self.assertTrue(wait_until(lambda: len(self.contacts_by_account()) >= target, timeout=60))
            interrupt()
        self.assertTrue(wait_until(lambda: self.states().get("done") == n, timeout=120), self.states())
        self.assertExactlyOnce(ids)
        return ids

    def test_worker_sigkill_mid_batch(self):
        def sigkill():
            pid = worker_pid()
            kill(pid, "KILL")
            # the postmaster resets every backend and restarts the worker
            self.assertTrue(wait_until(lambda: self.reachable() and worker_pid() not in (None, pid), 60))
        self.drain_with(200, sigkill)
        self.assertGreater(int(value("SELECT count(*) FROM togai_zoho.outbox_attempt "
                                     "WHERE outcome = 'reclaimed'")), 0)

    def test_server_restart_mid_batch(self):
        def restart():
            subprocess.run(["pg_ctlcluster", "15", "regress", "restart", "-m", "immediate"], check=True,
                           capture_output=True)
            self.assertTrue(wait_until(lambda: self.reachable() and worker_pid() is not None, 60))
        self.drain_with(200, restart)

    def reachable(self):
        try:
            value("SELECT 1")
            return True
        except Exception:
            return False

    def test_process_outbox_beside_the_worker_never_doubles(self):
        self.zoho.config(latency_ms=20)
        ids = self.accounts(150)
        errors = []

        def session():
            try:
                for _ in range(5):
                    value("SELECT togai_zoho.process_outbox(20)", timeout=120)
            except Exception as e:          # reported below
                errors.append(e)
        threads = [threading.Thread(target=session) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)
        self.assertEqual(len(self.posts("/contacts")), 150)
        who = dict(sql("SELECT worker LIKE 'process_outbox%', count(*) FROM togai_zoho.outbox_attempt "
                       "WHERE outcome = 'delivered' GROUP BY 1"))
        self.assertEqual(sum(int(v) for v in who.values()), 150)
        print("\n    delivered by the worker: %s, by process_outbox: %s" % (who.get("f", 0), who.get("t", 0)))
