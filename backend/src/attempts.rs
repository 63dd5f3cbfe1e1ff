//! Failed-attempt policy for dashboard logins and tablet enrolment codes: which
//! attempts are refused unchecked and which wait before their check.
//!
//! Every attempt is recorded as a failure *before* it is checked, in the same
//! transaction that counts the earlier ones ([`crate::store::Store::begin_attempt`]),
//! so parallel attempts cannot all slip past a count that each read before the others
//! wrote; a success deletes its own row.
//!
//! Who is refused: one address that failed too often, against this account or
//! against any. Nobody is refused for the account's sake alone: guessing from
//! elsewhere only makes the account's own attempts wait longer (1, 2, 4, 8 s), so
//! the owner at another desk still gets in.

use std::time::Duration;

use crate::routes::{AppState, blocking};
use crate::store::AttemptCounts;

/// The limits one kind of attempt lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How far back failures count.
    pub window: chrono::Duration,
    /// Failures for this key from one address before that address is refused.
    pub per_pair: u64,
    /// Failures of any key from one address before it is refused.
    pub per_addr: u64,
    /// Failures of the key, from anywhere, before its attempts start to wait.
    pub delay_after: u64,
}

/// Dashboard logins: 5 wrong passwords from one place lock that place out of the
/// account for 15 minutes; 20 failures of any login lock it out of all.
pub const LOGIN: Policy =
    Policy { window: chrono::Duration::minutes(15), per_pair: 5, per_addr: 20, delay_after: 5 };

/// Enrolment codes (10 digits): guessing from one place stops after 10 tries; a
/// town-wide burst makes every enrolment wait, never stops it.
pub const ENROL: Policy =
    Policy { window: chrono::Duration::minutes(10), per_pair: 10, per_addr: 20, delay_after: 30 };

/// The longest an attempt waits: well inside the server's 30 s request deadline.
pub const MAX_DELAY: Duration = Duration::from_secs(8);

/// What becomes of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refused without a check (and counted).
    Refused,
    /// Checked after waiting this long.
    CheckAfter(Duration),
}

impl Policy {
    /// The verdict on an attempt, given the failures recorded before it.
    pub fn verdict(&self, before: &AttemptCounts) -> Verdict {
        if before.by_pair >= self.per_pair || before.by_addr >= self.per_addr {
            return Verdict::Refused;
        }
        let over = before.by_key.saturating_sub(self.delay_after.saturating_sub(1));
        Verdict::CheckAfter(match over {
            0 => Duration::ZERO,
            n => Duration::from_secs(1u64 << (n - 1).min(3)).min(MAX_DELAY),
        })
    }
}

/// An attempt that may go on to its check: its row counts as a failure until
/// [`Attempt::succeeded`] (or [`Attempt::not_checked`]) removes it.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    row: i64,
}

impl Attempt {
    /// The check passed.
    pub async fn succeeded(self, state: &AppState) -> Result<(), crate::error::AppError> {
        let row = self.row;
        blocking(&state.store, move |s| s.forget_attempt(row)).await
    }

    /// The check never ran (the server was busy): not a failure.
    pub async fn not_checked(self, state: &AppState) -> Result<(), crate::error::AppError> {
        self.succeeded(state).await
    }
}

/// Records an attempt at `key` from `addr` and applies `policy`: `None` when refused,
/// otherwise the attempt once its wait is over.
pub async fn begin(
    state: &AppState,
    policy: Policy,
    key: &str,
    addr: Option<std::net::IpAddr>,
) -> Result<Option<Attempt>, crate::error::AppError> {
    let now = state.clock.now();
    let (key, addr) = (key.to_owned(), addr.map(|a| a.to_string()));
    let (row, before) =
        blocking(&state.store, move |s| s.begin_attempt(&key, addr.as_deref(), now, policy.window)).await?;
    match policy.verdict(&before) {
        Verdict::Refused => Ok(None),
        Verdict::CheckAfter(wait) => {
            if !wait.is_zero() {
                tracing::info!(wait_ms = wait.as_millis() as u64, "attempt delayed after failures");
                tokio::time::sleep(wait).await;
            }
            Ok(Some(Attempt { row }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: Policy, (by_key, by_pair, by_addr): (u64, u64, u64), expected: Verdict) {
        let got = policy.verdict(&AttemptCounts { by_key, by_pair, by_addr });
        assert_eq!(got, expected, "{by_key} for the key, {by_pair} from here for it, {by_addr} from here");
    }

    #[test]
    fn places_that_fail_are_refused_accounts_only_wait() {
        let wait = |s| Verdict::CheckAfter(Duration::from_secs(s));
        for (counts, expected) in [
            ((0, 0, 0), wait(0)),
            ((4, 4, 4), wait(0)),
            // The fifth failure anywhere: the next attempt waits a second, then 2, 4, 8.
            ((5, 0, 0), wait(1)),
            ((6, 0, 0), wait(2)),
            ((7, 0, 0), wait(4)),
            ((8, 0, 0), wait(8)),
            ((1_000, 0, 0), wait(8)),
            // This place failed five times for this account: refused.
            ((5, 5, 5), Verdict::Refused),
            // Twenty failures from here, any accounts: refused.
            ((0, 0, 20), Verdict::Refused),
            ((100, 4, 19), wait(8)),
        ] {
            check(LOGIN, counts, expected);
        }
        check(ENROL, (29, 9, 9), wait(0));
        check(ENROL, (30, 9, 9), wait(1));
        check(ENROL, (30, 10, 10), Verdict::Refused);
    }
}
