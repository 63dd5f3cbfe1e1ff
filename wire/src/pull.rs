//! Downstream sync: what a tablet pulls from the office, in order, with a cursor.
//!
//! The server keeps one ordered log of changes; each item carries its position.
//! A tablet stores the cursor of the last item it applied and asks for what came
//! after it, so a tablet that was offline for weeks catches up without gaps.

use serde::de::DeserializeOwned;
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
    /// Someone at the office took on the resident's call for help.
    HelpAcknowledged,
    /// A town announcement published, changed or withdrawn.
    Announcement,
    #[serde(other)]
    Unknown,
}

impl PullKind {
    pub const ALL: [PullKind; 10] = [
        PullKind::RosterEntry,
        PullKind::ResidentSettings,
        PullKind::Plan,
        PullKind::Campaign,
        PullKind::Weather,
        PullKind::DialectBundle,
        PullKind::Reprompt,
        PullKind::HelpAcknowledged,
        PullKind::Announcement,
        PullKind::Unknown,
    ];

    /// The kind's name on the wire and in the office's log (`roster_entry`, …).
    pub fn name(self) -> &'static str {
        match self {
            PullKind::RosterEntry => "roster_entry",
            PullKind::ResidentSettings => "resident_settings",
            PullKind::Plan => "plan",
            PullKind::Campaign => "campaign",
            PullKind::Weather => "weather",
            PullKind::DialectBundle => "dialect_bundle",
            PullKind::Reprompt => "reprompt",
            PullKind::HelpAcknowledged => "help_acknowledged",
            PullKind::Announcement => "announcement",
            PullKind::Unknown => "unknown",
        }
    }

    /// The kind of a name; a name this build does not know is [`PullKind::Unknown`].
    pub fn from_name(name: &str) -> PullKind {
        PullKind::ALL.into_iter().find(|k| k.name() == name).unwrap_or(PullKind::Unknown)
    }
}

/// A body of one pull kind; the kind is the type's.
pub trait PullBody: Serialize + DeserializeOwned {
    const KIND: PullKind;
}

/// One change, at position `cursor` of the office's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullItem {
    pub cursor: u64,
    pub kind: PullKind,
    #[serde(default)]
    pub body: serde_json::Value,
}

impl PullItem {
    /// The body as `B`, when this item is of `B`'s kind; `None` for another kind or a
    /// body this build cannot read (the tablet skips it and moves its cursor on).
    pub fn decode<B: PullBody>(&self) -> Option<B> {
        (self.kind == B::KIND).then(|| serde_json::from_value(self.body.clone()).ok()).flatten()
    }
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

impl PullBody for DialectBundleBody {
    const KIND: PullKind = PullKind::DialectBundle;
}

/// The body of a [`PullKind::RosterEntry`] item: one resident of the household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntryBody {
    pub resident_id: i64,
    /// How the tablet greets them (「花子さん」).
    pub display_name: String,
    /// Lowercase hex SHA-256 of the linked card's certificate; `None` when no card
    /// signs them in (or a link was withdrawn).
    #[serde(default)]
    pub card_identity: Option<String>,
    /// They no longer share this tablet (moved out, into care): the tablet forgets
    /// them, so it never asks for them again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left: bool,
}

impl PullBody for RosterEntryBody {
    const KIND: PullKind = PullKind::RosterEntry;
}

/// The body of a [`PullKind::Reprompt`] item: the office has not seen the check-in
/// of `day` (the resident's local day) and asks the tablet to ask again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepromptBody {
    pub resident_id: i64,
    pub day: chrono::NaiveDate,
}

impl PullBody for RepromptBody {
    const KIND: PullKind = PullKind::Reprompt;
}

/// The body of a [`PullKind::HelpAcknowledged`] item: an officer or 民生委員 took on
/// the resident's call for help (every call the office holds for them until now),
/// so the tablet can say who is coming instead of only that it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpAcknowledgedBody {
    pub resident_id: i64,
    /// Who took it on, as the tablet says it (「福祉担当職員」, 「民生委員」): a role,
    /// never a login.
    pub handler: String,
}

impl PullBody for HelpAcknowledgedBody {
    const KIND: PullKind = PullKind::HelpAcknowledged;
}

/// The body of a [`PullKind::Announcement`] item: a short piece of town news staff
/// published for the tablet's district or the whole town (a clinic day, a bus
/// change). The tablet reads it once to each resident after a check-in, captioned,
/// and tells the office with a [`crate::NewsHeardBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementBody {
    pub announcement_id: u64,
    /// What the tablet says, as staff wrote it (at most [`MAX_ANNOUNCEMENT_CHARS`]).
    pub message: String,
    /// The last local day it is worth saying (the clinic day itself).
    pub until: chrono::NaiveDate,
    /// Staff took it back: never say it (again).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
}

/// The longest announcement, in characters: about a minute read slowly.
pub const MAX_ANNOUNCEMENT_CHARS: usize = 200;

impl PullBody for AnnouncementBody {
    const KIND: PullKind = PullKind::Announcement;
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

impl PullBody for CampaignNotice {
    const KIND: PullKind = PullKind::Campaign;
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
    /// Contraindications (`knee`, `heart`, …; a newer office's are kept as names): the planner never offers
    /// an exercise that names one of them.
    #[serde(default)]
    pub contraindications: Vec<crate::Name<vocab::Contraindication>>,
    /// Periods when the tablet should not ask (hospital stay, away with family).
    #[serde(default)]
    pub pauses: Vec<PausePeriod>,
    /// Whom the help flow shows as coming, in order.
    #[serde(default)]
    pub emergency_contacts: Vec<EmergencyContact>,
    /// A card sign-in also asks for the card's PIN, and the card must sign a fresh
    /// challenge (staff chose it for this resident); a touch start then asks for the card.
    #[serde(default)]
    pub pin_sign_in: bool,
    /// When the tablet asks about medicine (「お昼のお薬、飲みましたか？」): the times of
    /// day only, never which medicine.
    #[serde(default)]
    pub medicine: Vec<MedicineTime>,
    /// What staff noted the resident enjoys (「盆栽」), words staff typed: the tablet
    /// makes small talk of them.
    #[serde(default)]
    pub interests: Vec<String>,
    /// Staff turned off the weekly talk about the day and three words for this
    /// resident (it is on unless they do).
    #[serde(default)]
    pub memory_off: bool,
}

/// One medicine time staff set for a resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicineTime {
    pub slot: crate::Name<vocab::MedicineSlot>,
    /// Local `"HH:MM"`.
    pub at: String,
}

impl PullBody for ResidentSettingsBody {
    const KIND: PullKind = PullKind::ResidentSettings;
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
        assert!(r.items[0].decode::<CampaignNotice>().is_none());
    }

    #[test]
    fn kind_names_are_the_serde_names_and_bodies_read_by_kind() {
        for kind in PullKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
            assert_eq!(PullKind::from_name(kind.name()), kind);
        }
        let item = PullItem {
            cursor: 1,
            kind: PullKind::Reprompt,
            body: serde_json::json!({"resident_id": 4, "day": "2026-12-06", "v2": true}),
        };
        let body = item.decode::<RepromptBody>().unwrap();
        assert_eq!((body.resident_id, body.day.to_string().as_str()), (4, "2026-12-06"));
        assert!(item.decode::<RosterEntryBody>().is_none(), "another kind's body");
    }
}
