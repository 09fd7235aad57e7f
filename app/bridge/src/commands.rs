//! The IPC commands. Thin: each calls one `OddxerClient` method; `?` turns its error into the
//! serialisable `CommandError` (the core logs the cause chain of local failures as it converts).
//! Arguments arrive as one `input` object of the `oddxer-shared` request type.

use oddxer_shared::api::{LoginIn, PaymentIn, RegisterIn, TransactionOut, UserOut, VerifyOtpIn};
use oddxer_shared::client::{AppSnapshot, CommandError};
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

/// The role the registration form starts with in this shell.
#[tauri::command]
pub fn preferred_role(role: State<'_, PreferredRole>) -> Role {
    role.0
}
