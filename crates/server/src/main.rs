//! `switchboard`: the call-center CRM in one binary.

use std::path::PathBuf;

/// jemalloc, not the system allocator: under a steady call load glibc's resident memory kept
/// growing while the live heap stayed flat (the soak bench, docs/BENCHMARKS.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use switchboard_core::Role;
use switchboard_server::import::{
    ImportOptions, default_report_path, export_contacts_file, import_contacts_file, write_report,
};
use switchboard_server::settings::Settings;
use switchboard_server::startup::{AdminCheck, Application, open_store, shutdown_signal};
use switchboard_store::{Actor, NewUser, OnDuplicate, UserChanges};

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Self-hosted call-center CRM")]
struct Cli {
    /// Settings file (TOML) layered over the built-in defaults.
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the REST API.
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import records from a spreadsheet.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export records to a spreadsheet.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Fill an empty store with a realistic month of demo data (agents, queues, contacts,
    /// deals, calls with recordings' metadata, callbacks, statistics).
    SeedDemo {
        /// Days of history, ending yesterday.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Agents.
        #[arg(long, default_value_t = 12)]
        agents: u32,
        /// Contacts.
        #[arg(long, default_value_t = 500)]
        contacts: u32,
        /// Random seed (the same seed gives the same data).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The language of names, companies and deals: ru or en.
        #[arg(long, default_value = "ru", value_parser = ["ru", "en"])]
        lang: String,
    },
    /// Statistics upkeep.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Built-in test peers: place a call into a running gateway, or act as an agent's phone.
    Call {
        #[command(subcommand)]
        command: CallCommand,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recount the statistics rollups from the calls (after changing `[stats]` settings).
    Rebuild,
}

#[derive(Subcommand)]
enum CallCommand {
    /// Place a real SIP call into a running gateway and play a tone or a WAV file; prints
    /// what came back.
    Simulate {
        /// The caller's number, any spelling.
        #[arg(long)]
        from: String,
        /// The number called: a queue's number.
        #[arg(long, default_value = "100")]
        to: String,
        /// 16-bit PCM WAV to play (default: a 1 kHz tone).
        #[arg(long)]
        wav: Option<PathBuf>,
        /// The gateway's SIP address (default: sip.listen from the settings).
        #[arg(long)]
        gateway: Option<String>,
        /// Seconds to talk once answered.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Seconds to wait for an agent.
        #[arg(long, default_value_t = 120)]
        wait: u64,
        /// Save what the caller heard to this WAV file.
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Act as an agent's SIP desk phone: answer every call and play a tone (2 kHz) or a WAV.
    /// Give the agent the URI this prints (PUT /api/users/{id}/sip).
    Answer {
        /// SIP address to listen on.
        #[arg(long, default_value = "127.0.0.1:5070")]
        listen: String,
        /// 16-bit PCM WAV to play (default: a 2 kHz tone).
        #[arg(long)]
        wav: Option<PathBuf>,
        /// Seconds to ring before answering.
        #[arg(long, default_value_t = 1)]
        ring: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints a generated password unless --password is given.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// operator, supervisor, manager or admin.
        #[arg(long)]
        role: Role,
        /// Password (at least 8 characters); generated when omitted.
        #[arg(long, env = "SWITCHBOARD_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a user's password (generated and printed unless --password is given); ends their
    /// sessions. `--admin` also makes the user an active admin: the way back in for a locked
    /// out installation.
    #[command(alias = "set-password")]
    Passwd {
        /// The user's login.
        login: String,
        /// New password (at least 8 characters); generated when omitted.
        #[arg(long, env = "SWITCHBOARD_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Also make the user an active admin.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Duplicates {
    /// Add the row's new phones, emails and empty fields to the matching contact.
    Merge,
    /// Leave the matching contact alone; the row is listed in the report.
    Skip,
    /// Create a new contact anyway.
    Create,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import contacts from CSV, XLSX, XLS or ODS (headers in English or Russian).
    Contacts {
        file: PathBuf,
        /// What to do with a row whose phone or email belongs to an existing contact.
        #[arg(long, value_enum, default_value = "merge")]
        on_duplicate: Duplicates,
        /// Owner login for rows without an owner column.
        #[arg(long)]
        owner: Option<String>,
        /// Where to write the per-row report (default: FILE.report.csv).
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Export every contact to CSV or XLSX (by extension); the import reads it back.
    Contacts { file: PathBuf },
}

fn init_logging(settings: &Settings) {
    // rsipstack logs every SIP datagram at info: keep it at warn unless the filter names it.
    // The SIP and WebRTC stacks warn about normal events (a retransmission, ICE checks
    // before the browser's candidates arrive); keep them quieter unless asked for by name.
    let mut level = settings.log.level.clone();
    for (target, quiet) in [("rsipstack", "warn"), ("rtc_dtls", "error"), ("rtc_ice", "error")] {
        if !level.contains(target) {
            level.push_str(&format!(",{target}={quiet}"));
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rsipstack=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if settings.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Expected failures (a port in use, a bad setting, a wrong login) are one readable
    // message, not a backtrace.
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings);
    match cli.command {
        Command::Serve => serve(settings).await,
        Command::Call { command } => call(settings, command).await,
        Command::SeedDemo { days, agents, contacts, seed, lang } => {
            let store = open_store(&settings).await?;
            let password = "demo-password-1";
            let hash =
                switchboard_api::hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let options = switchboard_server::demo::DemoOptions {
                days,
                agents,
                contacts,
                seed,
                now: switchboard_store::now_ms(),
                utc_offset_ms: settings.stats.utc_offset_minutes.saturating_mul(60_000),
                events: true,
                stats: settings.stats.config(),
                lang: if lang == "en" {
                    switchboard_server::demo::DemoLang::En
                } else {
                    switchboard_server::demo::DemoLang::Ru
                },
                recordings: Some(settings.recordings.root.clone()),
            };
            let made = switchboard_server::demo::seed_demo(&store, &options, &hash).await?;
            let no_admin = store.count_active_admins().await? == 0;
            store.close().await;
            println!(
                "demo data: {} users, {} contacts, {} calls over {days} days, {} callback tasks, {} leads, {} documents",
                made.users, made.contacts, made.calls, made.tasks, made.leads, made.documents
            );
            println!(
                "sign in as manager, supervisor1, supervisor2 or agent01..agent{agents:02} with the password {password}"
            );
            if no_admin {
                println!(
                    "no admin yet: the first `switchboard serve` creates '{}' and prints its password",
                    settings.auth.initial_admin_login
                );
            }
            Ok(())
        }
        Command::Stats { command: StatsCommand::Rebuild } => {
            let store = open_store(&settings).await?;
            let rows = store.rebuild_call_stats().await.context("cannot rebuild the statistics")?;
            store.close().await;
            println!("statistics rebuilt: {rows} rollup rows");
            Ok(())
        }
        Command::Migrate => {
            let store = open_store(&settings).await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::User { command: UserCommand::Add { login, name, role, password } } => {
            let store = open_store(&settings).await?;
            let (password, hash, generated) = password_and_hash(password)?;
            let user = store
                .create_user(
                    &Actor::system(),
                    NewUser { login, name, role, password_hash: hash, team_id: None },
                )
                .await
                .context("cannot create user")?;
            println!("created {} user {} ({})", user.role, user.login, user.id);
            if generated {
                println!("password: {password}");
            }
            store.close().await;
            Ok(())
        }
        Command::User { command: UserCommand::Passwd { login, password, admin } } => {
            let store = open_store(&settings).await?;
            let user = store
                .user_by_login(&login)
                .await?
                .with_context(|| format!("no user with the login {login:?}"))?
                .user;
            let (password, hash, generated) = password_and_hash(password)?;
            let mut changes = UserChanges { password_hash: Some(hash), ..Default::default() };
            if admin {
                changes.role = Some(Role::Admin);
                changes.active = Some(true);
            }
            let user = store
                .update_user(&Actor::system(), &user.id, changes)
                .await
                .context("cannot change the password")?;
            println!(
                "password of {} user {} changed; their sessions are ended",
                user.role, user.login
            );
            if generated {
                println!("password: {password}");
            }
            store.close().await;
            Ok(())
        }
        Command::Import {
            command: ImportCommand::Contacts { file, on_duplicate, owner, report },
        } => {
            let store = open_store(&settings).await?;
            let options = ImportOptions {
                on_duplicate: match on_duplicate {
                    Duplicates::Merge => OnDuplicate::Merge,
                    Duplicates::Skip => OnDuplicate::Skip,
                    Duplicates::Create => OnDuplicate::Create,
                },
                default_owner: owner,
                region: settings.region()?,
                progress: true,
            };
            let started = std::time::Instant::now();
            let summary = import_contacts_file(&store, &Actor::system(), &file, &options).await?;
            let elapsed = started.elapsed().as_secs_f64();
            let report = report.unwrap_or_else(|| default_report_path(&file));
            write_report(&summary, &report)?;
            if !summary.ignored_columns.is_empty() {
                println!("columns not imported: {}", summary.ignored_columns.join(", "));
            }
            println!(
                "{} rows in {elapsed:.1}s: {} created, {} merged, {} already present, {} skipped as duplicates, {} rejected, {} blank",
                summary.rows,
                summary.created,
                summary.merged,
                summary.unchanged,
                summary.skipped,
                summary.rejected.len(),
                summary.blank
            );
            for r in summary.rejected.iter().take(20) {
                println!("  line {}: {}: {}", r.line, r.field, r.reason);
            }
            if summary.rejected.len() > 20 {
                println!("  ... and {} more", summary.rejected.len() - 20);
            }
            println!("report: {}", report.display());
            store.close().await;
            Ok(())
        }
        Command::Export { command: ExportCommand::Contacts { file } } => {
            let store = open_store(&settings).await?;
            let count = export_contacts_file(&store, &file).await?;
            println!("exported {count} contacts to {}", file.display());
            store.close().await;
            Ok(())
        }
    }
}

async fn call(settings: Settings, command: CallCommand) -> anyhow::Result<()> {
    use switchboard_sip::simulate::{CallOptions, Sound, answer_calls, place_call};
    match command {
        CallCommand::Simulate { from, to, wav, gateway, seconds, wait, record } => {
            let gateway: std::net::SocketAddr = gateway
                .as_deref()
                .unwrap_or(&settings.sip.listen)
                .parse()
                .context("--gateway must be IP:PORT")?;
            anyhow::ensure!(
                gateway.port() != 0,
                "the gateway's SIP port is 0 in the settings: pass --gateway IP:PORT"
            );
            let local_ip = if gateway.ip().is_loopback() {
                gateway.ip()
            } else {
                std::net::IpAddr::from([0, 0, 0, 0])
            };
            let options = CallOptions {
                gateway,
                from,
                to,
                local_ip,
                sound: wav.map_or(Sound::Tone(1000.0), Sound::Wav),
                talk: std::time::Duration::from_secs(seconds.max(1)),
                answer_timeout: std::time::Duration::from_secs(wait.max(1)),
                record: record.clone(),
            };
            let heard = place_call(options, |step| println!("{step}")).await?;
            println!("caller heard: {heard}");
            if let Some(path) = record {
                println!("saved to {}", path.display());
            }
            Ok(())
        }
        CallCommand::Answer { listen, wav, ring } => {
            let listen: std::net::SocketAddr =
                listen.parse().context("--listen must be IP:PORT")?;
            let stop = tokio_util::sync::CancellationToken::new();
            let local = answer_calls(
                listen,
                wav.map_or(Sound::Tone(2000.0), Sound::Wav),
                std::time::Duration::from_secs(ring),
                stop.clone(),
                |line| println!("{line}"),
            )
            .await?;
            println!(
                "desk phone ready: give the agent the SIP URI sip:agent@{local} (Ctrl-C to stop)"
            );
            shutdown_signal().await;
            stop.cancel();
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(&settings).await?;
    let addr = app.local_addr()?;
    match &app.admin {
        AdminCheck::Created(admin) => {
            // Printed, not logged: it is shown once on the terminal of whoever installed it.
            println!("\n  First start: created admin user '{}'", admin.login);
            if admin.generated {
                println!("  password: {}", admin.password);
                println!(
                    "  (shown once; change it on the account page, or with `switchboard user passwd {}`)\n",
                    admin.login
                );
            } else {
                println!("  password: as set in auth.initial_admin_password\n");
            }
        }
        AdminCheck::LoginTaken(login) => {
            println!(
                "\n  No active admin, and the login '{login}' belongs to a user who is not one."
            );
            println!(
                "  Run `switchboard user passwd {login} --admin` (or another login) to get in.\n"
            );
        }
        AdminCheck::Present => {}
    }
    println!("Switchboard is listening on http://{addr}");
    if let Some(sip) = app.sip_addr() {
        println!("SIP (UDP and TCP) on {sip}");
    }
    tracing::info!(%addr, "listening");
    app.run_until(shutdown_signal()).await
}

/// The password given on the command line (at least 8 characters) or a generated one, its
/// argon2 hash, and whether it was generated (and so must be printed).
fn password_and_hash(given: Option<String>) -> anyhow::Result<(String, String, bool)> {
    let (password, generated) = match given {
        Some(p) => {
            anyhow::ensure!(p.chars().count() >= 8, "--password must have at least 8 characters");
            (p, false)
        }
        None => (switchboard_api::new_password(), true),
    };
    let hash = switchboard_api::hash_password(&password)
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))?;
    Ok((password, hash, generated))
}
