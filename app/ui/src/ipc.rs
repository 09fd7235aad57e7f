//! The only way out of the webview: Tauri's global `invoke` and `listen` (enabled by
//! `app.withGlobalTauri`). Values cross as JSON so both sides use the same serde definitions
//! from `oddxer-shared`, exactly as the Rust side of Tauri serialises them.

use futures_channel::mpsc::UnboundedSender;
use js_sys::{Reflect, JSON};
use oddxer_shared::api::{
    CodeIn, CodeOptionsOut, CodeOut, FollowOut, LeaderboardEntryOut, LoginIn, Page, PaymentIn,
    PurchaseOut, PurchaseResultOut, ReconcileReport, RegisterIn, ResolutionOut, SalesSummaryOut,
    SellerProfileOut, TransactionOut, UserOut, VerifyOtpIn,
};
use oddxer_shared::api::{AdminUserOut, PaymentOut};
use oddxer_shared::client::{AdminPaymentsIn, UpdateCodeIn, UserIdIn, WalletPaymentsOut};
use oddxer_shared::client::{
    AdminResolveIn, AdminUpdateUserIn, AdminUsersIn, AppSnapshot, BrowseIn, BrowseOut, CastVoteIn,
    CodeIdIn, CommandError, CursorIn, FollowIn, LeaderboardIn, SellerIdIn, SellerProfileView,
    SellerRecordIn, VoteResultOut,
};
use oddxer_shared::Role;
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
struct Input<'a, T> {
    input: &'a T,
}

#[derive(Serialize)]
struct NoArgs {}

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

async fn call<A: Serialize, R: DeserializeOwned>(cmd: &str, args: &A) -> Result<R, CommandError> {
    let args = to_js(args)?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => from_js(value),
        Err(rejection) => Err(rejection_to_error(rejection)),
    }
}

pub async fn resume() -> Result<Option<UserOut>, CommandError> {
    call("resume", &NoArgs {}).await
}

pub async fn snapshot() -> Result<AppSnapshot, CommandError> {
    call("snapshot", &NoArgs {}).await
}

pub async fn preferred_role() -> Result<Role, CommandError> {
    call("preferred_role", &NoArgs {}).await
}

pub async fn register(input: &RegisterIn) -> Result<(), CommandError> {
    call("register", &Input { input }).await
}

pub async fn request_login_otp(input: &LoginIn) -> Result<(), CommandError> {
    call("request_login_otp", &Input { input }).await
}

pub async fn verify_otp(input: &VerifyOtpIn) -> Result<UserOut, CommandError> {
    call("verify_otp", &Input { input }).await
}

pub async fn deposit(input: &PaymentIn) -> Result<TransactionOut, CommandError> {
    call("deposit", &Input { input }).await
}

pub async fn sign_out() -> Result<(), CommandError> {
    call("sign_out", &NoArgs {}).await
}

pub async fn withdraw(input: &PaymentIn) -> Result<TransactionOut, CommandError> {
    call("withdraw", &Input { input }).await
}

pub async fn become_seller() -> Result<UserOut, CommandError> {
    call("become_seller", &NoArgs {}).await
}

// ---- marketplace ----

pub async fn browse_codes(input: &BrowseIn) -> Result<BrowseOut, CommandError> {
    call("browse_codes", &Input { input }).await
}

/// What a listing may name (sports, bookmakers, price bounds), when the core offers it.
pub async fn code_options() -> Result<CodeOptionsOut, CommandError> {
    call("code_options", &NoArgs {}).await
}

pub async fn code_detail(id: &str) -> Result<CodeOut, CommandError> {
    let input = CodeIdIn { id: id.to_owned() };
    call("code_detail", &Input { input: &input }).await
}

pub async fn purchase_code(id: &str) -> Result<PurchaseResultOut, CommandError> {
    let input = CodeIdIn { id: id.to_owned() };
    call("purchase_code", &Input { input: &input }).await
}

pub async fn my_purchases() -> Result<Vec<PurchaseOut>, CommandError> {
    call("my_purchases", &NoArgs {}).await
}

pub async fn cast_vote(input: &CastVoteIn) -> Result<VoteResultOut, CommandError> {
    call("cast_vote", &Input { input }).await
}

pub async fn leaderboard(input: &LeaderboardIn) -> Result<Page<LeaderboardEntryOut>, CommandError> {
    call("leaderboard", &Input { input }).await
}

// ---- tipster profiles ----

/// A tipster's profile, first record page and performance; offline, the copy kept on the device.
pub async fn seller_profile(id: &str) -> Result<SellerProfileView, CommandError> {
    let input = SellerIdIn { id: id.to_owned() };
    call("seller_profile", &Input { input: &input }).await
}

/// A tipster's figures alone, for a code's page; offline, the kept profile's.
pub async fn seller_summary(id: &str) -> Result<SellerProfileOut, CommandError> {
    let input = SellerIdIn { id: id.to_owned() };
    call("seller_summary", &Input { input: &input }).await
}

/// A later page of a tipster's record.
pub async fn seller_record(
    id: &str,
    cursor: Option<String>,
) -> Result<Page<CodeOut>, CommandError> {
    let input = SellerRecordIn {
        id: id.to_owned(),
        cursor,
    };
    call("seller_record", &Input { input: &input }).await
}

/// Follows (`follow`) or unfollows a tipster.
pub async fn follow_seller(id: &str, follow: bool) -> Result<FollowOut, CommandError> {
    let input = FollowIn {
        id: id.to_owned(),
        follow,
    };
    call("follow_seller", &Input { input: &input }).await
}

// ---- seller ----

pub async fn seller_codes(cursor: Option<String>) -> Result<Page<CodeOut>, CommandError> {
    call(
        "seller_codes",
        &Input {
            input: &CursorIn { cursor },
        },
    )
    .await
}

pub async fn seller_sales(cursor: Option<String>) -> Result<SalesSummaryOut, CommandError> {
    call(
        "seller_sales",
        &Input {
            input: &CursorIn { cursor },
        },
    )
    .await
}

pub async fn create_code(input: &CodeIn) -> Result<CodeOut, CommandError> {
    call("create_code", &Input { input }).await
}

pub async fn cancel_code(id: &str) -> Result<CodeOut, CommandError> {
    let input = CodeIdIn { id: id.to_owned() };
    call("cancel_code", &Input { input: &input }).await
}

// ---- admin ----

pub async fn admin_users(input: &AdminUsersIn) -> Result<Page<UserOut>, CommandError> {
    call("admin_users", &Input { input }).await
}

pub async fn admin_update_user(input: &AdminUpdateUserIn) -> Result<UserOut, CommandError> {
    call("admin_update_user", &Input { input }).await
}

pub async fn admin_resolve(input: &AdminResolveIn) -> Result<ResolutionOut, CommandError> {
    call("admin_resolve", &Input { input }).await
}

/// Codes waiting for an admin decision (a tie or no votes at the end of voting).
pub async fn admin_review_queue(cursor: Option<String>) -> Result<Page<CodeOut>, CommandError> {
    call(
        "admin_review_queue",
        &Input {
            input: &CursorIn { cursor },
        },
    )
    .await
}

pub async fn admin_reconcile() -> Result<ReconcileReport, CommandError> {
    call("admin_reconcile", &NoArgs {}).await
}

// ---- everyday use: payments, editing a listing, admin lookups ----

/// My deposits and withdrawals, newest first; offline, the list kept on the device.
pub async fn wallet_payments() -> Result<WalletPaymentsOut, CommandError> {
    call("wallet_payments", &NoArgs {}).await
}

/// Edits my listing while it is ACTIVE with no sales.
pub async fn update_code(input: &UpdateCodeIn) -> Result<CodeOut, CommandError> {
    call("update_code", &Input { input }).await
}

/// One user's detail for an admin.
pub async fn admin_user(id: &str) -> Result<AdminUserOut, CommandError> {
    let input = UserIdIn { id: id.to_owned() };
    call("admin_user", &Input { input: &input }).await
}

/// Deposits and withdrawals of everyone, by status, reference or user.
pub async fn admin_payments(input: &AdminPaymentsIn) -> Result<Page<PaymentOut>, CommandError> {
    call("admin_payments", &Input { input }).await
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
