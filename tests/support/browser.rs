//! A real browser for the tests: Debian's headless Chromium driven over
//! WebDriver by chromedriver (both installed by
//! `scripts/install-test-browser`), spoken to with plain HTTP.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine;
use serde_json::{json, Value};

/// chromedriver with one Chromium session; both stop when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    /// Chromium's profile, removed with the browser.
    _profile: tempfile::TempDir,
}

/// An element of the page, by its WebDriver reference.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

/// WebDriver's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver on a free port, waits until it says it is
    /// ready, and opens a headless Chromium session at a laptop's size.
    pub fn start() -> Browser {
        let driver_path = Path::new("/usr/bin/chromedriver");
        assert!(
            driver_path.exists() && Path::new("/usr/bin/chromium").exists(),
            "Chromium is not installed: run the tests with scripts/test, or scripts/install-test-browser first"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs");
        let mut lines = BufReader::new(driver.stdout.take().expect("its output")).lines();
        let ready = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|line| line.contains("started successfully"));
        assert!(ready, "chromedriver did not start");
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let profile = tempfile::tempdir().expect("a profile folder");
        let http = reqwest::blocking::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    "--window-size=1366,900", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .and_then(|response| response.json())
            .expect("a session");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .and_then(|response| response.json())
            .expect("chromedriver answers");
        if let Some(error) = answer["value"].get("error") {
            panic!("WebDriver {path}: {error}: {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    /// Opens `url` and waits until it has loaded.
    pub fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })));
    }

    /// The page's address now.
    pub fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching the CSS `selector`; fails the test if
    /// there is none.
    pub fn find(&self, selector: &str) -> Element<'_> {
        self.find_all(selector)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {selector:?} on {}", self.url()))
    }

    /// Every element matching the CSS `selector`.
    pub fn find_all(&self, selector: &str) -> Vec<Element<'_>> {
        let found = self.call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({"using": "css selector", "value": selector})),
        );
        found
            .as_array()
            .into_iter()
            .flatten()
            .map(|element| Element {
                browser: self,
                id: element
                    .get(ELEMENT)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("not an element: {element}"))
                    .to_owned(),
            })
            .collect()
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits until the page marked as left has been replaced by a loaded one.
    pub fn wait_for_new_page(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let loaded = self.script(
                "return window.__flowcLeaving !== true && document.readyState === 'complete';",
                vec![],
            );
            if loaded == Value::Bool(true) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the next page never loaded"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The cookies of the page's site.
    pub fn cookies(&self) -> Value {
        self.call(reqwest::Method::GET, "/cookie", None)
    }

    /// Accepts the dialog the page opened (a `confirm`).
    pub fn accept_dialog(&self) {
        self.call(reqwest::Method::POST, "/alert/accept", Some(json!({})));
    }

    /// Saves a screenshot of the whole page to `target/screenshots/NAME.png`;
    /// gives its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        // The window grows to the page's height, so the picture is whole.
        let height = self
            .script("return document.documentElement.scrollHeight", vec![])
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 8000);
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1366, "height": height})),
        );
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot");
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1366, "height": 900})),
        );
        path
    }
}

impl Element<'_> {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.browser
            .call(method, &format!("/element/{}{path}", self.id), body)
    }

    /// Its rendered text.
    pub fn text(&self) -> String {
        self.call(reqwest::Method::GET, "/text", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Clicks it, staying on the page.
    pub fn click(&self) {
        self.call(reqwest::Method::POST, "/click", Some(json!({})));
    }

    /// Clicks a link or a submit button and waits until the page it leads
    /// to has loaded (a mark left on this page is gone, and the new one is
    /// complete).
    pub fn follow(&self) {
        self.browser
            .script("window.__flowcLeaving = true; return true;", vec![]);
        self.click();
        self.browser.wait_for_new_page();
    }

    /// Types `text` into it.
    pub fn type_text(&self, text: &str) {
        self.call(
            reqwest::Method::POST,
            "/value",
            Some(json!({ "text": text })),
        );
    }

    /// The value of its attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.call(reqwest::Method::GET, &format!("/attribute/{name}"), None)
            .as_str()
            .map(str::to_owned)
    }

    /// Its reference, to pass to [`Browser::script`].
    pub fn reference(&self) -> Value {
        json!({ ELEMENT: self.id })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
