//! Delivery-status notifications (RFC 3464): what a mail server sends back when it gives up
//! on a message. Pure: bytes in, the permanent failures out. The MIME structure and the
//! header blocks are read by `mail-parser`, which never panics on hostile input.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

/// One recipient a server refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The address, in lower case, without `rfc822;`.
    pub recipient: String,
    /// The enhanced status code (`5.1.1`).
    pub status: String,
    /// What the server said (`Diagnostic-Code` without its type), or the status alone.
    pub reason: String,
}

/// What a file of the bounce mailbox turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A delivery-status report: its permanent failures (perhaps none, for a delay) and the
    /// Message-ID of the message it is about, when the returned headers carry one.
    Delivery {
        failures: Vec<Failure>,
        message_id: Option<String>,
    },
    /// Any other mail (an auto-reply, spam): nothing to learn.
    NotAReport,
    /// Says it is a report but is not one that can be read: left aside.
    Malformed(String),
}

/// The longest reason kept: servers may write paragraphs.
const MAX_REASON: usize = 500;

pub fn read(raw: &[u8]) -> Report {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Report::Malformed("aucun en-tête de message".into());
    };
    let Some(ct) = message.root_part().content_type() else {
        return Report::NotAReport;
    };
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return Report::NotAReport;
    }
    let Some(status) = part_of(&message, "delivery-status") else {
        return Report::Malformed("pas de partie message/delivery-status".into());
    };
    let Some(groups) = recipient_groups(&status) else {
        return Report::Malformed("aucun destinataire dans le rapport".into());
    };
    let failures = groups.iter().filter_map(|g| permanent_failure(g)).collect();
    Report::Delivery {
        failures,
        message_id: returned_message_id(&message),
    }
}

/// The body of the part whose type is `message/<subtype>` (or `text/<subtype>`, as some
/// servers label the returned headers).
fn part_of(message: &Message<'_>, subtype: &str) -> Option<Vec<u8>> {
    message.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        let wanted = ["message", "text"]
            .iter()
            .any(|t| ct.ctype().eq_ignore_ascii_case(t))
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype));
        if !wanted {
            return None;
        }
        match &p.body {
            PartType::Text(t) => Some(t.as_bytes().to_vec()),
            PartType::Binary(b) | PartType::InlineBinary(b) => Some(b.to_vec()),
            _ => None,
        }
    })
}

/// The fields of each per-recipient block of a delivery-status body (the first block is
/// the message's own), as (lower-case name, unfolded value) pairs.
fn recipient_groups(body: &[u8]) -> Option<Vec<Vec<(String, String)>>> {
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    let groups: Vec<Vec<(String, String)>> = text
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .skip(1)
        .map(|block| fields(&format!("{}\n\n", block.trim_start_matches('\n'))))
        .filter(|g| g.iter().any(|(n, _)| n == "final-recipient"))
        .collect();
    (!groups.is_empty()).then_some(groups)
}

/// A block of `Name: value` fields, unfolded, through mail-parser's header reader.
fn fields(block: &str) -> Vec<(String, String)> {
    let Some(parsed) = MessageParser::default().parse_headers(block.as_bytes()) else {
        return vec![];
    };
    parsed
        .headers()
        .iter()
        .filter_map(|h| {
            let raw = block.get(h.offset_start as usize..h.offset_end as usize)?;
            let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
            Some((h.name.as_str().to_ascii_lowercase(), value))
        })
        .collect()
}

fn field<'a>(group: &'a [(String, String)], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `rfc822; a@b.fr` → `a@b.fr`; `smtp; 550 …` → `550 …`.
fn after_type(value: &str) -> &str {
    value.split_once(';').map_or(value, |(_, v)| v).trim()
}

/// A block that says the server gave up for good: `Action: failed` with a 5.x.x status.
fn permanent_failure(group: &[(String, String)]) -> Option<Failure> {
    let action = field(group, "action")?;
    let status = field(group, "status")?.trim();
    if !action.trim().eq_ignore_ascii_case("failed") || !status.starts_with('5') {
        return None;
    }
    let recipient = after_type(field(group, "final-recipient")?)
        .trim_matches(['<', '>'])
        .to_lowercase();
    if !recipient.contains('@') {
        return None;
    }
    let reason = field(group, "diagnostic-code")
        .map(after_type)
        .filter(|r| !r.is_empty())
        .unwrap_or(status);
    Some(Failure {
        recipient,
        status: status.to_string(),
        reason: reason.chars().take(MAX_REASON).collect(),
    })
}

/// The Message-ID of the returned message (`text/rfc822-headers`, or a whole `message/rfc822`).
fn returned_message_id(message: &Message<'_>) -> Option<String> {
    if let Some(headers) = part_of(message, "rfc822-headers") {
        let parsed = MessageParser::default().parse_headers(&headers)?;
        return parsed.message_id().map(|id| format!("<{id}>"));
    }
    message.parts.iter().find_map(|p| match &p.body {
        PartType::Message(m) => m.message_id().map(|id| format!("<{id}>")),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTFIX: &str = include_str!("../../tests/assets/dsn-postfix-550.eml");

    #[test]
    fn a_postfix_bounce_names_the_address_the_reason_and_the_message() {
        let Report::Delivery {
            failures,
            message_id,
        } = read(POSTFIX.as_bytes())
        else {
            panic!("not read as a report");
        };
        assert_eq!(
            failures,
            [Failure {
                recipient: "dr.martin@cabinet-exemple.fr".into(),
                status: "5.1.1".into(),
                reason: "550 5.1.1 <dr.martin@cabinet-exemple.fr>: Recipient address rejected: User unknown in virtual mailbox table".into(),
            }]
        );
        assert_eq!(
            message_id.as_deref(),
            Some("<parcours.42.1796630400000000@parcours.example>")
        );
    }

    #[test]
    fn a_delay_is_no_failure_and_other_mail_is_no_report() {
        let delayed = POSTFIX
            .replace("Action: failed", "Action: delayed")
            .replace("Status: 5.1.1", "Status: 4.4.1");
        assert!(matches!(
            read(delayed.as_bytes()),
            Report::Delivery { failures, .. } if failures.is_empty()
        ));
        let reply = "From: a@b.fr\nSubject: Absent\nContent-Type: text/plain\n\nJe suis absent.\n";
        assert_eq!(read(reply.as_bytes()), Report::NotAReport);
    }

    #[test]
    fn broken_reports_are_malformed_never_a_panic() {
        assert!(matches!(read(b""), Report::Malformed(_)));
        let no_status = POSTFIX.replace("message/delivery-status", "application/octet-stream");
        assert!(matches!(read(no_status.as_bytes()), Report::Malformed(_)));
        let cut = &POSTFIX.as_bytes()[..POSTFIX.find("Final-Recipient").unwrap()];
        assert!(matches!(read(cut), Report::Malformed(_)));
        for n in (0..POSTFIX.len()).step_by(97) {
            let _ = read(&POSTFIX.as_bytes()[..n]);
        }
    }
}
