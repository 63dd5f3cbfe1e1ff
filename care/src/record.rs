//! What care hands the kiosk to keep: check-in records and care events for the outbox.
//!
//! These are care-domain types, not wire types: the kiosk maps them onto the tablet
//! API's event kinds (in `wire`) when it writes its outbox. They carry no name and
//! no transcript, only understood answers.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;

use crate::planner::{Feeling, TodayFacts};
use crate::understanding::{BodyPart, Danger, Intent};
use vocab::Question as QuestionId;

pub use vocab::AnsweredBy;

/// One accepted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub question: QuestionId,
    /// The intent after the question's aliases (a bare はい to 「眠れましたか？」 is `SleptWell`).
    pub intent: Intent,
    pub body_part: Option<BodyPart>,
    pub by: AnsweredBy,
}

pub use vocab::Outcome;

/// The result of one dialogue, for the outbox and for the planner.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckinRecord {
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub outcome: Outcome,
    pub answers: Vec<Answer>,
    pub questions_asked: u8,
    pub misunderstandings: u8,
}

impl CheckinRecord {
    fn last(&self, question: QuestionId) -> Option<&Answer> {
        self.answers.iter().rev().find(|a| a.question == question)
    }

    /// How the resident said they feel.
    pub fn feeling(&self) -> Feeling {
        match self.last(QuestionId::HowFeeling).map(|a| a.intent) {
            Some(Intent::FeelingGood) => Feeling::Good,
            Some(Intent::Tired) => Feeling::Tired,
            Some(Intent::FeelingUnwell) => Feeling::Unwell,
            Some(Intent::Pain) => Feeling::Good,
            _ => Feeling::Unknown,
        }
    }

    /// Body parts named as painful in any answer.
    pub fn pains(&self) -> BTreeSet<BodyPart> {
        self.answers.iter().filter(|a| a.intent == Intent::Pain).filter_map(|a| a.body_part).collect()
    }

    /// Whether pain was reported at all (with or without a body part).
    pub fn reported_pain(&self) -> bool {
        self.answers.iter().any(|a| a.intent == Intent::Pain)
    }

    /// `Some(true)` slept well, `Some(false)` badly, `None` not answered.
    pub fn slept_well(&self) -> Option<bool> {
        self.last(QuestionId::Slept).map(|a| a.intent == Intent::SleptWell)
    }

    /// `Some(true)` eats well, `Some(false)` poor appetite.
    pub fn appetite_good(&self) -> Option<bool> {
        self.last(QuestionId::Appetite).map(|a| a.intent == Intent::AppetiteGood)
    }

    /// Whether the resident agreed to exercise today.
    pub fn will_exercise(&self) -> Option<bool> {
        self.last(QuestionId::ExerciseToday).map(|a| a.intent == Intent::Yes)
    }

    /// After a session: whether the resident says they did it.
    pub fn exercised(&self) -> Option<bool> {
        self.last(QuestionId::ExercisedDone).map(|a| a.intent == Intent::Exercised)
    }

    /// The resident asked to talk to someone (the open question).
    pub fn wants_contact(&self) -> bool {
        // 「誰とも話してねえ」 there is as much a wish for a visit as 「話を聞いてほしい」.
        self.last(QuestionId::Open).is_some_and(|a| matches!(a.intent, Intent::Yes | Intent::Lonely))
    }

    /// What the planner needs from today's check-in.
    pub fn today_facts(&self, recent_fall: bool) -> TodayFacts {
        TodayFacts {
            feeling: self.feeling(),
            pains: self.pains(),
            slept_badly: self.slept_well() == Some(false),
            recent_fall,
            pain_unplaced: self.pain_unplaced(),
        }
    }

    /// Pain reported, but no body part named: nothing can be planned around it.
    fn pain_unplaced(&self) -> bool {
        self.reported_pain() && self.pains().is_empty()
    }

    /// The answers so far make today a rest day (unwell, a bad night, or pain with no
    /// place named): the check-in does not offer exercise, and the planner advises rest.
    pub fn rest_advised(&self) -> bool {
        self.feeling() == Feeling::Unwell || self.slept_well() == Some(false) || self.pain_unplaced()
    }
}

/// Something the kiosk must put in its outbox, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum CareEvent {
    /// A dialogue ended (completed, with help, or unanswered).
    Checkin(CheckinRecord),
    /// The help flow raised an alert: staff act on it at once.
    HelpAlert {
        raised_at: NaiveDateTime,
        /// The question being asked when it happened, if any.
        during: Option<QuestionId>,
        /// What was understood (need help, emergency, or a critical-flagged answer).
        intent: Intent,
        /// True when the resident said yes to 「助けが必要、ということですね？」; false when
        /// help was sent without a clear answer (silence, unclear), which staff should know.
        confirmed: bool,
        /// The danger the resident named (fire, a fall…), when one was understood.
        danger: Option<Danger>,
    },
    /// The resident accepted the snow-clearing watch; the kiosk starts a [`crate::watch::SnowWatch`].
    SnowWatchRequested { at: NaiveDateTime },
    /// A snow-clearing watch got no answer (or a call for help) after its check-back.
    SnowWatchAlert {
        started_at: NaiveDateTime,
        check_back_at: NaiveDateTime,
        raised_at: NaiveDateTime,
        asked_for_help: bool,
    },
    /// A snow-clearing watch ended safely.
    SnowWatchEnded { started_at: NaiveDateTime, ended_at: NaiveDateTime },
}
