"""Render every dashboard page through the Flask test client N times; print median and p95 ms per page.

    python bench/dashboards.py [--url URL] [--districts 100] [--teachers 10000] [--submissions 100000] [--n 15] [--json]

Without --url the data is generated into a temporary SQLite database (bench/programme_data.py);
with --url the database is initialised and filled there (use an empty one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from programme_data import Sizes, generate
from sqlalchemy import Engine

from issuer import create_app


def pages(made, district_id: int) -> list[tuple[str, int, str]]:
    """(name, who signs in, url) of every dashboard page and download."""
    return [
        ("department", made.admin_id, "/dashboards/department"),
        ("department (last year, full)", made.admin_id, f"/dashboards/department?year={made.last_year}"),
        ("department csv (districts)", made.admin_id, "/dashboards/department/districts.csv"),
        ("district (coordinator)", made.coordinator_ids[district_id], f"/dashboards/districts/{district_id}"),
        ("district (administrator)", made.admin_id, f"/dashboards/districts/{district_id}?weeks=8"),
        ("district (last year)", made.coordinator_ids[district_id],
         f"/dashboards/districts/{district_id}?year={made.last_year}"),
        ("district csv (teachers)", made.coordinator_ids[district_id], f"/dashboards/districts/{district_id}/teachers.csv"),
    ]


def measure(app, made, n: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, user_id, url in pages(made, made.district_ids[len(made.district_ids) // 2]):
        client = app.test_client()
        with client.session_transaction() as session:  # signed in as that user (sign-in itself is not measured)
            session["user_id"], session["epoch"] = user_id, 0
        assert client.get(url).status_code == 200, url  # warm: templates compiled
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            response = client.get(url)
            response.get_data()
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        results[name] = {"median_ms": round(statistics.median(times), 1),
                         "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}
    return results


def _settle(engine: Engine) -> None:
    """Statistics, and the writes moved out of the log (SQLite) or the visibility map built for
    index-only scans (PostgreSQL), as a running installation has them after a bulk load."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # the driver's autocommit: each statement is its own transaction
        try:
            raw.cursor().execute("ANALYZE")
            if True:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--districts", type=int, default=Sizes.districts)
    parser.add_argument("--teachers", type=int, default=Sizes.teachers)
    parser.add_argument("--submissions", type=int, default=Sizes.submissions)
    parser.add_argument("--n", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("MICROCRED_KEY_PASSPHRASE", "bench-passphrase-not-secret")
        app = create_app({"instance": f"{tmp}/instance", "database_url": args.url or f"sqlite:///{tmp}/bench.sqlite3"})
        result = app.test_cli_runner().invoke(args=["init"])
        if result.exit_code != 0:
            raise SystemExit(result.output)
        app = create_app({"instance": f"{tmp}/instance", "database_url": args.url or f"sqlite:///{tmp}/bench.sqlite3"})
        engine = app.extensions["microcred"].database.engine
        t0 = time.perf_counter()
        made = generate(engine, Sizes(args.districts, args.teachers, args.submissions))
        generated_s = time.perf_counter() - t0
        _settle(engine)
        figures = measure(app, made, args.n)
        app.extensions["microcred"].database.dispose()
    if args.json:
        print(json.dumps({"rows": made.rows, "generate_s": round(generated_s, 1), "pages": figures}))
        return
    print(f"data: {made.rows} (generated in {generated_s:.1f} s)")
    print(f"{'page':32} {'median ms':>10} {'p95 ms':>10}")
    for name, f in figures.items():
        print(f"{name:32} {f['median_ms']:>10} {f['p95_ms']:>10}")


if __name__ == "__main__":
    main()
