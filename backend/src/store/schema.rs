//! The SQLite schema as numbered migrations, applied in order at open.

use rusqlite::{Connection, OptionalExtension as _};

use super::StoreError;

/// The index + 1 is the schema version. Never edit a shipped migration: add one.
pub(super) const MIGRATIONS: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;",
    // Instants are Unix milliseconds; days are local ISO dates; window bounds are
    // minutes after local midnight. Names live only in `residents.display_name`.
    "
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'staff', 'minsei')),
        district TEXT,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE residents (
        id INTEGER PRIMARY KEY,
        display_name TEXT NOT NULL,
        district TEXT NOT NULL,
        card_identity TEXT UNIQUE CHECK (card_identity IS NULL OR length(card_identity) = 64),
        window_start_min INTEGER NOT NULL,
        window_end_min INTEGER NOT NULL,
        grace_min INTEGER NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX residents_district ON residents (district);
    CREATE TABLE pauses (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        from_ms INTEGER NOT NULL,
        until_ms INTEGER NOT NULL,
        reason TEXT NOT NULL
    ) STRICT;
    CREATE INDEX pauses_resident ON pauses (resident_id, until_ms);
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER REFERENCES residents (id),
        token_hash TEXT NOT NULL UNIQUE,
        enrolled_ms INTEGER NOT NULL,
        revoked_ms INTEGER,
        last_seen_ms INTEGER,
        app_version TEXT NOT NULL DEFAULT '',
        microphone TEXT NOT NULL DEFAULT 'unknown',
        reader TEXT NOT NULL DEFAULT 'unknown',
        speaker TEXT NOT NULL DEFAULT 'unknown',
        free_storage_mib INTEGER,
        outbox_len INTEGER,
        device_clock_skew_ms INTEGER
    ) STRICT;
    CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY,
        resident_id INTEGER REFERENCES residents (id),
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        used_ms INTEGER
    ) STRICT;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        event_uuid TEXT NOT NULL UNIQUE,
        device_id INTEGER NOT NULL REFERENCES devices (id),
        seq INTEGER NOT NULL,
        resident_id INTEGER REFERENCES residents (id),
        kind TEXT NOT NULL,
        device_ms INTEGER NOT NULL,
        server_ms INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (device_id, seq)
    ) STRICT;
    CREATE INDEX events_resident ON events (resident_id, server_ms);
    CREATE TABLE statuses (
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        changed_ms INTEGER NOT NULL,
        PRIMARY KEY (resident_id, day)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE status_changes (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        day TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        actor TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX status_changes_resident ON status_changes (resident_id, at_ms);
    CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        district TEXT,
        message TEXT NOT NULL,
        deadline_ms INTEGER NOT NULL,
        started_by TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        deadline_handled_ms INTEGER,
        closed_ms INTEGER
    ) STRICT;
    CREATE TABLE campaign_answers (
        campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        reply TEXT NOT NULL CHECK (reply IN ('safe', 'needs_help')),
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, resident_id)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        kind TEXT NOT NULL,
        day TEXT NOT NULL,
        campaign_id INTEGER REFERENCES campaigns (id),
        raised_ms INTEGER NOT NULL,
        acknowledged_by INTEGER REFERENCES users (id),
        acknowledged_ms INTEGER,
        resolved_ms INTEGER,
        note TEXT
    ) STRICT;
    -- One open alert of a kind per resident and day (or campaign): the engine may
    -- run its step any number of times without raising duplicates.
    CREATE UNIQUE INDEX alerts_once ON alerts (resident_id, kind, day, ifnull(campaign_id, 0))
        WHERE resolved_ms IS NULL;
    CREATE TABLE pull_log (
        cursor INTEGER PRIMARY KEY AUTOINCREMENT,
        resident_id INTEGER REFERENCES residents (id),
        district TEXT,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        user_id INTEGER REFERENCES users (id),
        action TEXT NOT NULL,
        resident_id INTEGER REFERENCES residents (id)
    ) STRICT;
    CREATE INDEX audit_resident ON audit_log (resident_id, at_ms);
    ",
    // The board and the engine look these up per resident (found by the ingest bench).
    "
    CREATE INDEX devices_resident ON devices (resident_id);
    CREATE INDEX alerts_resident_day ON alerts (resident_id, day);
    ",
    // Dashboard sessions (token kept as SHA-256) and failed logins for rate limiting.
    "
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX login_failures_login ON login_failures (login, at_ms);
    ",
    // Card links a tablet asked for, waiting for staff approval.
    "
    CREATE TABLE card_link_requests (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        device_id INTEGER NOT NULL REFERENCES devices (id),
        card_identity TEXT NOT NULL CHECK (length(card_identity) = 64),
        requested_ms INTEGER NOT NULL,
        decided_ms INTEGER,
        decided_by INTEGER REFERENCES users (id)
    ) STRICT;
    ",
    // Answers a tablet misunderstood (names and a confidence, never what was said),
    // and the corrections staff type in after a visit, for `dialect-model learn`.
    "
    CREATE TABLE misunderstandings (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL UNIQUE REFERENCES events (id),
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        question TEXT NOT NULL,
        understood TEXT NOT NULL,
        confidence REAL NOT NULL,
        chosen TEXT,
        at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX misunderstandings_at ON misunderstandings (at_ms);
    CREATE TABLE corrections (
        misunderstanding_id INTEGER PRIMARY KEY REFERENCES misunderstandings (id),
        text TEXT NOT NULL,
        intent TEXT NOT NULL,
        body_part TEXT,
        corrected_by INTEGER NOT NULL REFERENCES users (id),
        corrected_ms INTEGER NOT NULL
    ) STRICT;
    ",
    // The last weather report fetched from the agency and staff's manual override
    // (which wins until cleared), as wire JSON.
    "
    CREATE TABLE weather (
        source TEXT PRIMARY KEY CHECK (source IN ('jma', 'manual')),
        body TEXT NOT NULL,
        set_by INTEGER REFERENCES users (id),
        at_ms INTEGER NOT NULL
    ) STRICT;
    ",
    // The resident's profile beyond the window (contraindications as care's names,
    // comma-separated; living alone and birth year for risk ordering), emergency
    // contacts, and home visits by staff.
    "
    ALTER TABLE residents ADD COLUMN contraindications TEXT NOT NULL DEFAULT '';
    ALTER TABLE residents ADD COLUMN lives_alone INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE residents ADD COLUMN birth_year INTEGER;
    CREATE TABLE emergency_contacts (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        relation TEXT NOT NULL,
        phone TEXT NOT NULL
    ) STRICT;
    CREATE INDEX emergency_contacts_resident ON emergency_contacts (resident_id, position);
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        user_id INTEGER NOT NULL REFERENCES users (id),
        at_ms INTEGER NOT NULL,
        note TEXT NOT NULL
    ) STRICT;
    CREATE INDEX visits_resident ON visits (resident_id, at_ms);
    ",
    // A lost enrolment answer: the same tablet (same retry key) may ask again.
    "
    ALTER TABLE enrolment_codes ADD COLUMN retry_key_hash TEXT;
    ALTER TABLE enrolment_codes ADD COLUMN device_id INTEGER REFERENCES devices (id);
    ",
    // Dialect bundles exactly as uploaded (the tablets check the same bytes' SHA-256).
    "
    CREATE TABLE dialect_bundles (
        version INTEGER PRIMARY KEY CHECK (version > 0),
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        body BLOB NOT NULL,
        published_by INTEGER REFERENCES users (id),
        published_ms INTEGER NOT NULL
    ) STRICT;
    ",
    // The dialect bundle each tablet reports it uses (NULL: the built-in model).
    "
    ALTER TABLE devices ADD COLUMN dialect_bundle INTEGER;
    ",
    // The danger a help request named (a `vocab::Danger` key: fire, …).
    "
    ALTER TABLE alerts ADD COLUMN danger TEXT;
    ",
    // Where a failed login came from (random names from one address are limited too).
    "
    ALTER TABLE login_failures ADD COLUMN addr TEXT;
    CREATE INDEX login_failures_addr ON login_failures (addr, at_ms);
    ",
    // Accounts can be disabled (kept for the audit trail, never deleted); account
    // actions name the account they were done to.
    "
    ALTER TABLE users ADD COLUMN disabled_ms INTEGER;
    ALTER TABLE audit_log ADD COLUMN subject_user_id INTEGER REFERENCES users (id);
    CREATE INDEX audit_subject ON audit_log (subject_user_id, at_ms);
    ",
    // A resident's daily card sign-in asks for the card's PIN (staff choose it).
    "
    ALTER TABLE residents ADD COLUMN pin_sign_in INTEGER NOT NULL DEFAULT 0;
    ",
    // Notifications: who is told of an alert by e-mail, rung by rung, until someone
    // acknowledges it. An address hears of one alert once; a row is the durable queue
    // (sent_ms NULL until the server took it); the family are told only with consent,
    // recorded with who recorded it and when.
    "
    ALTER TABLE users ADD COLUMN email TEXT;
    ALTER TABLE users ADD COLUMN on_duty INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE residents ADD COLUMN phone TEXT NOT NULL DEFAULT '';
    ALTER TABLE emergency_contacts ADD COLUMN email TEXT NOT NULL DEFAULT '';
    ALTER TABLE emergency_contacts ADD COLUMN notify_consent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE emergency_contacts ADD COLUMN consent_by INTEGER REFERENCES users (id);
    ALTER TABLE emergency_contacts ADD COLUMN consent_ms INTEGER;
    ALTER TABLE alerts ADD COLUMN rung INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN rung_ms INTEGER;
    ALTER TABLE alerts ADD COLUMN acknowledged_via INTEGER;
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        rung INTEGER NOT NULL,
        address TEXT NOT NULL,
        user_id INTEGER REFERENCES users (id),
        relation TEXT,
        queued_ms INTEGER NOT NULL,
        next_try_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_ms INTEGER,
        UNIQUE (alert_id, address)
    ) STRICT;
    CREATE INDEX notifications_due ON notifications (next_try_ms) WHERE sent_ms IS NULL;
    -- Alerts already open when mail arrives were seen on the board: nobody is woken
    -- for them, nor their family told.
    UPDATE alerts SET rung = 3 WHERE resolved_ms IS NULL;
    ",
    // The disaster roster (避難行動要支援者名簿): a resident's address, the help they
    // need and their consent to share it in normal times (with who recorded it);
    // declared disasters and their districts' campaigns; responder accounts, which
    // expire. SQLite cannot widen a CHECK, so `users` is rebuilt (foreign keys are
    // off while migrations run and checked before each commits).
    "
    ALTER TABLE residents ADD COLUMN address TEXT NOT NULL DEFAULT '';
    ALTER TABLE residents ADD COLUMN support_needs TEXT NOT NULL DEFAULT '';
    ALTER TABLE residents ADD COLUMN roster_consent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE residents ADD COLUMN roster_consent_by INTEGER REFERENCES users (id);
    ALTER TABLE residents ADD COLUMN roster_consent_ms INTEGER;
    CREATE TABLE disasters (
        id INTEGER PRIMARY KEY,
        reason TEXT NOT NULL,
        declared_by INTEGER NOT NULL REFERENCES users (id),
        declared_ms INTEGER NOT NULL,
        ended_by INTEGER REFERENCES users (id),
        ended_ms INTEGER
    ) STRICT;
    -- NULL district: the whole town.
    CREATE TABLE disaster_districts (
        disaster_id INTEGER NOT NULL REFERENCES disasters (id),
        district TEXT,
        campaign_id INTEGER REFERENCES campaigns (id)
    ) STRICT;
    CREATE TABLE users_v2 (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'staff', 'minsei', 'responder')),
        district TEXT,
        created_ms INTEGER NOT NULL,
        disabled_ms INTEGER,
        email TEXT,
        on_duty INTEGER NOT NULL DEFAULT 0,
        expires_ms INTEGER,
        disaster_id INTEGER REFERENCES disasters (id),
        CHECK ((role = 'responder') = (expires_ms IS NOT NULL AND disaster_id IS NOT NULL))
    ) STRICT;
    INSERT INTO users_v2 (id, login, password_hash, role, district, created_ms, disabled_ms, email, on_duty)
        SELECT id, login, password_hash, role, district, created_ms, disabled_ms, email, on_duty FROM users;
    DROP TABLE users;
    ALTER TABLE users_v2 RENAME TO users;
    ",
    // The office's own timer for each resident's snow-clearing watch.
    "
    CREATE TABLE snow_watches (
        resident_id INTEGER PRIMARY KEY REFERENCES residents (id),
        started_ms INTEGER NOT NULL,
        deadline_ms INTEGER NOT NULL,
        ended_ms INTEGER
    ) STRICT;
    ",
    // A 「助けが必要」 stays the answer when 「無事」 follows; when it came is kept so
    // staff see both.
    "
    ALTER TABLE campaign_answers ADD COLUMN safe_after_help_ms INTEGER;
    ",
    // The exercise-habit score each tablet last reported, with its week's active days.
    "
    CREATE TABLE exercise_progress (
        resident_id INTEGER PRIMARY KEY REFERENCES residents (id),
        habit_score INTEGER NOT NULL CHECK (habit_score BETWEEN 0 AND 100),
        active_days INTEGER NOT NULL CHECK (active_days BETWEEN 0 AND 7),
        reported_ms INTEGER NOT NULL
    ) STRICT;
    ",
    // A check-in's answers, one row each, so the board, the resident page and the
    // visit list read what was said without opening event bodies.
    "
    CREATE TABLE checkin_answers (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events (id),
        resident_id INTEGER NOT NULL REFERENCES residents (id),
        day TEXT NOT NULL,
        question TEXT NOT NULL,
        intent TEXT NOT NULL,
        body_part TEXT,
        at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX checkin_answers_day ON checkin_answers (resident_id, day);
    ",
    // When the day's check-in arrived (the status's own time changes with a call for
    // help); each check-in's answers found from its event.
    "
    ALTER TABLE statuses ADD COLUMN checkin_ms INTEGER;
    CREATE INDEX checkin_answers_event ON checkin_answers (event_id);
    ALTER TABLE users ADD COLUMN board_seen_ms INTEGER;
    ALTER TABLE residents ADD COLUMN kana TEXT NOT NULL DEFAULT '';
    ",
    // Each retraining that reached a verdict: `dialect-model retrain`'s verdict line
    // as it printed it, and the version it published (NULL: refused as worse).
    "
    CREATE TABLE retrainings (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users (id),
        verdict TEXT NOT NULL CHECK (verdict LIKE 'retrain: %'),
        version INTEGER REFERENCES dialect_bundles (version)
    ) STRICT;
    ",
    // A resident who shares another's tablet (a household of two or more): the
    // tablet is bound to that other resident.
    "
    ALTER TABLE residents ADD COLUMN household_of INTEGER REFERENCES residents (id);
    CREATE INDEX residents_household ON residents (household_of) WHERE household_of IS NOT NULL;
    ",
    // How a resident's tablet names the staff member who took on their call
    // (「福祉担当職員の佐藤さん」); NULL: by role only.
    "
    ALTER TABLE users ADD COLUMN spoken_name TEXT;
    ",
    // Medicine times staff set (times of day only, never which medicine), and each
    // dose the tablet recorded kept or missed.
    "
    CREATE TABLE medicine_times (
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        slot TEXT NOT NULL,
        at_min INTEGER NOT NULL,
        PRIMARY KEY (resident_id, slot)
    ) STRICT;
    CREATE TABLE medicine_doses (
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        slot TEXT NOT NULL,
        taken INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (resident_id, day, slot)
    ) STRICT;
    ",
    // What staff noted a resident enjoys (「盆栽」): the tablet makes small talk of it.
    "
    CREATE TABLE resident_interests (
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        interest TEXT NOT NULL,
        PRIMARY KEY (resident_id, position)
    ) STRICT;
    ",
    // The monthly 30-second chair-stand counts (CS-30), one per resident and day.
    "
    CREATE TABLE chair_stands (
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count BETWEEN 0 AND 60),
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (resident_id, day)
    ) STRICT;
    ",
    // Town news staff publish for a district or the town (NULL), and who the tablets
    // read each one to.
    "
    CREATE TABLE announcements (
        id INTEGER PRIMARY KEY,
        district TEXT,
        message TEXT NOT NULL,
        until_day TEXT NOT NULL,
        published_by TEXT NOT NULL,
        published_ms INTEGER NOT NULL,
        withdrawn_ms INTEGER
    ) STRICT;
    CREATE TABLE announcements_heard (
        announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        heard_ms INTEGER NOT NULL,
        PRIMARY KEY (announcement_id, resident_id)
    ) STRICT;
    ",
    // A low mood or loneliness said in the small talk (the meaning only, never the
    // words): a day of the mood trend, as a check-in answer is.
    "
    CREATE TABLE mood_notes (
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        intent TEXT NOT NULL CHECK (intent IN ('low_mood', 'lonely')),
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (resident_id, day, intent)
    ) STRICT;
    ",
    // The weekly talk about the day and three words: how many answers of each part were
    // right (never what was said), one row per resident, day and part; and whether
    // staff turned the talk off for a resident (on unless they do).
    "
    CREATE TABLE memory_looks (
        resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        part TEXT NOT NULL CHECK (part IN ('weekday', 'season', 'recall')),
        right INTEGER NOT NULL,
        of INTEGER NOT NULL CHECK (of BETWEEN 1 AND 3),
        at_ms INTEGER NOT NULL,
        CHECK (right BETWEEN 0 AND of),
        PRIMARY KEY (resident_id, day, part)
    ) STRICT;
    ALTER TABLE residents ADD COLUMN memory_off INTEGER NOT NULL DEFAULT 0;
    ",
];

pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    // SQLite's way to change a table's constraints (a rebuild) needs foreign keys off
    // outside the transaction; each migration's result is checked before it commits.
    let keys_on: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let mut migrated = Ok(());
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i + 1;
        let err = |source| StoreError::Migrate { version, source };
        let step = (|| {
            let tx = conn.transaction().map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            let broken: Option<String> = tx
                .query_row("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1", [], |r| r.get(0))
                .optional()
                .map_err(err)?;
            if let Some(table) = broken {
                return Err(StoreError::Migrate {
                    version,
                    source: rusqlite::Error::ToSqlConversionFailure(
                        format!("a foreign key in {table} broke").into(),
                    ),
                });
            }
            tx.pragma_update(None, "user_version", version as i64).map_err(err)?;
            tx.commit().map_err(err)
        })();
        if step.is_err() {
            migrated = step;
            break;
        }
    }
    conn.pragma_update(None, "foreign_keys", keys_on)?;
    migrated
}
