//! Wire types: the JSON shapes of the tablet API (`/api/v1`), and nothing else.
//!
//! This is the only crate in the workspace that derives `serde` for data that crosses
//! the network. Kiosk and backend convert between these and their own domain types
//! explicitly at the edge, so a change of the wire format is a change in one place.
//!
//! Compatibility rules: fields are only ever added, new fields have defaults, and
//! unknown fields are ignored (no `deny_unknown_fields`), so an old tablet keeps
//! talking to a new office server and the other way round.

mod body;
mod device;
mod event;
mod name;
mod pull;
mod weather;

pub use body::{
    AnswerBody, BodyError, CardLinkBody, ChairStandBody, CheckInBody, Event, EventBody, ExerciseDoneBody,
    HelpRequestBody, LocalTime, MAX_CHAIR_STANDS, MAX_MEMORY_ANSWERS, MedicineBody, MemoryNotedBody,
    MisunderstandingBody, MoodNotedBody, NewsHeardBody, SafetyAnswerBody, SafetyReply, SnowWatchAlertBody,
    SnowWatchEndedBody, SnowWatchStartedBody,
};
pub use name::Name;
/// The shared vocabulary, as the wire bodies name it.
pub use vocab;

pub use device::{ApiError, EnrolRequest, EnrolResponse, Heartbeat, HeartbeatAck, PartHealth};
pub use event::{DeviceSeq, EventAck, EventBatch, EventEnvelope, EventId, EventKind, UploadAck};
pub use pull::{
    AnnouncementBody, CampaignNotice, DialectBundleBody, EmergencyContact, HelpAcknowledgedBody,
    MAX_ANNOUNCEMENT_CHARS, MedicineTime, PausePeriod, PullBody, PullItem, PullKind, PullResponse,
    RepromptBody, ResidentSettingsBody, RosterEntryBody,
};
pub use weather::{WeatherReport, WeatherSource};

/// The API version this crate describes; it is the path prefix of every route.
pub const API_PREFIX: &str = "/api/v1";

/// The largest event batch a tablet sends and the server accepts in one request.
pub const MAX_BATCH_EVENTS: usize = 200;

/// The largest request body the server reads, in bytes; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most items one pull returns.
pub const MAX_PULL_ITEMS: usize = 500;
