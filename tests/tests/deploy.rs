//! The deployment files parse and say what the README promises: Kubernetes kinds and probes,
//! a non-root multi-stage image, a systemd unit the JIT can run under, and env names the binary
//! really reads.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn deploy_file(path: &str) -> String {
    std::fs::read_to_string(common::workspace_root().join("deploy").join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn kubernetes_documents() -> Vec<Yaml> {
    let dir = common::workspace_root().join("deploy/kubernetes");
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(dir).expect("kubernetes folder") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let docs =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        documents.extend(docs);
    }
    documents
}

#[test]
fn kubernetes_manifests_parse_and_probe_the_admin_port() {
    let documents = kubernetes_documents();
    let kinds: BTreeSet<&str> = documents
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    for kind in [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Secret",
        "Service",
    ] {
        assert!(kinds.contains(kind), "{kind} missing: {kinds:?}");
    }
    let deployment = documents
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/livez")
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["port"].as_str(),
        Some("admin")
    );
    let ports: Vec<i64> = container["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .filter_map(|p| p["containerPort"].as_i64())
        .collect();
    assert_eq!(ports, vec![8443, 9901]);
    let plugins_volume = pod["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some("plugins"))
        .cloned();
    assert_eq!(
        plugins_volume
            .and_then(|v| v["configMap"]["name"].as_str().map(str::to_owned))
            .as_deref(),
        Some("importhook-plugins")
    );
    let secrets_volume = pod["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .any(|v| v["secret"]["secretName"].as_str() == Some("importhook-secrets"));
    assert!(secrets_volume, "hook secrets come from a Secret");
}

#[test]
fn the_image_is_multi_stage_and_non_root_and_the_unit_lets_the_jit_run() {
    let dockerfile = deploy_file("Dockerfile");
    assert!(
        dockerfile
            .lines()
            .filter(|l| l.starts_with("FROM "))
            .count()
            >= 2,
        "multi-stage"
    );
    assert!(dockerfile.lines().any(|l| l.trim() == "USER nonroot"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/importhook\", \"serve\"]"));

    let unit = deploy_file("systemd/importhook.service");
    for needle in [
        "[Unit]",
        "[Service]",
        "[Install]",
        "ExecStart=/usr/local/bin/importhook serve",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "NoNewPrivileges=yes",
    ] {
        assert!(unit.contains(needle), "{needle} missing from the unit");
    }
    assert!(
        !unit
            .lines()
            .any(|l| l.trim_start().starts_with("MemoryDenyWriteExecute")),
        "the JIT needs W+X mappings"
    );
}

#[test]
fn every_env_var_and_flag_in_the_deploy_files_is_one_the_binary_reads() {
    let help = Command::new(env!("CARGO_BIN_EXE_importhook-e2e-server"))
        .args(["serve", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let env_sources = [
        deploy_file("Dockerfile"),
        deploy_file("kubernetes/deployment.yaml"),
        deploy_file("systemd/importhook.service"),
    ]
    .concat();
    // Flags: the container's args and the unit's ExecStart (the Dockerfile's are cargo's).
    let unit = deploy_file("systemd/importhook.service");
    let exec_start = unit
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .unwrap_or_default()
        .to_owned();
    let flag_sources = [deploy_file("kubernetes/deployment.yaml"), exec_start].concat();
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map(str::to_owned)
            .collect()
    };
    let mut checked = 0;
    for word in words(&env_sources)
        .iter()
        .filter(|w| w.starts_with("IMPORTHOOK_"))
    {
        assert!(
            help.contains(word.as_str()),
            "{word} is not an env var of `importhook serve`"
        );
        checked += 1;
    }
    for word in words(&flag_sources)
        .iter()
        .filter(|w| w.starts_with("--") && w.len() > 2)
    {
        assert!(
            help.contains(&format!("{word} ")),
            "{word} is not a flag of `importhook serve`"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} settings found");
}

#[test]
fn replicas_share_state_through_the_redis_the_manifests_run() {
    let documents = kubernetes_documents();
    let deployment = documents
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("deployment");
    let replicas = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let url = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_vec()
        .expect("env")
        .iter()
        .find(|e| e["name"].as_str() == Some("IMPORTHOOK_STATE_URL"))
        .and_then(|e| e["value"].as_str())
        .expect("replicas need a shared state store");
    assert!(replicas > 1, "the point of Redis is several replicas");
    let host = url
        .strip_prefix("redis://")
        .and_then(|rest| rest.split(':').next())
        .expect("redis://host:port");
    let service = documents.iter().find(|d| {
        d["kind"].as_str() == Some("Service") && d["metadata"]["name"].as_str() == Some(host)
    });
    assert!(service.is_some(), "no Service named {host}");
    let redis = documents
        .iter()
        .find(|d| d["kind"].as_str() == Some("StatefulSet"))
        .expect("a Redis StatefulSet");
    let args: Vec<&str> = redis["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_vec()
        .expect("args")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["--appendonly", "yes"]),
        "Redis persists what it hands out: {args:?}"
    );
    assert!(
        args.windows(2)
            .any(|w| w == ["--maxmemory-policy", "noeviction"]),
        "Redis never evicts a counter: {args:?}"
    );
}
