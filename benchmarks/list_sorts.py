"""Every sort each list offers, at national scale: the sorted list's first and deepest page
beside the same list in its own order, for the department and a province; any error page.

Needs the national set (flask --app app lec demo --national), then:

    LEC_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lec_national \\
        PYTHONPATH=. .venv/bin/python benchmarks/list_sorts.py [--repeat 5] [--over 150]

Requests go through the app in this process (no HTTP), after one warm-up each; figures are
medians of --repeat. Each list prints one line: its own order (the anchor) and its slowest
sort; every sorted page slower than --over ms is listed under it.
"""

import argparse
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, "tests")

from test_list_search import sort_links, sortable_lists  # noqa: E402

from app import create_app  # noqa: E402
from benchmarks.list_page_parts import signed_in  # noqa: E402
from benchmarks.national import bench_province, ensure_accounts, smallest_province  # noqa: E402

ACCOUNTS = ("bench.department", "bench.province")
DEEPEST = "page=199"  # the last page a capped count (10,000 rows) serves


def p50(client: Any, path: str, repeat: int) -> tuple[float, int]:
    """Median milliseconds of `path`, and its status."""
    status = client.get(path).status_code
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), status


def sweep(client: Any, endpoint: str, repeat: int, over: float) -> None:
    first = client.get(f"/admin/{endpoint}/")
    if first.status_code != 200:
        return
    base = f"/admin/{endpoint}/?"
    anchor = [p50(client, base + extra, repeat)[0] for extra in ("", DEEPEST)]
    sorts = sort_links(first.get_data(as_text=True))
    slow, worst = [], (0.0, "")
    for column in sorts:
        for order in ("", "&desc=1"):
            for page in ("", "&" + DEEPEST):
                path = f"{base}sort={column}{order}{page}"
                ms, status = p50(client, path, repeat)
                worst = max(worst, (ms, path))
                if status != 200 or ms > over:
                    slow.append(f"    {path:58} {ms:8.1f} ms  status {status}")
    print(f"  {endpoint:18} own order {anchor[0]:7.1f} / {anchor[1]:7.1f} ms   "
          f"{len(sorts)} sorts, slowest {worst[0]:7.1f} ms")
    for line in slow:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--over", type=float, default=150.0)
    args = parser.parse_args()
    os.environ.setdefault("LEC_SECURE_COOKIES", "0")
    app = create_app()
    with app.app_context():
        ensure_accounts(bench_province(), smallest_province())
    print(f"p50 of {args.repeat}, page 1 / deepest page; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    for login in ACCOUNTS:
        print(f"\n{login}")
        client = signed_in(app, login)
        for endpoint in sortable_lists(app):
            sweep(client, endpoint, args.repeat, args.over)


if __name__ == "__main__":
    main()
