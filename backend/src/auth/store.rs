//! MongoDB queries of the auth area: users, OTPs, refresh tokens.

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::options::FindOneOptions;
use oddxer_shared::api::UserOut;
use oddxer_shared::Role;

#[derive(Debug, Clone)]
pub struct User {
    pub id: ObjectId,
    pub phone_number: String,
    pub username: String,
    pub role: Role,
    pub is_verified: bool,
    pub is_active: bool,
    pub created_at: DateTime,
}

impl User {
    pub fn from_doc(d: &Document) -> Option<User> {
        Some(User {
            id: d.get_object_id("_id").ok()?,
            phone_number: d.get_str("phoneNumber").ok()?.to_owned(),
            username: d.get_str("username").ok()?.to_owned(),
            role: Role::parse(d.get_str("role").ok()?)?,
            is_verified: d.get_bool("isVerified").unwrap_or(false),
            is_active: d.get_bool("isActive").unwrap_or(true),
            created_at: d.get_datetime("createdAt").copied().unwrap_or(DateTime::MIN),
        })
    }

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

pub async fn insert_user(db: &Db, phone: &str, username: &str, role: Role) -> mongodb::error::Result<InsertUser> {
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
pub fn user_doc(id: ObjectId, phone: &str, username: &str, role: Role, is_verified: bool, now: DateTime) -> Document {
    doc! {
        "_id": id, "phoneNumber": phone, "username": username, "role": role.as_str(),
        "isVerified": is_verified, "isActive": true, "createdAt": now, "updatedAt": now,
    }
}

pub async fn find_by_phone(db: &Db, phone: &str) -> mongodb::error::Result<Option<User>> {
    Ok(db.col("users").find_one(doc! { "phoneNumber": phone }).await?.as_ref().and_then(User::from_doc))
}

pub async fn find_by_username(db: &Db, username: &str) -> mongodb::error::Result<Option<User>> {
    Ok(db.col("users").find_one(doc! { "username": username }).await?.as_ref().and_then(User::from_doc))
}

pub async fn find_by_id(db: &Db, id: ObjectId) -> mongodb::error::Result<Option<User>> {
    Ok(db.col("users").find_one(doc! { "_id": id }).await?.as_ref().and_then(User::from_doc))
}

/// Writes labels on the user document (verified flag, role). No decision rides on these writes.
pub async fn set_fields(db: &Db, id: ObjectId, mut fields: Document) -> mongodb::error::Result<()> {
    fields.insert("updatedAt", clock::now());
    db.col("users").update_one(doc! { "_id": id }, doc! { "$set": fields }).await?;
    Ok(())
}

pub struct StoredOtp {
    pub id: ObjectId,
    pub hash: String,
    pub expires_at: DateTime,
    pub created_at: DateTime,
}

pub async fn latest_otp(db: &Db, phone: &str) -> mongodb::error::Result<Option<StoredOtp>> {
    let options = FindOneOptions::builder().sort(doc! { "createdAt": -1 }).build();
    let found = db.col("otps").find_one(doc! { "phoneNumber": phone }).with_options(options).await?;
    Ok(found.and_then(|d| {
        Some(StoredOtp {
            id: d.get_object_id("_id").ok()?,
            hash: d.get_str("hash").ok()?.to_owned(),
            expires_at: *d.get_datetime("expiresAt").ok()?,
            created_at: *d.get_datetime("createdAt").ok()?,
        })
    }))
}

pub async fn insert_otp(db: &Db, phone: &str, hash: &str, expires_at: DateTime) -> mongodb::error::Result<()> {
    db.col("otps")
        .insert_one(doc! { "phoneNumber": phone, "hash": hash, "expiresAt": expires_at, "createdAt": clock::now() })
        .await?;
    Ok(())
}

/// Claims one of the OTP's `max` verification attempts by inserting `{otp}:{n}`; `None` when all are
/// used. An insert under a unique `_id` is the only race-free counter FerretDB offers.
pub async fn claim_otp_attempt(db: &Db, otp: ObjectId, max: u32) -> mongodb::error::Result<Option<u32>> {
    for n in 1..=max {
        let id = format!("{}:{n}", otp.to_hex());
        match db.col("otp_attempts").insert_one(doc! { "_id": id, "createdAt": clock::now() }).await {
            Ok(_) => return Ok(Some(n)),
            Err(e) if is_duplicate_key(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Marks the OTP used; false when another request already used it.
pub async fn consume_otp(db: &Db, otp: ObjectId) -> mongodb::error::Result<bool> {
    insert_marker(db, "otp_used", &otp.to_hex()).await
}

/// Inserts `{_id}` into a marker collection; false on a duplicate (the decision was already taken).
pub async fn insert_marker(db: &Db, collection: &str, id: &str) -> mongodb::error::Result<bool> {
    match db.col(collection).insert_one(doc! { "_id": id, "createdAt": clock::now() }).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn marker_exists(db: &Db, collection: &str, id: &str) -> mongodb::error::Result<bool> {
    Ok(db.col(collection).find_one(doc! { "_id": id }).await?.is_some())
}

pub struct StoredRefresh {
    pub user: ObjectId,
    pub family: String,
    pub expires_at: DateTime,
}

pub async fn insert_refresh(db: &Db, digest: &str, user: ObjectId, family: &str, expires_at: DateTime) -> mongodb::error::Result<()> {
    db.col("refresh_tokens")
        .insert_one(doc! { "_id": digest, "user": user, "family": family, "expiresAt": expires_at, "createdAt": clock::now() })
        .await?;
    Ok(())
}

pub async fn find_refresh(db: &Db, digest: &str) -> mongodb::error::Result<Option<StoredRefresh>> {
    let found = db.col("refresh_tokens").find_one(doc! { "_id": digest }).await?;
    Ok(found.and_then(|d| {
        Some(StoredRefresh {
            user: d.get_object_id("user").ok()?,
            family: d.get_str("family").ok()?.to_owned(),
            expires_at: *d.get_datetime("expiresAt").ok()?,
        })
    }))
}
