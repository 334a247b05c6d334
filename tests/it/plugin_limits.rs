//! Hostile and broken selectors against the wasmtime host: each limit fixture ends in an
//! exact, named outcome, and the host keeps working afterwards.

use portcullis::mfa::policy::Policy;
use portcullis::plugin_host::{Evaluation, FailureKind, Limits, PluginHost, inspect};

use crate::common::plugin_caps;
use crate::plugin_fixtures as fx;

fn host() -> PluginHost {
    PluginHost::new(&plugin_caps(), None).unwrap()
}

fn run(host: &PluginHost, bytes: &[u8], limits: Limits) -> Evaluation {
    let sha = hex::encode(portcullis::crypto::sha256(bytes));
    let p = host.compile(&sha, bytes).expect("fixture compiles");
    host.evaluate_blocking(&p, &limits, &fx::context())
}

fn failure(e: &Evaluation) -> (FailureKind, String) {
    let f = e.outcome.as_ref().expect_err("the evaluation should fail");
    (f.kind, f.message.clone())
}

#[test]
fn a_well_behaved_selector_decides() {
    let h = host();
    let e = run(&h, &fx::fixed(Policy::Otp), h.default_limits());
    assert_eq!(e.outcome.unwrap().policy, Policy::Otp);
    assert!(e.fuel_used.unwrap() > 0);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let h = host();
    // A deadline far away, so that the fuel runs out first even on a loaded machine.
    let limits = Limits { timeout_ms: 10_000, ..h.default_limits() };
    let e = run(&h, &fx::infinite_loop(), limits);
    assert_eq!(failure(&e).0, FailureKind::Fuel, "{e:?}");
    assert_eq!(e.fuel_used, Some(h.default_limits().fuel));
}

#[test]
fn infinite_loop_with_ample_fuel_hits_the_deadline() {
    let h = host();
    let limits = Limits { fuel: 1_000_000_000, timeout_ms: 100, ..h.default_limits() };
    // On a machine busy with other tests, a run may get less than half of its deadline in CPU
    // time: that one is a capacity failure (`busy`, see below), so a few runs are allowed.
    let mut timed_out = false;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let e = run(&h, &fx::infinite_loop(), limits);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Wasmtime does not flush its fuel counter when the deadline interrupts a loop: the
        // figure would be a few hundred instructions for 100 ms of work, so it is not reported.
        assert_eq!(e.fuel_used, None, "{e:?}");
        match failure(&e) {
            (FailureKind::Timeout, _) => {
                timed_out = true;
                break;
            }
            (FailureKind::Busy, m) => assert!(m.contains("overloaded"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(timed_out);
}

/// A selector cannot wait for anything, so reaching the deadline with little CPU used means
/// the machine starved it: a capacity failure (`busy`, which fails secure whatever `on_error`
/// says), not the plugin's timeout. Here the evaluation shares one CPU, at the lowest priority,
/// with three spinning threads.
#[test]
fn a_selector_starved_of_cpu_fails_busy() {
    fn pin_to_cpu0() {
        // SAFETY: plain system calls on this thread's own affinity and priority.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            assert_eq!(libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set), 0);
        }
    }
    let h = std::sync::Arc::new(host());
    let bytes = fx::infinite_loop();
    let p = h.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinners: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                pin_to_cpu0();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let limits = Limits { fuel: 1_000_000_000, timeout_ms: 200, ..h.default_limits() };
    let h2 = h.clone();
    let e = std::thread::spawn(move || {
        pin_to_cpu0();
        // SAFETY: lowers this thread's own priority.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        h2.evaluate_blocking(&p, &limits, &fx::context())
    })
    .join()
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spinners.into_iter().for_each(|t| t.join().unwrap());
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Busy, "{message}");
    assert!(message.contains("of its 200 ms deadline: the server is overloaded"), "{message}");
}

/// (niceness, scheduling policy) of each of the host's evaluator threads, once all started.
fn evaluator_threads(h: &PluginHost) -> Vec<(i32, i32, i32)> {
    for _ in 0..200 {
        let tids = h.evaluator_threads();
        if tids.iter().all(|t| *t != 0) {
            return tids
                .into_iter()
                // SAFETY: reads the scheduling of threads of this process.
                .map(|t| unsafe { (t, libc::getpriority(libc::PRIO_PROCESS, t as u32), libc::sched_getscheduler(t)) })
                .collect();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the evaluator threads did not start");
}

/// Evaluations run below the threads serving requests: nice 10, in the ordinary class (the idle
/// class would starve every selector on a busy machine).
#[test]
fn evaluator_threads_run_below_the_request_serving_threads() {
    let h = host();
    let threads = evaluator_threads(&h);
    assert!(!threads.is_empty());
    assert!(threads.iter().all(|(_, nice, policy)| (*nice, *policy) == (10, libc::SCHED_OTHER)), "{threads:?}");
}

/// With the shadow budget full, a shadow run is dropped but an admin's test (or a replay's run)
/// waits for room and runs.
#[test]
fn admin_runs_wait_for_the_shadow_budget_shadow_runs_are_dropped() {
    use portcullis::plugin_host::Lane;
    let caps = portcullis::config::PluginsConfig { max_concurrent: 1, ..plugin_caps() };
    let h = std::sync::Arc::new(PluginHost::new(&caps, None).unwrap());
    let compile = |bytes: Vec<u8>| h.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).unwrap();
    let (slow, fast) = (compile(fx::infinite_loop()), compile(fx::fixed(Policy::Otp)));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let input = std::sync::Arc::new(fx::context());
    let long = Limits { fuel: 1_000_000_000, timeout_ms: 300, ..h.default_limits() };
    let (h2, i2) = (h.clone(), input.clone());
    let busy = rt.spawn(async move { h2.evaluate(slow, long, i2, Lane::Shadow).await });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let dropped = rt.block_on(h.evaluate(fast.clone(), h.default_limits(), input.clone(), Lane::Shadow));
    assert_eq!(failure(&dropped).0, FailureKind::Busy, "{dropped:?}");
    let admin = rt.block_on(h.evaluate(fast, h.default_limits(), input, Lane::Admin));
    assert_eq!(admin.outcome.as_ref().map(|d| d.policy), Ok(Policy::Otp), "{admin:?}");
    assert!(rt.block_on(busy).unwrap().outcome.is_err());
}

/// A run whose login hung up (its future dropped) still ran on its evaluator thread, and is
/// charged to its scope all the same: abandoning requests is no way around the scope's share of
/// processor time. Other scopes keep theirs.
#[test]
fn an_abandoned_run_is_charged_to_its_scope() {
    use portcullis::plugin_host::Lane;
    let caps = portcullis::config::PluginsConfig {
        scope_cpu_ms_per_second: 10,
        user_evaluations_per_minute: 0,
        ..plugin_caps()
    };
    let h = std::sync::Arc::new(PluginHost::new(&caps, None).unwrap());
    let compile = |bytes: Vec<u8>| h.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).unwrap();
    let (slow, fast) = (compile(fx::infinite_loop()), compile(fx::fixed(Policy::Otp)));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let input = std::sync::Arc::new(fx::context());
    let lane = |scope: &str| Lane::Active { scope: scope.into(), user_id: "u".into() };
    let long = Limits { fuel: 1_000_000_000, timeout_ms: 100, ..h.default_limits() };
    let (h2, i2, f) = (h.clone(), input.clone(), lane("f"));
    let abandoned = rt.spawn(async move { h2.evaluate(slow, long, i2, f).await });
    std::thread::sleep(std::time::Duration::from_millis(30));
    abandoned.abort();
    // The run goes on to its deadline on the evaluator thread: 100 ms against a burst of 40.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let next = rt.block_on(h.evaluate(fast.clone(), h.default_limits(), input.clone(), lane("f")));
    let (kind, message) = failure(&next);
    assert_eq!(kind, FailureKind::Busy, "{message}");
    assert!(message.contains("plugins.scope_cpu_ms_per_second"), "{message}");
    let other = rt.block_on(h.evaluate(fast, h.default_limits(), input, lane("c")));
    assert_eq!(other.outcome.as_ref().map(|d| d.policy), Ok(Policy::Otp), "{other:?}");
}

/// Logins' evaluations run in standby instances made after the previous answer on the same
/// evaluator thread, and each login still has a store of its own: a selector that remembers
/// its calls (in a global and in memory) never sees another login's, one after another or many
/// at once. A standby made under other limits is not used.
#[test]
fn standby_instances_serve_one_login_each() {
    use portcullis::plugin_host::Lane;
    use std::sync::Arc;
    let caps = portcullis::config::PluginsConfig { user_evaluations_per_minute: 0, ..plugin_caps() };
    let h = Arc::new(PluginHost::new(&caps, None).unwrap());
    let bytes = fx::counts_its_calls();
    let p = h.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let input = Arc::new(fx::context());
    let limits = h.default_limits();
    let lane = |u: usize| Lane::Active { scope: "global".into(), user_id: format!("user-{u}") };
    let threads = h.evaluator_threads().len() as u64;
    let sequential = 4 * threads;
    for i in 0..sequential as usize {
        let e = rt.block_on(h.evaluate(p.clone(), limits, input.clone(), lane(i)));
        assert_eq!(e.outcome.as_ref().map(|d| d.policy), Ok(Policy::Any), "call {i}: {e:?}");
    }
    // Each thread instantiates inline for its first evaluation of the plugin only.
    assert!(h.standbys_used() >= sequential - threads, "{} standbys used of {sequential}", h.standbys_used());

    let runs: Vec<_> = (0..64)
        .map(|i| {
            let (h, p, input) = (h.clone(), p.clone(), input.clone());
            rt.spawn(async move { h.evaluate(p, limits, input, lane(i)).await })
        })
        .collect();
    let mut decided = 0;
    for r in runs {
        let e = rt.block_on(r).unwrap();
        match &e.outcome {
            Ok(d) => {
                assert_eq!(d.policy, Policy::Any, "{e:?}");
                decided += 1;
            }
            // Many at once may meet the scope's share of slots: a capacity failure, never a
            // decision from another login's state.
            Err(f) => assert_eq!(f.kind, FailureKind::Busy, "{e:?}"),
        }
    }
    assert!(decided > 0);

    // Every thread now holds a standby made with `limits`; with a fuel budget too small to
    // instantiate, the evaluation must run inline under it and fail.
    let starved = Limits { fuel: 1, ..limits };
    for i in 0..threads as usize {
        let e = rt.block_on(h.evaluate(p.clone(), starved, input.clone(), lane(i)));
        assert_eq!(failure(&e).0, FailureKind::Fuel, "{e:?}");
    }
}

/// A thread with nothing to do gives its standby back (the instance and its pages; its plugin
/// may be gone), and the next login instantiates inline again, in a fresh store as ever.
#[test]
fn idle_threads_give_their_standbys_back() {
    use portcullis::plugin_host::Lane;
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let caps = portcullis::config::PluginsConfig { user_evaluations_per_minute: 0, ..plugin_caps() };
    let h = Arc::new(PluginHost::new(&caps, None).unwrap());
    h.set_standby_idle(Duration::from_millis(300));
    let bytes = fx::counts_its_calls();
    let p = h.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (input, limits) = (Arc::new(fx::context()), h.default_limits());
    let evaluate = |i: usize| {
        let lane = Lane::Active { scope: "global".into(), user_id: format!("user-{i}") };
        let e = rt.block_on(h.evaluate(p.clone(), limits, input.clone(), lane));
        assert_eq!(e.outcome.as_ref().map(|d| d.policy), Ok(Policy::Any), "call {i}: {e:?}");
    };
    let until = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: {} standbys held", h.standbys_held());
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    assert_eq!(h.standbys_held(), 0);
    for i in 0..2 * h.evaluator_threads().len() {
        evaluate(i);
    }
    // A standby is made after the answer.
    until("a standby is made", &|| h.standbys_held() > 0);
    until("every standby is given back when idle", &|| h.standbys_held() == 0);
    let used = h.standbys_used();
    evaluate(1000);
    assert_eq!(h.standbys_used(), used, "no standby was left to use");
}

#[test]
fn memory_bomb_stops_at_the_cap() {
    let h = host();
    let limits = Limits { memory_bytes: 4 * 1024 * 1024, ..h.default_limits() };
    let (kind, message) = failure(&run(&h, &fx::memory_bomb(), limits));
    assert_eq!(kind, FailureKind::Memory);
    assert!(message.contains("4 MiB"), "{message}");
}

#[test]
fn trap_is_reported() {
    let h = host();
    let (kind, message) = failure(&run(&h, &fx::trap(), h.default_limits()));
    assert_eq!(kind, FailureKind::Trap);
    assert!(message.contains("unreachable"), "{message}");
}

#[test]
fn log_spam_is_capped_and_counted() {
    let h = host();
    let e = run(&h, &fx::log_spam(), h.default_limits());
    assert_eq!(e.outcome.as_ref().unwrap().policy, Policy::Any);
    let caps = plugin_caps();
    assert_eq!(e.logs.len(), caps.max_log_lines);
    assert!(e.logs.iter().all(|l| l == "hello from wat"));
    assert_eq!(e.logs_dropped as usize, 1000 - caps.max_log_lines);
}

#[test]
fn invalid_decision_is_refused() {
    let h = host();
    let (kind, _) = failure(&run(&h, &fx::invalid_policy(), h.default_limits()));
    assert_eq!(kind, FailureKind::Invalid);
}

#[test]
fn oversized_output_is_refused() {
    let h = host();
    let (kind, message) = failure(&run(&h, &fx::long_reason(10_000), h.default_limits()));
    assert_eq!(kind, FailureKind::Output);
    assert!(message.contains("10000"), "{message}");
    // Within the cap it is fine.
    assert!(run(&h, &fx::long_reason(100), h.default_limits()).outcome.is_ok());
}

#[test]
fn an_err_is_a_failure_with_its_message() {
    let h = host();
    assert_eq!(
        failure(&run(&h, &fx::returns_err(), h.default_limits())),
        (FailureKind::Error, "hello from wat".into())
    );
}

#[test]
fn unknown_world_version_is_refused_before_compiling() {
    let bytes = fx::component_for("2.0.0", &fx::returns(Policy::Any));
    let err = inspect(&bytes).unwrap_err();
    assert!(err.contains("portcullis:mfa@2.0.0") && err.contains("supported: 1.0.0"), "{err}");
    let h = host();
    assert_eq!(h.compile("x", &bytes).err(), Some(err));
}

#[test]
fn a_later_minor_runs_when_it_fits_and_is_refused_when_it_needs_more() {
    let h = host();
    // Built for 1.3.0 of a contract the same as 1.1.0: the 1.1 bindings run it.
    let same = fx::component_for("1.3.0", &fx::returns(Policy::Otp));
    assert_eq!(inspect(&same).unwrap().to_string(), "1.3.0");
    let prepared = h.compile("later-minor", &same).unwrap();
    assert_eq!(prepared.version.to_string(), "1.3.0");
    let e = h.evaluate_blocking(&prepared, &h.default_limits(), &fx::context());
    assert_eq!(e.outcome.unwrap().policy, Policy::Otp);
    // Built for 1.3.0 and calling a host function 1.1 does not have: refused at upload,
    // naming the world it was linked against and the import that does not match.
    let more = fx::calls_a_newer_host_function("1.3.0");
    let err = h.compile("needs-more", &more).err().unwrap();
    assert!(err.contains("selector@1.1.0 (it was built for 1.3.0)"), "{err}");
    assert!(err.contains("portcullis:mfa/host@1.3.0"), "{err}");
    // A later major is another contract: refused before compiling.
    let major = fx::component_for("2.0.0", &fx::returns(Policy::Any));
    assert!(inspect(&major).unwrap_err().contains("portcullis:mfa@2.0.0"));
}

#[test]
fn both_published_minors_run_side_by_side() {
    let h = host();
    for (version, policy) in [("1.0.0", Policy::Otp), ("1.1.0", Policy::Passkey)] {
        let bytes = fx::component_for(version, &fx::returns(policy));
        let prepared = h.compile(version, &bytes).unwrap();
        assert_eq!(prepared.version.to_string(), version);
        let e = h.evaluate_blocking(&prepared, &h.default_limits(), &fx::context());
        assert_eq!(e.outcome.unwrap().policy, policy, "{version}");
    }
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    assert_eq!(inspect(b"hello, world").unwrap_err(), "not a WebAssembly component");
    let core = wat::parse_str("(module)").unwrap();
    assert!(inspect(&core).unwrap_err().contains("core WebAssembly module"));
    let mut truncated = fx::fixed(Policy::Any);
    truncated.truncate(truncated.len() / 2);
    assert!(inspect(&truncated).unwrap_err().starts_with("malformed component"));
}

#[test]
fn a_failed_evaluation_leaves_the_host_working() {
    let h = host();
    for bytes in [fx::trap(), fx::infinite_loop(), fx::memory_bomb()] {
        assert!(run(&h, &bytes, h.default_limits()).outcome.is_err());
    }
    assert_eq!(run(&h, &fx::fixed(Policy::Passkey), h.default_limits()).outcome.unwrap().policy, Policy::Passkey);
}

#[test]
fn js_example_runs_in_the_host() {
    let Some(bytes) = fx::js_example("risk-based") else { return };
    let h = host();
    let mut ctx = fx::context();
    let sha = hex::encode(portcullis::crypto::sha256(&bytes));
    let p = h.compile(&sha, &bytes).expect("the JS example compiles");
    let e = h.evaluate_blocking(&p, &h.default_limits(), &ctx);
    let d = e.outcome.expect("a decision");
    assert_eq!((d.policy, d.reason.as_deref()), (Policy::Optional, Some("no risk signal")));
    ctx.signals.new_ip = true;
    let e = h.evaluate_blocking(&p, &h.default_limits(), &ctx);
    let d = e.outcome.expect("a decision");
    assert_eq!((d.policy, d.allow_trusted_device), (Policy::Any, Some(false)));
    assert_eq!(e.logs, vec!["alice: risk: new IP address".to_string()]);
}

/// The Rust and the JavaScript `risk-based` decide alike, signal by signal.
#[test]
fn rust_example_decides_like_the_js_one() {
    let (Some(rust), Some(js)) = (fx::rust_example("risk-based"), fx::js_example("risk-based")) else { return };
    let h = host();
    let compile = |bytes: &[u8]| h.compile(&hex::encode(portcullis::crypto::sha256(bytes)), bytes).unwrap();
    let (rust, js) = (compile(&rust), compile(&js));
    type Tweak = fn(&mut portcullis::plugin_host::context::LoginContext);
    let cases: [(Tweak, Policy, Option<&str>); 6] = [
        (|_| {}, Policy::Optional, None),
        (|c| c.signals.new_device = true, Policy::Any, Some("alice: risk: new device")),
        (|c| c.signals.recent_failed_attempts = 2, Policy::Optional, None),
        (
            |c| c.signals.recent_failed_attempts = 3,
            Policy::Any,
            Some("alice: risk: 3 failed attempts in the last hour"),
        ),
        (
            |c| {
                c.signals.new_ip = true;
                c.signals.password_changed_recently = true;
            },
            Policy::Any,
            Some("alice: risk: new IP address, password changed recently"),
        ),
        (
            |c| {
                c.static_policy = Policy::Passkey;
                c.signals.new_ip = true;
            },
            Policy::Passkey,
            Some("alice: risk: new IP address"),
        ),
    ];
    for (tweak, policy, log) in cases {
        let mut ctx = fx::context();
        tweak(&mut ctx);
        let r = h.evaluate_blocking(&rust, &h.default_limits(), &ctx);
        let j = h.evaluate_blocking(&js, &h.default_limits(), &ctx);
        assert_eq!(r.logs, log.map(str::to_owned).into_iter().collect::<Vec<_>>());
        assert_eq!(r.logs, j.logs);
        let (r, j) = (r.outcome.expect("a decision"), j.outcome.expect("a decision"));
        assert_eq!(r.policy, policy, "{:?}", r.reason);
        assert_eq!(r, j, "the two examples agree");
        assert_eq!(r.allow_trusted_device, log.map(|_| false));
    }
}

#[test]
fn compiled_artefacts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let caps = plugin_caps();
    let bytes = fx::fixed(Policy::Otp);
    let sha = hex::encode(portcullis::crypto::sha256(&bytes));
    let v1 = portcullis::plugin_host::WorldVersion { major: 1, minor: 0, patch: 0 };
    let first = PluginHost::new(&caps, Some(dir.path().to_path_buf())).unwrap();
    assert!(first.cached(&sha, v1).is_none());
    first.compile(&sha, &bytes).unwrap();
    drop(first);
    // A new process: the artefact is loaded from disk, without the original bytes.
    let second = PluginHost::new(&caps, Some(dir.path().to_path_buf())).unwrap();
    let p = second.cached(&sha, v1).expect("cached artefact");
    let e = second.evaluate_blocking(&p, &second.default_limits(), &fx::context());
    assert_eq!(e.outcome.unwrap().policy, Policy::Otp);
    drop(second);
    // A corrupt cache entry is discarded, not trusted.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let third = PluginHost::new(&caps, Some(dir.path().to_path_buf())).unwrap();
    assert!(third.cached(&sha, v1).is_none());
}

/// A decision is bounded as a whole before anything is stored: ten million `allowed-factors`
/// are an `output` failure (handled by `on_error`), a short list with repeats is kept, once each.
#[test]
fn oversized_lists_are_output_failures() {
    let h = host();
    let limits = Limits { memory_bytes: 64 * 1024 * 1024, ..h.default_limits() };
    let e = run(&h, &fx::many_factors(10_000_000), limits);
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Output, "{message}");
    assert!(message.contains("allowed-factors") && message.contains("10000000"), "{message}");
    let e = run(&h, &fx::many_factors(3), h.default_limits());
    let d = e.outcome.expect("three repeats of one factor are fine");
    assert_eq!(d.allowed_factors, Some(vec![portcullis::mfa::policy::Factor::Totp]), "kept once");
}

/// The context going in is bounded too: a user in a great many groups is not copied into
/// every plugin's memory.
#[test]
fn oversized_context_is_refused_before_the_plugin_runs() {
    let h = host();
    let mut ctx = fx::context();
    ctx.user.groups = (0..20_000).map(|i| format!("group-{i}")).collect();
    let bytes = fx::fixed(Policy::Any);
    let sha = hex::encode(portcullis::crypto::sha256(&bytes));
    let p = h.compile(&sha, &bytes).unwrap();
    let e = h.evaluate_blocking(&p, &h.default_limits(), &ctx);
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Unavailable);
    assert!(message.contains("login context"), "{message}");
    assert_eq!(e.fuel_used, Some(0), "the plugin never ran");
}

/// Limits read before compiling, each named: an initial memory above the cap, and more
/// functions than a selector could need (compilation time and memory grow with them).
#[test]
fn oversized_components_are_refused_before_compiling() {
    let h = host();
    let big_memory = fx::component_with("1.0.0", 5000, "", &fx::returns(Policy::Any));
    let err = h.compile("big-memory", &big_memory).err().expect("refused");
    assert!(err.contains("starts at 312 MiB") && err.contains("plugins.max_memory_mib"), "{err}");
    let n = portcullis::plugin_host::MAX_FUNCTIONS + 1;
    let many = fx::component_with("1.0.0", 2, &"(func)".repeat(n as usize), &fx::returns(Policy::Any));
    let started = std::time::Instant::now();
    let err = h.compile("many-functions", &many).err().expect("refused");
    assert!(err.contains("functions; at most 100000 are accepted"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused without compiling");
    assert!(h.loaded("many-functions").is_none());
}

/// A `log` call with a bad pointer, length or invalid UTF-8 is named for what it is, not as an
/// invalid decision; a bad return value still is.
#[test]
fn a_bad_log_call_is_named() {
    let h = host();
    for (what, body) in [
        ("out of bounds", format!("(call $log (i32.const 999999999) (i32.const 10)) {}", fx::returns(Policy::Any))),
        (
            "invalid UTF-8",
            format!(
                "(i32.store8 (i32.const 600) (i32.const 255)) (call $log (i32.const 600) (i32.const 1)) {}",
                fx::returns(Policy::Any)
            ),
        ),
    ] {
        let (kind, message) = failure(&run(&h, &fx::component(&body), h.default_limits()));
        assert_eq!(kind, FailureKind::Invalid, "{what}");
        assert!(message.starts_with("called `log` with an invalid string: "), "{what}: {message}");
        assert!(!message.ends_with(": "), "{what}: the cause is named: {message}");
    }
    let (_, message) = failure(&run(&h, &fx::component("(i32.const 999999999)"), h.default_limits()));
    assert!(message.starts_with("returned an invalid decision"), "{message}");
}

/// Bulk instructions are charged a unit of fuel per byte, before they run: a plugin filling
/// its whole memory again and again stops when the next fill would exceed its fuel (and a
/// single instruction can never run on beyond its budget).
#[test]
fn bulk_instructions_are_charged_per_byte() {
    let h = host();
    let fill = 32 * 1024 * 1024;
    let limits = Limits { memory_bytes: fill, timeout_ms: 2_000, fuel: 3 * fill };
    let e = run(&h, &fx::bulk_fill(32), limits);
    let (kind, message) = failure(&e);
    assert_eq!(kind, FailureKind::Fuel, "{message}");
    assert!(e.fuel_used.unwrap() <= 3 * fill, "{:?}", e.fuel_used);
}
