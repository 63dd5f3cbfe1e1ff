//! Exercise: today's plan, the guided session, finishing it and the habit score.

use super::*;

impl Flow<'_> {
    pub(super) fn show_plan(&mut self, fx: &mut Vec<Effect>) {
        let Some(resident) = self.resident.as_ref() else { return self.go_idle(fx) };
        let record = self.dialogue.as_ref().map(|d| d.record().clone());
        let today = record.as_ref().map(|r| r.today_facts(false)).unwrap_or_default();
        let conditions =
            care::weather::Conditions::for_day(&self.care.calendar, self.now.date(), self.weather.as_ref());
        let plan = care::planner::plan_day(
            &self.care.catalogue,
            &conditions,
            &today,
            &resident.profile,
            &resident.history,
        );
        if self.offer_stand(&today, &plan, fx) {
            return;
        }
        let items: Vec<String> = plan
            .items
            .iter()
            .filter_map(|i| self.care.catalogue.get(&i.exercise_id).map(|e| e.name.clone()))
            .collect();
        self.show(Screen::Exercise);
        let mut headline = plan.headline.clone();
        for note in &plan.notes {
            headline.push_str(note);
        }
        self.view.exercise = ExerciseView {
            phase: "plan",
            headline: headline.clone(),
            items,
            posture: "seated",
            ..Default::default()
        };
        let mut lines = vec![plan.headline.clone()];
        lines.extend(plan.advice.iter().map(|a| a.text.to_string()));
        if plan.items.is_empty() {
            // A rest day: said and shown, excused in the score, no score screen after.
            self.view.exercise.phase = "rest";
            self.view.exercise.caption = lines.join("");
        }
        // Kept for tomorrow's planner (how hard, which days were rest) and the score.
        if let Some(r) = self.resident.as_mut() {
            fx.push(Effect::Record(Record::Plan { resident: r.id, plan: plan.clone() }));
            r.history.retain(|d| d.date != plan.date);
            r.history.push(DayRecord {
                date: plan.date,
                planned: plan.intensity,
                planned_items: plan.items.len().min(255) as u8,
                done: vec![],
                excused: plan.intensity.is_none(),
            });
        }
        self.plan = Some(plan);
        fx.push(Effect::Say { lines, slow: false });
    }

    pub(super) fn exercise(&mut self, input: ExerciseInput, fx: &mut Vec<Effect>) {
        if self.screen != Screen::Exercise {
            return;
        }
        match input {
            ExerciseInput::Start => {
                let Some(plan) = self.plan.as_ref() else { return };
                let guide = Guide::new(&self.care.catalogue, plan);
                self.guide = Some(guide);
                self.view.exercise.phase = "guide";
                fx.push(Effect::StopSpeaking);
                if !self.keep_words(fx) {
                    self.guide_next(fx);
                }
            }
            ExerciseInput::Later => {
                fx.push(Effect::StopSpeaking);
                self.show_score(fx);
            }
            ExerciseInput::PauseResume => {
                let Some(guide) = self.guide.as_mut() else { return };
                guide.paused = !guide.paused;
                self.view.exercise.paused = guide.paused;
                if guide.paused {
                    // Stop at once; the line is said again from its start on resume.
                    guide.back_one();
                    self.then = Then::Nothing;
                    fx.push(Effect::StopSpeaking);
                    self.view.exercise.caption =
                        "ひと休みしましょう。つづけるときは、ボタンを押してください。".into();
                } else {
                    self.guide_next(fx);
                }
            }
            ExerciseInput::Stop if self.standing() => self.stand_stop(fx),
            ExerciseInput::Stop => {
                fx.push(Effect::StopSpeaking);
                self.finish_exercise(fx);
            }
            ExerciseInput::Finish => match self.view.exercise.phase {
                "done" => {
                    fx.push(Effect::StopSpeaking);
                    if !self.begin_recall(fx) {
                        self.show_score(fx);
                    }
                }
                "rest" => {
                    fx.push(Effect::StopSpeaking);
                    self.go_idle(fx);
                }
                _ => {}
            },
        }
    }

    pub(super) fn guide_next(&mut self, fx: &mut Vec<Effect>) {
        let Some(guide) = self.guide.as_mut() else { return };
        if guide.paused {
            return;
        }
        match guide.next_line() {
            Some(step) => {
                self.view.exercise.step_title = step.title.clone();
                self.view.exercise.step_text = step.instruction.clone();
                self.view.exercise.caption = step.line.clone();
                self.view.exercise.count = step.count.clone();
                self.view.exercise.progress = step.progress.clone();
                self.view.exercise.posture = step.posture;
                self.then = Then::GuideNext;
                fx.push(Effect::Say { lines: vec![step.line], slow: false });
            }
            None => self.finish_exercise(fx),
        }
    }

    pub(super) fn finish_exercise(&mut self, fx: &mut Vec<Effect>) {
        let done: Vec<String> = self.guide.as_ref().map(|g| g.completed_ids()).unwrap_or_default();
        let minutes = self.guide.as_ref().map_or(0, |g| g.minutes());
        self.guide = None;
        self.then = Then::Nothing;
        self.view.exercise.phase = "done";
        self.view.exercise.paused = false;
        let line = if done.is_empty() {
            "今日はここまでにしましょう。また明日、いっしょに体を動かしましょう。"
        } else {
            "おつかれさまでした。よくがんばりましたね。"
        };
        self.view.exercise.caption = line.into();
        if let Some(r) = self.resident.as_mut()
            && !done.is_empty()
        {
            let categories =
                done.iter().filter_map(|id| self.care.catalogue.get(id).map(|e| e.category)).collect();
            let planned = self.plan.as_ref();
            let today = self.now.date();
            let mut day = r.history.iter().position(|d| d.date == today).map_or_else(
                || DayRecord {
                    date: today,
                    planned: planned.and_then(|p| p.intensity),
                    planned_items: planned.map_or(0, |p| p.items.len() as u8),
                    done: vec![],
                    excused: false,
                },
                |i| r.history.remove(i),
            );
            day.done.extend::<Vec<_>>(categories);
            r.history.push(day);
            let score = care::score::habit_score(today, &r.history);
            fx.push(Effect::Record(Record::ExerciseDone {
                resident: r.id,
                exercise_ids: done.clone(),
                minutes,
                on: today,
                progress: crate::store::Progress {
                    habit_score: score.score,
                    active_days: score.weeks[0].active_days,
                },
            }));
        }
        if done.is_empty() {
            // Stopped before any exercise: the words are not asked for.
            self.recall = None;
        }
        fx.push(say(&[line]));
    }

    pub(super) fn show_score(&mut self, fx: &mut Vec<Effect>) {
        let Some(r) = self.resident.as_ref() else { return self.go_idle(fx) };
        let score = care::score::habit_score(self.now.date(), &r.history);
        let mut weeks = [0u8; 4];
        for (i, w) in score.weeks.iter().enumerate() {
            // care gives week 1 (most recent) first; the picture reads left to right in time.
            weeks[3 - i] = w.active_days;
        }
        let sentence = encouragement(score.score, weeks[3], weeks[2]);
        let stamps = stamp_card(self.now.date(), &r.history);
        self.view.score = ScoreView { score: score.score, weeks, sentence: sentence.clone(), stamps };
        self.show(Screen::Score);
        fx.push(Effect::Say {
            lines: vec![
                format!("この1週間で、{}日、体を動かしました。", weeks[3]),
                format!("運動の習慣は、100点満点で{}点です。", score.score),
                sentence,
            ],
            slow: false,
        });
    }
}

/// The last seven days, oldest first: a stamp where the resident exercised, 「休」 on
/// a rest day the tablet advised, nothing otherwise (an empty box, never a cross).
pub fn stamp_card(today: chrono::NaiveDate, history: &[DayRecord]) -> Vec<Stamp> {
    use chrono::Datelike as _;
    const DAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
    (0..7u64)
        .rev()
        .map(|back| {
            let date = today - chrono::Days::new(back);
            let of_day = history.iter().filter(|d| d.date == date);
            let (mut done, mut rest) = (false, false);
            for d in of_day {
                done |= !d.done.is_empty();
                rest |= d.excused;
            }
            Stamp {
                day: if back == 0 {
                    "今日".into()
                } else {
                    DAYS[date.weekday().num_days_from_monday() as usize].into()
                },
                state: if done {
                    "done"
                } else if rest {
                    "rest"
                } else {
                    ""
                },
            }
        })
        .collect()
}

/// One encouraging sentence for the score screen: never a scolding one.
pub fn encouragement(score: u8, this_week: u8, last_week: u8) -> String {
    if this_week > last_week && last_week > 0 {
        format!("先週より{}日多く体を動かしました。その調子です。", this_week - last_week)
    } else if score >= 70 {
        "よく続いています。無理をせず、この調子でいきましょう。".into()
    } else if score >= 30 {
        "少しずつ習慣になっています。明日もいっしょに動きましょう。".into()
    } else if this_week > 0 {
        "今週も体を動かせました。できる日に、少しずつで大丈夫です。".into()
    } else {
        "できる日に、少しずつ始めましょう。座ってできる体操もあります。".into()
    }
}
