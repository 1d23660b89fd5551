"""Drive a referee server with the published Python client `waldur-api-client`.

The script seeds a call with three proposals and two reviewers through the raw API. Then it
runs the assignment workflow through the client's generated functions: items (list, count,
retrieve, accept, decline, suggest_alternatives, reassign), batches (list, send,
extend-deadline, cancel), pool entries, conflicts of interest and reviews. Every step whose
response the client cannot parse is recorded with the client's error and the raw JSON of the
same request, so that a wrong schema in the client (for example `review_uuid` declared as a
non-null string although it is null until an item is accepted) is told apart from a server
bug. The findings go to stdout and, as JSON, to the file named by --report.

Usage: REFEREE_STAFF_TOKEN=... python waldur_client_scenario.py --base-url http://127.0.0.1:8000
"""

import argparse
import datetime
import json
import os
import pathlib
import sys
import traceback
import urllib.error
import urllib.request
from uuid import UUID

from waldur_api_client.client import AuthenticatedClient
from waldur_api_client.api.assignment_batches import (
    assignment_batches_cancel,
    assignment_batches_extend_deadline,
    assignment_batches_list,
    assignment_batches_retrieve,
    assignment_batches_send,
)
from waldur_api_client.api.assignment_items import (
    assignment_items_accept,
    assignment_items_count,
    assignment_items_decline,
    assignment_items_list,
    assignment_items_reassign,
    assignment_items_retrieve,
    assignment_items_suggest_alternatives_retrieve,
)
from waldur_api_client.api.call_reviewer_pools import (
    call_reviewer_pools_list,
    call_reviewer_pools_retrieve,
)
from waldur_api_client.api.conflicts_of_interest import (
    conflicts_of_interest_list,
    conflicts_of_interest_retrieve,
)
from waldur_api_client.api.proposal_reviews import (
    proposal_reviews_list,
    proposal_reviews_retrieve,
)
from waldur_api_client.models.assignment_item_decline_request import (
    AssignmentItemDeclineRequest,
)
from waldur_api_client.models.extend_deadline_request_request import (
    ExtendDeadlineRequestRequest,
)
from waldur_api_client.models.reassign_item_request import ReassignItemRequest
from waldur_api_client.models.send_assignment_batch_request import (
    SendAssignmentBatchRequest,
)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from schemathesis_seed import Api, create_user, iso  # noqa: E402


def seed(staff):
    """Creates a call with three submitted proposals, two accepted reviewers, a sent batch of
    reviewer A with all three proposals and a conflict of interest of reviewer B."""
    customer = staff.post("/api/customers/", {"name": "Client Agency"})
    call = staff.post(
        "/api/proposal-protected-calls/",
        {"name": "Client Call", "customer": customer["uuid"], "state": "active"},
    )
    call_path = f"/api/proposal-protected-calls/{call['uuid']}/"
    round_ = staff.post(
        f"{call_path}rounds/",
        {"start_time": iso(datetime.timedelta(hours=-1)),
         "cutoff_time": iso(datetime.timedelta(days=30)),
         "review_duration_in_days": 14},
    )
    proposals = []
    for index in range(3):
        proposal = staff.post(
            "/api/proposal-proposals/", {"round": round_["uuid"], "name": f"Proposal {index}"}
        )
        staff.post(f"/api/proposal-proposals/{proposal['uuid']}/submit/")
        proposals.append(proposal["uuid"])

    reviewers = {}
    for name in ("alice", "bob"):
        _, token = create_user(staff, name)
        reviewer = staff.as_user(token)
        profile = reviewer.post("/api/reviewer-profiles/", {"biography": f"{name} reviews."})
        reviewer.post(f"/api/reviewer-profiles/{profile['uuid']}/publish/")
        entry = staff.post(f"{call_path}reviewer-pool/", {"reviewer_uuids": [profile["uuid"]]})[0]
        reviewer.post(f"/api/call-reviewer-pools/{entry['uuid']}/accept/")
        reviewers[name] = {"token": token, "profile": profile["uuid"], "entry": entry["uuid"]}

    assignment = staff.post(
        f"{call_path}create-manual-assignment/",
        {"reviewer_pool_entry_uuid": reviewers["alice"]["entry"], "proposal_uuids": proposals},
    )
    staff.post(f"/api/assignment-batches/{assignment['batch_uuid']}/send/")
    items = staff.get(f"/api/assignment-items/?batch_uuid={assignment['batch_uuid']}")
    by_proposal = {item["proposal_uuid"]: item["uuid"] for item in items}
    conflict = staff.post(
        "/api/conflicts-of-interest/",
        {"reviewer": reviewers["bob"]["profile"], "call": call["uuid"], "proposal": proposals[2],
         "coi_type": "COAUTH_RECENT", "evidence_description": "Seeded for the client scenario."},
    )
    return {
        "call": call["uuid"],
        "batch": assignment["batch_uuid"],
        "items": [by_proposal[uuid] for uuid in proposals],
        "reviewers": reviewers,
        "conflict": conflict["uuid"],
    }


class Scenario:
    def __init__(self, base_url, staff_token):
        self.base_url = base_url
        self.tokens = {"staff": staff_token}
        self.steps = []

    def client(self, caller):
        return AuthenticatedClient(base_url=self.base_url, token=self.tokens[caller])

    def raw(self, caller, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.tokens[caller]}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode()
        return json.loads(text) if text else None

    def step(self, name, caller, call, raw_get=None):
        """Runs one client call. When the client raises, records the error and, for reads,
        the raw JSON of the same GET so that the reader sees the value the client rejected.
        A write that the client failed to parse may still have changed the server."""
        try:
            result = call(self.client(caller))
        except Exception as error:  # noqa: BLE001: every client failure is a finding
            finding = {
                "step": name,
                "caller": caller,
                "outcome": "client error",
                "error": f"{type(error).__name__}: {error}",
                "where": traceback.extract_tb(error.__traceback__)[-1].name,
            }
            if raw_get:
                finding["raw_json"] = self.raw(caller, "GET", raw_get)
            defect = known_client_defect(finding)
            if defect:
                finding["outcome"] = "known client defect"
                finding["reason"] = defect
                print(f"KNOWN {name} as {caller}: {defect}")
            else:
                print(f"FAIL {name} as {caller}: {finding['error']}")
            self.steps.append(finding)
            return None
        self.steps.append({"step": name, "caller": caller, "outcome": "ok"})
        print(f"ok   {name} as {caller}")
        return result


def items_in(raw):
    """Yields the assignment items of a raw item, item list or batch detail."""
    if isinstance(raw, list):
        for entry in raw:
            yield from items_in(entry)
    elif isinstance(raw, dict):
        if "items" in raw and isinstance(raw["items"], list):
            yield from raw["items"]
        elif "review_uuid" in raw:
            yield raw


def known_client_defect(finding):
    """Returns the reason when a client failure is the published client's own schema defect
    and the raw JSON is right instead, else None.

    waldur-api-client types an item's review_uuid as a required UUID, but an item has no
    review until it is accepted; referee sends null there, as its OpenAPI document declares.
    The raw JSON must then carry review_uuid null together with review null on every item
    without a review, and a UUID with a review link on every accepted one."""
    if not finding["error"].startswith("TypeError: one of the hex"):
        return None
    items = list(items_in(finding.get("raw_json")))
    if not items:
        return None
    for item in items:
        if item.get("status") == "accepted":
            if not (isinstance(item.get("review_uuid"), str) and item.get("review")):
                return None
        elif item.get("review_uuid") is not None or item.get("review") is not None:
            return None
    return ("the client requires review_uuid to be a UUID, but an item has no review until it is "
            "accepted; the raw JSON carries review_uuid null and review null on those items")


def run(scenario, ids):
    alice = ids["reviewers"]["alice"]
    bob = ids["reviewers"]["bob"]
    scenario.tokens["alice"] = alice["token"]
    scenario.tokens["bob"] = bob["token"]
    call_uuid = UUID(ids["call"])
    batch_uuid = UUID(ids["batch"])
    first, second, _ = (UUID(uuid) for uuid in ids["items"])
    items_path = "/api/assignment-items/"

    scenario.step(
        "items list", "staff",
        lambda c: assignment_items_list.sync(client=c, call_uuid=call_uuid),
        raw_get=f"{items_path}?call_uuid={call_uuid.hex}",
    )
    scenario.step(
        "items count", "staff",
        lambda c: assignment_items_count.sync_detailed(client=c, call_uuid=call_uuid),
    )
    scenario.step(
        "item retrieve (pending)", "staff",
        lambda c: assignment_items_retrieve.sync(first, client=c),
        raw_get=f"{items_path}{first.hex}/",
    )
    scenario.step(
        "item accept", "alice",
        lambda c: assignment_items_accept.sync(first, client=c),
        raw_get=f"{items_path}{first.hex}/",
    )
    scenario.step(
        "item retrieve (accepted)", "staff",
        lambda c: assignment_items_retrieve.sync(first, client=c),
        raw_get=f"{items_path}{first.hex}/",
    )
    scenario.step(
        "item decline", "alice",
        lambda c: assignment_items_decline.sync(
            second, client=c, body=AssignmentItemDeclineRequest(reason="Too busy this month")
        ),
        raw_get=f"{items_path}{second.hex}/",
    )
    scenario.step(
        "item suggest_alternatives", "staff",
        lambda c: assignment_items_suggest_alternatives_retrieve.sync(second, client=c),
        raw_get=f"{items_path}{second.hex}/suggest_alternatives/",
    )
    scenario.step(
        "item reassign", "staff",
        lambda c: assignment_items_reassign.sync(
            second, client=c,
            body=ReassignItemRequest(reviewer_pool_entry_uuid=UUID(bob["entry"])),
        ),
    )

    scenario.step(
        "batches list", "staff",
        lambda c: assignment_batches_list.sync(client=c, call_uuid=call_uuid),
        raw_get=f"/api/assignment-batches/?call_uuid={call_uuid.hex}",
    )
    scenario.step(
        "batch retrieve", "staff",
        lambda c: assignment_batches_retrieve.sync(batch_uuid, client=c),
        raw_get=f"/api/assignment-batches/{batch_uuid.hex}/",
    )
    drafts = scenario.raw(
        "staff", "GET",
        f"/api/assignment-batches/?call_uuid={call_uuid.hex}&status=draft",
    )
    if drafts:
        draft_uuid = UUID(drafts[0]["uuid"])
        scenario.step(
            "batch send", "staff",
            lambda c: assignment_batches_send.sync(
                draft_uuid, client=c, body=SendAssignmentBatchRequest(manager_notes="Please review.")
            ),
        )
        scenario.step(
            "batch cancel", "staff",
            lambda c: assignment_batches_cancel.sync(draft_uuid, client=c),
        )
    else:
        scenario.steps.append({"step": "batch send", "outcome": "skipped: reassign made no draft"})
    new_deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=21)
    scenario.step(
        "batch extend-deadline", "staff",
        lambda c: assignment_batches_extend_deadline.sync(
            batch_uuid, client=c, body=ExtendDeadlineRequestRequest(expires_at=new_deadline)
        ),
    )

    scenario.step(
        "pool entries list", "staff",
        lambda c: call_reviewer_pools_list.sync(client=c, call_uuid=call_uuid),
        raw_get=f"/api/call-reviewer-pools/?call_uuid={call_uuid.hex}",
    )
    scenario.step(
        "pool entry retrieve", "staff",
        lambda c: call_reviewer_pools_retrieve.sync(UUID(alice["entry"]), client=c),
        raw_get=f"/api/call-reviewer-pools/{alice['entry']}/",
    )
    scenario.step(
        "conflicts list", "staff",
        lambda c: conflicts_of_interest_list.sync(client=c, call_uuid=call_uuid),
        raw_get=f"/api/conflicts-of-interest/?call_uuid={call_uuid.hex}",
    )
    scenario.step(
        "conflict retrieve", "staff",
        lambda c: conflicts_of_interest_retrieve.sync(UUID(ids["conflict"]), client=c),
        raw_get=f"/api/conflicts-of-interest/{ids['conflict']}/",
    )
    reviews = scenario.step(
        "reviews list", "alice",
        lambda c: proposal_reviews_list.sync(client=c),
        raw_get="/api/proposal-reviews/",
    )
    raw_reviews = scenario.raw("alice", "GET", "/api/proposal-reviews/")
    if raw_reviews:
        review_uuid = raw_reviews[0]["uuid"]
        scenario.step(
            "review retrieve", "alice",
            lambda c: proposal_reviews_retrieve.sync(UUID(review_uuid), client=c),
            raw_get=f"/api/proposal-reviews/{review_uuid}/",
        )
    return reviews


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="origin of the server, http://HOST:PORT")
    parser.add_argument("--report", type=pathlib.Path, help="file for the findings as JSON")
    args = parser.parse_args()
    staff_token = os.environ.get("REFEREE_STAFF_TOKEN")
    if not staff_token:
        raise SystemExit("REFEREE_STAFF_TOKEN must hold the API token of a staff user")

    ids = seed(Api(args.base_url, staff_token))
    scenario = Scenario(args.base_url, staff_token)
    run(scenario, ids)

    failures = [step for step in scenario.steps if step["outcome"] == "client error"]
    if args.report:
        args.report.write_text(json.dumps(scenario.steps, indent=2, default=str) + "\n")
    known = [step for step in scenario.steps if step["outcome"] == "known client defect"]
    for step in known:
        print(f"known client defect in step {step['step']!r}: {step['reason']}")
    print(f"{len(scenario.steps) - len(failures) - len(known)} steps passed, {len(known)} known client defects, "
          f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
