use super::*;
use serde_json::json;

/// A PodSpec with one container of each list, two regular ones.
fn pod_spec() -> Value {
    json!({
        "initContainers": [{"name": "migrate", "image": "tool:1"}],
        "containers": [{"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1"}],
        "ephemeralContainers": [{"name": "debugger", "image": "busybox"}],
    })
}

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": pod_spec()})
}

/// Every listed kind, wrapped the way Kubernetes nests its pod template, and
/// the pointer at which the PodSpec must be found.
fn every_kind() -> Vec<(Value, &'static str)> {
    let mut out = vec![(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": pod_spec()}),
        "/spec",
    )];
    for (api, kind) in [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("v1", "ReplicationController"),
        ("batch/v1", "Job"),
    ] {
        out.push((
            json!({"apiVersion": api, "kind": kind, "metadata": {"name": "web"}, "spec": {"template": template()}}),
            "/spec/template/spec",
        ));
    }
    out.push((
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "web"},
               "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template()}}}}),
        "/spec/jobTemplate/spec/template/spec",
    ));
    out.push((
        json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "web"}, "template": template()}),
        "/template/spec",
    ));
    out
}

#[test]
fn every_kind_yields_its_pod_spec_and_containers_with_exact_pointers() {
    let cases = every_kind();
    let kinds: Vec<_> = cases
        .iter()
        .map(|(object, _)| object["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, KINDS, "the test covers every listed kind");
    for (object, spec_pointer) in &cases {
        let found = pod_specs(object);
        assert_eq!(found.problems, [], "{spec_pointer}");
        assert_eq!(found.specs.len(), 1, "{spec_pointer}");
        let spec = &found.specs[0];
        assert_eq!(spec.pointer, *spec_pointer);
        assert_eq!(
            object.pointer(spec_pointer).and_then(Value::as_object),
            Some(spec.spec)
        );
        assert_eq!(
            spec.metadata.and_then(|m| m.get("labels")),
            Some(&json!({"app": "web"}))
        );
        let containers: Vec<_> = spec
            .containers()
            .map(|c| (c.list, c.index, c.name, c.pointer.clone(), c.label()))
            .collect();
        let p = spec_pointer;
        assert_eq!(
            containers,
            [
                (
                    ContainerList::Init,
                    0,
                    "migrate",
                    format!("{p}/initContainers/0"),
                    r#"init container "migrate""#.to_string()
                ),
                (
                    ContainerList::Regular,
                    0,
                    "app",
                    format!("{p}/containers/0"),
                    r#"container "app""#.to_string()
                ),
                (
                    ContainerList::Regular,
                    1,
                    "sidecar",
                    format!("{p}/containers/1"),
                    r#"container "sidecar""#.to_string()
                ),
                (
                    ContainerList::Ephemeral,
                    0,
                    "debugger",
                    format!("{p}/ephemeralContainers/0"),
                    r#"ephemeral container "debugger""#.to_string()
                ),
            ]
        );
        for c in spec.containers() {
            assert_eq!(
                object.pointer(&c.pointer).and_then(Value::as_object),
                Some(c.container)
            );
        }
        assert_eq!(spec.container_problems(), []);
    }
}

#[test]
fn metadata_pointers_sit_beside_the_spec() {
    let pointers: Vec<_> = every_kind()
        .iter()
        .map(|(object, _)| pod_specs(object).specs[0].metadata_pointer.clone())
        .collect();
    assert_eq!(
        pointers,
        [
            "/metadata",
            "/spec/template/metadata",
            "/spec/template/metadata",
            "/spec/template/metadata",
            "/spec/template/metadata",
            "/spec/template/metadata",
            "/spec/template/metadata",
            "/spec/jobTemplate/spec/template/metadata",
            "/template/metadata",
        ]
    );
}

#[test]
fn kinds_without_a_pod_spec_yield_nothing() {
    for object in [
        json!({"kind": "ConfigMap", "data": {"spec": "x"}}),
        json!({"kind": "Service", "spec": {"containers": []}}),
        json!({"metadata": {"name": "no-kind"}, "spec": pod_spec()}),
    ] {
        assert_eq!(
            pod_specs(&object),
            PodSpecs {
                specs: vec![],
                problems: vec![]
            }
        );
    }
}

#[test]
fn missing_specs_and_lists_are_simply_absent() {
    for object in [
        json!({"kind": "Pod"}),
        json!({"kind": "Pod", "spec": null}),
        json!({"kind": "Deployment", "spec": {}}),
        json!({"kind": "Deployment", "spec": {"template": {}}}),
        json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {}}}}),
        json!({"kind": "PodTemplate"}),
    ] {
        let found = pod_specs(&object);
        assert_eq!(found.specs, [], "{object}");
        assert_eq!(found.problems, [], "{object}");
    }
    let empty_pod = json!({"kind": "Pod", "spec": {}});
    let found = pod_specs(&empty_pod);
    assert_eq!(found.specs[0].containers().count(), 0);
    assert_eq!(found.specs[0].metadata, None);
    assert_eq!(found.specs[0].metadata_pointer, "/metadata");
    assert_eq!(found.specs[0].container_problems(), []);
}

/// The (path, message, found) of each problem.
fn described(problems: &[Violation]) -> Vec<(String, String, Option<Value>)> {
    problems
        .iter()
        .map(|p| {
            assert_eq!(p.rule, "invalid-field");
            (p.path.clone(), p.message.clone(), p.found.clone())
        })
        .collect()
}

#[test]
fn wrongly_typed_parents_are_reported_not_fatal() {
    let cases = [
        (
            json!("just a string"),
            "",
            "an object",
            json!("just a string"),
        ),
        (
            json!({"kind": 5, "spec": {}}),
            "/kind",
            "a string",
            json!(5),
        ),
        (
            json!({"kind": "Pod", "spec": "oops"}),
            "/spec",
            "an object",
            json!("oops"),
        ),
        (
            json!({"kind": "Deployment", "spec": {"template": 3}}),
            "/spec/template",
            "an object",
            json!(3),
        ),
        (
            json!({"kind": "Job", "spec": {"template": {"spec": []}}}),
            "/spec/template/spec",
            "an object",
            json!([]),
        ),
        (
            json!({"kind": "CronJob", "spec": {"jobTemplate": true}}),
            "/spec/jobTemplate",
            "an object",
            json!(true),
        ),
        (
            json!({"kind": "PodTemplate", "template": "t"}),
            "/template",
            "an object",
            json!("t"),
        ),
    ];
    for (object, path, expected, found) in cases {
        let result = pod_specs(&object);
        assert_eq!(result.specs, [], "{object}");
        let type_name = crate::request::type_name(&found);
        assert_eq!(
            described(&result.problems),
            [(
                path.to_string(),
                format!("`{path}` must be {expected}, but it is {type_name}"),
                Some(found)
            )],
            "{object}"
        );
    }
}

#[test]
fn wrongly_typed_metadata_is_reported_and_the_spec_still_checked() {
    let object =
        json!({"kind": "StatefulSet", "spec": {"template": {"metadata": "m", "spec": pod_spec()}}});
    let found = pod_specs(&object);
    assert_eq!(
        described(&found.problems),
        [(
            "/spec/template/metadata".to_string(),
            "`/spec/template/metadata` must be an object, but it is a string".to_string(),
            Some(json!("m"))
        )]
    );
    assert_eq!(found.specs.len(), 1);
    assert_eq!(found.specs[0].metadata, None);
    assert_eq!(found.specs[0].containers().count(), 4);
}

#[test]
fn wrongly_typed_containers_are_skipped_and_reported() {
    let object = json!({"kind": "DaemonSet", "spec": {"template": {"spec": {
        "initContainers": {"name": "not-a-list"},
        "containers": [7, {"name": "app"}, null, {"name": 42}, {}],
        "ephemeralContainers": "nope",
    }}}});
    let found = pod_specs(&object);
    assert_eq!(found.problems, []);
    let spec = &found.specs[0];
    let containers: Vec<_> = spec
        .containers()
        .map(|c| (c.pointer.clone(), c.name, c.label()))
        .collect();
    assert_eq!(
        containers,
        [
            (
                "/spec/template/spec/containers/1".to_string(),
                "app",
                r#"container "app""#.to_string()
            ),
            (
                "/spec/template/spec/containers/3".to_string(),
                "",
                "container #3 (no name)".to_string()
            ),
            (
                "/spec/template/spec/containers/4".to_string(),
                "",
                "container #4 (no name)".to_string()
            ),
        ]
    );
    let p = "/spec/template/spec";
    assert_eq!(
        described(&spec.container_problems()),
        [
            (
                format!("{p}/initContainers"),
                format!("`{p}/initContainers` must be an array, but it is an object"),
                Some(json!({"name": "not-a-list"}))
            ),
            (
                format!("{p}/containers/0"),
                format!("`{p}/containers/0` must be an object, but it is a number"),
                Some(json!(7))
            ),
            (
                format!("{p}/containers/2"),
                format!("`{p}/containers/2` must be an object, but it is null"),
                Some(json!(null))
            ),
            (
                format!("{p}/containers/3/name"),
                format!("`{p}/containers/3/name` must be a string, but it is a number"),
                Some(json!(42))
            ),
            (
                format!("{p}/ephemeralContainers"),
                format!("`{p}/ephemeralContainers` must be an array, but it is a string"),
                Some(json!("nope"))
            ),
        ]
    );
}

#[test]
fn pointers_below_specs_and_containers_are_escaped() {
    let object =
        json!({"kind": "Pod", "spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
    let found = pod_specs(&object);
    let spec = &found.specs[0];
    assert_eq!(
        spec.pointer_to(&["securityContext", "runAsNonRoot"]),
        "/spec/securityContext/runAsNonRoot"
    );
    assert_eq!(spec.os_name(), Some("windows"));
    let container = spec.containers().next().expect("one container");
    assert_eq!(
        container.pointer_to(&["env", "a/b~c"]),
        "/spec/containers/0/env/a~1b~0c"
    );
    assert_eq!(
        pod_specs(&json!({"kind": "Pod", "spec": {}})).specs[0].os_name(),
        None
    );
}

#[test]
fn kinds_list_matches_template_paths() {
    let mut expected: Vec<&str> = KINDS.to_vec();
    expected.push(EPHEMERAL_CONTAINERS);
    assert_eq!(kinds(), expected);
    assert_eq!(template_path(EPHEMERAL_CONTAINERS), None);
    for kind in KINDS {
        assert!(template_path(kind).is_some(), "{kind}");
    }
    assert_eq!(template_path("Secret"), None);
}

#[test]
fn the_legacy_ephemeral_containers_object_yields_its_containers_at_the_top() {
    // What Kubernetes 1.16-1.21 send for pods/ephemeralcontainers.
    let object = json!({
        "apiVersion": "v1",
        "kind": "EphemeralContainers",
        "metadata": {"name": "web", "namespace": "shop"},
        "ephemeralContainers": [
            {"name": "debugger", "image": "busybox"},
            {"name": "shell", "image": "alpine"},
        ],
    });
    let found = pod_specs(&object);
    assert_eq!(found.problems, []);
    assert_eq!(found.specs.len(), 1);
    let spec = &found.specs[0];
    assert_eq!(spec.pointer, "");
    assert_eq!(spec.metadata_pointer, "/metadata");
    assert_eq!(
        spec.metadata.and_then(|m| m.get("name")),
        Some(&json!("web"))
    );
    assert_eq!(spec.pointer_to(&["securityContext"]), "/securityContext");
    let containers: Vec<_> = spec
        .containers()
        .map(|c| (c.list, c.name, c.pointer))
        .collect();
    assert_eq!(
        containers,
        [
            (
                ContainerList::Ephemeral,
                "debugger",
                "/ephemeralContainers/0".to_owned()
            ),
            (
                ContainerList::Ephemeral,
                "shell",
                "/ephemeralContainers/1".to_owned()
            ),
        ]
    );
    assert!(kinds().contains(&EPHEMERAL_CONTAINERS.to_owned()));
    assert!(!KINDS.contains(&EPHEMERAL_CONTAINERS));
}

#[test]
fn reads_keep_the_legacy_ephemeral_containers() {
    let object = json!({
        "apiVersion": "v1",
        "kind": "EphemeralContainers",
        "metadata": {"name": "web", "uid": "x"},
        "ephemeralContainers": [{"name": "debugger", "image": "busybox", "securityContext": {"privileged": true}, "tty": true}],
    });
    let kept = reads(&["hostNetwork"], &["securityContext/privileged"])
        .read_members(&json!({"object": object}).to_string(), &["object"])
        .expect("reads");
    assert_eq!(
        kept["object"],
        json!({
            "apiVersion": "v1",
            "kind": "EphemeralContainers",
            "metadata": {"name": "web"},
            "ephemeralContainers": [{"name": "debugger", "securityContext": {"privileged": true}}],
        })
    );
}
