//! Building the client: in-cluster (the service account, as in a pod) or from a kubeconfig.

use super::{Api, ApiError};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// A kubeconfig file; without it rounds runs in-cluster when KUBERNETES_SERVICE_HOST is set.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Client-side rate limit, requests per second, and the burst above it.
    pub qps: u32,
    pub burst: u32,
    /// Everything the round asks of the API must be done within this.
    pub deadline: Duration,
    /// How long writes may go on after the deadline (the flush of a stopped round).
    pub flush: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            context: None,
            qps: 20,
            burst: 40,
            deadline: Duration::from_secs(240),
            flush: Duration::ZERO,
        }
    }
}

pub async fn connect(opts: &ConnectOptions) -> Result<Api, ApiError> {
    let in_cluster = opts.kubeconfig.is_none()
        && opts.context.is_none()
        && std::env::var_os("KUBECONFIG").is_none()
        && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
    let mut config = if in_cluster {
        // kube reads the service-account token file and re-reads it when it rotates.
        kube::Config::incluster().map_err(|e| {
            ApiError::Config(format!(
                "in-cluster configuration (service account at /var/run/secrets/kubernetes.io/serviceaccount): {e}"
            ))
        })?
    } else {
        let options = kube::config::KubeConfigOptions {
            context: opts.context.clone(),
            ..Default::default()
        };
        match &opts.kubeconfig {
            Some(path) => {
                let file = kube::config::Kubeconfig::read_from(path)
                    .map_err(|e| ApiError::Config(format!("kubeconfig {}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| ApiError::Config(format!("kubeconfig {}: {e}", path.display())))?
            }
            None => kube::Config::from_kubeconfig(&options).await.map_err(|e| {
                ApiError::Config(format!(
                    "not in a pod (KUBERNETES_SERVICE_HOST is unset) and no usable kubeconfig: {e}; give --kubeconfig or --snapshot"
                ))
            })?,
        }
    };
    // rounds retries itself, within the round deadline and honouring Retry-After, and logs each
    // retry; kube's own retry layer would do neither.
    config.default_retry = false;
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(60));
    let url = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(|e| ApiError::Config(e.to_string()))?;
    let mut api = Api::new(client, url, opts.qps, opts.burst, opts.deadline).with_flush(opts.flush);
    api.set_in_cluster(in_cluster);
    Ok(api)
}
