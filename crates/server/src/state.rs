//! The state every request handler shares.

use std::sync::Arc;

use crate::StartError;
use crate::auth::LoginLimiter;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    store: Store,
    currency: Arc<str>,
    login_limiter: Arc<LoginLimiter>,
}

impl AppState {
    pub async fn new(store: Store) -> Result<AppState, StartError> {
        let currency = store.currency().await?;
        Ok(AppState {
            store,
            currency: currency.into(),
            login_limiter: Arc::new(LoginLimiter::default()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The deployment's one currency (ISO 4217).
    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub fn login_limiter(&self) -> &LoginLimiter {
        &self.login_limiter
    }
}
