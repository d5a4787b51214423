"""`make bench`: the portal under load (gunicorn on loopback, PostgreSQL with a national dataset).

    scripts/with-postgres .venv/bin/python bench/run.py [--scale 1|10 | --applications N]
        [--duration 20] [--warmup 5] [--users 8] [--workers 4] [--deadline-minutes 15] [--no-deadline]

Steps (each prints what it does; see bench/README.md):
 1. load the dataset into the (empty) database with bench/dataset.py, which writes a manifest: the pages,
    the users who see them, the applicants with drafts, the contracts; then VACUUM ANALYZE and switch the
    throwaway cluster (built for speed) back to durable commits (fsync, synchronous_commit);
 2. in-process, against the same database: SQL queries per page (one warm request each, as its user),
    quota computation for the round's municipalities, contract PDFs (wkhtmltopdf);
 3. gunicorn on 127.0.0.1 (bench/wsgi_bench.py) driven by locust (bench/load.py): every page, the autosave
    endpoint and GET /healthz (the ceiling), N users in a closed loop, one page at a time;
 4. the deadline-day test (bench/deadline.py): 300 applicants autosaving every 10 s, 50 submits a minute;
 5. a table on stdout, bench/results/<UTC stamp>.json and bench/results/latest.md.

Peak memory (gunicorn master and workers; the load generator) is sampled with psutil throughout 3 and 4.
Exits non-zero only when the run itself broke; a missed target is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

TARGET_P95_MS = 150.0
TARGET_RATIO = 0.40
TARGET_PDF_S = 1.0
TARGET_QUOTA_MS = 5.0
TARGET_AUTOSAVE_P95_MS = 800.0


class RunBroken(RuntimeError):
    """The run cannot go on (the dataset did not load, gunicorn did not start, a step crashed)."""


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def plain_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (psycopg.connect does not take the +driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- 1. the dataset ------------------------------------------------------------------------------------


def load_dataset(args, database_url: str, manifest_path: Path) -> dict:
    command = [sys.executable, str(BENCH / "dataset.py"), "--database-url", database_url]
    command += (
        ["--applications", str(args.applications)] if args.applications else ["--scale", str(args.scale)]
    )
    command += ["--manifest", str(manifest_path)]
    say(f"loading the dataset: {' '.join(command[1:2] + command[4:])}")
    started = time.perf_counter()
    try:
        subprocess.run(command, cwd=ROOT, check=True, timeout=args.load_timeout)  # noqa: S603 - our script
    except subprocess.CalledProcessError as exc:
        raise RunBroken(f"bench/dataset.py failed (exit {exc.returncode})") from exc
    except subprocess.TimeoutExpired as exc:
        raise RunBroken(f"bench/dataset.py took longer than {args.load_timeout} s") from exc
    manifest = json.loads(manifest_path.read_text())
    manifest.setdefault("load_seconds", round(time.perf_counter() - started, 1))
    say(f"dataset loaded in {manifest['load_seconds']} s")
    return manifest


def prepare_database(database_url: str, *, durable: bool) -> dict:
    """VACUUM ANALYZE after the bulk load (as a DBA would), then durable commits; return version facts."""
    import psycopg

    facts: dict = {}
    with psycopg.connect(plain_url(database_url), autocommit=True) as conn:
        facts["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        facts["vacuum_analyze_seconds"] = round(time.perf_counter() - started, 1)
        if durable:
            # scripts/with-postgres builds the cluster for test speed (fsync off); production commits durably.
            for name, value in (("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on")):
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")
            time.sleep(0.5)
        for name in ("fsync", "synchronous_commit", "shared_buffers", "max_connections"):
            facts[name] = conn.execute(f"SHOW {name}").fetchone()[0]
        facts["database_size"] = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    return facts


# --- 2. in-process measurements -------------------------------------------------------------------------


def _hidden(text: str, name: str) -> str | None:
    """The value of <input name=NAME> (as bench/load.py hidden_value; that module imports gevent)."""
    import html
    import re

    for tag in re.findall(r"<input\b[^>]*>", text):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(match.group(1)) if match else ""
    return None


def _test_login(client, email: str, password: str, totp_secret: str | None) -> None:
    """Log in through the real forms with Flask's test client (the previous TOTP step first, so that
    bench/load.py, which uses the current step a little later, never meets a used code)."""
    import pyotp

    body = client.get("/account/login").get_data(as_text=True)
    token = _hidden(body, "csrf_token")
    response = client.post(
        "/account/login",
        data={"csrf_token": token, "email": email, "password": password, "next": ""},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    if 'name="code"' in body:
        for offset in (-30, 0, 30):
            if offset == 30:  # both codes in the window used: wait for the next step
                time.sleep(30 - time.time() % 30 + 1)
                offset = 0
            code = pyotp.TOTP(totp_secret).at(time.time() + offset)
            token = _hidden(body, "csrf_token") or token
            response = client.post(
                "/account/login/totp", data={"csrf_token": token, "code": code}, follow_redirects=True
            )
            body = response.get_data(as_text=True)
            if 'name="code"' not in body:
                break
    if 'name="password"' in body or 'name="code"' in body:
        raise RunBroken(f"in-process login of {email} failed")


def in_process(args, database_url: str, manifest: dict, secret_key: str) -> dict:
    import sqlalchemy as sa
    from wsgi_bench import bench_app

    from portal.extensions import db

    app = bench_app(database_url, secret_key)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("portal.security").setLevel(logging.ERROR)  # a line per login otherwise
    out: dict = {"queries": {}, "quota": None, "pdf": None}
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
    clients: dict = {}

    def client_for(persona):
        if persona not in clients:
            client = app.test_client()
            if persona:
                user = manifest["users"][persona]
                _test_login(client, user["email"], manifest["password"], user.get("totp_secret"))
            clients[persona] = client
        return clients[persona]

    from portal.core import pagecache

    say("SQL queries per page (in-process, one warm request each; the render, not the public page cache)")
    for label, path in manifest["pages"].items():
        client = client_for(manifest.get("page_users", {}).get(label))
        client.get(path)  # cold: caches, first-use queries
        pagecache.store.clear()
        counter["n"] = 0
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        counter["n"], rendered = 0, counter["n"]
        client.get(path)  # an anonymous page now comes from the public page cache
        out["queries"][label] = {
            "queries": rendered,
            "cached_queries": counter["n"],
            "status": response.status_code,
            "ms": round(elapsed, 1),
        }

    applicant = manifest["autosave"]["applicants"][-1]
    client = app.test_client()
    _test_login(client, applicant["email"], manifest["password"], None)
    application_id = applicant["application_id"]
    body = client.get(f"/applications/{application_id}/edit/project").get_data(as_text=True)
    token, version = _hidden(body, "csrf_token"), int(_hidden(body, "lock_version") or 0)
    for attempt in range(2):
        counter["n"] = 0
        started = time.perf_counter()
        response = client.post(
            f"/applications/{application_id}/autosave",
            json={"lock_version": version, "step": "project", "values": {"places": f"in-process {attempt}"}},
            headers={"X-CSRFToken": token, "Accept": "application/json"},
        )
        elapsed = (time.perf_counter() - started) * 1000
        version = (response.get_json(silent=True) or {}).get("lock_version", version)
    out["queries"]["autosave"] = {
        "queries": counter["n"],
        "status": response.status_code,
        "ms": round(elapsed, 1),
    }
    with app.app_context():
        sa.event.remove(db.engine, "before_cursor_execute", count)
        out["quota"] = quota_timing(args)
        out["pdf"] = pdf_timing(args, manifest)
    return out


def quota_timing(args) -> dict | None:
    """compute_quotas for the round with the most municipalities (median of many runs), and the whole
    service (compute_round_quotas: reads, computes, writes the snapshot; rolled back) for comparison."""
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.core.enums import Role
    from portal.extensions import db
    from portal.programmes import services
    from portal.programmes.models import PupilCount, Round
    from portal.programmes.quotas import QuotaInput, compute_quotas

    row = db.session.execute(
        sa.select(PupilCount.round_id, sa.func.count())
        .group_by(PupilCount.round_id)
        .order_by(sa.func.count().desc(), PupilCount.round_id.desc())
        .limit(1)
    ).first()
    if row is None:
        say("quota: no round with pupil counts in the dataset; skipped")
        return None
    rnd = db.session.get(Round, row[0])
    counts = sorted(rnd.pupil_counts, key=lambda pc: pc.municipality.code)
    inputs = [QuotaInput(pc.municipality.code, pc.pupils) for pc in counts]
    projects, amount = services.round_projects(rnd), rnd.programme.amount
    say(f"quota computation: {len(inputs)} municipalities, {projects} projects, {args.quota_runs} runs")
    times = []
    for _ in range(args.quota_runs):
        started = time.perf_counter()
        compute_quotas(projects, inputs, amount)
        times.append((time.perf_counter() - started) * 1000)
    result = {
        "municipalities": len(inputs),
        "projects": projects,
        "runs": len(times),
        "median_ms": round(statistics.median(times), 3),
        "max_ms": round(max(times), 3),
    }
    from portal.accounts.models import Membership

    admin = db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.NATIONAL_ADMIN)
        .limit(1)
    )
    if rnd.status != "closed" and admin is not None:
        service = []
        for _ in range(20):
            rnd = db.session.get(Round, row[0])
            started = time.perf_counter()
            services.compute_round_quotas(rnd, actor=admin)
            service.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        result["service_median_ms"] = round(statistics.median(service), 2)
    return result


def pdf_timing(args, manifest: dict) -> dict | None:
    """Render the manifest's contracts as contract PDFs (the render of contracts.generation, which the
    "generate" action stores; nothing is stored here), one after another."""
    from portal.contracts import generation
    from portal.contracts.models import Contract
    from portal.extensions import db

    ids = list(manifest.get("contracts") or [])[: args.pdfs]
    if not ids:
        say("PDF: no contracts in the manifest; skipped")
        return None
    say(f"contract PDFs: rendering {len(ids)}")
    times = []
    started_all = time.perf_counter()
    for contract_id in ids:
        contract = db.session.get(Contract, contract_id)
        call = contract.application.call
        body = generation.template_for(call.programme, call.municipality_id)
        started = time.perf_counter()
        data = generation._render(
            contract.application, body, generation._contract_facts(contract), preview=False
        )
        times.append(time.perf_counter() - started)
        if not data.startswith(b"%PDF"):
            raise RunBroken(f"contract {contract_id}: the renderer returned no PDF")
        db.session.rollback()
    total = time.perf_counter() - started_all
    return {
        "pdfs": len(times),
        "per_minute": round(len(times) / total * 60, 1),
        "p50_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
    }


# --- 3. gunicorn and memory --------------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, args, database_url: str, secret_key: str, workdir: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gunicorn.log"
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers", str(args.workers),
            "--worker-class", args.worker_class,
            "--threads", str(args.threads),
            "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "60",
            "--graceful-timeout", "10",
            "--error-logfile", str(self.log),
            "bench.wsgi_bench:app",
        ]  # fmt: skip
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "PORTAL_ENV": "production",
        }
        env.pop("FLASK_DEBUG", None)
        say(f"gunicorn: {args.workers} {args.worker_class} workers on {self.base_url}")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)  # noqa: S603
        self._wait_ready()

    def _wait_ready(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RunBroken(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RunBroken(f"gunicorn did not answer /healthz within 60 s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class MemorySampler(threading.Thread):
    """Peak RSS (and PSS, which counts pages shared after fork once) of process trees, every second."""

    def __init__(self):
        super().__init__(daemon=True)
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, dict] = {}
        self._stop = threading.Event()

    def watch(self, name: str, pid: int) -> None:
        self.roots[name] = pid

    def run(self) -> None:
        while not self._stop.wait(1.0):
            for name, pid in list(self.roots.items()):
                self._sample(name, pid)

    def _sample(self, name: str, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = 0
        for process in processes:
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        peak = self.peaks.setdefault(name, {"rss_mb": 0.0, "pss_mb": 0.0, "processes": 0})
        peak["rss_mb"] = max(peak["rss_mb"], round(rss / 2**20, 1))
        peak["pss_mb"] = max(peak["pss_mb"], round(pss / 2**20, 1))
        peak["processes"] = max(peak["processes"], len(processes))

    def stop(self) -> None:
        self._stop.set()


def run_child(command: list[str], timeout: float, sampler: MemorySampler, name: str) -> None:
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL)  # noqa: S603 - our scripts
    sampler.watch(name, process.pid)
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        process.terminate()
        process.wait(timeout=30)
        raise RunBroken(f"{command[1]} did not finish within {timeout:.0f} s") from exc
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise
    finally:
        sampler.roots.pop(name, None)
    if returncode != 0:
        raise RunBroken(f"{command[1]} failed (exit {returncode})")


# --- 5. the report ---------------------------------------------------------------------------------


def machine(prepared: dict, args) -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": os_name,
        "python": platform.python_version(),
        "postgresql": prepared.get("postgresql"),
        "gunicorn": f"{args.workers} {args.worker_class} workers"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else ""),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _fmt(value, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:.1f}" if abs(value) >= 10 or value == 0 else f"{value:.2f}"
    return f"{value}{suffix}"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdicts(results: dict) -> None:
    """Add ratio and PASS/MISS to each page (in place)."""
    load = results.get("load") or {}
    ceilings = [c["rps"] for c in load.get("ceiling", []) if c.get("rps")]
    ceiling = statistics.mean(ceilings) if ceilings else None
    load["ceiling_rps"] = round(ceiling, 1) if ceiling else None
    for page in load.get("pages", {}).values():
        page["ratio"] = round(page["rps"] / ceiling, 3) if ceiling and page.get("rps") is not None else None
        ok = (
            page.get("p95_ms") is not None
            and page["p95_ms"] <= TARGET_P95_MS
            and page["ratio"] is not None
            and page["ratio"] >= TARGET_RATIO
            and page["errors"] == 0
        )
        page["verdict"] = "PASS" if ok else "MISS"


def report(results: dict) -> str:
    m, data, load = results["machine"], results["dataset"], results.get("load") or {}
    parts = [f"## Run of {results['started']} (`{results['command']}`)", ""]
    parts.append(
        md_table(
            ["machine", ""],
            [
                ["CPU", m["cpu"]],
                ["cores / RAM", f"{m['cores']} / {m['ram_gb']} GB"],
                ["OS", m["os"]],
                ["Python / PostgreSQL", f"{m['python']} / {m['postgresql']}"],
                ["gunicorn", m["gunicorn"]],
                ["load average at start", " ".join(str(x) for x in m["load_average_at_start"])],
                ["run time", f"{results.get('run_seconds', 0) / 60:.1f} min"],
            ],
        )
    )
    counts, pg = data.get("counts") or {}, results["database"]
    parts += [
        "",
        f"Dataset: scale {data.get('scale')}, {data.get('applications')} applications, loaded in "
        f"{data.get('load_seconds')} s; database {pg.get('database_size')}. PostgreSQL: "
        f"fsync={pg.get('fsync')}, synchronous_commit={pg.get('synchronous_commit')}, "
        f"shared_buffers={pg.get('shared_buffers')}.",
        "",
        md_table(["table", "rows"], [[name, rows] for name, rows in sorted(counts.items())]),
    ]
    if load:
        rows = []
        for index, ceiling in enumerate(load.get("ceiling", [])):
            rows.append(
                [
                    f"healthz (ceiling, {'before' if index == 0 else 'after'})",
                    ceiling["rps"],
                    ceiling["p50_ms"],
                    ceiling["p95_ms"],
                    ceiling["p99_ms"],
                    ceiling["errors"],
                    "100 %",
                    "–",
                    "",
                ]
            )
        queries = results.get("in_process", {}).get("queries", {})
        for label, page in load.get("pages", {}).items():
            rows.append(
                [
                    f"{label} `{page['path']}`" + (f" ({page['user']})" if page.get("user") else ""),
                    page["rps"],
                    page["p50_ms"],
                    page["p95_ms"],
                    page["p99_ms"],
                    page["errors"],
                    f"{page['ratio'] * 100:.0f} %" if page.get("ratio") is not None else "–",
                    queries.get(label, {}).get("queries"),
                    page["verdict"],
                ]
            )
        parts += [
            "",
            f"Pages: {load.get('users')} users, closed loop, {load.get('warmup')} s warm-up then "
            f"{load.get('duration')} s each; targets p95 ≤ {TARGET_P95_MS:.0f} ms and ≥ "
            f"{TARGET_RATIO * 100:.0f} % of the ceiling ({_fmt(load.get('ceiling_rps'))} requests/s, "
            "the mean of the two runs).",
            "",
            md_table(
                ["page", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "of ceiling", "SQL", ""], rows
            ),
        ]
    queries = results.get("in_process", {}).get("queries", {})
    if queries:
        parts += [
            "",
            "SQL statements per request, in-process: rendering the page, and serving it again (anonymous "
            "pages then come from the public page cache: the version check).",
            "",
            md_table(
                ["page", "SQL (render)", "SQL (again)", "status", "ms (in-process render)"],
                [
                    [k, v["queries"], v.get("cached_queries", "–"), v["status"], v["ms"]]
                    for k, v in queries.items()
                ],
            ),
        ]
    other = []
    quota = results.get("in_process", {}).get("quota")
    if quota:
        other.append(
            [
                f"quota computation, {quota['municipalities']} municipalities (median of {quota['runs']})",
                f"{quota['median_ms']} ms"
                + (
                    f" (service with the database: {quota['service_median_ms']} ms)"
                    if "service_median_ms" in quota
                    else ""
                ),
                f"< {TARGET_QUOTA_MS:.0f} ms",
                "PASS" if quota["median_ms"] < TARGET_QUOTA_MS else "MISS",
            ]
        )
    pdf = results.get("in_process", {}).get("pdf")
    if pdf:
        other.append(
            [
                f"contract PDF ({pdf['pdfs']} rendered one after another)",
                f"{pdf['per_minute']} per minute; p50 {pdf['p50_s']} s, max {pdf['max_s']} s",
                f"< {TARGET_PDF_S:.0f} s",
                "PASS" if pdf["max_s"] < TARGET_PDF_S else "MISS",
            ]
        )
    for name, peak in (results.get("memory") or {}).items():
        other.append(
            [
                f"peak memory: {name} ({peak['processes']} processes)",
                f"RSS {peak['rss_mb']} MB, PSS {peak['pss_mb']} MB",
                "",
                "",
            ]
        )
    if other:
        parts += ["", md_table(["measure", "value", "target", ""], other)]
    deadline = results.get("deadline")
    if deadline:
        a, s = deadline["autosave"], deadline["submits"]
        parts += [
            "",
            f"Deadline day (QUALITY H8): {deadline['applicants']} applicants autosaving every "
            f"{deadline['interval_s']} s and {deadline['submits_per_minute']} submits a minute for "
            f"{deadline['minutes']} min, after {deadline.get('logged_in')} of them logged in "
            f"({deadline.get('login_seconds')} s, {deadline.get('login_retries')} login retries).",
            "",
            md_table(
                ["measure", "value", "target", ""],
                [
                    [
                        "errors (every request)",
                        deadline["errors"],
                        "0",
                        "PASS" if deadline["errors"] == 0 else "MISS",
                    ],
                    [
                        f"autosave p50 / p95 / p99 ({a['requests']} saves, {a['rps']}/s)",
                        f"{_fmt(a['p50_ms'])} / {_fmt(a['p95_ms'])} / {_fmt(a['p99_ms'])} ms",
                        f"p95 < {TARGET_AUTOSAVE_P95_MS:.0f} ms",
                        "PASS"
                        if a["p95_ms"] is not None and a["p95_ms"] < TARGET_AUTOSAVE_P95_MS
                        else "MISS",
                    ],
                    [
                        "submits acknowledged / attempted (p95 of the submit POST)",
                        f"{s['acknowledged']} / {s['attempted']} ({_fmt(s['p95_ms'])} ms)",
                        f"{deadline['submits_per_minute']}/min",
                        "",
                    ],
                    [
                        "lost drafts (last acknowledged autosave ≠ database)",
                        deadline["lost_drafts"],
                        "0",
                        "PASS" if deadline["lost_drafts"] == 0 else "MISS",
                    ],
                    [
                        "acknowledged submits not submitted in the database",
                        deadline["lost_submits"],
                        "0",
                        "PASS" if deadline["lost_submits"] == 0 else "MISS",
                    ],
                ],
            ),
        ]
        if deadline.get("notes"):
            parts += [""] + [f"- {note}" for note in deadline["notes"]]
    if results.get("notes"):
        parts += [""] + [f"- {note}" for note in results["notes"]]
    return "\n".join(parts) + "\n"


# --- main ---------------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--scale", type=float, default=10, help="dataset size: 1 ≈ 4,000 applications (default 10)"
    )
    size.add_argument("--applications", type=int, help="dataset with about this many applications")
    parser.add_argument("--database-url", help="default: $TEST_DATABASE_URL (scripts/with-postgres)")
    parser.add_argument("--manifest", type=Path, help="with --skip-load: the manifest of a loaded database")
    parser.add_argument("--skip-load", action="store_true", help="the database is loaded already")
    parser.add_argument("--load-timeout", type=float, default=3600)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per page")
    parser.add_argument("--only", nargs="*", help="page labels to load (default: all)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pdfs", type=int, default=20, help="contract PDFs to render")
    parser.add_argument("--quota-runs", type=int, default=1000)
    parser.add_argument("--deadline-minutes", type=float, default=15.0)
    parser.add_argument("--no-deadline", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="in-process measurements only")
    parser.add_argument("--keep-fast-commits", action="store_true", help="leave fsync off (not durable)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = args.database_url or os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not database_url or not database_url.startswith("postgresql"):
        print(
            "bench/run.py needs a PostgreSQL database: run it as `scripts/with-postgres .venv/bin/python "
            "bench/run.py` (or `make bench`), or give --database-url.",
            file=sys.stderr,
        )
        return 2
    if args.skip_load and not args.manifest:
        print("--skip-load needs --manifest", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    started = time.perf_counter()
    RESULTS.mkdir(exist_ok=True)
    secret_key = secrets.token_urlsafe(48)
    results: dict = {
        "started": stamp,
        "command": "bench/run.py "
        + " ".join(argv if argv is not None else sys.argv[1:]).replace(database_url, "URL"),
        "notes": [],
    }
    gunicorn = None
    sampler = MemorySampler()
    with tempfile.TemporaryDirectory(prefix="jip-bench-") as tmp:
        workdir = Path(tmp)
        try:
            manifest_path = args.manifest or workdir / "manifest.json"
            if args.skip_load:
                manifest = json.loads(manifest_path.read_text())
            else:
                manifest = load_dataset(args, database_url, manifest_path)
            results["dataset"] = {
                k: manifest.get(k) for k in ("scale", "applications", "load_seconds", "counts")
            }
            say("VACUUM ANALYZE" + ("" if args.keep_fast_commits else "; durable commits from here on"))
            results["database"] = prepare_database(database_url, durable=not args.keep_fast_commits)
            results["machine"] = machine(results["database"], args)
            results["in_process"] = in_process(args, database_url, manifest, secret_key)
            if not args.no_load:
                gunicorn = Gunicorn(args, database_url, secret_key, workdir)
                sampler.watch("gunicorn (master + workers)", gunicorn.process.pid)
                sampler.start()
                pages = len(manifest["pages"]) + 3
                out = workdir / "load.json"
                run_child(
                    [sys.executable, str(BENCH / "load.py"), "--base-url", gunicorn.base_url,
                     "--manifest", str(manifest_path), "--out", str(out), "--users", str(args.users),
                     "--warmup", str(args.warmup), "--duration", str(args.duration)]
                    + (["--only", *args.only] if args.only else []),
                    timeout=pages * (args.warmup + args.duration + 90) + 120,
                    sampler=sampler,
                    name="load generator, pages (locust)",
                )  # fmt: skip
                results["load"] = json.loads(out.read_text())
                results["load"].update(users=args.users, warmup=args.warmup, duration=args.duration)
                if not args.no_deadline:
                    out = workdir / "deadline.json"
                    try:
                        run_child(
                            [sys.executable, str(BENCH / "deadline.py"), "--base-url", gunicorn.base_url,
                             "--manifest", str(manifest_path), "--database-url", database_url,
                             "--minutes", str(args.deadline_minutes), "--out", str(out)],
                            timeout=args.deadline_minutes * 60 + 1200,
                            sampler=sampler,
                            name="load generator, deadline day (locust)",
                        )  # fmt: skip
                        results["deadline"] = json.loads(out.read_text())
                    except RunBroken as exc:  # the page figures are still worth writing
                        say(f"the deadline-day test broke: {exc}")
                        results["broken"] = f"deadline day: {exc}"
                        results["notes"].append(f"The deadline-day test broke: {exc}")
                sampler.stop()
                results["memory"] = sampler.peaks
        except RunBroken as exc:
            say(f"the run broke: {exc}")
            if gunicorn is not None:
                say("gunicorn's log:\n" + gunicorn.log_tail())
            return 1
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        except Exception:
            say("the run broke:\n" + traceback.format_exc())
            if gunicorn is not None:
                say("gunicorn's log:\n" + gunicorn.log_tail())
            return 1
        finally:
            sampler.stop()
            if gunicorn is not None:
                gunicorn.stop()
    results["run_seconds"] = round(time.perf_counter() - started, 1)
    verdicts(results)
    text = report(results)
    print(text)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    (RESULTS / "latest.md").write_text(text)
    say(
        f"written: bench/results/{stamp}.json and bench/results/latest.md "
        f"({results['run_seconds'] / 60:.1f} min)"
    )
    return 1 if results.get("broken") else 0


if __name__ == "__main__":
    sys.exit(main())
