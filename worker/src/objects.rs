//! Where the worker writes files (`WAREHOUSE_URL`): a folder (`file://path`) or an S3 bucket
//! (`s3://bucket/prefix`).
//!
//! S3 is spoken directly, with Signature Version 4 over the HTTP client the project already has:
//! `PUT` and `HEAD` of objects are all the worker needs. Credentials come from
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`) when set, otherwise from
//! the ECS task role's credentials endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` under
//! `http://169.254.170.2`, or `AWS_CONTAINER_CREDENTIALS_FULL_URI`), fetched again every ten
//! minutes. Requests go to `https://<bucket>.s3.<region>.amazonaws.com` unless an endpoint is
//! configured (`WAREHOUSE_S3_ENDPOINT`, path-style: `<endpoint>/<bucket>/<key>`), which is how
//! tests point it at a fake on loopback and how S3-compatible stores are reached.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long fetched role credentials are used before they are fetched again (ECS hands out
/// credentials valid for hours and rotates them well before they expire).
const CREDENTIALS_REFRESH: Duration = Duration::from_secs(600);
/// The ECS credentials endpoint that `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is relative to.
const ECS_CREDENTIALS_HOST: &str = "http://169.254.170.2";

/// A failed storage operation, in words for the logs.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ObjectError(pub String);

/// Where files go.
#[derive(Debug)]
pub enum Objects {
    /// A folder.
    Dir(PathBuf),
    /// An S3 bucket (and prefix).
    S3(Box<S3>),
}

/// How an S3 store is reached, besides the bucket and prefix of `WAREHOUSE_URL`.
#[derive(Clone, Debug, Default)]
pub struct S3Settings {
    /// The bucket's region (`AWS_REGION`).
    pub region: String,
    /// A path-style endpoint instead of AWS's (`WAREHOUSE_S3_ENDPOINT`).
    pub endpoint: Option<String>,
    /// Where credentials come from; `None`: from the environment (see the module header).
    pub credentials: Option<CredentialSource>,
}

/// Where S3 credentials come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// Fixed keys.
    Static(Credentials),
    /// A container credentials endpoint (ECS task role), with its authorization token if any.
    Endpoint {
        url: String,
        authorization: Option<String>,
    },
}

impl CredentialSource {
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else the ECS task
    /// role's endpoint; an error names what to set when neither is there.
    pub fn from_env() -> Result<CredentialSource, ObjectError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let (Some(access_key), Some(secret_key)) =
            (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        {
            return Ok(CredentialSource::Static(Credentials {
                access_key,
                secret_key,
                token: var("AWS_SESSION_TOKEN"),
            }));
        }
        let url = match (
            var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            var("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        ) {
            (Some(relative), _) => format!("{ECS_CREDENTIALS_HOST}{relative}"),
            (_, Some(full)) => full,
            _ => {
                return Err(ObjectError(
                    "an s3:// URL needs AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an ECS task role"
                        .into(),
                ))
            }
        };
        Ok(CredentialSource::Endpoint {
            url,
            authorization: var("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        })
    }
}

impl Objects {
    /// The store of `url`: `file://path` or `s3://bucket[/prefix]`.
    pub fn from_url(url: &str, s3: &S3Settings) -> Result<Objects, ObjectError> {
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(ObjectError("a file:// URL needs a path".into()));
            }
            return Ok(Objects::Dir(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(ObjectError("must start with file:// or s3://".into()));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
            return Err(ObjectError(format!(
                "{bucket:?} is not an S3 bucket name (3-63 lowercase letters, digits, '-', '.')"
            )));
        }
        if s3.region.is_empty() {
            return Err(ObjectError(
                "an s3:// URL needs AWS_REGION (the bucket's region)".into(),
            ));
        }
        let source = match &s3.credentials {
            Some(c) => c.clone(),
            None => CredentialSource::from_env()?,
        };
        Ok(Objects::S3(Box::new(S3 {
            source,
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            region: s3.region.clone(),
            endpoint: s3
                .endpoint
                .as_ref()
                .map(|e| e.trim_end_matches('/').to_owned()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| ObjectError(e.to_string()))?,
            cached: Mutex::new(None),
        })))
    }

    /// Writes `body` at `key` (a `/`-separated relative path), replacing what was there; a
    /// reader never sees half a file.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ObjectError> {
        match self {
            Objects::Dir(dir) => {
                let path = dir.join(key);
                let parent = path.parent().unwrap_or(dir).to_owned();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let tmp = parent.join(format!(".{name}.tmp"));
                let io = |e: std::io::Error| ObjectError(format!("{}: {e}", path.display()));
                std::fs::create_dir_all(&parent).map_err(io)?;
                std::fs::write(&tmp, body).map_err(io)?;
                std::fs::rename(&tmp, &path).map_err(io)
            }
            Objects::S3(s3) => s3.put(key, body, content_type).await,
        }
    }

    /// Whether something is stored at `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        match self {
            Objects::Dir(dir) => Ok(dir.join(key).exists()),
            Objects::S3(s3) => s3.exists(key).await,
        }
    }
}

/// Credentials to sign with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub token: Option<String>,
}

/// An S3 bucket spoken to with Signature Version 4.
#[derive(Debug)]
pub struct S3 {
    source: CredentialSource,
    bucket: String,
    prefix: String,
    region: String,
    endpoint: Option<String>,
    http: reqwest::Client,
    cached: Mutex<Option<(Credentials, Instant)>>,
}

impl S3 {
    /// `(url, host, canonical path)` of an object.
    fn locate(&self, key: &str) -> (String, String, String) {
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        let encoded: Vec<String> = full.split('/').map(uri_encode).collect();
        let encoded = encoded.join("/");
        match &self.endpoint {
            Some(endpoint) => {
                let host = endpoint
                    .split_once("://")
                    .map_or(endpoint.as_str(), |(_, h)| h)
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let path = format!("/{}/{encoded}", self.bucket);
                (format!("{endpoint}{path}"), host, path)
            }
            None => {
                let host = format!("{}.s3.{}.amazonaws.com", self.bucket, self.region);
                let path = format!("/{encoded}");
                (format!("https://{host}{path}"), host, path)
            }
        }
    }

    async fn credentials(&self, fresh: bool) -> Result<Credentials, ObjectError> {
        let (url, authorization) = match &self.source {
            CredentialSource::Static(c) => return Ok(c.clone()),
            CredentialSource::Endpoint { url, authorization } => (url, authorization),
        };
        if !fresh {
            if let Some((c, at)) = self.cached.lock().expect("credentials lock").clone() {
                if at.elapsed() < CREDENTIALS_REFRESH {
                    return Ok(c);
                }
            }
        }
        let mut req = self.http.get(url);
        if let Some(token) = authorization {
            req = req.header("Authorization", token);
        }
        let answer = req
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| ObjectError(format!("the credentials endpoint: {e}")))?;
        let body: serde_json::Value = answer
            .json()
            .await
            .map_err(|e| ObjectError(format!("the credentials endpoint: {e}")))?;
        let field = |name: &str| body[name].as_str().map(str::to_owned);
        let c = Credentials {
            access_key: field("AccessKeyId").ok_or_else(|| {
                ObjectError("the credentials endpoint sent no AccessKeyId".into())
            })?,
            secret_key: field("SecretAccessKey").ok_or_else(|| {
                ObjectError("the credentials endpoint sent no SecretAccessKey".into())
            })?,
            token: field("Token"),
        };
        *self.cached.lock().expect("credentials lock") = Some((c.clone(), Instant::now()));
        Ok(c)
    }

    /// Sends a signed request; on a 403 the role credentials are fetched again once.
    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<reqwest::Response, ObjectError> {
        let (url, host, path) = self.locate(key);
        for fresh in [false, true] {
            let creds = self.credentials(fresh).await?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let payload = hex::encode(Sha256::digest(&body));
            let mut headers = vec![
                ("host".to_owned(), host.clone()),
                ("x-amz-content-sha256".to_owned(), payload.clone()),
                ("x-amz-date".to_owned(), amz_date(now)),
            ];
            if let Some(t) = content_type {
                headers.push(("content-type".to_owned(), t.to_owned()));
            }
            if let Some(token) = &creds.token {
                headers.push(("x-amz-security-token".to_owned(), token.clone()));
            }
            let authorization = sign(
                &creds,
                &self.region,
                method.as_str(),
                &path,
                &mut headers,
                &payload,
            );
            let mut req = self.http.request(method.clone(), &url);
            for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
                req = req.header(name.as_str(), value.as_str());
            }
            let answer = req
                .header("authorization", authorization)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| ObjectError(format!("S3 {method} {key}: {e}")))?;
            if answer.status() == reqwest::StatusCode::FORBIDDEN && !fresh {
                continue;
            }
            return Ok(answer);
        }
        unreachable!("the second attempt returns")
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), ObjectError> {
        let answer = self
            .send(reqwest::Method::PUT, key, body, Some(content_type))
            .await?;
        if answer.status().is_success() {
            return Ok(());
        }
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        Err(ObjectError(format!(
            "S3 PUT {key}: {status} {}",
            text.chars().take(300).collect::<String>()
        )))
    }

    async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        let answer = self
            .send(reqwest::Method::HEAD, key, Vec::new(), None)
            .await?;
        match answer.status() {
            s if s.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            s => Err(ObjectError(format!("S3 HEAD {key}: {s}"))),
        }
    }
}

/// `20130524T000000Z` of a unix time in seconds.
fn amz_date(secs: i64) -> String {
    let (y, m, d) = game::rules::civil_date(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Percent-encodes a path segment as Signature Version 4 wants (unreserved characters kept).
fn uri_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of a request (Signature Version 4, service `s3`, no query string):
/// `headers` are lowercase names with their values, `x-amz-date` among them; they are sorted here.
pub fn sign(
    creds: &Credentials,
    region: &str,
    method: &str,
    path: &str,
    headers: &mut [(String, String)],
    payload_hash: &str,
) -> String {
    headers.sort();
    let date_time = headers
        .iter()
        .find(|(n, _)| n == "x-amz-date")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let date = &date_time[..date_time.len().min(8)];
    let canonical_headers: String = headers
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", v.trim()))
        .collect();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let signed = signed.join(";");
    let canonical = format!("{method}\n{path}\n\n{canonical_headers}\n{signed}\n{payload_hash}");
    let scope = format!("{date}/{region}/s3/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = hmac(format!("AWS4{}", creds.secret_key).as_bytes(), date);
    let key = hmac(&key, region);
    let key = hmac(&key, "s3");
    let key = hmac(&key, "aws4_request");
    let signature = hex::encode(hmac(&key, &to_sign));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope},SignedHeaders={signed},Signature={signature}",
        creds.access_key
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's worked example "GET Object" for Signature Version 4 in S3's documentation.
    #[test]
    fn signs_the_aws_example_request() {
        let creds = Credentials {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            token: None,
        };
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let mut headers = vec![
            ("x-amz-date".to_owned(), "20130524T000000Z".to_owned()),
            ("range".to_owned(), "bytes=0-9".to_owned()),
            (
                "host".to_owned(),
                "examplebucket.s3.amazonaws.com".to_owned(),
            ),
            ("x-amz-content-sha256".to_owned(), empty.to_owned()),
        ];
        let auth = sign(&creds, "us-east-1", "GET", "/test.txt", &mut headers, empty);
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn dates_and_paths_are_written_as_aws_reads_them() {
        assert_eq!(amz_date(1_369_353_600), "20130524T000000Z");
        assert_eq!(amz_date(1_796_601_600 + 3_723), "20261207T010203Z");
        assert_eq!(uri_encode("batch 1+2~x.csv"), "batch%201%2B2~x.csv");
    }

    #[test]
    fn warehouse_urls_are_checked() {
        let keys = Some(CredentialSource::Static(Credentials {
            access_key: "AKID".into(),
            secret_key: "secret".into(),
            token: None,
        }));
        let s3 = S3Settings {
            region: "eu-west-1".into(),
            endpoint: None,
            credentials: keys.clone(),
        };
        let Objects::S3(b) = Objects::from_url("s3://my-bucket/events/", &s3).unwrap() else {
            panic!("an S3 store")
        };
        assert_eq!(
            b.locate("payouts/b 1.csv"),
            (
                "https://my-bucket.s3.eu-west-1.amazonaws.com/events/payouts/b%201.csv".into(),
                "my-bucket.s3.eu-west-1.amazonaws.com".into(),
                "/events/payouts/b%201.csv".into()
            )
        );
        let local = S3Settings {
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:9000/".into()),
            credentials: keys,
        };
        let Objects::S3(b) = Objects::from_url("s3://bkt", &local).unwrap() else {
            panic!("an S3 store")
        };
        assert_eq!(
            b.locate("x.csv"),
            (
                "http://127.0.0.1:9000/bkt/x.csv".into(),
                "127.0.0.1:9000".into(),
                "/bkt/x.csv".into()
            )
        );
        for bad in ["s3://", "s3://A_B/x", "http://x", "file://"] {
            assert!(Objects::from_url(bad, &s3).is_err(), "{bad}");
        }
        assert!(Objects::from_url("s3://bucket", &S3Settings::default()).is_err());
        assert!(matches!(
            Objects::from_url("file://./warehouse", &S3Settings::default()),
            Ok(Objects::Dir(_))
        ));
    }
}
