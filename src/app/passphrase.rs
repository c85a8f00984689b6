//! Per-person passphrases for a workspace file shared on one workstation: stored as argon2id
//! hashes (PHC strings, a random salt each), checked at sign-in. This is accountability on a
//! shared workstation (who did what), not protection: anyone who can edit the file can change
//! it. A team workspace on a server has real logins instead.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::domain::User;
use crate::store::{Store, StoreError};

/// The PHC string of `passphrase` (argon2id, the crate's default parameters, a fresh salt).
pub fn hash(passphrase: &str) -> Result<String, String> {
    if passphrase.is_empty() {
        return Err("a passphrase cannot be empty".into());
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(passphrase.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `passphrase` is the one `phc` was made from (false for a malformed hash).
pub fn verify(phc: &str, passphrase: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(passphrase.as_bytes(), &h).is_ok())
}

/// What signing in as `user` on a workspace file needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Nothing: the workspace does not ask for passphrases.
    Open,
    /// The user's passphrase.
    Passphrase,
    /// The workspace asks for one, but this user has none yet; a lead must set it.
    NoPassphraseYet,
}

pub fn sign_in_for(store: &Store, user: &User) -> Result<SignIn, StoreError> {
    if !store.sign_in_required()? {
        return Ok(SignIn::Open);
    }
    Ok(match store.passphrase_hash(user.id)? {
        Some(_) => SignIn::Passphrase,
        None => SignIn::NoPassphraseYet,
    })
}

/// Checks `passphrase` for `user`; true also when the workspace asks for none.
pub fn check(store: &Store, user: &User, passphrase: &str) -> Result<bool, StoreError> {
    if !store.sign_in_required()? {
        return Ok(true);
    }
    Ok(store.passphrase_hash(user.id)?.is_some_and(|h| verify(&h, passphrase)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_checks_out_only_against_its_own_salted_hash() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify(&h, "correct horse"));
        assert!(!verify(&h, "correct horse "));
        assert!(!verify(&h, ""));
        assert_ne!(hash("correct horse").unwrap(), h, "a fresh salt each time");
        assert!(!verify("not a hash", "correct horse"));
        assert!(hash("").is_err());
    }
}
