//! Issue #20 item 3: the right document to the CPAM. The CQP's end-of-training attestation
//! goes to the doctor for information; the CQP certificate, uploaded by the organism, goes to
//! him with a text ready to forward; "non envoyé" with its reason when no doctor can be
//! reached; a reminder at 15 days and a notice to the organism at 30, each once.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    attestations, audit_events, bouncing_addresses, certification_blocs, certifications, outbox,
    users,
};
use parcours::mail::MailContext;

use crate::attestation::{complete_path, pdf_attachment, post_issue, setup, setup_on};
use crate::common::*;

/// (subject, text) of the mails of this kind to this address, oldest first.
fn mails_to(app: &Db, kind: &str, email: &str) -> Vec<(String, String)> {
    outbox::table
        .filter(outbox::kind.eq(kind))
        .filter(outbox::recipients.like(format!("%{email}%")))
        .order(outbox::id.asc())
        .select((outbox::subject, outbox::body_text))
        .load(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn count_kind(app: &Db, kind: &str) -> usize {
    outbox::table
        .filter(outbox::kind.eq(kind))
        .count()
        .get_result::<i64>(&mut *app.conn() as &mut DbConn)
        .unwrap() as usize
}

/// Every bloc of the CQP acquired (as a jury would record them).
fn all_blocs_acquired(app: &Db, trainee: i64) {
    let mut conn = app.conn();
    for (code, _) in parcours::certification::store::cqp_blocs(&mut conn).unwrap() {
        diesel::insert_into(certification_blocs::table)
            .values((
                certification_blocs::trainee_id.eq(trainee),
                certification_blocs::bloc.eq(code),
                certification_blocs::result.eq("acquired"),
                certification_blocs::decided_on
                    .eq(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
                certification_blocs::recorded_at.eq(parcours::db::now()),
            ))
            .execute(&mut *conn as &mut DbConn)
            .unwrap();
    }
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    trainee: i64,
    (name, bytes): (&str, Vec<u8>),
) -> reqwest::Response {
    let name = name.to_string();
    c.post_multipart(
        app,
        &format!("/stagiaires/{trainee}/certification/certificat"),
        move |f| {
            f.part(
                "certificate",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            )
        },
    )
    .await
}

fn mail_context(app: &TestApp) -> (tera::Tera, String) {
    let tera = parcours::mail::load_templates(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
    )
    .unwrap();
    (tera, app.address.clone())
}

fn run_follow_up(app: &TestApp, now: chrono::NaiveDateTime) -> usize {
    let (tera, base) = mail_context(app);
    let mc = MailContext {
        templates: &tera,
        base_url: &base,
    };
    parcours::certification::cpam_reminders::send_due(&mut app.conn(), &mc, now).unwrap()
}

#[tokio::test]
async fn a_cqp_trainee_s_doctor_gets_the_attestation_for_information_and_the_cqp_to_forward() {
    let smtp = Smtp::start();
    let url = smtp.url();
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_SMTP_URL".into(), url);
    })
    .await;
    let s = setup(&app, "cqp").await;
    let doctor_email = "dr-cqp@cabinet.fr";
    complete_path(&app, s.trainee, "CQP-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );

    // End of training: for information, not the CQP, no date known yet.
    let (subject, text) = mails_to(&app, "attestation_doctor", doctor_email).remove(0);
    assert!(
        subject.contains("pour information (ce n'est pas le CQP)"),
        "{subject}"
    );
    assert!(text.contains("ne l'envoyez pas à votre CPAM"), "{text}");
    assert!(
        text.contains("dont la date n'est pas encore fixée"),
        "{text}"
    );
    assert!(
        !text.contains("Madame, Monsieur"),
        "no text to forward: {text}"
    );
    let (_, to_her) = mails_to(&app, "attestation_trainee", "assistante-cqp@cabinet.fr").remove(0);
    assert!(to_her.contains("il n'est pas le CQP"), "{to_her}");
    // Essential mails say why they are sent, and name the organism responsible (issue #23).
    assert!(
        text.contains("Vous recevez ce message parce que vous êtes le médecin employeur")
            && text.contains("Organisme responsable : Organisme cqp"),
        "{text}"
    );
    assert!(
        to_her.contains("Vous recevez ce message parce que Organisme cqp vous remet")
            && to_her.contains("Organisme responsable : Organisme cqp"),
        "{to_her}"
    );
    assert!(
        to_her.contains("en a reçu une copie, pour information"),
        "{to_her}"
    );

    // The doctor cannot mark it as forwarded: it is not what the CPAM wants.
    let doctor = client();
    assert_eq!(
        login(&app, &doctor, doctor_email, "mot-de-passe-solide")
            .await
            .status(),
        303
    );
    let id: i64 = attestations::table
        .filter(attestations::trainee_id.eq(s.trainee))
        .select(attestations::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let home = doctor.get_text(&app, "/").await;
    assert!(
        home.contains("pour information, pas à transmettre à la CPAM"),
        "{home}"
    );
    let r = doctor
        .post_form(
            &app,
            &format!("/attestations/{id}/cpam"),
            &[("forwarded", "1"), ("forwarded_on", "")],
        )
        .await;
    assert_eq!(r.status(), 409);

    certificate_upload(&app, &s, &doctor, &smtp).await;
}

/// The CQP recorded, what the CPAM asks recorded, the certificate refused when it is not a
/// document, then uploaded and mailed with its text; the doctor downloads and marks it.
async fn certificate_upload(
    app: &TestApp,
    s: &crate::attestation::Setup,
    doctor: &reqwest::Client,
    smtp: &Smtp,
) {
    let page = format!("/stagiaires/{}/certification", s.trainee);
    // Before the CQP is recorded, no certificate.
    let pdf: Vec<u8> = attestations::table
        .select(attestations::pdf)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let r = upload(app, &s.admin, s.trainee, ("cqp.pdf", pdf.clone())).await;
    assert_eq!(r.status(), 422);
    let sha = parcours::base::digest::sha256_hex(&pdf);
    assert!(
        !app.kept_uploads().contains(&sha),
        "a refused certificate leaves no file"
    );
    all_blocs_acquired(app, s.trainee);
    let r = s
        .admin
        .post_form(
            app,
            &page,
            &[
                ("obtained_on", "2026-11-30"),
                ("certificate_number", "CQP-AM-2026-0042"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // The CPAM's identifiers: bad ones refused with the reason, good ones kept.
    let doctor_id: i64 = users::table
        .filter(users::email.eq("dr-cqp@cabinet.fr"))
        .select(users::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let ids = format!("/stagiaires/{}/certification/cpam", s.trainee);
    let did = doctor_id.to_string();
    let r = s
        .admin
        .post_form(
            app,
            &ids,
            &[
                ("aid_contract_ref", "CA-69-2026-0042"),
                ("doctor_id", &did),
                ("rpps", "1234"),
                ("am_number", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("11 chiffres"));
    let r = s
        .admin
        .post_form(
            app,
            &ids,
            &[
                ("aid_contract_ref", "CA-69-2026-0042"),
                ("doctor_id", &did),
                ("rpps", "1010 0123 456"),
                ("am_number", "691234567"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // A doctor who is not her employer's: as if he did not exist, and nothing changed.
    let stranger_doctor = app.create_user(
        Role::Doctor,
        None,
        "dr-autre@cabinet.fr",
        "mot-de-passe-solide",
    );
    let sd = stranger_doctor.to_string();
    let r = s
        .admin
        .post_form(
            app,
            &ids,
            &[
                ("aid_contract_ref", "AUTRE"),
                ("doctor_id", &sd),
                ("rpps", "10100999999"),
                ("am_number", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    let theirs =
        parcours::accounts::store::cpam_identifiers(&mut app.conn(), stranger_doctor).unwrap();
    assert_eq!(theirs, (None, None));
    assert_eq!(
        parcours::cohorts::doctors::aid_contract_ref(&mut app.conn(), s.trainee)
            .unwrap()
            .as_deref(),
        Some("CA-69-2026-0042")
    );

    // A file that is no document changes nothing.
    let before = count_kind(app, "cqp_doctor");
    let r = upload(
        app,
        &s.admin,
        s.trainee,
        ("cqp.pdf", b"pas un PDF".to_vec()),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("ni un PDF"));
    assert_eq!(count_kind(app, "cqp_doctor"), before);
    // Another organism's staff are told nothing.
    let other = app.create_organism("Autre organisme");
    let (stranger, _) = signed_in(app, Role::OrganismAdmin, Some(other), "dir@autre.fr").await;
    let r = upload(app, &stranger, s.trainee, ("cqp.pdf", pdf.clone())).await;
    assert_eq!(r.status(), 404);

    let r = upload(
        app,
        &s.admin,
        s.trainee,
        ("Certificat CQP.pdf", pdf.clone()),
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        read_kept(&app.objects.uploads, &sha),
        pdf,
        "kept under its SHA-256"
    );
    let (subject, text) = mails_to(app, "cqp_doctor", "dr-cqp@cabinet.fr").remove(0);
    assert!(subject.contains("à transmettre à votre CPAM"), "{subject}");
    for part in [
        "Camille Dupont",
        "obtenu le 30/11/2026 (certificat n° CQP-AM-2026-0042)",
        "n° RPPS 10100123456",
        "n° Assurance Maladie 691234567",
        "référence CA-69-2026-0042",
        "que j'emploie depuis le",
        "/medecin/",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // Over SMTP, with the certificate attached as it was uploaded.
    let mails = smtp.wait_for(4, 30).await;
    let sent = mails
        .iter()
        .find(|m| m.contains("CQP-AM-2026-0042") && m.contains("dr-cqp@cabinet.fr"))
        .expect("the CQP mail went out");
    assert_eq!(pdf_attachment(sent), pdf);
    let staff = s.admin.get_text(app, &page).await;
    assert!(
        staff.contains("pas encore marqué comme transmis"),
        "{staff}"
    );

    // The doctor downloads it and marks it forwarded from his home page.
    let r = doctor
        .get(app.url(&format!(
            "/stagiaires/{}/certification/certificat",
            s.trainee
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    // So does she, from her own certification page.
    let her = client();
    let r = login(
        app,
        &her,
        "assistante-cqp@cabinet.fr",
        "mot-de-passe-solide",
    )
    .await;
    assert_eq!(r.status(), 303);
    let mine = her.get_text(app, "/ma-certification").await;
    assert!(mine.contains("Télécharger le certificat"), "{mine}");
    let r = her
        .get(app.url(&format!(
            "/stagiaires/{}/certification/certificat",
            s.trainee
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cqp: i64 = certifications::table
        .select(certifications::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let r = stranger
        .post_form(
            app,
            &format!("/certifications/{cqp}/cpam"),
            &[("forwarded", "1")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = doctor
        .post_form(
            app,
            &format!("/certifications/{cqp}/cpam"),
            &[("forwarded", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let staff = s.admin.get_text(app, &page).await;
    let today = parcours::base::format::date(parcours::base::paris::today());
    assert!(
        staff.contains(&format!("Transmis à la CPAM par le médecin le {today}")),
        "{staff}"
    );
    let audited: i64 = audit_events::table
        .filter(audit_events::action.eq_any([
            "cqp_certificate",
            "cqp_cpam_forwarded",
            "cpam_identifiers",
        ]))
        .count()
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(audited, 3);
    // Forwarded: no reminder, even a month later.
    let later = parcours::db::now() + chrono::Duration::days(31);
    assert_eq!(run_follow_up(app, later), 0);
}

#[tokio::test]
async fn no_reachable_doctor_is_shown_as_not_sent_with_its_reason() {
    let app = spawn_app().await;
    // No employer.
    let s = setup_on(&app, "seule", "FAE-AM").await;
    {
        use parcours::db::schema::trainee_profiles;
        diesel::update(trainee_profiles::table.filter(trainee_profiles::user_id.eq(s.trainee)))
            .set(trainee_profiles::employer_id.eq(None::<i64>))
            .execute(&mut *app.conn() as &mut DbConn)
            .unwrap();
    }
    complete_path(&app, s.trainee, "FAE-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let page = s
        .admin
        .get_text(&app, &format!("/stagiaires/{}/attestations", s.trainee))
        .await;
    assert!(
        page.contains("Médecin : non envoyé — aucun employeur enregistré pour cette stagiaire"),
        "{page}"
    );
    let (_, to_her) =
        mails_to(&app, "attestation_trainee", "assistante-seule@cabinet.fr").remove(0);
    assert!(
        to_her.contains("Aucune copie n'a pu être envoyée à votre médecin employeur"),
        "{to_her}"
    );
    assert!(!to_her.contains("en a reçu une copie"), "{to_her}");

    // A bouncing address, then a disabled account.
    let s = setup_on(&app, "rebond", "FAE-AM").await;
    diesel::insert_into(bouncing_addresses::table)
        .values((
            bouncing_addresses::email.eq("dr-rebond@cabinet.fr"),
            bouncing_addresses::bounced_at.eq(parcours::db::now()),
            bouncing_addresses::reason.eq("550 5.1.1 boîte inconnue"),
        ))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    complete_path(&app, s.trainee, "FAE-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let page = s
        .admin
        .get_text(&app, &format!("/stagiaires/{}/attestations", s.trainee))
        .await;
    assert!(
        page.contains("adresse du médecin refusée par son serveur (550 5.1.1 boîte inconnue)"),
        "{page}"
    );
    assert!(mails_to(&app, "attestation_doctor", "dr-rebond@cabinet.fr").is_empty());

    let s = setup_on(&app, "parti", "FAE-AM").await;
    diesel::update(users::table.filter(users::email.eq("dr-parti@cabinet.fr")))
        .set(users::disabled.eq(true))
        .execute(&mut *app.conn() as &mut DbConn)
        .unwrap();
    complete_path(&app, s.trainee, "FAE-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let page = s
        .admin
        .get_text(&app, &format!("/stagiaires/{}/attestations", s.trainee))
        .await;
    assert!(
        page.contains("compte du médecin employeur désactivé"),
        "{page}"
    );
}

#[tokio::test]
async fn a_copy_not_forwarded_reminds_the_doctor_at_15_days_and_tells_the_organism_at_30_once() {
    let app = spawn_app().await;
    let s = setup_on(&app, "oubli", "FAE-AM").await;
    complete_path(&app, s.trainee, "FAE-AM", 0);
    assert_eq!(
        post_issue(&app, &s.admin, s.trainee, &[("kind", "final")])
            .await
            .status(),
        303
    );
    let issued: chrono::NaiveDateTime = attestations::table
        .select(attestations::issued_at)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let day = |n: i64| issued + chrono::Duration::days(n);
    assert_eq!(run_follow_up(&app, day(14)), 0);
    // Two instances at the same minute: one reminder.
    let (a, b) = std::thread::scope(|t| {
        let one = t.spawn(|| run_follow_up(&app, day(15)));
        let two = t.spawn(|| run_follow_up(&app, day(15)));
        (one.join().unwrap(), two.join().unwrap())
    });
    assert_eq!(a + b, 1);
    let reminders = mails_to(&app, "cpam_reminder", "dr-oubli@cabinet.fr");
    assert_eq!(reminders.len(), 1);
    assert!(
        reminders[0].1.contains("Camille Dupont") && reminders[0].1.contains("/medecin/"),
        "{:?}",
        reminders[0]
    );
    // Essential: it says why it is sent and names the organism responsible (#23).
    assert!(
        reminders[0].1.contains(
            "Vous recevez ce message parce que vous êtes le médecin employeur de Camille Dupont"
        ) && reminders[0]
            .1
            .contains("Organisme responsable : Organisme oubli"),
        "{}",
        reminders[0].1
    );
    assert_eq!(run_follow_up(&app, day(20)), 0);
    assert_eq!(count_kind(&app, "cpam_unforwarded"), 0);
    // At 30 days the organism's admins hear of it, once.
    assert_eq!(run_follow_up(&app, day(30)), 1);
    let notice = mails_to(&app, "cpam_unforwarded", "direction-oubli@of.fr");
    assert_eq!(notice.len(), 1);
    assert!(
        notice[0].1.contains("malgré un rappel au médecin")
            && notice[0].1.contains("Vous recevez ce message parce que vous faites partie de l'équipe de Organisme oubli")
            && notice[0].1.contains("Organisme responsable : Organisme oubli"),
        "{}",
        notice[0].1
    );
    assert!(
        notice[0]
            .1
            .contains(&format!("/stagiaires/{}/attestations", s.trainee))
    );
    assert_eq!(run_follow_up(&app, day(31)), 0);
    // Another organism's admin heard nothing.
    let other = app.create_organism("Autre");
    app.create_user(
        Role::OrganismAdmin,
        Some(other),
        "dir@autre-oubli.fr",
        "mot-de-passe-solide",
    );
    assert_eq!(run_follow_up(&app, day(32)), 0);
    assert!(mails_to(&app, "cpam_unforwarded", "dir@autre-oubli.fr").is_empty());
}

#[tokio::test]
async fn a_doctor_records_his_own_rpps_and_assurance_maladie_numbers() {
    let app = spawn_app().await;
    let (doctor, id) = signed_in(&app, Role::Doctor, None, "dr-numeros@cabinet.fr").await;
    let r = doctor
        .post_form(
            &app,
            "/mon-compte/cpam",
            &[("rpps", "1010012345"), ("am_number", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Le numéro RPPS compte 11 chiffres")
    );
    let r = doctor
        .post_form(
            &app,
            "/mon-compte/cpam",
            &[("rpps", "101 0012 3456"), ("am_number", "69.123.456.7")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let kept: (Option<String>, Option<String>) =
        parcours::accounts::store::cpam_identifiers(&mut app.conn(), id).unwrap();
    assert_eq!(kept, (Some("10100123456".into()), Some("691234567".into())));
    let page = doctor.get_text(&app, "/mon-compte?avis=cpam").await;
    assert!(
        page.contains("value=\"10100123456\"") && page.contains("Numéros enregistrés"),
        "{page}"
    );
    // Only a doctor has them.
    let (trainee, _) = signed_in(&app, Role::Trainee, None, "eleve-numeros@a.fr").await;
    let r = trainee
        .post_form(
            &app,
            "/mon-compte/cpam",
            &[("rpps", "10100123456"), ("am_number", "")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        !trainee
            .get_text(&app, "/mon-compte")
            .await
            .contains("Pour la CPAM")
    );
}
