//! A login costs exactly one password verification, whether or not the
//! account exists, so timing tells an attacker nothing. Counted, not timed;
//! in a test binary of its own, so no other test's logins are counted.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

mod common;

use common::gate::*;
use tabel::accounts::password;

#[tokio::test]
async fn one_verification_per_login_whether_or_not_the_account_exists() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    for (who, pass) in [
        ("office", "wrong password!"),
        ("nobody-at-all", "wrong password!"),
        ("office", PASSWORD),
    ] {
        let before = password::VERIFICATIONS.load(std::sync::atomic::Ordering::SeqCst);
        let _ = login_from(&f, who, pass, "192.0.2.9").await;
        let after = password::VERIFICATIONS.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(after - before, 1, "{who}");
    }
}
