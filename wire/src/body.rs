//! The typed body of every event kind, and the one place an envelope's body is
//! written or read.
//!
//! A body type names its kind ([`EventBody::KIND`]), so a tablet cannot file a help
//! request under `check_in`. Fields are only added, with defaults, and every body
//! reads from `{}` (older tablets and tests send bare bodies). Bodies carry ids,
//! times and vocabulary names only: never a name, a transcript, a PIN or the
//! individual number.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vocab::{AnsweredBy, BodyPart, Danger, Intent, Outcome, Question};

use crate::Name;
use crate::event::{EventEnvelope, EventKind};

/// A body of one event kind; the kind is the type's.
pub trait EventBody: Serialize + DeserializeOwned {
    const KIND: EventKind;
}

/// A time on the tablet's clock in the town's zone, to the second
/// (`2026-12-06T08:05:00`): what the resident lived, not what the office trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(pub NaiveDateTime);

const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(LOCAL_FORMAT))
    }
}

impl From<NaiveDateTime> for LocalTime {
    fn from(t: NaiveDateTime) -> Self {
        LocalTime(t)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse::<NaiveDateTime>().map(LocalTime).map_err(serde::de::Error::custom)
    }
}

/// A finished (or abandoned) check-in: how it ended and what was understood.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckInBody {
    /// The office's id for the resident who answered (0: not said, the tablet's own
    /// resident); the office checks it shares the tablet.
    pub resident_id: i64,
    pub started_at: Option<LocalTime>,
    pub ended_at: Option<LocalTime>,
    /// Absent in older bodies, which the office reads as completed.
    pub outcome: Option<Name<Outcome>>,
    pub questions_asked: u32,
    pub misunderstandings: u32,
    pub answers: Vec<AnswerBody>,
}

impl CheckInBody {
    /// True when the resident stopped answering: no sign that they are safe.
    pub fn unanswered(&self) -> bool {
        self.outcome.as_ref().and_then(Name::known) == Some(Outcome::NoAnswer)
    }
}

impl EventBody for CheckInBody {
    const KIND: EventKind = EventKind::CheckIn;
}

/// One accepted answer of a check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerBody {
    pub question: Name<Question>,
    /// After the question's aliases (a bare はい to 「眠れましたか？」 is `slept_well`).
    pub intent: Name<Intent>,
    #[serde(default)]
    pub body_part: Option<Name<BodyPart>>,
    #[serde(default)]
    pub by: Option<Name<AnsweredBy>>,
}

/// The help flow raised an alert.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HelpRequestBody {
    pub resident_id: i64,
    pub raised_at: Option<LocalTime>,
    /// The question being asked when it happened, if any.
    pub during: Option<Name<Question>>,
    /// What was understood (need help, emergency, or a critical-flagged answer).
    pub intent: Option<Name<Intent>>,
    /// The danger the resident named, when the dialect model recognised one (火事, …).
    pub danger: Option<Name<Danger>>,
    /// True when the resident said yes to the confirmation; false when help was sent
    /// without a clear answer (silence, unclear), which staff should know.
    pub confirmed: bool,
}

impl EventBody for HelpRequestBody {
    const KIND: EventKind = EventKind::HelpRequest;
}

/// The resident went out to clear snow and asked the tablet to check back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnowWatchStartedBody {
    pub resident_id: i64,
    pub started_at: Option<LocalTime>,
    /// When the tablet will check back, in minutes (absent: 30). Sent again when the
    /// resident says they are still at it, so the office's own timer starts over.
    pub minutes: Option<u32>,
}

impl EventBody for SnowWatchStartedBody {
    const KIND: EventKind = EventKind::SnowWatchStarted;
}

/// The resident came back in time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnowWatchEndedBody {
    pub resident_id: i64,
    pub started_at: Option<LocalTime>,
    pub ended_at: Option<LocalTime>,
}

impl EventBody for SnowWatchEndedBody {
    const KIND: EventKind = EventKind::SnowWatchEnded;
}

/// Nobody answered when the tablet checked back: as urgent as a call for help.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnowWatchAlertBody {
    pub resident_id: i64,
    pub started_at: Option<LocalTime>,
    pub check_back_at: Option<LocalTime>,
    pub raised_at: Option<LocalTime>,
    /// The resident answered 助けが必要 rather than not answering.
    pub asked_for_help: bool,
}

impl EventBody for SnowWatchAlertBody {
    const KIND: EventKind = EventKind::SnowWatchAlert;
}

/// An exercise session the resident finished.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExerciseDoneBody {
    pub resident_id: i64,
    pub day: Option<NaiveDate>,
    /// Catalogue ids (`chair_stand`, …).
    pub exercise_ids: Vec<String>,
    pub minutes: u32,
    /// The exercise-habit score (0–100) with this session counted.
    pub habit_score: Option<u8>,
    /// Days with exercise in the last seven, this one included.
    pub active_days: Option<u8>,
}

impl EventBody for ExerciseDoneBody {
    const KIND: EventKind = EventKind::ExerciseDone;
}

/// The body of an [`EventKind::SafetyAnswer`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyAnswerBody {
    /// The campaign id from the [`crate::PullKind::Campaign`] item.
    pub campaign_id: u64,
    pub answer: SafetyReply,
    /// Who answered, in a household of two or more (absent: the tablet's own resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
}

impl EventBody for SafetyAnswerBody {
    const KIND: EventKind = EventKind::SafetyAnswer;
}

/// A resident's reply to 「大丈夫ですか？」.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyReply {
    Safe,
    NeedsHelp,
}

/// The body of an [`EventKind::CardLinkRequested`] event: staff approve it on the
/// dashboard before the card signs the resident in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardLinkBody {
    /// Lowercase hex SHA-256 of the card's JPKI user-authentication certificate.
    /// Never the individual number.
    pub card_identity: String,
    /// Whose card it is, in a household of two or more (absent: the tablet's own
    /// resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
}

impl EventBody for CardLinkBody {
    const KIND: EventKind = EventKind::CardLinkRequested;
}

/// The body of an [`EventKind::Misunderstanding`] event: the tablet's understanding
/// of an answer was wrong (the resident then chose another meaning by button) or too
/// unsure. Names only, never what was said: staff type the phrase in after a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MisunderstandingBody {
    pub question: Name<Question>,
    /// The intent the tablet understood.
    pub understood: Name<Intent>,
    /// The understanding's confidence, 0 to 1.
    pub confidence: f32,
    /// The intent the resident chose by button instead, if they did.
    #[serde(default)]
    pub chosen: Option<Name<Intent>>,
}

impl EventBody for MisunderstandingBody {
    const KIND: EventKind = EventKind::Misunderstanding;
}

/// The body of an [`EventKind::Medicine`] event: whether a medicine time was kept.
/// Which medicine is never said (the tablet does not know it): only the time of day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicineBody {
    /// Whose medicine, in a household of two or more (absent: the tablet's own resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
    /// The tablet's local day of the medicine time.
    pub day: NaiveDate,
    pub slot: Name<vocab::MedicineSlot>,
    /// 「はい」 to the question or its reminder; `false`: 「まだ」 or nothing after the
    /// reminder.
    pub taken: bool,
}

impl EventBody for MedicineBody {
    const KIND: EventKind = EventKind::Medicine;
}

/// The body of an [`EventKind::ChairStand`] event: the 30-second chair-stand test
/// (CS-30), how many times the resident stood up, as they said or tapped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChairStandBody {
    /// Whose count, in a household of two or more (absent: the tablet's own resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
    /// The tablet's local day of the test.
    pub day: NaiveDate,
    /// Stands in 30 seconds (0 to [`MAX_CHAIR_STANDS`]).
    pub count: u8,
}

/// More stands in 30 seconds than anyone manages (the fittest young adults reach
/// about 40): a count above it is a mistake, refused by both sides.
pub const MAX_CHAIR_STANDS: u8 = 60;

impl EventBody for ChairStandBody {
    const KIND: EventKind = EventKind::ChairStand;
}

/// The body of an [`EventKind::NewsHeard`] event: the tablet read a town
/// announcement ([`crate::AnnouncementBody`]) to the resident, all of it, captioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsHeardBody {
    /// Who heard it, in a household of two or more (absent: the tablet's own resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
    /// The office's announcement id.
    pub announcement_id: u64,
}

impl EventBody for NewsHeardBody {
    const KIND: EventKind = EventKind::NewsHeard;
}

/// The body of an [`EventKind::MoodNoted`] event: in the small talk, the resident said
/// she was low or lonely. The meaning only, never the words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoodNotedBody {
    /// Whose, in a household of two or more (absent: the tablet's own resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
    /// The tablet's local day.
    pub day: NaiveDate,
    /// `low_mood` or `lonely`.
    pub mood: Name<Intent>,
}

impl EventBody for MoodNotedBody {
    const KIND: EventKind = EventKind::MoodNoted;
}

/// The body of an [`EventKind::MemoryNoted`] event: one part of the weekly talk about
/// the day and three words, as how many answers were right. Never what was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryNotedBody {
    /// Whose, in a household of two or more (absent: the tablet's own resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<i64>,
    /// The tablet's local day.
    pub day: NaiveDate,
    /// `weekday`, `season` or `recall`.
    pub part: Name<vocab::MemoryPart>,
    /// Right answers, at most `of`.
    pub right: u8,
    /// Answers asked for: 1, or 3 for the words.
    pub of: u8,
}

/// The most answers one part asks for (the three words).
pub const MAX_MEMORY_ANSWERS: u8 = 3;

impl EventBody for MemoryNotedBody {
    const KIND: EventKind = EventKind::MemoryNoted;
}

/// An envelope's body, read by its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CheckIn(CheckInBody),
    HelpRequest(HelpRequestBody),
    ExerciseDone(ExerciseDoneBody),
    SafetyAnswer(SafetyAnswerBody),
    SnowWatchStarted(SnowWatchStartedBody),
    SnowWatchEnded(SnowWatchEndedBody),
    SnowWatchAlert(SnowWatchAlertBody),
    CardLinkRequested(CardLinkBody),
    Misunderstanding(MisunderstandingBody),
    Medicine(MedicineBody),
    ChairStand(ChairStandBody),
    NewsHeard(NewsHeardBody),
    MoodNoted(MoodNotedBody),
    MemoryNoted(MemoryNotedBody),
    /// A kind from a newer tablet: stored and acknowledged, never acted on.
    Unknown,
}

/// A body that does not read as its kind's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    pub kind: EventKind,
    pub reason: String,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "safety answer body: …": read by people in the tablet's log.
        write!(f, "{} body: {}", self.kind.name().replace('_', " "), self.reason)
    }
}

impl std::error::Error for BodyError {}

impl EventEnvelope {
    /// An envelope for `body`, of the body's kind.
    pub fn new<B: EventBody>(
        id: crate::EventId,
        seq: crate::DeviceSeq,
        device_time: chrono::DateTime<chrono::Utc>,
        body: &B,
    ) -> Result<Self, BodyError> {
        let body =
            serde_json::to_value(body).map_err(|e| BodyError { kind: B::KIND, reason: e.to_string() })?;
        Ok(EventEnvelope { id, seq, kind: B::KIND, device_time, body })
    }

    /// The body as `B`, when this envelope is of `B`'s kind.
    pub fn decode<B: EventBody>(&self) -> Result<B, BodyError> {
        let err = |reason: String| BodyError { kind: self.kind, reason };
        if self.kind != B::KIND {
            return Err(err(format!("not a {} event", B::KIND.name())));
        }
        // An absent body is an empty one: every lenient body reads from `{}`.
        let body = if self.body.is_null() { serde_json::json!({}) } else { self.body.clone() };
        serde_json::from_value(body).map_err(|e| err(e.to_string()))
    }

    /// The body, read by the envelope's kind.
    pub fn event(&self) -> Result<Event, BodyError> {
        Ok(match self.kind {
            EventKind::CheckIn => Event::CheckIn(self.decode()?),
            EventKind::HelpRequest => Event::HelpRequest(self.decode()?),
            EventKind::ExerciseDone => Event::ExerciseDone(self.decode()?),
            EventKind::SafetyAnswer => Event::SafetyAnswer(self.decode()?),
            EventKind::SnowWatchStarted => Event::SnowWatchStarted(self.decode()?),
            EventKind::SnowWatchEnded => Event::SnowWatchEnded(self.decode()?),
            EventKind::SnowWatchAlert => Event::SnowWatchAlert(self.decode()?),
            EventKind::CardLinkRequested => Event::CardLinkRequested(self.decode()?),
            EventKind::Misunderstanding => Event::Misunderstanding(self.decode()?),
            EventKind::Medicine => Event::Medicine(self.decode()?),
            EventKind::ChairStand => Event::ChairStand(self.decode()?),
            EventKind::NewsHeard => Event::NewsHeard(self.decode()?),
            EventKind::MoodNoted => Event::MoodNoted(self.decode()?),
            EventKind::MemoryNoted => Event::MemoryNoted(self.decode()?),
            EventKind::Unknown => Event::Unknown,
        })
    }
}

/// Runs `$f` on the body of every kind but `Unknown`.
macro_rules! each_body {
    ($ev:expr, $b:ident => $f:expr, unknown => $u:expr) => {
        match $ev {
            Event::CheckIn($b) => $f,
            Event::HelpRequest($b) => $f,
            Event::ExerciseDone($b) => $f,
            Event::SafetyAnswer($b) => $f,
            Event::SnowWatchStarted($b) => $f,
            Event::SnowWatchEnded($b) => $f,
            Event::SnowWatchAlert($b) => $f,
            Event::CardLinkRequested($b) => $f,
            Event::Misunderstanding($b) => $f,
            Event::Medicine($b) => $f,
            Event::ChairStand($b) => $f,
            Event::NewsHeard($b) => $f,
            Event::MoodNoted($b) => $f,
            Event::MemoryNoted($b) => $f,
            Event::Unknown => $u,
        }
    };
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        fn of<B: EventBody>(_: &B) -> EventKind {
            B::KIND
        }
        each_body!(self, b => of(b), unknown => EventKind::Unknown)
    }

    /// The envelope for this event; `None` for [`Event::Unknown`], which has no body
    /// to send.
    pub fn envelope(
        &self,
        id: crate::EventId,
        seq: crate::DeviceSeq,
        device_time: chrono::DateTime<chrono::Utc>,
    ) -> Option<Result<EventEnvelope, BodyError>> {
        each_body!(self, b => Some(EventEnvelope::new(id, seq, device_time, b)), unknown => None)
    }

    /// The body as the office keeps it: the typed fields only, so fields a tablet
    /// adds (tolerated on the wire) are not stored. `None` for an unknown kind, whose
    /// body is kept as sent.
    pub fn to_json(&self) -> Option<String> {
        each_body!(self, b => serde_json::to_string(b).ok(), unknown => None)
    }

    /// The resident the event is about, as the tablet says (`None`: not said, so the
    /// tablet's own resident). The office accepts it only for someone who shares the
    /// tablet.
    pub fn resident_id(&self) -> Option<i64> {
        let said = match self {
            Event::CheckIn(b) => Some(b.resident_id),
            Event::HelpRequest(b) => Some(b.resident_id),
            Event::ExerciseDone(b) => Some(b.resident_id),
            Event::SnowWatchStarted(b) => Some(b.resident_id),
            Event::SnowWatchEnded(b) => Some(b.resident_id),
            Event::SnowWatchAlert(b) => Some(b.resident_id),
            Event::SafetyAnswer(b) => b.resident_id,
            Event::CardLinkRequested(b) => b.resident_id,
            Event::Medicine(b) => b.resident_id,
            Event::ChairStand(b) => b.resident_id,
            Event::NewsHeard(b) => b.resident_id,
            Event::MoodNoted(b) => b.resident_id,
            Event::MemoryNoted(b) => b.resident_id,
            Event::Misunderstanding(_) | Event::Unknown => None,
        };
        // Bodies default a missing id to 0; the office's ids start at 1.
        said.filter(|id| *id > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceSeq, EventId};

    fn envelope(kind: &str, body: serde_json::Value) -> EventEnvelope {
        serde_json::from_value(serde_json::json!({
            "id": "6f1c1f5e-3f0e-4a53-9d44-0d6f7b1c2a10", "seq": 1, "kind": kind,
            "device_time": "2026-12-06T08:00:00Z", "body": body,
        }))
        .unwrap()
    }

    #[test]
    fn a_check_in_round_trips_with_its_kind_from_the_type() {
        let body = CheckInBody {
            resident_id: 3,
            started_at: Some(LocalTime("2026-12-06T08:00:00".parse().unwrap())),
            ended_at: Some(LocalTime("2026-12-06T08:02:31".parse().unwrap())),
            outcome: Some(Outcome::Completed.into()),
            questions_asked: 3,
            misunderstandings: 1,
            answers: vec![AnswerBody {
                question: Question::PainCheck.into(),
                intent: Intent::Pain.into(),
                body_part: Some(BodyPart::Knee.into()),
                by: Some(AnsweredBy::VoiceConfirmed.into()),
            }],
        };
        let ev = EventEnvelope::new(EventId::new_random(), DeviceSeq(1), chrono::Utc::now(), &body).unwrap();
        assert_eq!(ev.kind, EventKind::CheckIn);
        assert_eq!(ev.body["started_at"], "2026-12-06T08:00:00");
        assert_eq!(ev.body["answers"][0]["body_part"], "knee");
        assert_eq!(ev.event().unwrap(), Event::CheckIn(body));
        assert!(ev.decode::<HelpRequestBody>().is_err(), "a check-in is not a help request");
    }

    #[test]
    fn each_kind_says_whose_it_is_or_leaves_it_to_the_tablet() {
        let check = |kind: &str, body: serde_json::Value, want: Option<i64>| {
            let said = envelope(kind, body.clone()).event().unwrap().resident_id();
            assert_eq!(said, want, "{kind} {body}");
        };
        check("check_in", serde_json::json!({"resident_id": 2}), Some(2));
        check("check_in", serde_json::json!({}), None);
        check("help_request", serde_json::json!({"resident_id": 0}), None);
        check("snow_watch_alert", serde_json::json!({"resident_id": 7}), Some(7));
        check("exercise_done", serde_json::json!({"resident_id": -1}), None);
        check(
            "safety_answer",
            serde_json::json!({"campaign_id": 1, "answer": "safe", "resident_id": 3}),
            Some(3),
        );
        check("safety_answer", serde_json::json!({"campaign_id": 1, "answer": "safe"}), None);
        check("card_link_requested", serde_json::json!({"card_identity": "ab", "resident_id": 4}), Some(4));
        let mishear = serde_json::json!({"question": "slept", "understood": "yes", "confidence": 0.5});
        check("misunderstanding", mishear, None);
    }

    #[test]
    fn bare_and_older_bodies_read_and_wrong_types_do_not() {
        for kind in ["check_in", "help_request", "exercise_done", "snow_watch_started", "snow_watch_alert"] {
            assert!(envelope(kind, serde_json::json!({})).event().is_ok(), "{kind} from {{}}");
            assert!(envelope(kind, serde_json::Value::Null).event().is_ok(), "{kind} from null");
        }
        let unanswered = envelope("check_in", serde_json::json!({"outcome": "no_answer", "v3": 1}));
        assert!(matches!(unanswered.event().unwrap(), Event::CheckIn(b) if b.unanswered()));
        let bad =
            envelope("check_in", serde_json::json!({"answers": [{"question": "slept", "intent": "眠れだ"}]}));
        assert!(bad.event().unwrap_err().to_string().starts_with("check in body:"));
        assert!(envelope("safety_answer", serde_json::json!({})).event().is_err(), "no campaign, no answer");
        assert_eq!(envelope("x_new", serde_json::json!(1)).event().unwrap(), Event::Unknown);
    }

    #[test]
    fn the_stored_body_keeps_the_typed_fields_only() {
        let ev = envelope("check_in", serde_json::json!({"outcome": "completed", "note": "膝が痛い"}));
        let kept = ev.event().unwrap().to_json().unwrap();
        assert!(kept.contains("completed") && !kept.contains("note") && !kept.contains('膝'), "{kept}");
    }
}
