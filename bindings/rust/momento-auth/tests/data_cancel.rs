//! The data client and cancel tokens against a local momento-auth-server (ctest label `bindings`).
#[allow(dead_code)]
mod server;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use momento_auth::*;
use server::Server;

fn server() -> Server {
    Server::start().expect("MOMENTO_SERVER_BIN is not set (ctest sets it)")
}

fn cred(s: &Server, key: &str) -> CredentialProvider {
    CredentialProvider::from_string(key).unwrap().with_endpoint(&s.addr, false).unwrap()
}

fn data(s: &Server, key: &str) -> DataClient {
    let options = ClientOptions { deadline: Some(Duration::from_secs(10)), ..Default::default() };
    DataClient::with_options(&cred(s, key), &options).unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

#[test]
fn data_client_caches_items_and_scopes() {
    let s = server();
    let admin = data(&s, &s.super_key);
    admin.ping().unwrap();
    admin.create_cache("rs-a").unwrap();
    admin.create_cache("rs-b").unwrap();
    let e = admin.create_cache("rs-a").unwrap_err();
    assert_eq!((e.code(), e.grpc_status()), (ErrorCode::AlreadyExistsError, 6));
    let names = admin.list_caches().unwrap();
    assert!(names.iter().any(|n| n == "rs-a") && names.iter().any(|n| n == "rs-b"), "{names:?}");

    // Binary keys and values survive, NUL bytes included; an empty value is a hit.
    let (key, val) = (b"k\0x".as_slice(), b"v\0\xffw".as_slice());
    admin.set("rs-a", key, val, Duration::from_secs(60)).unwrap();
    assert_eq!(admin.get("rs-a", key).unwrap().as_deref(), Some(val));
    assert_eq!(admin.get("rs-a", b"k").unwrap(), None);
    admin.set("rs-a", b"empty", b"", Duration::from_secs(60)).unwrap();
    assert_eq!(admin.get("rs-a", b"empty").unwrap(), Some(vec![]));
    admin.delete("rs-a", key).unwrap();
    assert_eq!(admin.get("rs-a", key).unwrap(), None);
    admin.flush_cache("rs-a").unwrap();
    assert_eq!(admin.get("rs-a", b"empty").unwrap(), None);
    admin.delete_cache("rs-b").unwrap();
    assert!(!admin.list_caches().unwrap().iter().any(|n| n == "rs-b"));
    assert_eq!(code(admin.delete_cache("rs-b")), ErrorCode::NotFoundError);
    assert_eq!(code(admin.flush_cache("rs-b")), ErrorCode::NotFoundError);
    assert_eq!(code(admin.get("rs-b", b"k")), ErrorCode::NotFoundError);

    // Bad input is refused before anything is sent.
    for r in [
        admin.create_cache("bad\0name"),
        admin.create_cache(""),
        admin.set("rs-a", b"k", b"v", Duration::ZERO),
        admin.set("rs-a", b"", b"v", Duration::from_secs(1)),
    ] {
        assert_eq!(code(r), ErrorCode::InvalidArgumentError);
    }

    // A read-only key reads but neither writes nor manages caches; an unknown key is refused.
    let auth = AuthClient::new(&cred(&s, &s.super_key)).unwrap();
    let ro = auth.generate_api_key(&PermissionScope::AllDataReadOnly, ExpiresIn::minutes(5)).unwrap();
    let reader = data(&s, ro.api_key());
    assert_eq!(reader.get("rs-a", b"k").unwrap(), None);
    let e = reader.set("rs-a", b"k", b"v", Duration::from_secs(1)).unwrap_err();
    assert_eq!((e.code(), e.grpc_status(), e.is_retryable()), (ErrorCode::PermissionError, 7, false));
    assert_eq!(code(reader.delete_cache("rs-a")), ErrorCode::PermissionError);
    // {"endpoint":"localhost","api_key":"not-a-key"} as a v1 envelope
    let bogus = data(&s, "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==");
    let e = bogus.list_caches().unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthenticationError);
    assert!(!e.message().contains("not-a-key"));
    bogus.ping().unwrap(); // needs no key

    // Shared between threads.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DataClient>();
    assert_send_sync::<CancelToken>();
    std::thread::scope(|scope| {
        for i in 0..8u8 {
            let admin = &admin;
            scope.spawn(move || {
                admin.set("rs-a", &[i + 1], &[i], Duration::from_secs(60)).unwrap();
                assert_eq!(admin.get("rs-a", &[i + 1]).unwrap(), Some(vec![i]));
            });
        }
    });
}

/// A listener that accepts and never answers: a call to it waits for its deadline.
fn silent() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (l, addr)
}

#[test]
fn cancel_token_ends_calls_from_another_thread() {
    let (_l, addr) = silent();
    let c = CredentialProvider::from_string("eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==")
        .unwrap()
        .with_endpoint(&addr, false)
        .unwrap();
    let slow = ClientOptions { deadline: Some(Duration::from_secs(60)), ..Default::default() };
    let auth = AuthClient::with_options(&c, &slow).unwrap();
    let dc = DataClient::with_options(&c, &slow).unwrap();
    let token = Arc::new(CancelToken::new().unwrap());
    assert!(!token.is_cancelled());

    let calls: [&(dyn Fn() -> Result<()> + Sync); 2] =
        [&|| auth.refresh_api_key("rt").map(|_| ()), &|| dc.list_caches().map(|_| ())];
    for call in calls {
        token.reset();
        let start = Instant::now();
        let r = std::thread::scope(|scope| {
            let t = token.clone();
            scope.spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                t.cancel();
            });
            token.run(call)
        });
        assert_eq!(code(r), ErrorCode::CancelledError);
        assert!(start.elapsed() < Duration::from_secs(30), "the cancel did not reach the call");
        assert!(token.is_cancelled());
    }
    // Cancelled, the token fails later calls at once; reset, they run again (and time out here).
    let start = Instant::now();
    assert_eq!(code(token.run(|| dc.list_caches())), ErrorCode::CancelledError);
    assert!(start.elapsed() < Duration::from_secs(5));
    token.reset();
    let short = DataClient::with_options(&c, &ClientOptions { deadline: Some(Duration::from_millis(200)), ..Default::default() }).unwrap();
    assert_eq!(code(token.run(|| short.list_caches())), ErrorCode::TimeoutError);
    // Outside run, the thread's calls are not tied to the token.
    token.cancel();
    assert_eq!(code(short.list_caches()), ErrorCode::TimeoutError);
}

#[test]
fn cancel_token_runs_nest_and_unwind() {
    let s = server();
    let admin = data(&s, &s.super_key);
    let outer = CancelToken::new().unwrap();
    let inner = CancelToken::new().unwrap();
    inner.cancel();
    outer.run(|| {
        assert_eq!(code(inner.run(|| admin.ping())), ErrorCode::CancelledError);
        admin.ping().unwrap(); // the outer token again
        outer.cancel();
        assert_eq!(code(admin.ping()), ErrorCode::CancelledError);
    });
    admin.ping().unwrap(); // untied after run
    // A panic inside run unties the thread too.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.run(|| panic!("inside run"))));
    assert!(r.is_err());
    admin.ping().unwrap();
}
