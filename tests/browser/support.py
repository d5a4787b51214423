"""Helpers for browser tests: the axe gate (QUALITY G1), layout checks, the captured e-mail."""

from __future__ import annotations

from email.message import EmailMessage

from axe_playwright_python.sync_playwright import Axe

# QUALITY G1: no violation at all of these rule sets, and none serious/critical of best practice.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "EN-301-549")
BLOCKING_IMPACTS = ("serious", "critical")
_AXE = Axe()
_AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": [*WCAG_TAGS, "best-practice"]},
    "resultTypes": ["violations"],
}


def _blocking(violation: dict) -> bool:
    if set(violation.get("tags", ())) & set(WCAG_TAGS):
        return True
    return violation.get("impact") in BLOCKING_IMPACTS


def _describe(violation: dict) -> str:
    head = f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
    lines = [f"{head}  <{violation['helpUrl']}>"]
    for node in violation["nodes"][:10]:
        target = ", ".join(str(t) for t in node["target"])
        lines.append(f"    at {target}: {node.get('html', '').strip()[:200]}")
        summary = (node.get("failureSummary") or "").strip().replace("\n", "\n      ")
        if summary:
            lines.append(f"      {summary}")
    if len(violation["nodes"]) > 10:
        lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def axe_check(page, label: str = "") -> None:
    """Run axe-core on the page; fail listing every WCAG violation and serious/critical best-practice one."""
    results = _AXE.run(page, options=_AXE_OPTIONS)
    blocking = [v for v in results.response["violations"] if _blocking(v)]
    if blocking:
        where = f"{label} " if label else ""
        report = "\n".join(_describe(v) for v in blocking)
        count = len(blocking)
        raise AssertionError(f"axe: {count} accessibility violation(s) on {where}{page.url}:\n{report}")


_WIDTHS_JS = """(device) => {
  const limit = Math.min(window.innerWidth, device || window.innerWidth);
  const classes = (e) => (typeof e.className === "string" ? e.className.trim().split(/\\s+/) : [])
    .filter(Boolean).map((c) => "." + c).join("");
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + classes(e);
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > limit + 1);
  return {scroll: document.documentElement.scrollWidth, limit, widest: wide.slice(0, 5).map(name)};
}"""


def assert_no_horizontal_scroll(page) -> None:
    """The page fits the device's width (QUALITY: usable at 360 px).

    Compared with the viewport the context was made with, not only `window.innerWidth`: a mobile
    browser widens its layout viewport to fit content that is too wide, which would hide the problem.
    """
    device = (page.viewport_size or {}).get("width")
    widths = page.evaluate(_WIDTHS_JS, device)
    assert widths["scroll"] <= widths["limit"], (
        f"{page.url} scrolls sideways: {widths['scroll']} px wide on a {widths['limit']} px wide screen;"
        f" too wide: {widths['widest']}"
    )


def check_page(page, label: str = "") -> None:
    """What every page seen in a browser test must pass: a language, no sideways scrolling, axe."""
    lang = page.evaluate("() => document.documentElement.lang")
    assert lang in ("lv", "en"), f"{page.url}: <html lang={lang!r}>"
    assert_no_horizontal_scroll(page)
    axe_check(page, label)


class Mailbox:
    """The messages that reached the loopback SMTP server (tests/smtp.py), parsed, oldest first."""

    def __init__(self, handler) -> None:
        self.handler = handler

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def clear(self) -> None:
        self.handler.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m.get("To", "")).lower()]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""
