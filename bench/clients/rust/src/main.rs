//! bench/run's driver for our Rust binding (`rust_binding`, bindings/rust): the request line on
//! stdin, then batches on request (bench/clients/README.md). Each call is the safe crate's
//! public API, as an application would make it.
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use momento_auth::{AuthClient, CacheRole, CacheSelector, CredentialProvider, ExpiresIn, ItemSelector, Permission, PermissionScope};
use serde_json::{json, Value};

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1)
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(-1)
}

/// One batch of n calls: one thread records each call's latency; several threads share the calls
/// and only the totals count.
fn batch(n: usize, threads: usize, parse: bool, op: &(impl Fn() + Sync)) -> Value {
    let mut lat = Vec::new();
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    if threads > 1 {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    while next.fetch_add(1, Ordering::Relaxed) < n {
                        op();
                    }
                });
            }
        });
    } else if parse {
        for _ in 0..n {
            op();
        }
    } else {
        lat.reserve(n);
        for _ in 0..n {
            let a = Instant::now();
            op();
            lat.push(a.elapsed().as_nanos() as f64);
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let mut out = json!({"n": n, "threads": threads, "wall_s": wall, "cpu_s": cpu_seconds() - c0, "rss_kib": rss_kib()});
    if !lat.is_empty() {
        out["lat_ns"] = json!(lat);
    }
    out
}

fn emit(v: &Value) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}").and_then(|_| out.flush()).unwrap_or_else(|e| die("stdout", e));
}

/// Warms up, says it is ready, then answers each line of stdin (a count) with one batch.
fn serve(req: &Value, op: impl Fn() + Sync) {
    let threads = req["threads"].as_u64().unwrap_or(1).max(1) as usize;
    let parse = req["call"].as_str().unwrap_or("").starts_with("parse");
    for _ in 0..req["warmup"].as_u64().unwrap_or(0) {
        op();
    }
    emit(&json!({"ready": true, "version": momento_auth::library_version()}));
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap_or_else(|e| die("stdin", e));
        if !line.trim().is_empty() {
            let n = line.trim().parse().unwrap_or_else(|e| die("batch", e));
            emit(&batch(n, threads, parse, &op));
        }
    }
}

fn main() {
    let mut input = String::new();
    std::io::stdin().lock().read_line(&mut input).unwrap_or_else(|e| die("stdin", e));
    let req: Value = serde_json::from_str(&input).unwrap_or_else(|e| die("request", e));
    let s = |k: &str| req[k].as_str().unwrap_or_else(|| die("request", format!("no {k}"))).to_owned();
    let call = s("call");
    match call.as_str() {
        "parse_v1" => {
            let v1 = s("v1");
            serve(&req, || drop(CredentialProvider::from_string(&v1).unwrap_or_else(|e| die("parse", e))))
        }
        "parse_v2" => {
            let (k, ep) = (s("v2_key"), s("v2_endpoint"));
            serve(&req, || drop(CredentialProvider::from_api_key_v2(&k, &ep).unwrap_or_else(|e| die("parse", e))))
        }
        "parse_disposable" => {
            let t = s("disposable");
            serve(&req, || drop(CredentialProvider::from_disposable_token(&t).unwrap_or_else(|e| die("parse", e))))
        }
        _ => {
            let key = if call == "refresh" { s("refresh_envelope") } else { s("super_envelope") };
            let cred = CredentialProvider::from_string(&key)
                .and_then(|c| c.with_endpoint(&s("address"), false))
                .unwrap_or_else(|e| die("credential", e));
            let client = AuthClient::new(&cred).unwrap_or_else(|e| die("client", e));
            let result = |r: momento_auth::Result<_>| drop(r.unwrap_or_else(|e| die(&call, e)));
            match call.as_str() {
                "refresh" => {
                    let rt = s("refresh_token");
                    serve(&req, || result(client.refresh_api_key(&rt)))
                }
                "generate" => serve(&req, || {
                    result(client.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::hours(1)))
                }),
                _ => {
                    let scope = PermissionScope::Permissions(vec![Permission::CacheItem {
                        role: CacheRole::ReadWrite,
                        cache: CacheSelector::Name(s("cache")),
                        item: ItemSelector::Key(b"k".to_vec()),
                    }]);
                    serve(&req, || result(client.generate_disposable_token(&scope, ExpiresIn::minutes(5), None)))
                }
            }
        }
    }
}
