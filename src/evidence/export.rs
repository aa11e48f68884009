//! Produces a trainee's evidence pack for a period from the database: the certificate of
//! realisation (reused, or issued without mail), the closed sign-in sheets, the distance
//! activity, the evaluation attempts, the assignments handed in and corrected, the follow-up
//! exchanges, a LISEZMOI and the manifest;
//! then records the export in the audit log with the pack's SHA-256.

use chrono::{NaiveDate, NaiveDateTime};

use super::pack::{self, File};
use super::rules::Period;
use super::{activities, assignments, distance, evaluations, exchanges, sheet_pdf, store};
use crate::attestation::issue::{self, Issuer, Outcome, Signatory};
use crate::attestation::store as attestations;
use crate::audit::{self, Event};
use crate::base::format;
use crate::base::paris;
use crate::cohorts::store::{CohortRow, TraineeLine};
use crate::db::{self, DbConn};
use crate::web::{AppError, AppResult};

pub const ACTION: &str = "evidence.export";

/// Who asks for a pack, of whom, over what.
pub struct Ask<'a> {
    pub trainee: &'a TraineeLine,
    /// The cohort the certificate is issued in (the trainee's current one on the web).
    pub cohort: Option<&'a CohortRow>,
    pub period: Period,
    pub actor: Option<i64>,
    /// Set when the asker may issue a missing certificate (an organism administrator, or
    /// the command line in the name of the organism's first administrator).
    pub signatory: Option<Signatory>,
    pub issuer: &'a Issuer<'a>,
    pub today: NaiveDate,
    pub now: NaiveDateTime,
}

pub struct Pack {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// Every file, the manifest excepted.
    pub paths: Vec<String>,
    pub certificate: Option<String>,
}

fn internal(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context(format!("evidence {what}")))
}

/// The certificate's PDF and number, or why the pack has none.
fn certificate(
    conn: &mut DbConn,
    ask: &Ask<'_>,
    done_secs: i64,
) -> AppResult<Result<(Vec<u8>, String), String>> {
    let Some(cohort) = ask.cohort else {
        return Ok(Err(
            "Le stagiaire n'est inscrit dans aucune promotion : aucun certificat de réalisation \
             ne peut être délivré."
                .into(),
        ));
    };
    if let Some((id, number, erased)) =
        store::realisation_of(conn, ask.trainee.id, cohort.id, ask.period)?
    {
        // Its PDF went with her name: the pack says so rather than holding an empty file.
        if erased {
            return Ok(Err(crate::attestation::rules::ERASED.into()));
        }
        return Ok(Ok((attestations::pdf(conn, id)?, number)));
    }
    if done_secs == 0 {
        return Ok(Err(
            "Aucune heure réalisée sur la période : aucun certificat de réalisation n'est \
             délivré (il attesterait 0 h)."
                .into(),
        ));
    }
    let Some(by) = &ask.signatory else {
        return Ok(Err(
            "Aucun certificat de réalisation n'a été délivré pour exactement cette période. \
             Seul un administrateur de l'organisme peut le délivrer : un export fait par lui \
             le délivre et l'inclut."
                .into(),
        ));
    };
    let request = issue::Request::Realisation {
        from: ask.period.from,
        to: ask.period.to,
        notify: false,
    };
    let issued = db::transaction(conn, |c| {
        let state = issue::state_of(c, ask.issuer.editions, ask.trainee, ask.today)?
            .filter(|s| s.cohort.id == cohort.id)
            .ok_or_else(|| {
                AppError::Conflict(
                    "Le stagiaire n'est plus inscrit dans cette promotion : aucun certificat de \
                     réalisation ne peut y être délivré."
                        .into(),
                )
            })?;
        issue::issue_in(c, ask.issuer, by, ask.trainee, &state, &request, ask.today)
    });
    match issued {
        Ok(Outcome::Issued(id) | Outcome::AlreadyIssued(id)) => {
            let row = attestations::get(conn, id)?.ok_or(AppError::NotFound)?;
            Ok(Ok((attestations::pdf(conn, id)?, row.number)))
        }
        // The rules refuse (period in the future, identity of the organism missing…): say why.
        Err(AppError::Conflict(m)) => Ok(Err(m)),
        Err(e @ AppError::Invalid(_)) => Ok(Err(e.public_message())),
        Err(e) => Err(e),
    }
}

pub fn build(conn: &mut DbConn, ask: &Ask<'_>) -> AppResult<Pack> {
    let t = ask.trainee;
    let p = ask.period;
    let organism: String = {
        use crate::db::schema::organisms;
        use diesel::prelude::*;
        organisms::table
            .find(t.organism_id)
            .select(organisms::name)
            .first(conn)?
    };
    let (sheets, open_sheets) = sheets_of(conn, t.id, p)?;
    let rows = distance::day_rows(
        &store::activity(conn, t.id, p)?,
        &store::lessons_studied(conn, t.id, p)?,
        &store::lessons_completed(conn, t.id, p)?,
    );
    let attempts = store::attempts(conn, t.id, p)?;
    let work = crate::curriculum::assignments::store::handed_in(conn, t.id, store::utc_window(p))?;
    let per_activity = crate::tracking::store::activity_lines(
        conn,
        &[crate::tracking::store::Whose {
            trainee_id: t.id,
            window: Some(store::utc_window(p)),
        }],
    )?;
    let talks = exchanges::exchanges_of(conn, t.id, p.from, p.to)?;
    // The certificate's own formula of the period's hours, for the LISEZMOI too.
    let period_hours = attestations::hours_in_period(conn, t.id, p.from, p.to)?;
    let distance_secs: i64 = period_hours.values().map(|h| h.0).sum();
    let presentiel_secs: i64 = period_hours.values().map(|h| h.1).sum();
    let corrections: i64 = period_hours.values().map(|h| h.2).sum();
    let done_secs = distance_secs + presentiel_secs + corrections;
    let cert = certificate(conn, ask, done_secs)?;

    let mut files = Vec::new();
    if let Ok((pdf, _)) = &cert {
        files.push(File::new("certificat-de-realisation.pdf", pdf.clone()));
    }
    for doc in &sheets {
        let s = &doc.session;
        files.push(File::new(
            super::rules::sheet_path(s.day, s.starts_at, &s.module_code),
            sheet_pdf::render(doc).map_err(|e| internal("sheet PDF", e))?,
        ));
    }
    files.push(File::new(
        "distanciel/activite.csv",
        distance::csv(&rows).map_err(|e| internal("CSV", e))?,
    ));
    files.push(File::new(
        "distanciel/activite.pdf",
        distance::pdf(&organism, &t.name, p, &rows).map_err(|e| internal("PDF", e))?,
    ));
    files.push(File::new(
        activities::PATH,
        activities::csv(ask.issuer.editions, &per_activity).map_err(|e| internal("CSV", e))?,
    ));
    files.push(File::new(
        "evaluations.csv",
        evaluations::csv(&attempts).map_err(|e| internal("CSV", e))?,
    ));
    files.push(File::new(
        "devoirs/devoirs.csv",
        assignments::csv(&work).map_err(|e| internal("CSV", e))?,
    ));
    files.push(File::new(
        "devoirs/devoirs.txt",
        assignments::text(&t.name, p, &work),
    ));
    files.push(File::new(
        "suivi/echanges.csv",
        exchanges::csv(&talks).map_err(|e| internal("CSV", e))?,
    ));
    files.push(File::new(
        "suivi/echanges.txt",
        exchanges::text(&t.name, p, &talks),
    ));
    pack::unique_paths(&mut files);
    let facts = Facts {
        organism: &organism,
        trainee: &t.name,
        cohort: ask.cohort.map(|c| c.name.as_str()),
        period: p,
        now: ask.now,
        distance_secs,
        presentiel_secs,
        corrections,
        sheets: sheets.len(),
        open_sheets,
        attempts: attempts.len(),
        assignments: work.len(),
        exchanges: talks.len(),
        activities: activities::summary(&per_activity),
        certificate: cert.as_ref().map(|c| c.1.as_str()).map_err(String::as_str),
        paths: files.iter().map(|f| f.path.as_str()).collect(),
    };
    let readme = readme(&facts);
    files.push(File::new("LISEZMOI.txt", readme));
    seal(conn, ask, files, cert.ok().map(|c| c.1))
}

/// Closed sign-in sheets of the period (proof), and how many are still open (only counted).
fn sheets_of(
    conn: &mut DbConn,
    trainee: i64,
    p: Period,
) -> AppResult<(Vec<store::SheetDoc>, usize)> {
    let mut sheets = Vec::new();
    let mut open_sheets = 0;
    for (session_id, closed) in store::sheets_of_trainee(conn, trainee, p)? {
        if !closed {
            open_sheets += 1;
            continue;
        }
        let Some((session, cohort)) = store::session_and_cohort(conn, session_id)? else {
            continue;
        };
        sheets.push(store::sheet_doc(conn, session, &cohort)?);
    }
    Ok((sheets, open_sheets))
}

/// Zips the files and records that the pack was made (who, when, its SHA-256).
fn seal(
    conn: &mut DbConn,
    ask: &Ask<'_>,
    files: Vec<File>,
    certificate: Option<String>,
) -> AppResult<Pack> {
    let (t, p) = (ask.trainee, ask.period);
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let local_now = paris::to_paris(ask.now).naive_local();
    let bytes = pack::zip(files, local_now).map_err(|e| internal("ZIP", e))?;
    let sha256 = crate::base::digest::sha256_hex(&bytes);
    db::transaction(conn, |c| {
        audit::record(
            c,
            Event::new(ACTION, "trainee", Some(t.id))
                .by(ask.actor)
                .in_organism(Some(t.organism_id))
                .detail(serde_json::json!({
                    "period": [p.from, p.to],
                    "files": paths.len() + 1,
                    "certificate": certificate,
                    "sha256": sha256,
                })),
        )
    })?;
    Ok(Pack {
        file_name: super::rules::pack_file_name(&t.name, t.id, p),
        bytes,
        sha256,
        paths,
        certificate,
    })
}

/// What the LISEZMOI states.
pub struct Facts<'a> {
    pub organism: &'a str,
    pub trainee: &'a str,
    pub cohort: Option<&'a str>,
    pub period: Period,
    pub now: NaiveDateTime,
    pub distance_secs: i64,
    pub presentiel_secs: i64,
    pub corrections: i64,
    pub sheets: usize,
    pub open_sheets: usize,
    pub attempts: usize,
    /// Versions of assignments handed in.
    pub assignments: usize,
    pub exchanges: usize,
    /// The line on time and results per activity.
    pub activities: String,
    /// The certificate's number, or why there is none.
    pub certificate: Result<&'a str, &'a str>,
    pub paths: Vec<&'a str>,
}

fn describe(path: &str) -> &'static str {
    match path {
        "certificat-de-realisation.pdf" => {
            "certificat de réalisation de la période, numéroté, signé et vérifiable par son code"
        }
        "distanciel/activite.csv" => {
            "activité à distance par jour et par module (tableur, séparateur « ; »)"
        }
        "distanciel/activite.pdf" => "la même activité à lire, avec les totaux par module",
        activities::PATH => {
            "par activité travaillée : module, séquence, type, durée estimée, temps passé sur \
             la période et depuis le début, tentatives de quiz et scores, dernier devoir et sa \
             note"
        }
        "evaluations.csv" => "tentatives d'évaluation : module, n°, dates, score, résultat",
        "devoirs/devoirs.csv" => {
            "devoirs rendus : version, date, fichiers avec leur SHA-256, décision, note, \
             correcteur, appréciation"
        }
        "devoirs/devoirs.txt" => "les mêmes devoirs à lire, avec les réponses écrites",
        "suivi/echanges.csv" => {
            "échanges datés entre formateurs et stagiaire, pièces jointes avec leur SHA-256"
        }
        "suivi/echanges.txt" => "les mêmes échanges à lire, par fil de discussion",
        p if p.starts_with("emargements/") => {
            "feuille d'émargement close et signée d'une demi-journée en présentiel"
        }
        _ => "",
    }
}

/// The French readme: who, when, what each file is, how hours are counted, how to verify.
pub fn readme(f: &Facts<'_>) -> String {
    let h = |s: i64| format::minutes(s / 60);
    let mut out = String::new();
    out.push_str("DOSSIER DE PREUVES DE FORMATION\n\n");
    out.push_str(&format!("Organisme de formation : {}\n", f.organism));
    out.push_str(&format!("Stagiaire : {}\n", f.trainee));
    if let Some(c) = f.cohort {
        out.push_str(&format!("Promotion : {c}\n"));
    }
    out.push_str(&format!(
        "Période : du {} au {}\nProduit le : {}\n\n",
        format::date(f.period.from),
        format::date(f.period.to),
        format::datetime(f.now)
    ));
    let done = f.distance_secs + f.presentiel_secs + f.corrections;
    let quiet = f.attempts == 0 && f.assignments == 0 && f.exchanges == 0;
    if done == 0 && quiet && f.open_sheets == 0 {
        out.push_str(
            "Aucune activité sur la période : ni temps à distance, ni présence émargée, ni \
             évaluation, ni devoir, ni échange. Les fichiers CSV ne contiennent que leurs \
             en-têtes.\n\n",
        );
    }
    out.push_str(&format!(
        "Heures réalisées sur la période : {} (à distance {}, en présentiel {}",
        h(done),
        h(f.distance_secs),
        h(f.presentiel_secs)
    ));
    if f.corrections != 0 {
        out.push_str(&format!(", régularisations {}", h(f.corrections)));
    }
    out.push_str(").\n");
    out.push_str(&format!(
        "Demi-journées émargées : {} ; tentatives d'évaluation : {} ; versions de devoirs \
         rendues : {} ; messages de suivi : {}.\n",
        f.sheets, f.attempts, f.assignments, f.exchanges
    ));
    out.push_str(&f.activities);
    if f.open_sheets > 0 {
        out.push_str(&format!(
            "{} feuille(s) d'émargement de la période ne sont pas encore closes : elles ne sont \
             ni jointes ni comptées.\n",
            f.open_sheets
        ));
    }
    match f.certificate {
        Ok(n) => out.push_str(&format!("Certificat de réalisation : n° {n}.\n")),
        Err(why) => out.push_str(&format!("Certificat de réalisation : {why}\n")),
    }
    out.push_str("\nFICHIERS\n");
    for p in &f.paths {
        out.push_str(&format!("- {p} : {}\n", describe(p)));
    }
    out.push_str("- LISEZMOI.txt : ce fichier\n");
    out.push_str(&format!(
        "- {} : empreinte SHA-256 de chacun des fichiers ci-dessus\n",
        pack::MANIFEST
    ));
    out.push_str(
        "\nCOMMENT LES HEURES SONT COMPTÉES\n\
         - À distance : le serveur crédite le temps réellement passé sur les leçons, d'après \
         les signaux d'activité de la page (jamais plus que le temps écoulé, rien après un long \
         silence, un plafond par jour). Les jours sont ceux de l'heure de Paris.\n\
         - En présentiel : les minutes de chaque demi-journée dont la feuille d'émargement est \
         close et signée par le formateur, diminuées des retards et départs anticipés notés.\n\
         - Par activité (distanciel/activites.csv) : le temps à distance est crédité à \
         l'activité ouverte. « Temps passé sur la période » additionne les pages ouvertes \
         pendant la période (une page ouverte le dernier soir compte en entier) ; « depuis le \
         début » est le total courant de l'activité, toutes périodes confondues. Le temps \
         passé sur l'évaluation finale d'un module n'est crédité à aucune activité : la somme par activité peut être inférieure aux heures à distance.\n\
         - Régularisations : corrections motivées et enregistrées par l'organisme.\n\
         Ces chiffres sont ceux du tableau de bord et du certificat de réalisation.\n",
    );
    out.push_str(&format!(
        "\nVÉRIFIER LE DOSSIER\n\
         Décompressez l'archive, placez-vous dans son dossier et lancez :\n\
         \x20   sha256sum -c {}\n\
         Chaque fichier doit être déclaré « OK » ; un fichier modifié est signalé.\n\
         Le certificat se vérifie aussi en ligne avec le code imprimé dessous.\n",
        pack::MANIFEST
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(distance: i64) -> Facts<'static> {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        Facts {
            organism: "Institut Santé Formation",
            trainee: "Julie Moreau",
            cohort: Some("Promotion 2026"),
            period: Period {
                from: d(9, 1),
                to: d(11, 30),
            },
            now: d(12, 2).and_hms_opt(15, 0, 0).unwrap(),
            distance_secs: distance,
            presentiel_secs: 0,
            corrections: 0,
            sheets: 0,
            open_sheets: 0,
            attempts: 0,
            assignments: 0,
            exchanges: 0,
            activities: String::new(),
            certificate: Err("Aucune heure réalisée sur la période."),
            paths: vec!["distanciel/activite.csv"],
        }
    }

    #[test]
    fn the_readme_says_who_what_and_how_to_verify() {
        let r = readme(&facts(5400));
        assert!(r.contains("Stagiaire : Julie Moreau"));
        assert!(r.contains("Période : du 01/09/2026 au 30/11/2026"));
        assert!(r.contains("Produit le : 02/12/2026 à 16 h 00"));
        assert!(r.contains(
            "Heures réalisées sur la période : 1 h 30 (à distance 1 h 30, en présentiel 0 h)."
        ));
        assert!(r.contains("- distanciel/activite.csv : activité à distance"));
        assert!(r.contains("sha256sum -c SHA256SUMS"));
        assert!(!r.contains("Aucune activité"));
        let empty = readme(&facts(0));
        assert!(empty.contains("Aucune activité sur la période"));
        assert!(empty.contains("Certificat de réalisation : Aucune heure réalisée"));
    }
}
