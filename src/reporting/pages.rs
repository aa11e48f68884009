//! Reporting pages for an organism's staff: the funders' export and the Qualiopi figures,
//! each as a page and as CSV and XLSX files with the same query.

use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::table::{self, Sheet};
use super::{figures, funders, rules, xlsx};
use crate::accounts::CurrentUser;
use crate::base::format;
use crate::base::paris::today;
use crate::cohorts::store as cohorts;
use crate::curriculum::Content;
use crate::web::{self as w, AppError, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organismes/{id}/financeurs", web::get().to(funders_page))
        .route(
            "/organismes/{id}/financeurs.csv",
            web::get().to(funders_csv),
        )
        .route(
            "/organismes/{id}/financeurs.xlsx",
            web::get().to(funders_xlsx),
        )
        .route("/organismes/{id}/qualiopi", web::get().to(qualiopi_page))
        .route("/organismes/{id}/qualiopi.csv", web::get().to(qualiopi_csv))
        .route(
            "/organismes/{id}/qualiopi.xlsx",
            web::get().to(qualiopi_xlsx),
        );
}

/// Query values stay text until checked here, so that bad input gets a French 422.
#[derive(Default, Deserialize)]
struct PeriodQuery {
    #[serde(default)]
    promotion: String,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
    #[serde(default)]
    partie: String,
}

#[derive(Default, Deserialize)]
struct YearQuery {
    #[serde(default)]
    annee: String,
}

fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> AppResult<T> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| AppError::invalid("query", "Paramètres de la page invalides."))
}

/// What an export is about, once checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Hours,
    Absences,
    Activities,
}

struct Period {
    cohort: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
    /// Which table a CSV holds.
    part: Part,
}

impl Period {
    fn query_string(&self) -> String {
        let cohort = self.cohort.map(|c| c.to_string()).unwrap_or_default();
        format!("promotion={cohort}&du={}&au={}", self.from, self.to)
    }
}

fn parse_day(field: &str, label: &str, raw: &str) -> AppResult<NaiveDate> {
    format::parse_day(raw)
        .ok_or_else(|| AppError::invalid(field, format!("{label} invalide : utilisez jj/mm/aaaa.")))
}

fn period(q: &PeriodQuery) -> AppResult<Period> {
    let (first, last) = rules::month_of(today());
    let from = match q.du.trim() {
        "" => first,
        raw => parse_day("du", "Date de début", raw)?,
    };
    let to = match q.au.trim() {
        "" => last,
        raw => parse_day("au", "Date de fin", raw)?,
    };
    if to < from {
        return Err(AppError::invalid(
            "au",
            "La date de fin doit être postérieure ou égale à la date de début.",
        ));
    }
    let part = match q.partie.trim() {
        "" | "heures" => Part::Hours,
        "absences" => Part::Absences,
        "activites" => Part::Activities,
        _ => {
            return Err(AppError::invalid(
                "partie",
                "Partie inconnue : « heures », « absences » ou « activites ».",
            ));
        }
    };
    let cohort = match q.promotion.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::invalid("promotion", "Promotion inconnue."))?,
        ),
    };
    Ok(Period {
        cohort,
        from,
        to,
        part,
    })
}

/// The organism's name, for its staff only; a cohort must be one of its own.
async fn organism_for_staff(
    state: &State,
    me: &CurrentUser,
    id: i64,
    cohort: Option<i64>,
) -> AppResult<crate::organisms::store::OrganismRow> {
    me.require_staff_of(id)?;
    state
        .db(move |c| {
            let organism = crate::organisms::store::get(c, id)?.ok_or(AppError::NotFound)?;
            if let Some(cid) = cohort {
                let row = cohorts::cohort(c, cid)?;
                if row.is_none_or(|r| r.organism_id != id) {
                    return Err(AppError::invalid("promotion", "Promotion inconnue."));
                }
            }
            Ok(organism)
        })
        .await
}

async fn funders_export(
    req: &HttpRequest,
    state: &State,
    content: &web::Data<Content>,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(
    crate::organisms::store::OrganismRow,
    Period,
    funders::Export,
)> {
    // Scope before input: another organism's staff learn nothing from the answer.
    me.require_staff_of(id)?;
    let p = period(&query::<PeriodQuery>(req)?)?;
    let organism = organism_for_staff(state, me, id, p.cohort).await?;
    let (name, cohort, from, to) = (organism.name.clone(), p.cohort, p.from, p.to);
    let content = content.clone();
    let export = state
        .db(move |c| {
            let editions = content.cohort_editions(c, id)?;
            funders::export(c, &editions, &name, id, cohort, from, to)
        })
        .await?;
    Ok((organism, p, export))
}

fn sheet_view(sheet: &Sheet) -> serde_json::Value {
    let rows: Vec<Vec<String>> = sheet
        .rows
        .iter()
        .map(|r| r.iter().map(table::Cell::display).collect())
        .collect();
    serde_json::json!({"header": sheet.header, "rows": rows})
}

async fn funders_page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (organism, p, export) = funders_export(&req, &state, &content, &me, id).await?;
    let list = state.db(move |c| Ok(cohorts::cohorts_of(c, id)?)).await?;
    let choices: Vec<serde_json::Value> = list
        .iter()
        .map(|(c, _)| serde_json::json!({"id": c.id, "name": c.name}))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism", &organism);
    ctx.insert("cohorts", &choices);
    ctx.insert("cohort", &p.cohort);
    ctx.insert("from", &p.from.to_string());
    ctx.insert("to", &p.to.to_string());
    ctx.insert("from_fr", &format::date(p.from));
    ctx.insert("to_fr", &format::date(p.to));
    ctx.insert("query", &p.query_string());
    let mut parts = [
        sheet_view(&export.hours),
        sheet_view(&export.absences),
        sheet_view(&export.activities),
    ];
    parts[0]["title"] = "Heures".into();
    parts[1]["title"] = "Absences, retards et départs anticipés".into();
    parts[2]["title"] = "Activités : temps passé et résultats".into();
    ctx.insert("parts", &parts);
    state.render("reporting/funders.html", &ctx)
}

fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(bytes)
}

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn csv_bytes(sheet: &Sheet) -> AppResult<Vec<u8>> {
    Ok(table::to_csv(sheet).context("CSV export")?)
}

fn xlsx_bytes(sheets: &[Sheet]) -> AppResult<Vec<u8>> {
    Ok(xlsx::workbook(sheets).context("XLSX export")?)
}

async fn funders_csv(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (_, p, export) = funders_export(&req, &state, &content, &me, id).await?;
    let (sheet, stem) = match p.part {
        Part::Hours => (&export.hours, "heures"),
        Part::Absences => (&export.absences, "absences"),
        Part::Activities => (&export.activities, "activites"),
    };
    let name = format!("financeurs-{stem}-{id}-{}-{}.csv", p.from, p.to);
    Ok(download(csv_bytes(sheet)?, CSV, &name))
}

async fn funders_xlsx(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (_, p, export) = funders_export(&req, &state, &content, &me, id).await?;
    let name = format!("financeurs-{id}-{}-{}.xlsx", p.from, p.to);
    let bytes = xlsx_bytes(&[export.hours, export.absences, export.activities])?;
    Ok(download(bytes, XLSX, &name))
}

async fn qualiopi_tables(
    req: &HttpRequest,
    state: &State,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(
    crate::organisms::store::OrganismRow,
    i32,
    Vec<figures::Table>,
)> {
    me.require_staff_of(id)?;
    let today = today();
    let year = match query::<YearQuery>(req)?.annee.trim() {
        "" => today.year(),
        raw => raw
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| {
                AppError::invalid(
                    "annee",
                    "Année invalide : indiquez une année sur quatre chiffres, par exemple 2026.",
                )
            })?,
    };
    let organism = organism_for_staff(state, me, id, None).await?;
    let tables = state
        .db(move |c| figures::of_year(c, id, year, today))
        .await?;
    Ok((organism, year, tables))
}

async fn qualiopi_page(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (organism, year, tables) = qualiopi_tables(&req, &state, &me, id).await?;
    let views: Vec<serde_json::Value> = tables
        .iter()
        .map(|t| {
            let mut v = sheet_view(&t.sheet);
            v["title"] = t.title.into();
            v
        })
        .collect();
    let notes: Vec<serde_json::Value> = rules::NOTES
        .iter()
        .map(|(k, n)| serde_json::json!({"name": k, "note": n}))
        .collect();
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("organism", &organism);
    ctx.insert("year", &year);
    ctx.insert("tables", &views);
    ctx.insert("notes", &notes);
    state.render("reporting/qualiopi.html", &ctx)
}

async fn qualiopi_csv(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (_, year, tables) = qualiopi_tables(&req, &state, &me, id).await?;
    let sheet = figures::long_sheet(&tables);
    let name = format!("qualiopi-{id}-{year}.csv");
    Ok(download(csv_bytes(&sheet)?, CSV, &name))
}

async fn qualiopi_xlsx(
    req: HttpRequest,
    state: State,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (_, year, tables) = qualiopi_tables(&req, &state, &me, id).await?;
    let long = figures::long_sheet(&tables);
    let mut sheets: Vec<Sheet> = tables.into_iter().map(|t| t.sheet).collect();
    sheets.push(long);
    let name = format!("qualiopi-{id}-{year}.xlsx");
    Ok(download(xlsx_bytes(&sheets)?, XLSX, &name))
}
