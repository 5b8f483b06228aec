//! Import from CSV and XLSX: rejected rows reported with line numbers, merges, re-runs that
//! change nothing, and export files that import back.

use std::path::PathBuf;

use switchboard_core::Region;
use switchboard_server::import::{
    ImportOptions, export_contacts_file, import_contacts_file, write_report,
};
use switchboard_store::{Actor, Backend, ContactFilter, OnDuplicate, PageRequest, Store};

use crate::common::TestDb;

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-import-{}", uuid::Uuid::now_v7().as_simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Removes the directory `temp_file` made for `path`.
fn remove_temp(path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn options() -> ImportOptions {
    ImportOptions {
        on_duplicate: OnDuplicate::Merge,
        default_owner: None,
        region: Region::RU,
        progress: false,
    }
}

async fn total(store: &Store) -> i64 {
    store
        .list_contacts(&ContactFilter::default(), PageRequest::new(None, None))
        .await
        .unwrap()
        .total
}

const CSV: &str = "\u{feff}ФИО;Телефон;E-mail;Компания;Ответственный;Комментарий\n\
Иванов Иван Иванович;8 (916) 123-45-67;ivan@example.ru;ООО Ромашка;;первый\n\
Петров Пётр;12345;;;;плохой телефон\n\
Сидорова Анна;+7 916 765 43 21;not-an-email;;;плохая почта\n\
;;;;;\n\
Иванов И.;+7 916 123 45 67, 8 495 111-22-33 доб. 7;;;;тот же телефон, что в строке 2\n\
Кузнецов Олег;+7 903 000 11 22;;;nobody;нет такого пользователя\n\
\"Смирнов, Алексей\";+44 20 7946 0958;a@b.co.uk;Acme Ltd;;иностранный\n";

async fn csv_import(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let path = temp_file("contacts.csv");
    std::fs::write(&path, CSV).unwrap();
    let summary = import_contacts_file(store, &Actor::system(), &path, &options()).await.unwrap();
    assert_eq!(summary.rows, 7);
    assert_eq!((summary.created, summary.merged, summary.blank), (2, 1, 1), "{summary:?}");
    let rejected: Vec<(u64, &str)> =
        summary.rejected.iter().map(|r| (r.line, r.field.as_str())).collect();
    assert_eq!(rejected, vec![(3, "Телефон"), (4, "E-mail"), (7, "owner")]);
    assert!(summary.rejected[0].reason.contains("12345"));
    assert_eq!(summary.ignored_columns, vec!["Комментарий".to_owned()]);
    assert_eq!(total(store).await, 2);
    let ivan = store.find_contacts_by_phone("+79161234567").await.unwrap();
    assert_eq!(ivan.len(), 1);
    assert_eq!((ivan[0].last_name.as_str(), ivan[0].middle_name.as_str()), ("Иванов", "Иванович"));
    assert_eq!(ivan[0].phones.len(), 2, "line 6 added its second number");
    assert_eq!(ivan[0].phones[1].extension.as_deref(), Some("7"));

    let report = path.with_extension("report.csv");
    write_report(&summary, &report).unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.starts_with("line,result,contact_id,field,reason\n"));
    for needle in ["3,rejected,,Телефон", "4,rejected,,E-mail", "6,merged,", "7,rejected,,owner"]
    {
        assert!(text.contains(needle), "{needle} not in report:\n{text}");
    }

    // Re-running the same file creates nothing and changes nothing.
    let again = import_contacts_file(store, &Actor::system(), &path, &options()).await.unwrap();
    assert_eq!((again.created, again.merged, again.unchanged), (0, 0, 3), "{again:?}");
    assert_eq!(again.rejected.len(), 3);
    assert_eq!(total(store).await, 2);

    // Skip mode reports duplicates instead of merging.
    let skip = ImportOptions { on_duplicate: OnDuplicate::Skip, ..options() };
    let skipped = import_contacts_file(store, &Actor::system(), &path, &skip).await.unwrap();
    assert_eq!(skipped.skipped, 3);
    remove_temp(&path);
    db.finish().await;
}

#[tokio::test]
async fn csv_import_sqlite() {
    csv_import(Backend::Sqlite).await;
}

#[tokio::test]
async fn csv_import_postgres() {
    csv_import(Backend::Postgres).await;
}

async fn xlsx_import_and_export_round_trip(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let path = temp_file("contacts.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in
        ["First name", "Last name", "Mobile phone", "Email", "Company"].iter().enumerate()
    {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "John").unwrap();
    sheet.write_string(1, 1, "Smith").unwrap();
    // A phone typed into Excel becomes a number.
    sheet.write_number(1, 2, 79_161_112_233.0).unwrap();
    sheet.write_string(1, 3, "john@smith.com").unwrap();
    sheet.write_string(1, 4, "Smith & Co").unwrap();
    sheet.write_string(2, 0, "Bad").unwrap();
    sheet.write_string(2, 2, "call me").unwrap();
    sheet.write_string(3, 0, "Мария").unwrap();
    sheet.write_string(3, 2, "9169998877").unwrap();
    workbook.save(&path).unwrap();

    let summary = import_contacts_file(store, &Actor::system(), &path, &options()).await.unwrap();
    assert_eq!(summary.created, 2, "{summary:?}");
    assert_eq!(summary.rejected.len(), 1);
    assert_eq!((summary.rejected[0].line, summary.rejected[0].field.as_str()), (3, "Mobile phone"));
    let john = store.find_contacts_by_phone("+79161112233").await.unwrap();
    assert_eq!(john[0].first_name, "John");

    for ext in ["csv", "xlsx"] {
        let out = temp_file(&format!("export.{ext}"));
        assert_eq!(export_contacts_file(store, &out).await.unwrap(), 2);
        let back = import_contacts_file(store, &Actor::system(), &out, &options()).await.unwrap();
        assert_eq!(
            (back.created, back.unchanged, back.rejected.len()),
            (0, 2, 0),
            "{ext}: {back:?}"
        );
        remove_temp(&out);
    }
    remove_temp(&path);
    assert_eq!(total(store).await, 2);
    db.finish().await;
}

#[tokio::test]
async fn xlsx_import_and_export_round_trip_sqlite() {
    xlsx_import_and_export_round_trip(Backend::Sqlite).await;
}

#[tokio::test]
async fn xlsx_import_and_export_round_trip_postgres() {
    xlsx_import_and_export_round_trip(Backend::Postgres).await;
}

/// Duplicates that straddle batches (which PostgreSQL writes two at a time) still merge.
async fn duplicates_across_batches(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let existing = store
        .create_contact(
            &Actor::system(),
            switchboard_store::NewContact {
                first_name: "Existing".into(),
                phones: ["+79031110000", "+79031110001"]
                    .iter()
                    .map(|p| switchboard_store::NewPhone {
                        number: switchboard_core::PhoneNumber::parse(p, Region::RU).unwrap(),
                        kind: switchboard_core::entity::PhoneKind::Mobile,
                    })
                    .collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut csv = String::from("Имя,Телефон,Email,Компания\n");
    for i in 0..2600u32 {
        let (phone, email) = match i {
            // Batch 2 repeats a number of batch 0.
            2300 => ("+79160000005".to_owned(), format!("dup{i}@x.ru")),
            // Batches 0 and 1 share nothing, run at once on PostgreSQL, and both merge into
            // the same existing contact (through its two numbers).
            100 => ("+79031110000".to_owned(), "first@x.ru".to_owned()),
            1900 => ("+79031110001".to_owned(), "second@x.ru".to_owned()),
            _ => (format!("+7916{i:07}"), format!("u{i}@x.ru")),
        };
        csv.push_str(&format!("Row{i},{phone},{email},Company {}\n", i % 7));
    }
    let path = temp_file("big.csv");
    std::fs::write(&path, csv).unwrap();
    let summary = import_contacts_file(store, &Actor::system(), &path, &options()).await.unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!((summary.created, summary.merged), (2597, 3), "{summary:?}");
    let fives = store.find_contacts_by_phone("+79160000005").await.unwrap();
    assert_eq!(fives.len(), 1, "rows 5 and 2300 are one contact");
    assert_eq!(fives[0].emails.len(), 2);
    let mut merged = store.get_contact(&existing.id).await.unwrap().emails;
    merged.sort();
    assert_eq!(merged, vec!["first@x.ru".to_owned(), "second@x.ru".to_owned()], "no merge lost");
    let companies =
        store.list_companies(&Default::default(), PageRequest::new(None, None)).await.unwrap();
    assert_eq!(companies.total, 7, "each company created once");
    assert_eq!(total(store).await, 2598);
    remove_temp(&path);
    db.finish().await;
}

#[tokio::test]
async fn duplicates_across_batches_sqlite() {
    duplicates_across_batches(Backend::Sqlite).await;
}

#[tokio::test]
async fn duplicates_across_batches_postgres() {
    duplicates_across_batches(Backend::Postgres).await;
}
