//! Sign-in from init data: what is accepted, and every way it is refused.

use crate::support::{spawn_app, spawn_with, Backend, Options, TOKEN};
use game::{InitDataKey, ManualClock};
use serde_json::json;
use std::sync::Arc;
use testkit::both_backends;

both_backends!(
    valid_init_data_creates_the_player_with_full_energy,
    the_facts_test_vector_signs_in,
    refused_init_data_gets_401_with_a_reason,
    unicode_and_plus_signs_in_names_survive,
    the_profile_is_kept_up_to_date,
    a_banned_player_gets_403,
    dev_login_exists_only_without_a_bot_token,
);

async fn valid_init_data_creates_the_player_with_full_energy(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    let me = app.get("/api/v1/me", 42).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["id"], 42);
    assert_eq!(me.body["first_name"], "Player42");
    assert_eq!(me.body["balance"], 0);
    assert_eq!(me.body["energy"], 1000);
    assert_eq!(me.body["max_energy"], 1000);
    assert_eq!(me.body["energy_per_sec"], 3);
    assert_eq!(me.body["tap_power"], 1);
    assert_eq!(me.body["passive_per_hour"], 0);
    assert_eq!(me.body["level"], 1);
    assert_eq!(me.body["league"], "Bronze");
    let server_time = me.body["server_time"].as_i64().unwrap();
    assert!((server_time - app.game.now_ms()).abs() < 60_000);
    app.stop().await;
    stores.remove().await;
}

async fn the_facts_test_vector_signs_in(backend: Backend) {
    // FACTS.md's vector was signed at auth_date 1733584787 by this token.
    let clock = Arc::new(ManualClock::new(1_733_584_787_000 + 5_000));
    let options = Options {
        bot_token: Some("7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ"),
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let (app, stores) = spawn_with(backend, options).await;
    let vector = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";
    let me = app
        .call("GET", "/api/v1/me", Some(&format!("tma {vector}")), None)
        .await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["id"], 279058397);
    assert_eq!(me.body["first_name"], "Vladislav + - ? /");
    assert_eq!(me.body["username"], "vdkfrost");
    assert_eq!(me.body["language_code"], "ru");
    assert_eq!(me.body["is_premium"], true);
    // A day later the same data has expired.
    clock.advance(86_400_000);
    app.call("GET", "/api/v1/me", Some(&format!("tma {vector}")), None)
        .await
        .assert_error(401, "init_data_expired");
    app.stop().await;
    stores.remove().await;
}

async fn refused_init_data_gets_401_with_a_reason(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    let now = app.game.now_ms() / 1000;
    let user = json!({"id": 7, "first_name": "Eve"});
    let other_bot = InitDataKey::for_bot_token("999:another_bot").sign_user(&user, now);
    let good = app.key.sign_user(&user, now);
    let tampered = good.replace("Eve", "Ev3");
    let stale = app.key.sign_user(&user, now - 86_401);
    let future = app.key.sign_user(&user, now + 3_600);
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_auth"),
        (Some(format!("Bearer {good}")), "invalid_auth_scheme"),
        (Some(good.clone()), "invalid_auth_scheme"),
        (Some(format!("tma {other_bot}")), "invalid_signature"),
        (Some(format!("tma {tampered}")), "invalid_signature"),
        (Some(format!("tma {stale}")), "init_data_expired"),
        (Some(format!("tma {future}")), "init_data_from_future"),
        (Some("tma garbage".into()), "invalid_init_data"),
        (Some("tma ".into()), "invalid_init_data"),
        (Some("tma hash=zz&user=%7B".into()), "invalid_init_data"),
        (Some(format!("tma {good}&hash=00")), "invalid_init_data"),
    ];
    for (auth, code) in cases {
        let answer = app.call("GET", "/api/v1/me", auth.as_deref(), None).await;
        answer.assert_error(401, code);
    }
    // Nothing was created by the refused attempts; the good one works.
    let me = app
        .call("GET", "/api/v1/me", Some(&format!("tma {good}")), None)
        .await;
    assert_eq!(me.status, 200);
    // A non-ASCII header value is a wrong scheme, not a crash.
    let res = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"tma \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.stop().await;
    stores.remove().await;
}

async fn unicode_and_plus_signs_in_names_survive(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    let user = json!({"id": 77, "first_name": "Жанна + ✨ & =", "last_name": "O'Brien+1", "username": "a_b"});
    let init = app.key.sign_user(&user, app.game.now_ms() / 1000);
    let me = app
        .call("GET", "/api/v1/me", Some(&format!("tma {init}")), None)
        .await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["first_name"], "Жанна + ✨ & =");
    assert_eq!(me.body["last_name"], "O'Brien+1");
    app.stop().await;
    stores.remove().await;
}

async fn the_profile_is_kept_up_to_date(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    let now = app.game.now_ms() / 1000;
    let first = app.key.sign_user(
        &json!({"id": 5, "first_name": "Old", "username": "old"}),
        now,
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&format!("tma {first}")), None)
            .await
            .status,
        200
    );
    let taps = app
        .call(
            "POST",
            "/api/v1/taps",
            Some(&format!("tma {first}")),
            Some(json!({"count": 5, "seq": 1})),
        )
        .await;
    assert_eq!(taps.body["balance"], 5);
    let second = app.key.sign_user(
        &json!({"id": 5, "first_name": "New", "username": "new", "is_premium": true}),
        now + 1,
    );
    let me = app
        .call("GET", "/api/v1/me", Some(&format!("tma {second}")), None)
        .await;
    assert_eq!(me.body["first_name"], "New");
    assert_eq!(me.body["username"], "new");
    assert_eq!(me.body["is_premium"], true);
    assert_eq!(
        me.body["balance"], 5,
        "a profile refresh keeps the game state"
    );
    app.stop().await;
    stores.remove().await;
}

async fn a_banned_player_gets_403(backend: Backend) {
    use entities::player;
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let (app, stores) = spawn_app(backend).await;
    assert_eq!(app.get("/api/v1/me", 9).await.status, 200);
    player::Entity::update_many()
        .col_expr(player::Column::Banned, Expr::value(true))
        .filter(player::Column::Id.eq(9))
        .exec(app.game.db())
        .await
        .unwrap();
    app.get("/api/v1/me", 9).await.assert_error(403, "banned");
    app.taps(9, 1, 1).await.assert_error(403, "banned");
    app.get("/api/v1/leaderboard", 9)
        .await
        .assert_error(403, "banned");
    app.stop().await;
    stores.remove().await;
}

async fn dev_login_exists_only_without_a_bot_token(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    app.call("POST", "/api/v1/dev/login", None, Some(json!({"id": 1})))
        .await
        .assert_error(404, "not_found");
    app.stop().await;
    stores.remove().await;

    let (app, stores) = spawn_with(
        backend,
        Options {
            bot_token: None,
            ..Options::default()
        },
    )
    .await;
    let login = app
        .call(
            "POST",
            "/api/v1/dev/login",
            None,
            Some(json!({"id": 31, "first_name": "Demo"})),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let init = login.body["init_data"].as_str().unwrap().to_owned();
    let me = app
        .call("GET", "/api/v1/me", Some(&format!("tma {init}")), None)
        .await;
    assert_eq!(me.body["id"], 31);
    assert_eq!(me.body["first_name"], "Demo");
    // Without an id, a fresh demo player.
    let anon = app.call("POST", "/api/v1/dev/login", None, None).await;
    assert_eq!(anon.status, 200);
    app.call("POST", "/api/v1/dev/login", None, Some(json!({"id": -3})))
        .await
        .assert_error(400, "invalid_id");
    app.call(
        "POST",
        "/api/v1/dev/login",
        None,
        Some(json!({"first_name": 5})),
    )
    .await
    .assert_error(400, "invalid_name");
    // The demo key is made at start, not derived from any known token.
    let signed_elsewhere =
        InitDataKey::for_bot_token(TOKEN).sign_user(&json!({"id": 31}), app.game.now_ms() / 1000);
    app.call(
        "GET",
        "/api/v1/me",
        Some(&format!("tma {signed_elsewhere}")),
        None,
    )
    .await
    .assert_error(401, "invalid_signature");
    app.stop().await;
    stores.remove().await;
}
