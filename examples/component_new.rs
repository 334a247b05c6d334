//! Wraps a core WebAssembly module that embeds its WIT world (as wit-bindgen leaves it) into a
//! component, validated: what `wasm-tools component new` does, with the wit-component crate the
//! tests build anyway, so the test command need not compile wasm-tools (about 7 minutes on a
//! small machine). `plugins/examples/rust/build.sh` uses it when `PORTCULLIS_COMPONENT_NEW`
//! names it.
//!
//!     cargo run --example component_new -- CORE.wasm COMPONENT.wasm

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = &args[..] else { anyhow::bail!("usage: component_new CORE.wasm COMPONENT.wasm") };
    let core = std::fs::read(input).map_err(|e| anyhow::anyhow!("cannot read {input}: {e}"))?;
    let component = wit_component::ComponentEncoder::default().module(&core)?.validate(true).encode()?;
    std::fs::write(output, component).map_err(|e| anyhow::anyhow!("cannot write {output}: {e}"))?;
    Ok(())
}
