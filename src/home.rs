//! The home page of each role (`/`): the staff's one shows their organism's VAE requests
//! by state. A top-level module, as it reads more than one domain.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::accounts::CurrentUser;
use crate::web::{self as w, AppResult, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

async fn home(req: HttpRequest, state: State, user: CurrentUser) -> AppResult<HttpResponse> {
    let mut ctx = w::context(&req);
    ctx.insert("me", &user.view());
    if let (true, Some(org)) = (user.role.is_staff(), user.organism_id) {
        let counts = state
            .db(move |c| Ok(crate::vae::store::counts(c, org)?))
            .await?;
        ctx.insert("vae_counts", &crate::vae::rules::state_counts(&counts));
    }
    state.render("accounts/home.html", &ctx)
}
