//! What the catalogue accepts and shows, without I/O: the regions and funding routes, the
//! checks of an organism's entry, the public filters, prices, the rhythm of a calendar and
//! the Atom feed's text.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::base::field::{self, FieldError};

/// The French regions (2016 map, with the five overseas regions), by the slug the filters use.
pub const REGIONS: &[(&str, &str)] = &[
    ("auvergne-rhone-alpes", "Auvergne-Rhône-Alpes"),
    ("bourgogne-franche-comte", "Bourgogne-Franche-Comté"),
    ("bretagne", "Bretagne"),
    ("centre-val-de-loire", "Centre-Val de Loire"),
    ("corse", "Corse"),
    ("grand-est", "Grand Est"),
    ("hauts-de-france", "Hauts-de-France"),
    ("ile-de-france", "Île-de-France"),
    ("normandie", "Normandie"),
    ("nouvelle-aquitaine", "Nouvelle-Aquitaine"),
    ("occitanie", "Occitanie"),
    ("pays-de-la-loire", "Pays de la Loire"),
    ("provence-alpes-cote-d-azur", "Provence-Alpes-Côte d'Azur"),
    ("guadeloupe", "Guadeloupe"),
    ("martinique", "Martinique"),
    ("guyane", "Guyane"),
    ("la-reunion", "La Réunion"),
    ("mayotte", "Mayotte"),
];

/// The funding routes an organism may accept, by the code kept in the entry.
pub const FUNDING_ROUTES: &[(&str, &str)] = &[
    ("opco-ep", "OPCO EP"),
    ("france-travail", "France Travail"),
    ("employeur", "Employeur"),
    ("autofinancement", "Autofinancement"),
    ("autre", "Autre"),
];

/// The distance shares the filter offers ("au moins N % à distance").
pub const DISTANCE_STEPS: &[i32] = &[25, 50, 75, 100];

pub fn region_label(slug: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(s, _)| *s == slug).map(|(_, l)| *l)
}

pub fn funding_label(code: &str) -> Option<&'static str> {
    FUNDING_ROUTES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// The entry's fields as the form sends them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EntryForm {
    pub city: String,
    pub region: String,
    pub distance_percent: String,
    pub seats: String,
    pub price: String,
    pub funding: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub published: bool,
}

/// A checked entry, as it is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub city: String,
    pub region: String,
    pub distance_percent: i32,
    pub seats: i32,
    pub price_cents: i64,
    /// Codes of `FUNDING_ROUTES`, in their order.
    pub funding_routes: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub published: bool,
}

impl Entry {
    pub fn routes_text(&self) -> String {
        self.funding_routes.join(",")
    }
}

/// The codes of a stored `funding_routes` column.
pub fn routes_of(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|c| funding_label(c).is_some())
        .map(str::to_string)
        .collect()
}

/// Checks the form; the distance share is the typed one, or the programme's when left empty.
pub fn check(form: &EntryForm, programme_distance: Option<i32>) -> Result<Entry, Vec<FieldError>> {
    let mut errors = Vec::new();
    let city = form.city.trim().to_string();
    if city.is_empty() || city.chars().count() > 80 {
        errors.push(FieldError::new(
            "city",
            "Indiquez la ville où la formation a lieu (80 caractères au plus).",
        ));
    }
    if region_label(&form.region).is_none() {
        errors.push(FieldError::new(
            "region",
            "Choisissez une région de la liste.",
        ));
    }
    let distance = match (form.distance_percent.trim(), programme_distance) {
        ("", Some(d)) => Some(d),
        (raw, _) => raw.parse::<i32>().ok().filter(|d| (0..=100).contains(d)),
    };
    if distance.is_none() {
        errors.push(FieldError::new(
            "distance_percent",
            "La part à distance est un nombre entier de 0 à 100.",
        ));
    }
    let seats = form
        .seats
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|s| (1..=1000).contains(s));
    if seats.is_none() {
        errors.push(FieldError::new(
            "seats",
            "Le nombre de places est un nombre entier d'au moins 1 (1 000 au plus).",
        ));
    }
    let price = parse_price(&form.price);
    if price.is_none() {
        errors.push(FieldError::new(
            "price",
            "Le prix est un montant en euros positif ou nul, par exemple 2 400,00.",
        ));
    }
    let mut routes: BTreeSet<usize> = BTreeSet::new();
    for code in &form.funding {
        match FUNDING_ROUTES.iter().position(|(c, _)| c == code) {
            Some(i) => {
                routes.insert(i);
            }
            None => errors.push(FieldError::new("funding", "Ce financement n'existe pas.")),
        }
    }
    if routes.is_empty() {
        errors.push(FieldError::new(
            "funding",
            "Cochez au moins un financement accepté.",
        ));
    }
    let contact_email = match field::normalize_email(&form.contact_email) {
        Ok(e) => e,
        Err(msg) => {
            errors.push(FieldError::new("contact_email", msg));
            String::new()
        }
    };
    let contact_phone = form.contact_phone.trim().to_string();
    let phone_ok = contact_phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +.-()".contains(c))
        && contact_phone.chars().filter(char::is_ascii_digit).count() <= 15;
    if !phone_ok {
        errors.push(FieldError::new(
            "contact_phone",
            "Le téléphone ne contient que des chiffres, espaces, points, tirets ou « + ».",
        ));
    }
    match (distance, seats, price) {
        (Some(distance_percent), Some(seats), Some(price_cents)) if errors.is_empty() => {
            Ok(Entry {
                city,
                region: form.region.clone(),
                distance_percent,
                seats,
                price_cents,
                funding_routes: routes
                    .iter()
                    .map(|i| FUNDING_ROUTES[*i].0.to_string())
                    .collect(),
                contact_email,
                contact_phone,
                published: form.published,
            })
        }
        _ => Err(errors),
    }
}

/// `2400`, `2 400,50`, `2400.5` → cents; nothing for a negative, empty or odd amount.
pub fn parse_price(raw: &str) -> Option<i64> {
    let cleaned: String = raw
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let (units, cents) = match cleaned.split_once('.') {
        Some((u, c)) if !c.is_empty() && c.len() <= 2 => (u, format!("{c:0<2}")),
        Some(_) => return None,
        None => (cleaned.as_str(), "00".to_string()),
    };
    if units.is_empty() || !units.chars().all(|c| c.is_ascii_digit()) || units.len() > 9 {
        return None;
    }
    if !cents.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(units.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?)
}

/// `1 250,00 €`, with no-break spaces.
pub fn euros(cents: i64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02}\u{a0}€", cents % 100)
}

/// The price as a form shows it again: `1250,00`.
pub fn price_input(cents: i64) -> String {
    format!("{},{:02}", cents / 100, cents % 100)
}

/// The programme's planned distance share, in whole percent, from its modules' planned and
/// distance minutes; nothing for a programme without planned hours.
pub fn distance_share(modules: &[(i32, i32)]) -> Option<i32> {
    let planned: i64 = modules.iter().map(|(p, _)| i64::from(*p)).sum();
    let distance: i64 = modules.iter().map(|(_, d)| i64::from(*d)).sum();
    (planned > 0).then(|| ((distance * 100 + planned / 2) / planned).clamp(0, 100) as i32)
}

/// The public filters, from the query's raw values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub region: Option<String>,
    /// `cqp` or `fae`.
    pub programme: Option<String>,
    /// The first day of the start month.
    pub month: Option<NaiveDate>,
    pub distance_min: Option<i32>,
}

/// The raw query of the catalogue (every field a string, so a bad one is answered in French).
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct RawFilter {
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub programme: String,
    /// `AAAA-MM`.
    #[serde(default)]
    pub mois: String,
    #[serde(default)]
    pub distance: String,
}

impl RawFilter {
    pub fn check(&self) -> Result<Filter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut f = Filter::default();
        match self.region.trim() {
            "" => {}
            r if region_label(r).is_some() => f.region = Some(r.to_string()),
            _ => errors.push(FieldError::new("region", "Cette région n'existe pas.")),
        }
        match self.programme.trim() {
            "" => {}
            p @ ("cqp" | "fae") => f.programme = Some(p.to_string()),
            _ => errors.push(FieldError::new(
                "programme",
                "Le programme est « cqp » ou « fae ».",
            )),
        }
        match self.mois.trim() {
            "" => {}
            m => match NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d") {
                Ok(d) => f.month = Some(d),
                Err(_) => errors.push(FieldError::new(
                    "mois",
                    "Le mois de début s'écrit AAAA-MM, par exemple 2027-01.",
                )),
            },
        }
        match self.distance.trim() {
            "" => {}
            d => match d.parse::<i32>().ok().filter(|d| (0..=100).contains(d)) {
                Some(d) => f.distance_min = Some(d),
                None => errors.push(FieldError::new(
                    "distance",
                    "La part à distance minimale est un nombre de 0 à 100.",
                )),
            },
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(errors)
        }
    }
}

/// The month after `month`'s first day.
pub fn next_month(month: NaiveDate) -> NaiveDate {
    month + chrono::Months::new(1)
}

/// `janvier 2027`.
pub fn month_label(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!("{} {}", MONTHS[d.month0() as usize], d.year())
}

/// The rhythm of the in-person calendar: `12 journées en présentiel, environ 2 par mois`,
/// from the distinct training days; nothing when no day is planned yet.
pub fn rhythm(days: &[NaiveDate]) -> Option<String> {
    let distinct: BTreeSet<NaiveDate> = days.iter().copied().collect();
    let (first, last) = (*distinct.first()?, *distinct.last()?);
    let months = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32 + 1;
    let n = distinct.len();
    let per_month = (n as f64 / f64::from(months.max(1))).round().max(1.0) as i64;
    let noun = if n == 1 { "journée" } else { "journées" };
    Some(format!(
        "{n} {noun} en présentiel, environ {per_month} par mois"
    ))
}

/// Text for an XML element or attribute.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> EntryForm {
        EntryForm {
            city: "Lyon".into(),
            region: "auvergne-rhone-alpes".into(),
            distance_percent: String::new(),
            seats: "12".into(),
            price: "2 400,50".into(),
            funding: vec!["france-travail".into(), "opco-ep".into()],
            contact_email: "Contact@Organisme.fr".into(),
            contact_phone: "04 72 00 00 00".into(),
            published: true,
        }
    }

    #[test]
    fn a_good_form_is_kept_with_the_programme_distance() {
        let e = check(&form(), Some(40)).unwrap();
        assert_eq!(e.distance_percent, 40);
        assert_eq!(e.price_cents, 240_050);
        assert_eq!(e.routes_text(), "opco-ep,france-travail");
        assert_eq!(e.contact_email, "contact@organisme.fr");
    }

    #[test]
    fn bad_values_are_named() {
        let mut f = form();
        f.price = "-5".into();
        f.seats = "0".into();
        f.region = "Lyonnais".into();
        f.funding = vec!["loto".into()];
        let fields: Vec<String> = check(&f, None)
            .unwrap_err()
            .iter()
            .map(|e| e.field.clone())
            .collect();
        for name in ["region", "distance_percent", "seats", "price", "funding"] {
            assert!(fields.iter().any(|f| f == name), "{name} in {fields:?}");
        }
    }

    #[test]
    fn prices() {
        assert_eq!(parse_price("0"), Some(0));
        assert_eq!(parse_price("1250.5"), Some(125_050));
        assert_eq!(parse_price("1 250,00 €"), Some(125_000));
        assert_eq!(parse_price("12,345"), None);
        assert_eq!(parse_price("abc"), None);
        assert_eq!(euros(125_000), "1\u{a0}250,00\u{a0}€");
        assert_eq!(euros(99), "0,99\u{a0}€");
    }

    #[test]
    fn filters() {
        let raw = RawFilter {
            region: "bretagne".into(),
            programme: "cqp".into(),
            mois: "2027-01".into(),
            distance: "50".into(),
        };
        let f = raw.check().unwrap();
        assert_eq!(f.month, NaiveDate::from_ymd_opt(2027, 1, 1));
        let bad = RawFilter {
            mois: "janvier".into(),
            programme: "bts".into(),
            ..RawFilter::default()
        };
        assert_eq!(bad.check().unwrap_err().len(), 2);
    }

    #[test]
    fn shares_and_rhythm() {
        assert_eq!(distance_share(&[(100, 50), (100, 0)]), Some(25));
        assert_eq!(distance_share(&[]), None);
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        let days = [d(1, 10), d(1, 11), d(2, 7), d(2, 8), d(2, 8)];
        assert_eq!(
            rhythm(&days).unwrap(),
            "4 journées en présentiel, environ 2 par mois"
        );
        assert_eq!(rhythm(&[]), None);
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            xml_escape("<a & 'b'>\u{1}"),
            "&lt;a &amp; &apos;b&apos;&gt;"
        );
    }
}
