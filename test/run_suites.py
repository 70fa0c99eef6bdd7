"""Runs the integration suites (test/<suite>/test_*.py) in one process, sharing the harness.

Usage: python3 test/run_suites.py [suite ...]   (default: every suite directory)
The closing line is "integration: N passed, N failed[, N skipped]".
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
SUITES = ["foundation", "client", "delivery", "flows", "reliability", "bench", "security"]


def main():
    names = sys.argv[1:] or SUITES
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in names:
        path = os.path.join(HERE, name)
        sys.path.insert(0, path)
        suite.addTests(loader.discover(path, pattern="test_*.py", top_level_dir=path))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    line = "integration: %d passed, %d failed" % (passed, failed)
    if result.skipped:
        line += ", %d skipped" % len(result.skipped)
    print(line)
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
