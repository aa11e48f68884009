//! Debian's nginx in the foreground with the repository's site file, for the tests of several
//! instances behind a proxy and for the instances bench.

use std::path::Path;

pub struct Nginx {
    child: std::process::Child,
    pub address: String,
}

impl Nginx {
    /// One nginx process, its two upstreams pointed at `upstreams`, on a free port.
    pub fn start(dir: &Path, upstreams: [&str; 2]) -> Nginx {
        Self::with_workers(dir, upstreams, 1)
    }

    /// With more than one worker, a master process runs them (the bench, where one worker
    /// would be the bottleneck).
    pub fn with_workers(dir: &Path, upstreams: [&str; 2], workers: usize) -> Nginx {
        let site = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx-parcours.conf"),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let site = site
            .replace("127.0.0.1:8081", upstreams[0])
            .replace("127.0.0.1:8082", upstreams[1])
            .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
            .replace(
                "/var/log/nginx/parcours-access.log",
                &format!("{}/nginx-access.log", dir.display()),
            );
        let d = dir.display();
        let master = if workers > 1 { "on" } else { "off" };
        let conf = format!(
            "daemon off;\nmaster_process {master};\nworker_processes {workers};\npid {d}/nginx.pid;\n\
             error_log {d}/nginx-error.log warn;\nevents {{ worker_connections 1024; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/nginx-body;\n\
             proxy_temp_path {d}/nginx-proxy;\n fastcgi_temp_path {d}/nginx-fcgi;\n\
             uwsgi_temp_path {d}/nginx-uwsgi;\n scgi_temp_path {d}/nginx-scgi;\n{site}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = std::process::Command::new("/usr/sbin/nginx")
            .arg("-c")
            .arg(&path)
            .arg("-e")
            .arg(dir.join("nginx-error.log"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx (Debian package nginx) must be installed");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Nginx {
            child,
            address: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM first: a master stops its workers with it, where SIGKILL would orphan them.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
