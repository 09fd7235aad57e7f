mod admin;
mod code_detail;
mod leaderboard;
mod marketplace;
mod my_codes;
mod payment_form;
mod seller;
mod seller_form;
mod sign_in;
mod wallet;

pub use admin::Admin;
pub use code_detail::CodeDetail;
pub use leaderboard::Leaderboard;
pub use marketplace::{MarketState, Marketplace};
pub use my_codes::MyCodes;
pub use seller::SellerDashboard;
pub use sign_in::SignIn;
pub use wallet::Wallet;
