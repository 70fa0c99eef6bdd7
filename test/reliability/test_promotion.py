"""A primary and a streaming standby on loopback (clusters of the postgres user), accounts,
invoices and Togai payments draining, the primary stopped with an immediate shutdown at a random point and the
standby promoted: asynchronous (its replication cut for a few seconds first, so the new primary
lacks the last claims, outcomes and mappings), then synchronous. The new primary's worker starts
by itself and finishes the drain; the mock's contacts, invoices and customer payments are
counted: 0 lost, 0 twice."""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import SECRETS, Mock, literal, remember_issued_tokens, remember_secret, wait_until, zoho_seed

BIN = "/usr/lib/postgresql/15/bin"
ACCOUNTS = int(os.environ.get("TZ_PROMOTION_ACCOUNTS", "700"))   # and as many invoices and payments
TOKEN = "togai.token.promotion"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*cmd):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + list(cmd), capture_output=True, text=True)


class Node:
    """A cluster of the postgres user in the test's folder."""

    def __init__(self, root, name):
        self.root = root
        self.dir = os.path.join(root, name)
        self.log = os.path.join(root, name + ".log")
        self.port = free_port()

    def ctl(self, *args):
        r = as_postgres(BIN + "/pg_ctl", "-D", self.dir, "-l", self.log, *args)
        if r.returncode != 0:
            raise AssertionError("pg_ctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))

    def conf(self, lines):
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as f:
            f.write("\n".join(lines) + "\n")

    def psql(self, query, db="billing"):
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", query],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        return p.stdout.strip()

    def up(self):
        try:
            return self.psql("SELECT 1", "postgres") == "1"
        except AssertionError:
            return False


class Promotion(unittest.TestCase):

    def setUp(self):
        # a new point each run; the seed is printed, and TZ_PROMOTION_SEED replays it
        self.seed = int(os.environ.get("TZ_PROMOTION_SEED", time.time_ns() % 1000000))
        self.rng = random.Random(self.seed)
        self.root = tempfile.mkdtemp(prefix="tz-promotion-")
        shutil.chown(self.root, "postgres")
        os.chmod(self.root, 0o755)
        self.addCleanup(shutil.rmtree, self.root, True)
        remember_secret(TOKEN)
        self.togai = Mock("togai", "--token", TOKEN)
        self.zoho = Mock("zohobooks")
        self.addCleanup(self.togai.stop)
        self.addCleanup(self.zoho.stop)
        self.zoho.seed(zoho_seed())
        self.primary = Node(self.root, "primary")
        self.standby = Node(self.root, "standby")
        self.addCleanup(self.stop_all)

    def stop_all(self):
        remember_issued_tokens(self.zoho)
        for n in (self.primary, self.standby):
            if os.path.exists(os.path.join(n.dir, "postmaster.pid")):
                as_postgres(BIN + "/pg_ctl", "-D", n.dir, "stop", "-m", "immediate")
        # the two servers' logs hold none of the secrets either
        for n in (self.primary, self.standby):
            if os.path.exists(n.log):
                with open(n.log, errors="replace") as f:
                    text = f.read()
                self.assertEqual([s for s in SECRETS if s in text], [], "secrets in %s" % n.log)

    def start_pair(self, synchronous):
        p, s = self.primary, self.standby
        r = as_postgres(BIN + "/initdb", "-D", p.dir, "--auth=trust", "-U", "postgres", "--no-sync")
        self.assertEqual(r.returncode, 0, r.stderr)
        p.conf(["port = %d" % p.port, "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '%s'" % self.root,
                "shared_preload_libraries = 'togai_zoho'", "togai_zoho.database_name = 'billing'",
                "togai_zoho.retry_base = '50ms'", "togai_zoho.retry_max = '400ms'",
                "togai_zoho.request_timeout_ms = 3000", "togai_zoho.max_concurrency = 8",
                "wal_level = replica", "max_wal_senders = 4", "hot_standby = on",
                "wal_receiver_status_interval = 1s"])
        p.ctl("start", "-w")
        p.psql("CREATE DATABASE billing", "postgres")
        p.psql("CREATE EXTENSION togai_zoho")
        p.psql("SELECT togai_zoho.add_togai_connection('togai', %s, %s)" % (literal(TOKEN), literal(self.togai.url)))
        p.psql("SELECT togai_zoho.add_zohobooks_connection('zoho', 'cid.test', 'csecret.test', code => "
               "'code.test.1', accounts_url => %s, api_url => %s)" % (literal(self.zoho.url), literal(self.zoho.url)))
        p.psql("SELECT togai_zoho.set_rate_limit('zoho', 100000)")
        for flow, trigger, action, options in (
                ("accounts", "account_changed", "contact_upsert", "{}"),
                ("invoices", "invoice_generated", "invoice_create", '{"mark_sent": true}'),
                ("payments", "payment_collected", "payment_apply", "{}")):
            p.psql("SELECT togai_zoho.create_flow('%s', 'outbound', 'togai', '%s')" % (flow, trigger))
            p.psql("SELECT togai_zoho.add_flow_action('%s', 'zoho', '%s', %s)" % (flow, action, literal(options)))
            p.psql("SELECT togai_zoho.set_flow_enabled('%s')" % flow)
        r = as_postgres(BIN + "/pg_basebackup", "-h", "127.0.0.1", "-p", str(p.port), "-U", "postgres",
                        "-D", s.dir, "-R", "-X", "stream", "--no-sync")
        self.assertEqual(r.returncode, 0, r.stderr)
        s.conf(["port = %d" % s.port])
        s.ctl("start", "-w")
        self.assertTrue(wait_until(lambda: p.psql("SELECT count(*) FROM pg_stat_replication "
                                                  "WHERE state = 'streaming'") == "1", timeout=30))
        if synchronous:
            # only now: until a standby streams, every commit would wait for one
            p.psql("ALTER SYSTEM SET synchronous_standby_names = '*'", "postgres")
            p.psql("SELECT pg_reload_conf()", "postgres")
            self.assertTrue(wait_until(lambda: p.psql("SELECT sync_state FROM pg_stat_replication") == "sync",
                                       timeout=30))

    def queue(self):
        p = self.primary
        self.prefix = "prom.%d" % (int(time.time() * 1000) % 100000)
        self.ids = ["%s.acc.%d" % (self.prefix, i) for i in range(ACCOUNTS)]
        p.psql("INSERT INTO togai_zoho.customers (account_id, customer_id, name, customer_name) VALUES "
               + ", ".join("(%s, %s, %s, 'Co')" % (literal(a), literal(a + ".cus"), literal("Account " + a))
                           for a in self.ids))
        p.psql("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, sequence_id, total_amount, "
               "currency, invoice_date) VALUES "
               + ", ".join("(%s, %s, 'DUE', %s, 40.00, 'USD', now())" % (literal(a + ".inv"), literal(a),
                                                                          literal("INV-" + a))
                           for a in self.ids))
        p.psql("INSERT INTO togai_zoho.payments (payment_id, account_id, currency, total_amount, records, "
               "source_type, paid_at) VALUES "
               + ", ".join("(%s, %s, 'USD', 40.00, %s, 'CARD', now())"
                           % (literal(a + ".pay"), literal(a),
                              literal('[{"type": "INVOICE", "togaiId": "%s.inv", "amount": 40.00, "order": 1}]' % a))
                           for a in self.ids))

    def made(self):
        """Togai id -> number of objects the mock holds for it (contacts by note, invoices by reference)."""
        counts = {}
        st = self.zoho.state()
        for c in st["contacts"]:
            notes = c.get("notes") or ""
            if notes.startswith("Togai account " + self.prefix):
                k = notes[len("Togai account "):].split(" ")[0]
                counts[k] = counts.get(k, 0) + 1
        for i in st["invoices"]:
            ref = i.get("reference_number") or ""     # the Togai invoice number: INV-<account>
            if ref.startswith("INV-" + self.prefix):
                counts[ref[4:] + ".inv"] = counts.get(ref[4:] + ".inv", 0) + 1
        for pay in st["payments"]:
            ref = pay.get("reference_number") or ""   # the Togai payment id
            if ref.startswith(self.prefix):
                counts[ref] = counts.get(ref, 0) + 1
        return counts

    def drain_through_promotion(self, synchronous):
        self.start_pair(synchronous)
        self.zoho.config(latency_ms=50)
        self.queue()
        total = 3 * ACCOUNTS
        share = self.rng.uniform(0.2, 0.8)
        self.assertTrue(wait_until(lambda: sum(self.made().values()) >= share * total, timeout=120))
        # a standby delivers nothing: no worker, and process_outbox() refuses
        self.assertEqual(self.standby.psql("SELECT count(*) FROM pg_stat_activity "
                                           "WHERE backend_type = 'togai_zoho worker'"), "0")
        with self.assertRaises(AssertionError) as refused:
            self.standby.psql("SELECT togai_zoho.process_outbox(10)")
        self.assertIn("process_outbox() cannot deliver on a standby", str(refused.exception))
        if not synchronous:
            # the standby stops hearing from the primary, which goes on delivering a while and
            # mints an access token the standby never learns of
            self.standby.psql("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'", "postgres")
            self.standby.psql("SELECT pg_reload_conf()", "postgres")
            time.sleep(0.3)
            self.zoho.call("POST", "expire_tokens")
            time.sleep(self.rng.uniform(1.0, 3.0))
        at_cut = sum(self.made().values())
        self.primary.ctl("stop", "-m", "immediate")
        self.standby.ctl("promote", "-w")
        new = self.standby
        self.assertTrue(wait_until(lambda: new.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'togai_zoho worker'") == "1", timeout=60))
        done = ("SELECT (SELECT count(*) FROM togai_zoho.outbox WHERE state = 'done') = %d "
                "AND NOT EXISTS (SELECT 1 FROM togai_zoho.outbox_stage)" % total)
        self.assertTrue(wait_until(lambda: new.psql(done) == "t", timeout=180, interval=0.5),
                        new.psql("SELECT state, count(*), max(last_error) FROM togai_zoho.outbox GROUP BY 1"))
        # the token the old primary minted was lost with it: the new one mints its own, no job
        # failing, within Zoho's 10 a refresh token in 10 minutes
        mints = len([r for r in self.zoho.requests("/oauth/v2/token") if r["method"] == "POST"])
        self.assertLessEqual(mints, 10)
        self.assertEqual(new.psql("SELECT count(*) FROM togai_zoho.outbox_attempt WHERE outcome = 'dead'"), "0")
        counts = self.made()
        expected = set(self.ids) | {a + ".inv" for a in self.ids} | {a + ".pay" for a in self.ids}
        self.assertEqual(sorted(expected - set(counts)), [], "lost at the remote")
        self.assertEqual({k: n for k, n in counts.items() if n != 1}, {}, "made twice at the remote")
        self.assertEqual(new.psql("SELECT count(*) FROM togai_zoho.id_mapping"), str(total))
        marked = new.psql("SELECT look_first_until > now() FROM togai_zoho.delivery_identity")
        self.assertEqual(marked, "t")
        # objects the old primary made whose outcomes the new one lacked: found, not made again
        found = new.psql("SELECT count(*) FROM togai_zoho.outbox WHERE result::text LIKE '%\"found%'")
        if not synchronous and at_cut < total:
            self.assertGreater(int(found), 0)
        print("\n    %s, seed %d: %d jobs, primary stopped at %d objects made (share %.2f), standby promoted; "
              "%s found again by the new primary; %d contacts, invoices and payments at the mock, 0 lost, 0 twice; "
              "%d access tokens minted in all" % ("synchronous" if synchronous else
                                                  "asynchronous, replication cut first (tokens expired)",
                                                  self.seed, total, at_cut, share, found, len(counts), mints))

    def test_asynchronous_standby_promoted_mid_drain(self):
        self.drain_through_promotion(False)

    def test_synchronous_standby_promoted_mid_drain(self):
        self.drain_through_promotion(True)
