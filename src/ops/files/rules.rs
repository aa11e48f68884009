//! The pure rules of `parcours storage`: which records name which file, what a shelf lacks
//! or keeps for nothing, what a migration still has to copy, and how it is said in French.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::config::{FileStore, S3Settings};
use crate::objects::Stored;

/// What refers to a kept file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A row of a table of uploads.
    Row { table: &'static str, id: i64 },
    /// A file of a programme version's manifest.
    Version {
        id: i64,
        code: String,
        number: i32,
        path: String,
    },
    /// A file of a programme draft's manifest.
    Draft {
        program_id: i64,
        code: String,
        path: String,
    },
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Row { table, id } => write!(f, "{table} n° {id}"),
            Holder::Version {
                id,
                code,
                number,
                path,
            } => write!(
                f,
                "version {number} du programme {code} (content_versions n° {id}), fichier {path}"
            ),
            Holder::Draft {
                program_id,
                code,
                path,
            } => write!(
                f,
                "brouillon du programme {code} (program_drafts n° {program_id}), fichier {path}"
            ),
        }
    }
}

/// A record's use of a file, with the size it noted (uploads note one, manifests do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub sha256: String,
    pub size: Option<u64>,
    pub by: Holder,
}

/// A present file that is not what its name says, and who uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub sha256: String,
    pub why: String,
    pub by: Vec<Holder>,
}

/// One shelf's listing against what the records name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Named by a record but absent, by name, with every record naming it.
    pub missing: Vec<(String, Vec<Holder>)>,
    /// Present and named by nothing: they only take room.
    pub orphans: Vec<Stored>,
}

pub fn compare(references: &[Reference], listed: &[Stored]) -> Comparison {
    let present: BTreeSet<&str> = listed.iter().map(|s| s.sha256.as_str()).collect();
    let named: BTreeSet<&str> = references.iter().map(|r| r.sha256.as_str()).collect();
    let mut missing: BTreeMap<&str, Vec<Holder>> = BTreeMap::new();
    for r in references
        .iter()
        .filter(|r| !present.contains(r.sha256.as_str()))
    {
        missing.entry(&r.sha256).or_default().push(r.by.clone());
    }
    Comparison {
        missing: missing
            .into_iter()
            .map(|(sha, by)| (sha.to_string(), by))
            .collect(),
        orphans: listed
            .iter()
            .filter(|s| !named.contains(s.sha256.as_str()))
            .cloned()
            .collect(),
    }
}

/// Every record naming `sha`.
pub fn holders_of(references: &[Reference], sha: &str) -> Vec<Holder> {
    references
        .iter()
        .filter(|r| r.sha256 == sha)
        .map(|r| r.by.clone())
        .collect()
}

/// Present files whose size is not the one a record noted: what `--quick` can tell without
/// reading any file.
pub fn size_mismatches(references: &[Reference], listed: &[Stored]) -> Vec<Damage> {
    let sizes: BTreeMap<&str, u64> = listed.iter().map(|s| (s.sha256.as_str(), s.size)).collect();
    let mut damaged: BTreeMap<&str, Damage> = BTreeMap::new();
    for r in references {
        let (Some(noted), Some(&size)) = (r.size, sizes.get(r.sha256.as_str())) else {
            continue;
        };
        if noted != size {
            damaged.entry(&r.sha256).or_insert_with(|| Damage {
                sha256: r.sha256.clone(),
                why: format!("{size} octets au lieu des {noted} notés"),
                by: holders_of(references, &r.sha256),
            });
        }
    }
    damaged.into_values().collect()
}

/// Whether `dest` is the store the files already are in (copying would be pointless).
pub fn same_store(source: &FileStore, dest: &S3Settings) -> bool {
    matches!(source, FileStore::S3(s)
        if s.bucket == dest.bucket && s.prefix == dest.prefix && s.endpoint == dest.endpoint)
}

/// What a migration of one shelf does: the files to copy and those already there.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub copy: Vec<Stored>,
    pub skip: Vec<Stored>,
}

/// A file is already there when the destination has it with its size (writes are whole or
/// nothing, so a file cut short by an interruption is never there).
pub fn plan(source: &[Stored], dest: &[Stored]) -> Plan {
    let there: BTreeMap<&str, u64> = dest.iter().map(|s| (s.sha256.as_str(), s.size)).collect();
    let (skip, copy) = source
        .iter()
        .cloned()
        .partition(|s| there.get(s.sha256.as_str()) == Some(&s.size));
    Plan { copy, skip }
}

pub fn bytes_of(files: &[Stored]) -> u64 {
    files.iter().map(|s| s.size).sum()
}

/// Mebibytes with one decimal, as French writes them: `12,3 Mo`.
pub fn megabytes(bytes: u64) -> String {
    let tenths = (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() as u64;
    format!("{},{} Mo", tenths / 10, tenths % 10)
}

/// The French title of a shelf of `crate::objects::Objects::shelves`.
pub fn shelf_title(name: &str) -> &'static str {
    match name {
        "programmes" => "Fichiers des programmes",
        _ => "Fichiers déposés (VAE, suivi, devoirs, certificats)",
    }
}

/// What `storage check` found on one shelf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShelfReport {
    pub name: &'static str,
    pub label: String,
    pub listed: Vec<Stored>,
    pub referenced: usize,
    pub comparison: Comparison,
    pub damaged: Vec<Damage>,
}

impl ShelfReport {
    /// Whether a record lacks its file or has a damaged one.
    pub fn is_sound(&self) -> bool {
        self.comparison.missing.is_empty() && self.damaged.is_empty()
    }
}

fn holders(by: &[Holder]) -> String {
    if by.is_empty() {
        return "aucun enregistrement".into();
    }
    by.iter()
        .map(Holder::to_string)
        .collect::<Vec<_>>()
        .join(" ; ")
}

impl fmt::Display for ShelfReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.comparison;
        writeln!(f, "{} ({}) :", shelf_title(self.name), self.label)?;
        writeln!(
            f,
            "  {} fichier(s) présent(s) ({}), {} utilisé(s) par les enregistrements",
            self.listed.len(),
            megabytes(bytes_of(&self.listed)),
            self.referenced
        )?;
        for (sha, by) in &c.missing {
            writeln!(f, "  MANQUANT {sha} : utilisé par {}", holders(by))?;
        }
        for d in &self.damaged {
            writeln!(
                f,
                "  ABÎMÉ {} ({}) : utilisé par {}",
                d.sha256,
                d.why,
                holders(&d.by)
            )?;
        }
        for o in &c.orphans {
            writeln!(
                f,
                "  orphelin {} ({}) : utilisé par rien",
                o.sha256,
                megabytes(o.size)
            )?;
        }
        writeln!(
            f,
            "  {} manquant(s), {} abîmé(s), {} orphelin(s) ({})",
            c.missing.len(),
            self.damaged.len(),
            c.orphans.len(),
            megabytes(bytes_of(&c.orphans))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(c: char) -> String {
        c.to_string().repeat(64)
    }

    fn stored(c: char, size: u64) -> Stored {
        Stored {
            sha256: sha(c),
            size,
        }
    }

    fn row(c: char, table: &'static str, id: i64, size: Option<u64>) -> Reference {
        Reference {
            sha256: sha(c),
            size,
            by: Holder::Row { table, id },
        }
    }

    #[test]
    fn missing_files_name_every_record_and_orphans_are_named_by_none() {
        let version = Reference {
            sha256: sha('a'),
            size: None,
            by: Holder::Version {
                id: 3,
                code: "AM".into(),
                number: 2,
                path: "m/lecon.md".into(),
            },
        };
        let refs = vec![
            version.clone(),
            row('a', "vae_documents", 7, Some(1)),
            row('b', "followup_attachments", 1, Some(4)),
        ];
        let c = compare(&refs, &[stored('b', 4), stored('c', 9)]);
        assert_eq!(
            c.missing,
            vec![(
                sha('a'),
                vec![
                    version.by,
                    Holder::Row {
                        table: "vae_documents",
                        id: 7
                    }
                ]
            )]
        );
        assert_eq!(c.orphans, vec![stored('c', 9)]);
        assert_eq!(compare(&[], &[]), Comparison::default());
    }

    #[test]
    fn a_size_other_than_the_noted_one_is_damage_once_per_file() {
        let refs = vec![
            row('a', "assignment_files", 1, Some(10)),
            row('a', "vae_documents", 2, Some(10)),
            row('b', "certifications", 3, None),
            row('c', "assignment_files", 4, Some(5)),
        ];
        let damaged = size_mismatches(&refs, &[stored('a', 8), stored('b', 1), stored('c', 5)]);
        assert_eq!(damaged.len(), 1);
        assert_eq!(damaged[0].sha256, sha('a'));
        assert_eq!(damaged[0].by.len(), 2);
        assert!(damaged[0].why.contains("8 octets au lieu des 10"));
    }

    #[test]
    fn a_migration_copies_what_is_absent_or_of_another_size() {
        let p = plan(
            &[stored('a', 1), stored('b', 2), stored('c', 3)],
            &[stored('a', 1), stored('b', 1), stored('d', 4)],
        );
        assert_eq!(p.skip, vec![stored('a', 1)]);
        assert_eq!(p.copy, vec![stored('b', 2), stored('c', 3)]);
        assert_eq!(bytes_of(&p.copy), 5);
    }

    #[test]
    fn the_destination_cannot_be_the_source() {
        let s3 = |bucket: &str, prefix: &str| S3Settings {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: Some("http://127.0.0.1:9014".into()),
            region: "us-east-1".into(),
            access_key: None,
            secret_key: None,
            path_style: true,
        };
        let local = FileStore::Local {
            programmes: "p".into(),
            uploads: "u".into(),
        };
        assert!(!same_store(&local, &s3("b", "x")));
        assert!(same_store(&FileStore::S3(s3("b", "x")), &s3("b", "x")));
        assert!(!same_store(&FileStore::S3(s3("b", "x")), &s3("b", "y")));
    }

    #[test]
    fn sizes_are_written_in_french_megabytes() {
        assert_eq!(megabytes(0), "0,0 Mo");
        assert_eq!(megabytes(1024 * 1024 * 3 / 2), "1,5 Mo");
        assert_eq!(megabytes(123 * 1024 * 1024), "123,0 Mo");
    }

    #[test]
    fn a_report_says_what_is_missing_damaged_and_orphaned() {
        let refs = vec![row('a', "vae_documents", 7, Some(1))];
        let listed = vec![stored('c', 9)];
        let report = ShelfReport {
            name: "uploads",
            label: "/data/uploads".into(),
            referenced: 1,
            comparison: compare(&refs, &listed),
            damaged: vec![Damage {
                sha256: sha('c'),
                why: "ne correspond pas à son empreinte".into(),
                by: vec![],
            }],
            listed,
        };
        assert!(!report.is_sound());
        let text = report.to_string();
        assert!(text.contains(&format!(
            "MANQUANT {} : utilisé par vae_documents n° 7",
            sha('a')
        )));
        assert!(text.contains(&format!("ABÎMÉ {}", sha('c'))));
        assert!(text.contains(&format!("orphelin {}", sha('c'))));
        assert!(text.contains("1 manquant(s), 1 abîmé(s), 1 orphelin(s)"));
    }
}
