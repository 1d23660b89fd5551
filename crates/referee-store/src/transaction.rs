//! Transactions that take the write lock up front.

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use crate::connection::AnyConnection;
use crate::error::StoreResult;

/// Runs `operation` in a transaction that may write.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, which takes the database's write
/// lock before the first read: two writers that read and then update the same row are
/// serialised instead of one failing with a stale snapshot. On PostgreSQL it is an ordinary
/// transaction; operations lock the rows they change with conditional updates.
pub fn write_transaction<T, F>(connection: &mut AnyConnection, operation: F) -> StoreResult<T>
where
    F: FnOnce(&mut AnyConnection) -> StoreResult<T>,
{
    if let AnyConnection::Sqlite(sqlite) = connection {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        return match operation(connection) {
            Ok(value) => {
                <AnyConnection as Connection>::TransactionManager::commit_transaction(connection)?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback_error) =
                    <AnyConnection as Connection>::TransactionManager::rollback_transaction(
                        connection,
                    )
                {
                    tracing::error!(error = %rollback_error, "rolling back a SQLite transaction failed");
                }
                Err(error)
            }
        };
    }
    connection.transaction(operation)
}
