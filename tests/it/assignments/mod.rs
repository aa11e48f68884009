//! Assignments (devoirs): a trainee hands in versions (text and files), a trainer of her
//! organism grades them with the rubric or asks for a new version, every version is kept, and
//! nobody else sees them.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::curriculum::rules::AnswerForm;
use parcours::db::DbConn;
use parcours::db::schema::{assignment_files, assignment_submissions as subs, audit_events};
use reqwest::multipart::Part;

use crate::common::*;

mod access;

/// A real, small PDF: one empty page, its cross-reference table at the right offsets.
pub(crate) fn small_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for o in offsets {
        pdf.extend(format!("{o:010} 00000 n \n").bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    pdf
}

/// The first CQP assignment that takes this answer form: (module code, slug, rubric points).
pub(crate) fn assignment(form: AnswerForm) -> (String, String, Vec<u32>) {
    let c = curriculum();
    let p = c.program("CQP-AM").unwrap();
    p.modules
        .iter()
        .find_map(|m| {
            m.activities.iter().find_map(|a| {
                let spec = a.assignment().filter(|s| s.answer == form)?;
                let points = spec.rubric.iter().map(|c| c.points).collect();
                Some((m.code.clone(), a.slug.clone(), points))
            })
        })
        .expect("the CQP has such an assignment")
}

fn page_of(module: &str, slug: &str) -> String {
    format!("/programmes/CQP-AM/{module}/devoirs/{slug}")
}

/// Hands in a version from the assignment's page, as a browser does.
pub(crate) async fn hand_in(
    c: &reqwest::Client,
    app: &TestApp,
    page: &str,
    text: &str,
    files: &[(&str, Vec<u8>)],
) -> reqwest::Response {
    let html = c.get_text(app, page).await;
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| (n.to_string(), b.clone()))
        .collect();
    c.post_multipart_of(app, &html, page, |mut form| {
        form = form.text("answer", text.to_string());
        for (name, bytes) in files {
            form = form.part("file", Part::bytes(bytes).file_name(name));
        }
        form
    })
    .await
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn rows(app: &TestApp) -> (i64, i64) {
    let mut conn = app.conn();
    let c: &mut DbConn = &mut conn;
    (
        subs::table.count().get_result(c).unwrap(),
        assignment_files::table.count().get_result(c).unwrap(),
    )
}

/// Files kept on the uploads shelf (those waiting aside).
fn kept_files(app: &TestApp) -> usize {
    app.kept_uploads().len()
}

/// (id, status, points) of a trainee's versions, oldest first.
fn versions(app: &TestApp, trainee: i64) -> Vec<(i64, String, Option<i32>)> {
    subs::table
        .filter(subs::trainee_id.eq(trainee))
        .order(subs::version_no.asc())
        .select((subs::id, subs::status, subs::points))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

/// The grading form, as the grading page sends it.
async fn grade(
    c: &reqwest::Client,
    app: &TestApp,
    id: i64,
    decision: &str,
    scores: &[String],
    feedback: &str,
) -> reqwest::Response {
    let mut fields: Vec<(String, String)> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("score_{i}"), s.clone()))
        .collect();
    fields.push(("feedback".into(), feedback.into()));
    fields.push(("decision".into(), decision.into()));
    c.post_form(app, &format!("/devoirs/{id}/notation"), &fields)
        .await
}

/// The state label of an activity on its module page.
fn state_on_module_page(html: &str, slug: &str) -> String {
    let at = html
        .find(&format!("/devoirs/{slug}\""))
        .expect("activity listed");
    let rest = &html[at..];
    let start = rest.find("<span class=\"state\">").unwrap() + "<span class=\"state\">".len();
    rest[start..start + rest[start..].find(['<', '·']).unwrap()]
        .trim()
        .to_string()
}

/// A trainee of a cohort, a trainer of her organism, and the assignment they work on.
struct Story {
    app: TestApp,
    cohort: i64,
    alice: reqwest::Client,
    alice_id: i64,
    trainer: reqwest::Client,
    trainer_id: i64,
    slug: String,
    points: Vec<u32>,
    page: String,
    module_page: String,
}

impl Story {
    async fn new() -> Story {
        let app = spawn_app().await;
        let org = app.create_organism("Organisme A");
        let cohort = app.create_cohort(org, "CQP-AM");
        let (alice, alice_id) = signed_in(&app, Role::Trainee, Some(org), "alice@a.fr").await;
        app.enrol(org, cohort, alice_id);
        let (trainer, trainer_id) = signed_in(&app, Role::Trainer, Some(org), "form@a.fr").await;
        let (module, slug, points) = assignment(AnswerForm::TextAndFiles);
        Story {
            app,
            cohort,
            alice,
            alice_id,
            trainer,
            trainer_id,
            page: page_of(&module, &slug),
            module_page: format!("/programmes/CQP-AM/{module}"),
            slug,
            points,
        }
    }

    async fn alice_page(&self) -> String {
        get(&self.alice, &self.app, &self.page).await.1
    }

    /// The activity's state on Alice's module page.
    async fn state(&self) -> String {
        let html = get(&self.alice, &self.app, &self.module_page).await.1;
        state_on_module_page(&html, &self.slug)
    }

    async fn trainer_get(&self, path: &str) -> (u16, String) {
        get(&self.trainer, &self.app, path).await
    }

    fn max(&self) -> u32 {
        self.points.iter().sum()
    }

    /// Version 1, with text and a PDF: seen by Alice, listed and opened by the trainer, who
    /// downloads the file as it was sent. Returns the version's id.
    async fn first_version(&self) -> i64 {
        let (app, page) = (&self.app, &self.page);
        let html = self.alice_page().await;
        for part in [
            "Consignes",
            "Barème",
            "Dossier à télécharger",
            "Rendre ma version 1",
        ] {
            assert!(html.contains(part), "{part}: {html}");
        }
        assert!(html.contains(&self.module_page) && html.contains("/fichiers/"));
        assert!(html.contains("data-study-page=\"activity\""));
        assert_eq!(self.state().await, "À faire");
        let pdf = small_pdf();
        let file = [("réponse.pdf", pdf.clone())];
        let res = hand_in(&self.alice, app, page, "Ma réponse, partie 1.", &file).await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"],
            format!("{page}#version-1").as_str()
        );
        let html = self.alice_page().await;
        assert!(html.contains("Version 1") && html.contains("Rendu, en attente de correction"));
        assert!(html.contains("attend la correction") && !html.contains("Rendre ma version"));
        assert_eq!(self.state().await, "Rendu");
        let v1 = versions(app, self.alice_id)[0].0;
        let submitted: i64 = audit_events::table
            .filter(audit_events::action.eq("assignment.submitted"))
            .filter(audit_events::subject_id.eq(v1))
            .filter(audit_events::actor_user_id.eq(self.alice_id))
            .count()
            .get_result(&mut *app.conn() as &mut DbConn)
            .unwrap();
        assert_eq!(submitted, 1);

        let (status, list) = self
            .trainer_get(&format!("/promotions/{}/devoirs", self.cohort))
            .await;
        assert_eq!(status, 200);
        assert!(list.contains("Personne alice@a.fr") && list.contains(&format!("/devoirs/{v1}\"")));
        let (status, grading) = self.trainer_get(&format!("/devoirs/{v1}")).await;
        assert_eq!(status, 200);
        assert!(
            grading.contains("Ma réponse, partie 1.")
                && grading.contains("Demander une nouvelle version")
        );
        let file: i64 = assignment_files::table
            .select(assignment_files::id)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap();
        assert!(grading.contains(&format!("/devoirs/fichiers/{file}")));
        let url = app.url(&format!("/devoirs/fichiers/{file}"));
        let res = self.trainer.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.starts_with("attachment;") && disposition.contains(".pdf"),
            "{disposition}"
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());
        v1
    }

    /// The trainer asks for a new version of `v1`; Alice reads why and hands in version 2,
    /// version 1 kept. Returns version 2's id.
    async fn second_version(&self, v1: i64) -> i64 {
        let blank = vec![String::new(); self.points.len()];
        let feedback = "Reprenez la partie 2.";
        let res = grade(&self.trainer, &self.app, v1, "reprendre", &blank, feedback).await;
        assert_eq!(res.status(), 303);
        let html = self.alice_page().await;
        assert!(html.contains("Nouvelle version demandée") && html.contains(feedback));
        assert!(html.contains("Rendre ma version 2"));
        assert_eq!(self.state().await, "En cours");

        let text = "Ma réponse, partie 2 reprise.";
        let res = hand_in(&self.alice, &self.app, &self.page, text, &[]).await;
        assert_eq!(res.status(), 303);
        let html = self.alice_page().await;
        assert!(html.contains("Version 2") && html.contains("Version 1"));
        assert!(html.contains("Ma réponse, partie 1.") && html.contains("réponse.pdf"));
        let all = versions(&self.app, self.alice_id);
        assert_eq!(all.len(), 2);
        let v2 = all[1].0;
        let (_, grading) = self.trainer_get(&format!("/devoirs/{v2}")).await;
        assert!(grading.contains("Autres versions") && grading.contains(feedback));
        v2
    }

    /// A score past its criterion is refused and changes nothing; then `v2` is graded.
    /// Returns the points it got.
    async fn graded(&self, v2: i64) -> u32 {
        let (app, points) = (&self.app, &self.points);
        let mut scores: Vec<String> = points.iter().map(|p| p.to_string()).collect();
        scores[0] = (points[0] + 1).to_string();
        let res = grade(&self.trainer, app, v2, "noter", &scores, "Très bien.").await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        let expected = format!("la note doit être comprise entre 0 et {} points", points[0]);
        assert!(body.contains(&expected), "{body}");
        assert_eq!(
            versions(app, self.alice_id)[1],
            (v2, "submitted".into(), None)
        );

        scores[0] = points[0].to_string();
        scores[1] = "0".into();
        let total = self.max() - points[1];
        let feedback = "Très bien, sauf le critère 2.";
        let res = grade(&self.trainer, app, v2, "noter", &scores, feedback).await;
        assert_eq!(res.status(), 303);
        let expected = (v2, "graded".into(), Some(total as i32));
        assert_eq!(versions(app, self.alice_id)[1], expected);
        let (before, after): (Option<String>, Option<String>) = audit_events::table
            .filter(audit_events::action.eq("assignment.graded"))
            .filter(audit_events::subject_id.eq(v2))
            .filter(audit_events::actor_user_id.eq(self.trainer_id))
            .select((audit_events::before_json, audit_events::after_json))
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap();
        assert!(before.unwrap().contains("\"submitted\""));
        assert!(after.unwrap().contains(&format!("\"points\":{total}")));

        let html = self.alice_page().await;
        assert!(
            html.contains(&format!("Note : {total} / {}", self.max())),
            "{html}"
        );
        assert!(html.contains(feedback) && html.contains("Personne form@a.fr"));
        assert!(html.contains("il ne peut plus être rendu") && !html.contains("Rendre ma version"));
        assert_eq!(self.state().await, "Noté");
        total
    }

    /// The evidence pack holds both versions, their decisions and the feedback.
    async fn in_the_pack(&self, total: u32) {
        let today = parcours::base::paris::today().format("%d/%m/%Y");
        let pack = format!(
            "/stagiaires/{}/preuves.zip?du={today}&au={today}",
            self.alice_id
        );
        let res = self.trainer.get(self.app.url(&pack)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let bytes = res.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut read = |name: &str| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
            s
        };
        let table = read("devoirs/devoirs.csv");
        assert_eq!(table.lines().count(), 3, "{table}");
        assert!(table.contains(";Nouvelle version demandée;") && table.contains("réponse.pdf ("));
        assert!(table.contains(";Noté;") && table.contains(&format!(";{total};{};", self.max())));
        let text = read("devoirs/devoirs.txt");
        assert!(
            text.contains("Appréciation :\nTrès bien, sauf le critère 2."),
            "{text}"
        );
        assert!(read("LISEZMOI.txt").contains("versions de devoirs rendues : 2"));
    }
}

#[tokio::test]
async fn a_version_is_sent_back_then_graded_and_every_version_is_kept() {
    let story = Story::new().await;
    let v1 = story.first_version().await;
    // The cohort's follow-up says what waits for a trainer, then what was graded.
    let follow = format!("/promotions/{}/suivi", story.cohort);
    let (_, page) = story.trainer_get(&follow).await;
    assert!(
        page.contains("0 devoir(s) noté(s)<br><span class=\"status-en_retard\">1 à noter"),
        "{page}"
    );
    let v2 = story.second_version(v1).await;
    let total = story.graded(v2).await;
    let (_, page) = story.trainer_get(&follow).await;
    assert!(
        page.contains("1 devoir(s) noté(s)</td>") && !page.contains("à noter"),
        "{page}"
    );

    // Grading again is refused; so is a third version.
    let (app, blank) = (&story.app, vec![String::new(); story.points.len()]);
    let res = grade(&story.trainer, app, v2, "noter", &blank, "Autre avis").await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("déjà notée"));
    let res = hand_in(&story.alice, app, &story.page, "Encore une version", &[]).await;
    assert_eq!(res.status(), 409);
    assert_eq!(rows(app), (2, 1));
    let list = format!("/promotions/{}/devoirs", story.cohort);
    let (_, list) = story.trainer_get(&list).await;
    assert!(list.contains("Aucun devoir n'attend de correction"));
    assert!(list.contains(&format!("{total} / {}", story.max())));
    story.in_the_pack(total).await;
}

#[tokio::test]
async fn a_refused_answer_keeps_nothing() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (module, slug, _) = assignment(AnswerForm::TextAndFiles);
    let page = page_of(&module, &slug);
    let fake = b"Ceci est un texte, pas un PDF.".repeat(20);
    // A fake PDF alone, and after a genuine one: nothing is kept either way.
    for files in [
        vec![("devoir.pdf", fake.clone())],
        vec![("vrai.pdf", small_pdf()), ("faux.pdf", fake.clone())],
    ] {
        let res = hand_in(&alice, &app, &page, "Ma réponse", &files).await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("ni un PDF") && body.contains("son contenu a été vérifié"),
            "{body}"
        );
        assert_eq!(rows(&app), (0, 0));
        assert_eq!(kept_files(&app), 0);
    }
    // Nothing at all.
    let res = hand_in(&alice, &app, &page, "  ", &[]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Écrivez votre réponse ou joignez")
    );
    // A text-only assignment takes no file, and needs its text.
    let (module, slug, _) = assignment(AnswerForm::Text);
    let text_page = page_of(&module, &slug);
    let res = hand_in(
        &alice,
        &app,
        &text_page,
        "Réponse",
        &[("a.pdf", small_pdf())],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("sans fichier joint"));
    let res = hand_in(&alice, &app, &text_page, "", &[]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(rows(&app), (0, 0));
    assert_eq!(kept_files(&app), 0);
}

#[tokio::test]
async fn files_past_the_quota_are_not_kept() {
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_QUOTA_TRAINEE_MB".into(), "1".into());
    })
    .await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (module, slug, _) = assignment(AnswerForm::TextAndFiles);
    let page = page_of(&module, &slug);
    let mut big = small_pdf();
    big.extend(std::iter::repeat_n(b'%', 1_200_000));
    let res = hand_in(&alice, &app, &page, "Réponse", &[("gros.pdf", big)]).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Votre espace de stockage pour les devoirs est plein"),
        "{body}"
    );
    assert_eq!(rows(&app), (0, 0));
    assert_eq!(kept_files(&app), 0);
}

/// A Word document as Word writes it (its first entries), stored uncompressed.
fn docx() -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for name in [
        "[Content_Types].xml",
        "_rels/.rels",
        "word/_rels/document.xml.rels",
        "word/document.xml",
        "docProps/core.xml",
    ] {
        z.start_file(name, stored).unwrap();
        z.write_all(b"<x/>").unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn an_office_document_is_kept_and_sent_under_its_own_type() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (module, slug, _) = assignment(AnswerForm::TextAndFiles);
    let page = page_of(&module, &slug);
    // Named as a PDF, it is a Word document: it keeps its name, with the right extension.
    let res = hand_in(&alice, &app, &page, "", &[("rapport.pdf", docx())]).await;
    assert_eq!(res.status(), 303);
    let (file, name): (i64, String) = assignment_files::table
        .select((assignment_files::id, assignment_files::file_name))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(name, "rapport.pdf.docx");
    let res = alice
        .get(app.url(&format!("/devoirs/fichiers/{file}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("rapport.pdf.docx"), "{disposition}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), docx().as_slice());
    assert_eq!(versions(&app, alice_id).len(), 1);
}

#[tokio::test]
async fn time_on_an_assignment_page_is_credited_to_the_assignment() {
    let app = spawn_app().await;
    let org = app.create_organism("Organisme A");
    let (alice, alice_id) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let (module, slug, _) = assignment(AnswerForm::TextAndFiles);
    let html = get(&alice, &app, &page_of(&module, &slug)).await.1;
    // The page names its activity for study.js, as a lesson page does.
    let at = html.find("data-lesson=\"").unwrap() + "data-lesson=\"".len();
    let id: i64 = html[at..at + html[at..].find('"').unwrap()]
        .parse()
        .unwrap();
    let token = api_token(&app, "alice@a.fr").await;
    assert_eq!(beat(&app, &token, id, "v", 1).await.status(), 200);
    rewind(&app, alice_id, 30);
    let second: serde_json::Value = beat(&app, &token, id, "v", 2).await.json().await.unwrap();
    assert_eq!(second["credited_seconds"], 30, "{second}");
    let module_page = get(&alice, &app, &format!("/programmes/CQP-AM/{module}"))
        .await
        .1;
    assert_eq!(state_on_module_page(&module_page, &slug), "En cours");
}
