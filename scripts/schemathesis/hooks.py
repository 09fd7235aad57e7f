"""Schemathesis hooks for Oddxer (loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis/run.sh).

The document says what a value must look like; a few rules need data a JSON Schema cannot hold.
These strategies generate values the server accepts, so positive cases reach the routes' logic:

- `format: phone`: a number the phone-number library accepts (Ugandan mobile ranges; DESIGN.md
  section 5 also accepts national forms, which the schema cannot enumerate).
- `format: date-time` (only `expiresAt` of a listing takes one): a time between one hour and six
  days from now, inside `CODE_EXPIRY_HORIZON`; a past time is refused by a rule that depends on
  the clock.
"""

from datetime import datetime, timedelta, timezone

import random
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation
from hypothesis import strategies as st

# Named functions, not lambdas: Hypothesis describes lambdas by parsing their source, which fails
# inside this hook module ("AST constructor recursion depth mismatch").
def _ugandan_mobile(prefix, rest):
    return f"+256{prefix}{rest:07d}"


def _seconds_from_now(secs):
    return (datetime.now(timezone.utc) + timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%SZ")


schemathesis.openapi.format(
    "phone",
    st.builds(_ugandan_mobile, st.sampled_from(["70", "75", "77", "78"]), st.integers(min_value=0, max_value=9_999_999)),
)

schemathesis.openapi.format("date-time", st.integers(min_value=3_600, max_value=6 * 86_400).map(_seconds_from_now))


def _negative_at(case, location):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.is_negative_at(location)


def _number(raw):
    # A float value as it is: `int()` would truncate 6.1e-05 and 2.2e-311 both to 0 and hide
    # their order.
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    try:
        return int(raw)
    except (TypeError, ValueError):
        pass
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _parse_time(raw):
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


@schemathesis.hook
def before_call(context, case, kwargs):
    """Values only the server can supply, or that depend on the clock or on each other, in the
    parts of a case meant to be valid. Done here, on the case about to be sent, so every phase
    (coverage, fuzzing, stateful) gets it; schemathesis revalidates the edited case.

    - Lists take an opaque `cursor` that only the server issues (`nextCursor` of a page): a made-up
      one is refused with 422 whatever its shape, so it is left out (cursor validation has its own
      tests in backend/tests/api).
    - `minPrice <= maxPrice` and `minOdds <= maxOdds` relate two parameters, which a schema cannot
      say (the server answers 422 naming minPrice / minOdds): swapped into order.
    - A listing's `expiresAt` must lie in the future and within `CODE_EXPIRY_HORIZON`.
    - Values fed from earlier responses (stateful phase) include masked numbers (`+256*******00`
      in a payment's `phoneNumber`), which name no subscriber: replaced by a real one.
    - An `Idempotency-Key` names one operation: a key reused with another body is refused (422,
      as the IETF Idempotency-Key draft says), so each valid request gets a fresh key.
    """
    query = case.query
    if isinstance(query, dict) and not _negative_at(case, ParameterLocation.QUERY):
        query.pop("cursor", None)
        for low, high in (("minPrice", "maxPrice"), ("minOdds", "maxOdds")):
            a, b = _number(query.get(low)), _number(query.get(high))
            if a is not None and b is not None and a > b:
                query[low], query[high] = query[high], query[low]
        if "*" in str(query.get("phoneNumber", "")):
            query["phoneNumber"] = f"+25677{random.randrange(10_000_000):07d}"
    body = case.body
    if isinstance(body, dict) and not _negative_at(case, ParameterLocation.BODY):
        if isinstance(body.get("expiresAt"), str):
            at = _parse_time(body["expiresAt"])
            now = datetime.now(timezone.utc)
            if at is not None and at.tzinfo is not None and not (now + timedelta(minutes=10) < at < now + timedelta(days=6)):
                body["expiresAt"] = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if "*" in str(body.get("phoneNumber", "")):
            body["phoneNumber"] = f"+25677{random.randrange(10_000_000):07d}"
    headers = case.headers
    if hasattr(headers, "keys") and not _negative_at(case, ParameterLocation.HEADER):
        for name in list(headers.keys()):
            if name.lower() == "idempotency-key":
                headers[name] = uuid.uuid4().hex


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """`DELETE /codes/{id}` cancels a listing (DESIGN.md section 5): the code stays readable by its
    seller, buyers and admins with status CANCELLED, so a later `GET /codes/{id}` answering 200 is
    the design, not a use after free. Every other failure stands."""
    code = getattr(failure, "code", "")
    path = getattr(getattr(case, "operation", None), "path", "")
    return not (code == "ST301" and path.startswith("/codes/"))
