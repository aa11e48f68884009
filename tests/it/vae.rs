//! VAE: the public request, documents, the workflow with its mails, and the effect of a
//! partial decision on the trainee's path; every bad input refused with nothing stored.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    audit_events, outbox, path_adjustments, users, vae_documents, vae_pending_documents,
    vae_pending_requests, vae_requests,
};
use reqwest::multipart::{Form, Part};

use crate::common::*;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    // A long run of zeros: what a decompression bomb's IDAT compresses to.
    v.extend(std::iter::repeat_n(0u8, 4096));
    v
}

/// The fields of the public request form, after the CSRF token `form` already holds.
pub(crate) fn request_form(form: Form, email: Option<&str>, hours: &str) -> Form {
    let mut f = form
        .text("phone", "06 12 34 56 78")
        .text("address", "3 rue des Lilas, 69003 Lyon")
        .text("employer", "Cabinet du Dr Martin")
        .text("exp1_from", "2023-01-02")
        .text("exp1_to", "2025-06-30")
        .text("exp1_employer", "Cabinet du Dr Martin")
        .text("exp1_role", "Secrétaire médicale")
        .text("exp1_hours", hours.to_string())
        .text("exp1_missions", "administratif")
        .text("exp1_missions", "coordination");
    for m in ["M1", "M2", "M3", "M4"] {
        f = f.text("modules", m);
    }
    f = f.text("consent", "1");
    if let Some(e) = email {
        f = f
            .text("email", e.to_string())
            .text("name", "Camille Durand");
    }
    f
}

pub(crate) fn form_path(org: i64) -> String {
    format!("/organismes/{org}/vae/demande")
}

async fn public_request(app: &TestApp, org: i64, email: &str, hours: &str) -> reqwest::Response {
    public_request_at(&app.address, org, email, hours, Some(PDF.to_vec())).await
}

/// The public form sent to a server, with one document if given.
async fn public_request_at(
    base: &str,
    org: i64,
    email: &str,
    hours: &str,
    pdf: Option<Vec<u8>>,
) -> reqwest::Response {
    let c = client();
    c.post_multipart(base, &form_path(org), |form| {
        let mut form = request_form(form, Some(email), hours);
        if let Some(pdf) = pdf {
            form = form.part(
                "doc_cerfa_12818",
                Part::bytes(pdf)
                    .file_name("cerfa 12818.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        }
        form
    })
    .await
}

/// A PDF of about `kb` KiB whose content differs with `tag`.
fn pdf_of(kb: usize, tag: u8) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n".to_vec();
    v.extend(std::iter::repeat_n(tag, kb * 1024));
    v
}

/// The path of the confirmation link in a mail's text.
fn confirmation_path(text: &str) -> String {
    let start = text
        .find("/vae/confirmation/")
        .expect("confirmation link in mail");
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap()
        .to_string()
}

/// The confirmation link queued for an address (the newest one).
fn confirmation_of(app: &TestApp, email: &str) -> String {
    let mut conn = app.conn();
    let body: String = outbox::table
        .filter(outbox::kind.eq("vae_confirm"))
        .filter(outbox::recipients.like(format!("%\"{email}\"%")))
        .order(outbox::id.desc())
        .select(outbox::body_text)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    confirmation_path(&body)
}

/// Opens a confirmation link and presses its button, as the owner of the address does.
async fn confirm(app: &TestApp, path: &str) -> reqwest::Response {
    let c = client();
    let page = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200, "{path}");
    let html = page.text().await.unwrap();
    c.post_form_of(app, &html, path, NO_FIELDS).await
}

/// The status of a confirmation link's page.
async fn confirm_status(app: &TestApp, path: &str) -> u16 {
    client()
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn accounts_with(app: &TestApp, email: &str) -> i64 {
    let mut conn = app.conn();
    users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

fn requests_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    vae_requests::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

fn pending_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    vae_pending_requests::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

fn request_of(app: &TestApp, email: &str) -> (i64, i64) {
    let mut conn = app.conn();
    vae_requests::table
        .inner_join(users::table.on(users::id.eq(vae_requests::candidate_id)))
        .filter(users::email.eq(email))
        .select((vae_requests::id, users::id))
        .first(&mut *conn as &mut DbConn)
        .unwrap()
}

fn state_of(app: &TestApp, id: i64) -> String {
    let mut conn = app.conn();
    vae_requests::table
        .find(id)
        .select(vae_requests::state)
        .first(&mut *conn as &mut DbConn)
        .unwrap()
}

fn documents_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    vae_documents::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

/// Files kept on the uploads shelf, and those still waiting in its staging folder.
fn stored_files(app: &TestApp) -> Vec<String> {
    let mut out = app.kept_uploads();
    if let Ok(entries) = std::fs::read_dir(app.objects.uploads.staging()) {
        out.extend(entries.flatten().map(|e| e.path().display().to_string()));
    }
    out
}

fn set_password(app: &TestApp, user_id: i64) {
    let hash = parcours::accounts::password::hash("mot-de-passe-solide").unwrap();
    let mut conn = app.conn();
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(Some(hash)))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
}

async fn step(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    id: i64,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    c.post_form_from(app, page, &format!("/vae/dossiers/{id}/etape"), fields)
        .await
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    page_id: i64,
    target_id: i64,
    kind: &str,
    bytes: Vec<u8>,
    name: &str,
) -> reqwest::Response {
    c.post_multipart_from(
        app,
        &format!("/ma-vae/{page_id}"),
        &format!("/ma-vae/{target_id}/documents"),
        |form| {
            form.text("kind", kind.to_string())
                .part("file", Part::bytes(bytes).file_name(name.to_string()))
        },
    )
    .await
}

#[tokio::test]
async fn vae_from_public_request_to_partial_decision_with_mails_and_a_shorter_path() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    let (staff, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@isp.fr").await;

    let res = public_request(&app, org, "camille@exemple.fr", "2400").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Confirmez votre adresse e-mail"), "{page}");
    assert!(
        !page.contains("inférieure"),
        "no warning above the threshold"
    );
    // Nothing exists for the organism until the address is confirmed; the file waits.
    assert_eq!(accounts_with(&app, "camille@exemple.fr"), 0);
    assert_eq!(requests_count(&app), 0);
    assert_eq!(stored_files(&app).len(), 1, "{:?}", stored_files(&app));

    // The link arrives by mail; opening it alone confirms nothing (mail scanners open links).
    let mails = smtp.wait_for(1, 20).await;
    assert_eq!(mails.len(), 1);
    let link = confirmation_path(&mail_text(&mails[0]));
    let page = client().get(app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Institut Santé Plus"));
    assert_eq!(requests_count(&app), 0);
    let res = confirm(&app, &link).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Votre demande de VAE est enregistrée"),
        "{page}"
    );
    let (id, candidate) = request_of(&app, "camille@exemple.fr");
    assert_eq!(state_of(&app, id), "deposee");
    assert_eq!(documents_count(&app), 1);
    assert_eq!(pending_count(&app), 0);
    assert_eq!(stored_files(&app).len(), 1, "{:?}", stored_files(&app));
    assert_eq!(confirm_status(&app, &link).await, 404, "a link serves once");

    // Invitation and acknowledgement arrive.
    let mails = smtp.wait_for(3, 20).await;
    assert_eq!(mails.len(), 3);
    let texts: Vec<String> = mails.iter().map(|m| mail_text(m)).collect();
    assert!(texts.iter().any(|t| t.contains("/invitation/")));
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Déposée") && t.contains("camille@exemple.fr"))
    );

    // Staff examine and accept; the candidate sees the livret 2 deadline.
    let staff_page = format!("/vae/dossiers/{id}");
    // The periods' missions read as words, not as stored codes.
    let html = staff
        .get(app.url(&staff_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Administratif (accueil, dossier patient, facturation) ; Organisation et coordination des parcours")
            && !html.contains("administratif,coordination"),
        "{html}"
    );
    let r = step(&app, &staff, &staff_page, id, &[("action", "examine")]).await;
    assert_eq!(r.status(), 303);
    let r = step(
        &app,
        &staff,
        &staff_page,
        id,
        &[("action", "accept"), ("note", "Livret 1 complet")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, id), "recevable");

    set_password(&app, candidate);
    let cand = client();
    assert_eq!(
        login(&app, &cand, "camille@exemple.fr", "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let mine = cand
        .get(app.url(&format!("/ma-vae/{id}")))
        .send()
        .await
        .unwrap();
    let mine = mine.text().await.unwrap();
    assert!(mine.contains("Livret 2 attendu avant le"), "{mine}");
    // Depositing without a livret 2 is refused.
    let r = step(
        &app,
        &cand,
        &format!("/ma-vae/{id}"),
        id,
        &[("action", "deposit_livret2")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = upload(&app, &cand, id, id, "livret2", PDF.to_vec(), "livret2.pdf").await;
    assert_eq!(r.status(), 303);
    let r = step(
        &app,
        &cand,
        &format!("/ma-vae/{id}"),
        id,
        &[("action", "deposit_livret2")],
    )
    .await;
    assert_eq!(r.status(), 303);

    let r = step(
        &app,
        &staff,
        &staff_page,
        id,
        &[
            ("action", "plan_jury"),
            ("jury_date", "2027-03-15"),
            ("jury_time", "14:30"),
            ("jury_place", "Lyon, salle 2"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // A trainer of another organism cannot decide.
    let other = app.create_organism("Autre organisme");
    let (intruder, _) = signed_in(&app, Role::Trainer, Some(other), "t@autre.fr").await;
    let r = intruder
        .post_form(
            &app,
            &format!("/vae/dossiers/{id}/etape"),
            &[("action", "decide"), ("outcome", "total")],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(state_of(&app, id), "jury_planifie");
    // The jury of 15/03/2027 has not met: no decision yet; then it has.
    let r = step(
        &app,
        &staff,
        &staff_page,
        id,
        &[("action", "decide"), ("outcome", "total")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("15/03/2027 à 14 h 30"));
    assert_eq!(state_of(&app, id), "jury_planifie");
    set_jury_at(&app, id, chrono::Duration::minutes(-1));
    let r = step(
        &app,
        &staff,
        &staff_page,
        id,
        &[
            ("action", "decide"),
            ("outcome", "partial"),
            ("validated", "M2"),
            ("validated", "M3"),
            ("recommendations", "Compléter M1 et M4 en formation."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, id), "decision");

    // One mail per step: confirmation, invitation, déposée, en examen, recevable, livret 2,
    // jury, décision.
    let mails = smtp.wait_for(8, 20).await;
    let texts: Vec<String> = mails.iter().map(|m| mail_text(m)).collect();
    assert_eq!(texts.len(), 8, "{texts:#?}");
    for phrase in [
        "En examen",
        "Recevable",
        "Livret 2 déposé",
        "15/03/2027 à 14 h 30",
        "Validation partielle",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(phrase)),
            "no mail with {phrase}"
        );
    }
    assert!(texts.iter().any(|t| t.contains("M2, M3")));

    // The history shows who did what.
    let file = staff
        .get(app.url(&staff_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(file.contains("Livret 1 complet"));
    assert!(file.contains("Décision rendue"));

    // Validated modules are kept as VAE adjustments; enrolled, the path is shorter.
    let mut conn = app.conn();
    let adj: Vec<(String, i32)> = path_adjustments::table
        .filter(path_adjustments::trainee_id.eq(candidate))
        .select((path_adjustments::kind, path_adjustments::exempted_minutes))
        .load(&mut *conn as &mut DbConn)
        .unwrap();
    drop(conn);
    assert_eq!(adj, vec![("vae".into(), 98 * 60), ("vae".into(), 35 * 60)]);
    let cohort = app.create_cohort(org, "CQP-AM");
    app.enrol(org, cohort, candidate);
    let path = staff
        .get(app.url(&format!("/stagiaires/{candidate}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(path.contains(&format!("VAE n° {id}")), "{path}");
    assert!(path.contains("133 h"), "266 h minus 98 h and 35 h: {path}");
    // Kept for good: the path form cannot undo a VAE validation.
    let m2: i64 = {
        use parcours::db::schema::{modules, programs};
        let mut conn = app.conn();
        modules::table
            .inner_join(programs::table)
            .filter(programs::code.eq("CQP-AM"))
            .filter(modules::code.eq("M2"))
            .select(modules::id)
            .first(&mut *conn as &mut DbConn)
            .unwrap()
    };
    let r = staff
        .post_form_of(
            &app,
            &path,
            &format!("/stagiaires/{candidate}/parcours"),
            &[
                ("module_id", m2.to_string().as_str()),
                ("kind", "positionnement"),
                ("exempted_hours", "0"),
                ("reason", ""),
                ("document_ref", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let mut conn = app.conn();
    let kept: i64 = path_adjustments::table
        .filter(path_adjustments::trainee_id.eq(candidate))
        .filter(path_adjustments::kind.eq("vae"))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    drop(conn);
    assert_eq!(kept, 2);

    // The candidate sees the decision.
    let mine = cand
        .get(app.url(&format!("/ma-vae/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mine.contains("Validation partielle"));
    assert!(mine.contains("modules validés M2, M3"));
}

#[tokio::test]
async fn vae_a_second_request_in_the_same_year_is_refused_with_the_date() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let (c, _) = signed_in(&app, Role::Trainee, Some(org), "lea@exemple.fr").await;
    let send = || async {
        c.post_multipart(&app, &form_path(org), |form| {
            request_form(form, None, "2000")
        })
        .await
    };
    assert_eq!(send().await.status(), 303);
    let second = send().await;
    assert_eq!(second.status(), 409);
    let body = second.text().await.unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y")
        .to_string();
    assert!(
        body.contains(&format!("déjà été déposée le {today}")),
        "{body}"
    );
    let mut conn = app.conn();
    let n: i64 = vae_requests::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn vae_a_form_with_mistakes_comes_back_filled_in_with_what_is_wrong() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let c = client();
    let path = form_path(org);
    // A period with a date that does not exist, and no consent.
    let res = c
        .post_multipart(&app, &path, |form| {
            form.text("name", "Camille <Durand>")
                .text("email", "camille@exemple.fr")
                .text("phone", "06 12 34 56 78")
                .text("address", "3 rue des Lilas")
                .text("exp1_from", "2023-02-30")
                .text("exp1_to", "2025-06-30")
                .text("exp1_employer", "Cabinet du Dr Martin")
                .text("exp1_role", "Secrétaire médicale")
                .text("exp1_hours", "1700")
                .text("exp1_missions", "coordination")
                .text("modules", "M2")
        })
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Votre accord pour le traitement"), "{html}");
    assert!(
        html.contains("Camille &lt;Durand&gt;"),
        "the name is typed back, escaped"
    );
    assert!(html.contains(r#"value="Cabinet du Dr Martin""#), "{html}");
    assert!(html.contains(r#"value="coordination" checked"#), "{html}");
    assert!(html.contains(r#"value="M2" checked"#) && !html.contains(r#"value="M1" checked"#));
    // With consent, the impossible date is the one thing left to mend.
    let res = c
        .post_multipart(&app, &path, |form| {
            form.text("name", "Camille Durand")
                .text("email", "camille@exemple.fr")
                .text("exp1_from", "2023-02-30")
                .text("consent", "1")
        })
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Période 1 : indiquez des dates valides."),
        "{html}"
    );
    assert!(html.contains(r#"name="consent" value="1" required checked"#));
    let mut conn = app.conn();
    let requests: i64 = vae_requests::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    let accounts: i64 = users::table
        .filter(users::email.eq("camille@exemple.fr"))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    assert_eq!((requests, accounts), (0, 0), "nothing is created");
    drop(conn);
    assert_eq!(pending_count(&app), 0, "nothing waits either");
}

#[tokio::test]
async fn vae_experience_below_the_threshold_is_accepted_with_a_warning() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let res = public_request(&app, org, "jeune@exemple.fr", "600").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("(600 h) est inférieure aux 1607 h"), "{page}");
    let res = confirm(&app, &confirmation_of(&app, "jeune@exemple.fr")).await;
    assert!(res.text().await.unwrap().contains("(600 h) est inférieure"));
    let mut conn = app.conn();
    let below: bool = vae_requests::table
        .select(vae_requests::below_threshold)
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    assert!(below);

    // 0 disables the warning.
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_VAE_MIN_HOURS".into(), "0".into());
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    let page = public_request(&app, org, "jeune@exemple.fr", "600").await;
    assert!(!page.text().await.unwrap().contains("inférieure"));
}

/// A candidate signed in with a request in the `deposee` state.
async fn candidate_with_request(app: &TestApp, org: i64, email: &str) -> (reqwest::Client, i64) {
    let (c, _) = signed_in(app, Role::Trainee, Some(org), email).await;
    let r = c
        .post_multipart(app, &form_path(org), |form| {
            request_form(form, None, "2000")
        })
        .await;
    assert_eq!(r.status(), 303);
    let (id, _) = request_of(app, email);
    (c, id)
}

#[tokio::test]
async fn vae_bad_uploads_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let (c, id) = candidate_with_request(&app, org, "a@exemple.fr").await;
    let (_, other) = candidate_with_request(&app, org, "b@exemple.fr").await;

    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 1024));
    let cases: Vec<(i64, Vec<u8>, &str, u16)> = vec![
        (id, exe, "facture.pdf", 422),
        (id, png_header(100_000, 100_000), "scan.png", 422),
        (id, PDF.to_vec(), "../../etc/passwd", 422),
        (other, PDF.to_vec(), "cerfa.pdf", 404),
    ];
    for (target, bytes, name, status) in cases {
        let r = upload(&app, &c, id, target, "cerfa_12818", bytes, name).await;
        assert_eq!(r.status(), status, "{name}");
        assert_eq!(documents_count(&app), 0, "{name}");
        assert!(
            stored_files(&app).is_empty(),
            "{name}: {:?}",
            stored_files(&app)
        );
    }
    // A livret 2 before the recevabilité is refused too.
    let r = upload(&app, &c, id, id, "livret2", PDF.to_vec(), "l2.pdf").await;
    assert_eq!(r.status(), 409);
    assert_eq!(documents_count(&app), 0);
    assert!(stored_files(&app).is_empty());

    // A good one is kept under its hash, and only its owner and staff may download it.
    let r = upload(&app, &c, id, id, "cerfa_12818", PDF.to_vec(), "cerfa.pdf").await;
    assert_eq!(r.status(), 303);
    let files = stored_files(&app);
    assert_eq!(files.len(), 1);
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(PDF)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert!(files[0].ends_with(&sha));
    let doc: i64 = {
        let mut conn = app.conn();
        vae_documents::table
            .select(vae_documents::id)
            .first(&mut *conn as &mut DbConn)
            .unwrap()
    };
    let mine = c
        .get(app.url(&format!("/vae/documents/{doc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.headers()["content-type"], "application/pdf");
    assert_eq!(mine.bytes().await.unwrap().as_ref(), PDF);
    let (b, _) = signed_in(&app, Role::Trainee, Some(org), "curieux@exemple.fr").await;
    let r = b
        .get(app.url(&format!("/vae/documents/{doc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let other_org = app.create_organism("Autre organisme");
    let (t, _) = signed_in(&app, Role::Trainer, Some(other_org), "t@autre.fr").await;
    let r = t
        .get(app.url(&format!("/vae/documents/{doc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (s, _) = signed_in(&app, Role::Trainer, Some(org), "t@isp.fr").await;
    let r = s
        .get(app.url(&format!("/vae/documents/{doc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn vae_a_200_mb_upload_is_refused_while_streaming_and_nothing_is_stored() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let (c, id) = candidate_with_request(&app, org, "a@exemple.fr").await;
    let token = csrf_from(&c, &app.url(&format!("/ma-vae/{id}"))).await;
    // A chunked body announces no length: only counting while streaming can refuse it.
    let addr = app.address.trim_start_matches("http://").to_string();
    let session = session_cookies(&app, "a@exemple.fr").await;
    let boundary = "XBOUNDARYX";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ncerfa_12818\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gros.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    );
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "POST /ma-vae/{id}/documents HTTP/1.1\r\nHost: {addr}\r\nCookie: {session}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let chunk = |data: &[u8]| {
        let mut v = format!("{:x}\r\n", data.len()).into_bytes();
        v.extend_from_slice(data);
        v.extend_from_slice(b"\r\n");
        v
    };
    s.write_all(&chunk(head.as_bytes())).await.unwrap();
    let block = chunk(&vec![b'A'; 1024 * 1024]);
    let mut sent = 0;
    for _ in 0..200 {
        if s.write_all(&block).await.is_err() {
            break;
        }
        sent += 1;
    }
    let _ = sent;
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut answer))
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(
        answer.starts_with("HTTP/1.1 422") && answer.contains("10 Mo"),
        "{answer}"
    );
    assert_eq!(documents_count(&app), 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));

    // A body announced as too large is refused before it is read.
    let r = c
        .post(app.url(&format!("/ma-vae/{id}/documents")))
        .header("content-type", "multipart/form-data; boundary=x")
        .header("content-length", "209715200")
        .body(Vec::<u8>::new())
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 422);
    }
    assert_eq!(documents_count(&app), 0);
}

/// The `Cookie` header of a fresh login (session and CSRF cookies).
async fn session_cookies(app: &TestApp, email: &str) -> String {
    let c = client();
    let page = c.get(app.url("/connexion")).send().await.unwrap();
    let mut jar: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .collect();
    let token = csrf_of(&page.text().await.unwrap());
    let res = c
        .post(app.url("/connexion"))
        .header("cookie", jar.join("; "))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", "mot-de-passe-solide"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    jar.extend(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string()),
    );
    jar.join("; ")
}

fn transitions_recorded(app: &TestApp, id: i64) -> i64 {
    let mut conn = app.conn();
    audit_events::table
        .filter(audit_events::subject_type.eq("vae_request"))
        .filter(audit_events::subject_id.eq(id))
        .filter(audit_events::action.eq("vae_transition"))
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

fn mails_queued(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    outbox::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap()
}

#[tokio::test]
async fn vae_a_skipped_step_or_another_organism_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let (cand, id) = candidate_with_request(&app, org, "a@exemple.fr").await;
    let (staff, _) = signed_in(&app, Role::Trainer, Some(org), "t@isp.fr").await;
    let other = app.create_organism("Autre organisme");
    let (intruder, _) = signed_in(&app, Role::Trainer, Some(other), "t@autre.fr").await;
    let page = format!("/vae/dossiers/{id}");
    let mails = mails_queued(&app);

    // Skipping from déposée to recevable, or deciding now.
    let r = step(&app, &staff, &page, id, &[("action", "accept")]).await;
    assert_eq!(r.status(), 409);
    let r = step(
        &app,
        &staff,
        &page,
        id,
        &[("action", "decide"), ("outcome", "total")],
    )
    .await;
    assert_eq!(r.status(), 409);
    // The candidate cannot examine their own file.
    let r = step(
        &app,
        &cand,
        &format!("/ma-vae/{id}"),
        id,
        &[("action", "examine")],
    )
    .await;
    assert_eq!(r.status(), 409);
    // A trainer of another organism does not even see it.
    let r = intruder.get(app.url(&page)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = intruder
        .post_form(
            &app,
            &format!("/vae/dossiers/{id}/etape"),
            &[("action", "examine")],
        )
        .await;
    assert_eq!(r.status(), 404);
    // Nor through the API.
    let bearer = api_token(&app, "t@autre.fr").await;
    let r = client()
        .post(app.url(&format!("/api/v1/vae/requests/{id}/transitions")))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"action": "examine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(state_of(&app, id), "deposee");
    assert_eq!(transitions_recorded(&app, id), 0);
    assert_eq!(mails_queued(&app), mails);

    // Through the API, the right staff moves it one step at a time.
    let bearer = api_token(&app, "t@isp.fr").await;
    let api = client();
    let r = api
        .post(app.url(&format!("/api/v1/vae/requests/{id}/transitions")))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"action": "examine", "note": "vu"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api
        .post(app.url(&format!("/api/v1/vae/requests/{id}/transitions")))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"action": "reject"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "reasons are required");
    // A NUL character, which PostgreSQL cannot store, is refused on both backends.
    let r = api
        .post(app.url(&format!("/api/v1/vae/requests/{id}/transitions")))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"action": "reject", "reasons": "pièces\u{0}manquantes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("caractère nul"),
        "{body}"
    );
    assert_eq!(state_of(&app, id), "en_examen");
    let list: serde_json::Value = api
        .get(app.url("/api/v1/vae/requests?state=en_examen"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().map(|a| a.len()), Some(1));
    let counts: serde_json::Value = api
        .get(app.url(&format!("/api/v1/organisms/{org}/vae/counts")))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        counts
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["state"] == "en_examen" && c["count"] == 1)
    );
    assert_eq!(transitions_recorded(&app, id), 1);

    // The staff home shows the counts; the candidate can abandon, then nothing moves.
    let home = staff
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("En examen</a> : 1"), "{home}");
    let r = step(
        &app,
        &cand,
        &format!("/ma-vae/{id}"),
        id,
        &[("action", "abandon")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, id), "abandonnee");
    let r = step(&app, &staff, &page, id, &[("action", "accept")]).await;
    assert_eq!(r.status(), 409);
    assert_eq!(state_of(&app, id), "abandonnee");
}

#[tokio::test]
async fn vae_a_request_waits_for_its_address_and_never_tells_whether_it_has_an_account() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let other = app.create_organism("Autre organisme");
    let lea = app.create_user(
        Role::Trainee,
        Some(other),
        "lea@exemple.fr",
        "x-mot-de-passe",
    );
    let (staff, _) = signed_in(&app, Role::OrganismAdmin, Some(org), "chef@isp.fr").await;

    // Someone sends a request with Léa's address, another with an unknown one.
    let known = public_request(&app, org, "lea@exemple.fr", "2400").await;
    let unknown = public_request(&app, org, "nouveau@exemple.fr", "2400").await;
    assert_eq!(
        (known.status().as_u16(), unknown.status().as_u16()),
        (200, 200)
    );
    let (known, unknown) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(known, unknown, "the answer does not depend on the address");
    assert!(!known.contains("existe déjà"), "{known}");

    // Nothing exists for the organism yet: no account to squat, no file in the staff's list.
    assert_eq!(accounts_with(&app, "nouveau@exemple.fr"), 0);
    assert_eq!(requests_count(&app), 0);
    let list = staff
        .get(app.url(&format!("/organismes/{org}/vae")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("exemple.fr"), "{list}");
    // The public link to publish is shown whole, ready to copy.
    assert!(
        list.contains("id=\"public-url\" readonly value=\"http")
            && list.contains(&format!("/organismes/{org}/vae/demande\" size")),
        "{list}"
    );
    assert_eq!(pending_count(&app), 2);

    // Léa confirms: the file is hers, on her account, which stays in its own organism.
    let res = confirm(&app, &confirmation_of(&app, "lea@exemple.fr")).await;
    assert_eq!(res.status(), 200);
    let (id, candidate) = request_of(&app, "lea@exemple.fr");
    assert_eq!(candidate, lea);
    assert_eq!(accounts_with(&app, "lea@exemple.fr"), 1);
    let (own_org, kinds): (Option<i64>, Vec<String>) = {
        let mut conn = app.conn();
        let c = &mut *conn as &mut DbConn;
        let own = users::table
            .find(lea)
            .select(users::organism_id)
            .first(c)
            .unwrap();
        let kinds = outbox::table
            .filter(outbox::recipients.like("%lea@exemple.fr%"))
            .order(outbox::id.asc())
            .select(outbox::kind)
            .load(c)
            .unwrap();
        (own, kinds)
    };
    assert_eq!(own_org, Some(other));
    assert_eq!(
        kinds,
        ["vae_confirm", "vae_status"],
        "no invitation for an account"
    );
    // Both say why they are sent and name the organism responsible (#23).
    let bodies: Vec<String> = outbox::table
        .filter(outbox::recipients.like("%lea@exemple.fr%"))
        .order(outbox::id.asc())
        .select(outbox::body_text)
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert!(
        bodies[0].contains("Vous recevez ce message parce qu'une demande de VAE a été faite")
            && bodies[1]
                .contains("Vous recevez ce message parce que vous avez déposé ce dossier de VAE")
            && bodies
                .iter()
                .all(|b| b.contains("Organisme responsable : ")),
        "{bodies:?}"
    );
    assert_eq!(documents_count(&app), 1);
    let list = staff
        .get(app.url(&format!("/organismes/{org}/vae")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("lea@exemple.fr") && list.contains(&format!("n° {id}")));

    // The unknown address confirms: a new account in this organism, invited by mail.
    confirm(&app, &confirmation_of(&app, "nouveau@exemple.fr")).await;
    assert_eq!(accounts_with(&app, "nouveau@exemple.fr"), 1);
    assert_eq!(requests_count(&app), 2);
    assert_eq!(pending_count(&app), 0);
    let actions: Vec<String> = {
        let mut conn = app.conn();
        audit_events::table
            .filter(audit_events::action.like("vae_request%"))
            .order(audit_events::id.asc())
            .select(audit_events::action)
            .load(&mut *conn as &mut DbConn)
            .unwrap()
    };
    assert_eq!(
        actions,
        [
            "vae_request_pending",
            "vae_request_pending",
            "vae_requested",
            "vae_request_confirmed",
            "vae_requested",
            "vae_request_confirmed",
        ]
    );
    // A bad token is just an invalid link.
    assert_eq!(confirm_status(&app, "/vae/confirmation/inconnu").await, 404);
}

fn backdate_pending(app: &TestApp, email: &str, hours: i64) {
    let mut conn = app.conn();
    diesel::update(vae_pending_requests::table.filter(vae_pending_requests::email.eq(email)))
        .set(
            vae_pending_requests::created_at
                .eq(parcours::db::now() - chrono::Duration::hours(hours)),
        )
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
}

fn sha_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn vae_unconfirmed_requests_and_their_files_are_purged_after_48_hours() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let (shared, own, young) = (pdf_of(2, b'a'), pdf_of(2, b'b'), pdf_of(2, b'c'));
    // A confirmed file with the same content as one of the old request's: it must stay.
    let res = public_request_at(
        &app.address,
        org,
        "garde@exemple.fr",
        "2000",
        Some(shared.clone()),
    )
    .await;
    assert_eq!(res.status(), 200);
    confirm(&app, &confirmation_of(&app, "garde@exemple.fr")).await;
    for (email, pdf) in [
        ("ancien@exemple.fr", &shared),
        ("ancien@exemple.fr", &own),
        ("jeune@exemple.fr", &young),
    ] {
        let r = public_request_at(&app.address, org, email, "2000", Some(pdf.clone())).await;
        assert_eq!(r.status(), 200);
    }
    let (old_link, young_link) = (
        confirmation_of(&app, "ancien@exemple.fr"),
        confirmation_of(&app, "jeune@exemple.fr"),
    );
    backdate_pending(&app, "ancien@exemple.fr", 49);
    backdate_pending(&app, "jeune@exemple.fr", 47);
    let dir = app.objects.uploads.clone();
    for pdf in [&shared, &own, &young] {
        assert!(app.kept_uploads().contains(&sha_of(pdf)));
    }
    // An expired link confirms nothing, even before the purge runs.
    assert_eq!(confirm_status(&app, &old_link).await, 404);

    let purged = {
        let mut conn = app.conn();
        parcours::vae::pending::purge(&mut conn, &dir, parcours::db::now()).unwrap()
    };
    assert_eq!(
        purged,
        parcours::vae::pending::Purged {
            requests: 2,
            files: 1
        },
        "both old requests go; of their files, only the one nothing else uses"
    );
    let kept = app.kept_uploads();
    assert!(!kept.contains(&sha_of(&own)));
    assert!(
        kept.contains(&sha_of(&shared)),
        "a confirmed document uses it"
    );
    assert!(kept.contains(&sha_of(&young)));
    let mut conn = app.conn();
    let left: Vec<String> = vae_pending_requests::table
        .select(vae_pending_requests::email)
        .load(&mut *conn as &mut DbConn)
        .unwrap();
    let docs: i64 = vae_pending_documents::table
        .count()
        .get_result(&mut *conn as &mut DbConn)
        .unwrap();
    drop(conn);
    assert_eq!(left, ["jeune@exemple.fr"]);
    assert_eq!(docs, 1);
    let purges: i64 = {
        let mut conn = app.conn();
        audit_events::table
            .filter(audit_events::action.eq("vae_pending_purged"))
            .count()
            .get_result(&mut *conn as &mut DbConn)
            .unwrap()
    };
    assert_eq!(purges, 1);
    // The younger one can still be confirmed, with its file.
    assert_eq!(confirm(&app, &young_link).await.status(), 200);
    assert_eq!(documents_count(&app), 2);
    // Run again: nothing left to do.
    let again = {
        let mut conn = app.conn();
        parcours::vae::pending::purge(&mut conn, &dir, parcours::db::now()).unwrap()
    };
    assert_eq!(again, parcours::vae::pending::Purged::default());
}

#[tokio::test]
async fn vae_storage_quotas_refuse_in_french_and_keep_nothing() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_QUOTA_CANDIDATE_MB".into(), "1".into());
        env.insert("PARCOURS_QUOTA_ORGANISM_MB".into(), "2".into());
    })
    .await;
    let org = app.create_organism("Institut Santé Plus");
    // An unconfirmed request's file does not count: strangers cannot fill the space.
    let r = public_request_at(
        &app.address,
        org,
        "p@exemple.fr",
        "2000",
        Some(pdf_of(700, b'p')),
    )
    .await;
    assert_eq!(r.status(), 200);
    let (a, id) = candidate_with_request(&app, org, "a@exemple.fr").await;
    let r = upload(&app, &a, id, id, "cerfa_12818", pdf_of(700, b'a'), "a1.pdf").await;
    assert_eq!(r.status(), 303);
    // The candidate's second 700 KB would pass her 1 MB.
    let r = upload(&app, &a, id, id, "declaration", pdf_of(700, b'b'), "a2.pdf").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Votre espace de stockage pour la VAE est plein"),
        "{body}"
    );
    assert_eq!(documents_count(&app), 1);
    assert_eq!(stored_files(&app).len(), 2, "{:?}", stored_files(&app));

    let (b, id_b) = candidate_with_request(&app, org, "b@exemple.fr").await;
    let r = upload(
        &app,
        &b,
        id_b,
        id_b,
        "cerfa_12818",
        pdf_of(700, b'c'),
        "b1.pdf",
    )
    .await;
    assert_eq!(r.status(), 303);
    // 1.4 MB used: 700 KB more would pass the organism's 2 MB, whoever sends it.
    let r = public_request_at(
        &app.address,
        org,
        "c@exemple.fr",
        "2000",
        Some(pdf_of(700, b'd')),
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("organisme de formation est plein"), "{body}");
    assert_eq!(pending_count(&app), 1);
    // Nor can the waiting request be confirmed now: its owner is told why.
    let r = confirm(&app, &confirmation_of(&app, "p@exemple.fr")).await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("organisme de formation est plein")
    );
    assert_eq!((requests_count(&app), pending_count(&app)), (2, 1));
    let r = upload(
        &app,
        &b,
        id_b,
        id_b,
        "declaration",
        pdf_of(700, b'e'),
        "b2.pdf",
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(documents_count(&app), 2);
    assert_eq!(stored_files(&app).len(), 3, "{:?}", stored_files(&app));
    // Another organism has its own space.
    let other = app.create_organism("Autre organisme");
    let r = public_request_at(
        &app.address,
        other,
        "c@exemple.fr",
        "2000",
        Some(pdf_of(700, b'd')),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn vae_anonymous_uploads_stop_at_the_hourly_cap_shared_by_every_instance() {
    let cap = |env: &mut std::collections::HashMap<String, String>| {
        env.insert("PARCOURS_VAE_ANONYMOUS_MB_PER_HOUR".into(), "1".into());
    };
    let app = spawn_app_with(cap).await;
    let org = app.create_organism("Institut Santé Plus");
    let r = public_request_at(
        &app.address,
        org,
        "a@exemple.fr",
        "2000",
        Some(pdf_of(700, b'a')),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = public_request_at(
        &app.address,
        org,
        "b@exemple.fr",
        "2000",
        Some(pdf_of(700, b'b')),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body = r.text().await.unwrap();
    assert!(body.contains("enregistré. Réessayez dans"), "{body}");
    assert_eq!(pending_count(&app), 1);
    assert_eq!(stored_files(&app).len(), 1, "{:?}", stored_files(&app));
    // Another instance on the same database counts the same hour.
    let second_dir = tempfile::tempdir().unwrap();
    let mut env = base_env(second_dir.path(), &app.database_url);
    cap(&mut env);
    let second =
        parcours::Application::build(parcours::AppConfig::from_sources(&env, None).unwrap())
            .await
            .unwrap();
    let second_url = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let r = public_request_at(
        &second_url,
        org,
        "c@exemple.fr",
        "2000",
        Some(pdf_of(400, b'c')),
    )
    .await;
    assert_eq!(r.status(), 429);
    // Within what is left of the hour, and without a file, requests still go through.
    let r = public_request_at(
        &second_url,
        org,
        "d@exemple.fr",
        "2000",
        Some(pdf_of(200, b'd')),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = public_request_at(&app.address, org, "e@exemple.fr", "2000", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(pending_count(&app), 3);
    // Signed-in candidates are not anonymous: their documents do not count.
    let (c, id) = candidate_with_request(&app, org, "f@exemple.fr").await;
    let r = upload(&app, &c, id, id, "cerfa_12818", pdf_of(700, b'f'), "f.pdf").await;
    assert_eq!(r.status(), 303);
}

/// Moves a planned jury to now plus `from_now`, as if time had passed.
fn set_jury_at(app: &TestApp, id: i64, from_now: chrono::Duration) {
    let at = chrono::Utc::now().naive_utc() + from_now;
    let mut conn = app.conn();
    diesel::update(vae_requests::table.find(id))
        .set(vae_requests::jury_at.eq(Some(at)))
        .execute(&mut *conn as &mut DbConn)
        .unwrap();
}

#[tokio::test]
async fn vae_recevable_needs_the_livret_1_and_a_decision_waits_for_the_jury() {
    let app = spawn_app().await;
    let org = app.create_organism("Institut Santé Plus");
    let (cand, id) = candidate_with_request(&app, org, "b@exemple.fr").await;
    let (staff, _) = signed_in(&app, Role::Trainer, Some(org), "t@isp.fr").await;
    let page = format!("/vae/dossiers/{id}");
    let mine = format!("/ma-vae/{id}");
    assert_eq!(
        step(&app, &staff, &page, id, &[("action", "examine")])
            .await
            .status(),
        303
    );
    // Just outside: every piece but the CERFA 12818 form.
    for kind in ["declaration", "attestation_employeur", "bulletin"] {
        let r = upload(&app, &cand, id, id, kind, PDF.to_vec(), "piece.pdf").await;
        assert_eq!(r.status(), 303, "{kind}");
    }
    let r = step(&app, &staff, &page, id, &[("action", "accept")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("CERFA 12818"), "{html}");
    assert_eq!(state_of(&app, id), "en_examen");
    assert_eq!(transitions_recorded(&app, id), 1);
    // The API refuses alike, in JSON.
    let bearer = api_token(&app, "t@isp.fr").await;
    let r = client()
        .post(app.url(&format!("/api/v1/vae/requests/{id}/transitions")))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"action": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("livret 1"),
        "{body}"
    );
    // Just inside: the form is attached.
    let r = upload(
        &app,
        &cand,
        id,
        id,
        "cerfa_12818",
        PDF.to_vec(),
        "cerfa.pdf",
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        step(&app, &staff, &page, id, &[("action", "accept")])
            .await
            .status(),
        303
    );
    assert_eq!(state_of(&app, id), "recevable");

    let r = upload(&app, &cand, id, id, "livret2", PDF.to_vec(), "livret2.pdf").await;
    assert_eq!(r.status(), 303);
    let r = step(&app, &cand, &mine, id, &[("action", "deposit_livret2")]).await;
    assert_eq!(r.status(), 303);
    let r = step(
        &app,
        &staff,
        &page,
        id,
        &[
            ("action", "plan_jury"),
            ("jury_date", "2027-03-15"),
            ("jury_time", "14:30"),
            ("jury_place", "Lyon, salle 2"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let decide = [("action", "decide"), ("outcome", "total")];
    // Just outside: the jury meets in a minute.
    set_jury_at(&app, id, chrono::Duration::minutes(1));
    let r = step(&app, &staff, &page, id, &decide).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("ne peut pas être enregistrée avant")
    );
    let r = client()
        .post(app.url(&format!("/api/v1/vae/requests/{id}/transitions")))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"action": "decide", "outcome": "total"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(state_of(&app, id), "jury_planifie");
    // Just inside: it met a second ago.
    set_jury_at(&app, id, chrono::Duration::seconds(-1));
    let r = step(&app, &staff, &page, id, &decide).await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, id), "decision");
}
