//! Mints a key with a local server's SuperUser key file, saves it as a token file and refreshes
//! it from a second client:  cargo run --example mint -- ./superuser.json 127.0.0.1:9090
use momento_auth::{AuthClient, CredentialProvider, ErrorCode, ExpiresIn, PermissionScope};

fn main() -> Result<(), momento_auth::Error> {
    let mut args = std::env::args().skip(1);
    let (file, endpoint) = (args.next().expect("key file"), args.next().expect("host:port"));

    // with_endpoint(.., false): a local plaintext server; omit it for Momento itself.
    let cred = CredentialProvider::from_file(&file)?.with_endpoint(&endpoint, false)?;
    let client = AuthClient::new(&cred)?;
    let r = client.generate_api_key(&PermissionScope::AllDataReadWrite, ExpiresIn::minutes(30))?;
    println!("minted {r}"); // redacted: ApiKeyResult(eyJl…#1a2b3c4d, expires_at=…)
    r.write_file("momento_token.json")?;

    let user = AuthClient::new(&CredentialProvider::from_string(r.api_key())?.with_endpoint(&endpoint, false)?)?;
    match user.refresh_api_key(r.refresh_token()) {
        Ok(r2) => println!("refreshed {r2}"),
        Err(e) if e.code() == ErrorCode::AuthenticationError => eprintln!("the refresh token was not accepted"),
        Err(e) => return Err(e),
    }
    Ok(())
}
