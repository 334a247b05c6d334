//! Selector components for tests: hand-written core modules (WAT) wrapped into components
//! against `plugins/wit/1.0.0` (or 1.1.0, for later versions) with `wit-component`, and the JavaScript examples built from
//! source with componentize-qjs (by `plugins/examples/js/build.sh`, which the README's test
//! command runs).

use std::path::PathBuf;

use portcullis::mfa::policy::{Factor, Policy};
use portcullis::plugin_host::context::{self as pc, LoginContext};

/// Where `return_area` lives in the fixture's memory, and the first byte the bump
/// allocator hands out.
const RET: u32 = 1024;

/// Byte offsets inside `result<decision, string>` at `RET` (canonical ABI layout: the
/// result's tag at 0, then the decision record aligned to 4).
pub mod at {
    // allowed-factors at 8, reauth-interval-minutes at 20, allow-trusted-device at 28.
    pub const POLICY: u32 = 4;
    pub const DENY: u32 = 32;
    pub const REASON: u32 = 44;
}

fn wit_dir(version: &str, host_extra: &str) -> PathBuf {
    // The published contract this version starts from: 1.0.0, or 1.1.0 for anything later.
    let base = if version == "1.0.0" { "1.0.0" } else { "1.1.0" };
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("plugins/wit").join(base);
    if version == base && host_extra.is_empty() {
        return src;
    }
    // A copy of the contract under another version number (a later minor, an unknown major),
    // its host interface perhaps offering more.
    let tag = if host_extra.is_empty() { "same" } else { "more" };
    let dir = std::env::temp_dir().join(format!("portcullis-wit-{version}-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(src.join("selector.wit")).unwrap();
    let text = text.replace(&format!("@{base}"), &format!("@{version}"));
    let text = text.replace("interface host {\n", &format!("interface host {{\n{host_extra}"));
    std::fs::write(dir.join("selector.wit"), text).unwrap();
    dir
}

/// Wraps a core module whose body is `evaluate` (it receives the context pointer in local 0
/// and must leave a pointer to the result on the stack) into a component.
pub fn component(evaluate_body: &str) -> Vec<u8> {
    component_for("1.0.0", evaluate_body)
}

pub fn component_for(version: &str, evaluate_body: &str) -> Vec<u8> {
    component_with(version, 2, "", evaluate_body)
}

/// A fixture with `memory_pages` of initial memory and `extra` module fields.
pub fn component_with(version: &str, memory_pages: u32, extra: &str, evaluate_body: &str) -> Vec<u8> {
    build(version, "", "", memory_pages, extra, evaluate_body)
}

/// A selector built for `version` of a contract whose host also offers `now: func() -> u64`
/// (what a later minor could add), which it calls: it fits only a host that has it.
pub fn calls_a_newer_host_function(version: &str) -> Vec<u8> {
    let import = format!(r#"(import "portcullis:mfa/host@{version}" "now" (func $now (result i64)))"#);
    let body = format!("(drop (call $now)) {}", returns(Policy::Any));
    build(version, "    now: func() -> u64;\n", &import, 2, "", &body)
}

fn build(version: &str, host_extra: &str, imports: &str, memory_pages: u32, extra: &str, body: &str) -> Vec<u8> {
    let evaluate_body = body;
    let wat = format!(
        r#"(module
  (import "portcullis:mfa/host@{version}" "log" (func $log (param i32 i32)))
  {imports}
  (memory (export "memory") {memory_pages})
  {extra}
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 512) "hello from wat")
  (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ret i32)
    (local.set $ret
      (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
               (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $ret) (local.get 3)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (drop (memory.grow (i32.const 1)))
        (br $grow)))
    (local.get $ret))
  (func (export "evaluate") (param i32) (result i32)
    (local $i i32)
    {evaluate_body})
)"#
    );
    let mut module = wat::parse_str(&wat).expect("fixture WAT parses");
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve.push_dir(wit_dir(version, host_extra)).expect("WIT parses");
    let world = resolve.select_world(&[pkg], Some("selector")).expect("world selector");
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)
        .expect("embed metadata");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("encode component")
}

/// Body returning `ok(decision { policy })` with every option `none`.
pub fn returns(policy: Policy) -> String {
    let p = Policy::ALL.iter().position(|x| *x == policy).unwrap();
    format!("(i32.store8 (i32.const {}) (i32.const {p})) (i32.const {RET})", RET + at::POLICY)
}

/// A selector that returns `policy`.
pub fn fixed(policy: Policy) -> Vec<u8> {
    component(&returns(policy))
}

/// A selector that counts its calls in a global and in linear memory: `any` on its first call
/// in an instance, `otp` on any later one (state carried over from another login).
pub fn counts_its_calls() -> Vec<u8> {
    let body = format!(
        "(global.set $calls (i32.add (global.get $calls) (i32.const 1))) \
         (i32.store (i32.const 2048) (i32.add (i32.load (i32.const 2048)) (i32.const 1))) \
         (if (result i32) (i32.or (i32.gt_u (global.get $calls) (i32.const 1)) \
                                  (i32.gt_u (i32.load (i32.const 2048)) (i32.const 1))) \
           (then {}) (else {}))",
        returns(Policy::Otp),
        returns(Policy::Any)
    );
    component_with("1.0.0", 2, "(global $calls (mut i32) (i32.const 0))", &body)
}

pub fn infinite_loop() -> Vec<u8> {
    component("(loop $l (br $l)) (i32.const 0)")
}

/// Small, valid and within every limit read before compiling, yet expensive to compile: one
/// function keeps `live` values on the stack at once (register allocation over all of them).
pub fn slow_to_compile(live: usize) -> Vec<u8> {
    let mut f = String::with_capacity(live * 20);
    f.push_str("(func $heavy (param i32) (result i32)\n");
    for _ in 0..live {
        f.push_str("local.get 0\n");
    }
    for _ in 1..live {
        f.push_str("i32.add\n");
    }
    f.push(')');
    component_with("1.0.0", 2, &f, &returns(Policy::Any))
}

/// Grows its memory to `mib` MiB, then fills all of it with one `memory.fill`, again and again.
/// A single bulk instruction runs to its end: it is what a deadline can be overshot by.
pub fn bulk_fill(mib: u32) -> Vec<u8> {
    let pages = mib * 16 - 2;
    component(&format!(
        "(drop (memory.grow (i32.const {pages}))) \
         (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.mul (memory.size) (i32.const 65536))) (br $l)) \
         (i32.const 0)"
    ))
}

pub fn memory_bomb() -> Vec<u8> {
    component("(loop $l (drop (memory.grow (i32.const 16))) (br $l)) (i32.const 0)")
}

pub fn trap() -> Vec<u8> {
    component("unreachable")
}

/// Logs a line 1000 times, then returns `any`.
pub fn log_spam() -> Vec<u8> {
    component(&format!(
        "(loop $l (call $log (i32.const 512) (i32.const 14)) (local.set $i (i32.add (local.get $i) (i32.const 1))) \
         (br_if $l (i32.lt_u (local.get $i) (i32.const 1000)))) {}",
        returns(Policy::Any)
    ))
}

/// An enum value outside `policy`.
pub fn invalid_policy() -> Vec<u8> {
    component(&format!("(i32.store8 (i32.const {}) (i32.const 9)) (i32.const {RET})", RET + at::POLICY))
}

/// `ok(decision { policy: any, reason: some(<len zero bytes>) })`.
pub fn long_reason(len: u32) -> Vec<u8> {
    component(&format!(
        "(i32.store8 (i32.const {pol}) (i32.const 2)) (i32.store8 (i32.const {tag}) (i32.const 1)) \
         (i32.store (i32.const {ptr}) (i32.const 8192)) (i32.store (i32.const {len_at}) (i32.const {len})) \
         (drop (memory.grow (i32.const 2))) (i32.const {RET})",
        pol = RET + at::POLICY,
        tag = RET + at::REASON,
        ptr = RET + at::REASON + 4,
        len_at = RET + at::REASON + 8,
    ))
}

/// `ok(decision { policy: any, allowed-factors: some([totp; n]) })`: a list of `n` entries.
pub fn many_factors(n: u32) -> Vec<u8> {
    let pages = (8192 + n) / 65536 + 1;
    component(&format!(
        "(i32.store8 (i32.const {pol}) (i32.const 2)) (i32.store8 (i32.const {tag}) (i32.const 1)) \
         (i32.store (i32.const {ptr}) (i32.const 8192)) (i32.store (i32.const {len_at}) (i32.const {n})) \
         (drop (memory.grow (i32.const {pages}))) (i32.const {RET})",
        pol = RET + at::POLICY,
        tag = RET + 8,
        ptr = RET + 12,
        len_at = RET + 16,
    ))
}

/// `err("hello from wat")`.
pub fn returns_err() -> Vec<u8> {
    component(&format!(
        "(i32.store8 (i32.const {RET}) (i32.const 1)) (i32.store (i32.const {}) (i32.const 512)) \
         (i32.store (i32.const {}) (i32.const 14)) (i32.const {RET})",
        RET + 4,
        RET + 8
    ))
}

/// `ok(decision { policy: disabled, deny: some("hello from wat") })`.
pub fn denies() -> Vec<u8> {
    component(&format!(
        "(i32.store8 (i32.const {}) (i32.const 1)) (i32.store (i32.const {}) (i32.const 512)) \
         (i32.store (i32.const {}) (i32.const 14)) (i32.const {RET})",
        RET + at::DENY,
        RET + at::DENY + 4,
        RET + at::DENY + 8
    ))
}

/// The JavaScript example `name` (e.g. `risk-based`), built from source by
/// `plugins/examples/js/build.sh`.
pub fn js_example(name: &str) -> Option<Vec<u8>> {
    example("js", name)
}

/// The Rust example `name`, built from source by `plugins/examples/rust/build.sh`.
pub fn rust_example(name: &str) -> Option<Vec<u8>> {
    example("rust", name)
}

/// `None` outside CI when the example has not been built; in CI (which builds every example
/// from source) a missing build fails the test.
fn example(lang: &str, name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("plugins/examples/{lang}/dist/{name}.wasm"));
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but {} is missing ({e}): the README's test command builds it", path.display());
            }
            let why = format!("{} is not built (plugins/examples/{lang}/build.sh)", path.display());
            eprintln!("skipping: {why}");
            // Shared with the benches, which have no `common`: the skip log by hand.
            if let Some(log) = std::env::var_os("PORTCULLIS_TEST_SKIP_LOG")
                && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log)
            {
                use std::io::Write;
                let _ = writeln!(f, "{why}");
            }
            None
        }
    }
}

/// A plain login context.
pub fn context() -> LoginContext {
    LoginContext {
        now: 1_800_000_000,
        user: pc::User {
            id: "0b4c1f9e-1111-4222-8333-944455556666".into(),
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            email_verified: true,
            groups: vec!["staff".into()],
            attributes: vec![],
            is_admin: false,
            created_at: 1_700_000_000,
            password_changed_at: Some(1_700_000_000),
        },
        factors: vec![pc::EnrolledFactor {
            kind: Factor::Totp,
            name: "Authenticator app".into(),
            created_at: 1_700_000_000,
            last_used_at: None,
        }],
        app: Some(pc::App {
            id: "app-1".into(),
            name: "Wiki".into(),
            protocol: "oidc".into(),
            policy: None,
            metadata: vec![],
        }),
        request: pc::Request { ip: Some("10.1.2.3".into()), ..Default::default() },
        session: None,
        device: pc::Device { known: true, ..Default::default() },
        signals: pc::Signals::default(),
        static_policy: Policy::Optional,
    }
}
