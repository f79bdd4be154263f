//! The library's log callback (its own test binary: the callback is process-wide).
use std::sync::{Arc, Mutex};

use momento_auth::*;

type Lines = Arc<Mutex<Vec<LogRecord>>>;

fn sink(min: LogLevel) -> Lines {
    let lines: Lines = Arc::default();
    let l = lines.clone();
    set_log_callback(min, move |r| l.lock().unwrap().push(r.clone())).unwrap();
    lines
}

#[test]
fn log_callback_levels_replacement_and_no_secrets() {
    let secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzb21lb25lIn0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ";
    let debug = sink(LogLevel::Debug);
    let _ = CredentialProvider::from_string(secret);
    let _ = CredentialProvider::from_string("not a credential"); // logged at debug level
    {
        let lines = debug.lock().unwrap();
        assert!(!lines.is_empty());
        for r in lines.iter() {
            assert!(!r.message.is_empty());
            assert!(!r.message.contains(secret) && !r.message.contains("c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ"), "{r:?}");
        }
        assert!(lines.iter().any(|r| r.level == LogLevel::Debug));
    }
    // Replaced by a WARN callback: the old one hears nothing more (and was dropped), the new one
    // gets no debug message.
    let warn = sink(LogLevel::Warn);
    assert_eq!(Arc::strong_count(&debug), 1, "the replaced closure was not dropped");
    let before = debug.lock().unwrap().len();
    let _ = CredentialProvider::from_string("not a credential");
    assert_eq!(debug.lock().unwrap().len(), before);
    assert!(warn.lock().unwrap().is_empty());
    clear_log_callback().unwrap();
    assert_eq!(Arc::strong_count(&warn), 1);

    // Replacing the callback from inside it is refused, not a deadlock; a panic in it does not
    // unwind into the library.
    let seen: Arc<Mutex<Option<Result<()>>>> = Arc::default();
    let s = seen.clone();
    set_log_callback(LogLevel::Debug, move |_| {
        let mut s = s.lock().unwrap();
        if s.is_none() {
            *s = Some(clear_log_callback());
            drop(s);
            panic!("inside the log callback");
        }
    })
    .unwrap();
    let _ = CredentialProvider::from_string("not a credential");
    let r = seen.lock().unwrap().take().expect("the callback ran");
    assert_eq!(r.unwrap_err().code(), ErrorCode::FailedPreconditionError);
    clear_log_callback().unwrap();
}
