"""TLS: a self-signed mock is refused until its CA is given in togai_zoho.ca_bundle, in calls made
from a session and in delivery alike."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import DatabaseCase, literal, remember_issued_tokens, remember_secret, value, zoho_seed

TOKEN = "togai.token.tls"


@unittest.skipUnless(shutil.which("openssl"), "openssl is needed to make a certificate")
class TLS(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="tz-tls-")
        os.chmod(cls.dir, 0o755)
        cls.cert = os.path.join(cls.dir, "cert.pem")
        key = os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cls.cert], check=True, capture_output=True)
        os.chmod(cls.cert, 0o644)
        cls.togai = cls.mock("togai", "--demo-seed", "--token", TOKEN, "--certfile", cls.cert, "--keyfile", key)
        remember_secret(TOKEN)
        value("SELECT togai_zoho.add_togai_connection('tls', %s, %s)" % (literal(TOKEN), literal(cls.togai.url)),
              cls.db)
        cls.zoho = cls.mock("zohobooks", "--certfile", cls.cert, "--keyfile", key)
        cls.zoho.seed(zoho_seed(client_secret="csecret.tls", codes=("code.tls.1",)))
        # the grant code is exchanged over TLS too: trusted for this one call
        value("SELECT togai_zoho.add_zohobooks_connection('zoho tls', 'cid.test', 'csecret.tls', "
              "code => 'code.tls.1', accounts_url => %s, api_url => %s)" % (literal(cls.zoho.url),
                                                                            literal(cls.zoho.url)),
              cls.db, settings={"togai_zoho.ca_bundle": cls.cert})
        value("SELECT togai_zoho.create_flow('tls accounts', 'outbound', 'tls', 'account_changed'); "
              "SELECT togai_zoho.add_flow_action('tls accounts', 'zoho tls', 'contact_upsert'); "
              "SELECT togai_zoho.set_flow_enabled('tls accounts')", cls.db)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_verification_fails_without_the_ca(self):
        result = self.json("SELECT togai_zoho.check_connection('tls')")
        self.assertFalse(result["ok"])
        self.assertEqual(result["sqlstate"], "08001")
        self.assertIn("certificate", result["detail"])
        self.assertIn("ca_bundle", result["hint"])
        err = self.error("SELECT togai_zoho.togai_call('tls', 'accounts_list')")
        self.assertSQLState(err, "08001", "certificate")

    def test_ca_bundle_makes_it_work(self):
        result = self.json("SELECT togai_zoho.check_connection('tls')",
                           settings={"togai_zoho.ca_bundle": self.cert})
        self.assertTrue(result["ok"], result)

    def test_delivery_fails_clearly_then_succeeds_with_the_ca(self):
        self.sql("INSERT INTO togai_zoho.customers (connection_id, account_id, customer_id, name) "
                 "SELECT id, 'acc.tls', 'cus.tls', 'TLS Ltd' FROM togai_zoho.connection WHERE name = 'tls'")
        seen = len(self.zoho.requests("/books/"))
        self.value("SELECT togai_zoho.process_outbox(10)")
        state, error = self.sql("SELECT state, last_error FROM togai_zoho.outbox WHERE source_id = 'acc.tls'")[0]
        self.assertEqual(state, "pending")
        self.assertIn("certificate", error)
        self.assertEqual(len(self.zoho.requests("/books/")), seen, "nothing reached the API unverified")
        self.sql("UPDATE togai_zoho.outbox SET due_at = now() WHERE source_id = 'acc.tls'")
        self.value("SELECT togai_zoho.process_outbox(10)", settings={"togai_zoho.ca_bundle": self.cert})
        self.assertEqual(self.value("SELECT state FROM togai_zoho.outbox WHERE source_id = 'acc.tls'"), "done")
        self.assertEqual([c["contact_name"] for c in self.zoho.state()["contacts"]], ["TLS Ltd"])
        remember_issued_tokens(self.zoho)

    def test_only_a_superuser_may_weaken_or_widen(self):
        self.sql("DROP ROLE IF EXISTS tls_plain; CREATE ROLE tls_plain")
        try:
            for setting, val in (("togai_zoho.ca_bundle", self.cert), ("togai_zoho.allow_http", "on")):
                err = self.error("SET ROLE tls_plain; SET %s = %s" % (setting, literal(val)))
                self.assertSQLState(err, "42501", setting)
        finally:
            self.sql("DROP ROLE tls_plain")
