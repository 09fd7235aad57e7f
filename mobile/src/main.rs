// On the host this runs the phone UI in a phone-sized window (development and tests).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    oddxer_mobile_lib::run();
}
