"""The benchmarks at a tiny size, so that they cannot rot: each runs and yields its figures.
Their values are not checked here (make bench prints them)."""

import os
import sys
import unittest

os.environ["TZ_BENCH_SMOKE"] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))

import bench_budget  # noqa: E402
import bench_delivery  # noqa: E402
import bench_enqueue  # noqa: E402
import bench_money  # noqa: E402
import bench_togai_polls  # noqa: E402
import bench_webhooks  # noqa: E402
import run  # noqa: E402


class BenchSmoke(unittest.TestCase):

    def check(self, figures, benches):
        self.assertEqual({f.bench for f in figures}, set(benches))
        for f in figures:
            self.assertIsNotNone(f.value, f.name)
        print("\n" + run.table(figures))

    def test_enqueue(self):
        self.check(bench_enqueue.run(), ["enqueue"])

    def test_delivery(self):
        self.check(bench_delivery.run(), ["throughput", "latency", "rate limit", "claim cost", "memory",
                                          "coalescing", "sessions"])

    def test_budget(self):
        self.check(bench_budget.run(), ["calls per object", "quiet day"])

    def test_webhooks(self):
        self.check(bench_webhooks.run(), ["webhooks"])

    def test_togai_polls(self):
        self.check(bench_togai_polls.run(), ["togai polls"])

    def test_money(self):
        self.check(bench_money.run(), ["money"])
