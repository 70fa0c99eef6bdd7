"""Runs last: no secret used by any suite reached the server log."""

import os
import unittest

from harness import SECRETS, server_log_path


class ServerLog(unittest.TestCase):

    def test_no_secret_in_the_server_log(self):
        path = server_log_path()
        self.assertTrue(path and os.path.exists(path), "server log not found: %s" % path)
        with open(path, errors="replace") as f:
            log = f.read()
        self.assertGreater(len(SECRETS), 10, "the suites registered too few secrets to check")
        leaked = sorted(s for s in SECRETS if s in log)
        self.assertEqual(leaked, [], "secrets in the server log")
        print("server log: %d secrets checked against %d lines, none found" % (len(SECRETS), log.count("\n")))
