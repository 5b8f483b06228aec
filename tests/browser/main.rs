#![allow(clippy::unwrap_used, dead_code)]
//! Browser agents end to end: the gateway in-process, SIPp as the caller, headless Chromium
//! (Debian's, driven by playwright-core through `driver.mjs`) as the agents, and in one
//! scenario Firefox ESR (driven by puppeteer-core through `firefox.mjs`), each with a fake
//! microphone playing a test tone, and a capture of what reaches the SIP side.
//!
//! Chromium may pair ICE over any interface of the machine, so the whole run happens in a
//! network namespace whose only interface is `lo`: this binary re-executes itself under
//! `unshare --net` (root, as CI runs) and runs the scenarios there, one at a time. It prints a
//! `test result:` line like libtest's so CI's totals count it.

use switchboard_testkit as harness;
use switchboard_testkit::browser as agent;

mod account;
mod admin;
mod callbacks;
mod calls;
mod crm;
mod dashboard;
mod firefox;
mod flows;
mod language;
mod monitor;
mod recordings;
mod sales;
mod softphone;

use std::panic::AssertUnwindSafe;
use std::process::{Command, ExitCode};
use std::time::Instant;

use futures_util::FutureExt;

type Scenario = (&'static str, fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>);

fn scenarios() -> Vec<Scenario> {
    vec![
        ("known_caller_card_before_answer_audio_both_ways", || {
            Box::pin(calls::known_caller_card_before_answer_audio_both_ways())
        }),
        ("unknown_caller_creates_contact_from_card", || {
            Box::pin(calls::unknown_caller_creates_contact_from_card())
        }),
        ("ring_all_first_answer_wins_and_agent_hangs_up", || {
            Box::pin(calls::ring_all_first_answer_wins_and_agent_hangs_up())
        }),
        (
            "websocket_reconnects_and_resumes",
            || Box::pin(calls::websocket_reconnects_and_resumes()),
        ),
        ("transfer_to_a_second_browser_agent_keeps_audio_flowing", || {
            Box::pin(calls::transfer_to_a_second_browser_agent_keeps_audio_flowing())
        }),
        ("click_to_call_from_the_browser", || Box::pin(calls::click_to_call_from_the_browser())),
        ("wallboard_follows_a_real_call", || Box::pin(dashboard::wallboard_follows_a_real_call())),
        ("supervisor_listens_and_whispers_from_the_wallboard", || {
            Box::pin(monitor::supervisor_listens_and_whispers_from_the_wallboard())
        }),
        ("dashboard_shows_a_seeded_month_and_exports_csv", || {
            Box::pin(dashboard::dashboard_shows_a_seeded_month_and_exports_csv())
        }),
        ("recordings_page_plays_a_call_with_its_waveform", || {
            Box::pin(recordings::recordings_page_plays_a_call_with_its_waveform())
        }),
        ("transfer_to_a_number_through_the_pbx", || {
            Box::pin(calls::transfer_to_a_number_through_the_pbx())
        }),
        (
            "crm_contacts_search_merge_and_roles",
            || Box::pin(crm::contacts_search_merge_and_roles()),
        ),
        (
            "crm_deals_board_drag_and_tasks_page",
            || Box::pin(crm::deals_board_drag_and_tasks_page()),
        ),
        ("callbacks_page_supervisor_reassigns_ten_operator_calls_back_and_closes", || {
            Box::pin(callbacks::supervisor_reassigns_ten_and_an_operator_calls_back_and_closes())
        }),
        ("crm_callback_from_the_tasks_page_in_one_click", || {
            Box::pin(crm::callback_from_the_tasks_page_in_one_click())
        }),
        ("sales_story_from_a_web_form_to_an_approved_offer", || {
            Box::pin(sales::from_a_web_form_to_an_approved_offer())
        }),
        ("every_page_in_russian_and_english", || {
            Box::pin(language::every_page_in_russian_and_english())
        }),
        ("crm_import_messy_xlsx_and_export", || Box::pin(admin::import_messy_xlsx_and_export())),
        ("crm_admin_sections_and_refusals", || Box::pin(admin::admin_sections_and_refusals())),
        ("change_own_password_in_russian", || Box::pin(account::change_own_password_in_russian())),
        ("business_hours_and_the_production_calendar_in_russian", || {
            Box::pin(flows::business_hours_and_the_production_calendar_in_russian())
        }),
        ("prompts_and_the_voice_menu_editor_in_russian", || {
            Box::pin(flows::prompts_and_the_voice_menu_editor_in_russian())
        }),
        ("softphone_comes_back_after_the_browser_was_closed", || {
            Box::pin(softphone::softphone_comes_back_after_the_browser_was_closed())
        }),
        ("softphone_reload_right_after_connect_then_answer", || {
            Box::pin(softphone::reload_right_after_connect_then_answer())
        }),
        ("softphone_network_gone_for_20s_idle_and_during_a_call", || {
            Box::pin(softphone::network_gone_for_20s_idle_and_during_a_call())
        }),
        ("softphone_two_tabs_the_newest_wins", || Box::pin(softphone::two_tabs_the_newest_wins())),
        ("firefox_agent_answers_a_call_with_audio_both_ways", || {
            Box::pin(firefox::firefox_agent_answers_a_call_with_audio_both_ways())
        }),
    ]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // libtest flags cargo may pass (--nocapture, --test-threads ...) are ignored; a bare
    // word filters scenarios by name.
    let filter: Option<&String> = args.iter().find(|a| !a.starts_with('-'));
    if args.iter().any(|a| a == "--list") {
        for (name, _) in scenarios() {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    if std::env::var_os("SB_NETNS").is_none() {
        // playwright-core and puppeteer-core come from npm, which the namespace cannot reach:
        // fetch them first.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
        if !dir.join("node_modules/playwright-core").exists()
            || !dir.join("node_modules/puppeteer-core").exists()
        {
            let ok = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("cannot install the browser drivers: run `npm ci` in tests/browser");
                return ExitCode::FAILURE;
            }
        }
        let exe = std::env::current_exe().unwrap();
        let status = Command::new("unshare")
            // A default route on lo: Firefox gathers ICE candidates only on the address it
            // would reach the internet from, and without a route it finds none.
            .args([
                "--net",
                "--",
                "sh",
                "-c",
                "ip link set lo up && ip route add default dev lo src 127.0.0.1 && exec \"$0\" \"$@\"",
            ])
            .arg(exe)
            .args(&args)
            .env("SB_NETNS", "1")
            .status();
        return match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("cannot run unshare --net (needs root and util-linux): {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let selected: Vec<Scenario> = scenarios()
        .into_iter()
        .filter(|(name, _)| filter.is_none_or(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let started = Instant::now();
    let (mut passed, mut failed) = (0, Vec::new());
    for (name, scenario) in selected {
        let result = runtime.block_on(AssertUnwindSafe(scenario()).catch_unwind());
        match result {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(name);
            }
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    if !failed.is_empty() {
        println!("\nfailures:\n    {}", failed.join("\n    "));
    }
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
