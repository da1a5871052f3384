//! Wallets: address forms, one wallet per player, and TON Connect proofs.

use crate::support::{spawn_with, Backend, Options, TestApp};
use futures::future::join_all;
use game::ton::{TestWallet, WalletKind, Workchain};
use serde_json::{json, Value};
use testkit::both_backends;

both_backends!(
    every_bad_address_is_refused_with_422,
    raw_and_friendly_forms_are_one_wallet,
    one_wallet_belongs_to_one_player,
    a_ton_proof_proves_the_wallet_once,
);

const VECTOR_RAW: &str = "0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e";
const VECTOR_BOUNCEABLE: &str = "EQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPrHF";
const VECTOR_NON_BOUNCEABLE: &str = "UQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPuwA";

async fn put_wallet(app: &TestApp, player: i64, address: Value) -> crate::support::Answer {
    app.call(
        "PUT",
        "/api/v1/wallet",
        Some(&app.auth(player)),
        Some(json!({"address": address})),
    )
    .await
}

async fn every_bad_address_is_refused_with_422(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::default()).await;
    let mut checksum = VECTOR_BOUNCEABLE.to_owned();
    checksum.replace_range(47..48, "G");
    let testnet = game::ton::TonAddress::parse(VECTOR_RAW, false)
        .unwrap()
        .to_friendly(true, true);
    let cases = [
        json!(checksum),                            // checksum
        json!(&VECTOR_BOUNCEABLE[..47]),            // length
        json!(format!("{VECTOR_BOUNCEABLE}A")),     // length
        json!(VECTOR_BOUNCEABLE.replace('K', "*")), // alphabet
        json!(VECTOR_RAW.replacen("0:", "5:", 1)),  // workchain
        json!(VECTOR_RAW.replacen("0:", "x:", 1)),  // workchain not a number
        json!(&VECTOR_RAW[..60]),                   // short hash
        json!(VECTOR_RAW.replace('c', "z")),        // hash alphabet
        json!(""),                                  // empty
        json!("A".repeat(10_000)),                  // huge
        json!(format!(" {VECTOR_RAW}")),            // whitespace
        json!(testnet),                             // testnet, not allowed
        json!(42),                                  // not text
        Value::Null,                                // missing
    ];
    for address in cases {
        put_wallet(&app, 1, address.clone())
            .await
            .assert_error(422, "invalid_address");
    }
    app.call("GET", "/api/v1/wallet", Some(&app.auth(1)), None)
        .await
        .assert_error(404, "no_wallet");
    app.stop().await;
    stores.remove().await;
}

async fn raw_and_friendly_forms_are_one_wallet(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::default()).await;
    let mut answers = Vec::new();
    for form in [
        VECTOR_RAW,
        VECTOR_BOUNCEABLE,
        VECTOR_NON_BOUNCEABLE,
        &VECTOR_RAW.to_uppercase(),
    ] {
        let a = put_wallet(&app, 2, json!(form)).await;
        assert_eq!(a.status, 200, "{form}: {:?}", a.body);
        answers.push(a.body["address"].clone());
    }
    assert!(
        answers.iter().all(|a| a == VECTOR_NON_BOUNCEABLE),
        "{answers:?}"
    );
    let got = app
        .call("GET", "/api/v1/wallet", Some(&app.auth(2)), None)
        .await;
    assert_eq!(got.body["address"], VECTOR_NON_BOUNCEABLE);
    assert_eq!(got.body["raw"], VECTOR_RAW);
    assert_eq!(got.body["proven"], false);
    app.stop().await;
    stores.remove().await;
}

async fn one_wallet_belongs_to_one_player(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::default()).await;
    assert_eq!(put_wallet(&app, 3, json!(VECTOR_RAW)).await.status, 200);
    put_wallet(&app, 4, json!(VECTOR_BOUNCEABLE))
        .await
        .assert_error(409, "wallet_taken");
    // A player may move to another wallet, freeing the first.
    let other = TestWallet::new([7; 32], WalletKind::V4R2, Workchain::Basechain)
        .address()
        .to_raw();
    assert_eq!(put_wallet(&app, 3, json!(other)).await.status, 200);
    assert_eq!(put_wallet(&app, 4, json!(VECTOR_RAW)).await.status, 200);
    // Eight players grabbing one fresh wallet at once: exactly one gets it.
    let fresh = TestWallet::new([9; 32], WalletKind::V5R1, Workchain::Basechain)
        .address()
        .to_raw();
    let answers = join_all((10..18).map(|p| put_wallet(&app, p, json!(fresh.clone())))).await;
    assert_eq!(
        answers.iter().filter(|a| a.status == 200).count(),
        1,
        "{answers:?}"
    );
    for a in answers.iter().filter(|a| a.status != 200) {
        a.assert_error(409, "wallet_taken");
    }
    app.stop().await;
    stores.remove().await;
}

async fn payload(app: &TestApp, auth: &str) -> String {
    let a = app
        .call("POST", "/api/v1/wallet/proof/payload", Some(auth), None)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["payload"].as_str().unwrap().to_owned()
}

async fn a_ton_proof_proves_the_wallet_once(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::default()).await;
    let wallet = TestWallet::new([5; 32], WalletKind::V4R2, Workchain::Basechain);
    let auth = app.auth(20);
    let now = (app.game.now_ms() / 1000) as u64;
    let prove = |proof: game::ton::TonProof, address: String| {
        let body =
            json!({"address": address, "public_key": wallet.public_key_hex(), "proof": proof});
        app.call("POST", "/api/v1/wallet/proof", Some(&auth), Some(body))
    };
    // WEBAPP_URL is http://127.0.0.1:8080 in the tests, so the allowed domain is 127.0.0.1.
    let p1 = payload(&app, &auth).await;
    let good = wallet.sign_proof("127.0.0.1", now, &p1);
    let ok = prove(good.clone(), wallet.address().to_raw()).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["proven"], true);
    assert_eq!(ok.body["wallet_kind"], "v4r2");
    assert_eq!(
        ok.body["address"],
        wallet.address().to_friendly(false, false)
    );
    // Replayed: the payload was used.
    prove(good, wallet.address().to_raw())
        .await
        .assert_error(422, "invalid_proof");
    // Expired, another domain, a bad signature, another address: each refused, each payload spent.
    let p = payload(&app, &auth).await;
    prove(
        wallet.sign_proof("127.0.0.1", now - 3_600, &p),
        wallet.address().to_raw(),
    )
    .await
    .assert_error(422, "invalid_proof");
    let p = payload(&app, &auth).await;
    prove(
        wallet.sign_proof("evil.example.com", now, &p),
        wallet.address().to_raw(),
    )
    .await
    .assert_error(422, "invalid_proof");
    let p = payload(&app, &auth).await;
    let mut bad = wallet.sign_proof("127.0.0.1", now, &p);
    let mut sig = bad.signature.into_bytes();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    bad.signature = String::from_utf8(sig).unwrap();
    prove(bad, wallet.address().to_raw())
        .await
        .assert_error(422, "invalid_proof");
    let p = payload(&app, &auth).await;
    let other = TestWallet::new([6; 32], WalletKind::V4R2, Workchain::Basechain);
    prove(
        wallet.sign_proof("127.0.0.1", now, &p),
        other.address().to_raw(),
    )
    .await
    .assert_error(422, "invalid_proof");
    // A payload issued to someone else is not this player's.
    let someone = app
        .call(
            "POST",
            "/api/v1/wallet/proof/payload",
            Some(&app.auth(21)),
            None,
        )
        .await;
    let theirs = someone.body["payload"].as_str().unwrap();
    prove(
        wallet.sign_proof("127.0.0.1", now, theirs),
        wallet.address().to_raw(),
    )
    .await
    .assert_error(422, "invalid_proof");
    // The proven wallet stays proven.
    let got = app.call("GET", "/api/v1/wallet", Some(&auth), None).await;
    assert_eq!(got.body["proven"], true);
    // The manifest TON Connect reads.
    let manifest = app
        .call("GET", "/tonconnect-manifest.json", None, None)
        .await;
    assert_eq!(manifest.body["url"], "http://127.0.0.1:8080");
    let icon = manifest.body["iconUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://127.0.0.1:8080")
        .to_owned();
    assert!(icon.ends_with(".png"), "wallets show PNG icons: {icon}");
    let res = app
        .client
        .get(format!("{}{icon}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    app.stop().await;
    stores.remove().await;
}
