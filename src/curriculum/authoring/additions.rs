//! A new activity in a draft, from the editor's form: its file, written from a template of
//! its kind, and the module's `module.toml` with the activity in its sequence (a new one at
//! the end, or one that exists). Pure: the handler reads and saves the files.

use serde::Deserialize;

use crate::base::field::FieldError;
use crate::curriculum::rules::ActivityKind;

/// The editor's "add an activity" form, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ActivityForm {
    /// The module's folder in the programme.
    pub module: String,
    /// `MODULE_DIR|N` for the module's sequence N, or `nouvelle`.
    pub sequence: String,
    #[serde(default)]
    pub sequence_title: String,
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub minutes: String,
    #[serde(default)]
    pub required: Option<String>,
    /// A resource's file, `files/NAME`, uploaded before.
    #[serde(default)]
    pub file: String,
}

/// Where the activity goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Sequence {
    Existing(usize),
    New(String),
}

#[derive(Debug)]
pub struct NewActivity {
    pub module: String,
    pub sequence: Sequence,
    pub kind: ActivityKind,
    pub slug: String,
    pub title: String,
    pub minutes: u32,
    pub required: bool,
    pub file: String,
}

fn kind_of(raw: &str) -> Option<ActivityKind> {
    Some(match raw {
        "lesson" => ActivityKind::Lesson,
        "quiz" => ActivityKind::Quiz,
        "assignment" => ActivityKind::Assignment,
        "resource" => ActivityKind::Resource,
        "package" => ActivityKind::Package,
        _ => return None,
    })
}

/// A slug as the content format names files: lowercase letters, digits and dashes.
pub fn check_slug(raw: &str) -> Result<String, FieldError> {
    let slug = raw.trim().to_lowercase();
    let ok = (2..=80).contains(&slug.len())
        && slug.starts_with(|c: char| c.is_ascii_alphanumeric())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(slug)
    } else {
        Err(FieldError::new(
            "slug",
            "Identifiant invalide : 2 à 80 lettres minuscules sans accent, chiffres ou tirets (par exemple 03-video-accueil).",
        ))
    }
}

impl ActivityForm {
    /// Every problem of the form at once, by field.
    pub fn check(&self) -> Result<NewActivity, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = kind_of(&self.kind);
        if kind.is_none() {
            errors.push(FieldError::new("kind", "Choisissez le type d'activité."));
        }
        let slug = check_slug(&self.slug).map_err(|e| errors.push(e)).ok();
        let title = self.title.trim().to_string();
        if title.is_empty() || title.chars().count() > 200 {
            errors.push(FieldError::new(
                "title",
                "Donnez un titre (200 caractères au plus).",
            ));
        }
        let minutes = match self.minutes.trim().parse::<u32>() {
            Ok(n) if (1..=1200).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "minutes",
                    "Durée estimée en minutes, de 1 à 1200.",
                ));
                None
            }
        };
        let sequence = match self.sequence.trim() {
            "nouvelle" if self.sequence_title.trim().is_empty() => {
                errors.push(FieldError::new(
                    "sequence_title",
                    "Donnez un titre à la nouvelle séquence.",
                ));
                None
            }
            "nouvelle" => Some(Sequence::New(self.sequence_title.trim().to_string())),
            // `DIR|N` names the module too: the form lists every module's sequences.
            n => match n.rsplit_once('|').unwrap_or((self.module.trim(), n)) {
                (dir, _) if dir != self.module.trim() => {
                    errors.push(FieldError::new(
                        "sequence",
                        "Cette séquence est celle d'un autre module que celui choisi.",
                    ));
                    None
                }
                (_, i) => match i.parse::<usize>() {
                    Ok(i) => Some(Sequence::Existing(i)),
                    Err(_) => {
                        errors.push(FieldError::new("sequence", "Choisissez une séquence."));
                        None
                    }
                },
            },
        };
        if kind == Some(ActivityKind::Resource) && !self.file.starts_with("files/") {
            errors.push(FieldError::new(
                "file",
                "Choisissez le fichier de la ressource (envoyez-le d'abord dans le module).",
            ));
        }
        if kind == Some(ActivityKind::Package) && !self.file.ends_with(".zip") {
            errors.push(FieldError::new(
                "file",
                "Choisissez le paquet SCORM ou cmi5 (un .zip envoyé d'abord dans le module).",
            ));
        }
        match (kind, slug, minutes, sequence) {
            (Some(kind), Some(slug), Some(minutes), Some(sequence)) if errors.is_empty() => {
                Ok(NewActivity {
                    module: self.module.trim().to_string(),
                    sequence,
                    kind,
                    slug,
                    title,
                    minutes,
                    required: self.required.is_some(),
                    file: self.file.trim().to_string(),
                })
            }
            _ => Err(errors),
        }
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl NewActivity {
    /// The activity's path in its module: `lessons/slug.md`…
    pub fn file_name(&self) -> String {
        let ext = match self.kind {
            ActivityKind::Lesson | ActivityKind::Assignment => "md",
            ActivityKind::Quiz | ActivityKind::Resource | ActivityKind::Package => "toml",
        };
        format!("{}/{}.{ext}", self.kind.folder(), self.slug)
    }

    /// The new file, from its kind's template; a quiz asks the bank's first questions.
    pub fn text(&self, bank: &[String]) -> String {
        let head = format!(
            "title = {}\nminutes = {}\nrequired = {}\n",
            quoted(&self.title),
            self.minutes,
            self.required
        );
        match self.kind {
            ActivityKind::Lesson => format!("+++\n{head}+++\n\n## {}\n\nÀ rédiger.\n", self.title),
            ActivityKind::Quiz => {
                let ids: Vec<String> = bank.iter().take(5).map(|q| quoted(q)).collect();
                format!(
                    "{head}pass_mark = 70\nmax_attempts = 3\nshuffle = true\nquestions = [{}]\n",
                    ids.join(", ")
                )
            }
            ActivityKind::Assignment => format!(
                "+++\n{head}answer = \"text\"\n\n[[rubric]]\ncriterion = \"La consigne est respectée\"\npoints = 5\n\n\
                 [[rubric]]\ncriterion = \"Le travail est exact et complet\"\npoints = 5\n+++\n\n## Consigne\n\nÀ rédiger.\n"
            ),
            ActivityKind::Resource | ActivityKind::Package => {
                format!("{head}file = {}\nsummary = \"\"\n", quoted(&self.file))
            }
        }
    }

    /// `module.toml` with the activity at the end of its sequence.
    pub fn module_toml(&self, text: &str) -> Result<String, String> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let entry = toml::Value::String(self.file_name());
        let sequences = doc
            .entry("sequences")
            .or_insert_with(|| toml::Value::Array(vec![]))
            .as_array_mut()
            .ok_or("module.toml : sequences n'est pas une liste")?;
        match &self.sequence {
            Sequence::New(title) => {
                let mut seq = toml::Table::new();
                seq.insert("title".into(), toml::Value::String(title.clone()));
                seq.insert("activities".into(), toml::Value::Array(vec![entry]));
                sequences.push(toml::Value::Table(seq));
            }
            Sequence::Existing(i) => {
                let seq = sequences
                    .get_mut(*i)
                    .and_then(|s| s.as_table_mut())
                    .ok_or("cette séquence n'existe pas")?;
                seq.entry("activities")
                    .or_insert_with(|| toml::Value::Array(vec![]))
                    .as_array_mut()
                    .ok_or("module.toml : activities n'est pas une liste")?
                    .push(entry);
            }
        }
        toml::to_string_pretty(&doc).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str, sequence: &str) -> ActivityForm {
        ActivityForm {
            module: "01-m".into(),
            sequence: sequence.into(),
            sequence_title: "Vidéos d'accueil".into(),
            kind: kind.into(),
            slug: "Accueil-Video".into(),
            title: "L'accueil au cabinet".into(),
            minutes: "12".into(),
            required: Some("on".into()),
            file: "files/accueil.mp4".into(),
        }
    }

    const MODULE: &str = "code = \"M1\"\ntitle = \"Élan\"\n\n[[sequences]]\ntitle = \"Un\"\nactivities = [\"lessons/a.md\"]\n";

    #[test]
    fn a_new_sequence_goes_last_and_an_existing_one_gets_the_activity_at_its_end() {
        let new = form("resource", "nouvelle").check().unwrap();
        assert_eq!(new.file_name(), "resources/accueil-video.toml");
        let text = new.module_toml(MODULE).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let seqs = doc["sequences"].as_array().unwrap();
        assert_eq!(seqs.len(), 2);
        assert_eq!(seqs[1]["title"].as_str(), Some("Vidéos d'accueil"));
        assert!(
            text.starts_with("code = \"M1\""),
            "keys keep their order: {text}"
        );
        assert!(form("lesson", "02-autre|0").check().is_err());
        let old = form("lesson", "01-m|0").check().unwrap();
        let doc: toml::Table = toml::from_str(&old.module_toml(MODULE).unwrap()).unwrap();
        let acts = doc["sequences"][0]["activities"].as_array().unwrap();
        assert_eq!(acts[1].as_str(), Some("lessons/accueil-video.md"));
        assert!(
            form("lesson", "3")
                .check()
                .unwrap()
                .module_toml(MODULE)
                .is_err()
        );
    }

    #[test]
    fn bad_fields_are_all_reported() {
        let mut f = form("film", "nouvelle");
        f.slug = "é/..".into();
        f.minutes = "0".into();
        f.sequence_title = " ".into();
        let errors = f.check().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "slug", "minutes", "sequence_title"]);
    }

    #[test]
    fn templates_are_valid_toml_with_the_title_quoted() {
        let mut f = form("quiz", "0");
        f.title = "Quiz \"accueil\" — l'essentiel".into();
        let quiz = f.check().unwrap();
        let t: toml::Table = toml::from_str(&quiz.text(&["q1".into(), "q2".into()])).unwrap();
        assert_eq!(t["title"].as_str(), Some("Quiz \"accueil\" — l'essentiel"));
        assert_eq!(t["questions"].as_array().unwrap().len(), 2);
        let lesson = form("lesson", "0").check().unwrap().text(&[]);
        assert!(lesson.starts_with("+++\ntitle = "));
    }
}
