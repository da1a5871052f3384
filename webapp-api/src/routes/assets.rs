//! The Mini App's files: `/` with a no-cache index, `/assets/<version>/<file>` cached for a year.
//!
//! The version is a hash of every file, so a deploy that changes any file changes every asset URL
//! and no phone keeps a stale mix; relative imports between modules stay inside one version.
//! Files are gzip-compressed once at start and served compressed to clients that accept it.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/static_files.rs"));
}

/// One file ready to serve.
struct Asset {
    content_type: &'static str,
    raw: Vec<u8>,
    gzip: Option<Vec<u8>>,
}

/// The embedded Mini App.
pub struct Assets {
    version: String,
    index: Option<Asset>,
    files: HashMap<&'static str, Asset>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn asset(name: &str, raw: Vec<u8>) -> Asset {
    let content_type = content_type(name);
    let compressible = !matches!(name.rsplit('.').next(), Some("png" | "webp" | "woff2"));
    let gzip = compressible.then(|| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&raw).expect("gzip in memory");
        enc.finish().expect("gzip in memory")
    });
    // Tiny files can grow when compressed; serve those as they are.
    let gzip = gzip.filter(|g| g.len() < raw.len());
    Asset {
        content_type,
        raw,
        gzip,
    }
}

impl Assets {
    /// Prepares the embedded files.
    pub fn embedded() -> Assets {
        let mut hasher = Sha256::new();
        for (name, bytes) in embedded::FILES {
            hasher.update(name.as_bytes());
            hasher.update(bytes);
        }
        let version = hex::encode(&hasher.finalize()[..6]);
        let mut files = HashMap::new();
        let mut index = None;
        for (name, bytes) in embedded::FILES {
            if *name == "index.html" {
                let html = String::from_utf8_lossy(bytes)
                    .replace("__ASSETS__", &format!("/assets/{version}"));
                index = Some(asset(name, html.into_bytes()));
            } else {
                files.insert(*name, asset(name, bytes.to_vec()));
            }
        }
        Assets {
            version,
            index,
            files,
        }
    }

    /// The version in asset URLs.
    pub fn version(&self) -> &str {
        &self.version
    }
}

fn serve(asset: &Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut res = match (&asset.gzip, gzip_ok) {
        (Some(gz), true) => {
            let mut r = Response::new(Body::from(gz.clone()));
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        _ => Response::new(Body::from(asset.raw.clone())),
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "referrer-policy",
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    *res.status_mut() = StatusCode::OK;
    res
}

/// `GET /`: the Mini App's page.
pub async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let index = state.assets.index.as_ref().ok_or(ApiError::NotFound)?;
    Ok(serve(index, &headers, "no-cache"))
}

/// `GET /assets/{version}/{file}`.
pub async fn file(
    State(state): State<AppState>,
    Path((version, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let asset = state
        .assets
        .files
        .get(name.as_str())
        .ok_or(ApiError::NotFound)?;
    // An older version's URL still gets today's file, but must not be cached as if it were that version.
    let cache = if version == state.assets.version {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(serve(asset, &headers, cache))
}
