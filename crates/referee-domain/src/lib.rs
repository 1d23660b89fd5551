//! The rules of referee as plain Rust: entities and their enumerations, the actor and its
//! roles, permission and visibility decisions, and the error type every layer shares.
//!
//! Nothing here performs I/O. The store loads rows, asks these functions what a change
//! means, and writes the effects; the HTTP layer maps [`DomainError`] to responses.

pub mod actor;
pub mod affinity;
pub mod assignment;
pub mod detection;
pub mod enums;
pub mod error;
pub mod import;
pub mod solver;
pub mod suggestion;
pub mod validate;

pub use actor::{Actor, CallRole, CustomerRole, RoleGrant};
pub use error::{DomainError, FieldErrors};
