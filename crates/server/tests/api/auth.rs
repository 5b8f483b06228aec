use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::json;

use crate::app_test;
use crate::helpers::{ADMIN_PASSWORD, body, send};

app_test!(login_logout_and_cookie_flags, |app| {
    let client = app.client();
    let (status, err) = send(client.get(app.url("/api/contacts"))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));

    let (status, err) = send(
        client
            .post(app.url("/api/auth/login"))
            .json(&json!({"login": "admin", "password": "wrong-password"})),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    let (status, _) = send(
        client
            .post(app.url("/api/auth/login"))
            .json(&json!({"login": "nobody", "password": "whatever1"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let res = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let me = body(res).await;
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none(), "no secrets in responses");

    let (status, me) = send(client.get(app.url("/api/me"))).await;
    assert_eq!((status, me["login"].as_str()), (StatusCode::OK, Some("admin")));
    let (status, _) = send(client.post(app.url("/api/auth/logout"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(client.get(app.url("/api/me"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

app_test!(api_tokens_and_password_change, |app| {
    let admin = app.admin().await;
    let (op, _) = app.user(&admin, "ivanova", "operator").await;
    let (status, created) =
        send(op.post(app.url("/api/me/tokens")).json(&json!({"name": "1C sync"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sbt_"));

    let bare = reqwest::Client::new();
    let (status, me) = send(bare.get(app.url("/api/me")).bearer_auth(&token)).await;
    assert_eq!((status, me["login"].as_str()), (StatusCode::OK, Some("ivanova")));
    let (status, _) = send(bare.get(app.url("/api/me")).bearer_auth("sbt_not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, list) = send(op.get(app.url("/api/me/tokens"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list[0].get("token").is_none(), "the secret is shown only once");

    let id = created["id"].as_str().unwrap();
    let (status, _) = send(op.delete(app.url(&format!("/api/me/tokens/{id}")))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(bare.get(app.url("/api/me")).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, err) = send(
        op.post(app.url("/api/me/password"))
            .json(&json!({"current_password": "wrong", "new_password": "new-password-1"})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"))
    );
    let (status, _) = send(
        op.post(app.url("/api/me/password"))
            .json(&json!({"current_password": "password-123", "new_password": "new-password-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The change ended the session; the new password works.
    let (status, _) = send(op.get(app.url("/api/me"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("ivanova", "new-password-1").await;

    // A disabled user cannot log in.
    let (_, users) = send(admin.get(app.url("/api/users"))).await;
    let id = users.as_array().unwrap().iter().find(|u| u["login"] == "ivanova").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) =
        send(admin.patch(app.url(&format!("/api/users/{id}"))).json(&json!({"active": false})))
            .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        app.client()
            .post(app.url("/api/auth/login"))
            .json(&json!({"login": "ivanova", "password": "new-password-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

app_test!(repeated_failures_lock_the_login, |app| {
    let client = app.client();
    for _ in 0..10 {
        let (status, _) = send(
            client
                .post(app.url("/api/auth/login"))
                .json(&json!({"login": "admin", "password": "guess-guess"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Locked now, even with the right password; other logins are unaffected.
    let (status, err) = send(
        client
            .post(app.url("/api/auth/login"))
            .json(&json!({"login": "Admin", "password": ADMIN_PASSWORD})),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    let (status, _) = send(
        client
            .post(app.url("/api/auth/login"))
            .json(&json!({"login": "someone", "password": "guess-guess"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});
