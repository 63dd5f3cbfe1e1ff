//! The product's one vocabulary: every name that care, the dialect model, the kiosk,
//! the office and the wire share, with the Japanese label staff see, defined once.
//!
//! Each name is an enum whose `key` is its snake_case name in data files, on the wire
//! and in the databases; `FromStr` and `Display` go through the key. Nothing here
//! knows how a name is used: care decides what an intent does, the dialect model how
//! one is heard, the office how an alert escalates.
//!
//! No dependencies; the `serde` feature writes each name as its key.

use std::fmt;
use std::str::FromStr;

/// A fixed set of names: what the macro below gives every enum of this crate.
pub trait Vocabulary: Copy + Eq + Ord + fmt::Debug + FromStr<Err = UnknownName> + 'static {
    /// What kind of name this is, for error messages: the type's name (`Intent`, …).
    const KIND: &'static str;
    /// Every name, in declaration order.
    const ALL: &'static [Self];
    /// The snake_case name.
    fn key(self) -> &'static str;
    /// What staff read on the dashboard (Japanese).
    fn label(self) -> &'static str;
}

/// A name that is not one of a vocabulary's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.kind, self.name)
    }
}

impl std::error::Error for UnknownName {}

/// A plausible name from a newer vocabulary: 1–40 of `a-z` and `_`. A newer tablet or
/// office may know names this build lacks; anything else (text, markup, numbers) is
/// not a name, so a field meant for one can never carry what a resident said.
pub fn is_plausible_name(name: &str) -> bool {
    (1..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

macro_rules! vocabulary {
    ($(#[$m:meta])* $ty:ident ($kind:literal) { $($(#[$vm:meta])* $v:ident = $key:literal / $label:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $ty { $($(#[$vm])* $v),* }

        impl $ty {
            /// Every name, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];

            /// The snake_case name used in data files, on the wire and in databases.
            pub fn key(self) -> &'static str {
                match self { $($ty::$v => $key),* }
            }

            /// What staff read (Japanese).
            pub fn label(self) -> &'static str {
                match self { $($ty::$v => $label),* }
            }

            /// The label of a name, or the name itself when it is not one of ours (a
            /// newer tablet's): never fails, for display only.
            pub fn label_of(name: &str) -> &str {
                name.parse::<$ty>().map_or(name, |v| v.label())
            }
        }

        impl Vocabulary for $ty {
            const KIND: &'static str = $kind;
            const ALL: &'static [$ty] = $ty::ALL;
            fn key(self) -> &'static str { $ty::key(self) }
            fn label(self) -> &'static str { $ty::label(self) }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s.trim() {
                    $($key => Ok($ty::$v),)*
                    _ => Err(UnknownName { kind: $kind, name: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.key())
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.key())
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary!(
    /// A resident's meaning, as understood from one answer or chosen by button. The
    /// order is the dialect classifier's class order.
    Intent("Intent") {
        FeelingGood = "feeling_good" / "元気",
        FeelingUnwell = "feeling_unwell" / "具合が悪い",
        Tired = "tired" / "疲れている",
        Pain = "pain" / "痛みがある",
        SleptWell = "slept_well" / "よく眠れた",
        SleptBadly = "slept_badly" / "眠れなかった",
        AppetiteGood = "appetite_good" / "食欲がある",
        AppetitePoor = "appetite_poor" / "食欲がない",
        Exercised = "exercised" / "体操した",
        NotExercised = "not_exercised" / "体操していない",
        NeedHelp = "need_help" / "助けが必要",
        Emergency = "emergency" / "緊急",
        Yes = "yes" / "はい",
        No = "no" / "いいえ",
        RepeatRequest = "repeat_request" / "もう一度",
        Thanks = "thanks" / "お礼",
        Greeting = "greeting" / "あいさつ",
        WeatherSnow = "weather_snow" / "雪・天気",
        LowMood = "low_mood" / "気分が沈んでいる",
        Lonely = "lonely" / "さみしい",
        Other = "other" / "その他",
    }
);

impl Intent {
    /// A low mood or loneliness: said anywhere, it counts toward the mood trend staff see.
    pub fn is_low_mood(self) -> bool {
        matches!(self, Intent::LowMood | Intent::Lonely)
    }

    /// Intents that always start the help flow, whatever the question.
    pub fn is_critical(self) -> bool {
        matches!(self, Intent::NeedHelp | Intent::Emergency)
    }

    /// Position in [`Intent::ALL`] (the classifier's class order).
    pub fn index(self) -> usize {
        Intent::ALL.iter().position(|&i| i == self).unwrap_or(Intent::ALL.len() - 1)
    }
}

vocabulary!(
    /// A question of the check-in (the ids of `assets/dialogue/checkin.toml`).
    Question("Question") {
        HowFeeling = "how_feeling" / "体調",
        Slept = "slept" / "睡眠",
        Appetite = "appetite" / "食欲",
        PainCheck = "pain_check" / "痛み",
        ExerciseToday = "exercise_today" / "今日の体操",
        ExercisedDone = "exercised_done" / "体操の確認",
        SafetyCheck = "safety_check" / "安否確認",
        Open = "open" / "自由な話",
        Confirm = "confirm" / "確認",
    }
);

impl Question {
    /// What a plain yes or no means as an answer to this question.
    pub fn resolve_yes_no(self, yes: bool) -> Intent {
        use Intent as I;
        match (self, yes) {
            (Question::HowFeeling, true) => I::FeelingGood,
            (Question::HowFeeling, false) => I::FeelingUnwell,
            (Question::Slept, true) => I::SleptWell,
            (Question::Slept, false) => I::SleptBadly,
            (Question::Appetite, true) => I::AppetiteGood,
            (Question::Appetite, false) => I::AppetitePoor,
            (Question::PainCheck, true) => I::Pain,
            (Question::ExercisedDone, true) => I::Exercised,
            (Question::ExercisedDone, false) => I::NotExercised,
            (Question::SafetyCheck, true) => I::FeelingGood,
            (Question::SafetyCheck, false) => I::NeedHelp,
            (_, true) => I::Yes,
            (_, false) => I::No,
        }
    }
}

vocabulary!(
    /// A body part a resident can name (「膝が痛い」); the label is the word the kiosk says.
    BodyPart("BodyPart") {
        Head = "head" / "頭",
        Neck = "neck" / "首",
        Shoulder = "shoulder" / "肩",
        Back = "back" / "背中",
        LowerBack = "lower_back" / "腰",
        Chest = "chest" / "胸",
        Belly = "belly" / "おなか",
        Knee = "knee" / "膝",
        Leg = "leg" / "足",
        Hand = "hand" / "手",
        Teeth = "teeth" / "歯",
        Eye = "eye" / "目",
    }
);

impl BodyPart {
    /// The kanji the dialect data files and the lexicon (`body:膝`) name it by.
    pub fn kanji(self) -> &'static str {
        match self {
            BodyPart::Belly => "腹",
            other => other.label(),
        }
    }

    /// The body part written as [`BodyPart::kanji`].
    pub fn from_kanji(s: &str) -> Result<Self, UnknownName> {
        let s = s.trim();
        BodyPart::ALL
            .iter()
            .copied()
            .find(|b| b.kanji() == s)
            .ok_or_else(|| UnknownName { kind: "BodyPart", name: s.to_owned() })
    }
}

vocabulary!(
    /// A danger concept of the ontology (`assets/dialect/danger.tsv`): an answer that
    /// names one is critical, and the kiosk confirms it with that danger's own question
    /// (`[help.danger]` in the dialogue script).
    Danger("Danger") {
        Fire = "fire" / "火事",
        Smoke = "smoke" / "煙",
        GasSmell = "gas_smell" / "ガスのにおい",
        CannotBreathe = "cannot_breathe" / "息ができない",
        Choking = "choking" / "のどに詰まった",
        Collapsed = "collapsed" / "倒れた",
        Unresponsive = "unresponsive" / "意識がない",
        StrokeNumbness = "stroke_numbness" / "しびれ（脳卒中の疑い）",
        StrokeFace = "stroke_face" / "顔のゆがみ（脳卒中の疑い）",
        StrokeSpeech = "stroke_speech" / "ろれつ（脳卒中の疑い）",
        SuddenConfusion = "sudden_confusion" / "急な混乱",
        SuddenHeadache = "sudden_headache" / "急な激しい頭痛",
        ChestPain = "chest_pain" / "胸の痛み",
        FallCannotGetUp = "fall_cannot_get_up" / "転んで起き上がれない",
        HeavyBleeding = "heavy_bleeding" / "大量の出血",
        FamilyMissing = "family_missing" / "家族が戻らない",
        BuriedInSnow = "buried_in_snow" / "雪に埋まった",
        WantsToDie = "wants_to_die" / "死にたい気持ち",
        Ambulance = "ambulance" / "救急車",
        NoHeatingCold = "no_heating_cold" / "暖房が止まり寒い",
        NoWater = "no_water" / "水が出ない",
        NoPower = "no_power" / "停電",
        NoKerosene = "no_kerosene" / "灯油がない",
        SnowedIn = "snowed_in" / "雪で出られない",
        MedicineOut = "medicine_out" / "薬が切れた",
        StrangerAtDoor = "stranger_at_door" / "不審な訪問者",
        SuspiciousCall = "suspicious_call" / "不審な電話",
        HelpRequest = "help_request" / "助けを求める",
    }
);

vocabulary!(
    /// How an answer was given.
    AnsweredBy("AnsweredBy") {
        /// Understood by voice with enough confidence.
        Voice = "voice" / "声",
        /// Understood by voice, then confirmed (「〜ということですね？」「はい」).
        VoiceConfirmed = "voice_confirmed" / "声（確認済み）",
        Button = "button" / "ボタン",
    }
);

vocabulary!(
    /// How a check-in ended.
    Outcome("Outcome") {
        Completed = "completed" / "完了",
        /// The help flow raised an alert.
        HelpRequested = "help_requested" / "助けを求めた",
        /// The resident stopped answering.
        NoAnswer = "no_answer" / "応答なし",
    }
);

vocabulary!(
    /// Conditions under which an exercise must not be offered; the same words describe
    /// a resident's profile on the dashboard.
    Contraindication("Contraindication") {
        Knee = "knee" / "膝",
        Hip = "hip" / "股関節",
        Back = "back" / "腰・背中",
        Shoulder = "shoulder" / "肩",
        Balance = "balance" / "ふらつき",
        Heart = "heart" / "心臓",
        RecentFall = "recent_fall" / "最近の転倒",
    }
);

vocabulary!(
    /// Why the office alerts staff.
    AlertKind("AlertKind") {
        /// The tablet's help flow, or 助けが必要 in the dialogue.
        HelpRequest = "help_request" / "助けを求めています",
        /// No check-in after the window, the grace and the tablet's re-prompt.
        NoCheckin = "no_checkin" / "本日の確認がありません",
        /// 助けが必要 answered to a safety campaign.
        CampaignHelp = "campaign_help" / "安否確認で「助けが必要」",
        /// No answer to a safety campaign by its deadline.
        CampaignNoAnswer = "campaign_no_answer" / "安否確認に回答がありません",
        /// 「話を聞いてほしい」 in the check-in: a call or a visit, not an emergency.
        VisitRequest = "visit_request" / "話を聞いてほしい",
        /// The tablet said the resident went out to clear snow, then said nothing more
        /// by the time it would have checked back and alerted: it may have died too.
        SnowWatchSilent = "snow_watch_silent" / "雪かきの見守りで連絡が途絶えた",
        /// The check-in said unwell, pain, a bad night or no appetite: someone should
        /// look today, though the resident did not call for help.
        HealthConcern = "health_concern" / "体調の確認が必要",
        /// A medicine time went untaken (「まだ」 after the reminder, or no answer) on two
        /// days in a row.
        MedicineMissed = "medicine_missed" / "お薬の飲み忘れが続いている",
        /// The monthly chair-stand count fell clearly below the last one: a visit to
        /// see how the legs are, not an emergency.
        LegsWeaker = "legs_weaker" / "椅子から立つ回数が減った",
        /// Low mood or loneliness said on [`MOOD_LOW_DAYS`] or more days this week and
        /// [`MOOD_RISE`] more than the week before: a visit to talk, not a diagnosis.
        MoodFalling = "mood_falling" / "気分の落ち込みやさみしさが続いている",
        /// The weekly talk about the day and the three words went clearly less well
        /// than in the weeks before ([`MEMORY_DROP_PERCENT`]): a visit, in the town's
        /// own words, never a medical label.
        MemoryChange = "memory_change" / "日にちと言葉のおしゃべりに、気になる変化",
    }
);

/// Days of low mood or loneliness in the last seven that, with [`MOOD_RISE`] more than
/// in the seven before, make [`AlertKind::MoodFalling`].
pub const MOOD_LOW_DAYS: u32 = 3;

/// How many more low days than the week before make a fall, not a wobble: a resident
/// low every other day has three one week and four the next.
pub const MOOD_RISE: u32 = 2;

vocabulary!(
    /// The parts of the weekly talk about the day and three words (never called a
    /// test): what the tablet asked, and how many of its answers were right.
    MemoryPart("MemoryPart") {
        /// 「きょうは、何曜日でしたっけ？」: one answer.
        Weekday = "weekday" / "曜日",
        /// 「いまの季節は、なんでしたっけ？」: one answer.
        Season = "season" / "季節",
        /// Three words said before the exercises and recalled after: three answers.
        Recall = "recall" / "三つの言葉",
    }
);

/// The weekly talk is had at most once in this many days.
pub const MEMORY_EVERY_DAYS: u64 = 7;

/// How much lower, in percentage points of right answers, the last
/// [`MEMORY_RECENT_LOOKS`] talks must be than the talks of the eight weeks before them
/// to make [`AlertKind::MemoryChange`]: one missed day of the week in four right
/// answers (25 points) is a wobble; two of three words lost is a change.
pub const MEMORY_DROP_PERCENT: u32 = 35;

/// How many of the latest weekly talks are compared with the weeks before: one bad
/// morning is never a change.
pub const MEMORY_RECENT_LOOKS: usize = 2;

vocabulary!(
    /// A medicine time of the day, as staff set it and the tablet says it (「お昼のお薬」).
    /// Nothing about which medicine is ever named: only when.
    MedicineSlot("MedicineSlot") {
        Morning = "morning" / "朝",
        Noon = "noon" / "昼",
        Evening = "evening" / "夜",
        Bedtime = "bedtime" / "寝る前",
    }
);

/// The corrections file: what the office exports (`/corrections.tsv`, one row per
/// answer staff corrected) and `dialect-model learn` reads.
pub mod corrections {
    /// The header, in order.
    pub const COLUMNS: [&str; 6] =
        ["text", "question", "intent", "body_part", "corrected_by", "corrected_at"];
    /// The columns the reader cannot do without (`body_part` may be left out).
    pub const REQUIRED: [&str; 5] = ["text", "question", "intent", "corrected_by", "corrected_at"];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<V: Vocabulary + fmt::Display>() {
        let mut keys = std::collections::BTreeSet::new();
        for &v in V::ALL {
            assert!(is_plausible_name(v.key()), "{}: {:?}", V::KIND, v);
            assert!(keys.insert(v.key()), "{} key {} twice", V::KIND, v.key());
            assert_eq!(v.key().parse::<V>(), Ok(v));
            assert_eq!(v.to_string(), v.key());
            assert!(!v.label().is_empty() && !v.label().is_ascii(), "{:?} has a Japanese label", v);
        }
        let err = "膝が痛い".parse::<V>().unwrap_err();
        assert_eq!(err.kind, V::KIND);
    }

    #[test]
    fn every_vocabulary_has_unique_plausible_keys_and_labels() {
        check::<Intent>();
        check::<Question>();
        check::<BodyPart>();
        check::<Danger>();
        check::<AnsweredBy>();
        check::<Outcome>();
        check::<Contraindication>();
        check::<AlertKind>();
        check::<MedicineSlot>();
        check::<MemoryPart>();
    }

    #[test]
    fn body_parts_read_as_the_data_files_write_them() {
        for &b in BodyPart::ALL {
            assert_eq!(BodyPart::from_kanji(b.kanji()), Ok(b));
        }
        assert_eq!(BodyPart::Belly.kanji(), "腹");
        assert_eq!(BodyPart::Belly.label(), "おなか");
        assert!(BodyPart::from_kanji("knee").is_err());
    }

    #[test]
    fn labels_fall_back_to_the_name_and_names_are_plausible_only() {
        assert_eq!(Intent::label_of("pain"), "痛みがある");
        assert_eq!(Intent::label_of("new_intent"), "new_intent");
        assert!(is_plausible_name("new_intent"));
        for bad in ["", "膝が痛い", "pain; DROP", "Pain", &"a".repeat(41)] {
            assert!(!is_plausible_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_required_correction_column_is_exported() {
        assert!(corrections::REQUIRED.iter().all(|c| corrections::COLUMNS.contains(c)));
    }

    #[test]
    fn the_classifier_order_is_the_declaration_order() {
        for (i, &intent) in Intent::ALL.iter().enumerate() {
            assert_eq!(intent.index(), i);
        }
        assert!(Intent::ALL.iter().filter(|i| i.is_critical()).eq([&Intent::NeedHelp, &Intent::Emergency]));
    }
}
