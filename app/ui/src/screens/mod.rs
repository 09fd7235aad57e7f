mod sign_in;
mod wallet;

pub use sign_in::SignIn;
pub use wallet::Wallet;
