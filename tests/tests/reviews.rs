//! Reviews: `/api/proposal-reviews/` and the expiry of overdue reviews.

use std::collections::BTreeSet;

use referee_conformance::{CallSetup, TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    review_keys_and_visibility,
    review_update_by_reviewer,
    review_submit,
    review_reject,
    review_list_filters,
    review_expiry_rejects_overdue,
);

const COLLECTION: &str = "/api/proposal-reviews/";

fn path(uuid: &str) -> String {
    format!("{COLLECTION}{uuid}/")
}

struct Cast {
    setup: CallSetup,
    manager: TestUser,
    owner: TestUser,
    member: TestUser,
    support: TestUser,
    applicant: TestUser,
    unrelated: TestUser,
    /// A review in review by reviewer 0 on the applicant's proposal.
    review: String,
}

async fn cast(app: &TestApp) -> Cast {
    let setup = app.call_setup(1, 2).await;
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let applicant = app.user("applicant").await;
    let own = app
        .proposal_as(&applicant, &setup.round_uuid, "Own proposal")
        .await;
    let own_uuid = own["uuid"].as_str().unwrap().to_owned();
    let unrelated = app.user("unrelated").await;
    let review = app
        .review_in_review(&setup.call_uuid, &setup.reviewers[0], &own_uuid)
        .await;
    Cast {
        setup,
        manager,
        owner,
        member,
        support,
        applicant,
        unrelated,
        review,
    }
}

async fn review_keys_and_visibility(app: TestApp) {
    let cast = cast(&app).await;
    let reviewer = &cast.setup.reviewers[0];

    let fetched = app
        .get(&reviewer.user, &path(&cast.review))
        .await
        .expect(200);
    let keys: BTreeSet<&str> = fetched
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "url",
        "uuid",
        "proposal",
        "proposal_name",
        "proposal_uuid",
        "proposal_slug",
        "reviewer",
        "reviewer_uuid",
        "reviewer_full_name",
        "state",
        "review_end_date",
        "round_uuid",
        "round_name",
        "round_slug",
        "round_start_time",
        "round_cutoff_time",
        "call_slug",
        "call_managing_organisation_uuid",
        "reviewer_image",
        "coi_confirmation_required",
        "call_name",
        "call_uuid",
        "summary_score",
        "summary_public_comment",
        "summary_private_comment",
        "comment_project_title",
        "comment_project_summary",
        "comment_project_description",
        "comment_project_supporting_documentation",
        "comment_resource_requests",
        "comment_team",
        "coi_confirmed",
        "coi_confirmed_at",
        "created",
        "modified",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let body = &fetched.body;
    assert_eq!(body["state"], "in_review");
    assert_eq!(body["reviewer_uuid"], reviewer.user.uuid.as_str());
    assert_eq!(body["reviewer_full_name"], "reviewer0 Example");
    assert_eq!(body["proposal_name"], "Own proposal");
    assert_eq!(body["call_uuid"], cast.setup.call_uuid.as_str());
    assert_eq!(body["round_uuid"], cast.setup.round_uuid.as_str());
    assert_eq!(body["call_name"], "Call");
    assert!(
        body["review_end_date"].is_string(),
        "the round gives 14 days"
    );
    assert_eq!(body["comment_team"], Value::Null);
    assert_eq!(body["coi_confirmed_at"], Value::Null);
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/proposal-reviews/{}/", cast.review))
    );

    let matrix = [
        (&app.staff, 200),
        (&cast.support, 200),
        (&cast.manager, 200),
        (&cast.owner, 200),
        (&cast.member, 200),
        (&reviewer.user, 200),
        (&cast.setup.reviewers[1].user, 404),
        (&cast.applicant, 404),
        (&cast.unrelated, 404),
        (&TestUser::anonymous(), 401),
    ];
    for (user, status) in matrix {
        app.get(user, &path(&cast.review)).await.expect(status);
        let listed = app.get(user, COLLECTION).await;
        match status {
            401 => {
                listed.expect(401);
            }
            200 => assert_eq!(listed.expect(200).count(), 1, "list as {}", user.username),
            _ => assert_eq!(listed.expect(200).count(), 0, "list as {}", user.username),
        }
    }
    let head = app.head(&app.staff, COLLECTION).await.expect(200);
    assert_eq!(head.count(), 1);
    app.post(&app.staff, COLLECTION, json!({}))
        .await
        .expect(405);
    app.delete(&app.staff, &path(&cast.review))
        .await
        .expect(405);
}

async fn review_update_by_reviewer(app: TestApp) {
    let cast = cast(&app).await;
    let reviewer = &cast.setup.reviewers[0].user;
    let review = path(&cast.review);

    let updated = app
        .patch(
            reviewer,
            &review,
            json!({"summary_score": 7, "summary_public_comment": "Solid plan.", "comment_team": "Strong team."}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["summary_score"], 7);
    assert_eq!(updated.body["summary_public_comment"], "Solid plan.");
    assert_eq!(updated.body["comment_team"], "Strong team.");

    let cleared = app
        .patch(&app.staff, &review, json!({"comment_team": null}))
        .await
        .expect(200);
    assert_eq!(cleared.body["comment_team"], Value::Null);
    assert_eq!(cleared.body["summary_score"], 7);
    let replaced = app
        .put(
            reviewer,
            &review,
            json!({"summary_private_comment": "For the panel."}),
        )
        .await
        .expect(200);
    assert_eq!(replaced.body["summary_private_comment"], "For the panel.");

    let out_of_range = app
        .patch(reviewer, &review, json!({"summary_score": -1}))
        .await
        .expect(400);
    assert!(out_of_range.body["summary_score"].is_array());
    app.patch(reviewer, &review, json!({"summary_score": 40_000}))
        .await
        .expect(400);
    let long = app
        .patch(
            reviewer,
            &review,
            json!({"comment_project_title": "x".repeat(256)}),
        )
        .await
        .expect(400);
    assert!(long.body["comment_project_title"].is_array());
    app.patch(reviewer, &review, json!({"summary_score": "high"}))
        .await
        .expect(400);

    for (user, status) in [
        (&cast.manager, 403),
        (&cast.owner, 403),
        (&cast.member, 403),
        (&cast.support, 403),
        (&cast.setup.reviewers[1].user, 404),
        (&cast.applicant, 404),
        (&cast.unrelated, 404),
        (&TestUser::anonymous(), 401),
    ] {
        app.patch(user, &review, json!({"summary_score": 1}))
            .await
            .expect(status);
    }
    let unchanged = app.get(&app.staff, &review).await.expect(200);
    assert_eq!(
        unchanged.body["summary_score"], 7,
        "refused edits changed nothing"
    );
    assert_eq!(unchanged.body["comment_project_title"], Value::Null);
}

async fn review_submit(app: TestApp) {
    let cast = cast(&app).await;
    let reviewer = &cast.setup.reviewers[0].user;
    let submit = format!("{}submit/", path(&cast.review));

    app.post(&cast.manager, &submit, json!({}))
        .await
        .expect(403);
    app.post(&app.staff, &submit, json!({})).await.expect(403);
    app.post(&cast.support, &submit, json!({}))
        .await
        .expect(403);
    app.post(&cast.unrelated, &submit, json!({}))
        .await
        .expect(404);
    app.post(&TestUser::anonymous(), &submit, json!({}))
        .await
        .expect(401);
    app.post(reviewer, &submit, json!({"summary_score": -3}))
        .await
        .expect(400);
    assert_eq!(
        app.get(&app.staff, &path(&cast.review)).await.body["state"],
        "in_review"
    );

    let submitted = app
        .post(
            reviewer,
            &submit,
            json!({"summary_score": 8, "summary_public_comment": "Fund it.", "summary_private_comment": "Minor doubts.", "coi_confirmed": true}),
        )
        .await
        .expect(200);
    assert_eq!(submitted.body["state"], "submitted");
    assert_eq!(submitted.body["summary_score"], 8);
    assert_eq!(submitted.body["summary_private_comment"], "Minor doubts.");
    assert_eq!(submitted.body["coi_confirmed"], true);
    assert!(submitted.body["coi_confirmed_at"].is_string());

    let again = app.post(reviewer, &submit, json!({})).await.expect(400);
    assert_eq!(again.body["code"], "review_not_in_review");
    assert!(again.body["error"].as_str().unwrap().contains("submitted"));
    let edit = app
        .patch(reviewer, &path(&cast.review), json!({"summary_score": 1}))
        .await
        .expect(400);
    assert_eq!(edit.body["code"], "review_not_in_review");
    assert_eq!(
        app.get(&app.staff, &path(&cast.review)).await.body["summary_score"],
        8
    );

    let actions: Vec<String> = app
        .audit_actions(&cast.review)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(actions.contains(&"review.submitted".to_owned()));
}

async fn review_reject(app: TestApp) {
    let cast = cast(&app).await;
    let reject = format!("{}reject/", path(&cast.review));

    for (user, status) in [
        (&cast.setup.reviewers[0].user, 403),
        (&cast.member, 403),
        (&cast.support, 403),
        (&cast.setup.reviewers[1].user, 404),
        (&cast.applicant, 404),
        (&cast.unrelated, 404),
        (&TestUser::anonymous(), 401),
    ] {
        app.post(user, &reject, json!({})).await.expect(status);
    }
    assert_eq!(
        app.get(&app.staff, &path(&cast.review)).await.body["state"],
        "in_review"
    );

    let rejected = app
        .post(&cast.manager, &reject, json!({}))
        .await
        .expect(200);
    assert_eq!(rejected.body["state"], "rejected");
    let again = app.post(&cast.owner, &reject, json!({})).await.expect(400);
    assert_eq!(again.body["code"], "review_already_rejected");

    let second = app
        .review_in_review(
            &cast.setup.call_uuid,
            &cast.setup.reviewers[1],
            &cast.setup.proposal_uuid(0),
        )
        .await;
    app.post(&cast.owner, &format!("{}reject/", path(&second)), json!({}))
        .await
        .expect(200);
    let third = app
        .review_in_review(
            &cast.setup.call_uuid,
            &cast.setup.reviewers[1],
            &cast.setup.proposal_uuid(0),
        )
        .await;
    app.post(&app.staff, &format!("{}reject/", path(&third)), json!({}))
        .await
        .expect(200);
    let submit = app
        .post(
            &cast.setup.reviewers[1].user,
            &format!("{}submit/", path(&third)),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(submit.body["code"], "review_not_in_review");
}

async fn review_list_filters(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let other = app
        .review_in_review(
            &setup.call_uuid,
            &setup.reviewers[1],
            &setup.proposal_uuid(0),
        )
        .await;
    app.post(
        &setup.reviewers[1].user,
        &format!("{}submit/", path(&other)),
        json!({}),
    )
    .await
    .expect(200);

    let query = |suffix: &str| format!("{COLLECTION}?{suffix}");
    let cases = [
        (format!("call_uuid={}", setup.call_uuid), 2),
        (format!("proposal_uuid={}", setup.proposal_uuid(0)), 1),
        (format!("reviewer_uuid={}", setup.reviewers[0].user.uuid), 1),
        (format!("round_uuid={}", setup.round_uuid), 2),
        ("state=submitted".to_owned(), 1),
        ("state=submitted&state=in_review".to_owned(), 2),
        ("proposal_name=OWN".to_owned(), 1),
        ("proposal_name=nothing".to_owned(), 0),
    ];
    for (filter, expected) in cases {
        let reply = app.get(&app.staff, &query(&filter)).await.expect(200);
        assert_eq!(reply.count(), expected, "filter {filter}");
        assert_eq!(
            app.head(&app.staff, &query(&filter))
                .await
                .expect(200)
                .count(),
            expected
        );
    }

    let newest = app.get(&app.staff, COLLECTION).await.expect(200);
    assert_eq!(newest.array()[0]["uuid"], other.as_str());
    let by_state = app.get(&app.staff, &query("o=state")).await.expect(200);
    assert_eq!(by_state.array()[0]["state"], "in_review");
    let oldest = app.get(&app.staff, &query("o=created")).await.expect(200);
    assert_eq!(oldest.array()[0]["uuid"], cast.review.as_str());

    for bad in ["state=done", "o=score", "call_uuid=nope"] {
        app.get(&app.staff, &query(bad)).await.expect(400);
    }
}

async fn review_expiry_rejects_overdue(app: TestApp) {
    let cast = cast(&app).await;
    let state = app.state.clone();

    let now = chrono::Utc::now();
    let nothing = state
        .run(move |connection| referee_store::reviews::expire_reviews(connection, now))
        .await
        .expect("expiring reviews");
    assert_eq!(nothing, 0, "the deadline is 14 days away");

    let later = now + chrono::Duration::days(15);
    let expired = state
        .run(move |connection| referee_store::reviews::expire_reviews(connection, later))
        .await
        .expect("expiring reviews");
    assert_eq!(expired, 1);
    let again = state
        .run(move |connection| referee_store::reviews::expire_reviews(connection, later))
        .await
        .expect("expiring reviews");
    assert_eq!(again, 0, "a second run changes nothing");

    assert_eq!(
        app.get(&app.staff, &path(&cast.review)).await.body["state"],
        "rejected"
    );
    let actions = app.audit_actions(&cast.review).await;
    assert!(
        actions
            .iter()
            .any(|(action, reason)| action == "review.rejected" && reason.contains("deadline"))
    );
}
