//! The Mini App's files: a no-cache page, versioned assets cached for a year, gzip.

use crate::support::{spawn_app, Backend};
use testkit::both_backends;

both_backends!(the_mini_app_is_served_compressed_with_cache_headers);

async fn the_mini_app_is_served_compressed_with_cache_headers(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    let page = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains("telegram-web-app.js"),
        "loads Telegram's script"
    );
    assert!(!html.contains("__ASSETS__"), "asset paths are versioned");
    let start = html.find("/assets/").expect("an asset link");
    let path: String = html[start..]
        .chars()
        .take_while(|c| *c != '"' && *c != '\'')
        .collect();
    let asset = app
        .client
        .get(format!("{}{path}", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200, "{path}");
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(asset.headers()["content-encoding"], "gzip");
    app.stop().await;
    stores.remove().await;
}
