//! The quickstart's flow from Rust: create an identity, issue a token, create an identity and
//! token in one call, revoke, delete. Against `COMMUNICATION_SERVICES_CONNECTION_STRING` when
//! set, otherwise against the emulator started here.
//!
//! `cargo run -p acs-identity --example quickstart`

use acs_identity::{IdentityClient, IdentityClientOptions, OperationOptions};
use acs_identity_emulator::{Emulator, EmulatorOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
  let mut emulator = None;
  let connection_string = match std::env::var("COMMUNICATION_SERVICES_CONNECTION_STRING") {
    Ok(value) => value,
    Err(_) => {
      let started = Emulator::start(EmulatorOptions::default()).await?;
      println!("using the emulator at {}", started.endpoint());
      let connection_string = started.connection_string();
      emulator = Some(started);
      connection_string
    }
  };
  let client =
    IdentityClient::from_connection_string(&connection_string, IdentityClientOptions::default())?;
  let options = OperationOptions::default();

  let user = client.create_user(None, &options).await?;
  println!("created {}", user.communication_user_id);
  let token = client
    .get_token(&user.communication_user_id, &["voip"], None, &options)
    .await?;
  println!("issued a voip token that expires at {:?}", token.expires_on);
  let both = client
    .create_user_and_token(&["chat"], Some(60), None, &options)
    .await?;
  println!(
    "created {} with a one-hour chat token",
    both.user.communication_user_id
  );
  client
    .revoke_tokens(&user.communication_user_id, &options)
    .await?;
  println!("revoked the tokens of {}", user.communication_user_id);
  client
    .delete_user(&user.communication_user_id, &options)
    .await?;
  client
    .delete_user(&both.user.communication_user_id, &options)
    .await?;
  println!("deleted both identities");

  if let Some(emulator) = emulator {
    emulator.close().await;
  }
  Ok(())
}
