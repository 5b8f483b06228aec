//! The CRM pages in Chromium, walked as each role would: contacts (create, find by any
//! spelling of the number, merge duplicates), the deals board (drag across stages, lost asks
//! why), tasks (mine, the team's, the day; complete; a callback in one click), the language
//! switch, and the pages and buttons each role may not have.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{Agent, Driver};
use crate::calls::{Scene, go_available};
use crate::harness::{
    AGENT_PASSWORD, Capture, Gateway, GatewayOptions, SippRun, assert_tone, audio_to,
};

/// The README's screenshots.
const SHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots");

fn epoch_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

/// A user with `role` (and team), returns their id.
pub(crate) async fn user(
    gw: &Gateway,
    login: &str,
    name: &str,
    role: &str,
    team: Option<&str>,
) -> String {
    let made = gw.post(&gw.admin, "/api/users", json!({"login": login, "name": name, "role": role, "password": AGENT_PASSWORD, "team_id": team})).await;
    made["user"]["id"].as_str().unwrap().to_owned()
}

/// Signs in through the page (no softphone needed) and returns the browser's name.
pub(crate) async fn sign_in(driver: &mut Driver, gw: &Gateway, login: &str, wav: &Path) -> String {
    let a = login.to_owned();
    driver.must(json!({"cmd": "open", "agent": a, "wav": wav})).await;
    driver
        .must(json!({"cmd": "goto", "agent": a, "url": format!("{}/login?lang=en", gw.base)}))
        .await;
    driver.must(json!({"cmd": "fill", "agent": a, "selector": "#login", "value": login})).await;
    driver
        .must(json!({"cmd": "fill", "agent": a, "selector": "#password", "value": AGENT_PASSWORD}))
        .await;
    driver.must(json!({"cmd": "click", "agent": a, "selector": "#sign-in"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": a, "selector": "#state", "state": "attached"}))
        .await;
    a
}

pub(crate) struct Page<'a> {
    pub(crate) driver: &'a mut Driver,
    pub(crate) who: String,
    pub(crate) base: String,
}

impl Page<'_> {
    pub(crate) async fn goto(&mut self, path: &str) {
        self.driver
            .must(json!({"cmd": "goto", "agent": self.who, "url": format!("{}{path}", self.base)}))
            .await;
    }
    pub(crate) async fn wait(&mut self, selector: &str) -> String {
        self.driver
            .must(json!({"cmd": "wait", "agent": self.who, "selector": selector}))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
    /// Waits for an element that is in the page but not drawn (a datalist's or a closed
    /// select's option).
    pub(crate) async fn attached(&mut self, selector: &str) {
        self.driver
            .must(json!({"cmd": "wait", "agent": self.who, "selector": selector, "state": "attached"}))
            .await;
    }
    pub(crate) async fn wait_text(&mut self, selector: &str, text: &str) {
        self.driver
            .must(json!({"cmd": "wait", "agent": self.who, "selector": selector, "text": text}))
            .await;
    }
    pub(crate) async fn fill(&mut self, selector: &str, value: &str) {
        self.driver
            .must(json!({"cmd": "fill", "agent": self.who, "selector": selector, "value": value}))
            .await;
    }
    pub(crate) async fn click(&mut self, selector: &str) {
        self.driver.must(json!({"cmd": "click", "agent": self.who, "selector": selector})).await;
    }
    pub(crate) async fn eval(&mut self, js: &str) -> Value {
        self.driver.must(json!({"cmd": "eval", "agent": self.who, "js": js})).await
    }
    pub(crate) async fn url(&mut self) -> String {
        self.eval("location.pathname").await.as_str().unwrap().to_owned()
    }
    pub(crate) async fn count(&mut self, selector: &str) -> u64 {
        self.eval(&format!("document.querySelectorAll({}).length", json!(selector)))
            .await
            .as_u64()
            .unwrap()
    }
    /// The HTTP status of a GET from this browser (its session).
    pub(crate) async fn status(&mut self, path: &str) -> u64 {
        self.eval(&format!("fetch({}).then((r) => r.status)", json!(path))).await.as_u64().unwrap()
    }
    pub(crate) async fn screenshot(&mut self, name: &str) {
        std::fs::create_dir_all(SHOTS).unwrap();
        self.driver
            .must(
                json!({"cmd": "screenshot", "agent": self.who, "path": format!("{SHOTS}/{name}")}),
            )
            .await;
    }
    /// Waits until `js` is true in the page.
    pub(crate) async fn until(&mut self, js: &str, what: &str) {
        let command = json!({"cmd": "until", "agent": self.who, "js": js, "timeout": 10000});
        if let Err(e) = self.driver.send(command).await {
            panic!("{what}: `{js}` never became true ({e})");
        }
    }
}

/// Contacts, merge and the roles' pages: an operator creates a contact as `+79161234567` and
/// finds it by `8 (916) 123-45-67`; a manager merges two duplicates and the survivor has both
/// phones (and the other's deal); the operator sees no merge, delete, import, audit or admin.
pub(crate) async fn contacts_search_merge_and_roles() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let team = gw.post(&gw.admin, "/api/teams", json!({"name": "Sales"})).await;
    let team_id = team["id"].as_str().unwrap();
    let _olga = user(&gw, "olga", "Olga Operator", "operator", Some(team_id)).await;
    let _maria = user(&gw, "maria", "Maria Manager", "manager", None).await;
    gw.post(&gw.admin, "/api/companies", json!({"name": "ООО Ромашка"})).await;
    let Scene { scratch: _scratch, wav, caller_dir: _, mut driver } =
        Scene::new("browser-crm-contacts");

    let who = sign_in(&mut driver, &gw, "olga", &wav).await;
    let mut p = Page { driver: &mut driver, who, base: gw.base.clone() };
    p.goto("/contacts").await;
    p.wait("#contacts").await;
    p.click("#new-contact").await;
    p.fill("#c-last", "Петров").await;
    p.fill("#c-first", "Иван").await;
    p.fill("#c-phones", "+79161234567").await;
    p.fill("#c-emails", "Ivan@Example.ru").await;
    // The company field suggests existing companies as one types; a name that matches none is
    // not made into a new company unless the user says so.
    p.fill("#c-company", "Рома").await;
    p.attached("#c-company-list option[value='ООО Ромашка']").await;
    p.fill("#c-company", "ООО Ромашкка").await;
    p.click("#dialog-ok").await;
    p.wait_text("#dialog-error", "ООО Ромашкка").await;
    p.wait("#c-new-company-box:not([hidden])").await;
    let companies = gw.get(&gw.admin, "/api/companies").await;
    assert_eq!(companies["total"], 1, "a typo made no company: {companies}");
    assert_eq!(gw.get(&gw.admin, "/api/contacts").await["total"], 0, "nor a contact");
    p.fill("#c-company", "ООО Ромашка").await;
    p.click("#dialog-ok").await;
    p.wait_text("#contact-name", "Петров Иван").await;
    let ivan_id = p.url().await.trim_start_matches("/contacts/").to_owned();
    assert_eq!(p.wait("#phones .number").await, "+7 916 123-45-67");
    p.wait_text("#company-link", "ООО Ромашка").await;

    // Found by the number as people write it.
    p.goto("/contacts").await;
    p.wait("#contacts").await;
    p.fill("#search", "8 (916) 123-45-67").await;
    p.click("#search-button").await;
    p.wait_text("#contacts tbody", "Петров Иван").await;
    assert_eq!(p.count("#contacts tbody tr[data-id]").await, 1);
    assert_eq!(
        p.eval("document.querySelector('#contacts tbody tr').dataset.id").await,
        json!(ivan_id)
    );
    // The last digits people remember find the number too.
    p.fill("#search", "45-67").await;
    p.click("#search-button").await;
    p.wait_text("#contacts tbody", "Петров Иван").await;
    assert_eq!(p.count("#contacts tbody tr[data-id]").await, 1);
    // An invalid number is an error naming the field, not an empty list.
    p.fill("#search", "8 (916) 123-4").await;
    p.click("#search-button").await;
    p.wait_text("#error", "phone").await;

    // A duplicate typed in the form: the phone belongs to Ivan, the form says so and keeps
    // what was typed.
    p.click("#new-contact").await;
    p.fill("#c-first", "Ваня").await;
    p.fill("#c-phones", "+7 916 123 45 67").await;
    p.fill("#c-company", "ООО Новая").await;
    p.click("#dialog-ok").await;
    p.click("#c-new-company").await;
    p.click("#dialog-ok").await;
    // The refusal names the other contact and links to it; nothing was saved, not even the
    // new company.
    p.wait_text("#dialog-error", "Петров Иван").await;
    assert_eq!(
        p.eval("document.querySelector('#c-existing').getAttribute('href')").await,
        json!(format!("/contacts/{ivan_id}"))
    );
    assert_eq!(p.eval("document.querySelector('#c-first').value").await, json!("Ваня"));
    assert_eq!(gw.get(&gw.admin, "/api/companies").await["total"], 1, "no company left behind");
    p.click("#dialog-cancel").await;

    // What an operator does not get.
    assert_eq!(p.count("#merge").await, 0, "operators cannot merge");
    for link in ["#nav-audit_log", "#nav-dashboard", "#nav-wallboard"] {
        assert_eq!(p.count(link).await, 0, "{link} is not in an operator's header");
    }
    for page in ["/audit", "/dashboard", "/wallboard"] {
        assert_eq!(p.status(page).await, 403, "{page} is refused to an operator");
    }
    // The refusal is a page in their language, with the header and a way back.
    p.goto("/audit?lang=ru").await;
    p.wait_text("#forbidden h1", "Нет доступа").await;
    p.wait_text("#go-home", "На главную").await;
    assert!(p.count("header.top nav a").await > 0, "the header is there");
    p.goto(&format!("/contacts/{ivan_id}")).await;
    p.wait("#contact-card").await;
    assert_eq!(
        p.count("#delete").await + p.count("#merge-with").await,
        0,
        "no delete or merge on an operator's card"
    );

    // A duplicate with another number and a deal, made through the API (as an import would).
    let dup =
        gw.post(&gw.admin, "/api/contacts", json!({"first_name": "Ваня", "last_name": "Петров", "phones": ["8 903 765 43 21", "+79161234567"], "emails": ["vanya@example.ru"], "force": true})).await;
    let dup_id = dup["id"].as_str().unwrap();
    let deal = gw
        .post(
            &gw.admin,
            "/api/deals",
            json!({"title": "Поставка бумаги", "contact_id": dup_id, "amount": 150000}),
        )
        .await;

    // The manager merges them from the list: the survivor has both phones and the deal.
    let who = sign_in(p.driver, &gw, "maria", &wav).await;
    let mut m = Page { driver: p.driver, who, base: gw.base.clone() };
    m.goto("/contacts").await;
    m.wait("#contacts").await;
    m.fill("#search", "Петров").await;
    m.click("#search-button").await;
    m.until(
        "document.querySelectorAll('#contacts tbody tr[data-id]').length === 2",
        "both Petrovs listed",
    )
    .await;
    m.click(&format!("#contacts tr[data-id='{ivan_id}'] .pick")).await;
    m.click(&format!("#contacts tr[data-id='{dup_id}'] .pick")).await;
    m.click("#merge").await;
    m.click(&format!("input[name=keep][value='{ivan_id}']")).await;
    m.click("#dialog-ok").await;
    m.wait("#contact-card").await;
    assert_eq!(m.url().await, format!("/contacts/{ivan_id}"));
    let phones = m
        .eval("[...document.querySelectorAll('#phones .number')].map((e) => e.dataset.e164)")
        .await;
    assert_eq!(phones, json!(["+79161234567", "+79037654321"]), "both phones on the survivor");
    m.wait_text("#emails", "vanya@example.ru").await;
    m.wait_text("#deals", "Поставка бумаги").await;
    assert_eq!(m.status(&format!("/api/contacts/{dup_id}")).await, 404, "the duplicate is gone");
    let moved = gw.get(&gw.admin, &format!("/api/deals/{}", deal["id"].as_str().unwrap())).await;
    assert_eq!(moved["contact_id"], ivan_id.as_str());
    // The manager reads the audit log: the merge is in it, naming both contacts.
    m.click("#nav-audit_log").await;
    m.wait("#audit tr[data-action='contact.merge']").await;
    m.wait_text("#audit", dup_id).await;

    // Language: switched to Russian on one page, it stays for the user on every page, and back.
    m.click("#lang-switch").await;
    m.wait_text("#nav-contacts", "Контакты").await;
    m.goto("/deals").await;
    m.wait_text("#nav-deals", "Сделки").await;
    m.wait_text("#new-deal", "Новая сделка").await;
    let me = m.eval("fetch('/api/me').then((r) => r.json()).then((u) => u.language)").await;
    assert_eq!(me, json!("ru"), "the choice is kept on the user");
    m.click("#lang-switch").await;
    m.wait_text("#nav-deals", "Deals").await;
    m.wait_text("#new-deal", "New deal").await;
    driver.quit().await;
    gw.stop().await;
}

/// The pipeline board: a deal dragged from the first stage to the second (and moved back and
/// forth with the arrow keys) shows the change in
/// its timeline; dropped on "lost" it asks for the reason and the competitor; column sums
/// follow. Screenshots of the board, the contact card and the tasks page for the README.
pub(crate) async fn deals_board_drag_and_tasks_page() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let sam = user(&gw, "sam", "Сергей Супервизоров", "supervisor", None).await;
    let team =
        gw.post(&gw.admin, "/api/teams", json!({"name": "Продажи", "supervisor_id": sam})).await;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let olga = user(&gw, "olga", "Ольга Операторова", "operator", Some(&team_id)).await;
    let stages = gw.get(&gw.admin, "/api/pipeline/stages").await;
    let stage = |i: usize| {
        (
            stages[i]["id"].as_str().unwrap().to_owned(),
            stages[i]["name"].as_str().unwrap().to_owned(),
        )
    };
    let ((first, _), (second, second_name)) = (stage(0), stage(1));
    let company = gw
        .post(&gw.admin, "/api/companies", json!({"name": "ООО Ромашка", "tax_id": "7701234567"}))
        .await;
    let ivan = gw
        .post(&gw.admin, "/api/contacts", json!({"first_name": "Иван", "last_name": "Петров", "middle_name": "Сергеевич", "position": "закупщик", "phones": ["+79161234567"], "emails": ["ivan@romashka.ru"], "company_id": company["id"], "owner_id": olga})).await;
    gw.post(&gw.admin, "/api/contacts", json!({"first_name": "Анна", "last_name": "Смирнова", "position": "директор", "phones": ["+74951234567"], "company_id": company["id"]})).await;
    let ivan_id = ivan["id"].as_str().unwrap().to_owned();
    let mk = |title: &str, amount: i64, stage: &str| json!({"title": title, "contact_id": ivan_id, "company_id": company["id"], "amount": amount, "stage_id": stage, "owner_id": olga});
    let paper = gw.post(&gw.admin, "/api/deals", mk("Поставка бумаги", 150_000, &first)).await;
    let toner = gw.post(&gw.admin, "/api/deals", mk("Картриджи", 42_000, &first)).await;
    gw.post(&gw.admin, "/api/deals", mk("Мебель для офиса", 380_000, &second)).await;
    let (paper_id, toner_id) =
        (paper["id"].as_str().unwrap().to_owned(), toner["id"].as_str().unwrap().to_owned());
    gw.post(
        &gw.admin,
        "/api/notes",
        json!({"body": "Просил счёт на следующей неделе", "contact_id": ivan_id}),
    )
    .await;

    let Scene { scratch: _scratch, wav, caller_dir: _, mut driver } =
        Scene::new("browser-crm-deals");
    let who = sign_in(&mut driver, &gw, "olga", &wav).await;
    let mut p = Page { driver: &mut driver, who, base: gw.base.clone() };
    // The tasks page groups by the browser's day: near midnight a task due "today" would be
    // tomorrow's, and the overdue ones yesterday's, by the time the page is read. Start the
    // day's tasks at least ten minutes before midnight, or a minute and a half after it.
    let mut to_midnight = p.eval("new Date().setHours(24, 0, 0, 0) - Date.now()").await;
    if to_midnight.as_i64().unwrap() < 600_000 {
        tokio::time::sleep(Duration::from_millis(to_midnight.as_u64().unwrap() + 90_000)).await;
        to_midnight = p.eval("new Date().setHours(24, 0, 0, 0) - Date.now()").await;
    }
    let soon = (to_midnight.as_i64().unwrap() / 2).min(600_000);
    let now = epoch_ms();
    gw.post(&gw.admin, "/api/tasks", json!({"subject": "Отправить КП", "kind": "email", "due_at": now - 3_600_000, "assignee_id": olga, "contact_id": ivan_id})).await;
    let today = gw.post(&gw.admin, "/api/tasks", json!({"subject": "Уточнить объём", "kind": "call", "due_at": now + soon, "assignee_id": olga, "deal_id": paper_id})).await;
    gw.post(&gw.admin, "/api/tasks", json!({"subject": "Перезвонить клиенту", "callback_phone": "8 (916) 555-01-02", "due_at": now - 60_000, "assignee_id": olga})).await;
    gw.post(&gw.admin, "/api/tasks", json!({"subject": "Встреча в офисе", "kind": "meeting", "due_at": now + 3 * 86_400_000, "assignee_id": olga})).await;

    // The board: three open deals in their columns, sums per column.
    p.goto("/deals").await;
    p.wait(&format!(".column[data-drop='{first}'] .deal-card[data-id='{paper_id}']")).await;
    let first_total = p.wait(&format!(".total[data-total='{first}']")).await;
    assert!(
        first_total.starts_with('2') && first_total.contains("192"),
        "two deals summing 192 000: {first_total}"
    );
    p.driver.must(json!({"cmd": "drag", "agent": p.who, "from": format!(".deal-card[data-id='{paper_id}']"), "to": format!(".column[data-drop='{second}']")})).await;
    p.wait(&format!(".column[data-drop='{second}'] .deal-card[data-id='{paper_id}']")).await;
    let second_total = p.wait(&format!(".total[data-total='{second}']")).await;
    assert!(
        second_total.starts_with('2') && second_total.contains("530"),
        "the second column now sums 530 000: {second_total}"
    );
    // With the keyboard: the focused card goes back a stage with ←, forward again with →,
    // and keeps the focus.
    let card = format!(".deal-card[data-id='{paper_id}']");
    p.eval(&format!("document.querySelector(\"{card}\").focus()")).await;
    p.driver.must(json!({"cmd": "press", "agent": p.who, "key": "ArrowLeft"})).await;
    p.wait(&format!(".column[data-drop='{first}'] {card}")).await;
    p.until(
        &format!("document.activeElement && document.activeElement.matches(\"{card}\")"),
        "the moved card keeps the focus",
    )
    .await;
    p.driver.must(json!({"cmd": "press", "agent": p.who, "key": "ArrowRight"})).await;
    p.wait(&format!(".column[data-drop='{second}'] {card}")).await;
    // Dropped on lost: the reason and the competitor are asked for.
    p.driver.must(json!({"cmd": "drag", "agent": p.who, "from": format!(".deal-card[data-id='{toner_id}']"), "to": ".column[data-drop='lost']"})).await;
    // The reasons are the managed list, plus "other" with a text.
    p.attached("#lost-pick option[value=price]").await;
    p.driver
        .must(json!({"cmd": "select", "agent": p.who, "selector": "#lost-pick", "value": "*"}))
        .await;
    p.fill("#lost-reason", "Дорого").await;
    p.fill("#lost-competitor", "ООО Конкурент").await;
    p.click("#dialog-ok").await;
    p.wait(&format!(".column[data-drop='lost'] .deal-card[data-id='{toner_id}']")).await;
    let lost = gw.get(&gw.admin, &format!("/api/deals/{toner_id}")).await;
    assert_eq!(
        (lost["status"].as_str(), lost["loss_reason"].as_str(), lost["competitor"].as_str()),
        (Some("lost"), Some("Дорого"), Some("ООО Конкурент"))
    );
    p.screenshot("deals-board.png").await;
    // The same deals as a list.
    p.click("#show-list").await;
    p.wait_text("#deals tbody", "Мебель для офиса").await;
    assert_eq!(p.count("#deals tbody tr[data-id]").await, 3);

    // The stage change in the deal's timeline.
    p.goto(&format!("/deals/{paper_id}")).await;
    p.wait_text("#timeline", &format!("→ {second_name}")).await;
    p.wait_text("#deal-contact", "Петров Иван").await;

    // The contact card: phones, company and its people, deals, tasks, one timeline.
    p.goto(&format!("/contacts/{ivan_id}")).await;
    p.wait_text("#colleagues", "Смирнова Анна").await;
    p.wait_text("#deals", "Поставка бумаги").await;
    p.wait_text("#timeline", "Просил счёт").await;
    p.wait_text("#timeline", "Поставка бумаги: ").await;
    p.fill("#note-body", "Договорились о встрече").await;
    p.click("#add-note").await;
    p.wait_text("#timeline", "Договорились о встрече").await;
    p.screenshot("contact-card.png").await;
    // In Russian the timeline's own words are Russian too (a deal's status, a task's kind).
    p.goto(&format!("/contacts/{ivan_id}?lang=ru")).await;
    p.wait_text("#timeline", "Поставка бумаги [В работе]").await;
    let english = p.eval("/\\[(open|done)\\]|\\b(call|meeting|inbound|outbound):? /.test(document.querySelector('#timeline').textContent)").await;
    assert_eq!(english, json!(false), "no English status or kind words in a Russian timeline");
    p.goto(&format!("/contacts/{ivan_id}?lang=en")).await;
    p.wait_text("#timeline", "Поставка бумаги [Open]").await;

    // Tasks: overdue first, then today, later; completing one records the result.
    p.goto("/tasks").await;
    p.wait_text("#tasks-overdue", "Отправить КП").await;
    p.wait_text("#tasks-overdue", "Перезвонить клиенту").await;
    p.wait_text("#tasks-today", "Уточнить объём").await;
    p.wait_text("#tasks-later", "Встреча в офисе").await;
    assert_eq!(p.count("#tasks-overdue .call").await, 1, "the callback has its call button");
    assert_eq!(p.count("#tab-team").await, 0, "operators have no team tab");
    p.screenshot("tasks.png").await;
    let today_id = today["id"].as_str().unwrap();
    p.click(&format!("#tasks-today .complete[data-id='{today_id}']")).await;
    p.fill("#task-result", "500 пачек в месяц").await;
    p.click("#dialog-ok").await;
    p.until(
        &format!("!document.querySelector(\"#content [data-id='{today_id}']\")"),
        "the completed task leaves the list",
    )
    .await;
    let done = gw.get(&gw.admin, &format!("/api/tasks/{today_id}")).await;
    assert_eq!(
        (done["status"].as_str(), done["result"].as_str()),
        (Some("done"), Some("500 пачек в месяц"))
    );
    // The day view: today's tasks under their hours.
    p.click("#tab-day").await;
    p.wait("#day").await;
    p.wait_text("#day", "Перезвонить клиенту").await;
    // A new task from the page.
    p.click("#new-task").await;
    p.fill("input[name=subject]", "Подготовить договор").await;
    p.click("#dialog-ok").await;
    p.click("#tab-mine").await;
    // Due an hour from now by default: today's group, or tomorrow's after 23:00.
    p.wait_text("#content", "Подготовить договор").await;

    // The supervisor sees the team's tasks.
    let who = sign_in(p.driver, &gw, "sam", &wav).await;
    let mut s = Page { driver: p.driver, who, base: gw.base.clone() };
    s.goto("/tasks").await;
    s.click("#tab-team").await;
    s.wait_text("#tasks-overdue", "Отправить КП").await;
    s.wait_text("#tasks-overdue", "Ольга Операторова").await;
    assert_eq!(s.status("/audit").await, 403, "supervisors do not read the audit log");
    driver.quit().await;
    gw.stop().await;
}

/// A callback on the tasks page is one click: the console opens, dials the number through the
/// PBX (SIPp) and the call is linked to the task.
pub(crate) async fn callback_from_the_tasks_page_in_one_click() {
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-crm-callback");
    let pbx = SippRun {
        pause_ms: 3000,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &caller_dir)
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let anna = crate::calls::browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({})).await;
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    let capture = Capture::start(&scratch.0, &[pbx.media_port]).await;
    let pbx_media = pbx.media_port;
    let pbx_port = pbx.port;
    let pbx = pbx.spawn();
    crate::harness::wait_udp_bound(pbx_port).await;
    let task = gw.post(&gw.admin, "/api/tasks", json!({"subject": "Перезвонить", "callback_phone": "8 (916) 555-01-02", "due_at": epoch_ms() - 1000, "assignee_id": anna})).await;
    let task_id = task["id"].as_str().unwrap().to_owned();
    driver.must(json!({"cmd": "goto", "agent": a.name, "url": format!("{}/tasks", gw.base)})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": format!("#tasks-overdue .call[data-id='{task_id}']")})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]", "timeout": 20000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(
        pbx.wait(Duration::from_secs(20)).await,
        "the PBX got the call and the customer hung up"
    );
    assert_tone(
        &audio_to(&capture.stop().await, pbx_media),
        2000.0,
        "the customer hears the browser agent",
    );
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call = gw.wait_call_ended(calls["items"][0]["id"].as_str().unwrap()).await;
    assert_eq!(
        (call["call"]["to_e164"].as_str(), call["call"]["task_id"].as_str()),
        (Some("+79165550102"), Some(task_id.as_str()))
    );
    // A callback the gateway made for a missed call is stored in one form and said in the
    // reader's language.
    gw.post(&gw.admin, "/api/tasks", json!({"subject": "Call back +79160000001 (Пётр Иванов)", "callback_phone": "+79160000001", "due_at": epoch_ms() - 1000, "assignee_id": anna})).await;
    driver
        .must(json!({"cmd": "goto", "agent": a.name, "url": format!("{}/tasks?lang=ru", gw.base)}))
        .await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#tasks-overdue", "text": "Перезвонить +79160000001 (Пётр Иванов)"})).await;
    driver.quit().await;
    gw.stop().await;
}
