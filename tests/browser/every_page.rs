//! Every page, as everyone who may see it, at phone and PC size (issue #26): each GET route of
//! the code (read from the sources, `routes.rs`) is filled with a record of the demo data and
//! asked by each kind of person; each page that comes back as HTML is then visited in Chromium
//! by that person (a public page: by a visitor and by the trainee, as the signed-in people see
//! it with only their header changed, which their own pages show) and gets the checks of every journey page (`Browser::page_problems`: axe,
//! no horizontal scrolling on a phone, no inline style, no word of a table cut over two lines),
//! plus a compact header on a phone. Error pages (404, 403, a dead link) are visited too.
//!
//! A new route is visited without anyone listing it. A route whose `{parameter}` the fixture
//! cannot fill, or that nobody gets as a page or a file, fails the test with its name. Only
//! the launch of a package and the packages' own origin are left out (not pages of the site,
//! see `plan`); the package activity page that frames them is visited.

use std::collections::BTreeMap;
use std::time::Instant;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    assignment_files, assignment_submissions, followup_attachments, followup_messages,
    followup_threads, lessons, modules, outbox, programs, vae_documents,
};
use reqwest::multipart::{Form, Part};

use crate::common::*;
use crate::driver::{Browser, DESKTOP, PHONE, Size};
use crate::package_fixture::{GOLF, activity_path, package_trainee};

/// The organism's copy of the CQP that has a package activity.
const PACKAGE_PROGRAM: &str = "CQP-PAQUET";

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// The tallest the header may be on a phone (844 px high): brand and account on one line,
/// the menu on a second one that scrolls sideways.
const PHONE_HEADER_MAX: f64 = 120.0;

/// Who looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Trainee,
    /// The trainee's employer doctor.
    Doctor,
    Trainer,
    OrganismAdmin,
    PlatformAdmin,
    /// A trainee of the organism's copy of the CQP that plays an e-learning package: only
    /// her activity page is visited (the routes are asked by the others).
    PackageTrainee,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::Trainee,
    Who::Doctor,
    Who::Trainer,
    Who::OrganismAdmin,
    Who::PlatformAdmin,
];

impl Who {
    fn role(self) -> Option<Role> {
        match self {
            Who::Anonymous => None,
            Who::Trainee => Some(Role::Trainee),
            Who::Doctor => Some(Role::Doctor),
            Who::Trainer => Some(Role::Trainer),
            Who::OrganismAdmin => Some(Role::OrganismAdmin),
            Who::PlatformAdmin => Some(Role::Admin),
            Who::PackageTrainee => Some(Role::Trainee),
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Who::Anonymous => "visiteur",
            Who::Trainee => "stagiaire",
            Who::Doctor => "medecin",
            Who::Trainer => "formatrice",
            Who::OrganismAdmin => "direction",
            Who::PlatformAdmin => "plateforme",
            Who::PackageTrainee => "stagiaire-paquet",
        }
    }
}

/// The records the routes name: the demo organism (`parcours demo`), the example import file
/// and what its people do in a first week.
struct Fixture {
    org: i64,
    cohort: i64,
    trainee: i64,
    /// The demo's closed sheet of two weeks ago.
    closed_session: i64,
    /// Today's sheet, opened by the trainer: the one the routes get.
    session: i64,
    attestation: i64,
    attestation_code: String,
    thread: i64,
    attachment: i64,
    /// An attempt in progress; `submitted` is the one sent before it.
    attempt: i64,
    submitted: i64,
    vae: i64,
    vae_document: i64,
    vae_pending: String,
    /// A CQP certification session with the trainee registered by derogation.
    cert_session: i64,
    /// A trainee of the cohort with her CQP and its certificate.
    graduate: i64,
    invitation: String,
    reset: String,
    /// The token of the doctor's link in the attestation's mail (`/medecin/{token}`).
    doctor_link: String,
    /// The token of a doctor's "ne plus recevoir" link (`/desabonnement/{token}`).
    unsubscribe: String,
    /// The token of a change of the trainee's address (`/adresse/confirmation/{token}`).
    email_change: String,
    /// A module in which the trainee has written nothing yet (in M1 her thread exists, and
    /// `/mon-suivi/modules/{M1}` leads to it).
    module_id: i64,
    lesson: String,
    /// An assignment of M1, the trainee's version of it, and the file handed in with it.
    assignment: String,
    submission: i64,
    submission_file: i64,
    cohort_feed: String,
    trainee_feed: String,
    /// A cohort published in the catalogue.
    listed: i64,
    /// `(email, password)` of each signed-in kind of person.
    logins: BTreeMap<Who, (String, String)>,
}

impl Fixture {
    /// The value of `{name}` in `route`, or why there is none.
    fn param(&self, route: &str, name: &str) -> Result<String, String> {
        let under = |prefixes: &[&str]| prefixes.iter().any(|p| route.starts_with(p));
        let id = match name {
            "org" => self.org,
            "id" if under(&["/organismes/", "/api/v1/organisms/"]) => self.org,
            "id" if under(&["/promotions/", "/api/v1/cohorts/"]) => self.cohort,
            "id" if under(&["/catalogue/"]) => self.listed,
            "id" if route == "/stagiaires/{id}/certification/certificat" => self.graduate,
            "id" if under(&["/stagiaires/", "/api/v1/trainees/"]) => self.trainee,
            "id" if under(&["/seances/"]) => self.session,
            "id" if under(&["/attestations/"]) => self.attestation,
            "id" if under(&["/suivi/pieces/"]) => self.attachment,
            "id" if under(&["/suivi/"]) => self.thread,
            "id" if under(&["/tentatives/"]) => self.attempt,
            "id" if under(&["/devoirs/fichiers/"]) => self.submission_file,
            "id" if under(&["/devoirs/"]) => self.submission,
            "id" if under(&["/ma-vae/", "/vae/dossiers/"]) => self.vae,
            "id" if under(&["/vae/documents/"]) => self.vae_document,
            "id" if under(&["/certification/"]) => self.cert_session,
            "module" if under(&["/mon-suivi/"]) => self.module_id,
            _ => {
                return match (name, route) {
                    ("program", _) => Ok("CQP-AM".into()),
                    ("module", _) => Ok("M1".into()),
                    ("slug", r) if r.contains("/devoirs/") => Ok(self.assignment.clone()),
                    ("slug", _) => Ok(self.lesson.clone()),
                    ("code", r) if r.starts_with("/auteur/") => Ok("CQP-DEMO".into()),
                    ("folder", _) => Ok("01-suivi-parcours-sante".into()),
                    ("path:.*", _) => Ok(format!(
                        "{}/lessons/01-role-assistant-parcours-sante.md",
                        "01-suivi-parcours-sante"
                    )),
                    ("code", "/verifier/{code}") => Ok(parcours::attestation::rules::display_code(
                        &self.attestation_code,
                    )),
                    ("name", "/static/{name}") => Ok("parcours.css".into()),
                    ("name", r) if r.contains("/fichiers/") => crate::common::module_files("M1")
                        .into_iter()
                        .next()
                        .ok_or_else(|| "M1 has no case file".to_string()),
                    ("token", "/invitation/{token}") => Ok(self.invitation.clone()),
                    ("token", "/mot-de-passe/{token}") => Ok(self.reset.clone()),
                    ("token", "/calendrier/promotion/{token}") => Ok(self.cohort_feed.clone()),
                    ("token", "/calendrier/stagiaire/{token}") => Ok(self.trainee_feed.clone()),
                    ("token", "/vae/confirmation/{token}") => Ok(self.vae_pending.clone()),
                    ("token", "/medecin/{token}") => Ok(self.doctor_link.clone()),
                    ("token", "/desabonnement/{token}") => Ok(self.unsubscribe.clone()),
                    ("token", "/adresse/confirmation/{token}") => Ok(self.email_change.clone()),
                    _ => Err(format!(
                        "GET {route}: no fixture value for {{{name}}}: add one to \
                         Fixture::param in tests/browser/every_page.rs"
                    )),
                };
            }
        };
        Ok(id.to_string())
    }

    /// The route with its parameters filled in.
    fn fill(&self, route: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = route;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').unwrap() + start;
            out.push_str(&rest[..start]);
            out.push_str(&self.param(route, &rest[start + 1..end])?);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A page's form sent by a signed-in client, with the CSRF token of one of its pages.
async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    // Any page of the person's has the token: the home page, or the login page for a visitor.
    let home = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = if home.contains("csrf_token") {
        csrf_of(&home)
    } else {
        csrf_from(c, &app.url("/connexion")).await
    };
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(path)).form(&form).send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The token at the end of the newest link starting with `prefix` in the outbox.
fn token_in_outbox(app: &TestApp, prefix: &str) -> String {
    let mut conn = app.conn();
    let body: String = outbox::table
        .filter(outbox::body_text.like(format!("%{prefix}%")))
        .order(outbox::id.desc())
        .select(outbox::body_text)
        .first(&mut *conn as &mut DbConn)
        .unwrap_or_else(|e| panic!("no mail with a link {prefix}…: {e}"));
    let link = link_in(&body, prefix);
    link[link.find(prefix).unwrap() + prefix.len()..].to_string()
}

fn user_id(app: &TestApp, email: &str) -> i64 {
    parcours::accounts::store::by_email(&mut app.conn(), email)
        .unwrap()
        .unwrap()
        .id
}

/// The demo (as `parcours demo` makes it), the example file imported into its cohort, and a
/// first week: today's sheet opened, an attestation, a question with a file, an evaluation
/// sent and another begun, the trainee's VAE file with a document, a stranger's VAE request
/// waiting for its address, an invitation, a password reset, an API token.
async fn setup(app: &TestApp) -> (Fixture, BTreeMap<Who, reqwest::Client>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // The app recorded the reference programmes when it started.
    let demo = parcours::demo::seed(&mut app.conn()).unwrap();
    let mut logins = BTreeMap::new();
    for who in EVERYONE {
        if let Some(role) = who.role() {
            let l = demo.iter().find(|l| l.role == role).unwrap();
            logins.insert(who, (l.email.clone(), l.password.clone()));
        }
    }
    let mut clients = BTreeMap::from([(Who::Anonymous, client())]);
    for (who, (email, password)) in &logins {
        let c = client();
        let res = login(app, &c, email, password).await;
        assert_eq!(res.status(), 303, "login of {email}");
        clients.insert(*who, c);
    }
    let org = parcours::organisms::store::by_name(&mut app.conn(), parcours::demo::DEMO_ORGANISM)
        .unwrap()
        .unwrap()
        .id;
    let cohort =
        parcours::cohorts::store::cohort_by_name(&mut app.conn(), org, parcours::demo::DEMO_COHORT)
            .unwrap()
            .unwrap();
    let trainee = user_id(app, &logins[&Who::Trainee].0);
    let trainer = user_id(app, &logins[&Who::Trainer].0);
    let (trainee_c, trainer_c, admin_c) = (
        &clients[&Who::Trainee],
        &clients[&Who::Trainer],
        &clients[&Who::OrganismAdmin],
    );

    // The organism's own copy of the CQP, for the authoring pages.
    let res = admin_c
        .post_form(
            app,
            &format!("/organismes/{org}/programmes"),
            &[
                ("source", "CQP-AM"),
                ("code", "CQP-DEMO"),
                ("title", "CQP de l'organisme"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "copy of the CQP");

    // The example file of the README, with its accents, former jobs and group practice.
    let csv = std::fs::read(root.join("examples/stagiaires.csv")).unwrap();
    let res = upload_import(app, admin_c, cohort, csv).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "import: {}",
        res.status()
    );

    // Today's morning, its sheet opened by the trainer.
    let (m1, closed_session) = {
        let mut conn = app.conn();
        let m1: i64 = modules::table
            .inner_join(programs::table)
            .filter(programs::code.eq("CQP-AM"))
            .filter(modules::code.eq("M1"))
            .select(modules::id)
            .first(&mut *conn as &mut DbConn)
            .unwrap();
        let closed = parcours::cohorts::store::sessions_of(&mut conn, cohort).unwrap()[0].id;
        (m1, closed)
    };
    let session = {
        let mut conn = app.conn();
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
        parcours::cohorts::store::add_sessions(
            &mut conn,
            trainer,
            org,
            cohort,
            &[parcours::cohorts::store::NewSession {
                module_id: m1,
                trainer_id: Some(trainer),
                day: parcours::base::paris::today(),
                starts_at: t(0, 0),
                ends_at: t(23, 59),
                place: "Salle 2, 12 rue des Écoles",
            }],
        )
        .unwrap();
        parcours::cohorts::store::sessions_of(&mut conn, cohort)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .max()
            .unwrap()
    };
    let res = post_form(
        app,
        trainer_c,
        &format!("/seances/{session}/emargement/ouvrir"),
        &[],
    )
    .await;
    assert_eq!(res.status(), 303, "sheet opened");

    // A certification session, the trainee registered for it by derogation.
    let res = post_form(
        app,
        admin_c,
        &format!("/organismes/{org}/certification"),
        &[
            ("held_on", "2026-11-20"),
            ("place", "Lyon"),
            ("jury", "Jury de branche"),
            ("blocs", "M1"),
            ("blocs", "M2"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "certification session");
    let cert_session: i64 = location(&res)
        .trim_start_matches("/certification/")
        .parse()
        .unwrap();
    let res = post_form(
        app,
        admin_c,
        &format!("/certification/{cert_session}/candidats"),
        &[
            ("trainee_id", trainee.to_string().as_str()),
            ("derogation", "Accord du jury pour la démonstration"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "certification registration");
    // Her results there: M1 acquired, M2 to pass again, as her own certification page
    // (`/ma-certification`) and her programme page show them.
    let res = post_form(
        app,
        admin_c,
        &format!("/certification/{cert_session}/candidats/{trainee}/resultats"),
        &[("bloc_M1", "acquired"), ("bloc_M2", "not_acquired")],
    )
    .await;
    assert_eq!(res.status(), 303, "certification results");
    // Another trainee of the cohort who has every bloc and her CQP, its certificate uploaded.
    let graduate = app.create_user(
        Role::Trainee,
        Some(org),
        "diplomee@demo.fr",
        "mot-de-passe-solide",
    );
    app.enrol(org, cohort, graduate);
    for (code, _) in parcours::certification::store::cqp_blocs(&mut app.conn()).unwrap() {
        use parcours::db::schema::certification_blocs as cb;
        diesel::insert_into(cb::table)
            .values((
                cb::trainee_id.eq(graduate),
                cb::bloc.eq(code),
                cb::result.eq("acquired"),
                cb::decided_on.eq(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
                cb::recorded_at.eq(parcours::db::now()),
            ))
            .execute(&mut *app.conn() as &mut parcours::db::DbConn)
            .unwrap();
    }
    let res = post_form(
        app,
        admin_c,
        &format!("/stagiaires/{graduate}/certification"),
        &[
            ("obtained_on", "2026-11-30"),
            ("certificate_number", "CQP-DEMO-1"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "CQP recorded");
    let res = admin_c
        .post_multipart(
            app,
            &format!("/stagiaires/{graduate}/certification/certificat"),
            |f| {
                f.part(
                    "certificate",
                    reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
                        .file_name("cqp.pdf"),
                )
            },
        )
        .await;
    assert_eq!(res.status(), 303, "CQP certificate");

    // An attestation, by derogation.
    let res = post_form(
        app,
        admin_c,
        &format!("/stagiaires/{trainee}/attestations"),
        &[
            ("kind", "final"),
            ("derogation", "1"),
            ("reason", "Décision du jury : parcours validé en stage"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "attestation issued");
    let (attestation, attestation_code): (i64, String) = {
        use parcours::db::schema::attestations;
        attestations::table
            .filter(attestations::trainee_id.eq(trainee))
            .select((attestations::id, attestations::code))
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };

    // A question with a file in her M1 thread (the demo's, answered by the trainer).
    let thread: i64 = followup_threads::table
        .filter(followup_threads::trainee_id.eq(trainee))
        .filter(followup_threads::module_id.eq(m1))
        .select(followup_threads::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let page = format!("/suivi/{thread}");
    let token = csrf_from(trainee_c, &app.url(&page)).await;
    let form = Form::new()
        .text("csrf_token", token)
        .text("kind", "question")
        .text("body", "Voici le protocole du cabinet : est-il à jour ?")
        .part(
            "file",
            Part::bytes(PDF.to_vec()).file_name("protocole du cabinet.pdf"),
        );
    let res = trainee_c
        .post(app.url(&page))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "question asked");
    let attachment = followup_attachments::table
        .inner_join(followup_messages::table)
        .filter(followup_messages::thread_id.eq(thread))
        .select(followup_attachments::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();

    // An evaluation sent (with no answer), then another begun.
    let mut attempts = vec![];
    for _ in 0..2 {
        let res = post_form(app, trainee_c, "/programmes/CQP-AM/M1/evaluation", &[]).await;
        assert_eq!(res.status(), 303, "attempt started");
        let id: i64 = location(&res)
            .trim_start_matches("/tentatives/")
            .parse()
            .unwrap();
        attempts.push(id);
        if attempts.len() == 1 {
            let res = post_form(app, trainee_c, &format!("/tentatives/{id}"), &[]).await;
            assert!(
                res.status().is_redirection(),
                "attempt sent: {}",
                res.status()
            );
        }
    }
    let lesson: String = lessons::table
        .filter(lessons::module_id.eq(m1))
        .order(lessons::position.asc())
        .select(lessons::slug)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();

    // A version of an M1 assignment, with a file, waiting for the trainer.
    let assignment = text_and_files_assignment("M1");
    let page = format!("/programmes/CQP-AM/M1/devoirs/{assignment}");
    let token = csrf_from(trainee_c, &app.url(&page)).await;
    let form = Form::new()
        .text("csrf_token", token)
        .text(
            "answer",
            "Les seize situations, puis les missions de mon cabinet.",
        )
        .part("file", Part::bytes(PDF.to_vec()).file_name("devoir M1.pdf"));
    let res = trainee_c
        .post(app.url(&page))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "assignment handed in");
    let (submission, submission_file): (i64, i64) = assignment_files::table
        .inner_join(assignment_submissions::table)
        .filter(assignment_submissions::trainee_id.eq(trainee))
        .select((assignment_submissions::id, assignment_files::id))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();

    // The trainee's VAE file with one document.
    let request = format!("/organismes/{org}/vae/demande");
    let token = csrf_from(trainee_c, &app.url(&request)).await;
    let mut form = Form::new()
        .text("csrf_token", token)
        .text("phone", "06 12 34 56 78")
        .text("address", "3 rue des Lilas, 69003 Lyon")
        .text("employer", "Cabinet du Dr Martin")
        .text("exp1_from", "2019-01-02")
        .text("exp1_to", "2025-06-30")
        .text("exp1_employer", "Cabinet du Dr Martin")
        .text("exp1_role", "Secrétaire médicale")
        .text("exp1_hours", "4800")
        .text("exp1_missions", "administratif")
        .text("exp1_missions", "coordination");
    for m in ["M1", "M2", "M3", "M4"] {
        form = form.text("modules", m);
    }
    let form = form.text("consent", "1").part(
        "doc_cerfa_12818",
        Part::bytes(PDF.to_vec())
            .file_name("cerfa 12818.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let res = trainee_c
        .post(app.url(&request))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "VAE request");
    let vae: i64 = location(&res)
        .trim_start_matches("/ma-vae/")
        .parse()
        .unwrap();
    let vae_document = vae_documents::table
        .filter(vae_documents::request_id.eq(vae))
        .select(vae_documents::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    // A stranger's request, waiting for its address to be confirmed.
    let vae_pending = parcours::web::random_token(32).unwrap();
    parcours::vae::pending_store::insert(
        &mut app.conn(),
        &parcours::vae::pending_store::NewPending {
            token_hash: &parcours::accounts::invite::hash_token(&vae_pending),
            organism_id: org,
            email: "camille.durand@exemple.fr",
            name: "Camille Durand",
            phone: "06 12 34 56 78",
            address: "3 rue des Lilas, 69003 Lyon",
            employer: "Cabinet du Dr Martin",
            requested: &["M1".to_string()],
            experiences: &[],
            ip: "127.0.0.1",
        },
    )
    .unwrap();

    // An invitation, and a password reset asked by the demo's doctor.
    let res = post_form(
        app,
        admin_c,
        &format!("/organismes/{org}/invitations"),
        &[
            ("email", "marie-claude.dupont-lefebvre@isf-demo.fr"),
            ("name", "Marie-Claude Dupont-Lefebvre"),
            ("role", "trainer"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "invitation");
    let invitation = token_in_outbox(app, "/invitation/");
    let doctor_link = token_in_outbox(app, "/medecin/");
    let fx_doctor = logins[&Who::Doctor].0.clone();
    let unsubscribe = parcours::accounts::unsubscribe::issue(
        &mut app.conn(),
        "",
        user_id(app, &fx_doctor),
        "weekly_digest",
    )
    .unwrap()
    .trim_start_matches("/desabonnement/")
    .to_string();
    // The trainee asks for a new address and her organism to correct her name: the
    // confirmation page, her request and the staff's list of requests have something to show.
    let fx_trainee = user_id(app, &logins[&Who::Trainee].0);
    let email_change = parcours::accounts::email_change::create(
        &mut app.conn(),
        fx_trainee,
        "nouvelle-adresse@exemple.fr",
    )
    .unwrap()
    .0;
    {
        use parcours::db::schema::identity_corrections as ic;
        diesel::insert_into(ic::table)
            .values((
                ic::user_id.eq(fx_trainee),
                ic::organism_id.eq(org),
                ic::current_name.eq("Nom actuel"),
                ic::requested_name.eq("Nom corrigé de naissance"),
                ic::note.eq("Une précision."),
                ic::state.eq("pending"),
                ic::created_at.eq(parcours::db::now()),
            ))
            .execute(&mut *app.conn() as &mut DbConn)
            .unwrap();
    }
    let res = post_form(
        app,
        &clients[&Who::Anonymous],
        "/mot-de-passe-oublie",
        &[("email", fx_doctor.as_str())],
    )
    .await;
    assert_eq!(res.status(), 200, "reset asked");
    let reset = token_in_outbox(app, "/mot-de-passe/");

    // The organism's software reads the API with a token.
    let admin = user_id(app, &logins[&Who::OrganismAdmin].0);
    let body = parcours::web::random_token(32).unwrap();
    parcours::accounts::api_tokens::create(&mut app.conn(), org, admin, "Logiciel RH", &body, 30)
        .unwrap();

    let cohort_feed = parcours::cohorts::store::cohort(&mut app.conn(), cohort)
        .unwrap()
        .unwrap()
        .ics_token;
    let trainee_feed = parcours::cohorts::store::trainee_ics_token(&mut app.conn(), trainee)
        .unwrap()
        .unwrap();
    // A ProA suspension still open: her file lists it with its end form.
    let line = parcours::cohorts::store::trainee(
        &mut app.conn(),
        parcours::cohorts::store::Scope::Checked,
        trainee,
    )
    .unwrap()
    .unwrap();
    let window = parcours::cohorts::rules::Suspension {
        from: chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        to: None,
    };
    parcours::cohorts::store::add_suspension(&mut app.conn(), admin, &line, window, "OPCO EP")
        .unwrap();
    // A funding file sent 45 days ago: her funding page shows it and its history, the
    // organism's list flags it.
    let sent_on = parcours::base::paris::today() - chrono::Duration::days(45);
    let funding = parcours::funding::rules::Form {
        funder: "opco_ep".into(),
        scheme: "proa".into(),
        file_number: "EP-2026-0042".into(),
        status: "envoye".into(),
        sent_on: sent_on.to_string(),
        ..Default::default()
    };
    parcours::funding::file::save(&mut app.conn(), admin, &line, &funding).unwrap();
    let player = package_trainee(app, &clients[&Who::OrganismAdmin], org, PACKAGE_PROGRAM).await;
    logins.insert(Who::PackageTrainee, player);
    let fixture = Fixture {
        org,
        cohort,
        trainee,
        closed_session,
        session,
        attestation,
        attestation_code,
        thread,
        attachment,
        attempt: attempts[1],
        submitted: attempts[0],
        vae,
        vae_document,
        vae_pending,
        cert_session,
        graduate,
        invitation,
        reset,
        doctor_link,
        unsubscribe,
        email_change,
        module_id: modules::table
            .inner_join(programs::table)
            .filter(programs::code.eq("CQP-AM"))
            .filter(modules::code.eq("M2"))
            .select(modules::id)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap(),
        lesson,
        assignment,
        submission,
        submission_file,
        cohort_feed,
        trainee_feed,
        listed: app.listed_cohort(org),
        logins,
    };
    (fixture, clients)
}

/// One page to visit: who, a name for its screenshot and report, and its address.
struct Visit {
    who: Who,
    name: String,
    path: String,
}

fn slug(route: &str) -> String {
    let s: String = route
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>();
    if s.is_empty() {
        "accueil".into()
    } else {
        s.join("-")
    }
}

/// The pages to visit: every GET route that someone gets as HTML, as each of them (public
/// pages as a visitor and as the trainee), then the error pages. Fails with every route it cannot fill or that nobody gets.
async fn plan(app: &TestApp, fx: &Fixture, clients: &BTreeMap<Who, reqwest::Client>) -> Vec<Visit> {
    let routes = crate::routes::registered();
    let mut failures = vec![];
    let mut visits = vec![];
    let mut forbidden: BTreeMap<Who, String> = BTreeMap::new();
    let mut files = vec![];
    for (method, route) in &routes {
        // The API answers JSON to programs (its own page is /documentation/api), and a
        // route named like a file (`suivi.csv`, `preuves.zip`) is a download.
        let last = route.rsplit('/').next().unwrap();
        if method != "GET" || route.starts_with("/api/") || last.contains('.') {
            continue;
        }
        // Not pages of ours: the launch of a package redirects its frame to the packages'
        // origin, whose routes answer only there and serve the package's own HTML. The frame
        // they make is in the package activity page, visited below.
        if route.starts_with("/paquets/") || route.ends_with("/paquets/{slug}/{item}") {
            continue;
        }
        let path = match fx.fill(route) {
            Ok(p) => p,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let mut answers = vec![];
        let mut seen_by = vec![];
        let mut file = false;
        for who in EVERYONE {
            let res = clients[&who].get(app.url(&path)).send().await.unwrap();
            let status = res.status().as_u16();
            let html = res
                .headers()
                .get("content-type")
                .and_then(|t| t.to_str().ok())
                .is_some_and(|t| t.starts_with("text/html"));
            match (status, html) {
                (200, true) => seen_by.push(who),
                (200, false) => file = true,
                (403, true) => {
                    forbidden.entry(who).or_insert_with(|| path.clone());
                }
                _ => {}
            }
            answers.push(format!("{} {status} {}", who.slug(), location(&res)));
        }
        if file {
            files.push(route.clone());
            continue;
        }
        if seen_by.is_empty() {
            failures.push(format!(
                "GET {route} ({path}): nobody gets it as a page nor as a file: {}",
                answers.join(", ")
            ));
        }
        // A public page differs for signed-in people only by their header, which their own
        // pages show: it is visited as a visitor and as the trainee.
        let public = seen_by.contains(&Who::Anonymous);
        for who in seen_by {
            if public && !matches!(who, Who::Anonymous | Who::Trainee) {
                continue;
            }
            visits.push(Visit {
                who,
                name: format!("{}-{}", who.slug(), slug(route)),
                path: path.clone(),
            });
        }
    }
    assert!(
        failures.is_empty(),
        "routes the visit of every page cannot reach:\n{}",
        failures.join("\n")
    );
    eprintln!("files and feeds, not visited: {files:?}");
    // States of a page that the routes' one value does not show.
    visits.push(Visit {
        who: Who::Trainee,
        name: "stagiaire-tentatives-envoyee".into(),
        path: format!("/tentatives/{}", fx.submitted),
    });
    for who in [Who::Trainer, Who::OrganismAdmin] {
        visits.push(Visit {
            who,
            name: format!("{}-seances-emargement-close", who.slug()),
            path: format!("/seances/{}/emargement", fx.closed_session),
        });
    }
    // A package activity: played by its trainee (its frame goes through the launch and the
    // packages' origin), previewed by the organism's staff.
    for who in [Who::PackageTrainee, Who::OrganismAdmin] {
        visits.push(Visit {
            who,
            name: format!("{}-activite-paquet", who.slug()),
            path: activity_path(PACKAGE_PROGRAM, &GOLF),
        });
    }
    // Error pages.
    for who in EVERYONE {
        visits.push(Visit {
            who,
            name: format!("{}-erreur-404", who.slug()),
            path: "/cette-page-n-existe-pas".into(),
        });
        if let Some(path) = forbidden.get(&who) {
            visits.push(Visit {
                who,
                name: format!("{}-erreur-403", who.slug()),
                path: path.clone(),
            });
        }
    }
    visits.push(Visit {
        who: Who::Anonymous,
        name: "visiteur-invitation-invalide".into(),
        path: "/invitation/lien-invalide".into(),
    });
    visits.sort_by_key(|v| v.who);
    visits
}

async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.goto("/connexion").await;
    b.wait_title("Connexion").await;
    b.fill("email", email).await;
    b.fill("password", password).await;
    b.button("Se connecter").await.click().await.unwrap();
    b.wait_title("Accueil").await;
}

async fn every_page(size: Size) {
    let started = Instant::now();
    let app = spawn_app().await;
    let (fx, clients) = setup(&app).await;
    let visits = plan(&app, &fx, &clients).await;
    let ready = started.elapsed();
    let b = Browser::start(size, &app.address).await;
    let mut problems = vec![];
    let mut counts: BTreeMap<Who, usize> = BTreeMap::new();
    let mut current = Who::Anonymous;
    let mut tallest_header = 0f64;
    for v in &visits {
        if v.who != current {
            b.c.delete_all_cookies().await.unwrap();
            if let Some((email, password)) = fx.logins.get(&v.who) {
                sign_in(&b, email, password).await;
            }
            current = v.who;
        }
        b.goto(&v.path).await;
        b.wait_until(
            &format!("{} loaded", v.path),
            "return document.readyState === 'complete'",
            vec![],
        )
        .await;
        let landed = b.path().await;
        let wanted = v.path.split('?').next().unwrap();
        if landed != wanted {
            problems.push(format!(
                "{}: {} landed on {landed} in the browser",
                v.name, v.path
            ));
            continue;
        }
        *counts.entry(v.who).or_default() += 1;
        let page = format!("tout-{}", v.name);
        problems.extend(b.page_problems(&page).await);
        if size == PHONE {
            let header: f64 = b
                .js("const h = document.querySelector('body > header');\
                     return h ? h.getBoundingClientRect().height : 0")
                .await;
            tallest_header = tallest_header.max(header);
            if header > PHONE_HEADER_MAX {
                problems.push(format!(
                    "{page}: the header is {header:.0} px high on a phone (at most {PHONE_HEADER_MAX})"
                ));
            }
        }
    }
    eprintln!(
        "every page at {} size: {} visits ({}) in {:.1} s (server and fixture {:.1} s){}",
        size.name,
        counts.values().sum::<usize>(),
        counts
            .iter()
            .map(|(w, n)| format!("{} {n}", w.slug()))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64(),
        ready.as_secs_f64(),
        if size == PHONE {
            format!("; tallest header {tallest_header:.0} px")
        } else {
            String::new()
        }
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn every_page_as_everyone_on_a_phone() {
    every_page(PHONE).await;
}

#[tokio::test]
async fn every_page_as_everyone_on_a_desktop() {
    every_page(DESKTOP).await;
}
