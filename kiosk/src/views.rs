//! The adapters: copy the controller's [`View`] into each view's Slint global, and
//! turn each global's callbacks into controller inputs. The only code that writes
//! the window's globals (besides `idle.rs`, the idle screen's own clock).

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::flow::staff::StaffInput;
use crate::flow::{ExerciseInput, Input, SignInInput, View};
use crate::phrases::keep_phrases;
use crate::{
    AppAdapter, AppWindow, CheckinAdapter, ExerciseAdapter, HelpAdapter, IdleAdapter, SafetyAdapter,
    ScoreAdapter, SignInAdapter, SnowAdapter, StaffAdapter,
};

fn strings(items: &[String]) -> ModelRc<SharedString> {
    ModelRc::from(Rc::new(VecModel::from(items.iter().map(SharedString::from).collect::<Vec<_>>())))
}

/// Copies the whole view model into the window's globals.
pub fn render(window: &AppWindow, view: &View) {
    let app = window.global::<AppAdapter<'_>>();
    if let Some(screen) = view.screen {
        app.set_screen(screen.name().into());
    }
    app.set_notice(view.notice.as_str().into());
    if let Some(scale) = view.text_scale {
        window.global::<crate::Theme<'_>>().set_text_scale(scale);
    }
    window.global::<IdleAdapter<'_>>().set_weather(view.weather.as_str().into());
    let s = window.global::<SignInAdapter<'_>>();
    s.set_message(keep_phrases(&view.signin.message).into());
    s.set_detail(view.signin.detail.as_str().into());
    s.set_keypad_visible(view.signin.keypad);
    s.set_pin_length(view.signin.pin_length as i32);
    s.set_tries_text(view.signin.tries.as_str().into());
    s.set_names(strings(&view.signin.names));

    let c = window.global::<CheckinAdapter<'_>>();
    c.set_caption(keep_phrases(&view.checkin.caption).into());
    c.set_listening(view.checkin.listening);
    c.set_hearing(view.hearing);
    c.set_speaking(view.checkin.speaking);
    c.set_understood(view.checkin.understood.as_str().into());
    c.set_buttons(strings(&view.checkin.buttons));
    c.set_help_flow(view.checkin.help_flow);

    let e = window.global::<ExerciseAdapter<'_>>();
    let ev = &view.exercise;
    e.set_phase(ev.phase.into());
    e.set_headline(ev.headline.as_str().into());
    e.set_items(strings(&ev.items));
    e.set_caption(keep_phrases(&ev.caption).into());
    e.set_step_title(ev.step_title.as_str().into());
    e.set_step_text(ev.step_text.as_str().into());
    e.set_count(ev.count.as_str().into());
    e.set_progress(ev.progress.as_str().into());
    e.set_posture(if ev.posture.is_empty() { "seated" } else { ev.posture }.into());
    e.set_paused(ev.paused);

    let sc = window.global::<ScoreAdapter<'_>>();
    sc.set_score(i32::from(view.score.score));
    sc.set_weeks(ModelRc::from(Rc::new(VecModel::from(
        view.score.weeks.iter().map(|&d| i32::from(d)).collect::<Vec<_>>(),
    ))));
    sc.set_sentence(keep_phrases(&view.score.sentence).into());
    sc.set_stamps(ModelRc::from(Rc::new(VecModel::from(
        view.score
            .stamps
            .iter()
            .map(|s| crate::StampDay { day: s.day.as_str().into(), state: s.state.into() })
            .collect::<Vec<_>>(),
    ))));

    let sa = window.global::<SafetyAdapter<'_>>();
    sa.set_message(keep_phrases(&view.safety.message).into());
    sa.set_caption(keep_phrases(&view.safety.caption).into());
    sa.set_listening(view.safety.listening);
    sa.set_answered(view.safety.answered);

    let sn = window.global::<SnowAdapter<'_>>();
    sn.set_caption(keep_phrases(&view.snow.caption).into());
    sn.set_status(view.snow.status.as_str().into());

    let h = window.global::<HelpAdapter<'_>>();
    h.set_phase(view.help.phase.into());
    h.set_caption(keep_phrases(&view.help.caption).into());
    h.set_contacts(strings(&view.help.contacts));
    h.set_show_119(view.help.show_119);
    h.set_can_close(view.help.can_close);

    let st = window.global::<StaffAdapter<'_>>();
    let sv = &view.staff;
    st.set_page(if sv.page.is_empty() { "pin" } else { sv.page }.into());
    st.set_message(sv.message.as_str().into());
    st.set_entry(sv.entry.as_str().into());
    st.set_health(strings(&sv.health));
    st.set_volume(sv.volume.as_str().into());
    st.set_rate(sv.rate.as_str().into());
    st.set_text_size(sv.text_size.as_str().into());
    st.set_voice(sv.voice.as_str().into());
}

/// Connects every view's callbacks to `send`, which feeds the controller.
pub fn bind(window: &AppWindow, send: impl Fn(Input) + Clone + 'static) {
    let idle = window.global::<IdleAdapter<'_>>();
    idle.on_start({
        let send = send.clone();
        move || send(Input::Touch)
    });

    let s = window.global::<SignInAdapter<'_>>();
    let sign = |send: &(dyn Fn(Input) + 'static), i| send(Input::SignIn(i));
    {
        let send2 = send.clone();
        s.on_digit(move |d| sign(&send2, SignInInput::Digit(d.clamp(0, 9) as u8)));
        let send2 = send.clone();
        s.on_erase(move || sign(&send2, SignInInput::Erase));
        let send2 = send.clone();
        s.on_submit(move || sign(&send2, SignInInput::Submit));
        let send2 = send.clone();
        s.on_cancel(move || sign(&send2, SignInInput::Cancel));
        let send2 = send.clone();
        s.on_staff(move || sign(&send2, SignInInput::Staff));
        let send2 = send.clone();
        s.on_chose(move |i| sign(&send2, SignInInput::Chose(usize::try_from(i).unwrap_or(usize::MAX))));
    }

    let c = window.global::<CheckinAdapter<'_>>();
    let send2 = send.clone();
    c.on_answer(move |i| send2(Input::Answer(i.max(0) as usize)));

    let e = window.global::<ExerciseAdapter<'_>>();
    let ex = |input: ExerciseInput| {
        let send = send.clone();
        move || send(Input::Exercise(input))
    };
    e.on_start(ex(ExerciseInput::Start));
    e.on_later(ex(ExerciseInput::Later));
    e.on_pause_resume(ex(ExerciseInput::PauseResume));
    e.on_stop(ex(ExerciseInput::Stop));
    e.on_finish(ex(ExerciseInput::Finish));

    let sc = window.global::<ScoreAdapter<'_>>();
    let send2 = send.clone();
    sc.on_close(move || send2(Input::CloseScore));

    let sa = window.global::<SafetyAdapter<'_>>();
    let send2 = send.clone();
    sa.on_safe(move || send2(Input::SafetyAnswer(true)));
    let send2 = send.clone();
    sa.on_need_help(move || send2(Input::SafetyAnswer(false)));
    let send2 = send.clone();
    sa.on_close(move || send2(Input::CloseSafety));

    let sn = window.global::<SnowAdapter<'_>>();
    let send2 = send.clone();
    sn.on_back_safe(move || send2(Input::SnowBack));
    let send2 = send.clone();
    sn.on_help(move || send2(Input::SnowHelp));

    let send2 = send.clone();
    window.global::<AppAdapter<'_>>().on_call_for_help(move || send2(Input::CallForHelp));
    let send2 = send.clone();
    window.global::<HelpAdapter<'_>>().on_close(move || send2(Input::CloseHelp));

    let st = window.global::<StaffAdapter<'_>>();
    let staff = move |i: StaffInput| Input::Staff(i);
    let send2 = send.clone();
    st.on_digit(move |d| send2(staff(StaffInput::Digit(d.clamp(0, 9) as u8))));
    let send2 = send.clone();
    st.on_erase(move || send2(staff(StaffInput::Erase)));
    let send2 = send.clone();
    st.on_submit(move || send2(staff(StaffInput::Submit)));
    let send2 = send.clone();
    st.on_open(move |p| send2(staff(StaffInput::Open(p.to_string()))));
    let send2 = send.clone();
    st.on_adjust(move |w, d| send2(staff(StaffInput::Adjust(w.to_string(), d))));
    let send2 = send.clone();
    st.on_test_microphone(move || send2(staff(StaffInput::TestMicrophone)));
    let send2 = send.clone();
    st.on_test_speaker(move || send2(staff(StaffInput::TestSpeaker)));
    let send2 = send.clone();
    st.on_link_card(move || send2(staff(StaffInput::LinkCard)));
    st.on_leave(move || send(staff(StaffInput::Leave)));
}
