//! The deployment files parse and say what the README promises: Kubernetes kinds and probes,
//! a non-root multi-stage image, a systemd unit the JIT can run under, and env names the binary
//! really reads.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn deploy_file(path: &str) -> String {
    std::fs::read_to_string(common::workspace_root().join("deploy").join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `*.yaml` of deploy/kubernetes and its subfolders (the ingress example).
fn kubernetes_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![common::workspace_root().join("deploy/kubernetes")];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(dir).expect("kubernetes folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn kubernetes_documents() -> Vec<Yaml> {
    let mut documents = Vec::new();
    for path in kubernetes_files() {
        let text = std::fs::read_to_string(&path).expect("read");
        let docs =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        documents.extend(docs);
    }
    documents
}

fn find<'a>(documents: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    documents
        .iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The `env` entry `name` of `container`.
fn env<'a>(container: &'a Yaml, name: &str) -> &'a Yaml {
    container["env"]
        .as_vec()
        .and_then(|env| env.iter().find(|e| e["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no env {name}"))
}

/// The volume mounted at `path` in `container`, as the pod declares it.
fn volume_at<'a>(pod: &'a Yaml, container: &Yaml, path: &str) -> &'a Yaml {
    let mount = container["volumeMounts"]
        .as_vec()
        .and_then(|m| m.iter().find(|m| m["mountPath"].as_str() == Some(path)))
        .unwrap_or_else(|| panic!("nothing mounted at {path}"));
    pod["volumes"]
        .as_vec()
        .and_then(|v| v.iter().find(|v| v["name"] == mount["name"]))
        .unwrap_or_else(|| panic!("no volume for {path}"))
}

/// The repository's Python venv interpreter with the pinned validator (scripts/test.sh).
fn venv_python() -> PathBuf {
    let python = common::workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: scripts/test.sh installs scripts/kubernetes/requirements.txt into .venv",
        python.display()
    );
    python
}

#[test]
fn kubernetes_manifests_parse_and_probe_the_admin_port() {
    let documents = kubernetes_documents();
    let kinds: BTreeSet<&str> = documents
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    for kind in [
        "Certificate",
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Issuer",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "StatefulSet",
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
    // `serve` runs in the container, `pull` in the init container.
    let help: String = ["serve", "pull"]
        .iter()
        .map(|command| {
            let help = Command::new(env!("CARGO_BIN_EXE_importhook-e2e-server"))
                .args([command, "--help"])
                .output()
                .expect("help");
            String::from_utf8_lossy(&help.stdout).into_owned()
        })
        .collect();
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
            "{word} is not an env var of `importhook serve` or `pull`"
        );
        checked += 1;
    }
    for word in words(&flag_sources)
        .iter()
        .filter(|w| w.starts_with("--") && w.len() > 2)
    {
        assert!(
            help.contains(&format!("{word} ")),
            "{word} is not a flag of `importhook serve` or `pull`"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} settings found");
}

#[test]
fn replicas_share_state_through_a_password_protected_redis_only_importhook_reaches() {
    let documents = kubernetes_documents();
    let deployment = find(&documents, "Deployment", "importhook");
    let replicas = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    assert!(replicas > 1, "the point of Redis is several replicas");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    // The password comes from a Secret, into the URL through Kubernetes' $(VAR) expansion,
    // which only sees variables defined before it.
    let names: Vec<&str> = container["env"]
        .as_vec()
        .expect("env")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    let position = |name: &str| names.iter().position(|n| *n == name).expect(name);
    assert!(position("REDIS_PASSWORD") < position("IMPORTHOOK_STATE_URL"));
    let password = &env(container, "REDIS_PASSWORD")["valueFrom"]["secretKeyRef"];
    assert_eq!(password["name"].as_str(), Some("importhook-redis"));
    let key = password["key"].as_str().expect("key");
    let secret = find(&documents, "Secret", "importhook-redis");
    assert!(
        !secret["stringData"][key].is_badvalue(),
        "the Secret has no {key}"
    );
    let url = env(container, "IMPORTHOOK_STATE_URL")["value"]
        .as_str()
        .expect("a state URL");
    let host = url
        .strip_prefix("redis://:$(REDIS_PASSWORD)@")
        .and_then(|rest| rest.split(':').next())
        .expect("redis://:$(REDIS_PASSWORD)@host:port");
    find(&documents, "Service", host);

    let redis = find(&documents, "StatefulSet", host);
    let redis_container = &redis["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = redis_container["args"]
        .as_vec()
        .expect("args")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    for pair in [
        ["--appendonly", "yes"],
        ["--protected-mode", "yes"],
        ["--requirepass", "$(REDIS_PASSWORD)"],
        // Redis never evicts a counter (a full Redis refuses writes instead).
        ["--maxmemory-policy", "noeviction"],
    ] {
        assert!(
            args.windows(2).any(|w| w == pair),
            "{pair:?} missing: {args:?}"
        );
    }
    assert_eq!(
        env(redis_container, "REDIS_PASSWORD")["valueFrom"]["secretKeyRef"],
        *password,
        "Redis and importhook share one password"
    );
    assert_eq!(
        env(redis_container, "REDISCLI_AUTH")["valueFrom"]["secretKeyRef"],
        *password,
        "the readiness probe's redis-cli authenticates"
    );

    // Only importhook's pods may connect.
    let policy = find(&documents, "NetworkPolicy", host);
    let redis_labels = &redis["spec"]["template"]["metadata"]["labels"];
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], *redis_labels);
    let ingress = policy["spec"]["ingress"].as_vec().expect("ingress rules");
    assert_eq!(ingress.len(), 1);
    let from = ingress[0]["from"].as_vec().expect("from");
    assert_eq!(from.len(), 1);
    assert_eq!(
        from[0]["podSelector"]["matchLabels"],
        deployment["spec"]["template"]["metadata"]["labels"]
    );
    assert!(from[0]["namespaceSelector"].is_badvalue() && from[0]["ipBlock"].is_badvalue());
    assert_eq!(ingress[0]["ports"][0]["port"].as_i64(), Some(6379));
}

#[test]
fn the_images_plugins_stay_visible_under_the_pulled_and_configmap_folders() {
    let documents = kubernetes_documents();
    let deployment = find(&documents, "Deployment", "importhook");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let folders: Vec<&str> = env(container, "IMPORTHOOK_PLUGINS")["value"]
        .as_str()
        .expect("IMPORTHOOK_PLUGINS")
        .split(':')
        .collect();
    let dockerfile = deploy_file("Dockerfile");
    // The image's folder first, and nothing mounted over it.
    let image_folder = "/usr/share/importhook/plugins.d";
    assert_eq!(folders.first(), Some(&image_folder), "{folders:?}");
    assert!(
        dockerfile.contains(&format!("COPY --from=build /out/plugins.d {image_folder}")),
        "the image's plugins are not where the Deployment looks"
    );
    assert!(
        dockerfile.contains(&format!("IMPORTHOOK_PLUGINS={image_folder}:")),
        "the image's own default keeps its plugins first"
    );
    let mounts: Vec<&str> = container["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    assert!(
        !mounts.iter().any(|m| image_folder.starts_with(m)),
        "a volume hides the image's plugins: {mounts:?}"
    );
    // The ConfigMap last (its manifests replace the image's), the init container's pulled
    // plugins in between, on a volume both containers mount.
    let config_map = folders.last().expect("a last folder");
    assert_eq!(
        volume_at(pod, container, config_map)["configMap"]["name"].as_str(),
        Some("importhook-plugins")
    );
    let init = &pod["initContainers"][0];
    let args: Vec<&str> = init["args"]
        .as_vec()
        .expect("init args")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(args[..2], ["pull", "--into"]);
    let pulled = args[2];
    assert_eq!(folders, [image_folder, pulled, config_map]);
    assert_eq!(
        init["image"], container["image"],
        "the init container runs the same binary"
    );
    assert!(!env(init, "IMPORTHOOK_PULL")["value"].is_badvalue());
    let shared = volume_at(pod, container, pulled);
    assert_eq!(volume_at(pod, init, pulled), shared);
    assert!(!shared["emptyDir"].is_badvalue());

    // Every strategy the image builds is copied in, the counter one included, each with a
    // manifest the ConfigMap carries too.
    let build = dockerfile
        .split("FROM gcr.io")
        .next()
        .expect("build stage")
        .to_owned();
    let data = &find(&documents, "ConfigMap", "importhook-plugins")["data"];
    for (stem, package) in [
        ("10-normalize-login", "normalize-login"),
        ("20-link-single-match", "link-single-match"),
        ("30-login-middle-name", "login-middle-name"),
        ("40-login-counter-suffix", "login-counter-suffix"),
    ] {
        assert!(
            build.contains(&format!("-p {package}")),
            "{package} not built"
        );
        assert!(
            build.contains(&format!("/out/plugins.d/{stem}.wasm")),
            "{stem}.wasm not in the image"
        );
        assert!(
            !data[format!("{stem}.toml").as_str()].is_badvalue(),
            "{stem}.toml not in the ConfigMap"
        );
    }
}

#[test]
fn the_configmap_is_generated_from_the_manifests_the_image_ships() {
    let root = common::workspace_root();
    let check = Command::new("python3")
        .arg(root.join("scripts/kubernetes/configmap.py"))
        .arg("--check")
        .output()
        .expect("python3");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // And the file says what the sources say, byte for byte.
    let documents = kubernetes_documents();
    let data = find(&documents, "ConfigMap", "importhook-plugins")["data"]
        .as_hash()
        .expect("data");
    let mut sources: Vec<(String, PathBuf)> = std::fs::read_dir(root.join("plugins.d"))
        .expect("plugins.d")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                p,
            )
        })
        .collect();
    sources.push((
        "40-login-counter-suffix.toml".to_owned(),
        root.join("plugins/login-counter-suffix/login-counter-suffix.toml"),
    ));
    assert_eq!(data.len(), sources.len());
    for (name, path) in sources {
        assert_eq!(
            data[&Yaml::String(name.clone())].as_str(),
            Some(std::fs::read_to_string(&path).expect("source").as_str()),
            "{name}"
        );
    }
}

#[test]
fn every_manifest_passes_the_kubernetes_schema_validator() {
    let root = common::workspace_root();
    let validator = root.join("scripts/kubernetes/validate.py");
    let files = kubernetes_files();
    let output = Command::new(venv_python())
        .arg(&validator)
        .args(&files)
        .output()
        .expect("validator");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let documents = kubernetes_documents().len();
    assert!(
        stdout.contains(&format!("{documents} resource(s) valid, 0 invalid")),
        "{stdout}"
    );
    // The validator is strict: a misspelt field fails, in Kubernetes' kinds and cert-manager's.
    let scratch = common::TempDir::new("k8s");
    for (file, from, to) in [
        ("deployment.yaml", "readinessProbe:", "readinesProbe:"),
        ("ingress/certificates.yaml", "renewBefore:", "renewBfore:"),
    ] {
        let text =
            std::fs::read_to_string(root.join("deploy/kubernetes").join(file)).expect("read");
        assert!(text.contains(from));
        let typo = scratch.path().join("typo.yaml");
        std::fs::write(&typo, text.replacen(from, to, 1)).expect("write");
        let output = Command::new(venv_python())
            .arg(&validator)
            .arg(&typo)
            .output()
            .expect("validator");
        assert!(!output.status.success(), "{file} with {to} passed");
    }
}

#[test]
fn the_okta_token_and_org_are_wired_for_the_directory_grant() {
    let documents = kubernetes_documents();
    let deployment = find(&documents, "Deployment", "importhook");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let org = env(container, "IMPORTHOOK_OKTA_ORG_URL")["value"]
        .as_str()
        .expect("org URL");
    assert!(org.starts_with("https://"), "{org}");
    let token_file = env(container, "IMPORTHOOK_OKTA_API_TOKEN_FILE")["value"]
        .as_str()
        .expect("token file");
    let (dir, key) = token_file.rsplit_once('/').expect("a path");
    let secret_name = volume_at(pod, container, dir)["secret"]["secretName"]
        .as_str()
        .expect("the token comes from a Secret");
    let secret = find(&documents, "Secret", secret_name);
    assert!(
        !secret["stringData"][key].is_badvalue(),
        "no {key} in {secret_name}"
    );
}

#[test]
fn the_ingress_speaks_https_to_the_pods_with_cert_manager_certificates() {
    let documents = kubernetes_documents();
    let ingress = find(&documents, "Ingress", "importhook");
    let annotations = &ingress["metadata"]["annotations"];
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/backend-protocol"].as_str(),
        Some("HTTPS")
    );
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/proxy-ssl-verify"].as_str(),
        Some("on")
    );
    let path = &ingress["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["path"].as_str(), Some("/okta/import"));
    let backend = &path["backend"]["service"];
    let service = find(
        &documents,
        "Service",
        backend["name"].as_str().expect("service"),
    );
    let port = backend["port"]["name"].as_str().expect("a named port");
    let service_port = service["spec"]["ports"]
        .as_vec()
        .and_then(|p| p.iter().find(|p| p["name"].as_str() == Some(port)))
        .expect("the Service has the port");
    assert_eq!(service_port["targetPort"].as_str(), Some("https"));
    // The public certificate and the pod's own come from cert-manager Certificates.
    let public = ingress["spec"]["tls"][0]["secretName"]
        .as_str()
        .expect("tls");
    let issued: Vec<&str> = documents
        .iter()
        .filter(|d| d["kind"].as_str() == Some("Certificate"))
        .filter_map(|d| d["spec"]["secretName"].as_str())
        .collect();
    assert!(issued.contains(&public), "{public} not issued: {issued:?}");
    let deployment = find(&documents, "Deployment", "importhook");
    let pod = &deployment["spec"]["template"]["spec"];
    let tls = volume_at(pod, &pod["containers"][0], "/etc/importhook/tls")["secret"]["secretName"]
        .as_str()
        .expect("tls secret");
    assert!(issued.contains(&tls), "{tls} not issued: {issued:?}");
    let backend_certificate = documents
        .iter()
        .find(|d| {
            d["kind"].as_str() == Some("Certificate")
                && d["spec"]["secretName"].as_str() == Some(tls)
        })
        .expect("backend certificate");
    let names: Vec<&str> = backend_certificate["spec"]["dnsNames"]
        .as_vec()
        .expect("dnsNames")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    let service_name = service["metadata"]["name"].as_str().expect("name");
    assert!(
        names.iter().all(|n| n.starts_with(service_name)),
        "{names:?}"
    );
    assert!(
        names.contains(
            &annotations["nginx.ingress.kubernetes.io/proxy-ssl-name"]
                .as_str()
                .expect("proxy-ssl-name")
        ),
        "the controller checks a name the certificate carries"
    );
}

#[test]
fn the_readme_says_how_to_build_and_push_the_image_the_manifests_name() {
    let readme =
        std::fs::read_to_string(common::workspace_root().join("README.md")).expect("README");
    let documents = kubernetes_documents();
    let image = find(&documents, "Deployment", "importhook")["spec"]["template"]["spec"]
        ["containers"][0]["image"]
        .as_str()
        .expect("image");
    for needle in [
        format!("docker build -f deploy/Dockerfile -t {image} ."),
        format!("docker push {image}"),
    ] {
        assert!(readme.contains(&needle), "README lacks `{needle}`");
    }
}

/// The pod as the manifests and the image lay it out, its folders rebuilt from the files
/// themselves: the Dockerfile's `cp` lines fill the image's folder, the ConfigMap's data the
/// ConfigMap's, the init container's folder stays empty (nothing to pull as shipped). It loads
/// the image's four strategies and answers with their changes, not a bare 204.
#[tokio::test(flavor = "multi_thread")]
async fn the_pod_as_applied_loads_the_images_strategies_and_answers_with_their_changes() {
    let root = common::workspace_root();
    let documents = kubernetes_documents();
    let deployment = find(&documents, "Deployment", "importhook");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];

    let image = common::TempDir::new("image");
    let dockerfile = deploy_file("Dockerfile");
    let build = dockerfile.split("FROM gcr.io").next().expect("build stage");
    for line in build.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| *w == "cp") else {
            continue;
        };
        let (source, target) = (words[at + 1], words[at + 2]);
        let Some(name) = target.strip_prefix("/out/plugins.d/") else {
            continue;
        };
        if let Some(wasm) = source.strip_prefix("target/wasm32-unknown-unknown/release/") {
            std::fs::copy(common::wasm_dir().join(wasm), image.path().join(name)).expect("wasm");
        } else if source == "plugins.d/*.toml" {
            for entry in std::fs::read_dir(root.join("plugins.d")).expect("plugins.d") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let file = path.file_name().expect("name");
                    std::fs::copy(&path, image.path().join(file)).expect("manifest");
                }
            }
        } else {
            std::fs::copy(root.join(source), image.path().join(name)).expect(source);
        }
    }
    let config_map = common::TempDir::new("configmap");
    for (name, text) in find(&documents, "ConfigMap", "importhook-plugins")["data"]
        .as_hash()
        .expect("data")
    {
        std::fs::write(
            config_map.path().join(name.as_str().expect("name")),
            text.as_str().expect("text"),
        )
        .expect("write");
    }
    let pulled = common::TempDir::new("pulled");
    let folders: Vec<PathBuf> = env(container, "IMPORTHOOK_PLUGINS")["value"]
        .as_str()
        .expect("IMPORTHOOK_PLUGINS")
        .split(':')
        .map(|folder| {
            if folder == "/usr/share/importhook/plugins.d" {
                return image.path().to_path_buf();
            }
            let volume = volume_at(pod, container, folder);
            if !volume["configMap"].is_badvalue() {
                config_map.path().to_path_buf()
            } else {
                assert!(!volume["emptyDir"].is_badvalue(), "{folder}");
                pulled.path().to_path_buf()
            }
        })
        .collect();
    let spec = std::env::join_paths(&folders).expect("join");

    let server = common::start(
        importhook::config::ConfigLayer::default(),
        Some(std::path::Path::new(&spec)),
    )
    .await;
    let set = server.app.plugins();
    let names: Vec<&str> = set.plugins().iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "10-normalize-login",
            "20-link-single-match",
            "30-login-middle-name",
            "40-login-counter-suffix"
        ]
    );
    let mut request = common::okta_sample();
    request["data"]["user"]["profile"]["login"] = " Sally.Admin@Clouditude.NET ".into();
    let reply = server.hook(&request).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = reply.json();
    let login = body["commands"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["type"] == "com.okta.user.profile.update")
        })
        .and_then(|c| c["value"]["login"].as_str())
        .unwrap_or_else(|| panic!("no login change: {body}"))
        .to_owned();
    assert!(
        login.starts_with("sally.admin") && login.ends_with("@clouditude.net"),
        "{login}"
    );
    server.stop().await;
}
