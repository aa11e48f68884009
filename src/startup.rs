//! Builds the application: pool, migrations, state, routes of every domain.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, dev::Server, web};

use crate::config::AppConfig;
use crate::web::{self as w, AppError, AppState};
use crate::{accounts, cohorts, curriculum, db};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// The pages, in the order they are tried (a file route before the page it would be taken for).
fn pages(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::home::routes);
    cfg.configure(accounts::pages::routes);
    cfg.configure(accounts::account_pages::routes);
    cfg.configure(accounts::contact_pages::routes);
    cfg.configure(accounts::links::routes);
    cfg.configure(accounts::token_pages::routes);
    cfg.configure(accounts::unsubscribe_pages::routes);
    cfg.configure(cohorts::pages::routes);
    cfg.configure(cohorts::cohort_pages::routes);
    cfg.configure(cohorts::end_pages::routes);
    cfg.configure(cohorts::trainee_pages::routes);
    cfg.configure(cohorts::calendar::routes);
    cfg.configure(cohorts::feeds::routes);
    cfg.configure(crate::tracking::pages::routes);
    cfg.configure(crate::tracking::activity_pages::routes);
    cfg.configure(crate::tracking::attendance_pages::routes);
    // Before the pages: `/programmes/P/archive.zip` would else be taken for a module.
    cfg.configure(curriculum::file_pages::routes);
    cfg.configure(curriculum::authoring_pages::routes);
    cfg.configure(curriculum::import_pages::routes);
    cfg.configure(curriculum::draft_pages::routes);
    cfg.configure(curriculum::structure_pages::routes);
    cfg.configure(curriculum::pages::routes);
    cfg.configure(curriculum::quiz_pages::routes);
    cfg.configure(curriculum::assignment_pages::routes);
    cfg.configure(curriculum::markdown_pages::routes);
    cfg.configure(crate::attestation::pages::routes);
    cfg.configure(crate::attestation::verify_pages::routes);
    cfg.configure(crate::certification::doctor_link_pages::routes);
    cfg.configure(crate::evidence::pages::routes);
    cfg.configure(crate::vae::pages::routes);
    cfg.configure(crate::certification::pages::routes);
    cfg.configure(crate::certification::date_pages::routes);
    cfg.configure(crate::certification::cqp_pages::routes);
    cfg.configure(crate::followup::pages::routes);
    cfg.configure(crate::reporting::pages::routes);
    cfg.configure(crate::funding::pages::routes);
    cfg.configure(crate::packages::launch_pages::routes);
    cfg.configure(crate::packages::frame_pages::routes);
    cfg.configure(crate::packages::cmi5_pages::routes);
    cfg.configure(crate::privacy::pages::routes);
    cfg.configure(crate::privacy::erasure::pages::routes);
    cfg.configure(crate::privacy::correction_pages::routes);
    cfg.configure(crate::privacy::export_pages::routes);
    cfg.configure(crate::catalogue::pages::routes);
    cfg.configure(crate::catalogue::entry_pages::routes);
}

impl Application {
    /// Connects, migrates and binds (port 0 picks a free port), ready to run.
    pub async fn build(config: AppConfig) -> anyhow::Result<Application> {
        // Bound first: with port 0 (tests) the addresses it gives out carry the real port.
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| anyhow::anyhow!("PARCOURS_BIND: cannot listen on {}: {e}", config.bind))?;
        let port = listener.local_addr()?.port();
        let mut config = config;
        config.with_bound_port(port);
        let config = Arc::new(config);
        let cfg = config.clone();
        let (pool, content, objects) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let (pool, _) = db::connect(&cfg.database_url, cfg.pool_size)?;
            let applied = db::migrate(&mut *pool.get()?)?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
            let objects = crate::objects::Objects::open(&cfg.files, &cfg.data_dir)?;
            let content = curriculum::load_and_sync(
                &cfg.content_dir,
                &cfg.data_dir,
                objects.programmes.clone(),
                &pool,
            )?;
            Ok((pool, content, objects))
        })
        .await??;
        let content = web::Data::new(content);
        let beats = web::Data::new(crate::tracking::writer::BeatWriter::start(
            pool.clone(),
            crate::tracking::credit_settings(&config),
        )?);
        let removed = crate::vae::documents::clean_tmp(&objects.uploads);
        if removed > 0 {
            tracing::info!(removed, "stale VAE uploads removed");
        }
        let mail_templates = crate::mail::load_templates(&config.templates_dir)?;
        let state = web::Data::new(AppState::new(
            config.clone(),
            pool.clone(),
            objects,
            mail_templates,
        )?);
        if config.mail_worker {
            let worker = crate::mail::worker::Worker::new(&config, pool)?;
            tokio::spawn(worker.run());
        }
        if config.jobs {
            tokio::spawn(crate::jobs::run_scheduler(state.clone(), content.clone()));
        }
        let data = state.clone();
        let player = web::Data::new(crate::packages::Player::new(&config.data_dir));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(content.clone())
                .app_data(beats.clone())
                .app_data(player.clone())
                .app_data(web::FormConfig::default().limit(256 * 1024))
                .wrap(from_fn(w::error_pages))
                .wrap(from_fn(accounts::session::renew))
                .wrap(from_fn(w::csrf::ensure_cookie))
                .wrap(Compress::default())
                .wrap(from_fn(crate::packages::cmi5_cors::cors))
                .wrap(from_fn(crate::packages::frame_pages::origin_guard))
                .wrap(from_fn(w::security_headers))
                .wrap(from_fn(crate::ops::observe::observe))
                .configure(crate::ops::health::routes)
                .route("/static/{name}", web::get().to(w::static_file))
                .route("/documentation/api", web::get().to(crate::openapi::page))
                .configure(pages)
                .service(
                    web::scope("/api/v1")
                        .wrap(from_fn(w::mark_api))
                        .app_data(web::PayloadConfig::new(cohorts::import::MAX_BYTES + 1024))
                        // An id that is not a number (or too large for one) names nothing.
                        .app_data(
                            web::PathConfig::default()
                                .error_handler(|_, _| AppError::NotFound.into()),
                        )
                        .app_data(web::QueryConfig::default().error_handler(|err, _| {
                            AppError::invalid("query", format!("Paramètres invalides : {err}"))
                                .into()
                        }))
                        .app_data(web::JsonConfig::default().limit(256 * 1024).error_handler(
                            |err, _| {
                                AppError::invalid("body", format!("Corps JSON invalide : {err}"))
                                    .into()
                            },
                        ))
                        // Routes are tried in order: the hottest one first.
                        .configure(crate::tracking::api::routes)
                        .route("/openapi.json", web::get().to(crate::openapi::serve))
                        .configure(accounts::api::routes)
                        .configure(curriculum::api::routes)
                        .configure(cohorts::api::routes)
                        .configure(crate::vae::api::routes)
                        .configure(crate::certification::api::routes)
                        .configure(crate::xapi::api::routes)
                        .configure(crate::catalogue::api::routes)
                        .default_service(web::to(w::not_found)),
                )
                .default_service(web::to(w::not_found))
        })
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
