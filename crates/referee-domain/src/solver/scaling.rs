//! Cost-scaling push-relabel (Goldberg and Tarjan) for the min-cost flow of an assignment
//! network, on a copy of a [`FlowNetwork`] in compressed sparse rows.
//!
//! 1. [`ScalingGraph::max_flow`] finds a feasible flow from the super source to the super sink
//!    by blocking flows (Dinic).
//! 2. [`ScalingGraph::min_cost`] leaves the super source and super sink out, so the supplies
//!    they encode stay fixed, and improves the flow by ε-scaling. Costs are multiplied by
//!    `K = n + 1`, where `n` counts the nodes that take part. Each phase (`refine`) divides ε by
//!    [`ALPHA`], saturates every residual arc with negative reduced cost, then pushes the
//!    excesses along admissible arcs (residual arcs with negative reduced cost), lowering a
//!    node's price by at least ε when it has none. Before a push to a node that has neither a
//!    deficit nor an admissible arc, that node is relabelled first (push look-ahead), so flow
//!    does not bounce back. The last phase uses ε = 1, that is `1 / K` in original units. Then
//!    every residual cycle has at most `n` arcs, each with reduced cost at least `-1 / K`, so
//!    its cost is above -1 and, being an integer, at least 0: the flow is optimal.
//! 3. [`ScalingGraph::exact_potentials`] turns the scaled prices into integer potentials
//!    under which every residual arc has a non-negative reduced cost in original units. It
//!    runs label-correcting shortest paths (Bellman-Ford with a FIFO queue) started from the
//!    prices divided by `K`, where only corrections of about one unit remain.
//!
//! Every step scans nodes in index order and arcs in insertion order with FIFO queues, so the
//! result depends only on the network as built.

use std::collections::VecDeque;

use super::flow::FlowNetwork;

/// Factor by which ε shrinks from one refine phase to the next.
const ALPHA: i64 = 8;

/// The first refine phase uses ε = largest scaled cost / (`FIRST_EPSILON_DIVISOR` * `ALPHA`).
/// CPU seconds of `cargo xtask bench solver` (dense, iclr2018, neurips) on 2 shared cores
/// with divisor 1: 0.11, 1.94, 2.32; 64: 0.09, 1.36, 1.29; 512: 0.09, 1.43, 1.10; 2,048:
/// 0.11, 1.20, 1.10; 32,768: 0.40, 1.17, 1.10. Too small a start is slow on dense, the
/// instance with tight minimum loads.
const FIRST_EPSILON_DIVISOR: i64 = 512;

/// Prices stay above `-PRICE_LIMIT`, so reduced costs cannot overflow `i64`.
const PRICE_LIMIT: i64 = i64::MAX / 8;

/// Reason a step of the cost-scaling method stopped without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalingError {
    /// A node has excess but no residual arc to push it along.
    Infeasible,
    /// Scaled costs or prices would leave the range where `i64` arithmetic is exact.
    Overflow,
    /// The label-correcting pass did not settle, so the flow has a negative residual cycle.
    NegativeCycle,
}

/// A residual network in compressed sparse rows: the arcs leaving node `u` occupy the slots
/// `first[u]..first[u + 1]`, in the order they were added to the source network.
pub(crate) struct ScalingGraph {
    first: Vec<usize>,
    head: Vec<u32>,
    /// Slot of the paired arc.
    reverse: Vec<u32>,
    residual: Vec<i64>,
    /// Cost per unit in original units.
    cost: Vec<i64>,
    /// Slot of each arc id of the source network.
    slot_of: Vec<u32>,
    excess: Vec<i64>,
    /// Prices in units of `1 / K` during [`ScalingGraph::min_cost`].
    price: Vec<i64>,
    /// Slot where the scan for an admissible arc resumes, per node.
    current: Vec<usize>,
}

impl ScalingGraph {
    /// Copies the arcs, residual capacities and costs of `network`.
    pub(crate) fn from_network(network: &FlowNetwork) -> Self {
        let node_count = network.node_count();
        let arc_count = network.arc_id_count();
        assert!(
            arc_count < u32::MAX as usize,
            "too many arcs for 32-bit slots: {arc_count}"
        );

        let mut first = vec![0usize; node_count + 1];
        for arc in 0..arc_count {
            first[network.tail(arc) + 1] += 1;
        }
        for node in 0..node_count {
            first[node + 1] += first[node];
        }

        let mut next = first.clone();
        let mut slot_of = vec![0u32; arc_count];
        let mut head = vec![0u32; arc_count];
        let mut residual = vec![0i64; arc_count];
        let mut cost = vec![0i64; arc_count];
        for (arc, slot_of_arc) in slot_of.iter_mut().enumerate() {
            let tail = network.tail(arc);
            let slot = next[tail];
            next[tail] += 1;
            *slot_of_arc = slot as u32;
            head[slot] = network.head(arc) as u32;
            residual[slot] = network.residual(arc);
            cost[slot] = network.cost(arc);
        }
        let mut reverse = vec![0u32; arc_count];
        for (arc, slot) in slot_of.iter().enumerate() {
            reverse[*slot as usize] = slot_of[arc ^ 1];
        }

        Self {
            first,
            head,
            reverse,
            residual,
            cost,
            slot_of,
            excess: vec![0; node_count],
            price: vec![0; node_count],
            current: vec![0; node_count],
        }
    }

    fn node_count(&self) -> usize {
        self.first.len() - 1
    }

    fn slots(&self, node: usize) -> std::ops::Range<usize> {
        self.first[node]..self.first[node + 1]
    }

    /// Flow on arc id `arc`, which must have started without flow.
    pub(crate) fn flow(&self, arc: usize) -> i64 {
        self.residual[self.reverse[self.slot_of[arc] as usize] as usize]
    }

    /// Sets the capacity of arc id `arc` (an even id), keeping its flow.
    pub(crate) fn set_capacity(&mut self, arc: usize, capacity: i64) {
        let flow = self.flow(arc);
        assert!(
            capacity >= flow,
            "capacity {capacity} below the flow {flow} on arc {arc}"
        );
        self.residual[self.slot_of[arc] as usize] = capacity - flow;
    }

    /// Sets the cost per unit of arc id `arc` (an even id) and of its reverse.
    pub(crate) fn set_cost(&mut self, arc: usize, cost: i64) {
        let slot = self.slot_of[arc] as usize;
        self.cost[slot] = cost;
        self.cost[self.reverse[slot] as usize] = -cost;
    }

    /// Flow of each added arc of the source network (arc id `2k` at index `k`).
    pub(crate) fn flows(&self) -> Vec<i64> {
        (0..self.slot_of.len() / 2)
            .map(|index| self.flow(index * 2))
            .collect()
    }

    fn push(&mut self, slot: usize, tail: usize, amount: i64) {
        let head = self.head[slot] as usize;
        self.residual[slot] -= amount;
        self.residual[self.reverse[slot] as usize] += amount;
        self.excess[tail] -= amount;
        self.excess[head] += amount;
    }

    /// Adds a maximum flow from `source` to `sink` to the current flow by blocking flows
    /// (Dinic) and returns the amount added.
    pub(crate) fn max_flow(&mut self, source: usize, sink: usize) -> i64 {
        let node_count = self.node_count();
        let mut level = vec![u32::MAX; node_count];
        let mut queue = VecDeque::new();
        let mut path: Vec<usize> = Vec::new();
        let mut total = 0;

        loop {
            level.fill(u32::MAX);
            level[source] = 0;
            queue.push_back(source);
            while let Some(node) = queue.pop_front() {
                for slot in self.slots(node) {
                    let next = self.head[slot] as usize;
                    if self.residual[slot] > 0 && level[next] == u32::MAX {
                        level[next] = level[node] + 1;
                        queue.push_back(next);
                    }
                }
            }
            if level[sink] == u32::MAX {
                return total;
            }

            self.current.copy_from_slice(&self.first[..node_count]);
            loop {
                let pushed = self.push_one_path(source, sink, &level, &mut path);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    /// Finds one path along increasing levels from the current arcs, pushes its bottleneck and
    /// returns it, or returns 0 when no path is left in this level graph.
    fn push_one_path(
        &mut self,
        source: usize,
        sink: usize,
        level: &[u32],
        path: &mut Vec<usize>,
    ) -> i64 {
        path.clear();
        let mut node = source;
        loop {
            if node == sink {
                let bottleneck = path
                    .iter()
                    .map(|slot| self.residual[*slot])
                    .min()
                    .unwrap_or(0);
                for &slot in path.iter() {
                    self.residual[slot] -= bottleneck;
                    self.residual[self.reverse[slot] as usize] += bottleneck;
                }
                return bottleneck;
            }

            let end = self.first[node + 1];
            let mut advanced = false;
            while self.current[node] < end {
                let slot = self.current[node];
                let next = self.head[slot] as usize;
                if self.residual[slot] > 0 && level[next] == level[node].wrapping_add(1) {
                    path.push(slot);
                    node = next;
                    advanced = true;
                    break;
                }
                self.current[node] += 1;
            }

            if !advanced {
                // Dead end: step back and skip the arc that led here.
                let Some(slot) = path.pop() else {
                    return 0;
                };
                node = self.head[self.reverse[slot] as usize] as usize;
                self.current[node] += 1;
            }
        }
    }

    /// Turns the current feasible flow into a min-cost flow among the flows with the same
    /// amount on every arc that touches a node numbered `active_nodes` or above.
    pub(crate) fn min_cost(&mut self, active_nodes: usize) -> Result<(), ScalingError> {
        let scale = active_nodes as i64 + 1;
        let mut largest_cost = 0i64;
        for node in 0..active_nodes {
            for slot in self.slots(node) {
                if (self.head[slot] as usize) < active_nodes {
                    largest_cost = largest_cost.max(self.cost[slot].abs());
                }
            }
        }
        let largest_scaled = largest_cost
            .checked_mul(scale)
            .ok_or(ScalingError::Overflow)?;
        if largest_scaled > PRICE_LIMIT / 4 {
            return Err(ScalingError::Overflow);
        }

        self.excess.fill(0);
        self.price.fill(0);
        if largest_scaled == 0 {
            // Every cost is 0, so every feasible flow is optimal.
            return Ok(());
        }
        // With zero prices the flow is ε-optimal for ε = largest_scaled. Refine accepts any
        // start, and a lower one saves phases and measured faster (see FIRST_EPSILON_DIVISOR).
        // Prices may then fall further per phase, which the PRICE_LIMIT check in relabel covers.
        let mut epsilon = largest_scaled / FIRST_EPSILON_DIVISOR;
        loop {
            epsilon = (epsilon / ALPHA).max(1);
            self.refine(active_nodes, scale, epsilon)?;
            if epsilon == 1 {
                return Ok(());
            }
        }
    }

    fn reduced_cost(&self, slot: usize, tail: usize, scale: i64) -> i64 {
        self.cost[slot] * scale + self.price[tail] - self.price[self.head[slot] as usize]
    }

    /// Makes the flow ε-optimal: saturates the arcs with negative reduced cost, then
    /// discharges the nodes with excess in FIFO order until none is left.
    fn refine(
        &mut self,
        active_nodes: usize,
        scale: i64,
        epsilon: i64,
    ) -> Result<(), ScalingError> {
        for node in 0..active_nodes {
            for slot in self.slots(node) {
                let head = self.head[slot] as usize;
                if head < active_nodes
                    && self.residual[slot] > 0
                    && self.reduced_cost(slot, node, scale) < 0
                {
                    self.push(slot, node, self.residual[slot]);
                }
            }
        }

        let mut queue: VecDeque<u32> = (0..active_nodes)
            .filter(|node| self.excess[*node] > 0)
            .map(|node| node as u32)
            .collect();
        self.current[..active_nodes].copy_from_slice(&self.first[..active_nodes]);
        while let Some(node) = queue.pop_front() {
            self.discharge(node as usize, active_nodes, scale, epsilon, &mut queue)?;
        }
        Ok(())
    }

    /// Pushes the excess of `node` along admissible arcs, relabelling it whenever none is left.
    /// Nodes whose excess turns positive join `queue`.
    fn discharge(
        &mut self,
        node: usize,
        active_nodes: usize,
        scale: i64,
        epsilon: i64,
        queue: &mut VecDeque<u32>,
    ) -> Result<(), ScalingError> {
        loop {
            let end = self.first[node + 1];
            let mut slot = self.current[node];
            while slot < end {
                let head = self.head[slot] as usize;
                if head < active_nodes
                    && self.residual[slot] > 0
                    && self.reduced_cost(slot, node, scale) < 0
                {
                    // Look-ahead: flow pushed to a node without deficit and without admissible
                    // arcs would only come back, so relabel that node first and push only if
                    // the arc is still admissible.
                    if self.excess[head] >= 0
                        && !self.find_admissible(head, active_nodes, scale)
                        && self.relabel(head, active_nodes, scale, epsilon)?
                        && self.reduced_cost(slot, node, scale) >= 0
                    {
                        slot += 1;
                        continue;
                    }
                    let amount = self.excess[node].min(self.residual[slot]);
                    let head_had_excess = self.excess[head] > 0;
                    self.push(slot, node, amount);
                    if !head_had_excess && self.excess[head] > 0 {
                        queue.push_back(head as u32);
                    }
                    if self.excess[node] == 0 {
                        self.current[node] = slot;
                        return Ok(());
                    }
                }
                slot += 1;
            }
            if !self.relabel(node, active_nodes, scale, epsilon)? {
                return Err(ScalingError::Infeasible);
            }
        }
    }

    /// Advances the current arc of `node` to its next admissible arc and returns whether one
    /// exists. Arcs skipped stay inadmissible until `node` is relabelled, because pushes only
    /// create residual arcs with positive reduced cost and other relabels only raise reduced
    /// costs of arcs leaving `node`.
    fn find_admissible(&mut self, node: usize, active_nodes: usize, scale: i64) -> bool {
        let end = self.first[node + 1];
        let mut slot = self.current[node];
        while slot < end {
            let head = self.head[slot] as usize;
            if head < active_nodes
                && self.residual[slot] > 0
                && self.reduced_cost(slot, node, scale) < 0
            {
                self.current[node] = slot;
                return true;
            }
            slot += 1;
        }
        self.current[node] = end;
        false
    }

    /// Lowers the price of `node` to the highest value that leaves every residual arc
    /// ε-optimal and makes at least one of them admissible, and restarts its arc scan. Returns
    /// false, changing nothing, when `node` has no residual arc.
    fn relabel(
        &mut self,
        node: usize,
        active_nodes: usize,
        scale: i64,
        epsilon: i64,
    ) -> Result<bool, ScalingError> {
        let mut highest = None;
        for slot in self.slots(node) {
            let head = self.head[slot] as usize;
            if head < active_nodes && self.residual[slot] > 0 {
                let bound = self.price[head] - self.cost[slot] * scale;
                highest = Some(highest.map_or(bound, |value: i64| value.max(bound)));
            }
        }
        let Some(highest) = highest else {
            return Ok(false);
        };
        let price = highest - epsilon;
        if price < -PRICE_LIMIT {
            return Err(ScalingError::Overflow);
        }
        self.price[node] = price;
        self.current[node] = self.first[node];
        Ok(true)
    }

    /// Returns integer potentials, one per node, under which every residual arc between nodes
    /// below `active_nodes` has a non-negative reduced cost in original units. Nodes from
    /// `active_nodes` on get 0. Call after [`ScalingGraph::min_cost`], possibly after changing
    /// capacities or costs in ways that keep the flow optimal.
    pub(crate) fn exact_potentials(&self, active_nodes: usize) -> Result<Vec<i64>, ScalingError> {
        let scale = active_nodes as i64 + 1;
        let mut potential = vec![0i64; self.node_count()];
        for (potential, price) in potential.iter_mut().zip(&self.price).take(active_nodes) {
            // Rounds up: -floor(-price / scale).
            *potential = -(-price).div_euclid(scale);
        }

        let mut queued = vec![true; active_nodes];
        let mut pops = vec![0usize; active_nodes];
        let mut queue: VecDeque<u32> = (0..active_nodes as u32).collect();
        while let Some(node) = queue.pop_front() {
            let node = node as usize;
            queued[node] = false;
            pops[node] += 1;
            // Without a negative cycle, FIFO label correcting settles within n passes.
            if pops[node] > active_nodes + 1 {
                return Err(ScalingError::NegativeCycle);
            }
            for slot in self.slots(node) {
                let head = self.head[slot] as usize;
                if head >= active_nodes || self.residual[slot] == 0 {
                    continue;
                }
                let bound = potential[node] + self.cost[slot];
                if bound < potential[head] {
                    potential[head] = bound;
                    if !queued[head] {
                        queued[head] = true;
                        queue.push_back(head as u32);
                    }
                }
            }
        }
        Ok(potential)
    }
}
