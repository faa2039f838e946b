//! `importhook new`'s files and SDK lines (the projects are built in tests/tests/new_project.rs).

use super::*;

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("checkout")
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("importhook-new-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn names_become_crates_and_types() {
    assert_eq!(type_name("login-employee-number"), "LoginEmployeeNumber");
    assert_eq!(type_name("a_b-2c"), "AB2c");
    for bad in ["", "My-Strategy", "1st", "-x", "a b", "ümlaut"] {
        assert!(check_name(bad).is_err(), "{bad:?}");
    }
    assert!(check_name("login-employee-number").is_ok());
}

#[test]
fn the_sdk_is_the_checkout_by_default_or_one_given() {
    let root = checkout();
    assert_eq!(
        Sdk::locate(None).expect("default"),
        Sdk::Checkout(root.clone())
    );
    // The plugin-sdk folder (what --sdk-path took) stands for its checkout.
    assert_eq!(
        Sdk::locate(Some(&root.join("plugin-sdk"))).expect("plugin-sdk"),
        Sdk::Checkout(root.clone())
    );
    let err = Sdk::locate(Some(&root.join("host"))).expect_err("not an SDK");
    assert!(err.to_string().contains("pack-sdks.sh"), "{err}");
    let packed = temp("packed");
    std::fs::create_dir_all(packed.join(format!("rust/importhook-sdk-{}", sdk::RUST_VERSION)))
        .expect("mkdir");
    std::fs::write(
        packed.join(format!(
            "rust/importhook-sdk-{}/Cargo.toml",
            sdk::RUST_VERSION
        )),
        "",
    )
    .expect("write");
    let packed = packed.canonicalize().expect("canonical");
    assert_eq!(
        Sdk::locate(Some(&packed)).expect("packed"),
        Sdk::Packed(packed.clone())
    );
    let _ = std::fs::remove_dir_all(&packed);
}

#[test]
fn each_sdk_gives_each_language_its_dependency() {
    let root = checkout();
    let (line, patch) = Sdk::Checkout(root.clone()).rust().expect("rust");
    let dep: toml::Table = toml::from_str(&line).expect("TOML");
    assert_eq!(
        dep["importhook-sdk"]["path"].as_str(),
        root.join("plugin-sdk").to_str()
    );
    assert!(patch.is_empty());
    let packed = Path::new("/opt/sdk dir");
    let (line, patch) = Sdk::Packed(packed.into()).rust().expect("rust");
    let manifest: toml::Table =
        toml::from_str(&format!("[dependencies]\n{line}\n{patch}")).expect("TOML");
    assert_eq!(
        manifest["patch"]["crates-io"]["importhook-okta"]["path"].as_str(),
        Some(format!("/opt/sdk dir/rust/importhook-okta-{}", sdk::RUST_VERSION).as_str())
    );
    assert_eq!(
        manifest["patch"]["crates-io"]["importhook-login"]["path"].as_str(),
        Some(format!("/opt/sdk dir/rust/importhook-login-{}", sdk::RUST_VERSION).as_str())
    );
    assert_eq!(
        Sdk::Registry.rust().expect("rust").0,
        format!("importhook-sdk = \"{}\"", sdk::RUST_VERSION)
    );
    assert_eq!(
        Sdk::Packed(packed.into()).js(),
        format!("file:/opt/sdk dir/importhook-sdk-{}.tgz", sdk::js_version())
    );
    assert_eq!(
        Sdk::Checkout(root.clone()).python(),
        format!("-e {}", root.join("sdk-python").display())
    );
    assert!(
        Sdk::Packed(packed.into())
            .python()
            .ends_with("-py3-none-any.whl")
    );
    assert!(Sdk::Registry.explain(Lang::Js).contains("not published"));
    assert!(
        Sdk::Checkout(root)
            .explain(Lang::Python)
            .contains(&format!("importhook-sdk=={}", sdk::python_version()))
    );
}

#[test]
fn every_language_fills_every_template_and_an_empty_folder_is_used() {
    let sdk = Sdk::Checkout(checkout());
    for (lang, must) in [
        (Lang::Rust, "src/lib.rs"),
        (Lang::Js, "src/strategy.js"),
        (Lang::Python, "my_strategy.py"),
    ] {
        let dir = temp(&format!("{lang:?}"));
        std::fs::create_dir_all(&dir).expect("empty folder");
        let written = create("my-strategy", lang, &dir, &sdk).expect("created");
        assert!(dir.join(must).is_file(), "{lang:?}: {must}");
        assert!(dir.join("my-strategy.toml").is_file());
        for path in &written {
            let text = std::fs::read_to_string(path).expect("text");
            assert!(!text.contains("{{"), "{}: {text}", path.display());
        }
        let err = create("my-strategy", lang, &dir, &sdk).expect_err("refused");
        assert!(err.to_string().contains("not empty"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_toolchains_are_the_repositorys() {
    let toolchain: toml::Table =
        toml::from_str(&rust_toolchain().expect("toolchain")).expect("TOML");
    let repo: toml::Table = toml::from_str(REPO_TOOLCHAIN).expect("TOML");
    assert_eq!(
        toolchain["toolchain"]["channel"],
        repo["toolchain"]["channel"]
    );
    let package: serde_json::Value =
        serde_json::from_str(&package_json("x", "x", "file:/sdk").expect("json")).expect("json");
    assert_eq!(package["devDependencies"]["importhook-sdk"], "file:/sdk");
    assert_eq!(
        package["devDependencies"]["@bytecodealliance/componentize-js"],
        "0.23.0"
    );
    let requirements = requirements("-e /sdk");
    assert!(requirements.contains("componentize-py==") && requirements.ends_with("-e /sdk\n"));
}
