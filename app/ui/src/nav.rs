//! Navigation between the signed-in screens. Each role lands on its main screen (a bettor on the
//! marketplace, a seller on the dashboard, an admin on the admin screen); the order of the tabs
//! depends on the shell too: the desktop app puts a seller's dashboard first. Wide windows show a
//! tab strip under the top bar, phones a bottom bar.

use dioxus::prelude::*;
use oddxer_shared::Role;

use crate::state::{AppState, Route};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Marketplace,
    MyCodes,
    Wallet,
    Leaderboard,
    Seller,
    Following,
    Admin,
}

impl Section {
    pub fn route(self) -> Route {
        match self {
            Section::Marketplace => Route::Marketplace,
            Section::MyCodes => Route::MyCodes,
            Section::Wallet => Route::Wallet,
            Section::Leaderboard => Route::Leaderboard,
            Section::Seller => Route::Seller,
            Section::Following => Route::Following,
            Section::Admin => Route::Admin,
        }
    }

    /// The section a route belongs to (a code opened from the marketplace is "Marketplace").
    pub fn of(route: &Route) -> Section {
        match route {
            Route::Marketplace => Section::Marketplace,
            Route::Code { from, .. }
            | Route::Tipster { from, .. }
            | Route::Notifications { from } => Section::of(from),
            Route::Following => Section::Following,
            Route::MyCodes => Section::MyCodes,
            Route::Wallet => Section::Wallet,
            Route::Leaderboard => Section::Leaderboard,
            Route::Seller | Route::EditCode { .. } => Section::Seller,
            Route::Admin => Section::Admin,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Section::Marketplace => "nav-marketplace",
            Section::MyCodes => "nav-my-codes",
            Section::Wallet => "nav-wallet",
            Section::Leaderboard => "nav-leaderboard",
            Section::Seller => "nav-seller",
            Section::Following => "nav-following",
            Section::Admin => "nav-admin",
        }
    }

    fn label(self, role: Role) -> &'static str {
        match self {
            Section::Marketplace => "Marketplace",
            Section::MyCodes => "My codes",
            Section::Wallet => "Wallet",
            Section::Leaderboard => "Leaderboard",
            Section::Seller if role == Role::Buyer => "Sell codes",
            Section::Seller => "Seller dashboard",
            Section::Following => "Following",
            Section::Admin => "Admin",
        }
    }

    /// The bottom bar has room for one short word.
    fn short_label(self, role: Role) -> &'static str {
        match self {
            Section::Marketplace => "Market",
            Section::MyCodes => "My codes",
            Section::Wallet => "Wallet",
            Section::Leaderboard => "Leaders",
            Section::Seller if role == Role::Buyer => "Sell",
            Section::Seller => "Dashboard",
            Section::Following => "Following",
            Section::Admin => "Admin",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            Section::Marketplace => "M3 9l1.5-5h15L21 9M3 9h18M4 9v11h16V9M9.5 20v-6h5v6",
            Section::MyCodes => {
                "M3 7.5A2.5 2.5 0 015.5 5h13A2.5 2.5 0 0121 7.5V10a2 2 0 000 4v2.5a2.5 2.5 0 01-2.5 2.5h-13A2.5 2.5 0 013 16.5V14a2 2 0 000-4zM14 5v14"
            }
            Section::Wallet => "M3 8h16a2 2 0 012 2v8a2 2 0 01-2 2H5a2 2 0 01-2-2V8zm0 0l2.5-4h11L19 8M16 14h2",
            Section::Leaderboard => "M6 20v-8M12 20V5M18 20v-5M3 20h18",
            Section::Seller => "M3 17l6-6 4 4 8-8M14 7h7v7",
            Section::Following => "M12 21s-7-4.4-9.3-9A5.3 5.3 0 0112 6.3 5.3 5.3 0 0121.3 12C19 16.6 12 21 12 21z",
            Section::Admin => "M12 3l8 3v6c0 4.8-3.4 8-8 9-4.6-1-8-4.2-8-9V6l8-3zM9 12l2 2 4-4",
        }
    }
}

/// The sections this user may open, in the order this shell puts first. A bettor's "Sell codes"
/// invitation always comes last: it is not what they opened the app for.
pub fn sections(role: Role, seller_first: bool) -> Vec<Section> {
    let bettor = [
        Section::Marketplace,
        Section::MyCodes,
        Section::Wallet,
        Section::Leaderboard,
        Section::Following,
    ];
    let mut out = Vec::with_capacity(7);
    if seller_first && role != Role::Buyer {
        out.push(Section::Seller);
        out.extend(bettor);
    } else {
        out.extend(bettor);
        out.push(Section::Seller);
    }
    if role == Role::Admin {
        out.push(Section::Admin);
    }
    out
}

/// Where a freshly signed-in user lands: the main screen of their role, whatever the shell.
pub fn landing(role: Role) -> Route {
    match role {
        Role::Buyer => Route::Marketplace,
        Role::Seller => Route::Seller,
        Role::Admin => Route::Admin,
    }
}

#[component]
pub fn Icon(path: &'static str) -> Element {
    rsx! {
        svg { class: "icon", view_box: "0 0 24 24", fill: "none", stroke: "currentColor",
            stroke_width: "2", stroke_linecap: "round", stroke_linejoin: "round",
            "aria-hidden": "true",
            path { d: path }
        }
    }
}

#[component]
pub fn NavBar() -> Element {
    let state = use_context::<AppState>();
    let role = state.role();
    let seller_first = *state.preferred_role.read() != Role::Buyer;
    let current = Some(Section::of(&state.current_route()));

    rsx! {
        nav { class: "nav", id: "nav", aria_label: "Main",
            div { class: "nav-inner",
                for section in sections(role, seller_first) {
                    button {
                        key: "{section.id()}",
                        r#type: "button",
                        id: section.id(),
                        class: if current == Some(section) { "nav-item active" } else { "nav-item" },
                        "aria-current": if current == Some(section) { "page" } else { "false" },
                        onclick: move |_| state.go(section.route()),
                        Icon { path: section.icon() }
                        span { class: "nav-label", {section.label(role)} }
                        span { class: "nav-short", {section.short_label(role)} }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_put_the_marketplace_first_and_desktops_the_dashboard() {
        assert_eq!(sections(Role::Buyer, false)[0], Section::Marketplace);
        assert_eq!(sections(Role::Buyer, false)[1], Section::MyCodes);
        assert_eq!(sections(Role::Seller, true)[0], Section::Seller);
    }

    #[test]
    fn each_role_lands_on_its_main_screen() {
        assert_eq!(landing(Role::Buyer), Route::Marketplace);
        assert_eq!(landing(Role::Seller), Route::Seller);
        assert_eq!(landing(Role::Admin), Route::Admin);
    }

    #[test]
    fn a_bettor_on_the_desktop_sees_the_marketplace_first_and_the_invitation_to_sell_last() {
        let tabs = sections(Role::Buyer, true);
        assert_eq!(tabs[0], Section::Marketplace);
        assert_eq!(tabs.last(), Some(&Section::Seller));
    }

    #[test]
    fn only_admins_see_the_admin_screen() {
        assert!(!sections(Role::Seller, true).contains(&Section::Admin));
        assert!(!sections(Role::Buyer, false).contains(&Section::Admin));
        assert_eq!(sections(Role::Admin, false).last(), Some(&Section::Admin));
    }
}
