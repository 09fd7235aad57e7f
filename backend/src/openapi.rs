//! The OpenAPI 3 document, generated from the route annotations: each module's router registers a
//! handler and its documentation together (`utoipa_axum::routes!`), so the two cannot drift.
//!
//! The annotations describe what is particular to a route (its `data`, its conflicts). What every
//! route shares is added here, once, from what the route takes ([`wire_document`]): the success and
//! error envelopes of DESIGN.md section 5 around every body, the statuses the shared extractors
//! answer (a body: 400, 413, 422; a path id: 400 `INVALID_ID`; a query: 422; a bearer token: 401,
//! 403; the database: 503), `Retry-After` on 429 and 503, the bounds of `limit` and of path ids, and
//! the bounds that come from configuration (amounts, prices, bookmakers, OTP length). The result is
//! what `GET /openapi.json` serves and what schemathesis checks the server against.

use crate::config::Config;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Oddxer API", description = "Marketplace for betting codes. Every JSON answer uses the envelope of DESIGN.md section 5: `{success: true, data, message?}` or `{success: false, error: {code, message, details?}}`; the schemas below show it. Bad input answers 400 (malformed: `MALFORMED_JSON`, `INVALID_ID`), 415 `UNSUPPORTED_CONTENT_TYPE` (a JSON body not sent as `application/json`) or 422 `VALIDATION_ERROR` with `details.fields` naming each field; 429 and 503 carry `Retry-After`."),
    components(schemas(oddxer_shared::api::CodeSort, oddxer_shared::api::LeaderSort, crate::leaderboard::rules::Period, oddxer_shared::TransactionStatus, oddxer_shared::Sport)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "admin"), (name = "wallet"), (name = "purchases"), (name = "realtime"), (name = "ops"), (name = "development"), (name = "sellers"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Paths whose answers are not the JSON envelope (the document itself, Prometheus text, the
/// WebSocket upgrade).
const RAW_PATHS: &[&str] = &["/openapi.json", "/metrics", "/ws"];
/// Paths that answer without touching the database or the rate limiter (no 503).
const NO_BACKEND_PATHS: &[&str] = &["/openapi.json", "/metrics", "/codes/options"];
/// A string with no control character (Unicode Cc: U+0000-U+001F, U+007F-U+009F).
const NO_CONTROL_CHARACTERS: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// Path parameters that are ObjectIds (`crate::http::PathId`): 24 hex digits, or 400 `INVALID_ID`.
const ID_PARAMS: &[&str] = &["id", "sellerId"];
/// What `ObjectId::parse_str` accepts.
const OBJECT_ID_PATTERN: &str = "^[0-9a-fA-F]{24}$";

/// One character that is neither white space nor a control character (an end of a trimmed field).
const TRIMMED_CHAR: &str = r"[^\s\u0000-\u001f\u007f-\u009f]";
/// One character that is not a control character.
const PRINTABLE: &str = r"[^\u0000-\u001f\u007f-\u009f]";

/// The document `GET /openapi.json` serves: the annotated routes of `dev_routes` with the
/// envelopes, shared statuses and configured bounds filled in (see the module comment).
pub fn wire_document(doc: utoipa::openapi::OpenApi, config: &Config) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    finish_operation(path, op);
                }
            }
        }
    }
    finish_components(&mut doc, config);
    doc
}

fn error_response(description: &str, retry_after: bool) -> Value {
    let mut r = json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } }
    });
    if retry_after {
        r["headers"] = json!({ "Retry-After": {
            "description": "Seconds to wait before retrying",
            "required": true,
            "schema": { "type": "integer", "minimum": 1 }
        }});
    }
    r
}

fn envelope(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["success", "data"],
        "properties": {
            "success": { "type": "boolean", "const": true },
            "data": data,
            "message": { "type": "string" }
        },
        "additionalProperties": false
    })
}

fn finish_operation(path: &str, op: &mut Value) {
    let raw = RAW_PATHS.contains(&path);
    let params: Vec<(String, String)> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or("").to_owned(),
                        p["in"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let has_body = op.get("requestBody").is_some();
    // A body taken as raw bytes (provider callbacks, `{}`) is parsed by the route, which answers
    // 400 for one it cannot read: no 422 from the shared JSON extractor there.
    let raw_body = op
        .pointer("/requestBody/content/application~1json/schema")
        .is_some_and(|s| s == &json!({}));
    let has_path = params.iter().any(|(_, at)| at == "path");
    let has_query = params.iter().any(|(_, at)| at == "query");
    // A route that takes a token (not merely accepts one: `[{}, {bearer}]` means optional).
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            !reqs.is_empty()
                && reqs
                    .iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        });

    if let Some(ps) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in ps.iter_mut() {
            let name = p["name"].as_str().unwrap_or("").to_owned();
            match (p["in"].as_str(), name.as_str()) {
                (Some("path"), n) if ID_PARAMS.contains(&n) => {
                    p["schema"] = json!({ "type": "string", "pattern": OBJECT_ID_PATTERN });
                }
                (Some("query"), "seller" | "user") => {
                    p["schema"] = json!({ "type": "string", "pattern": OBJECT_ID_PATTERN });
                }
                (Some("query"), "minOdds" | "maxOdds") => {
                    // `codes::rules::odds_bound`: finite, 0 to 10^9, any precision.
                    p["schema"] = json!({ "type": "number", "format": "double", "minimum": 0, "maximum": 1e9 });
                }
                (Some("query"), "q") => {
                    // `codes::query`: at most 100 characters, no control characters (`http::Query`).
                    p["schema"] = json!({ "type": "string", "maxLength": oddxer_shared::search::MAX_QUERY_CHARS, "pattern": NO_CONTROL_CHARACTERS });
                }
                (Some("query"), "minWinRate") => {
                    p["schema"] = json!({ "type": "number", "format": "double", "minimum": 0, "maximum": 100 });
                }
                (Some("query"), "minYield") => {
                    p["schema"] = json!({ "type": "number", "format": "double", "minimum": -100, "maximum": 100000 });
                }
                (Some("query"), "cursor") => {
                    p["schema"] = json!({ "type": "string", "minLength": 1, "pattern": NO_CONTROL_CHARACTERS });
                }
                (Some("query"), "phoneNumber") => {
                    p["schema"] = json!({ "type": "string", "format": "phone", "maxLength": 40 });
                }
                // `auth::web_session`: the one transport besides the body, and a cookie value as
                // `auth::refresh` writes tokens (empty: a cleared cookie, the same as none).
                (Some("header"), "X-Session-Transport") => {
                    p["schema"] = json!({ "type": "string", "enum": ["cookie"] });
                }
                (Some("cookie"), "oddxer_refresh") => {
                    p["schema"] = json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{0,200}$" });
                }
                (Some("header"), "Idempotency-Key") => {
                    // `idempotency::key`: 1 to 255 visible ASCII characters.
                    p["schema"] = json!({ "type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$" });
                }
                (Some("query"), "limit") => {
                    p["schema"] = json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": 100, "default": 20 });
                }
                // `http::Query`: no query value may hold a control character (422).
                (Some("query"), _) => {
                    let schema = &mut p["schema"];
                    let string = schema.get("type").is_some_and(|t| {
                        t == "string"
                            || t.as_array()
                                .is_some_and(|a| a.iter().any(|x| x == "string"))
                    });
                    let free = ["pattern", "enum", "format", "$ref"]
                        .iter()
                        .all(|k| schema.get(*k).is_none());
                    if string && free {
                        schema["pattern"] = json!(NO_CONTROL_CHARACTERS);
                    }
                }
                _ => {}
            }
        }
    }

    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(r) = response.as_object_mut() else {
            continue;
        };
        if status.starts_with('2') && !raw {
            let data = r
                .get("content")
                .and_then(|c| c.get("application/json"))
                .and_then(|m| m.get("schema"))
                .cloned()
                .unwrap_or_else(|| json!({ "type": "null" }));
            r.insert(
                "content".into(),
                json!({ "application/json": { "schema": envelope(data) } }),
            );
        } else if status.starts_with('4') || status.starts_with('5') {
            r.insert("content".into(), json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } }));
            if status == "429" || status == "503" {
                let full = error_response("", true);
                r.insert("headers".into(), full["headers"].clone());
            }
        }
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description, status == "429" || status == "503"));
    };
    if has_body {
        add("400", "Malformed body: MALFORMED_JSON");
        add("413", "PAYLOAD_TOO_LARGE: the body is over 64 KiB");
        if !raw_body {
            add(
                "415",
                "UNSUPPORTED_CONTENT_TYPE: the body is not sent as application/json",
            );
            add(
                "422",
                "VALIDATION_ERROR: `details.fields` names each invalid or missing field",
            );
        }
    }
    if has_path {
        add(
            "400",
            "INVALID_ID: an id in the path is not 24 hex digits (`details.parameter` names it)",
        );
    }
    if has_query {
        add(
            "422",
            "VALIDATION_ERROR: `details.fields` names each invalid query parameter",
        );
    }
    // A route that merely accepts a token (`MaybeUser`) ignores a bad one: no 401 or 403 there.
    if secured {
        add(
            "401",
            "UNAUTHENTICATED: missing, invalid or expired bearer token",
        );
        add(
            "403",
            "FORBIDDEN: the account is deactivated, or its role may not do this",
        );
    }
    if !NO_BACKEND_PATHS.contains(&path) {
        add("503", "SERVICE_UNAVAILABLE: the database (or, on sign-in and money routes, the rate limiter: RATE_LIMITER_UNAVAILABLE) does not answer; retry after Retry-After seconds");
    }
}

/// Sets `key` of the object schema `schemas[name].properties[prop]`.
fn constrain(schemas: &mut Map<String, Value>, name: &str, prop: &str, key: &str, value: Value) {
    if let Some(p) = schemas
        .get_mut(name)
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut(prop))
    {
        // `Option<T>` fields are `{"type": [T, "null"]}` or `oneOf`; the bound applies to the value.
        if let Some(obj) = p.as_object_mut() {
            let nullable = obj
                .get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|t| t == "null"));
            let value = match value {
                // An optional field may also be sent as null.
                Value::Array(mut options) if key == "enum" && nullable => {
                    options.push(Value::Null);
                    Value::Array(options)
                }
                v => v,
            };
            obj.insert(key.into(), value);
        }
    }
}

fn finish_components(doc: &mut Value, config: &Config) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    schemas.insert(
        "ErrorEnvelope".into(),
        json!({
            "type": "object",
            "description": "The error envelope: `{success: false, error: {code, message, details?}}`.",
            "required": ["success", "error"],
            "properties": {
                "success": { "type": "boolean", "const": false },
                "error": { "$ref": "#/components/schemas/ErrorBody" }
            },
            "additionalProperties": false
        }),
    );
    schemas.insert(
        "ErrorBody".into(),
        json!({
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": { "type": "string", "pattern": "^[A-Z][A-Z0-9_]*$", "description": "SNAKE_CASE, e.g. VALIDATION_ERROR, INVALID_ID, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INSUFFICIENT_FUNDS, SOLD_OUT, RATE_LIMITED, SERVICE_UNAVAILABLE" },
                "message": { "type": "string" },
                "details": {
                    "type": "object",
                    "description": "VALIDATION_ERROR: `fields` (field name -> problem) and/or `reason`; INVALID_ID: `parameter`",
                    "properties": {
                        "fields": { "type": "object", "additionalProperties": { "type": "string" } },
                        "reason": { "type": "string" },
                        "parameter": { "type": "string" }
                    }
                }
            },
            "additionalProperties": false
        }),
    );
    // `admin::users::check_patch`: at least one of role and isActive, not null.
    if let Some(patch) = schemas.get_mut("UserPatch").and_then(Value::as_object_mut) {
        patch.insert("anyOf".into(), json!([
            { "required": ["role"], "properties": { "role": { "$ref": "#/components/schemas/Role" } } },
            { "required": ["isActive"], "properties": { "isActive": { "type": "boolean" } } }
        ]));
    }
    // `admin::users::check_patch`: a reason is 1 to 500 characters, not all blank.
    constrain(schemas, "UserPatch", "reason", "maxLength", json!(500));
    constrain(
        schemas,
        "UserPatch",
        "reason",
        "pattern",
        json!(
            r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        ),
    );
    // `admin::resolutions::check_reason`: the same rule for a resolution's reason.
    constrain(schemas, "ResolveIn", "reason", "maxLength", json!(500));
    constrain(
        schemas,
        "ResolveIn",
        "reason",
        "pattern",
        json!(
            r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        ),
    );
    let phone = json!("Phone number: E.164 (`+256700123456`) or national with DEFAULT_REGION (`0700 123 456`); stored as E.164");
    for name in ["RegisterIn", "LoginIn", "VerifyOtpIn", "PaymentIn"] {
        constrain(schemas, name, "phoneNumber", "format", json!("phone"));
        constrain(schemas, name, "phoneNumber", "description", phone.clone());
        constrain(schemas, name, "phoneNumber", "maxLength", json!(40));
    }
    if let Some(role) = schemas
        .get_mut("RegisterIn")
        .and_then(|s| s.pointer_mut("/properties/role"))
    {
        *role = json!({ "type": ["string", "null"], "enum": ["BUYER", "SELLER", null], "description": "BUYER (the default) or SELLER" });
    }
    constrain(
        schemas,
        "RegisterIn",
        "username",
        "pattern",
        json!("^[a-z0-9_]{3,20}$"),
    );
    constrain(
        schemas,
        "VerifyOtpIn",
        "otp",
        "pattern",
        json!(format!("^[0-9]{{{}}}$", config.otp_length)),
    );
    constrain(
        schemas,
        "PaymentIn",
        "amount",
        "minimum",
        json!(config.deposit_min),
    );
    constrain(
        schemas,
        "PaymentIn",
        "amount",
        "maximum",
        json!(config.deposit_max),
    );
    for name in ["CodeIn", "CodePatch"] {
        constrain(
            schemas,
            name,
            "price",
            "minimum",
            json!(config.code_price_min.max(1)),
        );
        constrain(
            schemas,
            name,
            "price",
            "maximum",
            json!(config.code_price_max),
        );
        constrain(schemas, name, "maxBuyers", "minimum", json!(1));
        constrain(
            schemas,
            name,
            "maxBuyers",
            "maximum",
            json!(config.code_max_buyers),
        );
        constrain(schemas, name, "bookmaker", "enum", json!(config.bookmakers));
        // Titles and codes are trimmed and may hold no control characters (`codes::rules`).
        constrain(
            schemas,
            name,
            "title",
            "pattern",
            json!(format!(
                "^{TRIMMED_CHAR}({PRINTABLE}{{3,118}}{TRIMMED_CHAR})$"
            )),
        );
        // A booking code: letters, digits and hyphens, as long as the widest bookmaker rule allows
        // (`codes::rules::check_code`; BOOKING_CODE_LENGTHS may narrow it per bookmaker).
        let (min, max) = config.booking_code_lengths.iter().map(|(_, r)| *r).fold(
            (
                crate::codes::rules::DEFAULT_BOOKING_CODE.min_chars,
                crate::codes::rules::DEFAULT_BOOKING_CODE.max_chars,
            ),
            |(lo, hi), r| (lo.min(r.min_chars), hi.max(r.max_chars)),
        );
        constrain(
            schemas,
            name,
            "code",
            "pattern",
            json!(format!("^[A-Za-z0-9-]{{{min},{max}}}$")),
        );
        constrain(
            schemas,
            name,
            "description",
            "pattern",
            json!(r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"),
        );
        constrain(
            schemas,
            name,
            "description",
            "maxLength",
            json!(crate::codes::rules::DESCRIPTION_MAX_CHARS),
        );
        constrain(
            schemas,
            name,
            "odds",
            "minimum",
            json!(crate::codes::rules::MIN_ODDS as f64 / 100.0),
        );
        constrain(
            schemas,
            name,
            "odds",
            "maximum",
            json!(crate::codes::rules::MAX_ODDS as f64 / 100.0),
        );
        constrain(schemas, name, "odds", "multipleOf", json!(0.01));
        constrain(schemas, name, "expiresAt", "format", json!("date-time"));
    }
}
