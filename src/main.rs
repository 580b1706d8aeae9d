//! `ror-capacity`: thin command-line entry point (serve, import, generate, migrate).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use ror_capacity::auth::mtls::TlsConfig;
use ror_capacity::auth::policy::Profile;
use ror_capacity::auth::{AuthMode, ProxyTrust};
use ror_capacity::base::progress::{Measure, Progress};
use ror_capacity::config::{AdmissionLimits, DEFAULT_DATABASE_URL, ServerConfig, file};
use ror_capacity::db::{self, DbUrl};
use ror_capacity::dev::pki::{self, files};
use ror_capacity::generate::{GenerateOptions, generate, generate_with};
use ror_capacity::{import, startup};

#[derive(Parser)]
#[command(name = "ror-capacity", version, about = "Read-only FHIR R4 facade for ROR bed and place capacity")]
struct Cli {
    /// `sqlite://PATH` or `postgres://…`
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Log lines as text, or as one JSON object each (time, level, target, message, and the access
    /// and audit lines' fields).
    #[arg(long, env = "ROR_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    log_format: String,
    /// A configuration file (TOML) whose keys are the options of `serve` and the global ones,
    /// without dashes (`pool-size = 8`); options given on the command line or in the environment
    /// win over it. `serve --print-config` prints the settings in force.
    #[arg(long, env = "ROR_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the FHIR API (mutual TLS; see --insecure-http for development).
    Serve(Box<ServeArgs>),
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
    /// Write a development PKI (root and intermediate CA, server and per-profile client
    /// certificates, CRL) and a matching consumer registry into DIR.
    DevPki {
        /// Target folder.
        dir: PathBuf,
    },
    /// Print the query plan of each scenario on this database (checks that no scenario scans).
    Explain,
    /// Apply pending migrations (or revert them all).
    Migrate {
        /// Revert every migration instead.
        #[arg(long)]
        revert_all: bool,
    },
}

/// Time budget, admission control and connection limits.
/// `serve`'s options.
#[derive(clap::Args)]
struct ServeArgs {
    /// Listen address.
    #[arg(long, env = "ROR_BIND", default_value = "127.0.0.1:8443")]
    bind: SocketAddr,
    #[command(flatten)]
    security: Security,
    #[command(flatten)]
    load: LoadLimits,
    #[command(flatten)]
    export: ExportArgs,
    /// A PostgreSQL streaming replica of --database-url to send searches and reads to (repeat for
    /// several; in the environment, separated by spaces). Import, migrations and $export use the
    /// primary; reads go to the primary when no replica answers.
    #[arg(long = "read-database-url", env = "ROR_READ_DATABASE_URLS", value_delimiter = ' ', hide_env_values = true)]
    read_database_urls: Vec<String>,
    /// The admin listener: plain HTTP, no client certificate, `/health`, `/ready` and `/metrics`
    /// (Prometheus) only; `off` serves none.
    #[arg(long, env = "ROR_ADMIN_BIND", default_value = "127.0.0.1:9464")]
    admin_bind: String,
    /// On SIGTERM or SIGINT, seconds requests in flight may take to finish once no new connection
    /// is accepted; then the process exits (0).
    #[arg(long, env = "ROR_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    shutdown_grace_secs: u64,
    /// Let the admin listener listen off loopback.
    #[arg(long, env = "ROR_ADMIN_ALLOW_REMOTE")]
    admin_allow_remote: bool,
    /// Read-only connections in the pool (of each server, with replicas).
    #[arg(long, env = "ROR_POOL_SIZE", default_value_t = 8)]
    pool_size: u32,
    /// SQLite: MiB of the database file the serving connections read through a memory map instead
    /// of copying its pages (0: none). Faster large pages; the mapped file counts in the resident size.
    #[arg(long, env = "ROR_SQLITE_MMAP_MB", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_048_576))]
    sqlite_mmap_mb: u64,
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
    /// Benchmarks only: serve GET /bench/ceiling, a fixed body of this many bytes.
    #[arg(long, hide = true)]
    bench_ceiling_bytes: Option<usize>,
    /// Print the settings in force (a configuration file, each value with where it comes from:
    /// command line, environment, file or default), check them, and exit without serving.
    #[arg(long)]
    print_config: bool,
}

#[derive(clap::Args)]
struct LoadLimits {
    /// Time budget of one request's database work, in ms (past it: 400 too-costly).
    #[arg(long, env = "ROR_STATEMENT_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    statement_timeout_ms: u64,
    /// Longest wait for a database connection, in ms (past it: 503 with Retry-After).
    #[arg(long, env = "ROR_POOL_WAIT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pool_wait_ms: u64,
    /// Requests handled at once (default: twice the pool size on SQLite, four times on PostgreSQL).
    #[arg(long, env = "ROR_MAX_IN_FLIGHT", value_parser = clap::value_parser!(u64).range(1..))]
    max_in_flight: Option<u64>,
    /// Requests waiting for their turn; more are shed with 503 at once.
    #[arg(long, env = "ROR_MAX_QUEUE", default_value_t = 512)]
    max_queue: usize,
    /// Longest wait for a turn, in ms; a request predicted to wait longer is shed with 503 at once.
    #[arg(long, env = "ROR_QUEUE_WAIT_MS", default_value_t = 500)]
    queue_wait_ms: u64,
    /// Open client connections at most (over all workers); more wait in the listen backlog.
    #[arg(long, env = "ROR_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Memory for remembered search totals, in MiB, and as much for the validators of conditional
    /// searches (reused until the next import; 0: remember nothing).
    #[arg(long, env = "ROR_COUNT_MEMO_MB", default_value_t = 16, value_parser = clap::value_parser!(u64).range(0..=4096))]
    count_memo_mb: u64,
}

impl LoadLimits {
    fn apply(self, config: &mut ServerConfig) {
        use std::time::Duration;
        config.statement_timeout = Duration::from_millis(self.statement_timeout_ms);
        config.pool_wait = Duration::from_millis(self.pool_wait_ms);
        let mut admission = AdmissionLimits::for_pool(config.pool_size, config.database.backend);
        if let Some(n) = self.max_in_flight {
            admission.max_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
        }
        admission.max_queue = self.max_queue;
        admission.max_wait = Duration::from_millis(self.queue_wait_ms);
        config.admission = admission;
        config.max_connections = usize::try_from(self.max_connections).unwrap_or(usize::MAX);
        config.count_memo_bytes = self.count_memo_mb << 20;
    }
}

/// Bulk Data `$export`.
#[derive(clap::Args)]
struct ExportArgs {
    /// Folder of export jobs and their files (kept across restarts; not the database's).
    #[arg(long, env = "ROR_EXPORT_DIR", default_value = "ror-capacity-exports")]
    export_dir: PathBuf,
    /// Minutes a finished export's files stay downloadable.
    #[arg(long, env = "ROR_EXPORT_EXPIRY_MINUTES", default_value_t = 1440, value_parser = clap::value_parser!(u64).range(1..))]
    export_expiry_minutes: u64,
    /// Unfinished exports at once, over all consumers (more: 429).
    #[arg(long, env = "ROR_EXPORT_MAX_JOBS", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    export_max_jobs: u64,
    /// Unfinished exports at once per consumer (more: 429).
    #[arg(long, env = "ROR_EXPORT_MAX_JOBS_PER_CONSUMER", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    export_max_jobs_per_consumer: u64,
    /// Exports written at once (each on a thread and a database connection of its own).
    #[arg(long, env = "ROR_EXPORT_WORKERS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    export_workers: u64,
    /// Polling delay given to export clients, in ms (Retry-After; polls twice as fast get 429).
    #[arg(long, env = "ROR_EXPORT_POLL_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    export_poll_ms: u64,
}

impl ExportArgs {
    fn apply(self, config: &mut ServerConfig) {
        use std::time::Duration;
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        config.export.dir = Some(self.export_dir);
        config.export.expiry = Duration::from_secs(self.export_expiry_minutes.saturating_mul(60));
        config.export.max_jobs = n(self.export_max_jobs);
        config.export.max_jobs_per_consumer = n(self.export_max_jobs_per_consumer);
        config.export.workers = n(self.export_workers);
        config.export.poll_interval = Duration::from_millis(self.export_poll_ms);
    }
}

/// TLS, consumers and trusted proxies.
#[derive(clap::Args)]
struct Security {
    /// Server certificate chain (PEM).
    #[arg(long, env = "ROR_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, env = "ROR_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// CA certificates trusted for client certificates (PEM; repeat for several chains).
    #[arg(long, env = "ROR_CLIENT_CA", value_delimiter = ',')]
    client_ca: Vec<PathBuf>,
    /// Certificate revocation lists (PEM; repeatable).
    #[arg(long, env = "ROR_CRL", value_delimiter = ',')]
    crl: Vec<PathBuf>,
    /// Consumer registry (TOML); reloaded when the file changes.
    #[arg(long, env = "ROR_CONSUMERS")]
    consumers: Option<PathBuf>,
    /// Addresses of reverse proxies trusted to pass the verified client certificate in a header.
    #[arg(long, env = "ROR_TRUSTED_PROXY", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Header carrying the URL-encoded PEM client certificate (nginx: $ssl_client_escaped_cert).
    #[arg(long, env = "ROR_CLIENT_CERT_HEADER", default_value = "x-ssl-client-cert")]
    client_cert_header: String,
    /// Development only: plain HTTP on loopback, no client authentication.
    #[arg(long)]
    insecure_http: bool,
    /// The access profile of every request with --insecure-http.
    #[arg(long, default_value_t = 1)]
    insecure_profile: u8,
    /// Where `serve --demo` keeps its development PKI.
    #[arg(long, default_value = "dev-pki")]
    pki_dir: PathBuf,
}

fn main() -> ExitCode {
    let (cli, settings) = parse();
    use ror_capacity::base::logging::{LogFormat, init};
    init(if cli.log_format == "json" { LogFormat::Json } else { LogFormat::Text });
    match run(cli, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

/// The command line, with the configuration file's values (if any) as the options' defaults; and,
/// for `serve --print-config`, the settings in force.
fn parse() -> (Cli, Option<String>) {
    let first = Cli::command().get_matches();
    let path = first.get_one::<PathBuf>("config").cloned();
    let (cmd, from_file, matches) = match &path {
        None => (Cli::command(), Default::default(), first),
        Some(p) => {
            let (cmd, keys) = file::apply(Cli::command(), p).unwrap_or_else(|e| {
                eprintln!("error: {e}");
                std::process::exit(2)
            });
            let matches = cmd.clone().get_matches();
            (cmd, keys, matches)
        }
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let wanted = matches.subcommand_matches(file::SUBCOMMAND).is_some_and(|s| s.get_flag("print_config"));
    let settings = wanted.then(|| file::describe(&cmd, &matches, &from_file, path.as_deref()));
    (cli, settings)
}

fn run(cli: Cli, settings: Option<String>) -> Result<(), AnyError> {
    let url = DbUrl::parse(&cli.database_url)?;
    match cli.command {
        Command::Migrate { revert_all } => migrate(&url, revert_all),
        Command::Generate { locations, seed, output } => generate_to(locations, seed, output),
        Command::Import { files } => import_files(&url, &files),
        Command::Explain => explain(&url),
        Command::DevPki { dir } => {
            pki::write_dev_pki(&dir)?;
            log::info!("development PKI and consumer registry written to {}", dir.display());
            Ok(())
        }
        Command::Serve(args) => serve(url, *args, settings),
    }
}

fn migrate(url: &DbUrl, revert_all: bool) -> Result<(), AnyError> {
    // Applying is the start-up's own step: the migrations, then what SQL cannot do (packing the
    // figures of places written before, rewriting older places, re-deriving the search index).
    let done =
        if revert_all { db::migrate::revert_all(&mut db::connect(url, false)?)? } else { startup::migrate(url)? };
    log::info!("{} on {}: {:?}", if revert_all { "reverted" } else { "applied" }, url.redacted(), done);
    Ok(())
}

fn generate_to(locations: usize, seed: u64, output: Option<PathBuf>) -> Result<(), AnyError> {
    let opts = GenerateOptions { locations, seed, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::fs::File::create(&path)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(&mut out);
    let progress = Progress::new("generate", locations as u64, Measure::Items, "places");
    let summary = generate_with(&opts, &mut out, &|n| progress.items_done(n))?;
    out.flush()?;
    progress.finish();
    log::info!("generated {summary:?}");
    Ok(())
}

fn import_files(url: &DbUrl, files: &[PathBuf]) -> Result<(), AnyError> {
    startup::migrate(url)?;
    let mut conn = db::connect(url, false)?;
    for file in files {
        let started = std::time::Instant::now();
        let name = file.display().to_string();
        let f = std::fs::File::open(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
        let progress = Progress::new(&name, f.metadata().map(|m| m.len()).unwrap_or(0), Measure::Bytes, "resources");
        let reader = std::io::BufReader::with_capacity(1 << 20, progress.reader(f));
        let stats = import::import_watched(&mut conn, &name, reader, &progress);
        progress.finish();
        let stats = stats?;
        log::info!("{}: {stats:?} in {:.1}s", file.display(), started.elapsed().as_secs_f64());
    }
    Ok(())
}

fn explain(url: &DbUrl) -> Result<(), AnyError> {
    let mut conn = db::connect(url, true)?;
    let (places, offers) = db::read::sample_identifiers(&mut conn, 50)?;
    for (name, plan) in
        ror_capacity::dev::explain::scenario_plans(&places, &offers, "2026-10-31T00:00:00Z", url.backend)
    {
        println!("## {name}\n{}", plan.sql());
        for line in ror_capacity::dev::explain::explain(&mut conn, &plan)? {
            println!("    {line}");
        }
    }
    Ok(())
}

/// What `serve` does besides the server's configuration: the demo data and the security set-up.
struct ServeRest {
    security: Security,
    demo: bool,
    demo_locations: usize,
}

/// The server's configuration from the options (no file or database is touched).
fn server_config(url: DbUrl, args: ServeArgs) -> Result<(ServerConfig, ServeRest), AnyError> {
    let mut config = ServerConfig::new(args.bind, url);
    config.read_databases =
        args.read_database_urls.iter().filter(|u| !u.is_empty()).map(|u| DbUrl::parse(u)).collect::<Result<_, _>>()?;
    config.admin_bind = match args.admin_bind.as_str() {
        "off" | "" => None,
        a => Some(a.parse().map_err(|e| format!("--admin-bind {a:?}: {e} (an address and port, or off)"))?),
    };
    config.admin_remote = args.admin_allow_remote;
    config.shutdown_grace = std::time::Duration::from_secs(args.shutdown_grace_secs);
    config.pool_size = args.pool_size;
    config.sqlite_mmap_mb = args.sqlite_mmap_mb;
    config.workers = args.workers;
    config.base_url = args.base_url;
    config.cursor_secret = args.cursor_secret.map(String::into_bytes);
    config.bench_ceiling_bytes = args.bench_ceiling_bytes;
    args.load.apply(&mut config);
    args.export.apply(&mut config);
    if Profile::new(args.security.insecure_profile).is_none() {
        return Err("--insecure-profile must be 0 to 5".into());
    }
    Ok((config, ServeRest { security: args.security, demo: args.demo, demo_locations: args.demo_locations }))
}

fn serve(url: DbUrl, args: ServeArgs, settings: Option<String>) -> Result<(), AnyError> {
    let (mut config, rest) = server_config(url, args)?;
    if let Some(text) = settings {
        print!("{text}");
        return Ok(());
    }
    startup::migrate(&config.database)?;
    if rest.demo {
        load_demo(&config.database, rest.demo_locations)?;
    }
    let demo_pki = configure_security(&mut config, rest.security, rest.demo)?;
    actix_web::rt::System::new().block_on(async move {
        let built = startup::build(&config)?;
        print_banner(&config.database, built.addr, &config, demo_pki.as_deref());
        if let Some(admin) = built.admin {
            println!("Health, readiness and metrics (no certificate): http://{admin}/metrics");
        }
        actix_web::rt::spawn(ror_capacity::http::shutdown::stop_on_signal(built.server.handle()));
        built.server.await?;
        log::info!("stopped: every request in flight was answered or its grace period ended");
        Ok::<(), AnyError>(())
    })
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

/// Sets TLS and authentication from the flags; with `--demo` and nothing configured, creates (once)
/// and uses a development PKI. Returns that PKI's folder when it is used.
fn configure_security(config: &mut ServerConfig, s: Security, demo: bool) -> Result<Option<PathBuf>, AnyError> {
    if s.insecure_http {
        let profile = Profile::new(s.insecure_profile).ok_or("--insecure-profile must be 0 to 5")?;
        config.auth = AuthMode::Insecure { profile };
        return Ok(None);
    }
    let mut demo_dir = None;
    let (cert, key, client_ca, crl, consumers) = match (s.tls_cert, s.tls_key, s.consumers) {
        (Some(cert), Some(key), Some(consumers)) => (cert, key, s.client_ca, s.crl, consumers),
        (None, None, None) if demo => {
            let dir = s.pki_dir;
            if !dir.join(files::REGISTRY).exists() {
                pki::write_dev_pki(&dir)?;
                log::info!("demo: development PKI written to {}", dir.display());
            }
            renew_demo_pki(&dir)?;
            let keep_renewing = dir.clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                    if let Err(e) = renew_demo_pki(&keep_renewing) {
                        log::error!("demo: {e}");
                    }
                }
            });
            demo_dir = Some(dir.clone());
            (
                dir.join(files::SERVER_CHAIN),
                dir.join(files::SERVER_KEY),
                vec![dir.join(files::CLIENT_TRUST)],
                vec![dir.join(files::CRL)],
                dir.join(files::REGISTRY),
            )
        }
        _ => {
            return Err("mutual TLS needs --tls-cert, --tls-key, --client-ca and --consumers \
                        (or --demo for a development PKI, or --insecure-http for plain HTTP on loopback)"
                .into());
        }
    };
    if client_ca.is_empty() {
        return Err("--client-ca is required with TLS".into());
    }
    config.tls = Some(TlsConfig { cert_chain: cert, key, client_ca, crls: crl });
    let proxy = (!s.trusted_proxy.is_empty())
        .then(|| ProxyTrust { header: s.client_cert_header.to_ascii_lowercase(), addresses: s.trusted_proxy });
    config.auth = AuthMode::Registry { consumers, proxy };
    Ok(demo_dir)
}

/// Re-issues what expires in the demo PKI (the CRL is then reloaded by the running server).
fn renew_demo_pki(dir: &std::path::Path) -> Result<(), AnyError> {
    let renewed =
        pki::renew_dev_pki(dir).map_err(|e| format!("renewing the development PKI in {}: {e}", dir.display()))?;
    if !renewed.is_empty() {
        log::info!("demo: renewed in {}: {}", dir.display(), renewed.join(", "));
    }
    Ok(())
}

fn print_banner(url: &DbUrl, addr: SocketAddr, config: &ServerConfig, pki_dir: Option<&std::path::Path>) {
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let base = config
        .base_url
        .as_deref()
        .map_or_else(|| format!("{scheme}://{addr}/fhir"), |b| b.trim_end_matches('/').to_owned());
    let curl = match pki_dir {
        Some(d) => {
            let d = d.display();
            format!(
                "curl -s --cert {d}/client-profile-1.crt --key {d}/client-profile-1.key --cacert {d}/{}",
                files::ROOT_CA
            )
        }
        None if config.tls.is_some() => "curl -s --cert CLIENT.crt --key CLIENT.key --cacert CA.crt".to_owned(),
        None => "curl -s".to_owned(),
    };
    let (places, offers) =
        db::connect(url, true).ok().and_then(|mut c| db::read::sample_identifiers(&mut c, 3).ok()).unwrap_or_default();
    let place = places.first().cloned().unwrap_or_else(|| "52/192675".into());
    let several = if places.len() > 1 { places.join(",") } else { place.clone() };
    let offers = if offers.is_empty() { "11/339772".to_owned() } else { offers.join(",") };
    println!("ror-capacity serving {} at {base}", url.redacted());
    for r in &config.read_databases {
        println!("  reads from the replica {} (the primary when no replica answers)", r.redacted());
    }
    if pki_dir.is_some() {
        println!("(development PKI: client-profile-N.crt/.key act as a consumer of access profile N)");
    }
    println!("Try the five scenarios:");
    println!("  {curl} '{base}/Location?_revinclude=HealthcareService:location'");
    println!("  {curl} '{base}/Location?identifier={place}&_revinclude=HealthcareService:location'");
    println!("  {curl} '{base}/Location?identifier={several}&_revinclude=HealthcareService:location'");
    println!("  {curl} '{base}/Location?_lastUpdated=ge2026-10-25&_revinclude=HealthcareService:location'");
    println!(
        "  {curl} '{base}/Location?_has:HealthcareService:location:identifier={offers}&_revinclude=HealthcareService:location'"
    );
    println!("  {curl} '{base}/metadata'");
    let map = format!("{}/map", base.trim_end_matches('/').trim_end_matches("/fhir"));
    match pki_dir {
        Some(d) => println!(
            "The capacity map: {map} (import {}/client-profile-1.p12 in the browser, password \"{}\"; see the README)",
            d.display(),
            files::P12_PASSWORD
        ),
        None => println!("The capacity map: {map}"),
    }
}
