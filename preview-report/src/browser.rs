//! Test machinery (feature `browser-test`): loads a report page in a real headless Chromium and
//! reads its DOM back after the page's scripts ran, with every request Chromium makes sent to a
//! local proxy the caller can inspect.
//!
//! Chromium is `chromium` on `PATH` (Debian's package), or the binary `CHROMIUM` names. A missing
//! one is an error, never a skip.

pub mod dom;

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub use dom::{Dom, Row};

/// How long one page load may take before the browser is killed.
const LOAD_TIMEOUT: Duration = Duration::from_secs(180);
/// Chromium's virtual time for the page after load: the page's timers (the filter's debounce)
/// have run by then.
const VIRTUAL_TIME_MS: u32 = 5_000;

/// One browser at a time: each takes a core or more, and the machines running tests are small.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The Chromium binary: `CHROMIUM`, else `chromium` on `PATH`.
pub fn chromium() -> io::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "chromium is not on PATH (Debian: apt-get install chromium; or set CHROMIUM to the binary)",
            )
        })
}

/// A page as Chromium left it.
#[derive(Debug)]
pub struct PageLoad {
    /// The DOM after the page's scripts ran.
    pub dom: Dom,
    /// The first line of every request that reached the proxy: Chromium's own background
    /// requests (update and time checks) land here too, so look for what the page could have asked.
    pub proxied: Vec<String>,
    /// From starting the browser to its exit (start-up included).
    pub elapsed: Duration,
}

/// Loads `page` (a file) with `fragment` (without `#`, may be empty) and dumps its DOM.
pub fn dump_dom(page: &Path, fragment: &str) -> io::Result<String> {
    Ok(load(page, fragment)?.dom.html().to_owned())
}

/// Loads `page` with `fragment` in headless Chromium, every request going through a local proxy.
pub fn load(page: &Path, fragment: &str) -> io::Result<PageLoad> {
    load_with(page, fragment, &[])
}

/// [`load`] with more Chromium switches (e.g. `--allow-file-access-from-files`, for a test page
/// that frames a report and drives it).
pub fn load_with(page: &Path, fragment: &str, switches: &[&str]) -> io::Result<PageLoad> {
    let bin = chromium()?;
    let page = std::fs::canonicalize(page)?;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let work = scratch_dir()?;
    let result = run(&bin, &page, fragment, switches, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn run(
    bin: &Path,
    page: &Path,
    fragment: &str,
    switches: &[&str],
    work: &Path,
) -> io::Result<PageLoad> {
    let proxy = Proxy::start()?;
    let mut url = file_url(page);
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(fragment);
    }
    let stdout_path = work.join("dom.html");
    let stderr_path = work.join("stderr.txt");
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        // Everything goes to the proxy, loopback addresses included (Chromium bypasses the proxy
        // for them unless told not to).
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        .arg("--proxy-bypass-list=<-loopback>")
        .args(switches)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path)?)
        .stderr(std::fs::File::create(&stderr_path)?)
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("starting {}: {e}", bin.display())))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > LOAD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("chromium did not finish loading {url} in {LOAD_TIMEOUT:?}"),
            ));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let proxied = proxy.stop();
    let html = std::fs::read_to_string(&stdout_path)?;
    if !status.success() || html.is_empty() {
        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        return Err(io::Error::other(format!(
            "chromium exited with {status} on {url}, DOM {} bytes; stderr ends:\n{}",
            html.len(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    Ok(PageLoad {
        dom: Dom::parse(html),
        proxied,
        elapsed,
    })
}

/// The counts the page shows, by the id of their element without `count-`: each decision
/// (`renamed`, ...), `collisions`, `plugin-failures`, `skipped` and `rows`. A count missing from the
/// page or not a number is left out, so comparing with the expected map catches it.
pub fn shown_counts(dom: &Dom) -> std::collections::BTreeMap<String, u64> {
    let mut names: Vec<&str> = crate::Decision::ALL.iter().map(|d| d.as_str()).collect();
    names.extend(["collisions", "plugin-failures", "skipped", "rows"]);
    names
        .into_iter()
        .filter_map(|n| {
            let text = dom.text(&format!("count-{n}"))?;
            Some((n.to_owned(), text.trim().parse().ok()?))
        })
        .collect()
}

/// What [`shown_counts`] must read for `summary`.
pub fn expected_counts(summary: &crate::Summary) -> std::collections::BTreeMap<String, u64> {
    let mut counts: std::collections::BTreeMap<String, u64> = crate::Decision::ALL
        .iter()
        .map(|d| (d.as_str().to_owned(), summary.decision(*d)))
        .collect();
    counts.insert("collisions".into(), summary.collisions_in_file);
    counts.insert(
        "plugin-failures".into(),
        summary.plugin_failures.iter().map(|f| f.count).sum(),
    );
    counts.insert("skipped".into(), summary.skipped);
    counts.insert("rows".into(), summary.rows);
    counts
}

/// `file:///...` with every byte outside the unreserved set percent-encoded.
fn file_url(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut url = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

fn scratch_dir() -> io::Result<PathBuf> {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "importhook-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A listener posing as Chromium's HTTP proxy: it records each request's first line and answers
/// 502, so nothing leaves the machine and every attempt is seen.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
    thread: thread::JoinHandle<()>,
}

impl Proxy {
    fn start() -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(vec![]));
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let line = first_line(stream);
                            seen.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                        }
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Ok(Proxy {
            port,
            stop,
            seen,
            thread,
        })
    }

    fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn first_line(stream: TcpStream) -> String {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(_) => {}
        Err(e) => line = format!("(unreadable request: {e})"),
    }
    let _ = (&stream)
        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    line.trim_end().to_owned()
}
