//! Bad input gets a clear 4xx in one JSON shape; nothing leaks.

use reqwest::StatusCode;
use serde_json::json;

use crate::app_test;
use crate::helpers::send;

app_test!(bad_requests, |app| {
    let admin = app.admin().await;
    let url = app.url("/api/contacts");
    let (status, err) =
        send(admin.post(&url).header("content-type", "application/json").body("{\"first_name\": "))
            .await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
    let (status, err) =
        send(admin.post(&url).header("content-type", "text/plain").body("{}")).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type"))
    );
    let (status, err) = send(admin.post(&url).json(&json!({"first_name": 5}))).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("first_name"))
    );
    let (status, err) =
        send(admin.post(&url).json(&json!({"first_name": "x", "favourite_colour": "red"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused: {err}");
    let (status, err) = send(admin.post(&url).json(
        &json!({"first_name": "x", "phones": [{"number": "+79160000000", "kind": "pager"}]}),
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, err) = send(admin.post(app.url("/api/deals")).json(&json!({}))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")));
    let big = "x".repeat(100 * 1024);
    let (status, err) = send(admin.post(&url).json(&json!({"first_name": big}))).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (status, err) =
        send(admin.get(app.url("/api/contacts/0123456789abcdef0123456789abcdef"))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, err) = send(admin.get(app.url("/api/no-such-thing"))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, err) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "x", "company_id": "missing"})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("company_id"))
    );
    // The server is still fine after all that.
    let (status, _) = send(admin.get(app.url("/api/me"))).await;
    assert_eq!(status, StatusCode::OK);
});

app_test!(openapi_document, |app| {
    let (status, _) = send(app.client().get(app.url("/api/openapi.json"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin = app.admin().await;
    let (status, doc) = send(admin.get(app.url("/api/openapi.json"))).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/contacts",
        "/api/contacts/lookup",
        "/api/deals/{id}/lost",
        "/api/auth/login",
        "/api/tasks/{id}/complete",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("Contact").is_some());
    check_openapi(&doc);
});

/// The document holds together: each operation has responses, every `$ref` resolves, each
/// parameter is in a known place, every `{name}` of a path template is declared as a required
/// path parameter and no other parameter is declared as in the path (query parameters once
/// came out as path parameters, so generated clients were wrong), and paging and filters are
/// optional query parameters.
fn check_openapi(doc: &serde_json::Value) {
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    for r in &refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "dangling $ref {r}");
    }
    let mut query_params = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let template: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{what}: no responses"
            );
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let (name, place) = (p["name"].as_str().unwrap(), p["in"].as_str().unwrap());
                assert!(
                    ["query", "path", "header", "cookie"].contains(&place),
                    "{what}: {name} in {place}"
                );
                if place == "path" {
                    assert!(
                        template.contains(&name),
                        "{what}: {name} is declared in the path but the path has no {{{name}}}"
                    );
                    assert_eq!(
                        p["required"], true,
                        "{what}: path parameter {name} must be required"
                    );
                }
                if place == "query" {
                    query_params += 1;
                }
            }
            for name in &template {
                assert!(
                    params.iter().any(|p| p["name"] == *name && p["in"] == "path"),
                    "{what}: {{{name}}} is not declared"
                );
            }
            if ["page", "per_page"].iter().any(|n| params.iter().any(|p| p["name"] == *n)) {
                for n in ["page", "per_page"] {
                    let p = params
                        .iter()
                        .find(|p| p["name"] == n)
                        .unwrap_or_else(|| panic!("{what}: {n} missing"));
                    assert_eq!(
                        (p["in"].as_str(), p["required"].as_bool().unwrap_or(false)),
                        (Some("query"), false),
                        "{what}: {n}"
                    );
                }
            }
        }
    }
    assert!(query_params > 30, "the lists' filters are query parameters ({query_params})");
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

// The same refusals for a Russian reader (the pages' `sb_lang` cookie, or Accept-Language):
// the code and field stay as they are, the message is said in Russian, naming the field as
// the form does.
app_test!(errors_come_in_the_readers_language, |app| {
    let admin = app.admin().await;
    let ru = |request: reqwest::RequestBuilder| request.header("accept-language", "ru-RU,ru;q=0.9");
    let url = app.url("/api/contacts");
    let (status, err) = send(ru(admin.post(&url)).json(&json!({"phones": ["12"]}))).await;
    assert_eq!(
        (status, err["error"].as_str(), err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"), Some("phones[0]")),
        "{err}"
    );
    assert_eq!(err["message"], "Телефоны (1): это не номер телефона", "{err}");
    let (status, err) =
        send(ru(admin.post(app.url("/api/deals"))).json(&json!({"title": ""}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["message"], "Название: от 1 до 300 символов", "{err}");
    let (status, err) =
        send(ru(admin.get(app.url("/api/contacts/0123456789abcdef0123456789abcdef")))).await;
    assert_eq!(
        (status, err["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("Контакт не найден"))
    );
    let body = json!({"first_name": "Анна", "phones": ["+79160000009"]});
    assert_eq!(send(admin.post(&url).json(&body)).await.0, StatusCode::CREATED);
    let (status, err) = send(ru(admin.post(&url)).json(&body)).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::CONFLICT, Some("duplicate")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("уже есть в другой записи"), "{err}");
    assert!(err["existing_id"].is_string(), "the other record is named: {err}");
    // English stays English.
    let (_, err) = send(admin.post(&url).json(&json!({"phones": ["12"]}))).await;
    assert!(
        err["message"].as_str().unwrap().starts_with("phones[0]: not a valid phone number"),
        "{err}"
    );
});
