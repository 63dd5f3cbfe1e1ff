//! Dashboard users: sessions (tokens kept as SHA-256), failed-login counting for
//! the rate limit, and the board's per-resident list.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension as _, params};

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

/// The verdict on a login attempt before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginGate {
    /// Too many failures: refused without checking (already counted).
    Refused,
    /// Go on and check; the attempt's row until it succeeds.
    Attempt(i64),
}

/// A session lasts one working day at most.
pub const SESSION_TTL: Duration = Duration::hours(8);

impl Store {
    /// The stored password hash and role of `login`, for the login check.
    pub fn user_for_login(&self, login: &str) -> Result<Option<(SessionUser, String)>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT id, login, role, district, password_hash FROM users WHERE login = ?1",
                [login],
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
                 WHERE s.token_hash = ?1 AND s.expires_ms > ?2",
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

    /// Counts and records a login attempt in one transaction, before any password is
    /// checked, so parallel attempts cannot all pass a check that each reads before
    /// the others write: every attempt is recorded as a failure (a success then
    /// clears its own row with [`Store::login_succeeded`]). Refused when `login` has
    /// `max_per_login` failures within `window`, or the address `addr` has
    /// `max_per_addr` (random login names from one place).
    pub fn begin_login(
        &self,
        login: &str,
        addr: Option<&str>,
        now: DateTime<Utc>,
        window: Duration,
        (max_per_login, max_per_addr): (u64, u64),
    ) -> Result<LoginGate, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let since = ms(now - window);
        let by_login: i64 = tx.query_row(
            "SELECT count(*) FROM login_failures WHERE login = ?1 AND at_ms > ?2",
            params![login, since],
            |r| r.get(0),
        )?;
        let by_addr: i64 = match addr {
            Some(a) => tx.query_row(
                "SELECT count(*) FROM login_failures WHERE addr = ?1 AND at_ms > ?2",
                params![a, since],
                |r| r.get(0),
            )?,
            None => 0,
        };
        tx.execute(
            "INSERT INTO login_failures (login, at_ms, addr) VALUES (?1, ?2, ?3)",
            params![login, ms(now), addr],
        )?;
        let attempt = tx.last_insert_rowid();
        tx.commit()?;
        Ok(if by_login as u64 >= max_per_login || by_addr as u64 >= max_per_addr {
            LoginGate::Refused
        } else {
            LoginGate::Attempt(attempt)
        })
    }

    /// The attempt succeeded (or never got to check the password): it is not a failure.
    pub fn login_succeeded(&self, attempt: i64) -> Result<(), StoreError> {
        self.lock().execute("DELETE FROM login_failures WHERE id = ?1", [attempt])?;
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

impl Store {
    /// Adds a dashboard user; `password_hash` is an Argon2 PHC string.
    pub fn add_user(
        &self,
        login: &str,
        password_hash: &str,
        role: Role,
        district: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UserId, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO users (login, password_hash, role, district, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![login, password_hash, role.key(), district, ms(now)],
        )?;
        Ok(UserId(conn.last_insert_rowid()))
    }
}
