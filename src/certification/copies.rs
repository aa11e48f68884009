//! What a doctor received about his assistants, as his pages list it: the documents to
//! forward to the CPAM (the FAE attestation, the CQP certificate) apart from those sent for
//! information (the CQP's end-of-training attestation, certificates of attendance).

use chrono::NaiveDate;
use diesel::QueryResult;
use serde::Serialize;

use super::cqp;
use crate::attestation::rules::Kind;
use crate::attestation::store;
use crate::base::paris::paris_date;
use crate::cohorts::store::TraineeLine;
use crate::db::DbConn;

#[derive(Clone, Debug, Serialize)]
pub struct Copy {
    /// `attestation` or `cqp`: which route marks it forwarded.
    pub kind: &'static str,
    pub id: i64,
    pub trainee_id: i64,
    pub trainee: String,
    pub title: String,
    pub number: String,
    pub issued_on: NaiveDate,
    /// Whether this one goes to the CPAM; the others are for information.
    pub for_cpam: bool,
    pub forwarded_on: Option<NaiveDate>,
}

/// The copies his assistants' organisms sent him, the newest first; revoked attestations and
/// a CQP whose certificate is not yet uploaded are left out.
pub fn for_doctor(conn: &mut DbConn, trainees: &[TraineeLine]) -> QueryResult<Vec<Copy>> {
    let ids: Vec<i64> = trainees.iter().map(|t| t.id).collect();
    let name = |id: i64| {
        trainees
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<Copy> = store::of_trainees(conn, &ids)?
        .into_iter()
        .filter(|a| a.revoked_at.is_none())
        .map(|a| {
            let kind = Kind::parse(&a.kind);
            Copy {
                kind: "attestation",
                id: a.id,
                trainee_id: a.trainee_id,
                trainee: name(a.trainee_id),
                title: kind.map_or("Attestation", Kind::title).to_string(),
                number: a.number,
                issued_on: paris_date(a.issued_at),
                for_cpam: kind.is_some_and(Kind::for_cpam),
                forwarded_on: a.cpam_forwarded_on,
            }
        })
        .collect();
    for c in cqp::of_trainees(conn, &ids)? {
        if let Some(at) = c.certificate_at {
            out.push(Copy {
                kind: "cqp",
                id: c.id,
                trainee_id: c.trainee_id,
                trainee: name(c.trainee_id),
                title: "CQP Assistant médical (certificat de la branche)".into(),
                number: c.certificate_number,
                issued_on: paris_date(at),
                for_cpam: true,
                forwarded_on: c.cpam_forwarded_on,
            });
        }
    }
    out.sort_by(|a, b| b.issued_on.cmp(&a.issued_on).then(b.id.cmp(&a.id)));
    Ok(out)
}
