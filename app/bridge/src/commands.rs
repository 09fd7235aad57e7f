//! The IPC commands. Thin: each calls one `OddxerClient` method; `?` turns its error into the
//! serialisable `CommandError` (the core logs the cause chain of local failures as it converts).
//! Arguments arrive as one `input` object of the `oddxer-shared` request type.

use oddxer_shared::api::{
    AdminUserOut, CodeIn, CodeOptionsOut, CodeOut, FollowOut, FollowedSellerOut,
    LeaderboardEntryOut, LoginIn, Page, PaymentIn, PaymentOut, PurchaseOut, PurchaseResultOut,
    ReconcileReport, RegisterIn, ResolutionOut, SalesSummaryOut, SellerProfileOut, TransactionOut,
    UserOut, UserPatch, VerifyOtpIn,
};
use oddxer_shared::client::{
    AdminPaymentsIn, AdminResolveIn, AdminUpdateUserIn, AdminUsersIn, AppSnapshot, BrowseIn,
    BrowseOut, CastVoteIn, CodeIdIn, CommandError, CursorIn, FollowIn, LeaderboardIn, MarkReadIn,
    SellerIdIn, SellerProfileView, SellerRecordIn, UpdateCodeIn, UserIdIn, VoteResultOut,
    WalletPaymentsOut,
};
use oddxer_shared::Role;
use tauri::State;

use crate::core::Core;
use crate::PreferredRole;

type CommandResult<T> = Result<T, CommandError>;

/// Restores the stored session; offline it still answers the cached user.
#[tauri::command]
pub async fn resume(core: State<'_, Core>) -> CommandResult<Option<UserOut>> {
    Ok(core.client()?.resume().await?)
}

#[tauri::command]
pub async fn register(core: State<'_, Core>, input: RegisterIn) -> CommandResult<()> {
    Ok(core
        .client()?
        .register(&input.phone_number, &input.username, input.role)
        .await?)
}

#[tauri::command]
pub async fn request_login_otp(core: State<'_, Core>, input: LoginIn) -> CommandResult<()> {
    Ok(core
        .client()?
        .request_login_otp(&input.phone_number)
        .await?)
}

#[tauri::command]
pub async fn verify_otp(core: State<'_, Core>, input: VerifyOtpIn) -> CommandResult<UserOut> {
    Ok(core
        .client()?
        .verify_otp(&input.phone_number, &input.otp)
        .await?)
}

#[tauri::command]
pub async fn snapshot(core: State<'_, Core>) -> CommandResult<AppSnapshot> {
    Ok(core.client()?.snapshot()?)
}

#[tauri::command]
pub async fn deposit(core: State<'_, Core>, input: PaymentIn) -> CommandResult<TransactionOut> {
    Ok(core
        .client()?
        .deposit(input.amount, input.payment_method, &input.phone_number)
        .await?)
}

#[tauri::command]
pub async fn sign_out(core: State<'_, Core>) -> CommandResult<()> {
    Ok(core.client()?.sign_out().await?)
}

#[tauri::command]
pub async fn withdraw(core: State<'_, Core>, input: PaymentIn) -> CommandResult<TransactionOut> {
    Ok(core
        .client()?
        .withdraw(input.amount, input.payment_method, &input.phone_number)
        .await?)
}

#[tauri::command]
pub async fn become_seller(core: State<'_, Core>) -> CommandResult<UserOut> {
    Ok(core.client()?.become_seller().await?)
}

// ---- marketplace ---------------------------------------------------------------------------

/// A marketplace page; offline, the cached first page with `fromCache: true`.
#[tauri::command]
pub async fn browse_codes(core: State<'_, Core>, input: BrowseIn) -> CommandResult<BrowseOut> {
    Ok(core.client()?.browse_codes(&input).await?)
}

/// One code; offline, my purchase of it or the cached copy.
#[tauri::command]
pub async fn code_detail(core: State<'_, Core>, input: CodeIdIn) -> CommandResult<CodeOut> {
    Ok(core.client()?.code_detail(&input.id).await?)
}

/// Sports, bookmakers and bounds for the create form and the filters.
#[tauri::command]
pub async fn code_options(core: State<'_, Core>) -> CommandResult<CodeOptionsOut> {
    Ok(core.client()?.code_options().await?)
}

/// Buys a code; never queued (offline: `OFFLINE`).
#[tauri::command]
pub async fn purchase_code(
    core: State<'_, Core>,
    input: CodeIdIn,
) -> CommandResult<PurchaseResultOut> {
    Ok(core.client()?.purchase_code(&input.id).await?)
}

/// My purchases with their codes, from the device (works offline).
#[tauri::command]
pub async fn my_purchases(core: State<'_, Core>) -> CommandResult<Vec<PurchaseOut>> {
    Ok(core.client()?.my_purchases()?)
}

/// Votes; offline the vote is queued (`queued: true`) and sent on reconnect.
#[tauri::command]
pub async fn cast_vote(core: State<'_, Core>, input: CastVoteIn) -> CommandResult<VoteResultOut> {
    Ok(core
        .client()?
        .cast_vote(&input.code_id, input.vote_type)
        .await?)
}

#[tauri::command]
pub async fn leaderboard(
    core: State<'_, Core>,
    input: LeaderboardIn,
) -> CommandResult<Page<LeaderboardEntryOut>> {
    Ok(core.client()?.leaderboard(&input).await?)
}

// ---- seller --------------------------------------------------------------------------------

#[tauri::command]
pub async fn seller_codes(core: State<'_, Core>, input: CursorIn) -> CommandResult<Page<CodeOut>> {
    Ok(core.client()?.seller_codes(input.cursor.as_deref()).await?)
}

#[tauri::command]
pub async fn seller_sales(
    core: State<'_, Core>,
    input: CursorIn,
) -> CommandResult<SalesSummaryOut> {
    Ok(core.client()?.seller_sales(input.cursor.as_deref()).await?)
}

#[tauri::command]
pub async fn create_code(core: State<'_, Core>, input: CodeIn) -> CommandResult<CodeOut> {
    Ok(core.client()?.create_code(&input).await?)
}

#[tauri::command]
pub async fn cancel_code(core: State<'_, Core>, input: CodeIdIn) -> CommandResult<CodeOut> {
    Ok(core.client()?.cancel_code(&input.id).await?)
}

// ---- admin ---------------------------------------------------------------------------------

#[tauri::command]
pub async fn admin_users(
    core: State<'_, Core>,
    input: AdminUsersIn,
) -> CommandResult<Page<UserOut>> {
    Ok(core.client()?.admin_users(&input).await?)
}

#[tauri::command]
pub async fn admin_update_user(
    core: State<'_, Core>,
    input: AdminUpdateUserIn,
) -> CommandResult<UserOut> {
    let patch = UserPatch {
        role: input.role,
        is_active: input.is_active,
        reason: input.reason,
    };
    Ok(core.client()?.admin_update_user(&input.id, &patch).await?)
}

#[tauri::command]
pub async fn admin_resolve(
    core: State<'_, Core>,
    input: AdminResolveIn,
) -> CommandResult<ResolutionOut> {
    Ok(core
        .client()?
        .admin_resolve(&input.id, input.outcome, input.reason.as_deref())
        .await?)
}

/// Codes waiting for an admin decision (tie or no votes).
#[tauri::command]
pub async fn admin_review_queue(
    core: State<'_, Core>,
    input: CursorIn,
) -> CommandResult<Page<CodeOut>> {
    Ok(core
        .client()?
        .admin_review_queue(input.cursor.as_deref())
        .await?)
}

#[tauri::command]
pub async fn admin_reconcile(core: State<'_, Core>) -> CommandResult<ReconcileReport> {
    Ok(core.client()?.admin_reconcile().await?)
}

/// The role the registration form starts with in this shell.
#[tauri::command]
pub fn preferred_role(role: State<'_, PreferredRole>) -> Role {
    role.0
}

// ---- tipster profiles ----------------------------------------------------------------------

/// A tipster's profile, record (first page) and performance; offline, the kept copy.
#[tauri::command]
pub async fn seller_profile(
    core: State<'_, Core>,
    input: SellerIdIn,
) -> CommandResult<SellerProfileView> {
    Ok(core.client()?.seller_profile(&input.id).await?)
}

/// A tipster's figures alone (a code's page); offline, the kept profile's.
#[tauri::command]
pub async fn seller_summary(
    core: State<'_, Core>,
    input: SellerIdIn,
) -> CommandResult<SellerProfileOut> {
    Ok(core.client()?.seller_summary(&input.id).await?)
}

/// A later page of a tipster's record.
#[tauri::command]
pub async fn seller_record(
    core: State<'_, Core>,
    input: SellerRecordIn,
) -> CommandResult<Page<CodeOut>> {
    Ok(core
        .client()?
        .seller_record(&input.id, input.cursor.as_deref())
        .await?)
}

/// Follows or unfollows a tipster; never queued (offline: `OFFLINE`).
#[tauri::command]
pub async fn follow_seller(core: State<'_, Core>, input: FollowIn) -> CommandResult<FollowOut> {
    Ok(core
        .client()?
        .follow_seller(&input.id, input.follow)
        .await?)
}

/// The tipsters I follow, most recently followed first; offline, the kept list.
#[tauri::command]
pub async fn my_following(core: State<'_, Core>) -> CommandResult<Vec<FollowedSellerOut>> {
    Ok(core.client()?.my_following().await?)
}

// ---- notifications -------------------------------------------------------------------------

/// Marks one notification read (`id`), or all of them; the list and badge are in the snapshot.
#[tauri::command]
pub async fn mark_notifications_read(
    core: State<'_, Core>,
    input: MarkReadIn,
) -> CommandResult<()> {
    Ok(core
        .client()?
        .mark_notifications_read(input.id.as_deref())?)
}

// ---- everyday use: payments, editing a listing, admin lookups --------------------------------

/// My deposits and withdrawals with status and failure reason; offline, the list kept on the
/// device (`fromCache: true`).
#[tauri::command]
pub async fn wallet_payments(core: State<'_, Core>) -> CommandResult<WalletPaymentsOut> {
    Ok(core.client()?.wallet_payments().await?)
}

/// Edits my listing (`PATCH /codes/{id}`) while it is ACTIVE with no sales.
#[tauri::command]
pub async fn update_code(core: State<'_, Core>, input: UpdateCodeIn) -> CommandResult<CodeOut> {
    Ok(core.client()?.update_code(&input.id, &input.patch).await?)
}

/// One user's detail for an admin: wallet, purchases, sales, payments.
#[tauri::command]
pub async fn admin_user(core: State<'_, Core>, input: UserIdIn) -> CommandResult<AdminUserOut> {
    Ok(core.client()?.admin_user(&input.id).await?)
}

/// Deposits and withdrawals of everyone, by status, reference or user.
#[tauri::command]
pub async fn admin_payments(
    core: State<'_, Core>,
    input: AdminPaymentsIn,
) -> CommandResult<Page<PaymentOut>> {
    Ok(core.client()?.admin_payments(&input).await?)
}
