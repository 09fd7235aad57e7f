//! The native core, reached from the Tauri webview: Tauri's global `invoke` and `listen` (enabled
//! by `app.withGlobalTauri`). Values cross as JSON so both sides use the same serde definitions
//! from `oddxer-shared`, exactly as the Rust side of Tauri serialises them.

use futures_channel::mpsc::UnboundedSender;
use js_sys::{Reflect, JSON};
use oddxer_shared::client::{AppSnapshot, CommandError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Event the bridge emits whenever the local cache changed.
pub const CHANGED_EVENT: &str = "oddxer://changed";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
}

/// Tauri maps a command's single `input` argument by name.
#[derive(Serialize)]
pub struct Input<'a, T> {
    pub input: &'a T,
}

/// The arguments of a command without input.
#[derive(Serialize)]
pub struct NoArgs {}

/// True when the page runs inside a Tauri shell (its global API is injected before any script).
pub fn present() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__TAURI__"))
        .is_ok_and(|v| !v.is_undefined() && !v.is_null())
}

fn client_error(code: &str, message: impl Into<String>) -> CommandError {
    CommandError::new(code, message)
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, CommandError> {
    let text = serde_json::to_string(value)
        .map_err(|e| client_error("IPC", format!("could not encode the request: {e}")))?;
    JSON::parse(&text).map_err(|_| client_error("IPC", "could not encode the request"))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, CommandError> {
    // `undefined` is what a command returning `()` resolves to; JSON has no such value.
    let text = if value.is_undefined() {
        "null".to_owned()
    } else {
        JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "null".to_owned())
    };
    serde_json::from_str(&text)
        .map_err(|e| client_error("IPC", format!("unexpected answer from the app core: {e}")))
}

/// A rejected `invoke` carries our serialised `CommandError`, a plain string from Tauri itself
/// (unknown command, bad arguments) or a JS exception when there is no Tauri around at all.
fn rejection_to_error(value: JsValue) -> CommandError {
    if let Some(text) = value.as_string() {
        return client_error("IPC", text);
    }
    if let Ok(err) = from_js::<CommandError>(value.clone()) {
        return err;
    }
    if value.is_instance_of::<js_sys::Error>() {
        return client_error(
            "NO_SHELL",
            "Oddxer's app core is not reachable. Open Oddxer from the installed app.",
        );
    }
    client_error("IPC", "the app core answered with an unknown error")
}

/// Invokes native command `cmd` with `args` (`Input` or `NoArgs`).
pub async fn call<A: Serialize, R: DeserializeOwned>(
    cmd: &str,
    args: &A,
) -> Result<R, CommandError> {
    let args = to_js(args)?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => from_js(value),
        Err(rejection) => Err(rejection_to_error(rejection)),
    }
}

/// Forwards every `oddxer://changed` snapshot into `tx`. The JS callback only enqueues, so
/// signals are written from a Dioxus task and never from outside the Dioxus runtime.
pub async fn listen_changes(tx: UnboundedSender<AppSnapshot>) -> Result<(), CommandError> {
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload = Reflect::get(&event, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        match from_js::<AppSnapshot>(payload) {
            Ok(snapshot) => {
                // A closed channel means the UI is gone; nothing left to update.
                let _ = tx.unbounded_send(snapshot);
            }
            Err(e) => console_warn(&format!(
                "ignored a malformed {CHANGED_EVENT} event: {}",
                e.message
            )),
        }
    });
    tauri_listen(CHANGED_EVENT, &handler)
        .await
        .map_err(rejection_to_error)?;
    // The listener lives as long as the page, so its closure is deliberately never freed.
    handler.forget();
    Ok(())
}
