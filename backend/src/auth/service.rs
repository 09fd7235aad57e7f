//! Auth rules: registration, OTP login, token issue and rotation with reuse detection.

use super::{otp, refresh, store};
use crate::clock;
use crate::error::{AppError, Result};
use crate::ledger::accounts;
use crate::phone::PhoneNumber;
use crate::ratelimit::Bucket;
use crate::state::AppState;
use mongodb::bson::doc;
use oddxer_shared::api::{AuthTokensOut, OtpSentOut, RegisterIn, UserOut};
use oddxer_shared::{validate, Role};

/// Wrong tries allowed per OTP; the next try is refused even with the right code.
pub const MAX_OTP_ATTEMPTS: u32 = 5;

/// Reads a phone number as the user typed it (`0700 123 456`, `+256-700-...`) into its E.164
/// form, or answers 422 naming `phoneNumber`.
pub fn check_phone(state: &AppState, raw: &str) -> Result<PhoneNumber> {
    PhoneNumber::parse_field(raw, state.config.default_region, "phoneNumber")
}

pub async fn register(state: &AppState, input: RegisterIn) -> Result<OtpSentOut> {
    let phone = check_phone(state, &input.phone_number)?;
    if !validate::is_username(&input.username) {
        return Err(AppError::validation(
            "username must be 3 to 20 characters of a-z, 0-9 and _",
            "username",
            "3 to 20 of [a-z0-9_]",
        ));
    }
    let role = match input.role.unwrap_or(Role::Buyer) {
        Role::Admin => {
            return Err(AppError::validation(
                "role must be BUYER or SELLER",
                "role",
                "BUYER or SELLER",
            ))
        }
        r => r,
    };
    let user = match store::insert_user(&state.db, phone.as_str(), &input.username, role).await? {
        store::InsertUser::Created(user) => user,
        store::InsertUser::PhoneTaken => return register_existing(state, &phone).await,
        store::InsertUser::UsernameTaken => {
            return Err(AppError::conflict(
                "USERNAME_TAKEN",
                "This username is taken",
            ))
        }
    };
    tracing::info!(user = %user.id, phone = %otp::mask_phone(phone.as_str()), "user registered");
    state
        .limits
        .check(Bucket::AuthPhone, phone.as_str())
        .await?;
    // Every user who can sign in has a wallet; made here, off the sign-in path (idempotent).
    accounts::ensure_wallet(&state.db, user.id, &state.config.currency).await?;
    // A new account is created once (the unique phone decides), so its first code is not subject
    // to the resend throttle; the send still takes the window, so an immediate login is throttled.
    take_send_window(state, phone.as_str()).await?;
    send_otp(state, &phone, &user).await
}

/// Registration of a number that already has an account: the same answer as a new registration
/// (a 201 that says a code was sent), so registering does not tell who has an account either. The
/// number's owner gets a sign-in code for the account they already have (their phone proves it is
/// theirs), under the same resend throttle and per-phone limit as login, which stay silent here; a
/// deactivated account gets nothing.
async fn register_existing(state: &AppState, phone: &PhoneNumber) -> Result<OtpSentOut> {
    let Some(user) = store::find_by_phone(&state.db, phone.as_str())
        .await?
        .filter(|u| u.is_active)
    else {
        return Ok(otp_sent(state, phone));
    };
    let allowed = match throttle_send(state, phone.as_str()).await {
        Ok(()) => state.limits.check(Bucket::AuthPhone, phone.as_str()).await,
        Err(e) => Err(e),
    };
    match allowed {
        Ok(()) => send_otp(state, phone, &user).await,
        Err(AppError::RateLimited { .. }) => Ok(otp_sent(state, phone)),
        Err(e) => Err(e),
    }
}

/// Sends a code to a registered number. An unknown number gets the same answer, decided the same
/// way (the resend window and the per-phone limit apply to it alike), and no SMS: the endpoint does
/// not tell who has an account, however fast it is called.
pub async fn login(state: &AppState, raw_phone: &str) -> Result<OtpSentOut> {
    let phone = check_phone(state, raw_phone)?;
    let user = store::find_by_phone(&state.db, phone.as_str()).await?;
    throttle_send(state, phone.as_str()).await?;
    state
        .limits
        .check(Bucket::AuthPhone, phone.as_str())
        .await?;
    match user {
        // A deactivated account gets no code (it could not sign in with it) and the same answer
        // as any number, so login tells nobody which accounts exist or are deactivated.
        Some(user) if !user.is_active => Ok(otp_sent(state, &phone)),
        Some(user) => {
            if !user.is_verified {
                // Accounts made before wallets were created at registration.
                accounts::ensure_wallet(&state.db, user.id, &state.config.currency).await?;
            }
            send_otp(state, &phone, &user).await
        }
        None => Ok(otp_sent(state, &phone)),
    }
}

fn otp_sent(state: &AppState, phone: &PhoneNumber) -> OtpSentOut {
    OtpSentOut {
        phone_number: phone.to_string(),
        otp_expires_in_seconds: state.config.otp_expiry.as_secs() as i64,
    }
}

/// The resend throttle: at most one code per `OTP_RESEND_INTERVAL` and phone, registered or not.
/// Time is cut into windows of that length; a send inserts `otp_sends {_id: "{phone}:{window}"}`
/// and a duplicate means another send (or login) already took this window, which decides races.
/// The previous window's send is read first so that two sequential calls `interval` apart at most
/// are throttled even when they straddle a window boundary.
async fn throttle_send(state: &AppState, phone: &str) -> Result<()> {
    let interval = state.config.otp_resend_interval;
    if interval.is_zero() {
        return Ok(());
    }
    let (window, now_ms, interval_ms) = send_window(state);
    if let Some(previous) = store::send_in_window(&state.db, phone, window - 1).await? {
        let next_allowed = previous.timestamp_millis() + interval_ms;
        if next_allowed > now_ms {
            return Err(retry_after(next_allowed - now_ms));
        }
    }
    if !store::claim_send_window(&state.db, phone, window).await? {
        return Err(retry_after((window + 1) * interval_ms - now_ms));
    }
    Ok(())
}

/// Takes the current resend window without being refused by it (registration).
async fn take_send_window(state: &AppState, phone: &str) -> Result<()> {
    if !state.config.otp_resend_interval.is_zero() {
        let (window, _, _) = send_window(state);
        store::claim_send_window(&state.db, phone, window).await?;
    }
    Ok(())
}

/// (current window, now in ms, interval in ms); the interval is at least 1 ms.
fn send_window(state: &AppState) -> (i64, i64, i64) {
    let interval_ms = (state.config.otp_resend_interval.as_millis() as i64).max(1);
    let now_ms = clock::now().timestamp_millis();
    (now_ms.div_euclid(interval_ms), now_ms, interval_ms)
}

fn retry_after(wait_ms: i64) -> AppError {
    AppError::RateLimited {
        retry_after_secs: (wait_ms.max(1) as u64).div_ceil(1000),
    }
}

async fn send_otp(state: &AppState, phone: &PhoneNumber, user: &store::User) -> Result<OtpSentOut> {
    let now = clock::now();
    let code = otp::generate(state.config.otp_length);
    let pending = store::PendingOtp {
        id: refresh::new_family(),
        user: user.id,
        user_verified: user.is_verified,
        user_role: user.role,
        hash: otp::keyed_hash(&state.config.otp_key, phone.as_str(), &code),
        expires_at: clock::after(now, state.config.otp_expiry),
        created_at: now,
    };
    store::put_otp(&state.db, phone.as_str(), &pending).await?;
    let minutes = state.config.otp_expiry.as_secs().div_ceil(60);
    let body =
        format!("Your Oddxer code is {code}. It expires in {minutes} minutes. Never share it.");
    state
        .sms
        .send(phone.as_str(), &body)
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))?;
    tracing::info!(phone = %otp::mask_phone(phone.as_str()), "otp sent");
    Ok(otp_sent(state, phone))
}

/// Signs in with the code from the SMS. Four sequential database commands (DESIGN.md section 9):
/// the phone's pending OTP by `_id`; one attempt-slot insert (the 5-try limit); the user by `_id`
/// (marking them verified in the same command on their first sign-in); the insert of generation 0
/// of the session family named after the OTP, which is the OTP's single use.
pub async fn verify_otp(state: &AppState, raw_phone: &str, code: &str) -> Result<AuthTokensOut> {
    let phone = check_phone(state, raw_phone)?;
    if !validate::is_otp(code, state.config.otp_length) {
        return Err(AppError::validation(
            "otp must be the digits from the SMS",
            "otp",
            "digits",
        ));
    }
    state
        .limits
        .check(Bucket::AuthPhone, phone.as_str())
        .await?;
    let invalid = || AppError::Unauthenticated("The code is wrong or has expired");
    let pending = store::find_otp(&state.db, phone.as_str())
        .await?
        .ok_or_else(invalid)?;
    if pending.expires_at <= clock::now() {
        return Err(invalid());
    }
    // Every try, right or wrong, takes one of the attempt slots first; with none left the OTP is dead.
    if store::claim_otp_attempt(&state.db, &pending.id, MAX_OTP_ATTEMPTS)
        .await?
        .is_none()
    {
        return Err(AppError::Unauthenticated(
            "Too many wrong codes; request a new one",
        ));
    }
    if !otp::matches(&state.config.otp_key, phone.as_str(), code, &pending.hash) {
        tracing::info!(phone = %otp::mask_phone(phone.as_str()), "wrong otp");
        return Err(invalid());
    }
    let mut labels = doc! {};
    if !pending.user_verified {
        labels.insert("isVerified", true);
    }
    if state
        .config
        .admin_phone_numbers
        .iter()
        .any(|p| p == phone.as_str())
        && pending.user_role != Role::Admin
    {
        labels.insert("role", Role::Admin.as_str());
    }
    let user = if labels.is_empty() {
        store::find_by_id(&state.db, pending.user).await?
    } else {
        store::read_and_label(&state.db, pending.user, labels).await?
    };
    let user = user.ok_or_else(invalid)?;
    state.users.put(&user);
    if !user.is_active {
        return Err(AppError::Forbidden("This account is deactivated"));
    }
    let token = refresh::RefreshToken::first(&pending.id);
    issue_tokens(state, &user, token).await?.ok_or_else(invalid)
}

/// Stores `refresh` (the decision: `None` when its generation already exists) and signs an access
/// token for `user`.
async fn issue_tokens(
    state: &AppState,
    user: &store::User,
    refresh: refresh::RefreshToken,
) -> Result<Option<AuthTokensOut>> {
    let now = clock::now();
    let expires_at = clock::after(now, state.config.jwt_refresh_expiry);
    if !store::insert_refresh(
        &state.db,
        &refresh.slot(),
        &refresh.family,
        &refresh.digest(),
        user.id,
        expires_at,
    )
    .await?
    {
        return Ok(None);
    }
    let access_token = state
        .jwt
        .issue_for_session(
            &user.id.to_hex(),
            user.role,
            clock::unix_seconds(now),
            &refresh.family,
        )
        .map_err(|e| AppError::internal(format!("jwt encode: {e}")))?;
    Ok(Some(AuthTokensOut {
        access_token,
        refresh_token: refresh.to_string(),
        user: user.to_out(),
    }))
}

/// Rotates a refresh token: at most three sequential database commands (the token's generation
/// by `_id`, the user unless the in-process cache holds them, the insert of the next generation).
/// The insert decides which of two concurrent refreshes wins; presenting a token whose successor
/// exists means it was used twice (stolen or replayed), and its whole family is revoked.
pub async fn refresh(state: &AppState, raw: &str) -> Result<AuthTokensOut> {
    let dead = || AppError::Unauthenticated("The session has expired; sign in again");
    let token = refresh::RefreshToken::parse(raw).ok_or_else(dead)?;
    let stored = store::find_refresh(&state.db, &token.slot())
        .await?
        .ok_or_else(dead)?;
    let (Some(digest), Some(user_id)) = (stored.digest.as_deref(), stored.user) else {
        return Err(dead());
    };
    if !token.matches(digest) || stored.expires_at <= clock::now() {
        return Err(dead());
    }
    let user = super::extract::active_user(state, user_id)
        .await?
        .ok_or_else(dead)?;
    match issue_tokens(state, &user, token.next()).await? {
        Some(tokens) => Ok(tokens),
        None => {
            store::revoke_family(&state.db, &token.family, token.generation + 1).await?;
            // Its access tokens are refused here at once, and through the hub on every instance,
            // where its sockets close too.
            state.sessions.revoke(&token.family);
            state.hub.session_revoked(user_id, &token.family);
            tracing::warn!(user = %user_id, "refresh token reuse detected; family revoked");
            Err(dead())
        }
    }
}

/// Ends the session the refresh token belongs to: its family is revoked.
pub async fn logout(state: &AppState, user: &UserOut, raw: &str) -> Result<()> {
    let Some(token) = refresh::RefreshToken::parse(raw) else {
        return Ok(());
    };
    if let Some(stored) = store::find_refresh(&state.db, &token.slot()).await? {
        if !stored.digest.as_deref().is_some_and(|d| token.matches(d)) {
            return Ok(());
        }
        if stored.user.map(|u| u.to_hex()).as_deref() != Some(user.id.as_str()) {
            return Err(AppError::Forbidden(
                "This refresh token belongs to another user",
            ));
        }
        store::revoke_family(&state.db, &token.family, token.generation).await?;
        // Its access tokens are refused here at once, and through the hub on every instance,
        // where its sockets close too.
        state.sessions.revoke(&token.family);
        if let Some(owner) = stored.user {
            state.hub.session_revoked(owner, &token.family);
        }
    }
    Ok(())
}

pub async fn become_seller(state: &AppState, user: &store::User) -> Result<UserOut> {
    match user.role {
        Role::Seller | Role::Admin => Err(AppError::conflict(
            "ALREADY_SELLER",
            "You can already sell codes",
        )),
        Role::Buyer => {
            store::set_fields(&state.db, user.id, doc! { "role": Role::Seller.as_str() }).await?;
            state.users.forget(user.id);
            let mut updated = user.clone();
            updated.role = Role::Seller;
            Ok(updated.to_out())
        }
    }
}
