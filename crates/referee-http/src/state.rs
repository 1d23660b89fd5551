//! Shared state of the router and the one way handlers reach the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use referee_store::{AnyConnection, Pool, StoreError, StoreResult};

use crate::error::ApiError;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Scheme, host and port used in hyperlinks instead of the request's `Host` header, for
    /// example `https://referee.example.org`. Without it, links use the request's host.
    pub public_url: Option<String>,
}

/// What every handler receives.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    settings: HttpSettings,
    /// False until the database is migrated; requests are answered with 503 until then.
    database_ready: AtomicBool,
}

impl AppState {
    pub fn new(pool: Pool, settings: HttpSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                settings,
                database_ready: AtomicBool::new(true),
            }),
        }
    }

    /// Like [`AppState::new`], but answers 503 until [`AppState::mark_database_ready`].
    pub fn new_unprepared(pool: Pool, settings: HttpSettings) -> Self {
        let state = Self::new(pool, settings);
        state.inner.database_ready.store(false, Ordering::Release);
        state
    }

    /// Records that the database is migrated and requests may use it.
    pub fn mark_database_ready(&self) {
        self.inner.database_ready.store(true, Ordering::Release);
    }

    pub fn database_ready(&self) -> bool {
        self.inner.database_ready.load(Ordering::Acquire)
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.inner.settings
    }

    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Runs a store operation on a pooled connection on the blocking thread pool.
    ///
    /// A pool timeout or a broken connection becomes a 503; a panic inside the operation
    /// becomes a 500.
    pub async fn run<T, F>(&self, operation: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> StoreResult<T> + Send + 'static,
    {
        if !self.database_ready() {
            return Err(ApiError::Unavailable(
                "the database is not migrated yet".into(),
            ));
        }
        let pool = self.inner.pool.clone();
        let span = tracing::Span::current();
        let outcome = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut connection = pool.get().map_err(StoreError::from)?;
            operation(&mut connection)
        })
        .await;

        match outcome {
            Ok(result) => result.map_err(ApiError::from),
            Err(join_error) => Err(ApiError::Internal(format!(
                "store operation panicked: {join_error}"
            ))),
        }
    }
}
