//! The authorization matrix (issue #21, "keep it closed"): every route that the code registers,
//! asked by every kind of caller, gets exactly the answer written in `ROUTES`, the one table of
//! who may do what. The routes are read from the sources (`routes.rs`: `src/startup.rs` and
//! the `routes` functions it configures), so a route added to the code without its line here
//! fails the test, and so does a line that names no route any more.
//!
//! The fixture: organism A with its administrator, a trainer of the cohort, an enrolled trainee
//! and her employer doctor, and everything the routes name (a sign-in session, an attestation,
//! a follow-up thread with a file, an evaluation attempt, a VAE file with a document, links,
//! calendar feeds…); organism B with its administrator only; a platform administrator; and an
//! integration token of A. Every resource is A's, so B's administrator is refused everywhere.

use std::collections::BTreeSet;
use std::time::Instant;

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::{
    assignment_files, assignment_submissions, attestations, followup_attachments,
    followup_messages, lessons, login_sessions, modules, outbox, vae_documents,
};
use reqwest::multipart::{Form, Part};

use crate::attendance::add_session;
use crate::common::*;
use crate::followup::{first_module, location, post_message, thread_of};
use crate::vae::{form_path, request_form};

const PASSWORD: &str = "mot-de-passe-solide";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
/// An account whose only use is to be signed in to by `POST /connexion` and `/auth/token`.
const THROWAWAY: &str = "jetable@exemple.fr";

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Trainee,
    /// The trainee's employer doctor.
    Doctor,
    /// A trainer of A, named on the trainee's cohort.
    Trainer,
    /// An administrator of A.
    Admin,
    /// An administrator of B.
    OtherAdmin,
    PlatformAdmin,
    /// An integration token of A (`prc_…` Bearer, created by A's administrator).
    Token,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::Trainee,
    Who::Doctor,
    Who::Trainer,
    Who::Admin,
    Who::OtherAdmin,
    Who::PlatformAdmin,
    Who::Token,
];

/// An answer, as the test reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The check passed: 200, 201 or 303 (not to the login page); or, for a form sent with
    /// values refused on purpose, its 422 or 409.
    Ok,
    /// 403.
    Forbidden,
    /// 404, as for an id that does not exist: another person's or organism's resource.
    Hidden,
    /// Sign in first: 303 to `/connexion?suite=…` on a page, 401 on the API.
    SignIn,
}

use Expect::{Forbidden as F, Hidden as H, Ok as A};

/// Who may do what, as the handlers decide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in.
    SignedIn,
    /// A trainee (of this programme, for the curriculum's actions).
    Trainee,
    /// A trainee through her session's claims only: an integration token is no session (401).
    TraineeBeat,
    Doctor,
    TraineeOrDoctor,
    PlatformAdmin,
    /// Staff of the organism, or a platform admin.
    Staff,
    /// Staff of the organism: the platform admin does not read pedagogical exchanges.
    OwnStaff,
    /// An administrator of the organism, or a platform admin.
    OrgAdmin,
    /// An administrator of the organism itself: what acts in its name (its tokens).
    OwnAdmin,
    /// An administrator of the person's organism, or a platform admin.
    PersonAdmin,
    /// The content: a trainee of the programme, any staff, a platform admin; not a doctor.
    Learner,
    /// A programme's administrators: for a reference programme, every organism's.
    ProgramAdmin,
    /// Whoever writes content: any organism's staff, a platform admin.
    Author,
    /// Staff of the cohort's organism, or a platform admin.
    CohortStaff,
    /// An administrator of the cohort's organism, or a platform admin.
    CohortAdmin,
    /// The trainee's file: her organism's staff, a platform admin, her employer doctor.
    TraineeFile,
    /// The trainee's file, staff side only (no doctor).
    TraineeStaff,
    /// Changes to the trainee's file: an administrator of her organism, or a platform admin.
    TraineeAdmin,
    /// An attestation: its organism's staff, a platform admin, the trainee, her doctor.
    Attestation,
    /// What only an administrator does to an attestation (revoke, resend).
    AttestationAdmin,
    /// The employer doctor's "sent to the CPAM".
    AttestationDoctor,
    /// A follow-up thread: the trainee and her organism's staff.
    Thread,
    /// An evaluation attempt: the trainee who made it.
    OwnAttempt,
    /// A file of an assignment: the trainee who handed it in, her organism's staff, a
    /// platform admin; not her employer doctor.
    Work,
    /// A VAE file: the candidate (here the trainee), the organism's staff, a platform admin.
    VaeFile,
    /// The staff's page of a VAE file.
    VaeStaffFile,
    /// The candidate's own pages of her VAE file.
    VaeCandidate,
    /// The list of VAE files in one's scope; a platform admin has none.
    VaeList,
    /// One of the trainee's own sessions.
    OwnSession,
    /// A request to correct a name: the administrators of the person's own organism only.
    OwnPersonAdmin,
    /// A data export the trainee asked for: hers to download, no one else's.
    OwnExport,
    /// A package's launch: the matrix's programme has none, so whoever may open the programme
    /// gets 404 and a doctor 403 (`tests/it/packages.rs` launches real ones).
    PackageLaunch,
    /// The packages' own origin: on the site's, 404 to everyone, signed in or not
    /// (`tests/it/packages.rs` drives them on theirs).
    PackagesOrigin,
}

impl Policy {
    /// The answers to the signed-in people, in the order: trainee, doctor, trainer, A's admin,
    /// B's admin, platform admin. Anonymous callers and the token follow from these (`expect`).
    #[rustfmt::skip]
    fn people(self) -> [Expect; 6] {
        match self {
            // Columns: trainee, doctor, trainer, A's admin, B's admin, platform admin.
            Policy::Public             => [A, A, A, A, A, A],
            Policy::SignedIn           => [A, A, A, A, A, A],
            Policy::Trainee            => [A, F, F, F, F, F],
            Policy::TraineeBeat        => [A, F, F, F, F, F],
            Policy::Doctor             => [F, A, F, F, F, F],
            Policy::TraineeOrDoctor    => [A, A, F, F, F, F],
            Policy::PlatformAdmin      => [F, F, F, F, F, A],
            Policy::Staff              => [F, F, A, A, F, A],
            Policy::OwnStaff           => [F, F, A, A, F, F],
            Policy::OrgAdmin           => [F, F, F, A, F, A],
            Policy::OwnAdmin           => [F, F, F, A, F, F],
            // People outside A's staff get the answer of an id that does not exist.
            Policy::PersonAdmin        => [H, H, F, A, H, A],
            Policy::Learner            => [A, F, A, A, A, A],
            Policy::ProgramAdmin       => [F, F, F, A, A, A],
            Policy::Author             => [F, F, A, A, A, A],
            Policy::CohortStaff        => [H, H, A, A, H, A],
            Policy::CohortAdmin        => [H, H, F, A, H, A],
            // The trainee knows she exists: 403 on her staff file.
            Policy::TraineeFile        => [F, A, A, A, H, A],
            Policy::TraineeStaff       => [F, F, A, A, H, A],
            Policy::TraineeAdmin       => [F, F, F, A, H, A],
            Policy::Attestation        => [A, A, A, A, H, A],
            Policy::AttestationAdmin   => [F, F, F, A, H, A],
            Policy::AttestationDoctor  => [F, A, F, F, F, F],
            Policy::Thread             => [A, H, A, A, H, F],
            Policy::OwnAttempt         => [A, H, H, H, H, H],
            Policy::Work               => [A, H, A, A, H, A],
            Policy::VaeFile            => [A, H, A, A, H, A],
            Policy::VaeStaffFile       => [F, F, A, A, H, A],
            Policy::VaeCandidate       => [A, H, H, H, H, H],
            Policy::VaeList            => [A, A, A, A, A, F],
            Policy::OwnSession         => [A, H, H, H, H, H],
            Policy::OwnPersonAdmin     => [H, H, H, A, H, H],
            Policy::OwnExport          => [A, H, H, H, H, H],
            Policy::PackageLaunch      => [H, F, H, H, H, H],
            Policy::PackagesOrigin     => [H, H, H, H, H, H],
        }
    }
}

/// The answer a caller must get. A token opens the API only, as A's administrator; on a page
/// it is no one.
fn expect(policy: Policy, who: Who, api: bool) -> Expect {
    let people = policy.people();
    match who {
        _ if policy == Policy::Public => A,
        _ if policy == Policy::PackagesOrigin => H,
        Who::Anonymous => Expect::SignIn,
        Who::Token if !api || policy == Policy::TraineeBeat => Expect::SignIn,
        Who::Token => people[3],
        Who::Trainee => people[0],
        Who::Doctor => people[1],
        Who::Trainer => people[2],
        Who::Admin => people[3],
        Who::OtherAdmin => people[4],
        Who::PlatformAdmin => people[5],
    }
}

/// What a request sends. Forms get a valid CSRF token added: what is measured is the
/// authorization. Their fields are all there, so that they are read, but chosen so that a
/// caller who passes the checks changes nothing that another caller needs (an empty reason,
/// an unknown module, the cohort's own trainer…).
#[derive(Clone, Copy, Debug)]
enum Body {
    None,
    /// URL-encoded fields; `{trainer}` is the trainer's id.
    Form(&'static str),
    /// Fields (URL-encoded style) and one file, as `(file name, bytes)`.
    Multipart(&'static str, Option<(&'static str, &'static [u8])>),
    Json(&'static str),
    Csv(&'static str),
}

/// When a request is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// With the caller's session.
    Normal,
    /// With a fresh session of the same caller, which the request may end or replace.
    Spare,
    /// After every other request: it ends all of the caller's sessions.
    Last,
}

#[derive(Clone, Copy, Debug)]
struct Route {
    method: &'static str,
    path: &'static str,
    policy: Policy,
    body: Body,
    run: Run,
}

const fn get(path: &'static str, policy: Policy) -> Route {
    Route {
        method: "GET",
        path,
        policy,
        body: Body::None,
        run: Run::Normal,
    }
}

/// A page's POST, with a form holding only its CSRF token unless told otherwise.
const fn post(path: &'static str, policy: Policy) -> Route {
    Route {
        method: "POST",
        path,
        policy,
        body: Body::Form(""),
        run: Run::Normal,
    }
}

impl Route {
    /// The same request with another method (the xAPI paths of cmi5 use PUT and DELETE).
    const fn method(self, method: &'static str) -> Route {
        Route { method, ..self }
    }

    const fn form(self, fields: &'static str) -> Route {
        Route {
            body: Body::Form(fields),
            ..self
        }
    }

    const fn multipart(self, fields: &'static str) -> Route {
        Route {
            body: Body::Multipart(fields, None),
            ..self
        }
    }

    const fn file(self, fields: &'static str, name: &'static str, bytes: &'static [u8]) -> Route {
        Route {
            body: Body::Multipart(fields, Some((name, bytes))),
            ..self
        }
    }

    const fn json(self, json: &'static str) -> Route {
        Route {
            body: Body::Json(json),
            ..self
        }
    }

    const fn csv(self, csv: &'static str) -> Route {
        Route {
            body: Body::Csv(csv),
            ..self
        }
    }

    const fn spare(self) -> Route {
        Route {
            run: Run::Spare,
            ..self
        }
    }

    const fn last(self) -> Route {
        Route {
            run: Run::Last,
            ..self
        }
    }
}

use Policy::*;

/// Every route of the application and who may reach it. Keep it in the order of the code.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    // src/ops/health.rs. Finding 8 (sec-a) restricts /metrics to listed addresses or a token.
    get("/healthz", Public),
    get("/readyz", Public),
    get("/metrics", Public),
    // src/startup.rs
    get("/static/{name}", Public),
    get("/documentation/api", Public),
    // src/home.rs
    get("/", SignedIn),
    // src/accounts/pages.rs
    get("/connexion", Public),
    post("/connexion", Public).form("email=jetable%40exemple.fr&password=mot-de-passe-solide").spare(),
    post("/deconnexion", Public).spare(),
    post("/utilisateurs/{id}/role", PersonAdmin).form("role=trainer"),
    post("/utilisateurs/{id}/statut", PersonAdmin).form("disabled=0"),
    // src/accounts/account_pages.rs
    get("/mon-compte", SignedIn),
    post("/mon-compte/sessions/{id}/fermer", OwnSession),
    post("/mon-compte/deconnexion-partout", SignedIn).last(),
    get("/mon-compte/effacement", SignedIn),
    // Without the confirmation box: refused with 422, nothing recorded.
    post("/mon-compte/effacement", SignedIn),
    // src/accounts/links.rs
    get("/invitation/{token}", Public),
    post("/invitation/{token}", Public).form("password=un-mot-de-passe&password_confirm=un-autre"),
    get("/mot-de-passe-oublie", Public),
    post("/mot-de-passe-oublie", Public).form("email=personne%40nulle-part.fr"),
    get("/mot-de-passe/{token}", Public),
    post("/mot-de-passe/{token}", Public).form("password=un-mot-de-passe&password_confirm=un-autre"),
    // src/accounts/token_pages.rs
    get("/organismes/{id}/jetons", OwnAdmin),
    post("/organismes/{id}/jetons", OwnAdmin).form("name=&duree="),
    post("/organismes/{id}/jetons/{token}/revoquer", OwnAdmin),
    // src/cohorts/pages.rs
    get("/admin/organismes", PlatformAdmin),
    post("/admin/organismes", PlatformAdmin).form("name=&siret=&nda=&address=&qualiopi_number=&contact_email=&contact_phone="),
    get("/organismes/{id}", Staff),
    post("/organismes/{id}/invitations", OrgAdmin).form("email=&name=&role="),
    // Unticked, as it already is: nothing changes for the other callers.
    post("/organismes/{id}/alsace-moselle", OrgAdmin),
    get("/organismes/{id}/courriels", Staff),
    post("/organismes/{id}/courriels/{mail}/renvoyer", Staff),
    // src/cohorts/cohort_pages.rs
    get("/organismes/{id}/promotions", Staff),
    post("/organismes/{id}/promotions", OrgAdmin).form("name=&program=&start_date=&end_date="),
    get("/promotions/{id}", CohortStaff),
    post("/promotions/{id}/import", CohortStaff).file("", "stagiaires.csv", b""),
    get("/promotions/{id}/stagiaires.csv", CohortStaff),
    post("/promotions/{id}/formateurs", CohortAdmin).form("trainer={trainer}"),
    // No version 0 is ever current: refused (409), the cohort keeps its version.
    post("/promotions/{id}/version", CohortAdmin).form("version=0"),
    // src/cohorts/end_pages.rs. No date: refused with 422, the cohort keeps its end.
    post("/promotions/{id}/fin", CohortAdmin).form("end_date="),
    // src/cohorts/trainee_pages.rs
    get("/stagiaires/{id}", TraineeFile),
    post("/stagiaires/{id}/parcours", TraineeAdmin).form("module_id=0&kind=&exempted_hours=&reason=&document_ref="),
    post("/stagiaires/{id}/transfert", TraineeAdmin).form("cohort_id=0"),
    post("/stagiaires/{id}/sortie", TraineeAdmin).form("on=&reason=&note="),
    post("/stagiaires/{id}/sortie/annuler", TraineeAdmin),
    post("/stagiaires/{id}/proa", TraineeStaff).form("from=jamais&to=&reason="),
    post("/stagiaires/{id}/proa/{window}/fin", TraineeStaff).form("to=jamais"),
    get("/ma-promotion", Trainee),
    // src/cohorts/calendar.rs
    get("/promotions/{id}/calendrier", CohortStaff),
    post("/promotions/{id}/calendrier/rythme", CohortAdmin).form("from=&to=&day=&am_start=&am_end=&pm_start=&pm_end=&module=&place=&trainer="),
    post("/promotions/{id}/calendrier/distance", CohortAdmin).form("module=0&from=&to="),
    post("/promotions/{id}/calendrier/fermetures", CohortAdmin).form("from=&to=&label="),
    post("/promotions/{id}/calendrier/fermetures/{closure}/supprimer", CohortAdmin),
    post("/seances/{id}", CohortAdmin).form("day=&starts_at=&ends_at=&place=&module=0&trainer="),
    post("/seances/{id}/supprimer", CohortAdmin),
    get("/calendrier/promotion/{token}", Public),
    get("/calendrier/stagiaire/{token}", Public),
    post("/promotions/{id}/calendrier/renouveler", CohortAdmin),
    post("/ma-promotion/agenda/renouveler", Trainee),
    post("/stagiaires/{id}/agenda/renouveler", TraineeStaff),
    // src/tracking/pages.rs
    get("/tableau-de-bord", Trainee),
    get("/promotions/{id}/suivi", CohortStaff),
    get("/promotions/{id}/suivi.csv", CohortStaff),
    get("/stagiaires/{id}/heures", TraineeFile),
    post("/stagiaires/{id}/corrections", TraineeStaff).form("module_id=0&direction=&hours=&minutes=&reason="),
    // src/tracking/activity_pages.rs
    get("/promotions/{id}/activites", CohortStaff),
    get("/mes-assistants", Doctor),
    post("/mes-assistants/resume", Doctor).form("weekly_digest=1"),
    // src/tracking/attendance_pages.rs
    get("/seances/{id}/emargement", CohortStaff),
    post("/seances/{id}/emargement/ouvrir", CohortStaff),
    post("/seances/{id}/emargement/clore", CohortStaff),
    post("/seances/{id}/emargement/{trainee}", CohortStaff).form("status=inconnu&arrived_at=&left_at="),
    post("/seances/{id}/emargement/{trainee}/signer", CohortStaff),
    get("/emargement", Trainee),
    post("/seances/{id}/signer", Trainee),
    // src/curriculum/pages.rs
    get("/parcours", Learner),
    get("/programmes/{program}", Learner),
    get("/programmes/{program}/{module}", Learner),
    get("/programmes/{program}/{module}/activites/{slug}", Learner),
    post("/programmes/{program}/{module}/activites/{slug}/terminee", Trainee),
    // src/curriculum/quiz_pages.rs
    post("/programmes/{program}/{module}/activites/{slug}/tentatives", Trainee),
    get("/programmes/{program}/{module}/evaluation", Learner),
    post("/programmes/{program}/{module}/evaluation", Trainee),
    get("/tentatives/{id}", OwnAttempt),
    post("/tentatives/{id}", OwnAttempt),
    // src/curriculum/assignment_pages.rs
    get("/programmes/{program}/{module}/devoirs/{slug}", Learner),
    // An empty answer: refused (422), nothing kept.
    post("/programmes/{program}/{module}/devoirs/{slug}", Trainee).multipart("answer="),
    get("/promotions/{id}/devoirs", CohortStaff),
    get("/devoirs/fichiers/{id}", Work),
    get("/devoirs/{id}", TraineeStaff),
    // No feedback: refused (422), the version stays to grade.
    post("/devoirs/{id}/notation", TraineeStaff).form("decision=noter&feedback=&score_0="),
    // src/curriculum/markdown_pages.rs
    post("/auteur/apercu", Author).form("text=%23%20Titre"),
    // src/curriculum/file_pages.rs
    get("/programmes/{program}/{module}/fichiers/{name}", Learner),
    get("/programmes/{program}/archive.zip", ProgramAdmin),
    // src/packages/launch_pages.rs and frame_pages.rs
    get("/programmes/{program}/{module}/paquets/{slug}/{item}", PackageLaunch),
    get("/paquets/{token}/", PackagesOrigin),
    get("/paquets/{token}/f/{path:.*}", PackagesOrigin),
    post("/paquets/{token}/commit", PackagesOrigin),
    // src/packages/cmi5_pages.rs: a cmi5 AU's xAPI calls (`tests/it/cmi5.rs` on their origin)
    post("/paquets/{token}/xapi/fetch", PackagesOrigin),
    get("/paquets/{token}/fin", PackagesOrigin),
    get("/paquets/{token}/xapi/{sep:/?}about", PackagesOrigin),
    get("/paquets/{token}/xapi/{sep:/?}activities/state", PackagesOrigin),
    get("/paquets/{token}/xapi/{sep:/?}activities/state", PackagesOrigin).method("PUT"),
    post("/paquets/{token}/xapi/{sep:/?}activities/state", PackagesOrigin).json("{}"),
    get("/paquets/{token}/xapi/{sep:/?}activities/state", PackagesOrigin).method("DELETE"),
    get("/paquets/{token}/xapi/{sep:/?}agents/profile", PackagesOrigin),
    get("/paquets/{token}/xapi/{sep:/?}statements", PackagesOrigin).method("PUT"),
    post("/paquets/{token}/xapi/{sep:/?}statements", PackagesOrigin).json("[]"),
    // src/attestation/pages.rs
    get("/stagiaires/{id}/attestations", TraineeStaff),
    post("/stagiaires/{id}/attestations", TraineeAdmin).form("kind=&derogation=&reason=&from=&to="),
    get("/promotions/{id}/attestations", CohortStaff),
    post("/promotions/{id}/attestations", CohortAdmin),
    get("/attestations/{id}/pdf", Attestation),
    post("/attestations/{id}/revocation", AttestationAdmin).form("reason="),
    post("/attestations/{id}/renvoi", AttestationAdmin),
    post("/attestations/{id}/cpam", AttestationDoctor).form("forwarded_on="),
    get("/mes-attestations", TraineeOrDoctor),
    get("/organismes/{id}/identite", OrgAdmin),
    get("/organismes/{id}/conservation", OrgAdmin),
    // src/privacy/erasure/pages.rs: nothing chosen, no reason, not a number: refused with 422.
    post("/organismes/{id}/gels", OrgAdmin).form("target=&reason="),
    post("/organismes/{id}/gels/{hold}/levee", OrgAdmin).form("reason="),
    post("/organismes/{id}/conservation/duree", OrgAdmin).form("years=deux"),
    // src/privacy/export_pages.rs: every signed-in person asks for her own data.
    get("/mon-compte/donnees", SignedIn),
    post("/mon-compte/donnees", SignedIn),
    get("/mon-compte/donnees/{id}/archive.zip", OwnExport),
    get("/organismes/{id}/donnees-personnelles", OrgAdmin),
    // No address nor reference: refused with 422, nothing made.
    post("/organismes/{id}/donnees-personnelles", OrgAdmin).form("email=&reference="),
    get("/organismes/{id}/programmes", Staff),
    post("/organismes/{id}/programmes", OrgAdmin).form("source=CQP-AM&code=&title="),
    // No code nor title: refused with 422, nothing created.
    post("/organismes/{id}/programmes/nouveau", OrgAdmin).form("code=&title=&kind=fae&total_hours=20"),
    post("/organismes/{id}/auteurs", OrgAdmin),
    get("/auteur/programmes/{code}", CohortAdmin),
    get("/auteur/programmes/{code}/fichiers/{path:.*}", CohortAdmin),
    // A stale revision: refused with 409 for whoever may save, nothing changed.
    post("/auteur/programmes/{code}/fichiers/{path:.*}", CohortAdmin).form("revision=0&texte=x"),
    // A stale revision: refused with 422, nothing published.
    post("/auteur/programmes/{code}/publier", CohortAdmin).form("revision=0&note="),
    // An activity without a title: refused with 422, nothing added.
    post("/auteur/programmes/{code}/activites", CohortAdmin)
        .form("revision=0&module=&sequence=nouvelle&sequence_title=&kind=lesson&slug=x&title=&minutes=5"),
    // A stale revision: refused with 409, nothing kept.
    post("/auteur/programmes/{code}/modules/{folder}/fichiers", CohortAdmin)
        .file("revision=0", "cas.csv", b"nom;age\n"),
    // A module without a title: refused with 422, nothing added.
    post("/auteur/programmes/{code}/modules", CohortAdmin)
        .form("revision=0&code=M9&title=&order=9&distance_hours=1&presentiel_hours=0&missions=administratif"),
    // An activity no sequence lists: refused with 422, nothing removed.
    post("/auteur/programmes/{code}/modules/{folder}/retrait", CohortAdmin).form("revision=0&activite=lessons/aucune.md"),
    get("/auteur/apercu/{code}", CohortAdmin),
    get("/auteur/apercu/{code}/{module}", CohortAdmin),
    get("/auteur/apercu/{code}/{module}/activites/{slug}", CohortAdmin),
    get("/auteur/apercu/{code}/{module}/devoirs/{slug}", CohortAdmin),
    get("/auteur/apercu/{code}/{module}/fichiers/{name}", CohortAdmin),
    // src/curriculum/import_pages.rs
    get("/auteur/programmes/{code}/brouillon.zip", CohortAdmin),
    // No archive (the matrix's file goes as `file`): refused with 422, nothing imported.
    post("/auteur/programmes/{code}/import", CohortAdmin).multipart("revision=0"),
    post("/organismes/{id}/identite", OrgAdmin).form("siret=123&nda=&qualiopi_number=&address=&city="),
    get("/verifier", Public),
    get("/verifier/{code}", Public),
    // src/certification/doctor_link_pages.rs: the link is the key (a fresh one for each call),
    // whoever holds it; the attestation is the fixture's, the first call marks it, the rest
    // find it marked.
    get("/medecin/{token}", Public),
    post("/medecin/{token}/attestations/{id}/cpam", Public),
    post("/medecin/{token}/cqp/{id}/cpam", Public),
    post("/medecin/{token}/desactiver", Public),
    get("/desabonnement/{token}", Public),
    post("/desabonnement/{token}", Public),
    // src/accounts/contact_pages.rs: refused values (an unknown kind, no address).
    post("/mon-compte/courriels", SignedIn).form("kind=inconnu&wanted=1"),
    post("/mon-compte/adresse", SignedIn).form("email="),
    get("/adresse/confirmation/{token}", Public),
    post("/adresse/confirmation/{token}", Public),
    // src/privacy/correction_pages.rs: an empty name, a refusal without its reason.
    get("/mon-compte/identite", SignedIn),
    post("/mon-compte/identite", SignedIn).form("name=&note="),
    get("/organismes/{id}/corrections", OwnAdmin),
    post("/corrections/{id}", OwnPersonAdmin).form("decision=refuser&reason="),
    post("/mes-assistants/liens/desactiver", Doctor),
    post("/stagiaires/{id}/liens-medecin/desactiver", TraineeStaff),
    // src/evidence/pages.rs
    get("/stagiaires/{id}/preuves.zip", TraineeStaff),
    get("/seances/{id}/emargement.pdf", CohortStaff),
    // src/vae/pages.rs
    get("/organismes/{org}/vae/demande", Public),
    post("/organismes/{org}/vae/demande", Public).multipart(""),
    get("/vae/confirmation/{token}", Public),
    post("/vae/confirmation/{token}", Public),
    get("/organismes/{org}/vae", Staff),
    get("/ma-vae", SignedIn),
    get("/ma-vae/{id}", VaeCandidate),
    post("/ma-vae/{id}/documents", VaeCandidate).file("kind=livret2", "livret.pdf", PDF),
    get("/vae/dossiers/{id}", VaeStaffFile),
    post("/vae/dossiers/{id}/etape", VaeFile).form("action=decide&note=&reasons=&jury_date=&jury_time=&jury_place=&outcome=&validated=&recommendations="),
    get("/vae/documents/{id}", VaeFile),
    // src/certification/my_pages.rs: the trainee's own record, hers alone.
    get("/ma-certification", Trainee),
    // src/certification/pages.rs: sessions are hidden (404) outside the organism's staff.
    get("/organismes/{id}/certification", CohortStaff),
    // No date nor blocs: refused with 422, nothing created.
    post("/organismes/{id}/certification", CohortAdmin).form("held_on=&place=&jury="),
    get("/certification/{id}", CohortStaff),
    // No trainee: refused with 422, nobody registered.
    post("/certification/{id}/candidats", CohortAdmin).form("trainee_id=&derogation="),
    // The trainee is not registered: refused with 409, nothing changed.
    post("/certification/{id}/candidats/{trainee}/retrait", CohortAdmin),
    post("/certification/{id}/candidats/{trainee}/resultats", CohortAdmin).form("bloc_M1=acquired"),
    get("/stagiaires/{id}/certification", TraineeFile),
    // Blocs still to pass: refused with 422, no CQP recorded.
    post("/stagiaires/{id}/certification", TraineeAdmin).form("obtained_on=&certificate_number="),
    // src/certification/cqp_pages.rs: no file, refused with 422; the fixture's certificate.
    post("/stagiaires/{id}/certification/certificat", TraineeAdmin).multipart(""),
    get("/stagiaires/{id}/certification/certificat", Attestation),
    // Nothing to change: kept as it was.
    post("/stagiaires/{id}/certification/cpam", TraineeAdmin).form("aid_contract_ref="),
    post("/certifications/{id}/cpam", Doctor).form("forwarded=1"),
    // src/accounts/account_pages.rs: a doctor's own numbers (empty: none recorded).
    post("/mon-compte/cpam", Doctor).form("rpps=&am_number="),
    // src/certification/date_pages.rs. No date: refused with 422, the session keeps its day.
    post("/certification/{id}/date", CohortAdmin).form("held_on="),
    // src/followup/pages.rs
    get("/mon-suivi", Trainee),
    get("/mon-suivi/modules/{module}", Trainee),
    post("/mon-suivi/modules/{module}", Trainee).multipart("kind=&body="),
    get("/aide", Trainee),
    post("/aide", Trainee).multipart("subject=&body="),
    get("/suivi/pieces/{id}", Thread),
    get("/suivi/{id}", Thread),
    post("/suivi/{id}", Thread).multipart("kind=&body="),
    get("/organismes/{id}/suivi", OwnStaff),
    // src/reporting/pages.rs
    get("/organismes/{id}/financeurs", Staff),
    get("/organismes/{id}/financeurs.csv", Staff),
    get("/organismes/{id}/financeurs.xlsx", Staff),
    // src/funding/pages.rs. An unknown status: refused with 422, nothing kept.
    get("/stagiaires/{id}/financement", TraineeStaff),
    post("/stagiaires/{id}/financement", TraineeStaff).form("funder=opco_ep&scheme=proa&status=jamais"),
    get("/organismes/{id}/financements", Staff),
    get("/organismes/{id}/qualiopi", Staff),
    get("/organismes/{id}/qualiopi.csv", Staff),
    get("/organismes/{id}/qualiopi.xlsx", Staff),
    // src/catalogue/pages.rs, entry_pages.rs
    get("/catalogue", Public),
    get("/catalogue.atom", Public),
    get("/catalogue/{id}", Public),
    get("/promotions/{id}/catalogue", CohortAdmin),
    post("/promotions/{id}/catalogue", CohortAdmin).form("city=&region=&distance_percent=&seats=&price=&contact_email=&contact_phone="),
    post("/promotions/{id}/catalogue/retirer", CohortAdmin),
    // The API, src/*/api.rs and src/startup.rs.
    post("/api/v1/study/heartbeats", TraineeBeat).json(r#"{"page": "inconnue", "view": "v1", "seq": 0}"#),
    get("/api/v1/me/hours", Trainee),
    get("/api/v1/cohorts/{id}/progress", CohortStaff),
    get("/api/v1/trainees/{id}/hours", TraineeFile),
    get("/api/v1/openapi.json", Public),
    post("/api/v1/auth/token", Public).json(r#"{"email": "jetable@exemple.fr", "password": "mot-de-passe-solide"}"#),
    get("/api/v1/me", SignedIn),
    get("/api/v1/programs", SignedIn),
    get("/api/v1/programs/{program}", Learner),
    get("/api/v1/programs/{program}/modules/{module}/lessons/{slug}", Learner),
    get("/api/v1/programs/{program}/modules/{module}/evaluation", Learner),
    post("/api/v1/programs/{program}/modules/{module}/evaluation/attempts", Trainee).json("{}"),
    get("/api/v1/attempts", SignedIn),
    post("/api/v1/attempts/{id}/submit", OwnAttempt).json(r#"{"answers": {}}"#),
    get("/api/v1/organisms/{id}/cohorts", Staff),
    post("/api/v1/organisms/{id}/cohorts", OrgAdmin).json(r#"{"name": "", "program": "", "start_date": "", "end_date": ""}"#),
    get("/api/v1/cohorts/{id}", CohortStaff),
    get("/api/v1/cohorts/{id}/trainees", CohortStaff),
    post("/api/v1/cohorts/{id}/import", CohortStaff).csv(""),
    post("/api/v1/cohorts/{id}/version", CohortAdmin).json(r#"{"version": 0}"#),
    get("/api/v1/trainees/{id}", TraineeFile),
    post("/api/v1/trainees/{id}/transfer", TraineeAdmin).json(r#"{"cohort_id": 0}"#),
    post("/api/v1/trainees/{id}/proa-suspensions", TraineeStaff).json(r#"{"from": "jamais"}"#),
    post("/api/v1/trainees/{id}/proa-suspensions/{window}/end", TraineeStaff).json(r#"{"to": "jamais"}"#),
    get("/api/v1/me/assistants", Doctor),
    get("/api/v1/vae/requests", VaeList),
    get("/api/v1/vae/requests/{id}", VaeFile),
    post("/api/v1/vae/requests/{id}/transitions", VaeFile).json(r#"{"action": "decide"}"#),
    get("/api/v1/organisms/{id}/vae/counts", Staff),
    get("/api/v1/organisms/{id}/certification/sessions", CohortStaff),
    get("/api/v1/certification/sessions/{id}", CohortStaff),
    get("/api/v1/trainees/{id}/certification", TraineeFile),
    get("/api/v1/me/certification", Trainee),
    get("/api/v1/organisms/{id}/xapi", Staff),
    get("/api/v1/catalogue", Public),
    get("/api/v1/catalogue/{id}", Public),
];

/// What the routes name, all of it in organism A.
struct Fixture {
    org_a: i64,
    /// The trainee's employer doctor, whose mailed links `/medecin/{token}` opens.
    doctor: i64,
    cohort: i64,
    trainee: i64,
    trainer: i64,
    /// A second trainer of A, whose role and status the matrix sets to what they are.
    bystander: i64,
    session: i64,
    attestation: i64,
    attestation_code: String,
    thread: i64,
    attachment: i64,
    attempt: i64,
    vae: i64,
    vae_document: i64,
    /// The trainee's CQP, with its certificate.
    cqp: i64,
    /// A certification session of A, without candidates.
    cert_session: i64,
    invitation: String,
    reset: String,
    /// A mail of A (the invitation).
    mail: i64,
    /// A second token of A, for the revocation.
    spare_token: i64,
    /// Another open session of the trainee, for "close this session".
    other_session: i64,
    /// The id of the trainee's first module, as `/mon-suivi/modules/{module}` names it.
    module_id: i64,
    lesson: String,
    /// A quiz activity and a file of M1 (a case file or a resource).
    quiz: String,
    file: String,
    /// An assignment of M1, the trainee's version of it and the file handed in with it.
    assignment: String,
    submission: i64,
    submission_file: i64,
    /// A cohort of A published in the catalogue, starting next year.
    listed: i64,
}

impl Fixture {
    /// The value of `{name}` in a route, from the fixture.
    fn param(&self, app: &TestApp, route: &str, name: &str) -> String {
        let under = |prefixes: &[&str]| prefixes.iter().any(|p| route.starts_with(p));
        let id = match name {
            "org" => self.org_a,
            "trainee" => self.trainee,
            "mail" => self.mail,
            "id" if under(&["/organismes/", "/api/v1/organisms/"]) => self.org_a,
            "id" if under(&["/promotions/", "/api/v1/cohorts/"]) => self.cohort,
            "id" if under(&["/catalogue/", "/api/v1/catalogue/"]) => self.listed,
            "id" if under(&["/stagiaires/", "/api/v1/trainees/"]) => self.trainee,
            // Deleted by whoever may: a new one for each request.
            "id" if route == "/seances/{id}/supprimer" => add_session(app, self.org_a, self.cohort),
            "id" if under(&["/seances/"]) => self.session,
            "id" if under(&["/medecin/{token}/cqp/", "/certifications/"]) => self.cqp,
            "id" if under(&["/attestations/", "/medecin/"]) => self.attestation,
            "id" if under(&["/suivi/pieces/"]) => self.attachment,
            "id" if under(&["/suivi/"]) => self.thread,
            "id" if under(&["/tentatives/", "/api/v1/attempts/"]) => self.attempt,
            "id" if under(&["/devoirs/fichiers/"]) => self.submission_file,
            "id" if under(&["/devoirs/"]) => self.submission,
            "id" if under(&["/ma-vae/", "/vae/dossiers/", "/api/v1/vae/requests/"]) => self.vae,
            "id" if under(&["/vae/documents/"]) => self.vae_document,
            "id" if under(&["/certification/", "/api/v1/certification/"]) => self.cert_session,
            "id" if under(&["/utilisateurs/"]) => self.bystander,
            "id" if under(&["/mon-compte/sessions/"]) => self.other_session,
            "id" if under(&["/corrections/"]) => name_correction(app, self.trainee, self.org_a),
            "id" if under(&["/mon-compte/donnees/"]) => {
                crate::data_export::ready_export(app, self.trainee)
            }
            "token" if under(&["/organismes/"]) => self.spare_token,
            // Removed by whoever may: a new one for each request.
            "closure" => add_closure(app, self.org_a, self.trainer),
            "module" if under(&["/mon-suivi/"]) => self.module_id,
            _ => {
                return match (name, route) {
                    ("program", _) => "CQP-AM".into(),
                    // Refused for its empty reason before it is looked up.
                    ("hold", _) => "1".into(),
                    // Checked after the date typed, which the matrix gives wrong.
                    ("window", _) => "0".into(),
                    // A's own copy of the CQP, made by its administrator in the fixture.
                    ("code", r) if r.starts_with("/auteur/") => "A-CQP".into(),
                    ("code", _) => {
                        parcours::attestation::rules::display_code(&self.attestation_code)
                    }
                    ("path:.*", _) => "program.toml".into(),
                    ("folder", _) => "01-suivi-parcours-sante".into(),
                    ("module", _) => "M1".into(),
                    ("slug", r) if r.ends_with("/tentatives") => self.quiz.clone(),
                    ("slug", r) if r.contains("/devoirs/") => self.assignment.clone(),
                    ("slug", _) => self.lesson.clone(),
                    ("name", r) if r.contains("/fichiers/") => self.file.clone(),
                    ("name", "/static/{name}") => "parcours.css".into(),
                    ("token", "/invitation/{token}") => self.invitation.clone(),
                    ("token", "/mot-de-passe/{token}") => self.reset.clone(),
                    // Read afresh: the renewal routes change them.
                    ("token", "/calendrier/promotion/{token}") => {
                        parcours::cohorts::store::cohort(&mut app.conn(), self.cohort)
                            .unwrap()
                            .unwrap()
                            .ics_token
                    }
                    ("token", "/calendrier/stagiaire/{token}") => {
                        parcours::cohorts::store::trainee_ics_token(&mut app.conn(), self.trainee)
                            .unwrap()
                            .unwrap()
                    }
                    // Switched off by whoever may: a new link for each call.
                    ("token", r) if r.starts_with("/medecin/") => {
                        parcours::accounts::doctor_links::issue(
                            &mut app.conn(),
                            "",
                            self.doctor,
                            "matrix",
                        )
                        .unwrap()
                        .trim_start_matches("/medecin/")
                        .to_string()
                    }
                    // A live link for each call: using one turns the doctor's digest off.
                    ("token", "/desabonnement/{token}") => parcours::accounts::unsubscribe::issue(
                        &mut app.conn(),
                        "",
                        self.doctor,
                        "weekly_digest",
                    )
                    .unwrap()
                    .trim_start_matches("/desabonnement/")
                    .to_string(),
                    // A change of address of a person of its own, new for each call: confirming
                    // it changes her address only.
                    ("token", "/adresse/confirmation/{token}") => {
                        let user = app.create_user(
                            Role::Trainee,
                            None,
                            &format!("adresse-{}@exemple.fr", random_suffix()),
                            PASSWORD,
                        );
                        let new = format!("nouvelle-{}@exemple.fr", random_suffix());
                        parcours::accounts::email_change::create(&mut app.conn(), user, &new)
                            .unwrap()
                            .0
                    }
                    // A request waiting for its address, new for each call: confirming uses it.
                    ("token", "/vae/confirmation/{token}") => pending_request(app, self.org_a),
                    ("token", r) if r.starts_with("/paquets/") => "secret-inconnu".into(),
                    ("item", _) => "0".into(),
                    ("sep:/?", _) => String::new(),
                    _ => panic!(
                        "no fixture value for {{{name}}} in {route}: add one to Fixture::param"
                    ),
                };
            }
        };
        id.to_string()
    }

    /// The route with its parameters filled in.
    fn fill(&self, app: &TestApp, route: &str) -> String {
        let mut out = String::new();
        let mut rest = route;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').unwrap() + start;
            out.push_str(&rest[..start]);
            out.push_str(&self.param(app, route, &rest[start + 1..end]));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A caller: its cookies (session and CSRF key), the CSRF token its forms send, and how to
/// open a fresh session like it.
struct Caller {
    who: Who,
    client: reqwest::Client,
    cookies: std::sync::Arc<reqwest::cookie::Jar>,
    csrf: String,
    email: Option<&'static str>,
    bearer: Option<String>,
}

impl Caller {
    async fn new(
        app: &TestApp,
        who: Who,
        email: Option<&'static str>,
        bearer: Option<String>,
    ) -> Caller {
        // As `common::client()`, with a jar the hostile-forms run can read.
        let cookies = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        if let Some(email) = email {
            let res = login(app, &client, email, PASSWORD).await;
            assert_eq!(res.status(), 303, "login of {email}");
        }
        // Even the token's client has a CSRF key: on a public page it is anyone.
        let csrf = csrf_from(&client, &app.url("/connexion")).await;
        Caller {
            who,
            client,
            cookies,
            csrf,
            email,
            bearer,
        }
    }

    /// The `(name, value)` of each cookie the caller holds.
    fn cookie_pairs(&self, app: &TestApp) -> Vec<(String, String)> {
        use reqwest::cookie::CookieStore;
        let url = app.address.parse().unwrap();
        let Some(header) = self.cookies.cookies(&url) else {
            return vec![];
        };
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|c| c.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Another session of the same caller.
    async fn spare(&self, app: &TestApp) -> Caller {
        Caller::new(app, self.who, self.email, self.bearer.clone()).await
    }

    /// Sends a route's request; returns the status and the `Location` header.
    async fn send(&self, app: &TestApp, fx: &Fixture, route: &Route) -> (u16, String) {
        let url = app.url(&fx.fill(app, route.path));
        let mut req = self.client.request(route.method.parse().unwrap(), url);
        match &self.bearer {
            Some(token) => req = req.bearer_auth(token),
            None if route.path.starts_with("/api/") => req = req.header("x-csrf-token", &self.csrf),
            None => {}
        }
        let fields = |raw: &str| raw.replace("{trainer}", &fx.trainer.to_string());
        req = match route.body {
            Body::None => req,
            Body::Form(raw) => req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf_token={}&{}", self.csrf, fields(raw))),
            Body::Multipart(raw, file) => {
                let mut form = Form::new().text("csrf_token", self.csrf.clone());
                for pair in fields(raw).split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    form = form.text(k.to_string(), v.to_string());
                }
                if let Some((name, bytes)) = file {
                    form = form.part("file", Part::bytes(bytes.to_vec()).file_name(name));
                }
                req.multipart(form)
            }
            Body::Json(json) => req.header("content-type", "application/json").body(json),
            Body::Csv(csv) => req.header("content-type", "text/csv").body(csv),
        };
        let res = req.send().await.unwrap();
        let location = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (res.status().as_u16(), location)
    }
}

/// Whether an answer is the one expected.
fn answers(expect: Expect, api: bool, status: u16, location: &str) -> bool {
    let sign_in = status == 303 && location.starts_with("/connexion?suite=");
    match expect {
        Expect::Ok => matches!(status, 200 | 201 | 303 | 409 | 422) && !sign_in,
        Expect::Forbidden => status == 403,
        Expect::Hidden => status == 404,
        Expect::SignIn if api => status == 401,
        Expect::SignIn => sign_in,
    }
}

/// A closure day of the organism; returns its id.
/// A request of the trainee to correct her name, waiting for A's answer.
fn name_correction(app: &TestApp, trainee: i64, org: i64) -> i64 {
    use parcours::db::schema::identity_corrections as ic;
    diesel::insert_into(ic::table)
        .values((
            ic::user_id.eq(trainee),
            ic::organism_id.eq(org),
            ic::current_name.eq("Alice"),
            ic::requested_name.eq("Alice Martin"),
            ic::note.eq(""),
            ic::state.eq("pending"),
            ic::created_at.eq(parcours::db::now()),
        ))
        .returning(ic::id)
        .get_result(&mut *app.conn() as &mut DbConn)
        .unwrap()
}

fn add_closure(app: &TestApp, org: i64, by: i64) -> i64 {
    let closure =
        parcours::organisms::rules::validate_closure("2027-08-02", "", "Fermeture").unwrap();
    parcours::organisms::store::add_closure(&mut app.conn(), by, org, &closure).unwrap()
}

/// The raw token of the newest link of this kind in the outbox, and that mail's id.
/// An anonymous VAE request waiting for its address to be confirmed; returns its link's token.
fn pending_request(app: &TestApp, org: i64) -> String {
    let token = parcours::web::random_token(32).unwrap();
    let email = format!("candidat-{}@exemple.fr", &token[..8]).to_lowercase();
    parcours::vae::pending_store::insert(
        &mut app.conn(),
        &parcours::vae::pending_store::NewPending {
            token_hash: &parcours::accounts::invite::hash_token(&token),
            organism_id: org,
            email: &email,
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
    token
}

fn link_in_outbox(app: &TestApp, prefix: &str) -> (String, i64) {
    let mut conn = app.conn();
    let (id, body): (i64, String) = outbox::table
        .filter(outbox::body_text.like(format!("%{prefix}%")))
        .order(outbox::id.desc())
        .select((outbox::id, outbox::body_text))
        .first(&mut *conn as &mut DbConn)
        .unwrap();
    let link = link_in(&body, prefix);
    (
        link[link.find(prefix).unwrap() + prefix.len()..].to_string(),
        id,
    )
}

/// The fixture and the callers, in the order of `EVERYONE`.
async fn setup(app: &TestApp) -> (Fixture, Vec<Caller>) {
    let org_a = app.create_organism("Organisme A");
    let org_b = app.create_organism("Organisme B");
    parcours::attestation::store::set_identity(
        &mut app.conn(),
        None,
        org_a,
        &parcours::attestation::store::Identity {
            siret: Some("73282932000074".into()),
            nda: Some("11755555575".into()),
            qualiopi_number: Some("Q-TEST-1".into()),
            address: Some("3 rue de la Paix, 69002 Lyon".into()),
            city: None,
        },
    )
    .unwrap();
    let cohort = app.create_cohort(org_a, "CQP-AM");
    let people = [
        (Role::Trainee, Some(org_a), "stagiaire@a.fr"),
        (Role::Doctor, None, "medecin@cabinet.fr"),
        (Role::Trainer, Some(org_a), "formatrice@a.fr"),
        (Role::OrganismAdmin, Some(org_a), "direction@a.fr"),
        (Role::OrganismAdmin, Some(org_b), "direction@b.fr"),
        (Role::Admin, None, "plateforme@parcours.fr"),
    ];
    let ids: Vec<i64> = people
        .iter()
        .map(|(role, org, email)| app.create_user(*role, *org, email, PASSWORD))
        .collect();
    let (trainee, doctor, trainer, admin) = (ids[0], ids[1], ids[2], ids[3]);
    app.enrol(org_a, cohort, trainee);
    app.employ(trainee, doctor, "Dr Martin");
    parcours::cohorts::store::set_trainers(&mut app.conn(), cohort, &[trainer]).unwrap();
    let bystander = app.create_user(Role::Trainer, Some(org_a), "autre-formateur@a.fr", PASSWORD);
    app.create_user(Role::Doctor, None, THROWAWAY, PASSWORD);
    let mut tokens = vec![];
    for name in ["Logiciel RH", "Ancien logiciel"] {
        let body = parcours::web::random_token(32).unwrap();
        let secret =
            parcours::accounts::api_tokens::create(&mut app.conn(), org_a, admin, name, &body, 30)
                .unwrap();
        tokens.push(secret);
    }
    // The second one, the newest.
    let spare_token = {
        use parcours::db::schema::api_tokens;
        api_tokens::table
            .order(api_tokens::id.desc())
            .select(api_tokens::id)
            .first(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };

    let mut callers = vec![Caller::new(app, Who::Anonymous, None, None).await];
    for (who, (_, _, email)) in EVERYONE[1..7].iter().zip(people) {
        callers.push(Caller::new(app, *who, Some(email), None).await);
    }
    callers.push(Caller::new(app, Who::Token, None, Some(tokens[0].clone())).await);
    let (anonymous, as_trainee, as_trainer, as_admin) =
        (&callers[0], &callers[1], &callers[3], &callers[4]);

    // A sign-in sheet, opened by the trainer.
    let session = add_session(app, org_a, cohort);
    let res = as_trainer
        .client
        .post_form(
            app,
            &format!("/seances/{session}/emargement/ouvrir"),
            NO_FIELDS,
        )
        .await;
    assert_eq!(res.status(), 303, "sheet opened");
    // An attestation, by derogation.
    let res = as_admin
        .client
        .post_form(
            app,
            &format!("/stagiaires/{trainee}/attestations"),
            &[
                ("kind", "final"),
                ("derogation", "1"),
                ("reason", "Décision du jury : parcours validé en stage"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "attestation issued");
    let (attestation, attestation_code): (i64, String) = attestations::table
        .filter(attestations::trainee_id.eq(trainee))
        .select((attestations::id, attestations::code))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    // A follow-up thread with a file.
    let module_page = first_module(&as_trainee.client, app).await;
    let module_id = module_page.rsplit('/').next().unwrap().parse().unwrap();
    let res = post_message(
        &as_trainee.client,
        app,
        &module_page,
        &module_page,
        &[("kind", "question"), ("body", "Où trouver le protocole ?")],
        Some(("protocole.pdf", PDF)),
    )
    .await;
    assert_eq!(res.status(), 303, "question asked");
    let thread = thread_of(&location(&res));
    let attachment = followup_attachments::table
        .inner_join(followup_messages::table)
        .filter(followup_messages::thread_id.eq(thread))
        .select(followup_attachments::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    // An evaluation attempt.
    let res = as_trainee
        .client
        .post_form(app, "/programmes/CQP-AM/M1/evaluation", NO_FIELDS)
        .await;
    assert_eq!(res.status(), 303, "attempt started");
    let attempt = location(&res)
        .trim_start_matches("/tentatives/")
        .parse()
        .unwrap();
    let lesson: String = lessons::table
        .inner_join(modules::table)
        .filter(modules::code.eq("M1"))
        .order(lessons::position.asc())
        .select(lessons::slug)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let quiz: String = lessons::table
        .inner_join(modules::table)
        .filter(modules::code.eq("M1"))
        .filter(lessons::kind.eq("quiz"))
        .order(lessons::position.asc())
        .select(lessons::slug)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let file = crate::common::module_files("M1")
        .into_iter()
        .next()
        .expect("M1 has a case file");
    // A version of an M1 assignment, with a file.
    let assignment = crate::common::text_and_files_assignment("M1");
    let page = format!("/programmes/CQP-AM/M1/devoirs/{assignment}");
    let res = crate::assignments::hand_in(
        &as_trainee.client,
        app,
        &page,
        "Ma réponse au devoir.",
        &[("devoir.pdf", PDF.to_vec())],
    )
    .await;
    assert_eq!(res.status(), 303, "assignment handed in");
    let (submission, submission_file): (i64, i64) = assignment_files::table
        .inner_join(assignment_submissions::table)
        .filter(assignment_submissions::trainee_id.eq(trainee))
        .select((assignment_submissions::id, assignment_files::id))
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    // The trainee's VAE file, with one document.
    let res = as_trainee
        .client
        .post_multipart(app, &form_path(org_a), |form| {
            request_form(form, None, "2000").part(
                "doc_cerfa_12818",
                Part::bytes(PDF.to_vec())
                    .file_name("cerfa 12818.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            )
        })
        .await;
    assert_eq!(res.status(), 303, "VAE request");
    let vae = location(&res)
        .trim_start_matches("/ma-vae/")
        .parse()
        .unwrap();
    let vae_document = vae_documents::table
        .filter(vae_documents::request_id.eq(vae))
        .select(vae_documents::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    // A certification session of A.
    let cert_session = parcours::certification::store::insert_session(
        &mut app.conn(),
        admin,
        org_a,
        &parcours::certification::rules::NewSession {
            held_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            place: "Lyon".into(),
            jury: "Jury de branche".into(),
            blocs: vec!["M1".into()],
        },
    )
    .unwrap();
    // The trainee's CQP obtained, and its certificate uploaded (mailed to her doctor).
    parcours::certification::store::record_cqp(
        &mut app.conn(),
        parcours::certification::store::By {
            actor: admin,
            organism_id: org_a,
        },
        trainee,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        "CQP-MATRICE-1",
    )
    .unwrap();
    let res = as_admin
        .client
        .post_multipart(
            app,
            &format!("/stagiaires/{trainee}/certification/certificat"),
            |f| {
                f.part(
                    "certificate",
                    reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
                        .file_name("cqp.pdf"),
                )
            },
        )
        .await;
    assert_eq!(res.status(), 303, "CQP certificate uploaded");
    let cqp = parcours::certification::cqp::of_trainee(&mut app.conn(), trainee)
        .unwrap()
        .unwrap()
        .id;
    // A's own programme, a copy of the CQP.
    let res = as_admin
        .client
        .post_form(
            app,
            &format!("/organismes/{org_a}/programmes"),
            &[
                ("source", "CQP-AM"),
                ("code", "A-CQP"),
                ("title", "CQP d'A"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "copy of the CQP");
    // An invitation and a password reset link.
    let res = as_admin
        .client
        .post_form(
            app,
            &format!("/organismes/{org_a}/invitations"),
            &[
                ("email", "invitee@a.fr"),
                ("name", "Nouvelle Formatrice"),
                ("role", "trainer"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "invitation");
    let (invitation, mail) = link_in_outbox(app, "/invitation/");
    let res = anonymous
        .client
        .post_form(app, "/mot-de-passe-oublie", &[("email", THROWAWAY)])
        .await;
    assert_eq!(res.status(), 200, "reset asked");
    let (reset, _) = link_in_outbox(app, "/mot-de-passe/");
    // The trainee signed in on a second device.
    let res = login(app, &client(), "stagiaire@a.fr", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let other_session = login_sessions::table
        .filter(login_sessions::user_id.eq(trainee))
        .order(login_sessions::id.desc())
        .select(login_sessions::id)
        .first(&mut *app.conn() as &mut DbConn)
        .unwrap();
    let fixture = Fixture {
        org_a,
        doctor,
        cohort,
        trainee,
        trainer,
        bystander,
        session,
        attestation,
        attestation_code,
        thread,
        attachment,
        attempt,
        vae,
        vae_document,
        cert_session,
        cqp,
        invitation,
        reset,
        mail,
        spare_token,
        other_session,
        module_id,
        lesson,
        quiz,
        file,
        assignment,
        submission,
        submission_file,
        listed: app.listed_cohort(org_a),
    };
    (fixture, callers)
}

#[tokio::test]
async fn matrix_every_route_answers_every_caller_as_the_table_says() {
    // The table names every route of the code, and nothing else.
    let code = crate::routes::registered();
    let mut table = BTreeSet::new();
    for r in ROUTES {
        assert!(
            table.insert((r.method.to_string(), r.path.to_string())),
            "{} {} is twice in the table",
            r.method,
            r.path
        );
    }
    let missing: Vec<_> = code.difference(&table).collect();
    let stale: Vec<_> = table.difference(&code).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes of the code not in the matrix table (add them to ROUTES in tests/it/matrix.rs, \
         with who may reach them): {missing:?}\ntable entries that name no route: {stale:?}"
    );
    assert!(code.len() > 100, "routes found: {code:?}");

    let app = spawn_app().await;
    let started = Instant::now();
    let (fx, callers) = setup(&app).await;
    let fixture_time = started.elapsed();
    let mut wrong = vec![];
    let mut sent = 0;
    let mut rows: Vec<&Route> = ROUTES.iter().collect();
    rows.sort_by_key(|r| matches!(r.run, Run::Last));
    for route in rows {
        let api = route.path.starts_with("/api/");
        for caller in &callers {
            let spare;
            let caller = if route.run == Run::Spare {
                spare = caller.spare(&app).await;
                &spare
            } else {
                caller
            };
            let expected = expect(route.policy, caller.who, api);
            let (status, location) = caller.send(&app, &fx, route).await;
            sent += 1;
            if !answers(expected, api, status, &location) {
                wrong.push(format!(
                    "{} {} as {:?}: expected {expected:?}, got {status} {location}",
                    route.method, route.path, caller.who
                ));
            }
        }
    }
    eprintln!(
        "matrix: {} routes × {} callers = {sent} requests in {:.1} s (fixture {:.1} s)",
        ROUTES.len(),
        callers.len(),
        started.elapsed().as_secs_f64(),
        fixture_time.as_secs_f64()
    );
    assert!(
        wrong.is_empty(),
        "{} answers differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Who sends a form in the hostile run: the first of these whom the route lets through, so that
/// the generated values reach what lies behind its checks. Public forms go as a visitor.
const FORM_SENDERS: [Who; 7] = [
    Who::Anonymous,
    Who::Admin,
    Who::PlatformAdmin,
    Who::Trainer,
    Who::Trainee,
    Who::Doctor,
    Who::OtherAdmin,
];

/// A test-only OpenAPI document of the pages' forms (URL-encoded and multipart), made from
/// `ROUTES`: each on the fixture's ids, with its sender's cookies and CSRF token as the only
/// values allowed, and every field of the form as a string for schemathesis to choose.
fn forms_document(app: &TestApp, fx: &Fixture, callers: &[Caller]) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut paths = Map::new();
    for route in ROUTES {
        let (fields, file, media) = match route.body {
            Body::Form(f) => (f, None, "application/x-www-form-urlencoded"),
            Body::Multipart(f, file) => (f, file, "multipart/form-data"),
            _ => continue,
        };
        let sender = FORM_SENDERS
            .into_iter()
            .find(|w| expect(route.policy, *w, false) == A);
        // Ending all of one's sessions, or this one, would sign the sender out of the rest.
        let (Some(who), false) = (sender, route.run == Run::Last) else {
            continue;
        };
        if route.run == Run::Spare && who != Who::Anonymous {
            continue;
        }
        let caller = callers.iter().find(|c| c.who == who).unwrap();
        let mut properties = Map::new();
        properties.insert(
            "csrf_token".into(),
            json!({"type": "string", "enum": [caller.csrf]}),
        );
        let names = fields
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap());
        for name in names {
            properties.insert(name.into(), json!({"type": "string"}));
        }
        if file.is_some() {
            properties.insert("file".into(), json!({"type": "string", "format": "binary"}));
        }
        let required: Vec<&String> = properties.keys().collect();
        let body = json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        let cookies: Vec<Value> = caller
            .cookie_pairs(app)
            .into_iter()
            .map(|(name, value)| {
                json!({"name": name, "in": "cookie", "required": true,
                       "schema": {"type": "string", "enum": [value]}})
            })
            .collect();
        let mut content = Map::new();
        content.insert(media.into(), json!({ "schema": body }));
        paths.insert(
            fx.fill(app, route.path),
            json!({"post": {
                "summary": format!("{} ({:?})", route.path, who),
                "parameters": cookies,
                "requestBody": {"required": true, "content": content},
                "responses": {"default": {"description": "Toute réponse sauf une erreur du serveur"}},
            }}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Parcours : formulaires des pages (test)", "version": "1"},
        "paths": paths,
    })
}

/// Hostile forms (issue #21): schemathesis (PyPI, installed by .ci/run) fills every form of
/// the pages with generated values, sent by someone the route lets through, with a valid CSRF
/// token, on the fixture's records. No answer may be a server error.
#[tokio::test]
async fn schemathesis_finds_no_server_error_in_the_forms_of_the_pages() {
    let app = spawn_app().await;
    let (fx, callers) = setup(&app).await;
    // What the run found on PostgreSQL, which cannot store a NUL character in text: a form
    // holding one is refused, on either backend, multipart or URL-encoded.
    let (trainee, admin) = (&callers[1], &callers[4]);
    let help = Form::new()
        .text("csrf_token", trainee.csrf.clone())
        .text("subject", "Question")
        .text("body", "\0");
    let res = trainee
        .client
        .post(app.url("/aide"))
        .multipart(help)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "a NUL in a multipart form");
    assert!(res.text().await.unwrap().contains("caractère nul"));
    let correction = format!(
        "csrf_token={}&module_id={}&direction=ajout&hours=1&minutes=0&reason=Rattrapage%00",
        admin.csrf, fx.module_id
    );
    let res = admin
        .client
        .post(app.url(&format!("/stagiaires/{}/corrections", fx.trainee)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(correction)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "a NUL in a URL-encoded form");
    assert!(res.text().await.unwrap().contains("caractère nul"));
    let doc = forms_document(&app, &fx, &callers);
    let operations = doc["paths"].as_object().unwrap().len();
    assert!(operations > 40, "forms: {operations}");
    let file = app.dir.path().join("forms.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let base = app.address.clone();
    // Off the test's runtime thread: the server under test runs on it.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("schemathesis")
            // Its cache of failures stays with this run, not in the repository.
            .current_dir(file.parent().unwrap())
            .arg("run")
            .arg(&file)
            .args(["--url", &base])
            .args([
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "10",
                "--seed",
                "1",
                "--request-timeout",
                "10",
                "--max-redirects",
                "0",
                // One worker: see the API run in foundation.rs (cpython#106905).
                "--workers",
                "1",
            ])
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis is installed (see .ci/run)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed"), "{stdout}");
}
