//! The two backends' schemas match (columns, primary keys, indexes with their columns and
//! uniqueness, foreign keys), and every migration runs up, down and up again.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
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

/// What the database enforces or speeds up, one line per table and fact, in a form that reads
/// the same on both backends: `users: index (organism_id, email) unique`.
type Keys = BTreeSet<String>;

fn ours(table: &str) -> bool {
    !table.starts_with("__diesel") && !table.starts_with("sqlite_")
}

fn collect(cols: Vec<Col>) -> Schema {
    let mut map: Schema = BTreeMap::new();
    for c in cols {
        if !ours(&c.table_name) {
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

/// One column of an index, primary key or foreign key.
#[derive(QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    /// Names the key within its table; differs between backends, so it is not compared.
    #[diesel(sql_type = Text)]
    key_name: String,
    /// `primary`, `index` or `foreign`.
    #[diesel(sql_type = Text)]
    kind: String,
    /// The column's place in the key.
    #[diesel(sql_type = Integer)]
    position: i32,
    /// `(expression)` for an indexed expression.
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    /// Indexes only: whether a WHERE clause limits it (its text differs between backends).
    #[diesel(sql_type = Bool)]
    partial: bool,
    /// Foreign keys only: the table and column referred to (SQLite: no column means the
    /// other table's primary key).
    #[diesel(sql_type = Nullable<Text>)]
    ref_table: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ref_column: Option<String>,
    /// Foreign keys only: the action on delete, as SQL says it (`CASCADE`, `NO ACTION`...).
    #[diesel(sql_type = Nullable<Text>)]
    on_delete: Option<String>,
}

/// One line per key: `enrolments: index (cohort_id, trainee_id) unique`,
/// `outbox: foreign (user_id) -> users(id) on delete SET NULL`.
fn keys(mut rows: Vec<KeyColumn>) -> Keys {
    rows.retain(|r| ours(&r.table_name));
    let primary: BTreeMap<String, Vec<String>> = {
        let mut pk: Vec<&KeyColumn> = rows.iter().filter(|r| r.kind == "primary").collect();
        pk.sort_by_key(|r| r.position);
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in pk {
            map.entry(r.table_name.clone())
                .or_default()
                .push(r.column_name.clone());
        }
        map
    };
    let mut grouped: BTreeMap<(String, String), Vec<KeyColumn>> = BTreeMap::new();
    for r in rows {
        grouped
            .entry((r.table_name.clone(), r.key_name.clone()))
            .or_default()
            .push(r);
    }
    grouped
        .into_iter()
        .map(|((table, _), mut cols)| {
            cols.sort_by_key(|c| c.position);
            let first = &cols[0];
            let names: Vec<&str> = cols.iter().map(|c| c.column_name.as_str()).collect();
            let mut line = format!("{table}: {} ({})", first.kind, names.join(", "));
            if first.is_unique {
                line.push_str(" unique");
            }
            if first.partial {
                line.push_str(" partial");
            }
            if let Some(target) = &first.ref_table {
                let referred: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match &c.ref_column {
                        Some(column) => column.clone(),
                        None => primary
                            .get(target)
                            .and_then(|pk| pk.get(i))
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect();
                line.push_str(&format!(" -> {target}({})", referred.join(", ")));
            }
            if let Some(action) = &first.on_delete {
                line.push_str(&format!(" on delete {action}"));
            }
            line
        })
        .collect()
}

/// SQLite keeps an `INTEGER PRIMARY KEY` as the row id, with no index, where PostgreSQL
/// builds one: primary keys are read from the columns, and their indexes left out.
fn sqlite_keys(conn: &mut diesel::SqliteConnection) -> Keys {
    let query = "
        SELECT m.name AS table_name, 'pk' AS key_name, 'primary' AS kind, p.pk AS position,
               p.name AS column_name, 0 AS is_unique, 0 AS partial,
               NULL AS ref_table, NULL AS ref_column, NULL AS on_delete
        FROM sqlite_master m JOIN pragma_table_info(m.name) p
        WHERE m.type = 'table' AND p.pk > 0
        UNION ALL
        SELECT m.name, il.name, 'index', ii.seqno, coalesce(ii.name, '(expression)'),
               il.\"unique\", il.partial, NULL, NULL, NULL
        FROM sqlite_master m JOIN pragma_index_list(m.name) il
        JOIN pragma_index_xinfo(il.name) ii
        WHERE m.type = 'table' AND il.origin <> 'pk' AND ii.key = 1
        UNION ALL
        SELECT m.name, 'fk' || f.id, 'foreign', f.seq, f.\"from\", 0, 0,
               f.\"table\", f.\"to\", f.on_delete
        FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
        WHERE m.type = 'table'";
    keys(diesel::sql_query(query).load(conn).unwrap())
}

fn pg_keys(conn: &mut diesel::PgConnection) -> Keys {
    let query = "
        SELECT t.relname::text AS table_name, i.relname::text AS key_name,
               CASE WHEN ix.indisprimary THEN 'primary' ELSE 'index' END AS kind,
               k.ord::int AS position, coalesce(a.attname::text, '(expression)') AS column_name,
               ix.indisunique AND NOT ix.indisprimary AS is_unique,
               ix.indpred IS NOT NULL AS partial,
               NULL::text AS ref_table, NULL::text AS ref_column, NULL::text AS on_delete
        FROM pg_index ix
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.num
        WHERE n.nspname = 'public' AND k.ord <= ix.indnkeyatts
        UNION ALL
        SELECT t.relname::text, c.conname::text, 'foreign', k.ord::int, a.attname::text,
               false, false, r.relname::text, ra.attname::text,
               CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                    WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_class r ON r.oid = c.confrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY k(num, ref_num, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
        JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.ref_num
        WHERE n.nspname = 'public' AND c.contype = 'f'";
    keys(diesel::sql_query(query).load(conn).unwrap())
}

/// The lines one backend has and the other lacks, for a readable failure.
fn differences(lite: &Keys, pg: &Keys) -> Vec<String> {
    let only = |a: &Keys, b: &Keys, side: &str| {
        a.difference(b)
            .map(|l| format!("only on {side}: {l}"))
            .collect::<Vec<_>>()
    };
    let mut out = only(lite, pg, "SQLite");
    out.extend(only(pg, lite, "PostgreSQL"));
    out
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

    // A migration that forgets an index, a unique key or a foreign key on one backend fails.
    let lite_keys = sqlite_keys(&mut lite);
    let pg_keys_up = pg_keys(&mut pg);
    assert!(lite_keys.iter().any(|k| k.contains(": foreign (")));
    assert!(lite_keys.iter().any(|k| k.contains(": index (")));
    let diff = differences(&lite_keys, &pg_keys_up);
    assert!(
        diff.is_empty(),
        "SQLite and PostgreSQL keys differ:\n{}",
        diff.join("\n")
    );

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
    assert_eq!(sqlite_keys(&mut lite), lite_keys);
    assert_eq!(pg_keys(&mut pg), pg_keys_up);
    drop(pg);
    drop_pg_database(&server, &name);
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

fn value(conn: &mut diesel::SqliteConnection, query: &str) -> String {
    diesel::sql_query(query)
        .get_result::<Value>(conn)
        .unwrap()
        .value
}

/// Employers, what points at them and their id counter, as one line.
fn employers_snapshot(conn: &mut diesel::SqliteConnection) -> String {
    value(
        conn,
        "SELECT coalesce((SELECT group_concat(id || ':' || name || ':' || kind || ':' || \
                coalesce(organism_id, '-') || ':' || coalesce(registration, '-'), ' ') \
                FROM (SELECT * FROM employers ORDER BY id)), '') \
         || ' | ' || coalesce((SELECT group_concat(employer_id || '>' || doctor_id, ' ') \
                FROM (SELECT * FROM employer_doctors ORDER BY id)), '') \
         || ' | ' || coalesce((SELECT group_concat(id || '>' || coalesce(employer_id, '-'), ' ') \
                FROM (SELECT * FROM trainee_profiles ORDER BY id)), '') \
         || ' | ' || (SELECT seq FROM sqlite_sequence WHERE name = 'employers') AS value",
    )
}

fn employers_key_to_organisms(conn: &mut diesel::SqliteConnection) -> bool {
    value(
        conn,
        "SELECT CAST(count(*) AS TEXT) AS value FROM pragma_foreign_key_list('employers') \
         WHERE \"table\" = 'organisms' AND \"from\" = 'organism_id'",
    ) == "1"
}

/// SQLite gives employers their key to organisms by rebuilding the table, inside the one
/// transaction of `db::migrate` and with foreign keys on (as the app's connections have
/// them): the rows, their ids, what points at them and the id counter come through, down and
/// up again.
#[test]
fn the_sqlite_employers_rebuild_keeps_rows_references_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e.db").display());
    let (pool, _) = db::connect(&url, 2).unwrap();
    db::migrate(&mut pool.get().unwrap()).unwrap();
    parcours::curriculum::load_and_sync(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        dir.path(),
        parcours::objects::folder(&dir.path().join("blobs")).unwrap(),
        &pool,
    )
    .unwrap();
    parcours::demo::seed(&mut pool.get().unwrap()).unwrap();
    let mut conn = pool.get().unwrap();
    let db::DbConn::Sqlite(lite) = &mut *conn else {
        panic!("a SQLite connection was asked for");
    };
    // A practice with its registration, and one deleted: its id must not be given again.
    diesel::sql_query(
        "INSERT INTO employers (name, kind, created_at, organism_id, registration) \
         SELECT 'Maison de santé', 'cabinet', CURRENT_TIMESTAMP, id, 'siret:1' FROM organisms \
         LIMIT 1",
    )
    .execute(lite)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO employers (name, kind, created_at) VALUES ('Parti', 'medecin', CURRENT_TIMESTAMP)",
    )
    .execute(lite)
    .unwrap();
    diesel::sql_query("DELETE FROM employers WHERE name = 'Parti'")
        .execute(lite)
        .unwrap();
    let before = employers_snapshot(lite);
    assert!(before.contains("Maison de santé"), "{before}");
    assert!(employers_key_to_organisms(lite));

    loop {
        let reverted = lite.revert_last_migration(db::SQLITE_MIGRATIONS).unwrap();
        if reverted.to_string().ends_with("000020") {
            break;
        }
    }
    assert!(!employers_key_to_organisms(lite));
    assert_eq!(employers_snapshot(lite), before);

    db::migrate(&mut conn).unwrap();
    let db::DbConn::Sqlite(lite) = &mut *conn else {
        panic!("a SQLite connection was asked for");
    };
    assert!(employers_key_to_organisms(lite));
    assert_eq!(employers_snapshot(lite), before);
    assert_eq!(
        value(
            lite,
            "SELECT CAST(count(*) AS TEXT) AS value FROM pragma_foreign_key_check"
        ),
        "0"
    );
    assert_eq!(
        value(
            lite,
            "SELECT CAST(count(*) AS TEXT) AS value FROM sqlite_master \
             WHERE name IN ('employers_organism_idx', 'employers_registration_key')"
        ),
        "2"
    );
}
