//! What the pages, the API and the feed read, in one place: the filtered cards (two
//! queries), and one cohort's card with its training days and its organism's figures.

use actix_web::{HttpRequest, web};
use chrono::NaiveDate;

use super::rules::{Filter, RawFilter};
use super::store::{self, Which};
use super::view::{self, Card};
use crate::base::paris::today;
use crate::reporting::figures::{self, Outcomes};
use crate::web::{AppError, AppResult, State};

/// The query, read as strings so that a bad value gets a French message, not serde's.
pub fn raw_filter(req: &HttpRequest) -> RawFilter {
    web::Query::<RawFilter>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// The cards a filter keeps.
pub async fn cards(state: &State, filter: Filter) -> AppResult<Vec<Card>> {
    let day = today();
    let rows = state
        .db(move |c| Ok(store::listed(c, Which::Filtered(&filter), day)?))
        .await?;
    Ok(rows.into_iter().map(Card::from).collect())
}

/// A published, upcoming cohort (404 otherwise), its training days and the outcomes of
/// its organism's recent years, latest first.
pub async fn detail(state: &State, id: i64) -> AppResult<(Card, Vec<NaiveDate>, Vec<Outcomes>)> {
    let day = today();
    state
        .db(move |c| {
            let card = store::listed(c, Which::One(id), day)?
                .pop()
                .ok_or(AppError::NotFound)?;
            let days = store::training_days(c, id)?;
            let mut years = Vec::new();
            for y in view::figure_years(day) {
                years.extend(figures::outcomes(c, card.organism_id, y)?);
            }
            Ok((Card::from(card), days, years))
        })
        .await
}
