//! The few browser facilities the screens use besides Tauri IPC: the clock, timers, scrolling
//! and the clipboard. Plain JS globals, bound without web-sys.

use js_sys::{Date, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;

    #[wasm_bindgen(js_name = scrollTo)]
    fn scroll_to(x: f64, y: f64);

    #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText, catch)]
    async fn clipboard_write_text(text: &str) -> Result<JsValue, JsValue>;
}

/// Milliseconds since the epoch, by the viewer's clock.
pub fn now_ms() -> f64 {
    Date::now()
}

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms);
    });
    // A timer promise never rejects.
    let _ = JsFuture::from(promise).await;
}

pub fn scroll_to_top() {
    scroll_to(0.0, 0.0);
}

/// An RFC 3339 time as milliseconds since the epoch; `None` for text that is not a time.
pub fn time_ms(rfc3339: &str) -> Option<f64> {
    let t = Date::new(&JsValue::from_str(rfc3339)).get_time();
    (!t.is_nan()).then_some(t)
}

/// A `datetime-local` value (`2026-05-01T18:00`, the viewer's time zone) as an RFC 3339 UTC
/// time (`2026-05-01T15:00:00Z`) plus its epoch milliseconds.
pub fn local_input_to_utc(value: &str) -> Option<(String, f64)> {
    let value = value.trim();
    // Only the `datetime-local` shape: a bare date would be read as UTC midnight, not local.
    if value.len() < 16 || value.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let date = Date::new(&JsValue::from_str(value));
    let ms = date.get_time();
    if ms.is_nan() {
        return None;
    }
    let iso: String = date.to_iso_string().into();
    // `2026-05-01T15:00:00.000Z` -> `2026-05-01T15:00:00Z`.
    let iso = match iso.split_once('.') {
        Some((whole, _)) => format!("{whole}Z"),
        None => iso,
    };
    Some((iso, ms))
}

/// Epoch milliseconds as a `datetime-local` value in the viewer's time zone.
pub fn to_local_input(ms: f64) -> String {
    let d = Date::new(&JsValue::from_f64(ms));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// Copies `text`; if the clipboard API is refused, selects the `input` with id `fallback_id`
/// and asks the page to copy the selection. Answers whether either worked.
pub async fn copy_text(text: &str, fallback_id: &str) -> bool {
    if clipboard_write_text(text).await.is_ok() {
        return true;
    }
    select_and_copy(fallback_id).unwrap_or(false)
}

fn method(target: &JsValue, name: &str) -> Result<Function, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))?.dyn_into::<Function>()
}

fn select_and_copy(element_id: &str) -> Result<bool, JsValue> {
    let document = Reflect::get(&js_sys::global(), &JsValue::from_str("document"))?;
    let element =
        method(&document, "getElementById")?.call1(&document, &JsValue::from_str(element_id))?;
    if element.is_null() || element.is_undefined() {
        return Ok(false);
    }
    method(&element, "select")?.call0(&element)?;
    let copied = method(&document, "execCommand")?.call1(&document, &JsValue::from_str("copy"))?;
    Ok(copied.as_bool().unwrap_or(false))
}
