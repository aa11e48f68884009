//! The Atom feed of the catalogue (RFC 4287): one entry per published cohort, every text
//! escaped, so an aggregator reads what organisms typed as text.

use std::fmt::Write as _;

use chrono::NaiveDateTime;

use super::rules::xml_escape;
use super::view::Card;

fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The feed's XML; `base` is the site's address, `now` the feed's update time.
pub fn atom(base: &str, cards: &[Card], now: NaiveDateTime) -> String {
    let base = base.trim_end_matches('/');
    let mut out = String::with_capacity(512 + cards.len() * 768);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\">\n");
    let _ = writeln!(out, "  <id>{}/catalogue</id>", xml_escape(base));
    out.push_str("  <title>Parcours — catalogue des formations d'assistant médical</title>\n");
    let _ = writeln!(out, "  <updated>{}</updated>", stamp(now));
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/catalogue\"/>",
        xml_escape(base)
    );
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}/catalogue.atom\"/>",
        xml_escape(base)
    );
    out.push_str("  <author><name>Parcours</name></author>\n");
    for c in cards {
        entry(&mut out, base, c);
    }
    out.push_str("</feed>\n");
    out
}

fn entry(out: &mut String, base: &str, c: &Card) {
    let url = format!("{base}/catalogue/{}", c.id);
    let title = format!(
        "{} — {}, {} — à partir du {}",
        c.programme_label, c.organism, c.city, c.starts
    );
    let summary = format!(
        "{} ({}). Du {} au {}. {} % à distance. {} place(s) restante(s) sur {}. Prix : {} par stagiaire. Financements acceptés : {}.",
        c.cohort,
        c.region_label,
        c.starts,
        c.ends,
        c.distance_percent,
        c.seats_left,
        c.seats,
        c.price,
        c.funding_labels.join(", ")
    );
    out.push_str("  <entry>\n");
    let _ = writeln!(out, "    <id>{}</id>", xml_escape(&url));
    let _ = writeln!(out, "    <title>{}</title>", xml_escape(&title));
    let _ = writeln!(out, "    <updated>{}</updated>", stamp(c.updated_at));
    let _ = writeln!(
        out,
        "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        xml_escape(&url)
    );
    let _ = writeln!(
        out,
        "    <author><name>{}</name></author>",
        xml_escape(&c.organism)
    );
    let _ = writeln!(out, "    <category term=\"{}\"/>", xml_escape(&c.programme));
    let _ = writeln!(out, "    <category term=\"{}\"/>", xml_escape(&c.region));
    let _ = writeln!(out, "    <summary>{}</summary>", xml_escape(&summary));
    out.push_str("  </entry>\n");
}
