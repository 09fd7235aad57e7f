//! Auth rules: registration, OTP login, token issue and rotation with reuse detection.

use super::{otp, store};
use crate::clock;
use crate::error::{AppError, Result};
use crate::ledger::accounts;
use crate::ratelimit::Bucket;
use crate::state::AppState;
use mongodb::bson::doc;
use oddxer_shared::api::{AuthTokensOut, OtpSentOut, RegisterIn, UserOut};
use oddxer_shared::{validate, Role};

/// Wrong tries allowed per OTP; the next try is refused even with the right code.
pub const MAX_OTP_ATTEMPTS: u32 = 5;

pub fn check_phone(phone: &str) -> Result<()> {
    if validate::is_e164(phone) {
        Ok(())
    } else {
        Err(AppError::validation("phoneNumber must be in E.164 format, e.g. +256772123456", "phoneNumber", "not E.164"))
    }
}

pub async fn register(state: &AppState, input: RegisterIn) -> Result<OtpSentOut> {
    check_phone(&input.phone_number)?;
    if !validate::is_username(&input.username) {
        return Err(AppError::validation(
            "username must be 3 to 20 characters of a-z, 0-9 and _",
            "username",
            "3 to 20 of [a-z0-9_]",
        ));
    }
    let role = match input.role.unwrap_or(Role::Buyer) {
        Role::Admin => return Err(AppError::validation("role must be BUYER or SELLER", "role", "BUYER or SELLER")),
        r => r,
    };
    match store::insert_user(&state.db, &input.phone_number, &input.username, role).await? {
        store::InsertUser::Created(user) => {
            tracing::info!(user = %user.id, phone = %otp::mask_phone(&user.phone_number), "user registered");
        }
        store::InsertUser::PhoneTaken => {
            return Err(AppError::conflict("PHONE_NUMBER_TAKEN", "This phone number is already registered; log in instead"))
        }
        store::InsertUser::UsernameTaken => return Err(AppError::conflict("USERNAME_TAKEN", "This username is taken")),
    }
    send_otp(state, &input.phone_number).await
}

/// Sends a code to a registered number. An unknown number gets the same answer and no SMS,
/// so the endpoint does not tell who has an account.
pub async fn login(state: &AppState, phone: &str) -> Result<OtpSentOut> {
    check_phone(phone)?;
    match store::find_by_phone(&state.db, phone).await? {
        Some(_) => send_otp(state, phone).await,
        None => {
            // Counted for unknown numbers too, so the limit does not reveal who has an account.
            state.limits.check(Bucket::AuthPhone, phone).await?;
            Ok(otp_sent(state, phone))
        }
    }
}

fn otp_sent(state: &AppState, phone: &str) -> OtpSentOut {
    OtpSentOut { phone_number: phone.to_owned(), otp_expires_in_seconds: state.config.otp_expiry.as_secs() as i64 }
}

async fn send_otp(state: &AppState, phone: &str) -> Result<OtpSentOut> {
    let now = clock::now();
    if let Some(last) = store::latest_otp(&state.db, phone).await? {
        let next_allowed = clock::after(last.created_at, state.config.otp_resend_interval);
        if next_allowed > now {
            let wait_ms = next_allowed.timestamp_millis() - now.timestamp_millis();
            return Err(AppError::RateLimited { retry_after_secs: (wait_ms as u64).div_ceil(1000) });
        }
    }
    // Only codes actually sent count against the phone's budget: pressing "resend" too early is
    // answered by the throttle above and must not lock the person out for the whole window.
    state.limits.check(Bucket::AuthPhone, phone).await?;
    let code = otp::generate(state.config.otp_length);
    let hash = otp::keyed_hash(state.config.jwt_secret.as_bytes(), phone, &code);
    store::insert_otp(&state.db, phone, &hash, clock::after(now, state.config.otp_expiry)).await?;
    let minutes = state.config.otp_expiry.as_secs().div_ceil(60);
    let body = format!("Your Oddxer code is {code}. It expires in {minutes} minutes. Never share it.");
    state.sms.send(phone, &body).await.map_err(|e| AppError::Upstream(e.to_string()))?;
    tracing::info!(phone = %otp::mask_phone(phone), "otp sent");
    Ok(otp_sent(state, phone))
}

pub async fn verify_otp(state: &AppState, phone: &str, code: &str) -> Result<AuthTokensOut> {
    check_phone(phone)?;
    if !validate::is_otp(code, state.config.otp_length) {
        return Err(AppError::validation("otp must be the digits from the SMS", "otp", "digits"));
    }
    state.limits.check(Bucket::AuthPhone, phone).await?;
    let invalid = || AppError::Unauthenticated("The code is wrong or has expired");
    let stored = store::latest_otp(&state.db, phone).await?.ok_or_else(invalid)?;
    if stored.expires_at <= clock::now() {
        return Err(invalid());
    }
    // Every try, right or wrong, takes one of the attempt slots first; with none left the OTP is dead.
    if store::claim_otp_attempt(&state.db, stored.id, MAX_OTP_ATTEMPTS).await?.is_none() {
        return Err(AppError::Unauthenticated("Too many wrong codes; request a new one"));
    }
    if !otp::matches(state.config.jwt_secret.as_bytes(), phone, code, &stored.hash) {
        tracing::info!(phone = %otp::mask_phone(phone), "wrong otp");
        return Err(invalid());
    }
    if !store::consume_otp(&state.db, stored.id).await? {
        return Err(invalid());
    }
    let mut user = store::find_by_phone(&state.db, phone).await?.ok_or_else(invalid)?;
    if !user.is_active {
        return Err(AppError::Forbidden("This account is deactivated"));
    }
    let mut changes = doc! {};
    if !user.is_verified {
        user.is_verified = true;
        changes.insert("isVerified", true);
    }
    if state.config.admin_phone_numbers.iter().any(|p| p == phone) && user.role != Role::Admin {
        user.role = Role::Admin;
        changes.insert("role", Role::Admin.as_str());
    }
    if !changes.is_empty() {
        store::set_fields(&state.db, user.id, changes).await?;
    }
    // Every verified user has a wallet; creating it is idempotent.
    accounts::ensure_wallet(&state.db, user.id, &state.config.currency).await?;
    issue_tokens(state, user.to_out(), uuid::Uuid::new_v4().to_string()).await
}

async fn issue_tokens(state: &AppState, user: UserOut, family: String) -> Result<AuthTokensOut> {
    let now = clock::now();
    let access_token = state
        .jwt
        .issue_for_session(&user.id, user.role, clock::unix_seconds(now), &family)
        .map_err(|e| AppError::internal(format!("jwt encode: {e}")))?;
    let refresh_token = otp::random_token();
    let user_id = mongodb::bson::oid::ObjectId::parse_str(&user.id).map_err(AppError::internal)?;
    store::insert_refresh(
        &state.db,
        &otp::sha256_hex(&refresh_token),
        user_id,
        &family,
        clock::after(now, state.config.jwt_refresh_expiry),
    )
    .await?;
    Ok(AuthTokensOut { access_token, refresh_token, user })
}

/// Rotates a refresh token. The consumption marker insert decides which of two concurrent refreshes
/// wins; presenting an already consumed token revokes its whole family (it was stolen or replayed).
pub async fn refresh(state: &AppState, token: &str) -> Result<AuthTokensOut> {
    let dead = || AppError::Unauthenticated("The session has expired; sign in again");
    let digest = otp::sha256_hex(token);
    let stored = store::find_refresh(&state.db, &digest).await?.ok_or_else(dead)?;
    if stored.expires_at <= clock::now() || store::marker_exists(&state.db, "revoked_families", &stored.family).await? {
        return Err(dead());
    }
    if !store::insert_marker(&state.db, "refresh_consumed", &digest).await? {
        store::insert_marker(&state.db, "revoked_families", &stored.family).await?;
        // Realtime hook: the session's sockets close on every instance.
        state.hub.session_revoked(stored.user, &stored.family);
        tracing::warn!(user = %stored.user, "refresh token reuse detected; family revoked");
        return Err(dead());
    }
    let user = store::find_by_id(&state.db, stored.user).await?.ok_or_else(dead)?;
    if !user.is_active {
        return Err(AppError::Forbidden("This account is deactivated"));
    }
    issue_tokens(state, user.to_out(), stored.family).await
}

/// Ends the session the refresh token belongs to.
pub async fn logout(state: &AppState, user: &UserOut, token: &str) -> Result<()> {
    let digest = otp::sha256_hex(token);
    if let Some(stored) = store::find_refresh(&state.db, &digest).await? {
        if stored.user.to_hex() != user.id {
            return Err(AppError::Forbidden("This refresh token belongs to another user"));
        }
        store::insert_marker(&state.db, "refresh_consumed", &digest).await?;
        store::insert_marker(&state.db, "revoked_families", &stored.family).await?;
        // Realtime hook: the session's sockets close on every instance.
        state.hub.session_revoked(stored.user, &stored.family);
    }
    Ok(())
}

pub async fn become_seller(state: &AppState, user: &store::User) -> Result<UserOut> {
    match user.role {
        Role::Seller | Role::Admin => Err(AppError::conflict("ALREADY_SELLER", "You can already sell codes")),
        Role::Buyer => {
            store::set_fields(&state.db, user.id, doc! { "role": Role::Seller.as_str() }).await?;
            let mut updated = user.clone();
            updated.role = Role::Seller;
            Ok(updated.to_out())
        }
    }
}
