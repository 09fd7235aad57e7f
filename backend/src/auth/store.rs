//! MongoDB queries of the auth area: users, OTPs, refresh tokens.

use crate::clock;
use crate::db::{de, Db};
use crate::error::is_duplicate_key;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::UserOut;
use oddxer_shared::Role;

/// A `users` document.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// E.164, as `auth::phone` normalised it.
    pub phone_number: String,
    pub username: String,
    pub role: Role,
    #[serde(default)]
    pub is_verified: bool,
    /// False once an admin deactivated the account.
    #[serde(default = "de::yes")]
    pub is_active: bool,
    #[serde(default = "de::earliest")]
    pub created_at: DateTime,
}

impl User {
    pub fn to_out(&self) -> UserOut {
        UserOut {
            id: self.id.to_hex(),
            phone_number: self.phone_number.clone(),
            username: self.username.clone(),
            role: self.role,
            is_verified: self.is_verified,
            is_active: self.is_active,
            created_at: clock::rfc3339(self.created_at),
        }
    }
}

pub enum InsertUser {
    Created(User),
    PhoneTaken,
    UsernameTaken,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_user(
    db: &Db,
    phone: &str,
    username: &str,
    role: Role,
) -> mongodb::error::Result<InsertUser> {
    let now = clock::now();
    let user = User {
        id: ObjectId::new(),
        phone_number: phone.to_owned(),
        username: username.to_owned(),
        role,
        is_verified: false,
        is_active: true,
        created_at: now,
    };
    let d = doc! {
        "_id": user.id, "phoneNumber": phone, "username": username, "role": role.as_str(),
        "isVerified": false, "isActive": true, "createdAt": now, "updatedAt": now,
    };
    match db.col("users").insert_one(d).await {
        Ok(_) => Ok(InsertUser::Created(user)),
        // The unique indexes decide; find out which one refused us.
        Err(e) if is_duplicate_key(&e) => {
            if find_by_phone(db, phone).await?.is_some() {
                Ok(InsertUser::PhoneTaken)
            } else {
                Ok(InsertUser::UsernameTaken)
            }
        }
        Err(e) => Err(e),
    }
}

/// For bulk loading (benchmarks): a user document of the shape [`insert_user`] writes (keep the two
/// in step), optionally already verified as `verify-otp` leaves it.
pub fn user_doc(
    id: ObjectId,
    phone: &str,
    username: &str,
    role: Role,
    is_verified: bool,
    now: DateTime,
) -> Document {
    doc! {
        "_id": id, "phoneNumber": phone, "username": username, "role": role.as_str(),
        "isVerified": is_verified, "isActive": true, "createdAt": now, "updatedAt": now,
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_phone(db: &Db, phone: &str) -> mongodb::error::Result<Option<User>> {
    db.find_row("users", doc! { "phoneNumber": phone }).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_username(db: &Db, username: &str) -> mongodb::error::Result<Option<User>> {
    db.find_row("users", doc! { "username": username }).await
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find_by_id(db: &Db, id: ObjectId) -> mongodb::error::Result<Option<User>> {
    db.find_row("users", doc! { "_id": id }).await
}

/// One page of users matching `filter`, oldest first (ObjectIds grow with creation time, so `_id`
/// order is stable under inserts), after the id `after` (the last of the previous page).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page(
    db: &Db,
    mut filter: Document,
    after: Option<ObjectId>,
    limit: i64,
) -> mongodb::error::Result<Vec<User>> {
    if let Some(after) = after {
        filter.insert("_id", doc! { "$gt": after });
    }
    let docs: Vec<Document> = futures_util::TryStreamExt::try_collect(
        db.col("users")
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(limit)
            .await?,
    )
    .await?;
    Ok(db.rows("users", docs))
}

/// Writes labels on the user document (verified flag, role). No decision rides on these writes.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn set_fields(db: &Db, id: ObjectId, mut fields: Document) -> mongodb::error::Result<()> {
    fields.insert("updatedAt", clock::now());
    db.col("users")
        .update_one(doc! { "_id": id }, doc! { "$set": fields })
        .await?;
    Ok(())
}

/// The OTP a phone number may use now: `otps {_id: phone}`, replaced by every new code, so the
/// latest OTP is one `_id` lookup away. It names the user it signs in and carries what the user
/// was when it was sent, so verification reads nothing else to decide which write it needs.
#[derive(Debug, Clone)]
pub struct PendingOtp {
    /// Random 128-bit id; also the name of the session family it opens (`auth::refresh`).
    pub id: String,
    pub user: ObjectId,
    /// The user's `isVerified` and role when the code was sent.
    pub user_verified: bool,
    pub user_role: Role,
    pub hash: String,
    pub expires_at: DateTime,
    pub created_at: DateTime,
}

pub const OTPS: &str = "otps";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_otp(db: &Db, phone: &str) -> mongodb::error::Result<Option<PendingOtp>> {
    let found = db.col(OTPS).find_one(doc! { "_id": phone }).await?;
    Ok(found.and_then(|d| {
        Some(PendingOtp {
            id: d.get_str("otp").ok()?.to_owned(),
            user: d.get_object_id("user").ok()?,
            user_verified: d.get_bool("userVerified").unwrap_or(false),
            user_role: Role::parse(d.get_str("userRole").ok()?)?,
            hash: d.get_str("hash").ok()?.to_owned(),
            expires_at: *d.get_datetime("expiresAt").ok()?,
            created_at: *d.get_datetime("createdAt").ok()?,
        })
    }))
}

/// Makes `otp` the phone's current code (the previous one, if any, stops working).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn put_otp(db: &Db, phone: &str, otp: &PendingOtp) -> mongodb::error::Result<()> {
    let d = doc! {
        "_id": phone, "otp": &otp.id, "user": otp.user, "userVerified": otp.user_verified, "userRole": otp.user_role.as_str(),
        "hash": &otp.hash, "expiresAt": otp.expires_at, "createdAt": otp.created_at,
    };
    db.col(OTPS)
        .replace_one(doc! { "_id": phone }, d)
        .upsert(true)
        .await?;
    Ok(())
}

/// The OTP send recorded for `phone` in resend window `window`, when it was made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn send_in_window(
    db: &Db,
    phone: &str,
    window: i64,
) -> mongodb::error::Result<Option<DateTime>> {
    let found = db
        .col("otp_sends")
        .find_one(doc! { "_id": format!("{phone}:{window}") })
        .await?;
    Ok(found.and_then(|d| d.get_datetime("createdAt").ok().copied()))
}

/// Claims resend window `window` for `phone`; false when a send (or a login of an unknown number)
/// already took it. The insert decides, so concurrent logins cannot both pass.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_send_window(db: &Db, phone: &str, window: i64) -> mongodb::error::Result<bool> {
    insert_marker(db, "otp_sends", &format!("{phone}:{window}")).await
}

/// Claims one of the OTP's `max` verification attempts by inserting `{otp}:{n}`; `None` when all are
/// used. An insert under a unique `_id` is the only race-free counter FerretDB offers. The first
/// try of a code costs one insert; each earlier try of the same code adds one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_otp_attempt(
    db: &Db,
    otp: &str,
    max: u32,
) -> mongodb::error::Result<Option<u32>> {
    for n in 1..=max {
        if insert_marker(db, "otp_attempts", &format!("{otp}:{n}")).await? {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// Inserts `{_id}` into a marker collection; false on a duplicate (the decision was already taken).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_marker(db: &Db, collection: &str, id: &str) -> mongodb::error::Result<bool> {
    match db
        .col(collection)
        .insert_one(doc! { "_id": id, "createdAt": clock::now() })
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the user and, in the same command, marks them verified and/or sets their role: the first
/// sign-in of an account (and of a configured admin) costs no extra round trip. A label write (no
/// decision rides on it), done only when the OTP's snapshot of the user says it is needed.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn read_and_label(
    db: &Db,
    id: ObjectId,
    mut fields: Document,
) -> mongodb::error::Result<Option<User>> {
    fields.insert("updatedAt", clock::now());
    let found = db
        .col("users")
        .find_one_and_update(doc! { "_id": id }, doc! { "$set": fields })
        .return_document(mongodb::options::ReturnDocument::After)
        .await?;
    Ok(found.and_then(|d| db.row("users", d)))
}

pub const REFRESH_TOKENS: &str = "refresh_tokens";

/// A stored refresh token generation, or a tombstone (`digest: None`) that ends its family.
pub struct StoredRefresh {
    pub digest: Option<String>,
    pub user: Option<ObjectId>,
    pub expires_at: DateTime,
}

/// Inserts generation `slot` of a family; false when that generation already exists (the token
/// before it was already rotated, or the OTP already used, or the family revoked).
#[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
pub async fn insert_refresh(
    db: &Db,
    slot: &str,
    family: &str,
    digest: &str,
    user: ObjectId,
    expires_at: DateTime,
) -> mongodb::error::Result<bool> {
    let d = doc! { "_id": slot, "family": family, "digest": digest, "user": user, "expiresAt": expires_at, "createdAt": clock::now() };
    match db.col(REFRESH_TOKENS).insert_one(d).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_refresh(db: &Db, slot: &str) -> mongodb::error::Result<Option<StoredRefresh>> {
    let found = db
        .col(REFRESH_TOKENS)
        .find_one(doc! { "_id": slot })
        .await?;
    Ok(found.map(|d| StoredRefresh {
        digest: d.get_str("digest").ok().map(str::to_owned),
        user: d.get_object_id("user").ok(),
        expires_at: d
            .get_datetime("expiresAt")
            .copied()
            .unwrap_or(DateTime::MIN),
    }))
}

#[tracing::instrument(level = "debug", skip_all)]
async fn generation_exists(db: &Db, family: &str, generation: u64) -> mongodb::error::Result<bool> {
    let found = db
        .col(REFRESH_TOKENS)
        .find_one(doc! { "_id": super::refresh::slot(family, generation) })
        .projection(doc! { "_id": 1 })
        .await?;
    Ok(found.is_some())
}

/// Ends a family whose generation `known` exists: puts a tombstone right after its newest
/// generation, so no token of it can be rotated again. The newest is found by galloping then
/// bisecting over `_id` lookups (generations are contiguous); an insert that meets a duplicate
/// (a rotation landed meanwhile) moves one further, so the tombstone always ends up after the
/// newest token.
/// Whether a session (refresh-token family) was ended: logout or a detected reuse inserted a
/// revoked generation ([`revoke_family`]). Equality on the indexed `family`, bounded by the
/// family's rotations.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn family_revoked(db: &Db, family: &str) -> mongodb::error::Result<bool> {
    Ok(db
        .col(REFRESH_TOKENS)
        .find_one(doc! { "family": family, "revoked": true })
        .await?
        .is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_family(db: &Db, family: &str, known: u64) -> mongodb::error::Result<()> {
    let (mut lo, mut step) = (known, 1u64);
    let mut hi = loop {
        let probe = lo.saturating_add(step);
        if probe == lo || !generation_exists(db, family, probe).await? {
            break probe;
        }
        lo = probe;
        step = step.saturating_mul(2);
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if generation_exists(db, family, mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut next = lo + 1;
    loop {
        let d = doc! { "_id": super::refresh::slot(family, next), "family": family, "revoked": true, "createdAt": clock::now() };
        match db.col(REFRESH_TOKENS).insert_one(d).await {
            Ok(_) => return Ok(()),
            Err(e) if is_duplicate_key(&e) => next += 1,
            Err(e) => return Err(e),
        }
    }
}
