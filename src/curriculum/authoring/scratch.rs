//! A programme begun from nothing, and a module added to a draft: the skeleton `program.toml`
//! of a new programme, a module's folder and `module.toml`. Pure: the handlers save the files.

use serde::Deserialize;

use crate::base::field::FieldError;
use crate::base::format::slug;
use crate::curriculum::rules::{Kind, Mission, Modality, Program};

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A title as the forms take it: trimmed, 1 to 200 characters.
fn title_of(raw: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let title = raw.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new(
            "title",
            "Donnez un titre (200 caractères au plus).",
        ));
        return None;
    }
    Some(title)
}

/// A whole number of hours from a form, within `range`.
fn hours_of(
    raw: &str,
    field: &str,
    range: std::ops::RangeInclusive<u32>,
    errors: &mut Vec<FieldError>,
) -> Option<u32> {
    match raw.trim().parse::<u32>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(
                field,
                format!(
                    "Nombre d'heures entier attendu, de {} à {}.",
                    range.start(),
                    range.end()
                ),
            ));
            None
        }
    }
}

/// The "new programme" form of the organism's programmes page, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProgramForm {
    pub code: String,
    pub title: String,
    pub kind: String,
    pub total_hours: String,
}

/// A programme to create, checked.
#[derive(Debug)]
pub struct NewProgram {
    pub code: String,
    pub title: String,
    pub kind: Kind,
    pub total_hours: u32,
}

/// What a new programme's `program.toml` takes from the kind until its authors change it:
/// the certification's name and the months a cohort lasts.
#[derive(Debug, Clone)]
pub struct KindDefaults {
    pub certification: String,
    pub min_months: u32,
    pub max_months: u32,
}

impl KindDefaults {
    /// The reference programme of the same kind gives them, if there is one.
    pub fn of(kind: Kind, reference: Option<&Program>) -> KindDefaults {
        if let Some(p) = reference.filter(|p| p.kind == kind) {
            return KindDefaults {
                certification: p.certification.clone(),
                min_months: p.min_months,
                max_months: p.max_months,
            };
        }
        match kind {
            Kind::Cqp => KindDefaults {
                certification: "CQP Assistant médical".into(),
                min_months: 10,
                max_months: 12,
            },
            Kind::Fae => KindDefaults {
                certification: "Attestation de formation d'adaptation à l'emploi".into(),
                min_months: 1,
                max_months: 12,
            },
        }
    }
}

impl ProgramForm {
    /// Every problem of the form at once, by field.
    pub fn check(&self) -> Result<NewProgram, Vec<FieldError>> {
        let mut errors = Vec::new();
        let code = super::publish::check_code(&self.code)
            .map_err(|e| errors.push(e))
            .ok();
        let title = title_of(&self.title, &mut errors);
        let kind = match self.kind.trim() {
            "cqp" => Some(Kind::Cqp),
            "fae" => Some(Kind::Fae),
            _ => {
                errors.push(FieldError::new(
                    "kind",
                    "Choisissez le type de formation : CQP ou FAE.",
                ));
                None
            }
        };
        let total_hours = hours_of(&self.total_hours, "total_hours", 1..=2000, &mut errors);
        match (code, title, kind, total_hours) {
            (Some(code), Some(title), Some(kind), Some(total_hours)) if errors.is_empty() => {
                Ok(NewProgram {
                    code,
                    title,
                    kind,
                    total_hours,
                })
            }
            _ => Err(errors),
        }
    }
}

impl NewProgram {
    /// The skeleton `program.toml`, valid as content/README.md describes it.
    pub fn program_toml(&self, d: &KindDefaults) -> String {
        format!(
            "code = {}\ntitle = {}\nkind = {}\ncertification = {}\ntotal_hours = {}\n\
             min_months = {}\nmax_months = {}\nsummary = \"\"\n",
            quoted(&self.code),
            quoted(&self.title),
            quoted(self.kind.as_str()),
            quoted(&d.certification),
            self.total_hours,
            d.min_months,
            d.max_months
        )
    }

    /// The programme as its row records it before any version: no module yet.
    pub fn program(&self, d: &KindDefaults) -> Program {
        Program {
            code: self.code.clone(),
            title: self.title.clone(),
            kind: self.kind,
            certification: d.certification.clone(),
            total_hours: self.total_hours,
            min_months: d.min_months,
            max_months: d.max_months,
            summary: String::new(),
            modules: vec![],
            hash: String::new(),
            dir: Default::default(),
        }
    }
}

/// The editor's "add a module" form, as sent (`missions` once per ticked box).
#[derive(Debug, Default)]
pub struct ModuleForm {
    pub code: String,
    pub title: String,
    /// The folder's name after its position (`01-NAME`); from the title when left empty.
    pub folder: String,
    pub order: String,
    pub distance_hours: String,
    pub presentiel_hours: String,
    pub bloc: String,
    /// `administratif`, `consultation`, `coordination`: the ticked ones.
    pub missions: Vec<String>,
}

/// A module to add, checked.
#[derive(Debug)]
pub struct NewModule {
    pub code: String,
    pub title: String,
    pub dir: String,
    pub order: u32,
    pub bloc: String,
    pub distance_hours: u32,
    pub presentiel_hours: u32,
    pub missions: Vec<Mission>,
}

/// A module code: capitals, digits and dashes, as the reference's M1…M4.
fn check_module_code(raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_uppercase();
    let ok = (1..=16).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_alphanumeric())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new(
            "code",
            "Code de module invalide : 1 à 16 lettres, chiffres ou tirets (par exemple M1).",
        ))
    }
}

fn mission_of(raw: &str) -> Option<Mission> {
    Some(match raw {
        "administratif" => Mission::Administratif,
        "consultation" => Mission::Consultation,
        "coordination" => Mission::Coordination,
        _ => return None,
    })
}

impl ModuleForm {
    /// The form from its fields as sent, in order (a ticked mission is one pair).
    pub fn from_pairs(pairs: &[(String, String)]) -> ModuleForm {
        let mut f = ModuleForm::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "code" => f.code = v,
                "title" => f.title = v,
                "folder" => f.folder = v,
                "order" => f.order = v,
                "distance_hours" => f.distance_hours = v,
                "presentiel_hours" => f.presentiel_hours = v,
                "bloc" => f.bloc = v,
                "missions" => f.missions.push(v),
                _ => {}
            }
        }
        f
    }

    /// Every problem of the form at once, by field.
    pub fn check(&self) -> Result<NewModule, Vec<FieldError>> {
        let mut errors = Vec::new();
        let code = check_module_code(&self.code)
            .map_err(|e| errors.push(e))
            .ok();
        let title = title_of(&self.title, &mut errors);
        let order = match self.order.trim().parse::<u32>() {
            Ok(n) if (1..=99).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "order",
                    "Position du module dans le programme : un nombre de 1 à 99.",
                ));
                None
            }
        };
        let distance = hours_of(
            &self.distance_hours,
            "distance_hours",
            0..=1000,
            &mut errors,
        );
        let presentiel = hours_of(
            &self.presentiel_hours,
            "presentiel_hours",
            0..=1000,
            &mut errors,
        );
        if distance == Some(0) && presentiel == Some(0) {
            errors.push(FieldError::new(
                "distance_hours",
                "Un module dure au moins une heure, à distance ou en présentiel.",
            ));
        }
        let slug = match self.folder.trim() {
            "" => title.as_deref().map(|t| slug(t, 60)).filter(|s| s.len() >= 2),
            raw => super::additions::check_slug(raw)
                .map_err(|mut e| {
                    e.field = "folder".into();
                    e.message = "Nom de dossier invalide : 2 à 80 lettres minuscules sans accent, chiffres ou tirets (par exemple accueil-patient).".into();
                    errors.push(e)
                })
                .ok(),
        };
        if slug.is_none() && title.is_some() && self.folder.trim().is_empty() {
            errors.push(FieldError::new(
                "folder",
                "Donnez un nom de dossier : le titre n'en donne pas (lettres minuscules, chiffres ou tirets).",
            ));
        }
        let mut missions = Vec::new();
        for m in &self.missions {
            match mission_of(m.trim()) {
                Some(m) if !missions.contains(&m) => missions.push(m),
                Some(_) => {}
                None => errors.push(FieldError::new("missions", "Mission inconnue.")),
            }
        }
        if missions.is_empty() {
            errors.push(FieldError::new(
                "missions",
                "Cochez au moins une mission que le module prépare.",
            ));
        }
        let bloc = self.bloc.trim().to_string();
        if bloc.chars().count() > 200 {
            errors.push(FieldError::new("bloc", "Bloc : 200 caractères au plus."));
        }
        match (code, title, order, distance, presentiel, slug) {
            (Some(code), Some(title), Some(order), Some(d), Some(p), Some(slug))
                if errors.is_empty() =>
            {
                Ok(NewModule {
                    bloc: if bloc.is_empty() {
                        format!("Bloc {order}")
                    } else {
                        bloc
                    },
                    dir: format!("{order:02}-{slug}"),
                    code,
                    title,
                    order,
                    distance_hours: d,
                    presentiel_hours: p,
                    missions,
                })
            }
            _ => Err(errors),
        }
    }
}

/// What the draft's modules already hold, read from their `module.toml`.
#[derive(Debug, Clone)]
pub struct ExistingModule {
    pub dir: String,
    pub code: Option<String>,
    pub order: Option<u32>,
}

impl ExistingModule {
    /// A module as its `module.toml` text names it (what is unreadable is left `None`).
    pub fn read(dir: &str, text: &str) -> ExistingModule {
        let doc: Option<toml::Table> = toml::from_str(text).ok();
        let get = |k: &str| doc.as_ref().and_then(|d| d.get(k)).cloned();
        ExistingModule {
            dir: dir.to_string(),
            code: get("code").and_then(|v| v.as_str().map(str::to_string)),
            order: get("order")
                .and_then(|v| v.as_integer())
                .and_then(|n| u32::try_from(n).ok()),
        }
    }
}

impl NewModule {
    pub fn modality(&self) -> Modality {
        match (self.distance_hours, self.presentiel_hours) {
            (_, 0) => Modality::Distance,
            (0, _) => Modality::Presentiel,
            _ => Modality::Mixte,
        }
    }

    /// Why the module cannot join a draft holding `existing`, in French, or nothing.
    pub fn conflicts(&self, existing: &[ExistingModule]) -> Vec<String> {
        let mut out = Vec::new();
        for m in existing {
            if m.code.as_deref() == Some(self.code.as_str()) {
                out.push(format!(
                    "Le code de module {} est déjà pris dans ce programme (dossier {}).",
                    self.code, m.dir
                ));
            }
            if m.dir == self.dir {
                out.push(format!(
                    "Le dossier {} existe déjà dans le brouillon.",
                    self.dir
                ));
            }
            if m.order == Some(self.order) {
                out.push(format!(
                    "La position {} est déjà celle du module {}.",
                    self.order,
                    m.code.as_deref().unwrap_or(&m.dir)
                ));
            }
        }
        out
    }

    /// The module's `module.toml`, valid as content/README.md describes it, without any
    /// sequence yet: the first activity added makes one.
    pub fn module_toml(&self) -> String {
        let modality = match self.modality() {
            Modality::Distance => "distance",
            Modality::Presentiel => "presentiel",
            Modality::Mixte => "mixte",
        };
        let missions: Vec<String> = self
            .missions
            .iter()
            .map(|m| {
                quoted(match m {
                    Mission::Administratif => "administratif",
                    Mission::Consultation => "consultation",
                    Mission::Coordination => "coordination",
                })
            })
            .collect();
        format!(
            "code = {}\ntitle = {}\norder = {}\nbloc = {}\nplanned_hours = {}\nmodality = \"{modality}\"\n\
             distance_hours = {}\npresentiel_hours = {}\nmissions = [{}]\nobjectives = []\nsummary = \"\"\n",
            quoted(&self.code),
            quoted(&self.title),
            self.order,
            quoted(&self.bloc),
            self.distance_hours + self.presentiel_hours,
            self.distance_hours,
            self.presentiel_hours,
            missions.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program_form() -> ProgramForm {
        ProgramForm {
            code: "fae-lyon".into(),
            title: "FAE « Lyon »".into(),
            kind: "fae".into(),
            total_hours: "35".into(),
        }
    }

    fn module_form() -> ModuleForm {
        ModuleForm {
            code: "m1".into(),
            title: "Accueil et prise en charge".into(),
            folder: String::new(),
            order: "1".into(),
            distance_hours: "6".into(),
            presentiel_hours: "4".into(),
            bloc: String::new(),
            missions: vec!["administratif".into(), "coordination".into()],
        }
    }

    #[test]
    fn a_skeleton_program_toml_is_the_format_s_with_the_kind_s_defaults() {
        let p = program_form().check().unwrap();
        assert_eq!(p.code, "FAE-LYON");
        let d = KindDefaults::of(p.kind, None);
        let t: toml::Table = toml::from_str(&p.program_toml(&d)).unwrap();
        assert_eq!(t["title"].as_str(), Some("FAE « Lyon »"));
        assert_eq!(t["kind"].as_str(), Some("fae"));
        assert_eq!(t["total_hours"].as_integer(), Some(35));
        assert!(t["min_months"].as_integer() <= t["max_months"].as_integer());
    }

    #[test]
    fn a_bad_programme_form_says_every_field_wrong() {
        let f = ProgramForm {
            code: "é".into(),
            title: " ".into(),
            kind: "bts".into(),
            total_hours: "douze".into(),
        };
        let fields: Vec<String> = f
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["code", "title", "kind", "total_hours"]);
    }

    #[test]
    fn a_module_gets_its_folder_from_its_title_and_its_modality_from_its_hours() {
        let m = module_form().check().unwrap();
        assert_eq!(m.dir, "01-accueil-et-prise-en-charge");
        assert_eq!(m.code, "M1");
        assert_eq!(m.modality(), Modality::Mixte);
        let t: toml::Table = toml::from_str(&m.module_toml()).unwrap();
        assert_eq!(t["planned_hours"].as_integer(), Some(10));
        assert_eq!(t["bloc"].as_str(), Some("Bloc 1"));
        assert_eq!(t["modality"].as_str(), Some("mixte"));
        let mut f = module_form();
        f.presentiel_hours = "0".into();
        f.folder = "accueil".into();
        let m = f.check().unwrap();
        assert_eq!(
            (m.dir.as_str(), m.modality()),
            ("01-accueil", Modality::Distance)
        );
        let clash = m.conflicts(&[ExistingModule::read(
            "01-autre",
            "code = \"M1\"\norder = 1\n",
        )]);
        assert_eq!(clash.len(), 2, "{clash:?}");
    }

    #[test]
    fn bad_module_fields_are_all_reported() {
        let mut f = module_form();
        f.code = "M 1".into();
        f.order = "0".into();
        f.distance_hours = "6,5".into();
        f.missions = vec![];
        let fields: Vec<String> = f
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["code", "order", "distance_hours", "missions"]);
        let mut f = module_form();
        f.distance_hours = "0".into();
        f.presentiel_hours = "0".into();
        assert!(f.check().is_err());
    }
}
