//! `/api/assignment-items/`: listing, the reviewer's answers, the manager's actions, the
//! permission matrix, automatic reassignment and racing requests.

use std::collections::BTreeSet;

use referee_conformance::{CallSetup, ItemSetup, TestApp, TestUser, on_both_backends};
use referee_domain::enums::ItemStatus;
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    item_representation_keys,
    item_list_filters_and_ordering,
    item_list_invalid_filters,
    item_read_permission_matrix,
    item_manager_permission_matrix,
    item_answer_permission_matrix,
    item_update_and_delete,
    item_create_in_draft,
    item_create_refusals,
    item_create_workload_limit,
    item_accept_creates_review,
    item_accept_refusals,
    item_decline_reasons,
    item_status_transitions,
    item_suggest_alternatives_ranking,
    item_suggest_alternatives_refusals,
    item_reassign_success,
    item_reassign_refusals,
    item_reassign_workload_limit,
    item_force_unblock,
    item_batch_completion_reversible,
    item_auto_reassign_with_candidate,
    item_auto_reassign_without_candidate,
    item_methods_not_offered,
    item_concurrent_accepts_one_review,
    item_concurrent_responses_settle_batch,
    item_responses_settle_in_commit_order,
    item_accept_races_decline_and_reassign,
    item_accept_races_force_unblock,
);

const ITEMS: &str = "/api/assignment-items/";

fn item_path(uuid: &str) -> String {
    format!("{ITEMS}{uuid}/")
}

fn action_path(uuid: &str, action: &str) -> String {
    format!("{ITEMS}{uuid}/{action}/")
}

/// A call with three proposals and three reviewers, one sent item (reviewer0, proposal 0)
/// and a user for every role of the permission matrix.
struct World {
    setup: CallSetup,
    item: ItemSetup,
    manager: TestUser,
    owner: TestUser,
    org_manager: TestUser,
    org_member: TestUser,
    support: TestUser,
    applicant: TestUser,
    unrelated: TestUser,
}

impl World {
    fn reviewer(&self) -> &TestUser {
        &self.setup.reviewers[0].user
    }

    fn other_reviewer(&self) -> &TestUser {
        &self.setup.reviewers[1].user
    }

    fn proposal(&self, index: usize) -> String {
        self.setup.proposal_uuid(index)
    }

    /// Every caller of the matrix with its name, in a fixed order.
    fn callers(&self, app: &TestApp) -> Vec<(&'static str, TestUser)> {
        vec![
            ("staff", app.staff.clone()),
            ("support", self.support.clone()),
            ("call manager", self.manager.clone()),
            ("organisation owner", self.owner.clone()),
            ("organisation manager", self.org_manager.clone()),
            ("organisation member", self.org_member.clone()),
            ("item reviewer", self.reviewer().clone()),
            ("other reviewer", self.other_reviewer().clone()),
            ("applicant", self.applicant.clone()),
            ("unrelated", self.unrelated.clone()),
            ("anonymous", TestUser::anonymous()),
        ]
    }
}

async fn world(app: &TestApp) -> World {
    let setup = app.call_setup(3, 3).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;

    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let org_manager = app.user("orgmanager").await;
    app.grant_customer_role(&setup.customer_uuid, &org_manager, "CUSTOMER.MANAGER")
        .await;
    let org_member = app.user("orgmember").await;
    app.grant_customer_role(&setup.customer_uuid, &org_member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let applicant = app.user("applicant").await;
    app.post(
        &applicant,
        "/api/proposal-proposals/",
        json!({"round": setup.round_uuid, "name": "Applicant's proposal"}),
    )
    .await
    .expect(201);
    let unrelated = app.user("unrelated").await;

    World {
        setup,
        item,
        manager,
        owner,
        org_manager,
        org_member,
        support,
        applicant,
        unrelated,
    }
}

/// Creates a second organisation and call with one submitted proposal and one accepted
/// reviewer (`outsider`), and returns the call, proposal and reviewer.
async fn second_call(app: &TestApp) -> (String, String, referee_conformance::PoolMember) {
    let customer = app.customer("Other agency").await;
    let call = app
        .call(customer["uuid"].as_str().unwrap(), "Other call")
        .await;
    let call_uuid = call["uuid"].as_str().unwrap().to_owned();
    let round = app.round(&call_uuid).await;
    let proposal = app
        .proposal(round["uuid"].as_str().unwrap(), "Other proposal")
        .await;
    let member = app.accepted_reviewer(&call_uuid, "outsider").await;
    (
        call_uuid,
        proposal["uuid"].as_str().unwrap().to_owned(),
        member,
    )
}

async fn item_json(app: &TestApp, uuid: &str) -> Value {
    app.get(&app.staff, &item_path(uuid)).await.expect(200).body
}

async fn batch_status(app: &TestApp, batch_uuid: &str) -> String {
    let uuid = uuid::Uuid::try_parse(batch_uuid).unwrap();
    let batch = app
        .state
        .run(move |connection| referee_store::assignments::get_batch(connection, uuid))
        .await
        .unwrap()
        .unwrap();
    batch.status.as_str().to_owned()
}

fn error_code(reply: &referee_conformance::Reply) -> String {
    reply.body["code"].as_str().unwrap_or_default().to_owned()
}

/// Runs one request per caller and returns the statuses by caller name.
async fn statuses(
    app: &TestApp,
    world: &World,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Vec<(&'static str, u16)> {
    let mut seen = Vec::new();
    for (name, user) in world.callers(app) {
        let reply = app
            .request(&user, method.clone(), path, body.as_ref())
            .await;
        seen.push((name, reply.status.as_u16()));
    }
    seen
}

fn expected(table: &[(&'static str, u16)]) -> Vec<(&'static str, u16)> {
    table.to_vec()
}

async fn item_representation_keys(app: TestApp) {
    let world = world(&app).await;
    let response = reqwest::Client::new()
        .get(format!("{}{}", app.base, item_path(&world.item.item_uuid)))
        .header("Authorization", format!("Token {}", app.staff.token))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let keys = [
        "url",
        "uuid",
        "batch",
        "proposal",
        "proposal_uuid",
        "proposal_name",
        "proposal_slug",
        "status",
        "status_display",
        "affinity_score",
        "has_coi",
        "coi_count",
        "responded_at",
        "decline_reason",
        "review",
        "review_uuid",
        "reassign_count",
        "override_reason",
        "overridden_by_name",
        "overridden_at",
        "created",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| {
            text.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("key {key} missing in {text}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "keys out of order: {text}"
    );

    let item: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(item.as_object().unwrap().len(), keys.len());
    assert_eq!(
        item["url"],
        format!("{}{}", app.base, item_path(&world.item.item_uuid))
    );
    assert_eq!(
        item["batch"],
        format!(
            "{}/api/assignment-batches/{}/",
            app.base, world.item.batch_uuid
        )
    );
    assert_eq!(
        item["proposal"],
        format!("{}/api/proposal-proposals/{}/", app.base, world.proposal(0))
    );
    assert_eq!(item["proposal_name"], "Proposal 0");
    assert_eq!(item["proposal_slug"], world.setup.proposals[0]["slug"]);
    assert_eq!(item["status"], "pending");
    assert_eq!(item["status_display"], "Awaiting response");
    assert_eq!(item["affinity_score"], Value::Null);
    assert_eq!(item["has_coi"], false);
    assert_eq!(item["coi_count"], 0);
    assert_eq!(item["responded_at"], Value::Null);
    assert_eq!(item["decline_reason"], "");
    assert_eq!(item["review"], Value::Null);
    assert_eq!(item["review_uuid"], Value::Null);
    assert_eq!(item["reassign_count"], 0);
    assert_eq!(item["override_reason"], "");
    assert_eq!(item["overridden_by_name"], "");
    assert_eq!(item["overridden_at"], Value::Null);
    assert!(item["created"].as_str().unwrap().ends_with("+00:00"));

    let accepted = app
        .post(
            world.reviewer(),
            &action_path(&world.item.item_uuid, "accept"),
            json!({}),
        )
        .await
        .expect(200);
    let review_uuid = accepted.str("review_uuid");
    let item = item_json(&app, &world.item.item_uuid).await;
    assert_eq!(item["review_uuid"], review_uuid);
    assert_eq!(
        item["review"],
        format!("{}/api/proposal-reviews/{review_uuid}/", app.base)
    );
    assert!(item["responded_at"].as_str().unwrap().ends_with("+00:00"));
}

async fn item_list_filters_and_ordering(app: TestApp) {
    let setup = app.call_setup(3, 3).await;
    let call = &setup.call_uuid;
    let first = app
        .sent_item(call, &setup.reviewers[0], &setup.proposal_uuid(0))
        .await;
    let second = app
        .sent_item(call, &setup.reviewers[1], &setup.proposal_uuid(0))
        .await;
    let blocked_member = app
        .conflicted_reviewer(call, "blocked", &setup.proposal_uuid(1))
        .await;
    let blocked = app
        .draft_item(call, &blocked_member, &setup.proposal_uuid(1))
        .await;
    app.cache_affinity(call, &setup.reviewers[2], &setup.proposal_uuid(0), 0.8)
        .await;
    let draft = app
        .draft_item(call, &setup.reviewers[2], &setup.proposal_uuid(2))
        .await;
    // Items created by the store core carry no score; reassignment copies the cached one.
    app.post(
        &setup.reviewers[1].user,
        &action_path(&second.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);
    let reassigned = app
        .post(
            &app.staff,
            &action_path(&second.item_uuid, "reassign"),
            json!({"reviewer_pool_entry_uuid": setup.reviewers[2].entry_uuid()}),
        )
        .await
        .expect(200);
    let scored = reassigned.str("new_item_uuid");
    let (other_call, other_proposal, other_member) = second_call(&app).await;
    app.sent_item(&other_call, &other_member, &other_proposal)
        .await;

    let uuids = |reply: &referee_conformance::Reply| -> Vec<String> {
        reply
            .array()
            .iter()
            .map(|item| item["uuid"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app.get(&app.staff, ITEMS).await.expect(200);
    assert_eq!(all.count(), 6);

    let in_call = app
        .get(&app.staff, &format!("{ITEMS}?call_uuid={call}"))
        .await
        .expect(200);
    assert_eq!(in_call.count(), 5);
    let listed = uuids(&in_call);
    assert_eq!(listed[0], scored, "default ordering is newest first");
    assert_eq!(listed[4], first.item_uuid);

    let by_batch = app
        .get(
            &app.staff,
            &format!("{ITEMS}?batch_uuid={}", first.batch_uuid),
        )
        .await
        .expect(200);
    assert_eq!(uuids(&by_batch), vec![first.item_uuid.clone()]);
    let by_proposal = app
        .get(
            &app.staff,
            &format!("{ITEMS}?proposal_uuid={}", setup.proposal_uuid(0)),
        )
        .await
        .expect(200);
    assert_eq!(by_proposal.count(), 3);
    let by_reviewer = app
        .get(
            &app.staff,
            &format!(
                "{ITEMS}?reviewer_uuid={}",
                setup.reviewers[2].profile_uuid()
            ),
        )
        .await
        .expect(200);
    assert_eq!(by_reviewer.count(), 2);
    let by_status = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&status=pending&status=coi_blocked"),
        )
        .await
        .expect(200);
    assert_eq!(by_status.count(), 4);
    let reassigned_only = app
        .get(&app.staff, &format!("{ITEMS}?status=reassigned"))
        .await
        .expect(200);
    assert_eq!(uuids(&reassigned_only), vec![second.item_uuid.clone()]);

    for (value, count) in [
        ("true", 1),
        ("True", 1),
        ("false", 5),
        ("False", 5),
        ("1", 6),
        ("yes", 6),
    ] {
        let reply = app
            .get(&app.staff, &format!("{ITEMS}?has_coi={value}"))
            .await
            .expect(200);
        assert_eq!(reply.count(), count, "has_coi={value}");
    }
    let blocked_list = app
        .get(&app.staff, &format!("{ITEMS}?has_coi=true"))
        .await
        .expect(200);
    assert_eq!(uuids(&blocked_list), vec![blocked.item_uuid.clone()]);

    let scored_list = app
        .get(&app.staff, &format!("{ITEMS}?min_affinity_score=0.5"))
        .await
        .expect(200);
    assert_eq!(uuids(&scored_list), vec![scored.clone()]);
    let exact = app
        .get(&app.staff, &format!("{ITEMS}?min_affinity_score=0.8"))
        .await
        .expect(200);
    assert_eq!(exact.count(), 1, "the minimum is inclusive");
    let none = app
        .get(&app.staff, &format!("{ITEMS}?min_affinity_score=0.9"))
        .await
        .expect(200);
    assert_eq!(none.count(), 0);
    let zero = app
        .get(&app.staff, &format!("{ITEMS}?min_affinity_score=0"))
        .await
        .expect(200);
    assert_eq!(zero.count(), 1, "items without a score never match");

    let by_score = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&o=-affinity_score"),
        )
        .await
        .expect(200);
    assert_eq!(
        uuids(&by_score).last().unwrap(),
        &scored,
        "descending puts missing scores first"
    );
    let by_score = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&o=affinity_score"),
        )
        .await
        .expect(200);
    assert_eq!(
        uuids(&by_score)[0],
        scored,
        "ascending puts missing scores last"
    );
    let by_created = app
        .get(&app.staff, &format!("{ITEMS}?call_uuid={call}&o=created"))
        .await
        .expect(200);
    assert_eq!(uuids(&by_created)[0], first.item_uuid);
    let by_status = app
        .get(&app.staff, &format!("{ITEMS}?call_uuid={call}&o=status"))
        .await
        .expect(200);
    let statuses: Vec<&str> = by_status
        .array()
        .iter()
        .map(|item| item["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["coi_blocked", "pending", "pending", "pending", "reassigned"]
    );
    let by_response = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&o=-responded_at"),
        )
        .await
        .expect(200);
    assert_eq!(by_response.array().len(), 5);
    let by_response = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&o=responded_at"),
        )
        .await
        .expect(200);
    assert_eq!(
        uuids(&by_response)[0],
        second.item_uuid,
        "the only answered item comes first"
    );

    let paged = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&page_size=2&page=2"),
        )
        .await
        .expect(200);
    assert_eq!(paged.array().len(), 2);
    assert_eq!(paged.count(), 5);
    assert!(paged.header("link").contains("rel=\"next\""));
    app.get(&app.staff, &format!("{ITEMS}?page=9"))
        .await
        .expect(404);

    let head = app
        .head(
            &app.staff,
            &format!("{ITEMS}?call_uuid={call}&status=pending"),
        )
        .await
        .expect(200);
    assert_eq!(head.count(), 3);
    assert_eq!(head.body, Value::Null);
    let _ = draft;
}

async fn item_list_invalid_filters(app: TestApp) {
    for (query, field) in [
        ("batch_uuid=nope", "batch_uuid"),
        ("call_uuid=123", "call_uuid"),
        ("proposal_uuid=x", "proposal_uuid"),
        ("reviewer_uuid=x", "reviewer_uuid"),
        ("status=waiting", "status"),
        ("min_affinity_score=high", "min_affinity_score"),
        ("o=name", "o"),
    ] {
        let reply = app
            .get(&app.staff, &format!("{ITEMS}?{query}"))
            .await
            .expect(400);
        assert!(reply.body[field].is_array(), "{query}: {}", reply.body);
        app.head(&app.staff, &format!("{ITEMS}?{query}"))
            .await
            .expect(400);
    }
    app.get(&TestUser::anonymous(), ITEMS).await.expect(401);
    app.head(&TestUser::anonymous(), ITEMS).await.expect(401);
}

async fn item_read_permission_matrix(app: TestApp) {
    let world = world(&app).await;
    let draft = app
        .draft_item(
            &world.setup.call_uuid,
            &world.setup.reviewers[0],
            &world.proposal(1),
        )
        .await;
    let path = item_path(&world.item.item_uuid);

    let seen = statuses(&app, &world, Method::GET, &path, None).await;
    assert_eq!(
        seen,
        expected(&[
            ("staff", 200),
            ("support", 200),
            ("call manager", 200),
            ("organisation owner", 200),
            ("organisation manager", 200),
            ("organisation member", 404),
            ("item reviewer", 200),
            ("other reviewer", 404),
            ("applicant", 404),
            ("unrelated", 404),
            ("anonymous", 401),
        ])
    );

    let mut counts = Vec::new();
    for (name, user) in world.callers(&app) {
        let reply = app.get(&user, ITEMS).await;
        counts.push((
            name,
            if reply.status == 200 {
                reply.count()
            } else {
                -i64::from(reply.status.as_u16())
            },
        ));
    }
    assert_eq!(
        counts,
        vec![
            ("staff", 2),
            ("support", 2),
            ("call manager", 2),
            ("organisation owner", 2),
            ("organisation manager", 2),
            ("organisation member", 0),
            ("item reviewer", 1),
            ("other reviewer", 0),
            ("applicant", 0),
            ("unrelated", 0),
            ("anonymous", -401),
        ]
    );

    // Items of a draft batch stay hidden from the reviewer.
    app.get(world.reviewer(), &item_path(&draft.item_uuid))
        .await
        .expect(404);
    app.get(&world.manager, &item_path(&draft.item_uuid))
        .await
        .expect(200);
    app.get(
        &app.staff,
        &item_path(&uuid::Uuid::now_v7().simple().to_string()),
    )
    .await
    .expect(404);
    app.get(&app.staff, &item_path("not-a-uuid"))
        .await
        .expect(404);
}

async fn item_manager_permission_matrix(app: TestApp) {
    let world = world(&app).await;
    let uuid = world.item.item_uuid.clone();
    let allowed = |ok: u16| {
        expected(&[
            ("staff", ok),
            ("support", 403),
            ("call manager", ok),
            ("organisation owner", ok),
            ("organisation manager", ok),
            ("organisation member", 404),
            ("item reviewer", 403),
            ("other reviewer", 404),
            ("applicant", 404),
            ("unrelated", 404),
            ("anonymous", 401),
        ])
    };

    let seen = statuses(
        &app,
        &world,
        Method::PATCH,
        &item_path(&uuid),
        Some(json!({"decline_reason": "x"})),
    )
    .await;
    assert_eq!(seen, allowed(200));
    let seen = statuses(
        &app,
        &world,
        Method::PUT,
        &item_path(&uuid),
        Some(json!({"decline_reason": "y"})),
    )
    .await;
    assert_eq!(seen, allowed(200));
    // The actions below pass the permission check and then refuse the pending item.
    let seen = statuses(
        &app,
        &world,
        Method::GET,
        &action_path(&uuid, "suggest_alternatives"),
        None,
    )
    .await;
    assert_eq!(seen, allowed(400));
    let body = json!({"reviewer_pool_entry_uuid": world.setup.reviewers[1].entry_uuid()});
    let seen = statuses(
        &app,
        &world,
        Method::POST,
        &action_path(&uuid, "reassign"),
        Some(body),
    )
    .await;
    assert_eq!(seen, allowed(400));
    let body = json!({"override_reason": "Checked"});
    let seen = statuses(
        &app,
        &world,
        Method::POST,
        &action_path(&uuid, "force-unblock"),
        Some(body),
    )
    .await;
    assert_eq!(seen, allowed(400));

    // Create: a duplicate pair passes the permission check and is refused on `proposal`;
    // a caller who cannot see the draft batch is refused on `batch`.
    let draft = app
        .draft_item(
            &world.setup.call_uuid,
            &world.setup.reviewers[1],
            &world.proposal(1),
        )
        .await;
    let body = json!({"batch": draft.batch_uuid, "proposal": world.proposal(1)});
    let mut seen = Vec::new();
    for (name, user) in world.callers(&app) {
        let reply = app.post(&user, ITEMS, body.clone()).await;
        let field = ["batch", "proposal"]
            .into_iter()
            .find(|field| reply.body[*field].is_array())
            .unwrap_or("");
        seen.push((name, reply.status.as_u16(), field));
    }
    assert_eq!(
        seen,
        vec![
            ("staff", 400, "proposal"),
            ("support", 403, ""),
            ("call manager", 400, "proposal"),
            ("organisation owner", 400, "proposal"),
            ("organisation manager", 400, "proposal"),
            ("organisation member", 400, "batch"),
            ("item reviewer", 400, "batch"),
            ("other reviewer", 400, "batch"),
            ("applicant", 400, "batch"),
            ("unrelated", 400, "batch"),
            ("anonymous", 401, ""),
        ]
    );

    // Delete: every refusal leaves the item; then each manager deletes one item.
    let mut refusals = Vec::new();
    for (name, user) in world.callers(&app) {
        if [
            "staff",
            "call manager",
            "organisation owner",
            "organisation manager",
        ]
        .contains(&name)
        {
            continue;
        }
        refusals.push((
            name,
            app.delete(&user, &item_path(&uuid)).await.status.as_u16(),
        ));
    }
    assert_eq!(
        refusals,
        expected(&[
            ("support", 403),
            ("organisation member", 404),
            ("item reviewer", 403),
            ("other reviewer", 404),
            ("applicant", 404),
            ("unrelated", 404),
            ("anonymous", 401),
        ])
    );
    app.delete(&app.staff, &item_path(&uuid)).await.expect(204);
    app.get(&app.staff, &item_path(&uuid)).await.expect(404);
    for (index, user) in [&world.manager, &world.owner, &world.org_manager]
        .into_iter()
        .enumerate()
    {
        let extra = app
            .draft_item(
                &world.setup.call_uuid,
                &world.setup.reviewers[2],
                &world.proposal(index),
            )
            .await;
        app.delete(user, &item_path(&extra.item_uuid))
            .await
            .expect(204);
    }
}

async fn item_answer_permission_matrix(app: TestApp) {
    let world = world(&app).await;
    for action in ["accept", "decline"] {
        let seen = statuses(
            &app,
            &world,
            Method::POST,
            &action_path(&world.item.item_uuid, action),
            Some(json!({})),
        )
        .await;
        let mut table = expected(&[
            ("staff", 403),
            ("support", 403),
            ("call manager", 403),
            ("organisation owner", 403),
            ("organisation manager", 403),
            ("organisation member", 404),
            ("item reviewer", 200),
            ("other reviewer", 404),
            ("applicant", 404),
            ("unrelated", 404),
            ("anonymous", 401),
        ]);
        if action == "decline" {
            // The item was accepted in the first round.
            table[6] = ("item reviewer", 400);
        }
        assert_eq!(seen, table, "{action}");
    }
    let refused = app
        .post(
            &world.manager,
            &action_path(&world.item.item_uuid, "accept"),
            json!({}),
        )
        .await
        .expect(403);
    let detail = refused.str("detail");
    assert!(
        detail.contains("reassign") && detail.contains("force-unblock"),
        "{detail}"
    );
    assert_eq!(app.review_count(&world.proposal(0)).await, 1);
}

async fn item_update_and_delete(app: TestApp) {
    let world = world(&app).await;
    let path = item_path(&world.item.item_uuid);
    let before = item_json(&app, &world.item.item_uuid).await;

    let patched = app
        .patch(&world.manager, &path, json!({"decline_reason": "Out of scope", "status": "accepted", "has_coi": true, "reassign_count": 7}))
        .await
        .expect(200);
    assert_eq!(patched.body["decline_reason"], "Out of scope");
    assert_eq!(patched.body["status"], "pending");
    assert_eq!(patched.body["has_coi"], false);
    assert_eq!(patched.body["reassign_count"], 0);

    let put = app
        .put(&world.manager, &path, json!({"decline_reason": ""}))
        .await
        .expect(200);
    assert_eq!(put.body["decline_reason"], "");
    let unchanged = app
        .patch(&world.manager, &path, json!({}))
        .await
        .expect(200);
    assert_eq!(unchanged.body["decline_reason"], "");

    let refused = app
        .patch(&world.manager, &path, json!({"decline_reason": 5}))
        .await
        .expect(400);
    assert!(refused.body["decline_reason"].is_array());
    app.put(&world.manager, &path, json!({"decline_reason": ["a"]}))
        .await
        .expect(400);
    assert_eq!(
        item_json(&app, &world.item.item_uuid).await["status"],
        before["status"]
    );
    app.patch(&app.staff, &item_path("0123"), json!({}))
        .await
        .expect(404);

    let actions: Vec<String> = app
        .audit_actions(&world.item.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(actions.contains(&"item.updated".to_owned()), "{actions:?}");

    app.delete(&world.manager, &path).await.expect(204);
    app.get(&app.staff, &path).await.expect(404);
    app.delete(&world.manager, &path).await.expect(404);
    let actions: Vec<String> = app
        .audit_actions(&world.item.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(actions.last().unwrap(), "item.deleted");
}

async fn item_create_in_draft(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let draft = app
        .draft_item(call, &world.setup.reviewers[1], &world.proposal(0))
        .await;

    let created = app
        .post(
            &world.manager,
            ITEMS,
            json!({
                "batch": format!("{}/api/assignment-batches/{}/", app.base, draft.batch_uuid),
                "proposal": format!("{}/api/proposal-proposals/{}/", app.base, world.proposal(1)),
                "decline_reason": "ignored",
            }),
        )
        .await
        .expect(201);
    assert_eq!(created.body["status"], "pending");
    assert_eq!(created.body["decline_reason"], "");
    assert_eq!(created.body["proposal_uuid"], world.proposal(1));
    assert_eq!(
        created.body["batch"],
        format!("{}/api/assignment-batches/{}/", app.base, draft.batch_uuid)
    );
    assert_eq!(created.body["affinity_score"], Value::Null);
    let fetched = item_json(&app, &created.str("uuid")).await;
    assert_eq!(fetched, created.body);

    // A reviewer with a blocking conflict gets a COI-blocked item with the conflict linked.
    let conflicted = app
        .conflicted_reviewer(call, "conflicted", &world.proposal(2))
        .await;
    let conflicted_draft = app.draft_item(call, &conflicted, &world.proposal(0)).await;
    let blocked = app
        .post(
            &app.staff,
            ITEMS,
            json!({"batch": conflicted_draft.batch_uuid, "proposal": world.proposal(2)}),
        )
        .await
        .expect(201);
    assert_eq!(blocked.body["status"], "coi_blocked");
    assert_eq!(blocked.body["has_coi"], true);
    assert_eq!(blocked.body["coi_count"], 1);

    let actions: Vec<String> = app
        .audit_actions(&created.str("uuid"))
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(actions, vec!["item.created".to_owned()]);
}

async fn item_create_refusals(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let draft = app
        .draft_item(call, &world.setup.reviewers[1], &world.proposal(0))
        .await;
    let (_, other_proposal, _) = second_call(&app).await;
    let before = app.get(&app.staff, ITEMS).await.expect(200).count();

    let cases = [
        (json!({"proposal": world.proposal(1)}), "batch"),
        (json!({"batch": draft.batch_uuid}), "proposal"),
        (
            json!({"batch": "nope", "proposal": world.proposal(1)}),
            "batch",
        ),
        (
            json!({"batch": draft.batch_uuid, "proposal": 12}),
            "proposal",
        ),
        (
            json!({"batch": uuid::Uuid::now_v7().simple().to_string(), "proposal": world.proposal(1)}),
            "batch",
        ),
        (
            json!({"batch": world.item.batch_uuid, "proposal": world.proposal(1)}),
            "batch",
        ),
        (
            json!({"batch": draft.batch_uuid, "proposal": other_proposal}),
            "proposal",
        ),
        (
            json!({"batch": draft.batch_uuid, "proposal": uuid::Uuid::now_v7().simple().to_string()}),
            "proposal",
        ),
        (
            json!({"batch": draft.batch_uuid, "proposal": world.proposal(0)}),
            "proposal",
        ),
        (
            json!({"batch": draft.batch_uuid, "proposal": world.proposal(1), "override_workload_limit": "maybe"}),
            "override_workload_limit",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .post(&world.manager, ITEMS, body.clone())
            .await
            .expect(400);
        assert!(reply.body[field].is_array(), "{body}: {}", reply.body);
    }

    // The reviewer already holds a pending item for the proposal in a sent batch.
    let reviewer0_draft = app
        .draft_item(call, &world.setup.reviewers[0], &world.proposal(1))
        .await;
    let reply = app
        .post(
            &world.manager,
            ITEMS,
            json!({"batch": reviewer0_draft.batch_uuid, "proposal": world.proposal(0)}),
        )
        .await
        .expect(400);
    assert!(
        reply.body["proposal"][0]
            .as_str()
            .unwrap()
            .contains(&world.item.batch_uuid)
    );

    app.post(&TestUser::anonymous(), ITEMS, json!({}))
        .await
        .expect(401);
    let after = app.get(&app.staff, ITEMS).await.expect(200).count();
    assert_eq!(after, before + 1, "only the fixture's draft item was added");
}

async fn item_create_workload_limit(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let member = &world.setup.reviewers[1];
    app.patch(
        &app.staff,
        &format!("/api/call-reviewer-pools/{}/", member.entry_uuid()),
        json!({"max_assignments": 1}),
    )
    .await
    .expect(200);
    let draft = app.draft_item(call, member, &world.proposal(0)).await;

    let refused = app
        .post(
            &world.manager,
            ITEMS,
            json!({"batch": draft.batch_uuid, "proposal": world.proposal(1)}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&refused), "workload_limit_exceeded");
    let message = refused.str("error");
    assert!(message.contains("reviewer1 Example"), "{message}");
    assert!(
        message.contains("1 open assignments") && message.contains("limit of 1"),
        "{message}"
    );
    assert!(message.contains("override_workload_limit"), "{message}");
    let in_batch = app
        .get(
            &app.staff,
            &format!("{ITEMS}?batch_uuid={}", draft.batch_uuid),
        )
        .await
        .expect(200);
    assert_eq!(in_batch.count(), 1);

    let created = app
        .post(
            &world.manager,
            ITEMS,
            json!({"batch": draft.batch_uuid, "proposal": world.proposal(1), "override_workload_limit": true}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["status"], "pending");
    let events = app.audit_actions(&member.entry_uuid()).await;
    let (_, reason) = events
        .iter()
        .find(|(action, _)| action == "pool_entry.workload_limit_overridden")
        .expect("the override is audited");
    assert!(reason.contains("limit of 1"), "{reason}");

    // A COI-blocked item does not count against the limit.
    let conflicted = app
        .conflicted_reviewer(call, "busy", &world.proposal(2))
        .await;
    app.patch(
        &app.staff,
        &format!("/api/call-reviewer-pools/{}/", conflicted.entry_uuid()),
        json!({"max_assignments": 1}),
    )
    .await
    .expect(200);
    let busy = app.draft_item(call, &conflicted, &world.proposal(0)).await;
    app.post(
        &world.manager,
        ITEMS,
        json!({"batch": busy.batch_uuid, "proposal": world.proposal(2)}),
    )
    .await
    .expect(201);
}

async fn item_accept_creates_review(app: TestApp) {
    let world = world(&app).await;
    let second = app
        .draft_item(
            &world.setup.call_uuid,
            &world.setup.reviewers[0],
            &world.proposal(1),
        )
        .await;
    assert_ne!(
        second.batch_uuid, world.item.batch_uuid,
        "the sent batch is not a draft any more"
    );
    let _ = second;

    let accepted = app
        .post(
            world.reviewer(),
            &action_path(&world.item.item_uuid, "accept"),
            Value::Null,
        )
        .await
        .expect(200);
    assert_eq!(
        accepted.body["detail"],
        "Assignment accepted. Review created."
    );
    let review_uuid = accepted.str("review_uuid");
    assert_eq!(review_uuid.len(), 32);

    let item = item_json(&app, &world.item.item_uuid).await;
    assert_eq!(item["status"], "accepted");
    assert_eq!(item["review_uuid"], review_uuid);
    assert_eq!(app.review_count(&world.proposal(0)).await, 1);
    assert_eq!(
        batch_status(&app, &world.item.batch_uuid).await,
        "responded"
    );

    let review = app
        .state
        .run(move |connection| {
            referee_store::assignments::get_review(
                connection,
                uuid::Uuid::try_parse(&review_uuid).unwrap(),
            )
        })
        .await
        .unwrap()
        .expect("the review exists");
    assert_eq!(review.state.as_str(), "in_review");
    assert_eq!(
        review.reviewer_user_uuid.simple().to_string(),
        world.reviewer().uuid
    );
    assert!(review.review_end_date.is_some());

    let again = app
        .post(
            world.reviewer(),
            &action_path(&world.item.item_uuid, "accept"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&again), "item_not_pending");
    assert_eq!(app.review_count(&world.proposal(0)).await, 1);
    let actions: Vec<String> = app
        .audit_actions(&world.item.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(actions.contains(&"item.accepted".to_owned()));
}

async fn item_accept_refusals(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let reviewer = world.reviewer();

    // A passed deadline wins over every other check.
    app.pass_batch_deadline(&world.item.batch_uuid).await;
    for action in ["accept", "decline"] {
        let refused = app
            .post(
                reviewer,
                &action_path(&world.item.item_uuid, action),
                json!({}),
            )
            .await
            .expect(400);
        assert_eq!(error_code(&refused), "assignment_expired");
        assert!(refused.str("error").contains(action), "{}", refused.body);
    }
    assert_eq!(
        item_json(&app, &world.item.item_uuid).await["status"],
        "pending"
    );

    // A COI-blocked item is not pending.
    let conflicted = app
        .conflicted_reviewer(call, "conflicted", &world.proposal(1))
        .await;
    let blocked = app.sent_item(call, &conflicted, &world.proposal(1)).await;
    for action in ["accept", "decline"] {
        let refused = app
            .post(
                &conflicted.user,
                &action_path(&blocked.item_uuid, action),
                json!({}),
            )
            .await
            .expect(400);
        assert_eq!(error_code(&refused), "item_not_pending");
    }

    // Drafts are invisible to their reviewer.
    let draft = app
        .draft_item(call, &world.setup.reviewers[1], &world.proposal(2))
        .await;
    app.post(
        world.other_reviewer(),
        &action_path(&draft.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(404);
    app.post(
        &app.staff,
        &action_path(&draft.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(403);
    app.post(
        &app.staff,
        &action_path(&uuid::Uuid::now_v7().simple().to_string(), "accept"),
        json!({}),
    )
    .await
    .expect(404);
    app.post(
        &TestUser::anonymous(),
        &action_path(&draft.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(401);
    assert_eq!(app.review_count(&world.proposal(2)).await, 0);
    assert_eq!(app.review_count(&world.proposal(0)).await, 0);
}

async fn item_decline_reasons(app: TestApp) {
    let setup = app.call_setup(3, 1).await;
    let member = &setup.reviewers[0];
    let mut items = Vec::new();
    for index in 0..3 {
        items.push(
            app.draft_item(&setup.call_uuid, member, &setup.proposal_uuid(index))
                .await,
        );
    }
    app.send_batch_directly(&items[0].batch_uuid).await;

    let refused = app
        .post(
            &member.user,
            &action_path(&items[0].item_uuid, "decline"),
            json!({"reason": 3}),
        )
        .await
        .expect(400);
    assert!(refused.body["reason"].is_array());
    assert_eq!(
        item_json(&app, &items[0].item_uuid).await["status"],
        "pending"
    );

    let declined = app
        .post(
            &member.user,
            &action_path(&items[0].item_uuid, "decline"),
            json!({"reason": "Too busy this month"}),
        )
        .await
        .expect(200);
    assert_eq!(
        declined.body,
        json!({"detail": "Assignment declined.", "review_uuid": null})
    );
    let item = item_json(&app, &items[0].item_uuid).await;
    assert_eq!(item["status"], "declined");
    assert_eq!(item["decline_reason"], "Too busy this month");
    assert!(item["responded_at"].is_string());
    assert_eq!(batch_status(&app, &items[0].batch_uuid).await, "sent");

    app.post(
        &member.user,
        &action_path(&items[1].item_uuid, "decline"),
        json!({"reason": ""}),
    )
    .await
    .expect(200);
    assert_eq!(batch_status(&app, &items[0].batch_uuid).await, "sent");
    app.request(
        &member.user,
        Method::POST,
        &action_path(&items[2].item_uuid, "decline"),
        None,
    )
    .await
    .expect(200);
    assert_eq!(
        item_json(&app, &items[2].item_uuid).await["decline_reason"],
        ""
    );
    assert_eq!(batch_status(&app, &items[0].batch_uuid).await, "responded");

    let again = app
        .post(
            &member.user,
            &action_path(&items[0].item_uuid, "decline"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&again), "item_not_pending");
    assert_eq!(app.review_count(&setup.proposal_uuid(0)).await, 0);
}

async fn item_status_transitions(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let target = world.setup.reviewers[2].entry_uuid();
    let reviewer = world.reviewer();
    let blocked_member = app
        .conflicted_reviewer(call, "blocked", &world.proposal(1))
        .await;

    // (start status, action, expected reply status, expected item status afterwards)
    let table: Vec<(ItemStatus, &str, u16, &str)> = vec![
        (ItemStatus::Pending, "accept", 200, "accepted"),
        (ItemStatus::Pending, "decline", 200, "declined"),
        (ItemStatus::Pending, "reassign", 400, "pending"),
        (ItemStatus::Pending, "force-unblock", 400, "pending"),
        (ItemStatus::Accepted, "decline", 400, "accepted"),
        (ItemStatus::Accepted, "reassign", 400, "accepted"),
        (ItemStatus::Declined, "accept", 400, "declined"),
        (ItemStatus::Declined, "reassign", 200, "reassigned"),
        (ItemStatus::Expired, "accept", 400, "expired"),
        (ItemStatus::Expired, "reassign", 200, "reassigned"),
        (ItemStatus::Reassigned, "reassign", 400, "reassigned"),
        (ItemStatus::Reassigned, "accept", 400, "reassigned"),
        (ItemStatus::CoiBlocked, "accept", 400, "coi_blocked"),
        (ItemStatus::CoiBlocked, "reassign", 400, "coi_blocked"),
        (ItemStatus::CoiBlocked, "force-unblock", 200, "pending"),
    ];
    for (index, (start, action, reply_status, after)) in table.into_iter().enumerate() {
        let (item, user) = if start == ItemStatus::CoiBlocked {
            (
                app.sent_item(call, &blocked_member, &world.proposal(1))
                    .await,
                blocked_member.user.clone(),
            )
        } else {
            let fresh = app
                .accepted_reviewer(call, &format!("transition{index}"))
                .await;
            let item = app.sent_item(call, &fresh, &world.proposal(2)).await;
            app.force_item_status(&item.item_uuid, start).await;
            (item, fresh.user.clone())
        };
        let (caller, body) = match action {
            "accept" | "decline" => (user.clone(), json!({})),
            "reassign" => (
                app.staff.clone(),
                json!({"reviewer_pool_entry_uuid": target}),
            ),
            _ => (
                app.staff.clone(),
                json!({"override_reason": "Reviewed by the panel chair"}),
            ),
        };
        let reply = app
            .post(&caller, &action_path(&item.item_uuid, action), body)
            .await;
        assert_eq!(
            reply.status.as_u16(),
            reply_status,
            "{start:?} {action}: {}",
            reply.body
        );
        assert_eq!(
            item_json(&app, &item.item_uuid).await["status"],
            after,
            "{start:?} {action}"
        );
        if reply_status == 200 && action == "reassign" {
            // Each target reviewer takes a proposal once.
            let new_item = reply.str("new_item_uuid");
            app.delete(&app.staff, &item_path(&new_item))
                .await
                .expect(204);
        }
        if start == ItemStatus::CoiBlocked {
            app.delete(&app.staff, &item_path(&item.item_uuid))
                .await
                .expect(204);
        }
    }
    let _ = reviewer;
}

async fn item_suggest_alternatives_ranking(app: TestApp) {
    let setup = app.call_setup(2, 6).await;
    let call = &setup.call_uuid;
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(call, &setup.reviewers[0], &proposal).await;
    app.post(
        &setup.reviewers[0].user,
        &action_path(&item.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);

    // reviewer1 already has the proposal; `conflicted` has a blocking conflict on it and
    // `invited` has not accepted, so neither is suggested.
    app.draft_item(call, &setup.reviewers[1], &proposal).await;
    let conflicted = app.conflicted_reviewer(call, "conflicted", &proposal).await;
    let invited = app.invited_reviewer(call, "invited").await;
    // reviewer3: high affinity but full; reviewer4: medium affinity; reviewer2 and reviewer5:
    // no affinity, reviewer5 with one open assignment.
    app.cache_affinity(call, &setup.reviewers[3], &proposal, 0.9)
        .await;
    app.cache_affinity(call, &setup.reviewers[4], &proposal, 0.5)
        .await;
    app.cache_affinity(call, &setup.reviewers[0], &proposal, 0.99)
        .await;
    app.patch(
        &app.staff,
        &format!(
            "/api/call-reviewer-pools/{}/",
            setup.reviewers[3].entry_uuid()
        ),
        json!({"max_assignments": 1}),
    )
    .await
    .expect(200);
    app.draft_item(call, &setup.reviewers[3], &setup.proposal_uuid(1))
        .await;
    app.draft_item(call, &setup.reviewers[5], &setup.proposal_uuid(1))
        .await;
    let _ = (conflicted, invited);

    let reply = app
        .get(
            &app.staff,
            &action_path(&item.item_uuid, "suggest_alternatives"),
        )
        .await
        .expect(200);
    let suggestions = reply.body["suggestions"].as_array().unwrap().clone();
    let order: Vec<String> = suggestions
        .iter()
        .map(|s| s["pool_entry_uuid"].as_str().unwrap().to_owned())
        .collect();
    let expected_order: Vec<String> = [4, 2, 5, 3]
        .iter()
        .map(|index| setup.reviewers[*index].entry_uuid())
        .collect();
    assert_eq!(order, expected_order);

    let first = &suggestions[0];
    let keys: BTreeSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "pool_entry_uuid",
            "reviewer_uuid",
            "reviewer_name",
            "reviewer_email",
            "affinity_score",
            "current_assignments",
            "max_assignments",
            "has_capacity",
            "rank",
            "coi_status",
        ])
    );
    assert_eq!(first["reviewer_uuid"], setup.reviewers[4].profile_uuid());
    assert_eq!(first["reviewer_name"], "reviewer4 Example");
    assert_eq!(first["reviewer_email"], "reviewer4@example.org");
    assert_eq!(first["affinity_score"], 0.5);
    assert_eq!(first["current_assignments"], 0);
    assert_eq!(first["max_assignments"], 5);
    assert_eq!(first["has_capacity"], true);
    assert_eq!(first["rank"], 1);
    assert_eq!(suggestions[1]["affinity_score"], Value::Null);
    assert_eq!(suggestions[1]["current_assignments"], 0);
    assert_eq!(suggestions[2]["affinity_score"], Value::Null);
    assert_eq!(suggestions[2]["current_assignments"], 1);
    assert_eq!(suggestions[3]["affinity_score"], 0.9);
    assert_eq!(suggestions[3]["has_capacity"], false);
    assert_eq!(suggestions[3]["current_assignments"], 1);
    assert_eq!(suggestions[3]["rank"], 4);

    let limited = app
        .get(
            &app.staff,
            &format!(
                "{}?limit=1",
                action_path(&item.item_uuid, "suggest_alternatives")
            ),
        )
        .await
        .expect(200);
    assert_eq!(limited.body["suggestions"].as_array().unwrap().len(), 1);
    assert_eq!(
        limited.body["suggestions"][0]["pool_entry_uuid"],
        setup.reviewers[4].entry_uuid()
    );
    let widest = app
        .get(
            &app.staff,
            &format!(
                "{}?limit=50",
                action_path(&item.item_uuid, "suggest_alternatives")
            ),
        )
        .await
        .expect(200);
    assert_eq!(widest.body["suggestions"].as_array().unwrap().len(), 4);
}

async fn item_suggest_alternatives_refusals(app: TestApp) {
    let world = world(&app).await;
    let path = action_path(&world.item.item_uuid, "suggest_alternatives");
    let refused = app.get(&world.manager, &path).await.expect(400);
    assert_eq!(error_code(&refused), "item_not_declined");
    assert!(refused.str("error").contains("pending"));

    app.pass_batch_deadline(&world.item.batch_uuid).await;
    app.force_item_status(&world.item.item_uuid, ItemStatus::Expired)
        .await;
    let refused = app.get(&world.manager, &path).await.expect(400);
    assert_eq!(
        error_code(&refused),
        "item_not_declined",
        "expired items are reassigned without suggestions"
    );

    app.force_item_status(&world.item.item_uuid, ItemStatus::Declined)
        .await;
    for limit in ["0", "51", "ten", "-1"] {
        let reply = app
            .get(&world.manager, &format!("{path}?limit={limit}"))
            .await
            .expect(400);
        assert!(reply.body["limit"].is_array(), "limit={limit}");
    }
    app.get(&world.manager, &format!("{path}?limit="))
        .await
        .expect(200);
    app.get(&TestUser::anonymous(), &path).await.expect(401);
    app.get(&world.unrelated, &path).await.expect(404);
}

async fn item_reassign_success(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let proposal = world.proposal(0);
    app.post(
        world.reviewer(),
        &action_path(&world.item.item_uuid, "decline"),
        json!({"reason": "No time"}),
    )
    .await
    .expect(200);
    app.cache_affinity(call, &world.setup.reviewers[1], &proposal, 0.42)
        .await;
    // reviewer1 already has a draft (created by generation or by hand): it is reused.
    let existing = app
        .draft_item(call, &world.setup.reviewers[1], &world.proposal(1))
        .await;

    let reply = app
        .post(
            &world.manager,
            &action_path(&world.item.item_uuid, "reassign"),
            json!({"reviewer_pool_entry_uuid": world.setup.reviewers[1].entry_uuid(), "manager_notes": "Please help"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["detail"], "Assignment reassigned successfully.");
    assert_eq!(reply.body["new_batch_uuid"], existing.batch_uuid);
    assert_eq!(reply.body["has_coi"], false);
    let new_item = item_json(&app, &reply.str("new_item_uuid")).await;
    assert_eq!(new_item["status"], "pending");
    assert_eq!(new_item["affinity_score"], 0.42);
    assert_eq!(new_item["reassign_count"], 1);
    assert_eq!(new_item["proposal_uuid"], proposal);
    let old = item_json(&app, &world.item.item_uuid).await;
    assert_eq!(old["status"], "reassigned");
    assert_eq!(old["decline_reason"], "No time");

    // A reviewer without a draft gets a new manual draft with the notes; a conflicted
    // reviewer gets a COI-blocked item. Both count the slot's reassignments.
    app.send_batch_directly(&existing.batch_uuid).await;
    app.post(
        world.other_reviewer(),
        &action_path(&reply.str("new_item_uuid"), "decline"),
        json!({}),
    )
    .await
    .expect(200);
    let conflicted = app.conflicted_reviewer(call, "conflicted", &proposal).await;
    let second = app
        .post(
            &app.staff,
            &action_path(&reply.str("new_item_uuid"), "reassign"),
            json!({"reviewer_pool_entry_uuid": conflicted.entry_uuid(), "manager_notes": "Fresh batch"}),
        )
        .await
        .expect(200);
    assert_eq!(second.body["has_coi"], true);
    let blocked = item_json(&app, &second.str("new_item_uuid")).await;
    assert_eq!(blocked["status"], "coi_blocked");
    assert_eq!(blocked["coi_count"], 1);
    assert_eq!(blocked["reassign_count"], 2);
    assert_eq!(blocked["affinity_score"], Value::Null);
    let batch_uuid = uuid::Uuid::try_parse(&second.str("new_batch_uuid")).unwrap();
    let batch = app
        .state
        .run(move |connection| referee_store::assignments::get_batch(connection, batch_uuid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(batch.status.as_str(), "draft");
    assert_eq!(batch.source.as_str(), "manual");
    assert_eq!(batch.manager_notes, "Fresh batch");

    let actions: Vec<String> = app
        .audit_actions(&world.item.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(
        actions.contains(&"item.reassigned".to_owned()),
        "{actions:?}"
    );
}

async fn item_reassign_refusals(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let path = action_path(&world.item.item_uuid, "reassign");
    let target = world.setup.reviewers[1].entry_uuid();

    let pending = app
        .post(
            &world.manager,
            &path,
            json!({"reviewer_pool_entry_uuid": target}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&pending), "item_not_reassignable");
    app.post(
        world.reviewer(),
        &action_path(&world.item.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);

    let missing = app.post(&world.manager, &path, json!({})).await.expect(400);
    assert_eq!(
        missing.body["reviewer_pool_entry_uuid"][0],
        "This field is required."
    );
    let invalid = app
        .post(
            &world.manager,
            &path,
            json!({"reviewer_pool_entry_uuid": "abc"}),
        )
        .await
        .expect(400);
    assert!(invalid.body["reviewer_pool_entry_uuid"].is_array());
    let bad_override = app
        .post(
            &world.manager,
            &path,
            json!({"reviewer_pool_entry_uuid": target, "override_workload_limit": "yes"}),
        )
        .await
        .expect(400);
    assert!(bad_override.body["override_workload_limit"].is_array());

    let (_, _, other_member) = second_call(&app).await;
    let invited = app.invited_reviewer(call, "invited").await;
    for entry in [
        other_member.entry_uuid(),
        invited.entry_uuid(),
        uuid::Uuid::now_v7().simple().to_string(),
    ] {
        let reply = app
            .post(
                &world.manager,
                &path,
                json!({"reviewer_pool_entry_uuid": entry}),
            )
            .await
            .expect(400);
        assert_eq!(
            error_code(&reply),
            "pool_entry_not_eligible",
            "{}",
            reply.body
        );
    }
    let again = app
        .post(
            &world.manager,
            &path,
            json!({"reviewer_pool_entry_uuid": world.setup.reviewers[0].entry_uuid()}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&again), "already_assigned");
    app.draft_item(call, &world.setup.reviewers[2], &world.proposal(0))
        .await;
    let assigned = app
        .post(
            &world.manager,
            &path,
            json!({"reviewer_pool_entry_uuid": world.setup.reviewers[2].entry_uuid()}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&assigned), "already_assigned");

    assert_eq!(
        item_json(&app, &world.item.item_uuid).await["status"],
        "declined"
    );
    let count = app
        .get(
            &app.staff,
            &format!("{ITEMS}?proposal_uuid={}", world.proposal(0)),
        )
        .await
        .expect(200)
        .count();
    assert_eq!(count, 2);
}

async fn item_reassign_workload_limit(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let target = &world.setup.reviewers[1];
    app.patch(
        &app.staff,
        &format!("/api/call-reviewer-pools/{}/", target.entry_uuid()),
        json!({"max_assignments": 1}),
    )
    .await
    .expect(200);
    app.draft_item(call, target, &world.proposal(1)).await;
    app.post(
        world.reviewer(),
        &action_path(&world.item.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);
    let path = action_path(&world.item.item_uuid, "reassign");

    let refused = app
        .post(
            &world.manager,
            &path,
            json!({"reviewer_pool_entry_uuid": target.entry_uuid()}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&refused), "workload_limit_exceeded");
    assert!(refused.str("error").contains("reviewer1 Example"));
    assert_eq!(
        item_json(&app, &world.item.item_uuid).await["status"],
        "declined"
    );

    let reply = app
        .post(&world.manager, &path, json!({"reviewer_pool_entry_uuid": target.entry_uuid(), "override_workload_limit": true}))
        .await
        .expect(200);
    assert_eq!(
        item_json(&app, &reply.str("new_item_uuid")).await["status"],
        "pending"
    );
    let events = app.audit_actions(&target.entry_uuid()).await;
    assert!(
        events.iter().any(
            |(action, reason)| action == "pool_entry.workload_limit_overridden"
                && reason.contains("1 open")
        ),
        "{events:?}"
    );
}

async fn item_force_unblock(app: TestApp) {
    let world = world(&app).await;
    let call = &world.setup.call_uuid;
    let conflicted = app
        .conflicted_reviewer(call, "conflicted", &world.proposal(1))
        .await;
    let blocked = app.sent_item(call, &conflicted, &world.proposal(1)).await;
    let path = action_path(&blocked.item_uuid, "force-unblock");

    // The status check comes before the reason check.
    let not_blocked = app
        .post(
            &world.manager,
            &action_path(&world.item.item_uuid, "force-unblock"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(error_code(&not_blocked), "item_not_blocked");
    for body in [
        json!({}),
        json!({"override_reason": ""}),
        json!({"override_reason": "   "}),
    ] {
        let reply = app
            .post(&world.manager, &path, body.clone())
            .await
            .expect(400);
        assert!(reply.body["override_reason"].is_array(), "{body}");
    }
    let typed = app
        .post(&world.manager, &path, json!({"override_reason": 1}))
        .await
        .expect(400);
    assert!(typed.body["override_reason"].is_array());
    assert_eq!(
        item_json(&app, &blocked.item_uuid).await["status"],
        "coi_blocked"
    );
    app.post(&world.support, &path, json!({"override_reason": "x"}))
        .await
        .expect(403);

    let unblocked = app
        .post(
            &world.manager,
            &path,
            json!({"override_reason": "Conflict is historical"}),
        )
        .await
        .expect(200);
    assert_eq!(unblocked.body["status"], "pending");
    assert_eq!(unblocked.body["has_coi"], false);
    assert_eq!(unblocked.body["coi_count"], 1, "the conflict stays linked");
    assert_eq!(unblocked.body["override_reason"], "Conflict is historical");
    assert_eq!(unblocked.body["overridden_by_name"], "manager Example");
    assert!(
        unblocked.body["overridden_at"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
    let listed = app
        .get(
            &app.staff,
            &format!("{ITEMS}?has_coi=false&batch_uuid={}", blocked.batch_uuid),
        )
        .await
        .expect(200);
    assert_eq!(listed.array()[0]["overridden_by_name"], "manager Example");

    let again = app
        .post(&world.manager, &path, json!({"override_reason": "again"}))
        .await
        .expect(400);
    assert_eq!(error_code(&again), "item_not_blocked");
    let events = app.audit_actions(&blocked.item_uuid).await;
    assert!(
        events
            .iter()
            .any(|(action, reason)| action == "item.force_unblocked"
                && reason == "Conflict is historical")
    );

    app.post(
        &conflicted.user,
        &action_path(&blocked.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(200);
}

async fn item_batch_completion_reversible(app: TestApp) {
    let setup = app.call_setup(2, 0).await;
    let call = &setup.call_uuid;
    let member = app
        .conflicted_reviewer(call, "member", &setup.proposal_uuid(1))
        .await;
    let open = app.draft_item(call, &member, &setup.proposal_uuid(0)).await;
    let blocked = app.draft_item(call, &member, &setup.proposal_uuid(1)).await;
    app.send_batch_directly(&open.batch_uuid).await;

    app.post(
        &member.user,
        &action_path(&open.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(
        batch_status(&app, &open.batch_uuid).await,
        "responded",
        "COI-blocked items do not keep a batch open"
    );

    app.post(
        &app.staff,
        &action_path(&blocked.item_uuid, "force-unblock"),
        json!({"override_reason": "Cleared"}),
    )
    .await
    .expect(200);
    assert_eq!(
        batch_status(&app, &open.batch_uuid).await,
        "sent",
        "a pending item reopens the batch"
    );
    let events: Vec<String> = app
        .audit_actions(&open.batch_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(events.contains(&"batch.reopened".to_owned()), "{events:?}");

    app.post(
        &member.user,
        &action_path(&blocked.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(batch_status(&app, &open.batch_uuid).await, "responded");
}

async fn item_auto_reassign_with_candidate(app: TestApp) {
    let setup = app.call_setup(1, 3).await;
    let call = &setup.call_uuid;
    let proposal = setup.proposal_uuid(0);
    app.set_auto_reassign(call, true, 3).await;
    app.cache_affinity(call, &setup.reviewers[1], &proposal, 0.3)
        .await;
    app.cache_affinity(call, &setup.reviewers[2], &proposal, 0.7)
        .await;
    let item = app.sent_item(call, &setup.reviewers[0], &proposal).await;

    let reply = app
        .post(
            &setup.reviewers[0].user,
            &action_path(&item.item_uuid, "decline"),
            json!({"reason": "Away"}),
        )
        .await
        .expect(200);
    assert_eq!(
        reply.body,
        json!({"detail": "Assignment declined.", "review_uuid": null})
    );
    assert_eq!(
        item_json(&app, &item.item_uuid).await["status"],
        "reassigned"
    );

    let moved = app
        .get(
            &app.staff,
            &format!(
                "{ITEMS}?reviewer_uuid={}",
                setup.reviewers[2].profile_uuid()
            ),
        )
        .await
        .expect(200);
    assert_eq!(moved.count(), 1);
    let new_item = &moved.array()[0];
    assert_eq!(new_item["status"], "pending");
    assert_eq!(new_item["reassign_count"], 1);
    assert_eq!(new_item["affinity_score"], 0.7);
    let batch_uuid = new_item["batch"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(batch_status(&app, &batch_uuid).await, "draft");
    let events = app.audit_actions(&item.item_uuid).await;
    assert!(events.iter().any(|(action, reason)| action == "item.reassigned" && reason.contains("automatically")), "{events:?}");

    // Attempts are limited per slot: the reassigned item at the limit is not moved again.
    app.set_auto_reassign(call, true, 1).await;
    let new_uuid = new_item["uuid"].as_str().unwrap().to_owned();
    app.send_batch_directly(&batch_uuid).await;
    app.post(
        &setup.reviewers[2].user,
        &action_path(&new_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(item_json(&app, &new_uuid).await["status"], "declined");
    let events = app.audit_actions(&new_uuid).await;
    assert!(
        events
            .iter()
            .any(|(action, reason)| action == "item.auto_reassign_skipped"
                && reason.contains("max_auto_reassign_attempts")),
        "{events:?}"
    );
}

async fn item_auto_reassign_without_candidate(app: TestApp) {
    let setup = app.call_setup(1, 2).await;
    let call = &setup.call_uuid;
    let proposal = setup.proposal_uuid(0);
    app.set_auto_reassign(call, true, 3).await;
    // The only other reviewer is full.
    app.patch(
        &app.staff,
        &format!(
            "/api/call-reviewer-pools/{}/",
            setup.reviewers[1].entry_uuid()
        ),
        json!({"max_assignments": 1}),
    )
    .await
    .expect(200);
    let other_setup_proposal = app.proposal(&setup.round_uuid, "Other").await;
    app.draft_item(
        call,
        &setup.reviewers[1],
        other_setup_proposal["uuid"].as_str().unwrap(),
    )
    .await;
    let item = app.sent_item(call, &setup.reviewers[0], &proposal).await;

    app.post(
        &setup.reviewers[0].user,
        &action_path(&item.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(item_json(&app, &item.item_uuid).await["status"], "declined");
    let count = app
        .get(&app.staff, &format!("{ITEMS}?proposal_uuid={proposal}"))
        .await
        .expect(200)
        .count();
    assert_eq!(count, 1);
    let events = app.audit_actions(&item.item_uuid).await;
    assert!(
        events
            .iter()
            .any(|(action, reason)| action == "item.auto_reassign_skipped"
                && reason.contains("capacity")),
        "{events:?}"
    );

    // With the setting off, a decline records nothing about reassignment.
    app.set_auto_reassign(call, false, 3).await;
    let second = app
        .sent_item(
            call,
            &setup.reviewers[0],
            other_setup_proposal["uuid"].as_str().unwrap(),
        )
        .await;
    app.post(
        &setup.reviewers[0].user,
        &action_path(&second.item_uuid, "decline"),
        json!({}),
    )
    .await
    .expect(200);
    let events = app.audit_actions(&second.item_uuid).await;
    assert!(
        !events
            .iter()
            .any(|(action, _)| action.starts_with("item.auto_reassign")),
        "{events:?}"
    );
}

async fn item_methods_not_offered(app: TestApp) {
    let world = world(&app).await;
    let uuid = &world.item.item_uuid;
    for (method, path) in [
        (Method::PUT, ITEMS.to_owned()),
        (Method::PATCH, ITEMS.to_owned()),
        (Method::DELETE, ITEMS.to_owned()),
        (Method::POST, item_path(uuid)),
        (Method::GET, action_path(uuid, "accept")),
        (Method::GET, action_path(uuid, "decline")),
        (Method::GET, action_path(uuid, "reassign")),
        (Method::GET, action_path(uuid, "force-unblock")),
        (Method::POST, action_path(uuid, "suggest_alternatives")),
        (Method::DELETE, action_path(uuid, "accept")),
    ] {
        let reply = app
            .request(&app.staff, method.clone(), &path, None)
            .await
            .expect(405);
        assert!(reply.body["detail"].is_string(), "{method} {path}");
    }
}

async fn item_concurrent_accepts_one_review(app: TestApp) {
    let world = world(&app).await;
    let path = action_path(&world.item.item_uuid, "accept");
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        let reviewer = world.reviewer().clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            app.post(&reviewer, &path, json!({})).await.status.as_u16()
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            200 => accepted += 1,
            400 => {}
            other => panic!("a concurrent accept returned {other}"),
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(app.review_count(&world.proposal(0)).await, 1);
    let item = item_json(&app, &world.item.item_uuid).await;
    assert_eq!(item["status"], "accepted");
    assert!(item["review_uuid"].is_string());
}

/// Checks that when every reviewer accepts or declines all items of their batch at once,
/// the response that commits last sees the others and marks the batch responded.
async fn item_concurrent_responses_settle_batch(app: TestApp) {
    let setup = app.call_setup(4, 3).await;
    let mut batches = Vec::new();
    let mut answers = Vec::new();
    for member in &setup.reviewers {
        let mut batch_uuid = String::new();
        for index in 0..setup.proposals.len() {
            let item = app
                .draft_item(&setup.call_uuid, member, &setup.proposal_uuid(index))
                .await;
            let verb = if index % 2 == 0 { "accept" } else { "decline" };
            answers.push((member.user.clone(), action_path(&item.item_uuid, verb)));
            batch_uuid = item.batch_uuid;
        }
        app.send_batch_directly(&batch_uuid).await;
        batches.push(batch_uuid);
    }

    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for (reviewer, path) in answers {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.post(&reviewer, &path, json!({})).await.status.as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    for batch_uuid in &batches {
        assert_eq!(batch_status(&app, batch_uuid).await, "responded");
    }
}

/// Two transactions set the two items of a batch, and the second settles the batch before the
/// first commits. Settling must wait for that commit and then see both responses, or the
/// batch would stay `sent` with nothing pending.
async fn item_responses_settle_in_commit_order(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    let member = &setup.reviewers[0];
    let first = app
        .draft_item(&setup.call_uuid, member, &setup.proposal_uuid(0))
        .await;
    let second = app
        .draft_item(&setup.call_uuid, member, &setup.proposal_uuid(1))
        .await;
    assert_eq!(first.batch_uuid, second.batch_uuid);
    app.send_batch_directly(&first.batch_uuid).await;

    let parse = |uuid: &str| uuid::Uuid::try_parse(uuid).unwrap();
    let (first_item, second_item) = (parse(&first.item_uuid), parse(&second.item_uuid));
    let pool = app.state.pool().clone();
    tokio::task::spawn_blocking(move || {
        let mut first_connection = pool.get().unwrap();
        let mut second_connection = pool.get().unwrap();
        std::thread::scope(|scope| {
            let later = referee_store::transaction::write_transaction(
                &mut first_connection,
                |connection| {
                    referee_conformance::seed::set_item_status(
                        connection,
                        first_item,
                        ItemStatus::Accepted,
                    )?;
                    let later = scope.spawn(|| {
                        referee_store::transaction::write_transaction(
                            &mut second_connection,
                            |connection| {
                                referee_conformance::seed::set_item_status(
                                    connection,
                                    second_item,
                                    ItemStatus::Declined,
                                )
                            },
                        )
                    });
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok(later)
                },
            )
            .unwrap();
            later.join().unwrap().unwrap();
        });
    })
    .await
    .unwrap();
    assert_eq!(batch_status(&app, &first.batch_uuid).await, "responded");
}

async fn item_accept_races_decline_and_reassign(app: TestApp) {
    let world = world(&app).await;
    let app = std::sync::Arc::new(app);
    let uuid = world.item.item_uuid.clone();
    let target = world.setup.reviewers[1].entry_uuid();
    let mut tasks = Vec::new();
    for round in 0..12 {
        let app = app.clone();
        let reviewer = world.reviewer().clone();
        let manager = world.manager.clone();
        let uuid = uuid.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let reply = match round % 3 {
                0 => {
                    app.post(&reviewer, &action_path(&uuid, "accept"), json!({}))
                        .await
                }
                1 => {
                    app.post(&reviewer, &action_path(&uuid, "decline"), json!({}))
                        .await
                }
                _ => {
                    app.post(
                        &manager,
                        &action_path(&uuid, "reassign"),
                        json!({"reviewer_pool_entry_uuid": target}),
                    )
                    .await
                }
            };
            (round % 3, reply.status.as_u16())
        }));
    }
    let mut wins = [0; 3];
    for task in tasks {
        let (kind, status) = task.await.unwrap();
        assert!(
            status == 200 || status == 400,
            "kind {kind} returned {status}"
        );
        if status == 200 {
            wins[kind] += 1;
        }
    }
    assert_eq!(wins[0] + wins[1], 1, "exactly one answer wins: {wins:?}");
    assert!(wins[2] <= 1);

    let item = item_json(&app, &uuid).await;
    let reviews = app.review_count(&world.proposal(0)).await;
    let offered = app
        .get(
            &app.staff,
            &format!("{ITEMS}?proposal_uuid={}", world.proposal(0)),
        )
        .await
        .expect(200)
        .count();
    match item["status"].as_str().unwrap() {
        "accepted" => {
            assert_eq!(wins, [1, 0, 0]);
            assert_eq!(reviews, 1);
            assert_eq!(offered, 1);
        }
        "declined" => {
            assert_eq!(wins, [0, 1, 0]);
            assert_eq!(reviews, 0);
            assert_eq!(offered, 1);
        }
        "reassigned" => {
            assert_eq!(wins, [0, 1, 1]);
            assert_eq!(reviews, 0);
            assert_eq!(offered, 2);
        }
        other => panic!("unexpected final status {other}"),
    }
}

async fn item_accept_races_force_unblock(app: TestApp) {
    let world = world(&app).await;
    let call = world.setup.call_uuid.clone();
    let conflicted = app
        .conflicted_reviewer(&call, "conflicted", &world.proposal(1))
        .await;
    let blocked = app.sent_item(&call, &conflicted, &world.proposal(1)).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for round in 0..20 {
        let app = app.clone();
        let reviewer = conflicted.user.clone();
        let manager = world.manager.clone();
        let uuid = blocked.item_uuid.clone();
        tasks.push(tokio::spawn(async move {
            let reply = if round % 2 == 0 {
                app.post(&reviewer, &action_path(&uuid, "accept"), json!({}))
                    .await
            } else {
                app.post(
                    &manager,
                    &action_path(&uuid, "force-unblock"),
                    json!({"override_reason": "Race"}),
                )
                .await
            };
            (round % 2, reply.status.as_u16())
        }));
    }
    let mut wins = [0; 2];
    for task in tasks {
        let (kind, status) = task.await.unwrap();
        assert!(
            status == 200 || status == 400,
            "kind {kind} returned {status}"
        );
        if status == 200 {
            wins[kind] += 1;
        }
    }
    assert_eq!(wins[1], 1, "exactly one force-unblock wins");
    assert!(wins[0] <= 1);
    let item = item_json(&app, &blocked.item_uuid).await;
    let reviews = app.review_count(&world.proposal(1)).await;
    if wins[0] == 1 {
        assert_eq!(item["status"], "accepted");
        assert_eq!(reviews, 1);
    } else {
        assert_eq!(item["status"], "pending");
        assert_eq!(reviews, 0);
    }
    assert_eq!(item["has_coi"], false);
    assert_eq!(item["override_reason"], "Race");
}
