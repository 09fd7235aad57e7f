"""Prints an access token for a phone number through the development sign-in flow.

    python3 signin.py http://127.0.0.1:6794 +256700000003

POST /auth/login sends an OTP to the development SMS outbox (SMS_PROVIDER=outbox), GET /dev/sms
reads it, POST /auth/verify-otp exchanges it for tokens. Standard library only.
"""

import json
import re
import sys
import urllib.parse
import urllib.request


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["data"]


def main():
    base, phone = sys.argv[1].rstrip("/"), sys.argv[2]
    call(base, "POST", "/auth/login", {"phoneNumber": phone})
    messages = call(base, "GET", "/dev/sms?" + urllib.parse.urlencode({"phoneNumber": phone}))
    otp = re.search(r"\b(\d{4,10})\b", messages[0]["body"]).group(1)
    print(call(base, "POST", "/auth/verify-otp", {"phoneNumber": phone, "otp": otp})["accessToken"])


if __name__ == "__main__":
    main()
