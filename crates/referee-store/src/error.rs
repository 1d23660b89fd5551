//! Errors of store operations.

use referee_domain::DomainError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the operation; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),

    /// No connection could be obtained, or the connection broke: the database is unreachable.
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// Any other database failure.
    #[error("database error: {0}")]
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};

        match error {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            // SQLite's busy timeout ran out while another process or connection held the write
            // lock (SQLITE_BUSY): the database is there but cannot be written right now.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().starts_with("database is locked") =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Database(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> StoreError {
        Error::DatabaseError(kind, Box::new(message.to_owned())).into()
    }

    #[test]
    fn sqlite_busy_is_unavailable() {
        let error = database_error(DatabaseErrorKind::Unknown, "database is locked");
        assert!(matches!(error, StoreError::Unavailable(_)));
    }

    #[test]
    fn other_unknown_error_is_database() {
        let error = database_error(DatabaseErrorKind::Unknown, "no such table: items");
        assert!(matches!(error, StoreError::Database(_)));
    }
}
