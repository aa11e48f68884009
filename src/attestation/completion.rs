//! Completion of a trainee's path: when a module and the path are complete, what is
//! missing, and the reason an incomplete path may still be closed. Pure.

use serde::Serialize;

/// What completion needs to know of one module of a trainee's path.
#[derive(Clone, Debug)]
pub struct ModuleFacts {
    pub code: String,
    pub title: String,
    /// Planned hours of the module before exemptions.
    pub planned_secs: i64,
    pub exempted_secs: i64,
    /// Distance + in-person + corrections + exempted.
    pub credited_secs: i64,
    /// Whether the content has an evaluation for this module.
    pub has_evaluation: bool,
    /// Best submitted result: (score %, passed).
    pub best_result: Option<(i32, bool)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Missing {
    /// Hours still to do to reach the individual plan.
    Hours { secs: i64 },
    /// The evaluation was never submitted.
    EvaluationNotTaken,
    /// Submitted but not passed (best score).
    EvaluationNotPassed { best_pct: i32 },
}

impl Missing {
    pub fn label(&self) -> String {
        match self {
            Missing::Hours { secs } => {
                format!(
                    "{} à réaliser",
                    crate::base::format::minutes((secs + 59) / 60)
                )
            }
            Missing::EvaluationNotTaken => "évaluation non passée".into(),
            Missing::EvaluationNotPassed { best_pct } => {
                format!("évaluation non réussie (meilleur score {best_pct} %)")
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ModuleCompletion {
    pub code: String,
    pub title: String,
    pub complete: bool,
    pub missing: Vec<String>,
    #[serde(skip)]
    pub missing_items: Vec<Missing>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PathCompletion {
    pub modules: Vec<ModuleCompletion>,
    pub complete: bool,
}

/// A module is complete when its credited hours reach the individual plan and its
/// evaluation is passed. A module fully exempted (equivalence, VAE) needs no evaluation.
pub fn module_completion(m: &ModuleFacts) -> ModuleCompletion {
    let mut missing = Vec::new();
    if m.credited_secs < m.planned_secs {
        missing.push(Missing::Hours {
            secs: m.planned_secs - m.credited_secs,
        });
    }
    let fully_exempted = m.planned_secs > 0 && m.exempted_secs >= m.planned_secs;
    if m.has_evaluation && !fully_exempted {
        match m.best_result {
            None => missing.push(Missing::EvaluationNotTaken),
            Some((_, true)) => {}
            Some((pct, false)) => missing.push(Missing::EvaluationNotPassed { best_pct: pct }),
        }
    }
    ModuleCompletion {
        code: m.code.clone(),
        title: m.title.clone(),
        complete: missing.is_empty(),
        missing: missing.iter().map(Missing::label).collect(),
        missing_items: missing,
    }
}

/// The path is complete when every module is (and it has at least one).
pub fn path_completion(modules: &[ModuleFacts]) -> PathCompletion {
    let modules: Vec<ModuleCompletion> = modules.iter().map(module_completion).collect();
    PathCompletion {
        complete: !modules.is_empty() && modules.iter().all(|m| m.complete),
        modules,
    }
}

/// The best submitted result of a list of (score %, passed) attempts: a pass wins, then the
/// highest score.
pub fn best_result(attempts: impl IntoIterator<Item = (i32, bool)>) -> Option<(i32, bool)> {
    attempts
        .into_iter()
        .max_by_key(|(pct, passed)| (*passed, *pct))
}

/// An override of completion needs a real reason.
pub fn check_override_reason(reason: &str) -> Result<String, &'static str> {
    let r = reason.trim();
    if r.chars().count() < 10 {
        return Err("Indiquez le motif de la dérogation (10 caractères au moins).");
    }
    if r.chars().count() > 500 {
        return Err("Le motif ne doit pas dépasser 500 caractères.");
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(credited_h: i64, planned_h: i64, eval: Option<(i32, bool)>) -> ModuleFacts {
        ModuleFacts {
            code: "M1".into(),
            title: "Suivi".into(),
            planned_secs: planned_h * 3600,
            exempted_secs: 0,
            credited_secs: credited_h * 3600,
            has_evaluation: true,
            best_result: eval,
        }
    }

    #[test]
    fn a_module_needs_its_hours_and_a_passed_evaluation() {
        let done = module_completion(&module(77, 77, Some((80, true))));
        assert!(done.complete);
        let short = module_completion(&module(70, 77, Some((80, true))));
        assert!(!short.complete);
        assert_eq!(short.missing_items, vec![Missing::Hours { secs: 7 * 3600 }]);
        assert_eq!(short.missing, vec!["7 h à réaliser".to_string()]);
        let failed = module_completion(&module(80, 77, Some((40, false))));
        assert_eq!(
            failed.missing_items,
            vec![Missing::EvaluationNotPassed { best_pct: 40 }]
        );
        let none = module_completion(&module(0, 77, None));
        assert_eq!(
            none.missing_items,
            vec![
                Missing::Hours { secs: 77 * 3600 },
                Missing::EvaluationNotTaken
            ]
        );
    }

    #[test]
    fn exempted_hours_count_and_a_fully_exempted_module_needs_no_evaluation() {
        let mut m = module(0, 35, None);
        m.exempted_secs = 35 * 3600;
        m.credited_secs = 35 * 3600;
        assert!(module_completion(&m).complete);
        // Partly exempted: the evaluation is still required.
        m.exempted_secs = 10 * 3600;
        assert!(!module_completion(&m).complete);
        // Without an evaluation in the content, hours suffice.
        m.has_evaluation = false;
        assert!(module_completion(&m).complete);
    }

    #[test]
    fn the_path_is_complete_only_when_every_module_is() {
        let ok = module(77, 77, Some((100, true)));
        let ko = module(76, 77, Some((100, true)));
        assert!(path_completion(&[ok.clone(), ok.clone()]).complete);
        assert!(!path_completion(&[ok.clone(), ko]).complete);
        assert!(!path_completion(&[]).complete);
    }

    #[test]
    fn best_result_prefers_a_pass_then_the_score() {
        assert_eq!(
            best_result([(90, false), (70, true), (60, true)]),
            Some((70, true))
        );
        assert_eq!(best_result([(30, false), (50, false)]), Some((50, false)));
        assert_eq!(best_result([]), None);
    }

    #[test]
    fn an_override_needs_a_real_reason() {
        assert!(check_override_reason("court").is_err());
        assert!(check_override_reason("Décision du jury de fin de parcours").is_ok());
    }
}
