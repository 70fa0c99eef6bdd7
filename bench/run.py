"""Runs the benchmarks and prints their figures as a table (also written to
bench/results/figures.txt).

Usage: python3 bench/run.py [enqueue] [delivery] [budget] [webhooks] [togai] [money]   (default: all)
TZ_BENCH_SMOKE=1 runs each at a tiny size, to show it still works (make test does)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_budget  # noqa: E402
import bench_delivery  # noqa: E402
import bench_enqueue  # noqa: E402
import bench_money  # noqa: E402
import bench_togai_polls  # noqa: E402
import bench_webhooks  # noqa: E402
from common import RESULTS, SMOKE  # noqa: E402

BENCHES = {"enqueue": bench_enqueue.run, "delivery": bench_delivery.run, "budget": bench_budget.run,
           "webhooks": bench_webhooks.run, "togai": bench_togai_polls.run, "money": bench_money.run}


def table(figures):
    rows = [["benchmark", "figure", "value", "target", "", "note"]] + [f.row() for f in figures]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main():
    names = sys.argv[1:] or list(BENCHES)
    figures = []
    for name in names:
        print("=== %s%s" % (name, " (smoke)" if SMOKE else ""), flush=True)
        figures += BENCHES[name]()
    text = table(figures)
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "figures.txt" if not SMOKE else "smoke.txt"), "w") as f:
        f.write("cores: %d\n%s\n" % (os.cpu_count(), text))
    missed = [f for f in figures if f.met is False]
    print("\n%d figures, %d targets met, %d missed" % (len(figures), sum(1 for f in figures if f.met),
                                                        len(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
