//! The exercise catalogue, read from `assets/exercises/catalogue.toml` and checked.
//!
//! A town edits the file, so every entry is validated here into typed values: a bad
//! file is refused as a whole with an error naming the exercise and the field.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::season::Season;
use crate::speech;
use crate::understanding::BodyPart;

/// The kinds of exercise, after the MHLW guide's multi-component exercise plus the
/// oral and cognitive exercises of care prevention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Strength,
    Balance,
    Flexibility,
    Endurance,
    Oral,
    Cognition,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Strength,
        Category::Balance,
        Category::Flexibility,
        Category::Endurance,
        Category::Oral,
        Category::Cognition,
    ];

    /// Whether this is bodily exercise in the MHLW guide's sense (oral and cognition are not).
    pub fn is_physical(self) -> bool {
        matches!(self, Category::Strength | Category::Balance | Category::Flexibility | Category::Endurance)
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "strength" => Category::Strength,
            "balance" => Category::Balance,
            "flexibility" => Category::Flexibility,
            "endurance" => Category::Endurance,
            "oral" => Category::Oral,
            "cognition" => Category::Cognition,
            _ => return None,
        })
    }
}

/// How hard an exercise is, in steps the planner moves at most one of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Intensity {
    VeryLight = 1,
    Light = 2,
    Moderate = 3,
    Brisk = 4,
}

impl Intensity {
    pub const ALL: [Intensity; 4] =
        [Intensity::VeryLight, Intensity::Light, Intensity::Moderate, Intensity::Brisk];

    /// The step number, 1 (very light) to 4 (brisk).
    pub fn step(self) -> u8 {
        self as u8
    }

    /// One step up, saturating at the top.
    pub fn up(self) -> Self {
        Self::ALL[(self.step() as usize).min(3)]
    }

    /// One step down, saturating at the bottom.
    pub fn down(self) -> Self {
        Self::ALL[(self.step() as usize).saturating_sub(2)]
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "very_light" => Intensity::VeryLight,
            "light" => Intensity::Light,
            "moderate" => Intensity::Moderate,
            "brisk" => Intensity::Brisk,
            _ => return None,
        })
    }
}

/// Seated or standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Posture {
    Seated,
    Standing,
}

/// Indoors or outdoors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Indoor,
    Outdoor,
}

/// What an exercise needs in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Equipment {
    Chair,
    Wall,
    LightWeights,
    Towel,
    Ball,
}

pub use vocab::Contraindication;

/// How much of an exercise to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dose {
    Reps { reps: u32, sets: u32 },
    Seconds(u32),
}

/// One exercise, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Exercise {
    pub id: String,
    pub name: String,
    /// The name's reading in hiragana, for the synthesiser and for captions.
    pub reading: String,
    pub category: Category,
    pub intensity: Intensity,
    pub posture: Posture,
    pub place: Place,
    pub equipment: BTreeSet<Equipment>,
    pub contraindications: BTreeSet<Contraindication>,
    /// Body parts it loads; none of these may hurt today.
    pub loads: BTreeSet<BodyPart>,
    /// Seasons it suits.
    pub seasons: BTreeSet<Season>,
    pub dose: Dose,
    /// Written steps for the screen.
    pub steps: Vec<String>,
    /// What the kiosk says, with counting already expanded.
    pub script: Vec<String>,
    /// Image path under `assets/images/`.
    pub picture: String,
    /// The citation of the public guidance it follows.
    pub source: String,
}

/// Why a catalogue file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogueError {
    #[error("exercise catalogue is not valid TOML: {0}")]
    Toml(String),
    #[error("exercise catalogue has no exercises")]
    Empty,
    #[error("exercise #{index} ({id}): missing field `{field}`")]
    MissingField { index: usize, id: String, field: &'static str },
    #[error("exercise id {0:?} appears more than once")]
    DuplicateId(String),
    #[error(
        "exercise {id}: unknown category {value:?} (strength, balance, flexibility, endurance, oral, cognition)"
    )]
    UnknownCategory { id: String, value: String },
    #[error("exercise {id}: field `{field}` has unknown value {value:?}")]
    UnknownValue { id: String, field: &'static str, value: String },
    #[error("exercise {id}: source {value:?} is not in [sources]")]
    UnknownSource { id: String, value: String },
    #[error("exercise {id}: give exactly one of `reps` or `seconds`, greater than zero")]
    BadDose { id: String },
    #[error("exercise {id}: `#count {value}` must count from 1 to {max}", max = speech::MAX_COUNT)]
    BadCount { id: String, value: String },
}

#[derive(Debug, Deserialize)]
struct CatalogueFile {
    #[serde(default)]
    sources: BTreeMap<String, String>,
    #[serde(default, rename = "exercise")]
    exercises: Vec<RawExercise>,
}

/// Every field optional, so a missing one becomes a typed error that names it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    id: Option<String>,
    name: Option<String>,
    reading: Option<String>,
    category: Option<String>,
    intensity: Option<String>,
    posture: Option<String>,
    place: Option<String>,
    equipment: Option<Vec<String>>,
    contraindications: Option<Vec<String>>,
    loads: Option<Vec<String>>,
    seasons: Option<Vec<String>>,
    reps: Option<u32>,
    sets: Option<u32>,
    seconds: Option<u32>,
    steps: Option<Vec<String>>,
    script: Option<Vec<String>>,
    picture: Option<String>,
    source: Option<String>,
}

/// The validated catalogue, in file order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    exercises: Vec<Exercise>,
}

impl Catalogue {
    /// Parses and validates a catalogue file's text.
    pub fn from_toml(text: &str) -> Result<Self, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text).map_err(|e| CatalogueError::Toml(e.to_string()))?;
        if file.exercises.is_empty() {
            return Err(CatalogueError::Empty);
        }
        let mut seen = BTreeSet::new();
        let mut exercises = Vec::with_capacity(file.exercises.len());
        for (index, raw) in file.exercises.into_iter().enumerate() {
            let exercise = validate(index, raw, &file.sources)?;
            if !seen.insert(exercise.id.clone()) {
                return Err(CatalogueError::DuplicateId(exercise.id));
            }
            exercises.push(exercise);
        }
        Ok(Self { exercises })
    }

    /// All exercises, in file order.
    pub fn exercises(&self) -> &[Exercise] {
        &self.exercises
    }

    /// The exercise with `id`.
    pub fn get(&self, id: &str) -> Option<&Exercise> {
        self.exercises.iter().find(|e| e.id == id)
    }
}

fn validate(
    index: usize,
    raw: RawExercise,
    sources: &BTreeMap<String, String>,
) -> Result<Exercise, CatalogueError> {
    let id = raw.id.clone().unwrap_or_else(|| "?".into());
    let missing = |field| CatalogueError::MissingField { index, id: id.clone(), field };
    macro_rules! req {
        ($f:ident) => {
            raw.$f.ok_or_else(|| missing(stringify!($f)))?
        };
    }
    let unknown =
        |field, value: &str| CatalogueError::UnknownValue { id: id.clone(), field, value: value.into() };

    let category_text = req!(category);
    let category = Category::parse(&category_text)
        .ok_or_else(|| CatalogueError::UnknownCategory { id: id.clone(), value: category_text.clone() })?;
    let intensity_text = req!(intensity);
    let intensity = Intensity::parse(&intensity_text).ok_or_else(|| unknown("intensity", &intensity_text))?;
    let posture = match req!(posture).as_str() {
        "seated" => Posture::Seated,
        "standing" => Posture::Standing,
        other => return Err(unknown("posture", other)),
    };
    let place = match req!(place).as_str() {
        "indoor" => Place::Indoor,
        "outdoor" => Place::Outdoor,
        other => return Err(unknown("place", other)),
    };
    let equipment = parse_set(req!(equipment), |s| match s {
        "chair" => Some(Equipment::Chair),
        "wall" => Some(Equipment::Wall),
        "light_weights" => Some(Equipment::LightWeights),
        "towel" => Some(Equipment::Towel),
        "ball" => Some(Equipment::Ball),
        _ => None,
    })
    .map_err(|v| unknown("equipment", &v))?;
    let contraindications = parse_set(req!(contraindications), |s| s.parse::<Contraindication>().ok())
        .map_err(|v| unknown("contraindications", &v))?;
    let loads = parse_set(req!(loads), |s| s.parse::<BodyPart>().ok()).map_err(|v| unknown("loads", &v))?;
    let season_names = req!(seasons);
    let seasons = if season_names.iter().any(|s| s == "all") {
        [Season::Snow, Season::Thaw, Season::Green, Season::Rainy, Season::Heat, Season::Autumn].into()
    } else {
        parse_set(season_names, |s| Season::deserialize(toml::Value::String(s.into())).ok())
            .map_err(|v| unknown("seasons", &v))?
    };
    let dose = match (raw.reps, raw.seconds) {
        (Some(reps), None) if reps > 0 => Dose::Reps { reps, sets: raw.sets.unwrap_or(1).max(1) },
        (None, Some(s)) if s > 0 => Dose::Seconds(s),
        (None, None) => return Err(missing("reps")),
        _ => return Err(CatalogueError::BadDose { id: id.clone() }),
    };
    let mut script = Vec::new();
    for line in req!(script) {
        match line.strip_prefix("#count") {
            Some(n) => {
                let count = n.trim().parse().ok().filter(|n| (1..=speech::MAX_COUNT).contains(n));
                let count = count
                    .ok_or_else(|| CatalogueError::BadCount { id: id.clone(), value: n.trim().into() })?;
                script.extend(speech::counting(count));
            }
            None => script.push(line),
        }
    }
    let source_key = req!(source);
    let source = sources
        .get(&source_key)
        .cloned()
        .ok_or_else(|| CatalogueError::UnknownSource { id: id.clone(), value: source_key.clone() })?;
    let steps = req!(steps);
    if steps.is_empty() {
        return Err(missing("steps"));
    }
    if script.is_empty() {
        return Err(missing("script"));
    }
    Ok(Exercise {
        name: req!(name),
        reading: req!(reading),
        picture: req!(picture),
        id: req!(id),
        category,
        intensity,
        posture,
        place,
        equipment,
        contraindications,
        loads,
        seasons,
        dose,
        steps,
        script,
        source,
    })
}

/// Parses each name; on the first unknown one returns it as the error.
fn parse_set<T: Ord>(names: Vec<String>, parse: impl Fn(&str) -> Option<T>) -> Result<BTreeSet<T>, String> {
    names.into_iter().map(|n| parse(&n).ok_or(n)).collect()
}
