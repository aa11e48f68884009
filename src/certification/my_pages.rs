//! The trainee's own certification page (`/ma-certification`): her blocs, her sessions and
//! her CQP, read from her record only (`mine::read`). Nobody else's record is reachable here.

use actix_web::{HttpRequest, HttpResponse, web};

use super::mine;
use crate::accounts::{CurrentUser, Role};
use crate::base::paris::today;
use crate::curriculum::Content;
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ma-certification", web::get().to(page));
}

async fn page(
    req: HttpRequest,
    state: State,
    content: web::Data<Content>,
    me: CurrentUser,
) -> AppResult<HttpResponse> {
    me.require(&[Role::Trainee])?;
    let id = me.id;
    let record = state
        .db(move |c| mine::read(c, &content, id, today()))
        .await?;
    let mut ctx = w::context(&req);
    ctx.insert("me", &me.view());
    ctx.insert("record", &record);
    state.render("certification/mine.html", &ctx)
}
