//! Downstream sync: what a tablet pulls from the office, in order, with a cursor.
//!
//! The server keeps one ordered log of changes; each item carries its position.
//! A tablet stores the cursor of the last item it applied and asks for what came
//! after it, so a tablet that was offline for weeks catches up without gaps.

use serde::{Deserialize, Serialize};

/// What kind of change an item carries. Unknown kinds from a newer server deserialize
/// as [`PullKind::Unknown`] so an older tablet can skip them and move its cursor on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullKind {
    /// The household's roster entry (card identity, display name).
    RosterEntry,
    /// Per-resident settings: check-in window, pauses.
    ResidentSettings,
    Plan,
    /// A safety-confirmation campaign started or closed.
    Campaign,
    Weather,
    DialectBundle,
    /// The office did not see today's check-in: ask the resident again, gently.
    Reprompt,
    #[serde(other)]
    Unknown,
}

/// One change, at position `cursor` of the office's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullItem {
    pub cursor: u64,
    pub kind: PullKind,
    #[serde(default)]
    pub body: serde_json::Value,
}

/// `GET /api/v1/pull?after=<cursor>`: the next items, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub items: Vec<PullItem>,
    /// Where to ask from next time (the last item's cursor, or `after` when empty).
    pub cursor: u64,
    /// More items are waiting: ask again at once.
    pub more: bool,
}

/// The body of a [`PullKind::DialectBundle`] item: the office published a new dialect
/// bundle (lexicon + model), to be fetched whole from
/// `GET /api/v1/dialect-bundle/<version>` and swapped in by the tablet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialectBundleBody {
    pub version: u32,
    /// Lowercase hex SHA-256 of the whole file as served.
    pub sha256: String,
    pub bytes: u64,
}

/// The body of a [`crate::EventKind::SafetyAnswer`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyAnswerBody {
    /// The campaign id from the [`PullKind::Campaign`] item.
    pub campaign_id: u64,
    pub answer: SafetyReply,
}

/// The body of a [`crate::EventKind::CardLinkRequested`] event: staff approve it on
/// the dashboard before the card signs the resident in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardLinkBody {
    /// Lowercase hex SHA-256 of the card's JPKI user-authentication certificate.
    /// Never the individual number.
    pub card_identity: String,
}

/// A resident's reply to 「大丈夫ですか？」.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyReply {
    Safe,
    NeedsHelp,
}

/// The body of a [`PullKind::Campaign`] item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignNotice {
    pub campaign_id: u64,
    pub message: String,
    pub deadline: chrono::DateTime<chrono::Utc>,
    /// True when the campaign was closed: stop asking.
    #[serde(default)]
    pub closed: bool,
}

/// The body of a [`PullKind::ResidentSettings`] item: the resident's whole current
/// settings (each item replaces the last). Health reasons for pauses stay in the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentSettingsBody {
    pub resident_id: u64,
    /// Local start and end, `"HH:MM"`; an end before the start crosses midnight.
    pub checkin_window: [String; 2],
    #[serde(default)]
    pub grace_minutes: u32,
    /// care's contraindication names (`knee`, `heart`, …): the planner never offers
    /// an exercise that names one of them.
    #[serde(default)]
    pub contraindications: Vec<String>,
    /// Periods when the tablet should not ask (hospital stay, away with family).
    #[serde(default)]
    pub pauses: Vec<PausePeriod>,
    /// Whom the help flow shows as coming, in order.
    #[serde(default)]
    pub emergency_contacts: Vec<EmergencyContact>,
}

/// A pause of check-ins and alarms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PausePeriod {
    pub from: chrono::DateTime<chrono::Utc>,
    pub until: chrono::DateTime<chrono::Utc>,
}

/// Someone to call for the resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyContact {
    pub name: String,
    /// 長男, 隣人, … (may be empty).
    #[serde(default)]
    pub relation: String,
    pub phone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_pull_kinds_are_skippable() {
        let r: PullResponse = serde_json::from_str(
            r#"{"items":[{"cursor":3,"kind":"hologram","extra":1}],"cursor":3,"more":false,"v2":[]}"#,
        )
        .unwrap();
        assert_eq!(r.items[0].kind, PullKind::Unknown);
        assert!(r.items[0].body.is_null());
    }
}
