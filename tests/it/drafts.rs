//! Drafts of organisms' programmes: saved revision by revision, and a save from a revision
//! the draft has left (another author, another instance) is refused with the draft as it is.

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::curriculum::authoring::drafts::{self, Saved};
use parcours::curriculum::authoring::manifest::Manifest;
use parcours::db::schema::programs;
use parcours::db::{self, DbConn};

use crate::common::*;

const PW: &str = "mot-de-passe-solide";

fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

fn start() -> Manifest {
    Manifest::from([
        ("program.toml".into(), sha('a')),
        ("01-suivi-parcours-sante/lessons/intro.md".into(), sha('b')),
    ])
}

/// The CQP's programme row and the content version it is at.
fn cqp(conn: &mut DbConn) -> (i64, i64) {
    programs::table
        .filter(programs::code.eq("CQP-AM"))
        .select((programs::id, programs::version_id))
        .first(conn)
        .unwrap()
}

/// Two authors of one organism.
fn authors(app: &TestApp) -> (i64, i64) {
    let org = app.create_organism("Organisme des Lilas");
    let alice = app.create_user(Role::OrganismAdmin, Some(org), "alice@lilas.fr", PW);
    let bruno = app.create_user(Role::Trainer, Some(org), "bruno@lilas.fr", PW);
    (alice, bruno)
}

#[tokio::test]
async fn a_draft_is_saved_revision_by_revision_and_a_stale_save_changes_nothing() {
    let app = spawn_app().await;
    let (alice, bruno) = authors(&app);
    let mut conn = app.conn();
    let c: &mut DbConn = &mut conn;
    let (program, version) = cqp(c);
    assert_eq!(drafts::get(c, program).unwrap(), None);

    drafts::create(c, program, &start(), Some(version), Some(alice)).unwrap();
    let draft = drafts::get(c, program).unwrap().unwrap();
    assert_eq!(draft.revision, 1);
    assert_eq!(draft.manifest, start());
    assert_eq!(draft.based_on, Some(version));
    assert_eq!(
        draft.updated_by_name.as_deref(),
        Some("Personne alice@lilas.fr")
    );
    assert!(drafts::create(c, program, &start(), None, None).is_err());

    let edits = [
        (
            "01-suivi-parcours-sante/lessons/intro.md".into(),
            Some(sha('c')),
        ),
        (
            "01-suivi-parcours-sante/lessons/écoute.md".into(),
            Some(sha('d')),
        ),
        ("program.toml".into(), None),
    ];
    assert_eq!(
        drafts::save(c, program, 1, &edits, bruno).unwrap(),
        Saved::Saved(2)
    );
    let saved = drafts::get(c, program).unwrap().unwrap();
    let expected = Manifest::from([
        ("01-suivi-parcours-sante/lessons/intro.md".into(), sha('c')),
        ("01-suivi-parcours-sante/lessons/écoute.md".into(), sha('d')),
    ]);
    assert_eq!((saved.revision, &saved.manifest), (2, &expected));
    assert_eq!(saved.updated_by, Some(bruno));
    assert_eq!(saved.based_on, Some(version));

    // Alice still has revision 1 open: she is shown Bruno's draft, and nothing is written.
    let stale = [("program.toml".into(), Some(sha('e')))];
    match drafts::save(c, program, 1, &stale, alice).unwrap() {
        Saved::Changed(now) => assert_eq!(now, saved),
        other => panic!("a stale save was taken: {other:?}"),
    }
    assert_eq!(drafts::get(c, program).unwrap().unwrap(), saved);

    // A path that could leave the programme folder is refused, and nothing is written.
    let escaping = [("../../etc/passwd".into(), Some(sha('f')))];
    assert!(drafts::save(c, program, 2, &escaping, alice).is_err());
    let bad_blob = [("program.toml".into(), Some("../x".into()))];
    assert!(drafts::save(c, program, 2, &bad_blob, alice).is_err());
    assert_eq!(drafts::get(c, program).unwrap().unwrap(), saved);
}

#[tokio::test]
async fn an_import_replaces_the_whole_draft_at_its_revision_only() {
    let app = spawn_app().await;
    let (alice, bruno) = authors(&app);
    let mut conn = app.conn();
    let c: &mut DbConn = &mut conn;
    let (program, version) = cqp(c);
    drafts::create(c, program, &start(), Some(version), Some(alice)).unwrap();

    let imported = Manifest::from([("program.toml".into(), sha('9'))]);
    assert_eq!(
        drafts::replace(c, program, 1, &imported, bruno).unwrap(),
        Saved::Saved(2)
    );
    let draft = drafts::get(c, program).unwrap().unwrap();
    assert_eq!((draft.revision, &draft.manifest), (2, &imported));
    assert_eq!(
        draft.updated_by_name.as_deref(),
        Some("Personne bruno@lilas.fr")
    );

    match drafts::replace(c, program, 1, &start(), alice).unwrap() {
        Saved::Changed(now) => assert_eq!(now, draft),
        other => panic!("a stale import was taken: {other:?}"),
    }
    assert_eq!(drafts::get(c, program).unwrap().unwrap(), draft);

    // Another programme has no draft, and saving one is no way to create it.
    let fae: i64 = programs::table
        .filter(programs::code.eq("FAE-AM"))
        .select(programs::id)
        .first(c)
        .unwrap();
    assert_eq!(drafts::get(c, fae).unwrap(), None);
    let e = drafts::save(c, fae, 1, &[], alice).unwrap_err();
    assert_eq!(e, diesel::result::Error::NotFound);
    assert_eq!(drafts::get(c, fae).unwrap(), None);
}

/// Another instance commits a save while this one is saving from the same revision: this
/// one is told the draft changed, whichever of its read or its update the commit lands
/// between (PostgreSQL re-checks the revision of the row it waited for; SQLite waits for the
/// write lock before reading).
#[tokio::test]
async fn a_save_racing_another_instance_commit_is_told_the_draft_changed() {
    let app = spawn_app().await;
    let (alice, bruno) = authors(&app);
    let (program, version) = cqp(&mut app.conn());
    drafts::create(
        &mut app.conn(),
        program,
        &start(),
        Some(version),
        Some(alice),
    )
    .unwrap();

    let pool = app.pool.clone();
    let mut other = app.conn();
    let racing = db::transaction(&mut other, |c| {
        let edits = [("program.toml".into(), Some(sha('1')))];
        assert_eq!(drafts::save(c, program, 1, &edits, bruno)?, Saved::Saved(2));
        // Its row (PostgreSQL) or the write lock (SQLite) is held until this commits.
        let racing = std::thread::spawn(move || {
            let edits = [("program.toml".into(), Some(sha('2')))];
            drafts::save(&mut pool.get().unwrap(), program, 1, &edits, alice)
        });
        std::thread::sleep(std::time::Duration::from_millis(400));
        Ok::<_, diesel::result::Error>(racing)
    })
    .unwrap();
    match racing.join().unwrap().unwrap() {
        Saved::Changed(now) => {
            assert_eq!(now.revision, 2);
            assert_eq!(now.manifest["program.toml"], sha('1'));
            assert_eq!(
                now.updated_by_name.as_deref(),
                Some("Personne bruno@lilas.fr")
            );
        }
        other => panic!("both saves were taken: {other:?}"),
    }
    assert_eq!(
        drafts::get(&mut app.conn(), program)
            .unwrap()
            .unwrap()
            .revision,
        2
    );
}
