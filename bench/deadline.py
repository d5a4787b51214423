"""The deadline-day load test (QUALITY H8): many applicants autosaving while others submit.

    .venv/bin/python bench/deadline.py --base-url http://127.0.0.1:PORT --manifest M.json \
        --database-url URL --out R.json [--minutes 15] [--applicants 300] [--interval 10] [--submits 50]

`bench/run.py` runs it after the page runs, against the same gunicorn. The applicants come from the
manifest's `autosave.applicants` (each a person with a draft of their own on an open call):

- the first 300 log in (password form, CSRF token), open their draft's "project" step and autosave it
  every 10 s as static/js/application-form.js does (POST /applications/<id>/autosave, JSON
  {lock_version, step, values}, X-CSRFToken), changing `places` each time and keeping the lock_version
  each reply returns;
- others, 50 a minute, log in, open the review step and press "Submit the application" (the real form:
  POST /applications/<id>/submit with the CSRF token, lock_version and the three declarations).

At the end the database is read: for every applicant the draft must hold the value of the last
acknowledged autosave (or a later one whose reply was lost: never an older one), and every acknowledged
submit must be submitted. Prints and writes (with --out) the errors (every failed request counts), the
autosave p50/p95/p99, the submits, and the lost drafts.
"""

from __future__ import annotations

# isort: off
from load import (  # imports locust first (gevent's monkey patching)
    BenchError,
    Recorder,
    SETUP_FAILURES,
    autosave_request,
    log_in,
    log_in_retrying,
    open_draft,
    percentile,
    reply_json,
    start_or_stop,
)
from locust import FastHttpUser, constant_pacing, task
from locust.env import Environment
from locust.exception import StopUser

# isort: on
import argparse
import json
import random
import sys
import time
from collections import deque
from pathlib import Path

import gevent
from gevent.event import Event

AUTOSAVE = "autosave"
SUBMIT = "submit"


class State:
    """What the simulated people were told (acknowledged) and what they sent without an answer."""

    def __init__(self):
        self.acked: dict[int, str] = {}  # application id → value of the last acknowledged autosave
        self.unanswered: dict[int, list[str]] = {}  # values sent after it whose reply never came
        self.closed: set[int] = set()  # drafts being or been submitted: their autosave stops
        self.inflight: set[int] = set()  # drafts with an autosave under way
        self.submitted: list[int] = []  # acknowledged submits
        self.refused: list[tuple[int, str]] = []
        self.submit_times: list[float] = []
        self.active = 0
        self.login_retries = 0
        self.go = Event()  # set when every applicant is logged in: the measured minutes start


def make_users(args, manifest: dict, state: State):
    base = args.base_url.rstrip("/")
    password = manifest["password"]
    applicants = list(manifest["autosave"]["applicants"])
    savers = applicants[: args.applicants]
    wanted = int(args.submits * args.minutes + 0.5)
    submitters = deque(applicants[args.applicants :][:wanted])
    notes = []
    if len(savers) < args.applicants:
        notes.append(f"the manifest has {len(savers)} applicants, not {args.applicants}: fewer autosave")
    if len(submitters) < wanted:
        notes.append(
            f"the manifest has {len(submitters)} drafts beyond the autosaving applicants for {wanted} "
            f"submits: {wanted - len(submitters)} submits take the autosaving applicants' own drafts (that "
            "applicant stops autosaving first, as one does before pressing Submit)"
        )
        extra = [a for a in reversed(savers)][: wanted - len(submitters)]
        submitters.extend(extra)
    saver_pool = iter(savers)

    class Applicant(FastHttpUser):
        """One person with a draft open, autosaving every `interval` seconds."""

        host = base
        fixed_count = len(savers)
        wait_time = constant_pacing(args.interval)
        network_timeout = 60.0
        connection_timeout = 20.0

        def on_start(self):
            start_or_stop(self, self.setup)

        def setup(self):
            applicant = next(saver_pool)
            self.application_id = int(applicant["application_id"])
            self.retries = log_in_retrying(
                self.client, applicant["email"], password, prefix="applicant login"
            )
            state.login_retries += self.retries
            self.token, self.version = open_draft(self.client, self.application_id, prefix="applicant")
            self.count = 0
            state.active += 1
            state.go.wait()
            gevent.sleep(random.uniform(0, args.interval))  # people do not type in step

        @task
        def autosave(self):
            if self.broken or self.application_id in state.closed:
                raise StopUser()
            state.inflight.add(self.application_id)
            try:
                self._autosave()
            finally:
                state.inflight.discard(self.application_id)

        def _autosave(self):
            self.count += 1
            value = f"deadline {self.application_id} #{self.count}"
            with autosave_request(
                self.client, self.application_id, self.token, self.version, {"places": value}, name=AUTOSAVE
            ) as response:
                body = reply_json(response)
                if response.status_code == 200 and body.get("ok"):
                    self.version = body["lock_version"]
                    state.acked[self.application_id] = value
                    state.unanswered.pop(self.application_id, None)
                elif response.status_code == 409 and body.get("submitted"):
                    # Submitted meanwhile (only when the manifest had too few drafts): expected, not an error.
                    response.success()
                    state.closed.add(self.application_id)
                else:
                    if response.status_code == 0 or response.status_code >= 500:
                        state.unanswered.setdefault(self.application_id, []).append(value)
                    response.failure(f"HTTP {response.status_code} {(response.text or '')[:200]!r}")
                    if isinstance(body.get("lock_version"), int):
                        self.version = body["lock_version"]

    class Submitter(FastHttpUser):
        """Submits one applicant's draft per pacing interval (together: `submits` a minute)."""

        host = base
        fixed_count = max(1, min(args.submitters, len(submitters)))
        wait_time = constant_pacing(60.0 * max(1, min(args.submitters, len(submitters))) / args.submits)
        network_timeout = 60.0
        connection_timeout = 20.0

        def on_start(self):
            state.go.wait()
            gevent.sleep(random.uniform(0, 60.0 * self.fixed_count / args.submits))

        @task
        def submit(self):
            if not submitters:
                return
            applicant = submitters.popleft()
            application_id = int(applicant["application_id"])
            self.client.cookiejar.clear()  # a different person: a fresh browser
            # When the draft is also one an autosaving applicant has open (too few drafts in the manifest):
            # that person stops typing first, as one would before pressing "Submit".
            state.closed.add(application_id)
            while application_id in state.inflight:
                gevent.sleep(0.05)
            try:
                log_in(self.client, applicant["email"], password, prefix="submitter login")
                token, version = open_draft(self.client, application_id, "review", prefix="submitter")
            except BenchError as exc:
                SETUP_FAILURES.append(f"submit {application_id}: {exc}")
                return
            started = time.perf_counter()
            with self.client.post(
                f"/applications/{application_id}/submit",
                data={
                    "csrf_token": token,
                    "lock_version": str(version),
                    "declaration_truth": "y",
                    "declaration_no_double_funding": "y",
                    "declaration_participant_lists": "y",
                },
                name=SUBMIT,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                state.submit_times.append((time.perf_counter() - started) * 1000)
                location = response.headers.get("Location") or ""
                if response.status_code in (302, 303) and location.rstrip("/").endswith(
                    f"/applications/{application_id}/submitted"
                ):
                    state.submitted.append(application_id)
                    state.closed.add(application_id)
                else:
                    problem = {200: "refused (the review page came back)", 409: "conflict"}.get(
                        response.status_code, "no redirect to the confirmation"
                    )
                    state.refused.append((application_id, f"HTTP {response.status_code}, {problem}"))
                    response.failure(f"submit {application_id}: HTTP {response.status_code} {problem}")
                    return
            self.client.get(location, name="submitter: confirmation")

    return [Applicant, Submitter], notes, len(savers), wanted


def check_database(database_url: str, state: State) -> dict:
    import psycopg

    ids = sorted(set(state.acked) | set(state.submitted))
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        rows = conn.execute(
            "SELECT id, places, status FROM applications WHERE id = ANY(%s)", (ids,)
        ).fetchall()
    stored = {row[0]: (row[1], row[2]) for row in rows}
    lost, later = [], 0
    for application_id, value in state.acked.items():
        places = stored.get(application_id, (None, None))[0]
        if places == value:
            continue
        if places in state.unanswered.get(application_id, []):
            later += 1  # a save whose reply was lost reached the database: newer, not lost
            continue
        lost.append({"application_id": application_id, "acknowledged": value, "database": places})
    lost_submits = [i for i in state.submitted if stored.get(i, (None, "draft"))[1] == "draft"]
    return {"lost": lost, "later_than_acknowledged": later, "lost_submits": lost_submits}


def run(args, manifest: dict) -> dict:
    state = State()
    user_classes, notes, savers, wanted = make_users(args, manifest, state)
    env = Environment(user_classes=user_classes, stop_timeout=120)
    recorder = Recorder(env)
    runner = env.create_local_runner()
    total = sum(cls.fixed_count for cls in user_classes)
    seconds = args.minutes * 60
    print(
        f"  deadline: {savers} applicants autosaving every {args.interval} s, {args.submits} submits "
        f"a minute, {args.minutes} min (logging in at {args.spawn_rate}/s)",
        file=sys.stderr,
        flush=True,
    )
    ramp = time.perf_counter()
    runner.start(total, spawn_rate=args.spawn_rate)
    # Everyone logs in first (argon2id: the logins of 300 people are not what the test measures; their
    # errors count). Then the measured minutes: autosaves and submits.
    while state.active + len(SETUP_FAILURES) < savers and time.perf_counter() - ramp < args.login_timeout:
        gevent.sleep(0.5)
    ramp_seconds = time.perf_counter() - ramp
    # Requests that failed while everyone logged in (and were retried) are reported apart; an applicant
    # who could not log in at all counts as an error (SETUP_FAILURES).
    login_errors = recorder.all_errors()
    recorder.clear()
    print(
        f"  deadline: {state.active} logged in after {ramp_seconds:.0f} s; measuring",
        file=sys.stderr,
        flush=True,
    )
    state.go.set()
    started = time.perf_counter()
    gevent.sleep(seconds)
    recorder.window_end = time.perf_counter()
    runner.stop()  # the requests under way finish (stop_timeout) and count
    drained = time.perf_counter()
    while runner.user_count and time.perf_counter() - drained < 130:
        gevent.sleep(0.1)
    recorder.recording = False
    runner.quit()
    elapsed = recorder.window_end - started
    times = recorder.times.get(AUTOSAVE, [])
    errors = sum(recorder.all_errors().values()) + len(SETUP_FAILURES)
    check = check_database(args.database_url, state)
    samples = [s for name in recorder.samples for s in recorder.samples[name]][:10] + SETUP_FAILURES[:10]
    return {
        "minutes": args.minutes,
        "applicants": savers,
        "interval_s": args.interval,
        "submits_per_minute": args.submits,
        "seconds": round(elapsed, 1),
        "logged_in": state.active,
        "login_seconds": round(ramp_seconds, 1),
        "login_ramp_failed_requests": login_errors,
        "login_retries": state.login_retries,
        "errors": errors,
        "errors_by_request": {
            **recorder.all_errors(),
            **({"setup": len(SETUP_FAILURES)} if SETUP_FAILURES else {}),
        },
        "error_samples": samples,
        "autosave": {
            "requests": len(times),
            "rps": round((len(times) - recorder.late.get(AUTOSAVE, 0)) / elapsed, 1),
            "p50_ms": _r(percentile(times, 0.50)),
            "p95_ms": _r(percentile(times, 0.95)),
            "p99_ms": _r(percentile(times, 0.99)),
            "max_ms": _r(max(times) if times else None),
        },
        "submits": {
            "wanted": wanted,
            "attempted": len(state.submitted) + len(state.refused),
            "acknowledged": len(state.submitted),
            "refused": state.refused[:20],
            "p50_ms": _r(percentile(state.submit_times, 0.50)),
            "p95_ms": _r(percentile(state.submit_times, 0.95)),
        },
        "acknowledged_drafts": len(state.acked),
        "lost_drafts": len(check["lost"]),
        "lost_examples": check["lost"][:10],
        "saves_newer_than_acknowledged": check["later_than_acknowledged"],
        "lost_submits": len(check["lost_submits"]),
        "autosavers_stopped_by_submit": len(state.closed & set(state.acked)),
        "notes": notes,
    }


def _r(value):
    return None if value is None else round(value, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--applicants", type=int, default=300)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between one person's autosaves")
    parser.add_argument("--submits", type=float, default=50.0, help="submits a minute")
    parser.add_argument("--submitters", type=int, default=10, help="simulated people submitting in turn")
    parser.add_argument("--spawn-rate", type=float, default=3.0, help="logins a second before the test")
    parser.add_argument("--login-timeout", type=float, default=600.0, help="seconds for everyone to log in")
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    result = run(args, manifest)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    a = result["autosave"]
    print(
        f"  deadline: errors {result['errors']}, autosave p95 {a['p95_ms']} ms ({a['requests']} saves), "
        f"submits {result['submits']['acknowledged']}/{result['submits']['attempted']}, "
        f"lost drafts {result['lost_drafts']}, lost submits {result['lost_submits']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
