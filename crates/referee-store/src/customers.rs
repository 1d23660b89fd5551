//! Organisations (Waldur's customers): they manage calls and employ reviewers.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::{Actor, DomainError};
use uuid::Uuid;

use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{calls, customers};
use crate::sql_functions::{contains_pattern, lower};
use crate::sql_types::{DbTime, DbUuid};

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Customer {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    pub name: String,
    pub abbreviation: String,
    pub email: String,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// Fields of a new organisation.
#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub name: String,
    pub abbreviation: String,
    pub email: String,
}

/// Changes to an organisation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub abbreviation: Option<String>,
    pub email: Option<String>,
}

/// Fields an organisation list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerOrder {
    Name,
    Abbreviation,
    Created,
}

/// Filters of the organisation list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub abbreviation: Option<String>,
}

fn visible(actor: &Actor) -> customers::BoxedQuery<'static, MultiBackend> {
    let query = customers::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }
    let own: Vec<DbUuid> = actor.customer_uuids().into_iter().map(DbUuid).collect();
    let call_uuids: Vec<DbUuid> = actor.call_uuids().into_iter().map(DbUuid).collect();
    query.filter(
        customers::uuid.eq_any(own).or(customers::uuid.eq_any(
            calls::table
                .filter(calls::uuid.eq_any(call_uuids))
                .select(calls::customer_uuid),
        )),
    )
}

fn filtered<'a>(
    actor: &Actor,
    filter: &'a CustomerFilter,
) -> customers::BoxedQuery<'a, MultiBackend> {
    let mut query = visible(actor);
    if let Some(name) = &filter.name {
        query = query.filter(
            lower(customers::name)
                .like(contains_pattern(name))
                .escape('\\'),
        );
    }
    if let Some(abbreviation) = &filter.abbreviation {
        query = query.filter(customers::abbreviation.eq(abbreviation));
    }
    query
}

pub fn list_customers(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &CustomerFilter,
    order: &[SortKey<CustomerOrder>],
    page: PageRequest,
) -> StoreResult<Page<Customer>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(customers::name.asc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (CustomerOrder::Name, false) => query.then_order_by(customers::name.asc()),
            (CustomerOrder::Name, true) => query.then_order_by(customers::name.desc()),
            (CustomerOrder::Abbreviation, false) => {
                query.then_order_by(customers::abbreviation.asc())
            }
            (CustomerOrder::Abbreviation, true) => {
                query.then_order_by(customers::abbreviation.desc())
            }
            (CustomerOrder::Created, false) => query.then_order_by(customers::created.asc()),
            (CustomerOrder::Created, true) => query.then_order_by(customers::created.desc()),
        };
    }
    let rows = query
        .then_order_by(customers::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Customer>(connection)?;
    Ok(Page { rows, total })
}

/// Finds an organisation the actor may see; others are reported as not found.
pub fn find_visible_customer(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Customer> {
    visible(actor)
        .filter(customers::uuid.eq(DbUuid(uuid)))
        .first::<Customer>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("customer").into())
}

pub fn get_customer(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Customer> {
    customers::table
        .find(DbUuid(uuid))
        .first::<Customer>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("customer").into())
}

/// Creates an organisation; only staff may.
pub fn create_customer(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewCustomer,
) -> StoreResult<Customer> {
    if !actor.is_staff {
        return Err(
            DomainError::permission_denied("Only staff users can create organisations.").into(),
        );
    }
    let uuid = Uuid::now_v7();
    let created = DbTime::from(Utc::now());
    diesel::insert_into(customers::table)
        .values((
            customers::uuid.eq(DbUuid(uuid)),
            customers::name.eq(&new.name),
            customers::abbreviation.eq(&new.abbreviation),
            customers::email.eq(&new.email),
            customers::created.eq(created),
            customers::modified.eq(created),
        ))
        .execute(connection)?;
    get_customer(connection, uuid)
}

/// Updates an organisation; staff and its owners and managers may.
pub fn update_customer(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &CustomerChanges,
) -> StoreResult<Customer> {
    let customer = find_visible_customer(connection, actor, uuid)?;
    if !actor.manages_customer(uuid) {
        return Err(DomainError::permission_denied(
            "Only staff and the organisation's owners and managers can change it.",
        )
        .into());
    }
    diesel::update(customers::table.find(DbUuid(uuid)))
        .set((
            customers::name.eq(changes.name.as_ref().unwrap_or(&customer.name)),
            customers::abbreviation.eq(changes
                .abbreviation
                .as_ref()
                .unwrap_or(&customer.abbreviation)),
            customers::email.eq(changes.email.as_ref().unwrap_or(&customer.email)),
            customers::modified.eq(DbTime::from(Utc::now())),
        ))
        .execute(connection)?;
    get_customer(connection, uuid)
}

/// Deletes an organisation that manages no call; only staff may.
pub fn delete_customer(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<()> {
    find_visible_customer(connection, actor, uuid)?;
    if !actor.is_staff {
        return Err(
            DomainError::permission_denied("Only staff users can delete organisations.").into(),
        );
    }
    let managed_calls = calls::table
        .filter(calls::customer_uuid.eq(DbUuid(uuid)))
        .count()
        .get_result::<i64>(connection)?;
    if managed_calls > 0 {
        return Err(DomainError::Conflict(format!(
            "The organisation manages {managed_calls} call(s). Delete or move its calls first."
        ))
        .into());
    }
    diesel::delete(customers::table.find(DbUuid(uuid))).execute(connection)?;
    Ok(())
}
