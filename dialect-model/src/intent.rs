//! Understanding one answer: folded text + lexicon concepts + the question just asked
//! → intent, body part, confidence and a `critical` flag.
//!
//! The intent, body-part, question and danger names are the product's one vocabulary
//! (`vocab`), shared with care; this crate does not depend on care and care does not
//! depend on it. Data files name body parts by kanji (`BodyPart::kanji`).
//!
//! Order of decisions: empty or speechless input is `other` with low confidence; a bare
//! answer (んだ, んねっす, く, かね) is resolved against the question; otherwise the
//! learned classifier decides; danger words then force `critical` (recall first) and,
//! when the classifier did not already say so, turn the intent into help or emergency.

use crate::analysis::{Analysis, analyse, is_alarm, is_content, negated};
use crate::classifier::{self, Model, ModelError, features};
use crate::danger::Ontology;
use crate::lexicon::{Hit, Lexicon};
use crate::normalise;

/// Below this classifier probability, an answer without any lexicon hit is `other`.
pub const OTHER_BELOW: f32 = 0.5;

/// Below this probability a help or emergency guess with no danger word behind it is
/// not taken: the danger ontology and the lexicon carry recall, the classifier's
/// hunches about critical answers were mostly false alarms on near misses.
pub const CLASSIFIER_ALARM: f32 = 0.75;

pub use vocab::{BodyPart, Danger, Intent, Question, UnknownName};

/// Body parts as the lexicon's concepts name them (`body:膝`).
pub fn body_part_of_concept(concept: &str) -> Option<BodyPart> {
    concept.strip_prefix("body:").and_then(|p| BodyPart::from_kanji(p).ok())
}

/// One understood answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Understanding {
    pub intent: Intent,
    pub body_part: Option<BodyPart>,
    /// 0.0..=1.0.
    pub confidence: f32,
    /// Danger words or a help/emergency intent: the kiosk starts the help flow.
    pub critical: bool,
    /// The danger concept named, if any (the kiosk confirms with its own question).
    pub danger: Option<Danger>,
}

impl Understanding {
    fn other(confidence: f32) -> Self {
        Self { intent: Intent::Other, body_part: None, confidence, critical: false, danger: None }
    }

    /// The fixed output line after the id: `intent<TAB>body_part<TAB>critical<TAB>confidence`.
    pub fn tsv_fields(&self) -> String {
        format!(
            "{}\t{}\t{}\t{:.3}",
            self.intent,
            self.body_part.map_or("", BodyPart::kanji),
            self.critical,
            self.confidence
        )
    }
}

/// Lexicon + classifier + danger ontology: everything needed to understand answers.
#[derive(Debug, Clone)]
pub struct Understander {
    pub lexicon: Lexicon,
    pub model: Model,
    pub danger: Ontology,
}

/// Why the shipped lexicon, ontology or model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Lexicon(#[from] crate::lexicon::LexiconError),
    #[error(transparent)]
    Ontology(#[from] crate::danger::OntologyError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl Understander {
    /// The lexicon and model shipped in `assets/dialect/`.
    pub fn load_default() -> Result<Self, LoadError> {
        let lexicon = Lexicon::load_default()?;
        let danger = Ontology::load_default(&lexicon)?;
        Ok(Self { model: Model::load(&classifier::model_path())?, lexicon, danger })
    }

    /// This understander with another model (same lexicon and ontology).
    pub fn with_model(&self, model: Model) -> Self {
        Self { lexicon: self.lexicon.clone(), model, danger: self.danger.clone() }
    }

    pub fn analyse(&self, text: &str) -> Analysis {
        analyse(&self.lexicon, text)
    }

    /// Understands one answer to `question`. Never panics; unknown input is `other`.
    pub fn understand(&self, text: &str, question: Question) -> Understanding {
        // 「元気だず…あ、んでね、腹いでんだった」: a resident who corrects themself means
        // what follows the correction, when that says anything; a danger anywhere in the
        // answer still counts (the ontology reads the whole answer, resolved cues included).
        if let Some(tail) = corrected_tail(text) {
            let mut u = self.understand_plain(tail, question);
            if u.intent != Intent::Other {
                self.apply_ontology(text, &mut u);
                return u;
            }
        }
        self.understand_plain(text, question)
    }

    /// [`Self::understand`] without looking for a self-correction.
    fn understand_plain(&self, text: &str, question: Question) -> Understanding {
        let a = self.analyse(text);
        if !normalise::has_speech(&a.folded) {
            return Understanding::other(0.05);
        }
        let mut u = match a.bare.as_deref().and_then(|b| bare_answer(b, question)) {
            Some(u) => u,
            None => self.classify(&a, question),
        };
        // A clause that only talks about a danger (on television, last winter, mended
        // since) raises nothing: its words are left out of the danger rules.
        let mut live = a.clone();
        live.hits.retain(|h| !self.danger.is_calm(text, &self.lexicon, clause_of(&a.folded, h)));
        // A help or emergency guess of the classifier is not trusted when every danger
        // word it saw was talk about a danger, nor below `CLASSIFIER_ALARM` with no
        // danger word at all: the best calm intent answers instead.
        let alarm = |h: &&Hit| is_alarm(&h.concept) && !negated_at_once(&a.folded, h);
        let alarm_live = live.hits.iter().filter(alarm).count();
        let alarm_seen = a.hits.iter().filter(alarm).count();
        let all_calm = alarm_seen > 0 && alarm_live == 0;
        if u.intent.is_critical() && (all_calm || (alarm_live == 0 && u.confidence < CLASSIFIER_ALARM)) {
            u = self.calm_guess(&a, question);
        }
        apply_danger(&live, question, &self.model, &mut u);
        self.apply_ontology(text, &mut u);
        if u.intent == Intent::Pain || u.intent == Intent::Emergency {
            u.body_part = body_part(&a.hits);
        }
        if u.intent != Intent::Pain && u.body_part != Some(BodyPart::Chest) {
            u.body_part = None;
        }
        u.confidence = u.confidence.clamp(0.0, 1.0);
        u
    }

    /// The ontology decides last, whatever came before: any danger it finds makes the
    /// answer critical and names the danger; an emergency outranks a need for help.
    fn apply_ontology(&self, text: &str, u: &mut Understanding) {
        let hits = self.danger.find(text, &self.lexicon);
        let Some(worst) = hits.iter().find(|h| h.kind == Intent::Emergency).or(hits.first()) else {
            return;
        };
        u.critical = true;
        u.danger = Some(worst.danger);
        u.confidence = u.confidence.max(0.7);
        let outranks = worst.kind == Intent::Emergency && u.intent == Intent::NeedHelp;
        if !u.intent.is_critical() || outranks {
            u.intent = worst.kind;
            u.confidence = u.confidence.max(0.7);
        }
    }

    /// The classifier's best intent that is not help or emergency.
    fn calm_guess(&self, a: &Analysis, question: Question) -> Understanding {
        let probs = self.model.predict(&features(a, question));
        let (i, p) = probs
            .iter()
            .copied()
            .enumerate()
            .filter(|&(i, _)| !Intent::ALL[i].is_critical())
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap_or((Intent::Other.index(), 0.0));
        let intent = match Intent::ALL[i] {
            Intent::Yes => question.resolve_yes_no(true),
            Intent::No => question.resolve_yes_no(false),
            other => other,
        };
        Understanding { intent, body_part: None, confidence: p, critical: false, danger: None }
    }

    fn classify(&self, a: &Analysis, question: Question) -> Understanding {
        let probs = self.model.predict(&features(a, question));
        let (best, p) = probs
            .iter()
            .copied()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap_or((Intent::Other.index(), 0.0));
        let mut intent = Intent::ALL.get(best).copied().unwrap_or(Intent::Other);
        let mut p = p;
        // A weak guess with no lexicon evidence at all is small talk, not a health answer.
        if p < OTHER_BELOW && a.hits.is_empty() {
            intent = Intent::Other;
            p = probs[Intent::Other.index()].max(0.2);
        }
        // The lexicon found a word with a meaning as written (うらうら: dizzy), so this is
        // not small talk even when the rest was misheard: the best real intent wins. A
        // near miss is not enough (「おっかねっす」, scared, is one kana from `unwell`).
        let meant = |h: &Hit| !h.near && is_content(&h.concept) && !h.concept.starts_with("body:");
        if intent == Intent::Other && a.hits.iter().any(meant) {
            let best_real = probs
                .iter()
                .copied()
                .enumerate()
                .filter(|(i, _)| *i != Intent::Other.index())
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .filter(|&(_, q)| q >= 0.15);
            if let Some((i, q)) = best_real {
                intent = Intent::ALL[i];
                p = q.max(0.4);
            }
        }
        // 「こわくて、体操すねっけ」: a tiredness or illness clause ending in ‑て/‑がら is the
        // reason; a sleep, meal or exercise outcome in the main clause is the answer.
        let reason_only = matches!(intent, Intent::Tired | Intent::FeelingUnwell)
            && !a.hits.iter().any(|h| h.concept == "pain");
        if let Some(outcome) = main_clause_outcome(a).filter(|_| reason_only) {
            intent = outcome;
            p = p.max(probs[outcome.index()]).max(0.6);
        }
        // 「ゆんべ、ねらんにぇ」 is not a bare no: when a yes/no guess sits on a sentence with
        // content words, the best content intent wins.
        if matches!(intent, Intent::Yes | Intent::No)
            && a.bare.is_none()
            && a.hits.iter().any(|h| is_content(&h.concept))
        {
            let yes_no = [Intent::Yes.index(), Intent::No.index()];
            let best_content = probs
                .iter()
                .copied()
                .enumerate()
                .filter(|(i, _)| !yes_no.contains(i))
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .filter(|&(_, q)| q >= 0.15);
            if let Some((i, q)) = best_content {
                intent = Intent::ALL[i];
                p = q.max(0.4);
            }
        }
        // A yes or no with words around it still answers the question asked.
        if intent == Intent::Yes || intent == Intent::No {
            intent = question.resolve_yes_no(intent == Intent::Yes);
        }
        Understanding { intent, body_part: None, confidence: p, critical: false, danger: None }
    }
}

/// What follows the last self-correction in `text` (「…いや、」「…あ、んでね、」
/// 「…やっぱり」), when something was said before it and something follows it.
fn corrected_tail(text: &str) -> Option<&str> {
    const MARKERS: [&str; 12] = [
        "いや、",
        "いや…",
        "いや。",
        "んでね、",
        "んでねくて",
        "でねくて",
        "やっぱり",
        "やっぱ",
        "じゃなくて",
        "どごだげんど",
        "ところだけど",
        "と思ったげんど",
    ];
    let (at, len) =
        MARKERS.iter().filter_map(|m| text.rfind(m).map(|at| (at, m.len()))).max_by_key(|&(at, _)| at)?;
    let before = normalise::fold(&text[..at]);
    let tail = &text[at + len..];
    (before.chars().filter(|c| *c != '|').count() >= 2 && normalise::fold(tail).chars().count() >= 2)
        .then_some(tail)
}

/// A negation right after a danger word (転ばねよう, 倒れねように): it did not happen.
fn negated_at_once(folded: &str, h: &Hit) -> bool {
    let next: String = folded.chars().skip(h.end).take(2).collect();
    next.starts_with('ね') || next.starts_with('な')
}

/// The clause (by `|`) a hit starts in.
fn clause_of(folded: &str, h: &Hit) -> usize {
    folded.chars().take(h.start).filter(|&c| c == '|').count()
}

/// The sleep, meal or exercise outcome stated in the last clause, if any.
fn main_clause_outcome(a: &Analysis) -> Option<Intent> {
    let main_start = a.folded.chars().collect::<Vec<_>>().iter().rposition(|&c| c == '|')? + 1;
    let main: Vec<&Hit> = a.hits.iter().filter(|h| h.start >= main_start).collect();
    let has = |c: &str| main.iter().any(|h| h.concept == c);
    let neg = |c: &str| main.iter().any(|h| h.concept == c && negated(&a.folded, h));
    if has("sleep_bad") || neg("sleep") {
        Some(Intent::SleptBadly)
    } else if has("eat_bad") || neg("eat") {
        Some(Intent::AppetitePoor)
    } else if neg("exercise") || (has("exercise") && has("not_yet")) {
        Some(Intent::NotExercised)
    } else {
        None
    }
}

/// A one- or two-mora answer resolved against the question (fact 8 of the dialect notes).
fn bare_answer(concept: &str, question: Question) -> Option<Understanding> {
    let sure = |intent, confidence| {
        Some(Understanding { intent, body_part: None, confidence, critical: false, danger: None })
    };
    match concept {
        "yes" | "yes_tentative" | "yes_understood" => {
            let c = if concept == "yes" { 0.92 } else { 0.8 };
            sure(question.resolve_yes_no(true), c)
        }
        "no" => sure(question.resolve_yes_no(false), 0.9),
        "bare:eat_yes" => {
            sure(Intent::AppetiteGood, if question == Question::Appetite { 0.92 } else { 0.75 })
        }
        "bare:eat_no" => sure(Intent::AppetitePoor, if question == Question::Appetite { 0.92 } else { 0.75 }),
        "greeting_bye" => sure(Intent::Greeting, 0.85),
        _ => None,
    }
}

/// Danger words force `critical`; with no help intent chosen, the stronger of
/// help/emergency takes over (critical detection favours recall).
fn apply_danger(a: &Analysis, question: Question, model: &Model, u: &mut Understanding) {
    let live = |c: &str| a.hits.iter().any(|h| h.concept == c && !negated(&a.folded, h));
    // Danger words are cancelled only by a negation right after them (転ばねよう);
    // 「息がでぎね」 and 「埋まって出らんね」 stay dangerous: recall first.
    let danger_word = |c: &str| a.hits.iter().any(|h| h.concept == c && !negated_at_once(&a.folded, h));
    let has = |c: &str| a.hits.iter().any(|h| h.concept == c);
    let chest = has("body:胸") && (has("pain") || has("palpitation") || has("critical_chest"));
    let breath = has("critical_chest");
    let fall_or_worse = danger_word("critical");
    let help = live("help") || live("help_hold");
    let kowai_chest = has("tired") && has("body:胸");
    let snow_slide_people = has("snow_slide") && (a.folded.contains('人') || a.folded.contains("うま"));
    // Palpitations (はかはか) alone are flagged, not re-labelled: recall first.
    let palpitation = live("palpitation");
    let danger = chest || breath || fall_or_worse || help || kowai_chest || snow_slide_people;
    if palpitation && !danger {
        u.critical = true;
        return;
    }
    if u.intent.is_critical() {
        u.critical = true;
        return;
    }
    if !danger {
        return;
    }
    u.critical = true;
    if help && !(chest || breath || fall_or_worse || snow_slide_people) {
        u.intent = Intent::NeedHelp;
        u.confidence = u.confidence.max(0.7);
        return;
    }
    let probs = model.predict(&features(a, question));
    let (e, h) = (probs[Intent::Emergency.index()], probs[Intent::NeedHelp.index()]);
    u.intent = if chest || breath || e >= h { Intent::Emergency } else { Intent::NeedHelp };
    u.confidence = (e + h).max(0.7);
}

/// The body part named: the longest, then earliest, `body:` concept.
fn body_part(hits: &[Hit]) -> Option<BodyPart> {
    hits.iter()
        .filter_map(|h| body_part_of_concept(&h.concept).map(|b| (h, b)))
        .max_by(|(x, _), (y, _)| (x.end - x.start, y.start).cmp(&(y.end - y.start, x.start)))
        .map(|(_, b)| b)
}
