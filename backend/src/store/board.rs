//! Today's board: each resident's state today, the counts of each state, and the
//! visit list. One query decides the state ([`STATE_TODAY`]); the rows, the counts
//! and the visit list all read it, so the counts are the rows counted.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{BoardState, CheckInAnswer, ResidentId, Store, StoreError, day_text, from_ms, ms};
use crate::clock::local_day;
use chrono::Duration;

/// Every resident (filtered by [`district_filter`] on `?4`) with their state today
/// as a code (the position in [`BoardState::ALL`]): needing help, then an answer to
/// look at, then confirmed, then paused, then unconfirmed, then with no tablet heard
/// from since `?3`, else pending. `?1` is today, `?2` now. The one definition of a resident's state today.
const STATE_TODAY: &str = "
    SELECT r.id, r.display_name, r.district, r.phone, s.checkin_ms, s.changed_ms, r.kana,
        CASE
            WHEN s.status = 'needs_help' THEN 0
            WHEN s.status = 'attention' THEN 1
            WHEN s.status = 'confirmed' THEN 6
            WHEN EXISTS (SELECT 1 FROM pauses p WHERE p.resident_id = r.id
                AND p.from_ms <= ?2 AND p.until_ms > ?2) THEN 5
            WHEN s.status = 'unconfirmed' THEN 2
            WHEN NOT EXISTS (SELECT 1 FROM devices d WHERE d.resident_id = ifnull(r.household_of, r.id)
                AND d.revoked_ms IS NULL AND d.last_seen_ms > ?3) THEN 3
            ELSE 4
        END AS state
    FROM residents r LEFT JOIN statuses s ON s.resident_id = r.id AND s.day = ?1";

fn state(code: i64) -> Result<BoardState, StoreError> {
    usize::try_from(code)
        .ok()
        .and_then(|i| BoardState::ALL.get(i).copied())
        .ok_or(StoreError::Corrupt { column: "board state" })
}

/// One line of today's board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardRow {
    pub resident: ResidentId,
    pub display_name: String,
    pub district: String,
    pub state: BoardState,
    /// The resident's own phone ('' when none is known).
    pub phone: String,
    /// When today's check-in arrived, if one did.
    pub checked_in: Option<DateTime<Utc>>,
    /// What today's check-ins said, in the order answered.
    pub said: Vec<CheckInAnswer>,
    /// When today's status last changed (a check-in, a call, the engine), if it did.
    pub changed_at: Option<DateTime<Utc>>,
}

/// Counts on today's board: each resident in exactly one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoardCounts {
    pub confirmed: u64,
    pub unconfirmed: u64,
    pub needs_help: u64,
    /// Checked in with an answer someone should look at (要確認).
    pub attention: u64,
    pub paused: u64,
    /// Not yet due (window not over) and not checked in.
    pub pending: u64,
    /// Not yet checked in, and the tablet has not been heard from within the offline limit.
    pub device_offline: u64,
}

impl BoardCounts {
    pub fn of(&self, state: BoardState) -> u64 {
        match state {
            BoardState::NeedsHelp => self.needs_help,
            BoardState::Attention => self.attention,
            BoardState::Unconfirmed => self.unconfirmed,
            BoardState::DeviceOffline => self.device_offline,
            BoardState::Pending => self.pending,
            BoardState::Paused => self.paused,
            BoardState::Confirmed => self.confirmed,
        }
    }

    fn count(&mut self, state: BoardState, n: u64) {
        *match state {
            BoardState::NeedsHelp => &mut self.needs_help,
            BoardState::Attention => &mut self.attention,
            BoardState::Unconfirmed => &mut self.unconfirmed,
            BoardState::DeviceOffline => &mut self.device_offline,
            BoardState::Pending => &mut self.pending,
            BoardState::Paused => &mut self.paused,
            BoardState::Confirmed => &mut self.confirmed,
        } += n;
    }
}

/// The columns [`board_row`] reads, in its order, from a `{today}` row `t`; the
/// query adds the joined answers (or NULL) as column 7.
const BOARD_COLUMNS: &str = "id, display_name, district, state, phone, checkin_ms, changed_ms";

/// One board row as stored: (id, name, district, state code), (phone, check-in,
/// status changed), joined answers.
type RawBoardRow = ((i64, String, String, i64), (String, Option<i64>, Option<i64>), Option<String>);

fn board_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawBoardRow> {
    Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), (r.get(4)?, r.get(5)?, r.get(6)?), r.get(7)?))
}

impl TryFrom<RawBoardRow> for BoardRow {
    type Error = StoreError;

    fn try_from(
        ((id, display_name, district, code), (phone, checkin, changed), said): RawBoardRow,
    ) -> Result<Self, StoreError> {
        Ok(BoardRow {
            resident: ResidentId(id),
            display_name,
            district,
            state: state(code)?,
            phone,
            checked_in: checkin.map(from_ms).transpose()?,
            said: said.as_deref().map(parse_answers).transpose()?.unwrap_or_default(),
            changed_at: changed.map(from_ms).transpose()?,
        })
    }
}

/// One check-in and what it said, for the resident's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInRecord {
    pub at: DateTime<Utc>,
    /// Empty when the tablet sent no answer the office can read.
    pub said: Vec<CheckInAnswer>,
}

/// One line of the visit list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRow {
    pub resident: ResidentId,
    pub display_name: String,
    pub district: String,
    pub state: BoardState,
    pub last_visit: Option<DateTime<Utc>>,
    /// The resident's own phone and address ('' when not entered).
    pub phone: String,
    pub address: String,
    /// What the latest check-in said, and when it came.
    pub said: Vec<CheckInAnswer>,
    pub said_at: Option<DateTime<Utc>>,
    /// Open alerts of the slower kinds ([`CONCERNS`]): why to visit soon though today
    /// looks calm.
    pub concerns: Vec<vocab::AlertKind>,
}

/// The alerts that are a change to look into on a visit rather than a call to answer
/// now: open, they raise the resident within their group on the visit list.
pub const CONCERNS: [vocab::AlertKind; 4] = [
    vocab::AlertKind::MedicineMissed,
    vocab::AlertKind::LegsWeaker,
    vocab::AlertKind::MoodFalling,
    vocab::AlertKind::MemoryChange,
];

impl Store {
    /// Runs `select` (which names the state query as `{today}` and may use `?5`, the
    /// limit) for a district (or the town) now, one row through `row` each.
    fn over_today<T>(
        &self,
        select: &str,
        district: Option<&str>,
        now: DateTime<Utc>,
        limit: usize,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        self.over_today_with(select, district, now, limit, "", row)
    }

    /// As [`Store::over_today`], with `?6` bound to `text`.
    fn over_today_with<T>(
        &self,
        select: &str,
        district: Option<&str>,
        now: DateTime<Utc>,
        limit: usize,
        text: &str,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.lock();
        let today = format!("({STATE_TODAY} {})", district_filter(district));
        let mut stmt = conn.prepare_cached(&select.replace("{today}", &today))?;
        let offline_since = now - DEVICE_OFFLINE_AFTER;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (day, now, offline_since) = (day_text(local_day(now)), ms(now), ms(offline_since));
        let all: [&dyn rusqlite::ToSql; 6] = [&day, &now, &offline_since, &district, &limit, &text];
        // Only the parameters the statement names (SQLite counts up to the highest).
        let named = stmt.parameter_count();
        let rows = stmt.query_map(rusqlite::params_from_iter(&all[..named]), row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Today's board for a district (or the town), most at risk first, at most `limit`.
    pub fn board_rows(
        &self,
        district: Option<&str>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<BoardRow>, StoreError> {
        let select = format!(
            "SELECT {BOARD_COLUMNS}, {} FROM {{today}} t
             ORDER BY state, checkin_ms IS NULL, checkin_ms, id LIMIT ?5",
            answers_joined("resident_id = t.id AND day = ?1")
        );
        let rows = self.over_today(&select, district, now, limit, board_row)?;
        rows.into_iter().map(BoardRow::try_from).collect()
    }

    /// The resident list: everyone in a district (or the town) whose name or kana
    /// holds `search` (katakana and hiragana alike; empty: everyone), with their state
    /// today, by kana (or name) or by need; at most `limit`.
    pub fn resident_list(
        &self,
        district: Option<&str>,
        search: &str,
        by_need: bool,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<BoardRow>, StoreError> {
        let order = if by_need { "state, sort_key, id" } else { "sort_key, id" };
        // LIKE's own wildcards in what was typed are searched for, not obeyed.
        let needle = hiragana(search.trim()).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        // No answers on the list: column 7 is NULL.
        let select = format!(
            "SELECT {BOARD_COLUMNS}, NULL,
                 CASE WHEN kana != '' THEN kana ELSE display_name END AS sort_key
             FROM {{today}} t
             WHERE ?6 = '' OR t.display_name LIKE '%' || ?6 || '%' ESCAPE '\\'
                 OR t.kana LIKE '%' || ?6 || '%' ESCAPE '\\'
             ORDER BY {order} LIMIT ?5"
        );
        let rows = self.over_today_with(&select, district, now, limit, &needle, board_row)?;
        rows.into_iter().map(BoardRow::try_from).collect()
    }

    /// One resident's line of today's board (their state by the one definition).
    pub fn resident_today(
        &self,
        resident: ResidentId,
        now: DateTime<Utc>,
    ) -> Result<Option<BoardState>, StoreError> {
        let rows = self.over_today_with(
            "SELECT state FROM {today} t WHERE t.id = CAST(?6 AS INTEGER) LIMIT ?5",
            None,
            now,
            1,
            &resident.0.to_string(),
            |r| r.get::<_, i64>(0),
        )?;
        rows.first().map(|&code| state(code)).transpose()
    }

    /// Records that `user` looks at the board now; returns when they last did, so
    /// the board can mark what changed since.
    pub fn look_at_board(
        &self,
        user: super::UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let before: Option<i64> =
            tx.query_row("SELECT board_seen_ms FROM users WHERE id = ?1", [user.0], |r| r.get(0))?;
        tx.execute("UPDATE users SET board_seen_ms = ?2 WHERE id = ?1", params![user.0, ms(now)])?;
        tx.commit()?;
        before.map(from_ms).transpose()
    }

    /// A resident's check-ins with their answers, newest first, at most `limit`.
    pub fn checkins(&self, resident: ResidentId, limit: usize) -> Result<Vec<CheckInRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT e.server_ms, {} FROM events e WHERE e.resident_id = ?1 AND e.kind = 'check_in'
             ORDER BY e.server_ms DESC, e.id DESC LIMIT ?2",
            answers_joined("event_id = e.id")
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![resident.0, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        rows.map(|row| {
            let (at, said) = row?;
            Ok(CheckInRecord {
                at: from_ms(at)?,
                said: said.as_deref().map(parse_answers).transpose()?.unwrap_or_default(),
            })
        })
        .collect()
    }

    /// Today's board counts for a district (or the whole town).
    pub fn board_counts(
        &self,
        district: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<BoardCounts, StoreError> {
        let rows = self.over_today(
            "SELECT state, count(*) FROM {today} GROUP BY state LIMIT ?5",
            district,
            now,
            usize::MAX,
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        let mut c = BoardCounts::default();
        for (code, n) in rows {
            c.count(state(code)?, n as u64);
        }
        Ok(c)
    }

    /// Whom to visit first, for a district (or the town): needing help, then an
    /// answer to look at, then unconfirmed, then device offline, then everyone else; in
    /// each group those with an open concern ([`CONCERNS`]) first, then by the
    /// longest since the last visit (never visited first). Paused residents are away
    /// and left out.
    pub fn visit_list(
        &self,
        district: Option<&str>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<VisitRow>, StoreError> {
        let select = format!(
            "SELECT t.id, t.display_name, t.district, t.state,
                 (SELECT max(at_ms) FROM visits v WHERE v.resident_id = t.id) AS visited,
                 t.phone, (SELECT address FROM residents r WHERE r.id = t.id),
                 (SELECT max(at_ms) FROM checkin_answers a WHERE a.resident_id = t.id), {},
                 (SELECT group_concat(kind) FROM (SELECT DISTINCT kind FROM alerts l
                      WHERE l.resident_id = t.id AND l.resolved_ms IS NULL AND l.kind IN ({})
                      ORDER BY kind)) AS concerns
             FROM {{today}} t
             WHERE t.state != 5
             ORDER BY min(t.state, 4), concerns IS NULL, visited IS NOT NULL, visited, t.id LIMIT ?5",
            answers_joined("event_id = (SELECT max(event_id) FROM checkin_answers WHERE resident_id = t.id)"),
            CONCERNS.map(|k| format!("'{}'", k.key())).join(", ")
        );
        let rows = self.over_today(&select, district, now, limit, |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get::<_, Option<i64>>(4)?),
                (r.get(5)?, r.get(6)?, r.get::<_, Option<i64>>(7)?, r.get::<_, Option<String>>(8)?),
                r.get::<_, Option<String>>(9)?,
            ))
        })?;
        rows.into_iter()
            .map(
                |((id, display_name, district, code, visited), (phone, address, said_at, said), concerns)| {
                    Ok(VisitRow {
                        resident: ResidentId(id),
                        display_name,
                        district,
                        state: state(code)?,
                        last_visit: visited.map(from_ms).transpose()?,
                        phone,
                        address,
                        said: said.as_deref().map(parse_answers).transpose()?.unwrap_or_default(),
                        said_at: said_at.map(from_ms).transpose()?,
                        concerns: concerns
                            .unwrap_or_default()
                            .split(',')
                            .filter_map(|k| k.parse::<vocab::AlertKind>().ok())
                            .collect(),
                    })
                },
            )
            .collect()
    }
}

/// A tablet silent for longer than this counts as offline on the board.
pub const DEVICE_OFFLINE_AFTER: Duration = Duration::hours(1);

/// The residents filter: a plain equality when a district is given, so SQLite uses
/// the district index (an `?4 IS NULL OR …` would make it scan everyone).
pub(super) fn district_filter(district: Option<&str>) -> &'static str {
    if district.is_some() { "WHERE r.district = ?4" } else { "WHERE ?4 IS NULL" }
}

/// The answers of `checkin_answers` rows matching `filter`, in the order answered, as
/// one text that [`parse_answers`] reads (`filter` is SQL of the caller's own, never
/// user input).
pub(super) fn answers_joined(filter: &str) -> String {
    format!(
        "(SELECT group_concat(x.question || ' ' || x.intent || ' ' || ifnull(x.body_part, ''), ',')
          FROM (SELECT * FROM checkin_answers WHERE {filter} ORDER BY id) x)"
    )
}

/// Answers as `group_concat` joins them: `question intent body_part`, comma-separated
/// (every part a vocabulary key, so neither separator occurs inside one).
pub(super) fn parse_answers(joined: &str) -> Result<Vec<CheckInAnswer>, StoreError> {
    let corrupt = || StoreError::Corrupt { column: "checkin_answers" };
    joined
        .split(',')
        .map(|one| {
            let mut parts = one.split(' ');
            let (Some(q), Some(i), Some(b)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(corrupt());
            };
            Ok(CheckInAnswer {
                question: q.parse().map_err(|_| corrupt())?,
                intent: i.parse().map_err(|_| corrupt())?,
                body_part: if b.is_empty() { None } else { Some(b.parse().map_err(|_| corrupt())?) },
            })
        })
        .collect()
}

/// Katakana folded to hiragana (ア→あ), so a kana search finds either way of writing.
pub fn hiragana(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            c => c,
        })
        .collect()
}
