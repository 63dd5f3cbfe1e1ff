//! Dashboard users: accounts, sessions (tokens kept as SHA-256), and the failed
//! attempts the login and enrolment limits count.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::audit::{About, audit_tx};
use super::{Role, parse_role};
use super::{Store, StoreError, UserId, devices::random_bytes, hex, ms, sha256_hex};

/// Who is behind a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user: UserId,
    pub login: String,
    pub role: Role,
    /// The only district a 民生委員 may see; `None` for town-wide roles.
    pub district: Option<String>,
}

/// Failures recorded before an attempt, within the policy's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCounts {
    /// For this key (login name), from anywhere.
    pub by_key: u64,
    /// For this key from this address.
    pub by_pair: u64,
    /// From this address, for any key.
    pub by_addr: u64,
}

/// Failed attempts recorded per address and window at most (see `begin_attempt`).
pub const RECORD_CAP_PER_ADDR: u64 = 1_000;

/// A session lasts one working day at most.
pub const SESSION_TTL: Duration = Duration::hours(8);

impl Store {
    /// The stored password hash and role of `login`, for the login check; disabled
    /// and expired accounts have none.
    pub fn user_for_login(
        &self,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionUser, String)>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT id, login, role, district, password_hash FROM users
                 WHERE login = ?1 AND disabled_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?2)",
                params![login, ms(now)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, login, role, district, hash)) = row else { return Ok(None) };
        Ok(Some((SessionUser { user: UserId(id), login, role: parse_role(&role)?, district }, hash)))
    }

    /// Starts a session; returns its token (the cookie value), shown only now.
    pub fn create_session(&self, user: UserId, now: DateTime<Utc>) -> Result<String, StoreError> {
        let token = hex(&random_bytes(32));
        self.lock().execute(
            "INSERT INTO sessions (token_hash, user_id, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![sha256_hex(&token), user.0, ms(now), ms(now + SESSION_TTL)],
        )?;
        Ok(token)
    }

    /// The user of an unexpired session.
    pub fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<SessionUser>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT u.id, u.login, u.role, u.district FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_ms > ?2 AND u.disabled_ms IS NULL
                   AND (u.expires_ms IS NULL OR u.expires_ms > ?2)",
                params![sha256_hex(token), ms(now)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, login, role, district)) = row else { return Ok(None) };
        Ok(Some(SessionUser { user: UserId(id), login, role: parse_role(&role)?, district }))
    }

    pub fn end_session(&self, token: &str) -> Result<(), StoreError> {
        self.lock().execute("DELETE FROM sessions WHERE token_hash = ?1", [sha256_hex(token)])?;
        Ok(())
    }

    /// Records an attempt at `key` (a login name, or the enrolment key) from `addr`
    /// as a failure and counts the failures before it, in one transaction: parallel
    /// attempts cannot all pass a count each read before the others wrote. Returns the
    /// attempt's row (deleted by [`Store::forget_attempt`] on success) and the counts
    /// within `window` that `crate::attempts` decides on.
    pub fn begin_attempt(
        &self,
        key: &str,
        addr: Option<&str>,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<(i64, AttemptCounts), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let since = ms(now - window);
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<u64, rusqlite::Error> {
            tx.query_row(sql, p, |r| r.get::<_, i64>(0)).map(|n| n as u64)
        };
        let by_key =
            count("SELECT count(*) FROM login_failures WHERE login = ?1 AND at_ms > ?2", &[&key, &since])?;
        let (by_pair, by_addr) = match addr {
            Some(a) => (
                count(
                    "SELECT count(*) FROM login_failures WHERE login = ?1 AND addr = ?2 AND at_ms > ?3",
                    &[&key, &a, &since],
                )?,
                count("SELECT count(*) FROM login_failures WHERE addr = ?1 AND at_ms > ?2", &[&a, &since])?,
            ),
            None => (0, 0),
        };
        // An address far past every limit is refused whatever happens: its further
        // attempts are not written row by row (a flood would grow the table by the
        // million), and its count stays at the cap until the window slides.
        let row = if by_addr < RECORD_CAP_PER_ADDR {
            tx.execute(
                "INSERT INTO login_failures (login, at_ms, addr) VALUES (?1, ?2, ?3)",
                params![key, ms(now), addr],
            )?;
            tx.last_insert_rowid()
        } else {
            0
        };
        tx.commit()?;
        Ok((row, AttemptCounts { by_key, by_pair, by_addr }))
    }

    /// The attempt succeeded (or never got to its check): it is not a failure.
    pub fn forget_attempt(&self, row: i64) -> Result<(), StoreError> {
        self.lock().execute("DELETE FROM login_failures WHERE id = ?1", [row])?;
        Ok(())
    }

    /// Deletes what has outlived its use: sessions past their expiry, and failed
    /// logins older than a day (the limits look back 15 minutes). Returns how many of
    /// each went. The escalation engine runs it with each step.
    pub fn prune_expired(&self, now: DateTime<Utc>) -> Result<(usize, usize), StoreError> {
        let conn = self.lock();
        let sessions = conn.execute("DELETE FROM sessions WHERE expires_ms <= ?1", [ms(now)])?;
        let failures =
            conn.execute("DELETE FROM login_failures WHERE at_ms <= ?1", [ms(now - Duration::days(1))])?;
        Ok((sessions, failures))
    }

    /// Failed logins of `login` within `window` before `now`.
    pub fn login_failures(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u64, StoreError> {
        let n: i64 = self.lock().query_row(
            "SELECT count(*) FROM login_failures WHERE login = ?1 AND at_ms > ?2",
            params![login, ms(now - window)],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

/// One dashboard account as the user list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: UserId,
    pub login: String,
    pub role: Role,
    pub district: Option<String>,
    pub disabled: bool,
    /// Sessions not yet expired.
    pub sessions: u64,
    /// Where alerts are e-mailed to, if anywhere.
    pub email: Option<String>,
    /// On the duty roster: told of alerts at the ladder's first rung.
    pub on_duty: bool,
    /// The name residents hear when this account takes on their call.
    pub spoken_name: Option<String>,
}

/// Something done to an account, audited with who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    Disable,
    Enable,
    /// A new Argon2 hash (every session of the account ends).
    SetPassword(String),
    EndSessions,
    /// Where the account's alerts are e-mailed (`None`: nowhere).
    SetEmail(Option<String>),
    /// On or off the duty roster.
    SetDuty(bool),
    /// The name a resident's tablet says when this account takes on their call
    /// (`None`: the role only). Checked by [`spoken_name`].
    SetSpokenName(Option<String>),
}

/// A name for residents to hear (「佐藤」): 1 to 12 characters once trimmed, no control
/// characters and no さん (the tablet adds it); `None` when it is not one.
pub fn spoken_name(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_suffix("さん").unwrap_or(s).trim();
    let n = s.chars().count();
    ((1..=12).contains(&n) && !s.chars().any(char::is_control)).then(|| s.to_owned())
}

impl AccountChange {
    /// The audit log's word for it.
    pub fn action(&self) -> &'static str {
        match self {
            AccountChange::Disable => "disable_user",
            AccountChange::Enable => "enable_user",
            AccountChange::SetPassword(_) => "reset_password",
            AccountChange::EndSessions => "end_sessions",
            AccountChange::SetEmail(_) => "set_email",
            AccountChange::SetDuty(true) => "duty_on",
            AccountChange::SetDuty(false) => "duty_off",
            AccountChange::SetSpokenName(_) => "set_spoken_name",
        }
    }
}

impl Store {
    /// Adds a dashboard user; `password_hash` is an Argon2 PHC string. Audited as
    /// done from the office's terminal (no dashboard user adds accounts).
    pub fn add_user(
        &self,
        login: &str,
        password_hash: &str,
        role: Role,
        district: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UserId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO users (login, password_hash, role, district, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![login, password_hash, role.key(), district, ms(now)],
        )?;
        let id = UserId(tx.last_insert_rowid());
        audit_tx(&tx, None, "add_user", About::Account(id), now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Every account, by login.
    pub fn users(&self, now: DateTime<Utc>) -> Result<Vec<UserRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT u.id, u.login, u.role, u.district, u.disabled_ms IS NOT NULL,
                 (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_ms > ?1),
                 u.email, u.on_duty, u.spoken_name
             FROM users u ORDER BY u.login",
        )?;
        let rows = stmt.query_map([ms(now)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, login, role, district, disabled, sessions, email, on_duty, spoken_name) = row?;
            out.push(UserRow {
                user: UserId(id),
                login,
                role: parse_role(&role)?,
                district,
                disabled,
                sessions: sessions as u64,
                email,
                on_duty,
                spoken_name,
            });
        }
        Ok(out)
    }

    /// Applies `change` to the account `login`, ends its sessions when it takes
    /// something away (disabling, a new password, ending them), and audits it, in one transaction. Returns the
    /// account and how many live sessions ended; `None` for an unknown login.
    pub fn change_account(
        &self,
        by: Option<UserId>,
        login: &str,
        change: AccountChange,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserId, usize)>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let Some(id) = tx
            .query_row("SELECT id FROM users WHERE login = ?1", [login], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            return Ok(None);
        };
        let action = change.action();
        let ends_sessions = matches!(
            change,
            AccountChange::Disable | AccountChange::SetPassword(_) | AccountChange::EndSessions
        );
        match change {
            AccountChange::Disable => {
                tx.execute(
                    "UPDATE users SET disabled_ms = ?2 WHERE id = ?1 AND disabled_ms IS NULL",
                    params![id, ms(now)],
                )?;
            }
            AccountChange::Enable => {
                tx.execute("UPDATE users SET disabled_ms = NULL WHERE id = ?1", [id])?;
            }
            AccountChange::SetPassword(hash) => {
                tx.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![id, hash])?;
            }
            AccountChange::EndSessions => {}
            AccountChange::SetEmail(email) => {
                tx.execute("UPDATE users SET email = ?2 WHERE id = ?1", params![id, email])?;
            }
            AccountChange::SetDuty(on) => {
                tx.execute("UPDATE users SET on_duty = ?2 WHERE id = ?1", params![id, on])?;
            }
            AccountChange::SetSpokenName(name) => {
                tx.execute("UPDATE users SET spoken_name = ?2 WHERE id = ?1", params![id, name])?;
            }
        }
        let ended = if ends_sessions {
            tx.execute("DELETE FROM sessions WHERE user_id = ?1 AND expires_ms > ?2", params![id, ms(now)])?
        } else {
            0
        };
        audit_tx(&tx, by, action, About::Account(UserId(id)), now)?;
        tx.commit()?;
        Ok(Some((UserId(id), ended)))
    }
}
