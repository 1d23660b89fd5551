//! Storage of referee: one Diesel schema over PostgreSQL and SQLite, the migrations of both,
//! the connection pool, and the transactional operations the HTTP layer calls.
//!
//! Every operation takes `&mut AnyConnection`, loads what it needs, asks `referee-domain`
//! whether the change is allowed, and writes the effects in one transaction. Visibility is
//! a SQL filter built from the [`referee_domain::Actor`], so counts and pages stay right.

pub mod affinity;
pub mod assignments;
pub mod audit;
pub mod batches;
mod bulk;
pub mod calls;
pub mod configs;
pub mod conflicts;
pub mod connection;
pub mod customers;
pub mod detection;
pub mod error;
pub mod import;
pub mod items;
pub mod list;
pub mod pool;
pub mod profiles;
pub mod proposals;
pub mod reviews;
pub mod scheduler;
pub mod schema;
pub mod sql_functions;
pub mod sql_types;
pub mod stored;
pub mod suggestions;
pub mod transaction;
pub mod users;

pub use connection::{
    AnyConnection, BackendKind, DatabaseUrl, Pool, PoolOptions, build_pool, run_migrations,
};
pub use error::{StoreError, StoreResult};
pub use list::{Page, PageRequest, SortKey};
