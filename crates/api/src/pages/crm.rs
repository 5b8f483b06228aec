//! The CRM pages: contacts, companies, deals (list and pipeline board), tasks, callbacks, the audit
//! log, import/export and administration. Each is the shared header over an empty `main`
//! that its ES module fills from the API, so what a page shows is exactly what the API lets
//! the user read; the server only refuses the pages a role may not open at all.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use switchboard_core::Action;

use super::{LangQuery, PageUser, escape, nav, page, user_language};
use crate::AppState;
use crate::extract::CurrentUser;
use crate::i18n::t;

/// One CRM page: which header link is current, its title, its script and who may open it.
struct View {
    active: &'static str,
    title: &'static str,
    script: &'static str,
    needs: Option<Action>,
}

const CONTACTS: View =
    View { active: "contacts", title: "contacts", script: "contacts.js", needs: None };
const CONTACT: View =
    View { active: "contacts", title: "contact", script: "contact.js", needs: None };
const COMPANIES: View =
    View { active: "companies", title: "companies", script: "companies.js", needs: None };
const COMPANY: View =
    View { active: "companies", title: "company", script: "company.js", needs: None };
const DEALS: View = View { active: "deals", title: "deals", script: "deals.js", needs: None };
const DEAL: View = View { active: "deals", title: "deal", script: "deal.js", needs: None };
const TASKS: View = View { active: "tasks", title: "tasks", script: "tasks.js", needs: None };
const CALLBACKS: View =
    View { active: "callback_queue", title: "callback_queue", script: "callbacks.js", needs: None };
const AUDIT: View = View {
    active: "audit_log",
    title: "audit_log",
    script: "audit.js",
    needs: Some(Action::ReadAudit),
};
const IMPORT: View = View {
    active: "import_export",
    title: "import_export",
    script: "import.js",
    needs: Some(Action::ImportExport),
};
const REPORTS: View = View {
    active: "dashboard",
    title: "sales_reports",
    script: "reports.js",
    needs: Some(Action::MonitorCalls),
};
const ACCOUNT: View =
    View { active: "account", title: "account", script: "account.js", needs: None };
const ADMIN: View =
    View { active: "admin", title: "admin", script: "admin.js", needs: Some(Action::ManageUsers) };

async fn render(
    state: &AppState,
    user: &CurrentUser,
    query: &LangQuery,
    headers: &HeaderMap,
    view: &View,
    id: Option<&str>,
) -> Response {
    let (lang, keep) = user_language(state, user, query, headers).await;
    if view.needs.is_some_and(|a| !user.0.role.can(a)) {
        return super::forbidden(lang, user);
    }
    let body = format!(
        r#"{nav}
<main class="crm" id="app" data-view="{view}" data-id="{id}" data-region="{region}">
<p class="muted" id="loading">{loading}</p>
</main>
<dialog id="dialog"></dialog>"#,
        nav = nav(lang, user, view.active, ""),
        view = view.title,
        id = escape(id.unwrap_or("")),
        region = state.config().region.code(),
        loading = t(lang, "loading"),
    );
    page(lang, &t(lang, view.title), &body, view.script, keep)
}

macro_rules! list_page {
    ($name:ident, $view:expr) => {
        pub(super) async fn $name(
            State(state): State<AppState>,
            PageUser(user): PageUser,
            Query(query): Query<LangQuery>,
            headers: HeaderMap,
        ) -> Response {
            render(&state, &user, &query, &headers, &$view, None).await
        }
    };
}

macro_rules! record_page {
    ($name:ident, $view:expr) => {
        pub(super) async fn $name(
            State(state): State<AppState>,
            PageUser(user): PageUser,
            Path(id): Path<String>,
            Query(query): Query<LangQuery>,
            headers: HeaderMap,
        ) -> Response {
            render(&state, &user, &query, &headers, &$view, Some(&id)).await
        }
    };
}

list_page!(contacts_page, CONTACTS);
record_page!(contact_page, CONTACT);
list_page!(companies_page, COMPANIES);
record_page!(company_page, COMPANY);
list_page!(deals_page, DEALS);
record_page!(deal_page, DEAL);
list_page!(tasks_page, TASKS);
list_page!(callbacks_page, CALLBACKS);
list_page!(audit_page, AUDIT);
list_page!(import_page, IMPORT);
list_page!(admin_page, ADMIN);
list_page!(account_page, ACCOUNT);
list_page!(reports_page, REPORTS);
