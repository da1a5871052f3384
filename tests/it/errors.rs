//! Every failure answers API.md's JSON error body with a fitting status; none answers 500.

use crate::support::{spawn_app, Backend};
use testkit::both_backends;

both_backends!(
    every_error_path_answers_the_json_error_body,
    health_readiness_and_metrics
);

async fn every_error_path_answers_the_json_error_body(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    let token = app.auth(12);
    let auth = Some(token.as_str());
    // Unknown paths and wrong methods, inside and outside the API.
    app.call("GET", "/api/v1/nothing", auth, None)
        .await
        .assert_error(404, "not_found");
    app.call("GET", "/api/v2/me", auth, None)
        .await
        .assert_error(404, "not_found");
    app.call("GET", "/no/such/page", None, None)
        .await
        .assert_error(404, "not_found");
    app.call("GET", "/assets/x/missing.js", None, None)
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", "/api/v1/me", auth, None)
        .await
        .assert_error(405, "method_not_allowed");
    app.call("GET", "/api/v1/taps", auth, None)
        .await
        .assert_error(405, "method_not_allowed");
    app.call("POST", "/healthz", None, None)
        .await
        .assert_error(405, "method_not_allowed");
    // Malformed and oversized bodies.
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/taps", app.base);
        let auth = token.clone();
        async move {
            let res = client
                .post(url)
                .header("authorization", auth)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            (
                status,
                body["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    assert_eq!(
        raw(b"{\"count\":".to_vec(), "application/json").await,
        (400, "invalid_json".into())
    );
    assert_eq!(
        raw(b"[1,2]".to_vec(), "application/json").await,
        (400, "invalid_json".into())
    );
    assert_eq!(
        raw(b"\xff\xfe".to_vec(), "text/plain").await,
        (400, "invalid_json".into())
    );
    assert_eq!(
        // Over the 16 KiB limit, yet small enough to be sent whole before the server answers.
        raw(vec![b' '; 20_000], "application/json").await,
        (413, "payload_too_large".into())
    );
    // A text/plain beacon with a good body is read as JSON.
    assert_eq!(
        raw(b"{\"count\":2,\"seq\":1}".to_vec(), "text/plain")
            .await
            .0,
        200
    );
    // Errors carry a request id for the logs.
    let answer = app.call("GET", "/api/v1/me", None, None).await;
    answer.assert_error(401, "missing_auth");
    assert!(answer.headers.contains_key("x-request-id"));
    app.stop().await;
    stores.remove().await;
}

async fn health_readiness_and_metrics(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    assert_eq!(app.call("GET", "/healthz", None, None).await.status, 200);
    assert_eq!(app.call("GET", "/readyz", None, None).await.status, 200);
    assert_eq!(app.taps(13, 5, 1).await.status, 200);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("http_requests_total{method=\"POST\",route=\"/api/v1/taps\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "latency histogram"
    );
    assert!(metrics.contains("taps_accepted_total"));
    app.stop().await;
    stores.remove().await;
}
