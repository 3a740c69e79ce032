use std::collections::BTreeSet;

use yaml_rust2::YamlLoader;

/// The OpenAPI document describes exactly the routes the router serves.
#[test]
fn the_openapi_document_matches_the_router() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/openapi.yaml"
    ))
    .expect("assets/openapi.yaml exists");
    let docs = YamlLoader::load_from_str(&text).expect("openapi.yaml is valid YAML");
    let doc = &docs[0];
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["servers"][0]["url"].as_str(), Some("/api/v1"));

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_hash().expect("paths") {
        let path = path.as_str().unwrap();
        for (method, operation) in item.as_hash().unwrap() {
            let method = method.as_str().unwrap();
            if method == "parameters" {
                continue;
            }
            assert!(
                operation["responses"]
                    .as_hash()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} documents its responses"
            );
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let served: BTreeSet<String> = storefront_server::api_routes()
        .into_iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

/// The document is valid OpenAPI 3.1 as a parser of the standard reads it: every part has its
/// standard shape, every `$ref` points at something, operation ids are unique, and every link
/// names an operation and parameters it has.
#[test]
fn the_openapi_document_is_valid_openapi_3_1() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/openapi.yaml"
    ))
    .unwrap();
    let spec = oas3::from_yaml(&text).unwrap_or_else(|err| panic!("not OpenAPI 3.1: {err}"));
    let version = spec.validate_version().unwrap();
    assert_eq!((version.major, version.minor), (3, 1));

    let mut ids = BTreeSet::new();
    for (path, method, operation) in spec.operations() {
        let name = format!("{method} {path}");
        if let Some(id) = &operation.operation_id {
            assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        }
        for parameter in &operation.parameters {
            parameter
                .resolve(&spec)
                .unwrap_or_else(|err| panic!("{name}: a parameter does not resolve: {err}"));
        }
        operation
            .request_body(&spec)
            .unwrap_or_else(|err| panic!("{name}: the body does not resolve: {err}"));
        for (status, response) in operation.responses.iter().flatten() {
            let response = response
                .resolve(&spec)
                .unwrap_or_else(|err| panic!("{name} {status}: does not resolve: {err}"));
            for (media, content) in &response.content {
                if let Some(schema) = &content.schema {
                    schema.resolve(&spec).unwrap_or_else(|err| {
                        panic!("{name} {status} {media}: the schema does not resolve: {err}")
                    });
                }
            }
            for (link_name, link) in &response.links {
                let oas3::spec::ObjectOrReference::Object(link) = link else {
                    panic!("{name}: link {link_name} should be written out");
                };
                let oas3::spec::Link::Id {
                    operation_id,
                    parameters,
                    ..
                } = link
                else {
                    panic!("{name}: link {link_name} should name an operationId");
                };
                let target = spec
                    .operation_by_id(operation_id)
                    .unwrap_or_else(|| panic!("{name}: link {link_name} names no operation"));
                let (target_path, _, _) = spec
                    .operations()
                    .find(|(_, _, op)| op.operation_id.as_ref() == Some(operation_id))
                    .unwrap();
                for parameter in parameters.keys() {
                    let declared = target
                        .parameters(&spec)
                        .unwrap()
                        .iter()
                        .any(|p| &p.name == parameter)
                        || target_path.contains(&format!("{{{parameter}}}"));
                    assert!(
                        declared,
                        "{name}: link {link_name} passes unknown {parameter}"
                    );
                }
            }
        }
    }
    for (name, schema) in &spec.components.as_ref().unwrap().schemas {
        schema
            .resolve(&spec)
            .unwrap_or_else(|err| panic!("schema {name} does not resolve: {err}"));
    }
    // Every `$ref` in the text points inside the document at something that exists.
    let value: serde_json::Value = {
        let docs = YamlLoader::load_from_str(&text).unwrap();
        yaml_to_json(&docs[0])
    };
    for reference in text
        .split("$ref: \"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
    {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} leaves the document"));
        assert!(
            value.pointer(pointer).is_some(),
            "{reference} points at nothing"
        );
    }
}

fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> serde_json::Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Hash(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Yaml::Array(items) => serde_json::Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::String(s) => serde_json::Value::String(s.clone()),
        Yaml::Integer(i) => serde_json::Value::from(*i),
        Yaml::Boolean(b) => serde_json::Value::Bool(*b),
        _ => serde_json::Value::Null,
    }
}
