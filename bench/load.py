"""Drive the portal served by gunicorn with locust (library mode, headless): one page at a time.

    .venv/bin/python bench/load.py --base-url http://127.0.0.1:PORT --manifest M.json --out R.json \
        [--users 8] [--warmup 5] [--duration 20]

`bench/run.py` starts it (in its own process, so gevent's monkey patching stays out of the runner and the
load generator's memory is measured apart). Each run: N users in a closed loop (no think time) on one
page for the warm-up, then the measured window. The pages: GET /healthz first and last (the ceiling:
the same app's whole request path without a template or a query), every page of the manifest as its
user, and the autosave endpoint (each user autosaving its own draft, as static/js/autosave.js does).

Staff log in once per persona through the real login form and TOTP; the users of a page share that
session (like tabs of one browser). Applicants log in themselves. Also imported by bench/deadline.py.
"""

from __future__ import annotations

# locust patches the standard library for gevent on import: it must come first.
# isort: off
import locust  # noqa: F401
from locust import FastHttpUser, constant, task
from locust.env import Environment
from locust.exception import StopUser

# isort: on

import argparse
import copy
import html
import itertools
import json
import re
import sys
import time
from pathlib import Path

import gevent
import pyotp

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/account/login"
LOGIN_TOTP = "/account/login/totp"
TOTP_STEP = 30
JSON_HEADERS = {"Accept": "application/json", "X-Requested-With": "fetch"}
CEILING = "healthz"


class BenchError(RuntimeError):
    """Something the run cannot go on without (a login refused, a form missing)."""


# --- HTML and login ------------------------------------------------------------------------------


def hidden_value(text: str, name: str) -> str | None:
    """The value of <input name=NAME ...> in a page (the CSRF token, lock_version)."""
    for tag in re.findall(r"<input\b[^>]*>", text):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(match.group(1)) if match else ""
    return None


def _text(response) -> str:
    return response.text or ""


def totp_code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset_steps * TOTP_STEP)


def _sleep_to_next_step() -> None:
    gevent.sleep(TOTP_STEP - time.time() % TOTP_STEP + 1)


def log_in(client, email: str, password: str, totp_secret: str | None = None, *, prefix: str = "login"):
    """Log in through the real forms (CSRF token, password, then the TOTP code for staff).

    `client` is a locust FastHttpSession (it keeps the cookies). A TOTP code works once: when the
    current step was used already (the same person logged in moments ago), wait for the next one.
    """
    page = client.get(LOGIN, name=f"{prefix}: form")
    token = hidden_value(_text(page), "csrf_token")
    if not token:
        raise BenchError(f"no CSRF token on {LOGIN} (HTTP {page.status_code})")
    response = client.post(
        LOGIN,
        data={"csrf_token": token, "email": email, "password": password, "next": ""},
        name=f"{prefix}: password",
    )
    body = _text(response)
    if 'name="code"' in body:
        if not totp_secret:
            raise BenchError(f"{email} needs a TOTP code and the manifest has no secret")
        for attempt in range(3):
            token = hidden_value(body, "csrf_token") or token
            response = client.post(
                LOGIN_TOTP,
                data={"csrf_token": token, "code": totp_code(totp_secret)},
                name=f"{prefix}: totp",
            )
            body = _text(response)
            if 'name="code"' not in body:
                break
            if attempt < 2:
                _sleep_to_next_step()
                body = _text(client.get(LOGIN_TOTP, name=f"{prefix}: totp form"))
        else:
            raise BenchError(f"the TOTP code of {email} was refused three times")
    if response.status_code != 200 or 'name="password"' in body or 'name="code"' in body:
        raise BenchError(f"login of {email} failed (HTTP {response.status_code})")


def log_in_retrying(client, email: str, password: str, *, prefix: str, attempts: int = 4) -> int:
    """Log an applicant in, trying again after a timeout or a refused connection (a server busy hashing
    passwords: argon2id costs ~0.1–0.2 s of CPU per login on a quiet machine). Returns the retries."""
    for attempt in range(attempts):
        try:
            log_in(client, email, password, prefix=prefix)
            return attempt
        except BenchError:
            if attempt == attempts - 1:
                raise
            client.cookiejar.clear()
            gevent.sleep(5 * (attempt + 1))
    return attempts


def standalone_session(env: Environment, base_url: str):
    """A cookie-keeping HTTP session outside any user (to log a persona in once)."""
    from locust.contrib.fasthttp import FastHttpSession

    return FastHttpSession(base_url=base_url, request_event=env.events.request, user=None)


def open_draft(client, application_id: int, step: str = "project", *, prefix: str) -> tuple[str, int]:
    """Open a step of the application form as a browser does: (CSRF token, lock_version)."""
    page = client.get(f"/applications/{application_id}/edit/{step}", name=f"{prefix}: open form")
    body = _text(page)
    token, version = hidden_value(body, "csrf_token"), hidden_value(body, "lock_version")
    if page.status_code != 200 or not token or not (version or "").isdigit():
        raise BenchError(f"could not open draft {application_id} (HTTP {page.status_code})")
    return token, int(version)


def autosave_request(client, application_id: int, token: str, version: int, values: dict, *, name: str):
    """POST /applications/<id>/autosave exactly as static/js/application-form.js does."""
    return client.post(
        f"/applications/{application_id}/autosave",
        data=json.dumps({"lock_version": version, "step": "project", "values": values}),
        headers={**JSON_HEADERS, "Content-Type": "application/json", "X-CSRFToken": token},
        name=name,
        catch_response=True,
    )


def reply_json(response) -> dict:
    try:
        body = json.loads(response.text or "null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- statistics ----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


class Recorder:
    """Every request's time and outcome, by name (exact percentiles, not locust's rounded ones)."""

    def __init__(self, env: Environment):
        self.times: dict[str, list[float]] = {}
        self.window_end: float | None = None  # completions after it count in the percentiles, not in req/s
        self.late: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.samples: dict[str, list[str]] = {}
        self.recording = True
        env.events.request.add_listener(self._on_request)

    def _on_request(self, request_type, name, response_time, response_length, exception=None, **_kw):
        if not self.recording:
            return
        self.times.setdefault(name, []).append(response_time)
        if self.window_end is not None and time.perf_counter() > self.window_end:
            self.late[name] = self.late.get(name, 0) + 1
        if exception is not None:
            self.errors[name] = self.errors.get(name, 0) + 1
            samples = self.samples.setdefault(name, [])
            if len(samples) < 5:
                samples.append(str(exception)[:300])

    def clear(self) -> None:
        self.times.clear()
        self.errors.clear()
        self.samples.clear()
        self.late.clear()

    def summary(self, name: str, seconds: float) -> dict:
        times = self.times.get(name, [])
        in_window = len(times) - self.late.get(name, 0)
        return {
            "requests": len(times),
            "errors": self.errors.get(name, 0),
            "rps": round(in_window / seconds, 1) if seconds > 0 else None,
            "p50_ms": _ms(percentile(times, 0.50)),
            "p95_ms": _ms(percentile(times, 0.95)),
            "p99_ms": _ms(percentile(times, 0.99)),
            "max_ms": _ms(max(times) if times else None),
            "error_samples": self.samples.get(name, []),
        }

    def all_errors(self) -> dict[str, int]:
        return dict(self.errors)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- the page runs -------------------------------------------------------------------------------


def _page_user(base_url: str, label: str, path: str, cookies: list):
    class PageUser(FastHttpUser):
        host = base_url
        wait_time = constant(0)
        network_timeout = 30.0
        connection_timeout = 10.0

        def on_start(self):
            for cookie in cookies:
                self.client.cookiejar.set_cookie(copy.copy(cookie))

        @task
        def get_page(self):
            with self.client.get(path, name=label, allow_redirects=False, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code} {response.headers.get('Location', '')}")

    PageUser.__name__ = f"PageUser_{label}"
    return PageUser


def _autosave_user(base_url: str, password: str, applicants: list[dict]):
    pool = iter(applicants)

    class AutosaveUser(FastHttpUser):
        host = base_url
        wait_time = constant(0)
        network_timeout = 30.0
        connection_timeout = 10.0

        def on_start(self):
            start_or_stop(self, self.setup)

        def setup(self):
            applicant = next(pool)
            self.application_id = int(applicant["application_id"])
            log_in_retrying(self.client, applicant["email"], password, prefix="autosave login")
            self.token, self.version = open_draft(self.client, self.application_id, prefix="autosave")
            self.counter = itertools.count(1)

        @task
        def autosave(self):
            if self.broken:
                raise StopUser()
            value = f"bench autosave {next(self.counter)}"
            with autosave_request(
                self.client, self.application_id, self.token, self.version, {"places": value}, name="autosave"
            ) as response:
                body = reply_json(response)
                if response.status_code == 200 and body.get("ok"):
                    self.version = body["lock_version"]
                else:
                    response.failure(f"HTTP {response.status_code} {response.text[:200]!r}")
                    if isinstance(body.get("lock_version"), int):
                        self.version = body["lock_version"]

    return AutosaveUser


SETUP_FAILURES: list[str] = []
READY: list[int] = [0]  # users whose setup (login, opening the form) is done


def start_or_stop(user, setup) -> None:
    """Run a user's setup; when it fails, note why (an error of the run) and stop that user."""
    user.broken = False
    try:
        setup()
        READY[0] += 1
    except Exception as exc:  # noqa: BLE001 - any failure is reported, the run goes on
        SETUP_FAILURES.append(f"{type(exc).__name__}: {exc}"[:300])
        user.broken = True  # its first task stops it (a StopUser here would print a traceback)


def _run(user_class, users: int, warmup: float, duration: float, label: str, setup: bool = False) -> dict:
    """Warm up, measure `duration` seconds, then let the requests under way finish (a slow page's last
    requests count in its percentiles; its requests/s counts what completed within the window)."""
    env = Environment(user_classes=[user_class], stop_timeout=120)
    recorder = Recorder(env)
    runner = env.create_local_runner()
    READY[0] = 0
    runner.start(users, spawn_rate=users)
    if setup:  # users that log in first: the warm-up starts when every one is ready (or gave up)
        waited = time.perf_counter()
        while READY[0] + len(SETUP_FAILURES) < users and time.perf_counter() - waited < 300:
            gevent.sleep(0.2)
    gevent.sleep(warmup)
    setup_errors = recorder.all_errors()
    recorder.clear()
    started = time.perf_counter()
    gevent.sleep(duration)
    recorder.window_end = time.perf_counter()
    seconds = recorder.window_end - started
    runner.stop()  # each user finishes its request (stop_timeout), then stops
    drained = time.perf_counter()
    while runner.user_count and time.perf_counter() - drained < 130:
        gevent.sleep(0.1)
    recorder.recording = False
    runner.quit()
    result = recorder.summary(label, seconds)
    result["seconds"] = round(seconds, 1)
    result["users"] = users
    if SETUP_FAILURES:  # a user that could not start (a login refused): counted as errors
        result["errors"] += len(SETUP_FAILURES)
        result["error_samples"] += SETUP_FAILURES[:5]
        SETUP_FAILURES.clear()
    if setup_errors:
        result["setup_errors"] = setup_errors
    return result


def persona_cookies(base_url: str, manifest: dict, persona: str) -> list:
    env = Environment(user_classes=[])
    session = standalone_session(env, base_url)
    user = manifest["users"][persona]
    log_in(session, user["email"], manifest["password"], user.get("totp_secret"), prefix=f"{persona} login")
    return list(session.cookiejar)


def run_pages(args, manifest: dict) -> dict:
    base = args.base_url.rstrip("/")
    results: dict = {"pages": {}, "ceiling": []}
    sessions: dict[str, list] = {}

    def ceiling():
        print(f"  load: {CEILING} (ceiling) …", file=sys.stderr, flush=True)
        run = _run(_page_user(base, CEILING, "/healthz", []), args.users, args.warmup, args.duration, CEILING)
        results["ceiling"].append(run)

    ceiling()
    for label, path in manifest["pages"].items():
        if args.only and label not in args.only:
            continue
        persona = manifest.get("page_users", {}).get(label)
        if persona and persona not in sessions:
            sessions[persona] = persona_cookies(base, manifest, persona)
        print(f"  load: {label} {path} as {persona or 'anonymous'} …", file=sys.stderr, flush=True)
        run = _run(
            _page_user(base, label, path, sessions.get(persona, [])),
            args.users,
            args.warmup,
            args.duration,
            label,
        )
        results["pages"][label] = {"path": path, "user": persona, **run}
    if not args.only or "autosave" in args.only:
        applicants = manifest["autosave"]["applicants"][: args.users]
        print(f"  load: autosave as {len(applicants)} applicants …", file=sys.stderr, flush=True)
        run = _run(
            _autosave_user(base, manifest["password"], applicants),
            min(args.users, len(applicants)),
            args.warmup,
            args.duration,
            "autosave",
            setup=True,
        )
        results["pages"]["autosave"] = {
            "path": "POST /applications/<id>/autosave",
            "user": "applicant",
            **run,
        }
    ceiling()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", help="page labels to run (default: all)")
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    try:
        results = run_pages(args, manifest)
    except BenchError as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
