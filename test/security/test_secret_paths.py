"""Secrets: a plain role, the operations guide's reader and operator cannot read an API token,
client secret, grant code, refresh or access token by any path: tables, views, the functions
they may run (preview_flow and check_connection included), error messages, pg_stat_activity."""

import os
import re
import subprocess
import threading
import time

from harness import (ROOT, DatabaseCase, add_zoho, literal, remember_issued_tokens, remember_secret, sql,
                     zoho_seed)

TOKEN = "tok_paths_live_5150"
WRONG = "tok_paths_wrong_6161"
LATE = "tok_paths_activity_7272"
ROLES = ("billing_plain", "billing_reader", "billing_operator")


def readme_grants():
    """The grants the operations guide documents, run as they are written there."""
    with open(os.path.join(ROOT, "doc", "togai_zoho.md")) as f:
        text = f.read()
    m = re.search(r"```sql\n(-- An operator:.*?)```", text, re.S)
    return m.group(1)


class SecretPaths(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        remember_secret(TOKEN, WRONG, LATE)
        cls.togai = cls.mock("togai", "--demo-seed", "--token", TOKEN)
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed(client_secret="csecret.paths", codes=("code.paths.1",)))
        sql("DROP ROLE IF EXISTS billing_plain, billing_reader, billing_operator", cls.db)
        sql(readme_grants() + "; CREATE ROLE billing_plain", cls.db)
        cls.addClassCleanup(sql, "DROP OWNED BY billing_plain, billing_reader, billing_operator; "
                                 "DROP ROLE billing_plain, billing_reader, billing_operator", cls.db)
        sql("SELECT togai_zoho.add_togai_connection('togai', %s, %s); "
            "SELECT togai_zoho.add_togai_connection('badtok', %s, %s)"
            % (literal(TOKEN), literal(cls.togai.url), literal(WRONG), literal(cls.togai.url)), cls.db)
        add_zoho(cls, cls.zoho, code="code.paths.1", client_secret="csecret.paths")
        sql("""
            SELECT togai_zoho.install_default_flows('togai', 'zoho');
            INSERT INTO togai_zoho.customers (connection_id, account_id, customer_id, name, invoice_currency)
                SELECT id, 'acc.paths', 'cus.paths', 'Paths Ltd', 'USD' FROM togai_zoho.connection
                 WHERE name = 'togai';
            SELECT togai_zoho.process_outbox(10)""", cls.db)
        remember_issued_tokens(cls.zoho)
        cls.secrets = [TOKEN, WRONG, LATE, "csecret.paths", "code.paths.1"] + [
            s for row in sql("SELECT refresh_token, access_token FROM togai_zoho.connection_secret "
                             "WHERE refresh_token IS NOT NULL", cls.db) for s in row if s]
        assert len(cls.secrets) == 7, cls.secrets

    def assertNoSecret(self, text, where):
        leaked = [s for s in self.secrets if s in text]
        self.assertEqual(leaked, [], "secret readable through %s" % where)

    def as_role(self, role, query):
        return self.sql("SET ROLE %s; %s" % (role, query))

    def test_tables_and_views(self):
        rels = self.sql("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'togai_zoho'::regnamespace "
                        "AND c.relkind IN ('r', 'v', 'm') ORDER BY 1")
        read = {}
        for role in ROLES:
            read[role] = []
            for (rel,) in rels:
                query = "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM togai_zoho.%s t" % rel
                try:
                    rows = self.as_role(role, query)
                except Exception as e:
                    self.assertEqual(getattr(e, "sqlstate", None), "42501", "%s on %s: %s" % (role, rel, e))
                    continue
                read[role].append(rel)
                self.assertNoSecret(rows[0][0] or "" if rows else "", "%s reading togai_zoho.%s" % (role, rel))
        self.assertEqual(read["billing_plain"], [])
        self.assertNotIn("connection_secret", read["billing_reader"] + read["billing_operator"])
        self.assertIn("connections", read["billing_reader"])
        print("\n    tables and views readable: reader %d, operator %d, plain 0; no secret in any row"
              % (len(read["billing_reader"]), len(read["billing_operator"])))

    def test_functions_they_may_run(self):
        for role, expected in (("billing_plain", 0), ("billing_reader", 2), ("billing_operator", 25)):
            n = int(self.value("SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'togai_zoho'::regnamespace "
                               "AND has_function_privilege(%s, p.oid, 'EXECUTE')" % literal(role)))
            self.assertEqual(n, expected, role)
        outputs = self.as_role("billing_operator", """
            SELECT togai_zoho.check_connection('togai')::text
            UNION ALL SELECT togai_zoho.check_connection('badtok')::text
            UNION ALL SELECT togai_zoho.check_connection('zoho')::text
            UNION ALL SELECT string_agg(c::text, ' ') FROM togai_zoho.check_connections() c
            UNION ALL SELECT togai_zoho.preview_flow(f.name, '{"account_id": "acc.paths", "customer_id":
                "cus.paths", "name": "Paths Ltd", "invoice_id": "inv.paths", "status": "DUE"}')::text
                FROM togai_zoho.flows f WHERE f.direction = 'outbound'""")
        self.assertGreaterEqual(len(outputs), 6)
        for (text,) in outputs:
            self.assertNoSecret(text or "", "a function the operator runs")
        self.assertIn("***", " ".join(t or "" for (t,) in outputs[4:]), "previews show masked headers")
        for role in ("billing_plain", "billing_reader"):
            err = self.error("SET ROLE %s; SELECT togai_zoho.preview_flow('Sync accounts created from Togai to "
                             "ZohoBooks')" % role)
            self.assertEqual(err.sqlstate, "42501")

    def test_error_messages(self):
        errors = [
            self.error("SET ROLE billing_operator; SELECT togai_zoho.add_togai_connection('togai', %s)"
                       % literal(LATE)),
            self.error("SET ROLE billing_operator; SELECT togai_zoho.add_togai_connection('new', %s)"
                       % literal(LATE + " x")),
            self.error("SET ROLE billing_operator; SELECT togai_zoho.add_zohobooks_connection('zoho', 'cid', %s, "
                       "code => %s)" % (literal(LATE), literal(LATE))),
            self.error("SET ROLE billing_operator; SELECT togai_zoho.add_zohobooks_connection('z9', 'cid', %s, "
                       "code => %s, accounts_url => %s, api_url => %s)"
                       % (literal(LATE), literal(LATE), literal(self.zoho.url), literal(self.zoho.url))),
            # refused before the function runs: PostgreSQL itself logs such a statement, secret
            # and all, unless log_min_error_statement says not to (the operations guide's advice)
            self.error("SET ROLE billing_reader; SELECT togai_zoho.add_togai_connection('r', %s)" % literal(LATE),
                       settings={"log_min_error_statement": "panic"}),
        ]
        for e in errors:
            self.assertNoSecret(" ".join(x or "" for x in (e.message, e.detail, e.hint)), "an error message")
        failed = self.as_role("billing_operator", "SELECT togai_zoho.check_connection('badtok')::text")[0][0]
        self.assertIn("401", failed)
        self.assertNoSecret(failed, "a failed check")

    def test_pg_stat_activity(self):
        """While a superuser's session adds a connection, the others see no token in its query."""
        script = ("BEGIN; SELECT togai_zoho.add_togai_connection('activity', %s, %s); SELECT pg_sleep(3); "
                  "ROLLBACK;" % (literal(LATE), literal(self.togai.url)))
        busy = threading.Thread(target=subprocess.run, args=(["psql", "-X", "-q", "-d", self.db, "-c", script],),
                                kwargs={"capture_output": True})
        busy.start()
        try:
            time.sleep(1)
            seen = {}
            for role in ROLES:
                rows = self.as_role(role, "SELECT coalesce(query, '') FROM pg_stat_activity")
                seen[role] = "\n".join(r[0] or "" for r in rows)
                self.assertNoSecret(seen[role], "pg_stat_activity as %s" % role)
            self.assertIn("<insufficient privilege>", seen["billing_reader"])
            # the superuser does see it: the check above looked at a live query
            own = "\n".join(r[0] or "" for r in self.sql("SELECT query FROM pg_stat_activity"))
            self.assertIn(LATE, own)
        finally:
            busy.join()
