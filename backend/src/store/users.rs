//! Dashboard users: sessions (tokens kept as SHA-256), failed-login counting for
//! the rate limit, and the board's per-resident list.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::office::DEVICE_OFFLINE_AFTER;
use super::{BoardState, Role, parse_role};
use super::{ResidentId, Store, StoreError, UserId, day_text, devices::random_bytes, hex, ms, sha256_hex};
use crate::clock::local_day;

/// Who is behind a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user: UserId,
    pub login: String,
    pub role: Role,
    /// The only district a 民生委員 may see; `None` for town-wide roles.
    pub district: Option<String>,
}

/// One line of today's board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardRow {
    pub resident: ResidentId,
    pub display_name: String,
    pub district: String,
    pub state: BoardState,
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

    /// Notes a failed login and returns how many failures `login` had in `window`.
    pub fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u64, StoreError> {
        let conn = self.lock();
        conn.execute("INSERT INTO login_failures (login, at_ms) VALUES (?1, ?2)", params![login, ms(now)])?;
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM login_failures WHERE login = ?1 AND at_ms > ?2",
            params![login, ms(now - window)],
            |r| r.get(0),
        )?;
        Ok(n as u64)
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

    /// Today's board for a district (or the town), most at risk first, at most `limit`.
    pub fn board_rows(
        &self,
        district: Option<&str>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<BoardRow>, StoreError> {
        let conn = self.lock();
        let sql = format!(
            "SELECT * FROM (
                 SELECT r.id, r.display_name, r.district,
                     CASE
                         WHEN s.status = 'needs_help' THEN 0
                         WHEN s.status = 'confirmed' THEN 5
                         WHEN EXISTS (SELECT 1 FROM pauses p WHERE p.resident_id = r.id
                             AND p.from_ms <= ?2 AND p.until_ms > ?2) THEN 4
                         WHEN s.status = 'unconfirmed' THEN 1
                         WHEN NOT EXISTS (SELECT 1 FROM devices d WHERE d.resident_id = r.id
                             AND d.revoked_ms IS NULL AND d.last_seen_ms > ?3) THEN 2
                         ELSE 3
                     END AS risk
                 FROM residents r LEFT JOIN statuses s ON s.resident_id = r.id AND s.day = ?1
                 {})
             ORDER BY risk, id LIMIT ?5",
            super::office::district_filter(district)
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                day_text(local_day(now)),
                ms(now),
                ms(now - DEVICE_OFFLINE_AFTER),
                district,
                limit as i64
            ],
            |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (id, display_name, district, risk) = row?;
            let state = match risk {
                0 => BoardState::NeedsHelp,
                1 => BoardState::Unconfirmed,
                2 => BoardState::DeviceOffline,
                3 => BoardState::Pending,
                4 => BoardState::Paused,
                _ => BoardState::Confirmed,
            };
            out.push(BoardRow { resident: ResidentId(id), display_name, district, state });
        }
        Ok(out)
    }
}
