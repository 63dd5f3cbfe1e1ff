//! The weekly talk about the day and three words (see `care::memory`): on a day it is
//! due, the end of a completed check-in asks the day of the week (or the season) on the
//! question screen, with the choices and 「わからない」 as buttons; that day's exercises
//! open with three words to keep in mind, and 「できました」 after them leads to one cue
//! per word before the score. A word named
//! early counts for its own cue (「あさがおと、うさぎ」 answers two). Only how many
//! answers were right is recorded; silence records nothing.

use care::memory::{Ask, WordSet};

use super::*;

/// A question of the talk on screen.
#[derive(Debug, Clone)]
pub(super) enum MemoryAsk {
    /// The day (or season) question; `after`: where the check-in was going.
    Orient { ask: Ask, after: Then },
    /// The cue for word `n` of `set`; `right` recalled so far; `ahead`: words named
    /// before their cue.
    Recall { set: WordSet, n: usize, right: u8, ahead: u16, ask: Ask },
}

impl Flow<'_> {
    /// At the end of a completed check-in: the day question, when the talk is due for
    /// this resident. Returns whether it will be asked.
    pub(super) fn plan_memory(&mut self, after: Then) -> bool {
        let today = self.now.date();
        let Some(r) = self.resident.as_ref() else { return false };
        if !care::memory::due(today, r.memory_last, r.memory_off, r.known_since) {
            return false;
        }
        let ask = care::memory::orientation(&self.care.script.memory, today);
        self.memory = Some(MemoryAsk::Orient { ask, after });
        self.then = Then::AskMemory;
        true
    }

    /// Whether a question of the talk is on screen.
    pub(super) fn remembering(&self) -> bool {
        self.memory.is_some()
    }

    /// The check-in's closing line was said: the day question.
    /// It counts as this week's talk from here, answered or not.
    pub(super) fn ask_memory(&mut self, fx: &mut Vec<Effect>) {
        let Some(MemoryAsk::Orient { ask, .. }) = self.memory.clone() else { return };
        let today = self.now.date();
        if let Some(r) = self.resident.as_mut() {
            r.memory_last = Some(today);
            self.words_kept = Some((r.id, today));
            fx.push(Effect::Record(Record::MemoryAsked { resident: r.id, day: today }));
        }
        self.ask_choices(vec![ask.line.clone()], &ask, ask.forms.clone(), fx);
    }

    fn ask_choices(&mut self, lines: Vec<String>, ask: &Ask, expect: Vec<Vec<String>>, fx: &mut Vec<Effect>) {
        let buttons = self.care.script.memory.buttons(&ask.choices);
        self.expect = expect;
        self.ask_on_screen(lines, buttons, QuestionId::Confirm, fx);
    }

    /// A button: a choice by its place, or 「わからない」 (the last).
    pub(super) fn memory_button(&mut self, i: usize, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        let chosen = self.memory_choices().filter(|&n| i < n).map(|_| i);
        self.memory_answer(chosen, 0, fx);
    }

    /// What the speech worker understood: the choice named last, and in the recall
    /// any of the three words named along with it.
    pub(super) fn memory_heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        if u.is_critical() {
            self.end_memory();
            if let Some(resident) = self.resident.clone() {
                self.danger_heard(resident, u, fx);
            }
            return;
        }
        if u.intent == Intent::RepeatRequest && u.last_named.is_none() {
            return self.repeat_memory(fx);
        }
        let n = self.memory_choices().unwrap_or(0);
        let chosen = u.last_named.map(usize::from).filter(|&i| i < n);
        // In the recall the three words follow the cue's choices.
        let ahead = (u.named >> n) & 0b111;
        self.memory_answer(chosen, ahead, fx);
    }

    /// Silence, or nothing for a while: nothing is recorded; the day goes on.
    pub(super) fn memory_silence(&mut self, fx: &mut Vec<Effect>) {
        match self.memory.take() {
            Some(MemoryAsk::Orient { after, .. }) => {
                let then = self.after_orientation(after);
                self.end_memory();
                self.buttons.clear();
                self.view.checkin.buttons.clear();
                self.then = then;
                self.speech_done(fx);
            }
            Some(MemoryAsk::Recall { .. }) => {
                self.end_memory();
                self.say_last(vec![self.care.script.memory.thanks.clone()], Then::Score, fx);
            }
            None => {}
        }
    }

    fn memory_choices(&self) -> Option<usize> {
        match &self.memory {
            Some(MemoryAsk::Orient { ask, .. } | MemoryAsk::Recall { ask, .. }) => Some(ask.choices.len()),
            None => None,
        }
    }

    fn repeat_memory(&mut self, fx: &mut Vec<Effect>) {
        match self.memory.clone() {
            Some(MemoryAsk::Orient { ask, .. } | MemoryAsk::Recall { ask, .. }) => {
                let expect = self.expect.clone();
                self.ask_choices(vec![ask.line.clone()], &ask, expect, fx);
            }
            None => {}
        }
    }

    fn memory_answer(&mut self, chosen: Option<usize>, ahead: u16, fx: &mut Vec<Effect>) {
        let lines = &self.care.script.memory;
        let today = self.now.date();
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        match self.memory.take() {
            Some(MemoryAsk::Orient { ask, after }) => {
                let right = chosen.is_some_and(|i| ask.right.contains(&i));
                // The part asked, not today's: an answer after midnight keeps its question.
                let part = ask.part;
                fx.push(Effect::Record(Record::MemoryNoted {
                    resident,
                    day: today,
                    part,
                    right: right.into(),
                    of: 1,
                }));
                let line = match (right, chosen, part) {
                    (true, Some(i), _) => care::memory::fill(&lines.right, &ask.choices[i]),
                    (_, _, vocab::MemoryPart::Season) => care::memory::fill(&lines.season_told, &ask.answer),
                    _ => care::memory::fill(&lines.told, &ask.answer),
                };
                let then = self.after_orientation(after);
                self.end_memory();
                self.say_last(vec![line], then, fx);
            }
            Some(MemoryAsk::Recall { set, n, right, ahead: before, ask }) => {
                let got = chosen.is_some_and(|i| ask.right.contains(&i)) || before & (1 << n) != 0;
                let line = if got {
                    care::memory::fill(&lines.recalled, &ask.answer)
                } else {
                    care::memory::fill(&lines.recall_told, &ask.answer)
                };
                let right = right + u8::from(got);
                self.next_cue(set, n + 1, right, before | ahead, vec![line], fx);
            }
            None => {}
        }
    }

    /// Where the day goes after the day question: the news, the small talk's offer,
    /// or where the check-in was going.
    fn after_orientation(&mut self, after: Then) -> Then {
        if self.plan_news(after) {
            Then::ReadNews
        } else if self.plan_talk_offer(after) {
            Then::OfferTalk
        } else {
            after
        }
    }

    fn end_memory(&mut self) {
        self.memory = None;
        self.expect.clear();
    }

    /// Before the first exercise on the talk's day: the three words, large as the
    /// title, and said in two captioned parts (the intro, then the words). Returns
    /// whether they were.
    pub(super) fn keep_words(&mut self, fx: &mut Vec<Effect>) -> bool {
        let today = self.now.date();
        let Some(r) = self.resident.as_ref() else { return false };
        if self.words_kept != Some((r.id, today)) {
            return false;
        }
        self.words_kept = None;
        let lines = &self.care.script.memory;
        let set = lines.set_for(today).clone();
        self.view.exercise.step_title =
            set.words.iter().map(|w| w.word.say.as_str()).collect::<Vec<_>>().join("・");
        self.view.exercise.progress = "三つの言葉".into();
        self.view.exercise.count = String::new();
        self.view.exercise.caption = lines.words_intro.clone();
        self.recall = Some(set);
        self.then = Then::SayWords;
        fx.push(Effect::Say { lines: vec![lines.words_intro.clone()], slow: true });
        true
    }

    /// The intro was said: the words themselves, then the first exercise.
    pub(super) fn say_words(&mut self, fx: &mut Vec<Effect>) {
        let Some(set) = self.recall.as_ref() else { return self.guide_next(fx) };
        let line = self.care.script.memory.words_line(set);
        self.view.exercise.caption = line.clone();
        self.then = Then::GuideNext;
        fx.push(Effect::Say { lines: vec![line], slow: true });
    }

    /// 「できました」 after the exercises, when words were kept: the first cue, on the
    /// question screen. Returns whether the recall began.
    pub(super) fn begin_recall(&mut self, fx: &mut Vec<Effect>) -> bool {
        let Some(set) = self.recall.take() else { return false };
        self.show(Screen::Checkin);
        let lines = vec![self.care.script.memory.recall_intro.clone()];
        self.next_cue(set, 0, 0, 0, lines, fx);
        true
    }

    /// The cue for word `n`, skipping words already named; after the last, the count
    /// is recorded and the score follows.
    fn next_cue(
        &mut self,
        set: WordSet,
        n: usize,
        right: u8,
        ahead: u16,
        mut said: Vec<String>,
        fx: &mut Vec<Effect>,
    ) {
        let lines = &self.care.script.memory;
        let today = self.now.date();
        let (mut n, mut right) = (n, right);
        while n < set.words.len() && ahead & (1 << n) != 0 {
            right += 1;
            n += 1;
        }
        if n >= set.words.len() {
            let resident = self.resident.as_ref().map_or(0, |r| r.id);
            let of = set.words.len() as u8;
            fx.push(Effect::Record(Record::MemoryNoted {
                resident,
                day: today,
                part: vocab::MemoryPart::Recall,
                right,
                of,
            }));
            said.push(lines.thanks.clone());
            self.end_memory();
            self.say_last(said, Then::Score, fx);
            return;
        }
        let ask = care::memory::recall(lines, &set, n, today);
        said.push(ask.line.clone());
        let mut expect = ask.forms.clone();
        expect.extend(care::memory::set_forms(&set));
        self.memory = Some(MemoryAsk::Recall { set, n, right, ahead, ask: ask.clone() });
        self.ask_choices(said, &ask, expect, fx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::tests::{care, guarded};

    /// Someone the tablet has known since November.
    fn known() -> Resident {
        // Her chair-stand test was this month: it is not offered in the way.
        let stand = care::chairstand::StandDays {
            last_test: Some(("2026-12-10".parse().unwrap(), 12)),
            last_offer: Some("2026-12-10".parse().unwrap()),
        };
        Resident { known_since: Some("2026-11-02".parse().unwrap()), stand, ..guarded(false) }
    }

    fn said(fx: &[Effect]) -> String {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Say { lines, .. } => Some(lines.join("")),
                _ => None,
            })
            .collect()
    }

    fn noted(fx: &[Effect]) -> Vec<(vocab::MemoryPart, u8, u8)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Record(Record::MemoryNoted { resident: 3, part, right, of, .. }) => {
                    Some((*part, *right, *of))
                }
                _ => None,
            })
            .collect()
    }

    /// A check-in answered by buttons on `day` at 07:05, up to the first thing after
    /// its closing line; the flow and all it did.
    fn checked_in(r: Resident, day: &str) -> (Flow<'static>, Vec<Effect>) {
        let mut flow = Flow::new(care(), format!("{day}T07:05:00").parse().unwrap());
        let mut fx = flow.handle(Input::CardRead(Some(r), "cd".repeat(32)));
        for i in [0, 0, 0, 0, 0, 0] {
            fx.extend(flow.handle(Input::Answer(i)));
        }
        fx.extend(flow.handle(Input::SpeechDone));
        (flow, fx)
    }

    fn asked(flow: &Flow<'_>) -> bool {
        flow.view().checkin.caption == care().script.memory.weekday
            || flow.view().checkin.caption == care().script.memory.season
    }

    /// Over three weeks of daily check-ins the talk comes once a week, on the first
    /// check-in of its day; never in her first week with the tablet; never when staff
    /// turned it off.
    #[test]
    fn the_talk_comes_at_most_weekly_and_never_when_turned_off() {
        let mut r = known();
        let mut days = vec![];
        for n in 0..21 {
            let day =
                (chrono::NaiveDate::from_ymd_opt(2026, 12, 14).unwrap() + chrono::Days::new(n)).to_string();
            let (mut flow, fx) = checked_in(r.clone(), &day);
            if asked(&flow) {
                days.push(day.clone());
                assert!(
                    fx.iter().any(|e| matches!(e, Effect::Record(Record::MemoryAsked { resident: 3, .. })))
                );
                // Asked again the same day (a second check-in): not again.
                flow.handle(Input::Answer(0));
                r.memory_last = flow.resident.as_ref().and_then(|r| r.memory_last);
                let (again, _) = checked_in(r.clone(), &day);
                assert!(!asked(&again), "{day}");
            }
        }
        assert_eq!(days, ["2026-12-14", "2026-12-21", "2026-12-28"]);
        for n in 0..21 {
            let day =
                (chrono::NaiveDate::from_ymd_opt(2026, 12, 14).unwrap() + chrono::Days::new(n)).to_string();
            let (flow, _) = checked_in(Resident { memory_off: true, ..known() }, &day);
            assert!(!asked(&flow), "turned off, {day}");
            let (flow, _) = checked_in(guarded(false), &day);
            assert!(!asked(&flow), "her first week with the tablet, {day}");
        }
    }

    /// The day question: a right answer by button is said back; a wrong one by voice
    /// is never called wrong, the right day is said kindly; 「わからない」 likewise;
    /// silence records nothing; then the day goes on to the small talk's offer.
    #[test]
    fn the_day_question_by_button_voice_or_not_at_all() {
        let lines = &care().script.memory;
        // 2026-12-14 is a Monday of ISO week 51 (odd): the day, beside the day before.
        let (mut flow, _) = checked_in(known(), "2026-12-14");
        assert_eq!(flow.view().checkin.caption, lines.weekday);
        assert_eq!(flow.view().checkin.buttons, ["日曜日", "月曜日", "わからない"]);
        let fx = flow.handle(Input::SpeechDone);
        let expect = fx.iter().position(|e| matches!(e, Effect::Expect(c) if c.len() == 2));
        let listen = fx.iter().position(|e| matches!(e, Effect::Listen(_)));
        assert!(
            expect.is_some() && expect < listen,
            "the choices go to the worker before it listens: {fx:?}"
        );
        let fx = flow.handle(Input::Answer(1));
        assert_eq!(noted(&fx), [(vocab::MemoryPart::Weekday, 1, 1)]);
        assert_eq!(said(&fx), "んだ、月曜日ですね。");
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.view().checkin.caption, care().smalltalk.offer, "then the small talk's offer");

        let heard = |last: Option<u8>, intent: Intent| {
            Input::Heard(Understanding {
                named: last.map_or(0, |i| 1 << i),
                last_named: last,
                ..Understanding::sure(intent)
            })
        };
        for (answer, right) in [
            (heard(Some(0), Intent::Other), 0),
            (heard(Some(1), Intent::Other), 1),
            (heard(None, Intent::No), 0),
            (Input::Answer(0), 0),
            (Input::Answer(2), 0),
        ] {
            let (mut flow, _) = checked_in(known(), "2026-12-14");
            let fx = flow.handle(answer.clone());
            assert_eq!(noted(&fx), [(vocab::MemoryPart::Weekday, right, 1)], "{answer:?}");
            if right == 0 {
                assert_eq!(said(&fx), "きょうは、げつようびですよ。", "{answer:?}");
            }
        }
        // Silence: nothing recorded, on to the offer.
        let (mut flow, _) = checked_in(known(), "2026-12-14");
        let fx = flow.handle(Input::Silence);
        assert!(noted(&fx).is_empty());
        assert_eq!(flow.view().checkin.caption, care().smalltalk.offer);
        // A danger said goes to the help flow, recording nothing.
        let (mut flow, _) = checked_in(known(), "2026-12-14");
        let fx = flow.handle(Input::Heard(Understanding {
            danger: Some(vocab::Danger::Fire),
            ..Understanding::sure(Intent::Emergency)
        }));
        assert!(noted(&fx).is_empty());
        assert!(!flow.remembering() && flow.dialogue.is_some());
        // A fourth ISO week asks the season: winter, beside spring.
        let (mut flow, _) = checked_in(known(), "2026-12-21");
        assert_eq!(flow.view().checkin.caption, lines.season);
        assert_eq!(flow.view().checkin.buttons, ["春", "冬", "わからない"]);
        assert_eq!(noted(&flow.handle(Input::Answer(1))), [(vocab::MemoryPart::Season, 1, 1)]);
    }

    /// The three words open the day's exercises and are recalled after them (at
    /// 「できました」), one cue at a time; a word named early counts for its own cue; only the count is
    /// recorded; then the score. Stopped before any exercise, nothing is asked.
    #[test]
    fn three_words_open_the_exercises_and_are_recalled_after_them() {
        let lines = &care().script.memory;
        let (mut flow, _) = checked_in(known(), "2026-12-14");
        flow.handle(Input::Answer(0));
        flow.handle(Input::SpeechDone);
        flow.handle(Input::Answer(1)); // またね to the small talk
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Exercise, "{:?}", flow.view().checkin.caption);
        let set = lines.set_for("2026-12-14".parse().unwrap()).clone();
        let fx = flow.handle(Input::Exercise(ExerciseInput::Start));
        assert_eq!(said(&fx), lines.words_intro);
        let words = set.words.iter().map(|w| w.word.say.clone()).collect::<Vec<_>>().join("・");
        assert_eq!(flow.view().exercise.step_title, words, "the words, large");
        let fx = flow.handle(Input::SpeechDone);
        assert_eq!(said(&fx), lines.words_line(&set));
        assert_eq!(flow.view().exercise.caption, lines.words_line(&set), "captioned as said");
        for _ in 0..500 {
            if flow.view().exercise.phase == "done" {
                break;
            }
            flow.handle(Input::SpeechDone);
        }
        assert_eq!(flow.view().exercise.phase, "done", "the session ends as always");
        flow.handle(Input::Exercise(ExerciseInput::Finish));
        assert_eq!(flow.screen(), Screen::Checkin);
        let caption = flow.view().checkin.caption.clone();
        assert!(caption.contains(&lines.recall_intro), "{caption}");
        assert!(caption.ends_with(&care::memory::fill(&lines.cue, &set.words[0].cue)), "{caption}");
        let first = care::memory::recall(lines, &set, 0, "2026-12-14".parse().unwrap());
        assert_eq!(flow.view().checkin.buttons.len(), 3);
        assert_eq!(flow.view().checkin.buttons[first.right[0]], set.words[0].word.say);
        // By voice: the first word, and the third named along with it (bits after the
        // cue's two choices).
        let fx = flow.handle(Input::Heard(Understanding {
            named: (1 << first.right[0]) | (1 << (2 + 2)),
            last_named: Some(first.right[0] as u8),
            ..Understanding::sure(Intent::Other)
        }));
        assert!(noted(&fx).is_empty(), "counted at the end only");
        assert!(said(&fx).starts_with(&care::memory::fill(&lines.recalled, &set.words[0].word.say)));
        // The second by button, not the right one: said kindly; the third is not asked.
        let second = care::memory::recall(lines, &set, 1, "2026-12-14".parse().unwrap());
        let wrong = (second.right[0] + 1) % 2;
        let fx = flow.handle(Input::Answer(wrong));
        assert_eq!(noted(&fx), [(vocab::MemoryPart::Recall, 2, 3)]);
        assert_eq!(
            said(&fx),
            format!("{}{}", care::memory::fill(&lines.recall_told, &set.words[1].word.say), lines.thanks)
        );
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Score);

        // Stopped before any exercise was done: no recall.
        let (mut flow, _) = checked_in(known(), "2026-12-14");
        flow.handle(Input::Answer(0));
        flow.handle(Input::SpeechDone);
        flow.handle(Input::Answer(1));
        flow.handle(Input::SpeechDone);
        flow.handle(Input::Exercise(ExerciseInput::Start));
        let mut fx = flow.handle(Input::Exercise(ExerciseInput::Stop));
        fx.extend(flow.handle(Input::Exercise(ExerciseInput::Finish)));
        assert_eq!(flow.screen(), Screen::Score);
        assert!(noted(&fx).is_empty() && !flow.remembering());
    }
}
