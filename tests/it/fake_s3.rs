//! A fake S3 on loopback for the worker's `s3://` warehouse: objects in memory, every request's
//! Signature Version 4 checked against the secret it handed out, and a container credentials
//! endpoint (the ECS task role's) whose keys can be rotated.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use worker::objects::{sign, CredentialSource, Credentials, S3Settings};

pub const REGION: &str = "eu-west-1";

#[derive(Default)]
pub struct Inner {
    /// `bucket/key` → body.
    pub objects: BTreeMap<String, Vec<u8>>,
    /// The keys the credentials endpoint hands out now (rotated by [`FakeS3::rotate`]).
    pub generation: u32,
    /// Times the credentials endpoint was asked.
    pub credential_fetches: u32,
    /// Requests refused: `(method, path, why)`.
    pub refused: Vec<(String, String, String)>,
}

#[derive(Clone)]
pub struct FakeS3 {
    /// The endpoint (`WAREHOUSE_S3_ENDPOINT`).
    pub url: String,
    /// The credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
    pub credentials_url: String,
    pub inner: Arc<Mutex<Inner>>,
}

fn credentials(generation: u32) -> Credentials {
    Credentials {
        access_key: format!("ASIAFAKE{generation}"),
        secret_key: format!("fake-secret-{generation}"),
        token: Some(format!("fake-session-token-{generation}")),
    }
}

impl FakeS3 {
    pub async fn start() -> FakeS3 {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/credentials", get(hand_out))
            .route("/{bucket}/{*key}", any(object))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeS3 {
            url: format!("http://{addr}"),
            credentials_url: format!("http://{addr}/credentials"),
            inner,
        }
    }

    /// How the worker reaches this fake: its endpoint, region and credentials endpoint.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            region: REGION.to_owned(),
            endpoint: Some(self.url.clone()),
            credentials: Some(CredentialSource::Endpoint {
                url: self.credentials_url.clone(),
                authorization: None,
            }),
        }
    }

    /// New keys from the credentials endpoint; the old ones are refused from now on.
    pub fn rotate(&self) {
        self.inner.lock().unwrap().generation += 1;
    }

    /// The stored object at `bucket/key`.
    pub fn object(&self, path: &str) -> Option<Vec<u8>> {
        self.inner.lock().unwrap().objects.get(path).cloned()
    }

    /// Stored `bucket/key`s.
    pub fn keys(&self) -> Vec<String> {
        self.inner.lock().unwrap().objects.keys().cloned().collect()
    }
}

async fn hand_out(State(inner): State<Arc<Mutex<Inner>>>) -> Json<serde_json::Value> {
    let mut i = inner.lock().unwrap();
    i.credential_fetches += 1;
    let c = credentials(i.generation);
    Json(json!({
        "AccessKeyId": c.access_key,
        "SecretAccessKey": c.secret_key,
        "Token": c.token,
        "Expiration": "2099-01-01T00:00:00Z",
    }))
}

/// Why a request's signature is not the one its headers and the current keys give, if it is not.
fn check(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: &Credentials,
) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let auth = header("authorization").ok_or("no Authorization")?;
    let signed = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .ok_or("no SignedHeaders")?;
    let payload = header("x-amz-content-sha256").ok_or("no x-amz-content-sha256")?;
    if payload != hex::encode(Sha256::digest(body)) {
        return Err("x-amz-content-sha256 is not the body's hash".into());
    }
    if header("x-amz-security-token") != now.token {
        return Err("not the current session token".into());
    }
    for needed in [
        "host",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ] {
        if !signed.split(';').any(|s| s == needed) {
            return Err(format!("{needed} is not signed"));
        }
    }
    let mut pairs: Vec<(String, String)> = signed
        .split(';')
        .map(|name| (name.to_owned(), header(name).unwrap_or_default()))
        .collect();
    let expected = sign(
        now,
        REGION,
        method.as_str(),
        uri.path(),
        &mut pairs,
        &payload,
    );
    if expected != auth {
        return Err(format!("signature mismatch: {auth}"));
    }
    Ok(())
}

async fn object(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut i = inner.lock().unwrap();
    let now = credentials(i.generation);
    if let Err(why) = check(&method, &uri, &headers, &body, &now) {
        i.refused
            .push((method.to_string(), uri.path().to_owned(), why));
        return StatusCode::FORBIDDEN;
    }
    let path = format!("{bucket}/{key}");
    match method {
        Method::PUT => {
            i.objects.insert(path, body.to_vec());
            StatusCode::OK
        }
        Method::HEAD if i.objects.contains_key(&path) => StatusCode::OK,
        Method::HEAD => StatusCode::NOT_FOUND,
        _ => StatusCode::METHOD_NOT_ALLOWED,
    }
}
