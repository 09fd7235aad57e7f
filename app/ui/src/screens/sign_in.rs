//! Sign in with a phone number and a one-time code; new people register with a username first.

use dioxus::prelude::*;
use oddxer_shared::api::{LoginIn, RegisterIn, VerifyOtpIn};
use oddxer_shared::Role;

use crate::input::{parse_otp, parse_phone, parse_username};
use crate::ipc;
use crate::state::{set_if_mounted, spawn_command, AppState};

#[derive(Clone, PartialEq)]
enum Step {
    SignIn,
    Register,
    /// The code went out to `phone` (E.164).
    Code {
        phone: String,
    },
}

#[component]
pub fn SignIn() -> Element {
    let state = use_context::<AppState>();
    let mut step = use_signal(|| Step::SignIn);
    let mut phone = use_signal(String::new);
    let mut username = use_signal(String::new);
    let mut role = use_signal(|| *state.preferred_role.peek());
    let mut otp = use_signal(String::new);
    // A problem with what was typed, shown next to the form rather than as a command error.
    let mut hint = use_signal(|| None::<String>);
    let busy = state.is_busy();

    let send_code = move |evt: FormEvent| {
        evt.prevent_default();
        let registering = *step.peek() == Step::Register;
        let phone_number = match parse_phone(&phone.peek()) {
            Ok(p) => p,
            Err(e) => return hint.set(Some(e.to_string())),
        };
        let input_username = if registering {
            match parse_username(&username.peek()) {
                Ok(u) => Some(u),
                Err(e) => return hint.set(Some(e.to_string())),
            }
        } else {
            None
        };
        hint.set(None);
        spawn_command(async move {
            let sent = match input_username {
                Some(username) => {
                    let input = RegisterIn {
                        phone_number: phone_number.clone(),
                        username,
                        role: Some(*role.peek()),
                    };
                    state
                        .run("Creating your account", ipc::register(&input))
                        .await
                }
                None => {
                    let input = LoginIn {
                        phone_number: phone_number.clone(),
                    };
                    state
                        .run("Sending your code", ipc::request_login_otp(&input))
                        .await
                }
            };
            if sent.is_some() {
                set_if_mounted(otp, String::new());
                set_if_mounted(
                    step,
                    Step::Code {
                        phone: phone_number,
                    },
                );
            }
        });
    };

    let verify = move |evt: FormEvent| {
        evt.prevent_default();
        let Step::Code {
            phone: phone_number,
        } = step.peek().clone()
        else {
            return;
        };
        let code = match parse_otp(&otp.peek()) {
            Ok(c) => c,
            Err(e) => return hint.set(Some(e.to_string())),
        };
        hint.set(None);
        spawn_command(async move {
            let input = VerifyOtpIn {
                phone_number,
                otp: code,
            };
            if state
                .run("Checking your code", ipc::verify_otp(&input))
                .await
                .is_some()
            {
                state.refresh().await;
            }
        });
    };

    let resend = move |_| {
        let Step::Code {
            phone: phone_number,
        } = step.peek().clone()
        else {
            return;
        };
        spawn_command(async move {
            let input = LoginIn { phone_number };
            state
                .run("Sending a new code", ipc::request_login_otp(&input))
                .await;
        });
    };

    let current = step.read().clone();
    rsx! {
        main { class: "auth",
            section { class: "auth-hero",
                h1 { "Winning codes, verified by results." }
                p { "Tipsters list bookmaker codes, bettors buy them with mobile money, and every result is voted on. Sign in with your phone number." }
            }
            section { class: "card auth-card",
                match current {
                    Step::SignIn | Step::Register => {
                        let registering = current == Step::Register;
                        rsx! {
                            h2 { id: "auth-title", if registering { "Create your account" } else { "Sign in" } }
                            p { class: "muted",
                                if registering { "We'll text you a code to confirm your number." }
                                else { "We'll text you a one-time code." }
                            }
                            form { id: "phone-form", onsubmit: send_code, novalidate: true,
                                label { r#for: "phone-input", "Phone number" }
                                input { id: "phone-input", r#type: "tel", inputmode: "tel", autocomplete: "tel",
                                    placeholder: "+256 772 123 456", value: "{phone}", disabled: busy,
                                    oninput: move |e| phone.set(e.value()),
                                }
                                if registering {
                                    label { r#for: "username-input", "Username" }
                                    input { id: "username-input", r#type: "text", autocomplete: "username",
                                        autocapitalize: "none", spellcheck: false, placeholder: "ace_tipster",
                                        value: "{username}", disabled: busy,
                                        oninput: move |e| username.set(e.value()),
                                    }
                                    span { class: "label", "I mainly want to" }
                                    div { class: "segmented", role: "radiogroup",
                                        button { r#type: "button", id: "role-seller",
                                            class: if *role.read() == Role::Seller { "seg active" } else { "seg" },
                                            aria_checked: *role.read() == Role::Seller,
                                            onclick: move |_| role.set(Role::Seller), "Sell codes"
                                        }
                                        button { r#type: "button", id: "role-buyer",
                                            class: if *role.read() == Role::Buyer { "seg active" } else { "seg" },
                                            aria_checked: *role.read() == Role::Buyer,
                                            onclick: move |_| role.set(Role::Buyer), "Buy codes"
                                        }
                                    }
                                }
                                if let Some(text) = hint() {
                                    p { class: "field-error", id: "form-hint", "{text}" }
                                }
                                button { class: "btn btn-primary btn-block", id: "send-otp", r#type: "submit", disabled: busy,
                                    if busy { "Sending…" } else if registering { "Create account & send code" } else { "Send code" }
                                }
                            }
                            p { class: "switch",
                                if registering {
                                    "Already have an account? "
                                    button { class: "link", id: "show-sign-in", r#type: "button",
                                        onclick: move |_| { hint.set(None); step.set(Step::SignIn) }, "Sign in"
                                    }
                                } else {
                                    "New here? "
                                    button { class: "link", id: "show-register", r#type: "button",
                                        onclick: move |_| { hint.set(None); step.set(Step::Register) }, "Register with a username"
                                    }
                                }
                            }
                        }
                    }
                    Step::Code { phone: sent_to } => rsx! {
                        h2 { id: "auth-title", "Enter your code" }
                        p { class: "muted", "We sent a code by SMS to " strong { id: "otp-phone", "{sent_to}" } "." }
                        form { id: "otp-form", onsubmit: verify, novalidate: true,
                            label { r#for: "otp-input", "One-time code" }
                            input { id: "otp-input", class: "otp", r#type: "text", inputmode: "numeric",
                                autocomplete: "one-time-code", maxlength: 8, placeholder: "••••••",
                                value: "{otp}", disabled: busy,
                                oninput: move |e| otp.set(e.value()),
                            }
                            if let Some(text) = hint() {
                                p { class: "field-error", id: "form-hint", "{text}" }
                            }
                            button { class: "btn btn-primary btn-block", id: "verify-otp", r#type: "submit", disabled: busy,
                                if busy { "Checking…" } else { "Verify and continue" }
                            }
                        }
                        p { class: "switch",
                            button { class: "link", id: "resend-otp", r#type: "button", disabled: busy, onclick: resend, "Send a new code" }
                            " · "
                            button { class: "link", id: "change-number", r#type: "button", disabled: busy,
                                onclick: move |_| { hint.set(None); step.set(Step::SignIn) }, "Use another number"
                            }
                        }
                    },
                }
            }
        }
    }
}
