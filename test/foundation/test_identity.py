"""Which copy of the data delivers: a database made from this one (here as a template, as a dump
restored elsewhere would be) holds delivery until take_over_delivery(); the original goes on."""

import json

from harness import DatabaseCase, sql, sql_error, value

COPY = "it_identity_copy"


class Identity(DatabaseCase):

    def test_a_copy_of_the_database_delivers_nothing_until_it_takes_over(self):
        self.assertIsNone(self.value("SELECT togai_zoho.delivery_held()"))
        original = self.value("SELECT database_oid FROM togai_zoho.delivery_identity")
        self.assertEqual(original, self.value("SELECT oid FROM pg_database WHERE datname = current_database()"))
        # a job waiting in the copy: it must not be sent from there
        self.sql("SELECT togai_zoho.add_togai_connection('togai', 'tok_identity_1')")
        self.sql("INSERT INTO togai_zoho.connection (name, app, base_url, organization_id) "
                 "VALUES ('zoho', 'zohobooks', 'https://www.zohoapis.com', '1')")
        self.sql("SELECT togai_zoho.create_flow('accounts', 'outbound', 'togai', 'account_changed'); "
                 "SELECT togai_zoho.add_flow_action('accounts', 'zoho', 'contact_upsert'); "
                 "SELECT togai_zoho.set_flow_enabled('accounts'); "
                 "INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('a1', 'c1', 'A'); "
                 "SELECT togai_zoho.process_outbox(0)")

        sql("DROP DATABASE IF EXISTS %s" % COPY)
        sql("CREATE DATABASE %s TEMPLATE %s" % (COPY, self.db))
        self.addCleanup(sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % COPY)
        held = value("SELECT togai_zoho.delivery_held()", COPY)
        self.assertIn("this database is a copy: its outbox was written by database %s" % original, held)
        e = sql_error("SELECT togai_zoho.process_outbox(5)", COPY)
        self.assertEqual(e.sqlstate, "55000")
        self.assertIn("delivery is held here", e.message)
        self.assertIn("take_over_delivery()", e.hint)
        self.assertEqual(value("SELECT state || ' ' || attempts FROM togai_zoho.outbox", COPY), "pending 0")

        taken = json.loads(value("SELECT togai_zoho.take_over_delivery('0 s')", COPY))
        self.assertEqual([str(w["database_oid"]) for w in taken["was"]], [original])
        self.assertEqual(taken["jobs_marked"], 1)
        self.assertIsNone(value("SELECT togai_zoho.delivery_held()", COPY))
        self.assertEqual(value("SELECT may_exist FROM togai_zoho.outbox", COPY), "t")
        # the original was never held
        self.assertIsNone(self.value("SELECT togai_zoho.delivery_held()"))
        self.assertEqual(self.value("SELECT may_exist FROM togai_zoho.outbox"), "f")
