//! The authenticated user behind a request, with the roles that decide what it may see and do.

use uuid::Uuid;

pub use crate::enums::{CallRole, CustomerRole};

/// One role a user holds on a call or on an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleGrant {
    Call {
        call_uuid: Uuid,
        role: CallRole,
    },
    Customer {
        customer_uuid: Uuid,
        role: CustomerRole,
    },
}

/// The user making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_uuid: Uuid,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub is_staff: bool,
    pub is_support: bool,
    pub grants: Vec<RoleGrant>,
}

impl Actor {
    /// Whether the actor may manage reviews of a call: staff, a call manager of the call, or
    /// an owner or manager of the organisation that manages the call.
    pub fn manages_call(&self, call_uuid: Uuid, customer_uuid: Uuid) -> bool {
        self.is_staff
            || self.has_call_role(call_uuid, CallRole::Manager)
            || self.manages_customer(customer_uuid)
    }

    /// Whether the actor may read a call's management data (pool, configuration, conflicts):
    /// anyone who manages it, support users, and every member of the managing organisation.
    pub fn reads_call(&self, call_uuid: Uuid, customer_uuid: Uuid) -> bool {
        self.manages_call(call_uuid, customer_uuid)
            || self.is_support
            || self.customer_role(customer_uuid).is_some()
    }

    /// Whether the actor is an owner or manager of the organisation (or staff).
    pub fn manages_customer(&self, customer_uuid: Uuid) -> bool {
        self.is_staff
            || matches!(
                self.customer_role(customer_uuid),
                Some(CustomerRole::Owner | CustomerRole::Manager)
            )
    }

    /// Whether staff or support flags give the actor read access to every object.
    pub fn reads_everything(&self) -> bool {
        self.is_staff || self.is_support
    }

    pub fn has_call_role(&self, call_uuid: Uuid, role: CallRole) -> bool {
        self.grants.iter().any(|grant| {
            matches!(grant, RoleGrant::Call { call_uuid: c, role: r } if *c == call_uuid && *r == role)
        })
    }

    /// The strongest role the actor holds on the organisation, if any.
    pub fn customer_role(&self, customer_uuid: Uuid) -> Option<CustomerRole> {
        self.grants
            .iter()
            .filter_map(|grant| match grant {
                RoleGrant::Customer {
                    customer_uuid: c,
                    role,
                } if *c == customer_uuid => Some(*role),
                _ => None,
            })
            .min()
    }

    /// Calls on which the actor holds any role.
    pub fn call_uuids(&self) -> Vec<Uuid> {
        self.grants
            .iter()
            .filter_map(|grant| match grant {
                RoleGrant::Call { call_uuid, .. } => Some(*call_uuid),
                RoleGrant::Customer { .. } => None,
            })
            .collect()
    }

    /// Calls the actor manages through a call role.
    pub fn managed_call_uuids(&self) -> Vec<Uuid> {
        self.grants
            .iter()
            .filter_map(|grant| match grant {
                RoleGrant::Call {
                    call_uuid,
                    role: CallRole::Manager,
                } => Some(*call_uuid),
                _ => None,
            })
            .collect()
    }

    /// Organisations on which the actor holds any role.
    pub fn customer_uuids(&self) -> Vec<Uuid> {
        self.grants
            .iter()
            .filter_map(|grant| match grant {
                RoleGrant::Customer { customer_uuid, .. } => Some(*customer_uuid),
                RoleGrant::Call { .. } => None,
            })
            .collect()
    }

    /// Organisations whose calls the actor manages (owner or manager role).
    pub fn managed_customer_uuids(&self) -> Vec<Uuid> {
        self.grants
            .iter()
            .filter_map(|grant| match grant {
                RoleGrant::Customer {
                    customer_uuid,
                    role: CustomerRole::Owner | CustomerRole::Manager,
                } => Some(*customer_uuid),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: Vec<RoleGrant>) -> Actor {
        Actor {
            user_uuid: Uuid::now_v7(),
            username: "user".into(),
            email: "user@example.org".into(),
            full_name: "A User".into(),
            is_staff: false,
            is_support: false,
            grants,
        }
    }

    #[test]
    fn call_manager_manages_only_that_call() {
        let call = Uuid::now_v7();
        let customer = Uuid::now_v7();
        let manager = actor(vec![RoleGrant::Call {
            call_uuid: call,
            role: CallRole::Manager,
        }]);

        assert!(manager.manages_call(call, customer));
        assert!(!manager.manages_call(Uuid::now_v7(), customer));
    }

    #[test]
    fn organisation_manager_manages_its_calls() {
        let customer = Uuid::now_v7();
        let owner = actor(vec![RoleGrant::Customer {
            customer_uuid: customer,
            role: CustomerRole::Owner,
        }]);
        let member = actor(vec![RoleGrant::Customer {
            customer_uuid: customer,
            role: CustomerRole::Member,
        }]);

        assert!(owner.manages_call(Uuid::now_v7(), customer));
        assert!(!member.manages_call(Uuid::now_v7(), customer));
        assert!(member.reads_call(Uuid::now_v7(), customer));
    }

    #[test]
    fn support_reads_but_does_not_manage() {
        let mut support = actor(vec![]);
        support.is_support = true;

        assert!(support.reads_call(Uuid::now_v7(), Uuid::now_v7()));
        assert!(!support.manages_call(Uuid::now_v7(), Uuid::now_v7()));
    }
}
