//! A login costs exactly one password verification, whether or not the
//! account exists, so timing tells an attacker nothing. Counted, not timed;
//! in a test binary of its own, so no other test's logins are counted.
//!
//! This is why it is not a module of `tests/testsuite/`: the count is
//! `password::VERIFICATIONS`, one counter for the whole process, and the
//! suite runs its tests on parallel threads of one process, where the
//! logins of the gate and mail tests would be counted here too. It shares
//! the suite's helpers all the same.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

// Only the gate's helpers are used here.
#[path = "testsuite/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use support::gate::*;
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
