"""The webhook receiver (src/receiver): its own process, connected as a role that may only call
receive_webhook. Zoho Books' calls must carry the HMAC-SHA256 of the body, Togai's our secret;
a call that does not is refused before any database work, a malformed body does not stop it,
and it answers only once the event is committed."""

import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile

from harness import (WorkerDatabaseCase, literal, remember_secret, sql, value, wait_until)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flows"))
from flows_case import account, customer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "..", "..", "src", "receiver", "togai_zoho_receiver")
ROLE, ROLE_PASSWORD = "tz_webhook_receiver", "rcv.pw.7f3a91"
ZOHO_SECRET, TOGAI_SECRET = "zohoWebhookSecret42", "togai.hook.secret.9d2e"


class WebhookReceiver(WorkerDatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        remember_secret(ROLE_PASSWORD, ZOHO_SECRET, TOGAI_SECRET)
        sql("DROP ROLE IF EXISTS %s" % ROLE)
        sql("CREATE ROLE %s LOGIN PASSWORD %s" % (ROLE, literal(ROLE_PASSWORD)))
        sql("GRANT USAGE ON SCHEMA togai_zoho TO %s" % ROLE)
        sql("GRANT EXECUTE ON FUNCTION togai_zoho.receive_webhook(text, jsonb) TO %s" % ROLE)
        cls.addClassCleanup(sql, "DROP OWNED BY %s; DROP ROLE %s" % (ROLE, ROLE))
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.secrets = os.path.join(cls.tmp.name, "secrets")
        with open(os.open(cls.secrets, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("# app connection secret\nzohobooks zoho %s\ntogai togai %s\n"
                    % (ZOHO_SECRET, TOGAI_SECRET))

    def setUp(self):
        dsn = "host=%s port=%s dbname=postgres user=%s password=%s" % (
            os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432"), ROLE, ROLE_PASSWORD)
        self.proc = subprocess.Popen([RECEIVER, "--listen", "127.0.0.1:0", "--secrets", self.secrets,
                                      "--dsn", dsn, "--threads", "2"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop)
        first = self.proc.stdout.readline().split()
        self.assertEqual(first[0], "LISTENING", first)
        self.port = int(first[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.proc.wait(timeout=10), 0)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def post(self, path, body, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = body if isinstance(body, bytes) else body.encode()
        c.request("POST", path, body=data, headers=dict({"Content-Type": "application/json"},
                                                         **(headers or {})))
        r = c.getresponse()
        out = r.status, r.read().decode()
        c.close()
        return out

    def signed(self, body, secret=ZOHO_SECRET):
        return {"X-Zoho-Webhook-Signature": hmac.new(secret.encode(), body.encode(),
                                                     hashlib.sha256).hexdigest()}

    def receiver_sessions(self):
        return int(value("SELECT count(*) FROM pg_stat_activity WHERE usename = %s" % literal(ROLE)))

    def test_bad_and_missing_signatures_are_refused_without_database_work(self):
        body = json.dumps({"contact": {"contact_id": "460000000000001"}})
        for headers in ({}, self.signed(body, "anotherSecret123"),
                        {"X-Zoho-Webhook-Signature": "00" * 32},
                        {"X-Zoho-Webhook-Signature": self.signed(body)["X-Zoho-Webhook-Signature"][:40]}):
            self.assertEqual(self.post("/zohobooks/zoho", body, headers)[0], 401, headers)
        for headers in ({}, {"X-Togai-Zoho-Secret": TOGAI_SECRET[:-1]},
                        {"X-Togai-Zoho-Secret": TOGAI_SECRET + "x"}):
            self.assertEqual(self.post("/togai/togai", "{}", headers)[0], 401, headers)
        # a signature for one connection does not open another, or another app's path
        self.assertEqual(self.post("/zohobooks/other", body, self.signed(body))[0], 404)
        self.assertEqual(self.post("/togai/zoho", body, {"X-Togai-Zoho-Secret": TOGAI_SECRET})[0], 404)
        # a flood of them: the receiver never connected to the database
        for _ in range(200):
            self.assertEqual(self.post("/zohobooks/zoho", body, {"X-Zoho-Webhook-Signature": "ab"})[0], 401)
        self.assertEqual(self.receiver_sessions(), 0)
        self.assertIsNone(self.proc.poll())

    def test_signed_events_are_handed_in_and_committed(self):
        # Zoho Books: a contact event, signed; the contact is read from the API into the inbox
        contact = json.loads(value("SELECT togai_zoho.zohobooks_call('zoho', 'contact_create', %s)" % literal(
            json.dumps({"contact": {"contact_name": "Hooked %d" % os.getpid(), "contact_type": "customer"}}))))
        body = json.dumps({"contact": {"contact_id": contact["contact_id"]}})
        status, out = self.post("/zohobooks/zoho", body, self.signed(body))
        self.assertEqual((status, json.loads(out)), (200, {"changed": 1}), out)
        # answered once committed: another session sees the row at once
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.inbox WHERE entity = 'contact' "
                               "AND remote_id = %s" % literal(contact["contact_id"])), "1")
        # the same event again changes nothing
        self.assertEqual(json.loads(self.post("/zohobooks/zoho", body, self.signed(body))[1]), {"changed": 0})
        # Togai: an account event with our secret; the account is read from the API
        aid, cid = "acc.hook.%d" % os.getpid(), "cus.hook.%d" % os.getpid()
        self.togai.seed({"customers": [customer(cid, "Hook Customer")],
                         "accounts": [account(aid, cid, "Hook Account")]})
        body = json.dumps({"type": "ACCOUNT_CREATED", "account": {"id": aid}})
        status, out = self.post("/togai/togai", body, {"X-Togai-Zoho-Secret": TOGAI_SECRET})
        self.assertEqual((status, json.loads(out)), (200, {"changed": 1}), out)
        self.assertEqual(value("SELECT name FROM togai_zoho.customers WHERE account_id = %s" % literal(aid)),
                         "Hook Account")

    def test_malformed_and_oversized_bodies_do_not_stop_it(self):
        for body in ("{oops", "[]", json.dumps({"payment": 42})):
            status, out = self.post("/zohobooks/zoho", body, self.signed(body))
            self.assertEqual(status, 400, out)
        self.assertEqual(self.post("/zohobooks/zoho", b"{" + b" " * (1024 * 1024 + 10) + b"}")[0], 413)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/zohobooks/zoho")
        self.assertEqual(c.getresponse().status, 405)
        c.close()
        self.assertIsNone(self.proc.poll())
        body = json.dumps({"contact": {"contact_id": "missing.but.well.formed"}})
        self.assertIn(self.post("/zohobooks/zoho", body, self.signed(body))[0], (200, 400, 503))

    def test_its_role_may_only_hand_in_events(self):
        env = dict(os.environ, PGUSER=ROLE, PGPASSWORD=ROLE_PASSWORD)
        for query in ("SELECT count(*) FROM togai_zoho.outbox",
                      "SELECT count(*) FROM togai_zoho.connection_secret",
                      "SELECT togai_zoho.zohobooks_call('zoho', 'organizations')",
                      "SELECT togai_zoho.retry_dead(NULL)"):
            p = subprocess.run(["psql", "-X", "-q", "-h", "localhost", "-d", "postgres", "-c", query],
                               env=env, capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0, query)
            self.assertIn("permission denied", p.stderr, query)
        self.assertTrue(wait_until(lambda: self.proc.poll() is None, timeout=1))

    def test_registering_the_zoho_webhook_makes_polls_sweep(self):
        url = "http://127.0.0.1:%d/zohobooks/zoho" % self.port
        self.assertSQLState(self.error("SELECT togai_zoho.register_zohobooks_webhook('zoho', %s, 'short')"
                                       % literal(url)), "22023", "12 to 50 letters and digits")
        self.assertSQLState(self.error("SELECT togai_zoho.register_zohobooks_webhook('togai', %s, %s)"
                                       % (literal(url), literal(ZOHO_SECRET))), "42809")
        hook = value("SELECT togai_zoho.register_zohobooks_webhook('zoho', %s, %s)"
                     % (literal(url), literal(ZOHO_SECRET)))
        self.addCleanup(sql, "SELECT togai_zoho.forget_zohobooks_webhook('zoho')")
        (registered,) = [w for w in self.zoho.state()["webhooks"] if w["webhook_id"] == hook]
        self.assertEqual((registered["url"], registered["secret"]), (url, ZOHO_SECRET))
        # a flow that needs the invoices; its polls now wait a sweep (an hour), changes or not
        sql("SELECT togai_zoho.create_flow('hooked payments', 'inbound', 'zoho', 'payment_recorded')")
        self.addCleanup(sql, "SELECT togai_zoho.drop_flow('hooked payments', force => true)")
        sql("SELECT togai_zoho.add_flow_action('hooked payments', 'togai', 'payment_record')")
        sql("SELECT togai_zoho.set_flow_enabled('hooked payments')")
        sql("SELECT togai_zoho.poll_zohobooks('zoho')")
        wait = float(value("SELECT extract(epoch FROM next_poll_at - now()) FROM togai_zoho.poll_status "
                           "WHERE connection = 'zoho' AND stream = 'invoices'"))
        self.assertGreater(wait, 3500)
        self.assertEqual(json.loads(value("SELECT togai_zoho.poll_zohobooks('zoho')"))["skipped"],
                         "no list is due")
        sql("SELECT togai_zoho.forget_zohobooks_webhook('zoho')")
        sql("DELETE FROM togai_zoho.sync_cursor WHERE stream = 'invoices'")
