"""Where a list page's time goes, in-process: the whole request beside the view's list query,
its template and the rows in it, the request hooks, and two anchors, the smallest signed-in
page (the profile) and the same list with no rows.

Needs the national set and the benchmark accounts benchmarks/national.py adds, then:

    LEC_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/lec_national \\
        PYTHONPATH=. .venv/bin/python benchmarks/list_page_parts.py [--pages 200] [--login L]

Each part is timed by wrapping the method that does it, so a part's figure includes what it
calls (the list query's SQL is inside `get_list`). Figures are means over --pages requests.
"""

import argparse
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2 import pass_context

from admin_views.list_rows import ListRowsMixin
from app import create_app

PASSWORD = "bench-Pass-2569-national"
HOOKS_BEFORE, QUERY, TEMPLATE, ROWS, HOOKS_AFTER = (
    "before-request hooks (user loaded)", "list query and count (get_list, SQL included)",
    "template", "  of which the rows (list_row)", "after-request hooks (headers, CSP)")
PAGES = (("a province's student list, page 1", "/admin/student/"),
         ("the same, page 200 (deepest)", "/admin/student/?page=199"),
         ("anchor: the same list with no rows", "/admin/student/?search=ฮฮฮฮฮ"),
         ("anchor: the profile page", "/admin/profile/"))


def timed_parts(app: Flask) -> dict[str, float]:
    """Wrap the methods whose time is reported; they add their seconds to the returned dict."""
    spent: dict[str, float] = defaultdict(float)

    def wrap(owner: Any, name: str, part: str, context: bool = False) -> None:
        method = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - started

        setattr(owner, name, pass_context(timed) if context else timed)

    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "student")
    wrap(type(view), "get_list", QUERY)
    wrap(type(view), "render", TEMPLATE)
    wrap(ListRowsMixin, "list_row", ROWS, context=True)
    wrap(Flask, "preprocess_request", HOOKS_BEFORE)
    wrap(Flask, "process_response", HOOKS_AFTER)
    return spent


def signed_in(app: Flask, login: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    client.post("/login", data={"login": login, "password": PASSWORD,
                                "csrf_token": token.group(1)})
    return client


def measure(get: Callable[[str], Any], path: str, pages: int, spent: dict[str, float]
            ) -> float:
    """Mean milliseconds of one request to `path`; `spent` then holds this page's parts."""
    for _ in range(5):
        assert get(path).status_code == 200, path
    spent.clear()
    started = time.perf_counter()
    for _ in range(pages):
        get(path)
    return (time.perf_counter() - started) / pages * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--login", default="bench.province")
    args = parser.parse_args()
    os.environ.setdefault("LEC_SECURE_COOKIES", "0")
    app = create_app()
    spent = timed_parts(app)
    client = signed_in(app, args.login)
    print(f"{args.login}, means of {args.pages} requests, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    for label, path in PAGES:
        total = measure(client.get, path, args.pages, spent)
        print(f"\n{label} ({path}): {total:.1f} ms")
        for part in (HOOKS_BEFORE, QUERY, TEMPLATE, ROWS, HOOKS_AFTER):
            if part in spent:
                print(f"  {part:48} {spent[part] / args.pages * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
