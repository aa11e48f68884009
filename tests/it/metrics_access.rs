//! `/metrics` answers only the allowed addresses (as our trusted proxy saw them) or the
//! bearer of the token; anyone else gets the 404 of an unknown path.

use crate::common::*;

const TOKEN: &str = "jeton-de-supervision-0123";

async fn metrics(app: &TestApp, c: &reqwest::Client, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = c.get(app.url("/metrics"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_need_an_allowed_address_or_the_token() {
    // Loopback is allowed by default: tests and a local scraper read them.
    let app = spawn_app().await;
    let (status, text) = metrics(&app, &client(), &[]).await;
    assert_eq!(status, 200);
    assert!(text.contains("parcours_outbox_pending"), "{text}");

    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_METRICS_ALLOW".into(), "192.0.2.0/24".into());
        env.insert("PARCOURS_METRICS_TOKEN".into(), TOKEN.into());
    })
    .await;
    let c = client();
    let unknown = c.get(app.url("/nulle-part")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown = unknown.text().await.unwrap();
    // Not allowed: exactly what an unknown path answers, nothing says the endpoint exists.
    for headers in [
        vec![],
        vec![("Authorization", "Bearer jeton-de-supervision-0124")],
        vec![("Authorization", "Basic jeton-de-supervision-0123")],
        vec![("X-Forwarded-For", "192.0.2.1")],
    ] {
        let (status, body) = metrics(&app, &c, &headers).await;
        assert_eq!(status, 404, "{headers:?}");
        assert_eq!(body, unknown, "{headers:?}");
    }
    let bearer = format!("Bearer {TOKEN}");
    let (status, text) = metrics(&app, &c, &[("Authorization", &bearer)]).await;
    assert_eq!(status, 200);
    assert!(text.contains("parcours_outbox_pending"), "{text}");
}

#[tokio::test]
async fn behind_our_proxy_the_address_it_saw_is_the_one_that_counts() {
    // nginx on this host forwards to the instance: every peer is 127.0.0.1.
    let app = spawn_app_with(|env| {
        env.insert("PARCOURS_TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await;
    let c = client();
    for (forwarded, expected) in [
        // Not forwarded: the proxy's host itself asks (a local scraper).
        (vec![], 200),
        // Forwarded for a client of this host.
        (vec!["127.0.0.1"], 200),
        // A client out there.
        (vec!["203.0.113.7"], 404),
        // The same client, having written a loopback address itself.
        (vec!["127.0.0.1, 203.0.113.7"], 404),
        // ... or in a header line of its own, the proxy adding another.
        (vec!["127.0.0.1", "203.0.113.7"], 404),
        // A proxy that could not tell (a Unix socket): not the proxy's own address.
        (vec!["unix:"], 404),
        (vec!["127.0.0.1, unknown"], 404),
    ] {
        let mut req = c.get(app.url("/metrics"));
        for line in &forwarded {
            req = req.header("X-Forwarded-For", *line);
        }
        let status = req.send().await.unwrap().status().as_u16();
        assert_eq!(status, expected, "X-Forwarded-For: {forwarded:?}");
    }
}
