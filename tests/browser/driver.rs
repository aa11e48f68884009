//! A headless Debian Chromium driven through Debian's chromedriver: one chromedriver (and so one
//! browser) per test, on a free port, with a fresh profile; both end when the `Browser` is dropped,
//! even when the test panics. Nothing is downloaded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// axe-core, vendored (see tests/assets/README.md).
const AXE: &str = include_str!("../assets/axe.min.js");
/// Finds the words of table cells cut over two lines (see [`Browser::broken_cells`]).
const BROKEN_WORDS: &str = include_str!("broken_words.js");
const AXE_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

/// The longest any single wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub name: &'static str,
    /// The page's viewport, in CSS pixels.
    pub width: u32,
    pub height: u32,
    pub mobile: bool,
}

pub const DESKTOP: Size = Size {
    name: "desktop",
    width: 1280,
    height: 900,
    mobile: false,
};
pub const PHONE: Size = Size {
    name: "phone",
    width: 390,
    height: 844,
    mobile: true,
};

/// The chromedriver process and its session; dropping it ends the browser, then the driver.
struct Driver {
    child: Child,
    port: u16,
    session: Option<String>,
    dir: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::common::free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.path().join("chromedriver.log").display()
            ))
            .arg("--log-level=WARNING")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let mut driver = Driver {
            child,
            port,
            session: None,
            dir,
        };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver stopped ({status}) instead of listening on port {port}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver does not listen on port {port}"
            );
            std::thread::sleep(POLL);
        }
        driver
    }

    /// Ends the WebDriver session (which quits Chromium) with a plain blocking request, so that
    /// it also works while a panicking test unwinds.
    fn end_session(&mut self) {
        let Some(id) = self.session.take() else {
            return;
        };
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        );
        if s.write_all(request.as_bytes()).is_err() {
            return;
        }
        // Read the whole answer (chromedriver keeps the connection open): headers, then
        // Content-Length bytes of body. Chromium has quit when it arrives.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    break;
                }
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.end_session();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One axe-core violation, as printed when a page fails.
#[derive(Debug, Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: Vec<ViolationNode>,
}

#[derive(Debug, Deserialize)]
pub struct ViolationNode {
    pub target: Value,
    pub html: String,
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AxeReport {
    pub violations: Vec<Violation>,
    /// How many rules passed: zero would mean axe checked nothing.
    pub passes: usize,
}

/// The password of every account the browser tests create.
pub const PASSWORD: &str = "mot-de-passe-solide";

pub struct Browser {
    pub c: Client,
    pub size: Size,
    pub base: String,
    started: Instant,
    // Dropped after the client.
    _driver: Driver,
}

impl Browser {
    /// A fresh headless Chromium of this window size, for the app at `base`
    /// (`http://127.0.0.1:PORT`).
    pub async fn start(size: Size, base: &str) -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} (Debian package chromium) must be installed"
        );
        let mut driver = Driver::start();
        let profile = driver.dir.path().join("profile");
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={},{}", size.width, size.height),
            ],
        });
        if size.mobile {
            // A desktop window cannot be narrower than 500 px: a phone's screen is emulated, as
            // the developer tools do (touch, device pixels, `<meta name="viewport">` honoured).
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": size.width,
                    "height": size.height,
                    "pixelRatio": 2.0,
                    "touch": true,
                    "mobile": true,
                },
            });
        }
        let caps = json!({ "browserName": "chrome", "goog:chromeOptions": options });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(driver.dir.path().join("chromedriver.log"))
                    .unwrap_or_default();
                panic!("no Chromium session: {e}\n{log}")
            });
        driver.session = c.session_id().await.unwrap();
        assert!(driver.session.is_some(), "chromedriver gave no session id");
        let b = Browser {
            c,
            size,
            base: base.trim_end_matches('/').to_string(),
            started: Instant::now(),
            _driver: driver,
        };
        if !size.mobile {
            // The window size includes the browser's own bars: grow it so that the page gets
            // the whole requested size.
            b.c.goto("about:blank").await.unwrap();
            let (w, h): (u32, u32) = b.js("return [window.innerWidth, window.innerHeight]").await;
            b.c.set_window_size(2 * size.width - w, 2 * size.height - h)
                .await
                .unwrap();
        }
        b
    }

    /// Signs in from the login page with [`PASSWORD`] and waits for the home page.
    pub async fn sign_in(&self, email: &str) {
        self.goto("/connexion").await;
        self.wait_title("Connexion").await;
        self.fill("email", email).await;
        self.fill("password", PASSWORD).await;
        self.button("Se connecter").await.click().await.unwrap();
        self.wait_title("Accueil").await;
    }

    pub async fn sign_out(&self) {
        self.button("Se déconnecter").await.click().await.unwrap();
        self.wait_title("Connexion").await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn goto(&self, path: &str) {
        self.c.goto(&self.url(path)).await.unwrap();
    }

    pub async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_string()
    }

    /// Runs a script and deserializes its result.
    pub async fn js<T: serde::de::DeserializeOwned>(&self, script: &str) -> T {
        let v = self
            .c
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
    }

    /// Waits until a script returns true in the current page (errors while a page is being
    /// replaced count as "not yet").
    pub async fn wait_until(&self, what: &str, script: &str, args: Vec<Value>) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Value::Bool(true)) = self.c.execute(script, args.clone()).await {
                return;
            }
            if Instant::now() > deadline {
                let url = self.c.current_url().await.map(|u| u.to_string());
                let text = self
                    .c
                    .execute(
                        "return document.body ? document.body.innerText : ''",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                panic!("timed out waiting for {what} on {url:?}; page text:\n{text}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for a loaded page whose title starts with `title`.
    pub async fn wait_title(&self, title: &str) {
        self.wait_until(
            &format!("a page titled « {title} »"),
            "return document.readyState === 'complete' && document.title.startsWith(arguments[0])",
            vec![json!(title)],
        )
        .await;
    }

    /// Waits until an element matching `css` contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        self.wait_until(
            &format!("« {text} » in {css}"),
            "return document.readyState === 'complete' && Array.from(document.querySelectorAll(arguments[0]))\
             .some(e => e.textContent.includes(arguments[1]))",
            vec![json!(css), json!(text)],
        )
        .await;
    }

    pub async fn find(&self, locator: Locator<'_>) -> Element {
        self.c
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("no element {locator:?}: {e}"))
    }

    /// The link whose text contains `text`.
    pub async fn link(&self, text: &str) -> Element {
        let x = format!("//a[contains(normalize-space(.), {})]", xpath_literal(text));
        self.find(Locator::XPath(&x)).await
    }

    /// The button whose text is `text`.
    pub async fn button(&self, text: &str) -> Element {
        let x = format!("//button[normalize-space(.) = {}]", xpath_literal(text));
        self.find(Locator::XPath(&x)).await
    }

    /// Types into the field with this id, as a person would (focus then keys).
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self.find(Locator::Id(id)).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Presses and releases one key on whatever has the focus.
    pub async fn press(&self, key: Key) {
        let keys = KeyActions::new("clavier".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.c.perform_actions(keys).await.unwrap();
    }

    /// Types text on whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        let mut keys = KeyActions::new("clavier".into());
        for ch in text.chars() {
            keys = keys
                .then(KeyAction::Down { value: ch })
                .then(KeyAction::Up { value: ch });
        }
        self.c.perform_actions(keys).await.unwrap();
    }

    /// A short description of the focused element: `#id`, or `tag « text »`.
    pub async fn focused(&self) -> String {
        self.js(
            "const e = document.activeElement;\
             if (!e || e === document.body) return 'body';\
             if (e.id) return '#' + e.id;\
             return e.tagName.toLowerCase() + ' « ' + e.textContent.trim().replace(/\\s+/g, ' ') + ' »';",
        )
        .await
    }

    /// Runs axe-core's WCAG 2.0/2.1 A and AA rules on the current page.
    pub async fn axe(&self) -> AxeReport {
        let present: bool = self.js("return typeof window.axe === 'object'").await;
        if !present {
            let version: String = self
                .js(&format!("{AXE}\n;return window.axe.version;"))
                .await;
            assert!(version.starts_with('4'), "axe-core {version}");
        }
        let script = "const done = arguments[arguments.length - 1];\
            window.axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})\
              .then(r => done({\
                passes: r.passes.length,\
                violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,\
                  nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))}))\
              }))\
              .catch(e => done({error: String(e)}));";
        let v = self
            .c
            .execute_async(script, vec![json!(AXE_TAGS)])
            .await
            .unwrap_or_else(|e| panic!("axe did not run: {e}"));
        assert!(v.get("error").is_none(), "axe failed: {v}");
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
    }

    /// Fails with the violations' ids, help and target nodes if the page breaks a WCAG A/AA rule.
    pub async fn assert_accessible(&self, page: &str) {
        if let Some(msg) = self.accessibility_problems(page).await {
            panic!("{msg}");
        }
    }

    /// The violations' ids, help and target nodes if the page breaks a WCAG A/AA rule.
    pub async fn accessibility_problems(&self, page: &str) -> Option<String> {
        let report = self.axe().await;
        if report.passes == 0 {
            return Some(format!("axe checked nothing on {page}"));
        }
        if report.violations.is_empty() {
            return None;
        }
        let mut msg = format!(
            "{} accessibility violation(s) on {page} ({}, {}):\n",
            report.violations.len(),
            self.size.name,
            self.c.current_url().await.unwrap()
        );
        for v in &report.violations {
            msg.push_str(&format!(
                "- {} [{}]: {}\n",
                v.id,
                v.impact.as_deref().unwrap_or("?"),
                v.help
            ));
            for n in &v.nodes {
                msg.push_str(&format!("    at {} {}\n", n.target, n.html));
                if let Some(s) = &n.summary {
                    msg.push_str(&format!("       {}\n", s.replace('\n', " / ")));
                }
            }
        }
        Some(msg)
    }

    /// `(document.documentElement.scrollWidth, window.innerWidth)`.
    pub async fn widths(&self) -> (u32, u32) {
        self.js("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await
    }

    /// Whether the page is wider than the window. An emulated phone, like a real one, zooms out
    /// to show a page that is too wide, which widens `window.innerWidth` too: so that width must
    /// also stay the phone's.
    pub async fn overflows(&self) -> bool {
        let (scroll, inner) = self.widths().await;
        scroll > inner || inner != self.size.width
    }

    pub async fn assert_no_horizontal_overflow(&self, page: &str) {
        let (scroll, inner) = self.widths().await;
        assert!(
            !self.overflows().await,
            "{page} is {scroll}px wide, its window {inner}px, in a {}px wide {} browser",
            self.size.width,
            self.size.name
        );
    }

    /// Saves a screenshot of the whole page (not only the window) as
    /// `screenshots/{size}-{page}.png` at the repo root.
    pub async fn screenshot(&self, page: &str) {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let content = &metrics["cssContentSize"];
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {
                        "x": 0, "y": 0, "scale": 1,
                        "width": content["width"], "height": content["height"],
                    },
                }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "screenshot of {page} is a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("{}-{page}.png", self.size.name);
        // Written aside then renamed, so that nobody sees half a picture.
        let tmp = dir.join(format!(".{name}.part"));
        std::fs::write(&tmp, png).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }

    /// A Chrome DevTools command, through chromedriver.
    async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.c
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// The words of the visible table cells that the layout cut over two lines, as
    /// `td « cell text » : « wo ⏎ rd »`: any word of a header (`th`); a word of a data cell
    /// (`td`) unless it is a compound word cut after its hyphen. See `broken_words.js`.
    pub async fn broken_cells(&self) -> Vec<String> {
        self.js(BROKEN_WORDS).await
    }

    /// What every main page of a journey gets: a screenshot, the accessibility rules, no
    /// word of a table broken over two lines and, at phone size, no horizontal scrolling.
    pub async fn check_page(&self, page: &str) {
        let problems = self.page_problems(page).await;
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// What [`Browser::check_page`] finds wrong with the current page, one line (or block) per
    /// problem; the screenshot is saved whatever it finds.
    pub async fn page_problems(&self, page: &str) -> Vec<String> {
        eprintln!(
            "[{:6.2} s] {} {page}",
            self.started.elapsed().as_secs_f64(),
            self.size.name
        );
        let mut problems = vec![];
        self.screenshot(page).await;
        // The CSP forbids inline styles: a `style` attribute would be silently ignored.
        let styled: Vec<String> = self
            .js("return [...document.querySelectorAll('[style]')].map(e => e.outerHTML.slice(0, 120))")
            .await;
        if !styled.is_empty() {
            problems.push(format!("{page}: inline styles the CSP blocks: {styled:?}"));
        }
        if self.size == PHONE && self.overflows().await {
            let (scroll, inner) = self.widths().await;
            problems.push(format!(
                "{page} is {scroll}px wide, its window {inner}px, in a {}px wide {} browser",
                self.size.width, self.size.name
            ));
        }
        let (w, h): (u32, u32) = self
            .js("return [window.innerWidth, window.innerHeight]")
            .await;
        if (w, h) != (self.size.width, self.size.height) {
            problems.push(format!(
                "viewport of {page} in the {} browser: {w}×{h}",
                self.size.name
            ));
        }
        let broken = self.broken_cells().await;
        if !broken.is_empty() {
            problems.push(format!(
                "{page} ({}): words of a table cut over two lines: {broken:?}",
                self.size.name
            ));
        }
        if let Some(msg) = self.accessibility_problems(page).await {
            problems.push(msg);
        }
        problems
    }

    /// Every request of the current page (the page itself and its resources): URL and bytes
    /// transferred (the encoded body size when it came from the cache).
    pub async fn requests(&self) -> Vec<(String, u64)> {
        self.js(
            "const size = e => Math.max(e.transferSize || 0, e.encodedBodySize || 0);\
             return [[location.href, 0]]\
               .concat(performance.getEntriesByType('navigation').map(e => [e.name, size(e)]))\
               .concat(performance.getEntriesByType('resource').map(e => [e.name, size(e)]));",
        )
        .await
    }
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// An XPath 1.0 string literal for any text.
fn xpath_literal(s: &str) -> String {
    if !s.contains('"') {
        format!("\"{s}\"")
    } else if !s.contains('\'') {
        format!("'{s}'")
    } else {
        let parts: Vec<String> = s.split('"').map(|p| format!("\"{p}\"")).collect();
        format!("concat({})", parts.join(", '\"', "))
    }
}
