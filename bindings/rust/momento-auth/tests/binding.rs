//! momento-auth against a local momento-auth-server (ctest label `bindings`).
mod server;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use momento_auth::*;
use server::Server;

fn server() -> Server {
    Server::start().expect("MOMENTO_SERVER_BIN is not set (ctest sets it)")
}

fn cred(s: &Server, key: &str) -> CredentialProvider {
    CredentialProvider::from_string(key).unwrap().with_endpoint(&s.addr, false).unwrap()
}

fn client(s: &Server, key: &str) -> AuthClient {
    AuthClient::new(&cred(s, key)).unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

#[test]
fn abi_and_version() {
    assert_eq!(library_version().split('.').count(), 3);
    // Every code has its own canonical name from the library.
    let names: std::collections::HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), 16);
    assert_eq!(ErrorCode::PermissionError.as_str(), "PERMISSION_ERROR");
}

/// A CA file makes a server with a self-signed certificate trusted over TLS.
#[test]
fn ca_file() {
    let dir = std::env::temp_dir().join(format!("momento-rust-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !made {
        eprintln!("openssl cannot make a certificate: skipped");
        return;
    }
    let s = Server::start_with(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]).expect("server");
    let port = s.addr.rsplit(':').next().unwrap();
    let c = CredentialProvider::from_string(&s.super_key).unwrap().with_endpoint(&format!("localhost:{port}"), true).unwrap();
    let trusted = AuthClient::with_options(&c, &ClientOptions { ca_file: Some(cert.clone()), ..Default::default() }).unwrap();
    trusted.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::minutes(5)).unwrap();
    let missing = ClientOptions { ca_file: Some(dir.join("missing.pem")), ..Default::default() };
    let e = AuthClient::with_options(&c, &missing).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgumentError);
    assert!(e.message().contains("CA file cannot be read"), "{}", e.message());
    let _ = std::fs::remove_dir_all(&dir);
}

/// An aws-sm: store configured only through StoreOptions, against a local Secrets Manager (moto);
/// ctest sets fixed test credentials and no AWS region, endpoint or config file.
#[test]
fn aws_store_options() {
    let Some(moto) = server::Moto::start() else {
        eprintln!("MOMENTO_TEST_PYTHON / MOMENTO_MOTO_HELPER are not set (ctest sets them): skipped");
        return;
    };
    let s = server();
    let admin = client(&s, &s.super_key);
    let options = StoreOptions {
        aws_region: Some("us-east-1".into()),
        aws_endpoint: Some(moto.endpoint.clone()),
        aws_profile: None,
    };
    let store = TokenStore::open_with("aws-sm:rust-binding-test", &options).unwrap();
    let r = admin.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30)).unwrap();
    store.save(&r).unwrap();
    assert_eq!(store.load().unwrap().api_key(), r.api_key());
    // A named profile: its credentials, from a shared credentials file (no other test here
    // reads AWS settings, so setting the variable for the process is safe).
    let creds = s.dir.join("aws-credentials");
    std::fs::write(&creds, "[binding-test]\naws_access_key_id = AKIDMOTOTEST\naws_secret_access_key = motosecret\n").unwrap();
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &creds);
    let named = StoreOptions { aws_profile: Some("binding-test".into()), ..options.clone() };
    assert_eq!(TokenStore::open_with("aws-sm:rust-binding-test", &named).unwrap().load().unwrap().api_key(), r.api_key());
    let missing = StoreOptions { aws_profile: Some("no-such-profile".into()), ..options.clone() };
    assert!(TokenStore::open_with("aws-sm:x", &missing).unwrap_err().message().contains("no-such-profile"));
    let bad = StoreOptions { aws_endpoint: Some("ftp://127.0.0.1".into()), ..Default::default() };
    let e = TokenStore::open_with("aws-sm:x", &bad).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgumentError);
    assert!(e.message().contains("endpoint_url"), "{}", e.message());
    let nul = StoreOptions { aws_region: Some("us\0east".into()), ..Default::default() };
    assert_eq!(code(TokenStore::open_with("aws-sm:x", &nul)), ErrorCode::InvalidArgumentError);
}

/// A library with every symbol but another ABI version (MOMENTO_ABI_STUB, built by
/// tests/bindings) is refused with one clear error. The stub is preloaded in a child process;
/// having its soname, it stands in for libmomento_auth.so.1.
#[test]
fn wrong_abi_is_refused() {
    if std::env::var_os("MOMENTO_WRONG_ABI_CHILD").is_some() {
        let v = std::env::var("MOMENTO_ABI_STUB_VERSION").unwrap();
        let want = format!(
            "momento-auth was built for libmomento_auth ABI {}, but the loaded library {v}.0.0 has ABI {v}",
            momento_auth_sys::MOMENTO_AUTH_ABI_VERSION
        );
        for r in [CredentialProvider::from_string("anything").map(drop), CredentialProvider::local(None, 0).map(drop)] {
            let e = r.expect_err("the stub must be refused");
            assert_eq!(e.code(), ErrorCode::FailedPreconditionError);
            assert_eq!(e.message(), want);
        }
        return;
    }
    let Some(stub) = std::env::var_os("MOMENTO_ABI_STUB") else {
        eprintln!("MOMENTO_ABI_STUB is not set (ctest sets it): skipped");
        return;
    };
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["wrong_abi_is_refused", "--exact", "--test-threads", "1"])
        .env("MOMENTO_WRONG_ABI_CHILD", "1")
        .env("LD_PRELOAD", stub)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("1 passed"), "child:\n{text}");
}

#[test]
fn round_trip() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let r = admin.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30)).unwrap();
    assert!(!r.api_key().is_empty() && !r.refresh_token().is_empty());
    let left = r.expires_at().unwrap().duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(28 * 60) && left <= Duration::from_secs(30 * 60 + 5));
    let other = client(&s, r.api_key());
    let r2 = other.refresh_api_key(r.refresh_token()).unwrap();
    assert_ne!(r2.api_key(), r.api_key());
    let never = admin.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::never()).unwrap();
    assert_eq!(never.refresh_token(), "");
    assert!(never.expires_at().is_none());
}

#[test]
fn scopes_and_disposable_tokens() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let fine = PermissionScope::Permissions(vec![
        Permission::Cache { role: CacheRole::ReadOnly, cache: CacheSelector::Name("c1".into()) },
        Permission::Cache { role: CacheRole::ReadWrite, cache: CacheSelector::AllCaches },
        Permission::Topic { role: TopicRole::PublishSubscribe, cache: CacheSelector::Name("c1".into()), topic: NameSelector::Prefix("news-".into()) },
        Permission::Function { role: FunctionRole::Invoke, cache: CacheSelector::AllCaches, function: NameSelector::All },
    ]);
    admin.generate_api_key(&fine, ExpiresIn::hours(1)).unwrap();
    let items = PermissionScope::Permissions(vec![
        Permission::CacheItem { role: CacheRole::ReadWrite, cache: CacheSelector::Name("c1".into()), item: ItemSelector::Key(b"k1".to_vec()) },
        Permission::CacheItem { role: CacheRole::ReadOnly, cache: CacheSelector::Name("c1".into()), item: ItemSelector::KeyPrefix(vec![0, 1, 2]) },
        Permission::CacheItem { role: CacheRole::WriteOnly, cache: CacheSelector::Name("c2".into()), item: ItemSelector::AllItems },
    ]);
    let t = admin.generate_disposable_token(&items, ExpiresIn::minutes(5), Some("rust-test")).unwrap();
    assert_eq!(t.refresh_token(), "");
    assert_eq!(CredentialProvider::from_disposable_token(t.api_key()).unwrap().kind(), "v1_envelope");
    // The library's rules, reported through the binding.
    assert_eq!(code(admin.generate_disposable_token(&items, ExpiresIn::never(), None)), ErrorCode::InvalidArgumentError);
    let empty_name = PermissionScope::Permissions(vec![Permission::Cache { role: CacheRole::ReadOnly, cache: CacheSelector::Name(String::new()) }]);
    assert_eq!(code(admin.generate_api_key(&empty_name, ExpiresIn::minutes(1))), ErrorCode::InvalidArgumentError);
    let eleven = PermissionScope::Permissions(
        (0..11).map(|i| Permission::Cache { role: CacheRole::ReadOnly, cache: CacheSelector::Name(format!("c{i}")) }).collect(),
    );
    assert_eq!(code(admin.generate_api_key(&eleven, ExpiresIn::minutes(1))), ErrorCode::InvalidArgumentError);
    assert_eq!(code(admin.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::minutes(-1))), ErrorCode::InvalidArgumentError);
}

#[test]
fn credentials_and_token_file() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let r = admin.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30)).unwrap();
    let file = s.dir.join("token.json");
    r.write_file(&file).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(server::json_field(&text, "authToken").as_deref(), Some(r.api_key()));
    assert!(r.to_download_json().unwrap().contains(r.refresh_token()));
    let fc = CredentialProvider::from_file(&file).unwrap();
    assert_eq!(fc.refresh_token(), r.refresh_token());
    assert_eq!(fc.expires_at().unwrap(), Some(r.expires_at()));
    let store = TokenStore::open(&format!("file:{}", file.display())).unwrap();
    assert!(store.writable());
    assert_eq!(store.load().unwrap().api_key(), r.api_key());
    std::env::set_var("RUST_BINDING_TEST_KEY", &s.super_key);
    assert_eq!(CredentialProvider::from_env(Some("RUST_BINDING_TEST_KEY"), None).unwrap().kind(), "v1_envelope");
    let unset = CredentialProvider::from_env(Some("RUST_BINDING_UNSET_VARIABLE"), None).unwrap_err();
    assert!(unset.message().contains("RUST_BINDING_UNSET_VARIABLE"));
    assert_eq!(code(CredentialProvider::from_api_key_v2("not-a-v2-key", "example.com")), ErrorCode::InvalidArgumentError);
    assert_eq!(CredentialProvider::local(Some("127.0.0.1"), 9).unwrap().kind(), "local");
    assert!(CredentialProvider::from_file(s.dir.join("missing.json")).is_err());
}

#[test]
fn redaction() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let r = admin.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30)).unwrap();
    let c = cred(&s, r.api_key());
    for shown in [format!("{r}"), format!("{r:?}"), format!("{r:#?}"), format!("{c}"), format!("{c:?}"), format!("{:?}", (&r, &c))] {
        assert!(!shown.contains(r.api_key()) && !shown.contains(r.refresh_token()), "{shown}");
    }
    assert!(format!("{r}").contains(&redact(r.api_key())));
    let secret = "this-is-a-secret-value-that-must-not-leak";
    let e = CredentialProvider::from_string(secret).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(secret));
}

#[test]
fn errors() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let ro = admin.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::minutes(5)).unwrap();
    let e = client(&s, ro.api_key()).generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(1)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionError);
    assert!(!e.is_retryable());
    assert_eq!(e.grpc_status(), 7);
    let rw = admin.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(5)).unwrap();
    let e = client(&s, rw.api_key()).refresh_api_key("not-the-refresh-token").unwrap_err();
    assert_ne!(e.code(), ErrorCode::UnknownError);
    let gone = CredentialProvider::from_string(&s.super_key).unwrap().with_endpoint("127.0.0.1:1", false).unwrap();
    let e = AuthClient::with_deadline(&gone, Duration::from_secs(2)).unwrap()
        .generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(1)).unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn bad_input() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let e = CredentialProvider::from_string("abc\0def").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgumentError);
    assert!(e.message().contains("key must not contain a NUL byte"));
    // Invalid UTF-8 cannot reach the API through &str; a path that is not UTF-8 is refused.
    use std::os::unix::ffi::OsStrExt;
    let bad_path = std::path::Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff.json"));
    assert_eq!(code(CredentialProvider::from_file(bad_path)), ErrorCode::InvalidArgumentError);
    let huge = "A".repeat(8 << 20);
    assert_eq!(code(CredentialProvider::from_string(&huge)), ErrorCode::InvalidArgumentError);
    assert!(admin.refresh_api_key(&huge).is_err());
    assert_eq!(code(CredentialProvider::from_string(&s.super_key).unwrap().with_endpoint("", false)), ErrorCode::InvalidArgumentError);
}

#[test]
fn concurrent_use() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AuthClient>();
    assert_send_sync::<CredentialProvider>();
    assert_send_sync::<ApiKeyResult>();
    assert_send_sync::<TokenStore>();
    assert_send_sync::<Refresher>();
    assert_send_sync::<Watcher>();
    let s = server();
    let admin = Arc::new(client(&s, &s.super_key));
    let keys: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let admin = admin.clone();
                scope.spawn(move || admin.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::minutes(5)).unwrap().api_key().to_string())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), 16);
}

fn token_store(s: &Server, admin: &AuthClient, name: &str) -> TokenStore {
    let r = admin.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30)).unwrap();
    let file = s.dir.join(name);
    r.write_file(&file).unwrap();
    TokenStore::open(&format!("file:{}", file.display())).unwrap()
}

#[test]
fn watcher_picks_up_refresh() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let store = token_store(&s, &admin, "watched.json");
    let period = Watcher::default_period().unwrap();
    assert_eq!(period, Duration::from_secs(30)); // the library's default
    let watcher = Watcher::new(&store, period, Some((&s.addr, false))).unwrap();
    let (tx, keys) = mpsc::channel();
    let tx = Mutex::new(tx);
    let _keys_sub = watcher.subscribe(move |k| tx.lock().unwrap().send(k.clone()).unwrap()).unwrap();
    let options = RefresherOptions { endpoint: Some((s.addr.clone(), false)), ..Default::default() };
    let refresher = Refresher::new(&store, &options).unwrap();
    // One pass: the first look adopts the stored key, which is not due; the next does nothing.
    assert_eq!(refresher.run_once(false).unwrap().map(|e| e.kind), Some(RefreshEventKind::Adopted));
    assert!(refresher.run_once(false).unwrap().is_none());
    assert_eq!(store.kind(), "file");
    assert_eq!(store.location(), store.description().trim_start_matches("file:"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let events_sub = refresher.subscribe(move |ev| seen2.lock().unwrap().push(ev.clone())).unwrap();
    let before = watcher.current().unwrap().to_string();
    let ev = refresher.refresh_now().unwrap();
    assert_eq!(ev.kind, RefreshEventKind::Refreshed, "{:?}", ev.error);
    assert!(ev.next_attempt.is_none() && !ev.replay);
    // The watcher may already have the new key from the file's directory event (poll is then
    // false); the key must arrive either way.
    watcher.poll().unwrap();
    let k = keys.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(k.fingerprint, ev.key_fingerprint);
    assert_ne!(watcher.current().unwrap().to_string(), before);
    let stored = CredentialProvider::from_file(store.description().trim_start_matches("file:")).unwrap();
    AuthClient::new(&watcher.current().unwrap()).unwrap().refresh_api_key(&stored.refresh_token()).unwrap();
    for _ in 0..100 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen.lock().unwrap()[0].kind, RefreshEventKind::Refreshed);
    drop(events_sub);
    // A failed refresh is an event, not an error.
    let bad = Refresher::new(&store, &RefresherOptions {
        endpoint: Some(("127.0.0.1:1".into(), false)),
        deadline: Some(Duration::from_secs(1)),
        ..Default::default()
    })
    .unwrap();
    let fev = bad.refresh_now().unwrap();
    assert_eq!(fev.kind, RefreshEventKind::Failed);
    assert!(fev.error.as_ref().unwrap().is_retryable());
    assert_eq!(fev.consecutive_failures, 1);
    assert!(fev.next_attempt.is_some() && !fev.replay);
    assert_eq!(code(Refresher::new(&store, &RefresherOptions { refresh_fraction: Some(1.5), ..Default::default() })), ErrorCode::InvalidArgumentError);
}

#[test]
fn nothing_called_after_unsubscribe() {
    let s = server();
    let admin = client(&s, &s.super_key);
    let store = token_store(&s, &admin, "closing.json");
    let watcher = Watcher::new(&store, Duration::from_millis(50), Some((&s.addr, false))).unwrap();
    let count = Arc::new(Mutex::new(0));
    let dropped = Arc::new(Mutex::new(false));
    struct Flag(Arc<Mutex<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = true;
        }
    }
    let (c2, flag) = (count.clone(), Flag(dropped.clone()));
    let sub = watcher.subscribe(move |_| {
        let _ = &flag;
        *c2.lock().unwrap() += 1;
    }).unwrap();
    let refresher = Refresher::new(&store, &RefresherOptions { endpoint: Some((s.addr.clone(), false)), ..Default::default() }).unwrap();
    refresher.refresh_now().unwrap();
    for _ in 0..200 {
        if *count.lock().unwrap() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(*count.lock().unwrap(), 1, "the periodic re-read delivered the new key");
    sub.unsubscribe();
    assert!(*dropped.lock().unwrap(), "the closure is dropped when unsubscribe returns");
    refresher.refresh_now().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(*count.lock().unwrap(), 1);
}

/// Resident set size in KiB (Linux).
fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn no_leak_over_bounded_loop() {
    let s = server();
    let round = |n: usize| {
        for _ in 0..n {
            let c = client(&s, &s.super_key);
            let r = c.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::minutes(1)).unwrap();
            let _ = format!("{r:?}");
            let _ = CredentialProvider::from_string("bad\0");
            // The data client under a cancel token, and a log callback replaced each round.
            let d = DataClient::new(&cred(&s, &s.super_key)).unwrap();
            let token = CancelToken::new().unwrap();
            token.run(|| d.list_caches()).unwrap();
            assert_eq!(d.get("no-such-cache", b"k").unwrap_err().code(), ErrorCode::NotFoundError);
            set_log_callback(LogLevel::Debug, |r| assert!(!r.message.is_empty())).unwrap();
        }
        clear_log_callback().unwrap();
        rss_kib()
    };
    let loops: usize = std::env::var("MOMENTO_LEAK_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    round(loops / 4);
    let base = round(loops / 4);
    let end = round(loops);
    // Under valgrind (ctest bindings.rust_valgrind) the process's RSS is valgrind's; it checks leaks.
    if std::env::var_os("MOMENTO_UNDER_VALGRIND").is_none() {
        assert!(end.saturating_sub(base) < 12 * 1024, "RSS grew {} KiB over {loops} rounds", end - base);
    }
}

/// The README's example (examples/mint.rs, which the ctest command builds first) runs as written.
#[test]
fn readme_example() {
    let Ok(target) = std::env::var("CARGO_TARGET_DIR") else { return };
    let bin = std::path::Path::new(&target).join("debug/examples/mint");
    assert!(bin.exists(), "{} was not built", bin.display());
    let s = server();
    let out = std::process::Command::new(&bin)
        .arg(s.dir.join("bootstrap.json"))
        .arg(&s.addr)
        .current_dir(&s.dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("minted ApiKeyResult(") && stdout.contains("refreshed ApiKeyResult("), "{stdout}");
    assert!(s.dir.join("momento_token.json").exists());
}
