//! Parses and validates every WGSL shader with naga, so a shader error shows up in `cargo test`
//! on machines without any GPU adapter.

use std::path::PathBuf;

fn shader_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("shaders")
}

#[test]
fn every_shader_parses_and_validates() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(shader_dir())
        .expect("shaders/ directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .wgsl files under {}", shader_dir().display());
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        let shown = path.display().to_string();
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string_with_path(&src, &shown)));
        // The kernels use only core WGSL (no extensions), so no optional capability is granted:
        // whatever validates here is accepted by every wgpu backend.
        let mut validator =
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
        validator.validate(&module).unwrap_or_else(|e| panic!("{}", e.emit_to_string_with_path(&src, &shown)));
    }
}

#[test]
fn maestro_kernel_has_expected_interface() {
    let src = std::fs::read_to_string(shader_dir().join("maestro.wgsl")).unwrap();
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let ep = module.entry_points.iter().find(|e| e.name == "main").expect("entry point `main`");
    assert_eq!(ep.stage, naga::ShaderStage::Compute);
    // The host dispatches rows of WG_SIZE invocations (src/gpu/evaluator.rs).
    assert_eq!(ep.workgroup_size, [gammaflow::gpu::WORKGROUP_SIZE, 1, 1]);
    let mut bindings: Vec<u32> = module
        .global_variables
        .iter()
        .filter_map(|(_, v)| {
            v.binding.as_ref().map(|b| {
                assert_eq!(b.group, 0);
                b.binding
            })
        })
        .collect();
    bindings.sort();
    assert_eq!(bindings, vec![0, 1, 2, 3]);
}
