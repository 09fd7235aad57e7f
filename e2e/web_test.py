"""End-to-end test of the Oddxer web app in a real headless Chromium (Debian's `chromium` and
`chromedriver`, driven over WebDriver with selenium), against a real backend serving the built UI.

Started by e2e/web_run.sh, which provides the environment:
  ODDXER_WEB_URL        a running backend with dev routes that serves the web app at `/`
  ODDXER_E2E_ARTIFACTS  screenshots (web-*.png) and browser logs go here
  ODDXER_CHROMEDRIVER   chromedriver (default: `chromedriver` on PATH)
  ODDXER_CHROMIUM       the browser binary (default: chromedriver's own choice)

The browser reaches the backend through a TCP relay in this process, so "the network goes away" is
real for the page (connections refused, open ones cut) while the backend keeps running, and "it is
back" is the relay listening again on the same port.

Prints one line per test and ends with `web: N passed, M failed`; exits non-zero on failure.
ODDXER_E2E_ONLY=<part of a test name> runs only the matching tests.
"""

import json
import os
import random
import socket
import string
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from common import UI_TIMEOUT, Backend, fresh_identity, log, until

WEB_URL = os.environ["ODDXER_WEB_URL"].rstrip("/")
ARTIFACTS = os.environ["ODDXER_E2E_ARTIFACTS"]
CHROMEDRIVER = os.environ.get("ODDXER_CHROMEDRIVER", "chromedriver")
CHROMIUM = os.environ.get("ODDXER_CHROMIUM", "")
DESKTOP = (1280, 800)
PHONE = (390, 844)


# --------------------------------------------------------------------------------------------
# The network between the browser and the backend


class Relay:
    """A TCP relay 127.0.0.1:<port> -> the backend. `cut()` closes the listening socket and every
    open connection (the page sees refused connections and a dropped WebSocket); `restore()` listens
    again on the same port."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = 0
        self.server = None
        self.conns = []
        self.lock = threading.Lock()

    def restore(self):
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self.port = server.getsockname()[1]
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self):
        server, self.server = self.server, None
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            server.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.server is not server:
                    client.close()
                    upstream.close()
                    return
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


# --------------------------------------------------------------------------------------------
# The browser


class Browser:
    """One headless Chromium with a fresh profile, on the web app through the relay."""

    def __init__(self, name, base_url):
        self.name = name
        self.base_url = base_url
        self.shots = 0
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--no-first-run", "--disable-extensions"):
            options.add_argument(arg)
        if CHROMIUM:
            options.binary_location = CHROMIUM
        # Console messages (CSP violations among them) are read back after each test.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=CHROMEDRIVER, log_output=os.path.join(ARTIFACTS, f"web-{name}-chromedriver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_script_timeout(UI_TIMEOUT)
        self.console = []

    def open(self, path="/"):
        self.driver.get(self.base_url + path)

    def wait_started(self, timeout=60):
        """The wasm UI ran: Dioxus mounted something into #main (the page alone has it empty)."""
        until(self.driver, lambda d: d.execute_script("const m = document.getElementById('main'); return !!m && m.children.length > 0"),
              "the app never started (is the wasm bundle served?)", timeout)

    def el(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def wait_for(self, element_id, timeout=UI_TIMEOUT):
        def shown(d):
            return next((e for e in d.find_elements(By.ID, element_id) if e.is_displayed()), False)

        return until(self.driver, shown, f"#{element_id} did not show up", timeout)

    def wait_any(self, *element_ids, timeout=UI_TIMEOUT):
        def first(d):
            return next((i for i in element_ids if any(e.is_displayed() for e in d.find_elements(By.ID, i))), False)

        return until(self.driver, first, f"none of {element_ids} showed up", timeout)

    def wait_text(self, element_id, predicate, what, timeout=UI_TIMEOUT, rendered=True):
        last = [None]

        def check(d):
            found = d.find_elements(By.ID, element_id)
            last[0] = (found[0].text if rendered else found[0].get_attribute("textContent")) if found else None
            return last[0] is not None and predicate(last[0])

        try:
            until(self.driver, check, f"#{element_id} never {what}", timeout)
        except Exception as e:
            raise AssertionError(f"#{element_id} never {what} (last text: {last[0]!r})") from e
        return last[0]

    def wait_enabled(self, element_id, timeout=UI_TIMEOUT):
        until(self.driver, lambda d: self.el(element_id).is_enabled(), f"#{element_id} stayed disabled", timeout)

    def type(self, element_id, text):
        self.wait_for(element_id)
        self.wait_enabled(element_id)
        field = self.el(element_id)
        field.clear()
        field.send_keys(text)

    def click(self, element_id):
        self.wait_for(element_id)
        self.wait_enabled(element_id)
        self.el(element_id).click()

    def go(self, section):
        self.click(f"nav-{section}")
        until(
            self.driver,
            lambda d: "active" in (self.el(f"nav-{section}").get_attribute("class") or ""),
            f"nav-{section} did not become the current screen",
        )

    def wait_idle(self, timeout=UI_TIMEOUT):
        until(self.driver, lambda d: not d.find_elements(By.ID, "progress"), "a command never finished", timeout)

    def error_text(self):
        banners = self.driver.find_elements(By.ID, "error-banner")
        return banners[0].text if banners else None

    def size(self, width_height):
        """Desktop or phone: the phone as Chromium's device emulation shows it (a mobile viewport
        that honours the page's `viewport` meta, touch, DPR 3), the desktop as a plain window."""
        width, height = width_height
        if width_height == PHONE:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                        {"width": width, "height": height, "deviceScaleFactor": 3, "mobile": True})
        else:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.driver.set_window_size(width, height)
        until(self.driver, lambda d: abs(d.execute_script("return window.innerWidth") - width) <= 20,
              f"the viewport did not become {width} px wide")

    def shot(self, label):
        time.sleep(0.3)  # let the last DOM change paint
        self.shots += 1
        path = os.path.join(ARTIFACTS, f"web-{self.name}-{self.shots:02d}-{label}.png")
        self.driver.get_screenshot_as_file(path)
        log(f"screenshot {path}")
        return path

    def shots_at_both_widths(self, label):
        self.size(PHONE)
        self.shot(f"{label}-phone")
        self.size(DESKTOP)
        self.shot(f"{label}-desktop")

    def collect_console(self):
        try:
            self.console += self.driver.get_log("browser")
        except WebDriverException:
            pass
        return self.console

    def csp_violations(self):
        return [m["message"] for m in self.collect_console() if "Content Security Policy" in m.get("message", "")]

    def close(self):
        try:
            self.collect_console()
            with open(os.path.join(ARTIFACTS, f"web-{self.name}-console.log"), "w") as f:
                for m in self.console:
                    f.write(f"{m.get('level')} {m.get('message')}\n")
        finally:
            try:
                self.driver.quit()
            except WebDriverException:
                pass


def run_browser(name, base_url, body):
    browser = Browser(name, base_url)
    try:
        return body(browser)
    except Exception:
        try:
            browser.shot("failure")
            log(f"page text at failure: {browser.driver.find_element(By.TAG_NAME, 'body').text[:1500]!r}")
        except Exception as e:  # the browser may be gone; the original failure matters more
            log(f"(could not capture the failure state: {e})")
        raise
    finally:
        browser.close()


# --------------------------------------------------------------------------------------------
# Tests


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers, r.read()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_is_valid_and_the_service_worker_controls_the_page_after_a_reload(backend, relay):
    base = f"http://127.0.0.1:{relay.port}"
    status, headers, body = fetch(base + "/manifest.webmanifest")
    assert status == 200 and "manifest+json" in headers.get("Content-Type", ""), headers
    manifest = json.loads(body)
    for key, want in (("name", "Oddxer"), ("short_name", "Oddxer"), ("start_url", "/"), ("display", "standalone")):
        assert manifest.get(key) == want, f"manifest {key}: {manifest.get(key)!r}"
    assert manifest.get("theme_color", "").startswith("#"), manifest
    sizes = set()
    for icon in manifest["icons"]:
        status, headers, data = fetch(urllib.parse.urljoin(base + "/manifest.webmanifest", icon["src"]))
        assert status == 200 and headers.get("Content-Type") == "image/png", (icon, headers)
        w, h = png_size(data)
        assert icon["sizes"] == f"{w}x{h}", f"{icon['src']} is {w}x{h}, declared {icon['sizes']}"
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes, f"Android needs 192 and 512 px icons: {sizes}"
    log(f"manifest ok: icons {sorted(sizes)}")

    def body_(b):
        b.open("/")
        b.wait_started()
        # What Chromium itself makes of the manifest: parsed without errors.
        parsed = b.driver.execute_cdp_cmd("Page.getAppManifest", {})
        assert not parsed.get("errors"), f"Chromium found manifest errors: {parsed['errors']}"
        try:
            installability = b.driver.execute_cdp_cmd("Page.getInstallabilityErrors", {})
            log(f"installability errors as Chromium sees them: {installability.get('installabilityErrors')}")
        except WebDriverException as e:
            log(f"(Page.getInstallabilityErrors not available: {e.msg})")
        scope = b.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.serviceWorker.ready.then(r => done(r.scope), e => done('error: ' + e));"
        )
        assert scope == base + "/", f"service worker scope: {scope!r}"
        b.driver.refresh()
        b.wait_started()
        controller = b.driver.execute_script(
            "return navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL")
        assert controller == base + "/sw.js", f"the page is not controlled by the service worker: {controller!r}"
        cached = b.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "(async () => { const names = (await caches.keys()).filter(k => k.startsWith('oddxer-shell-'));"
            "  if (names.length !== 1) return done({names});"
            "  const keys = (await (await caches.open(names[0])).keys()).map(r => new URL(r.url).pathname);"
            "  done({names, keys}); })().catch(e => done({error: String(e)}));"
        )
        keys = cached.get("keys") or []
        assert "/index.html" in keys and any(k.endswith(".wasm") for k in keys), f"app shell not cached: {cached}"
        log(f"service worker controls the page; cache {cached['names'][0]} holds {len(keys)} files")
        violations = b.csp_violations()
        assert not violations, f"CSP violations: {violations}"
        b.wait_any("phone-input", "nav")
        b.shots_at_both_widths("start")

    run_browser("pwa", base, body_)


def sign_up_in_the_browser(b, backend, phone, username):
    """A newcomer registers on the web app as a bettor; the OTP comes from the SMS outbox."""
    b.wait_for("phone-input", timeout=60)
    b.click("show-register")
    b.type("phone-input", phone)
    b.type("username-input", username)
    b.click("role-buyer")
    b.click("send-otp")
    b.wait_for("otp-input")
    otp = backend.otp_for(phone)
    log(f"registered {phone} as {username}; OTP from the SMS outbox")
    b.type("otp-input", otp)
    b.click("verify-otp")
    b.wait_for("nav")
    b.wait_text("connection-state", lambda t: t.strip() == "Online", "became Online")


def deposit_in_the_browser(b, backend, amount_text, expected_balance):
    b.go("wallet")
    b.wait_for("wallet-balance")
    b.type("deposit-amount", amount_text)
    b.click("method-mtn")
    b.click("deposit-submit")
    reference_el = until(
        b.driver,
        lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, "#pending-deposits .deposit-reference")), False),
        f"no pending deposit shown (error banner: {b.error_text()!r})",
    )
    reference = reference_el.text.strip()
    b.wait_idle()
    log(f"deposit pending, reference {reference}; approving it at the sandbox provider")
    completed = backend.complete_payment(reference)
    assert completed["status"] == "COMPLETED", completed
    b.wait_text("wallet-balance", lambda t: t == expected_balance, f"showed {expected_balance}")


def open_card(b, code_id):
    """Finds a TENNIS code's card on the marketplace (the sport filter narrows the demo data) and
    answers its title, the place to click to open the code."""
    b.go("marketplace")
    if b.driver.find_elements(By.ID, "sport-tennis"):
        b.click("sport-tennis")
    card = b.wait_for(f"code-card-{code_id}")
    # The card's title, not its middle: the middle holds the tipster's name, which opens the
    # tipster's profile instead.
    return card.find_element(By.CSS_SELECTOR, ".code-title")


def buy_in_the_browser(b, code_id, title, secret):
    card = open_card(b, code_id)
    assert title in card.get_attribute("textContent") and secret not in card.get_attribute("textContent")
    card.click()
    b.wait_text("detail-title", lambda t: t == title, "showed the code")
    b.click("buy-button")
    b.wait_for("confirm-dialog")
    b.click("confirm-buy")
    b.wait_any("revealed-code", "purchase-error")
    assert not b.driver.find_elements(By.ID, "purchase-error"), b.el("purchase-error").text
    b.wait_text("revealed-code", lambda t: t == secret, "revealed the secret code")
    b.wait_idle()



def kept_boards(b):
    """The leaderboard queries the web core kept in IndexedDB (its `market` document)."""
    return b.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open("oddxer");
        open.onsuccess = () => {
            const get = open.result.transaction("documents").objectStore("documents").get("market");
            get.onsuccess = () => {
                try {
                    const d = typeof get.result === "string" ? JSON.parse(get.result) : get.result;
                    done({keys: Object.keys(d || {}), boards: ((d || {}).boards || []).map(b => b[0])});
                } catch (e) { done("unreadable: " + e); }
            };
            get.onerror = () => done("get failed");
        };
        open.onerror = () => done("open failed");
    """)

def test_a_newcomer_signs_in_deposits_buys_and_reads_the_code_offline(backend, relay):
    base = f"http://127.0.0.1:{relay.port}"
    seller_phone, seller_name = fresh_identity()
    phone, username = fresh_identity()
    tag = "".join(random.choices(string.ascii_uppercase, k=5))
    secret = "WEB-" + "".join(random.choices(string.ascii_uppercase + string.digits, k=8))
    # A tipster lists two codes from elsewhere (their desktop): one to buy, one to find offline.
    seller = backend.register(seller_phone, seller_name, "SELLER")["accessToken"]
    bought = backend.list_code(seller, f"Web acca {tag}", secret, 2.5, 2 * 86400)
    other = backend.list_code(seller, f"Web double {tag}", "WEB-OTHER-" + tag, 1.8, 2 * 86400)
    log(f"tipster {seller_name} listed {bought['id']} and {other['id']}")

    def body(b):
        b.open("/")
        sign_up_in_the_browser(b, backend, phone, username)
        deposit_in_the_browser(b, backend, "5000", "UGX 5,000")
        b.shots_at_both_widths("wallet")
        buy_in_the_browser(b, bought["id"], bought["title"], secret)
        b.shots_at_both_widths("revealed")
        b.go("my-codes")
        b.wait_text(f"purchase-code-{bought['id']}", lambda t: t == secret, "listed the code in My codes")
        open_card(b, other["id"])
        b.shots_at_both_widths("marketplace")
        # The leaderboard read online is kept for reading offline too.
        b.go("leaderboard")
        b.wait_any("leaderboard-table", "leaderboard-empty")
        b.wait_idle()
        until(b.driver, lambda d: (kept_boards(b) or {}).get("boards"), "the leaderboard page was not kept on the device")

        # The network goes away: the page notices, and a reload starts from the service worker.
        relay.cut()
        log("network cut")
        b.wait_text("connection-state", lambda t: t.strip() == "Offline", "became Offline", timeout=60)
        b.driver.refresh()
        b.wait_for("nav", timeout=60)
        b.wait_text("connection-state", lambda t: t.strip() == "Offline", "started Offline", timeout=60)
        b.go("my-codes")
        b.wait_for("offline-notice")
        b.wait_text(f"purchase-code-{bought['id']}", lambda t: t == secret, "showed the bought code offline")
        b.shots_at_both_widths("my-codes-offline")
        b.go("leaderboard")
        b.wait_for("leaderboard-offline")
        b.wait_any("leaderboard-table", "leaderboard-empty")
        assert not b.driver.find_elements(By.ID, "leaderboard-error"), b.el("leaderboard-error").text
        b.shots_at_both_widths("leaderboard-offline")
        # Buying needs the server: the app says so instead of trying.
        open_card(b, other["id"]).click()
        b.wait_for("buy-button")
        assert not b.el("buy-button").is_enabled(), "buying is offered offline"
        b.wait_text("buy-button", lambda t: "needs a connection" in t, "said buying needs a connection")
        b.shots_at_both_widths("buy-offline")

        # Back online: it reconnects by itself, no reload.
        relay.restore()
        log("network back")
        b.wait_text("connection-state", lambda t: t.strip() == "Online", "reconnected by itself", timeout=90)
        b.wait_enabled("buy-button", timeout=60)
        violations = b.csp_violations()
        assert not violations, f"CSP violations: {violations}"
        b.shot("back-online-desktop")

    run_browser("flow", base, body)


TESTS = [
    test_the_manifest_is_valid_and_the_service_worker_controls_the_page_after_a_reload,
    test_a_newcomer_signs_in_deposits_buys_and_reads_the_code_offline,
]


def main():
    parsed = urllib.parse.urlparse(WEB_URL)
    backend = Backend(WEB_URL)
    only = os.environ.get("ODDXER_E2E_ONLY", "")
    passed = failed = 0
    for test in (t for t in TESTS if only in t.__name__):
        name = test.__name__.removeprefix("test_").replace("_", " ")
        # Each test gets its own relay port, i.e. its own origin: no service worker or storage
        # carries over from one test to the next.
        relay = Relay(parsed.hostname, parsed.port or 80)
        relay.restore()
        started = time.time()
        print(f"web: {name} ...", flush=True)
        try:
            test(backend, relay)
        except Exception:
            failed += 1
            traceback.print_exc()
            print(f"web: FAIL {name} ({time.time() - started:.1f}s)", flush=True)
        else:
            passed += 1
            print(f"web: ok   {name} ({time.time() - started:.1f}s)", flush=True)
        finally:
            relay.cut()
    print(f"web: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
