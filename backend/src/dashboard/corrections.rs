//! Dialect corrections: answers the tablet misunderstood, for staff to give the phrase
//! the resident used (typed after the visit) and its right meaning; one button that
//! retrains the dictionary on them and publishes it to every tablet when it is not
//! worse; the TSV export and a bundle upload for a town that trains elsewhere. Every
//! correction, retraining and publication is audited. 民生委員 see and correct their
//! district only; retraining and publishing (town-wide) are for office staff.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, render};

use super::{PageError, Session, Submitted, check_csrf};
use crate::clock::town_offset;
use crate::retrain::{RetrainError, Retrained, Verdict};
use crate::routes::{AppState, blocking};
use crate::store::{BundleError, BundleInfo, Correction, CorrectionExport, Role};
use vocab::{BodyPart, Intent, Question};

/// Rows listed at once, newest first.
const ROWS: usize = 200;
/// The longest phrase kept: one answer, not a conversation.
pub const MAX_PHRASE_CHARS: usize = 200;
/// The largest bundle the upload form takes (today's is 0.8 MB; corrections add little).
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

/// A choice of a `<select>`: its value, label and whether it is chosen.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn intent_choices(selected: &str) -> Vec<Choice> {
    Intent::ALL
        .iter()
        .map(|i| Choice { value: i.key(), label: i.label(), selected: i.key() == selected })
        .collect()
}

fn body_choices(selected: Option<&str>) -> Vec<Choice> {
    let none = Choice { value: "", label: "(なし)", selected: false };
    // Corrections are exported as `dialect-model learn` reads them: body parts by kanji.
    std::iter::once(none)
        .chain(BodyPart::ALL.iter().map(|b| b.kanji()).map(|part| Choice {
            value: part,
            label: part,
            selected: Some(part) == selected,
        }))
        .collect()
}

/// A misunderstood answer and its correction form, filled with what is known.
struct Line {
    id: i64,
    corrected: bool,
    at: String,
    resident: i64,
    district: String,
    question: String,
    understood: String,
    /// The recogniser's confidence, in percent.
    confidence: f32,
    chosen: String,
    text: String,
    intents: Vec<Choice>,
    parts: Vec<Choice>,
}

/// A published bundle, as the list shows it.
struct Bundle {
    version: u32,
    published: String,
    kib: u64,
}

#[derive(askama::Template)]
#[template(path = "corrections.html")]
struct CorrectionsPage {
    chrome: Chrome,
    csrf: String,
    rows: Vec<Line>,
    /// Office staff export and publish; 民生委員 only correct (`None`).
    bundles: Option<Vec<Bundle>>,
}

impl CorrectionsPage {
    const MAX_PHRASE_CHARS: usize = MAX_PHRASE_CHARS;
}

pub(super) async fn list(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    let district = session.scope()?;
    let rows = blocking(&state.store, move |s| s.misunderstandings(district.as_deref(), ROWS)).await?;
    let rows = rows
        .into_iter()
        .map(|m| {
            let (text, intent, part) = match &m.correction {
                Some(c) => (c.text.clone(), c.intent.as_str(), c.body_part.as_deref()),
                None => (String::new(), m.note.chosen.as_deref().unwrap_or(""), None),
            };
            Line {
                id: m.id,
                corrected: m.correction.is_some(),
                at: m.at.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string(),
                resident: m.resident.0,
                question: Question::label_of(&m.note.question).to_owned(),
                understood: Intent::label_of(&m.note.understood).to_owned(),
                confidence: m.note.confidence * 100.0,
                chosen: m.note.chosen.as_deref().map(Intent::label_of).unwrap_or("-").to_owned(),
                intents: intent_choices(intent),
                parts: body_choices(part),
                text,
                district: m.district.clone(),
            }
        })
        .collect();
    let bundles = if session.user.role == Role::Minsei {
        None
    } else {
        let published: Vec<BundleInfo> = blocking(&state.store, |s| s.bundles()).await?;
        Some(
            published
                .into_iter()
                .map(|b| Bundle {
                    version: b.version,
                    published: b.published.with_timezone(&town_offset()).format("%Y/%m/%d %H:%M").to_string(),
                    kib: b.bytes.div_ceil(1024),
                })
                .collect(),
        )
    };
    render(&CorrectionsPage {
        chrome: session.chrome("聞き取りの訂正", "/corrections"),
        csrf: session.csrf(),
        rows,
        bundles,
    })
}

pub(super) async fn save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    let district = session.scope()?;
    let found = blocking(&state.store, move |s| s.misunderstanding_district(id)).await?;
    match found {
        Some((_, d)) if district.as_ref().is_none_or(|own| *own == d) => {}
        // Another district's row looks the same as a missing one.
        _ => return Err(PageError::Refused(StatusCode::NOT_FOUND, "その記録は見つかりません。")),
    }
    let bad = |reason| PageError::Refused(StatusCode::BAD_REQUEST, reason);
    // One line of text: tabs and line breaks would break the TSV the model reads.
    let text: String = form
        .get("text")
        .map(|t| t.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>())
        .unwrap_or_default()
        .trim()
        .trim_start_matches('#')
        .trim()
        .to_owned();
    if text.is_empty() || text.chars().count() > MAX_PHRASE_CHARS {
        return Err(bad("言い方は1〜200文字で書いてください。"));
    }
    // No spoken phrase starts with these, and a spreadsheet would run it as a formula.
    if super::starts_a_formula(&text) {
        return Err(bad("言い方は文字から書いてください（= + - @ で始められません）。"));
    }
    let intent = form.get("intent").map(String::as_str).unwrap_or_default();
    if intent.parse::<Intent>().is_err() {
        return Err(bad("正しい意味を一覧から選んでください。"));
    }
    let body_part = match form.get("body_part").map(String::as_str).unwrap_or_default() {
        "" => None,
        p if BodyPart::from_kanji(p).is_ok() => Some(p.to_owned()),
        _ => return Err(bad("体の部位を一覧から選んでください。")),
    };
    let correction = Correction { text, intent: intent.to_owned(), body_part };
    let (user, now) = (session.user.user, state.clock.now());
    if !blocking(&state.store, move |s| s.save_correction(id, &correction, user, now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "その記録は見つかりません。"));
    }
    tracing::info!(misunderstanding = id, user = user.0, "dialect correction saved");
    Ok(Redirect::to("/corrections").into_response())
}

/// A bundle file from the upload form: its envelope is checked (magic line, version,
/// checksum) and its version must be newer than the published one before any tablet
/// hears of it. A refusal says why and stores nothing.
pub(super) async fn publish(
    State(state): State<AppState>,
    session: Session,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let bad = |reason| PageError::Refused(StatusCode::BAD_REQUEST, reason);
    let unreadable = || bad("送られたフォームを読めませんでした。");
    let mut form = HashMap::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name() {
            Some("csrf") => {
                let token = field.text().await.map_err(|_| unreadable())?;
                form.insert("csrf".to_owned(), token);
            }
            Some("bundle") => {
                file = Some(field.bytes().await.map_err(|_| bad("ファイルを読めませんでした(16 MB まで)。"))?)
            }
            _ => {}
        }
    }
    check_csrf(&session, &form)?;
    session.require_staff("方言辞書の配信は職員が行います。")?;
    let not_a_bundle =
        "方言辞書のファイルではないか、途中で切れています。dialect-model bundle で作り直してください。";
    let text = file
        .filter(|f| !f.is_empty())
        .ok_or(bad("方言辞書ファイルを選んでください。"))
        .and_then(|f| String::from_utf8(f.to_vec()).map_err(|_| bad(not_a_bundle)))?;
    let (user, now) = (session.user.user, state.clock.now());
    let published = blocking(&state.store, move |s| match s.publish_bundle(&text, Some(user), now) {
        Ok(version) => {
            s.audit(user, &format!("publish_dialect_bundle v{version}"), None, now)?;
            Ok(Ok(version))
        }
        Err(BundleError::Store(e)) => Err(e),
        Err(refused) => Ok(Err(refused)),
    })
    .await?;
    match published {
        Ok(version) => {
            tracing::info!(version, user = user.0, "dialect bundle published from the dashboard");
            Ok(Redirect::to("/corrections").into_response())
        }
        Err(BundleError::NotNewer { .. }) => Err(PageError::Refused(
            StatusCode::CONFLICT,
            "この版はもう配信されているか、配信中の版より古いです。新しい版の番号で作り直してください。",
        )),
        Err(_) => Err(bad(not_a_bundle)),
    }
}

/// The corrections as `dialect-model learn --corrections` reads them: a header row,
/// then `text, question, intent, body_part, corrected_by, corrected_at`, tab-separated.
/// The corrector is a user id, never a name.
pub(super) async fn export(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    session.require_staff("学習用の書き出しは職員が行います。")?;
    let rows = blocking(&state.store, |s| s.corrections_export()).await?;
    tracing::info!(user = session.user.user.0, "dialect corrections exported");
    Ok((
        [
            (header::CONTENT_TYPE, "text/tab-separated-values; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"corrections.tsv\""),
        ],
        corrections_tsv(rows),
    )
        .into_response())
}

fn corrections_tsv(rows: Vec<CorrectionExport>) -> String {
    let mut tsv = vocab::corrections::COLUMNS.join("\t") + "\n";
    for r in rows {
        // Rows kept from before the check above are defused, never run.
        let text = super::spreadsheet_cell(&r.correction.text);
        tsv.push_str(&format!(
            "{}\t{}\t{}\t{}\tuser{}\t{}\n",
            text,
            r.question,
            r.correction.intent,
            r.correction.body_part.as_deref().unwrap_or(""),
            r.corrected_by.0,
            r.corrected_at.with_timezone(&town_offset()).format("%Y-%m-%dT%H:%M:%S%:z"),
        ));
    }
    tsv
}

/// A retraining as the page shows it.
struct RetrainLine {
    at: String,
    by: String,
    verdict: Verdict,
    /// The version it published; `None` when refused.
    published: Option<u32>,
}

#[derive(askama::Template)]
#[template(path = "retrain.html")]
struct RetrainPage {
    chrome: Chrome,
    csrf: String,
    /// The newest retraining, in full; then the ones before it.
    latest: Option<RetrainLine>,
    earlier: Vec<RetrainLine>,
}

impl RetrainPage {
    /// (askama hands template fields over by reference.)
    fn percent(n: &usize, of: &usize) -> String {
        format!("{:.1}", *n as f64 * 100.0 / (*of).max(1) as f64)
    }
}

/// Retrainings listed at once.
const RETRAININGS: usize = 20;

/// The newest retraining's figures before and after, and the ones before it.
pub(super) async fn retrainings(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, PageError> {
    session.require_staff("方言辞書の学習は職員が行います。")?;
    let kept = blocking(&state.store, |s| s.retrainings(RETRAININGS)).await?;
    let mut lines = kept.into_iter().filter_map(|r| {
        // A line this build cannot read (from a newer one) is left out, not guessed at.
        let verdict = r.verdict.parse().ok()?;
        let at = r.at.with_timezone(&town_offset()).format("%Y/%m/%d %H:%M").to_string();
        Some(RetrainLine { at, by: r.by, verdict, published: r.version })
    });
    render(&RetrainPage {
        chrome: session.chrome("方言辞書の学習", "/corrections"),
        csrf: session.csrf(),
        latest: lines.next(),
        earlier: lines.collect(),
    })
}

/// 「学習して配信する」: every correction so far, learnt on top of the newest published
/// bundle; published to the tablets when it reads the held-out answers at least as
/// well and flags at least as many critical ones, refused otherwise. Either way the
/// verdict is kept and shown (after a redirect, so a reload never trains again).
pub(super) async fn retrain(
    State(state): State<AppState>,
    Submitted { session, .. }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff("方言辞書の学習は職員が行います。")?;
    let rows = blocking(&state.store, |s| s.corrections_export()).await?;
    if rows.is_empty() {
        return Err(PageError::Refused(
            StatusCode::BAD_REQUEST,
            "学習に使う訂正がまだありません。先に訂正を保存してください。",
        ));
    }
    let newest = blocking(&state.store, |s| match s.bundles()?.first() {
        Some(b) => Ok(Some((b.version, s.bundle(b.version)?))),
        None => Ok(None),
    })
    .await?;
    let version = newest.as_ref().map_or(1, |(v, _)| v + 1);
    let base = newest.and_then(|(_, body)| body);
    let user = session.user.user;
    let Retrained { verdict, line, bundle } = match state
        .retrainer
        .run(&corrections_tsv(rows), base.as_deref(), version)
        .await
    {
        Ok(done) => done,
        Err(RetrainError::Busy) => {
            return Err(PageError::Refused(
                StatusCode::CONFLICT,
                "ほかの職員が学習を始めています。終わってからこのページを開き直してください。",
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, user = user.0, "dialect retraining failed");
            let why = if matches!(e, RetrainError::TimedOut(_)) {
                "学習が時間内に終わらなかったので止めました。配信中の方言辞書はそのままです。"
            } else {
                "学習を実行できませんでした。配信中の方言辞書はそのままです。システム担当者に連絡してください。"
            };
            return Err(PageError::Refused(StatusCode::SERVICE_UNAVAILABLE, why));
        }
    };
    let now = state.clock.now();
    let figures =
        format!("before={}/{} after={}/{}", verdict.before, verdict.heldout, verdict.after, verdict.heldout);
    let published = blocking(&state.store, move |s| {
        let published = match bundle {
            Some(text) => match s.publish_bundle(&text, Some(user), now) {
                Ok(version) => Some(version),
                Err(BundleError::Store(e)) => return Err(e),
                // An upload got in between and took this number.
                Err(_) => return Ok(Err(())),
            },
            None => None,
        };
        let action = match published {
            Some(v) => format!("retrain_dialect_bundle v{v} {figures}"),
            None => format!("retrain_dialect_refused {figures}"),
        };
        s.record_retraining(user, &line, published, now)?;
        s.audit(user, &action, None, now)?;
        Ok(Ok(published))
    })
    .await?
    .map_err(|()| {
        PageError::Refused(
            StatusCode::CONFLICT,
            "学習中に別の版が配信されました。もう一度「学習して配信する」を押してください。",
        )
    })?;
    tracing::info!(user = user.0, accepted = verdict.accepted, version = ?published, "dialect retraining");
    Ok(Redirect::to("/corrections/retrain").into_response())
}
