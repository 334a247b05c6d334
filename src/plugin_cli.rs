//! `portcullis plugin ...`: the plugin registry from the command line, and `plugin test`,
//! which runs a component on a context file without a server or database (for authors).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use portcullis::admin::Admin;
use portcullis::admin::plugins::{self, Upload};
use portcullis::config::Config;
use portcullis::plugin_host::context::LoginContext;
use portcullis::plugin_host::{Evaluation, Limits, PluginHost};
use portcullis::state::AppState;
use portcullis::store;
use serde_json::json;

use crate::{JsonOut, print, user_error};

#[derive(Subcommand)]
pub enum PluginCmd {
    /// Upload a component as the next version of NAME (compiled and checked against the world).
    Upload {
        file: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        out: JsonOut,
    },
    /// List uploaded plugins and where they run.
    List {
        #[command(flatten)]
        out: JsonOut,
    },
    /// Show a plugin (NAME, NAME@VERSION or id): metadata, assignments and statistics.
    Show {
        plugin: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Assign a plugin globally or to an app (or --remove the assignment).
    Assign {
        plugin: String,
        #[command(flatten)]
        scope: Scope,
        /// active | shadow | disabled
        #[arg(long, default_value = "active")]
        mode: String,
        /// fail_secure (default) | fail_open
        #[arg(long)]
        on_error: Option<String>,
        #[arg(long)]
        remove: bool,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Change a plugin's mode in a scope: active, shadow or disabled.
    Mode {
        plugin: String,
        mode: String,
        #[command(flatten)]
        scope: Scope,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Delete a plugin version (refused while it is assigned anywhere).
    Delete {
        plugin: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Run a stored plugin on the recorded contexts of recent logins and show where its
    /// decisions differ from what was enforced.
    Replay {
        plugin: String,
        #[arg(long, default_value_t = 100)]
        last: i64,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Run a component file on a login context (JSON), without a server or database.
    Test {
        file: PathBuf,
        #[arg(long)]
        context: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        out: JsonOut,
    },
}

/// A plugin's budget per evaluation; each defaults to [plugins] in the configuration.
#[derive(Args)]
pub struct LimitArgs {
    /// Fuel (instructions) per evaluation.
    #[arg(long)]
    fuel: Option<u64>,
    /// Linear memory, in MiB.
    #[arg(long)]
    memory_mib: Option<u64>,
    /// Wall-clock deadline, in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("scope").required(true).args(["global", "app"])))]
pub struct Scope {
    /// Every app (and sign-ins to Portcullis itself), unless an app has its own.
    #[arg(long)]
    global: bool,
    /// One app (its id).
    #[arg(long)]
    app: Option<String>,
}

impl Scope {
    fn as_str(&self) -> &str {
        self.app.as_deref().unwrap_or(store::plugins::GLOBAL)
    }
}

pub fn is_offline(cmd: &PluginCmd) -> bool {
    matches!(cmd, PluginCmd::Test { .. })
}

/// `plugin test`: no database, no cache directory.
pub fn test_offline(config: &Config, cmd: PluginCmd) -> anyhow::Result<bool> {
    let PluginCmd::Test { file, context, limits: LimitArgs { fuel, memory_mib, timeout_ms }, out } = cmd else {
        unreachable!("only `plugin test` runs offline")
    };
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let ctx_text = std::fs::read_to_string(&context).map_err(|e| anyhow::anyhow!("{}: {e}", context.display()))?;
    let ctx: LoginContext = serde_json::from_str(&ctx_text)
        .map_err(|e| anyhow::anyhow!("{}: not a login context: {e}", context.display()))?;
    let host = PluginHost::new(&config.plugins, None)?;
    let d = host.default_limits();
    let limits = Limits {
        fuel: fuel.unwrap_or(d.fuel),
        memory_bytes: memory_mib.map_or(d.memory_bytes, |m| m.saturating_mul(1024 * 1024)),
        timeout_ms: timeout_ms.unwrap_or(d.timeout_ms),
    };
    host.check_limits(&limits).map_err(|e| anyhow::anyhow!(e))?;
    let sha = hex::encode(portcullis::crypto::sha256(&bytes));
    let prepared = host.compile(&sha, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let eval = host.evaluate_blocking(&prepared, &limits, &ctx);
    print(out.json, json!(eval), || describe(&eval));
    Ok(eval.outcome.is_ok())
}

/// A plugin's text for a terminal: control characters (a newline forging another line, an
/// escape sequence reaching the terminal) are shown escaped, the rest as it is.
pub(crate) fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn describe(e: &Evaluation) -> String {
    let mut s = match &e.outcome {
        Ok(d) => format!("decision: {}", serde_json::to_string(d).expect("JSON serialises")),
        Err(f) => format!("failed ({}): {}", f.kind.as_str(), printable(&f.message)),
    };
    let fuel = e.fuel_used.map_or("unknown (stopped by the deadline)".to_owned(), |f| f.to_string());
    s.push_str(&format!("\nfuel used: {fuel}\ntime: {} µs", e.duration_us));
    for line in &e.logs {
        s.push_str(&format!("\nlog: {}", printable(line)));
    }
    if e.logs_dropped > 0 {
        s.push_str(&format!("\n({} log lines dropped or cut)", e.logs_dropped));
    }
    s
}

pub async fn run(state: AppState, cmd: PluginCmd) -> anyhow::Result<()> {
    let admin = Admin::operator();
    match cmd {
        PluginCmd::Upload { file, name, description, limits: LimitArgs { fuel, memory_mib, timeout_ms }, out } => {
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let up = Upload { name: &name, description: &description, bytes: &bytes, fuel, memory_mib, timeout_ms };
            let p = plugins::upload(&state, &admin, &up).await.map_err(user_error)?;
            print(out.json, json!(p), || {
                format!("uploaded {}@{} (world {}, sha256 {})", p.name, p.version, p.world_version, p.sha256)
            });
        }
        PluginCmd::List { out } => {
            let rows = plugins::list(&state, &admin).await?;
            print(out.json, json!(rows), || {
                let mut s = format!("{:<30}  {:<7}  {:>9}  {}", "PLUGIN", "WORLD", "BYTES", "ASSIGNED");
                for r in &rows {
                    let p = &r.plugin;
                    let assigned: Vec<String> =
                        r.assignments.iter().map(|a| format!("{}:{}", a.scope, a.mode)).collect();
                    let label = format!("{}@{}", p.name, p.version);
                    s.push_str(&format!(
                        "\n{label:<30}  {:<7}  {:>9}  {}",
                        p.world_version,
                        p.size,
                        assigned.join(", ")
                    ));
                }
                s
            });
        }
        PluginCmd::Show { plugin, out } => {
            let p = plugins::resolve(&state, &admin, &plugin).await.map_err(not_found(&plugin))?;
            let assignments = store::plugins::assignments(&state.db, Some(&p.id)).await?;
            let stats = plugins::stats(&state, &admin, &p).await?;
            let v = json!({"plugin": p, "assignments": assignments, "stats": stats});
            print(out.json, v.clone(), || serde_json::to_string_pretty(&v).expect("JSON serialises"));
        }
        PluginCmd::Assign { plugin, scope, mode, on_error, remove, out } => {
            let p = plugins::resolve(&state, &admin, &plugin).await.map_err(not_found(&plugin))?;
            if remove {
                plugins::unassign(&state, &admin, &p, scope.as_str()).await.map_err(not_found(&plugin))?;
                print(out.json, json!({"removed": scope.as_str()}), || {
                    format!("{}@{} no longer assigned to {}", p.name, p.version, scope.as_str())
                });
            } else {
                let a = plugins::assign(&state, &admin, &p, scope.as_str(), &mode, on_error.as_deref())
                    .await
                    .map_err(user_error)?;
                print(out.json, json!(a), || {
                    format!("{}@{}: {} in {} ({})", p.name, p.version, a.mode, a.scope, a.on_error)
                });
            }
        }
        PluginCmd::Mode { plugin, mode, scope, out } => {
            let p = plugins::resolve(&state, &admin, &plugin).await.map_err(not_found(&plugin))?;
            let a = plugins::assign(&state, &admin, &p, scope.as_str(), &mode, None).await.map_err(user_error)?;
            print(out.json, json!(a), || format!("{}@{}: {} in {}", p.name, p.version, a.mode, a.scope));
        }
        PluginCmd::Delete { plugin, out } => {
            let p = plugins::resolve(&state, &admin, &plugin).await.map_err(not_found(&plugin))?;
            plugins::delete(&state, &admin, &p).await.map_err(user_error)?;
            print(out.json, json!({"deleted": p.id}), || format!("deleted {}@{}", p.name, p.version));
        }
        PluginCmd::Replay { plugin, last, out } => {
            let p = plugins::resolve(&state, &admin, &plugin).await.map_err(not_found(&plugin))?;
            let r = plugins::replay(&state, &admin, &p, last, None).await?;
            print(out.json, json!(r), || {
                let mut s = format!("{} logins replayed, {} differ, {} failed", r.logins, r.differences, r.failures);
                for d in r.results.iter().filter(|d| d.differs) {
                    s.push_str(&format!(
                        "\n#{} user {}: enforced {:?}, candidate {:?}",
                        d.decision_id,
                        d.user_id.as_deref().unwrap_or("-"),
                        d.recorded.policy,
                        d.candidate.policy
                    ));
                }
                s
            });
        }
        PluginCmd::Test { .. } => unreachable!("`plugin test` runs offline"),
    }
    Ok(())
}

fn not_found(reference: &str) -> impl FnOnce(portcullis::error::AppError) -> anyhow::Error + '_ {
    move |e| match e {
        portcullis::error::AppError::NotFound => anyhow::anyhow!("no plugin `{reference}`"),
        other => user_error(other),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plugin_text_cannot_forge_lines_or_reach_the_terminal() {
        let shown = super::printable("ok\nlog: forged\u{1b}[2Jé");
        assert!(!shown.contains('\n') && !shown.contains('\u{1b}'), "{shown}");
        assert!(shown.contains("\\n") && shown.contains("\\u{1b}") && shown.ends_with('é'));
    }
}
