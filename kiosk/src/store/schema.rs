//! The local database's schema as numbered migrations, applied on open.
//!
//! `PRAGMA user_version` holds how many have run; each runs in its own transaction
//! together with the version bump, so a tablet that loses power mid-upgrade retries
//! the same step on its next start. Migrations are only ever appended.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: the outbox and everything the tablet keeps for its residents.
    "CREATE TABLE device (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        -- The next per-device sequence number; only ever grows.
        next_seq INTEGER NOT NULL,
        pull_cursor INTEGER NOT NULL DEFAULT 0,
        device_id INTEGER,
        token TEXT
    );
    INSERT INTO device (id, next_seq) VALUES (1, 1);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        device_ms INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE dead_letter (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        device_ms INTEGER NOT NULL,
        body TEXT NOT NULL,
        reason TEXT NOT NULL,
        dead_ms INTEGER NOT NULL
    );
    CREATE TABLE residents (
        id INTEGER PRIMARY KEY,
        display_name TEXT NOT NULL,
        card_identity TEXT UNIQUE
    );
    CREATE TABLE settings (
        resident_id INTEGER PRIMARY KEY,
        volume REAL NOT NULL,
        speech_rate REAL NOT NULL,
        text_scale REAL NOT NULL
    );
    -- What the office decides for a resident; each pull item replaces the whole set.
    CREATE TABLE office_settings (
        resident_id INTEGER PRIMARY KEY,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        grace_minutes INTEGER NOT NULL,
        contraindications TEXT NOT NULL
    );
    CREATE TABLE pauses (
        resident_id INTEGER NOT NULL,
        from_ms INTEGER NOT NULL,
        until_ms INTEGER NOT NULL,
        PRIMARY KEY (resident_id, from_ms, until_ms)
    );
    CREATE TABLE emergency_contacts (
        resident_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        relation TEXT NOT NULL,
        phone TEXT NOT NULL,
        PRIMARY KEY (resident_id, position)
    );
    CREATE TABLE checkins (
        event_id TEXT PRIMARY KEY,
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        outcome TEXT NOT NULL,
        feeling TEXT NOT NULL,
        pains TEXT NOT NULL
    );
    CREATE INDEX checkins_by_day ON checkins (resident_id, day);
    CREATE TABLE care_log (
        event_id TEXT PRIMARY KEY,
        resident_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE exercise_sessions (
        event_id TEXT PRIMARY KEY,
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        exercise_ids TEXT NOT NULL,
        minutes INTEGER NOT NULL
    );
    CREATE INDEX exercise_by_day ON exercise_sessions (resident_id, day);
    CREATE TABLE plans (
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        intensity TEXT,
        exercise_ids TEXT NOT NULL,
        PRIMARY KEY (resident_id, day)
    );
    CREATE TABLE campaigns (
        campaign_id INTEGER PRIMARY KEY,
        message TEXT NOT NULL,
        deadline_ms INTEGER NOT NULL,
        closed INTEGER NOT NULL
    );
    CREATE TABLE safety_answers (
        campaign_id INTEGER NOT NULL,
        resident_id INTEGER NOT NULL,
        reply TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (campaign_id, resident_id)
    );
    CREATE TABLE card_link_requests (
        event_id TEXT PRIMARY KEY,
        resident_id INTEGER NOT NULL,
        card_identity TEXT NOT NULL
    );
    CREATE TABLE weather (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        body TEXT NOT NULL
    );
    CREATE TABLE reprompts (
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (resident_id, day)
    );",
    // The key that lets a tablet repeat an enrolment whose answer was lost.
    "ALTER TABLE device ADD COLUMN enrol_key TEXT;",
    // Dialect bundles the office announced; `path` is set once one is fetched,
    // checked and written beside the database.
    "CREATE TABLE dialect_bundles (
        version INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        path TEXT
    );",
    // The voice a resident hears (dialect_model::tts::Voice keys).
    "ALTER TABLE settings ADD COLUMN voice TEXT NOT NULL DEFAULT 'm001';",
    // Wrong staff PINs in a row and when the last was typed: the lockout outlives a
    // restart.
    "ALTER TABLE device ADD COLUMN staff_pin_failures INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE device ADD COLUMN staff_pin_failed_ms INTEGER;",
    // The office asks this resident's card sign-in to take the card's PIN too.
    "ALTER TABLE office_settings ADD COLUMN pin_sign_in INTEGER NOT NULL DEFAULT 0;",
    // Who at the office took on a call for help (a role, 「民生委員」), once they have.
    "ALTER TABLE care_log ADD COLUMN acknowledged_by TEXT;",
    // When the tablet asked a resident by itself (its own clock, local): a restart
    // inside the window does not ask once more.
    "CREATE TABLE asks (
        resident_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (resident_id, at)
    );",
    // Whether the tablet has asked since a re-prompt arrived: it asks at once, once.
    "ALTER TABLE reprompts ADD COLUMN asked INTEGER NOT NULL DEFAULT 0;",
    // The medicine times the office set (times of day only), and each dose's day on the
    // tablet: when it asked and what was recorded (1 kept, 0 missed, NULL not yet).
    "CREATE TABLE medicine_times (
        resident_id INTEGER NOT NULL,
        slot TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (resident_id, slot)
    );
    CREATE TABLE medicine_doses (
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        slot TEXT NOT NULL,
        asked TEXT NOT NULL DEFAULT '',
        kept INTEGER,
        PRIMARY KEY (resident_id, day, slot)
    );",
    // Which small-talk topic was used with whom on which day (two weeks of it): never
    // what was said.
    "CREATE TABLE talks (
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        topic TEXT NOT NULL,
        PRIMARY KEY (resident_id, day, topic)
    );",
    // What staff noted a resident enjoys (「盆栽」), for small talk of their own.
    "CREATE TABLE interests (
        resident_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        interest TEXT NOT NULL,
        PRIMARY KEY (resident_id, position)
    );",
    // The chair-stand test (CS-30) by day: offered (count NULL) or done with its count,
    // for the month's and the week's rules and the next test's starting count.
    "CREATE TABLE chair_stands (
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        count INTEGER,
        PRIMARY KEY (resident_id, day)
    );",
    // Town news from the office (withdrawn: never said), and whom each was read to.
    "CREATE TABLE announcements (
        announcement_id INTEGER PRIMARY KEY,
        message TEXT NOT NULL,
        until_day TEXT NOT NULL,
        withdrawn INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE news_heard (
        announcement_id INTEGER NOT NULL,
        resident_id INTEGER NOT NULL,
        PRIMARY KEY (announcement_id, resident_id)
    );",
    // The weekly talk about the day and three words: the days it was had (its results
    // go out through the outbox only), and whether staff turned it off.
    "CREATE TABLE memory_days (
        resident_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY (resident_id, day)
    );
    ALTER TABLE office_settings ADD COLUMN memory_off INTEGER NOT NULL DEFAULT 0;",
];

/// The schema version a fully migrated store has.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Runs every migration the file has not seen yet.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if done > VERSION {
            return Err(StoreError::TooNew { found: done, known: VERSION });
        }
        let Some(step) = MIGRATIONS.get(done as usize) else { return Ok(()) };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", done + 1)?;
        tx.commit()?;
    }
}
