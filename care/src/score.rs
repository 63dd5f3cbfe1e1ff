//! The exercise-habit score (0–100): how well the last four weeks met the MHLW guide, recent weeks counting most.
//!
//! # Definition
//!
//! Input: the resident's [`DayRecord`]s and `today`. The window is the 28 days ending
//! with `today`, split into four weeks of seven days; week 1 is the most recent.
//!
//! For each week, a day is **excused** when its record says so (the plan itself said
//! rest: unwell, storm, hospital) and **available** otherwise; a day with no record is
//! available. Let `a` be the available days (0–7). If `a = 0` the week is left out.
//! Otherwise three parts are scored, each `min(1, count / target)` with the target
//! scaled to the available days (`target × a / 7`):
//!
//! | part | counts days on which the resident did … | target per full week | weight |
//! | --- | --- | --- | --- |
//! | regular | any exercise | 5 | 40 |
//! | multi-component | exercises of two or more bodily kinds (strength, balance, flexibility, endurance) | 3 | 35 |
//! | strength | a strength exercise | 2 | 25 |
//!
//! The week's score is `40·regular + 35·multi + 25·strength` (0–100). The overall score
//! is the weighted mean of the included weeks' scores with weights 4, 3, 2, 1 (week 1 to
//! week 4), rounded to the nearest whole number; with no included week it is 0.
//!
//! Fair to snowbound weeks: indoor and outdoor exercise count the same (the planner
//! offers indoor plans when snow keeps people in), and only days the plan itself made
//! rest days are excused, so a week of snow costs nothing when the indoor plan was done.
//!
//! Monotone: doing one more exercise on any day can only raise a count, and excused
//! days depend only on the plan, never on what was done, so the score never falls.

use chrono::NaiveDate;

use crate::catalogue::Category;
use crate::planner::DayRecord;

/// Targets per full week, from the guide (activity most days; multi-component ≥ 3; strength 2–3).
pub const REGULAR_TARGET: f32 = 5.0;
pub const MULTI_TARGET: f32 = 3.0;
pub const STRENGTH_TARGET: f32 = 2.0;
/// Weights of the three parts; they sum to 100.
pub const WEIGHTS: [f32; 3] = [40.0, 35.0, 25.0];
/// Weights of weeks 1 (most recent) to 4.
pub const WEEK_WEIGHTS: [f32; 4] = [4.0, 3.0, 2.0, 1.0];

/// One week of the breakdown, for staff.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekBreakdown {
    /// First and last day of the week.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days not excused (0–7).
    pub available_days: u8,
    pub active_days: u8,
    pub multi_component_days: u8,
    pub strength_days: u8,
    /// This week's score, 0–100; `None` when every day was excused (left out).
    pub score: Option<f32>,
}

/// The score and how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct HabitScore {
    /// 0–100.
    pub score: u8,
    /// Week 1 (most recent) first.
    pub weeks: [WeekBreakdown; 4],
}

/// Computes the habit score on `today` from any records (others are ignored; several
/// records for one day are merged: excused if any is, exercises added up).
pub fn habit_score(today: NaiveDate, records: &[DayRecord]) -> HabitScore {
    let weeks: [WeekBreakdown; 4] = std::array::from_fn(|w| week(today, w as u64, records));
    let (sum, weight) = weeks
        .iter()
        .zip(WEEK_WEIGHTS)
        .filter_map(|(wk, weight)| wk.score.map(|s| (s * weight, weight)))
        .fold((0.0, 0.0), |(s, w), (ds, dw)| (s + ds, w + dw));
    let score = if weight > 0.0 { (sum / weight).round().clamp(0.0, 100.0) as u8 } else { 0 };
    HabitScore { score, weeks }
}

fn week(today: NaiveDate, w: u64, records: &[DayRecord]) -> WeekBreakdown {
    let to = today - chrono::Days::new(7 * w);
    let from = to - chrono::Days::new(6);
    let (mut available, mut active, mut multi, mut strength) = (0u8, 0u8, 0u8, 0u8);
    for offset in 0..7 {
        let day = from + chrono::Days::new(offset);
        let of_day: Vec<&DayRecord> = records.iter().filter(|r| r.date == day).collect();
        if !of_day.iter().any(|r| r.excused) {
            available += 1;
        }
        let done: Vec<Category> = of_day.iter().flat_map(|r| r.done.iter().copied()).collect();
        if !done.is_empty() {
            active += 1;
        }
        let mut kinds: Vec<Category> = done.iter().copied().filter(|c| c.is_physical()).collect();
        kinds.sort();
        kinds.dedup();
        if kinds.len() >= 2 {
            multi += 1;
        }
        if done.contains(&Category::Strength) {
            strength += 1;
        }
    }
    let score = (available > 0).then(|| {
        let share = available as f32 / 7.0;
        let part = |count: u8, target: f32| (count as f32 / (target * share)).min(1.0);
        WEIGHTS[0] * part(active, REGULAR_TARGET)
            + WEIGHTS[1] * part(multi, MULTI_TARGET)
            + WEIGHTS[2] * part(strength, STRENGTH_TARGET)
    });
    WeekBreakdown {
        from,
        to,
        available_days: available,
        active_days: active,
        multi_component_days: multi,
        strength_days: strength,
        score,
    }
}
