//! The selector-plugin host (DESIGN §3): wasmtime with the pooling allocator, components
//! compiled once and cached on disk (keyed by sha256 and the engine's compatibility hash),
//! one `InstancePre` per plugin version, and a fresh store per evaluation with a fuel budget,
//! an epoch deadline, a memory cap and caps on log lines and output. No WASI is linked: a
//! selector's only import is `host.log`, so a decision is a pure function of its input. Each
//! evaluator thread instantiates the next store of the plugin it last ran after answering
//! (`Standby`), so a login waits for the call, not for the instantiation.
//!
//! The world version is read from the component's import names before anything is compiled.
//! Each version of the contract has its own bindings module (`v1`, `v1_1`), frozen with it, listed
//! once in `WORLDS` with the minimum version it serves; `latest` names the newest. A
//! component runs on the newest bindings of its major version whose minimum it reaches, so a
//! 1.x built after this host (a later minor) still runs when it uses nothing the host lacks.

pub mod compiler;
pub mod context;
mod cpu;
mod glue;
mod users;
mod v1;
mod v1_1;

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::component::Component;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use crate::config::PluginsConfig;
use context::{Decision, LoginContext};

/// How often the epoch advances; deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(10);

/// A version of the `portcullis:mfa` package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorldVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for WorldVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl WorldVersion {
    pub fn parse(s: &str) -> Option<WorldVersion> {
        let mut it = s.split('.').map(|p| p.parse::<u32>().ok());
        let v = WorldVersion { major: it.next()??, minor: it.next()??, patch: it.next()?? };
        it.next().is_none().then_some(v)
    }
}

/// One version of the selector world as this build runs it (a bindings module).
trait World: Send + Sync {
    /// Links a compiled component against this version's imports and checks its exports.
    fn prepare(&self, component: &Component) -> wasmtime::Result<Box<dyn Selector>>;
}

/// A component linked against its world: instantiated afresh for every evaluation.
trait Selector: Send + Sync {
    /// Instantiates the component in `store` (which is then used for one call only).
    fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Box<dyn Instance>>;
}

/// A component instantiated in a store of its own, ready for its one `evaluate` call.
trait Instance: Send {
    /// Calls `evaluate`. The outer error is a trap or a host-side failure; the inner one is the
    /// selector's own `err`.
    fn evaluate(
        &self,
        store: &mut Store<HostState>,
        input: &LoginContext,
    ) -> wasmtime::Result<Result<Decision, String>>;
}

type MakeWorld = fn(&Engine) -> wasmtime::Result<Box<dyn World>>;

/// Every version of the contract this build runs, oldest first: the minimum version each
/// bindings module serves (up to the next entry, within its major version) and how to make
/// it. Adding a version is a bindings module and a line here.
const WORLDS: &[(WorldVersion, MakeWorld)] = &[(v1::MIN_VERSION, v1::world), (v1_1::MIN_VERSION, v1_1::world)];

/// The newest bindings: what new selectors should be built against.
use v1 as latest;

/// The versions this build runs (each with the later minors of its major version that fit).
pub fn supported() -> Vec<WorldVersion> {
    WORLDS.iter().map(|(v, _)| *v).collect()
}

/// Which entry of `WORLDS` runs a component built for `v`: the newest of the same major
/// version whose minimum `v` reaches.
fn world_for(v: WorldVersion) -> Option<usize> {
    WORLDS.iter().rposition(|(min, _)| min.major == v.major && *min <= v)
}

/// Per-evaluation limits (a plugin's own values, within the configured caps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Instructions (wasmtime fuel units).
    pub fuel: u64,
    pub memory_bytes: u64,
    pub timeout_ms: u64,
}

/// What each store holds: the memory limiter and the captured log.
pub struct HostState {
    limiter: MemoryCap,
    logs: LogBuffer,
}

struct MemoryCap {
    bytes: usize,
    exceeded: bool,
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.bytes {
            // A trap, not a failed `memory.grow`: the selector cannot carry on without memory.
            self.exceeded = true;
            return Err(wasmtime::Error::msg("memory cap reached"));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

struct LogBuffer {
    lines: Vec<String>,
    bytes: usize,
    dropped: u32,
    max_lines: usize,
    max_bytes: usize,
}

impl LogBuffer {
    fn push(&mut self, mut line: String) {
        let room = self.max_bytes.saturating_sub(self.bytes);
        if self.lines.len() >= self.max_lines || room == 0 {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        if line.len() > room {
            let mut cut = room;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            self.dropped = self.dropped.saturating_add(1);
        }
        self.bytes += line.len();
        self.lines.push(line);
    }
}

/// Why an evaluation produced no usable decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PluginFailureKind)]
pub enum FailureKind {
    /// The component trapped (unreachable, out-of-bounds access, stack overflow, ...).
    Trap,
    /// The fuel budget ran out.
    Fuel,
    /// The wall-clock deadline passed.
    Timeout,
    /// The component tried to grow its memory past the cap.
    Memory,
    /// The decision's text is larger than the output cap.
    Output,
    /// The component returned something that is not a valid decision.
    Invalid,
    /// The selector returned `err(...)`.
    Error,
    /// No evaluation slot came free in time.
    Busy,
    /// The plugin could not be loaded (e.g. its stored bytes no longer compile).
    Unavailable,
}

impl FailureKind {
    pub const ALL: [FailureKind; 9] = [
        FailureKind::Trap,
        FailureKind::Fuel,
        FailureKind::Timeout,
        FailureKind::Memory,
        FailureKind::Output,
        FailureKind::Invalid,
        FailureKind::Error,
        FailureKind::Busy,
        FailureKind::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Fuel => "fuel",
            FailureKind::Timeout => "timeout",
            FailureKind::Memory => "memory",
            FailureKind::Output => "output",
            FailureKind::Invalid => "invalid",
            FailureKind::Error => "error",
            FailureKind::Busy => "busy",
            FailureKind::Unavailable => "unavailable",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginFailure)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

/// One run of a selector.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PluginEvaluation)]
pub struct Evaluation {
    #[serde(with = "outcome")]
    #[schema(schema_with = outcome::schema)]
    pub outcome: Result<Decision, Failure>,
    pub logs: Vec<String>,
    /// Log lines dropped (or cut) because of the caps.
    pub logs_dropped: u32,
    /// Instructions used; `None` when not known: wasmtime does not flush its fuel counter
    /// when the epoch deadline interrupts a running loop, so after a timeout it is not read.
    #[serde(default)]
    pub fuel_used: Option<u64>,
    /// Instantiation and call, in microseconds.
    pub duration_us: u64,
}

/// `{"decision": ...}` or `{"error": {"kind", "message"}}` in JSON.
mod outcome {
    use super::{Decision, Failure};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Repr<D, F> {
        Decision(D),
        Error(F),
    }

    pub fn serialize<S: Serializer>(v: &Result<Decision, Failure>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Ok(d) => Repr::<&Decision, &Failure>::Decision(d).serialize(s),
            Err(f) => Repr::<&Decision, &Failure>::Error(f).serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Result<Decision, Failure>, D::Error> {
        Ok(match Repr::<Decision, Failure>::deserialize(d)? {
            Repr::Decision(x) => Ok(x),
            Repr::Error(f) => Err(f),
        })
    }

    /// The OpenAPI schema of this representation: one of the two objects.
    pub fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Ref};
        let one = |key: &str, schema: &str| {
            ObjectBuilder::new().property(key, Ref::from_schema_name(schema)).required(key).build()
        };
        OneOfBuilder::new()
            .item(one("decision", "PluginDecision"))
            .item(one("error", "PluginFailure"))
            .description(Some("The selector's decision, or why there is none."))
            .into()
    }
}

impl Evaluation {
    pub fn failed(kind: FailureKind, message: impl Into<String>) -> Evaluation {
        Evaluation {
            outcome: Err(Failure { kind, message: message.into() }),
            logs: vec![],
            logs_dropped: 0,
            fuel_used: Some(0),
            duration_us: 0,
        }
    }
}

/// A compiled, linked plugin version, ready to instantiate.
pub struct Prepared {
    /// The version the component was built for (its bindings may be an earlier minor's).
    pub version: WorldVersion,
    selector: Box<dyn Selector>,
}

/// A plugin instantiated in a fresh store ahead of the login that will use it, with its limits
/// set. The evaluator thread that ran a plugin makes the next one right after answering, so a
/// login waits for the `evaluate` call alone, not for instantiating a large component (most of
/// a JavaScript selector's time). It serves exactly one login (a fresh store per login, DESIGN
/// §3), only for the same compiled plugin and limits, and its instantiation counts against that
/// login's fuel and deadline as an inline one would (the deadline by the processor time it
/// used) and against the scope's share of processor time when it is made. A thread with
/// nothing to do for `STANDBY_IDLE` drops its standby.
pub struct Standby {
    plugin: Arc<Prepared>,
    limits: Limits,
    started: Started,
}

/// A store with the plugin instantiated in it, or the instantiation's failure.
struct Started {
    store: Store<HostState>,
    instance: wasmtime::Result<Box<dyn Instance>>,
    fuel: u64,
    timeout_ms: u64,
    memory_bytes: usize,
    /// Wall-clock and processor time the instantiation took.
    took: Duration,
    cpu: Duration,
}

/// What an evaluation leaves behind: the used store, to drop after answering, and what the
/// evaluation ran now (the instantiation too unless a standby was used).
#[derive(Default)]
pub struct Spent {
    _store: Option<Store<HostState>>,
    /// Wall-clock time spent running the plugin for this evaluation.
    pub ran: Duration,
    /// The plugin instantiated (so a standby of it can be made).
    pub instantiated: bool,
}

/// Epoch ticks for a deadline `left` from now (one more: the current tick is partly gone).
fn deadline_ticks(left: Duration) -> u64 {
    (left.as_millis() as u64).div_ceil(TICK.as_millis() as u64) + 1
}

/// The engine and everything compiled with it. One per process, shared through `AppState`.
pub struct PluginHost {
    /// Made when this process first loads a plugin (`runtime`), not at start...
    runtime: std::sync::OnceLock<Runtime>,
    /// ...by one caller at a time.
    making_runtime: Mutex<()>,
    caps: PluginsConfig,
    cache_dir: Option<PathBuf>,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
    /// Evaluation slots for active plugins, shared by every scope...
    slots: Arc<tokio::sync::Semaphore>,
    /// ...of which one scope (the global assignment, or one app) may hold at most this many,
    /// and one user at most `users::PER_USER` at a time and `user_evaluations_per_minute`
    /// (bulkheads: a flood on one app, or by one user, cannot take every slot).
    per_scope: usize,
    scopes: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    users: users::Users,
    /// Processor time per scope (`cpu::CpuShares`): a scope past its share starts nothing.
    cpu: cpu::CpuShares,
    /// Shadow runs (and admins' tests) have slots of their own: a full shadow budget drops a
    /// shadow run (counted) and never delays or fails an active evaluation.
    shadow_slots: Arc<tokio::sync::Semaphore>,
    shadow_dropped: std::sync::atomic::AtomicU64,
    /// Components being compiled in the background, by sha256 (single flight).
    warming: Mutex<std::collections::HashSet<String>>,
    /// The threads evaluations run on, one per slot (active and shadow).
    evaluators: Evaluators,
    /// Compilations by sha256: a caller finding one in progress waits for its result instead
    /// of compiling the same bytes again; a failure is answered again for `FAILURE_KEPT`.
    inflight: Mutex<HashMap<String, Arc<CompileGate>>>,
    /// Components compiled since start (each artefact once, whatever the number of logins).
    compiles: std::sync::atomic::AtomicU64,
    /// Evaluations that ran in a standby instance (`Standby`).
    standbys_used: std::sync::atomic::AtomicU64,
}

type Compiled = Result<Arc<Prepared>, String>;

/// One component's compilation: its result once there is one, and when it came.
type CompileGate = Mutex<Option<(Instant, Compiled)>>;

/// How long a failed compilation's answer is given again for the same bytes.
const FAILURE_KEPT: Duration = Duration::from_secs(60);

/// Which budget an evaluation runs on.
#[derive(Clone, Debug)]
pub enum Lane {
    /// An active plugin deciding a login: `scope` is the assignment's (`global` or an app id).
    Active { scope: String, user_id: String },
    /// A shadow run (recorded, not enforced): dropped when the shadow budget is full.
    Shadow,
    /// An admin's test or replay: on the shadow budget too (never a login's slot), but it
    /// waits for room (up to `ADMIN_WAIT`) rather than being dropped, so that a replay
    /// compares every login it was asked to.
    Admin,
}

/// The processor-time scope every shadow run is charged to (no app id or `global` looks like it).
const SHADOW_SCOPE: &str = " shadow";

/// How long an admin's test or replay run waits for room on the shadow budget.
const ADMIN_WAIT: Duration = Duration::from_secs(10);

/// Slots for active evaluations (`plugins.max_concurrent`, or `auto_slots`) and for shadow
/// runs (half as many, at least one).
fn lanes(caps: &PluginsConfig) -> (usize, usize) {
    let active = if caps.max_concurrent == 0 { auto_slots() } else { caps.max_concurrent };
    (active, active.div_ceil(2).max(1))
}

/// Slots for active evaluations when `plugins.max_concurrent` is 0: two per core, at least 4.
pub fn auto_slots() -> usize {
    (std::thread::available_parallelism().map_or(2, |n| n.get()) * 2).max(4)
}

impl fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginHost").field("cache_dir", &self.cache_dir).finish_non_exhaustive()
    }
}

/// Most entries a decision's `allowed-factors` may list (there are three kinds of factor).
pub const MAX_ALLOWED_FACTORS: usize = 8;

/// Most bytes of text a login context may carry into a plugin (names, groups, attributes).
pub const MAX_CONTEXT_BYTES: usize = 64 * 1024;

/// Bytes of each linear memory kept resident between instantiations.
const KEEP_RESIDENT: usize = 2 * 1024 * 1024;

/// The wasmtime engine and what is made on it once: the bindings of each entry of `WORLDS`
/// (in its order) and the key naming the artefacts this engine can load. Built when the process
/// first loads a plugin rather than at start, so a server without plugins never runs the
/// engine's set-up code, never reserves its instance pool and has no epoch thread waking
/// every `TICK`.
struct Runtime {
    engine: Engine,
    worlds: Vec<Box<dyn World>>,
    key: String,
}

impl Runtime {
    fn new(caps: &PluginsConfig) -> Result<Runtime, String> {
        let (active, shadow) = lanes(caps);
        // Each evaluator thread holds at most one instance at a time (its standby, or the one it
        // runs); as many again for evaluations run on other threads (`plugin test`, benches).
        let slots = 2 * (active + shadow) as u32;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_core_instances(slots * 16)
            .total_memories(slots * 4)
            .total_tables(slots * 8)
            .max_core_instances_per_component(16)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_memory_size(caps.max_memory_mib as usize * 1024 * 1024)
            // A slot is reused for the next login: reset the pages a selector touched with
            // memset (only those, where the kernel can list them) instead of handing them
            // back to the kernel and faulting them in again on the next instantiation.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(64 * 1024)
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut config = compiler::code_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| format!("plugin engine: {e}"))?;
        let worlds = WORLDS
            .iter()
            .map(|(v, make)| make(&engine).map_err(|e| format!("plugin linker for {v}: {e}")))
            .collect::<Result<Vec<_>, String>>()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let key = format!("{:016x}", h.finish());
        spawn_ticker(&engine).map_err(|e| format!("plugin epoch thread: {e}"))?;
        Ok(Runtime { engine, worlds, key })
    }
}

impl PluginHost {
    /// The engine with the configured caps. `cache_dir` holds compiled artefacts (`None`:
    /// compile in memory only, for `plugin test`).
    pub fn new(caps: &PluginsConfig, cache_dir: Option<PathBuf>) -> anyhow::Result<PluginHost> {
        let (active, shadow) = lanes(caps);
        if let Some(dir) = &cache_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("plugin cache directory {}: {e}", dir.display()))?;
        }
        Ok(PluginHost {
            runtime: std::sync::OnceLock::new(),
            making_runtime: Mutex::new(()),
            caps: caps.clone(),
            cache_dir,
            prepared: Mutex::new(HashMap::new()),
            slots: Arc::new(tokio::sync::Semaphore::new(active)),
            per_scope: active.div_ceil(2).max(1),
            scopes: Mutex::new(HashMap::new()),
            users: users::Users::new(caps.user_evaluations_per_minute),
            cpu: cpu::CpuShares::new(caps.scope_cpu_ms_per_second),
            shadow_slots: Arc::new(tokio::sync::Semaphore::new(shadow)),
            shadow_dropped: std::sync::atomic::AtomicU64::new(0),
            warming: Mutex::new(std::collections::HashSet::new()),
            inflight: Mutex::new(HashMap::new()),
            evaluators: Evaluators::start(active + shadow)?,
            compiles: std::sync::atomic::AtomicU64::new(0),
            standbys_used: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The engine, made now if this is the first plugin this process loads. A failure (no
    /// memory to reserve the instance pool, no thread for the epoch) is not kept: the caller's
    /// evaluation fails as unavailable and the next caller tries again.
    fn runtime(&self) -> Result<&Runtime, String> {
        if let Some(r) = self.runtime.get() {
            return Ok(r);
        }
        let _one = self.making_runtime.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = self.runtime.get() {
            return Ok(r);
        }
        let made = Runtime::new(&self.caps).inspect_err(|e| tracing::error!(error = %e, "cannot set up plugins"))?;
        Ok(self.runtime.get_or_init(|| made))
    }

    pub fn caps(&self) -> &PluginsConfig {
        &self.caps
    }

    /// Default limits for a new plugin.
    pub fn default_limits(&self) -> Limits {
        Limits {
            fuel: self.caps.default_fuel,
            memory_bytes: self.caps.default_memory_mib * 1024 * 1024,
            timeout_ms: self.caps.default_timeout_ms,
        }
    }

    /// Refuses limits above the configured caps, naming the one.
    pub fn check_limits(&self, l: &Limits) -> Result<(), String> {
        let c = &self.caps;
        if l.fuel == 0 || l.fuel > c.max_fuel {
            return Err(format!("fuel must be between 1 and {}", c.max_fuel));
        }
        if l.memory_bytes < 1024 * 1024 || l.memory_bytes > c.max_memory_mib * 1024 * 1024 {
            return Err(format!("memory must be between 1 and {} MiB", c.max_memory_mib));
        }
        if l.timeout_ms == 0 || l.timeout_ms > c.max_timeout_ms {
            return Err(format!("timeout must be between 1 and {} ms", c.max_timeout_ms));
        }
        Ok(())
    }

    /// Where the artefact of `sha256` made by the engine with `key` is cached.
    fn cache_path(&self, key: &str, sha256: &str) -> Option<PathBuf> {
        self.cache_dir.as_ref().map(|d| d.join(format!("{sha256}-{key}.cwasm")))
    }

    /// The prepared plugin from memory or the on-disk cache, without the original bytes.
    /// The plugin when it is already compiled in memory (no I/O: safe on an async worker).
    pub fn loaded(&self, sha256: &str) -> Option<Arc<Prepared>> {
        self.prepared.lock().expect("plugin cache lock").get(sha256).cloned()
    }

    pub fn cached(&self, sha256: &str, version: WorldVersion) -> Option<Arc<Prepared>> {
        if let Some(p) = self.loaded(sha256) {
            return Some(p);
        }
        let runtime = self.runtime().ok()?;
        let path = self.cache_path(&runtime.key, sha256)?;
        // Read into memory rather than mapped: a cache file changed on disk under a running
        // server must not turn into a SIGBUS.
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: the file was written by `compile` below into our own cache directory from a
        // component this engine compiled; its name carries the engine's compatibility hash,
        // and wasmtime checks its header and that hash again while deserialising.
        let component = match unsafe { Component::deserialize(&runtime.engine, &bytes) } {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding a plugin cache entry");
                let _ = std::fs::remove_file(&path);
                return None;
            }
        };
        let prepared = Arc::new(self.link(version, &component).ok()?);
        self.prepared.lock().expect("plugin cache lock").insert(sha256.to_owned(), prepared.clone());
        Some(prepared)
    }

    /// Compiles and links a component (checking its world version and size first) and caches
    /// the artefact. The compilation runs in a child process within the compile budget
    /// (`compiler`), once per component however many callers ask at the same time. The error
    /// is meant for the person who uploaded it.
    pub fn compile(&self, sha256: &str, bytes: &[u8]) -> Result<Arc<Prepared>, String> {
        let version = inspect(bytes)?;
        check_size(bytes, self.caps.max_memory_mib)?;
        let gate = self.inflight.lock().expect("plugin compile lock").entry(sha256.to_owned()).or_default().clone();
        let mut slot = gate.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some((_, Ok(p))) => return Ok(p.clone()),
            Some((at, Err(e))) if at.elapsed() < FAILURE_KEPT => return Err(e.clone()),
            _ => {}
        }
        let done = match self.loaded(sha256) {
            Some(p) => Ok(p),
            None => self.compile_now(sha256, version, bytes),
        };
        *slot = Some((Instant::now(), done.clone()));
        drop(slot);
        let mut inflight = self.inflight.lock().expect("plugin compile lock");
        if done.is_ok() {
            inflight.remove(sha256);
        }
        // A failure is kept a while (the same bytes fail the same way under the same budget),
        // then forgotten, so a transient one (a busy machine's wall clock) can be retried.
        inflight.retain(|_, g| {
            g.try_lock().map_or(true, |s| !matches!(&*s, Some((at, Err(_))) if at.elapsed() >= FAILURE_KEPT))
        });
        done
    }

    fn compile_now(&self, sha256: &str, version: WorldVersion, bytes: &[u8]) -> Result<Arc<Prepared>, String> {
        self.compiles.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let program = compiler::program(&self.caps)?;
        let artefact = compiler::compile_in_child(&program, &self.caps, bytes)?;
        // SAFETY: the artefact was just made by our compiler child from these bytes;
        // wasmtime checks its header and that the engine that made it is compatible with
        // this one (same version and compilation settings) before using it.
        let runtime = self.runtime()?;
        let component = unsafe { Component::deserialize(&runtime.engine, &artefact) }.map_err(|e| {
            format!("the plugin compiler ({}) did not produce a usable artefact: {}", program.display(), first_line(&e))
        })?;
        let prepared = Arc::new(self.link(version, &component)?);
        if let Some(path) = self.cache_path(&runtime.key, sha256)
            && let Err(e) = write_atomically(&path, &artefact)
        {
            tracing::warn!(path = %path.display(), error = %e, "could not cache a compiled plugin");
        }
        self.prepared.lock().expect("plugin cache lock").insert(sha256.to_owned(), prepared.clone());
        Ok(prepared)
    }

    fn link(&self, version: WorldVersion, component: &Component) -> Result<Prepared, String> {
        let i = world_for(version).ok_or_else(|| unsupported(version))?;
        let selector = self.runtime()?.worlds[i].prepare(component).map_err(|e| {
            let world = WORLDS[i].0;
            let built = if version == world { String::new() } else { format!(" (it was built for {version})") };
            format!("the component does not fit world portcullis:mfa/selector@{world}{built}: {}", first_line(&e))
        })?;
        Ok(Prepared { version, selector })
    }

    /// Forgets a deleted plugin's artefacts.
    pub fn forget(&self, sha256: &str) {
        self.prepared.lock().expect("plugin cache lock").remove(sha256);
        // Without an engine this process has made and cached nothing; an artefact an earlier
        // run left goes with the next sweep (`sweep_cache`), as it is no stored plugin's.
        if let Some(runtime) = self.runtime.get()
            && let Some(path) = self.cache_path(&runtime.key, sha256)
        {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Removes cache files no stored plugin uses: artefacts of components that were never
    /// stored (an upload that failed after compiling) or whose last version was deleted on
    /// another node, artefacts of an older engine, and temporary files. Only files older than
    /// `grace`, so a compilation finishing for an upload in progress keeps its artefact.
    /// Returns how many were removed.
    pub fn sweep_cache(&self, used: &std::collections::HashSet<String>, grace: Duration) -> usize {
        let Some(dir) = &self.cache_dir else { return 0 };
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        let entries: Vec<_> = entries.flatten().collect();
        // An empty directory does not need the engine's key, so it is not made for nothing.
        if entries.is_empty() {
            return 0;
        }
        let Ok(runtime) = self.runtime() else { return 0 };
        let current = format!("-{}.cwasm", runtime.key);
        let mut removed = 0;
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let keep = name.strip_suffix(&current).is_some_and(|sha| used.contains(sha));
            let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|a| a >= grace));
            if !keep && old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Runs `evaluate` once in a fresh store, on this thread.
    pub fn evaluate_blocking(&self, plugin: &Prepared, limits: &Limits, input: &LoginContext) -> Evaluation {
        self.evaluate_with(None, plugin, limits, input).0
    }

    /// `plugin` instantiated with `limits` in a fresh store, ready for one evaluation (`None`
    /// when instantiating it failed: the evaluation that would have used it instantiates
    /// inline and reports the failure), and the processor time that took either way. Processor
    /// time, not wall-clock: a standby is made when nobody waits for it, on a thread below the
    /// request-serving ones, so it may wait for the CPU far longer than it uses it.
    pub fn standby(&self, plugin: &Arc<Prepared>, limits: &Limits) -> (Option<Standby>, Duration) {
        let Ok(started) = self.start(plugin, limits) else { return (None, Duration::ZERO) };
        let cpu = started.cpu;
        let standby = started.instance.is_ok().then(|| Standby { plugin: plugin.clone(), limits: *limits, started });
        (standby, cpu)
    }

    /// Runs `evaluate` once: in `standby` when it holds this plugin with these limits, in a
    /// fresh store otherwise (a standby of anything else is dropped first). Returns the
    /// evaluation and the used store, to be dropped once the evaluation is answered:
    /// resetting the store's pages is not what a login waits for.
    pub fn evaluate_with(
        &self,
        standby: Option<Standby>,
        plugin: &Prepared,
        limits: &Limits,
        input: &LoginContext,
    ) -> (Evaluation, Spent) {
        let context_bytes = input.text_bytes();
        if context_bytes > MAX_CONTEXT_BYTES {
            // Bounded going in too: what the login hands a plugin stays small and copyable.
            let e = Evaluation::failed(
                FailureKind::Unavailable,
                format!(
                    "the login context holds {context_bytes} bytes of text; at most {MAX_CONTEXT_BYTES} are passed"
                ),
            );
            return (e, Spent::default());
        }
        let mine = standby.filter(|s| std::ptr::eq(Arc::as_ptr(&s.plugin), plugin) && s.limits == *limits);
        let used_standby = mine.is_some();
        let started = match mine {
            Some(s) => {
                self.standbys_used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // Counted by the processor time it used: while it was made nobody waited, and
                // the thread may have waited for the CPU (see `standby`).
                Started { took: s.started.cpu, ..s.started }
            }
            None => match self.start(plugin, limits) {
                Ok(s) => s,
                Err(m) => return (Evaluation::failed(FailureKind::Unavailable, m), Spent::default()),
            },
        };
        let instantiated = started.instance.is_ok();
        let inline = if used_standby { Duration::ZERO } else { started.took };
        let (evaluation, store, call) = self.finish(started, input);
        (evaluation, Spent { _store: Some(store), ran: inline + call, instantiated })
    }

    /// A fresh store with `limits`, and `plugin` instantiated in it (or why it could not be);
    /// an error when the store could not even be set up.
    fn start(&self, plugin: &Prepared, limits: &Limits) -> Result<Started, String> {
        let memory_bytes = limits.memory_bytes.min(self.caps.max_memory_mib * 1024 * 1024) as usize;
        let state = HostState {
            limiter: MemoryCap { bytes: memory_bytes, exceeded: false },
            logs: LogBuffer {
                lines: vec![],
                bytes: 0,
                dropped: 0,
                max_lines: self.caps.max_log_lines,
                max_bytes: self.caps.max_log_bytes,
            },
        };
        let mut store = Store::new(&self.runtime()?.engine, state);
        store.limiter(|s| &mut s.limiter);
        let fuel = limits.fuel.min(self.caps.max_fuel);
        if let Err(e) = store.set_fuel(fuel) {
            return Err(first_line(&e));
        }
        let timeout_ms = limits.timeout_ms.min(self.caps.max_timeout_ms);
        store.set_epoch_deadline(deadline_ticks(Duration::from_millis(timeout_ms)));
        store.epoch_deadline_trap();
        let started = Instant::now();
        let cpu_started = thread_cpu_time();
        let instance = plugin.selector.instantiate(&mut store);
        let (took, cpu) = (started.elapsed(), thread_cpu_time().saturating_sub(cpu_started));
        Ok(Started { store, instance, fuel, timeout_ms, memory_bytes, took, cpu })
    }

    /// Calls `evaluate` in a started store, with what is left of the fuel and of the deadline
    /// after the instantiation: a standby's evaluation has the same budget as an inline one.
    /// Returns the evaluation, the store, and how long the call took.
    fn finish(&self, started: Started, input: &LoginContext) -> (Evaluation, Store<HostState>, Duration) {
        let Started { mut store, instance, fuel, timeout_ms, memory_bytes, took, cpu: instantiating } = started;
        let called = Instant::now();
        let cpu_started = thread_cpu_time();
        let result = instance.and_then(|i| {
            // Set again: a standby's deadline was counted from when it was made.
            store.set_epoch_deadline(deadline_ticks(Duration::from_millis(timeout_ms).saturating_sub(took)));
            i.evaluate(&mut store, input)
        });
        let call = called.elapsed();
        let duration_us = (took + call).as_micros() as u64;
        let interrupted = matches!(&result, Err(e) if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)));
        let fuel_used = (!interrupted).then(|| fuel - store.get_fuel().unwrap_or(0));
        // A selector cannot wait for anything (its only import is `log`): when it reaches its
        // deadline having had the CPU for less than half of it, the machine was too busy to run
        // it, which is a capacity failure (fail secure), not the plugin's.
        let cpu = instantiating + thread_cpu_time().saturating_sub(cpu_started);
        let starved = interrupted && cpu < Duration::from_millis(timeout_ms) / 2;
        let outcome = match result {
            _ if starved => Err(Failure {
                kind: FailureKind::Busy,
                message: format!(
                    "the plugin had the CPU for {} ms of its {timeout_ms} ms deadline: the server is overloaded",
                    cpu.as_millis()
                ),
            }),
            Ok(Ok(decision)) => self.check(decision),
            Ok(Err(message)) => {
                Err(Failure { kind: FailureKind::Error, message: truncate(message, self.caps.max_output_bytes) })
            }
            Err(e) => Err(classify(&e, store.data().limiter.exceeded, memory_bytes, fuel, timeout_ms)),
        };
        let logs = std::mem::take(&mut store.data_mut().logs.lines);
        let evaluation = Evaluation { outcome, logs, logs_dropped: store.data().logs.dropped, fuel_used, duration_us };
        (evaluation, store, call)
    }

    fn check(&self, mut d: Decision) -> Result<Decision, Failure> {
        // Bounded as a whole before anything is stored: a list longer than the factor kinds
        // there are can only be an attack on the decision log and the login's storage.
        if let Some(fs) = &mut d.allowed_factors {
            if fs.len() > MAX_ALLOWED_FACTORS {
                return Err(Failure {
                    kind: FailureKind::Output,
                    message: format!(
                        "`allowed-factors` lists {} entries; at most {MAX_ALLOWED_FACTORS} are accepted",
                        fs.len()
                    ),
                });
            }
            let mut seen = Vec::with_capacity(fs.len());
            fs.retain(|f| {
                !seen.contains(f) && {
                    seen.push(*f);
                    true
                }
            });
        }
        if d.text_bytes() > self.caps.max_output_bytes {
            return Err(Failure {
                kind: FailureKind::Output,
                message: format!(
                    "the decision carries {} bytes of text; the cap is {}",
                    d.text_bytes(),
                    self.caps.max_output_bytes
                ),
            });
        }
        d.validate().map_err(|m| Failure { kind: FailureKind::Invalid, message: m })?;
        Ok(d)
    }

    /// Components compiled since start.
    pub fn compiles(&self) -> u64 {
        self.compiles.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Evaluations that ran in a standby instance since start.
    pub fn standbys_used(&self) -> u64 {
        self.standbys_used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Standbys the evaluator threads hold now (each an instance of a plugin and its pages).
    pub fn standbys_held(&self) -> usize {
        self.evaluators.holding.iter().filter(|h| h.load(std::sync::atomic::Ordering::Relaxed)).count()
    }

    /// How long an evaluator thread keeps its standby with nothing to do (`STANDBY_IDLE`
    /// unless set here). A thread already waiting takes the new value after that wait.
    pub fn set_standby_idle(&self, idle: Duration) {
        // At least 10 ms: a thread must not spin on its queue.
        let ms = (idle.as_millis() as u64).max(10);
        self.evaluators.idle_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Marks `sha256` as being prepared; false when it already is (single flight).
    pub fn start_warming(&self, sha256: &str) -> bool {
        self.warming.lock().expect("plugin warming lock").insert(sha256.to_owned())
    }

    pub fn done_warming(&self, sha256: &str) {
        self.warming.lock().expect("plugin warming lock").remove(sha256);
    }

    /// The kernel thread ids of the evaluator threads (for diagnostics: `/proc/self/task/<id>`).
    pub fn evaluator_threads(&self) -> Vec<i32> {
        self.evaluators.tids.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Shadow runs dropped because the shadow budget was full, since start.
    pub fn shadow_dropped(&self) -> u64 {
        self.shadow_dropped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs an evaluation on an evaluator thread once its lane has room, so that a slow
    /// selector never holds up the async workers serving other logins. An active evaluation past
    /// its user's rate waits for the next token up to one token's worth of time (or its
    /// deadline, if longer); a scope in debt for processor time (`cpu::CpuShares`) waits up to
    /// the deadline for the refill; then it waits for its user's share, its scope's share and a
    /// slot for at most its own deadline. Any wait running out fails `busy` (which the
    /// selector treats as `fail_secure`, whatever `on_error` says). A shadow run takes a shadow
    /// slot only when one is free and the shadow runs' processor time is not spent, and is
    /// dropped otherwise; an admin's run waits for a slot up to `ADMIN_WAIT` and is not charged.
    pub async fn evaluate(
        self: &Arc<Self>,
        plugin: Arc<Prepared>,
        limits: Limits,
        input: Arc<LoginContext>,
        lane: Lane,
    ) -> Evaluation {
        let held = match &lane {
            Lane::Shadow => match self.shadow_slots.clone().try_acquire_owned() {
                Ok(p) if self.cpu.check(SHADOW_SCOPE, Instant::now()).is_ok() => {
                    Held { _slot: p, _scope: None, _user: None }
                }
                _ => {
                    self.shadow_dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Evaluation::failed(
                        FailureKind::Busy,
                        "the shadow budget (slots or processor time) is spent: this run was dropped",
                    );
                }
            },
            Lane::Admin => match tokio::time::timeout(ADMIN_WAIT, self.shadow_slots.clone().acquire_owned()).await {
                Ok(Ok(p)) => Held { _slot: p, _scope: None, _user: None },
                _ => {
                    return Evaluation::failed(
                        FailureKind::Busy,
                        "the shadow budget stayed full: this test run could not start; try again",
                    );
                }
            },
            Lane::Active { scope, user_id } => {
                let deadline = Duration::from_millis(limits.timeout_ms.max(50));
                if !self.paced(user_id, deadline.max(self.users.pace())).await {
                    return Evaluation::failed(
                        FailureKind::Busy,
                        format!(
                            "not run: this user started more than {} evaluations in the last minute \
                             (plugins.user_evaluations_per_minute)",
                            self.users.per_minute()
                        ),
                    );
                }
                if !self.in_credit(scope, deadline).await {
                    return self.out_of_processor_time();
                }
                match tokio::time::timeout(deadline, self.admit(scope, user_id)).await {
                    // Checked again with the slot held: the evaluations that were let in
                    // together while the scope was in credit may have spent it meanwhile.
                    Ok(Some(_)) if self.cpu.check(scope, Instant::now()).is_err() => {
                        return self.out_of_processor_time();
                    }
                    Ok(Some(h)) => h,
                    _ => {
                        return Evaluation::failed(
                            FailureKind::Busy,
                            "no evaluation slot came free within the plugin's deadline (this scope's or user's share is in use)",
                        );
                    }
                }
            }
        };
        // Logins keep a standby of their plugin ready on the thread; an admin's test does not.
        let keep_ready = !matches!(lane, Lane::Admin);
        // Charged on the evaluator thread, where the run happens whether or not the login that
        // asked for it is still waiting (a client that hangs up does not get a free run).
        let charged = match lane {
            Lane::Active { scope, .. } => Some(scope),
            Lane::Shadow => Some(SHADOW_SCOPE.to_owned()),
            Lane::Admin => None,
        };
        let host = self.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.evaluators.run(Box::new(move |ready: &mut Option<Standby>| {
            let mut held = held;
            let (evaluation, spent) = host.evaluate_with(ready.take(), &plugin, &limits, &input);
            if let Some(scope) = &charged {
                host.cpu.charge(scope, spent.ran, Instant::now());
            }
            // The user's evaluation is done: their place is given back before the answer, so
            // their next login never waits for what follows (on a busy core, the thread that
            // answered may not run again until the next login waits). The slot and the scope's
            // share stay held, as what follows is the plugin's work: the used store is reset,
            // and the next login's store instantiated.
            drop(held._user.take());
            let _ = tx.send(evaluation);
            let instantiated = spent.instantiated;
            drop(spent);
            if keep_ready && instantiated {
                let used;
                (*ready, used) = host.standby(&plugin, &limits);
                if let Some(scope) = &charged {
                    host.cpu.charge(scope, used, Instant::now());
                }
            }
        }));
        rx.await.unwrap_or_else(|_| Evaluation::failed(FailureKind::Trap, "the evaluation was aborted"))
    }

    fn out_of_processor_time(&self) -> Evaluation {
        Evaluation::failed(
            FailureKind::Busy,
            format!(
                "not run: this scope's plugin used its share of processor time ({} ms a second, \
                 plugins.scope_cpu_ms_per_second)",
                self.cpu.ms_per_second()
            ),
        )
    }

    /// Waits, up to `patience`, until `scope` is not in debt for processor time. A login that
    /// does not get there has waited all of it: a flood past the share is slowed to the
    /// deadline's pace instead of spinning the server with instant refusals.
    async fn in_credit(&self, scope: &str, patience: Duration) -> bool {
        let give_up = Instant::now() + patience;
        loop {
            let now = Instant::now();
            match self.cpu.check(scope, now) {
                Ok(()) => return true,
                Err(_) if now >= give_up => return false,
                Err(wait) => tokio::time::sleep(wait.min(give_up - now).max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Spends one of the user's tokens, waiting up to `patience` for the next one when the
    /// user is past the rate; `false` if none came (another of their logins took it).
    async fn paced(&self, user_id: &str, patience: Duration) -> bool {
        let give_up = Instant::now() + patience;
        loop {
            let now = Instant::now();
            match self.users.take_token(user_id, now) {
                Ok(()) => return true,
                Err(_) if now >= give_up => return false,
                Err(next) => tokio::time::sleep(next.max(Duration::from_millis(5)).min(give_up - now)).await,
            }
        }
    }

    /// The user's share, the scope's share and a slot, in that order; `None` if closed.
    async fn admit(self: &Arc<Self>, scope: &str, user_id: &str) -> Option<Held> {
        let user = UserShare::wait(self, user_id).await;
        let scope_sem = {
            let mut scopes = self.scopes.lock().expect("plugin scopes lock");
            scopes
                .entry(scope.to_owned())
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.per_scope)))
                .clone()
        };
        let scope_permit = scope_sem.acquire_owned().await.ok()?;
        let slot = self.slots.clone().acquire_owned().await.ok()?;
        Some(Held { _slot: slot, _scope: Some(scope_permit), _user: Some(user) })
    }
}

/// Niceness of the evaluator threads: below the threads serving requests, so that plugins
/// burning their deadlines (a flood on one app) take CPU mostly from each other. Not the idle
/// scheduling class (`SCHED_IDLE`): under a load of ordinary work it starves a selector
/// outright (a share of about 0.3%), turning every plugin's login on a busy machine into a
/// capacity failure; at nice 10 a fast selector still gets its microseconds. A selector
/// starved even so reaches its deadline with little CPU used, which is a capacity failure and
/// fails secure (see `evaluate_blocking`).
const EVALUATOR_NICE: i32 = 10;

/// How long an evaluator thread keeps its standby with nothing to do: a standby saves a login
/// the instantiation under load, and an idle server need not hold the instance's pages.
const STANDBY_IDLE: Duration = Duration::from_secs(60);

/// A job for an evaluator thread, given the thread's standby (see `Standby`).
type Job = Box<dyn FnOnce(&mut Option<Standby>) + Send>;

/// A fixed set of threads running evaluations. Admission (the slots) bounds how many run at
/// once to the number of threads, so a job never waits here for a thread.
struct Evaluators {
    jobs: flume::Sender<Job>,
    /// The kernel thread ids of the threads, by place (0 until a thread has started).
    tids: Arc<Mutex<Vec<i32>>>,
    /// Which threads hold a standby now, by place.
    holding: Arc<Vec<std::sync::atomic::AtomicBool>>,
    /// How long a thread keeps its standby with nothing to do, in milliseconds.
    idle_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Evaluators {
    fn start(threads: usize) -> anyhow::Result<Evaluators> {
        let (tx, rx) = flume::unbounded::<Job>();
        let tids = Arc::new(Mutex::new(vec![0; threads]));
        let holding: Arc<Vec<_>> = Arc::new((0..threads).map(|_| std::sync::atomic::AtomicBool::new(false)).collect());
        let idle_ms = Arc::new(std::sync::atomic::AtomicU64::new(STANDBY_IDLE.as_millis() as u64));
        for i in 0..threads {
            let (rx, tids, holding, idle_ms) = (rx.clone(), tids.clone(), holding.clone(), idle_ms.clone());
            std::thread::Builder::new()
                .name(format!("plugin-eval-{i}"))
                .spawn(move || {
                    // On Linux the niceness set for thread id 0 is this thread's alone. Failing
                    // to lower it leaves the thread at the server's priority.
                    // SAFETY: system calls on this thread's own id and scheduling priority.
                    let tid = unsafe {
                        libc::setpriority(libc::PRIO_PROCESS, 0, EVALUATOR_NICE);
                        libc::gettid()
                    };
                    tids.lock().unwrap_or_else(|e| e.into_inner())[i] = tid;
                    let mut ready = None;
                    loop {
                        let idle = Duration::from_millis(idle_ms.load(std::sync::atomic::Ordering::Relaxed));
                        match rx.recv_timeout(idle) {
                            // A panic ends the job (its answer is dropped: `aborted`), not the thread.
                            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut ready)))),
                            // Idle: the standby's instance goes back to the pool, with its
                            // pages (its plugin may have been deleted or unassigned since).
                            Err(flume::RecvTimeoutError::Timeout) => ready = None,
                            Err(flume::RecvTimeoutError::Disconnected) => break,
                        }
                        holding[i].store(ready.is_some(), std::sync::atomic::Ordering::Relaxed);
                    }
                })
                .map_err(|e| anyhow::anyhow!("plugin evaluator thread: {e}"))?;
        }
        Ok(Evaluators { jobs: tx, tids, holding, idle_ms })
    }

    fn run(&self, job: Job) {
        let _ = self.jobs.send(job);
    }
}

/// What an admitted evaluation holds until it ends (on the blocking pool, so a login that
/// gives up does not free a slot whose evaluation still runs).
struct Held {
    _slot: tokio::sync::OwnedSemaphorePermit,
    _scope: Option<tokio::sync::OwnedSemaphorePermit>,
    _user: Option<UserShare>,
}

/// One of a user's places (`users::PER_USER`); given back on drop.
struct UserShare {
    host: Arc<PluginHost>,
    user_id: String,
}

impl UserShare {
    /// Waits for one of the user's two places.
    async fn wait(host: &Arc<PluginHost>, user_id: &str) -> UserShare {
        while !host.users.enter(user_id, Instant::now()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        UserShare { host: host.clone(), user_id: user_id.to_owned() }
    }
}

impl Drop for UserShare {
    fn drop(&mut self) {
        self.host.users.leave(&self.user_id, Instant::now());
    }
}

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_THREAD_CPUTIME_ID exists on
    // every Linux.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn classify(e: &wasmtime::Error, memory_exceeded: bool, memory_bytes: usize, fuel: u64, timeout_ms: u64) -> Failure {
    let (kind, message) = if memory_exceeded {
        (FailureKind::Memory, format!("grew past the memory cap of {} MiB", memory_bytes / (1024 * 1024)))
    } else {
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => (FailureKind::Fuel, format!("ran out of fuel ({fuel} instructions)")),
            Some(Trap::Interrupt) => (FailureKind::Timeout, format!("ran past the {timeout_ms} ms deadline")),
            Some(t) => (FailureKind::Trap, format!("trapped: {t}")),
            // Not a trap, with wasm frames on the stack: it failed inside a call the selector
            // made, and its only import is `log` (a bad pointer, length or UTF-8 string).
            None if e.downcast_ref::<wasmtime::WasmBacktrace>().is_some() => {
                (FailureKind::Invalid, format!("called `log` with an invalid string: {}", first_line(&e.root_cause())))
            }
            // Not a trap, after the call: the values it returned do not lift into a decision.
            None => (FailureKind::Invalid, format!("returned an invalid decision: {}", first_line(e))),
        }
    };
    Failure { kind, message }
}

fn first_line(e: &dyn fmt::Display) -> String {
    let s = e.to_string();
    truncate(s.lines().next().unwrap_or_default().to_owned(), 500)
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

fn unsupported(v: WorldVersion) -> String {
    let known: Vec<String> = supported().iter().map(|w| format!("{w} and later {}.x", w.major)).collect();
    format!(
        "the component targets portcullis:mfa@{v}, which this Portcullis does not run (supported: {}; build \
         against plugins/wit/{})",
        known.join(", "),
        latest::MIN_VERSION
    )
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

/// Advances the engine's epoch until the engine is gone: one tick per `TICK` of wall-clock time,
/// counted from the start, so a ticker thread that wakes late under load catches up at once
/// instead of stretching every deadline by its own delays.
fn spawn_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            let started = Instant::now();
            let mut ticks: u128 = 0;
            loop {
                std::thread::sleep(TICK);
                let Some(engine) = weak.upgrade() else { break };
                let due = started.elapsed().as_millis() / TICK.as_millis();
                while ticks < due {
                    engine.increment_epoch();
                    ticks += 1;
                }
            }
        })
        .map(drop)
}

/// Reads the world version a component was built for from its import names
/// (`portcullis:mfa/...@X.Y.Z`), before anything is compiled, and refuses imports the host
/// does not provide.
pub fn inspect(bytes: &[u8]) -> Result<WorldVersion, String> {
    use wasmparser::{Parser, Payload};
    if !Parser::is_component(bytes) {
        return Err(if Parser::is_core_wasm(bytes) {
            "this is a core WebAssembly module, not a component; wrap it with `wasm-tools component new` \
             or build with a component toolchain"
                .into()
        } else {
            "not a WebAssembly component".into()
        });
    }
    let mut depth = 0usize;
    let mut versions = std::collections::BTreeSet::new();
    let mut foreign = vec![];
    let mut exports_evaluate = false;
    let malformed = |e: wasmparser::BinaryReaderError| format!("malformed component: {e}");
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(malformed)?;
                    let name = import.name.name;
                    // Named types the world `use`s are imports too; they grant nothing.
                    if matches!(import.ty, wasmparser::ComponentTypeRef::Type(_)) {
                        continue;
                    }
                    match package_version(name) {
                        Some(Some(v)) => {
                            versions.insert(v.to_owned());
                        }
                        _ => foreign.push(name.to_owned()),
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let name = export.map_err(malformed)?.name.name;
                    exports_evaluate |= name == "evaluate";
                    if let Some(Some(v)) = package_version(name) {
                        versions.insert(v.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    if !foreign.is_empty() {
        return Err(format!(
            "the component imports {}; a selector may import only portcullis:mfa/host (no WASI: build \
             without it, e.g. componentize-qjs --stub-wasi)",
            foreign.join(", ")
        ));
    }
    if !exports_evaluate {
        return Err("the component does not export `evaluate` (world portcullis:mfa/selector)".into());
    }
    let version = match versions.len() {
        // A selector that uses no named type of the package: it can only be the base version.
        0 => WORLDS[0].0,
        1 => {
            let v = versions.into_iter().next().expect("one version");
            WorldVersion::parse(&v).ok_or_else(|| format!("unreadable world version `{v}`"))?
        }
        _ => {
            return Err(format!(
                "the component mixes versions of portcullis:mfa ({})",
                versions.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    };
    if world_for(version).is_none() {
        return Err(unsupported(version));
    }
    Ok(version)
}

/// Most functions, over all core modules of a component: compilation time and memory grow
/// with them (a selector needs hundreds; the JavaScript engine a few thousand).
pub const MAX_FUNCTIONS: u32 = 100_000;

/// Most bytes of code, over all core modules of a component.
pub const MAX_CODE_BYTES: u64 = 24 * 1024 * 1024;

/// Limits read from the parsed modules before anything is compiled, each named when hit: the
/// number of functions, the size of their code, and memories that start above the cap.
pub fn check_size(bytes: &[u8], max_memory_mib: u64) -> Result<(), String> {
    use wasmparser::{Parser, Payload};
    let malformed = |e: wasmparser::BinaryReaderError| format!("malformed component: {e}");
    let (mut functions, mut code) = (0u32, 0u64);
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::FunctionSection(reader) => functions = functions.saturating_add(reader.count()),
            Payload::CodeSectionStart { size, .. } => code += u64::from(size),
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let m = memory.map_err(malformed)?;
                    let initial_mib = m.initial.saturating_mul(65536) / (1024 * 1024);
                    if initial_mib > max_memory_mib {
                        return Err(format!(
                            "a memory of the component starts at {initial_mib} MiB, above the plugin memory cap of \
                             {max_memory_mib} MiB (plugins.max_memory_mib)"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if functions > MAX_FUNCTIONS {
        return Err(format!("the component has {functions} functions; at most {MAX_FUNCTIONS} are accepted"));
    }
    if code > MAX_CODE_BYTES {
        return Err(format!(
            "the component has {} MiB of code; at most {} MiB are accepted",
            code / (1024 * 1024),
            MAX_CODE_BYTES / (1024 * 1024)
        ));
    }
    Ok(())
}

/// `Some(version)` for a name in the `portcullis:mfa` package (`Some(None)` when unversioned).
fn package_version(name: &str) -> Option<Option<&str>> {
    let rest = name.strip_prefix("portcullis:mfa/")?;
    Some(rest.split_once('@').map(|(_, v)| v))
}
