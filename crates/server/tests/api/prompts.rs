//! Prompts over the API: uploads in any format become 8 kHz telephone audio, text is spoken
//! by the installed synthesizer, bad files are refused with the reason, only admins manage or
//! hear them, and every change is in the audit log.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_store::{AuditFilter, PageRequest};

use crate::app_test;
use crate::helpers::{TestApp, send};

/// A mono WAV of `hz` at `rate`, `bits` 8 or 16.
fn wav(rate: u32, bits: u16, hz: f64, seconds: f64) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    for i in 0..(f64::from(rate) * seconds) as u32 {
        let s = (std::f64::consts::TAU * hz * f64::from(i) / f64::from(rate)).sin();
        if bits == 8 {
            writer.write_sample((s * 100.0) as i8).unwrap();
        } else {
            writer.write_sample((s * 12_000.0) as i16).unwrap();
        }
    }
    writer.finalize().unwrap();
    out.into_inner()
}

async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    file: &str,
    bytes: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let query = [("name", name), ("language", "ru"), ("file_name", file)];
    send(client.post(app.url("/api/prompts")).query(&query).body(bytes)).await
}

app_test!(uploads_and_speech_become_telephone_audio, |app| {
    let admin = app.admin().await;
    let (status, created) =
        upload(app, &admin, "Приветствие", "hello.wav", wav(44_100, 16, 1000.0, 1.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["source"], "upload");
    assert_eq!(created["file_name"], "hello.wav");
    assert!((990..=1010).contains(&created["duration_ms"].as_i64().unwrap()), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // The player gets exactly what callers hear: 8 kHz, one second of the tone.
    let res = admin.get(app.url(&format!("/api/prompts/{id}/audio"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "audio/wav");
    let bytes = res.bytes().await.unwrap();
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    let samples: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
    assert!((7_950..=8_050).contains(&samples.len()));
    let tone = switchboard_media::tone::goertzel_power(&samples[1000..7000], 1000.0);
    assert!(tone > 50.0 * switchboard_media::tone::goertzel_power(&samples[1000..7000], 425.0));

    // Text spoken by the synthesizer (.ci/run installs espeak-ng).
    let (status, spoken) = send(admin.post(app.url("/api/prompts/speech")).json(&json!({
        "name": "Обед", "language": "ru", "text": "У нас обед с часу до двух."
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{spoken}");
    assert_eq!(spoken["source"], "speech");
    assert!(spoken["duration_ms"].as_i64().unwrap() > 1000);

    let (status, list) = send(admin.get(app.url("/api/prompts"))).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        list["prompts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Обед", "Приветствие"]);
    assert!(list["prompts"][0].get("audio").is_none(), "the list carries no audio");
    assert_eq!(list["synthesizer"]["installed"], true);
    let keys: Vec<&str> =
        list["built_in"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"recording_notice") && keys.contains(&"position_5"), "{keys:?}");

    // The built-in prompts are heard in either language.
    for lang in ["ru", "en"] {
        let res = admin
            .get(app.url(&format!("/api/prompts/built-in/{lang}/greeting/audio")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.bytes().await.unwrap().len() > 16_000);
    }
    let (status, _) = send(admin.get(app.url("/api/prompts/built-in/ru/nothing/audio"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = send(admin.get(app.url("/api/prompts/built-in/de/greeting/audio"))).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("language"))
    );

    let (status, _) = send(admin.delete(app.url(&format!("/api/prompts/{id}")))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(admin.get(app.url(&format!("/api/prompts/{id}/audio")))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let audit = app
        .store()
        .list_audit(
            &AuditFilter { entity: Some("prompt".into()), ..Default::default() },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "prompt.create").count(), 2, "{actions:?}");
    assert!(actions.contains(&"prompt.delete"));
});

app_test!(bad_prompts_are_refused_with_the_reason, |app| {
    let admin = app.admin().await;
    let refused = |(status, body): (StatusCode, serde_json::Value), field: &str, says: &str| {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field, "{body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{body}");
    };
    refused(
        upload(app, &admin, "csv", "contacts.wav", b"name,phone\n".to_vec()).await,
        "file",
        "not an audio file",
    );
    refused(upload(app, &admin, "empty", "a.wav", Vec::new()).await, "file", "empty");
    refused(upload(app, &admin, "quiet", "a.wav", wav(8000, 16, 0.0, 1.0)).await, "file", "empty");
    // Eleven minutes of 8-bit audio: 5 MB, under the size limit, over the length limit.
    refused(
        upload(app, &admin, "long", "a.wav", wav(8000, 8, 440.0, 660.0)).await,
        "file",
        "longer than 600 s",
    );
    refused(
        upload(app, &admin, "huge", "a.wav", vec![0u8; 21 << 20]).await,
        "file",
        "larger than 20 MB",
    );
    let query = [("name", "x"), ("language", "de")];
    let (status, body) =
        send(admin.post(app.url("/api/prompts")).query(&query).body(wav(8000, 16, 440.0, 1.0)))
            .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("language"))
    );
    let (status, body) = send(
        admin
            .post(app.url("/api/prompts/speech"))
            .json(&json!({"name": "x", "language": "ru", "text": "  "})),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("text")));
    let long_text = "слово ".repeat(400);
    let (status, body) = send(
        admin
            .post(app.url("/api/prompts/speech"))
            .json(&json!({"name": "x", "language": "ru", "text": long_text})),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("text")));
    // A name is unique.
    assert_eq!(
        upload(app, &admin, "one", "a.wav", wav(8000, 16, 440.0, 1.0)).await.0,
        StatusCode::CREATED
    );
    let (status, body) = upload(app, &admin, "one", "a.wav", wav(8000, 16, 440.0, 1.0)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::CONFLICT, Some("name")));
    // Nothing refused was stored.
    let (_, list) = send(admin.get(app.url("/api/prompts"))).await;
    assert_eq!(list["prompts"].as_array().unwrap().len(), 1);
});

app_test!(only_admins_manage_and_hear_prompts, |app| {
    let admin = app.admin().await;
    let (_, created) = upload(app, &admin, "p", "a.wav", wav(8000, 16, 440.0, 1.0)).await;
    let id = created["id"].as_str().unwrap();
    for role in ["operator", "supervisor", "manager"] {
        let (client, _) = app.user(&admin, role, role).await;
        assert_eq!(send(client.get(app.url("/api/prompts"))).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            upload(app, &client, role, "a.wav", wav(8000, 16, 440.0, 1.0)).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(client.get(app.url(&format!("/api/prompts/{id}/audio")))).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(client.delete(app.url(&format!("/api/prompts/{id}")))).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let anonymous = app.client();
    assert_eq!(
        send(anonymous.get(app.url("/api/prompts/built-in/ru/greeting/audio"))).await.0,
        StatusCode::UNAUTHORIZED
    );
});
