//! Data-parallel training (ARCHITECTURE.md, "Scaling past one machine"), on Burn's own
//! collective operations (burn-collective): one peer per device, each a thread holding its
//! own replica of the model and of the optimizer. The K micro-batches of an update are dealt
//! to the peers (micro-batch j to peer j mod N), so each device computes the micro-batches
//! of its own tasks, as in Muppet; the peers' gradients are then summed by an all-reduce and
//! every peer applies the same AdamW update, which is the update one device would have made
//! from all K micro-batches. The first peer (rank 0) reports, evaluates and writes the
//! checkpoints; the others compute. Across machines ([`Nodes`]) the peers are numbered node
//! by node, the sums go through burn-collective's coordinator and each node's tensor
//! service, and the first peer of every other node reports its progress there.
//!
//! What the peers must agree on goes through the same all-reduce: each micro-batch's loss
//! and size (for the metrics and the divergence check), whether the run was cancelled, and
//! whether a peer failed, so a peer that fails stops the others instead of leaving them
//! waiting.

use burn::collective::{self, AllReduceStrategy, CollectiveConfig, CollectiveError, PeerId, ReduceOperation};
use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, TensorPrimitive};

use crate::TrainError;

/// This process's place among the nodes (machines) of a multi-node run. Each node runs the
/// same command with its own rank and address; `muppet coordinator` ([`serve_coordinator`])
/// must be running at `coordinator` first. Node 0 reports, evaluates and keeps the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nodes {
    pub count: u32,
    pub rank: u32,
    /// `ws://HOST:PORT` of the coordinator, the same on every node.
    pub coordinator: String,
    /// `ws://HOST:PORT` at which the other nodes reach this one; its port is opened here
    /// for them to fetch this node's share of each sum.
    pub address: String,
    /// The port of `address`.
    data_port: u16,
}

impl Nodes {
    /// Check the addresses and the rank; the error names the flag to fix.
    pub fn new(count: u32, rank: u32, coordinator: &str, address: &str) -> Result<Self, TrainError> {
        if count < 2 {
            return Err(TrainError::Config(format!("--nodes {count}: a multi-node run has at least 2 nodes (leave --nodes out for one machine)")));
        }
        if rank >= count {
            return Err(TrainError::Config(format!("--node-rank {rank} is not below --nodes {count}: ranks go from 0 to {}", count - 1)));
        }
        let port = |flag: &str, value: &str| port_of(value).map_err(|why| TrainError::Config(format!("{flag} `{value}`: {why}; write it as ws://HOST:PORT")));
        port("--coordinator", coordinator)?;
        let data_port = port("--node-address", address)?;
        Ok(Self { count, rank, coordinator: coordinator.to_string(), address: address.to_string(), data_port })
    }
}

/// Send the network layer's log (burn-communication's, which would otherwise install one
/// printing every transfer on stdout) to stderr: warnings and errors, or down to the level
/// `MUPPET_NETWORK_LOG` names (`info`, `debug`, `trace`).
fn quiet_network_logs() {
    let level = std::env::var("MUPPET_NETWORK_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing_subscriber::filter::LevelFilter::WARN);
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).try_init();
}

/// The port of a `ws://HOST:PORT` address.
fn port_of(address: &str) -> Result<u16, String> {
    let rest = address.strip_prefix("ws://").ok_or("it does not start with ws://")?;
    let (host, port) = rest.trim_end_matches('/').rsplit_once(':').ok_or("it has no port")?;
    if host.is_empty() {
        return Err("it has no host".into());
    }
    port.parse().map_err(|_| format!("`{port}` is not a port number"))
}

/// Run the coordinator of multi-node runs on `port` (burn-collective's global orchestrator)
/// until the process receives SIGINT or SIGTERM.
pub fn serve_coordinator(port: u16) -> Result<(), TrainError> {
    // burn-collective only logs a port it cannot open: try it first, for a clear error.
    quiet_network_logs();
    std::net::TcpListener::bind(("0.0.0.0", port)).map_err(|e| TrainError::Config(format!("the coordinator cannot listen on port {port}: {e}; choose another --port")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| TrainError::Backend(format!("starting the coordinator: {e}")))?;
    runtime.block_on(burn_collective::start_global_orchestrator(port));
    Ok(())
}

/// One peer of a run: its rank among `world` peers, `local` of which run in this process
/// (one per device). A run on one device is the peer [`Peer::ALONE`], which never calls the
/// collective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub rank: usize,
    pub world: usize,
    pub local: usize,
}

impl Peer {
    pub const ALONE: Peer = Peer { rank: 0, world: 1, local: 1 };

    /// The first peer of this process, which reports progress here.
    pub fn first_here(self) -> bool {
        self.rank.is_multiple_of(self.local)
    }

    /// Whether micro-batch `j` of an update is this peer's to compute.
    pub fn owns(self, j: usize) -> bool {
        j % self.world == self.rank
    }

    fn id(self) -> PeerId {
        PeerId::from(self.rank)
    }

    /// Join the collective on `device`; returns when every peer, on every node, has joined.
    pub fn join<B: AutodiffBackend>(self, device: &B::Device, nodes: Option<&Nodes>) -> Result<(), TrainError> {
        if self.world == 1 {
            return Ok(());
        }
        let mut config = CollectiveConfig::default().with_num_devices(self.local);
        if let Some(nodes) = nodes {
            quiet_network_logs();
            let address = |a: &str| a.parse::<burn_communication::Address>().expect("an infallible parse");
            config = config
                .with_num_nodes(nodes.count)
                .with_global_address(address(&nodes.coordinator))
                .with_node_address(address(&nodes.address))
                .with_data_service_port(nodes.data_port)
                // The ring needs tensors of at least one element per node; the tree takes any
                // (a regression head's bias has one element, a stop flag too).
                .with_global_all_reduce_strategy(AllReduceStrategy::Tree(2));
        }
        collective::register::<B::InnerBackend>(self.id(), device.clone(), config).map_err(|e| failure("joining the peers", e))
    }

    /// Leave the collective (every peer, however its run ended, so a next run can form one).
    pub fn leave<B: AutodiffBackend>(self) {
        if self.world > 1 {
            let _ = collective::finish_collective::<B::InnerBackend>(self.id());
        }
    }

    /// `values` summed over the peers, element by element. They travel as f32 whatever the
    /// backend's float type: exact for counts, flags and f32 losses.
    pub fn sum<B: AutodiffBackend>(self, values: &[f64], device: &B::Device) -> Result<Vec<f64>, TrainError> {
        if self.world == 1 {
            return Ok(values.to_vec());
        }
        let data = TensorData::new(values.iter().map(|&v| v as f32).collect::<Vec<f32>>(), [values.len()]);
        let tensor = Tensor::<B::InnerBackend, 1>::from_data(data, (device, DType::F32));
        let summed = collective::all_reduce::<B::InnerBackend>(self.id(), tensor.into_primitive().tensor(), ReduceOperation::Sum)
            .map_err(|e| failure("summing values across the peers", e))?;
        let summed = Tensor::<B::InnerBackend, 1>::from_primitive(TensorPrimitive::Float(summed)).cast(DType::F32);
        summed.into_data().convert::<f32>().to_vec::<f32>().map(|v| v.into_iter().map(f64::from).collect()).map_err(|e| TrainError::Backend(format!("{e:?}")))
    }

    /// `grads` summed over the peers. A parameter that no peer has a gradient for (the head
    /// of a task absent from the update) stays without one, as on one device; one that only
    /// some peers have (the head of a task another peer computed) counts as zero on the others.
    ///
    /// The gradients travel flattened, in the model's visiting order (the same on every
    /// peer: the replicas are forks of one model), packed into buckets of at most
    /// [`bucket_bytes`]: one all-reduce per bucket rather than one per parameter, as PyTorch
    /// DDP does. Each element is summed over the same peers as before, so the sums do not
    /// depend on the packing.
    pub fn sum_grads<B: AutodiffBackend, M: AutodiffModule<B>>(self, model: &M, grads: GradientsParams, device: &B::Device) -> Result<GradientsParams, TrainError> {
        if self.world == 1 {
            return Ok(grads);
        }
        let mut present = Presence { grads: &grads, has: Vec::new() };
        model.visit(&mut present);
        let has = self.sum::<B>(&present.has, device)?;
        let mut take = Take::<B> { grads, has: &has, next: 0, flat: Vec::new(), shapes: Vec::new() };
        model.visit(&mut take);
        let Take { flat, shapes, .. } = take;
        let summed = self.sum_flat::<B>(flat, bucket_bytes())?;
        let mut put = Put { has: &has, next: 0, summed: summed.into_iter().zip(shapes), out: GradientsParams::new() };
        model.visit(&mut put);
        Ok(put.out)
    }

    /// The bytes of the first peer (rank 0, which passes `Some`) on every peer, exactly. They
    /// travel three to an f32 through the same sums as the rest: the first peer's integers
    /// (below 2^24) plus the others' zeros are exact whatever the order of the additions.
    pub fn broadcast_bytes<B: AutodiffBackend>(self, bytes: Option<Vec<u8>>, device: &B::Device) -> Result<Vec<u8>, TrainError> {
        if self.world == 1 {
            return Ok(bytes.unwrap_or_default());
        }
        let sent = bytes.as_ref().map_or(0, Vec::len) as u64;
        let len = self.sum::<B>(&split_u64(sent), device)?;
        let len = join_u64(&len) as usize;
        let mut words = vec![0f32; len.div_ceil(3)];
        if let Some(bytes) = &bytes {
            for (word, three) in words.iter_mut().zip(bytes.chunks(3)) {
                *word = three.iter().rev().fold(0u32, |w, &b| (w << 8) | u32::from(b)) as f32;
            }
        }
        // In pieces of 16 MB, which the sums pack into buckets as they do gradients.
        let pieces: Vec<Tensor<B::InnerBackend, 1>> =
            words.chunks(1 << 22).map(|piece| Tensor::from_data(TensorData::new(piece.to_vec(), [piece.len()]), (device, DType::F32))).collect();
        drop(words);
        let mut out = Vec::with_capacity(len + 3);
        for piece in self.sum_flat::<B>(pieces, bucket_bytes())? {
            let values = piece.cast(DType::F32).into_data().convert::<f32>().to_vec::<f32>().map_err(|e| TrainError::Backend(format!("{e:?}")))?;
            for value in values {
                out.extend_from_slice(&(value as u32).to_le_bytes()[..3]);
            }
        }
        out.truncate(len);
        Ok(out)
    }

    /// Every tensor of `flat` summed over the peers, in buckets of at most `cap` bytes of one
    /// dtype (a larger tensor goes alone; a cap of 0 sends each tensor alone).
    fn sum_flat<B: AutodiffBackend>(self, flat: Vec<Tensor<B::InnerBackend, 1>>, cap: usize) -> Result<Vec<Tensor<B::InnerBackend, 1>>, TrainError> {
        let mut out = Vec::with_capacity(flat.len());
        let mut bucket: Vec<Tensor<B::InnerBackend, 1>> = Vec::new();
        let mut bytes = 0;
        let flush = |bucket: &mut Vec<Tensor<B::InnerBackend, 1>>, out: &mut Vec<Tensor<B::InnerBackend, 1>>| -> Result<(), TrainError> {
            let sizes: Vec<usize> = bucket.iter().map(|t| t.dims()[0]).collect();
            let packed = match sizes.len() {
                0 => return Ok(()),
                1 => bucket.pop().expect("one tensor"),
                _ => Tensor::cat(std::mem::take(bucket), 0),
            };
            let sum = collective::all_reduce::<B::InnerBackend>(self.id(), packed.into_primitive().tensor(), ReduceOperation::Sum)
                .map_err(|e| failure("summing the gradients", e))?;
            let sum = Tensor::<B::InnerBackend, 1>::from_primitive(TensorPrimitive::Float(sum));
            if sizes.len() == 1 {
                out.push(sum);
            } else {
                out.extend(sum.split_with_sizes(sizes, 0));
            }
            Ok(())
        };
        for tensor in flat {
            let size = tensor.dims()[0] * tensor.dtype().size();
            let other_dtype = bucket.first().is_some_and(|first| first.dtype() != tensor.dtype());
            if !bucket.is_empty() && (other_dtype || bytes + size > cap) {
                flush(&mut bucket, &mut out)?;
                bytes = 0;
            }
            bytes += size;
            bucket.push(tensor);
        }
        flush(&mut bucket, &mut out)?;
        Ok(out)
    }
}

/// `value` in four 16-bit parts, low first: each exact in an f32.
pub fn split_u64(value: u64) -> [f64; 4] {
    [0, 1, 2, 3].map(|i| ((value >> (16 * i)) & 0xFFFF) as f64)
}

/// The value of [`split_u64`]'s parts.
pub fn join_u64(parts: &[f64]) -> u64 {
    parts.iter().take(4).enumerate().map(|(i, &p)| (p as u64) << (16 * i)).sum()
}

/// PyTorch DDP's default bucket (`bucket_cap_mb` = 25), or `MUPPET_GRAD_BUCKET_MB` (0: one
/// all-reduce per parameter, the unpacked sums, for comparison).
fn bucket_bytes() -> usize {
    static BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        let mb = std::env::var("MUPPET_GRAD_BUCKET_MB").ok().and_then(|v| v.trim().parse::<f64>().ok()).filter(|mb| *mb >= 0.0).unwrap_or(25.0);
        (mb * (1 << 20) as f64) as usize
    })
}

fn failure(what: &str, e: CollectiveError) -> TrainError {
    TrainError::Backend(format!("data-parallel training failed while {what}: {e:?}"))
}

/// 1 for each parameter (in the model's visiting order) this peer has a gradient for.
struct Presence<'a> {
    grads: &'a GradientsParams,
    has: Vec<f64>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Presence<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let has = self.grads.get::<B::InnerBackend, D>(param.id).is_some();
        self.has.push(if has { 1.0 } else { 0.0 });
    }
}

/// Whether some peer has parameter `i`'s gradient, by the summed presence.
fn summed_by_some(has: &[f64], i: usize) -> bool {
    has.get(i).is_some_and(|&n| n > 0.0)
}

/// Takes out, flattened, the gradient of each parameter some peer has one for (zeros where
/// this peer has none), with its shape.
struct Take<'a, B: AutodiffBackend> {
    grads: GradientsParams,
    has: &'a [f64],
    next: usize,
    flat: Vec<Tensor<B::InnerBackend, 1>>,
    shapes: Vec<Shape>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Take<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let i = self.next;
        self.next += 1;
        if !summed_by_some(self.has, i) {
            return;
        }
        let grad = self.grads.remove::<B::InnerBackend, D>(param.id).unwrap_or_else(|| {
            let value = param.val();
            Tensor::zeros(value.shape(), (&value.device(), value.dtype()))
        });
        self.shapes.push(grad.shape());
        let n = grad.shape().num_elements();
        self.flat.push(grad.reshape([n]));
    }
}

/// Registers the summed gradients in the model's visiting order, in their parameters' shapes.
struct Put<'a, I> {
    has: &'a [f64],
    next: usize,
    summed: I,
    out: GradientsParams,
}

impl<B: AutodiffBackend, I: Iterator<Item = (Tensor<B::InnerBackend, 1>, Shape)>> ModuleVisitor<B> for Put<'_, I> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let i = self.next;
        self.next += 1;
        if !summed_by_some(self.has, i) {
            return;
        }
        let (sum, shape) = self.summed.next().expect("one sum per gradient taken");
        self.out.register::<B::InnerBackend, D>(param.id, sum.reshape(shape.dims::<D>()));
    }
}

/// The device of each of `world` peers: the backend's devices in order, starting from
/// `first`. Where the backend has a single device (the CPU), the peers share it, which
/// computes the same update (useful to check a data-parallel run without several GPUs).
pub fn devices<B: Backend>(first: &B::Device, world: usize) -> Result<Vec<B::Device>, TrainError> {
    let id = first.to_id();
    let available = B::device_count(id.type_id).max(1);
    if available == 1 {
        return Ok(vec![first.clone(); world]);
    }
    if usize::from(id.index_id) + world > available {
        return Err(TrainError::Config(format!(
            "{world} devices asked for, from device {} on, but the backend sees {available}: lower --devices",
            id.index_id
        )));
    }
    Ok((0..world).map(|i| B::Device::from_id(burn::tensor::backend::DeviceId { type_id: id.type_id, index_id: id.index_id + i as u16 })).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    /// Two peers on the CPU sum tensors of 3, 20, 5, 1 and 40 elements, packed in several
    /// ways: a tensor alone, tensors sharing a bucket, one larger than the cap, one bucket
    /// for all. Every way gives each tensor's exact sum, in its place.
    #[test]
    fn packed_sums_are_each_tensors_sum() {
        type B = crate::backend::CpuTrain;
        const SIZES: [usize; 5] = [3, 20, 5, 1, 40];
        let sizes = SIZES;
        let values = |rank: usize, i: usize| -> Vec<f32> { (0..SIZES[i]).map(|k| (rank * 1000 + i * 100 + k) as f32 * 0.37 - 11.0).collect() };
        let world = 2;
        let peers: Vec<_> = (0..world)
            .map(|rank| {
                std::thread::spawn(move || {
                    let device = Default::default();
                    let peer = Peer { rank, world, local: world };
                    peer.join::<B>(&device, None).expect("join");
                    // 64 bytes: 3 | 20 (80 bytes, alone) | 5 + 1 | 40 (alone); then one per
                    // tensor, then one bucket for all.
                    let sums: Vec<Vec<Vec<f32>>> = [64usize, 0, 1 << 20]
                        .into_iter()
                        .map(|cap| {
                            let flat = (0..SIZES.len()).map(|i| Tensor::<Flex, 1>::from_floats(values(rank, i).as_slice(), &device)).collect();
                            let summed = peer.sum_flat::<B>(flat, cap).expect("sum");
                            summed.into_iter().map(|t| t.into_data().to_vec::<f32>().expect("f32")).collect()
                        })
                        .collect();
                    peer.leave::<B>();
                    sums
                })
            })
            .collect();
        for peer in peers {
            for (cap, sums) in [64usize, 0, 1 << 20].into_iter().zip(peer.join().expect("peer thread")) {
                assert_eq!(sums.len(), sizes.len(), "cap {cap}");
                for (i, sum) in sums.iter().enumerate() {
                    let want: Vec<f32> = values(0, i).iter().zip(values(1, i)).map(|(a, b)| a + b).collect();
                    assert_eq!(sum, &want, "cap {cap}, tensor {i}");
                }
            }
        }
    }

    /// Three peers: the first one's bytes (every byte value, a length that is no multiple of
    /// three, more than one piece of 2^22 words) reach the others exactly, as does nothing.
    #[test]
    fn the_first_peers_bytes_reach_every_peer_exactly() {
        type B = crate::backend::CpuTrain;
        let sent: Vec<u8> = (0..(3usize << 22) + 7).map(|i| (i * 7919 % 256) as u8).chain([0xFF, 0xFF, 0xFF, 0x00, 0x80]).collect();
        let world = 3;
        let peers: Vec<_> = (0..world)
            .map(|rank| {
                let sent = sent.clone();
                std::thread::spawn(move || {
                    let device = Default::default();
                    let peer = Peer { rank, world, local: world };
                    peer.join::<B>(&device, None).expect("join");
                    let got = peer.broadcast_bytes::<B>((rank == 0).then_some(sent), &device).expect("broadcast");
                    let none = peer.broadcast_bytes::<B>((rank == 0).then(Vec::new), &device).expect("broadcast");
                    peer.leave::<B>();
                    (got, none)
                })
            })
            .collect();
        for peer in peers {
            let (got, none) = peer.join().expect("peer thread");
            assert!(got == sent, "{} bytes received, {} sent", got.len(), sent.len());
            assert!(none.is_empty());
        }
        for value in [0, 1, 0xFFFF, 0x1_0000, u64::MAX, 123_456_789_012] {
            assert_eq!(join_u64(&split_u64(value)), value);
        }
    }

    #[test]
    fn node_flags_are_checked_and_the_bad_one_named() {
        let nodes = Nodes::new(2, 1, "ws://gpu-a:3000", "ws://gpu-b:3001").expect("valid");
        assert_eq!((nodes.rank, nodes.data_port), (1, 3001));
        let cases = [
            (Nodes::new(1, 0, "ws://a:1", "ws://b:2"), "--nodes 1"),
            (Nodes::new(2, 2, "ws://a:1", "ws://b:2"), "--node-rank 2 is not below --nodes 2"),
            (Nodes::new(2, 0, "a:1", "ws://b:2"), "--coordinator `a:1`: it does not start with ws://"),
            (Nodes::new(2, 0, "ws://a:1", "ws://b"), "--node-address `ws://b`: it has no port"),
            (Nodes::new(2, 0, "ws://a:1", "ws://b:x"), "`x` is not a port number"),
        ];
        for (result, want) in cases {
            let err = result.expect_err(want).to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
