//! Every programme version the pages may need, loaded once and kept: the reference
//! programmes of `content/` and the versions organisms publish. The database says which
//! version applies (a cohort's, a programme's current one); this only caches what versions
//! hold, which never changes, so several instances need no message to stay in line.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use super::authoring::manifest::{self, Manifest};
use super::edition::{Edition, Editions, ProgramIds};
use super::rules::{Curriculum, Program};
use super::versions::{self, VersionRow};
use crate::db::DbConn;
use crate::objects::Shelf;

pub struct Content {
    /// The reference programmes as read from `content/` at start, by code, with their version.
    reference: HashMap<String, Arc<Program>>,
    reference_versions: HashMap<String, i64>,
    blobs: Shelf,
    /// Where versions' files are written out to be read and served.
    cache: PathBuf,
    editions: RwLock<HashMap<i64, Arc<Edition>>>,
    checks: Mutex<Checks>,
    /// A draft's preview per programme, with the draft revision it shows.
    drafts: RwLock<HashMap<i64, (i32, Arc<Edition>)>>,
    /// Every loaded activity's module and every module's programme code, by id: a heartbeat
    /// finds what it credits without a trip to the database.
    index: RwLock<Index>,
}

#[derive(Default)]
struct Index {
    activities: HashMap<i64, i64>,
    modules: HashMap<i64, String>,
}

impl Index {
    fn add(&mut self, e: &Edition) {
        for (code, id) in &e.ids.modules {
            self.modules.insert(*id, e.program.code.clone());
            for a in e.activity_ids(code).iter().filter(|a| **a > 0) {
                self.activities.insert(*a, *id);
            }
        }
    }
}

/// The latest checks of written-out folders, by folder name, oldest first. A few are enough:
/// they serve the revision an author is working on.
#[derive(Default)]
struct Checks(VecDeque<(String, Checked)>);

/// A programme, or every problem found in its files.
pub type Checked = Result<Arc<Program>, Vec<String>>;

impl Checks {
    const KEPT: usize = 16;

    fn get(&self, name: &str) -> Option<Checked> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
    }

    fn put(&mut self, name: &str, checked: &Checked) {
        if self.0.len() >= Self::KEPT {
            self.0.pop_front();
        }
        self.0.push_back((name.to_string(), checked.clone()));
    }
}

/// Why a version could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Db(diesel::result::Error),
    Files(String),
}

impl From<diesel::result::Error> for LoadError {
    fn from(e: diesel::result::Error) -> Self {
        LoadError::Db(e)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Db(e) => write!(f, "{e}"),
            LoadError::Files(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl Content {
    /// Syncs the reference programmes read from `dir` (each change is a new version whose
    /// files are kept on the `blobs` shelf) and keeps their current editions. Versions are
    /// written out under `data_dir`: a cache, rebuilt from the shelf by any instance.
    pub fn start(
        curriculum: Curriculum,
        data_dir: &Path,
        blobs: Shelf,
        conn: &mut DbConn,
    ) -> anyhow::Result<Content> {
        let mut editions = HashMap::new();
        let mut reference = HashMap::new();
        let mut reference_versions = HashMap::new();
        for program in curriculum.programs {
            let files = manifest::from_dir(&blobs, &program.dir)?;
            let row = versions::sync_reference(conn, &program, &files)?;
            let ids = versions::ids(conn, row.program_id, &program)?;
            let program = Arc::new(program);
            reference.insert(program.code.clone(), program.clone());
            reference_versions.insert(program.code.clone(), row.id);
            editions.insert(row.id, Arc::new(edition(&row, None, program.clone(), ids)));
        }
        let mut index = Index::default();
        editions.values().for_each(|e| index.add(e));
        Ok(Content {
            reference,
            reference_versions,
            blobs,
            cache: data_dir.join("programmes").join("versions"),
            editions: RwLock::new(editions),
            drafts: RwLock::new(HashMap::new()),
            checks: Mutex::new(Checks::default()),
            index: RwLock::new(index),
        })
    }

    pub fn blobs(&self) -> &Shelf {
        &self.blobs
    }

    /// A version, loaded on first use (its files written out from their blobs).
    pub fn edition(&self, conn: &mut DbConn, version_id: i64) -> Result<Arc<Edition>, LoadError> {
        if let Some(e) = self.cached(version_id) {
            return Ok(e);
        }
        let row = versions::version(conn, version_id)?
            .ok_or(LoadError::Db(diesel::result::Error::NotFound))?;
        let organism = versions::organism_of(conn, row.program_id)?;
        let program = match self.reference.get(&row.program_code) {
            Some(p) if p.hash == row.hash || row.manifest.is_empty() => p.clone(),
            _ => {
                let files = manifest::from_json(&row.manifest).map_err(LoadError::Files)?;
                self.load_files(&format!("v{}", row.id), &files)?
            }
        };
        let ids = versions::ids(conn, row.program_id, &program)?;
        let e = Arc::new(edition(&row, organism, program, ids));
        if let Ok(mut index) = self.index.write() {
            index.add(&e);
        }
        if let Ok(mut map) = self.editions.write() {
            map.insert(version_id, e.clone());
        }
        Ok(e)
    }

    pub fn cached(&self, version_id: i64) -> Option<Arc<Edition>> {
        self.editions.read().ok()?.get(&version_id).cloned()
    }

    /// The current version of a programme, by its code; none for a programme not yet
    /// published (begun from nothing, its row points to a placeholder that holds no files).
    pub fn current(
        &self,
        conn: &mut DbConn,
        code: &str,
    ) -> Result<Option<Arc<Edition>>, LoadError> {
        let Some(id) = versions::current_version(conn, code)? else {
            return Ok(None);
        };
        if let Some(e) = self.cached(id) {
            return Ok(Some(e));
        }
        if versions::version(conn, id)?.is_none_or(|v| v.number == 0) {
            return Ok(None);
        }
        Ok(Some(self.edition(conn, id)?))
    }

    /// A draft's preview: its files loaded as a trainee would see them once published, or
    /// every problem the checks found.
    pub fn draft(
        &self,
        conn: &mut DbConn,
        program_id: i64,
        revision: i32,
        files: &Manifest,
    ) -> Result<Arc<Edition>, LoadError> {
        if let Some((rev, e)) = self
            .drafts
            .read()
            .ok()
            .and_then(|m| m.get(&program_id).cloned())
            && rev == revision
        {
            return Ok(e);
        }
        let program = self.load_files(&format!("d{program_id}-r{revision}"), files)?;
        let ids = versions::ids(conn, program_id, &program)?;
        let organism = versions::organism_of(conn, program_id)?;
        let e = Arc::new(Edition {
            version_id: 0,
            number: 0,
            program_id,
            organism_id: organism,
            base: format!("/auteur/apercu/{}", program.code),
            program,
            ids,
        });
        if let Ok(mut map) = self.drafts.write() {
            map.insert(program_id, (revision, e.clone()));
        }
        Ok(e)
    }

    /// Writes a manifest's files out (once: the folder of a name never changes) as the folder
    /// `programme` of `name` in the cache, and returns where.
    pub fn written_out(&self, name: &str, files: &Manifest) -> std::io::Result<PathBuf> {
        let dir = self.cache.join(name).join("programme");
        manifest::materialize(&self.blobs, files, &dir)?;
        Ok(dir)
    }

    /// Writes a manifest's files out and runs every check of `parcours content check` on them:
    /// the programme, or each problem with its file (relative to the programme) and line. The
    /// result is kept by `name`, whose files never change: the editor, the preview and the
    /// publish of one draft revision load it once.
    pub fn check_files(&self, name: &str, files: &Manifest) -> Checked {
        if let Some(found) = self.checks.lock().ok().and_then(|c| c.get(name)) {
            return found;
        }
        let checked = match self.written_out(name, files) {
            Ok(dir) => check_folder(&dir).map(Arc::new),
            Err(e) => Err(vec![format!("fichiers du programme illisibles : {e}")]),
        };
        if let Ok(mut c) = self.checks.lock() {
            c.put(name, &checked);
        }
        checked
    }

    /// Writes a manifest's files out (once) and loads the programme they hold.
    pub fn load_files(&self, name: &str, files: &Manifest) -> Result<Arc<Program>, LoadError> {
        self.check_files(name, files)
            .map_err(|problems| LoadError::Files(problems.join(" ; ")))
    }

    /// What a trainee should read next in the version she follows. Blocking.
    pub fn next_lesson(
        &self,
        conn: &mut DbConn,
        trainee: i64,
    ) -> Result<Option<super::NextLesson>, LoadError> {
        let Some((_, version)) = super::store::trainee_version(conn, trainee)? else {
            return Ok(None);
        };
        let done = super::store::completed_lessons(conn, trainee)?;
        Ok(self.edition(conn, version)?.next_lesson(&done))
    }

    /// The versions an organism's cohorts follow, each cohort its own: what its documents
    /// and exports read.
    pub fn cohort_editions(&self, conn: &mut DbConn, organism: i64) -> Result<Editions, LoadError> {
        let mut list = Vec::new();
        for id in versions::cohort_versions(conn, organism)? {
            list.push(self.edition(conn, id)?);
        }
        Ok(Editions::new(list))
    }

    /// The module id and programme code of an activity, when a loaded version has it.
    pub fn locate_activity(&self, activity_id: i64) -> Option<(i64, String)> {
        let index = self.index.read().ok()?;
        let module = *index.activities.get(&activity_id)?;
        Some((module, index.modules.get(&module)?.clone()))
    }

    /// The programme code of a module, when a loaded version has it.
    pub fn locate_module(&self, module_id: i64) -> Option<String> {
        self.index.read().ok()?.modules.get(&module_id).cloned()
    }

    /// A module's id in a reference programme as shipped.
    pub fn reference_module_id(&self, program: &str, module: &str) -> Option<i64> {
        self.cached(*self.reference_versions.get(program)?)?
            .module_id(module)
    }

    /// The reference programmes, as shipped.
    pub fn reference(&self) -> impl Iterator<Item = &Program> {
        let mut list: Vec<&Program> = self.reference.values().map(|p| &**p).collect();
        list.sort_by(|a, b| a.code.cmp(&b.code));
        list.into_iter()
    }
}

/// Every check of `parcours content check` on the programme folder `dir`, alone in its parent
/// folder: the programme, or each problem with its file (relative to `dir`) and line.
pub fn check_folder(dir: &Path) -> Result<Program, Vec<String>> {
    let root = dir.parent().unwrap_or(dir);
    match super::loader::load(root) {
        Ok(mut c) => c
            .programs
            .pop()
            .ok_or_else(|| vec!["aucun programme".into()]),
        Err(errors) => Err(errors
            .0
            .iter()
            .map(|e| {
                let file = e.file.strip_prefix(dir).unwrap_or(&e.file);
                let file = match file.as_os_str().is_empty() {
                    true => "programme".to_string(),
                    false => file.display().to_string(),
                };
                match e.line {
                    Some(l) => format!("{file}:{l} : {}", e.message),
                    None => format!("{file} : {}", e.message),
                }
            })
            .collect()),
    }
}

fn edition(
    row: &VersionRow,
    organism: Option<i64>,
    program: Arc<Program>,
    ids: ProgramIds,
) -> Edition {
    Edition {
        version_id: row.id,
        number: row.number,
        program_id: row.program_id,
        organism_id: organism,
        base: format!("/programmes/{}", program.code),
        program,
        ids,
    }
}

impl From<LoadError> for crate::web::AppError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Db(e) => e.into(),
            LoadError::Files(e) => crate::web::AppError::Internal(anyhow::anyhow!(e)),
        }
    }
}
