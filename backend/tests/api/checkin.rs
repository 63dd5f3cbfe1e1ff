//! What a check-in's answers do at the office: answers that need someone to look
//! make the day 要確認 with an alert, never 確認済み; a later cheerful check-in does
//! not hide them; a call for help still outranks them.

use backend::store::{AlertKind, BoardState, Status};
use serde_json::{Value, json};

use crate::support::{TestApp, acks, batch, day, event, local};

/// One check-in answer as the tablet sends it.
fn answer(question: &str, intent: &str) -> Value {
    json!({"question": question, "intent": intent})
}

/// Sends `events` (kind and body) in order from a new resident's tablet; checks the
/// day's stored status, its board state and the open alerts' kinds.
async fn check(events: &[(&str, Value)], status: Status, state: BoardState, alerts: &[AlertKind]) {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let t = app.tablet(r).await;
    app.clock.set(local(8, 30));
    for (seq, (kind, body)) in events.iter().enumerate() {
        let sent = app.post("/api/v1/events", &t, batch(&[event(seq as u64 + 1, kind, body.clone())])).await;
        assert_eq!(acks(&sent.1), ["stored"], "{kind} {body}");
    }
    let what = format!("{events:?}");
    assert_eq!(app.store.status(r, day()).unwrap(), Some(status), "{what}");
    let now = local(8, 31);
    let rows = app.store.board_rows(None, now, 10).unwrap();
    assert_eq!(rows.iter().map(|row| row.state).collect::<Vec<_>>(), [state], "{what}");
    let counts = app.store.board_counts(None, now).unwrap();
    assert_eq!(counts.of(state), 1, "the counts are the rows counted: {what}");
    let mut kinds: Vec<AlertKind> = app.store.open_alerts().unwrap().iter().map(|a| a.kind).collect();
    kinds.sort_by_key(|k| k.key());
    let mut want = alerts.to_vec();
    want.sort_by_key(|k| k.key());
    assert_eq!(kinds, want, "{what}");
}

fn checkin(answers: &[Value]) -> (&'static str, Value) {
    ("check_in", json!({"answers": answers}))
}

#[tokio::test]
async fn answers_that_need_a_look_make_the_day_attention_with_an_alert() {
    use AlertKind::{HealthConcern, HelpRequest, VisitRequest};
    use BoardState as B;
    use Status as S;
    let fine = [answer("how_feeling", "feeling_good"), answer("slept", "slept_well")];
    check(&[checkin(&fine)], S::Confirmed, B::Confirmed, &[]).await;
    // Tired alone is no reason to call anyone.
    check(&[checkin(&[answer("how_feeling", "tired")])], S::Confirmed, B::Confirmed, &[]).await;
    for intent in [("how_feeling", "feeling_unwell"), ("slept", "slept_badly"), ("appetite", "appetite_poor")]
    {
        let answers = [answer(intent.0, intent.1)];
        check(&[checkin(&answers)], S::Attention, B::Attention, &[HealthConcern]).await;
    }
    let knee = json!({"question": "pain_check", "intent": "pain", "body_part": "knee"});
    check(
        &[checkin(&[answer("how_feeling", "feeling_unwell"), knee])],
        S::Attention,
        B::Attention,
        &[HealthConcern],
    )
    .await;
    // 「話を聞いてほしい」: its own alert, and the day is 要確認 too.
    check(&[checkin(&[answer("open", "yes")])], S::Attention, B::Attention, &[VisitRequest]).await;
    // A cheerful check-in later the same day does not hide the concern.
    check(
        &[checkin(&[answer("how_feeling", "feeling_unwell")]), checkin(&fine)],
        S::Attention,
        B::Attention,
        &[HealthConcern],
    )
    .await;
    // A call for help outranks a concern, and a concern never lowers a call for help.
    let help = ("help_request", json!({"intent": "need_help"}));
    let unwell = checkin(&[answer("how_feeling", "feeling_unwell")]);
    check(&[unwell.clone(), help.clone()], S::NeedsHelp, B::NeedsHelp, &[HealthConcern, HelpRequest]).await;
    check(&[help, unwell], S::NeedsHelp, B::NeedsHelp, &[HealthConcern, HelpRequest]).await;
    // A newer tablet's intent this office does not know neither raises nor lowers.
    check(&[checkin(&[answer("how_feeling", "feeling_dizzy")])], S::Confirmed, B::Confirmed, &[]).await;
}

/// The board's row and the resident's page read what was said, in the order it was
/// answered, with the time it arrived; a check-in without readable answers is listed
/// with none.
#[tokio::test]
async fn the_board_and_the_resident_page_show_what_was_said_and_when() {
    use vocab::{BodyPart, Intent, Question};
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let t = app.tablet(r).await;
    let knee = json!({"question": "pain_check", "intent": "pain", "body_part": "knee"});
    let sent = [
        (local(8, 10), json!({"answers": [answer("how_feeling", "feeling_unwell"), knee]})),
        (local(8, 40), json!({})),
    ];
    for (seq, (at, body)) in sent.into_iter().enumerate() {
        app.clock.set(at);
        let acked = app.post("/api/v1/events", &t, batch(&[event(seq as u64 + 1, "check_in", body)])).await;
        assert_eq!(acks(&acked.1), ["stored"]);
    }
    let said = vec![
        backend::store::CheckInAnswer {
            question: Question::HowFeeling,
            intent: Intent::FeelingUnwell,
            body_part: None,
        },
        backend::store::CheckInAnswer {
            question: Question::PainCheck,
            intent: Intent::Pain,
            body_part: Some(BodyPart::Knee),
        },
    ];
    let row = app.store.board_rows(None, local(9, 0), 10).unwrap().remove(0);
    assert_eq!((row.state, row.checked_in, &row.said), (BoardState::Attention, Some(local(8, 40)), &said));
    assert_eq!(said.iter().map(|a| a.label()).collect::<Vec<_>>(), ["具合が悪い", "痛みがある（膝）"]);
    let open = |intent| backend::store::CheckInAnswer { question: Question::Open, intent, body_part: None };
    assert_eq!(
        (open(Intent::Yes).label(), open(Intent::No).label()),
        ("話を聞いてほしい".into(), "話は特になし".into())
    );
    let listed = app.store.checkins(r, 10).unwrap();
    assert_eq!(
        listed.iter().map(|c| (c.at, c.said.len())).collect::<Vec<_>>(),
        [(local(8, 40), 0), (local(8, 10), 2)]
    );
    assert_eq!(listed[1].said, said);
    // The next day starts with nothing said.
    let tomorrow = local(9, 0) + chrono::Duration::days(1);
    let row = app.store.board_rows(None, tomorrow, 10).unwrap().remove(0);
    assert_eq!((row.checked_in, row.said.len()), (None, 0));
}
