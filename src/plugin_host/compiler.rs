//! Compilation in a child process under a budget the kernel enforces.
//!
//! Cranelift cannot be interrupted and its memory cannot be capped from inside the process, so
//! a component is compiled by a child (`<program> __compile-plugin <caps>`, normally this very
//! executable) with `RLIMIT_CPU` (the kernel sends SIGXCPU, then SIGKILL), `RLIMIT_DATA`
//! (allocations past it fail and the child aborts) and no core dumps, at a lower scheduling
//! priority than the server, and killed by the parent once twice the CPU budget has passed on
//! the wall clock. The child reads the component on stdin and writes wasmtime's serialised
//! artefact on stdout; the parent loads it with `Component::deserialize`, which checks that
//! it was made by a compatible engine (same wasmtime, same compilation settings).

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use wasmtime::{Config, Engine};

use crate::config::PluginsConfig;

/// The first argument that turns the `portcullis` executable into a compiler child.
pub const WORKER_ARG: &str = "__compile-plugin";

/// Exit status of a child that refused or failed to compile the component (its reason on
/// stderr): anything else is a budget or a crash.
const REFUSED: u8 = 3;

/// Most bytes of a child's stderr kept for the error message.
const STDERR_CAP: u64 = 8 * 1024;

/// The engine settings that decide what compiled code looks like, shared by the server's
/// engine and the child's: an artefact is only usable by an engine built from the same.
pub(super) fn code_config() -> Config {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true).wasm_component_model(true);
    config
}

/// The program run as the compiler child.
pub(super) fn program(caps: &PluginsConfig) -> Result<PathBuf, String> {
    if !caps.compiler_program.is_empty() {
        return Ok(PathBuf::from(&caps.compiler_program));
    }
    std::env::current_exe().map_err(|e| format!("cannot find this program to compile plugins with: {e}"))
}

/// How long a compile may take on the wall clock before the child is killed: twice its CPU
/// budget (a machine busy with logins gives the low-priority child less than a core), and a
/// second for starting it.
pub fn wall_limit(caps: &PluginsConfig) -> Duration {
    Duration::from_secs(caps.compile_seconds * 2 + 1)
}

/// Compiles `bytes` in a child process within the configured budget and returns the
/// serialised artefact. The error names the limit that was hit, for the uploader.
pub(super) fn compile_in_child(program: &Path, caps: &PluginsConfig, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let caps_json = serde_json::to_string(caps).map_err(|e| e.to_string())?;
    let cpu = caps.compile_seconds;
    let memory = caps.compile_memory_mib * 1024 * 1024;
    let mut command = Command::new(program);
    command.arg(WORKER_ARG).arg(caps_json).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: between fork and exec the closure only makes system calls (setrlimit,
    // setpriority) on values prepared beforehand: no allocation, no lock.
    unsafe {
        command.pre_exec(move || {
            let limit = |resource, soft: u64, hard: u64| {
                let l = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
                if libc::setrlimit(resource, &l) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            };
            limit(libc::RLIMIT_CPU, cpu, cpu + 1)?;
            limit(libc::RLIMIT_DATA, memory, memory)?;
            limit(libc::RLIMIT_CORE, 0, 0)?;
            // Logins first: the compiler gets what the server leaves over.
            libc::setpriority(libc::PRIO_PROCESS, 0, 10);
            Ok(())
        });
    }
    let mut child =
        command.spawn().map_err(|e| format!("cannot start the plugin compiler ({}): {e}", program.display()))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let input = bytes.to_vec();
    // The child reads all of its input before it writes anything; each pipe still gets its
    // own thread, so a child that misbehaves cannot wedge the parent.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out_cap = memory;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = (&mut stdout).take(out_cap + 1).read_to_end(&mut out);
        r.map(|_| out)
    });
    let err_reader = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = (&mut stderr).take(STDERR_CAP).read_to_end(&mut err);
        // Drain the rest so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        err
    });
    let deadline = Instant::now() + wall_limit(caps);
    let (status, killed) = loop {
        match child.try_wait() {
            Ok(Some(status)) => break (status, false),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                break (child.wait().map_err(|e| e.to_string())?, true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for the plugin compiler: {e}")),
        }
    };
    let _ = writer.join();
    let out = reader.join().map_err(|_| "reading the plugin compiler's output".to_owned())?;
    let err = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let over_time =
        || format!("compiling the component takes longer than the compile budget of {cpu} s (plugins.compile_seconds)");
    let over_memory = || {
        format!(
            "compiling the component needs more than the compile budget of {} MiB (plugins.compile_memory_mib)",
            caps.compile_memory_mib
        )
    };
    if killed {
        return Err(over_time());
    }
    let out_of_memory = err.contains("memory allocation of") || err.contains("Cannot allocate memory");
    match (status.code(), status.signal()) {
        (Some(0), _) => {
            let out = out.map_err(|e| format!("reading the plugin compiler's output: {e}"))?;
            if out.len() as u64 > out_cap {
                return Err(over_memory());
            }
            Ok(out)
        }
        (Some(c), _) if c == i32::from(REFUSED) && !out_of_memory => Err(last_line(&err)),
        (_, Some(libc::SIGXCPU | libc::SIGKILL)) => Err(over_time()),
        _ if out_of_memory => Err(over_memory()),
        _ if err.contains("overflowed its stack") => {
            Err("compiling the component overflowed the compiler's stack".into())
        }
        _ => Err(format!("the plugin compiler failed ({status}): {}", last_line(&err))),
    }
}

fn last_line(s: &str) -> String {
    super::truncate(s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("no reason given").trim().to_owned(), 500)
}

/// The child: reads a component on stdin, compiles it and writes the artefact on stdout.
/// Runs before anything else in `main` (no configuration file, no runtime, no logging).
pub fn worker_main(args: &[std::ffi::OsString]) -> ExitCode {
    match worker(args) {
        Ok(artefact) => match std::io::stdout().lock().write_all(&artefact) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(REFUSED)
        }
    }
}

fn worker(args: &[std::ffi::OsString]) -> Result<Vec<u8>, String> {
    let caps: PluginsConfig = args
        .first()
        .and_then(|a| a.to_str())
        .and_then(|a| serde_json::from_str(a).ok())
        .ok_or("usage: portcullis __compile-plugin <plugin caps as JSON> < component.wasm")?;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(caps.max_upload_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("reading the component: {e}"))?;
    if bytes.len() > caps.max_upload_bytes {
        return Err(format!("the component is larger than {} bytes", caps.max_upload_bytes));
    }
    super::inspect(&bytes)?;
    super::check_size(&bytes, caps.max_memory_mib)?;
    let mut config = code_config();
    // One core: the other is the server's.
    config.parallel_compilation(false);
    let engine = Engine::new(&config).map_err(|e| format!("plugin engine: {e}"))?;
    engine
        .precompile_component(&bytes)
        .map_err(|e| format!("not a valid WebAssembly component: {}", super::first_line(&e)))
}
