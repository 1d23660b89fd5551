"""Seed a fresh referee server for schemathesis and write its configuration files.

`cargo xtask conformance --schemathesis` runs this script against a server it started on a
new SQLite database. The script creates, through the API and as staff, one object of every
kind (organisation, call with a round, proposals with team members, a reviewer with a
published profile, a pool entry, a sent batch with a pending and an accepted item, a review,
a conflict of interest), so that the path parameters of every operation name a real object.

It writes one schemathesis configuration per caller into the output directory:
`staff.toml` (the staff token) and `reviewer.toml` (the reviewer's token). Both pin the path
parameters of each path prefix to the seeded objects. Only the Python standard library is
used, so the script runs in the same virtual environment as schemathesis.
"""

import argparse
import datetime
import json
import os
import pathlib
import sys
import urllib.error
import urllib.request


class Api:
    """A minimal JSON client for the referee API."""

    def __init__(self, base_url, token):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def as_user(self, token):
        return Api(self.base_url, token)

    def request(self, method, path, body=None, expected=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status not in expected:
            raise SystemExit(f"seeding failed: {method} {path} returned {status}: {text}")
        return json.loads(text) if text else None

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None):
        return self.request("POST", path, body if body is not None else {})


def iso(offset):
    instant = datetime.datetime.now(datetime.timezone.utc) + offset
    return instant.replace(microsecond=0).isoformat()


def create_user(staff, username):
    user = staff.post(
        "/api/users/",
        {"username": username, "email": f"{username}@example.org", "full_name": f"{username} Example"},
    )
    token = staff.post(f"/api/users/{user['uuid']}/token/")["token"]
    return user, token


def seed(staff):
    """Creates the objects and returns their UUIDs and the reviewer's token."""
    customer = staff.post("/api/customers/", {"name": "Fuzzing Agency", "abbreviation": "FA"})
    call = staff.post(
        "/api/proposal-protected-calls/",
        {"name": "Fuzzing Call", "customer": customer["uuid"], "state": "active"},
    )
    call_path = f"/api/proposal-protected-calls/{call['uuid']}/"
    round_ = staff.post(
        f"{call_path}rounds/",
        {
            "start_time": iso(datetime.timedelta(hours=-1)),
            "cutoff_time": iso(datetime.timedelta(days=30)),
            "review_duration_in_days": 14,
        },
    )

    proposals = []
    for index in range(3):
        proposal = staff.post(
            "/api/proposal-proposals/", {"round": round_["uuid"], "name": f"Proposal {index}"}
        )
        staff.post(f"/api/proposal-proposals/{proposal['uuid']}/submit/")
        proposals.append(proposal["uuid"])
    member = staff.post(
        f"/api/proposal-proposals/{proposals[0]}/team-members/",
        {"full_name": "Grace Hopper", "email": "grace@example.org", "organization": "Navy",
         "role": "principal_investigator"},
    )

    reviewer_user, reviewer_token = create_user(staff, "reviewer")
    reviewer = staff.as_user(reviewer_token)
    profile = reviewer.post("/api/reviewer-profiles/", {"biography": "Plasma physics."})
    profile_path = f"/api/reviewer-profiles/{profile['uuid']}/"
    affiliation = reviewer.post(
        f"{profile_path}affiliations/",
        {"organization_name": "Example University", "start_date": "2015-09-01"},
    )
    expertise = reviewer.post(f"{profile_path}expertise/", {"expertise_keyword": "plasma physics"})
    publication = reviewer.post(
        f"{profile_path}publications/", {"title": "Confinement", "publication_year": 2021}
    )
    reviewer.post(f"{profile_path}publish/")

    entry = staff.post(f"{call_path}reviewer-pool/", {"reviewer_uuids": [profile["uuid"]]})[0]
    reviewer.post(f"/api/call-reviewer-pools/{entry['uuid']}/accept/")

    assignment = staff.post(
        f"{call_path}create-manual-assignment/",
        {"reviewer_pool_entry_uuid": entry["uuid"], "proposal_uuids": proposals[:2]},
    )
    batch_uuid = assignment["batch_uuid"]
    staff.post(f"/api/assignment-batches/{batch_uuid}/send/")
    items = staff.get(f"/api/assignment-items/?batch_uuid={batch_uuid}")
    by_proposal = {item["proposal_uuid"]: item["uuid"] for item in items}
    accepted = reviewer.post(f"/api/assignment-items/{by_proposal[proposals[0]]}/accept/")

    conflict = staff.post(
        "/api/conflicts-of-interest/",
        {"reviewer": profile["uuid"], "call": call["uuid"], "proposal": proposals[2],
         "coi_type": "COAUTH_RECENT", "evidence_description": "Seeded for fuzzing."},
    )
    configuration = staff.get(f"{call_path}assignment-configuration/")
    # A user of its own for /api/users/{uuid}/, so that fuzzed changes to it (deactivation,
    # new tokens) cannot lock the reviewer out.
    target_user, _ = create_user(staff, "fuzzing-target")

    return reviewer_token, {
        "customer": customer["uuid"],
        "call": call["uuid"],
        "round": round_["uuid"],
        "proposal": proposals[0],
        "team_member": member["uuid"],
        "user": target_user["uuid"],
        "reviewer_user": reviewer_user["uuid"],
        "profile": profile["uuid"],
        "affiliation": affiliation["uuid"],
        "expertise": expertise["uuid"],
        "publication": publication["uuid"],
        "pool_entry": entry["uuid"],
        "batch": batch_uuid,
        "pending_item": by_proposal[proposals[1]],
        "review": accepted["review_uuid"],
        "conflict": conflict["uuid"],
        "assignment_configuration": configuration["uuid"],
    }


def operations(ids):
    """Path regex and pinned path parameters for every path with parameters. No path matches
    two regexes."""
    profile = f"^/api/reviewer-profiles/\\{{uuid\\}}/"
    return [
        ("^/api/customers/\\{uuid\\}/", {"uuid": ids["customer"]}),
        ("^/api/users/\\{uuid\\}/", {"uuid": ids["user"]}),
        ("^/api/proposal-protected-calls/\\{uuid\\}/",
         {"uuid": ids["call"], "round_uuid": ids["round"]}),
        ("^/api/proposal-proposals/\\{uuid\\}/",
         {"uuid": ids["proposal"], "member_uuid": ids["team_member"]}),
        (profile + "affiliations/", {"uuid": ids["profile"], "item_uuid": ids["affiliation"]}),
        (profile + "expertise/", {"uuid": ids["profile"], "item_uuid": ids["expertise"]}),
        (profile + "publications/", {"uuid": ids["profile"], "item_uuid": ids["publication"]}),
        (profile + "((publish|unpublish)/)?$", {"uuid": ids["profile"]}),
        ("^/api/call-reviewer-pools/\\{uuid\\}/", {"uuid": ids["pool_entry"]}),
        ("^/api/assignment-batches/\\{uuid\\}/", {"uuid": ids["batch"]}),
        ("^/api/my-assignment-batches/\\{uuid\\}/", {"uuid": ids["batch"]}),
        ("^/api/assignment-items/\\{uuid\\}/", {"uuid": ids["pending_item"]}),
        ("^/api/conflicts-of-interest/\\{uuid\\}/", {"uuid": ids["conflict"]}),
        ("^/api/proposal-reviews/\\{uuid\\}/", {"uuid": ids["review"]}),
        ("^/api/call-assignment-configurations/\\{uuid\\}/",
         {"uuid": ids["assignment_configuration"]}),
    ]


def toml_string(value):
    # A JSON string with only these escapes is also a TOML basic string.
    return json.dumps(value)


def write_config(path, token, ids):
    lines = [
        "# Written by xtask/scripts/schemathesis_seed.py for one run; do not edit.",
        f"headers = {{ Authorization = {toml_string('Token ' + token)} }}",
        "",
    ]
    for regex, parameters in operations(ids):
        pinned = ", ".join(
            f"{toml_string('path.' + name)} = {toml_string(value)}"
            for name, value in parameters.items()
        )
        lines += [
            "[[operations]]",
            f"include-path-regex = {toml_string(regex)}",
            f"parameters = {{ {pinned} }}",
            "",
        ]
    path.write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="origin of the server, http://HOST:PORT")
    parser.add_argument("--output-dir", required=True, type=pathlib.Path,
                        help="directory for staff.toml, reviewer.toml and seeded.json")
    args = parser.parse_args()
    # The token comes from the environment so that it never shows in a process listing.
    staff_token = os.environ.get("REFEREE_STAFF_TOKEN")
    if not staff_token:
        raise SystemExit("REFEREE_STAFF_TOKEN must hold the API token of a staff user")

    staff = Api(args.base_url, staff_token)
    reviewer_token, ids = seed(staff)

    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_config(args.output_dir / "staff.toml", staff_token, ids)
    write_config(args.output_dir / "reviewer.toml", reviewer_token, ids)
    (args.output_dir / "seeded.json").write_text(json.dumps(ids, indent=2) + "\n")
    print(f"seeded {len(ids)} objects; configurations in {args.output_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
