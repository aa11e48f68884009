//! Pure account rules: roles, what a valid email, name or password is, login lockout.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Platform administrator: manages organisms.
    Admin,
    OrganismAdmin,
    Trainer,
    Trainee,
    Doctor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::OrganismAdmin,
        Role::Trainer,
        Role::Trainee,
        Role::Doctor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::OrganismAdmin => "organism_admin",
            Role::Trainer => "trainer",
            Role::Trainee => "trainee",
            Role::Doctor => "doctor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrateur de la plateforme",
            Role::OrganismAdmin => "Administrateur de l'organisme",
            Role::Trainer => "Formateur",
            Role::Trainee => "Assistant médical en formation",
            Role::Doctor => "Médecin employeur",
        }
    }

    /// Staff of a training organism.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::OrganismAdmin | Role::Trainer)
    }

    /// Whether an account of this role must belong to an organism.
    pub fn needs_organism(self) -> bool {
        self.is_staff()
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn validate_password(pw: &str) -> Result<(), &'static str> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err("Le mot de passe doit contenir au moins 10 caractères.");
    }
    if n > 128 {
        return Err("Le mot de passe ne doit pas dépasser 128 caractères.");
    }
    Ok(())
}

pub const LOCKOUT_WINDOW_SECS: i64 = 60;

/// Given an account's failed logins, newest first, when may it try again?
/// `None` means now: fewer than `max` failures in the last minute.
pub fn lockout_until(
    failures_newest_first: &[NaiveDateTime],
    now: NaiveDateTime,
    max: u32,
) -> Option<NaiveDateTime> {
    let window = Duration::seconds(LOCKOUT_WINDOW_SECS);
    let recent: Vec<_> = failures_newest_first
        .iter()
        .filter(|t| **t > now - window)
        .collect();
    let max = max as usize;
    if max == 0 || recent.len() < max {
        return None;
    }
    // Allowed again once the max-th newest failure leaves the window.
    Some(*recent[max - 1] + window)
}

/// What a person recognises a session by, from its browser's User-Agent: "Firefox sur
/// Windows", "Safari sur iPhone". Only a few families are told apart; the rest is named
/// plainly rather than guessed.
pub fn device_label(user_agent: &str, api: bool) -> String {
    if api {
        return "Client de l'API".into();
    }
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "Navigateur inconnu"
    };
    let system = if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "Mac"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "système inconnu"
    };
    format!("{browser} sur {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_named_by_browser_and_system() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(iphone, false), "Safari sur iPhone");
        let windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";
        assert_eq!(device_label(windows, false), "Edge sur Windows");
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_label(android, false), "Chrome sur Android");
        assert_eq!(
            device_label("curl/8.5.0", false),
            "Navigateur inconnu sur système inconnu"
        );
        assert_eq!(device_label(windows, true), "Client de l'API");
    }
    use chrono::NaiveDate;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("superuser"), None);
        assert!(Role::Trainer.is_staff() && !Role::Doctor.is_staff());
    }

    #[test]
    fn password_policy() {
        assert!(validate_password("court").is_err());
        assert!(validate_password("assez-long-!").is_ok());
    }

    fn t(s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
            + Duration::seconds(s as i64)
    }

    #[test]
    fn ten_failures_in_a_minute_lock_the_account_until_the_tenth_newest_expires() {
        let failures: Vec<_> = (0..10).rev().map(|i| t(i * 2)).collect(); // 0s..18s
        assert_eq!(lockout_until(&failures[1..], t(20), 10), None);
        assert_eq!(lockout_until(&failures, t(20), 10), Some(t(60)));
        // Once the oldest leaves the window the account may try again.
        assert_eq!(lockout_until(&failures, t(61), 10), None);
        // Old failures do not count.
        let old: Vec<_> = (0..20).map(|_| t(0)).collect();
        assert_eq!(lockout_until(&old, t(120), 10), None);
    }
}

/// The state of a single-use link (invitation or password reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Used,
    Expired,
}

pub fn link_state(
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> LinkState {
    match used_at {
        Some(_) => LinkState::Used,
        None if now >= expires_at => LinkState::Expired,
        None => LinkState::Valid,
    }
}

pub const INVITATION_DAYS: i64 = 7;
pub const RESET_HOURS: i64 = 24;
/// How long the link mailed to a new e-mail address confirms the change.
pub const EMAIL_CHANGE_HOURS: i64 = 48;
/// A doctor's link by mail opens his assistants' page for two weeks: the mail's life in an
/// inbox that is read late, no longer.
pub const DOCTOR_LINK_DAYS: i64 = 14;

/// Which roles a person may invite into an organism.
pub fn may_invite(inviter: Role, invitee: Role) -> bool {
    match inviter {
        Role::Admin => invitee.is_staff(),
        Role::OrganismAdmin => invitee != Role::Admin,
        _ => false,
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn links_are_single_use_and_expire() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let exp = t + Duration::days(INVITATION_DAYS);
        assert_eq!(link_state(exp, None, t), LinkState::Valid);
        assert_eq!(link_state(exp, Some(t), t), LinkState::Used);
        assert_eq!(link_state(exp, None, exp), LinkState::Expired);
        assert_eq!(
            link_state(exp, None, exp - Duration::seconds(1)),
            LinkState::Valid
        );
    }

    #[test]
    fn only_admins_invite() {
        assert!(may_invite(Role::OrganismAdmin, Role::Trainer));
        assert!(may_invite(Role::OrganismAdmin, Role::Doctor));
        assert!(!may_invite(Role::OrganismAdmin, Role::Admin));
        assert!(!may_invite(Role::Trainer, Role::Trainee));
        assert!(may_invite(Role::Admin, Role::OrganismAdmin));
        assert!(!may_invite(Role::Admin, Role::Trainee));
    }
}

/// A staff account as the inactivity rule reads it (issue #23).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSeen {
    pub id: i64,
    pub role: Role,
    pub organism_id: Option<i64>,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl StaffSeen {
    /// Its last sign-in, or its creation when it never signed in.
    pub fn last_seen(&self) -> NaiveDateTime {
        self.last_login_at.unwrap_or(self.created_at)
    }
}

impl Role {
    /// Whether an account of this role is disabled after months without a sign-in: staff
    /// hold access to other people's data; trainees and doctors have their own retention.
    pub fn disabled_when_inactive(self) -> bool {
        matches!(self, Role::Admin | Role::OrganismAdmin | Role::Trainer)
    }
}

/// Whether `months` calendar months have passed since `last_seen` at `now`. A month after
/// 31 January is the last day of February, as in `privacy::rules::Period::end`.
pub fn inactive_at(last_seen: NaiveDateTime, now: NaiveDateTime, months: u32) -> bool {
    months > 0
        && last_seen
            .checked_add_months(chrono::Months::new(months))
            .is_some_and(|end| end <= now)
}

/// Which of the active staff accounts to disable at `now`. The platform and each organism keep
/// one active administrator (the one seen last), or nobody could enable the others again.
pub fn staff_to_disable(active: &[StaffSeen], now: NaiveDateTime, months: u32) -> Vec<i64> {
    let mut out: Vec<i64> = active
        .iter()
        .filter(|s| s.role.disabled_when_inactive() && inactive_at(s.last_seen(), now, months))
        .map(|s| s.id)
        .collect();
    // `None`: the platform's administrators; `Some(id)`: an organism's.
    let mut groups: std::collections::BTreeMap<Option<i64>, Vec<&StaffSeen>> = Default::default();
    for s in active {
        match s.role {
            Role::Admin => groups.entry(None).or_default().push(s),
            Role::OrganismAdmin => groups
                .entry(Some(s.organism_id.unwrap_or(0)))
                .or_default()
                .push(s),
            _ => {}
        }
    }
    for admins in groups.values() {
        if admins.iter().all(|a| out.contains(&a.id)) {
            // The latest seen; on a tie, the oldest account.
            let spare = admins
                .iter()
                .max_by_key(|a| (a.last_seen(), std::cmp::Reverse(a.id)));
            if let Some(spare) = spare {
                out.retain(|id| *id != spare.id);
            }
        }
    }
    out
}

#[cfg(test)]
mod inactive_tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }

    fn seen(id: i64, role: Role, org: Option<i64>, login: Option<NaiveDateTime>) -> StaffSeen {
        StaffSeen {
            id,
            role,
            organism_id: org,
            last_login_at: login,
            created_at: at(2020, 1, 1),
        }
    }

    #[test]
    fn months_are_calendar_months_clamped_at_month_ends() {
        assert!(!inactive_at(at(2026, 1, 31), at(2026, 2, 27), 1));
        assert!(inactive_at(at(2026, 1, 31), at(2026, 2, 28), 1));
        assert!(inactive_at(at(2027, 1, 31), at(2028, 2, 29), 13));
        assert!(!inactive_at(at(2025, 3, 31), at(2026, 3, 30), 12));
        assert!(inactive_at(at(2025, 3, 31), at(2026, 3, 31), 12));
        assert!(!inactive_at(at(2020, 1, 1), at(2026, 1, 1), 0));
    }

    #[test]
    fn never_signed_in_counts_from_the_creation() {
        let mut s = seen(1, Role::Trainer, Some(1), None);
        s.created_at = at(2025, 6, 30);
        assert_eq!(s.last_seen(), at(2025, 6, 30));
        assert_eq!(
            staff_to_disable(&[s.clone()], at(2026, 6, 29), 12),
            Vec::<i64>::new()
        );
        assert_eq!(staff_to_disable(&[s], at(2026, 6, 30), 12), vec![1]);
    }

    #[test]
    fn only_staff_roles_are_disabled() {
        let now = at(2026, 6, 1);
        let old = Some(at(2021, 1, 1));
        let all = [
            seen(1, Role::Trainer, Some(1), old),
            seen(2, Role::Trainee, Some(1), old),
            seen(3, Role::Doctor, None, old),
            seen(4, Role::Trainer, Some(1), Some(at(2025, 7, 1))),
            seen(5, Role::OrganismAdmin, Some(1), Some(at(2026, 5, 1))),
            seen(6, Role::OrganismAdmin, Some(1), old),
        ];
        assert_eq!(staff_to_disable(&all, now, 12), vec![1, 6]);
        assert_eq!(staff_to_disable(&all, now, 3), vec![1, 4, 6]);
    }

    #[test]
    fn the_last_active_admins_stay() {
        let now = at(2026, 6, 1);
        let all = [
            seen(1, Role::Admin, None, Some(at(2020, 3, 1))),
            seen(2, Role::Admin, None, Some(at(2021, 3, 1))),
            seen(3, Role::OrganismAdmin, Some(7), None),
            seen(4, Role::OrganismAdmin, Some(7), None),
            seen(5, Role::OrganismAdmin, Some(8), Some(at(2022, 1, 1))),
            seen(6, Role::Trainer, Some(8), Some(at(2022, 1, 1))),
        ];
        // The platform keeps 2 (seen last), organism 7 keeps 3 (tie: the oldest account),
        // organism 8 keeps 5; a trainer is no administrator.
        assert_eq!(staff_to_disable(&all, now, 12), vec![1, 4, 6]);
        // Another active administrator, recent: the old ones all go.
        let mut more = all.to_vec();
        more.push(seen(9, Role::Admin, None, Some(at(2026, 5, 1))));
        more.push(seen(10, Role::OrganismAdmin, Some(8), Some(at(2026, 5, 1))));
        assert_eq!(staff_to_disable(&more, now, 12), vec![1, 2, 4, 5, 6]);
    }
}
