//! Applying what the office sends down (pull items) to the local tables.
//!
//! Every item is applied inside the caller's transaction, which also moves the
//! cursor, so a tablet that loses power mid-pull neither skips nor half-applies an
//! item. An item of a kind this tablet does not know, or with a body it cannot read,
//! is skipped (counted), never retried forever: the cursor moves past it.

use chrono::{DateTime, NaiveTime, Utc};
use rusqlite::{Transaction, params};

use super::StoreError;

/// What one item did.
pub(super) enum Applied {
    Applied,
    Skipped,
}

pub(super) fn apply(tx: &Transaction<'_>, item: &wire::PullItem) -> Result<Applied, StoreError> {
    // A body that does not read as its kind's is skipped like an unknown kind.
    let ok = match item.kind {
        wire::PullKind::RosterEntry => item.decode().map(|b| roster(tx, &b)),
        wire::PullKind::ResidentSettings => item.decode().map(|b| settings(tx, &b)),
        wire::PullKind::Campaign => item.decode().map(|b| campaign(tx, &b)),
        wire::PullKind::Weather => item.decode().map(|b| weather(tx, &b)),
        wire::PullKind::Reprompt => item.decode().map(|b| reprompt(tx, &b)),
        wire::PullKind::DialectBundle => item.decode().map(|b| dialect_bundle(tx, &b)),
        wire::PullKind::HelpAcknowledged => item.decode().map(|b| help_acknowledged(tx, &b)),
        wire::PullKind::Announcement => item.decode().map(|b| super::news::apply(tx, &b)),
        // Plans are made on the tablet: nothing to apply, and the cursor moves on.
        wire::PullKind::Plan | wire::PullKind::Unknown => None,
    };
    Ok(if ok.transpose()? == Some(true) { Applied::Applied } else { Applied::Skipped })
}

fn roster(tx: &Transaction<'_>, b: &wire::RosterEntryBody) -> Result<bool, StoreError> {
    let (id, name) = (b.resident_id, &b.display_name);
    if b.left {
        // Off the roster, so never asked for again nor offered as a name; what they
        // did here stays (the outbox still sends it).
        tx.execute("DELETE FROM residents WHERE id = ?1", [id])?;
        return Ok(true);
    }
    let card = match &b.card_identity {
        Some(c) => match super::normalise_card(c) {
            Some(c) => Some(c),
            None => return Ok(false),
        },
        None => None,
    };
    // A card now linked here was perhaps linked to someone else before (re-linked
    // by staff): the office is the authority, so the older local link goes.
    if let Some(card) = &card {
        tx.execute(
            "UPDATE residents SET card_identity = NULL WHERE card_identity = ?1 AND id != ?2",
            params![card, id],
        )?;
    }
    tx.execute(
        "INSERT INTO residents (id, display_name, card_identity) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
             card_identity = excluded.card_identity",
        params![id, name, card],
    )?;
    Ok(true)
}

fn settings(tx: &Transaction<'_>, body: &wire::ResidentSettingsBody) -> Result<bool, StoreError> {
    let Ok(id) = i64::try_from(body.resident_id) else { return Ok(false) };
    let parse = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").ok();
    let [start, end] = &body.checkin_window;
    let (Some(start), Some(end)) = (parse(start), parse(end)) else { return Ok(false) };
    // Names care does not know (from a newer office) are left out, not fatal.
    let known: Vec<&str> =
        body.contraindications.iter().filter_map(wire::Name::known).map(|c| c.key()).collect();
    tx.execute(
        "INSERT INTO office_settings (resident_id, window_start, window_end, grace_minutes, contraindications,
             pin_sign_in, memory_off)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (resident_id) DO UPDATE SET window_start = excluded.window_start,
             window_end = excluded.window_end, grace_minutes = excluded.grace_minutes,
             contraindications = excluded.contraindications, pin_sign_in = excluded.pin_sign_in,
             memory_off = excluded.memory_off",
        params![
            id,
            start.format("%H:%M").to_string(),
            end.format("%H:%M").to_string(),
            body.grace_minutes,
            known.join(","),
            body.pin_sign_in,
            body.memory_off,
        ],
    )?;
    tx.execute("DELETE FROM pauses WHERE resident_id = ?1", [id])?;
    for p in &body.pauses {
        tx.execute(
            "INSERT OR IGNORE INTO pauses (resident_id, from_ms, until_ms) VALUES (?1, ?2, ?3)",
            params![id, p.from.timestamp_millis(), p.until.timestamp_millis()],
        )?;
    }
    tx.execute("DELETE FROM emergency_contacts WHERE resident_id = ?1", [id])?;
    for (i, c) in body.emergency_contacts.iter().enumerate() {
        tx.execute(
            "INSERT INTO emergency_contacts (resident_id, position, name, relation, phone) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, i as i64, c.name, c.relation, c.phone],
        )?;
    }
    tx.execute("DELETE FROM interests WHERE resident_id = ?1", [id])?;
    for (i, interest) in body.interests.iter().enumerate() {
        tx.execute(
            "INSERT INTO interests (resident_id, position, interest) VALUES (?1, ?2, ?3)",
            params![id, i as i64, interest],
        )?;
    }
    // Times only; a slot a newer office names, or an unreadable time, is left out.
    tx.execute("DELETE FROM medicine_times WHERE resident_id = ?1", [id])?;
    for m in &body.medicine {
        let (Some(slot), Some(at)) = (m.slot.known(), parse(&m.at)) else { continue };
        tx.execute(
            "INSERT OR REPLACE INTO medicine_times (resident_id, slot, at) VALUES (?1, ?2, ?3)",
            params![id, slot.key(), at.format("%H:%M").to_string()],
        )?;
    }
    Ok(true)
}

fn campaign(tx: &Transaction<'_>, notice: &wire::CampaignNotice) -> Result<bool, StoreError> {
    let Ok(id) = i64::try_from(notice.campaign_id) else { return Ok(false) };
    tx.execute(
        "INSERT INTO campaigns (campaign_id, message, deadline_ms, closed) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (campaign_id) DO UPDATE SET message = excluded.message,
             deadline_ms = excluded.deadline_ms, closed = max(closed, excluded.closed)",
        params![id, notice.message, notice.deadline.timestamp_millis(), notice.closed],
    )?;
    Ok(true)
}

fn weather(tx: &Transaction<'_>, report: &wire::WeatherReport) -> Result<bool, StoreError> {
    let Ok(text) = serde_json::to_string(report) else { return Ok(false) };
    tx.execute(
        "INSERT INTO weather (id, body) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        [text],
    )?;
    Ok(true)
}

/// Only the announcement: the sync worker fetches the file after the pull.
fn dialect_bundle(tx: &Transaction<'_>, body: &wire::DialectBundleBody) -> Result<bool, StoreError> {
    tx.execute(
        "INSERT OR IGNORE INTO dialect_bundles (version, sha256, bytes) VALUES (?1, ?2, ?3)",
        params![body.version, body.sha256, body.bytes],
    )?;
    Ok(true)
}

fn reprompt(tx: &Transaction<'_>, b: &wire::RepromptBody) -> Result<bool, StoreError> {
    let (id, day) = (b.resident_id, b.day);
    // A check-in already recorded that day answers the re-prompt (it crossed in the post).
    let done: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM checkins WHERE resident_id = ?1 AND day = ?2 AND outcome != 'no_answer')",
        params![id, day.to_string()],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO reprompts (resident_id, day, done) VALUES (?1, ?2, ?3)",
        params![id, day.to_string(), done],
    )?;
    Ok(true)
}

/// The office took on the resident's calls for help: every one it has received (no
/// longer in the outbox or refused), since a later call still waiting to be sent is
/// news to the office and must not read as taken on.
fn help_acknowledged(tx: &Transaction<'_>, b: &wire::HelpAcknowledgedBody) -> Result<bool, StoreError> {
    let handler: String = b.handler.chars().filter(|c| !c.is_control()).take(40).collect();
    tx.execute(
        "UPDATE care_log SET acknowledged_by = ?2
         WHERE resident_id = ?1 AND kind IN (?3, ?4) AND acknowledged_by IS NULL
           AND event_id NOT IN (SELECT event_id FROM outbox)
           AND event_id NOT IN (SELECT event_id FROM dead_letter)",
        params![
            b.resident_id,
            handler,
            wire::EventKind::HelpRequest.name(),
            wire::EventKind::SnowWatchAlert.name()
        ],
    )?;
    Ok(true)
}

/// Milliseconds since the epoch, as stored.
pub(super) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt { detail: format!("time {ms} out of range") })
}
