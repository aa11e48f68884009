//! The two backends' schemas match, and every migration runs up, down and up again.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;
use parcours::db;

use crate::common::*;

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

type Schema = BTreeMap<String, Vec<String>>;

fn collect(cols: Vec<Col>) -> Schema {
    let mut map: Schema = BTreeMap::new();
    for c in cols {
        if c.table_name.starts_with("__diesel") || c.table_name.starts_with("sqlite_") {
            continue;
        }
        map.entry(c.table_name).or_default().push(c.column_name);
    }
    for v in map.values_mut() {
        v.sort();
    }
    map
}

fn sqlite_schema(conn: &mut diesel::SqliteConnection) -> Schema {
    collect(
        diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
        )
        .load(conn)
        .unwrap(),
    )
}

fn pg_schema(conn: &mut diesel::PgConnection) -> Schema {
    collect(
        diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .load(conn)
        .unwrap(),
    )
}

#[test]
fn both_backends_have_the_same_tables_and_columns_and_migrations_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut lite = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    let server = pg_server();
    let (url, name) = create_pg_database(&server);
    let mut pg = diesel::PgConnection::establish(&url).unwrap();

    lite.run_pending_migrations(db::SQLITE_MIGRATIONS).unwrap();
    pg.run_pending_migrations(db::PG_MIGRATIONS).unwrap();
    let a = sqlite_schema(&mut lite);
    let b = pg_schema(&mut pg);
    assert!(a.contains_key("users") && a.contains_key("audit_events"));
    assert_eq!(a, b, "SQLite and PostgreSQL schemas differ");

    // Down then up again, one migration at a time, leaves the same schema.
    while lite.revert_last_migration(db::SQLITE_MIGRATIONS).is_ok() {}
    while pg.revert_last_migration(db::PG_MIGRATIONS).is_ok() {}
    assert!(
        sqlite_schema(&mut lite).is_empty(),
        "down removes everything (SQLite)"
    );
    assert!(
        pg_schema(&mut pg).is_empty(),
        "down removes everything (PostgreSQL)"
    );
    lite.run_pending_migrations(db::SQLITE_MIGRATIONS).unwrap();
    pg.run_pending_migrations(db::PG_MIGRATIONS).unwrap();
    assert_eq!(sqlite_schema(&mut lite), a);
    assert_eq!(pg_schema(&mut pg), b);
    drop(pg);
    drop_pg_database(&server, &name);
}
