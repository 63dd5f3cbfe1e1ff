//! Care logic: what the tablet asks, suggests and scores, as pure functions over data.
//!
//! Everything here is deterministic and testable without a screen, a clock, a
//! database or a network: callers pass today's date, weather and answers in, and get
//! plans, dialogue steps and scores out. Data (catalogue, calendar, dialogue) lives
//! in `assets/` so a town can change it without recompiling.
//!
//! A day on the kiosk, in calls:
//! 1. [`dialogue::Session::start`] with [`dialogue::Entry::Checkin`], then
//!    [`dialogue::Session::respond`] with each [`understanding::Understanding`] (from
//!    the dialect model), button press or silence, until the turn's step is
//!    `Finished`; each turn's `events` go to the outbox in order.
//! 2. [`weather::Conditions::for_day`] (with the backend's report, if fresh) and
//!    [`planner::plan_day`] with [`record::CheckinRecord::today_facts`], the profile and
//!    the resident's [`planner::DayRecord`]s: today's plan, each choice with a reason.
//! 3. [`score::habit_score`] over the same records for the staff's view.
//! 4. When the resident goes out to clear snow: [`watch::SnowWatch`].
//! 5. After a check-in, offered: [`smalltalk::SmallTalk::pick`] and a
//!    [`smalltalk::Talk`] of two to four turns.
//! 6. At the medicine times staff set: [`medicine::next`] says whether to ask, remind
//!    or record a dose missed.
//! 7. Once a month, when today's plan has her standing: [`chairstand::due`], then the
//!    30 seconds' [`chairstand::mark`]s and the count she gives.
//! 8. After a check-in, before the small talk: the town's news, each announcement cut
//!    into short lines by [`news::lines`].
//!
//! Invariant: this crate does no I/O of its own beyond parsing the data text it is
//! given, reads no clock, and depends on no UI, SQL, HTTP or audio crate.

pub mod catalogue;
pub mod chairstand;
pub mod dialogue;
pub mod medicine;
pub mod memory;
pub mod news;
pub mod planner;
pub mod record;
pub mod score;
pub mod season;
pub mod smalltalk;
pub mod speech;
pub mod understanding;
pub mod watch;
pub mod weather;
