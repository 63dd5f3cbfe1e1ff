//! The guided exercise session: today's plan turned into lines to say one at a
//! time (name, steps, counting), with progress, pause and what was completed.

use care::catalogue::{Catalogue, Dose, Posture};
use care::planner::Plan;

/// One line of the session and what the screen shows with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideStep {
    /// The exercise's name.
    pub title: String,
    /// The written step shown while this line is said.
    pub instruction: String,
    /// The spoken (and captioned) line.
    pub line: String,
    /// The counting shown large while counting (「いち、に、さん。」), else empty.
    pub count: String,
    /// 「2つめ／3つ」.
    pub progress: String,
    pub posture: &'static str,
}

#[derive(Debug, Clone)]
struct Item {
    id: String,
    steps: Vec<GuideStep>,
    minutes: u32,
}

/// A running session.
#[derive(Debug, Clone)]
pub struct Guide {
    items: Vec<Item>,
    item: usize,
    line: usize,
    pub paused: bool,
    /// Items whose every line was said.
    completed: Vec<usize>,
}

impl Guide {
    pub fn new(catalogue: &Catalogue, plan: &Plan) -> Self {
        let total = plan.items.len();
        let items = plan
            .items
            .iter()
            .enumerate()
            .filter_map(|(n, item)| {
                let e = catalogue.get(&item.exercise_id)?;
                let posture = match e.posture {
                    Posture::Seated => "seated",
                    Posture::Standing => "standing",
                };
                let progress = format!("{}つめ／{}つ", n + 1, total);
                let sets = match e.dose {
                    Dose::Reps { sets, .. } => sets.max(1),
                    Dose::Seconds(_) => 1,
                };
                let mut steps = vec![GuideStep {
                    title: e.name.clone(),
                    instruction: e.steps.first().cloned().unwrap_or_default(),
                    line: format!("{}をしましょう。", e.reading),
                    count: String::new(),
                    progress: progress.clone(),
                    posture,
                }];
                for set in 0..sets {
                    for (i, line) in e.script.iter().enumerate() {
                        let instruction =
                            e.steps.get(i.min(e.steps.len().saturating_sub(1))).cloned().unwrap_or_default();
                        let count = if is_counting(line) { line.clone() } else { String::new() };
                        steps.push(GuideStep {
                            title: if sets > 1 {
                                format!("{}（{}回目）", e.name, set + 1)
                            } else {
                                e.name.clone()
                            },
                            instruction,
                            line: line.clone(),
                            count,
                            progress: progress.clone(),
                            posture,
                        });
                    }
                }
                let minutes = match e.dose {
                    Dose::Seconds(s) => s.div_ceil(60),
                    Dose::Reps { reps, sets } => (reps * sets * 4).div_ceil(60),
                }
                .max(1);
                Some(Item { id: e.id.clone(), steps, minutes })
            })
            .collect();
        Self { items, item: 0, line: 0, paused: false, completed: vec![] }
    }

    /// The next line to say, or `None` when the session is over.
    pub fn next_line(&mut self) -> Option<GuideStep> {
        loop {
            let item = self.items.get(self.item)?;
            if let Some(step) = item.steps.get(self.line) {
                self.line += 1;
                if self.line == item.steps.len() {
                    self.completed.push(self.item);
                }
                return Some(step.clone());
            }
            self.item += 1;
            self.line = 0;
        }
    }

    /// Steps back one line (after a pause, the interrupted line is said again).
    pub fn back_one(&mut self) {
        if self.line > 0 {
            if self.completed.last() == Some(&self.item) && self.line == self.items[self.item].steps.len() {
                self.completed.pop();
            }
            self.line -= 1;
        }
    }

    /// Ids of the exercises done to the end.
    pub fn completed_ids(&self) -> Vec<String> {
        self.completed.iter().map(|&i| self.items[i].id.clone()).collect()
    }

    /// Minutes of exercise completed (the catalogue's dose, rounded up).
    pub fn minutes(&self) -> u32 {
        self.completed.iter().map(|&i| self.items[i].minutes).sum()
    }
}

/// Whether a line is counting aloud: every word a number from いち to さんじゅう.
fn is_counting(line: &str) -> bool {
    const UNITS: [&str; 13] =
        ["", "いち", "に", "さん", "し", "よん", "ご", "ろく", "しち", "なな", "はち", "きゅう", "く"];
    let is_number = |w: &str| {
        let rest = ["さんじゅう", "にじゅう", "じゅう"].iter().find_map(|t| w.strip_prefix(t)).unwrap_or(w);
        UNITS.contains(&rest) && !w.is_empty()
    };
    let words: Vec<&str> = line.split(['、', '。']).filter(|w| !w.is_empty()).collect();
    !words.is_empty() && words.iter().all(|w| is_number(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_lines_are_recognised() {
        assert!(is_counting("いち、に、さん。"));
        assert!(!is_counting("ゆっくり立ちましょう。"));
        assert!(!is_counting("いすに、すわります。"));
    }
}
