//! The command set the screens call, one function per command with the types of
//! `oddxer-shared`. Two cores answer it, picked once at start-up:
//!
//! - inside a Tauri shell, the native core (`app/core` behind `app/bridge`) over IPC ([`tauri`]);
//! - in a plain browser, the web core ([`crate::web`]): `fetch` against the same origin's
//!   `/api/v1`, a browser WebSocket for sync, IndexedDB for the offline copy.
//!
//! Adding a command: its Tauri arm names the bridge command; an online-only web arm is one
//! [`web::Call`] (method, path, query or body, whether it is signed in), e.g.
//! `Core::Web => web::Call::get("/leaderboard").query(input).send().await`.

mod tauri;

use futures_channel::mpsc::UnboundedSender;
use oddxer_shared::api::{AdminUserOut, PaymentOut};
use oddxer_shared::api::{
    CodeIn, CodeOptionsOut, CodeOut, FollowOut, FollowedSellerOut, LeaderboardEntryOut, LoginIn,
    OtpSentOut, Page, PaymentIn, PurchaseOut, PurchaseResultOut, ReconcileReport, RegisterIn,
    ResolutionOut, ResolveIn, SalesSummaryOut, SellerProfileOut, TransactionOut, UserOut,
    UserPatch, VerifyOtpIn,
};
use oddxer_shared::client::{AdminPaymentsIn, UpdateCodeIn, UserIdIn, WalletPaymentsOut};
use oddxer_shared::client::{
    AdminResolveIn, AdminUpdateUserIn, AdminUsersIn, AppSnapshot, BrowseIn, BrowseOut, CastVoteIn,
    CodeIdIn, CommandError, CursorIn, FollowIn, LeaderboardIn, MarkReadIn, SellerIdIn,
    SellerProfileView, SellerRecordIn, VoteResultOut,
};
use oddxer_shared::Role;

use crate::web::{self, path_id, Call};
use tauri::{Input, NoArgs};

type R<T> = Result<T, CommandError>;

/// Which core answers the commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Core {
    Tauri,
    Web,
}

thread_local! {
    static CORE: Core = if tauri::present() { Core::Tauri } else { Core::Web };
}

/// The core of this page (decided once: a Tauri shell injects its API before any script runs).
pub fn core() -> Core {
    CORE.with(|c| *c)
}

pub async fn resume() -> R<Option<UserOut>> {
    match core() {
        Core::Tauri => tauri::call("resume", &NoArgs {}).await,
        Core::Web => web::resume().await,
    }
}

pub async fn snapshot() -> R<AppSnapshot> {
    match core() {
        Core::Tauri => tauri::call("snapshot", &NoArgs {}).await,
        Core::Web => Ok(web::snapshot()),
    }
}

pub async fn preferred_role() -> R<Role> {
    match core() {
        Core::Tauri => tauri::call("preferred_role", &NoArgs {}).await,
        Core::Web => Ok(web::preferred_role()),
    }
}

pub async fn register(input: &RegisterIn) -> R<()> {
    match core() {
        Core::Tauri => tauri::call("register", &Input { input }).await,
        Core::Web => Call::post("/auth/register")
            .json(input)
            .send::<OtpSentOut>()
            .await
            .map(drop),
    }
}

pub async fn request_login_otp(input: &LoginIn) -> R<()> {
    match core() {
        Core::Tauri => tauri::call("request_login_otp", &Input { input }).await,
        Core::Web => Call::post("/auth/login")
            .json(input)
            .send::<OtpSentOut>()
            .await
            .map(drop),
    }
}

pub async fn verify_otp(input: &VerifyOtpIn) -> R<UserOut> {
    match core() {
        Core::Tauri => tauri::call("verify_otp", &Input { input }).await,
        Core::Web => web::verify_otp(input).await,
    }
}

pub async fn deposit(input: &PaymentIn) -> R<TransactionOut> {
    match core() {
        Core::Tauri => tauri::call("deposit", &Input { input }).await,
        Core::Web => web::payment("/wallet/deposits", "deposit", input).await,
    }
}

pub async fn sign_out() -> R<()> {
    match core() {
        Core::Tauri => tauri::call("sign_out", &NoArgs {}).await,
        Core::Web => web::sign_out().await,
    }
}

pub async fn withdraw(input: &PaymentIn) -> R<TransactionOut> {
    match core() {
        Core::Tauri => tauri::call("withdraw", &Input { input }).await,
        Core::Web => web::payment("/wallet/withdrawals", "withdraw", input).await,
    }
}

pub async fn become_seller() -> R<UserOut> {
    match core() {
        Core::Tauri => tauri::call("become_seller", &NoArgs {}).await,
        Core::Web => web::become_seller().await,
    }
}

// ---- marketplace ----

pub async fn browse_codes(input: &BrowseIn) -> R<BrowseOut> {
    match core() {
        Core::Tauri => tauri::call("browse_codes", &Input { input }).await,
        Core::Web => web::browse_codes(input).await,
    }
}

/// What a listing may name (sports, bookmakers, price bounds), when the core offers it.
pub async fn code_options() -> R<CodeOptionsOut> {
    match core() {
        Core::Tauri => tauri::call("code_options", &NoArgs {}).await,
        Core::Web => Call::get("/codes/options").send().await,
    }
}

pub async fn code_detail(id: &str) -> R<CodeOut> {
    match core() {
        Core::Tauri => {
            let input = CodeIdIn { id: id.to_owned() };
            tauri::call("code_detail", &Input { input: &input }).await
        }
        Core::Web => web::code_detail(id).await,
    }
}

pub async fn purchase_code(id: &str) -> R<PurchaseResultOut> {
    match core() {
        Core::Tauri => {
            let input = CodeIdIn { id: id.to_owned() };
            tauri::call("purchase_code", &Input { input: &input }).await
        }
        Core::Web => web::purchase_code(id).await,
    }
}

pub async fn my_purchases() -> R<Vec<PurchaseOut>> {
    match core() {
        Core::Tauri => tauri::call("my_purchases", &NoArgs {}).await,
        Core::Web => Ok(web::my_purchases()),
    }
}

pub async fn cast_vote(input: &CastVoteIn) -> R<VoteResultOut> {
    match core() {
        Core::Tauri => tauri::call("cast_vote", &Input { input }).await,
        Core::Web => web::cast_vote(input).await,
    }
}

pub async fn leaderboard(input: &LeaderboardIn) -> R<Page<LeaderboardEntryOut>> {
    match core() {
        Core::Tauri => tauri::call("leaderboard", &Input { input }).await,
        Core::Web => web::leaderboard(input).await,
    }
}

// ---- tipster profiles ----

/// A tipster's profile, first record page and performance; offline, the copy kept on the device.
pub async fn seller_profile(id: &str) -> R<SellerProfileView> {
    match core() {
        Core::Tauri => {
            let input = SellerIdIn { id: id.to_owned() };
            tauri::call("seller_profile", &Input { input: &input }).await
        }
        Core::Web => web::seller_profile(id).await,
    }
}

/// A tipster's figures alone, for a code's page; offline, the kept profile's.
pub async fn seller_summary(id: &str) -> R<SellerProfileOut> {
    match core() {
        Core::Tauri => {
            let input = SellerIdIn { id: id.to_owned() };
            tauri::call("seller_summary", &Input { input: &input }).await
        }
        Core::Web => web::seller_summary(id).await,
    }
}

/// A later page of a tipster's record.
pub async fn seller_record(id: &str, cursor: Option<String>) -> R<Page<CodeOut>> {
    match core() {
        Core::Tauri => {
            let input = SellerRecordIn {
                id: id.to_owned(),
                cursor,
            };
            tauri::call("seller_record", &Input { input: &input }).await
        }
        Core::Web => {
            Call::get(&format!("/sellers/{}/codes", path_id(id)?))
                .query(&CursorIn { cursor })
                .send()
                .await
        }
    }
}

/// Follows (`follow`) or unfollows a tipster.
pub async fn follow_seller(id: &str, follow: bool) -> R<FollowOut> {
    match core() {
        Core::Tauri => {
            let input = FollowIn {
                id: id.to_owned(),
                follow,
            };
            tauri::call("follow_seller", &Input { input: &input }).await
        }
        Core::Web => web::follow_seller(id, follow).await,
    }
}

/// The tipsters I follow; offline, the list kept on the device.
pub async fn my_following() -> R<Vec<FollowedSellerOut>> {
    match core() {
        Core::Tauri => tauri::call("my_following", &NoArgs {}).await,
        Core::Web => web::my_following().await,
    }
}

// ---- notifications ----

/// Marks notification `id` read, or all of them (`None`).
pub async fn mark_notifications_read(id: Option<String>) -> R<()> {
    match core() {
        Core::Tauri => {
            let input = MarkReadIn { id };
            tauri::call("mark_notifications_read", &Input { input: &input }).await
        }
        Core::Web => {
            web::mark_notifications_read(id.as_deref());
            Ok(())
        }
    }
}

// ---- seller ----

pub async fn seller_codes(cursor: Option<String>) -> R<Page<CodeOut>> {
    let input = CursorIn { cursor };
    match core() {
        Core::Tauri => tauri::call("seller_codes", &Input { input: &input }).await,
        Core::Web => {
            Call::get("/seller/codes")
                .query(&input)
                .signed_in()
                .send()
                .await
        }
    }
}

pub async fn seller_sales(cursor: Option<String>) -> R<SalesSummaryOut> {
    let input = CursorIn { cursor };
    match core() {
        Core::Tauri => tauri::call("seller_sales", &Input { input: &input }).await,
        Core::Web => {
            Call::get("/seller/sales")
                .query(&input)
                .signed_in()
                .send()
                .await
        }
    }
}

pub async fn create_code(input: &CodeIn) -> R<CodeOut> {
    match core() {
        Core::Tauri => tauri::call("create_code", &Input { input }).await,
        Core::Web => Call::post("/codes").json(input).signed_in().send().await,
    }
}

pub async fn cancel_code(id: &str) -> R<CodeOut> {
    match core() {
        Core::Tauri => {
            let input = CodeIdIn { id: id.to_owned() };
            tauri::call("cancel_code", &Input { input: &input }).await
        }
        Core::Web => {
            let path = format!("/codes/{}", path_id(id)?);
            Call::delete(&path).signed_in().send().await
        }
    }
}

// ---- admin ----

pub async fn admin_users(input: &AdminUsersIn) -> R<Page<UserOut>> {
    match core() {
        Core::Tauri => tauri::call("admin_users", &Input { input }).await,
        Core::Web => {
            Call::get("/admin/users")
                .query(input)
                .signed_in()
                .send()
                .await
        }
    }
}

pub async fn admin_update_user(input: &AdminUpdateUserIn) -> R<UserOut> {
    match core() {
        Core::Tauri => tauri::call("admin_update_user", &Input { input }).await,
        Core::Web => {
            let patch = UserPatch {
                role: input.role,
                is_active: input.is_active,
                reason: input.reason.clone(),
            };
            let path = format!("/admin/users/{}", path_id(&input.id)?);
            Call::patch(&path).json(&patch).signed_in().send().await
        }
    }
}

pub async fn admin_resolve(input: &AdminResolveIn) -> R<ResolutionOut> {
    match core() {
        Core::Tauri => tauri::call("admin_resolve", &Input { input }).await,
        Core::Web => {
            let path = format!("/admin/codes/{}/resolve", path_id(&input.id)?);
            Call::post(&path)
                .json(&ResolveIn {
                    outcome: input.outcome,
                    reason: input.reason.clone(),
                })
                .signed_in()
                .send()
                .await
        }
    }
}

/// Codes waiting for an admin decision (a tie or no votes at the end of voting).
pub async fn admin_review_queue(cursor: Option<String>) -> R<Page<CodeOut>> {
    let input = CursorIn { cursor };
    match core() {
        Core::Tauri => tauri::call("admin_review_queue", &Input { input: &input }).await,
        Core::Web => {
            Call::get("/admin/codes/review")
                .query(&input)
                .signed_in()
                .send()
                .await
        }
    }
}

pub async fn admin_reconcile() -> R<ReconcileReport> {
    match core() {
        Core::Tauri => tauri::call("admin_reconcile", &NoArgs {}).await,
        Core::Web => Call::get("/admin/reconcile").signed_in().send().await,
    }
}

// ---- everyday use: payments, editing a listing, admin lookups ----

/// My deposits and withdrawals, newest first; offline, the list kept on the device.
pub async fn wallet_payments() -> R<WalletPaymentsOut> {
    match core() {
        Core::Tauri => tauri::call("wallet_payments", &NoArgs {}).await,
        Core::Web => web::wallet_payments().await,
    }
}

/// Edits my listing while it is ACTIVE with no sales.
pub async fn update_code(input: &UpdateCodeIn) -> R<CodeOut> {
    match core() {
        Core::Tauri => tauri::call("update_code", &Input { input }).await,
        Core::Web => {
            let path = format!("/codes/{}", path_id(&input.id)?);
            Call::patch(&path)
                .json(&input.patch)
                .signed_in()
                .send()
                .await
        }
    }
}

/// One user's detail for an admin.
pub async fn admin_user(id: &str) -> R<AdminUserOut> {
    match core() {
        Core::Tauri => {
            let input = UserIdIn { id: id.to_owned() };
            tauri::call("admin_user", &Input { input: &input }).await
        }
        Core::Web => {
            let path = format!("/admin/users/{}", path_id(id)?);
            Call::get(&path).signed_in().send().await
        }
    }
}

/// Deposits and withdrawals of everyone, by status, reference or user.
pub async fn admin_payments(input: &AdminPaymentsIn) -> R<Page<PaymentOut>> {
    match core() {
        Core::Tauri => tauri::call("admin_payments", &Input { input }).await,
        Core::Web => {
            Call::get("/admin/payments")
                .query(input)
                .signed_in()
                .send()
                .await
        }
    }
}

/// Forwards every change of the core's state, as a fresh snapshot, into `tx`.
pub async fn listen_changes(tx: UnboundedSender<AppSnapshot>) -> R<()> {
    match core() {
        Core::Tauri => tauri::listen_changes(tx).await,
        Core::Web => {
            web::listen_changes(tx);
            Ok(())
        }
    }
}
