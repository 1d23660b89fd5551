//! Naming the conflicts of a large call: `conflicts::views` binds each distinct key once, so
//! more conflicts than a statement may have bind parameters still load.

use chrono::Utc;
use referee_domain::enums::{CoiSeverity, CoiStatus, CoiType, DetectionMethod};
use referee_store::conflicts::{self, Conflict};
use referee_store::{AnyConnection, DatabaseUrl, run_migrations};
use referee_testing::TestDatabase;
use uuid::Uuid;

/// More conflicts than SQLite accepts bind parameters in one statement (32766).
const CONFLICTS: usize = 70_000;

fn migrated(database: &TestDatabase) -> AnyConnection {
    let mut connection = DatabaseUrl::parse(database.url())
        .unwrap()
        .establish()
        .expect("connecting");
    run_migrations(&mut connection).expect("migrating");
    connection
}

/// Conflicts of one reviewer in one call, one per proposal of `proposals`, repeated up to
/// [`CONFLICTS`]. No row they name exists, so every name comes back empty.
fn conflicts(proposals: &[Uuid]) -> Vec<Conflict> {
    let call_uuid = Uuid::now_v7();
    let reviewer_uuid = Uuid::now_v7();
    let now = Utc::now();
    (0..CONFLICTS)
        .map(|index| Conflict {
            uuid: Uuid::now_v7(),
            call_uuid,
            reviewer_uuid,
            proposal_uuid: Some(proposals[index % proposals.len()]),
            conflicting_user_uuid: None,
            conflicting_organization_uuid: None,
            coi_type: CoiType::CoauthOld,
            severity: CoiSeverity::Potential,
            detection_method: DetectionMethod::Automated,
            detected_at: now,
            evidence_description: String::new(),
            evidence_data: "{}".to_owned(),
            status: CoiStatus::Pending,
            reviewed_by_uuid: None,
            reviewed_at: None,
            review_notes: String::new(),
            management_plan: String::new(),
            created: now,
            modified: now,
        })
        .collect()
}

fn check_views_of_many_conflicts(database: &TestDatabase) {
    let mut connection = migrated(database);
    let proposals: Vec<Uuid> = (0..1000).map(|_| Uuid::now_v7()).collect();

    let views =
        conflicts::views(&mut connection, conflicts(&proposals)).expect("naming the conflicts");

    assert_eq!(views.len(), CONFLICTS);
    assert_eq!(views[0].reviewer_name, None);
    assert_eq!(views[0].proposal_name, None);
    assert_eq!(views[0].call_name, "");
}

#[test]
fn views_of_many_conflicts_sqlite() {
    check_views_of_many_conflicts(&TestDatabase::sqlite());
}

#[test]
fn views_of_many_conflicts_postgres() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    check_views_of_many_conflicts(&database);
}
