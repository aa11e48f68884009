//! Whether an employee's documents can reach her employer's doctors, and if not, why: staff
//! see the reason as "non envoyé", and the trainee is never told her doctor has a copy.

/// One of the employer's doctors, as far as mail is concerned.
pub struct Candidate<'a> {
    pub disabled: bool,
    /// The server's reason, when his address bounces.
    pub bouncing: Option<&'a str>,
}

/// The reason no doctor can be mailed, or `None` when one at least can. `employer` is
/// whether the trainee has one recorded.
pub fn not_sent_reason(employer: bool, doctors: &[Candidate<'_>]) -> Option<String> {
    if !employer {
        return Some("aucun employeur enregistré pour cette stagiaire".into());
    }
    if doctors.is_empty() {
        return Some("aucun médecin rattaché à son employeur".into());
    }
    if doctors.iter().any(|d| !d.disabled && d.bouncing.is_none()) {
        return None;
    }
    let bounces: Vec<&str> = doctors
        .iter()
        .filter(|d| !d.disabled)
        .filter_map(|d| d.bouncing)
        .collect();
    Some(match bounces.first() {
        None => "compte du médecin employeur désactivé".into(),
        Some(reason) => format!("adresse du médecin refusée par son serveur ({reason})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Candidate<'static> = Candidate {
        disabled: false,
        bouncing: None,
    };
    const OFF: Candidate<'static> = Candidate {
        disabled: true,
        bouncing: None,
    };

    #[test]
    fn each_reason_is_named() {
        assert_eq!(
            not_sent_reason(false, &[]).as_deref(),
            Some("aucun employeur enregistré pour cette stagiaire")
        );
        assert_eq!(
            not_sent_reason(true, &[]).as_deref(),
            Some("aucun médecin rattaché à son employeur")
        );
        assert_eq!(
            not_sent_reason(true, &[OFF]).as_deref(),
            Some("compte du médecin employeur désactivé")
        );
        let bounce = Candidate {
            disabled: false,
            bouncing: Some("550 5.1.1 user unknown"),
        };
        assert_eq!(
            not_sent_reason(true, &[OFF, bounce]).as_deref(),
            Some("adresse du médecin refusée par son serveur (550 5.1.1 user unknown)")
        );
    }

    #[test]
    fn one_reachable_doctor_is_enough() {
        let bounce = Candidate {
            disabled: false,
            bouncing: Some("550"),
        };
        assert_eq!(not_sent_reason(true, &[OFF, bounce, OK]), None);
        assert_eq!(not_sent_reason(true, &[OK]), None);
    }
}
