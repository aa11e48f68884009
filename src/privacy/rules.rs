//! The retention table: each kind of personal data, how long it is kept, from when, why, and
//! where the code enforces it. Pure: the staff page and the README show it; the daily erasure
//! (`erasure/`) applies it.

use chrono::{Duration, Months, NaiveDateTime};
use serde::Serialize;

/// The configurable lengths (from `config.retention`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Years the proofs of a training are kept after its end.
    pub proof_years: u32,
    /// Months without a sign-in after which a staff account is to be disabled.
    pub staff_inactive_months: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            proof_years: 6,
            staff_inactive_months: 12,
        }
    }
}

/// The processing activities of the register (art. 30 GDPR), one section each in
/// `docs/registre-des-traitements.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Activity {
    Training,
    Attendance,
    Vae,
    Documents,
    Followup,
    Authoring,
    Accounts,
    Mail,
    Packages,
    Organisation,
}

impl Activity {
    pub const ALL: [Activity; 10] = [
        Activity::Training,
        Activity::Attendance,
        Activity::Vae,
        Activity::Documents,
        Activity::Followup,
        Activity::Authoring,
        Activity::Accounts,
        Activity::Mail,
        Activity::Packages,
        Activity::Organisation,
    ];

    /// Its title, as the register's section heading spells it.
    pub fn title(self) -> &'static str {
        match self {
            Activity::Training => "Suivi de la formation des stagiaires",
            Activity::Attendance => "Assiduité et heures, preuves pour les financeurs",
            Activity::Vae => "Dossiers de VAE",
            Activity::Documents => "Attestations et certification CQP, copies pour la CPAM",
            Activity::Followup => "Échanges de suivi et d'assistance",
            Activity::Authoring => "Rédaction des programmes",
            Activity::Accounts => "Comptes, accès et journaux de sécurité",
            Activity::Mail => "Courriels envoyés",
            Activity::Packages => "Traces des modules e-learning (SCORM, cmi5)",
            Activity::Organisation => "Organisation de la formation",
        }
    }
}

/// The kinds of data with one retention rule each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Keep {
    /// Proofs of a training: attestations, certificates, sign-in sheets, distance activity.
    Proof,
    Vae,
    PendingVae,
    EmailChange,
    Audit,
    Account,
    StaffInactive,
    LoginSession,
    PackageLaunch,
    Mail,
    Authoring,
    Relation,
    /// A person's data as a ZIP, for her (right of access): `privacy::export`.
    DataExport,
}

/// How long, as the code knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// `Settings::proof_years`.
    ProofYears,
    /// `Settings::staff_inactive_months`.
    StaffInactiveMonths,
    Hours(i64),
    Days(i64),
    Months(u32),
    /// As long as the relation with the organism lasts: no length of its own.
    Relation,
}

impl Period {
    /// In French, with the configured lengths.
    pub fn label(self, s: &Settings) -> String {
        let plural =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n > 1 { many } else { one });
        match self {
            Period::ProofYears => plural(i64::from(s.proof_years), "an", "ans"),
            Period::StaffInactiveMonths => format!("{} mois", s.staff_inactive_months),
            Period::Hours(h) => plural(h, "heure", "heures"),
            Period::Days(d) => plural(d, "jour", "jours"),
            Period::Months(m) => format!("{m} mois"),
            Period::Relation => "pendant la relation avec l'organisme".into(),
        }
    }

    /// When data kept from `from` has served its time (`None`: no length of its own).
    pub fn end(self, s: &Settings, from: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Period::ProofYears => from.checked_add_months(Months::new(s.proof_years * 12)),
            Period::StaffInactiveMonths => {
                from.checked_add_months(Months::new(s.staff_inactive_months))
            }
            Period::Hours(h) => from.checked_add_signed(Duration::hours(h)),
            Period::Days(d) => from.checked_add_signed(Duration::days(d)),
            Period::Months(m) => from.checked_add_months(Months::new(m)),
            Period::Relation => None,
        }
    }
}

/// One row of the retention table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub keep: Keep,
    /// What data, in French.
    pub data: &'static str,
    pub period: Period,
    /// From when the period runs.
    pub from: &'static str,
    /// Why (the legal basis or the need).
    pub why: &'static str,
    /// Where the code enforces it; `None`: not yet enforced.
    pub enforced_by: Option<&'static str>,
}

impl Rule {
    /// When data of this kind whose period started at `from` may be erased (`None`: never by
    /// time alone).
    pub fn erase_after(&self, s: &Settings, from: NaiveDateTime) -> Option<NaiveDateTime> {
        self.period.end(s, from)
    }

    /// The earliest start of a period not yet over at `now`: data whose period started before
    /// it is due (`None`: never by time alone).
    pub fn kept_since(&self, s: &Settings, now: NaiveDateTime) -> Option<NaiveDateTime> {
        let length = self.period.end(s, now)? - now;
        now.checked_sub_signed(length)
    }
}

/// The retention table, in the order shown.
pub const RULES: &[Rule] = &[
    Rule {
        keep: Keep::Proof,
        data: "Preuves de la formation : attestations et certificats de réalisation, feuilles d'émargement, temps et traces de l'activité à distance, évaluations, devoirs, échanges de suivi, résultats de certification",
        period: Period::ProofYears,
        from: "la fin de la formation (sortie de la promotion) ; durée réglable par organisme",
        why: "obligation légale et contrôles : financeurs (OPCO), services de contrôle de la formation professionnelle, audits Qualiopi (Code du travail L6353-1, D6313-3-1)",
        enforced_by: Some(
            "privacy::erasure::job, chaque nuit à partir de 3 h (tâches planifiées), sauf gel",
        ),
    },
    Rule {
        keep: Keep::Vae,
        data: "Dossiers de VAE : demande, expériences, pièces jointes, décisions du jury",
        period: Period::ProofYears,
        from: "la dernière décision du dossier",
        why: "preuve de la recevabilité et de la validation, blocs acquis opposables",
        enforced_by: Some(
            "privacy::erasure::job, chaque nuit à partir de 3 h (tâches planifiées), sauf gel",
        ),
    },
    Rule {
        keep: Keep::PendingVae,
        data: "Demandes de VAE non confirmées et leurs pièces",
        period: Period::Hours(crate::vae::rules::CONFIRM_HOURS),
        from: "l'envoi du formulaire",
        why: "la personne n'a pas confirmé son adresse : rien ne justifie de garder sa demande",
        enforced_by: Some(
            "vae::pending::purge, dans les tâches planifiées (jobs.rs), chaque minute",
        ),
    },
    Rule {
        keep: Keep::EmailChange,
        data: "Changements d'adresse e-mail non confirmés (nouvelle adresse, empreinte du lien)",
        period: Period::Hours(crate::accounts::rules::EMAIL_CHANGE_HOURS),
        from: "la demande",
        why: "le lien envoyé à la nouvelle adresse n'a pas servi : la demande n'a plus d'objet",
        enforced_by: Some(
            "accounts::email_change::purge, dans les tâches planifiées (jobs.rs), chaque minute",
        ),
    },
    Rule {
        keep: Keep::Audit,
        data: "Journal d'audit (qui a fait quoi, quand, depuis quelle adresse)",
        period: Period::ProofYears,
        from: "la fin de la conservation des données dont il prouve les changements",
        why: "intérêt légitime : prouver l'intégrité des preuves de formation aussi longtemps qu'elles sont gardées",
        enforced_by: Some(
            "privacy::erasure::store::erase_person : nom et adresse de la personne remplacés dans le journal à son effacement",
        ),
    },
    Rule {
        keep: Keep::Account,
        data: "Comptes des stagiaires et des médecins employeurs, invitations, liens médecin, jetons d'intégration",
        period: Period::ProofYears,
        from: "la fin de la dernière formation liée au compte",
        why: "exécution de la formation, puis nom de la personne sur les preuves gardées",
        enforced_by: Some(
            "privacy::erasure::job, chaque nuit : le compte est rendu anonyme avec les preuves (médecins : sans connexion ni stagiaire restant pendant la durée)",
        ),
    },
    Rule {
        keep: Keep::StaffInactive,
        data: "Comptes du personnel (administrateurs, formateurs) restés sans connexion : à désactiver",
        period: Period::StaffInactiveMonths,
        from: "la dernière connexion",
        why: "sécurité (art. 32 RGPD) : un compte inutilisé est une porte ouverte",
        enforced_by: Some(
            "accounts::store::disable_inactive_staff, dans les tâches planifiées (jobs.rs), chaque minute",
        ),
    },
    Rule {
        keep: Keep::LoginSession,
        data: "Sessions de connexion (appareil, adresse IP)",
        period: Period::Days(1),
        from: "l'expiration de la session",
        why: "sécurité : la liste des sessions ouvertes de chacun",
        enforced_by: Some(
            "accounts::sessions::purge_expired, dans les tâches planifiées (jobs.rs), chaque minute",
        ),
    },
    Rule {
        keep: Keep::PackageLaunch,
        data: "Lancements de modules e-learning (secret de lancement)",
        period: Period::Hours(crate::packages::rules::LAUNCH_HOURS),
        from: "le lancement",
        why: "le secret ne sert qu'à ouvrir le module lancé",
        enforced_by: Some(
            "scorm::store::forget_expired, dans les tâches planifiées (jobs.rs), chaque minute",
        ),
    },
    Rule {
        keep: Keep::Mail,
        data: "Courriels envoyés (destinataires, texte, pièces jointes), adresses en échec, récapitulatifs envoyés",
        period: Period::Months(12),
        from: "l'envoi",
        why: "intérêt légitime : prouver qu'une information a été envoyée et traiter les échecs",
        enforced_by: Some(
            "privacy::erasure::expired::purge_mails, chaque nuit (tâches planifiées)",
        ),
    },
    Rule {
        keep: Keep::Authoring,
        data: "Auteurs des versions et des brouillons de programmes",
        period: Period::Relation,
        from: "la publication",
        why: "une version publiée ne change jamais : elle est le contenu des preuves de formation",
        enforced_by: None,
    },
    Rule {
        keep: Keep::Relation,
        data: "Contacts des organismes et des employeurs, formateurs des promotions et des séances, fermetures",
        period: Period::Relation,
        from: "le début de la relation",
        why: "exécution du contrat entre l'organisme, l'employeur et la plateforme",
        enforced_by: None,
    },
    Rule {
        keep: Keep::DataExport,
        data: "Archives des données d'une personne (droit d'accès et à la portabilité) et leur demande",
        period: Period::Days(super::export_rules::EXPIRY_DAYS),
        from: "la préparation de l'archive",
        why: "remettre ses données à la personne qui les demande, le temps de les télécharger ; la demande reste prouvée par le journal d'audit",
        enforced_by: Some(
            "privacy::export::forget_expired, dans les tâches planifiées (jobs.rs), chaque minute",
        ),
    },
];

/// The rule of a kind of data.
pub fn rule(keep: Keep) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.keep == keep)
}

/// One row as shown, with the configured lengths.
#[derive(Debug, Serialize)]
pub struct Shown {
    pub data: &'static str,
    pub period: String,
    pub from: &'static str,
    pub why: &'static str,
    pub enforced_by: Option<&'static str>,
}

pub fn shown(s: &Settings) -> Vec<Shown> {
    RULES
        .iter()
        .map(|r| Shown {
            data: r.data,
            period: r.period.label(s),
            from: r.from,
            why: r.why,
            enforced_by: r.enforced_by,
        })
        .collect()
}

/// The table in Markdown, as the README copies it (with the default lengths).
pub fn markdown(s: &Settings) -> String {
    let mut out = String::from(
        "| données | durée | à compter de | pourquoi | appliqué par |\n|---|---|---|---|---|\n",
    );
    for r in shown(s) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.data,
            r.period,
            r.from,
            r.why,
            r.enforced_by.unwrap_or("pas encore appliqué")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap_or_default()
    }

    #[test]
    fn every_kind_has_one_rule() {
        for (i, a) in RULES.iter().enumerate() {
            assert!(
                RULES[i + 1..].iter().all(|b| b.keep != a.keep),
                "{:?}",
                a.keep
            );
        }
    }

    #[test]
    fn lengths_follow_the_settings() {
        let s = Settings {
            proof_years: 8,
            staff_inactive_months: 3,
        };
        let proof = rule(Keep::Proof).map(|r| r.erase_after(&s, at(2026, 2, 28)));
        assert_eq!(proof, Some(Some(at(2034, 2, 28))));
        let staff = rule(Keep::StaffInactive).map(|r| r.erase_after(&s, at(2026, 1, 31)));
        assert_eq!(staff, Some(Some(at(2026, 4, 30))));
        let pending = rule(Keep::PendingVae).map(|r| r.erase_after(&s, at(2026, 1, 1)));
        assert_eq!(pending, Some(Some(at(2026, 1, 3))));
        assert_eq!(Period::Relation.end(&s, at(2026, 1, 1)), None);
        assert_eq!(Period::ProofYears.label(&s), "8 ans");
        assert_eq!(Period::Days(1).label(&s), "1 jour");
    }
}
