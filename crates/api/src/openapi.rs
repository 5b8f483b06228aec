//! The OpenAPI document, served at `/api/openapi.json` (to logged-in users, like everything).

use axum::Json;
use utoipa::OpenApi;

use crate::extract::CurrentUser;
use crate::routes::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Call-center CRM. Authenticate with the session cookie from /api/auth/login or `Authorization: Bearer sbt_...`. Times are epoch milliseconds (UTC). Errors: {\"error\", \"message\", \"field\", \"input\", \"existing_id\"}."),
    paths(
        crate::auth::login, crate::auth::logout, crate::auth::me, crate::auth::update_me, crate::auth::change_password,
        crate::auth::list_tokens, crate::auth::create_token, crate::auth::revoke_token,
        users::list, users::create, users::read, users::update, users::list_teams, users::create_team, users::update_team,
        contacts::list, contacts::lookup, contacts::create, contacts::read, contacts::update, contacts::remove, contacts::timeline, contacts::merge,
        companies::list, companies::create, companies::read, companies::update, companies::remove,
        pipelines::list_pipelines, pipelines::create_pipeline, pipelines::update_pipeline, pipelines::delete_pipeline,
        pipelines::list_stages, pipelines::create_stage, pipelines::update_stage, pipelines::delete_stage,
        pipelines::list_rules, pipelines::all_rules, pipelines::create_rule, pipelines::delete_rule, deals::totals,
        products::list, products::create, products::read, products::update, products::remove,
        products::items, products::add_item, products::update_item, products::remove_item, products::settings, products::update_settings,
        documents::templates, documents::create_template, documents::placeholders, documents::update_template, documents::settings, documents::update_settings,
        documents::pending, documents::deal_documents, documents::generate, documents::read, documents::pdf, documents::approve, documents::reject, documents::send,
        deals::list, deals::create, deals::read, deals::update, deals::move_stage, deals::won, deals::lost, deals::reopen, deals::history, deals::timeline, deals::remove,
        tasks::list, tasks::create, tasks::read, tasks::update, tasks::complete, tasks::remove,
        callbacks::list, callbacks::assign,
        leads::form_post, leads::api_post, leads::list, leads::list_forms, leads::create_form, leads::update_form, leads::snippet,
        webhooks::list, webhooks::events, webhooks::create, webhooks::update, webhooks::remove, webhooks::deliveries, webhooks::redeliver,
        notes::list, notes::create, notes::remove,
        custom_fields::list, custom_fields::create, custom_fields::update, custom_fields::remove,
        audit::list,
        telephony::agent_state, telephony::set_agent_state, telephony::status, telephony::list_queues, telephony::create_queue,
        telephony::read_queue, telephony::update_queue, telephony::read_sip, telephony::set_sip, telephony::list_calls, telephony::dial, telephony::read_call, telephony::save_call_form,
        recordings::list, recordings::read, recordings::audio, recordings::download, recordings::waveform, recordings::legal_hold,
        recordings::notifications, recordings::notification_read,
        entry_points::list_entry_points, entry_points::create_entry_point, entry_points::read_entry_point, entry_points::update_entry_point, entry_points::delete_entry_point, entry_points::entry_point_versions,
        schedules::list_schedules, schedules::create_schedule, schedules::read_schedule, schedules::update_schedule, schedules::delete_schedule, schedules::import_calendar,
        prompts::list_prompts, prompts::upload_prompt, prompts::speak_prompt, prompts::read_prompt, prompts::delete_prompt, prompts::prompt_audio, prompts::built_in_audio,
        stats::read, reports::sales, reports::export,
        settings::read, settings::update, settings::loss_reasons,
        transfer::upload, transfer::preview, transfer::run, transfer::status, transfer::report, export::export,
    ),
    // Schemas only a query parameter names (utoipa does not collect those by itself).
    components(schemas(switchboard_store::CallbackSort, switchboard_store::CallbackSource)),
    tags(
        (name = "auth"), (name = "users"), (name = "contacts"), (name = "companies"),
        (name = "deals"), (name = "tasks"), (name = "notes"), (name = "settings"), (name = "telephony"), (name = "prompts"), (name = "recordings"), (name = "stats"), (name = "import"), (name = "leads"), (name = "webhooks"), (name = "sales"), (name = "documents"),
    )
)]
struct ApiDoc;

/// The document itself.
pub(crate) async fn serve(_user: CurrentUser) -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
