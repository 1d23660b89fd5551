//! Integer min-cost flow on a residual network, with two methods. The primal-dual method
//! ([`FlowNetwork::max_flow_min_cost`]) runs Dijkstra on reduced costs from the super source,
//! then pushes a blocking flow (Dinic) through the arcs of zero reduced cost. It suits networks
//! with few distinct costs. Successive shortest paths from one supply node at a time
//! ([`FlowNetwork::min_cost_flow_by_supply_node`]) suits networks with many distinct costs.
//!
//! Every arc cost must be non-negative when the network is built, so the zero potential is a
//! valid start. After every augmentation each residual arc `u -> v` has a non-negative reduced
//! cost `cost + potential[u] - potential[v]`. That invariant is the optimality certificate.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Distance of a node that Dijkstra did not reach.
const UNREACHED: i64 = i64::MAX / 4;

/// A residual network. Arc `2k` is the `k`-th arc added and arc `2k + 1` its reverse.
pub(crate) struct FlowNetwork {
    head: Vec<u32>,
    tail: Vec<u32>,
    residual: Vec<i64>,
    cost: Vec<i64>,
    /// Arcs leaving node `u` are `out_arcs[out_start[u]..out_start[u + 1]]`, in the order they
    /// were added.
    out_start: Vec<usize>,
    out_arcs: Vec<u32>,
    potential: Vec<i64>,
}

impl FlowNetwork {
    pub(crate) fn new(node_count: usize) -> Self {
        Self {
            head: Vec::new(),
            tail: Vec::new(),
            residual: Vec::new(),
            cost: Vec::new(),
            out_start: Vec::new(),
            out_arcs: Vec::new(),
            potential: vec![0; node_count],
        }
    }

    /// Adds an arc with capacity `capacity` and a non-negative `cost` per unit, and returns
    /// its id. Call [`FlowNetwork::finish`] after the last arc.
    pub(crate) fn add_arc(&mut self, from: usize, to: usize, capacity: i64, cost: i64) -> usize {
        assert!(cost >= 0, "arc costs must be non-negative, got {cost}");
        assert!(
            capacity >= 0,
            "arc capacities must be non-negative, got {capacity}"
        );
        let id = self.head.len();
        self.head.extend([to as u32, from as u32]);
        self.tail.extend([from as u32, to as u32]);
        self.residual.extend([capacity, 0]);
        self.cost.extend([cost, -cost]);
        id
    }

    /// Builds the adjacency lists. Arcs keep their insertion order within each node.
    pub(crate) fn finish(&mut self) {
        let node_count = self.potential.len();
        let mut degree = vec![0usize; node_count + 1];
        for &tail in &self.tail {
            degree[tail as usize + 1] += 1;
        }
        for node in 0..node_count {
            degree[node + 1] += degree[node];
        }
        let mut next = degree.clone();
        self.out_arcs = vec![0; self.tail.len()];
        for (arc, &tail) in self.tail.iter().enumerate() {
            self.out_arcs[next[tail as usize]] = arc as u32;
            next[tail as usize] += 1;
        }
        self.out_start = degree;
    }

    /// Units of flow on arc `arc` (an id returned by [`FlowNetwork::add_arc`]).
    pub(crate) fn flow(&self, arc: usize) -> i64 {
        self.residual[arc ^ 1]
    }

    pub(crate) fn potential(&self, node: usize) -> i64 {
        self.potential[node]
    }

    pub(crate) fn node_count(&self) -> usize {
        self.potential.len()
    }

    /// Number of arc ids: two per added arc (the arc and its reverse).
    pub(crate) fn arc_id_count(&self) -> usize {
        self.head.len()
    }

    pub(crate) fn tail(&self, arc: usize) -> usize {
        self.tail[arc] as usize
    }

    pub(crate) fn head(&self, arc: usize) -> usize {
        self.head[arc] as usize
    }

    pub(crate) fn residual(&self, arc: usize) -> i64 {
        self.residual[arc]
    }

    pub(crate) fn cost(&self, arc: usize) -> i64 {
        self.cost[arc]
    }

    /// Replaces the flow and the potentials with those computed by another method. `flows`
    /// contains the flow of each added arc (arc id `2k` at index `k`) and must stay within the
    /// capacities the network was built with, which must not have carried flow yet.
    pub(crate) fn load_solution(&mut self, flows: &[i64], potentials: &[i64]) {
        assert_eq!(flows.len() * 2, self.head.len(), "one flow per added arc");
        assert_eq!(
            potentials.len(),
            self.potential.len(),
            "one potential per node"
        );
        for (index, flow) in flows.iter().enumerate() {
            let arc = index * 2;
            let capacity = self.residual[arc] + self.residual[arc + 1];
            assert!(
                (0..=capacity).contains(flow),
                "flow {flow} outside 0..={capacity} on arc {arc}"
            );
            self.residual[arc] = capacity - flow;
            self.residual[arc + 1] = *flow;
        }
        self.potential.copy_from_slice(potentials);
    }

    fn reduced_cost(&self, arc: usize) -> i64 {
        self.cost[arc] + self.potential[self.tail[arc] as usize]
            - self.potential[self.head[arc] as usize]
    }

    fn out_arcs(&self, node: usize) -> &[u32] {
        &self.out_arcs[self.out_start[node]..self.out_start[node + 1]]
    }

    /// Sends as much flow as possible from `source` to `sink` at minimum cost and returns
    /// the amount sent. Equal-length paths are taken in node-index and arc-insertion order,
    /// so the result depends only on the network as built.
    pub(crate) fn max_flow_min_cost(&mut self, source: usize, sink: usize) -> i64 {
        let mut total = 0;
        while self.update_potentials(source, sink) {
            total += self.push_blocking_flows(source, sink);
        }
        total
    }

    /// Runs Dijkstra on reduced costs, stopping once `sink` is settled, and adds
    /// `min(distance, distance to sink)` to every potential. Capping at the sink's distance
    /// keeps every residual reduced cost non-negative for nodes left unsettled. Returns false
    /// when `sink` is unreachable.
    fn update_potentials(&mut self, source: usize, sink: usize) -> bool {
        let node_count = self.potential.len();
        let mut distance = vec![UNREACHED; node_count];
        let mut settled = vec![false; node_count];
        let mut queue = BinaryHeap::new();
        distance[source] = 0;
        queue.push(Reverse((0i64, source as u32)));

        while let Some(Reverse((node_distance, node))) = queue.pop() {
            let node = node as usize;
            if settled[node] || node_distance > distance[node] {
                continue;
            }
            settled[node] = true;
            if node == sink {
                break;
            }
            for &arc in self.out_arcs(node) {
                let arc = arc as usize;
                if self.residual[arc] == 0 {
                    continue;
                }
                let next = self.head[arc] as usize;
                let candidate = node_distance + self.reduced_cost(arc);
                if candidate < distance[next] {
                    distance[next] = candidate;
                    queue.push(Reverse((candidate, next as u32)));
                }
            }
        }

        let sink_distance = distance[sink];
        if sink_distance == UNREACHED {
            return false;
        }
        for (potential, node_distance) in self.potential.iter_mut().zip(distance) {
            *potential += node_distance.min(sink_distance);
        }
        true
    }

    /// Pushes blocking flows (Dinic) through the admissible arcs, the residual arcs of zero
    /// reduced cost, until no admissible path from `source` to `sink` is left.
    fn push_blocking_flows(&mut self, source: usize, sink: usize) -> i64 {
        let node_count = self.potential.len();
        let mut level = vec![u32::MAX; node_count];
        let mut current = vec![0usize; node_count];
        let mut queue = VecDeque::new();
        let mut path: Vec<usize> = Vec::new();
        let mut total = 0;

        loop {
            level.fill(u32::MAX);
            level[source] = 0;
            queue.push_back(source);
            while let Some(node) = queue.pop_front() {
                for &arc in self.out_arcs(node) {
                    let arc = arc as usize;
                    let next = self.head[arc] as usize;
                    if self.residual[arc] > 0
                        && level[next] == u32::MAX
                        && self.reduced_cost(arc) == 0
                    {
                        level[next] = level[node] + 1;
                        queue.push_back(next);
                    }
                }
            }
            if level[sink] == u32::MAX {
                return total;
            }

            current.copy_from_slice(&self.out_start[..node_count]);
            loop {
                let pushed = self.push_one_path(source, sink, &level, &mut current, &mut path);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    /// Finds one path along increasing levels with an explicit stack (paths can be as long as
    /// the node count), pushes its bottleneck and returns it, or returns 0 when none is left.
    fn push_one_path(
        &mut self,
        source: usize,
        sink: usize,
        level: &[u32],
        current: &mut [usize],
        path: &mut Vec<usize>,
    ) -> i64 {
        path.clear();
        let mut node = source;
        loop {
            if node == sink {
                let bottleneck = path
                    .iter()
                    .map(|&arc| self.residual[arc])
                    .min()
                    .unwrap_or(0);
                for &arc in path.iter() {
                    self.residual[arc] -= bottleneck;
                    self.residual[arc ^ 1] += bottleneck;
                }
                return bottleneck;
            }

            let end = self.out_start[node + 1];
            let mut advanced = false;
            while current[node] < end {
                let arc = self.out_arcs[current[node]] as usize;
                let next = self.head[arc] as usize;
                if self.residual[arc] > 0
                    && level[next] == level[node].wrapping_add(1)
                    && self.reduced_cost(arc) == 0
                {
                    path.push(arc);
                    node = next;
                    advanced = true;
                    break;
                }
                current[node] += 1;
            }

            if !advanced {
                // Dead end: step back and skip the arc that led here.
                let Some(arc) = path.pop() else {
                    return 0;
                };
                node = self.tail[arc] as usize;
                current[node] += 1;
            }
        }
    }

    /// Sends as much flow as possible from `source` to `sink` at minimum cost by successive
    /// shortest paths from one supply node at a time: the heads of the arcs leaving `source`,
    /// in insertion order. Each Dijkstra starts at a single node and stops once `sink` is
    /// settled, so it scans far fewer arcs than one started at `source` with every supply node
    /// at distance 0. Arcs entering or leaving `source` are left out of the reduced-cost
    /// invariant; they only encode supplies. Returns the amount sent.
    pub(crate) fn min_cost_flow_by_supply_node(&mut self, source: usize, sink: usize) -> i64 {
        let supply_arcs: Vec<usize> = self
            .out_arcs(source)
            .iter()
            .map(|arc| *arc as usize)
            .filter(|arc| arc % 2 == 0)
            .collect();
        let mut search = PathSearch::new(self.potential.len());
        let mut total = 0;
        for supply_arc in supply_arcs {
            let start = self.head[supply_arc] as usize;
            // A node that cannot reach `sink` never can later: augmenting only adds arcs
            // between nodes that already reach it.
            while self.residual[supply_arc] > 0 && search.run(self, start, sink, source) {
                let mut bottleneck = self.residual[supply_arc];
                for &arc in &search.path {
                    bottleneck = bottleneck.min(self.residual[arc]);
                }
                for &arc in search.path.iter().chain(std::iter::once(&supply_arc)) {
                    self.residual[arc] -= bottleneck;
                    self.residual[arc ^ 1] += bottleneck;
                }
                total += bottleneck;
            }
        }
        total
    }

    /// Nodes reachable from `source` through arcs with residual capacity: the source side of
    /// the inclusion-minimal minimum cut once a maximum flow has been sent.
    pub(crate) fn reachable_from(&self, source: usize) -> Vec<bool> {
        let mut reached = vec![false; self.potential.len()];
        let mut stack = vec![source];
        reached[source] = true;
        while let Some(node) = stack.pop() {
            for &arc in self.out_arcs(node) {
                let arc = arc as usize;
                let next = self.head[arc] as usize;
                if self.residual[arc] > 0 && !reached[next] {
                    reached[next] = true;
                    stack.push(next);
                }
            }
        }
        reached
    }
}

/// Dijkstra from one node with buffers reused between runs; only touched nodes are reset.
struct PathSearch {
    distance: Vec<i64>,
    parent_arc: Vec<u32>,
    settled: Vec<bool>,
    touched: Vec<u32>,
    queue: BinaryHeap<Reverse<(i64, u32)>>,
    /// Arcs of the last path found, from the start node to the sink.
    path: Vec<usize>,
}

impl PathSearch {
    fn new(node_count: usize) -> Self {
        Self {
            distance: vec![UNREACHED; node_count],
            parent_arc: vec![u32::MAX; node_count],
            settled: vec![false; node_count],
            touched: Vec::new(),
            queue: BinaryHeap::new(),
            path: Vec::new(),
        }
    }

    /// Finds a shortest path on reduced costs from `start` to `sink` avoiding `excluded`,
    /// updates the potentials and stores the path. Settled nodes closer than the sink have
    /// their potential lowered by `distance(sink) - distance(node)`; the others keep theirs.
    /// That equals adding `min(distance, distance(sink))` to every potential and then
    /// subtracting the constant `distance(sink)`, so reduced costs stay non-negative.
    /// Returns false when `sink` is unreachable.
    fn run(
        &mut self,
        network: &mut FlowNetwork,
        start: usize,
        sink: usize,
        excluded: usize,
    ) -> bool {
        for node in self.touched.drain(..) {
            let node = node as usize;
            self.distance[node] = UNREACHED;
            self.parent_arc[node] = u32::MAX;
            self.settled[node] = false;
        }
        self.queue.clear();

        // Lowering the start node's potential until its cheapest residual arc has reduced
        // cost 0 keeps every reduced cost non-negative (arcs into `start` only grow) and
        // shortens the search.
        let cheapest = network
            .out_arcs(start)
            .iter()
            .map(|arc| *arc as usize)
            .filter(|arc| network.residual[*arc] > 0 && network.head[*arc] as usize != excluded)
            .map(|arc| network.reduced_cost(arc))
            .min();
        if let Some(cheapest) = cheapest {
            network.potential[start] -= cheapest;
        }

        self.distance[start] = 0;
        self.touched.push(start as u32);
        self.queue.push(Reverse((0, start as u32)));

        while let Some(Reverse((node_distance, node))) = self.queue.pop() {
            let node = node as usize;
            if self.settled[node] || node_distance > self.distance[node] {
                continue;
            }
            self.settled[node] = true;
            if node == sink {
                break;
            }
            for &arc in network.out_arcs(node) {
                let arc = arc as usize;
                let next = network.head[arc] as usize;
                if network.residual[arc] == 0 || next == excluded {
                    continue;
                }
                let candidate = node_distance + network.reduced_cost(arc);
                if candidate < self.distance[next] {
                    if self.distance[next] == UNREACHED {
                        self.touched.push(next as u32);
                    }
                    self.distance[next] = candidate;
                    self.parent_arc[next] = arc as u32;
                    self.queue.push(Reverse((candidate, next as u32)));
                }
            }
        }
        if !self.settled[sink] {
            return false;
        }

        let sink_distance = self.distance[sink];
        for &node in &self.touched {
            let node = node as usize;
            if self.settled[node] && self.distance[node] < sink_distance {
                network.potential[node] -= sink_distance - self.distance[node];
            }
        }

        self.path.clear();
        let mut node = sink;
        while node != start {
            let arc = self.parent_arc[node] as usize;
            self.path.push(arc);
            node = network.tail[arc] as usize;
        }
        self.path.reverse();
        true
    }
}
