//! Rules of the follow-up threads, without I/O: kinds of threads and messages, who may post
//! what, what a message must hold, how waiting time reads, which answers a digest carries.

use chrono::{Duration, NaiveDateTime};

pub const MAX_BODY: usize = 5000;
pub const MAX_SUBJECT: usize = 200;

/// A thread is the pedagogical follow-up of one module, or a request for technical help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadKind {
    Pedagogique,
    Assistance,
}

impl ThreadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadKind::Pedagogique => "pedagogique",
            ThreadKind::Assistance => "assistance",
        }
    }

    pub fn parse(s: &str) -> Option<ThreadKind> {
        match s {
            "pedagogique" => Some(ThreadKind::Pedagogique),
            "assistance" => Some(ThreadKind::Assistance),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ThreadKind::Pedagogique => "Suivi pédagogique",
            ThreadKind::Assistance => "Assistance technique",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A trainee's question.
    Question,
    /// A short written work handed in by the trainee.
    Travail,
    /// Staff's answer to a question.
    Reponse,
    /// Staff's feedback on a work.
    Retour,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [
        MessageKind::Question,
        MessageKind::Travail,
        MessageKind::Reponse,
        MessageKind::Retour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Question => "question",
            MessageKind::Travail => "travail",
            MessageKind::Reponse => "reponse",
            MessageKind::Retour => "retour",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MessageKind::Question => "Question",
            MessageKind::Travail => "Travail écrit",
            MessageKind::Reponse => "Réponse",
            MessageKind::Retour => "Retour sur le travail",
        }
    }

    /// Trainees ask and hand in work; staff answer and give feedback.
    pub fn from_trainee(self) -> bool {
        matches!(self, MessageKind::Question | MessageKind::Travail)
    }
}

/// Who writes in a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Trainee,
    Staff,
}

/// The kinds a side may post in a thread; a written work belongs to a module's thread.
pub fn allowed_kinds(side: Side, thread: ThreadKind) -> Vec<MessageKind> {
    match (side, thread) {
        (Side::Trainee, ThreadKind::Pedagogique) => {
            vec![MessageKind::Question, MessageKind::Travail]
        }
        (Side::Trainee, ThreadKind::Assistance) => vec![MessageKind::Question],
        (Side::Staff, ThreadKind::Pedagogique) => vec![MessageKind::Reponse, MessageKind::Retour],
        (Side::Staff, ThreadKind::Assistance) => vec![MessageKind::Reponse],
    }
}

/// The kind asked for, if this side may post it here; the reason in French otherwise.
pub fn check_kind(side: Side, thread: ThreadKind, raw: &str) -> Result<MessageKind, String> {
    let allowed = allowed_kinds(side, thread);
    match MessageKind::parse(raw) {
        Some(k) if allowed.contains(&k) => Ok(k),
        _ => Err(format!(
            "Type de message non accepté ici : choisissez {}.",
            allowed
                .iter()
                .map(|k| format!("« {} »", k.label()))
                .collect::<Vec<_>>()
                .join(" ou ")
        )),
    }
}

/// The body as kept: trimmed, not empty, at most `MAX_BODY` characters.
pub fn check_body(raw: &str) -> Result<String, String> {
    let body = raw.trim();
    if body.is_empty() {
        return Err("Le message est vide.".into());
    }
    let n = body.chars().count();
    if n > MAX_BODY {
        return Err(format!(
            "Le message fait {n} caractères : {MAX_BODY} au plus."
        ));
    }
    Ok(body.replace("\r\n", "\n"))
}

/// A help request's subject: one line, not empty, at most `MAX_SUBJECT` characters.
pub fn check_subject(raw: &str) -> Result<String, String> {
    let subject = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if subject.is_empty() {
        return Err("Indiquez l'objet de votre demande.".into());
    }
    let n = subject.chars().count();
    if n > MAX_SUBJECT {
        return Err(format!(
            "L'objet fait {n} caractères : {MAX_SUBJECT} au plus."
        ));
    }
    Ok(subject)
}

/// The thread's waiting mark after a message: a trainee's message starts the wait (or keeps
/// the older one), a staff message ends it.
pub fn waiting_after(
    current: Option<NaiveDateTime>,
    kind: MessageKind,
    at: NaiveDateTime,
) -> Option<NaiveDateTime> {
    if kind.from_trainee() {
        Some(current.unwrap_or(at))
    } else {
        None
    }
}

/// "45 min", "3 h 05", "2 j 3 h": how long a trainee has been waiting.
pub fn waiting_label(waited: Duration) -> String {
    let minutes = waited.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    if days > 0 {
        format!("{days} j {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins:02}")
    } else {
        format!("{mins} min")
    }
}

/// Staff messages waiting in a digest: newer than the last digest, not yet seen by the
/// trainee, and older than `grace` (answers written in a row go out together, and an answer
/// read at once needs no mail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub message_id: i64,
    pub thread_id: i64,
    pub created_at: NaiveDateTime,
}

pub fn digest_selection(
    staff_messages: &[Pending],
    last_read: impl Fn(i64) -> i64,
    digested_up_to: i64,
    now: NaiveDateTime,
    grace: Duration,
) -> Vec<Pending> {
    staff_messages
        .iter()
        .filter(|m| m.message_id > digested_up_to)
        .filter(|m| m.message_id > last_read(m.thread_id))
        .filter(|m| m.created_at + grace <= now)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap()
    }

    #[test]
    fn each_side_posts_its_own_kinds() {
        use MessageKind as K;
        let (p, a) = (ThreadKind::Pedagogique, ThreadKind::Assistance);
        assert_eq!(check_kind(Side::Trainee, p, "question"), Ok(K::Question));
        assert_eq!(check_kind(Side::Trainee, p, "travail"), Ok(K::Travail));
        assert!(check_kind(Side::Trainee, p, "reponse").is_err());
        assert!(check_kind(Side::Trainee, a, "travail").is_err());
        assert_eq!(check_kind(Side::Staff, p, "retour"), Ok(K::Retour));
        assert!(check_kind(Side::Staff, a, "retour").is_err());
        assert!(check_kind(Side::Staff, p, "question").is_err());
        let msg = check_kind(Side::Staff, p, "x").unwrap_err();
        assert!(
            msg.contains("« Réponse » ou « Retour sur le travail »"),
            "{msg}"
        );
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn bodies_and_subjects_are_checked() {
        assert_eq!(
            check_body("  Bonjour\r\nMerci  "),
            Ok("Bonjour\nMerci".into())
        );
        assert!(check_body(" \n ").is_err());
        assert!(check_body(&"é".repeat(MAX_BODY)).is_ok());
        assert!(
            check_body(&"é".repeat(MAX_BODY + 1))
                .unwrap_err()
                .contains("5001")
        );
        assert_eq!(check_subject(" Accès\n vidéo "), Ok("Accès vidéo".into()));
        assert!(check_subject("").is_err());
        assert!(check_subject(&"a".repeat(MAX_SUBJECT + 1)).is_err());
    }

    #[test]
    fn waiting_starts_with_the_trainee_and_ends_with_staff() {
        use MessageKind as K;
        assert_eq!(waiting_after(None, K::Question, t(9, 0)), Some(t(9, 0)));
        assert_eq!(
            waiting_after(Some(t(9, 0)), K::Travail, t(10, 0)),
            Some(t(9, 0))
        );
        assert_eq!(waiting_after(Some(t(9, 0)), K::Reponse, t(11, 0)), None);
        assert_eq!(waiting_after(None, K::Retour, t(11, 0)), None);
    }

    #[test]
    fn waiting_reads_in_french() {
        assert_eq!(waiting_label(Duration::minutes(45)), "45 min");
        assert_eq!(waiting_label(Duration::minutes(185)), "3 h 05");
        assert_eq!(waiting_label(Duration::minutes(2 * 1440 + 190)), "2 j 3 h");
        assert_eq!(waiting_label(Duration::minutes(-5)), "0 min");
    }

    #[test]
    fn digests_carry_unread_settled_answers_once() {
        let m = |id, thread, at| Pending {
            message_id: id,
            thread_id: thread,
            created_at: at,
        };
        let msgs = [
            m(1, 10, t(8, 0)),
            m(5, 10, t(9, 0)),
            m(7, 11, t(9, 0)),
            m(9, 11, t(11, 55)),
        ];
        // Thread 10 was read up to message 5; everything up to 1 went in an earlier digest.
        let read = |thread| if thread == 10 { 5 } else { 0 };
        let got = digest_selection(&msgs, read, 1, t(12, 0), Duration::minutes(10));
        assert_eq!(got, vec![m(7, 11, t(9, 0))]);
        assert!(digest_selection(&msgs, read, 9, t(12, 0), Duration::minutes(10)).is_empty());
    }
}
