//! Issue #27, the proof that no instance depends on its disk: two `parcours serve` processes,
//! each in a network namespace of its own with an empty data folder of its own, share only
//! PostgreSQL (through a relay on the host, which listens on loopback only) and S3. A file
//! uploaded through one is downloaded through the other and neither folder keeps a copy;
//! one killed (SIGKILL) under load behind nginx loses nothing that was acknowledged.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use parcours::accounts::Role;
use parcours::db::DbConn;
use parcours::db::schema::followup_attachments;

use crate::common::*;

const PW: &str = "mot-de-passe-solide";
/// Every namespace of this test is named so, then with the pid of the test process that
/// made it: one left by a run that was killed before its guard ran is recognised and removed.
const PREFIX: &str = "pcns-";

/// `ip`, wherever Debian's iproute2 put it.
fn ip_binary() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("ip")
}

fn ip(args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(ip_binary())
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut raw = [0u8; N];
    getrandom::fill(&mut raw).unwrap();
    raw
}

/// Namespaces left by a run of this test whose process is gone (killed by a timeout before
/// its guard could run): their servers are killed and the namespaces removed. Those of a
/// run still going, in another worktree for instance, are left alone.
fn remove_stale_namespaces() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        for pid in ip(&["netns", "pids", name]).unwrap_or_default().lines() {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = ip(&["netns", "del", name]);
    }
}

/// A network namespace joined to the host by a veth pair on a /30 of its own: the host side
/// is `.1`, the namespace's `.2`. Removed on drop, even when the test panics.
struct Namespace {
    name: String,
    host_veth: String,
    host: Ipv4Addr,
    inside: Ipv4Addr,
}

impl Namespace {
    fn create(name: String, host_veth: String, peer: String, net: [u8; 4]) -> Namespace {
        let [a, b, c, d] = net;
        let ns = Namespace {
            name,
            host_veth,
            host: Ipv4Addr::new(a, b, c, d + 1),
            inside: Ipv4Addr::new(a, b, c, d + 2),
        };
        // The guard exists before the first command: a half-made namespace is removed too.
        let (name, host_veth) = (ns.name.as_str(), ns.host_veth.as_str());
        let (host, inside) = (format!("{}/30", ns.host), format!("{}/30", ns.inside));
        let steps: [&[&str]; 7] = [
            &["netns", "add", name],
            &[
                "link", "add", host_veth, "type", "veth", "peer", "name", &peer, "netns", name,
            ],
            &["addr", "add", &host, "dev", host_veth],
            &["link", "set", host_veth, "up"],
            &["-n", name, "addr", "add", &inside, "dev", &peer],
            &["-n", name, "link", "set", &peer, "up"],
            &["-n", name, "link", "set", "lo", "up"],
        ];
        for step in steps {
            if let Err(e) = ip(step) {
                panic!("network namespaces need root and iproute2 (see .ci/run): {e}");
            }
        }
        ns
    }

    /// The command prefix that runs a program inside.
    fn exec(&self) -> [&str; 4] {
        [ip_binary(), "netns", "exec", &self.name]
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Deleting one end of a veth pair deletes both; the namespace goes once its last
        // process has (the servers are dropped before their namespace).
        let _ = ip(&["link", "del", &self.host_veth]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Two consecutive /30 subnets of 10.0.0.0/8 that nothing on this host uses yet.
fn free_subnets() -> [[u8; 4]; 2] {
    let used = format!(
        "{}{}",
        ip(&["-4", "-o", "addr"]).unwrap_or_default(),
        ip(&["-4", "route"]).unwrap_or_default()
    );
    for _ in 0..50 {
        let [x, y, z] = random_bytes::<3>();
        let (b, c, d) = (100 + x % 150, y, (z % 32) * 8);
        if !used.contains(&format!("10.{b}.{c}.")) {
            return [[10, b, c, d], [10, b, c, d + 4]];
        }
    }
    panic!("no free 10.x.y.0/29 on this host");
}

/// A TCP relay on the host side of the veths to PostgreSQL, which listens on loopback only
/// and whose configuration the test does not change. Its own thread and runtime, so that
/// the test's blocking calls never stall the instances' database connections; dropping it
/// closes every connection.
struct Relay {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// One listener on a free port of each address; the addresses they listen on.
    fn start(on: &[Ipv4Addr], target: String) -> (Relay, Vec<SocketAddr>) {
        let listeners: Vec<std::net::TcpListener> = on
            .iter()
            .map(|a| std::net::TcpListener::bind((*a, 0)).unwrap())
            .collect();
        let addresses = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                for listener in listeners {
                    listener.set_nonblocking(true).unwrap();
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let target = target.clone();
                    tokio::spawn(async move {
                        while let Ok((mut inbound, _)) = listener.accept().await {
                            let target = target.clone();
                            tokio::spawn(async move {
                                if let Ok(mut outbound) =
                                    tokio::net::TcpStream::connect(&target).await
                                {
                                    let _ =
                                        tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                            .await;
                                }
                            });
                        }
                    });
                }
                let _ = stopped.await;
            });
        });
        let relay = Relay {
            stop: Some(stop),
            thread: Some(thread),
        };
        (relay, addresses)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The test's database, dropped last, even when the test panics.
struct PgDatabase {
    server: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        drop_pg_database(&self.server, &self.name);
    }
}

/// Every file under `dir`, however deep.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The files of a data folder, but for its staging folder, that hold one of these uploads.
fn copies_under(dir: &Path, kept: &HashSet<String>) -> Vec<PathBuf> {
    let staging = dir.join("staging");
    files_under(dir)
        .into_iter()
        .filter(|f| !f.starts_with(&staging))
        .filter(|f| {
            std::fs::read(f)
                .is_ok_and(|bytes| kept.contains(&parcours::base::digest::sha256_hex(&bytes)))
        })
        .collect()
}

async fn sign_in(c: &reqwest::Client, base: &str, email: &str) {
    let res = c
        .post_form(base, "/connexion", &[("email", email), ("password", PW)])
        .await;
    assert_eq!(res.status(), 303, "sign-in of {email} at {base}");
}

/// The trainee's first module page, which holds the follow-up form.
async fn module_page(c: &reqwest::Client, base: &str) -> String {
    let html = c.get_text(base, "/mon-suivi").await;
    let start = html.find("/mon-suivi/modules/").expect("a module link");
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// The page holding the follow-up form: the module's page until its thread exists, then
/// the thread. `None` when no answer came.
async fn form_page(c: &reqwest::Client, base: &str, page: &mut String) -> Option<String> {
    for _ in 0..3 {
        let res = c.get(format!("{base}{page}")).send().await.ok()?;
        if res.status() != 303 {
            return res.text().await.ok();
        }
        *page = res.headers()["location"].to_str().ok()?.to_string();
    }
    None
}

/// A work with its attachment, sent with the form's token.
async fn send_work(
    c: &reqwest::Client,
    base: &str,
    page: &str,
    html: &str,
    pdf: &[u8],
) -> reqwest::Result<reqwest::Response> {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf_of(html))
        .text("kind", "travail")
        .text("body", "Mon travail")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf.to_vec()).file_name("travail.pdf"),
        );
    c.post(format!("{base}{page}"))
        .multipart(form)
        .timeout(Duration::from_secs(20))
        .send()
        .await
}

async fn wait_healthy(base: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let res = reqwest::get(format!("{base}/healthz")).await;
        if res.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} is not healthy after 20 s");
}

/// The id of the one attachment row holding these bytes.
fn attachment_of(db: &Db, sha: &str) -> i64 {
    let ids: Vec<i64> = followup_attachments::table
        .filter(followup_attachments::sha256.eq(sha))
        .select(followup_attachments::id)
        .load(&mut *db.conn() as &mut DbConn)
        .unwrap();
    assert_eq!(
        ids.len(),
        1,
        "an acknowledged upload is recorded once: {sha}"
    );
    ids[0]
}

#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    acknowledged: AtomicU64,
    acknowledged_after_kill: AtomicU64,
    failed: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_in_their_own_namespaces_share_no_disk_and_one_killed_loses_nothing() {
    let Some(server) = pg_base() else {
        eprintln!(
            "PostgreSQL only: on SQLite the database is a file both instances would share, \
             which is the disk this test proves they do not need; skipped"
        );
        return;
    };
    let started = Instant::now();
    remove_stale_namespaces();
    let run: String = random_bytes::<3>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let [net_a, net_b] = free_subnets();
    let pid = std::process::id();
    let ns_a = Namespace::create(
        format!("{PREFIX}{pid}-{run}-a"),
        format!("pch{run}a"),
        format!("pcp{run}a"),
        net_a,
    );
    let ns_b = Namespace::create(
        format!("{PREFIX}{pid}-{run}-b"),
        format!("pch{run}b"),
        format!("pcp{run}b"),
        net_b,
    );

    // PostgreSQL, reached from each namespace through the relay on its host address.
    let (database_url, name) = create_pg_database(&server);
    let _database = PgDatabase {
        server: server.clone(),
        name: name.clone(),
    };
    let pg = url::Url::parse(&server).unwrap();
    let target = format!("{}:{}", pg.host_str().unwrap(), pg.port().unwrap_or(5432));
    let (relay, relayed) = Relay::start(&[ns_a.host, ns_b.host], target);
    let through = |at: SocketAddr| {
        let mut url = pg.clone();
        url.set_ip_host(at.ip()).unwrap();
        url.set_port(Some(at.port())).unwrap();
        url.set_path(&name);
        url.set_query(Some("sslmode=disable"));
        url.to_string()
    };
    // S3 directly on the host's address of each namespace's veth, under one fresh prefix.
    let s3 = s3_env();
    let s3_port = url::Url::parse(&s3_endpoint())
        .unwrap()
        .port_or_known_default()
        .unwrap();

    // nginx on the host first, so that the instances know their public address.
    let proxy_dir = tempfile::tempdir().unwrap();
    let (up_a, up_b) = (
        format!("{}:8080", ns_a.inside),
        format!("{}:8080", ns_b.inside),
    );
    let nginx = Nginx::start(proxy_dir.path(), [&up_a, &up_b]);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env_of = |ns: &Namespace, dir: &Path, db: String| {
        let mut env: HashMap<String, String> = base_env(dir, &db);
        env.extend(s3.clone());
        env.insert(
            "PARCOURS_STORAGE_ENDPOINT".into(),
            format!("http://{}:{s3_port}", ns.host),
        );
        env.insert("PARCOURS_BIND".into(), format!("{}:8080", ns.inside));
        env.insert("PARCOURS_BASE_URL".into(), nginx.address.clone());
        env.insert(
            "PARCOURS_TRUSTED_PROXIES".into(),
            format!("{},{}", ns_a.host, ns_b.host),
        );
        env
    };
    let env_a = env_of(&ns_a, dir_a.path(), through(relayed[0]));
    let env_b = env_of(&ns_b, dir_b.path(), through(relayed[1]));
    // Both start at once on the empty database, each in its namespace.
    let (a, b) = {
        let (prefix_a, prefix_b) = (ns_a.exec().map(String::from), ns_b.exec().map(String::from));
        let (ea, eb) = (env_a.clone(), env_b.clone());
        let start = |prefix: [String; 4], env: HashMap<String, String>| {
            tokio::task::spawn_blocking(move || {
                Server::start_via(&prefix.each_ref().map(String::as_str), &env)
            })
        };
        let (a, b) = tokio::join!(start(prefix_a, ea), start(prefix_b, eb));
        (a.unwrap(), b.unwrap())
    };
    assert_eq!(a.address, format!("http://{up_a}"));
    assert_eq!(b.address, format!("http://{up_b}"));
    let (base_a, base_b) = (a.address.clone(), b.address.clone());
    wait_healthy(&base_a).await;
    wait_healthy(&base_b).await;
    eprintln!(
        "both instances up {:.1} s after the start",
        started.elapsed().as_secs_f64()
    );
    let mut a = Some(a);

    // What the test reads straight from S3 (its own staging folder, the usual endpoint).
    let mine = tempfile::tempdir().unwrap();
    let mut my_env = env_a.clone();
    my_env.insert(
        "PARCOURS_DATA_DIR".into(),
        mine.path().to_string_lossy().into_owned(),
    );
    my_env.insert("PARCOURS_STORAGE_ENDPOINT".into(), s3_endpoint());
    let shelf = objects_of(&my_env).uploads;

    let db = Db {
        pool: parcours::db::connect(&database_url, 2).unwrap().0,
    };
    let org = db.create_organism("Organisme A");
    let cohort = db.create_cohort(org, "CQP-AM");
    for i in 0..5 {
        let id = db.create_user(Role::Trainee, Some(org), &format!("t{i}@a.fr"), PW);
        db.enrol(org, cohort, id);
    }

    // 1. Uploaded through A, downloaded through B.
    let marker = format!("namespaces {run} {}", random_suffix());
    let pdf = format!("%PDF-1.4\n% {marker}\n%%EOF\n").into_bytes();
    let sha = parcours::base::digest::sha256_hex(&pdf);
    let c = client();
    sign_in(&c, &base_a, "t0@a.fr").await;
    let page = module_page(&c, &base_a).await;
    let html = c.get_text(&base_a, &page).await;
    let res = send_work(&c, &base_a, &page, &html, &pdf).await.unwrap();
    assert_eq!(res.status(), 303, "upload through A");
    let thread = res.headers()["location"]
        .to_str()
        .unwrap()
        .replace("#dernier", "");
    let id = attachment_of(&db, &sha);
    sign_in(&c, &base_b, "t0@a.fr").await;
    let html = c.get_text(&base_b, &thread).await;
    let link = format!("/suivi/pieces/{id}");
    assert!(html.contains(&link), "B shows the attachment: {html}");
    let got = c.get(format!("{base_b}{link}")).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.bytes().await.unwrap().to_vec(),
        pdf,
        "B serves A's upload"
    );
    assert_eq!(read_kept(&shelf, &sha), pdf);
    // Neither data folder holds a copy: B never had one, A's was moved to S3 and removed.
    for (who, dir) in [("A", dir_a.path()), ("B", dir_b.path())] {
        for file in files_under(dir) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                bytes != pdf && !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{who}'s data folder keeps a copy of the upload: {}",
                file.display()
            );
        }
        let staged = files_under(&dir.join("staging"));
        assert!(staged.is_empty(), "{who}: staging left {staged:?}");
    }
    eprintln!(
        "uploaded through A, downloaded through B; files in the data folders: A {}, B {} (none holds it)",
        files_under(dir_a.path()).len(),
        files_under(dir_b.path()).len()
    );

    // 2. A killed while four trainees upload through nginx.
    let base = nginx.address.clone();
    let tally = Arc::new(Tally::default());
    let killed = Arc::new(std::sync::OnceLock::<Instant>::new());
    let until = Instant::now() + Duration::from_secs(5);
    let mut uploaders = vec![];
    for i in 1..5 {
        let c = client();
        sign_in(&c, &base, &format!("t{i}@a.fr")).await;
        let mut page = module_page(&c, &base).await;
        let (tally, killed, base, run) = (tally.clone(), killed.clone(), base.clone(), run.clone());
        uploaders.push(tokio::spawn(async move {
            let mut kept = vec![];
            let mut n = 0;
            while Instant::now() < until {
                let Some(html) = form_page(&c, &base, &mut page).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                if !html.contains("csrf_token") {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                n += 1;
                // 128 kB: long enough on the wire that the kill may catch some in flight.
                let mut pdf = format!("%PDF-1.4\n% {run} t{i} {n}\n").into_bytes();
                pdf.resize(128 << 10, b'x');
                pdf.extend_from_slice(b"\n%%EOF\n");
                tally.sent.fetch_add(1, Ordering::Relaxed);
                match send_work(&c, &base, &page, &html, &pdf).await {
                    Ok(res) if res.status() == 303 => {
                        tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                        if killed.get().is_some() {
                            tally
                                .acknowledged_after_kill
                                .fetch_add(1, Ordering::Relaxed);
                        }
                        kept.push(pdf);
                    }
                    Ok(res) => {
                        assert!(
                            [502, 503, 504].contains(&res.status().as_u16()),
                            "a fault is a clear 5xx: {}",
                            res.status()
                        );
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (i, kept)
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server_a = a.take().unwrap();
    tokio::task::spawn_blocking(move || server_a.kill())
        .await
        .unwrap();
    killed.set(Instant::now()).unwrap();
    eprintln!("instance A killed (SIGKILL) under load");
    let mut kept = vec![];
    for task in uploaders {
        kept.push(task.await.unwrap());
    }

    // Every acknowledged upload: one row, its object reads back, B serves it. One checker
    // per uploader, at once: each check waits mostly on S3 and B.
    let mut checkers = vec![];
    for (i, pdfs) in kept {
        let (db, shelf, base_b) = (
            Db {
                pool: db.pool.clone(),
            },
            shelf.clone(),
            base_b.clone(),
        );
        checkers.push(tokio::spawn(async move {
            let c = client();
            sign_in(&c, &base_b, &format!("t{i}@a.fr")).await;
            let mut checked = vec![];
            for pdf in pdfs {
                let sha = parcours::base::digest::sha256_hex(&pdf);
                let id = attachment_of(&db, &sha);
                let (on, name) = (shelf.clone(), sha.clone());
                let kept = tokio::task::spawn_blocking(move || read_kept(&on, &name));
                assert!(kept.await.unwrap() == pdf, "S3 holds upload {id}");
                let got = c
                    .get(format!("{base_b}/suivi/pieces/{id}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(got.status(), 200, "B serves attachment {id}");
                assert!(got.bytes().await.unwrap() == pdf, "B serves upload {id}");
                checked.push(sha);
            }
            checked
        }));
    }
    let mut checked = HashSet::new();
    for checker in checkers {
        checked.extend(checker.await.unwrap());
    }
    // No row points to a missing object, acknowledged or not (A may have died after its
    // commit, before its answer).
    let rows: Vec<(i64, String)> = followup_attachments::table
        .select((followup_attachments::id, followup_attachments::sha256))
        .load(&mut *db.conn() as &mut DbConn)
        .unwrap();
    for (id, sha) in rows.iter().filter(|(_, sha)| !checked.contains(sha)) {
        let bytes = read_kept(&shelf, sha);
        assert_eq!(&parcours::base::digest::sha256_hex(&bytes), sha, "row {id}");
    }
    let (sent, acknowledged, failed) = (
        tally.sent.load(Ordering::Relaxed),
        tally.acknowledged.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
    );
    let after_kill = tally.acknowledged_after_kill.load(Ordering::Relaxed);
    let under_load = rows.len() as u64 - 1;
    assert!(
        (acknowledged..=acknowledged + failed).contains(&under_load),
        "{under_load} rows for {acknowledged} acknowledged and {failed} failed"
    );
    assert!(acknowledged >= 10, "uploads went through: {acknowledged}");
    assert!(after_kill > 0, "B took the uploads once A was dead");
    // Still no copy on either disk. What A was receiving when it was killed may be left
    // half-written in its staging folder, which nothing reads (`clean_tmp` sweeps it).
    let kept_hashes: HashSet<String> = rows.into_iter().map(|(_, sha)| sha).collect();
    for (who, dir) in [("A", dir_a.path()), ("B", dir_b.path())] {
        let copies = copies_under(dir, &kept_hashes);
        assert!(
            copies.is_empty(),
            "{who}'s data folder keeps uploads: {copies:?}"
        );
    }
    let left = files_under(&dir_a.path().join("staging")).len();
    assert!(
        left <= 4,
        "at most one upload in progress per uploader: {left}"
    );
    let staged_b = files_under(&dir_b.path().join("staging"));
    assert!(staged_b.is_empty(), "B's staging: {staged_b:?}");
    eprintln!(
        "uploads through nginx while A was killed: {sent} sent, {acknowledged} acknowledged \
         ({after_kill} after the kill), {failed} failed; {under_load} recorded, each readable \
         on S3 and through B; no copy in either data folder ({left} half-written in A's staging)"
    );
    drop(db);
    drop((b, nginx, relay));
    drop((ns_a, ns_b));
    eprintln!("took {:.1} s", started.elapsed().as_secs_f64());
}
