//! Today's exercise plan: chosen from the catalogue by season, weather, today's answers,
//! the resident's profile and recent adherence, with a reason for every choice.
//!
//! Deterministic: the same inputs give the same plan (variety comes from the date).
//! Safety rules are filters applied before any choice, so no preference can undo them:
//! nothing contraindicated, nothing loading a sore part, nothing outdoors unless
//! [`Conditions::outdoor_allowed`], seated only after a fall or in heavy snow, and an
//! intensity at most one step above the last plan's.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

use crate::catalogue::{
    Catalogue, Category, Contraindication, Equipment, Exercise, Intensity, Place, Posture,
};
use crate::understanding::BodyPart;
use crate::weather::{Conditions, Heat};

/// What the resident's care record says about their body and home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub contraindications: BTreeSet<Contraindication>,
    /// Equipment the household has; exercises needing anything else are not offered.
    pub equipment: BTreeSet<Equipment>,
    /// A ceiling set by staff or a doctor, if any.
    pub max_intensity: Option<Intensity>,
}

impl Default for Profile {
    /// No contraindications; a chair, a wall and a towel (every home has them).
    fn default() -> Self {
        Self {
            contraindications: BTreeSet::new(),
            equipment: [Equipment::Chair, Equipment::Wall, Equipment::Towel].into(),
            max_intensity: None,
        }
    }
}

/// How the resident said they feel today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Feeling {
    Good,
    Tired,
    Unwell,
    /// Not asked or not answered.
    #[default]
    Unknown,
}

/// What today's check-in told the planner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TodayFacts {
    pub feeling: Feeling,
    pub pains: BTreeSet<BodyPart>,
    /// The resident said they slept badly: a rest day, like feeling unwell.
    pub slept_badly: bool,
    /// A fall in the last few days (from the check-in or staff).
    pub recent_fall: bool,
    /// Pain was reported without saying where: nothing can be planned around it, so
    /// today is a rest day.
    pub pain_unplaced: bool,
}

/// One past day, as the kiosk recorded it; the planner's and the score's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRecord {
    pub date: NaiveDate,
    /// The plan's intensity that day; `None` for a rest day or no plan.
    pub planned: Option<Intensity>,
    /// How many exercises were planned.
    pub planned_items: u8,
    /// The category of each exercise the resident said they did.
    pub done: Vec<Category>,
    /// A day the plan itself said rest (unwell, storm, hospital): the score does not count it against anyone.
    pub excused: bool,
}

/// Why a piece of advice is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdviceKind {
    Water,
    CoolRoom,
    SnowClearingSafety,
    Rest,
}

/// A sentence of advice the kiosk says with the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub kind: AdviceKind,
    pub text: &'static str,
}

/// One chosen exercise and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    pub exercise_id: String,
    pub category: Category,
    pub intensity: Intensity,
    pub reason: &'static str,
}

/// Today's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub date: NaiveDate,
    /// The day's intensity ceiling; `None` is a rest day. Every item is at or below it,
    /// and it is at most one step above the last plan's.
    pub intensity: Option<Intensity>,
    /// The one sentence the kiosk says first (「雪が深いので、…」).
    pub headline: String,
    /// Further reasons, one sentence each (pain, intensity).
    pub notes: Vec<String>,
    pub items: Vec<PlanItem>,
    pub advice: Vec<Advice>,
}

/// Where the planner starts someone with no history.
pub const STARTING_INTENSITY: Intensity = Intensity::Light;

const WATER: Advice = Advice {
    kind: AdviceKind::Water,
    text: "のどがかわく前に、こまめに水を飲みましょう。",
};
const COOL_ROOM: Advice = Advice {
    kind: AdviceKind::CoolRoom,
    text: "エアコンをつけて、涼しい部屋で過ごしましょう。",
};
const SNOW_SAFETY: Advice = Advice {
    kind: AdviceKind::SnowClearingSafety,
    text: "雪下ろしは一人でしないで、必ず人に声をかけましょう。",
};
const REST: Advice = Advice {
    kind: AdviceKind::Rest,
    text: "ゆっくり休んで、つらいときは助けを呼びましょう。",
};

/// Every fixed sentence the planner can say, for the spoken-line checks (tests only:
/// the product says these through plans).
pub fn fixed_phrases() -> Vec<&'static str> {
    let mut v = vec![WATER.text, COOL_ROOM.text, SNOW_SAFETY.text, REST.text];
    v.extend(Category::ALL.map(category_reason));
    v.extend([
        UNWELL,
        SLEPT_BADLY,
        PAIN,
        FALL,
        HEAT_ALERT,
        HEAT_CAUTION,
        HEAVY_SNOW,
        STORM,
        SNOWBOUND,
        TIRED,
        OUTDOOR,
        NOTHING_FITS,
        UP,
        SAME,
        DOWN,
        FIRST,
        CAPPED,
    ]);
    v
}

const UNWELL: &str = "体の具合がよくないので、今日の体操はお休みにしましょう。";
const SLEPT_BADLY: &str = "よく眠れなかったので、今日の体操はお休みにして、ゆっくりしましょう。";
const PAIN: &str = "痛むところがあるので、今日の体操はお休みにしましょう。";
const FALL: &str = "転んだばかりなので、今日は椅子に座ってできる体操だけにします。";
const HEAT_ALERT: &str = "今日はとても暑いので、涼しい部屋でできる軽い体操です。";
const HEAT_CAUTION: &str = "暑いので、今日は涼しい部屋でできる体操です。";
const HEAVY_SNOW: &str = "雪が深いので、今日は家の中で椅子に座ってできる体操です。";
const STORM: &str = "天気が荒れているので、今日は家の中でできる体操です。";
const SNOWBOUND: &str = "雪が積もっているので、今日は家の中でできる体操です。";
const TIRED: &str = "疲れているようなので、今日は軽めの体操にします。";
const OUTDOOR: &str = "天気がよいので、外を歩く体操も入れました。";
const NOTHING_FITS: &str = "今日は体に合う体操がないので、お休みにしましょう。";
const UP: &str = "毎日続けているので、少しだけ強くします。";
const SAME: &str = "前の日と同じくらいの強さにします。";
const DOWN: &str = "無理をしないように、少し軽くします。";
const FIRST: &str = "はじめは、軽い体操から始めます。";
const CAPPED: &str = "体を大事にして、今日は軽めにします。";

fn category_reason(c: Category) -> &'static str {
    match c {
        Category::Strength => "足腰を強くして、転びにくくするためです。",
        Category::Balance => "ふらつかないように、体の釣り合いをきたえます。",
        Category::Flexibility => "体をほぐして、けがを防ぎます。",
        Category::Endurance => "心臓と肺を元気に保つためです。",
        Category::Oral => "口を動かして、食べる力と話す力を保ちます。",
        Category::Cognition => "頭も一緒に使って、物忘れを防ぎます。",
    }
}

/// Plans `conditions.date` for one resident. `history` may be in any order and may
/// include days after today (they are ignored).
pub fn plan_day(
    catalogue: &Catalogue,
    conditions: &Conditions,
    today: &TodayFacts,
    profile: &Profile,
    history: &[DayRecord],
) -> Plan {
    let date = conditions.date;
    let mut past: Vec<&DayRecord> = history.iter().filter(|d| d.date < date).collect();
    past.sort_by_key(|d| d.date);

    let mut plan =
        Plan { date, intensity: None, headline: String::new(), notes: vec![], items: vec![], advice: vec![] };
    if conditions.heat > Heat::None {
        plan.advice.extend([WATER, COOL_ROOM]);
    }
    if conditions.heavy_snow || conditions.snowbound {
        plan.advice.push(SNOW_SAFETY);
    }
    if today.feeling == Feeling::Unwell || today.slept_badly || today.pain_unplaced {
        plan.headline = if today.feeling == Feeling::Unwell {
            UNWELL
        } else if today.slept_badly {
            SLEPT_BADLY
        } else {
            PAIN
        }
        .into();
        plan.advice.push(REST);
        return plan;
    }

    let (intensity, intensity_note) = todays_intensity(&past, date, today, conditions, profile);
    let recent_fall = today.recent_fall || profile.contraindications.contains(&Contraindication::RecentFall);
    let seated_only = recent_fall || conditions.heavy_snow;
    let mut blocked = profile.contraindications.clone();
    if recent_fall {
        blocked.insert(Contraindication::RecentFall);
    }
    let allowed = |e: &&Exercise| {
        e.intensity <= intensity
            && e.seasons.contains(&conditions.season)
            && e.contraindications.is_disjoint(&blocked)
            && e.loads.is_disjoint(&today.pains)
            && e.equipment.is_subset(&profile.equipment)
            && (e.place == Place::Indoor || conditions.outdoor_allowed())
            && (!seated_only || e.posture == Posture::Seated)
    };
    let candidates: Vec<&Exercise> = catalogue.exercises().iter().filter(allowed).collect();

    // The MHLW guide: multi-component exercise most days, strength 2–3 days a week,
    // never on two days running (muscles recover in between).
    let strength_yesterday =
        past.last().is_some_and(|d| d.date.succ_opt() == Some(date) && d.done.contains(&Category::Strength));
    let strength_days_this_week = past
        .iter()
        .filter(|d| (date - d.date).num_days() <= 6 && d.done.contains(&Category::Strength))
        .count();
    let strength_day = !strength_yesterday && strength_days_this_week < 3;
    let slots: &[Category] = if strength_day {
        &[Category::Flexibility, Category::Strength, Category::Strength, Category::Balance, Category::Oral]
    } else {
        &[Category::Flexibility, Category::Balance, Category::Endurance, Category::Cognition, Category::Oral]
    };
    let day = date.num_days_from_ce() as usize;
    for (slot, &category) in slots.iter().enumerate() {
        let mut pool: Vec<&Exercise> = candidates
            .iter()
            .copied()
            .filter(|e| e.category == category && !plan.items.iter().any(|i| i.exercise_id == e.id))
            .collect();
        // Prefer exercises near today's ceiling (progress), and outdoors when it is allowed.
        let near: Vec<&Exercise> = pool.iter().copied().filter(|e| e.intensity >= intensity.down()).collect();
        if !near.is_empty() {
            pool = near;
        }
        let outdoor: Vec<&Exercise> = pool.iter().copied().filter(|e| e.place == Place::Outdoor).collect();
        if !outdoor.is_empty() {
            pool = outdoor;
        }
        if let Some(e) = pool.get((day + slot * 7) % pool.len().max(1)) {
            plan.items.push(PlanItem {
                exercise_id: e.id.clone(),
                category,
                intensity: e.intensity,
                reason: category_reason(category),
            });
        }
    }
    if plan.items.is_empty() {
        plan.headline = NOTHING_FITS.into();
        plan.advice.push(REST);
        return plan;
    }
    plan.intensity = Some(intensity);

    let outdoor_planned =
        plan.items.iter().any(|i| catalogue.get(&i.exercise_id).is_some_and(|e| e.place == Place::Outdoor));
    let pain_note = match today.pains.len() {
        0 => None,
        1 => today.pains.first().map(|p| format!("{0}が痛いので、{0}を使わない体操にしました。", p.label())),
        // Name two at most, so the sentence stays short.
        n => {
            let parts: Vec<&str> = today.pains.iter().take(2).map(|p| p.label()).collect();
            let more = if n > 2 { "など" } else { "" };
            Some(format!("{}{more}が痛いので、そこを使わない体操にしました。", parts.join("と")))
        }
    };
    plan.headline = if recent_fall {
        FALL.into()
    } else if conditions.heat == Heat::Alert {
        HEAT_ALERT.into()
    } else if conditions.heavy_snow {
        HEAVY_SNOW.into()
    } else if conditions.storm {
        STORM.into()
    } else if conditions.snowbound {
        SNOWBOUND.into()
    } else if conditions.heat == Heat::Caution {
        HEAT_CAUTION.into()
    } else if let Some(note) = pain_note.clone() {
        note
    } else if today.feeling == Feeling::Tired {
        TIRED.into()
    } else if outdoor_planned {
        OUTDOOR.into()
    } else {
        format!("{}に合った、今日の体操です。", conditions.season_label)
    };
    if let Some(note) = pain_note.filter(|n| *n != plan.headline) {
        plan.notes.push(note);
    }
    plan.notes.push(intensity_note.into());
    plan
}

/// Today's ceiling: from the last plan, moved by adherence, then capped by today's facts.
/// The move is at most one step up, so with caps only lowering it, the plan never rises
/// more than one step day to day.
fn todays_intensity(
    past: &[&DayRecord],
    date: NaiveDate,
    today: &TodayFacts,
    conditions: &Conditions,
    profile: &Profile,
) -> (Intensity, &'static str) {
    let last = past.iter().rev().find_map(|d| d.planned.map(|i| (d, i)));
    let (target, mut note) = match last {
        None => (STARTING_INTENSITY, FIRST),
        Some((record, level)) => {
            let week: Vec<&&DayRecord> = past
                .iter()
                .filter(|d| (date - d.date).num_days() <= 7 && d.planned.is_some() && !d.excused)
                .collect();
            let planned: usize = week.iter().map(|d| d.planned_items as usize).sum();
            let done: usize = week.iter().map(|d| d.done.len().min(d.planned_items as usize)).sum();
            let adherence = if planned == 0 { 0.0 } else { done as f32 / planned as f32 };
            let days_since = (date - record.date).num_days();
            let finished_last =
                record.done.len() >= record.planned_items as usize && record.planned_items > 0;
            // A bad day: less than half of the last plan done (given up early, or not
            // started) makes the next one lighter, whatever the week before.
            let fell_short = !record.excused && record.done.len() * 2 < record.planned_items as usize;
            if days_since == 1 && finished_last && adherence >= 0.8 && week.len() >= 3 {
                (level.up(), UP)
            } else if adherence < 0.4 || days_since > 3 || fell_short {
                (level.down(), DOWN)
            } else {
                (level, SAME)
            }
        }
    };
    let mut cap = Intensity::Brisk;
    if today.feeling == Feeling::Tired {
        cap = cap.min(target.down()).min(Intensity::Light);
    }
    if today.recent_fall || conditions.heat == Heat::Alert || conditions.heavy_snow {
        cap = cap.min(Intensity::Light);
    }
    if let Some(max) = profile.max_intensity {
        cap = cap.min(max);
    }
    if cap < target {
        note = CAPPED;
    }
    (target.min(cap), note)
}
