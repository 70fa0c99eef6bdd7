"""Fault matrix: with the mocks answering a fifth of the calls with a mix of 429 (with a wait),
500, 503, timeouts, dropped connections, malformed JSON, answers lost after the work was done,
and expired tokens, a drain of both ready flows ends with every job delivered or dead with a
reason, and nothing duplicated."""

from drain_case import DrainCase, sizes, sql, time, wait_until

ACCOUNTS = INVOICES = sizes(1000, 5000)
SHARE = 0.20


def matrix(kinds):
    """Standing faults whose chances, tried one after the other, add up to SHARE of the calls."""
    each = 1 - (1 - SHARE) ** (1.0 / len(kinds))
    return [dict(k, rate=each) for k in kinds]


COMMON = [{"kind": "429", "retry_after": 1}, {"kind": "500"}, {"kind": "503"},
          {"kind": "delay", "seconds": 1.5}, {"kind": "drop"}, {"kind": "malformed_json"},
          {"kind": "after_success_drop"}]


class FaultMatrix(DrainCase):

    def test_a_fifth_of_calls_failing_loses_and_doubles_nothing(self):
        self.settings(request_timeout_ms=1000, max_attempts=12, max_concurrency=16)
        # random 401s are not how a real token behaves: let the mock mint as many as asked
        self.zoho.config(mint_limit=1000000)
        self.zoho.faults(*matrix(COMMON + [{"kind": "expired_token", "match": {"path_prefix": "/books/"}}]))
        self.togai.faults(*matrix(COMMON))
        self.addCleanup(self.togai.call, "DELETE", "faults")
        self.addCleanup(self.zoho.call, "DELETE", "faults")
        start = time.monotonic()
        ids, refs = self.enqueue(ACCOUNTS, INVOICES)
        total = ACCOUNTS + INVOICES
        self.assertTrue(wait_until(lambda: self.settled(total), timeout=900, interval=0.5), self.states())
        took = time.monotonic() - start
        self.zoho.call("DELETE", "faults")
        self.togai.call("DELETE", "faults")
        states = self.states()
        found = self.count_at_remotes(ids, refs)
        zs, ts = self.zoho.stats(), self.togai.stats()
        calls = zs["requests"] + ts["requests"]
        fired = zs["faults_fired"] + ts["faults_fired"]
        kinds = {}
        for k, v in list(zs["faults_by_kind"].items()) + list(ts["faults_by_kind"].items()):
            kinds[k] = kinds.get(k, 0) + v
        dead_without_reason = int(sql("SELECT count(*) FROM togai_zoho.outbox WHERE state = 'dead' "
                                      "AND last_error IS NULL AND source_id LIKE '%s%%'" % self.prefix)[0][0])
        reasons = sql("SELECT left(regexp_replace(last_error, '[0-9]{6,}', 'N', 'g'), 120), count(*) "
                      "FROM togai_zoho.outbox WHERE state = 'dead' AND source_id LIKE '%s%%' "
                      "GROUP BY 1 ORDER BY 2 DESC" % self.prefix)
        attempts = sql("SELECT outcome, count(*) FROM togai_zoho.outbox_attempt a JOIN togai_zoho.outbox o "
                       "ON o.id = a.job_id WHERE o.source_id LIKE '%s%%' GROUP BY 1 ORDER BY 1" % self.prefix)
        self.report("fault matrix: %d jobs, %.0f%% of calls faulty" % (total, 100.0 * fired / calls), dict({
            "calls answered (both mocks)": calls,
            "faults injected": "%d %s" % (fired, dict(sorted(kinds.items()))),
            "attempts by outcome": dict(attempts),
            "delivered": "%d (%.2f%%)" % (states.get("done", 0), 100.0 * states.get("done", 0) / total),
            "dead, with a reason": "%d (%.2f%%)" % (states.get("dead", 0), 100.0 * states.get("dead", 0) / total),
            "dead without a reason": dead_without_reason,
            "why they died": dict(reasons),
            "drain took": "%.1f s" % took}, **found))
        self.assertEqual(states.get("done", 0) + states.get("dead", 0), total)
        self.assertEqual(dead_without_reason, 0)
        self.assertEqual(found["contacts duplicated"], 0)
        self.assertEqual(found["invoices duplicated"], 0)
        # what died is the only thing missing
        dead = int(states.get("dead", 0))
        self.assertLessEqual(found["contacts lost"] + found["invoices lost"], dead)
        self.assertGreater(fired, 0.15 * calls)
