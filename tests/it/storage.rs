//! The storage layer on both backends (a local folder and the S3-compatible server `.ci/run`
//! starts), and what a trainee and staff see when S3 stops answering.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::followup_attachments;
use parcours::objects::{Objects, Shelf};

use crate::common::*;
use crate::followup::{first_module, post_message};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// The two backends, each on a fresh folder or prefix.
fn both_backends(dir: &std::path::Path) -> Vec<(&'static str, Objects)> {
    let local = plain(dir, "local");
    let mut s3 = plain(dir, "s3");
    s3.extend(s3_env());
    vec![("local", objects_of(&local)), ("s3", objects_of(&s3))]
}

fn plain(dir: &std::path::Path, name: &str) -> HashMap<String, String> {
    let data = dir.join(name);
    plain_env(&data, &format!("sqlite://{}/p.db", data.display()))
}

/// Bytes that differ from one call to the next, of `len` bytes.
fn noise(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    parcours::base::digest::sha256_hex(bytes)
}

fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

#[test]
fn files_are_kept_once_by_their_hash_read_back_checked_and_listed_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, objects) in both_backends(dir.path()) {
        let shelf: Shelf = objects.uploads.clone();
        assert!(shelf.list().unwrap().is_empty(), "{backend}: a fresh shelf");
        let small = sha(b"bonjour");
        assert_eq!(shelf.put(b"bonjour").unwrap(), small, "{backend}");
        assert_eq!(shelf.put(b"bonjour").unwrap(), small, "{backend}");
        // 20 MB: sent in parts, appearing whole or not at all.
        let big = noise(20 << 20, 7);
        let file = dir.path().join(format!("{backend}.mp4"));
        std::fs::write(&file, &big).unwrap();
        let stored = shelf.put_file(&file).unwrap();
        assert_eq!(stored.sha256, sha(&big), "{backend}");
        assert_eq!(stored.size, 20 << 20);
        let listed: Vec<(String, u64)> = shelf
            .list()
            .unwrap()
            .into_iter()
            .map(|s| (s.sha256, s.size))
            .collect();
        let mut expected = vec![(small.clone(), 7), (stored.sha256.clone(), 20 << 20)];
        expected.sort();
        assert_eq!(listed, expected, "{backend}: each file once");
        assert_eq!(shelf.read(&small).unwrap(), b"bonjour");
        let back = dir.path().join(format!("{backend}-back.mp4"));
        shelf.fetch_to(&stored.sha256, &back).unwrap();
        assert!(std::fs::read(&back).unwrap() == big, "{backend}");
        assert!(shelf.verify(&stored.sha256).unwrap());
        // A copy on this disk: the file itself locally, fetched once from S3.
        let copy = shelf.local_copy(&stored.sha256).unwrap();
        assert!(std::fs::read(&copy).unwrap() == big, "{backend}");
        if shelf.is_remote() {
            let cached = objects.programmes.put(b"video").unwrap();
            let first = objects.programmes.local_copy(&cached).unwrap();
            objects.programmes.delete(&cached).unwrap();
            assert_eq!(objects.programmes.local_copy(&cached).unwrap(), first);
            assert!(
                first.starts_with(dir.path()),
                "in the instance's data folder"
            );
        } else {
            assert_eq!(copy, shelf.local_path(&stored.sha256).unwrap());
        }
        // Programmes and uploads are two shelves: one does not see the other's files.
        assert!(objects.programmes.list().unwrap().is_empty(), "{backend}");
        shelf.delete(&small).unwrap();
        shelf.delete(&small).unwrap();
        let e = shelf.read(&small).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{backend}: {e}");
        for bad in ["../secret.key", "", &small.to_uppercase(), &small[..63]] {
            assert!(shelf.read(bad).is_err(), "{backend}: {bad}");
            assert!(
                shelf
                    .put_file_as(
                        &file,
                        &parcours::objects::Stored {
                            sha256: bad.to_string(),
                            size: 1,
                        }
                    )
                    .is_err()
            );
        }
    }
}

#[test]
fn a_damaged_file_is_refused_when_read_and_sent_again_when_kept_again() {
    let dir = tempfile::tempdir().unwrap();
    let shelf = parcours::objects::folder(&dir.path().join("f")).unwrap();
    let name = shelf.put(b"hello").unwrap();
    let path = shelf.local_path(&name).unwrap();
    std::fs::write(&path, b"jello").unwrap();
    let e = shelf.read(&name).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("checked when read back"), "{e}");
    assert!(!shelf.verify(&name).unwrap());
    // A truncated copy is not taken for the file.
    std::fs::write(&path, b"hel").unwrap();
    shelf.put(b"hello").unwrap();
    assert_eq!(shelf.read(&name).unwrap(), b"hello");
}

#[test]
fn two_instances_keeping_the_same_file_at_once_store_it_once() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, objects) in both_backends(dir.path()) {
        let video = noise(12 << 20, 3);
        let file = dir.path().join(format!("{backend}-same.mp4"));
        std::fs::write(&file, &video).unwrap();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (shelf, file) = (objects.programmes.clone(), file.clone());
                std::thread::spawn(move || shelf.put_file(&file).unwrap())
            })
            .collect();
        let names: Vec<String> = writers
            .into_iter()
            .map(|w| w.join().unwrap().sha256)
            .collect();
        assert_eq!(names[0], names[1]);
        let listed = objects.programmes.list().unwrap();
        assert_eq!(listed.len(), 1, "{backend}: {listed:?}");
        assert!(objects.programmes.verify(&names[0]).unwrap(), "{backend}");
    }
}

#[test]
fn the_s3_settings_are_checked_and_a_shared_secret_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = plain(dir.path(), "cfg");
    env.extend(s3_env());
    env.remove("PARCOURS_SECRET");
    let e = parcours::AppConfig::from_sources(&env, None).unwrap_err();
    assert_eq!(e.setting, "PARCOURS_SECRET");
    assert!(e.message.contains("ne partagent pas de disque"), "{e}");
    env.insert("PARCOURS_SECRET".into(), SECRET.into());
    env.insert("PARCOURS_STORAGE_URL".into(), "http://bucket".into());
    let e = parcours::AppConfig::from_sources(&env, None).unwrap_err();
    assert_eq!(e.setting, "PARCOURS_STORAGE_URL");
    env.insert("PARCOURS_STORAGE_URL".into(), "s3://parcours-test/x".into());
    env.remove("PARCOURS_STORAGE_SECRET_KEY");
    let e = parcours::AppConfig::from_sources(&env, None).unwrap_err();
    assert_eq!(e.setting, "PARCOURS_STORAGE_SECRET_KEY");
    // The secret key never reaches a log.
    env.insert(
        "PARCOURS_STORAGE_SECRET_KEY".into(),
        "tres-secret-0042".into(),
    );
    let config = parcours::AppConfig::from_sources(&env, None).unwrap();
    assert!(!format!("{config:?}").contains("tres-secret-0042"));
}

/// A TCP relay to the S3 server that can be cut: cutting closes the connections open
/// through it, and while down it accepts and drops every new one, as a store that has gone
/// away does.
struct Relay {
    port: u16,
    down: Arc<AtomicBool>,
    open: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (cut, tasks) = (down.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(task.abort_handle());
            }
        });
        Relay { port, down, open }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn mend(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_s3_stops_answering_an_upload_gets_a_503_and_records_nothing_while_pages_work() {
    let relay = Relay::start(s3_endpoint().trim_start_matches("http://").to_string()).await;
    let endpoint = format!("http://127.0.0.1:{}", relay.port);
    let app = spawn_app_with(|env| {
        env.extend(s3_env());
        env.insert("PARCOURS_STORAGE_ENDPOINT".into(), endpoint);
    })
    .await;
    let org = app.create_organism("Organisme A");
    let (alice, _) = app.trainee_in(org, "CQP-AM", "alice@a.fr").await;
    let module_page = first_module(&alice, &app).await;
    let attachments = || -> i64 {
        followup_attachments::table
            .count()
            .get_result(&mut *app.conn() as &mut DbConn)
            .unwrap()
    };

    let send = || {
        let work = [("kind", "travail"), ("body", "Mon travail")];
        let (alice, app, page) = (&alice, &app, module_page.clone());
        async move {
            let file = Some(("compte-rendu.pdf", PDF));
            post_message(alice, app, &page, &page, &work, file).await
        }
    };
    relay.cut();
    let started = std::time::Instant::now();
    let res = send().await;
    assert_eq!(res.status(), 503);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Le stockage des fichiers ne répond pas : rien n&#x27;a été enregistré"),
        "{html}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(attachments(), 0, "no record points to a missing file");
    assert_eq!(app.staged_uploads(), 0, "the waiting copy is removed");
    // Pages that need no file keep working.
    for page in ["/tableau-de-bord", "/mon-suivi", module_page.as_str()] {
        let res = alice.get(app.url(page)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{page}");
    }
    let (staff, _) = signed_in(&app, Role::Trainer, Some(org), "formateur@a.fr").await;
    let res = staff
        .get(app.url(&format!("/organismes/{org}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Back: the same upload goes through, and the file reads back.
    relay.mend();
    let res = send().await;
    assert_eq!(res.status(), 303);
    assert_eq!(attachments(), 1);
    let uploads = app.objects.uploads.clone();
    assert_eq!(on_thread(move || uploads.read(&sha(PDF)).unwrap()), PDF);
}
