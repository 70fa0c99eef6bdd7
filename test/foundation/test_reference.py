"""The SQL reference (doc/togai_zoho_reference.md) says what the catalogue says: every function,
procedure, table, view and column of a fresh install, with its comment. Made by
tools/sql_reference.py (make reference); a change to the install SQL without it fails here."""

import os
import subprocess
import sys

from harness import DatabaseCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Reference(DatabaseCase):

    def test_the_reference_matches_the_catalogue(self):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "sql_reference.py"),
                               "--check", "--db", self.db], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        with open(os.path.join(ROOT, "doc", "togai_zoho_reference.md")) as f:
            text = f.read()
        # every public function is there by name
        for name in ("process_outbox", "set_zohobooks_unique_field", "take_over_delivery",
                     "install_default_flows", "sync_status", "zohobooks_unique_field"):
            self.assertIn("`%s" % name, text)
