"""Helpers shared by the end-to-end tests of the desktop app (desktop_test.py) and of the web app
(web_test.py): the backend's dev routes a human tester would use, waits, identities, ports."""

import json
import os
import random
import re
import socket
import string
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

# Generous: a debug build under Xvfb on 2 cores, plus the WebSocket sync after each change.
UI_TIMEOUT = 30
SMS_TIMEOUT = 20
# The backend's OTP_RESEND_INTERVAL, in seconds (its default unless told otherwise).
OTP_RESEND_SECS = float(os.environ.get("ODDXER_E2E_OTP_RESEND_SECS", "30"))


def until(driver, condition, message, timeout=UI_TIMEOUT):
    """WebDriverWait that retries when Dioxus replaced an element between finding and reading it."""
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
        condition, message=message
    )


def log(msg):
    print(f"    {msg}", flush=True)


# Backend (only the dev routes a human tester would use: read the SMS, approve the payment)


class Backend:
    def __init__(self, base):
        self.base = base + "/api/v1"

    def _request(self, method, path, body=None, token=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path} -> {e.code}: {e.read()[:500]!r}") from e

    def otp_for(self, phone, other_than=None):
        """The newest SMS to `phone` holds the OTP as its only 6-digit run. `other_than` skips
        an OTP already used, to wait for the next SMS."""
        deadline = time.time() + SMS_TIMEOUT
        query = urllib.parse.urlencode({"phoneNumber": phone})
        while time.time() < deadline:
            messages = self._request("GET", f"/dev/sms?{query}")["data"]
            for sms in messages[:1]:
                runs = re.findall(r"(?<!\d)\d{6}(?!\d)", sms["body"])
                if len(runs) == 1 and runs[0] != other_than:
                    return runs[0]
            time.sleep(0.3)
        raise AssertionError(f"no OTP SMS for {phone} within {SMS_TIMEOUT}s")

    def complete_payment(self, reference):
        ref = urllib.parse.quote(reference, safe="")
        return self._request("POST", f"/dev/payments/{ref}/complete")["data"]

    def fail_payment(self, reference):
        """The sandbox provider reports the payment declined (the person refused the prompt)."""
        ref = urllib.parse.quote(reference, safe="")
        return self._request("POST", f"/dev/payments/{ref}/fail")["data"]

    def purchase(self, token, code_id):
        key = "e2e-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=16))
        return self._request("POST", f"/codes/{code_id}/purchase", {}, token=token, headers={"Idempotency-Key": key})["data"]

    def register(self, phone, username, role):
        """Registers and verifies through the API, as another device would; answers
        `{accessToken, refreshToken, user}`."""
        self._request("POST", "/auth/register", {"phoneNumber": phone, "username": username, "role": role})
        otp = self.otp_for(phone)
        return self._request("POST", "/auth/verify-otp", {"phoneNumber": phone, "otp": otp})["data"]

    def create_code(self, token, title, expires_in_secs):
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in_secs))
        body = {"sport": "TENNIS", "title": title, "description": "", "odds": 2.1, "bookmaker": "Betway",
                "price": 1000, "code": "API-" + title[-5:], "expiresAt": expires, "maxBuyers": 1}
        return self._request("POST", "/codes", body, token=token)["data"]

    def list_code(self, token, title, secret, odds, expires_in_secs, sport="TENNIS"):
        """A listing through the API, as the seller's other device would; answers the code."""
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in_secs))
        body = {"sport": sport, "title": title, "description": "", "odds": odds, "bookmaker": "Betway",
                "price": 1000, "code": secret, "expiresAt": expires, "maxBuyers": 3}
        return self._request("POST", "/codes", body, token=token)["data"]

    def sign_in(self, phone):
        """Signs an existing account in through the API; answers `{accessToken, refreshToken, user}`."""
        self._request("POST", "/auth/login", {"phoneNumber": phone})
        otp = self.otp_for(phone)
        return self._request("POST", "/auth/verify-otp", {"phoneNumber": phone, "otp": otp})["data"]

    def resolve(self, admin_token, code_id, outcome):
        return self._request("POST", f"/admin/codes/{code_id}/resolve", {"outcome": outcome}, token=admin_token)["data"]

    def get(self, path):
        return self._request("GET", path)["data"]

    def fund(self, token, phone, amount):
        """A mobile-money deposit approved at once through the sandbox provider."""
        key = "e2e-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=16))
        body = {"amount": amount, "paymentMethod": "MTN_MOMO", "phoneNumber": phone}
        tx = self._request("POST", "/wallet/deposits", body, token=token, headers={"Idempotency-Key": key})["data"]
        completed = self.complete_payment(tx["reference"])
        assert completed["status"] == "COMPLETED", completed
        return tx["reference"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_identity():
    # +25670 and 7 more digits: a valid Ugandan mobile number (70x range) no other run uses.
    phone = "+25670" + "".join(random.choices(string.digits, k=7))
    username = "e2e_" + "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
    return phone, username
