//! What the page of a package activity shows: its SCOs or AUs with where the trainee is in
//! each (from her attempts), and the frame that plays the one she is at.

use serde::Serialize;

use super::Edition;
use super::rules::{Activity, PackageActivity};
use super::viewer::Viewer;
use crate::db::DbConn;
use crate::scorm::progress::{self, ItemState};
use crate::scorm::store;
use crate::web::AppResult;

#[derive(Serialize)]
pub struct Item {
    pub title: String,
    /// The launch address, on the site's origin (it redirects the frame to the packages').
    pub launch: String,
    pub state: &'static str,
    pub done: bool,
    /// "85 %" when the package gave a score.
    pub score: Option<String>,
    /// The package's own `session_time`s added up: shown, never credited.
    pub package_time: Option<String>,
    pub current: bool,
}

#[derive(Serialize)]
pub struct View {
    pub standard: String,
    pub summary: String,
    pub items: Vec<Item>,
    /// What the frame opens, or why there is no frame.
    pub frame: Option<String>,
    pub why_not: Option<&'static str>,
}

/// `chosen`: the item the trainee picked (`?partie=N`), else the first not done.
pub fn view(
    conn: &mut DbConn,
    (viewer, ed, module): (Viewer, &Edition, &str),
    activity: &Activity,
    package: &PackageActivity,
    (chosen, playable): (Option<usize>, bool),
) -> AppResult<View> {
    let lesson = ed.activity_id(module, &activity.slug);
    let attempts = match (viewer, lesson) {
        (Viewer::Trainee(t), Some(l)) => store::attempts(conn, t, l)?,
        _ => Vec::new(),
    };
    let mut items: Vec<Item> = package
        .items()
        .into_iter()
        .enumerate()
        .map(|(i, (id, title))| {
            let a = attempts.iter().find(|a| a.item == id);
            let st = a.map(|a| ItemState {
                completion: progress::completion_of(&a.completion),
                success: progress::success_of(&a.success),
            });
            Item {
                title: title.to_string(),
                launch: format!("{}/{module}/paquets/{}/{i}", ed.base, activity.slug),
                state: st.as_ref().map_or("à faire", progress::label),
                done: st
                    .as_ref()
                    .is_some_and(|st| progress::item_done(package.move_on(id), st)),
                score: a
                    .and_then(|a| a.score_scaled)
                    .map(|s| format!("{} %", (s * 100.0).round())),
                package_time: a
                    .filter(|a| a.package_seconds > 0.0)
                    .map(|a| progress::package_time(a.package_seconds)),
                current: false,
            }
        })
        .collect();
    let current = chosen
        .filter(|&i| i < items.len())
        .or_else(|| items.iter().position(|it| !it.done))
        .unwrap_or(0);
    if let Some(it) = items.get_mut(current) {
        it.current = true;
    }
    let why_not = match (viewer, playable) {
        (Viewer::Preview, _) => Some(
            "Aperçu : le module e-learning se joue dans l'espace d'un stagiaire, où son temps et ses résultats sont enregistrés.",
        ),
        (_, false) => Some(
            "Ce serveur ne peut pas jouer de module e-learning : son administrateur doit régler PARCOURS_PACKAGES_URL (une adresse distincte du site).",
        ),
        _ => None,
    };
    Ok(View {
        standard: package.standard_label(),
        summary: package.summary.clone(),
        frame: why_not
            .is_none()
            .then(|| items.get(current).map(|it| it.launch.clone()))
            .flatten(),
        items,
        why_not,
    })
}

/// A ZIP sent into a module: refused, with the reason in French, unless it is a package we
/// can play (manifest, launch files, names, links and sizes). Blocking.
pub fn check_zip(path: &std::path::Path) -> Result<crate::scorm::zipped::Checked, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    crate::scorm::zipped::inspect(
        std::io::BufReader::new(file),
        len,
        crate::scorm::zipped::LIMITS,
    )
    .map_err(|e| e.to_string())
}
