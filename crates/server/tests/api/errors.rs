//! Bad input gets a clear 4xx in one JSON shape; nothing leaks.

use reqwest::StatusCode;
use serde_json::json;

use crate::app_test;
use crate::helpers::send;

app_test!(bad_requests, |app| {
    let admin = app.admin().await;
    let url = app.url("/api/contacts");
    let (status, err) = send(admin.post(&url).header("content-type", "application/json").body("{\"first_name\": ")).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
    let (status, err) = send(admin.post(&url).header("content-type", "text/plain").body("{}")).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")));
    let (status, err) = send(admin.post(&url).json(&json!({"first_name": 5}))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("first_name")));
    let (status, err) = send(admin.post(&url).json(&json!({"first_name": "x", "favourite_colour": "red"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused: {err}");
    let (status, err) = send(admin.post(&url).json(&json!({"first_name": "x", "phones": [{"number": "+79160000000", "kind": "pager"}]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, err) = send(admin.post(app.url("/api/deals")).json(&json!({}))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")));
    let big = "x".repeat(100 * 1024);
    let (status, err) = send(admin.post(&url).json(&json!({"first_name": big}))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    let (status, err) = send(admin.get(app.url("/api/contacts/0123456789abcdef0123456789abcdef"))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, err) = send(admin.get(app.url("/api/no-such-thing"))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, err) = send(admin.post(app.url("/api/contacts")).json(&json!({"first_name": "x", "company_id": "missing"}))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("company_id")));
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
    for path in ["/api/contacts", "/api/contacts/lookup", "/api/deals/{id}/lost", "/api/auth/login", "/api/tasks/{id}/complete"] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("Contact").is_some());
});
