//! Momento API keys for Rust: mint, refresh, parse and keep them fresh, over
//! `libmomento_auth.so.1` (the `momento-auth-sys` crate), the library that C, Python, Node and
//! Go use too.
//!
//! ```no_run
//! use momento_auth::{AuthClient, CredentialProvider, ExpiresIn, PermissionScope};
//! # fn main() -> Result<(), momento_auth::Error> {
//! let cred = CredentialProvider::from_string("<key>")?.with_endpoint("127.0.0.1:9090", false)?;
//! let client = AuthClient::new(&cred)?;
//! let r = client.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30))?;
//! println!("{r}"); // redacted
//! # Ok(()) }
//! ```
//!
//! Every rule (parsing, ranges, defaults, redaction, the refresh policy, event delivery) is the
//! library's; this crate adapts types, errors and lifetimes. Handles free themselves in `Drop`.
//! Thread safety follows the C ABI's rules (docs/c-api.md): credentials, tokens, clients,
//! stores, refreshers and watchers are `Send + Sync`.

use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use momento_auth_sys as sys;

// ---- errors and loading --------------------------------------------------------------------

/// The canonical error codes (docs/wire.md section 10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    InvalidArgumentError,
    AuthenticationError,
    PermissionError,
    NotFoundError,
    AlreadyExistsError,
    LimitExceededError,
    FailedPreconditionError,
    CancelledError,
    TimeoutError,
    ServerUnavailable,
    InternalServerError,
    UnknownServiceError,
    BadRequestError,
    ConnectionError,
    ClientResourceExhausted,
    UnknownError,
}

impl ErrorCode {
    /// Every code, in the order of their status values.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::InvalidArgumentError,
        ErrorCode::AuthenticationError,
        ErrorCode::PermissionError,
        ErrorCode::NotFoundError,
        ErrorCode::AlreadyExistsError,
        ErrorCode::LimitExceededError,
        ErrorCode::FailedPreconditionError,
        ErrorCode::CancelledError,
        ErrorCode::TimeoutError,
        ErrorCode::ServerUnavailable,
        ErrorCode::InternalServerError,
        ErrorCode::UnknownServiceError,
        ErrorCode::BadRequestError,
        ErrorCode::ConnectionError,
        ErrorCode::ClientResourceExhausted,
        ErrorCode::UnknownError,
    ];

    fn status(self) -> sys::momento_status_t {
        use sys::momento_status_code::*;
        (match self {
            ErrorCode::InvalidArgumentError => MOMENTO_ERR_INVALID_ARGUMENT,
            ErrorCode::AuthenticationError => MOMENTO_ERR_AUTHENTICATION,
            ErrorCode::PermissionError => MOMENTO_ERR_PERMISSION,
            ErrorCode::NotFoundError => MOMENTO_ERR_NOT_FOUND,
            ErrorCode::AlreadyExistsError => MOMENTO_ERR_ALREADY_EXISTS,
            ErrorCode::LimitExceededError => MOMENTO_ERR_LIMIT_EXCEEDED,
            ErrorCode::FailedPreconditionError => MOMENTO_ERR_FAILED_PRECONDITION,
            ErrorCode::CancelledError => MOMENTO_ERR_CANCELLED,
            ErrorCode::TimeoutError => MOMENTO_ERR_TIMEOUT,
            ErrorCode::ServerUnavailable => MOMENTO_ERR_SERVER_UNAVAILABLE,
            ErrorCode::InternalServerError => MOMENTO_ERR_INTERNAL_SERVER,
            ErrorCode::UnknownServiceError => MOMENTO_ERR_UNKNOWN_SERVICE,
            ErrorCode::BadRequestError => MOMENTO_ERR_BAD_REQUEST,
            ErrorCode::ConnectionError => MOMENTO_ERR_CONNECTION,
            ErrorCode::ClientResourceExhausted => MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED,
            ErrorCode::UnknownError => MOMENTO_ERR_UNKNOWN,
        }) as sys::momento_status_t
    }

    fn from_status(status: sys::momento_status_t) -> ErrorCode {
        ErrorCode::ALL.into_iter().find(|c| c.status() == status).unwrap_or(ErrorCode::UnknownError)
    }

    /// The library's name of the code ("PERMISSION_ERROR", ...).
    pub fn as_str(self) -> &'static str {
        // SAFETY: momento_status_str returns a static NUL-terminated string for any value.
        unsafe { CStr::from_ptr(sys::momento_status_str(self.status())) }.to_str().unwrap_or("UNKNOWN_ERROR")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure. Messages never contain a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    retryable: bool,
    grpc_status: i32,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The library's verdict: the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
    /// The gRPC status when an RPC was made, else -1.
    pub fn grpc_status(&self) -> i32 {
        self.grpc_status
    }

    fn invalid(message: impl Into<String>) -> Error {
        Error { code: ErrorCode::InvalidArgumentError, message: message.into(), retryable: false, grpc_status: -1 }
    }

    /// Takes ownership of a C error object.
    unsafe fn take(e: *mut sys::momento_error_t) -> Error {
        let err = Error {
            code: ErrorCode::from_status(sys::momento_error_code(e)),
            message: borrowed(sys::momento_error_message(e)),
            retryable: sys::momento_error_retryable(e) == 1,
            grpc_status: sys::momento_error_grpc_status(e),
        };
        sys::momento_error_free(e);
        err
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Checks once that the loaded library has the ABI these declarations were generated for.
fn loaded() -> Result<()> {
    static CHECK: OnceLock<Result<()>> = OnceLock::new();
    CHECK
        .get_or_init(|| {
            // SAFETY: plain getters without arguments.
            let abi = unsafe { sys::momento_abi_version() };
            if abi == sys::MOMENTO_AUTH_ABI_VERSION {
                Ok(())
            } else {
                Err(Error {
                    code: ErrorCode::FailedPreconditionError,
                    message: format!(
                        "momento-auth was built for libmomento_auth ABI {}, but the loaded library {} has ABI {abi}",
                        sys::MOMENTO_AUTH_ABI_VERSION,
                        library_version()
                    ),
                    retryable: false,
                    grpc_status: -1,
                })
            }
        })
        .clone()
}

/// The loaded library's "MAJOR.MINOR.PATCH".
pub fn library_version() -> String {
    // SAFETY: a static string.
    unsafe { borrowed(sys::momento_version_string()) }
}

/// Runs a fallible C call whose last argument is the error out-parameter.
fn check(f: impl FnOnce(*mut *mut sys::momento_error_t) -> sys::momento_status_t) -> Result<()> {
    let mut e = ptr::null_mut();
    if f(&mut e) == sys::momento_status_code::MOMENTO_OK as sys::momento_status_t {
        Ok(())
    } else {
        // SAFETY: on failure the library stored a new error object that we now own.
        Err(unsafe { Error::take(e) })
    }
}

/// Copies a borrowed C string (NULL becomes "").
unsafe fn borrowed(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// A C string cannot carry a NUL byte: that is an InvalidArgumentError naming the argument.
fn c_string(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(format!("{what} must not contain a NUL byte")))
}

fn c_opt(s: Option<&str>, what: &str) -> Result<Option<CString>> {
    s.map(|s| c_string(s, what)).transpose()
}

fn opt_ptr(s: &Option<CString>) -> *const std::os::raw::c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

fn path_string(p: &Path) -> Result<CString> {
    let s = p.to_str().ok_or_else(|| Error::invalid("path is not valid UTF-8"))?;
    c_string(s, "path")
}

fn epoch(s: u64) -> Option<SystemTime> {
    (s != 0).then(|| UNIX_EPOCH + Duration::from_secs(s))
}

/// The library's display form of a secret: a few characters and a short hash.
pub fn redact(secret: &str) -> String {
    let Ok(s) = c_string(secret, "secret") else { return "<invalid>".into() };
    let mut out = ptr::null_mut();
    // SAFETY: valid string; the owned result is released with momento_free.
    match check(|e| unsafe { sys::momento_redact(&mut out, s.as_ptr(), e) }) {
        Ok(()) => unsafe {
            let r = borrowed(out);
            sys::momento_free(out);
            r
        },
        Err(_) => "<invalid>".into(),
    }
}

// ---- endpoint overrides ----------------------------------------------------------------------

struct Override(*mut sys::momento_endpoint_override_t);

impl Override {
    fn single(host_port: &str, secure: bool) -> Result<Override> {
        let hp = c_string(host_port, "endpoint")?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_endpoint_override_new_single(&mut out, hp.as_ptr(), secure as i32, e) })?;
        Ok(Override(out))
    }

    fn optional(endpoint: Option<(&str, bool)>) -> Result<Option<Override>> {
        endpoint.map(|(hp, secure)| Override::single(hp, secure)).transpose()
    }

    fn ptr(o: &Option<Override>) -> *const sys::momento_endpoint_override_t {
        o.as_ref().map_or(ptr::null(), |o| o.0)
    }
}

impl Drop for Override {
    fn drop(&mut self) {
        unsafe { sys::momento_endpoint_override_free(self.0) }
    }
}

// ---- credentials -----------------------------------------------------------------------------

/// A parsed key with its endpoints. Immutable.
pub struct CredentialProvider {
    ptr: *mut sys::momento_credential_t,
}

// SAFETY: credentials are immutable and safe to share between threads (auth.h).
unsafe impl Send for CredentialProvider {}
unsafe impl Sync for CredentialProvider {}

impl CredentialProvider {
    fn make(f: impl FnOnce(*mut *mut sys::momento_credential_t, *mut *mut sys::momento_error_t) -> sys::momento_status_t) -> Result<Self> {
        loaded()?;
        let mut out = ptr::null_mut();
        check(|e| f(&mut out, e))?;
        Ok(CredentialProvider { ptr: out })
    }

    /// A v1 envelope, legacy JWT or session token.
    pub fn from_string(key: &str) -> Result<Self> {
        let k = c_string(key, "key")?;
        Self::make(|out, e| unsafe { sys::momento_credential_from_string(out, k.as_ptr(), ptr::null(), e) })
    }

    pub fn from_disposable_token(token: &str) -> Result<Self> {
        let t = c_string(token, "token")?;
        Self::make(|out, e| unsafe { sys::momento_credential_from_disposable_token(out, t.as_ptr(), ptr::null(), e) })
    }

    /// A v2 API key with its base endpoint.
    pub fn from_api_key_v2(api_key: &str, endpoint: &str) -> Result<Self> {
        let k = c_string(api_key, "api_key")?;
        let ep = c_string(endpoint, "endpoint")?;
        Self::make(|out, e| unsafe { sys::momento_credential_from_v2(out, k.as_ptr(), ep.as_ptr(), ptr::null(), e) })
    }

    /// From environment variables (None: the library's variable names).
    pub fn from_env(key_var: Option<&str>, endpoint_var: Option<&str>) -> Result<Self> {
        let k = c_opt(key_var, "key_var")?;
        let ep = c_opt(endpoint_var, "endpoint_var")?;
        Self::make(|out, e| unsafe { sys::momento_credential_from_env(out, opt_ptr(&k), opt_ptr(&ep), ptr::null(), e) })
    }

    /// A token file in the Download-JSON shape.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let p = path_string(path.as_ref())?;
        Self::make(|out, e| unsafe { sys::momento_credential_from_file(out, p.as_ptr(), ptr::null(), e) })
    }

    /// No key: every endpoint host:port, plaintext (None and 0: the library's defaults).
    pub fn local(host: Option<&str>, port: u16) -> Result<Self> {
        let h = c_opt(host, "host")?;
        Self::make(|out, e| unsafe { sys::momento_credential_new_local(out, opt_ptr(&h), port, e) })
    }

    /// The same key with every service at one "host:port" (`secure` false: plaintext).
    pub fn with_endpoint(self, host_port: &str, secure: bool) -> Result<Self> {
        let o = Override::single(host_port, secure)?;
        Self::make(|out, e| unsafe { sys::momento_credential_with_override(out, self.ptr, o.0, e) })
    }

    /// "v1_envelope", "v2_api_key", "legacy_jwt", "session_token" or "local".
    pub fn kind(&self) -> String {
        unsafe { borrowed(sys::momento_credential_kind_str(sys::momento_credential_kind(self.ptr))) }
    }

    pub fn base_endpoint(&self) -> String {
        unsafe { borrowed(sys::momento_credential_base_endpoint(self.ptr)) }
    }

    /// The refresh token that came with a token file ("" when none). A secret.
    pub fn refresh_token(&self) -> String {
        unsafe { borrowed(sys::momento_credential_refresh_token(self.ptr)) }
    }

    /// Expiry: `None` when unknown, `Some(None)` when the key never expires.
    pub fn expires_at(&self) -> Result<Option<Option<SystemTime>>> {
        let (mut state, mut at) = (0i32, 0u64);
        check(|e| unsafe { sys::momento_credential_expiry(&mut state, &mut at, self.ptr, e) })?;
        Ok(match state as u32 {
            sys::momento_expiry_state::MOMENTO_EXPIRY_AT => Some(epoch(at)),
            sys::momento_expiry_state::MOMENTO_EXPIRY_NEVER => Some(None),
            _ => None,
        })
    }
}

impl fmt::Display for CredentialProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&unsafe { borrowed(sys::momento_credential_redacted(self.ptr)) })
    }
}

impl fmt::Debug for CredentialProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialProvider({self})")
    }
}

impl Drop for CredentialProvider {
    fn drop(&mut self) {
        unsafe { sys::momento_credential_free(self.ptr) }
    }
}

// ---- lifetimes and scopes --------------------------------------------------------------------

/// A key's lifetime; the library checks it when a call uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiresIn {
    unit: i32,
    amount: i64,
}

impl ExpiresIn {
    pub fn never() -> Self {
        ExpiresIn { unit: sys::momento_expires_unit::MOMENTO_EXPIRES_NEVER as i32, amount: 0 }
    }
    pub fn seconds(n: i64) -> Self {
        ExpiresIn { unit: sys::momento_expires_unit::MOMENTO_EXPIRES_SECONDS as i32, amount: n }
    }
    pub fn minutes(n: i64) -> Self {
        ExpiresIn { unit: sys::momento_expires_unit::MOMENTO_EXPIRES_MINUTES as i32, amount: n }
    }
    pub fn hours(n: i64) -> Self {
        ExpiresIn { unit: sys::momento_expires_unit::MOMENTO_EXPIRES_HOURS as i32, amount: n }
    }
    pub fn days(n: i64) -> Self {
        ExpiresIn { unit: sys::momento_expires_unit::MOMENTO_EXPIRES_DAYS as i32, amount: n }
    }
    /// An absolute expiry (epoch seconds of `at`).
    pub fn at(at: SystemTime) -> Self {
        let s = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        ExpiresIn { unit: sys::momento_expires_unit::MOMENTO_EXPIRES_AT_EPOCH as i32, amount: s }
    }

    fn native(self) -> Result<Native<sys::momento_expires_in_t>> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_expires_in_new(&mut out, self.unit, self.amount, e) })?;
        Ok(Native(out, sys::momento_expires_in_free))
    }
}

/// A handle freed when dropped.
struct Native<T>(*mut T, unsafe extern "C" fn(*mut T));

impl<T> Drop for Native<T> {
    fn drop(&mut self) {
        unsafe { (self.1)(self.0) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheRole {
    PermitNone,
    ReadWrite,
    ReadOnly,
    WriteOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicRole {
    PermitNone,
    PublishSubscribe,
    SubscribeOnly,
    PublishOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionRole {
    PermitNone,
    Invoke,
}

impl CacheRole {
    fn c(self) -> i32 {
        use sys::momento_cache_role::*;
        (match self {
            CacheRole::PermitNone => MOMENTO_CACHE_PERMIT_NONE,
            CacheRole::ReadWrite => MOMENTO_CACHE_READ_WRITE,
            CacheRole::ReadOnly => MOMENTO_CACHE_READ_ONLY,
            CacheRole::WriteOnly => MOMENTO_CACHE_WRITE_ONLY,
        }) as i32
    }
}

impl TopicRole {
    fn c(self) -> i32 {
        use sys::momento_topic_role::*;
        (match self {
            TopicRole::PermitNone => MOMENTO_TOPIC_PERMIT_NONE,
            TopicRole::PublishSubscribe => MOMENTO_TOPIC_PUBLISH_SUBSCRIBE,
            TopicRole::SubscribeOnly => MOMENTO_TOPIC_SUBSCRIBE_ONLY,
            TopicRole::PublishOnly => MOMENTO_TOPIC_PUBLISH_ONLY,
        }) as i32
    }
}

impl FunctionRole {
    fn c(self) -> i32 {
        use sys::momento_function_role::*;
        (match self {
            FunctionRole::PermitNone => MOMENTO_FUNCTION_PERMIT_NONE,
            FunctionRole::Invoke => MOMENTO_FUNCTION_INVOKE,
        }) as i32
    }
}

/// A cache: every cache or one by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheSelector {
    AllCaches,
    Name(String),
}

/// A topic or function: all, one by name, or by name prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameSelector {
    All,
    Name(String),
    Prefix(String),
}

/// Items of a cache (disposable tokens only); keys are bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemSelector {
    AllItems,
    Key(Vec<u8>),
    KeyPrefix(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permission {
    Cache { role: CacheRole, cache: CacheSelector },
    Topic { role: TopicRole, cache: CacheSelector, topic: NameSelector },
    Function { role: FunctionRole, cache: CacheSelector, function: NameSelector },
    CacheItem { role: CacheRole, cache: CacheSelector, item: ItemSelector },
}

/// What a key or disposable token may do. The library checks it before anything is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionScope {
    AllDataReadWrite,
    AllDataReadOnly,
    SuperUser,
    Permissions(Vec<Permission>),
}

impl CacheSelector {
    fn c(&self) -> Result<Option<CString>> {
        match self {
            CacheSelector::AllCaches => Ok(None),
            CacheSelector::Name(n) => c_string(n, "cache name").map(Some),
        }
    }
}

impl NameSelector {
    fn c(&self, what: &str) -> Result<(i32, Option<CString>)> {
        use sys::momento_name_select::*;
        Ok(match self {
            NameSelector::All => (MOMENTO_SELECT_ALL as i32, None),
            NameSelector::Name(n) => (MOMENTO_SELECT_NAME as i32, Some(c_string(n, what)?)),
            NameSelector::Prefix(p) => (MOMENTO_SELECT_PREFIX as i32, Some(c_string(p, what)?)),
        })
    }
}

impl PermissionScope {
    fn native(&self) -> Result<Native<sys::momento_scope_t>> {
        use sys::momento_predefined_scope::*;
        let mut out = ptr::null_mut();
        let which = match self {
            PermissionScope::AllDataReadWrite => Some(MOMENTO_SCOPE_ALL_DATA_READ_WRITE),
            PermissionScope::AllDataReadOnly => Some(MOMENTO_SCOPE_ALL_DATA_READ_ONLY),
            PermissionScope::SuperUser => Some(MOMENTO_SCOPE_SUPER_USER),
            PermissionScope::Permissions(_) => None,
        };
        if let Some(w) = which {
            check(|e| unsafe { sys::momento_scope_new_predefined(&mut out, w as i32, e) })?;
            return Ok(Native(out, sys::momento_scope_free));
        }
        check(|e| unsafe { sys::momento_scope_new(&mut out, e) })?;
        let scope = Native(out, sys::momento_scope_free);
        let PermissionScope::Permissions(ps) = self else { unreachable!() };
        for p in ps {
            match p {
                Permission::Cache { role, cache } => {
                    let c = cache.c()?;
                    check(|e| unsafe { sys::momento_scope_add_cache(scope.0, role.c(), opt_ptr(&c), e) })?;
                }
                Permission::Topic { role, cache, topic } => {
                    let c = cache.c()?;
                    let (sel, t) = topic.c("topic")?;
                    check(|e| unsafe { sys::momento_scope_add_topic(scope.0, role.c(), opt_ptr(&c), sel, opt_ptr(&t), e) })?;
                }
                Permission::Function { role, cache, function } => {
                    let c = cache.c()?;
                    let (sel, f) = function.c("function")?;
                    check(|e| unsafe { sys::momento_scope_add_function(scope.0, role.c(), opt_ptr(&c), sel, opt_ptr(&f), e) })?;
                }
                Permission::CacheItem { role, cache, item } => {
                    use sys::momento_item_select::*;
                    let c = cache.c()?;
                    let (sel, key): (u32, &[u8]) = match item {
                        ItemSelector::AllItems => (MOMENTO_ITEMS_ALL, &[]),
                        ItemSelector::Key(k) => (MOMENTO_ITEMS_KEY, k),
                        ItemSelector::KeyPrefix(k) => (MOMENTO_ITEMS_KEY_PREFIX, k),
                    };
                    let kp = if key.is_empty() { ptr::null() } else { key.as_ptr() as *const c_void };
                    check(|e| unsafe {
                        sys::momento_scope_add_cache_items(scope.0, role.c(), opt_ptr(&c), sel as i32, kp, key.len(), e)
                    })?;
                }
            }
        }
        Ok(scope)
    }
}

// ---- tokens ----------------------------------------------------------------------------------

/// A minted or refreshed key, or a disposable token. `Debug` and `Display` are redacted.
pub struct ApiKeyResult {
    ptr: *mut sys::momento_token_t,
}

// SAFETY: tokens are immutable and safe to share (auth.h).
unsafe impl Send for ApiKeyResult {}
unsafe impl Sync for ApiKeyResult {}

impl ApiKeyResult {
    /// The key (a secret).
    pub fn api_key(&self) -> &str {
        unsafe { str_of(sys::momento_token_api_key(self.ptr)) }
    }
    /// The refresh token (a secret; "" for never-expiring keys and disposable tokens).
    pub fn refresh_token(&self) -> &str {
        unsafe { str_of(sys::momento_token_refresh_token(self.ptr)) }
    }
    pub fn endpoint(&self) -> &str {
        unsafe { str_of(sys::momento_token_endpoint(self.ptr)) }
    }
    /// None: never expires.
    pub fn expires_at(&self) -> Option<SystemTime> {
        epoch(unsafe { sys::momento_token_valid_until(self.ptr) })
    }
    /// The token file's text {"authToken","refreshToken","validUntil"} (contains secrets).
    pub fn to_download_json(&self) -> Result<String> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_token_to_json(&mut out, self.ptr, e) })?;
        unsafe {
            let s = borrowed(out);
            sys::momento_free(out);
            Ok(s)
        }
    }
    /// Writes the token file atomically with mode 0600.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let p = path_string(path.as_ref())?;
        check(|e| unsafe { sys::momento_token_write_file(self.ptr, p.as_ptr(), e) })
    }
}

/// A borrowed string that lives as long as its parent handle (the library returns UTF-8).
unsafe fn str_of<'a>(p: *const std::os::raw::c_char) -> &'a str {
    if p.is_null() {
        ""
    } else {
        CStr::from_ptr(p).to_str().unwrap_or("")
    }
}

impl fmt::Display for ApiKeyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = match self.expires_at() {
            None => "never".to_string(),
            Some(t) => format!("{}", t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())),
        };
        write!(f, "ApiKeyResult({}, expires_at={exp})", redact(self.api_key()))
    }
}

impl fmt::Debug for ApiKeyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Drop for ApiKeyResult {
    fn drop(&mut self) {
        unsafe { sys::momento_token_free(self.ptr) }
    }
}

// ---- auth client -----------------------------------------------------------------------------

/// Mints and refreshes keys. Share one between threads; calls block the calling thread.
///
/// Dropping it is the only way to close it, so no call can reach a closed client:
/// ```compile_fail,E0382
/// # use momento_auth::*;
/// let client = AuthClient::new(&CredentialProvider::local(None, 0).unwrap()).unwrap();
/// drop(client);
/// client.refresh_api_key("token");
/// ```
pub struct AuthClient {
    ptr: *mut sys::momento_auth_client_t,
}

// SAFETY: the auth client is thread-safe (auth.h); Drop runs once no call is running, which the
// borrow checker guarantees.
unsafe impl Send for AuthClient {}
unsafe impl Sync for AuthClient {}

impl AuthClient {
    /// Copies the credential; the library's default deadline.
    pub fn new(cred: &CredentialProvider) -> Result<Self> {
        Self::build(cred, None, None)
    }

    /// With a per-call deadline.
    pub fn with_deadline(cred: &CredentialProvider, deadline: Duration) -> Result<Self> {
        Self::with_options(cred, &ClientOptions { deadline: Some(deadline), ..Default::default() })
    }

    /// With a deadline and/or a CA file (None: the library's defaults).
    pub fn with_options(cred: &CredentialProvider, options: &ClientOptions) -> Result<Self> {
        Self::build(cred, options.deadline, options.ca_file.as_deref())
    }

    fn build(cred: &CredentialProvider, deadline: Option<Duration>, ca_file: Option<&Path>) -> Result<Self> {
        loaded()?;
        let cfg = client_config(deadline, ca_file)?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_auth_client_new(&mut out, cred.ptr, cfg.0, e) })?;
        Ok(AuthClient { ptr: out })
    }

    pub fn generate_api_key(&self, scope: &PermissionScope, expires_in: ExpiresIn) -> Result<ApiKeyResult> {
        let s = scope.native()?;
        let x = expires_in.native()?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_auth_client_generate_api_key(&mut out, self.ptr, s.0, x.0, e) })?;
        Ok(ApiKeyResult { ptr: out })
    }

    /// Exchanges the client's own key and its refresh token for a new key.
    pub fn refresh_api_key(&self, refresh_token: &str) -> Result<ApiKeyResult> {
        let rt = c_string(refresh_token, "refresh_token")?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_auth_client_refresh_api_key(&mut out, self.ptr, rt.as_ptr(), e) })?;
        Ok(ApiKeyResult { ptr: out })
    }

    pub fn generate_disposable_token(&self, scope: &PermissionScope, expires_in: ExpiresIn, token_id: Option<&str>) -> Result<ApiKeyResult> {
        let s = scope.native()?;
        let x = expires_in.native()?;
        let id = c_opt(token_id, "token_id")?;
        let mut out = ptr::null_mut();
        check(|e| unsafe {
            sys::momento_auth_client_generate_disposable_token(&mut out, self.ptr, s.0, x.0, opt_ptr(&id), e)
        })?;
        Ok(ApiKeyResult { ptr: out })
    }
}

impl Drop for AuthClient {
    fn drop(&mut self) {
        unsafe { sys::momento_auth_client_free(self.ptr) }
    }
}

impl fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthClient")
    }
}

// ---- stores, refresher, watcher --------------------------------------------------------------

/// Where a fleet keeps its current key: "file:PATH", "aws-sm:SECRET-ID" or "env:VARIABLE" (the
/// library parses the spec).
pub struct TokenStore {
    ptr: *mut sys::momento_store_t,
}

// SAFETY: stores are thread-safe (auth.h).
unsafe impl Send for TokenStore {}
unsafe impl Sync for TokenStore {}

/// Options of an "aws-sm:" store; None takes the library's default (the AWS_* variables and the
/// shared config file). The library checks the values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreOptions {
    pub aws_region: Option<String>,
    /// e.g. "http://127.0.0.1:5000"
    pub aws_endpoint: Option<String>,
    pub aws_profile: Option<String>,
}

impl TokenStore {
    pub fn open(spec: &str) -> Result<Self> {
        Self::open_with(spec, &StoreOptions::default())
    }

    pub fn open_with(spec: &str, options: &StoreOptions) -> Result<Self> {
        loaded()?;
        let s = c_string(spec, "spec")?;
        let mut o = ptr::null_mut();
        check(|e| unsafe { sys::momento_store_options_new(&mut o, e) })?;
        let o = Native(o, sys::momento_store_options_free);
        type Setter = unsafe extern "C" fn(
            *mut sys::momento_store_options_t,
            *const std::os::raw::c_char,
            *mut *mut sys::momento_error_t,
        ) -> sys::momento_status_t;
        let setters: [(&Option<String>, &str, Setter); 3] = [
            (&options.aws_region, "aws_region", sys::momento_store_options_set_aws_region),
            (&options.aws_endpoint, "aws_endpoint", sys::momento_store_options_set_aws_endpoint),
            (&options.aws_profile, "aws_profile", sys::momento_store_options_set_aws_profile),
        ];
        for (value, what, set) in setters {
            if let Some(v) = value {
                let v = c_string(v, what)?;
                check(|e| unsafe { set(o.0, v.as_ptr(), e) })?;
            }
        }
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_store_new(&mut out, s.as_ptr(), o.0, e) })?;
        Ok(TokenStore { ptr: out })
    }
    pub fn description(&self) -> String {
        unsafe { borrowed(sys::momento_store_describe(self.ptr)) }
    }
    pub fn writable(&self) -> bool {
        unsafe { sys::momento_store_writable(self.ptr) == 1 }
    }
    /// "file", "aws-sm" or "env".
    pub fn kind(&self) -> String {
        unsafe { borrowed(sys::momento_store_kind_str(sys::momento_store_kind(self.ptr))) }
    }
    /// The path, secret id or variable the spec names.
    pub fn location(&self) -> String {
        unsafe { borrowed(sys::momento_store_location(self.ptr)) }
    }
    /// The stored key (NotFoundError when the store holds nothing yet).
    pub fn load(&self) -> Result<ApiKeyResult> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_store_load(&mut out, self.ptr, e) })?;
        Ok(ApiKeyResult { ptr: out })
    }
    /// Replaces the stored key atomically.
    pub fn save(&self, key: &ApiKeyResult) -> Result<()> {
        check(|e| unsafe { sys::momento_store_save(self.ptr, key.ptr, e) })
    }
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenStore({})", self.description())
    }
}

impl Drop for TokenStore {
    fn drop(&mut self) {
        unsafe { sys::momento_store_free(self.ptr) }
    }
}

/// What a refresher did; no secret.
#[derive(Clone, Debug)]
pub struct RefreshEvent {
    pub kind: RefreshEventKind,
    pub store: String,
    pub expires_at: Option<SystemTime>,
    pub redacted_key: String,
    pub key_fingerprint: String,
    /// Failures only.
    pub error: Option<Error>,
    pub consecutive_failures: i32,
    /// When the refresher tries again after a failure; None when not planned.
    pub next_attempt: Option<SystemTime>,
    /// The pass repeated a refresh whose answer was lost (docs/refresh.md, "Lost answers").
    pub replay: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshEventKind {
    Refreshed,
    Adopted,
    Failed,
}

impl RefreshEvent {
    unsafe fn from_c(ev: *const sys::momento_refresh_event_t) -> RefreshEvent {
        use sys::momento_refresh_event_kind::*;
        let kind = match sys::momento_refresh_event_kind(ev) as u32 {
            MOMENTO_REFRESH_REFRESHED => RefreshEventKind::Refreshed,
            MOMENTO_REFRESH_ADOPTED => RefreshEventKind::Adopted,
            _ => RefreshEventKind::Failed,
        };
        let error = (kind == RefreshEventKind::Failed).then(|| Error {
            code: ErrorCode::from_status(sys::momento_refresh_event_error_code(ev)),
            message: borrowed(sys::momento_refresh_event_error_message(ev)),
            retryable: sys::momento_refresh_event_retryable(ev) == 1,
            grpc_status: -1,
        });
        RefreshEvent {
            kind,
            store: borrowed(sys::momento_refresh_event_store(ev)),
            expires_at: epoch(sys::momento_refresh_event_valid_until(ev)),
            redacted_key: borrowed(sys::momento_refresh_event_redacted_key(ev)),
            key_fingerprint: borrowed(sys::momento_refresh_event_key_fingerprint(ev)),
            error,
            consecutive_failures: sys::momento_refresh_event_consecutive_failures(ev),
            next_attempt: u64::try_from(sys::momento_refresh_event_next_attempt_ms(ev))
                .ok()
                .filter(|ms| *ms != 0)
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
            replay: sys::momento_refresh_event_replay(ev) == 1,
        }
    }
}

/// The refresh policy; `None` fields take the library's defaults, and the library checks the
/// whole policy.
#[derive(Clone, Debug, Default)]
pub struct RefresherOptions {
    pub refresh_fraction: Option<f64>,
    pub jitter_fraction: Option<f64>,
    /// (initial, max)
    pub backoff: Option<(Duration, Duration)>,
    pub recheck_interval: Option<Duration>,
    pub deadline: Option<Duration>,
    /// PEM certificates to trust for TLS instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// ("host:port", secure) instead of each key's own endpoints.
    pub endpoint: Option<(String, bool)>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A client config for one constructor (the library copies it).
fn client_config(deadline: Option<Duration>, ca_file: Option<&Path>) -> Result<Native<sys::momento_client_config_t>> {
    let mut cfg = ptr::null_mut();
    check(|e| unsafe { sys::momento_client_config_new(&mut cfg, e) })?;
    let cfg = Native(cfg, sys::momento_client_config_free);
    if let Some(d) = deadline {
        check(|e| unsafe { sys::momento_client_config_set_deadline_ms(cfg.0, millis(d), e) })?;
    }
    if let Some(p) = ca_file {
        let p = path_string(p)?;
        check(|e| unsafe { sys::momento_client_config_set_ca_file(cfg.0, p.as_ptr(), e) })?;
    }
    Ok(cfg)
}

/// Options of AuthClient::with_options; None takes the library's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientOptions {
    pub deadline: Option<Duration>,
    /// PEM certificates to trust for TLS instead of the system's roots (e.g. a local server's
    /// self-signed certificate).
    pub ca_file: Option<PathBuf>,
}

/// Keeps one store's key fresh on a library thread.
pub struct Refresher {
    ptr: *mut sys::momento_refresher_t,
}

// SAFETY: the refresher is thread-safe (auth.h).
unsafe impl Send for Refresher {}
unsafe impl Sync for Refresher {}

type Callback<T> = Box<dyn Fn(&T) + Send + Sync>;

unsafe extern "C" fn destroy_callback<T>(user_data: *mut c_void) {
    drop(Box::from_raw(user_data as *mut Callback<T>));
}

unsafe fn call_back<T>(user_data: *mut c_void, value: T) {
    let cb = &*(user_data as *const Callback<T>);
    // A panic must not unwind into the library's thread.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&value)));
}

unsafe extern "C" fn refresh_trampoline(ev: *const sys::momento_refresh_event_t, user_data: *mut c_void) {
    call_back(user_data, RefreshEvent::from_c(ev));
}

unsafe extern "C" fn watch_trampoline(key: *const sys::momento_watched_key_t, user_data: *mut c_void) {
    call_back(user_data, WatchedKey::from_c(key));
}

/// A subscription: dropping it (or `unsubscribe`) ends it; when that returns the closure is not
/// running and will not be called again, and it has been dropped.
#[must_use = "dropping a Subscription ends it at once"]
pub struct Subscription<'a> {
    id: u64,
    owner: Owner<'a>,
}

enum Owner<'a> {
    Refresher(&'a Refresher),
    Watcher(&'a Watcher),
}

impl Subscription<'_> {
    /// Ends the subscription (the same as dropping it).
    pub fn unsubscribe(self) {}
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        // SAFETY: the owner outlives the subscription (borrow); the id came from subscribe.
        unsafe {
            match self.owner {
                Owner::Refresher(r) => sys::momento_refresher_unsubscribe(r.ptr, self.id, ptr::null_mut()),
                Owner::Watcher(w) => sys::momento_watcher_unsubscribe(w.ptr, self.id, ptr::null_mut()),
            };
        }
    }
}

/// Registers a boxed closure with `subscribe`; the library drops it through the destroy notifier.
fn subscribe_with<T>(
    f: Callback<T>,
    subscribe: impl FnOnce(*mut u64, *mut c_void, *mut *mut sys::momento_error_t) -> sys::momento_status_t,
) -> Result<u64> {
    let cb: *mut Callback<T> = Box::into_raw(Box::new(f));
    let mut id = 0u64;
    if let Err(err) = check(|e| subscribe(&mut id, cb as *mut c_void, e)) {
        drop(unsafe { Box::from_raw(cb) }); // the library does not destroy it on failure
        return Err(err);
    }
    Ok(id)
}

impl Refresher {
    /// Does not start the thread (`start` does).
    pub fn new(store: &TokenStore, options: &RefresherOptions) -> Result<Self> {
        loaded()?;
        let mut o = ptr::null_mut();
        check(|e| unsafe { sys::momento_refresher_options_new(&mut o, e) })?;
        let o = Native(o, sys::momento_refresher_options_free);
        if let Some(f) = options.refresh_fraction {
            check(|e| unsafe { sys::momento_refresher_options_set_refresh_fraction(o.0, f, e) })?;
        }
        if let Some(f) = options.jitter_fraction {
            check(|e| unsafe { sys::momento_refresher_options_set_jitter_fraction(o.0, f, e) })?;
        }
        if let Some((initial, max)) = options.backoff {
            check(|e| unsafe { sys::momento_refresher_options_set_backoff_ms(o.0, millis(initial), millis(max), e) })?;
        }
        if let Some(d) = options.recheck_interval {
            check(|e| unsafe { sys::momento_refresher_options_set_recheck_interval_ms(o.0, millis(d), e) })?;
        }
        let cfg = client_config(options.deadline, options.ca_file.as_deref())?;
        let ov = Override::optional(options.endpoint.as_ref().map(|(h, s)| (h.as_str(), *s)))?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_refresher_new(&mut out, store.ptr, cfg.0, Override::ptr(&ov), o.0, e) })?;
        Ok(Refresher { ptr: out })
    }

    /// Starts the background thread (idempotent).
    pub fn start(&self) -> Result<()> {
        check(|e| unsafe { sys::momento_refresher_start(self.ptr, e) })
    }

    /// Stops the background thread and waits for it (idempotent).
    pub fn stop(&self) -> Result<()> {
        check(|e| unsafe { sys::momento_refresher_stop(self.ptr, e) })
    }

    /// Refreshes now on this thread (a key a peer already rotated is adopted instead); a failed
    /// refresh is an event, not an error.
    /// One pass of the refresher's loop: a refresh when due (or with `force`), else None.
    pub fn run_once(&self, force: bool) -> Result<Option<RefreshEvent>> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_refresher_run_once(&mut out, self.ptr, i32::from(force), e) })?;
        if out.is_null() {
            return Ok(None);
        }
        let ev = Native(out, sys::momento_refresh_event_free);
        Ok(Some(unsafe { RefreshEvent::from_c(ev.0) }))
    }

    pub fn refresh_now(&self) -> Result<RefreshEvent> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_refresher_refresh_now(&mut out, self.ptr, e) })?;
        let ev = Native(out, sys::momento_refresh_event_free);
        Ok(unsafe { RefreshEvent::from_c(ev.0) })
    }

    /// Calls `f` with each event, in order, on the refresher's delivery thread.
    pub fn subscribe(&self, f: impl Fn(&RefreshEvent) + Send + Sync + 'static) -> Result<Subscription<'_>> {
        let id = subscribe_with::<RefreshEvent>(Box::new(f), |id, ud, e| unsafe {
            sys::momento_refresher_subscribe(id, self.ptr, Some(refresh_trampoline), ud, Some(destroy_callback::<RefreshEvent>), e)
        })?;
        Ok(Subscription { id, owner: Owner::Refresher(self) })
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        unsafe { sys::momento_refresher_free(self.ptr) }
    }
}

impl fmt::Debug for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Refresher")
    }
}

/// A key a watcher swapped in, without the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedKey {
    pub fingerprint: String,
    pub expires_at: Option<SystemTime>,
}

impl WatchedKey {
    unsafe fn from_c(k: *const sys::momento_watched_key_t) -> WatchedKey {
        WatchedKey {
            fingerprint: borrowed(sys::momento_watched_key_fingerprint(k)),
            expires_at: epoch(sys::momento_watched_key_valid_until(k)),
        }
    }
}

/// An application's view of a store: re-reads it every period on a library thread and swaps a
/// new key in.
pub struct Watcher {
    ptr: *mut sys::momento_watcher_t,
}

// SAFETY: the watcher is thread-safe (auth.h).
unsafe impl Send for Watcher {}
unsafe impl Sync for Watcher {}

impl Watcher {
    /// The library's default re-read period, for a caller with no period of its own.
    pub fn default_period() -> Result<Duration> {
        loaded()?;
        // SAFETY: a plain getter without arguments.
        let ms = unsafe { sys::momento_watcher_default_period_ms() };
        Ok(Duration::from_millis(ms.max(0) as u64))
    }

    /// Reads the store once (it must hold a key) and starts following it; `endpoint` is
    /// ("host:port", secure) instead of each key's own endpoints.
    pub fn new(store: &TokenStore, period: Duration, endpoint: Option<(&str, bool)>) -> Result<Self> {
        loaded()?;
        let ov = Override::optional(endpoint)?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_watcher_new(&mut out, store.ptr, millis(period), Override::ptr(&ov), e) })?;
        Ok(Watcher { ptr: out })
    }

    /// The credential in service now: a snapshot a later swap leaves unchanged.
    pub fn current(&self) -> Result<CredentialProvider> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_watcher_current_credential(&mut out, self.ptr, e) })?;
        Ok(CredentialProvider { ptr: out })
    }

    /// Re-reads the store now; true when a new key was swapped in.
    pub fn poll(&self) -> Result<bool> {
        let mut changed = 0i32;
        check(|e| unsafe { sys::momento_watcher_poll(&mut changed, self.ptr, e) })?;
        Ok(changed == 1)
    }

    /// A call came back with AuthenticationError: re-read soon. Never blocks.
    pub fn notify_unauthenticated(&self) -> Result<()> {
        check(|e| unsafe { sys::momento_watcher_notify_unauthenticated(self.ptr, e) })
    }

    /// Calls `f` with each new key after it is swapped in, on the watcher's delivery thread.
    pub fn subscribe(&self, f: impl Fn(&WatchedKey) + Send + Sync + 'static) -> Result<Subscription<'_>> {
        let id = subscribe_with::<WatchedKey>(Box::new(f), |id, ud, e| unsafe {
            sys::momento_watcher_subscribe(id, self.ptr, Some(watch_trampoline), ud, Some(destroy_callback::<WatchedKey>), e)
        })?;
        Ok(Subscription { id, owner: Owner::Watcher(self) })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        unsafe { sys::momento_watcher_free(self.ptr) }
    }
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Watcher")
    }
}

// ---- cancellation ----------------------------------------------------------------------------

/// Cancels blocking calls from another thread. [`CancelToken::run`] ties the calls the current
/// thread makes inside its closure (on any client, store, refresher or watcher) to the token;
/// [`CancelToken::cancel`], from any thread, makes those in flight return `CancelledError` at
/// once, and later ones under the token fail without sending anything until
/// [`CancelToken::reset`]. Clients stay usable after a cancelled call. A cancelled call may or
/// may not have reached the server (a cancelled refresh may have spent its refresh token).
///
/// ```no_run
/// # use momento_auth::*;
/// # fn f(client: &AuthClient, refresh_token: &str) -> Result<()> {
/// let token = std::sync::Arc::new(CancelToken::new()?);
/// let t = token.clone();
/// std::thread::spawn(move || { std::thread::sleep(std::time::Duration::from_secs(1)); t.cancel() });
/// match token.run(|| client.refresh_api_key(refresh_token)) {
///     Err(e) if e.code() == ErrorCode::CancelledError => println!("cancelled"),
///     r => { r?; }
/// }
/// # Ok(()) }
/// ```
pub struct CancelToken {
    ptr: *mut sys::momento_cancel_token_t,
}

// SAFETY: cancel, reset and is_cancelled may run concurrently from any thread (auth.h). The token
// is freed only in Drop, when no borrow remains: no cancel or reset is running and `run`, which
// unties its thread before returning, has returned.
unsafe impl Send for CancelToken {}
unsafe impl Sync for CancelToken {}

impl CancelToken {
    pub fn new() -> Result<Self> {
        loaded()?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_cancel_token_new(&mut out, e) })?;
        Ok(CancelToken { ptr: out })
    }

    /// Cancels the calls in flight under the token and every later one until `reset`.
    /// Idempotent.
    pub fn cancel(&self) {
        // SAFETY: a live token; cancelling one cannot fail.
        unsafe { sys::momento_cancel_token_cancel(self.ptr, ptr::null_mut()) };
    }

    /// Clears the cancelled state; calls already cancelled stay cancelled.
    pub fn reset(&self) {
        unsafe { sys::momento_cancel_token_reset(self.ptr, ptr::null_mut()) };
    }

    pub fn is_cancelled(&self) -> bool {
        unsafe { sys::momento_cancel_token_is_cancelled(self.ptr) == 1 }
    }

    /// Runs `f` with the current thread's calls tied to this token, then restores the thread's
    /// previous token (so runs nest), also when `f` panics.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(*mut sys::momento_cancel_token_t);
        impl Drop for Restore {
            fn drop(&mut self) {
                unsafe { sys::momento_cancel_token_bind_thread(ptr::null_mut(), self.0, ptr::null_mut()) };
            }
        }
        let mut previous = ptr::null_mut();
        // SAFETY: binding a live token (or restoring the previous one) cannot fail.
        unsafe { sys::momento_cancel_token_bind_thread(&mut previous, self.ptr, ptr::null_mut()) };
        let _restore = Restore(previous);
        f()
    }
}

impl Drop for CancelToken {
    fn drop(&mut self) {
        unsafe { sys::momento_cancel_token_free(self.ptr) }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CancelToken(cancelled={})", self.is_cancelled())
    }
}

// ---- data client -----------------------------------------------------------------------------

/// The cache service's control calls (create, delete, flush and list caches), its data calls
/// (set, get, delete) and ping: enough to validate a key and to exercise its scope, not a cache
/// SDK. Share one between threads; calls block the calling thread ([`CancelToken`] cancels them).
pub struct DataClient {
    ptr: *mut sys::momento_data_client_t,
}

// SAFETY: the data client is thread-safe like the auth client (auth.h); Drop runs once no call
// is running, which the borrow checker guarantees.
unsafe impl Send for DataClient {}
unsafe impl Sync for DataClient {}

/// A byte slice as the C ABI's pointer and length (NULL only with length 0).
fn bytes_arg(b: &[u8]) -> (*const c_void, usize) {
    (if b.is_empty() { ptr::null() } else { b.as_ptr().cast() }, b.len())
}

impl DataClient {
    /// Copies the credential; the library's default deadlines.
    pub fn new(cred: &CredentialProvider) -> Result<Self> {
        Self::with_options(cred, &ClientOptions::default())
    }

    /// With a deadline for every call and/or a CA file (None: the library's defaults).
    pub fn with_options(cred: &CredentialProvider, options: &ClientOptions) -> Result<Self> {
        loaded()?;
        let cfg = client_config(options.deadline, options.ca_file.as_deref())?;
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_data_client_new(&mut out, cred.ptr, cfg.0, e) })?;
        Ok(DataClient { ptr: out })
    }

    /// AlreadyExistsError when the cache exists.
    pub fn create_cache(&self, cache: &str) -> Result<()> {
        let n = c_string(cache, "cache name")?;
        check(|e| unsafe { sys::momento_data_client_create_cache(self.ptr, n.as_ptr(), e) })
    }

    /// Deletes the cache and everything in it (NotFoundError when there is none).
    pub fn delete_cache(&self, cache: &str) -> Result<()> {
        let n = c_string(cache, "cache name")?;
        check(|e| unsafe { sys::momento_data_client_delete_cache(self.ptr, n.as_ptr(), e) })
    }

    /// Removes every item and keeps the cache (NotFoundError when there is none).
    pub fn flush_cache(&self, cache: &str) -> Result<()> {
        let n = c_string(cache, "cache name")?;
        check(|e| unsafe { sys::momento_data_client_flush_cache(self.ptr, n.as_ptr(), e) })
    }

    /// The names of all caches (a cheap way to validate a key).
    pub fn list_caches(&self) -> Result<Vec<String>> {
        let mut out = ptr::null_mut();
        check(|e| unsafe { sys::momento_data_client_list_caches(&mut out, self.ptr, e) })?;
        let list = Native(out, sys::momento_string_list_free);
        let n = unsafe { sys::momento_string_list_count(list.0) };
        Ok((0..n).map(|i| unsafe { borrowed(sys::momento_string_list_get(list.0, i)) }).collect())
    }

    /// Stores `value` under `key` for `ttl` (the library checks it).
    pub fn set(&self, cache: &str, key: &[u8], value: &[u8], ttl: Duration) -> Result<()> {
        let n = c_string(cache, "cache name")?;
        let ((k, kn), (v, vn)) = (bytes_arg(key), bytes_arg(value));
        check(|e| unsafe { sys::momento_data_client_set(self.ptr, n.as_ptr(), k, kn, v, vn, millis(ttl), e) })
    }

    /// The value under `key`; None on a miss.
    pub fn get(&self, cache: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let n = c_string(cache, "cache name")?;
        let (k, kn) = bytes_arg(key);
        let (mut hit, mut value, mut len) = (0i32, ptr::null_mut(), 0usize);
        check(|e| unsafe { sys::momento_data_client_get(&mut hit, &mut value, &mut len, self.ptr, n.as_ptr(), k, kn, e) })?;
        if hit != 1 {
            return Ok(None);
        }
        // SAFETY: on a hit the library returned len bytes we own (released with momento_free).
        unsafe {
            let v = std::slice::from_raw_parts(value as *const u8, len).to_vec();
            sys::momento_free(value.cast());
            Ok(Some(v))
        }
    }

    /// Removes the item under `key`; a missing item is not an error.
    pub fn delete(&self, cache: &str, key: &[u8]) -> Result<()> {
        let n = c_string(cache, "cache name")?;
        let (k, kn) = bytes_arg(key);
        check(|e| unsafe { sys::momento_data_client_delete(self.ptr, n.as_ptr(), k, kn, e) })
    }

    /// Checks that the cache endpoint answers (no key needed).
    pub fn ping(&self) -> Result<()> {
        check(|e| unsafe { sys::momento_data_client_ping(self.ptr, e) })
    }
}

impl Drop for DataClient {
    fn drop(&mut self) {
        unsafe { sys::momento_data_client_free(self.ptr) }
    }
}

impl fmt::Debug for DataClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataClient")
    }
}

// ---- logging ---------------------------------------------------------------------------------

/// The library's log levels, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// One message of the library (never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub level: LogLevel,
    pub message: String,
}

const LOG_LEVELS: [(LogLevel, sys::momento_log_level::Type); 4] = [
    (LogLevel::Debug, sys::momento_log_level::MOMENTO_LOG_DEBUG),
    (LogLevel::Info, sys::momento_log_level::MOMENTO_LOG_INFO),
    (LogLevel::Warn, sys::momento_log_level::MOMENTO_LOG_WARN),
    (LogLevel::Error, sys::momento_log_level::MOMENTO_LOG_ERROR),
];

unsafe extern "C" fn log_trampoline(level: i32, message: *const std::os::raw::c_char, user_data: *mut c_void) {
    let level = LOG_LEVELS.iter().find(|(_, c)| *c as i32 == level).map_or(LogLevel::Error, |(l, _)| *l);
    call_back(user_data, LogRecord { level, message: borrowed(message) });
}

/// Sends the library's messages at or above `min_level` to `f` (the library never prints),
/// replacing any previous callback; when this returns the previous one is not running and has
/// been dropped. `f` runs on the thread making a library call or on a library thread, so it must
/// be quick. Calling this (or [`clear_log_callback`]) from inside `f` fails with
/// FailedPreconditionError.
pub fn set_log_callback(min_level: LogLevel, f: impl Fn(&LogRecord) + Send + Sync + 'static) -> Result<()> {
    loaded()?;
    let level = LOG_LEVELS.iter().find(|(l, _)| *l == min_level).map_or(0, |(_, c)| *c as i32);
    subscribe_with::<LogRecord>(Box::new(f), |_, ud, e| unsafe {
        sys::momento_log_set_callback(level, Some(log_trampoline), ud, Some(destroy_callback::<LogRecord>), e)
    })
    .map(|_| ())
}

/// Removes the log callback; when this returns it is not running and has been dropped.
pub fn clear_log_callback() -> Result<()> {
    loaded()?;
    check(|e| unsafe { sys::momento_log_set_callback(0, None, ptr::null_mut(), None, e) })
}
