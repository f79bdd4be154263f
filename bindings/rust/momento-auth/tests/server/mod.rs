//! A momento-auth-server (MOMENTO_SERVER_BIN) on a free loopback port with its own data
//! directory; every wait is bounded and the process is reaped on drop.
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub addr: String,
    pub dir: PathBuf,
    pub super_key: String,
    child: Child,
}

impl Server {
    pub fn start() -> Option<Server> {
        Self::start_with(&[])
    }

    /// With extra server arguments.
    pub fn start_with(args: &[&str]) -> Option<Server> {
        let bin = std::env::var("MOMENTO_SERVER_BIN").ok()?;
        let dir = std::env::temp_dir().join(format!("momento-rust-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let boot = dir.join("bootstrap.json");
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--log-format", "off", "--data-dir"])
            .arg(dir.join("data"))
            .arg("--bootstrap")
            .arg(&boot)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start momento-auth-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").expect("address line").to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        let super_key = loop {
            if let Ok(text) = std::fs::read_to_string(&boot) {
                if let Some(k) = json_field(&text, "authToken") {
                    break k;
                }
            }
            assert!(Instant::now() < deadline, "no bootstrap key");
            std::thread::sleep(Duration::from_millis(50));
        };
        Some(Server { addr, dir, super_key, child })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A local AWS Secrets Manager (tests/support/moto_server.py in the test venv), stopped on drop;
/// None when MOMENTO_TEST_PYTHON / MOMENTO_MOTO_HELPER are not set.
pub struct Moto {
    pub endpoint: String,
    child: Child,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        let py = std::env::var("MOMENTO_TEST_PYTHON").ok()?;
        let helper = std::env::var("MOMENTO_MOTO_HELPER").ok()?;
        let mut child = Command::new(py)
            .args([helper.as_str(), "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start moto");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").expect("moto address line");
        Some(Moto { endpoint: format!("http://{addr}"), child })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let _ = self.child.wait();
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The string value of a top-level field of a small JSON object (the bootstrap file).
pub fn json_field(text: &str, name: &str) -> Option<String> {
    let at = text.find(&format!("\"{name}\""))?;
    let rest = &text[at + name.len() + 2..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}
