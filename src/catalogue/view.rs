//! A published cohort as the pages, the API and the feed show it: French text computed
//! once, so the three say the same thing.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::rules;
use super::store::Listing;
use crate::base::format;
use crate::reporting::figures::Outcomes;
use crate::reporting::rules::percent;

#[derive(Clone, Debug, Serialize)]
pub struct Card {
    pub id: i64,
    pub organism_id: i64,
    pub organism: String,
    pub cohort: String,
    /// `cqp` or `fae`.
    pub programme: String,
    pub programme_label: &'static str,
    pub programme_title: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// `01/02/2027`.
    pub starts: String,
    pub ends: String,
    pub city: String,
    pub region: String,
    pub region_label: &'static str,
    pub distance_percent: i32,
    pub seats: i32,
    pub seats_left: i32,
    pub price_cents: i64,
    pub price: String,
    pub funding_routes: Vec<String>,
    pub funding_labels: Vec<&'static str>,
    pub contact_email: String,
    pub contact_phone: String,
    /// When the organism last changed the entry (the feed's entry date).
    #[serde(skip)]
    pub updated_at: chrono::NaiveDateTime,
}

pub fn programme_label(kind: &str) -> &'static str {
    match kind {
        "cqp" => "CQP Assistant médical",
        "fae" => "Formation d'adaptation à l'emploi (FAE)",
        _ => "Formation",
    }
}

impl From<Listing> for Card {
    fn from(l: Listing) -> Card {
        Card {
            id: l.cohort_id,
            organism_id: l.organism_id,
            programme_label: programme_label(&l.programme),
            starts: format::date(l.start_date),
            ends: format::date(l.end_date),
            region_label: rules::region_label(&l.region).unwrap_or("—"),
            price: rules::euros(l.price_cents),
            funding_labels: l
                .funding_routes
                .iter()
                .filter_map(|c| rules::funding_label(c))
                .collect(),
            organism: l.organism,
            cohort: l.cohort,
            programme: l.programme,
            programme_title: l.programme_title,
            start_date: l.start_date,
            end_date: l.end_date,
            city: l.city,
            region: l.region,
            distance_percent: l.distance_percent,
            seats: l.seats,
            seats_left: l.seats_left,
            price_cents: l.price_cents,
            funding_routes: l.funding_routes,
            contact_email: l.contact_email,
            contact_phone: l.contact_phone,
            updated_at: l.updated_at,
        }
    }
}

/// The organism's Qualiopi results as the public sees them: the latest year with someone
/// who finished or dropped out, or nothing to show.
#[derive(Clone, Debug, Serialize)]
pub struct Figures {
    pub year: Option<i32>,
    pub success_rate: Option<f64>,
    pub dropout_rate: Option<f64>,
    /// `75 %`, or the sentence that says why there is no figure.
    pub success: String,
    pub dropout: String,
    pub completions: i64,
    pub dropouts: i64,
}

pub const NO_FIGURE: &str = "pas encore de promotion terminée";

/// From the outcomes of the years asked, latest first.
pub fn figures(years: &[Outcomes]) -> Figures {
    match years.iter().find(|o| o.completions + o.dropouts > 0) {
        Some(o) => Figures {
            year: Some(o.year),
            success_rate: o.success_rate(),
            dropout_rate: o.dropout_rate(),
            success: percent(o.success_rate()),
            dropout: percent(o.dropout_rate()),
            completions: o.completions,
            dropouts: o.dropouts,
        },
        None => Figures {
            year: None,
            success_rate: None,
            dropout_rate: None,
            success: NO_FIGURE.into(),
            dropout: NO_FIGURE.into(),
            completions: 0,
            dropouts: 0,
        },
    }
}

/// The years whose figures the cohort page reads: this one and the one before.
pub fn figure_years(today: NaiveDate) -> [i32; 2] {
    [today.year(), today.year() - 1]
}

/// The start months a filter offers: this month and the next 17.
pub fn month_choices(today: NaiveDate) -> Vec<(String, String)> {
    let first = today.with_day(1).unwrap_or(today);
    (0..18)
        .map(|i| {
            let m = first + chrono::Months::new(i);
            (m.format("%Y-%m").to_string(), rules::month_label(m))
        })
        .collect()
}
