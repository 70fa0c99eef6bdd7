"""Each fault the mocks can inject ends in its documented error, and requests stay bounded."""

import json
import time

from harness import (DatabaseCase, add_zoho, literal, remember_issued_tokens, remember_secret,
                     value, wait_until, zoho_seed)

TOKEN = "togai.token.faults"


class Faults(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed())
        add_zoho(cls, cls.zoho)
        cls.togai = cls.mock("togai", "--demo-seed", "--token", TOKEN)
        remember_secret(TOKEN)
        value("SELECT togai_zoho.add_togai_connection('togai', %s, %s)" % (literal(TOKEN), literal(cls.togai.url)),
              cls.db)

    @classmethod
    def tearDownClass(cls):
        remember_issued_tokens(cls.zoho)
        super().tearDownClass()

    def setUp(self):
        self.zoho.call("DELETE", "faults")
        self.togai.call("DELETE", "faults")

    def zoho_orgs(self, **kw):
        return self.error("SELECT togai_zoho.zohobooks_call('zoho', 'organizations')", **kw)

    def togai_get(self, **kw):
        return self.error("SELECT togai_zoho.togai_call('togai', 'account_get', '{\"account_id\": \"acc.demo.1\"}')",
                          **kw)

    def test_429_says_how_long_to_wait(self):
        self.zoho.faults({"kind": "429", "count": 1, "retry_after": 17})
        self.assertSQLState(self.zoho_orgs(), "TZ429", "exceeded the maximum number of requests", "17 seconds",
                            "code 44")
        self.togai.faults({"kind": "429", "count": 1, "retry_after": 3})
        self.assertSQLState(self.togai_get(), "TZ429", "Too many requests", "3 seconds")
        # Togai's 429 pauses the connection for its Retry-After: the next call waits, unsent
        self.togai.call("DELETE", "requests")
        self.assertSQLState(self.togai_get(), "TZ429", 'Togai refused connection "togai" for rate',
                            "calls go on at")
        self.assertEqual(self.togai.requests(), [])
        # set_api_budget lifts the pause
        value("SELECT count(*) FROM togai_zoho.set_api_budget('togai')", self.db)
        self.assertIn("acc.demo.1", value("SELECT togai_zoho.togai_call('togai', 'account_get', "
                                          "'{\"account_id\": \"acc.demo.1\"}')::text", self.db))

    def test_5xx(self):
        for kind in ("500", "503"):
            self.zoho.faults({"kind": kind, "count": 1})
            self.assertSQLState(self.zoho_orgs(), "TZ500", "HTTP " + kind)
            self.togai.faults({"kind": kind, "count": 1})
            self.assertSQLState(self.togai_get(), "TZ500", "HTTP " + kind)

    def test_timeout(self):
        self.togai.faults({"kind": "delay", "seconds": 3, "count": 1})
        start = time.monotonic()
        err = self.togai_get(settings={"togai_zoho.request_timeout_ms": "500"})
        self.assertSQLState(err, "08006", "timed out", "500 ms")
        self.assertLess(time.monotonic() - start, 2.5)

    def test_dropped_connection(self):
        self.zoho.faults({"kind": "drop", "count": 1})
        self.assertSQLState(self.zoho_orgs(), "08006", "closed the connection")
        self.togai.faults({"kind": "drop", "count": 1})
        self.assertSQLState(self.togai_get(), "08006", "closed the connection")

    def test_work_done_then_dropped(self):
        # the remote committed but the answer never came: the caller sees a failure it must retry
        self.togai.faults({"kind": "after_success_drop", "count": 1})
        self.assertSQLState(self.togai_get(), "08006")

    def test_malformed_json(self):
        self.zoho.faults({"kind": "malformed_json", "count": 1})
        self.assertSQLState(self.zoho_orgs(), "TZ502", "not what its API documents")
        self.togai.faults({"kind": "malformed_json", "count": 1})
        self.assertSQLState(self.togai_get(), "TZ502")

    def test_expired_token(self):
        self.zoho.clear_requests()
        self.zoho.faults({"kind": "expired_token", "count": 1, "match": {"path_prefix": "/books/v3/"}})
        orgs = self.json("SELECT togai_zoho.zohobooks_call('zoho', 'organizations')")
        self.assertEqual(orgs[0]["organization_id"], "600001")
        self.assertEqual(len(self.zoho.requests("/oauth/v2/token")), 1)
        # a token refused twice in a row is an error, after exactly one refresh
        self.zoho.clear_requests()
        self.zoho.faults({"kind": "expired_token", "count": 2, "match": {"path_prefix": "/books/v3/"}})
        self.assertSQLState(self.zoho_orgs(), "TZ401", "Invalid OAuth access token")
        self.assertEqual(len(self.zoho.requests("/oauth/v2/token")), 1)
        self.togai.faults({"kind": "expired_token", "count": 1})
        self.assertSQLState(self.togai_get(), "TZ401")

    def test_response_cap(self):
        err = self.error("SELECT togai_zoho.togai_call('togai', 'invoices_list', '{\"page_size\": 50}')",
                         settings={"togai_zoho.max_response_bytes": "1024"})
        self.assertSQLState(err, "54000", "larger than togai_zoho.max_response_bytes (1024 bytes)")

    def test_cancel_mid_request(self):
        self.togai.faults({"kind": "delay", "seconds": 10, "count": 1})
        start = time.monotonic()
        err = self.togai_get(settings={"statement_timeout": "1s"})
        self.assertSQLState(err, "57014", "statement timeout")
        self.assertLess(time.monotonic() - start, 3)
        # the backend is fine afterwards
        self.assertEqual(self.json("SELECT togai_zoho.check_connection('togai')")["ok"], True)

    def test_terminate_mid_request(self):
        import subprocess
        self.togai.faults({"kind": "delay", "seconds": 20, "count": 1})
        slow = subprocess.Popen(["psql", "-X", "-q", "-d", self.db, "-c",
                                 "SELECT togai_zoho.togai_call('togai', 'account_get', "
                                 "'{\"account_id\": \"acc.demo.1\"}')"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_until(lambda: self.value(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%account_get%' "
                "AND pid <> pg_backend_pid()") == "1", timeout=10))
            time.sleep(0.3)
            start = time.monotonic()
            self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE query LIKE '%account_get%' AND pid <> pg_backend_pid()")
            _, err = slow.communicate(timeout=10)
            self.assertLess(time.monotonic() - start, 2)
            self.assertIn("terminating connection due to administrator command", err)
        finally:
            if slow.poll() is None:
                slow.kill()
                slow.wait()

    def test_check_connections_runs_the_calls_at_once(self):
        self.value("SELECT togai_zoho.add_togai_connection('togai two', %s, %s)"
                   % (literal(TOKEN), literal(self.togai.url)))
        self.value("SELECT togai_zoho.add_togai_connection('togai three', 'tok.three.wrong', %s)"
                   % literal(self.togai.url))
        self.togai.config(latency_ms=600)
        self.zoho.config(latency_ms=600)
        self.togai.call("POST", "stats/reset")
        try:
            start = time.monotonic()
            rows = [json.loads(r[0]) for r in self.sql("SELECT togai_zoho.check_connections()")]
            elapsed = time.monotonic() - start
        finally:
            self.togai.config(latency_ms=0)
            self.zoho.config(latency_ms=0)
            self.sql("SELECT togai_zoho.drop_connection('togai two'), togai_zoho.drop_connection('togai three')")
        by_name = {r["connection"]: r for r in rows}
        self.assertTrue(by_name["zoho"]["ok"] and by_name["togai"]["ok"] and by_name["togai two"]["ok"], rows)
        self.assertEqual((by_name["togai three"]["ok"], by_name["togai three"]["sqlstate"]), (False, "TZ401"))
        # four calls of 600 ms each, in well under twice that: they ran at once
        self.assertLess(elapsed, 1.2, rows)
        self.assertGreaterEqual(self.togai.stats()["peak_in_flight"], 3)  # earlier slow calls may linger

    def test_rate_limit_at_the_mock(self):
        self.zoho.config(rate_limit_per_minute=3)
        try:
            for _ in range(3):
                self.json("SELECT togai_zoho.zohobooks_call('zoho', 'currencies')")
            err = self.error("SELECT togai_zoho.zohobooks_call('zoho', 'currencies')")
            self.assertSQLState(err, "TZ429", "seconds")
        finally:
            self.zoho.config(rate_limit_per_minute=None)

    def test_connection_refused_and_redirects(self):
        self.value("SELECT togai_zoho.add_togai_connection('nowhere', 'tok.nowhere', 'http://127.0.0.1:9')")
        result = self.json("SELECT togai_zoho.check_connection('nowhere')")
        self.assertEqual((result["ok"], result["sqlstate"]), (False, "08001"))
        self.assertIn("127.0.0.1", result["error"])

    def test_plain_http_refused_for_other_hosts(self):
        # a row written directly (as a dump restore could) still cannot send to plain http
        self.sql("INSERT INTO togai_zoho.connection (name, app, base_url) VALUES ('plain', 'togai', 'http://example.invalid')")
        self.sql("INSERT INTO togai_zoho.connection_secret (connection_id, api_token) "
                 "SELECT id, 'tok.plain' FROM togai_zoho.connection WHERE name = 'plain'")
        result = self.json("SELECT togai_zoho.check_connection('plain')")
        self.assertEqual((result["ok"], result["sqlstate"]), (False, "22023"))
        self.assertIn("refusing", result["error"])
