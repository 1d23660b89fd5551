"""Solve an assignment instance written by `cargo xtask bench solver` with OR-Tools.

The instance file contains little-endian 64-bit integers: the counts P, R and C, then
reviewers_needed for each of the P proposals, min_proposals and max_proposals for each of
the R reviewers, and the proposal indices, reviewer indices and scaled affinities of the C
candidates. The script builds the same min-cost flow as referee (proposal supplies
reviewers_needed, candidate arcs of capacity 1 and cost -affinity, reviewer arcs to one sink
node with capacity max - min, and minimum loads as reviewer demands), solves it with
SimpleMinCostFlow, and prints one JSON object: status, objective (the sum of the chosen
scaled affinities), build_seconds, solve_seconds, build_cpu_seconds, solve_cpu_seconds and
peak_rss_kib.
"""

import json
import resource
import sys
import time

import numpy as np
from ortools.graph.python import min_cost_flow


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: ortools_min_cost_flow.py INSTANCE_FILE", file=sys.stderr)
        return 2

    values = np.fromfile(sys.argv[1], dtype="<i8")
    proposal_count, reviewer_count, candidate_count = (int(value) for value in values[:3])
    offset = 3
    needed = values[offset : offset + proposal_count]
    offset += proposal_count
    min_loads = values[offset : offset + reviewer_count]
    offset += reviewer_count
    max_loads = values[offset : offset + reviewer_count]
    offset += reviewer_count
    candidate_proposals = values[offset : offset + candidate_count]
    offset += candidate_count
    candidate_reviewers = values[offset : offset + candidate_count]
    offset += candidate_count
    affinities = values[offset : offset + candidate_count]

    started = time.perf_counter()
    cpu_started = time.process_time()
    # Nodes: proposals 0..P, reviewers P..P+R, the sink P+R.
    sink = proposal_count + reviewer_count
    reviewer_nodes = np.arange(proposal_count, sink, dtype=np.int64)
    tails = np.concatenate([candidate_proposals, reviewer_nodes])
    heads = np.concatenate([candidate_reviewers + proposal_count, np.full(reviewer_count, sink, dtype=np.int64)])
    capacities = np.concatenate([np.ones(candidate_count, dtype=np.int64), max_loads - min_loads])
    costs = np.concatenate([-affinities, np.zeros(reviewer_count, dtype=np.int64)])

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    supplies = np.concatenate([needed, -min_loads, [int(min_loads.sum() - needed.sum())]])
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    built = time.perf_counter()
    cpu_built = time.process_time()

    status = flow.solve()
    solved = time.perf_counter()
    cpu_solved = time.process_time()

    optimal = status == flow.OPTIMAL
    print(
        json.dumps(
            {
                "status": "optimal" if optimal else f"status {status}",
                "objective": -flow.optimal_cost() if optimal else None,
                "build_seconds": built - started,
                "solve_seconds": solved - built,
                "build_cpu_seconds": cpu_built - cpu_started,
                "solve_cpu_seconds": cpu_solved - cpu_built,
                # ru_maxrss is in KiB on Linux.
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )
    return 0 if optimal else 1


if __name__ == "__main__":
    sys.exit(main())
