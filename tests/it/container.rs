//! The container recipe stays in step with the build it documents: its build stage installs the
//! same Debian packages as `scripts/lib.sh` and builds with `--locked`; the image runs as a
//! non-root user with a health check. (Building the image needs Docker, which CI here lacks.)

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_dockerfile_builds_like_the_readme() {
    let dockerfile = read("Dockerfile");
    let lib = read("scripts/lib.sh");
    let line = lib.lines().find(|l| l.starts_with("BUILD_PACKAGES=(")).expect("BUILD_PACKAGES in scripts/lib.sh");
    let packages = line.trim_start_matches("BUILD_PACKAGES=(").trim_end_matches(')');
    let (build, runtime) = dockerfile.split_once("\nFROM debian:12-slim").expect("a build stage and a runtime stage");
    for p in packages.split_whitespace() {
        assert!(build.split_whitespace().any(|w| w == p), "the build stage lacks {p}");
    }
    assert!(build.contains("cargo build --release --locked"), "a locked release build");
    let user = runtime.lines().find(|l| l.starts_with("USER ")).expect("a USER");
    assert!(!user.contains("root") && !user.trim().ends_with(" 0"), "{user}");
    assert!(runtime.contains("HEALTHCHECK") && runtime.contains("\"portcullis\", \"health\""));
    for copied in runtime.lines().filter_map(|l| l.strip_prefix("COPY ")).filter(|l| !l.starts_with("--from")) {
        let src = copied.split_whitespace().next().unwrap();
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(src).exists(), "{src} is copied but missing");
    }
    assert!(read(".dockerignore").lines().any(|l| l == "target"), "the build context leaves target/ out");
}
