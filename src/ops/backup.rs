//! Backups of the SQLite database while the server runs, and their restore. PostgreSQL has
//! its own tools (`pg_dump`, `pg_restore`), which know more about it than we would.

use std::path::Path;

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::db::Backend;

const POSTGRES_HINT: &str = "PostgreSQL : utilisez pg_dump -Fc \"$DATABASE_URL\" > sauvegarde.dump \
     et pg_restore --clean -d \"$DATABASE_URL\" sauvegarde.dump (voir le README)";

fn sqlite_path(database_url: &str) -> anyhow::Result<std::path::PathBuf> {
    match Backend::from_url(database_url)? {
        Backend::Sqlite(path) => Ok(path),
        Backend::Postgres(_) => anyhow::bail!(POSTGRES_HINT),
    }
}

/// Writes a consistent copy of the live database to `to` with `VACUUM INTO`: readers and
/// writers go on meanwhile, and the copy holds every transaction committed before it began.
/// Returns the copy's size in bytes.
pub fn backup(database_url: &str, to: &Path) -> anyhow::Result<u64> {
    let path = sqlite_path(database_url)?;
    anyhow::ensure!(
        !to.exists(),
        "{} existe déjà : choisissez un autre fichier",
        to.display()
    );
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn)?;
    let target = to.to_string_lossy().replace('\'', "''");
    diesel::sql_query(format!("VACUUM INTO '{target}'")).execute(&mut conn)?;
    Ok(std::fs::metadata(to)?.len())
}

/// Puts a backup in place of the database. Every instance must be stopped first: the file is
/// replaced under them otherwise. The backup is checked before anything is touched, and the
/// swap is one rename.
pub fn restore(database_url: &str, from: &Path) -> anyhow::Result<()> {
    let path = sqlite_path(database_url)?;
    {
        let mut check = SqliteConnection::establish(&from.to_string_lossy())?;
        #[derive(QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check").load(&mut check)?;
        anyhow::ensure!(
            lines.len() == 1 && lines[0].integrity_check == "ok",
            "{} n'est pas une base SQLite intacte",
            from.display()
        );
        let migrations: i64 =
            diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
                .get_result::<Count>(&mut check)
                .map(|c| c.n)
                .map_err(|_| {
                    anyhow::anyhow!("{} n'est pas une sauvegarde de Parcours", from.display())
                })?;
        anyhow::ensure!(
            migrations > 0,
            "{} n'est pas une sauvegarde de Parcours",
            from.display()
        );
    }
    let staged = path.with_extension("restauration");
    std::fs::copy(from, &staged)?;
    std::fs::File::open(&staged)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", path.display());
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&staged, &path)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
