//! `ror-capacity`: thin command-line entry point (serve, import, generate, migrate).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ror_capacity::config::{DEFAULT_DATABASE_URL, ServerConfig};
use ror_capacity::db::{self, DbUrl};
use ror_capacity::generate::{GenerateOptions, generate};
use ror_capacity::{import, startup};

#[derive(Parser)]
#[command(name = "ror-capacity", version, about = "Read-only FHIR R4 facade for ROR bed and place capacity")]
struct Cli {
    /// `sqlite://PATH` or `postgres://…`
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the FHIR API.
    Serve {
        /// Listen address.
        #[arg(long, env = "ROR_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Read-only connections in the pool.
        #[arg(long, env = "ROR_POOL_SIZE", default_value_t = 8)]
        pool_size: u32,
        /// HTTP worker threads.
        #[arg(long, env = "ROR_WORKERS", default_value_t = 2)]
        workers: usize,
        /// Public base URL of the FHIR endpoint (default: from the request's Host).
        #[arg(long, env = "ROR_BASE_URL")]
        base_url: Option<String>,
        /// Secret for paging cursors (default: random per start; set it when running several instances).
        #[arg(long, env = "ROR_CURSOR_SECRET", hide_env_values = true)]
        cursor_secret: Option<String>,
        /// Load a generated demo dataset first if the database has no Location.
        #[arg(long)]
        demo: bool,
        /// Size of the demo dataset.
        #[arg(long, default_value_t = 2000)]
        demo_locations: usize,
    },
    /// Import FHIR NDJSON or Bundle files (one transaction per file).
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a synthetic ROR dataset as NDJSON.
    Generate {
        /// Number of Locations.
        #[arg(long, default_value_t = 2000)]
        locations: usize,
        /// Random seed (same seed, same bytes).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Apply pending migrations (or revert them all).
    Migrate {
        /// Revert every migration instead.
        #[arg(long)]
        revert_all: bool,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

fn run(cli: Cli) -> Result<(), AnyError> {
    let url = DbUrl::parse(&cli.database_url)?;
    match cli.command {
        Command::Migrate { revert_all } => {
            let mut conn = db::connect(&url, false)?;
            let done =
                if revert_all { db::migrate::revert_all(&mut conn)? } else { db::migrate::run_pending(&mut conn)? };
            log::info!("{} on {}: {:?}", if revert_all { "reverted" } else { "applied" }, url.redacted(), done);
            Ok(())
        }
        Command::Generate { locations, seed, output } => {
            let opts = GenerateOptions { locations, seed, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
            let summary = match output {
                Some(path) => {
                    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                    let s = generate(&opts, &mut f)?;
                    f.flush()?;
                    s
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::new(stdout.lock());
                    let s = generate(&opts, &mut lock)?;
                    lock.flush()?;
                    s
                }
            };
            log::info!("generated {summary:?}");
            Ok(())
        }
        Command::Import { files } => {
            startup::migrate(&url)?;
            let mut conn = db::connect(&url, false)?;
            for file in files {
                let started = std::time::Instant::now();
                let stats = import::import_file(&mut conn, &file, true)?;
                log::info!("{}: {stats:?} in {:.1}s", file.display(), started.elapsed().as_secs_f64());
            }
            Ok(())
        }
        Command::Serve { bind, pool_size, workers, base_url, cursor_secret, demo, demo_locations } => {
            startup::migrate(&url)?;
            if demo {
                load_demo(&url, demo_locations)?;
            }
            let mut config = ServerConfig::new(bind, cli.database_url.clone());
            config.pool_size = pool_size;
            config.workers = workers;
            config.base_url = base_url;
            config.cursor_secret = cursor_secret.map(String::into_bytes);
            actix_web::rt::System::new().block_on(async move {
                let (server, addr) = startup::build(&config)?;
                print_banner(&url, addr, config.base_url.as_deref());
                server.await?;
                Ok::<(), AnyError>(())
            })
        }
    }
}

fn load_demo(url: &DbUrl, locations: usize) -> Result<(), AnyError> {
    let mut conn = db::connect(url, false)?;
    if db::read::location_count(&mut conn)? > 0 {
        log::info!("demo: the database already has data; nothing generated");
        return Ok(());
    }
    log::info!("demo: generating and importing {locations} locations…");
    let opts = GenerateOptions { locations, seed: 1, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
    let mut buf = Vec::new();
    generate(&opts, &mut buf)?;
    let stats = import::import_reader(&mut conn, "demo dataset", std::io::Cursor::new(buf), false)?;
    log::info!("demo: {stats:?}");
    Ok(())
}

fn print_banner(url: &DbUrl, addr: SocketAddr, base_url: Option<&str>) {
    let base = base_url.map_or_else(|| format!("http://{addr}/fhir"), |b| b.trim_end_matches('/').to_owned());
    let (places, offers) =
        db::connect(url, true).ok().and_then(|mut c| db::read::sample_identifiers(&mut c, 3).ok()).unwrap_or_default();
    let place = places.first().cloned().unwrap_or_else(|| "52/192675".into());
    let several = if places.len() > 1 { places.join(",") } else { place.clone() };
    let offers = if offers.is_empty() { "11/339772".to_owned() } else { offers.join(",") };
    println!("ror-capacity serving {} at {base}", url.redacted());
    println!("Try the five scenarios:");
    println!("  curl -s '{base}/Location?_revinclude=HealthcareService:location'");
    println!("  curl -s '{base}/Location?identifier={place}&_revinclude=HealthcareService:location'");
    println!("  curl -s '{base}/Location?identifier={several}&_revinclude=HealthcareService:location'");
    println!("  curl -s '{base}/Location?_lastUpdated=ge2026-10-25&_revinclude=HealthcareService:location'");
    println!(
        "  curl -s '{base}/Location?_has:HealthcareService:location:identifier={offers}&_revinclude=HealthcareService:location'"
    );
    println!("  curl -s '{base}/metadata'");
}
