//! CORS for a cmi5 AU hosted on another site (an absolute URL in `cmi5.xml`): the activity
//! page may frame its origin, and that origin, no other, may call its launch's xAPI paths.
//! Same-origin AUs, the files of the package, need none of it.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

use super::frame_pages::on_packages_origin;
use super::play;
use crate::curriculum::Content;
use crate::scorm::package::Found;
use crate::web::State;

/// The origin of an AU hosted on another site, for a launch's secret in an xAPI path.
async fn foreign_au_origin(req: &actix_web::dev::ServiceRequest, origin: &str) -> Option<String> {
    let state = req.app_data::<State>()?;
    let content = req.app_data::<web::Data<Content>>()?.clone();
    let packages = state.config.packages_url.as_deref()?;
    if origin == packages.trim_end_matches('/') || !on_packages_origin(req.request(), state) {
        return None;
    }
    let token = req.path().split('/').nth(2)?.to_string();
    let opened = state
        .db(move |c| play::open(c, &content, &token))
        .await
        .ok()?;
    let Found::Cmi5(course) = &opened.package()?.opened.found else {
        return None;
    };
    let au = course.aus.iter().find(|a| a.id == opened.attempt.item)?;
    let crate::scorm::cmi5::AuUrl::Absolute(url) = &au.url else {
        return None;
    };
    let au_origin = url::Url::parse(url).ok()?.origin().ascii_serialization();
    (au_origin == origin).then_some(au_origin)
}

/// CORS for an AU hosted on another site (an absolute URL in `cmi5.xml`): its own origin, and
/// no other, may call the xAPI paths of its launch. Same-origin AUs need none of it.
pub async fn cors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::dev::ServiceResponse;
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let xapi = req.path().starts_with("/paquets/") && req.path().contains("/xapi/");
    let allowed = match origin {
        Some(o) if xapi => foreign_au_origin(&req, &o).await,
        _ => None,
    };
    let Some(allowed) = allowed else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let mut res = if req.method() == actix_web::http::Method::OPTIONS {
        let preflight = HttpResponse::NoContent()
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, PUT, POST, DELETE",
            ))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, X-Experience-API-Version",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .finish();
        req.into_response(preflight).map_into_right_body()
    } else {
        next.call(req).await?.map_into_left_body()
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&allowed) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Experience-API-Version, ETag"),
    );
    Ok(res)
}
