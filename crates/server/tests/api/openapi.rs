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
