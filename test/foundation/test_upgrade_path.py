"""Upgrade path: from every released version (sql/released/RELEASED) ALTER EXTENSION togai_zoho
UPDATE reaches the current version with its data intact and a catalogue equal to a real fresh
install (CREATE EXTENSION runs the install script built from sql/install/, not the chain); the
suite fails when a released version has no chain of upgrade scripts to the current one."""

import os
import re
import subprocess
import unittest

from harness import ROOT, literal, sql

CATALOGUE = """
SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
       || ' ' || md5(p.prosrc) || ' ' || p.prosecdef || ' ' || coalesce(p.proconfig::text, '')
       || ' ' || p.provolatile::text || ' ' || coalesce(p.proacl::text, '')
  FROM pg_proc p WHERE p.pronamespace = 'togai_zoho'::regnamespace
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'togai_zoho'::regnamespace
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '')
  FROM pg_class c WHERE c.relnamespace = 'togai_zoho'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'togai_zoho'::regnamespace
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace = 'togai_zoho'::regnamespace
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'togai_zoho'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'view ' || c.relname || ' ' || md5(pg_get_viewdef(c.oid)) FROM pg_class c
 WHERE c.relnamespace = 'togai_zoho'::regnamespace AND c.relkind = 'v'
UNION ALL
SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' ' || md5(d.description)
  FROM pg_description d JOIN pg_depend x ON x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e'
 WHERE x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'togai_zoho')
UNION ALL
SELECT 'catalogue ' || t::text FROM togai_zoho.trigger_def t
UNION ALL
SELECT 'catalogue ' || a::text FROM togai_zoho.action_def a
ORDER BY 1
"""

DATA = """
SELECT togai_zoho.add_togai_connection('togai', 'tok_upgrade_path_1', 'https://api.togai.com');
INSERT INTO togai_zoho.connection (name, app, base_url, organization_id)
    VALUES ('zoho', 'zohobooks', 'https://www.zohoapis.com', '1');
SELECT togai_zoho.install_default_flows('togai', 'zoho');
INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.u1', 'cus.u1', 'Upgrade One');
INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES ('inv.u1', 'acc.u1', 'DUE');
"""

BULK_BEFORE_UPDATE = """
CREATE TABLE public.bulk_accounts (LIKE togai_zoho.customers INCLUDING DEFAULTS);
CREATE TRIGGER to_zoho AFTER INSERT ON public.bulk_accounts REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
SET togai_zoho.stage_min_rows = 2;
INSERT INTO public.bulk_accounts (account_id, customer_id, name)
    SELECT 'acc.bulk.' || g, 'cus.bulk', 'Bulk ' || g FROM generate_series(1, 3) g;
"""

INVOICES_FLOW = "Create an invoice in ZohoBooks on Togai invoice"
FLOWS = ("SELECT f.name, f.trigger, f.enabled, string_agg(a.action, ',' ORDER BY a.position) "
         "FROM togai_zoho.flow f JOIN togai_zoho.flow_action a ON a.flow_id = f.id GROUP BY 1, 2, 3 ORDER BY 1")

STATE = ("SELECT (SELECT count(*) FROM togai_zoho.connection) || ' connections, ' "
         "|| (SELECT count(*) FROM togai_zoho.flow_action) || ' actions, ' "
         "|| (SELECT count(*) FROM togai_zoho.outbox WHERE state = 'pending') || ' pending jobs'")


def current_version():
    with open(os.path.join(ROOT, "togai_zoho.control")) as f:
        return re.search(r"default_version\s*=\s*'([^']+)'", f.read()).group(1)


def released_versions():
    with open(os.path.join(ROOT, "sql", "released", "RELEASED")) as f:
        return [v.strip() for v in f if v.strip() and not v.startswith("#")]



class UpgradePath(unittest.TestCase):

    def fresh(self, name, version=None):
        sql("DROP DATABASE IF EXISTS %s" % name)
        sql("CREATE DATABASE %s" % name)
        self.addCleanup(sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        sql("CREATE EXTENSION togai_zoho" + (" VERSION %s" % literal(version) if version else ""), name)

    def test_every_released_version_updates_to_the_current_one(self):
        current = current_version()
        released = released_versions()
        self.assertTrue(released, "sql/released/RELEASED lists no version")
        paths = dict(sql("SELECT source, path FROM pg_extension_update_paths('togai_zoho') "
                         "WHERE target = %s" % literal(current)))
        missing = [v for v in released if v != current and paths.get(v) is None]
        self.assertEqual(missing, [], "released versions with no upgrade scripts to %s" % current)

        # a real fresh install: the current version's own install script, built from sql/install/
        pg_config = next(p for p in ("/usr/lib/postgresql/15/bin/pg_config", "pg_config")
                         if p == "pg_config" or os.path.exists(p))
        sharedir = subprocess.run([pg_config, "--sharedir"], capture_output=True, text=True,
                                  check=True).stdout.strip()
        self.assertTrue(os.path.exists(os.path.join(sharedir, "extension", "togai_zoho--%s.sql" % current)),
                        "no install script of %s" % current)
        self.fresh("it_upgrade_fresh")
        sql(DATA, "it_upgrade_fresh")
        want = sql(CATALOGUE, "it_upgrade_fresh")
        for v in released:
            if v == current:
                continue
            db = "it_upgrade_from_" + re.sub(r"\W", "_", v)
            self.fresh(db, v)
            sql(DATA, db)
            # this library with the older schema, until the update: a bulk insert through a
            # statement trigger writes its jobs straight to the outbox (no stage to write to)
            sql(BULK_BEFORE_UPDATE, db)
            self.assertEqual(sql("SELECT count(*) FROM togai_zoho.outbox WHERE source_id LIKE 'acc.bulk.%'", db),
                             [("3",)])
            state = sql(STATE, db)
            sql("ALTER EXTENSION togai_zoho UPDATE", db)
            self.assertEqual(sql("SELECT extversion FROM pg_extension WHERE extname = 'togai_zoho'", db),
                             [(current,)])
            self.assertEqual(sql(STATE, db), state, "data after the update")
            got = sql(CATALOGUE, db)
            self.assertEqual([x for x in got if x not in want], [], "only in the updated database")
            self.assertEqual([x for x in want if x not in got], [], "only in a fresh install")
            # the upgrade guide's steps after an update: the new ready flows, and the credits action in
            # the invoice flow an older version installed; then the flows are a fresh install's
            sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')", db)
            if ("invoice_credits",) not in sql("SELECT a.action FROM togai_zoho.flow_action a JOIN "
                                               "togai_zoho.flow f ON f.id = a.flow_id WHERE f.name = %s"
                                               % literal(INVOICES_FLOW), db):
                sql("SELECT togai_zoho.add_flow_action(%s, 'zoho', 'invoice_credits')" % literal(INVOICES_FLOW), db)
            self.assertEqual(sql(FLOWS, db), sql(FLOWS, "it_upgrade_fresh"), "the flows after the upgrade guide's steps")
            print("\n    upgrade %s -> %s (%s): catalogue equal to a fresh install (%d objects), %s kept"
                  % (v, current, paths[v], len(want), state[0][0]))
