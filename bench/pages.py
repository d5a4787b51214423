"""Time the home and login pages through the Flask test client on a filled SQLite database.

    .venv/bin/python bench/pages.py [--orgs 300] [--requests 300] [--json]

Prints, per page, requests per second, p50 and p95 in milliseconds. Everything happens in a temporary
directory that is removed afterwards; nothing leaves the process (no network server is involved).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ("/", "/account/login")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def build_app(database: Path):
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{database}"
        TESTING = False

    app = create_app(BenchConfig)
    with app.app_context():
        upgrade()
    return app


def reg_numbers():
    """Distinct valid Latvian legal-entity registration numbers."""
    from stdnum.lv import pvn

    number = 40000000000
    while True:
        number += 1
        if pvn.is_valid(str(number)):
            yield str(number)


def fill(app, organisations: int) -> None:
    """N organisations, each with a confirmed representative (factories reuse one password hash)."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.municipalities.models import Municipality
    from tests.factories import OrganisationFactory, applicant

    with app.app_context():
        municipalities = db.session.scalars(sa.select(Municipality)).all()
        numbers = reg_numbers()
        for i in range(organisations):
            where = municipalities[i % len(municipalities)]
            org = OrganisationFactory(reg_number=next(numbers), municipality=where)
            applicant(org)
        db.session.commit()
        db.session.remove()


def time_page(client, path: str, requests: int, warmup: int = 10) -> dict:
    for _ in range(warmup):
        client.get(path)
    durations = []
    started = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(path)
        durations.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
    total = time.perf_counter() - started
    return {
        "path": path,
        "requests": requests,
        "req_per_s": requests / total,
        "p50_ms": statistics.median(durations) * 1000,
        "p95_ms": percentile(durations, 0.95) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=300, help="organisations (and representatives) to create")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--json", action="store_true", help="also write bench/results/pages-<time>.json")
    args = parser.parse_args()

    logging.disable(logging.WARNING)  # the app logs every request at INFO; keep the output to the numbers
    with tempfile.TemporaryDirectory(prefix="jip-bench-") as tmp:
        app = build_app(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        fill(app, args.orgs)
        print(f"created {args.orgs} organisations and users in {time.perf_counter() - t0:.1f} s")
        client = app.test_client()
        results = [time_page(client, path, args.requests) for path in PAGES]

    print(f"{'page':<20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results:
        print(f"{r['path']:<20} {r['req_per_s']:8.1f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f}")
    if args.json:
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = out / f"pages-{stamp}.json"
        meta = {"orgs": args.orgs, "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
        path.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
