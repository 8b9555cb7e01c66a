//! HTTP for negotiate, Server-Sent Events and Long Polling: hyper's pooled client over rustls,
//! with the connection's headers and access token on every request.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;

use crate::error::HubError;

/// Largest body read whole (negotiate answers, poll bodies).
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

/// The default TLS settings: the webpki root certificates, the ring provider.
pub(crate) fn default_tls() -> Result<Arc<ClientConfig>, HubError> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| HubError::Http {
                url: String::new(),
                reason: format!("TLS set-up: {e}"),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

/// The connection's HTTP client.
#[derive(Clone)]
pub(crate) struct Http {
    inner: Arc<HttpInner>,
}

struct HttpInner {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    headers: HeaderMap,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").finish_non_exhaustive()
    }
}

pub(crate) fn bearer(token: Option<&str>) -> Option<HeaderValue> {
    token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok())
}

impl Http {
    pub(crate) fn new(tls: Arc<ClientConfig>, headers: HeaderMap) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Self {
            inner: Arc::new(HttpInner { client, headers }),
        }
    }

    /// Sends a request and returns the answer with its body still streaming.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        extra: &[(header::HeaderName, &'static str)],
        body: Bytes,
    ) -> Result<Response<Incoming>, HubError> {
        let failed = |reason: String| HubError::Http {
            url: url.to_owned(),
            reason,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .body(Full::new(body))
            .map_err(|e| failed(e.to_string()))?;
        let headers = request.headers_mut();
        for (name, value) in &self.inner.headers {
            headers.append(name, value.clone());
        }
        if let Some(auth) = bearer(token) {
            headers.insert(header::AUTHORIZATION, auth);
        }
        for (name, value) in extra {
            headers.insert(name, HeaderValue::from_static(value));
        }
        self.inner
            .client
            .request(request)
            .await
            .map_err(|e| failed(format!("{e:?}")))
    }

    /// Sends a request and reads the whole answer (bounded).
    pub(crate) async fn fetch(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        extra: &[(header::HeaderName, &'static str)],
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), HubError> {
        let response = self.send(method, url, token, extra, body).await?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| HubError::Http {
                url: url.to_owned(),
                reason: e.to_string(),
            })?
            .to_bytes();
        Ok((status, body))
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }
}
