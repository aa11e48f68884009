//! The curriculum as loaded and checked, and the pure rules on it: lookups and durations.

use serde::{Deserialize, Serialize};

pub use super::package_activity::PackageActivity;
pub use super::quiz::Quiz;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cqp,
    Fae,
}

impl Kind {
    /// As the `programs.kind` column stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cqp => "cqp",
            Kind::Fae => "fae",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Distance,
    Presentiel,
    Mixte,
}

impl Modality {
    pub fn label(self) -> &'static str {
        match self {
            Modality::Distance => "À distance",
            Modality::Presentiel => "En présentiel",
            Modality::Mixte => "Mixte (à distance et en présentiel)",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mission {
    Administratif,
    Consultation,
    Coordination,
}

impl Mission {
    pub fn label(self) -> &'static str {
        match self {
            Mission::Administratif => "Missions administratives",
            Mission::Consultation => "Préparation et déroulement de la consultation",
            Mission::Coordination => "Organisation et coordination",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    Lesson,
    Quiz,
    Assignment,
    Resource,
    Package,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Lesson => "lesson",
            ActivityKind::Quiz => "quiz",
            ActivityKind::Assignment => "assignment",
            ActivityKind::Resource => "resource",
            ActivityKind::Package => "package",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActivityKind::Lesson => "Leçon",
            ActivityKind::Quiz => "Quiz",
            ActivityKind::Assignment => "Devoir",
            ActivityKind::Resource => "Ressource",
            ActivityKind::Package => "Module e-learning",
        }
    }

    /// The folder of a module that holds this kind's files.
    pub fn folder(self) -> &'static str {
        match self {
            ActivityKind::Lesson => "lessons",
            ActivityKind::Quiz => "quizzes",
            ActivityKind::Assignment => "assignments",
            ActivityKind::Resource => "resources",
            ActivityKind::Package => "packages",
        }
    }

    pub const ALL: [ActivityKind; 5] = [
        ActivityKind::Lesson,
        ActivityKind::Quiz,
        ActivityKind::Assignment,
        ActivityKind::Resource,
        ActivityKind::Package,
    ];
}

/// What a trainee hands in for an assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerForm {
    Text,
    Files,
    TextAndFiles,
}

impl AnswerForm {
    pub fn text(self) -> bool {
        self != AnswerForm::Files
    }
    pub fn files(self) -> bool {
        self != AnswerForm::Text
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Criterion {
    pub criterion: String,
    pub points: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Assignment {
    pub answer: AnswerForm,
    /// Paths inside the module folder (`files/…`).
    pub case_files: Vec<String>,
    pub rubric: Vec<Criterion>,
}

impl Assignment {
    pub fn max_points(&self) -> u32 {
        self.rubric.iter().map(|c| c.points).sum()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Resource {
    /// Path inside the module folder (`files/…`).
    pub file: String,
    pub summary: String,
    /// What the file is, read from its content when the programme was loaded.
    pub media: crate::base::media::Media,
}

/// What an activity holds besides its common fields.
#[derive(Clone, Debug)]
pub enum Body {
    Lesson { html: String },
    Quiz(Quiz),
    Assignment { html: String, spec: Assignment },
    Resource(Resource),
    Package(PackageActivity),
}

#[derive(Clone, Debug, Serialize)]
pub struct Activity {
    /// The file name without its extension, unique in the module.
    pub slug: String,
    pub title: String,
    pub kind: ActivityKind,
    pub minutes: u32,
    pub required: bool,
    /// Index in the module's `sequences`.
    pub sequence: usize,
    #[serde(skip)]
    pub body: Body,
}

impl Activity {
    pub fn html(&self) -> &str {
        match &self.body {
            Body::Lesson { html } | Body::Assignment { html, .. } => html,
            _ => "",
        }
    }

    pub fn quiz(&self) -> Option<&Quiz> {
        match &self.body {
            Body::Quiz(q) => Some(q),
            _ => None,
        }
    }

    pub fn assignment(&self) -> Option<&Assignment> {
        match &self.body {
            Body::Assignment { spec, .. } => Some(spec),
            _ => None,
        }
    }

    pub fn resource(&self) -> Option<&Resource> {
        match &self.body {
            Body::Resource(r) => Some(r),
            _ => None,
        }
    }

    pub fn package(&self) -> Option<&PackageActivity> {
        match &self.body {
            Body::Package(p) => Some(p),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Module {
    pub code: String,
    pub title: String,
    pub order: u32,
    pub bloc: String,
    pub planned_hours: u32,
    pub modality: Modality,
    pub distance_hours: u32,
    pub presentiel_hours: u32,
    pub missions: Vec<Mission>,
    pub objectives: Vec<String>,
    pub summary: String,
    pub sequences: Vec<String>,
    pub activities: Vec<Activity>,
    /// The module's folder, where its `files/` are.
    #[serde(skip)]
    pub dir: std::path::PathBuf,
    /// The `files/…` its activities use, with the type read at load (`None`: a text case
    /// file): nothing else of the folder is served, and nothing is sniffed again per request.
    #[serde(skip)]
    pub files: std::collections::BTreeMap<String, Option<crate::base::media::Media>>,
    #[serde(skip)]
    pub evaluation: Option<Quiz>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Program {
    pub code: String,
    pub title: String,
    pub kind: Kind,
    pub certification: String,
    pub total_hours: u32,
    pub min_months: u32,
    pub max_months: u32,
    pub summary: String,
    pub modules: Vec<Module>,
    /// Hash of every file of the programme: a change makes a new content version.
    pub hash: String,
    /// The programme's folder.
    #[serde(skip)]
    pub dir: std::path::PathBuf,
}

/// What a page shows of a programme: never its modules and their activities, which a page
/// would otherwise serialise whole at every request.
#[derive(Serialize)]
pub struct ProgramHead<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub kind: Kind,
    pub certification: &'a str,
    pub total_hours: u32,
    pub min_months: u32,
    pub max_months: u32,
    pub summary: &'a str,
}

/// What a page shows of a module, without its activities.
#[derive(Serialize)]
pub struct ModuleHead<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub bloc: &'a str,
    pub planned_hours: u32,
    pub distance_hours: u32,
    pub presentiel_hours: u32,
    pub objectives: &'a [String],
    pub summary: &'a str,
    pub has_evaluation: bool,
}

impl Program {
    pub fn head(&self) -> ProgramHead<'_> {
        ProgramHead {
            code: &self.code,
            title: &self.title,
            kind: self.kind,
            certification: &self.certification,
            total_hours: self.total_hours,
            min_months: self.min_months,
            max_months: self.max_months,
            summary: &self.summary,
        }
    }

    pub fn activity_count(&self) -> usize {
        self.modules.iter().map(|m| m.activities.len()).sum()
    }

    /// Distinct questions the module's quizzes and evaluations ask.
    pub fn question_count(&self) -> usize {
        self.modules
            .iter()
            .map(|m| {
                m.activities
                    .iter()
                    .filter_map(Activity::quiz)
                    .chain(m.evaluation.as_ref())
                    .flat_map(|q| q.questions.iter().map(|q| q.id.as_str()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            })
            .sum()
    }

    pub fn module(&self, code: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.code == code)
    }
}

impl Module {
    pub fn head(&self) -> ModuleHead<'_> {
        ModuleHead {
            code: &self.code,
            title: &self.title,
            bloc: &self.bloc,
            planned_hours: self.planned_hours,
            distance_hours: self.distance_hours,
            presentiel_hours: self.presentiel_hours,
            objectives: &self.objectives,
            summary: &self.summary,
            has_evaluation: self.evaluation.is_some(),
        }
    }

    pub fn activity(&self, slug: &str) -> Option<(usize, &Activity)> {
        self.activities
            .iter()
            .enumerate()
            .find(|(_, a)| a.slug == slug)
    }

    /// Minutes of the required activities, the evaluation included: what the distance hours
    /// should buy.
    pub fn required_minutes(&self) -> u32 {
        self.activities
            .iter()
            .filter(|a| a.required)
            .map(|a| a.minutes)
            .sum::<u32>()
            + self.evaluation.as_ref().map_or(0, |e| e.minutes)
    }

    /// A warning when the required activities do not match the module's distance hours: an
    /// organism must be able to say what the trainee does during them (Code du travail,
    /// D6313-3-1). `None` when they match within 10 % above.
    pub fn duration_warning(&self) -> Option<String> {
        let planned = self.distance_hours * 60;
        let required = self.required_minutes();
        if required < planned {
            Some(format!(
                "les activités obligatoires durent {} mais le module prévoit {} à distance",
                crate::base::format::minutes(required.into()),
                crate::base::format::minutes(planned.into())
            ))
        } else if required * 10 > planned * 11 {
            Some(format!(
                "les activités obligatoires durent {}, plus que les {} à distance du module",
                crate::base::format::minutes(required.into()),
                crate::base::format::minutes(planned.into())
            ))
        } else {
            None
        }
    }
}

/// Where an activity opens under an edition's `base`. Assignments have their own pages (the `assignments`
/// domain); the other kinds open under the module.
pub fn activity_url(base: &str, module: &str, a: &Activity) -> String {
    let part = if a.kind == ActivityKind::Assignment {
        "devoirs"
    } else {
        "activites"
    };
    format!("{base}/{module}/{part}/{}", a.slug)
}

/// Where a file of a module (`files/…`) is served.
pub fn file_url(base: &str, module: &str, path: &str) -> String {
    let name = path.strip_prefix("files/").unwrap_or(path);
    format!("{base}/{module}/fichiers/{name}")
}

/// Every programme, checked; shared read-only by the whole app.
#[derive(Clone, Debug, Default)]
pub struct Curriculum {
    pub programs: Vec<Program>,
}

impl Curriculum {
    pub fn program(&self, code: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.code == code)
    }
}

/// Where a trainee stands on an activity, as her module page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityState {
    ToDo,
    InProgress,
    Submitted,
    Graded,
    Done,
}

impl ActivityState {
    pub fn label(self) -> &'static str {
        match self {
            ActivityState::ToDo => "À faire",
            ActivityState::InProgress => "En cours",
            ActivityState::Submitted => "Rendu",
            ActivityState::Graded => "Noté",
            ActivityState::Done => "Terminé",
        }
    }
}

/// The latest version of a trainee's assignment, as far as her state goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// Handed in, waiting for the trainer.
    Submitted,
    /// The trainer asked for a new version.
    RevisionRequested,
    Graded,
}

impl SubmissionState {
    /// As the `status` column stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::Submitted => "submitted",
            SubmissionState::RevisionRequested => "revision_requested",
            SubmissionState::Graded => "graded",
        }
    }

    pub fn parse(s: &str) -> Option<SubmissionState> {
        [
            SubmissionState::Submitted,
            SubmissionState::RevisionRequested,
            SubmissionState::Graded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SubmissionState::Submitted => "Rendu, en attente de correction",
            SubmissionState::RevisionRequested => "Nouvelle version demandée",
            SubmissionState::Graded => "Noté",
        }
    }
}

/// What is recorded about a trainee and one activity.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts {
    pub seconds: i64,
    pub marked_done: bool,
    pub attempted: bool,
    pub passed: bool,
    pub submission: Option<SubmissionState>,
}

pub fn state_of(kind: ActivityKind, f: &Facts) -> ActivityState {
    let started = if f.seconds > 0 {
        ActivityState::InProgress
    } else {
        ActivityState::ToDo
    };
    match kind {
        ActivityKind::Lesson | ActivityKind::Resource | ActivityKind::Package if f.marked_done => {
            ActivityState::Done
        }
        ActivityKind::Quiz if f.passed => ActivityState::Done,
        ActivityKind::Quiz if f.attempted => ActivityState::InProgress,
        ActivityKind::Assignment => match f.submission {
            Some(SubmissionState::Graded) => ActivityState::Graded,
            Some(SubmissionState::Submitted) => ActivityState::Submitted,
            Some(SubmissionState::RevisionRequested) => ActivityState::InProgress,
            None => started,
        },
        _ => started,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_what_each_kind_records() {
        let none = Facts::default();
        let spent = Facts {
            seconds: 90,
            ..Facts::default()
        };
        for kind in ActivityKind::ALL {
            assert_eq!(state_of(kind, &none), ActivityState::ToDo);
            assert_eq!(state_of(kind, &spent), ActivityState::InProgress);
        }
        let done = Facts {
            marked_done: true,
            ..spent
        };
        assert_eq!(state_of(ActivityKind::Lesson, &done), ActivityState::Done);
        // Marking a quiz read does not pass it.
        assert_eq!(
            state_of(ActivityKind::Quiz, &done),
            ActivityState::InProgress
        );
        let failed = Facts {
            attempted: true,
            ..none
        };
        assert_eq!(
            state_of(ActivityKind::Quiz, &failed),
            ActivityState::InProgress
        );
        let passed = Facts {
            passed: true,
            ..failed
        };
        assert_eq!(state_of(ActivityKind::Quiz, &passed), ActivityState::Done);
        let with = |s| Facts {
            submission: Some(s),
            ..none
        };
        assert_eq!(
            state_of(ActivityKind::Assignment, &with(SubmissionState::Submitted)),
            ActivityState::Submitted
        );
        assert_eq!(
            state_of(ActivityKind::Assignment, &with(SubmissionState::Graded)),
            ActivityState::Graded
        );
        assert_eq!(
            state_of(
                ActivityKind::Assignment,
                &with(SubmissionState::RevisionRequested)
            ),
            ActivityState::InProgress
        );
    }
}
