//! Authentication and authorization: phone + OTP sign-in, JWT access tokens, rotating refresh
//! tokens, role extractors, SMS delivery.

pub mod cache;
pub mod extract;
pub mod jwt;
pub mod otp;
pub mod refresh;
pub mod routes;
pub mod service;
pub mod sms;
pub mod store;
pub mod web_session;
