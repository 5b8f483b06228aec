//! One's own password, in the browser: an operator opens their account from the header (in
//! Russian), is told in Russian when the current password is wrong or the two new ones differ,
//! changes it and stays signed in; the old password no longer works, the new one does. The
//! sign-in page says in the user's language when an address is locked out.

use serde_json::json;

use crate::calls::Scene;
use crate::crm::{Page, sign_in, user};
use crate::harness::{AGENT_PASSWORD, Gateway, GatewayOptions};

pub(crate) async fn change_own_password_in_russian() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    user(&gw, "olga", "Ольга Оператор", "operator", None).await;
    let Scene { scratch: _scratch, wav, caller_dir: _, mut driver } = Scene::new("browser-account");
    let who = sign_in(&mut driver, &gw, "olga", &wav).await;
    let mut p = Page { driver: &mut driver, who, base: gw.base.clone() };
    p.goto("/contacts?lang=ru").await;
    p.click("#user-name").await;
    p.wait_text("#account-who", "olga").await;
    assert_eq!(p.url().await, "/account");

    // Wrong current password: said in Russian, nothing changed.
    p.fill("#current-password", "not-my-password").await;
    p.fill("#new-password", "новый-пароль-1").await;
    p.fill("#repeat-password", "новый-пароль-1").await;
    p.click("#change-password").await;
    p.wait_text("#error:not([hidden])", "Текущий пароль неверен").await;
    // The two new ones differ: caught before asking the server.
    p.fill("#current-password", AGENT_PASSWORD).await;
    p.fill("#repeat-password", "новый-пароль-2").await;
    p.click("#change-password").await;
    p.wait_text("#error:not([hidden])", "Новые пароли не совпадают").await;

    p.fill("#repeat-password", "новый-пароль-1").await;
    p.click("#change-password").await;
    p.until("!document.querySelector('#password-changed').hidden || !document.querySelector('#error').hidden", "an answer").await;
    assert_eq!(p.eval("document.querySelector('#error').hidden ? '' : document.querySelector('#error').textContent").await, json!(""));
    p.wait_text("#password-changed:not([hidden])", "Пароль изменён").await;
    p.screenshot("account.png").await;
    // Still signed in (the page signed in again with the new password).
    p.goto("/contacts").await;
    p.wait("#contacts").await;
    let client = reqwest::Client::new();
    let status = |password: &'static str| {
        let (client, base) = (client.clone(), gw.base.clone());
        async move {
            client
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"login": "olga", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(AGENT_PASSWORD).await, 401, "the old password is gone");
    assert_eq!(status("новый-пароль-1").await, 200, "the new one works");
}
