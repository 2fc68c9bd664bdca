//! `rounds-test-apiserver`: serve snapshot files over the Kubernetes REST protocol.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rounds_test_apiserver::kubeconfig::{self, KubeconfigUser};
use rounds_test_apiserver::request_dump;
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, Identity, ServerConfig, TestApiServer, Tokens};

/// An in-memory Kubernetes API server over HTTPS for tests and benchmarks.
///
/// Prints the server URL on the first line of standard output, then serves until interrupted.
#[derive(Debug, Parser)]
#[command(name = "rounds-test-apiserver", version)]
struct Cli {
    /// Snapshot files or directories (`kubectl get -o yaml|json` output, multi-document YAML,
    /// kubelet stats/summary JSON).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    snapshot: Vec<PathBuf>,
    /// Files or directories to load Roles, ClusterRoles and their bindings from (other kinds
    /// are ignored), e.g. the project's manifests/.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    rbac: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Token file: `TOKEN,USER[,GROUP...]` per line; group `system:masters` makes an admin.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// A token for a user: `TOKEN=USER[,GROUP...]`, e.g.
    /// `t1=system:serviceaccount:rounds:rounds` (repeatable).
    #[arg(long = "token", value_name = "TOKEN=USER")]
    tokens: Vec<String>,
    /// The admin token (bypasses RBAC).
    #[arg(long, default_value = DEFAULT_ADMIN_TOKEN)]
    admin_token: String,
    /// Write a kubeconfig here: one context per token, the admin's first (current).
    #[arg(long, value_name = "OUT")]
    kubeconfig: Option<PathBuf>,
    /// Write `token`, `ca.crt` and `namespace` into this directory (in-cluster mode tests).
    #[arg(long, value_name = "DIR", requires = "service_account_token")]
    service_account_dir: Option<PathBuf>,
    /// The token written into --service-account-dir.
    #[arg(long, value_name = "TOKEN")]
    service_account_token: Option<String>,
    /// The namespace written into --service-account-dir and set in kubeconfig contexts.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Fault rules (YAML or JSON list).
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Write the CA certificate (PEM) here.
    #[arg(long, value_name = "OUT")]
    ca_out: Option<PathBuf>,
    /// On SIGUSR1 and on exit, replace this file with the requests served since the last
    /// write, one per line (`METHOD path?query STATUS`); benchmarks count a client's requests.
    #[arg(long, value_name = "FILE")]
    request_log: Option<PathBuf>,
}

fn tokens(cli: &Cli) -> Result<Tokens, String> {
    let mut tokens = match &cli.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Tokens::parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Tokens::default(),
    };
    tokens.insert(&cli.admin_token, Identity::admin("admin"));
    for spec in &cli.tokens {
        let (token, rest) = spec
            .split_once('=')
            .ok_or_else(|| format!("--token {spec:?}: expected TOKEN=USER[,GROUP...]"))?;
        let line = format!("{token},{rest}");
        for (token, identity) in Tokens::parse_file(&line)
            .map_err(|e| format!("--token {spec:?}: {e}"))?
            .iter()
        {
            tokens.insert(token, identity.clone());
        }
    }
    Ok(tokens)
}

async fn run(cli: Cli) -> Result<(), String> {
    let tokens = tokens(&cli)?;
    let config = ServerConfig {
        listen: cli.listen,
        tokens: tokens.clone(),
        snapshots: cli.snapshot.clone(),
        rbac: cli.rbac.clone(),
        ..ServerConfig::default()
    };
    let server = TestApiServer::start(config)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &cli.faults {
        server.faults().load_file(path).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &cli.kubeconfig {
        let mut users = vec![KubeconfigUser {
            name: "admin".to_string(),
            token: cli.admin_token.clone(),
            namespace: cli.namespace.clone(),
        }];
        for (token, identity) in tokens.iter().filter(|(t, _)| **t != cli.admin_token) {
            users.push(KubeconfigUser {
                name: identity.user.replace(':', "-"),
                token: token.clone(),
                namespace: cli.namespace.clone(),
            });
        }
        let text = kubeconfig::kubeconfig_yaml(&server.url(), server.ca_pem(), &users);
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let (Some(dir), Some(token)) = (&cli.service_account_dir, &cli.service_account_token) {
        server
            .write_service_account_dir(dir, token, &cli.namespace)
            .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    }
    if let Some(path) = &cli.ca_out {
        std::fs::write(path, server.ca_pem())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let stats = server.seed_stats();
    eprintln!(
        "rounds-test-apiserver: {} objects and {} kubelet summaries from {} files",
        stats.objects, stats.summaries, stats.files
    );
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", server.url()).map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;
    wait_for_signal(&server, cli.request_log.as_deref()).await?;
    if let Some(path) = &cli.request_log {
        request_dump::dump(server.requests(), path).map_err(|e| e.to_string())?;
    }
    server.shutdown().await;
    Ok(())
}

/// Serves until SIGINT or SIGTERM; with a request log, each SIGUSR1 writes it.
async fn wait_for_signal(server: &TestApiServer, request_log: Option<&Path>) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut user1)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::user_defined1()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return Ok(());
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            _ = user1.recv() => {
                if let Some(path) = request_log {
                    request_dump::dump(server.requests(), path).map_err(|e| e.to_string())?;
                }
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rounds-test-apiserver: {message}");
            ExitCode::from(2)
        }
    }
}
