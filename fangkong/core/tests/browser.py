"""What every browser test (tests/browser/) shares: Debian's Chromium, launched by Playwright
with a Content-Security-Policy listener, the signed-in session cookie, and a recorder of what
must not happen on any page (a request to another origin, a CSP violation, a console or page
error, a failed response).

No skip: a missing browser fails the test. No database work may happen inside `chromium(...)`:
Playwright's sync API runs an event loop in the test's thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
# Collects violations that Chromium might not log to the console (e.g. report-only cases).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@dataclass
class Recorder:
    origin: str
    foreign: list[str] = field(default_factory=list)  # requests to another origin
    violations: list[str] = field(default_factory=list)  # CSP
    errors: list[str] = field(default_factory=list)  # console, page and HTTP errors
    paths: list[str] = field(default_factory=list)  # every path requested

    def on_request(self, request: Request) -> None:
        url = request.url
        if url.startswith(("data:", "about:", "blob:")):
            return
        parts = urlsplit(url)
        self.paths.append(parts.path)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(url)

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.violations.append(text)
        elif message.type == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(text)  # failed loads are recorded with their URL in on_response

    def on_response(self, response: Response) -> None:
        # Browsers ask for /favicon.ico on their own; the application has none yet.
        if response.status >= 400 and urlsplit(response.url).path != "/favicon.ico":
            self.errors.append(f"{response.status} {response.url}")

    def collect_csp(self, page: Page, where: str = "") -> None:
        """Take the violations the page's listener saw (it starts afresh on each load)."""
        found = page.evaluate("window.__cspViolations") or []
        self.violations.extend(f"{where}: {v}" if where else v for v in found)

    @property
    def problems(self) -> list[str]:
        return self.violations + self.errors


def add_session(context: BrowserContext, base_url: str, session: str) -> None:
    """Sign the browser in with a session made by the `login` fixture."""
    host = urlsplit(base_url).hostname or "localhost"
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}]
    )


@contextmanager
def chromium(
    base_url: str, *, session: str | None = None, **context_options: Any
) -> Iterator[tuple[BrowserContext, Page, Recorder]]:
    """A fresh browser context (Chinese locale, CSP listener, recorder attached) and its page."""
    assert CHROMIUM.exists(), (
        "Debian's chromium is required for the browser tests: apt-get install -y chromium "
        "fonts-noto-cjk (.ci/run does this)"
    )
    recorder = Recorder(origin=base_url)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(locale="zh-CN", **context_options)
            context.add_init_script(CSP_LISTENER)
            if session is not None:
                add_session(context, base_url, session)
            context.on("request", recorder.on_request)
            context.on("response", recorder.on_response)
            page = context.new_page()
            page.on("console", recorder.on_console)
            page.on("pageerror", lambda exc: recorder.errors.append(str(exc)))
            yield context, page, recorder
        finally:
            browser.close()
