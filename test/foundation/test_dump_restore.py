"""pg_dump of a database with connections, flows, mirrors, mappings and pending jobs restores
into a new database with the same jobs, no new ones, and sequences that go on from the dump."""

import os
import subprocess
import tempfile

from harness import DatabaseCase, remember_secret, sql


class DumpRestore(DatabaseCase):

    def test_plain_dump_and_restore(self):
        remember_secret("tok_dump_restore")
        self.sql("""
            SELECT togai_zoho.add_togai_connection('togai', 'tok_dump_restore');
            INSERT INTO togai_zoho.connection (name, app, base_url, organization_id)
                VALUES ('zoho', 'zohobooks', 'https://www.zohoapis.com', '1');
            SELECT togai_zoho.create_flow('accounts', 'outbound', 'togai', 'account_changed');
            SELECT togai_zoho.add_flow_action('accounts', 'zoho', 'contact_upsert');
            SELECT togai_zoho.set_flow_enabled('accounts');
            SELECT togai_zoho.create_flow('invoices', 'outbound', 'togai', 'invoice_generated');
            SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create');
            SELECT togai_zoho.set_flow_enabled('invoices');
            INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('a1', 'c1', 'A'), ('a2', 'c2', 'B');
            INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES ('i1', 'a1', 'DUE'), ('i2', 'a2', 'DRAFT');
            SELECT togai_zoho.process_outbox(0);
            UPDATE togai_zoho.outbox SET state = 'done', finished_at = now() WHERE source_id = 'a2';
            INSERT INTO togai_zoho.id_mapping (entity, togai_connection_id, zohobooks_connection_id, togai_id, zohobooks_id)
                SELECT 'account', t.id, z.id, 'a2', 'z2' FROM togai_zoho.connection t, togai_zoho.connection z
                 WHERE t.name = 'togai' AND z.name = 'zoho'""")
        # a change whose jobs are still staged when the dump is taken
        self.sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('a4', 'c4', 'D')")
        before = self.sql("SELECT id, flow_id, source_id, state FROM togai_zoho.outbox ORDER BY id")
        self.assertEqual([r[2:] for r in before], [("a1", "pending"), ("a2", "done"), ("i1", "pending")])
        staged = self.sql("SELECT id, source_ids FROM togai_zoho.outbox_stage ORDER BY id")
        self.assertEqual([r[1] for r in staged], ["{a4}"])

        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "dump.sql")
            subprocess.run(["pg_dump", "-d", self.db, "-f", dump], check=True)
            sql("DROP DATABASE IF EXISTS it_restored")
            sql("CREATE DATABASE it_restored")
            try:
                restore = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "it_restored",
                                          "-f", dump], capture_output=True, text=True)
                self.assertEqual(restore.returncode, 0, restore.stderr)
                after = sql("SELECT id, flow_id, source_id, state FROM togai_zoho.outbox ORDER BY id",
                            "it_restored")
                self.assertEqual(after, before)
                self.assertEqual(sql("SELECT id, source_ids FROM togai_zoho.outbox_stage ORDER BY id",
                                     "it_restored"), staged)
                counts = sql("SELECT (SELECT count(*) FROM togai_zoho.connection_secret), "
                             "(SELECT count(*) FROM togai_zoho.flow_action), "
                             "(SELECT count(*) FROM togai_zoho.id_mapping)", "it_restored")[0]
                self.assertEqual(counts, ("1", "2", "1"))
                # the restored flows work, and new jobs continue after the dumped ids
                sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('a3', 'c3', 'C');"
                    "SELECT togai_zoho.process_outbox(0)", "it_restored")
                new = sql("SELECT id, source_id, payload_version FROM togai_zoho.outbox "
                          "WHERE id > %s ORDER BY source_id" % before[-1][0], "it_restored")
                self.assertEqual([r[1] for r in new], ["a3", "a4"])
                # the restored stage's chunk and the new one keep their order too
                self.assertGreater(int(new[0][2]), int(new[1][2]))
                self.assertEqual(new[1][2], staged[0][0])
            finally:
                sql("DROP DATABASE IF EXISTS it_restored WITH (FORCE)")
