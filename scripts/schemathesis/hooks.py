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
def map_case(context, case):
    """Values only the server can supply or that depend on the clock, in cases meant to be valid:

    - `minPrice <= maxPrice`, `minOdds <= maxOdds` (a relation between two parameters).
    - Lists take an opaque `cursor` that only the server issues (`nextCursor` of a page): a made-up
      one is refused with 422 whatever its shape, so it is left out of positive queries (cursor
      validation has its own tests in backend/tests/api).
    - A listing's `expiresAt` must lie in the future and within `CODE_EXPIRY_HORIZON`: a fixed
      example time is moved into the next days.
    """
    if isinstance(case.query, dict) and not _negative_at(case, ParameterLocation.QUERY):
        case.query.pop("cursor", None)
        # `minPrice <= maxPrice` and `minOdds <= maxOdds` relate two parameters, which a schema
        # cannot say (the server answers 422 naming minPrice / minOdds).
        for low, high in (("minPrice", "maxPrice"), ("minOdds", "maxOdds")):
            a, b = _number(case.query.get(low)), _number(case.query.get(high))
            if a is not None and b is not None and a > b:
                case.query[low], case.query[high] = case.query[high], case.query[low]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("expiresAt"), str) and not _negative_at(case, ParameterLocation.BODY):
        at = _parse_time(body["expiresAt"])
        now = datetime.now(timezone.utc)
        if at is not None and at.tzinfo is not None and not (now + timedelta(minutes=10) < at < now + timedelta(days=6)):
            body["expiresAt"] = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    """An `Idempotency-Key` names one operation: a key reused with another body is refused (422,
    as the IETF Idempotency-Key draft says), so each valid request gets a fresh key (set here, on
    what is sent, in every phase)."""
    # Values fed from earlier responses (stateful phase) include masked numbers (`+256*******00`
    # in a payment's `phoneNumber`), which name no subscriber: a valid case gets a real one.
    for location, container in ((ParameterLocation.BODY, case.body), (ParameterLocation.QUERY, case.query)):
        if isinstance(container, dict) and "*" in str(container.get("phoneNumber", "")) and not _negative_at(case, location):
            container["phoneNumber"] = f"+25677{random.randrange(10_000_000):07d}"
    if _negative_at(case, ParameterLocation.HEADER):
        return
    for headers in (case.headers, kwargs.get("headers")):
        if hasattr(headers, "keys"):
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
