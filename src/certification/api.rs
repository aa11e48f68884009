//! JSON API of the certification record, read-only, scoped like the pages.

use actix_web::{HttpResponse, web};

use super::mine;
use super::pages::session_for_staff;
use super::record;
use super::store;
use crate::accounts::{CurrentUser, Role};
use crate::base::paris::today;
use crate::cohorts::access::trainee_access;
use crate::curriculum::Content;
use crate::web::{AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/organisms/{id}/certification/sessions",
        web::get().to(sessions),
    )
    .route("/certification/sessions/{id}", web::get().to(session))
    .route("/trainees/{id}/certification", web::get().to(trainee))
    .route("/me/certification", web::get().to(my_certification));
}

async fn sessions(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let org = path.into_inner();
    me.hide_unless_staff_of(org)?;
    let list = state.db(move |c| Ok(store::sessions_of(c, org)?)).await?;
    let body: Vec<serde_json::Value> = list
        .iter()
        .map(|s| serde_json::json!({"id": s.id, "held_on": s.held_on, "place": s.place, "jury": s.jury, "blocs": s.blocs()}))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"sessions": body})))
}

async fn session(state: State, me: CurrentUser, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let s = session_for_staff(&state, &me, path.into_inner()).await?;
    let sid = s.id;
    let (candidates, results) = state
        .db(move |c| Ok((store::candidates_of(c, sid)?, store::results_of(c, sid)?)))
        .await?;
    let candidates: Vec<serde_json::Value> = candidates
        .iter()
        .map(|cand| {
            let mine: Vec<serde_json::Value> = results
                .iter()
                .filter(|r| r.0 == cand.trainee_id)
                .map(|r| serde_json::json!({"bloc": r.1, "result": r.2}))
                .collect();
            serde_json::json!({"trainee_id": cand.trainee_id, "name": cand.name, "blocs": cand.blocs(), "derogation": cand.derogation, "results": mine})
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": s.id, "organism_id": s.organism_id, "held_on": s.held_on, "place": s.place,
        "jury": s.jury, "blocs": s.blocs(), "candidates": candidates,
    })))
}

async fn trainee(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (t, _) = trainee_access(&state, &me, path.into_inner()).await?;
    let st = state
        .db(move |c| record::status(c, &content, &t, today()))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "program_kind": st.program_kind,
        "blocs": st.blocs,
        "remaining": st.remaining,
        "cqp": st.cqp.map(|(on, number)| serde_json::json!({"obtained_on": on, "certificate_number": number})),
    })))
}

/// The signed-in trainee's own record, as her page `/ma-certification` shows it.
async fn my_certification(
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    let record = state
        .db(move |c| mine::read(c, &content, id, today()))
        .await?;
    Ok(HttpResponse::Ok().json(record))
}
